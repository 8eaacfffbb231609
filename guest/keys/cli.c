/* cocoon-keys: key provider tools for operators and tests.
 *
 *   cocoon-keys seal-probe --server vsock:CID:PORT|tcp:HOST:PORT|unix:PATH --key-name NAME
 *                          [--attest tdx|sim] [--spec DIR] [--json]
 *
 * Runs the cocoon-seal client once (docs/keys.md): the allowlist and ISV settings come from
 * DIR/keys/cocoon-seal.json (default /run/spec), the server from --server. Prints the
 * key's SHA-256 fingerprint, never the key. Exit 0 ok, 1 a check failed (named), 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "guest/attest/attest.h"
#include "guest/keys/seal.h"
#include "measure/core/digest.h"
#include "measure/core/opts.h"

static int usage_to(FILE *f, int rc)
{
	fprintf(f, "usage: cocoon-keys seal-probe --server vsock:CID:PORT|tcp:HOST:PORT|unix:PATH --key-name NAME\n"
		   "                              [--attest tdx|sim] [--spec DIR] [--json]\n");
	return rc;
}

static int usage(void)
{
	return usage_to(stderr, 2);
}

static int parse_attest(const char *s, void *attest)
{
	if (strcmp(s, "tdx") && strcmp(s, "sim"))
		return -EINVAL;
	*(const char **)attest = s;
	return 0;
}

/* {"ok": ok, k1: v1, k2: v2} on stdout. */
static void print_json(bool ok, const char *k1, const char *v1, const char *k2, const char *v2)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, k1, json_object_new_string(v1));
	json_object_object_add(o, k2, json_object_new_string(v2));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

static int fail(bool json, const char *check, const char *msg)
{
	if (json)
		print_json(false, "failed_check", check, "message", msg);
	fprintf(stderr, "error: %s (%s)\n", check, msg);
	return 1;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *name = NULL, *attest = "tdx", *spec = "/run/spec";
	int json = 0;
	const struct cm_opt opts[] = {
		CM_OPT_STR("server", 0, &server),
		CM_OPT_STR("key-name", 0, &name),
		CM_OPT_PARSE("attest", 0, &attest, parse_attest, "tdx or sim"),
		CM_OPT_STR("spec", 0, &spec),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_HELP(0),
		CM_OPT_END,
	};
	if (argc < 2 || strcmp(argv[1], "seal-probe"))
		return usage();
	char msg[256];
	switch (cm_opts_parse(argc - 1, argv + 1, opts, msg, sizeof msg)) {
	case CM_OPTS_HELP:
		return usage_to(stdout, 0);
	case CM_OPTS_DONE:
		if (optind == argc - 1)
			break;
		snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[optind + 1]);
		/* fall through */
	default:
		fprintf(stderr, "error: %s (see: cocoon-keys seal-probe --help)\n", msg);
		return 2;
	}
	if (!server || !name)
		return fprintf(stderr, "error: seal-probe needs --server and --key-name (see: cocoon-keys seal-probe --help)\n"), 2;
	struct cm_err e = {0};
	struct ck_seal_conf c;
	struct ck_seal_trust t;
	if (ck_seal_conf_load(spec, &c, &e))
		return fail(json, "seal_config", e.msg);
	if (strlen(server) >= sizeof c.server)
		return fail(json, "seal_config", "server address too long");
	snprintf(c.server, sizeof c.server, "%s", server);
	if (ck_seal_server_allowed(c.server, attest, &e))
		return fail(json, "seal_config", e.msg);
	struct ca_backend *b;
	if (ca_open(attest, NULL, &b, &e))
		return fail(json, "seal_tdreport", e.msg);
	if (ck_seal_trust_load(attest, spec, &t, &e)) {
		ca_close(b);
		return fail(json, "seal_config", e.msg);
	}
	uint8_t key[CK_SEAL_KEY_LEN], fp[32];
	int rc = ck_seal_get_key(b, &c, &t, name, key, &e);
	ck_seal_trust_free(&t);
	ca_close(b);
	if (rc)
		return fail(json, e.check ? e.check : "seal_transport", e.msg);
	cm_sha256(key, sizeof key, fp);
	OPENSSL_cleanse(key, sizeof key);
	char hex[65];
	cm_hex_encode(fp, 32, hex, sizeof hex);
	if (json)
		print_json(true, "key_name", name, "key_sha256", hex);
	else
		printf("key %s sha256 %s\n", name, hex);
	return 0;
}
