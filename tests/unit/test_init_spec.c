/* cocoon-init: the measured spec file cocoon.json (guest/init/appspec.c). */
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/init/appspec.h"
#include "measure/gpu/gpu.h"

#define RH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *json, struct ci_spec *s, struct cm_err *e)
{
	memset(e, 0, sizeof *e);
	return ci_spec_parse(json, strlen(json), s, e);
}

/* Every document is refused with an error message containing needle. */
static void expect_rejected(const char *const *docs, size_t n, const char *needle)
{
	struct ci_spec s;
	struct cm_err e;
	for (size_t i = 0; i < n; i++) {
		if (parse(docs[i], &s, &e) >= 0)
			fail_msg("accepted: %s", docs[i]);
		assert_true(e.msg[0] != '\0');
		assert_non_null(strstr(e.msg, needle));
	}
}

static void test_spec_full_example(void **state)
{
	(void)state;
	const char *j = "{\"version\":1,\"gpu\":\"off\",\"persistent\":{\"mount\":\"/var/lib/app\"},"
			"\"models\":[{\"name\":\"qwen\",\"roothash\":\"" RH "\",\"data_blocks\":100},"
			"{\"name\":\"big\",\"roothash\":\"" RH "\",\"data_blocks\":5,\"serial\":\"m-big\","
			"\"hash_serial\":\"m-big-hash\"}],"
			"\"services\":[{\"name\":\"web\",\"argv\":[\"/usr/bin/web\",\"--port\",\"80\"],"
			"\"env\":[\"A=1\",\"PATH=/x\"],\"restart\":\"always\",\"backoff_ms\":250,\"after\":[\"db\"]},"
			"{\"name\":\"db\",\"argv\":[\"/usr/bin/db\"]}]}";
	struct ci_spec s;
	struct cm_err e;
	assert_int_equal(parse(j, &s, &e), 0);
	assert_true(s.persistent);
	assert_string_equal(s.persistent_mount, "/var/lib/app");
	assert_true(s.persistent_integrity); /* default on */
	assert_false(s.gpu_required);
	assert_int_equal(s.n_models, 2);
	assert_string_equal(s.models[0].serial, "model-qwen");
	assert_string_equal(s.models[0].hash_serial, "");
	assert_int_equal(s.models[0].data_blocks, 100);
	assert_string_equal(s.models[0].roothash_hex, RH);
	assert_string_equal(s.models[1].serial, "m-big");
	assert_string_equal(s.models[1].hash_serial, "m-big-hash");
	assert_int_equal(s.n_services, 2);
	assert_string_equal(s.services[0].argv[2], "80");
	assert_null(s.services[0].argv[3]);
	assert_string_equal(s.services[0].env[1], "PATH=/x");
	assert_int_equal(s.services[0].restart, CI_RESTART_ALWAYS);
	assert_int_equal(s.services[0].backoff_ms, 250);
	assert_int_equal(s.services[1].restart, CI_RESTART_ON_FAILURE); /* default */
	assert_int_equal(s.services[1].backoff_ms, CI_BACKOFF_DEFAULT_MS);
	/* db first: web starts after it */
	assert_int_equal(s.order[0], 1);
	assert_int_equal(s.order[1], 0);
	ci_spec_free(&s);
}

static void test_spec_minimal_has_no_volumes(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	assert_int_equal(parse("{\"version\":1}", &s, &e), 0);
	assert_false(s.persistent);
	assert_int_equal(s.n_services, 0);
	assert_int_equal(s.n_models, 0);
	assert_int_equal(parse("{\"version\":1,\"persistent\":{},\"gpu\":\"required\"}", &s, &e), 0);
	assert_true(s.persistent);
	assert_string_equal(s.persistent_mount, "/data");
	assert_true(s.persistent_integrity);
	assert_true(s.gpu_required);
	assert_null(s.gpu_policy); /* step 7 then uses the production defaults */
	assert_null(s.gpu_policy_json); /* and so does its verifier child (no --policy) */
	ci_spec_free(&s);
	/* the measured GPU policy (measure/gpu's gpu_policy object), owned by the spec */
	assert_int_equal(parse("{\"version\":1,\"gpu\":\"required\",\"gpu_policy\":{\"count_min\":2,\"count_max\":2,"
			       "\"driver_versions\":[\"550.90.07\"]}}",
			       &s, &e),
			 0);
	assert_non_null(s.gpu_policy);
	struct cm_gpu_system sys = {.cc_on = true, .production_env = true, .count = 1, .arch = {9}};
	snprintf(sys.driver_version, sizeof(sys.driver_version), "550.90.07");
	assert_int_equal(cm_gpu_check_system(&sys, s.gpu_policy, &e), -EACCES);
	assert_string_equal(e.check, "gpu_count");
	/* the same object as text for the verifier child's --policy: it parses to the same policy */
	assert_non_null(s.gpu_policy_json);
	struct cm_jv again;
	struct cm_gpu_policy *p2 = NULL;
	assert_int_equal(cm_json_read(s.gpu_policy_json, strlen(s.gpu_policy_json), 4096, "policy.json", &again, &e), 0);
	assert_int_equal(cm_gpu_policy_parse(&again, &p2, &e), 0);
	cm_json_release(&again);
	assert_int_equal(cm_gpu_check_system(&sys, p2, &e), -EACCES);
	assert_string_equal(e.check, "gpu_count");
	cm_gpu_policy_free(p2);
	ci_spec_free(&s);
	assert_null(s.gpu_policy);
	assert_null(s.gpu_policy_json);
	assert_int_equal(parse("{\"version\":1,\"persistent\":{\"integrity\":false}}", &s, &e), 0);
	assert_true(s.persistent);
	assert_false(s.persistent_integrity);
	ci_spec_free(&s);
}

static void test_spec_dependency_cycle_rejected(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	const char *j = "{\"version\":1,\"services\":["
			"{\"name\":\"a\",\"argv\":[\"/a\"],\"after\":[\"c\"]},"
			"{\"name\":\"b\",\"argv\":[\"/b\"],\"after\":[\"a\"]},"
			"{\"name\":\"c\",\"argv\":[\"/c\"],\"after\":[\"b\"]}]}";
	assert_int_equal(parse(j, &s, &e), -ELOOP);
	assert_non_null(strstr(e.msg, "cycle"));
}

static void test_spec_rejects_bad_documents(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	const char *bad[] = {
		"",
		"[]",
		"{\"version\":1} x",
		"{}",
		"{\"version\":2}",
		"{\"version\":1,\"extra\":1}",
		"{\"version\":1,\"gpu\":\"yes\"}",
		"{\"version\":1,\"gpu_policy\":{}}",
		"{\"version\":1,\"gpu\":\"off\",\"gpu_policy\":{}}",
		"{\"version\":1,\"gpu\":\"required\",\"gpu_policy\":[]}",
		"{\"version\":1,\"gpu\":\"required\",\"gpu_policy\":{\"no_such_key\":1}}",
		"{\"version\":1,\"persistent\":{\"mount\":\"data\"}}",
		"{\"version\":1,\"persistent\":{\"mount\":\"/a/../etc\"}}",
		"{\"version\":1,\"persistent\":{\"mount\":\"/\"}}",
		"{\"version\":1,\"persistent\":{\"integrity\":\"yes\"}}",
		"{\"version\":1,\"persistent\":{\"integrity\":1}}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"sh\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"A\",\"argv\":[\"/a\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[\"NOEQ\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[\"=v\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"restart\":\"sometimes\"}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"backoff_ms\":-1}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"backoff_ms\":60001}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"after\":[\"zz\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"after\":[\"a\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"]},{\"name\":\"a\",\"argv\":[\"/b\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\\u0007\"]}]}",
		"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"00\",\"data_blocks\":1}]}",
		"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH "\",\"data_blocks\":0}]}",
		"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH "\"}]}",
		"{\"version\":1,\"models\":[{\"name\":\"a-very-long-model\",\"roothash\":\"" RH "\",\"data_blocks\":1}]}",
		"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH "\",\"data_blocks\":1,\"serial\":\"s\","
		"\"hash_serial\":\"s\"}]}",
		"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH "\",\"data_blocks\":1},"
		"{\"name\":\"m\",\"roothash\":\"" RH "\",\"data_blocks\":1}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &s, &e) >= 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(e.msg[0] != '\0');
	}
}

static void test_spec_errors_name_the_json_path(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	static const char *const docs[][2] = {
		{"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"]},{\"name\":\"b\",\"argv\":[\"/b\",7]}]}",
		 "spec: services[1].argv[1]: must be a string"},
		{"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"00\",\"data_blocks\":1}]}",
		 "spec: models[0].roothash: must be 64 hex digits"},
		{"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"backoff_ms\":60001}]}",
		 "spec: services[0].backoff_ms: 60001 outside 0..60000"},
		{"{\"version\":1,\"persistent\":{\"mnt\":\"/x\"}}", "spec: persistent: unknown key \"mnt\""},
		{"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"after\":[\"zz\"]}]}",
		 "spec: services[0]: after names unknown service \"zz\""},
		{"{\"version\":1} x", "spec: not valid JSON at byte 14 (unexpected character)"},
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		assert_true(parse(docs[i][0], &s, &e) < 0);
		assert_string_equal(e.msg, docs[i][1]);
	}
}

static void test_spec_network(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	assert_int_equal(parse("{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24\","
			       "\"gateway\":\"10.0.2.2\"}}", &s, &e), 0);
	assert_true(s.network.configured);
	assert_string_equal(s.network.ifname, "eth0");
	assert_int_equal(s.network.addr, htonl(0x0a00020f));
	assert_int_equal(s.network.prefix, 24);
	assert_int_equal(s.network.gateway, htonl(0x0a000202));
	ci_spec_free(&s);
	/* no network object: loopback only */
	assert_int_equal(parse("{\"version\":1}", &s, &e), 0);
	assert_false(s.network.configured);
	ci_spec_free(&s);
	/* without a gateway: no default route */
	assert_int_equal(parse("{\"version\":1,\"network\":{\"interface\":\"eth1\",\"address\":\"192.168.7.2/32\"}}",
			       &s, &e), 0);
	assert_int_equal(s.network.gateway, 0);
	ci_spec_free(&s);
	const char *bad[] = {
		"{\"version\":1,\"network\":[]}",
		"{\"version\":1,\"network\":{\"address\":\"10.0.2.15/24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/33\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2/24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24x\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"Eth0!\",\"address\":\"10.0.2.15/24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"averyverylongname0\",\"address\":\"10.0.2.15/24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24\",\"gateway\":\"x\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24\",\"dns\":\"1.1.1.1\"}}",
	};
	expect_rejected(bad, sizeof bad / sizeof bad[0], "");
}

/* Addresses are parsed whole: no truncated gateway, no sign or blank before the prefix. */
static void test_spec_network_addresses_are_exact(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e = {0};
	const char *bad[] = {
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24\","
		"\"gateway\":\"192.168.100.200x\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/24\","
		"\"gateway\":\"10.0.2.2 via eth1\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/+24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/ 24\"}}",
		"{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/-0\"}}",
	};
	expect_rejected(bad, sizeof bad / sizeof bad[0], "network");
	assert_int_equal(parse("{\"version\":1,\"network\":{\"interface\":\"eth0\",\"address\":\"10.0.2.15/0\","
			       "\"gateway\":\"255.255.255.255\"}}", &s, &e), 0);
	assert_int_equal(s.network.prefix, 0);
	assert_int_equal(s.network.gateway, 0xffffffffu);
	ci_spec_free(&s);
}

static void test_spec_load_from_directory(void **state)
{
	(void)state;
	char *dir = test_tmpdir();
	char path[512];
	struct ci_spec s;
	struct cm_err e = {0};
	assert_int_equal(ci_spec_load(dir, &s, &e), -ENOENT);
	snprintf(path, sizeof path, "%s/cocoon.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"version\":1,\"services\":[{\"name\":\"t\",\"argv\":[\"/bin/true\"],\"restart\":\"no\"}]}\n", f);
	fclose(f);
	assert_int_equal(ci_spec_load(dir, &s, &e), 0);
	assert_int_equal(s.services[0].restart, CI_RESTART_NO);
	ci_spec_free(&s);
	remove(path);
	rmdir(dir);
	free(dir);
}

/* A spec with one service "a" and n env entries V0=0.. */
static char *spec_with_env(int n)
{
	size_t cap = 128 + (size_t)n * 16, len;
	char *j = malloc(cap);
	assert_non_null(j);
	len = (size_t)snprintf(j, cap, "{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(j + len, cap - len, "%s\"V%d=%d\"", i ? "," : "", i, i);
	snprintf(j + len, cap - len, "]}]}");
	return j;
}

/* APP_KEY is cocoon-init's (keys.c: the key provider's "app" key): the spec may not set it,
 * and one env slot per service stays free for it. */
static void test_spec_app_key_env_reserved(void **state)
{
	(void)state;
	const char *bad[] = {
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[\"APP_KEY=x\"]}]}",
		"{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[\"A=1\",\"APP_KEY=\"]}]}",
	};
	expect_rejected(bad, 2, "APP_KEY is set by cocoon-init");
	struct ci_spec s;
	struct cm_err e;
	char *j = spec_with_env(CI_SPEC_MAX_ENV);
	assert_int_equal(parse(j, &s, &e), 0);
	ci_spec_free(&s);
	free(j);
	j = spec_with_env(CI_SPEC_MAX_ENV + 1);
	const char *over[] = {j};
	expect_rejected(over, 1, "entries (need 0..");
	free(j);
	/* APP_KEYX= and XAPP_KEY= are other names */
	assert_int_equal(parse("{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],"
			       "\"env\":[\"APP_KEYX=1\",\"XAPP_KEY=2\"]}]}", &s, &e), 0);
	ci_spec_free(&s);
}

static void test_spec_add_env_to_every_service(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	char *j = spec_with_env(CI_SPEC_MAX_ENV);
	assert_int_equal(parse(j, &s, &e), 0);
	free(j);
	assert_int_equal(ci_spec_add_env(&s, "APP_KEY=abc", &e), 0);
	assert_string_equal(s.services[0].env[CI_SPEC_MAX_ENV - 1], "V62=62");
	assert_string_equal(s.services[0].env[CI_SPEC_MAX_ENV], "APP_KEY=abc");
	assert_null(s.services[0].env[CI_SPEC_MAX_ENV + 1]);
	/* the one slot is taken: a second variable does not fit */
	assert_int_equal(ci_spec_add_env(&s, "OTHER=1", &e), -E2BIG);
	ci_spec_free(&s);

	assert_int_equal(parse("{\"version\":1,\"services\":[{\"name\":\"a\",\"argv\":[\"/a\"],\"env\":[\"A=1\"]},"
			       "{\"name\":\"b\",\"argv\":[\"/b\"]}]}", &s, &e), 0);
	assert_int_equal(ci_spec_add_env(&s, "APP_KEY=abc", &e), 0);
	assert_string_equal(s.services[0].env[0], "A=1");
	assert_string_equal(s.services[0].env[1], "APP_KEY=abc");
	assert_null(s.services[0].env[2]);
	assert_string_equal(s.services[1].env[0], "APP_KEY=abc");
	assert_null(s.services[1].env[1]);
	assert_int_equal(ci_spec_add_env(&s, "NOEQ", &e), -EINVAL);
	ci_spec_free(&s);
}

#define KS_PUB "1111111111111111111111111111111111111111111111111111111111111111"
#define ENC_MODEL(model, bytes, ks) \
	"{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH "\",\"data_blocks\":4," \
	"\"encrypted\":{\"model\":\"" model "\",\"key_bytes\":" bytes ",\"keyserver\":" ks "}}]}"
#define KS_OK "{\"address\":\"tcp:10.0.2.2:7443\",\"public_key\":\"" KS_PUB "\"}"

static void test_spec_encrypted_model(void **state)
{
	(void)state;
	struct ci_spec s;
	struct cm_err e;
	assert_int_equal(parse(ENC_MODEL("m@v1:" RH, "64", KS_OK), &s, &e), 0);
	assert_true(s.models[0].encrypted);
	assert_string_equal(s.models[0].model_string, "m@v1:" RH);
	assert_int_equal(s.models[0].key_bytes, 64);
	assert_string_equal(s.models[0].ks_address, "tcp:10.0.2.2:7443");
	assert_hex_equal(s.models[0].ks_public_key, KS_PUB);
	assert_int_equal(s.models[0].ks_timeout_ms, 10000);
	assert_true(s.models[0].ks_has_public_key);
	assert_int_equal(s.models[0].ks_n_image_hashes, 0);
	ci_spec_free(&s);
	/* the key server named by its image instead of its key */
	assert_int_equal(parse(ENC_MODEL("m@v1:" RH, "32", "{\"address\":\"vsock:2:7443\",\"image_hashes\":[\"" RH "\"],"
							   "\"timeout_ms\":500}"), &s, &e), 0);
	assert_false(s.models[0].ks_has_public_key);
	assert_int_equal(s.models[0].ks_n_image_hashes, 1);
	assert_hex_equal(s.models[0].ks_image_hashes[0], RH);
	assert_int_equal(s.models[0].ks_timeout_ms, 500);
	ci_spec_free(&s);
	assert_int_equal(parse("{\"version\":1,\"models\":[{\"name\":\"m\",\"roothash\":\"" RH
			       "\",\"data_blocks\":4}]}", &s, &e), 0);
	assert_false(s.models[0].encrypted);
	ci_spec_free(&s);
	static const char *const wrong_model[] = {
		ENC_MODEL("other@v1:" RH, "64", KS_OK),  /* another name */
		ENC_MODEL("m@v1:" KS_PUB, "64", KS_OK),  /* another volume */
		ENC_MODEL("m@:" RH, "64", KS_OK),        /* no commit */
		ENC_MODEL("m:" RH, "64", KS_OK),
		ENC_MODEL("mm@v1:" RH, "64", KS_OK),
	};
	expect_rejected(wrong_model, sizeof wrong_model / sizeof wrong_model[0], "the model's name and roothash");
	static const char *const bad[] = {
		ENC_MODEL("m@v1:" RH, "48", KS_OK),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"udp:1:2\",\"public_key\":\"" KS_PUB "\"}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\",\"public_key\":\"11\"}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\"}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\",\"image_hashes\":[]}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\",\"image_hashes\":[\"00\"]}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\",\"public_key\":\"" KS_PUB "\",\"x\":1}"),
		ENC_MODEL("m@v1:" RH, "64", "{\"address\":\"tcp:1:2\",\"public_key\":\"" KS_PUB "\",\"timeout_ms\":5}"),
	};
	expect_rejected(bad, sizeof bad / sizeof bad[0], "models[0].encrypted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_full_example),
		cmocka_unit_test(test_spec_minimal_has_no_volumes),
		cmocka_unit_test(test_spec_dependency_cycle_rejected),
		cmocka_unit_test(test_spec_rejects_bad_documents),
		cmocka_unit_test(test_spec_errors_name_the_json_path),
		cmocka_unit_test(test_spec_network),
		cmocka_unit_test(test_spec_network_addresses_are_exact),
		cmocka_unit_test(test_spec_load_from_directory),
		cmocka_unit_test(test_spec_app_key_env_reserved),
		cmocka_unit_test(test_spec_add_env_to_every_service),
		cmocka_unit_test(test_spec_encrypted_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
