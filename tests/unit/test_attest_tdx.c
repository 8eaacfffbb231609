/* guest/attest: the tdx backend against a fake configfs-tsm/sysfs tree and the RTMR3
 * event log. The fake "kernel" (fake_io below) follows the ABI in attestation.md §5:
 * report directories report provider "tdx_guest" and a generation counter that every
 * inblob write increments; outblob is a quote over the last inblob; inblob writes and
 * outblob reads may fail with EBUSY; another writer may bump the generation; RTMR
 * files extend on a 48-byte write at offset 0 and read back exactly 48 bytes. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/attest/attest.h"
#include "guest/attest/tdx.h"
#include "measure/core/digest.h"
#include "measure/eventlog/rtmr3.h"

#define QUOTE_FIXTURE "tdx/quotes/dcapqvl_tdx_quote.bin"
#define REPORTDATA_OFF 568

struct fake {
	char root[256];
	char dir[512];           /* current report directory */
	unsigned long long gen;  /* its generation */
	uint8_t inblob[64];
	bool have_inblob;
	int inblob_busy;         /* EBUSY for the next N inblob writes */
	int outblob_busy;        /* EBUSY for the next N outblob reads */
	int race_on_write;       /* next N inblob writes: another writer bumps generation too */
	int race_on_read;        /* next N outblob reads: another writer bumps generation */
	bool echo_reportdata;    /* false: return the quote unmodified (wrong REPORTDATA) */
	const char *provider;
	uint8_t *quote;
	size_t quote_len;
	int dirs_seen;
	char dirs[8][512];
	int report_calls;
};

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static void note_dir(struct fake *f, const char *path)
{
	char d[512];
	snprintf(d, sizeof d, "%s", path);
	*strrchr(d, '/') = '\0';
	if (strcmp(d, f->dir) != 0) {
		snprintf(f->dir, sizeof f->dir, "%s", d);
		f->gen = 0; /* a fresh report directory */
		f->have_inblob = false;
		if (f->dirs_seen < 8)
			snprintf(f->dirs[f->dirs_seen], sizeof f->dirs[0], "%s", d);
		f->dirs_seen++;
	}
	struct stat st;
	assert_int_equal(stat(d, &st), 0); /* the backend made it */
}

static int fake_write(void *ctx, const char *path, const void *buf, size_t len)
{
	struct fake *f = ctx;
	if (strstr(path, "/measurements/rtmr")) {
		if (len != 48)
			return -EINVAL;
		uint8_t reg[48];
		ssize_t n = ca_tdx_sys_io.read(NULL, path, reg, sizeof reg);
		if (n != 48)
			return -EIO;
		cm_rtmr_extend(reg, buf);
		int fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, reg, 48, 0), 48);
		close(fd);
		return 0;
	}
	if (ends_with(path, "/inblob")) {
		note_dir(f, path);
		if (f->inblob_busy > 0) {
			f->inblob_busy--;
			return -EBUSY;
		}
		if (len != 64)
			return -EINVAL; /* TDX: exactly 64 bytes */
		memcpy(f->inblob, buf, 64);
		f->have_inblob = true;
		f->gen++;
		if (f->race_on_write > 0) {
			f->race_on_write--;
			f->gen++;
		}
		return 0;
	}
	return -EACCES;
}

static ssize_t fake_read(void *ctx, const char *path, void *buf, size_t max)
{
	struct fake *f = ctx;
	char tmp[64];
	if (ends_with(path, "/provider") || ends_with(path, "/generation")) {
		note_dir(f, path);
		if (ends_with(path, "/provider"))
			snprintf(tmp, sizeof tmp, "%s\n", f->provider);
		else
			snprintf(tmp, sizeof tmp, "%llu\n", f->gen);
		size_t n = strlen(tmp) < max ? strlen(tmp) : max;
		memcpy(buf, tmp, n);
		return (ssize_t)n;
	}
	if (ends_with(path, "/outblob")) {
		note_dir(f, path);
		if (f->outblob_busy > 0) {
			f->outblob_busy--;
			return -EBUSY;
		}
		if (!f->have_inblob)
			return -EINVAL;
		if (f->race_on_read > 0) {
			f->race_on_read--;
			f->gen++;
		}
		if (f->quote_len > max)
			return -EFBIG;
		memcpy(buf, f->quote, f->quote_len);
		if (f->echo_reportdata)
			memcpy((uint8_t *)buf + REPORTDATA_OFF, f->inblob, 64);
		return (ssize_t)f->quote_len;
	}
	return ca_tdx_sys_io.read(NULL, path, buf, max);
}

static int fake_report0(void *ctx, const char *dev, const uint8_t rd[64], uint8_t report[1024])
{
	struct fake *f = ctx;
	if (!ends_with(dev, "/dev/tdx_guest"))
		return -ENOENT;
	f->report_calls++;
	memset(report, 0xa5, 1024);
	memcpy(report + 128, rd, 64); /* REPORTMACSTRUCT.reportdata */
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void mkdirs(const char *root, const char *rel)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

/* A fake tree: RTMR files (zero), the report directory, the device node stand-in. */
static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);
	char *root = test_tmpdir();
	snprintf(f->root, sizeof f->root, "%s", root);
	free(root);
	mkdirs(f->root, "sys/class/misc/tdx_guest/measurements");
	mkdirs(f->root, "sys/kernel/config/tsm/report");
	mkdirs(f->root, "dev");
	uint8_t zero[48] = {0};
	char p[600];
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof p, CA_TDX_RTMR_FMT, f->root, i);
		write_file(p, zero, 48);
	}
	snprintf(p, sizeof p, "%s/dev/tdx_guest", f->root);
	write_file(p, "", 0);
	f->provider = "tdx_guest";
	f->echo_reportdata = true;
	f->quote = fixture_read(QUOTE_FIXTURE, &f->quote_len);
	return f;
}

static void fake_free(struct fake *f)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f->quote);
	free(f);
}

static struct ca_backend *open_fake(struct fake *f, const char *log)
{
	struct ca_tdx_io io = {f, fake_write, fake_read, fake_report0};
	struct ca_backend *b = NULL;
	struct cm_err e = {0};
	if (ca_tdx_open(f->root, &io, log, &b, &e) < 0)
		fail_msg("ca_tdx_open: %s", e.msg);
	return b;
}

/* cmocka fixture: a fake tree and a tdx backend on it logging to <root>/rtmr3.log. */
struct tctx {
	struct fake *f;
	struct ca_backend *b;
	char log[600];
};

static int tdx_setup(void **state)
{
	struct tctx *t = calloc(1, sizeof *t);
	t->f = fake_new();
	snprintf(t->log, sizeof t->log, "%s/rtmr3.log", t->f->root);
	t->b = open_fake(t->f, t->log);
	*state = t;
	return 0;
}

static int tdx_teardown(void **state)
{
	struct tctx *t = *state;
	ca_close(t->b);
	fake_free(t->f);
	free(t);
	return 0;
}

static int report_dir_entries(const struct fake *f)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s/sys/kernel/config/tsm/report')\"", f->root);
	return system(cmd) == 0 ? 0 : 1;
}

static void test_tdx_open_requires_rtmr_sysfs(void **state)
{
	(void)state;
	char *root = test_tmpdir();
	struct ca_backend *b = NULL;
	struct cm_err e = {0};
	assert_int_equal(ca_tdx_open(root, NULL, NULL, &b, &e), -ENOENT);
	assert_null(b);
	assert_non_null(strstr(e.msg, "rtmr3:sha384 missing"));
	assert_non_null(strstr(e.msg, "not a TDX guest"));
	rmdir(root);
	free(root);
	/* The real machine running the tests is no TD either. */
	assert_true(ca_open("tdx", NULL, &b, &e) < 0);
}

static void test_tdx_event_log_replays_to_register(void **state)
{
	struct tctx *t = *state;
	struct ca_backend *b = t->b;
	const char *log = t->log;
	struct cm_err e = {0};
	const char *events[] = {"cocoon:spec.tree=" "aa", "cocoon:cocoon_debug", "cocoon:tdx_inited"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(ca_extend_event(b, 3, events[i], &e), 0);
	uint8_t reg[48], replay[48], manual[48] = {0}, d[48];
	assert_int_equal(ca_read(b, 3, reg, &e), 0);
	for (int i = 0; i < 3; i++) {
		cm_sha384(events[i], strlen(events[i]), d);
		cm_rtmr_extend(manual, d);
	}
	assert_memory_equal(reg, manual, 48);
	uint8_t *text;
	size_t len;
	assert_int_equal(cm_read_file(log, 1 << 20, &text, &len, &e), 0);
	assert_string_equal((char *)text, "cocoon:spec.tree=aa\ncocoon:cocoon_debug\ncocoon:tdx_inited\n");
	assert_int_equal(cm_rtmr3_replay(text, len, replay, NULL, &e), 0);
	assert_memory_equal(replay, reg, 48);
	free(text);
	/* the other registers were not touched */
	uint8_t zero[48] = {0};
	assert_int_equal(ca_read(b, 0, reg, &e), 0);
	assert_memory_equal(reg, zero, 48);
}

static void test_tdx_extend_refuses_firmware_registers_and_bad_messages(void **state)
{
	struct tctx *t = *state;
	struct ca_backend *b = t->b;
	const char *log = t->log;
	struct cm_err e = {0};
	for (int r = 0; r < 3; r++)
		assert_int_equal(ca_extend_event(b, r, "x", &e), -EPERM);
	assert_true(ca_extend_event(b, 3, "line\nbreak", &e) < 0);
	assert_true(ca_extend_event(b, 3, "", &e) < 0);
	char big[CA_EVENT_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_true(ca_extend_event(b, 3, big, &e) < 0);
	uint8_t reg[48], zero[48] = {0};
	assert_int_equal(ca_read(b, 3, reg, &e), 0);
	assert_memory_equal(reg, zero, 48);
	assert_int_equal(access(log, F_OK), -1); /* nothing logged */
}

static void test_tdx_read_requires_exactly_48_bytes(void **state)
{
	struct fake *f = ((struct tctx *)*state)->f;
	struct ca_backend *b = NULL;
	struct cm_err e = {0};
	assert_int_equal(ca_tdx_open(f->root, NULL, NULL, &b, &e), 0); /* real file I/O */
	char p[600];
	uint8_t v[49], out[48];
	memset(v, 0x0a, sizeof v); /* ends in '\n': must not be stripped */
	snprintf(p, sizeof p, CA_TDX_RTMR_FMT, f->root, 2);
	write_file(p, v, 48);
	assert_int_equal(ca_read(b, 2, out, &e), 0);
	assert_memory_equal(out, v, 48);
	write_file(p, v, 49);
	assert_int_equal(ca_read(b, 2, out, &e), -EIO);
	assert_non_null(strstr(e.msg, "exactly 48"));
	write_file(p, v, 47);
	assert_int_equal(ca_read(b, 2, out, &e), -EIO);
	assert_int_equal(ca_read(b, 4, out, &e), -EINVAL);
	ca_close(b);
}

static void rd_pattern(uint8_t rd[64])
{
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(i * 7 + 1);
}

/* One quote request over rd_pattern(); on success the quote must carry it. */
static int quote(struct tctx *t, struct cm_err *e)
{
	uint8_t rd[64], *q = NULL;
	size_t len = 0;
	rd_pattern(rd);
	int r = ca_quote(t->b, rd, &q, &len, e);
	if (r == 0) {
		assert_int_equal(len, t->f->quote_len);
		assert_memory_equal(q + REPORTDATA_OFF, rd, 64);
	} else {
		assert_null(q);
	}
	free(q);
	return r;
}

static void test_tdx_quote_uses_private_report_directory(void **state)
{
	struct tctx *t = *state;
	struct fake *f = t->f;
	struct cm_err e = {0};
	assert_int_equal(quote(t, &e), 0);
	assert_int_equal(quote(t, &e), 0);
	assert_int_equal(f->dirs_seen, 2);
	assert_string_not_equal(f->dirs[0], f->dirs[1]); /* one directory per request */
	assert_non_null(strstr(f->dirs[0], "/sys/kernel/config/tsm/report/cocoon-"));
	assert_int_equal(report_dir_entries(f), 0);        /* removed afterwards */
}

static void test_tdx_quote_retries_ebusy(void **state)
{
	struct tctx *t = *state;
	struct fake *f = t->f;
	struct cm_err e = {0};
	f->inblob_busy = 3;
	f->outblob_busy = 2;
	assert_int_equal(quote(t, &e), 0);
	assert_int_equal(f->inblob_busy, 0);
	assert_int_equal(f->outblob_busy, 0);
	f->inblob_busy = 1000; /* busy forever: bounded */
	assert_int_equal(quote(t, &e), -EBUSY);
	assert_non_null(strstr(e.msg, "inblob"));
	assert_int_equal(report_dir_entries(f), 0);
}

static void test_tdx_quote_detects_generation_races(void **state)
{
	struct tctx *t = *state;
	struct fake *f = t->f;
	struct cm_err e = {0};
	/* another writer between our write and the generation check: retried in a new dir */
	f->race_on_write = 1;
	assert_int_equal(quote(t, &e), 0);
	assert_int_equal(f->dirs_seen, 2);
	/* a write while we read outblob: the blob may be someone else's, retried */
	f->race_on_read = 1;
	assert_int_equal(quote(t, &e), 0);
	assert_int_equal(f->dirs_seen, 4);
	/* a persistent race: bounded, then a clear failure */
	f->race_on_write = 100;
	assert_int_equal(quote(t, &e), -EAGAIN);
	assert_non_null(strstr(e.msg, "gave up"));
	assert_non_null(strstr(e.msg, "generation"));
	assert_int_equal(report_dir_entries(f), 0);
}

static void test_tdx_quote_checks_provider_and_reportdata(void **state)
{
	struct tctx *t = *state;
	struct fake *f = t->f;
	struct cm_err e = {0};
	f->provider = "sev_guest";
	assert_int_equal(quote(t, &e), -ENODEV);
	assert_non_null(strstr(e.msg, "not tdx_guest"));
	f->provider = "tdx_guest_shim"; /* the exact name, not a prefix of another */
	assert_int_equal(quote(t, &e), -ENODEV);
	f->provider = "tdx_guest";
	f->echo_reportdata = false; /* the fixture's own REPORTDATA */
	assert_int_equal(quote(t, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "REPORTDATA differs"));
	f->echo_reportdata = true;
	f->quote_len = 1000; /* shorter than any quote */
	assert_int_equal(quote(t, &e), -EIO);
	assert_int_equal(report_dir_entries(f), 0);
}

static void test_tdx_tdreport_through_device(void **state)
{
	struct tctx *t = *state;
	struct fake *f = t->f;
	struct ca_backend *b = t->b;
	struct cm_err e = {0};
	uint8_t rd[64], rep[1024];
	rd_pattern(rd);
	assert_int_equal(ca_tdreport(b, rd, rep, &e), 0);
	assert_int_equal(f->report_calls, 1);
	assert_memory_equal(rep + 128, rd, 64);
	/* real ioctl on a file that is no tdx_guest device fails cleanly */
	struct ca_backend *sys = NULL;
	assert_int_equal(ca_tdx_open(f->root, NULL, NULL, &sys, &e), 0);
	assert_true(ca_tdreport(sys, rd, rep, &e) < 0);
	assert_non_null(strstr(e.msg, "TDX_CMD_GET_REPORT0"));
	ca_close(sys);
}

static void test_attest_open_names(void **state)
{
	(void)state;
	struct ca_backend *b = NULL;
	struct cm_err e = {0};
	assert_int_equal(ca_open("tpmx", NULL, &b, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown attestation backend"));
#ifndef CA_HAVE_SIM
	assert_int_equal(ca_open("sim", NULL, &b, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "not built"));
#endif
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdx_open_requires_rtmr_sysfs),
		cmocka_unit_test_setup_teardown(test_tdx_event_log_replays_to_register, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_extend_refuses_firmware_registers_and_bad_messages, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_read_requires_exactly_48_bytes, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_quote_uses_private_report_directory, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_quote_retries_ebusy, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_quote_detects_generation_races, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_quote_checks_provider_and_reportdata, tdx_setup, tdx_teardown),
		cmocka_unit_test_setup_teardown(test_tdx_tdreport_through_device, tdx_setup, tdx_teardown),
		cmocka_unit_test(test_attest_open_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
