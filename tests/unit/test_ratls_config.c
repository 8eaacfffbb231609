/* cocoon-ratls configuration: JSON file, listener and policy flags, validation. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/cmdline/cmdline.h"
#include "guest/ratls/config.h"
#include "guest/ratls/peerinfo.h"
#include "measure/ratls/addr.h"

static char *write_tmp(const char *text)
{
	static char path[600];
	char *dir = test_tmpdir();
	snprintf(path, sizeof(path), "%s/ratls.json", dir);
	free(dir);
	test_write_text(path, text);
	return path;
}

/* Defaults, then the JSON text, which must load. */
static void load_ok(struct cr_config *c, const char *json)
{
	struct cm_err e = {0};
	cr_config_defaults(c);
	assert_int_equal(cr_config_load(c, write_tmp(json), &e), 0);
}

static void test_config_file_loads_policies_and_listeners(void **state)
{
	(void)state;
	struct cr_config c;
	struct cm_err e = {0};
	const char *json = "{\"attest\":\"sim\",\"pow_difficulty\":0,\"idle_timeout\":30,\"buffer_size\":65536,"
			   "\"gpu_evidence\":true,"
			   "\"policies\":{\"workers\":{\"type\":\"tdx\",\"root\":\"/r.pem\",\"collateral\":\"/coll\","
			   "\"gpu\":\"default\"}},"
			   "\"reverse\":[{\"listen\":\"0.0.0.0:11001\",\"backend\":\"127.0.0.1:11101\",\"policy\":\"workers\"},"
			   "{\"listen\":\"11002\",\"backend\":\"127.0.0.1:11102\",\"policy\":\"any\"}],"
			   "\"forward\":[{\"listen\":\"127.0.0.1:9000\",\"target\":\"10.0.0.2:11001\",\"policy\":\"workers\"}],"
			   "\"socks5\":[{\"listen\":\"127.0.0.1:8116\",\"policy\":\"workers\"}]}";
	load_ok(&c, json);
	assert_int_equal(cr_config_check(&c, &e), 0);
	assert_string_equal(c.attest, "sim");
	assert_int_equal(c.proxy.pow_difficulty, 0);
	assert_int_equal(c.proxy.idle_timeout, 30);
	assert_int_equal(c.proxy.buf_size, 65536);
	assert_int_equal(c.npolicies, 4); /* any, tdx, fake_tdx, workers */
	assert_int_equal(c.policies[2].type, CR_POLICY_FAKE_TDX);
	assert_string_equal(c.policies[3].name, "workers");
	assert_int_equal(c.policies[3].type, CR_POLICY_TDX);
	assert_string_equal(c.policies[3].collateral, "/coll");
	assert_string_equal(c.policies[3].gpu, "default");
	assert_true(c.gpu_evidence);
	assert_int_equal(c.nlisteners, 4);
	assert_int_equal(c.listeners[0].mode, CR_MODE_REVERSE);
	assert_string_equal(c.listeners[0].target, "127.0.0.1:11101");
	assert_int_equal(c.listeners[2].mode, CR_MODE_FORWARD);
	assert_int_equal(c.listeners[3].mode, CR_MODE_SOCKS5);
	assert_string_equal(c.listeners[3].policy, "workers");
}

/* The AttestedPeerInfo frame: on for reverse listeners unless said otherwise (Cocoon's runners
 * require it), off for forward/SOCKS5 ones; a listener's own setting beats the global one. */
static void test_config_serialize_info_defaults(void **state)
{
	(void)state;
	struct cr_config c;
	/* reverse: default, off; forward: default, on */
	load_ok(&c, "{\"reverse\":[{\"listen\":\"11001\",\"backend\":\"127.0.0.1:11101\"},"
		    "{\"listen\":\"11002\",\"backend\":\"127.0.0.1:11102\",\"serialize_info\":false}],"
		    "\"forward\":[{\"listen\":\"9000\",\"target\":\"10.0.0.2:11001\"},"
		    "{\"listen\":\"9001\",\"target\":\"10.0.0.2:11001\",\"serialize_info\":true}]}");
	assert_int_equal(c.nlisteners, 4);
	bool want[] = {true, false, false, true};
	for (int i = 0; i < 4; i++)
		assert_int_equal(cr_listener_serialize_info(&c.proxy, &c.listeners[i]), want[i]);
	/* the global setting applies to the listeners that say nothing */
	c.proxy.serialize_info = CR_INFO_OFF;
	assert_false(cr_listener_serialize_info(&c.proxy, &c.listeners[0]));
	assert_true(cr_listener_serialize_info(&c.proxy, &c.listeners[3]));
	c.proxy.serialize_info = CR_INFO_ON;
	assert_true(cr_listener_serialize_info(&c.proxy, &c.listeners[2]));
	assert_false(cr_listener_serialize_info(&c.proxy, &c.listeners[1]));
	load_ok(&c, "{\"serialize_info\":false,\"reverse\":[{\"listen\":\"1\",\"backend\":\"127.0.0.1:2\"}]}");
	assert_false(cr_listener_serialize_info(&c.proxy, &c.listeners[0]));
	struct cm_err e = {0};
	assert_int_not_equal(cr_config_load(&c, write_tmp("{\"reverse\":[{\"listen\":\"1\",\"backend\":\"127.0.0.1:2\",\"serialize_info\":1}]}"), &e), 0);
}

/* fake_tdx peers (Cocoon's test attestation) only in test setups: a listener may use a
 * fake_tdx policy only when the appliance's own identity is fake_tdx too. */
static void test_config_fake_tdx_only_with_fake_identity(void **state)
{
	(void)state;
	struct cr_config c;
	struct cm_err e = {0};
	static const char *const specs[] = {"127.0.0.1:0:127.0.0.1:1@fake_tdx", "127.0.0.1:0:127.0.0.1:1@mine"};
	for (int i = 0; i < 2; i++) {
		cr_config_defaults(&c);
		assert_int_equal(cr_config_add_policy_spec(&c, "mine=fake_tdx", &e), 0);
		assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_FORWARD, specs[i], &e), 0);
		snprintf(c.attest, sizeof(c.attest), "sim");
		assert_int_equal(cr_config_check(&c, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "allowed only with attest fake_tdx"));
		snprintf(c.cert_dir, sizeof(c.cert_dir), "/x");
		c.attest[0] = 0;
		assert_int_equal(cr_config_check(&c, &e), -EINVAL);
		c.cert_dir[0] = 0;
		snprintf(c.attest, sizeof(c.attest), "fake_tdx");
		assert_int_equal(cr_config_check(&c, &e), 0);
	}
	cr_config_defaults(&c);
	assert_int_equal(cr_config_add_policy_spec(&c, "x=fake", &e), -EINVAL);
}

static void test_config_rejects_unknown_keys_and_bad_values(void **state)
{
	(void)state;
	const char *bad[] = {
		"{\"atest\":\"sim\"}",
		"{\"pow_difficulty\":29}",
		"{\"pow_difficulty\":\"20\"}",
		"{\"reverse\":[{\"listen\":\"1\"}]}",
		"{\"reverse\":[{\"listen\":\"1\",\"backend\":\"2\",\"extra\":1}]}",
		"{\"policies\":{\"p\":{\"type\":\"fake\"}}}",
		"{\"policies\":{\"p\":{\"type\":\"tdx\",\"gpu\":true}}}",
		"{\"gpu_evidence\":\"yes\"}",
		"[1]",
		"{\"attest\":\"sim\"} trailing",
		"{\"max_pow_connections\":0}",
		"{\"max_pow_connections_per_source\":0}",
		"{\"reverse\":[{\"listen\":\"1\",\"backend\":\"2\",\"max_connections\":0}]}",
		/* JSON as RFC 8259 has it (json-c's non-strict mode took these) */
		"{\"attest\":\"sim\",}",
		"{\"attest\":\"sim\"} /* comment */",
		"{\"attest\":'sim'}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cr_config c;
		struct cm_err e = {0};
		cr_config_defaults(&c);
		if (cr_config_load(&c, write_tmp(bad[i]), &e) == 0)
			fail_msg("accepted bad config %s", bad[i]);
	}
	/* the error names the JSON path */
	struct cr_config c;
	struct cm_err e = {0};
	cr_config_defaults(&c);
	const char *p = write_tmp("{\"forward\":[{\"listen\":\"1\",\"target\":\"2\"},{\"listen\":7}]}");
	assert_int_equal(cr_config_load(&c, p, &e), -EINVAL);
	char want[700]; /* the path (up to 599 bytes) and the message */
	snprintf(want, sizeof(want), "%s: config: forward[1].listen: must be a string", p);
	assert_string_equal(e.msg, want);
}

/* Connection budgets: the PoW budget (default a quarter of the total), per source, per
 * listener; none may exceed the total. */
static void test_config_connection_budgets(void **state)
{
	(void)state;
	struct cr_config c;
	struct cm_err e = {0};
	cr_config_defaults(&c);
	assert_int_equal(c.proxy.max_pow_conns, 0);
	assert_int_equal(c.proxy.max_pow_conns_per_source, 64);
	const char *json = "{\"attest\":\"sim\",\"max_connections\":100,\"max_pow_connections\":20,"
			   "\"max_pow_connections_per_source\":3,"
			   "\"reverse\":[{\"listen\":\"1\",\"backend\":\"2\",\"max_connections\":60}]}";
	assert_int_equal(cr_config_load(&c, write_tmp(json), &e), 0);
	assert_int_equal(cr_config_check(&c, &e), 0);
	assert_int_equal(c.proxy.max_conns, 100);
	assert_int_equal(c.proxy.max_pow_conns, 20);
	assert_int_equal(c.proxy.max_pow_conns_per_source, 3);
	assert_int_equal(c.listeners[0].max_conns, 60);
	c.listeners[0].max_conns = 101;
	assert_int_equal(cr_config_check(&c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "above the total"));
	c.listeners[0].max_conns = 100;
	c.proxy.max_pow_conns = 101;
	assert_int_equal(cr_config_check(&c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "max_pow_connections"));
}

static void test_listener_specs_parse_hosts_ports_and_policies(void **state)
{
	(void)state;
	struct cr_config c;
	struct cm_err e = {0};
	cr_config_defaults(&c);
	assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_REVERSE, "11001:localhost:11101@tdx", &e), 0);
	assert_string_equal(c.listeners[0].listen, "11001");
	assert_string_equal(c.listeners[0].target, "localhost:11101");
	assert_string_equal(c.listeners[0].policy, "tdx");
	assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_FORWARD, "127.0.0.1:9000:[::1]:443", &e), 0);
	assert_string_equal(c.listeners[1].listen, "127.0.0.1:9000");
	assert_string_equal(c.listeners[1].target, "[::1]:443");
	assert_string_equal(c.listeners[1].policy, "tdx"); /* forward default */
	assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_REVERSE, "[::]:1:h:2", &e), 0);
	assert_string_equal(c.listeners[2].listen, "[::]:1");
	assert_string_equal(c.listeners[2].policy, "any"); /* reverse default */
	assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_SOCKS5, "127.0.0.1:8116@w", &e), 0);
	assert_string_equal(c.listeners[3].listen, "127.0.0.1:8116");
	assert_int_equal(cr_config_add_listener_spec(&c, CR_MODE_REVERSE, "11001", &e), -EINVAL);
	c.attest[0] = 's';
	assert_int_equal(cr_config_check(&c, &e), -EINVAL); /* policy 'w' undefined */
	assert_int_equal(cr_config_add_policy_spec(&c, "w=tdx,root=/a.pem,collateral=/c", &e), 0);
	snprintf(c.attest, sizeof(c.attest), "sim");
	assert_int_equal(cr_config_check(&c, &e), 0);
	assert_int_equal(cr_config_add_policy_spec(&c, "g=tdx,gpu=/etc/cocoon/gpu-policy.json", &e), 0);
	assert_string_equal(c.policies[c.npolicies - 1].gpu, "/etc/cocoon/gpu-policy.json");
	assert_int_equal(cr_config_add_policy_spec(&c, "x=tdx,rot=/a", &e), -EINVAL);
	assert_int_equal(cr_config_add_policy_spec(&c, "y", &e), -EINVAL);
	snprintf(c.cert_dir, sizeof(c.cert_dir), "/x");
	assert_int_equal(cr_config_check(&c, &e), -EINVAL); /* two certificate sources */
}

/* cocoon-ratls --attest cmdline must read the kernel command line exactly as cocoon-init
 * does: after "--" the words are init's argv, not keys (a host appending
 * "-- cocoon.attest=sim" to the measured line must not switch ratls to sim). */
static void test_attest_cmdline_agrees_with_init(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"console=hvc0 cocoon.roothash=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		" cocoon.rootblocks=8 -- cocoon.attest=sim\n",
		"cocoon.roothash=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		" cocoon.rootblocks=8 \"cocoon.attest=sim\" quiet\n",
	};
	char *dir = test_tmpdir(), path[300], got[16];
	snprintf(path, sizeof(path), "%.280s/cmdline", dir);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		test_write_text(path, lines[i]);
		struct ci_cmdline c;
		struct cm_err e = {0};
		assert_int_equal(ci_cmdline_load(path, &c, &e), 0);
		assert_int_equal(cr_attest_resolve("cmdline", path, got, sizeof(got), &e), 0);
		assert_string_equal(got, c.attest);
	}
	/* a line init refuses (duplicate key) gives ratls no backend either */
	test_write_text(path, "cocoon.attest=tdx cocoon.attest=sim\n");
	struct cm_err e = {0};
	assert_true(cr_attest_resolve("cmdline", path, got, sizeof(got), &e) < 0);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(cr_attest_resolve("sim", path, got, sizeof(got), &e), 0);
	assert_string_equal(got, "sim");
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Ports are digits only (cm_parse_u64): strtol took "+80", " 80" and "-0". */
static void test_addr_ports_are_digits_only(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	struct cm_err e = { 0 };
	static const char *const good[] = { "127.0.0.1:80", "127.0.0.1:0", "[::1]:65535", "8116" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (cr_parse_addr(good[i], false, &ss, &len, &e))
			fail_msg("'%s' refused: %s", good[i], e.msg);
	static const char *const bad[] = { "127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:-0", "127.0.0.1:65536",
					   "127.0.0.1:", "[::1]:+1", "+80", "0x50" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = (struct cm_err){ 0 };
		if (cr_parse_addr(bad[i], false, &ss, &len, &e) != -EINVAL || !strstr(e.msg, "bad port"))
			fail_msg("'%s' was taken (%s)", bad[i], e.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_ports_are_digits_only),
		cmocka_unit_test(test_config_file_loads_policies_and_listeners),
		cmocka_unit_test(test_config_serialize_info_defaults),
		cmocka_unit_test(test_config_fake_tdx_only_with_fake_identity),
		cmocka_unit_test(test_config_rejects_unknown_keys_and_bad_values),
		cmocka_unit_test(test_config_connection_budgets),
		cmocka_unit_test(test_listener_specs_parse_hosts_ports_and_policies),
		cmocka_unit_test(test_attest_cmdline_agrees_with_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
