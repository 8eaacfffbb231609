/* The tdx backend: RTMR sysfs (Linux >= 6.16), configfs-tsm quotes with a private
 * report directory per request and generation checks, TDREPORT via /dev/tdx_guest. */
#include "guest/attest/tdx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "measure/core/util.h"
#include "measure/dcap/quote.h"

struct tdx_priv {
	char root[1024];
	struct ca_tdx_io io;
	unsigned counter;
};

/* ---- real kernel I/O ---- */

static int sys_write(void *ctx, const char *path, const void *buf, size_t len)
{
	(void)ctx;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = pwrite(fd, buf, len, 0);
	int err = w < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	return w == (ssize_t)len ? 0 : -EIO;
}

static ssize_t sys_read(void *ctx, const char *path, void *buf, size_t max)
{
	(void)ctx;
	return cm_read_upto(path, buf, max);
}

static int sys_get_report0(void *ctx, const char *dev, const uint8_t rd[64], uint8_t report[1024])
{
	(void)ctx;
	struct {
		uint8_t reportdata[64];
		uint8_t tdreport[1024];
	} req;
	_Static_assert(sizeof req == 1088, "struct tdx_report_req is 1088 bytes");
	memcpy(req.reportdata, rd, 64);
	memset(req.tdreport, 0, sizeof req.tdreport);
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = ioctl(fd, CA_TDX_CMD_GET_REPORT0, &req);
	int err = r < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	memcpy(report, req.tdreport, 1024);
	return 0;
}

const struct ca_tdx_io ca_tdx_sys_io = {NULL, sys_write, sys_read, sys_get_report0};

/* ---- helpers ---- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* After try *tries (counted from 0) answered r: true (having slept) when r says busy and
 * retries remain, false when r is the answer. */
static bool retry_busy(long r, int *tries)
{
	bool busy = r == -EBUSY || r == -EAGAIN || r == -EINTR;
	if (!busy || (*tries)++ >= CA_TDX_BUSY_RETRIES)
		return false;
	sleep_ms(CA_TDX_BUSY_SLEEP_MS);
	return true;
}

static int write_retry(struct tdx_priv *p, const char *path, const void *buf, size_t len)
{
	int r, tries = 0;
	do
		r = p->io.write(p->io.ctx, path, buf, len);
	while (retry_busy(r, &tries));
	return r;
}

static ssize_t read_retry(struct tdx_priv *p, const char *path, void *buf, size_t max)
{
	ssize_t r;
	int tries = 0;
	do
		r = p->io.read(p->io.ctx, path, buf, max);
	while (retry_busy(r, &tries));
	return r;
}

/* A text attribute (at most size - 1 bytes), NUL-terminated, without its trailing newline.
 * Returns its length. */
static ssize_t read_text(struct tdx_priv *p, const char *path, char *buf, size_t size, struct cm_err *e)
{
	ssize_t n = read_retry(p, path, buf, size - 1);
	if (n < 0)
		return cm_fail(e, (int)n, "tdx: read %s (%s)", path, strerror((int)-n));
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

/* generation: a decimal counter followed by an optional newline. */
static int read_generation(struct tdx_priv *p, const char *dir, unsigned long long *g, struct cm_err *e)
{
	char path[PATH_MAX], buf[32];
	snprintf(path, sizeof path, "%s/generation", dir);
	ssize_t n = read_text(p, path, buf, sizeof buf, e);
	if (n < 0)
		return (int)n;
	if (n == 0 || n > 20)
		return cm_fail(e, -EINVAL, "tdx: %s: bad generation \"%s\"", path, buf);
	unsigned long long v = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return cm_fail(e, -EINVAL, "tdx: %s: bad generation \"%s\"", path, buf);
		unsigned d = (unsigned)(buf[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return cm_fail(e, -ERANGE, "tdx: %s: generation overflows", path);
		v = v * 10 + d;
	}
	*g = v;
	return 0;
}

static int rtmr_path(struct tdx_priv *p, int rtmr, char *path, size_t n, struct cm_err *e)
{
	if (rtmr < 0 || rtmr >= CA_RTMR_COUNT)
		return cm_fail(e, -EINVAL, "tdx: no RTMR%d", rtmr);
	snprintf(path, n, CA_TDX_RTMR_FMT, p->root, rtmr);
	return 0;
}

/* ---- ops ---- */

static int tdx_open(struct ca_backend *b, struct cm_err *e)
{
	bool own = false;
	if (!b->priv) {
		struct tdx_priv *p = calloc(1, sizeof *p);
		if (!p)
			return cm_fail(e, -ENOMEM, "out of memory");
		p->io = ca_tdx_sys_io;
		b->priv = p;
		own = true;
	}
	struct tdx_priv *p = b->priv;
	char path[PATH_MAX];
	snprintf(path, sizeof path, CA_TDX_RTMR_FMT, p->root, 3);
	struct stat st;
	if (stat(path, &st) < 0) {
		int err = errno;
		if (own) {
			free(p);
			b->priv = NULL;
		}
		return cm_fail(e, -err, "tdx: %s missing (%s): not a TDX guest, tdx_guest not loaded, or a kernel "
					"older than 6.16 without TSM_MEASUREMENTS",
			      path, strerror(err));
	}
	return 0;
}

static int tdx_extend(struct ca_backend *b, int rtmr, const uint8_t digest[48], struct cm_err *e)
{
	struct tdx_priv *p = b->priv;
	char path[PATH_MAX];
	int r = rtmr_path(p, rtmr, path, sizeof path, e);
	if (r < 0)
		return r;
	r = write_retry(p, path, digest, 48);
	if (r < 0)
		return cm_fail(e, r, "tdx: extend through %s (%s)", path, strerror(-r));
	return 0;
}

static int tdx_read(struct ca_backend *b, int rtmr, uint8_t out[48], struct cm_err *e)
{
	struct tdx_priv *p = b->priv;
	char path[PATH_MAX];
	uint8_t buf[49];
	int r = rtmr_path(p, rtmr, path, sizeof path, e);
	if (r < 0)
		return r;
	ssize_t n = read_retry(p, path, buf, sizeof buf);
	if (n < 0)
		return cm_fail(e, (int)n, "tdx: read %s (%s)", path, strerror((int)-n));
	if (n != 48)
		return cm_fail(e, -EIO, "tdx: %s gave %zd bytes, expected exactly 48", path, n);
	memcpy(out, buf, 48);
	return 0;
}

/* One request in a fresh report directory. Returns 0, -EAGAIN on a generation race,
 * or another negative code. */
static int quote_once(struct tdx_priv *p, const char *dir, const uint8_t rd[64], uint8_t *buf, size_t *len,
		      struct cm_err *e)
{
	char path[PATH_MAX], prov[64];
	snprintf(path, sizeof path, "%s/provider", dir);
	ssize_t n = read_text(p, path, prov, sizeof prov, e);
	if (n < 0)
		return (int)n;
	if (strcmp(prov, "tdx_guest") != 0) /* the kernel module's name, exactly */
		return cm_fail(e, -ENODEV, "tdx: report provider is \"%.20s\", not tdx_guest", prov);
	unsigned long long g1, g2, g3;
	int r = read_generation(p, dir, &g1, e);
	if (r < 0)
		return r;
	snprintf(path, sizeof path, "%s/inblob", dir);
	r = write_retry(p, path, rd, 64);
	if (r < 0)
		return cm_fail(e, r, "tdx: write %s (%s)", path, strerror(-r));
	if ((r = read_generation(p, dir, &g2, e)) < 0)
		return r;
	if (g2 != g1 + 1)
		return cm_fail(e, -EAGAIN, "tdx: generation went %llu -> %llu around our inblob write (another writer)",
			       g1, g2);
	snprintf(path, sizeof path, "%s/outblob", dir);
	n = read_retry(p, path, buf, CA_TDX_QUOTE_MAX);
	if (n < 0)
		return cm_fail(e, (int)n, "tdx: read %s (%s)", path, strerror((int)-n));
	if ((r = read_generation(p, dir, &g3, e)) < 0)
		return r;
	if (g3 != g2)
		return cm_fail(e, -EAGAIN, "tdx: generation went %llu -> %llu while reading outblob", g2, g3);
	if (n < CA_TDX_QUOTE_MIN)
		return cm_fail(e, -EIO, "tdx: quote of %zd bytes is too short", n);
	if (n >= CA_TDX_QUOTE_MAX)
		return cm_fail(e, -EFBIG, "tdx: quote fills the %d-byte buffer (truncated)", CA_TDX_QUOTE_MAX);
	*len = (size_t)n;
	return 0;
}

static int tdx_quote(struct ca_backend *b, const uint8_t rd[CA_REPORT_DATA_LEN], uint8_t **quote, size_t *len,
		     struct cm_err *e)
{
	struct tdx_priv *p = b->priv;
	char base[1200], dir[1300];
	snprintf(base, sizeof base, CA_TDX_REPORT_DIR, p->root);
	uint8_t *buf = malloc(CA_TDX_QUOTE_MAX);
	if (!buf)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = -EAGAIN;
	for (int attempt = 0; attempt <= CA_TDX_RACE_RETRIES && r == -EAGAIN; attempt++) {
		uint32_t rnd = 0;
		if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
			rnd = (uint32_t)time(NULL);
		snprintf(dir, sizeof dir, "%s/cocoon-%d-%u-%08x", base, (int)getpid(), p->counter++, rnd);
		if (mkdir(dir, 0700) < 0) {
			r = errno == EEXIST ? -EAGAIN : -errno;
			if (r != -EAGAIN)
				cm_fail(e, r, "tdx: mkdir %s (%s)", dir, strerror(-r));
			else
				cm_fail(e, r, "tdx: report directory %s exists", dir);
			continue;
		}
		r = quote_once(p, dir, rd, buf, len, e);
		if (rmdir(dir) < 0 && r == 0)
			r = cm_fail(e, -errno, "tdx: rmdir %s (%s)", dir, strerror(errno));
	}
	if (r == -EAGAIN)
		r = cm_err_prefix(e, "tdx: gave up after %d attempts", CA_TDX_RACE_RETRIES + 1);
	if (r < 0) {
		free(buf);
		return r;
	}
	/* The quote must be a TD quote over exactly our report data. */
	struct cm_quote q;
	r = cm_quote_parse(buf, *len, &q, e);
	if (r < 0) {
		free(buf);
		return cm_err_prefix(e, "tdx: outblob is not a quote");
	}
	if (q.body_type != CM_BODY_TD10 && q.body_type != CM_BODY_TD15) {
		free(buf);
		return cm_fail(e, -EINVAL, "tdx: outblob is not a TD quote");
	}
	if (!cm_memeq_ct(q.td.report_data, rd, 64)) {
		free(buf);
		return cm_fail(e, -EINVAL, "tdx: quote REPORTDATA differs from the request");
	}
	*quote = buf;
	return 0;
}

static int tdx_tdreport(struct ca_backend *b, const uint8_t rd[CA_REPORT_DATA_LEN], uint8_t report[CA_TDREPORT_LEN],
			struct cm_err *e)
{
	struct tdx_priv *p = b->priv;
	char dev[PATH_MAX];
	snprintf(dev, sizeof dev, CA_TDX_DEVICE, p->root);
	int r, tries = 0;
	do
		r = p->io.get_report0(p->io.ctx, dev, rd, report);
	while (retry_busy(r, &tries));
	if (r < 0)
		return cm_fail(e, r, "tdx: TDX_CMD_GET_REPORT0 on %s (%s)", dev, strerror(-r));
	return 0;
}

static void tdx_close(struct ca_backend *b)
{
	free(b->priv);
	b->priv = NULL;
}

const struct ca_ops ca_tdx_ops = {
	.name = "tdx",
	.open = tdx_open,
	.extend = tdx_extend,
	.read = tdx_read,
	.quote = tdx_quote,
	.close = tdx_close,
	.tdreport = tdx_tdreport,
};

int ca_tdx_open(const char *root, const struct ca_tdx_io *io, const char *event_log, struct ca_backend **out,
		struct cm_err *e)
{
	struct tdx_priv *p = calloc(1, sizeof *p);
	if (!p)
		return cm_fail(e, -ENOMEM, "out of memory");
	if (snprintf(p->root, sizeof p->root, "%s", root ? root : "") >= (int)sizeof p->root) {
		free(p);
		return cm_fail(e, -ENAMETOOLONG, "tdx: root prefix too long");
	}
	p->io = io ? *io : ca_tdx_sys_io;
	int r = ca_open_ops(&ca_tdx_ops, event_log, p, out, e);
	if (r < 0)
		free(p);
	return r;
}
