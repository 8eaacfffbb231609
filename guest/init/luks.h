/* The persistent volume: strict LUKS2 header validation (image.md §4.4), blank-disk
 * detection, and the one LUKS2 profile cocoon-init formats and accepts:
 *   aes-xts-plain64, 512-bit volume key, 4096-byte sectors, header 16 KiB x 2, keyslot
 *   area up to the data segment at 16 MiB, exactly one keyslot (pbkdf2-sha512, 1000
 *   iterations: the key is high-entropy, as systemd-cryptenroll does), AF luks1/4000
 *   stripes/sha512, one pbkdf2-sha512 digest over keyslot 0 and segment 0, no tokens (or,
 *   with the tpm2 key provider, exactly token 0 of type CI_LUKS_TOKEN_TPM2 on keyslot 0,
 *   holding the sealed secret as systemd-cryptenroll's tpm2 token does),
 *   no flags or requirements, empty label and subsystem;
 * with integrity (the default, docs/boot.md "Persistent volume"), the data segment is
 * authenticated encryption: aes-xts-plain64 + hmac(sha256) tags kept by dm-integrity
 * (768-bit volume key: 512 for aes-xts, 256 for the HMAC), journal on; without
 * integrity (the spec's "integrity": false), plain aes-xts-plain64 and nothing else.
 * The caller says which profile is expected: the other one is refused. */
#ifndef COCOON_INIT_LUKS_H
#define COCOON_INIT_LUKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define CI_LUKS_HDR_SIZE 16384u                /* binary header + JSON area, per copy */
#define CI_LUKS_DATA_OFFSET (16u * 1024 * 1024) /* data segment; everything before is metadata */
#define CI_LUKS_KEYSLOTS_SIZE (CI_LUKS_DATA_OFFSET - 2 * CI_LUKS_HDR_SIZE)
#define CI_LUKS_PBKDF_ITER 1000u
#define CI_LUKS_VK_BYTES 64u                   /* aes-xts-plain64 key (and the keyslot area key) */
#define CI_LUKS_VK_BYTES_INTEGRITY 96u         /* aes-xts key + hmac(sha256) key */
#define CI_LUKS_INTEGRITY "hmac(sha256)"
#define CI_LUKS_TAG_BYTES 32u                  /* per-sector tag kept by dm-integrity */
#define CI_BLANK_EDGE (1024u * 1024)           /* first and last MiB must be zero */
#define CI_LUKS_TOKEN_TPM2 "cocoon-tpm2"        /* guest/keys/tpm2.h */

/* Validate the metadata region of a LUKS2 device (both binary headers, checksums,
 * JSON areas, the JSON object against the profile). buf holds the first len bytes of
 * the device (len >= 2 * CI_LUKS_HDR_SIZE). token_type: NULL = no tokens, else exactly
 * token 0 of that type (CI_LUKS_TOKEN_TPM2). The error names the field. */
int ci_luks_check_metadata(const uint8_t *buf, size_t len, bool integrity, const char *token_type, struct cm_err *e);

/* libcryptsetup-level checks of a header file (copy) after ci_luks_check_metadata:
 * type LUKS2, cipher, key size, integrity (exactly as expected), only keyslot 0 active,
 * no tokens, not detached data. */
int ci_luks_check_loaded(const char *header_file, bool integrity, const char *token_type, struct cm_err *e);

/* Copy the first CI_LUKS_DATA_OFFSET bytes of dev into a new private file (0600) at
 * copy_path (a tmpfs), then validate the copy (both checks above). Never writes dev. */
int ci_luks_copy_and_check(const char *dev, const char *copy_path, bool integrity, const char *token_type,
			   struct cm_err *e);

/* Token 0's JSON from a validated header copy, when its type is token_type (*json
 * malloc'd). */
int ci_luks_token_read(const char *header_copy, const char *token_type, char **json, struct cm_err *e);

/* Store json as token 0 of dev (libcryptsetup's token API; json names its type and
 * "keyslots": ["0"]). Called right after ci_luks_format. */
int ci_luks_token_write(const char *dev, const char *json, struct cm_err *e);

/* Open dev with the validated header copy (detached header: what was checked is what
 * is used) and key; maps /dev/mapper/<name>. -EPERM = wrong key. */
int ci_luks_open(const char *dev, const char *header_copy, const char *name, const uint8_t *key, size_t keylen,
		 struct cm_err *e);

/* Format dev with the profile and add keyslot 0 for key. With integrity this needs
 * device-mapper (dm-integrity superblock) and writes every data sector once through a
 * temporary journal-less mapping so that all integrity tags are valid (time: one full
 * write of the disk). Leaves nothing activated. */
int ci_luks_format(const char *dev, const uint8_t *key, size_t keylen, bool integrity, struct cm_err *e);

/* 1 = blank (libblkid finds no signature AND the first and last MiB are zero; the
 * device must be larger than CI_LUKS_DATA_OFFSET + 2 MiB), 0 = not blank (e->msg says
 * why), < 0 = error (never format on error). Read-only. */
int ci_blank_check(const char *dev, struct cm_err *e);

#endif
