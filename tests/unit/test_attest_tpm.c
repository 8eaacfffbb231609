/* guest/attest/tpm.c against a real swtpm, verified by measure/tpm (libmeasure) and by
 * `cocoon-measure tpm-quote` (measure/cli/cmd_tpm_quote.c, linked in directly). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "guest/attest/attest.h"
#include "guest/attest/tpm.h"
#include "measure/cli/cli.h"
#include "measure/core/digest.h"
#include "measure/tpm/quote.h"
#include "tests/unit/swtpm.h"

struct ctx {
	struct swtpm t;
	struct ca_backend *b;
	EVP_PKEY *ak;
	char log[320];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	struct cm_err e = {0};
	char dir[300], ak[320];
	swtpm_start(&c->t);
	snprintf(dir, sizeof dir, "%s/state", c->t.dir);
	snprintf(c->log, sizeof c->log, "%s/events.log", c->t.dir);
	if (ca_tpm_open(c->t.tcti, dir, c->log, &c->b, &e) != 0) {
		swtpm_stop(&c->t); /* cmocka runs no teardown after a failed setup */
		fail_msg("ca_tpm_open: %s", e.msg);
	}
	snprintf(ak, sizeof ak, "%s/ak.pem", dir);
	FILE *f = fopen(ak, "r");
	assert_non_null(f);
	c->ak = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(c->ak);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	ca_close(c->b);
	EVP_PKEY_free(c->ak);
	swtpm_stop(&c->t);
	free(c);
	return 0;
}

static void test_tpm_backend_events_replay_into_pcr15(void **state)
{
	struct ctx *c = *state;
	struct cm_err e = {0};
	static const char *const ev[] = {"cocoon:spec.tree=abc", "cocoon:tdx_inited"};
	uint8_t want[32] = {0}, buf[64], got[48];
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ca_extend_event(c->b, 3, ev[i], &e), 0);
		memcpy(buf, want, 32);
		cm_sha256(ev[i], strlen(ev[i]), buf + 32);
		cm_sha256(buf, 64, want);
	}
	assert_int_equal(ca_read(c->b, 3, got, &e), 0);
	assert_memory_equal(got, want, 32);
	assert_true(cm_is_zero(got + 32, 16));
	/* the event log has the lines, firmware registers are refused */
	uint8_t *log;
	size_t n;
	assert_int_equal(cm_read_file(c->log, 4096, &log, &n, &e), 0);
	assert_string_equal((char *)log, "cocoon:spec.tree=abc\ncocoon:tdx_inited\n");
	free(log);
	assert_int_equal(ca_extend_event(c->b, 2, "x", &e), -EPERM);
	assert_int_equal(ca_read(c->b, 0, got, &e), -ENOTSUP);
}

static void test_tpm_quote_verifies_with_the_ak_and_binds_report_data(void **state)
{
	struct ctx *c = *state;
	struct cm_err e = {0};
	uint8_t rd[64], q[32], *quote;
	size_t len;
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)i;
	assert_int_equal(ca_extend_event(c->b, 3, "cocoon:spec.tree=quoted", &e), 0);
	assert_int_equal(ca_quote(c->b, rd, &quote, &len, &e), 0);
	cm_tpm_qualifying_data(rd, q);
	struct cm_tpm_quote out;
	assert_int_equal(cm_tpm_quote_verify(quote, len, c->ak, q, NULL, &out, &e), 0);
	assert_int_equal(out.mask, 0xffffffu);
	uint8_t p15[48];
	assert_int_equal(ca_read(c->b, 3, p15, &e), 0);
	assert_memory_equal(out.pcr[15], p15, 32);

	/* another REPORTDATA: qualifying data check */
	uint8_t q2[32];
	rd[0] ^= 1;
	cm_tpm_qualifying_data(rd, q2);
	assert_int_equal(cm_tpm_quote_verify(quote, len, c->ak, q2, NULL, NULL, &e), -EACCES);
	assert_string_equal(e.check, "tpm_qualifying_data");
	/* a PCR value changed in the container: digest check */
	uint8_t *bad = malloc(len);
	memcpy(bad, quote, len);
	bad[len - 32 * 9 + 3] ^= 0x40; /* inside PCR 15's value (8 values follow it) */
	assert_int_equal(cm_tpm_quote_verify(bad, len, c->ak, q, NULL, NULL, &e), -EACCES);
	assert_string_equal(e.check, "tpm_pcr_digest");
	/* a flipped byte in TPMS_ATTEST (the clock): signature check */
	memcpy(bad, quote, len);
	size_t alen = (size_t)quote[4] << 8 | quote[5];
	bad[6 + alen - 48] ^= 1; /* firmwareVersion (the quote info, 44 bytes, follows) */
	assert_int_equal(cm_tpm_quote_verify(bad, len, c->ak, q, NULL, NULL, &e), -EACCES);
	assert_string_equal(e.check, "tpm_signature");
	/* another key */
	EVP_PKEY *other = EVP_EC_gen("P-256");
	assert_int_equal(cm_tpm_quote_verify(quote, len, other, q, NULL, NULL, &e), -EACCES);
	assert_string_equal(e.check, "tpm_signature");
	EVP_PKEY_free(other);
	/* truncated anywhere: malformed, never a crash */
	for (size_t n = 0; n < len; n += 7) {
		int r = cm_tpm_quote_verify(quote, n, c->ak, q, NULL, NULL, &e);
		assert_true(r < 0);
		assert_true(strcmp(e.check, "tpm_quote_format") == 0 || strcmp(e.check, "tpm_attest") == 0);
	}
	free(bad);

	/* a PCR policy: PCR 15 as it is passes, another value is named */
	char pol[200], hex[65];
	struct cm_tpm_pcr_policy p;
	cm_hex_encode(p15, 32, hex, sizeof hex);
	snprintf(pol, sizeof pol, "{\"pcrs\":{\"15\":\"%s\"}}", hex);
	assert_int_equal(cm_tpm_pcr_policy_parse(pol, strlen(pol), &p, &e), 0);
	assert_int_equal(cm_tpm_quote_verify(quote, len, c->ak, q, &p, NULL, &e), 0);
	p.pcr[15][0] ^= 1;
	assert_int_equal(cm_tpm_quote_verify(quote, len, c->ak, q, &p, NULL, &e), -EACCES);
	assert_string_equal(e.check, "tpm_pcr_policy");
	assert_non_null(strstr(e.msg, "PCR 15"));
	free(quote);
}

static void test_tpm_pcr_policy_parse_is_strict(void **state)
{
	(void)state;
	struct cm_tpm_pcr_policy p;
	struct cm_err e = {0};
	const char *z = "0000000000000000000000000000000000000000000000000000000000000000";
	char buf[256];
	static const char *const keys[] = {"24", "07", "-1", "x", ""};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(buf, sizeof buf, "{\"pcrs\":{\"%s\":\"%s\"}}", keys[i], z);
		assert_int_equal(cm_tpm_pcr_policy_parse(buf, strlen(buf), &p, &e), -EINVAL);
	}
	assert_int_equal(cm_tpm_pcr_policy_parse("{\"pcrs\":{}}", 11, &p, &e), -EINVAL);
	snprintf(buf, sizeof buf, "{\"pcrs\":{\"7\":\"%.62s\"}}", z);
	assert_int_equal(cm_tpm_pcr_policy_parse(buf, strlen(buf), &p, &e), -EINVAL);
	snprintf(buf, sizeof buf, "{\"pcrs\":{\"23\":\"%s\"}}", z);
	assert_int_equal(cm_tpm_pcr_policy_parse(buf, strlen(buf), &p, &e), 0);
	assert_int_equal(p.mask, 1u << 23);
}

static void test_tpm_event_log_replay_is_strict(void **state)
{
	(void)state;
	struct cm_err e = {0};
	uint8_t p[32], want[32] = {0}, buf[64];
	int n;
	const char *log = "cocoon:spec.tree=x\ncocoon:tdx_inited\n";
	assert_int_equal(cm_tpm_replay_events((const uint8_t *)log, strlen(log), p, &n, &e), 0);
	assert_int_equal(n, 2);
	cm_sha256("cocoon:spec.tree=x", 18, buf + 32);
	cm_sha256(buf, 64, want);
	memcpy(buf, want, 32);
	cm_sha256("cocoon:tdx_inited", 17, buf + 32);
	cm_sha256(buf, 64, want);
	assert_memory_equal(p, want, 32);
	assert_int_equal(cm_tpm_replay_events((const uint8_t *)"a\nb", 3, p, &n, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "event 1 at offset 2"));
	assert_true(cm_tpm_replay_events((const uint8_t *)"a\n\x01\n", 4, p, &n, &e) < 0);
	assert_true(cm_tpm_replay_events((const uint8_t *)"\n", 1, p, &n, &e) < 0);
	assert_int_equal(cm_tpm_replay_events((const uint8_t *)"", 0, p, &n, &e), 0);
	assert_true(cm_is_zero(p, 32));
}

/* cmd_tpm_quote with args (NULL-terminated); stdout into out. */
static char out[1 << 14];
static int run_cli(const char *first, ...)
{
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"tpm-quote";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return run_captured(cmd_tpm_quote, argc, argv, out, sizeof out);
}

static void test_tpm_quote_cli_exit_codes(void **state)
{
	struct ctx *c = *state;
	struct cm_err e = {0};
	uint8_t pub[32], rd[64], *quote;
	size_t len;
	char qpath[320], akpath[320], pol[320], pubhex[65], text[200], hex[65];
	memset(pub, 0xab, sizeof pub);
	cm_sha512(pub, sizeof pub, rd);
	assert_int_equal(ca_extend_event(c->b, 3, "cocoon:spec.tree=cli", &e), 0);
	assert_int_equal(ca_extend_event(c->b, 3, "cocoon:tdx_inited", &e), 0);
	cm_hex_encode(pub, sizeof pub, pubhex, sizeof pubhex);
	assert_int_equal(ca_quote(c->b, rd, &quote, &len, &e), 0);
	snprintf(qpath, sizeof qpath, "%s/quote.bin", c->t.dir);
	snprintf(akpath, sizeof akpath, "%s/state/ak.pem", c->t.dir);
	snprintf(pol, sizeof pol, "%s/policy.json", c->t.dir);
	test_write_file(qpath, quote, len);
	struct cm_tpm_quote q;
	assert_int_equal(cm_tpm_quote_parse(quote, len, &q, &e), 0);
	cm_hex_encode(q.pcr[15], 32, hex, sizeof hex);
	snprintf(text, sizeof text, "{\"pcrs\":{\"15\":\"%s\"}}", hex);
	test_write_text(pol, text);

	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--pcr-policy", pol, "--json", NULL), CLI_OK);
	assert_non_null(strstr(out, "\"verdict\": \"ok\""));
	/* the event log replays to the quoted PCR 15; with a line more it does not */
	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--event-log", c->log, "--json", NULL),
			 CLI_OK);
	assert_non_null(strstr(out, "\"events\": 2"));
	FILE *lf = fopen(c->log, "a");
	fputs("cocoon:debug_shell\n", lf);
	fclose(lf);
	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--event-log", c->log, "--json", NULL),
			 CLI_INVALID_EVIDENCE);
	assert_non_null(strstr(out, "tpm_event_log"));
	/* another key's REPORTDATA: does not verify */
	pubhex[0] = pubhex[0] == 'a' ? 'b' : 'a';
	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--json", NULL), CLI_INVALID_EVIDENCE);
	assert_non_null(strstr(out, "tpm_qualifying_data"));
	pubhex[0] = pubhex[0] == 'a' ? 'b' : 'a';
	/* a policy that wants another PCR 15: rejected */
	text[strlen("{\"pcrs\":{\"15\":\"")] ^= 1;
	test_write_text(pol, text);
	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--pcr-policy", pol, "--json", NULL),
			 CLI_REJECTED);
	assert_non_null(strstr(out, "tpm_pcr_policy"));
	/* usage */
	assert_int_equal(run_cli(qpath, "--ak", akpath, NULL), CLI_USAGE);
	/* a truncated quote: malformed input */
	test_write_file(qpath, quote, len / 2);
	assert_int_equal(run_cli(qpath, "--ak", akpath, "--pubkey", pubhex, "--json", NULL), CLI_INVALID_INPUT);
	free(quote);
}

/* The EK certificate: none in a fresh swtpm (no ek.der, the backend still opens); one
 * written to NV 0x01c0000a (as a TPM maker provisions it) lands in ek.der byte for byte. */
static void test_tpm_backend_copies_the_ek_certificate_from_nv(void **state)
{
	(void)state;
	struct swtpm t;
	struct ca_backend *b;
	struct cm_err e = {0};
	char dir[300], path[320];
	swtpm_start(&t);
	snprintf(dir, sizeof dir, "%s/state", t.dir);
	snprintf(path, sizeof path, "%s/ek.der", dir);
	assert_int_equal(ca_tpm_open(t.tcti, dir, NULL, &b, &e), 0);
	ca_close(b);
	assert_int_equal(access(path, F_OK), -1);

	/* 700 bytes (more than one NV_Read chunk) at the ECC EK certificate index */
	uint8_t cert[700];
	for (size_t i = 0; i < sizeof cert; i++)
		cert[i] = (uint8_t)(i * 31 + 7);
	struct ca_tpm c;
	assert_int_equal(ca_tpm_connect(t.tcti, &c, &e), 0);
	TPM2B_AUTH auth = {0};
	TPM2B_NV_PUBLIC pub = {.nvPublic = {
		.nvIndex = CA_TPM_EK_CERT_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_PPREAD |
			      TPMA_NV_NO_DA,
		.dataSize = sizeof cert,
	}};
	ESYS_TR nv = ESYS_TR_NONE;
	assert_int_equal(Esys_NV_DefineSpace(c.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
					     &pub, &nv),
			 0);
	for (size_t off = 0; off < sizeof cert; off += 512) {
		TPM2B_MAX_NV_BUFFER d = {.size = (UINT16)(sizeof cert - off > 512 ? 512 : sizeof cert - off)};
		memcpy(d.buffer, cert + off, d.size);
		assert_int_equal(Esys_NV_Write(c.esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d,
					       (UINT16)off),
				 0);
	}
	ca_tpm_disconnect(&c);
	assert_int_equal(ca_tpm_open(t.tcti, dir, NULL, &b, &e), 0);
	ca_close(b);
	uint8_t *got;
	size_t n;
	assert_int_equal(cm_read_file(path, 4096, &got, &n, &e), 0);
	assert_int_equal(n, sizeof cert);
	assert_memory_equal(got, cert, sizeof cert);
	free(got);
	swtpm_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tpm_backend_events_replay_into_pcr15, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tpm_quote_verifies_with_the_ak_and_binds_report_data, setup, teardown),
		cmocka_unit_test(test_tpm_pcr_policy_parse_is_strict),
		cmocka_unit_test(test_tpm_event_log_replay_is_strict),
		cmocka_unit_test_setup_teardown(test_tpm_quote_cli_exit_codes, setup, teardown),
		cmocka_unit_test(test_tpm_backend_copies_the_ek_certificate_from_nv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
