/* guest/keys/seal.c: Cocoon's seal-server client. The request bytes and the decryption are
 * pinned to vectors computed independently (tests/unit/golden/seal_vector.py, python3
 * `cryptography`: P-256 ECDH, SHA-256 of the little-endian x, AES-128-CTR); the whole client
 * runs against the test enclave (tests/seal/enclave.c) over a Unix socket, under the real
 * DCAP verifier with the sim CA's SGX collateral. */
#include "build_info.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/attest/attest.h"
#include "guest/keys/keys.h"
#include "guest/keys/seal.h"
#include "measure/core/digest.h"
#include "measure/dcap/collateral.h"
#include "tests/seal/enclave.h"

/* tests/unit/golden/seal_vector.py */
static const char *const CLIENT_PRIV = "c1da8d507f781414660ea77aa1425328cfe9eebfe518011dff7758379b511cf0";
static const char *const CLIENT_PUB64 = "3e8f71e1b6274aec8a81f3e0302d8ef41c3658adb678be48f2da9ed01725f8fa"
					"d76a606e8fd5dfc34fa4f95dc7376d7231b5771a76cb52b8def29326dea70dde";
static const char *const SECRET = "9920d510b349673968e6c14d216479d2bf88a681ddcc22aaa448d3b219bfca16"
				  "875745bf332256e48889586fdcc45326f3bf94ee726fd5e66616de7ff76cb936"
				  "59f506cf784f6d858d072e955ce96205b239d3e8f9d3304500e94749a1365f7b";
static const char *const KEY = "c06094523ffb2c437f67d03f31c6f5737ce539fc433e6476bba0fc1fd1bfd996";

static void unhex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(h), 2 * n);
	assert_int_equal(cm_hex_decode_exact(h, 2 * n, out, n), 0);
}

static void test_request_bytes(void **state)
{
	(void)state;
	uint8_t report[1024], pub[64], out[CK_SEAL_BODY_MAX];
	size_t len;
	struct cm_err e = {0};
	for (int i = 0; i < 1024; i++)
		report[i] = (uint8_t)(i * 7);
	unhex(CLIENT_PUB64, pub, 64);
	assert_int_equal(ck_seal_request_encode(report, pub, "disk_encryption", out, sizeof out, &len, &e), 0);
	assert_int_equal(len, 1116);
	static const uint8_t head[] = {0x1c, 0x82, 0x7a, 0x31, 0xfe, 0x00, 0x04, 0x00};
	assert_memory_equal(out, head, 8);
	assert_memory_equal(out + 8, report, 1024);
	assert_int_equal(out[1032], 0x40);
	assert_memory_equal(out + 1033, pub, 64);
	assert_int_equal(out[1097] | out[1098] | out[1099], 0);
	assert_int_equal(out[1100], 15);
	assert_memory_equal(out + 1101, "disk_encryption", 15);
	assert_int_equal(ck_seal_request_encode(report, pub, "app", out, sizeof out, &len, &e), 0);
	assert_int_equal(len, 1104);
	static const uint8_t app[] = {0x03, 'a', 'p', 'p'};
	assert_memory_equal(out + 1100, app, 4);
	char long_name[258];
	memset(long_name, 'a', 257);
	long_name[257] = 0;
	assert_int_equal(ck_seal_request_encode(report, pub, long_name, out, sizeof out, &len, &e), -EINVAL);
	long_name[256] = 0; /* 256: 0xfe form, 4 + 256 = 260 */
	assert_int_equal(ck_seal_request_encode(report, pub, long_name, out, sizeof out, &len, &e), 0);
	assert_int_equal(len, 1100 + 260);
	assert_int_equal(out[1100], 0xfe);
	assert_int_equal(out[1101], 0x00);
	assert_int_equal(out[1102], 0x01);
}

static void test_key_encoding_and_decrypt_vector(void **state)
{
	(void)state;
	uint8_t d[32], pub[64], secret[96], key[32], got[32], rd[64], h[32];
	struct cm_err e = {0};
	unhex(CLIENT_PRIV, d, 32);
	unhex(CLIENT_PUB64, pub, 64);
	unhex(SECRET, secret, 96);
	unhex(KEY, key, 32);
	struct ck_seal_eph k;
	assert_int_equal(ck_seal_eph_from_priv(d, &k, &e), 0);
	assert_memory_equal(k.pub64, pub, 64); /* X and Y each little-endian */
	assert_int_equal(ck_seal_report_data(k.pub64, rd), 0);
	cm_sha256(pub, 64, h);
	assert_memory_equal(rd, h, 32);
	assert_true(cm_is_zero(rd + 32, 32));
	assert_int_equal(ck_seal_decrypt(k.key, secret, got, &e), 0);
	assert_memory_equal(got, key, 32);
	secret[70] ^= 1; /* CTR: a flipped ciphertext bit flips the key bit (REPORTDATA catches it) */
	assert_int_equal(ck_seal_decrypt(k.key, secret, got, &e), 0);
	assert_int_equal(got[6] ^ key[6], 1);
	secret[70] ^= 1;
	secret[0] ^= 1; /* not a curve point any more */
	assert_true(ck_seal_decrypt(k.key, secret, got, &e) < 0);
	ck_seal_eph_free(&k);
}

/* magic, TL quote (qlen), TL secret (slen), extra bytes */
static size_t build_resp(uint8_t *b, size_t qlen, size_t slen, size_t extra)
{
	size_t o = 0;
	cm_put_le32(b, CK_SEAL_RESP_MAGIC);
	o = 4;
	if (qlen < 254) {
		b[o++] = (uint8_t)qlen;
	} else {
		b[o] = 0xfe, b[o + 1] = (uint8_t)qlen, b[o + 2] = (uint8_t)(qlen >> 8), b[o + 3] = 0;
		o += 4;
	}
	memset(b + o, 0x33, qlen);
	o += qlen;
	while (o % 4)
		b[o++] = 0;
	b[o++] = (uint8_t)slen;
	memset(b + o, 0x44, slen);
	o += slen;
	while (o % 4)
		b[o++] = 0;
	memset(b + o, 0, extra);
	return o + extra;
}

static void test_response_parse(void **state)
{
	(void)state;
	uint8_t b[1024];
	struct ck_seal_response r;
	struct cm_err e = {0};
	size_t n = build_resp(b, 300, 96, 0);
	assert_int_equal(ck_seal_response_parse(b, n, &r, &e), 0);
	assert_int_equal(r.quote_len, 300);
	assert_ptr_equal(r.quote, b + 8);
	assert_int_equal(r.secret[0], 0x44);
	assert_int_equal(n, 4 + 304 + 100);
	assert_true(ck_seal_response_parse(b, n - 1, &r, &e) < 0);          /* truncated */
	assert_true(ck_seal_response_parse(b, build_resp(b, 300, 96, 4), &r, &e) < 0); /* extended */
	assert_true(ck_seal_response_parse(b, build_resp(b, 300, 95, 0), &r, &e) < 0);
	assert_true(ck_seal_response_parse(b, build_resp(b, 300, 97, 0), &r, &e) < 0);
	n = build_resp(b, 300, 96, 0);
	b[0] ^= 1;
	assert_true(ck_seal_response_parse(b, n, &r, &e) < 0); /* magic */
	n = build_resp(b, 300, 96, 0);
	b[4 + 4 + 300 + 100 - 1] = 1; /* secret padding */
	assert_true(ck_seal_response_parse(b, n, &r, &e) < 0);
	n = build_resp(b, 10, 96, 0);
	b[4] = 0xff;
	assert_true(ck_seal_response_parse(b, n, &r, &e) < 0);
	n = build_resp(b, 300, 96, 0);
	b[5] = 0xff, b[6] = 0xff, b[7] = 0xff; /* length far past the end */
	assert_true(ck_seal_response_parse(b, n, &r, &e) < 0);
}

static void test_conf_and_transport_rules(void **state)
{
	(void)state;
	struct ck_seal_conf c;
	struct cm_err e = {0};
	const char *ok = "{\"mrenclave\":[\"" "0011223344556677889900112233445566778899001122334455667788990011" "\"],"
			 "\"isv_prod_id\":3,\"min_isv_svn\":2,\"timeout_ms\":5000}";
	assert_int_equal(ck_seal_conf_parse(ok, strlen(ok), &c, &e), 0);
	assert_string_equal(c.server, "vsock:2:12345");
	assert_int_equal(c.n_mrenclave, 1);
	assert_true(c.has_isv_prod_id);
	assert_int_equal(c.isv_prod_id, 3);
	assert_int_equal(c.min_isv_svn, 2);
	static const char *const bad[] = {
		"{}", "{\"mrenclave\":[]}", "{\"mrenclave\":[\"00\"]}", "{\"mrenclave\":[\"00\"],\"x\":1}",
		"{\"mrenclave\":[\"0011223344556677889900112233445566778899001122334455667788990011\"],\"min_isv_svn\":70000}",
		"[1]", "{\"mrenclave\":[\"0011223344556677889900112233445566778899001122334455667788990011\"]} x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_true(ck_seal_conf_parse(bad[i], strlen(bad[i]), &c, &e) < 0);
	/* strict JSON (json-c's default mode took the trailing comma), errors name the path */
	const char *comma = "{\"mrenclave\":[\"0011223344556677889900112233445566778899001122334455667788990011\"],}";
	assert_int_equal(ck_seal_conf_parse(comma, strlen(comma), &c, &e), -EINVAL);
	const char *second = "{\"mrenclave\":[\"0011223344556677889900112233445566778899001122334455667788990011\",\"0\"]}";
	assert_int_equal(ck_seal_conf_parse(second, strlen(second), &c, &e), -EINVAL);
	assert_string_equal(e.msg, CK_SEAL_CONF_FILE ": mrenclave[1]: must be 64 hex digits");
	assert_int_equal(ck_seal_server_allowed("vsock:2:12345", "tdx", &e), 0);
	assert_int_equal(ck_seal_server_allowed("tcp:10.0.2.2:1", "tdx", &e), -EPERM);
	assert_int_equal(ck_seal_server_allowed("unix:/x", "tdx", &e), -EPERM);
	assert_int_equal(ck_seal_server_allowed("tcp:10.0.2.2:1", "sim", &e), 0);
	assert_int_equal(ck_seal_server_allowed("udp:1", "sim", &e), -EPERM);
}

/* ---- the whole client against the test enclave ---- */

struct env {
	char dir[40], sock[64];
	struct ca_backend *b;
	struct ck_seal_conf conf;
	struct ck_seal_trust trust;
	pid_t server;
};

static int setup(void **state)
{
	struct env *x = calloc(1, sizeof(*x));
	snprintf(x->dir, sizeof x->dir, "/tmp/test_keys_seal.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->sock, sizeof x->sock, "%s/seal.sock", x->dir);
	setenv("COCOON_SIM_DIR", x->dir, 1);
	struct cm_err e = {0};
	assert_int_equal(ca_open("sim", NULL, &x->b, &e), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct env *x = *state;
	ca_close(x->b);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

static const uint8_t SECRET1[32] = {1, 2, 3};

/* Start the test enclave on x->sock in mode m; reset conf and trust. */
static void start(struct env *x, enum ts_mode m, const uint8_t secret[32])
{
	struct cm_err e = {0};
	struct ts_enclave en;
	assert_int_equal(ts_enclave_init(&en, x->dir, secret, m, &e), 0);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof un.sun_path, "%s", x->sock);
	unlink(x->sock);
	assert_int_equal(bind(ls, (struct sockaddr *)&un, sizeof un), 0);
	assert_int_equal(listen(ls, 4), 0);
	x->server = fork();
	assert_true(x->server >= 0);
	if (x->server == 0) {
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int c = accept(ls, NULL, NULL);
			struct cm_err ce = {0};
			ts_serve_conn(&en, c, &ce);
			close(c);
		}
	}
	close(ls);
	ts_enclave_free(&en);
	memset(&x->conf, 0, sizeof x->conf);
	snprintf(x->conf.server, sizeof x->conf.server, "unix:%s", x->sock);
	ca_simca_enclave_default(&en.en);
	memcpy(x->conf.mrenclave[0], en.en.mr_enclave, 32);
	x->conf.n_mrenclave = 1;
	x->conf.timeout_ms = 2000;
	ck_seal_trust_free(&x->trust);
	assert_int_equal(ck_seal_trust_load("sim", NULL, &x->trust, &e), 0);
}

static void stop(struct env *x)
{
	kill(x->server, SIGKILL);
	waitpid(x->server, NULL, 0);
	ck_seal_trust_free(&x->trust);
}

static int get(struct env *x, const char *name, uint8_t key[32], const char **check)
{
	struct cm_err e = {0};
	int rc = ck_seal_get_key(x->b, &x->conf, &x->trust, name, key, &e);
	*check = e.check;
	if (rc)
		print_message("get_key: %s\n", e.msg);
	return rc;
}

static void expected(struct env *x, const uint8_t secret[32], const char *name, uint8_t key[32])
{
	struct cm_err e = {0};
	struct ts_enclave en;
	uint8_t rd[64] = {0}, rep[1024];
	assert_int_equal(ts_enclave_init(&en, x->dir, secret, TS_GOOD, &e), 0);
	assert_int_equal(ca_tdreport(x->b, rd, rep, &e), 0);
	assert_int_equal(ts_derive(&en, rep, name, strlen(name), key), 0);
	ts_enclave_free(&en);
}

static void test_client_good(void **state)
{
	struct env *x = *state;
	uint8_t k1[32], k2[32], k3[32], want[32];
	const char *check;
	start(x, TS_GOOD, SECRET1);
	assert_int_equal(get(x, "disk_encryption", k1, &check), 0);
	expected(x, SECRET1, "disk_encryption", want);
	assert_memory_equal(k1, want, 32);
	assert_int_equal(get(x, "disk_encryption", k2, &check), 0);
	assert_memory_equal(k1, k2, 32); /* deterministic across requests */
	assert_int_equal(get(x, "app", k3, &check), 0);
	assert_memory_not_equal(k1, k3, 32);
	struct cm_err e = {0};
	assert_int_equal(ca_extend_event(x->b, 3, "cocoon:changed", &e), 0);
	assert_int_equal(get(x, "disk_encryption", k2, &check), 0);
	assert_memory_not_equal(k1, k2, 32); /* bound to RTMR3 at request time */
	stop(x);
	static const uint8_t other[32] = {9};
	start(x, TS_GOOD, other); /* another host's enclave secret */
	assert_int_equal(get(x, "disk_encryption", k3, &check), 0);
	assert_memory_not_equal(k2, k3, 32);
	stop(x);
}

static void expect_fail(struct env *x, enum ts_mode m, const char *want, void (*tweak)(struct env *))
{
	uint8_t k[32];
	const char *check = NULL;
	start(x, m, SECRET1);
	if (tweak)
		tweak(x);
	if (m == TS_REPLAY)
		assert_int_equal(get(x, "disk_encryption", k, &check), 0);
	assert_true(get(x, "disk_encryption", k, &check) < 0);
	assert_non_null(check);
	if (strcmp(check, want))
		print_error("mode %d: check %s, want %s\n", m, check, want);
	assert_string_equal(check, want);
	stop(x);
}

static void short_timeout(struct env *x) { x->conf.timeout_ms = 300; }
static void want_prod_id(struct env *x) { x->conf.has_isv_prod_id = true, x->conf.isv_prod_id = 5; }
static void want_svn(struct env *x) { x->conf.min_isv_svn = 1; }
static void far_future(struct env *x) { x->trust.now += 365LL * 86400; }
static void other_root(struct env *x) { x->trust.root_key_id[0] ^= 1; }

static void test_client_fails_closed(void **state)
{
	struct env *x = *state;
	static const struct {
		enum ts_mode mode;
		const char *check;
		void (*tweak)(struct env *);
	} cases[] = {
		{TS_WRONG_MRENCLAVE, "seal_mrenclave", NULL}, {TS_DEBUG, "seal_debug", NULL},
		{TS_UNBOUND, "seal_report_data", NULL},       {TS_REPLAY, "seal_report_data", NULL},
		{TS_TRUNCATED, "seal_framing", NULL},         {TS_EXTENDED, "seal_response", NULL},
		{TS_OVERSIZE, "seal_framing", NULL},          {TS_TAMPERED, "seal_report_data", NULL},
		{TS_SILENT, "seal_timeout", short_timeout},   {TS_GOOD, "seal_isv_prod_id", want_prod_id},
		{TS_GOOD, "seal_isv_svn", want_svn},          {TS_GOOD, "seal_quote", far_future},
		{TS_GOOD, "seal_root_key_id", other_root},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_fail(x, cases[i].mode, cases[i].check, cases[i].tweak);
}

static void test_provider_selection(void **state)
{
	struct env *x = *state;
	assert_string_equal(ck_select("debug", x->dir, false), "debug");
	assert_null(ck_select(NULL, x->dir, false));
	assert_string_equal(ck_select("", x->dir, true), "debug");
	char path[256];
	snprintf(path, sizeof path, "%s/keys", x->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/keys/cocoon-seal.json", x->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"server\":\"tcp:127.0.0.1:1\",\"mrenclave\":[\"0011223344556677889900112233445566778899001122334455667788990011\"]}", f);
	fclose(f);
	assert_string_equal(ck_select(NULL, x->dir, true), "cocoon-seal");
	/* the provider refuses a test transport with a production backend */
	struct ca_backend fake = {.ops = x->b->ops};
	struct ca_ops tdx_named = *x->b->ops;
	tdx_named.name = "tdx";
	fake.ops = &tdx_named;
	fake.priv = x->b->priv;
	struct ck_env env = {.attest = &fake, .debug = false, .spec_dir = x->dir};
	struct ck_provider *p;
	struct cm_err e = {0};
	assert_int_equal(ck_open("cocoon-seal", &env, &p, &e), -EPERM);
	assert_non_null(strstr(e.msg, "seal_config"));
	env.attest = x->b;
	assert_int_equal(ck_open("cocoon-seal", &env, &p, &e), 0);
	uint8_t k[16];
	assert_int_equal(ck_derive(p, "disk_encryption", k, sizeof k, &e), -EINVAL); /* 32 bytes only */
	ck_close(p);
}

/* The host sets the clock: the seal quote's SGX collateral is checked at a time never
 * before the build (COCOON_BUILD_TIME) or the collateral's newest issueDate. */
static void test_seal_time_floor(void **state)
{
	struct env *x = *state;
	start(x, TS_GOOD, SECRET1);
	struct cm_err e = {0};
	struct cm_collateral *c = NULL;
	assert_int_equal(cm_collateral_load(x->trust.collateral, x->trust.collateral_len, x->trust.anchor, &c, &e), 0);
	int64_t issued = cm_collateral_tcb_info(c)->issue_date;
	if (cm_collateral_qe_identity(c)->issue_date > issued)
		issued = cm_collateral_qe_identity(c)->issue_date;
	cm_collateral_free(c);
	int64_t want = issued > (int64_t)COCOON_BUILD_TIME ? issued : (int64_t)COCOON_BUILD_TIME;
	assert_true(want > 0);
	assert_int_equal(ck_seal_time_floor(0, x->trust.collateral, x->trust.collateral_len, x->trust.anchor), want);
	assert_int_equal(ck_seal_time_floor(want + 5, x->trust.collateral, x->trust.collateral_len, x->trust.anchor),
			 want + 5);
	/* trust_load applies it */
	assert_true(x->trust.now >= want);
	/* a clock held back before the collateral's issueDate still verifies at the floor */
	x->trust.now = ck_seal_time_floor(issued - 3 * 86400, x->trust.collateral, x->trust.collateral_len,
					  x->trust.anchor);
	uint8_t key[32];
	assert_int_equal(ck_seal_get_key(x->b, &x->conf, &x->trust, "disk_encryption", key, &e), 0);
	stop(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_key_encoding_and_decrypt_vector),
		cmocka_unit_test(test_response_parse),
		cmocka_unit_test(test_conf_and_transport_rules),
		cmocka_unit_test_setup_teardown(test_client_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_time_floor, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
