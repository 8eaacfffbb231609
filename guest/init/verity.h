/* dm-verity volumes (root, models) through libcryptsetup (image.md §4.2). */
#ifndef COCOON_INIT_VERITY_H
#define COCOON_INIT_VERITY_H

#include <stddef.h>
#include <stdint.h>

#include "guest/cmdline/cmdline.h" /* CI_VERITY_BLOCK */
#include "measure/core/util.h"

struct ci_verity {
	const char *name;        /* dm name, e.g. "root" */
	const char *data_dev;    /* data device */
	const char *hash_dev;    /* hash device (== data_dev for an appended tree) */
	uint64_t hash_offset;    /* byte offset of the verity superblock on hash_dev */
	uint64_t data_blocks;    /* expected data blocks (CI_VERITY_BLOCK bytes) */
	uint8_t roothash[32];
};

struct crypt_device;
/* Load the (untrusted) verity superblock and pin it: sha256, format type 1, 4096-byte
 * data and hash blocks, data_blocks as expected, hash area at hash_offset. On success
 * *cd is loaded and owned by the caller (crypt_free). Works on plain files. */
int ci_verity_load_pinned(const struct ci_verity *v, struct crypt_device **cd, struct cm_err *e);

/* Check the root hash against the top block of the hash tree on the (untrusted) hash
 * device before activation: root = SHA-256(salt || top hash block) for format type 1.
 * Cheap (one block), and it turns a wrong cocoon.roothash into a clear error instead
 * of a panic on the first read. cd must come from ci_verity_load_pinned. */
int ci_verity_check_roothash(const struct ci_verity *v, struct crypt_device *cd, struct cm_err *e);

/* Load + pin + check the root hash + activate READONLY|PANIC_ON_CORRUPTION, then refuse a device the kernel
 * already reports CORRUPTED. Writes "/dev/mapper/<name>" to mapper. Needs dm-verity. */
int ci_verity_open(const struct ci_verity *v, char *mapper, size_t mappersz, struct cm_err *e);

/* Deactivate a dm device by name (shutdown). */
int ci_dm_close(const char *name, struct cm_err *e);

#endif
