/* Strict parser of the appliance spec (json-c). */
#include "guest/init/appspec.h"
#include "guest/keys/keys.h" /* CK_APP_KEY_ENV */

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CI_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Reject members outside allowed[]. */
static int only_keys(json_object *o, const char *const *allowed, const char *where, struct cm_err *e)
{
	json_object_object_foreach(o, key, val)
	{
		(void)val;
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				ok = true;
		if (!ok)
			return cm_fail(e, -EINVAL, "%s: unknown key \"%.40s\"", where, key);
	}
	return 0;
}

static int get_str(json_object *o, const char *key, bool required, const char **out, const char *where,
		   struct cm_err *e)
{
	json_object *v;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return cm_fail(e, -EINVAL, "%s: missing \"%s\"", where, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return cm_fail(e, -EINVAL, "%s: \"%s\" must be a string", where, key);
	*out = json_object_get_string(v);
	if (!printable(*out))
		return cm_fail(e, -EINVAL, "%s: \"%s\" has non-printable characters", where, key);
	return 0;
}

static int get_uint(json_object *o, const char *key, bool required, uint64_t max, uint64_t *out, bool *present,
		    const char *where, struct cm_err *e)
{
	json_object *v;
	if (present)
		*present = false;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			return cm_fail(e, -EINVAL, "%s: missing \"%s\"", where, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return cm_fail(e, -EINVAL, "%s: \"%s\" must be an integer", where, key);
	errno = 0;
	int64_t i = json_object_get_int64(v);
	if (errno != 0 || i < 0 || (uint64_t)i > max)
		return cm_fail(e, -ERANGE, "%s: \"%s\" out of range 0..%llu", where, key, (unsigned long long)max);
	/* json-c clamps huge values to INT64_MAX; refuse anything at the clamp. */
	if (i == INT64_MAX)
		return cm_fail(e, -ERANGE, "%s: \"%s\" too large", where, key);
	*out = (uint64_t)i;
	if (present)
		*present = true;
	return 0;
}

static int str_array(json_object *o, const char *key, char **out, int max, bool required, int *count,
		     const char *where, struct cm_err *e)
{
	json_object *arr;
	*count = 0;
	if (!json_object_object_get_ex(o, key, &arr)) {
		if (required)
			return cm_fail(e, -EINVAL, "%s: missing \"%s\"", where, key);
		return 0;
	}
	if (!json_object_is_type(arr, json_type_array))
		return cm_fail(e, -EINVAL, "%s: \"%s\" must be an array of strings", where, key);
	size_t n = json_object_array_length(arr);
	if (n > (size_t)max)
		return cm_fail(e, -E2BIG, "%s: \"%s\" has more than %d entries", where, key, max);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string))
			return cm_fail(e, -EINVAL, "%s: %s[%zu] must be a string", where, key, i);
		const char *s = json_object_get_string(v);
		if (!printable(s))
			return cm_fail(e, -EINVAL, "%s: %s[%zu] has non-printable characters", where, key, i);
		if (out) {
			out[i] = strdup(s);
			if (!out[i])
				return cm_fail(e, -ENOMEM, "out of memory");
		}
		(*count)++;
	}
	return 0;
}

/* The common head of a named list entry (services[i], models[i]): an object with only the
 * allowed keys and a valid "name", copied to name (CI_NAME_MAX + 1 bytes); where becomes
 * "<kind> <name>" for the messages that follow. */
static int parse_named(json_object *o, const char *const *keys, const char *list, const char *kind, int idx,
		       char *name, char *where, size_t wheresz, struct cm_err *e)
{
	snprintf(where, wheresz, "%s[%d]", list, idx);
	if (!json_object_is_type(o, json_type_object))
		return cm_fail(e, -EINVAL, "%s must be an object", where);
	int r = only_keys(o, keys, where, e);
	if (r < 0)
		return r;
	const char *s;
	if ((r = get_str(o, "name", true, &s, where, e)) < 0)
		return r;
	if (!valid_name(s))
		return cm_fail(e, -EINVAL, "%s: name \"%.40s\" must be 1..%d of [a-z0-9_-]", where, s, CI_NAME_MAX);
	snprintf(name, CI_NAME_MAX + 1, "%s", s);
	snprintf(where, wheresz, "%s %s", kind, name);
	return 0;
}

static int parse_service(json_object *o, struct ci_service *sv, int idx, struct cm_err *e)
{
	static const char *const keys[] = {"name", "argv", "env", "restart", "backoff_ms", "after", NULL};
	char where[64];
	int r = parse_named(o, keys, "services", "service", idx, sv->name, where, sizeof where, e);
	if (r < 0)
		return r;
	const char *s;
	int n;
	if ((r = str_array(o, "argv", sv->argv, CI_MAX_ARGS, true, &n, where, e)) < 0)
		return r;
	if (n == 0 || sv->argv[0][0] != '/')
		return cm_fail(e, -EINVAL, "%s: argv[0] must be an absolute path", where);
	if ((r = str_array(o, "env", sv->env, CI_SPEC_MAX_ENV, false, &n, where, e)) < 0)
		return r;
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(sv->env[i], '=');
		if (!eq || eq == sv->env[i])
			return cm_fail(e, -EINVAL, "%s: env[%d] must be KEY=value", where, i);
		if (strncmp(sv->env[i], CK_APP_KEY_ENV "=", sizeof CK_APP_KEY_ENV) == 0)
			return cm_fail(e, -EINVAL, "%s: env[%d]: " CK_APP_KEY_ENV " is set by cocoon-init", where, i);
	}
	sv->restart = CI_RESTART_ON_FAILURE;
	if ((r = get_str(o, "restart", false, &s, where, e)) < 0)
		return r;
	if (s) {
		if (strcmp(s, "always") == 0)
			sv->restart = CI_RESTART_ALWAYS;
		else if (strcmp(s, "on-failure") == 0)
			sv->restart = CI_RESTART_ON_FAILURE;
		else if (strcmp(s, "no") == 0)
			sv->restart = CI_RESTART_NO;
		else
			return cm_fail(e, -EINVAL, "%s: restart must be always, on-failure or no", where);
	}
	uint64_t v;
	bool present;
	if ((r = get_uint(o, "backoff_ms", false, CI_BACKOFF_MAX_MS, &v, &present, where, e)) < 0)
		return r;
	sv->backoff_ms = present ? (unsigned)v : CI_BACKOFF_DEFAULT_MS;
	if (sv->backoff_ms == 0)
		sv->backoff_ms = 1;
	return 0;
}

static int find_service(const struct ci_spec *s, const char *name)
{
	for (int i = 0; i < s->n_services; i++)
		if (strcmp(s->services[i].name, name) == 0)
			return i;
	return -1;
}

static int resolve_after(json_object *arr_parent, struct ci_spec *s, int idx, struct cm_err *e)
{
	char *names[CI_MAX_AFTER] = {0};
	int n = 0;
	char where[64];
	snprintf(where, sizeof where, "service %s", s->services[idx].name);
	int r = str_array(arr_parent, "after", names, CI_MAX_AFTER, false, &n, where, e);
	for (int i = 0; r == 0 && i < n; i++) {
		int j = find_service(s, names[i]);
		if (j < 0)
			r = cm_fail(e, -EINVAL, "%s: after names unknown service \"%.40s\"", where, names[i]);
		else if (j == idx)
			r = cm_fail(e, -EINVAL, "%s: cannot start after itself", where);
		else
			s->services[idx].after[s->services[idx].n_after++] = j;
	}
	for (int i = 0; i < CI_MAX_AFTER; i++)
		free(names[i]);
	return r;
}

/* Kahn's algorithm, stable (lowest index first among ready services). */
static int topo_order(struct ci_spec *s, struct cm_err *e)
{
	bool placed[CI_MAX_SERVICES] = {false};
	for (int k = 0; k < s->n_services; k++) {
		int pick = -1;
		for (int i = 0; i < s->n_services && pick < 0; i++) {
			if (placed[i])
				continue;
			bool ready = true;
			for (int a = 0; a < s->services[i].n_after; a++)
				if (!placed[s->services[i].after[a]])
					ready = false;
			if (ready)
				pick = i;
		}
		if (pick < 0)
			return cm_fail(e, -ELOOP, "services: dependency cycle among \"after\" lists");
		placed[pick] = true;
		s->order[k] = pick;
	}
	return 0;
}

static int parse_model(json_object *o, struct ci_model *m, int idx, struct cm_err *e)
{
	static const char *const keys[] = {"name", "roothash", "data_blocks", "serial", "hash_serial", NULL};
	char where[64];
	int r = parse_named(o, keys, "models", "model", idx, m->name, where, sizeof where, e);
	if (r < 0)
		return r;
	const char *s;
	if ((r = get_str(o, "roothash", true, &s, where, e)) < 0)
		return r;
	if (strlen(s) != 64 || cm_hex_decode_exact(s, 64, m->roothash, 32) < 0)
		return cm_fail(e, -EINVAL, "%s: roothash must be 64 hex digits", where);
	cm_hex_encode(m->roothash, 32, m->roothash_hex, sizeof m->roothash_hex);
	uint64_t v;
	if ((r = get_uint(o, "data_blocks", true, (UINT64_MAX / 4096) - 1, &v, NULL, where, e)) < 0)
		return r;
	if (v == 0)
		return cm_fail(e, -EINVAL, "%s: data_blocks must be positive", where);
	m->data_blocks = v;
	if ((r = get_str(o, "serial", false, &s, where, e)) < 0)
		return r;
	if (!s) {
		if (snprintf(m->serial, sizeof m->serial, "model-%s", m->name) >= (int)sizeof m->serial)
			return cm_fail(e, -EINVAL, "%s: default serial model-%s is longer than 20 bytes; set \"serial\"",
				       where, m->name);
	} else if (strlen(s) == 0 || strlen(s) > 20) {
		return cm_fail(e, -EINVAL, "%s: serial must be 1..20 bytes", where);
	} else {
		snprintf(m->serial, sizeof m->serial, "%s", s);
	}
	if ((r = get_str(o, "hash_serial", false, &s, where, e)) < 0)
		return r;
	if (s) {
		if (strlen(s) == 0 || strlen(s) > 20)
			return cm_fail(e, -EINVAL, "%s: hash_serial must be 1..20 bytes", where);
		if (strcmp(s, m->serial) == 0)
			return cm_fail(e, -EINVAL, "%s: hash_serial equals serial (omit it for an appended tree)", where);
		snprintf(m->hash_serial, sizeof m->hash_serial, "%s", s);
	}
	return 0;
}

/* "network": {"interface": "eth0", "address": "10.0.2.15/24", "gateway": "10.0.2.2"} */
static int parse_network(json_object *v, struct ci_net *n, struct cm_err *e)
{
	static const char *const nkeys[] = {"interface", "address", "gateway", NULL};
	const char *str;
	int r;
	if (!json_object_is_type(v, json_type_object))
		return cm_fail(e, -EINVAL, "spec: network must be an object");
	if ((r = only_keys(v, nkeys, "network", e)) < 0 || (r = get_str(v, "interface", true, &str, "network", e)) < 0)
		return r;
	size_t l = strlen(str);
	if (l == 0 || l >= sizeof n->ifname || strspn(str, "abcdefghijklmnopqrstuvwxyz0123456789") != l)
		return cm_fail(e, -EINVAL, "network: interface must be 1..15 of [a-z0-9]");
	memcpy(n->ifname, str, l + 1);
	if ((r = get_str(v, "address", true, &str, "network", e)) < 0 ||
	    (r = ci_net_parse_cidr(str, &n->addr, &n->prefix, e)) < 0)
		return r;
	if ((r = get_str(v, "gateway", false, &str, "network", e)) < 0)
		return r;
	if (str) {
		unsigned p;
		char buf[24];
		/* the whole string: "%.15s" made "192.168.100.200junk" the address 192.168.100.200 */
		if (snprintf(buf, sizeof buf, "%s/32", str) >= (int)sizeof buf ||
		    (r = ci_net_parse_cidr(buf, &n->gateway, &p, e)) < 0)
			return cm_fail(e, -EINVAL, "network: gateway \"%s\" is not an IPv4 address", str);
	}
	n->configured = true;
	return 0;
}

int ci_spec_parse(const char *json, size_t len, struct ci_spec *s, struct cm_err *e)
{
	memset(s, 0, sizeof *s);
	if (len > CI_SPEC_MAX_BYTES)
		return cm_fail(e, -E2BIG, "spec larger than %d bytes", CI_SPEC_MAX_BYTES);
	if (memchr(json, '\0', len))
		return cm_fail(e, -EINVAL, "spec contains a NUL byte");
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return cm_fail(e, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *root = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		return cm_fail(e, -EINVAL, "spec is not valid JSON (%s at byte %zu)", json_tokener_error_desc(jerr), used);
	}
	for (size_t i = used; i < len; i++)
		if (!isspace((unsigned char)json[i])) {
			json_object_put(root);
			return cm_fail(e, -EINVAL, "spec: trailing data at byte %zu", i);
		}
	int r = 0;
	static const char *const keys[] = {"version", "services", "models", "gpu", "persistent", "network", NULL};
	json_object *v;
	uint64_t ver;
	const char *str;
	if (!json_object_is_type(root, json_type_object)) {
		r = cm_fail(e, -EINVAL, "spec: top level must be an object");
		goto out;
	}
	if ((r = only_keys(root, keys, "spec", e)) < 0)
		goto out;
	if ((r = get_uint(root, "version", true, 1000, &ver, NULL, "spec", e)) < 0)
		goto out;
	if (ver != 1) {
		r = cm_fail(e, -EINVAL, "spec: version %llu not supported (expected 1)", (unsigned long long)ver);
		goto out;
	}
	if ((r = get_str(root, "gpu", false, &str, "spec", e)) < 0)
		goto out;
	if (str && strcmp(str, "required") == 0)
		s->gpu_required = true;
	else if (str && strcmp(str, "off") != 0) {
		r = cm_fail(e, -EINVAL, "spec: gpu must be required or off");
		goto out;
	}
	if (json_object_object_get_ex(root, "network", &v) && (r = parse_network(v, &s->network, e)) < 0)
		goto out;
	if (json_object_object_get_ex(root, "persistent", &v)) {
		static const char *const pkeys[] = {"mount", "integrity", NULL};
		if (!json_object_is_type(v, json_type_object)) {
			r = cm_fail(e, -EINVAL, "spec: persistent must be an object");
			goto out;
		}
		if ((r = only_keys(v, pkeys, "persistent", e)) < 0 ||
		    (r = get_str(v, "mount", false, &str, "persistent", e)) < 0)
			goto out;
		if (!str)
			str = "/data";
		if (str[0] != '/' || strlen(str) >= sizeof s->persistent_mount || strstr(str, "..") ||
		    strcmp(str, "/") == 0) {
			r = cm_fail(e, -EINVAL, "persistent: mount must be an absolute path without \"..\"");
			goto out;
		}
		json_object *in = NULL;
		s->persistent_integrity = true;
		if (json_object_object_get_ex(v, "integrity", &in)) {
			if (!json_object_is_type(in, json_type_boolean)) {
				r = cm_fail(e, -EINVAL, "persistent: integrity must be true or false");
				goto out;
			}
			s->persistent_integrity = json_object_get_boolean(in);
		}
		s->persistent = true;
		snprintf(s->persistent_mount, sizeof s->persistent_mount, "%s", str);
	}
	if (json_object_object_get_ex(root, "models", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			r = cm_fail(e, -EINVAL, "spec: models must be an array");
			goto out;
		}
		size_t n = json_object_array_length(v);
		if (n > CI_MAX_MODELS) {
			r = cm_fail(e, -E2BIG, "spec: more than %d models", CI_MAX_MODELS);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if ((r = parse_model(json_object_array_get_idx(v, i), &s->models[i], (int)i, e)) < 0)
				goto out;
			s->n_models++;
			for (int j = 0; j < (int)i; j++)
				if (strcmp(s->models[j].name, s->models[i].name) == 0 ||
				    strcmp(s->models[j].serial, s->models[i].serial) == 0) {
					r = cm_fail(e, -EINVAL, "spec: models %s and %s share a name or serial",
						    s->models[j].name, s->models[i].name);
					goto out;
				}
		}
	}
	if (json_object_object_get_ex(root, "services", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			r = cm_fail(e, -EINVAL, "spec: services must be an array");
			goto out;
		}
		size_t n = json_object_array_length(v);
		if (n > CI_MAX_SERVICES) {
			r = cm_fail(e, -E2BIG, "spec: more than %d services", CI_MAX_SERVICES);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if ((r = parse_service(json_object_array_get_idx(v, i), &s->services[i], (int)i, e)) < 0) {
				s->n_services = (int)i + 1; /* free what was allocated */
				goto out;
			}
			s->n_services++;
			if (find_service(s, s->services[i].name) != (int)i) {
				r = cm_fail(e, -EINVAL, "spec: two services named %s", s->services[i].name);
				goto out;
			}
		}
		for (size_t i = 0; i < n; i++)
			if ((r = resolve_after(json_object_array_get_idx(v, i), s, (int)i, e)) < 0)
				goto out;
		if ((r = topo_order(s, e)) < 0)
			goto out;
	}
out:
	json_object_put(root);
	if (r < 0)
		ci_spec_free(s);
	return r;
}

int ci_spec_load(const char *dir, struct ci_spec *s, struct cm_err *e)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	memset(s, 0, sizeof *s);
	snprintf(path, sizeof path, "%s/%s", dir, CI_SPEC_FILE);
	int r = cm_read_file(path, CI_SPEC_MAX_BYTES, &buf, &len, e);
	if (r < 0)
		return r;
	r = ci_spec_parse((const char *)buf, len, s, e);
	free(buf);
	if (r < 0)
		cm_err_prefix(e, "%s", path);
	return r;
}

int ci_spec_add_env(struct ci_spec *s, const char *kv, struct cm_err *e)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return cm_fail(e, -EINVAL, "environment entry must be KEY=value");
	for (int i = 0; i < s->n_services; i++) {
		struct ci_service *sv = &s->services[i];
		int n = 0;
		while (n < CI_MAX_ENV && sv->env[n])
			n++;
		if (n >= CI_MAX_ENV)
			return cm_fail(e, -E2BIG, "service %s: no free environment slot for %.*s", sv->name,
				       (int)(eq - kv), kv);
		if (!(sv->env[n] = strdup(kv)))
			return cm_fail(e, -ENOMEM, "out of memory");
	}
	return 0;
}

void ci_spec_free(struct ci_spec *s)
{
	for (int i = 0; i < CI_MAX_SERVICES; i++) {
		for (int j = 0; j < CI_MAX_ARGS && s->services[i].argv[j]; j++) {
			free(s->services[i].argv[j]);
			s->services[i].argv[j] = NULL;
		}
		for (int j = 0; j < CI_MAX_ENV && s->services[i].env[j]; j++) {
			explicit_bzero(s->services[i].env[j], strlen(s->services[i].env[j])); /* APP_KEY */
			free(s->services[i].env[j]);
			s->services[i].env[j] = NULL;
		}
	}
}
