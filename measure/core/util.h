/* libmeasure core helpers: the error convention, hex, bounded file reads and writes.
 *
 * Error convention (whole project): a function that can fail returns 0 (or a
 * non-negative count) on success and a negative errno-style code on failure, and
 * fills a struct cm_err with one human-readable line naming what failed and why.
 * A NULL struct cm_err is allowed. Bad input never aborts.
 *
 * Verification (quotes, collateral, certificates, policies) also names the check that
 * failed ("pck_chain", "tcb_info_expired", "policy_mrtd", ...): cm_fail_check records a
 * failure with its check name, cm_err_check names the check of a failure a callee recorded.
 * The name travels in the struct cm_err with the message; docs/verification.md lists them. */
#ifndef COCOON_MEASURE_UTIL_H
#define COCOON_MEASURE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CM_ERR_MAX 320

struct cm_err {
	int code;              /* negative errno-style code of the failure */
	const char *check;     /* the failed check (a static string), or NULL */
	char msg[CM_ERR_MAX];  /* "<what> (<why>)", no trailing newline */
};

/* Record a failure (no check name) and return code (which must be negative). */
int cm_fail(struct cm_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a failure of the named check and return code. */
int cm_fail_check(struct cm_err *e, int code, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Name the check of the failure already in e (reported by a callee); returns code. */
int cm_err_check(struct cm_err *e, int code, const char *check);

/* Prefix an existing message: "<prefix>: <old message>". Returns e->code. */
int cm_err_prefix(struct cm_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "error: <message>" and a newline to stderr, the failure line of every command-line
 * tool (cocoon-measure's and cocoon-launch's); returns code, the exit code. */
int cm_cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A decimal number of digits only, as every number the tree reads from a command line, a
 * config value, an address or a string field is written: no sign, no white space, no base prefix, at
 * least one digit, in [lo, hi] (no wrap past 2^64-1). Returns 0, or -EINVAL with *out
 * untouched. The one decimal parser: strtoul's lenience (" +5", "-1" as 2^64-1) is why. */
int cm_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Lower-case hex of len bytes into out (2*len+1 bytes incl. NUL). Returns 2*len,
 * or -ENOSPC when out is too small. */
int cm_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz);

/* Decode exactly n bytes from a string of exactly 2n hex digits (either case). */
int cm_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t n);

/* Decode a hex string of any even length up to outsz bytes; *outlen gets the count. */
int cm_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outsz, size_t *outlen);

/* Standard base64 (RFC 4648 section 4, '=' padded) of s (n chars; with spaces, blanks and
 * line breaks between them are skipped) into out: *outlen bytes, at most cap. Refuses an
 * empty text, a length not a multiple of 4, characters outside the alphabet, '=' other than
 * one or two at the end, and non-canonical text (bits set past the last byte): -EBADMSG;
 * more than cap bytes: -ENOSPC. The tree's one base64 reader (over EVP_DecodeBlock, which
 * takes white space anywhere, ignores padding in its count and is not strict). */
int cm_base64_decode(const char *s, size_t n, bool spaces, uint8_t *out, size_t cap, size_t *outlen);

/* Read a whole regular file (or stdin for "-") of at most max bytes into a new
 * buffer (NUL-terminated one past the end, for text users). Free with free(). */
int cm_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct cm_err *e);

/* Read the first bytes of path, at most max of them, into buf (no NUL added): for files
 * whose size stat does not tell (sysfs, procfs, configfs). Returns the count read before
 * end of file or max, or a negative errno of open/read (EINTR is retried). */
long cm_read_upto(const char *path, void *buf, size_t max);

/* Write all len bytes of buf to fd (EINTR is retried). Returns 0, or a negative errno
 * (-EIO when write makes no progress). */
int cm_write_all(int fd, const void *buf, size_t len);

/* Replace path with len bytes of data, atomically: a new temporary file in path's directory
 * (".<name>.XXXXXX", created 0600 and O_CLOEXEC by mkostemp), fchmod to mode (exactly, not
 * masked by the umask), all bytes written, fsync, close, rename over path, fsync of the
 * directory. A reader sees the old file or the new one, never a part. On failure the
 * temporary file is removed and the message names path, the step and the reason
 * ("cannot write /x/y (No space left on device)"); a path too long for a temporary name next
 * to it is -ENAMETOOLONG. Returns 0 or a negative errno. */
int cm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct cm_err *e);

/* Constant-time comparison of two equal-length buffers. */
bool cm_memeq_ct(const void *a, const void *b, size_t n);

bool cm_is_zero(const void *p, size_t n);
/* Milliseconds of CLOCK_MONOTONIC (since boot; the host cannot set it like the wall clock). */
int64_t cm_mono_ms(void);

/* Little-endian loads from a byte buffer (no alignment requirement). */
static inline uint16_t cm_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t cm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t cm_le64(const uint8_t *p) { return cm_le32(p) | ((uint64_t)cm_le32(p + 4) << 32); }
static inline void cm_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void cm_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cm_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif
