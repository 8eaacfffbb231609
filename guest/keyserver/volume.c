/* AES-XTS with plain64 IVs over 512-byte sectors, as dm-crypt (see volume.h). */
#include "guest/keyserver/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CHUNK (1u << 20)

int cks_volume_key_len_ok(size_t len, struct cm_err *e)
{
	if (len != 32 && len != 64)
		return cm_fail(e, -EINVAL, "volume key: %zu bytes (expected 32 for AES-128-XTS or 64 for AES-256-XTS)",
			       len);
	return 0;
}

int cks_volume_crypt(const uint8_t *key, size_t key_len, uint64_t first_sector, uint8_t *buf, size_t len, int enc,
		     struct cm_err *e)
{
	int r = cks_volume_key_len_ok(key_len, e);
	if (r < 0)
		return r;
	if (len % CKS_SECTOR)
		return cm_fail(e, -EINVAL, "volume: %zu bytes is not a whole number of %d-byte sectors", len, CKS_SECTOR);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return cm_fail(e, -ENOMEM, "out of memory");
	const EVP_CIPHER *c = key_len == 32 ? EVP_aes_128_xts() : EVP_aes_256_xts();
	if (EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return cm_fail(e, -EINVAL, "volume key rejected by AES-XTS (its two halves must differ)");
	}
	for (size_t off = 0; off < len && r == 0; off += CKS_SECTOR) {
		uint8_t iv[16] = {0};
		int outl = 0;
		cm_put_le64(iv, first_sector + off / CKS_SECTOR); /* plain64 */
		if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) != 1 ||
		    EVP_CipherUpdate(ctx, buf + off, &outl, buf + off, CKS_SECTOR) != 1 || outl != CKS_SECTOR)
			r = cm_fail(e, -EIO, "AES-XTS failed at sector %llu",
				    (unsigned long long)(first_sector + off / CKS_SECTOR));
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static int full_io(int fd, uint8_t *p, size_t n, off_t off, int wr)
{
	while (n) {
		ssize_t k = wr ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

int cks_volume_encrypt_file(const char *path, const uint8_t *key, size_t key_len, struct cm_err *e)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "open %s (%s)", path, strerror(errno));
	struct stat st;
	uint8_t *buf = malloc(CHUNK);
	int r = 0;
	if (!buf)
		r = cm_fail(e, -ENOMEM, "out of memory");
	else if (fstat(fd, &st) < 0)
		r = cm_fail(e, -errno, "stat %s (%s)", path, strerror(errno));
	else if (st.st_size % CKS_SECTOR)
		r = cm_fail(e, -EINVAL, "%s: %lld bytes is not a whole number of %d-byte sectors", path,
			    (long long)st.st_size, CKS_SECTOR);
	for (off_t off = 0; r == 0 && off < st.st_size; off += CHUNK) {
		size_t n = (size_t)(st.st_size - off) < CHUNK ? (size_t)(st.st_size - off) : CHUNK;
		if ((r = full_io(fd, buf, n, off, 0)) < 0)
			r = cm_fail(e, r, "read %s (%s)", path, strerror(-r));
		else if ((r = cks_volume_crypt(key, key_len, (uint64_t)off / CKS_SECTOR, buf, n, 1, e)) == 0 &&
			 (r = full_io(fd, buf, n, off, 1)) < 0)
			r = cm_fail(e, r, "write %s (%s)", path, strerror(-r));
	}
	if (r == 0 && fsync(fd) < 0)
		r = cm_fail(e, -errno, "fsync %s (%s)", path, strerror(errno));
	if (buf) {
		OPENSSL_cleanse(buf, CHUNK); /* plaintext */
		free(buf);
	}
	close(fd);
	return r;
}
