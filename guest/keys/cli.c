/* cocoon-keys: key provider tools for operators and tests.
 *
 *   cocoon-keys seal-probe --server vsock:CID:PORT|tcp:HOST:PORT|unix:PATH --key-name NAME
 *                          [--attest tdx|sim] [--spec DIR] [--json]
 *
 * Runs the cocoon-seal client once (docs/keys.md): the allowlist and ISV settings come from
 * DIR/keys/cocoon-seal.json (default /run/spec), the server from --server. Prints the
 * key's SHA-256 fingerprint, never the key. Exit 0 ok, 1 a check failed (named), 2 usage. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "guest/attest/attest.h"
#include "guest/keys/seal.h"
#include "measure/core/digest.h"

static int usage(void)
{
	fprintf(stderr, "usage: cocoon-keys seal-probe --server vsock:CID:PORT|tcp:HOST:PORT|unix:PATH --key-name NAME\n"
			"                              [--attest tdx|sim] [--spec DIR] [--json]\n");
	return 2;
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
	bool json = false;
	if (argc < 2 || strcmp(argv[1], "seal-probe"))
		return usage();
	for (int i = 2; i < argc; i++) {
		const char **slot = !strcmp(argv[i], "--server")     ? &server
				    : !strcmp(argv[i], "--key-name") ? &name
				    : !strcmp(argv[i], "--attest")   ? &attest
				    : !strcmp(argv[i], "--spec")     ? &spec
								     : NULL;
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!slot || i + 1 >= argc)
			return usage();
		else
			*slot = argv[++i];
	}
	if (!server || !name || (strcmp(attest, "tdx") && strcmp(attest, "sim")))
		return usage();
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
