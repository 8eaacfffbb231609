/* cocoon-launch registry: read the Cocoon root contract's account data (or a saved
 * get-method result) and say whether a hash is allowed (docs/publishing.md). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "host-launcher/cli/cli.h"
#include "host-launcher/cli/cmd_ton.h"
#include "host-launcher/run.h"
#include "measure/core/json.h"
#include "ton/cocoon.h"
#include "ton/ton.h"

#define STATE_MAX (16u << 20)
#define MAX_NODES (1u << 20)   /* dictionary cells visited per listing */

static const char registry_help[] =
	"usage: cocoon-launch registry --state FILE [--hash H] [--kind worker|proxy|model] [--json]\n\n"
	"Read the Cocoon root contract's state and list the allowed hashes; with --hash, say\n"
	"whether H is allowed (in any dictionary, or in the one --kind names).\n\n"
	"  --state FILE   the account data: a BoC (binary, base64 or hex text), or the JSON of\n"
	"                 toncenter's getAddressInformation (its \"data\" field), or the JSON of a\n"
	"                 runGetMethod call (worker_hash_is_valid, proxy_hash_is_valid,\n"
	"                 model_hash_is_valid: v2 [\"num\",\"-0x1\"] or v3 {\"type\":\"num\",...} stacks)\n"
	"  --hash H       64 hex digits or base64\n"
	"  --kind K       look only in K's dictionary\n"
	"  --json         machine-readable output\n\n"
	"Exit codes: 0 present (or listed without --hash), 5 absent, 1 unreadable or malformed\n"
	"input, 2 usage.\n";

struct list_ctx {
	json_object *arr;
};

static int add_key(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	(void)value;
	json_object_array_add(((struct list_ctx *)ctx)->arr, cm_json_hex(key, n / 8));
	return 0;
}

static int add_proxy(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	(void)n;
	char addr[128], line[CM_ERR_MAX + 160];
	struct cm_err e = { 0 };
	bool ok = !ton_root_proxy_info(value, addr, &e);
	snprintf(line, sizeof(line), "seqno %u: %s%s%s", 
		 (unsigned)key[0] << 24 | (unsigned)key[1] << 16 | (unsigned)key[2] << 8 | key[3],
		 ok ? addr : "(", ok ? "" : e.msg, ok ? "" : ")");
	json_object_array_add(((struct list_ctx *)ctx)->arr, json_object_new_string(line));
	return 0;
}

static void add_u128(json_object *o, const char *key, unsigned __int128 v)
{
	char s[48];
	ton_u128_str(v, s, sizeof(s));
	cm_json_add_str(o, key, s);
}

static json_object *params_json(const struct ton_root_params *p)
{
	json_object *o = json_object_new_object();
	cm_json_add_int(o, "struct_version", p->struct_version);
	cm_json_add_int(o, "params_version", p->params_version);
	cm_json_add_int(o, "unique_id", p->unique_id);
	cm_json_add_bool(o, "is_test", p->is_test);
	add_u128(o, "price_per_token", p->price_per_token);
	add_u128(o, "worker_fee_per_token", p->worker_fee_per_token);
	if (p->struct_version >= 3) {
		cm_json_add_int(o, "prompt_mult", p->prompt_mult);
		cm_json_add_int(o, "completion_mult", p->completion_mult);
	}
	if (p->struct_version >= 2) {
		cm_json_add_int(o, "cached_mult", p->cached_mult);
		cm_json_add_int(o, "reasoning_mult", p->reasoning_mult);
	}
	cm_json_add_int(o, "proxy_delay_before_close", p->proxy_delay_before_close);
	cm_json_add_int(o, "client_delay_before_close", p->client_delay_before_close);
	if (p->struct_version >= 1) {
		add_u128(o, "min_proxy_stake", p->min_proxy_stake);
		add_u128(o, "min_client_stake", p->min_client_stake);
	}
	cm_json_add_bool(o, "proxy_sc_code", p->proxy_code);
	cm_json_add_bool(o, "worker_sc_code", p->worker_code);
	cm_json_add_bool(o, "client_sc_code", p->client_code);
	return o;
}

/* The state: every field, every list; with a hash, where it is. */
static int from_state(const uint8_t *boc, size_t len, const uint8_t *hash, int kind, json_object *res)
{
	struct ton_arena *a = ton_arena_new();
	struct ton_cell *root;
	struct ton_root_state st;
	struct cm_err e = { 0 };
	int rc = CL_EXIT_OK;
	if (!a || ton_boc_read(a, boc, len, &root, 1, &e) != 1 || ton_root_state_parse(root, &st, &e)) {
		rc = cm_cli_error(CL_EXIT_FAIL, "state: %s", a ? e.msg : "out of memory");
		goto out;
	}
	char s[80];
	ton_addr_friendly(&st.owner, TON_ADDR_BOUNCEABLE | TON_ADDR_URLSAFE, s, sizeof(s));
	cm_json_add_str(res, "owner", s);
	ton_addr_raw(&st.owner, s, sizeof(s));
	cm_json_add_str(res, "owner_raw", s);
	cm_json_add_int(res, "version", st.version);
	cm_json_add_int(res, "last_proxy_seqno", st.last_proxy_seqno);
	json_object_object_add(res, "params", params_json(&st.params));
	if (st.note[0])
		cm_json_add_str(res, "note", st.note);
	static const char *const dict_names[TON_KIND_N] = { "worker_hashes", "proxy_hashes", "model_hashes" };
	for (int k = 0; k < TON_KIND_N && !rc; k++) {
		struct list_ctx c = { json_object_new_array() };
		json_object_object_add(res, dict_names[k], c.arr);
		if (ton_dict_foreach(st.hashes[k], 256, MAX_NODES, add_key, &c, &e))
			rc = cm_cli_error(CL_EXIT_FAIL, "state: %s: %s", dict_names[k], e.msg);
	}
	struct list_ctx c = { json_object_new_array() };
	json_object_object_add(res, "registered_proxies", c.arr);
	if (!rc && ton_dict_foreach(st.registered_proxies, 32, MAX_NODES, add_proxy, &c, &e))
		rc = cm_cli_error(CL_EXIT_FAIL, "state: registered_proxies: %s", e.msg);
	if (st.has_keys) {
		struct list_ctx pk = { json_object_new_array() };
		json_object_object_add(res, "public_keys", pk.arr);
		cm_json_add_hex(res, "key_manager_pubkey", st.key_manager_pubkey, 32);
		if (!rc && ton_dict_foreach(st.public_keys, 256, MAX_NODES, add_key, &pk, &e))
			rc = cm_cli_error(CL_EXIT_FAIL, "state: public_keys: %s", e.msg);
	}
	if (rc || !hash)
		goto out;
	json_object *in = json_object_new_array();
	for (int k = 0; k < TON_KIND_N; k++) {
		bool present;
		if (kind >= 0 && k != kind)
			continue;
		if (ton_root_state_has(&st, (enum ton_root_kind)k, hash, &present, &e)) {
			json_object_put(in);
			rc = cm_cli_error(CL_EXIT_FAIL, "state: %s", e.msg);
			goto out;
		}
		if (present)
			json_object_array_add(in, json_object_new_string(dict_names[k]));
	}
	bool found = json_object_array_length(in) > 0;
	cm_json_add_bool(res, "present", found);
	json_object_object_add(res, "found_in", in);
	rc = found ? CL_EXIT_OK : CL_EXIT_ABSENT;
out:
	ton_arena_free(a);
	return rc;
}

/* A get-method result: toncenter v2 {"ok":..,"result":{"stack":[["num","-0x1"]],"exit_code":0}}
 * or v3 {"stack":[{"type":"num","value":"-0x1"}],"exit_code":0}. */
static int from_get_method(json_object *r, json_object *res)
{
	json_object *stack = json_object_object_get(r, "stack"), *ec = json_object_object_get(r, "exit_code");
	if (ec && json_object_get_int(ec) != 0)
		return cm_cli_error(CL_EXIT_FAIL, "get-method result: exit_code %d (the method failed)",
				 json_object_get_int(ec));
	if (!json_object_is_type(stack, json_type_array) || json_object_array_length(stack) != 1)
		return cm_cli_error(CL_EXIT_FAIL, "get-method result: want a stack of one number (a *_hash_is_valid call)");
	json_object *item = json_object_array_get_idx(stack, 0), *type, *val;
	if (json_object_is_type(item, json_type_array) && json_object_array_length(item) == 2) {
		type = json_object_array_get_idx(item, 0);
		val = json_object_array_get_idx(item, 1);
	} else {
		type = json_object_object_get(item, "type");
		val = json_object_object_get(item, "value");
	}
	const char *t = json_object_get_string(type), *v = json_object_get_string(val);
	if (!t || strcmp(t, "num") || !v)
		return cm_cli_error(CL_EXIT_FAIL, "get-method result: the stack entry is not a number");
	bool present;
	if (!strcmp(v, "-0x1") || !strcmp(v, "-1"))
		present = true;
	else if (!strcmp(v, "0x0") || !strcmp(v, "0"))
		present = false;
	else
		return cm_cli_error(CL_EXIT_FAIL, "get-method result: %s is neither -1 (present) nor 0 (absent)", v);
	cm_json_add_str(res, "source", "get-method result");
	cm_json_add_bool(res, "present", present);
	cm_json_add_str(res, "note", "a get-method result does not name the hash it was asked about: it answers "
		       "for the hash and method of the query that produced it");
	return present ? CL_EXIT_OK : CL_EXIT_ABSENT;
}

static bool is_hex_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n % 2 == 0 && n > 0;
}

static int run(const char *path, const uint8_t *hash, int kind, json_object *res)
{
	uint8_t *buf, *dec = NULL;
	size_t len, dlen;
	struct cm_err e = { 0 };
	if (cm_read_file(path, STATE_MAX, &buf, &len, &e))
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	int rc;
	if (len >= 4 && !memcmp(buf, "\xb5\xee\x9c\x72", 4)) {
		rc = from_state(buf, len, hash, kind, res);
		goto out;
	}
	char *s = (char *)buf; /* NUL-terminated by cm_read_file */
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = 0;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	if (len && *s == '{') {
		struct cm_jv doc;
		if (cm_json_read(s, len, STATE_MAX, path, &doc, &e)) {
			rc = cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
			goto out;
		}
		json_object *j = doc.o, *r = NULL, *ok, *data;
		if (json_object_object_get_ex(j, "ok", &ok) && !json_object_get_boolean(ok)) {
			rc = cm_cli_error(CL_EXIT_FAIL, "%s: the API reported an error: %s", path,
				       json_object_get_string(json_object_object_get(j, "error")));
		} else {
			r = json_object_object_get_ex(j, "result", &r) ? r : j;
			if (json_object_object_get_ex(r, "stack", NULL))
				rc = from_get_method(r, res);
			else if (json_object_object_get_ex(r, "data", &data) &&
				 !ton_base64_decode(json_object_get_string(data), strlen(json_object_get_string(data)), &dec,
						    &dlen))
				rc = from_state(dec, dlen, hash, kind, res);
			else
				rc = cm_cli_error(CL_EXIT_FAIL, "%s: JSON with neither a get-method \"stack\" nor base64 "
					       "account \"data\"", path);
		}
		cm_json_release(&doc);
	} else if (is_hex_text(s, len)) {
		dec = malloc(len / 2);
		rc = dec && !cm_hex_decode(s, len, dec, len / 2, &dlen) ? from_state(dec, dlen, hash, kind, res)
								       : cm_cli_error(CL_EXIT_FAIL, "%s: bad hex", path);
	} else if (!ton_base64_decode(s, len, &dec, &dlen)) {
		rc = from_state(dec, dlen, hash, kind, res);
	} else {
		rc = cm_cli_error(CL_EXIT_FAIL, "%s: neither a BoC (binary, base64, hex) nor JSON", path);
	}
out:
	free(dec);
	free(buf);
	return rc;
}

/* --kind: worker, proxy or model, as the int of enum ton_root_kind (-1 = not given). */
static int parse_kind(const char *s, void *kind)
{
	enum ton_root_kind k;
	if (ton_root_kind_parse(s, &k))
		return -EINVAL;
	*(int *)kind = (int)k;
	return 0;
}

int cl_cmd_registry(int argc, char **argv)
{
	const char *state = NULL, *hs = NULL;
	int json = 0, kind = -1, rc;
	uint8_t hash[32];
	const struct cm_opt opts[] = {
		CM_OPT_STR("state", 0, &state),
		CM_OPT_STR("hash", 0, &hs),
		CM_OPT_PARSE("kind", 0, &kind, parse_kind, "worker, proxy or model"),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_HELP(0),
		CM_OPT_END,
	};
	if (cli_parse_opts("registry", argc, argv, opts, registry_help, &rc))
		return rc;
	if (optind != argc)
		return cli_usage_error("registry", "unexpected argument", argv[optind]);
	if (!state)
		return cli_usage_error("registry", "--state FILE is required", NULL);
	if (hs && cl_ton_hash_arg(hs, hash))
		return cli_usage_error("registry", "--hash wants 64 hex digits or base64 of 32 bytes", hs);
	json_object *res = json_object_new_object();
	if (hs)
		cm_json_add_hex(res, "hash", hash, 32);
	rc = run(state, hs ? hash : NULL, kind, res);
	if (rc == CL_EXIT_OK || rc == CL_EXIT_ABSENT) {
		if (cm_json_emit(res, json, stdout))
			rc = cm_cli_error(CL_EXIT_FAIL, "cannot write output");
	}
	json_object_put(res);
	return rc;
}
