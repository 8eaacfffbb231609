/* Encrypted model volumes (docs/formats.md "Encrypted model volumes"): the erofs image is
 * encrypted as dm-crypt's plain mode `aes-xts-plain64` would write it (no header, 512-byte
 * sectors, IV = the little-endian 64-bit sector number counted from the start of the
 * volume, zero-padded to 16 bytes), so the appliance opens it with libcryptsetup's
 * CRYPT_PLAIN and the key alone. A 32-byte key is AES-128-XTS, a 64-byte key AES-256-XTS.
 * Deterministic: the same key and plaintext give the same ciphertext (no salt, no random
 * IV); dm-verity is then computed over the ciphertext. */
#ifndef COCOON_KEYSERVER_VOLUME_H
#define COCOON_KEYSERVER_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define CKS_SECTOR 512
#define CKS_CIPHER "aes"
#define CKS_CIPHER_MODE "xts-plain64"
#define CKS_VOLUME_KEY_MAX 64

/* 0 when len is an accepted volume key length (32 or 64), else -EINVAL naming it. */
int cks_volume_key_len_ok(size_t len, struct cm_err *e);

/* Encrypt (enc = 1) or decrypt (enc = 0) buf in place: len bytes, a multiple of
 * CKS_SECTOR, whose first sector is sector number first_sector of the volume. */
int cks_volume_crypt(const uint8_t *key, size_t key_len, uint64_t first_sector, uint8_t *buf, size_t len, int enc,
		     struct cm_err *e);

/* Encrypt the file at path in place (its size must be a multiple of CKS_SECTOR). */
int cks_volume_encrypt_file(const char *path, const uint8_t *key, size_t key_len, struct cm_err *e);

#endif
