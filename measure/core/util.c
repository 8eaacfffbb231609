#include "measure/core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static int fail_v(struct cm_err *e, int code, const char *check, const char *fmt, va_list ap)
{
	if (e) {
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		e->code = code;
		e->check = check;
	}
	return code;
}

int cm_fail(struct cm_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(e, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int cm_fail_check(struct cm_err *e, int code, const char *check, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fail_v(e, code, check, fmt, ap);
	va_end(ap);
	return code;
}

int cm_err_check(struct cm_err *e, int code, const char *check)
{
	if (e)
		e->check = check;
	return code;
}

int cm_err_prefix(struct cm_err *e, const char *fmt, ...)
{
	if (!e)
		return -EINVAL;
	char prefix[CM_ERR_MAX], old[CM_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = 0;
	/* "<prefix>: <old>", truncated to fit */
	size_t pl = strnlen(prefix, CM_ERR_MAX - 3), room = CM_ERR_MAX - 1 - pl - 2;
	size_t ol = strnlen(old, room);
	memcpy(e->msg, prefix, pl);
	memcpy(e->msg + pl, ": ", 2);
	memcpy(e->msg + pl + 2, old, ol);
	e->msg[pl + 2 + ol] = 0;
	return e->code;
}

int cm_cli_error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int cm_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	if (len > (SIZE_MAX - 1) / 2 || outsz < 2 * len + 1)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = 0;
	return (int)(2 * len);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cm_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int cm_base64_decode(const char *s, size_t n, bool spaces, uint8_t *out, size_t cap, size_t *outlen)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (n > INT_MAX / 2)
		return -EBADMSG;
	char *text = malloc(n + 1), *back = NULL;
	uint8_t *bin = NULL;
	size_t k = 0, whole = 0;
	int rc = -EBADMSG;
	if (!text)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(spaces && s[i] && strchr(" \t\r\n", s[i])))
			text[k++] = s[i];
	text[k] = 0;
	size_t body = strspn(text, alphabet), pad = k - body;
	if (k == 0 || k % 4 || pad > 2 || strspn(text + body, "=") != pad)
		goto out;
	whole = k / 4 * 3;
	size_t len = whole - pad;
	if (len > cap) {
		rc = -ENOSPC;
		goto out;
	}
	bin = malloc(whole);
	back = malloc(k + 1);
	if (!bin || !back) {
		rc = -ENOMEM;
		goto out;
	}
	if (EVP_DecodeBlock(bin, (const unsigned char *)text, (int)k) != (int)whole)
		goto out;
	/* canonical: the bits past the last byte are zero, so encoding gives the text back */
	EVP_EncodeBlock((unsigned char *)back, bin, (int)len);
	if (strcmp(back, text))
		goto out;
	memcpy(out, bin, len);
	*outlen = len;
	rc = 0;
out:
	ERR_clear_error();
	if (bin)
		OPENSSL_cleanse(bin, whole); /* keys pass through here */
	OPENSSL_cleanse(text, k);
	free(text);
	free(bin);
	free(back);
	return rc;
}

int cm_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outsz, size_t *outlen)
{
	if (hexlen % 2)
		return -EINVAL;
	if (hexlen / 2 > outsz)
		return -ENOSPC;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen)
		*outlen = hexlen / 2;
	return 0;
}

int cm_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
	if (hexlen != 2 * n)
		return -EINVAL;
	return cm_hex_decode(hex, hexlen, out, n, NULL);
}

int cm_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct cm_err *e)
{
	*buf = NULL;
	*len = 0;
	int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "cannot open %s (%s)", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return cm_fail(e, -err, "cannot stat %s (%s)", path, strerror(err));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return cm_fail(e, -EISDIR, "cannot read %s (it is a directory)", path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		return cm_fail(e, -EFBIG, "cannot read %s (%lld bytes, limit %zu)", path,
			       (long long)st.st_size, max);
	}
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	if (cap > max + 1)
		cap = max + 1;
	uint8_t *p = malloc(cap);
	if (!p) {
		close(fd);
		return cm_fail(e, -ENOMEM, "cannot read %s (out of memory)", path);
	}
	size_t n = 0;
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				/* Full at the limit: acceptable only if this is the end. */
				char probe;
				ssize_t pr;
				do
					pr = read(fd, &probe, 1);
				while (pr < 0 && errno == EINTR);
				if (pr == 0)
					break;
				int err = errno;
				free(p);
				close(fd);
				if (pr < 0)
					return cm_fail(e, -err, "cannot read %s (%s)", path, strerror(err));
				return cm_fail(e, -EFBIG, "cannot read %s (larger than limit %zu)", path, max);
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *np = realloc(p, ncap);
			if (!np) {
				free(p);
				close(fd);
				return cm_fail(e, -ENOMEM, "cannot read %s (out of memory)", path);
			}
			p = np;
			cap = ncap;
		}
		ssize_t r = read(fd, p + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(p);
			close(fd);
			return cm_fail(e, -err, "cannot read %s (%s)", path, strerror(err));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			free(p);
			close(fd);
			return cm_fail(e, -EFBIG, "cannot read %s (larger than limit %zu)", path, max);
		}
	}
	close(fd);
	p[n] = 0;
	*buf = p;
	*len = n;
	return 0;
}

long cm_read_upto(const char *path, void *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < max) {
		ssize_t r = read(fd, (uint8_t *)buf + got, max - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return (long)got;
}

int cm_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int cm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct cm_err *e)
{
	/* tmp: "<dir>/.<base>.XXXXXX" (".<base>.XXXXXX" for a bare name); dir: "<dir>", "/" or "." */
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t n = strlen(path);
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0; /* the directory part, with its '/' */
	if (n + sizeof(".XXXXXX") + 1 > sizeof(tmp))
		return cm_fail(e, -ENAMETOOLONG, "cannot write %.64s... (path too long, %zu bytes)", path, n);
	memcpy(tmp, path, dl);
	snprintf(tmp + dl, sizeof(tmp) - dl, ".%s.XXXXXX", path + dl);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", dl > 1 ? (int)dl - 1 : 1, path);

	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "cannot create a file in %s to write %s (%s)", dir, path, strerror(errno));
	int rc = 0;
	const char *step = NULL;
	if (fchmod(fd, mode) != 0)
		rc = -errno, step = "set the mode of";
	else if ((rc = cm_write_all(fd, data, len)) < 0)
		step = "write";
	else if (fsync(fd) != 0)
		rc = -errno, step = "fsync";
	if (close(fd) != 0 && rc == 0)
		rc = -errno, step = "close";
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -errno;
		cm_fail(e, rc, "cannot rename %s to %s (%s)", tmp, path, strerror(-rc));
	} else if (rc < 0) {
		cm_fail(e, rc, "cannot %s %s (%s)", step, path, strerror(-rc));
	}
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	/* The rename is durable once the directory is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		rc = cm_fail(e, -errno, "cannot fsync the directory of %s (%s)", path, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return rc;
}

bool cm_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool cm_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

int64_t cm_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
