/* guest/keys/tpm2: seal, unseal, PCR change, wrong blob against a real swtpm; the token's
 * strict parser; the TDX refusal. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest/attest/attest.h"
#include "guest/attest/tpm.h"
#include "guest/keys/keys.h"
#include "guest/keys/tpm2.h"
#include "tests/unit/swtpm.h"

static int tpm_setup(void **state)
{
	struct swtpm *t = calloc(1, sizeof *t);
	swtpm_start(t);
	*state = t;
	return 0;
}

static int tpm_teardown(void **state)
{
	swtpm_stop(*state);
	free(*state);
	return 0;
}

static void extend(const char *tcti, int pcr, const char *msg)
{
	struct ca_tpm t;
	struct cm_err e = {0};
	assert_int_equal(ca_tpm_connect(tcti, &t, &e), 0);
	assert_int_equal(ca_tpm_pcr_event(&t, pcr, msg, strlen(msg), &e), 0);
	ca_tpm_disconnect(&t);
}

#define PCRS ((1u << 7) | (1u << 9) | (1u << 15))

static void test_tpm2_seal_then_unseal_returns_the_secret(void **state)
{
	struct swtpm *t = *state;
	struct ck_tpm2_token tok;
	struct cm_err e = {0};
	uint8_t root[32], back[32] = {0};
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)(i * 7 + 1);
	extend(t->tcti, 15, "cocoon:spec.tree=test");
	assert_int_equal(ck_tpm2_seal(t->tcti, PCRS, root, &tok, &e), 0);
	assert_int_equal(tok.pcrs, PCRS);
	assert_true(tok.blob_len > 64);
	assert_int_equal(ck_tpm2_unseal(t->tcti, &tok, back, &e), 0);
	assert_memory_equal(back, root, 32);
}

static void test_tpm2_unseal_after_pcr_change_names_the_pcr(void **state)
{
	struct swtpm *t = *state;
	struct ck_tpm2_token tok;
	struct cm_err e = {0};
	uint8_t root[32] = {1, 2, 3}, back[32] = {0};
	assert_int_equal(ck_tpm2_seal(t->tcti, PCRS, root, &tok, &e), 0);
	extend(t->tcti, 9, "a different kernel command line");
	assert_int_equal(ck_tpm2_unseal(t->tcti, &tok, back, &e), -EACCES);
	assert_non_null(strstr(e.msg, "PCR 9 changed"));
	assert_null(strstr(e.msg, "PCR 7"));
	assert_true(cm_is_zero(back, sizeof back));
	/* The TPM itself refuses too: with the token's recorded values made to match the
	 * current ones, the pre-check passes and TPM2_PolicyPCR / Unseal fail. */
	struct ca_tpm c;
	assert_int_equal(ca_tpm_connect(t->tcti, &c, &e), 0);
	assert_int_equal(ca_tpm_pcr_read(&c, PCRS, tok.values, &e), 0);
	ca_tpm_disconnect(&c);
	assert_int_equal(ck_tpm2_unseal(t->tcti, &tok, back, &e), -EACCES);
	assert_non_null(strstr(e.msg, "Unseal"));
	assert_true(cm_is_zero(back, sizeof back));
}

static void test_tpm2_unseal_of_a_wrong_blob_fails(void **state)
{
	struct swtpm *t = *state;
	struct ck_tpm2_token tok, other;
	struct cm_err e = {0};
	uint8_t root[32] = {9}, back[32] = {0};
	assert_int_equal(ck_tpm2_seal(t->tcti, PCRS, root, &tok, &e), 0);
	/* a flipped byte in the private part: the TPM's integrity check refuses to load it */
	other = tok;
	other.blob[10] ^= 0x01;
	assert_int_equal(ck_tpm2_unseal(t->tcti, &other, back, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "does not load"));
	/* a blob from another TPM (another swtpm: other seeds) */
	struct swtpm t2;
	swtpm_start(&t2);
	assert_int_equal(ck_tpm2_seal(t2.tcti, PCRS, root, &other, &e), 0);
	swtpm_stop(&t2);
	memcpy(other.values, tok.values, sizeof tok.values); /* same PCRs: only the blob differs */
	assert_int_equal(ck_tpm2_unseal(t->tcti, &other, back, &e), -EBADMSG);
	/* truncated */
	other = tok;
	other.blob_len -= 3;
	assert_int_equal(ck_tpm2_unseal(t->tcti, &other, back, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "malformed"));
	/* a policy hash that is not the object's */
	other = tok;
	other.policy[0] ^= 1;
	assert_int_equal(ck_tpm2_unseal(t->tcti, &other, back, &e), -EBADMSG);
	assert_true(cm_is_zero(back, sizeof back));
	/* and the untouched one still opens */
	assert_int_equal(ck_tpm2_unseal(t->tcti, &tok, back, &e), 0);
	assert_memory_equal(back, root, 32);
}

static void test_tpm2_token_round_trip_and_strict_parse(void **state)
{
	struct swtpm *t = *state;
	struct ck_tpm2_token tok, back;
	struct cm_err e = {0};
	uint8_t root[32] = {5};
	char *json = NULL;
	assert_int_equal(ck_tpm2_seal(t->tcti, PCRS, root, &tok, &e), 0);
	assert_int_equal(ck_tpm2_token_encode(&tok, &json, &e), 0);
	assert_non_null(strstr(json, "\"type\":\"cocoon-tpm2\""));
	assert_non_null(strstr(json, "\"tpm2-pcrs\":[7,9,15]"));
	assert_int_equal(ck_tpm2_token_parse(json, strlen(json), &back, &e), 0);
	assert_int_equal(back.pcrs, tok.pcrs);
	assert_int_equal(back.blob_len, tok.blob_len);
	assert_memory_equal(back.blob, tok.blob, tok.blob_len);
	assert_memory_equal(back.values, tok.values, sizeof tok.values);
	assert_memory_equal(back.policy, tok.policy, 32);
	free(json);

	static const char *const bad[] = {
		"{}",
		/* wrong type */
		"{\"type\":\"systemd-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[7],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\"],\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		/* PCRs not ascending */
		"{\"type\":\"cocoon-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[9,7],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\",\"0000000000000000000000000000000000000000000000000000000000000000\"],"
		"\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		/* one value for two PCRs */
		"{\"type\":\"cocoon-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[7,9],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\"],\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		/* non-canonical base64 */
		"{\"type\":\"cocoon-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAB=\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[7],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\"],\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		/* an extra member */
		"{\"type\":\"cocoon-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[7],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\"],\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"x\":1}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ck_tpm2_token_parse(bad[i], strlen(bad[i]), &back, &e), -EINVAL);
	/* the same shape with good fields parses (so each rejection above is its field's) */
	const char *good =
		"{\"type\":\"cocoon-tpm2\",\"keyslots\":[\"0\"],\"tpm2-blob\":\"AAAA\",\"tpm2-pcr-bank\":\"sha256\","
		"\"tpm2-pcrs\":[7],\"tpm2-pcr-values\":[\"" "0000000000000000000000000000000000000000000000000000000000000000"
		"\"],\"tpm2-policy-hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}";
	assert_int_equal(ck_tpm2_token_parse(good, strlen(good), &back, &e), 0);
	assert_int_equal(back.blob_len, 3);
}

/* A backend that only has a name (the provider asks for nothing else). */
static int nop_open(struct ca_backend *b, struct cm_err *e)
{
	(void)b;
	(void)e;
	return 0;
}
static const struct ca_ops fake_tdx_ops = {.name = "tdx", .open = nop_open};
static const struct ca_ops fake_sim_ops = {.name = "sim", .open = nop_open};

static void write_conf(const char *spec, const char *json)
{
	char path[512];
	snprintf(path, sizeof path, "%s/keys", spec);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/keys/tpm2.json", spec);
	test_write_text(path, json);
}

static void test_tpm2_provider_refused_with_tdx_unless_the_spec_allows(void **state)
{
	struct swtpm *t = *state;
	struct ca_backend *tdx, *sim;
	struct ck_provider *p = NULL;
	struct cm_err e = {0};
	char *spec = test_tmpdir(), conf[512];
	assert_int_equal(ca_open_ops(&fake_tdx_ops, NULL, NULL, &tdx, &e), 0);
	assert_int_equal(ca_open_ops(&fake_sim_ops, NULL, NULL, &sim, &e), 0);
	snprintf(conf, sizeof conf, "{\"pcrs\":[7],\"tcti\":\"%s\"}", t->tcti);
	write_conf(spec, conf);
	struct ck_env env = {.attest = tdx, .spec_dir = spec};
	assert_int_equal(ck_open("tpm2", &env, &p, &e), -EPERM);
	assert_null(p);
	assert_non_null(strstr(e.msg, "no confidentiality against the host"));
	assert_non_null(strstr(e.msg, "allow_with_tdx"));
	/* not tdx: allowed */
	env.attest = sim;
	assert_int_equal(ck_open("tpm2", &env, &p, &e), 0);
	ck_close(p);
	/* tdx with the explicit flag: allowed */
	snprintf(conf, sizeof conf, "{\"pcrs\":[7],\"tcti\":\"%s\",\"allow_with_tdx\":true}", t->tcti);
	write_conf(spec, conf);
	env.attest = tdx;
	assert_int_equal(ck_open("tpm2", &env, &p, &e), 0);
	ck_close(p);
	/* ... and false is a refusal again */
	snprintf(conf, sizeof conf, "{\"pcrs\":[7],\"tcti\":\"%s\",\"allow_with_tdx\":false}", t->tcti);
	write_conf(spec, conf);
	assert_int_equal(ck_open("tpm2", &env, &p, &e), -EPERM);
	ca_close(tdx);
	ca_close(sim);
	free(spec);
}

static void test_tpm2_provider_new_volume_then_same_keys_next_boot(void **state)
{
	struct swtpm *t = *state;
	struct ca_backend *sim;
	struct ck_provider *p = NULL;
	struct cm_err e = {0};
	char *spec = test_tmpdir(), conf[512];
	uint8_t k1[64], k2[64], a1[32], a2[32];
	assert_int_equal(ca_open_ops(&fake_sim_ops, NULL, NULL, &sim, &e), 0);
	snprintf(conf, sizeof conf, "{\"pcrs\":[7,15],\"tcti\":\"%s\"}", t->tcti);
	write_conf(spec, conf);
	assert_string_equal(ck_select(NULL, spec, false), "tpm2");
	struct ck_env env = {.attest = sim, .spec_dir = spec};
	/* blank volume: a new secret is sealed, its token handed out */
	assert_int_equal(ck_open("tpm2", &env, &p, &e), 0);
	char *token = strdup(ck_new_token(p));
	assert_int_equal(ck_derive(p, "disk_encryption", k1, sizeof k1, &e), 0);
	assert_int_equal(ck_derive(p, "app", a1, sizeof a1, &e), 0);
	assert_memory_not_equal(k1, a1, 32);
	ck_close(p);
	/* next boot: the token unseals to the same keys, and nothing new is sealed */
	env.sealed_token = token;
	assert_int_equal(ck_open("tpm2", &env, &p, &e), 0);
	assert_null(ck_new_token(p));
	assert_int_equal(ck_derive(p, "disk_encryption", k2, sizeof k2, &e), 0);
	assert_int_equal(ck_derive(p, "app", a2, sizeof a2, &e), 0);
	assert_memory_equal(k1, k2, sizeof k1);
	assert_memory_equal(a1, a2, sizeof a1);
	ck_close(p);
	/* a changed PCR 15 (another spec): open fails naming it */
	extend(t->tcti, 15, "cocoon:spec.tree=another");
	assert_int_equal(ck_open("tpm2", &env, &p, &e), -EACCES);
	assert_non_null(strstr(e.msg, "PCR 15 changed"));
	free(token);
	ca_close(sim);
	free(spec);
}

/* Parameter encryption: the secret never crosses the TPM interface in clear, neither into
 * TPM2_Create nor out of TPM2_Unseal. The traffic check itself can fail: the same bytes
 * sent without a session (TPM2_StirRandom) are found. */
static void test_tpm2_secret_never_crosses_the_bus_in_clear(void **state)
{
	(void)state;
	struct swtpm t = {.log_level = 20};
	struct ck_tpm2_token tok;
	struct cm_err e = {0};
	uint8_t root[32], back[32];
	size_t n;
	for (int i = 0; i < 32; i++)
		root[i] = (uint8_t)(0xa0 + i);
	swtpm_start(&t);
	assert_int_equal(ck_tpm2_seal(t.tcti, PCRS, root, &tok, &e), 0);
	assert_int_equal(ck_tpm2_unseal(t.tcti, &tok, back, &e), 0);
	assert_memory_equal(back, root, 32);
	uint8_t *bytes = swtpm_traffic(&t, &n);
	assert_true(n > 1000); /* the log holds the traffic */
	assert_null(memmem(bytes, n, root, 16));
	assert_null(memmem(bytes, n, root + 16, 16));
	free(bytes);
	/* the control: in clear, the same bytes show up */
	struct ca_tpm c;
	TPM2B_SENSITIVE_DATA in = {.size = 32};
	memcpy(in.buffer, root, 32);
	assert_int_equal(ca_tpm_connect(t.tcti, &c, &e), 0);
	assert_int_equal(Esys_StirRandom(c.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in), 0);
	ca_tpm_disconnect(&c);
	bytes = swtpm_traffic(&t, &n);
	assert_non_null(memmem(bytes, n, root, 16));
	free(bytes);
	swtpm_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tpm2_seal_then_unseal_returns_the_secret, tpm_setup, tpm_teardown),
		cmocka_unit_test_setup_teardown(test_tpm2_unseal_after_pcr_change_names_the_pcr, tpm_setup, tpm_teardown),
		cmocka_unit_test_setup_teardown(test_tpm2_unseal_of_a_wrong_blob_fails, tpm_setup, tpm_teardown),
		cmocka_unit_test_setup_teardown(test_tpm2_token_round_trip_and_strict_parse, tpm_setup, tpm_teardown),
		cmocka_unit_test_setup_teardown(test_tpm2_provider_refused_with_tdx_unless_the_spec_allows, tpm_setup,
						tpm_teardown),
		cmocka_unit_test_setup_teardown(test_tpm2_provider_new_volume_then_same_keys_next_boot, tpm_setup,
						tpm_teardown),
		cmocka_unit_test(test_tpm2_secret_never_crosses_the_bus_in_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
