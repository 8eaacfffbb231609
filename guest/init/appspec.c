/* Strict parser of the appliance spec (json-c). */
#include "guest/init/appspec.h"
#include "guest/cmdline/cmdline.h" /* CI_VERITY_BLOCK */
#include "guest/keys/keys.h"       /* CK_APP_KEY_ENV */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/json.h"
#include "measure/gpu/gpu.h"
#include "measure/predict/predict_image.h" /* cm_spec_gpu_member */

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

static int get_str(const struct cm_jv *o, const char *key, bool required, const char **out, struct cm_err *e)
{
	struct cm_jv v;
	*out = NULL;
	if (!cm_jv_get(o, key, &v))
		return required ? cm_jv_fail(&v, e, -EINVAL, "missing") : 0;
	int r = cm_jv_str(&v, 0, CI_SPEC_MAX_BYTES, out, e);
	if (r == 0 && !printable(*out))
		r = cm_jv_fail(&v, e, -EINVAL, "has non-printable characters");
	return r;
}

static int get_uint(const struct cm_jv *o, const char *key, bool required, uint64_t max, uint64_t *out,
		    bool *present, struct cm_err *e)
{
	struct cm_jv v;
	if (present)
		*present = false;
	if (!cm_jv_get(o, key, &v))
		return required ? cm_jv_fail(&v, e, -EINVAL, "missing") : 0;
	int64_t i;
	int r = cm_jv_int(&v, 0, (int64_t)max, &i, e);
	if (r < 0)
		return r;
	*out = (uint64_t)i;
	if (present)
		*present = true;
	return 0;
}

static int str_array(const struct cm_jv *o, const char *key, char **out, int max, bool required, int *count,
		     struct cm_err *e)
{
	struct cm_jv arr;
	size_t n;
	*count = 0;
	if (!cm_jv_get(o, key, &arr))
		return required ? cm_jv_fail(&arr, e, -EINVAL, "missing") : 0;
	int r = cm_jv_array(&arr, 0, (size_t)max, &n, e);
	for (size_t i = 0; i < n && r == 0; i++) {
		struct cm_jv v = cm_jv_elem(&arr, i);
		const char *s;
		if ((r = cm_jv_str(&v, 0, CI_SPEC_MAX_BYTES, &s, e)) < 0)
			break;
		if (!printable(s))
			return cm_jv_fail(&v, e, -EINVAL, "has non-printable characters");
		if (out && !(out[i] = strdup(s)))
			return cm_fail(e, -ENOMEM, "out of memory");
		(*count)++;
	}
	return r;
}

/* The common head of a list entry (services[i], models[i]): an object with only the allowed
 * keys and a valid "name", copied to name (CI_NAME_MAX + 1 bytes). */
static int parse_named(const struct cm_jv *o, const char *const *keys, char *name, struct cm_err *e)
{
	int r = cm_jv_object(o, keys, e);
	if (r < 0)
		return r;
	const char *s;
	if ((r = get_str(o, "name", true, &s, e)) < 0)
		return r;
	if (!valid_name(s))
		return cm_jv_fail(o, e, -EINVAL, "name \"%.40s\" must be 1..%d of [a-z0-9_-]", s, CI_NAME_MAX);
	snprintf(name, CI_NAME_MAX + 1, "%s", s);
	return 0;
}

static int parse_service(const struct cm_jv *o, struct ci_service *sv, struct cm_err *e)
{
	static const char *const keys[] = {"name", "argv", "env", "restart", "backoff_ms", "after", NULL};
	int r = parse_named(o, keys, sv->name, e);
	if (r < 0)
		return r;
	const char *s;
	int n;
	if ((r = str_array(o, "argv", sv->argv, CI_MAX_ARGS, true, &n, e)) < 0)
		return r;
	if (n == 0 || sv->argv[0][0] != '/')
		return cm_jv_fail(o, e, -EINVAL, "argv[0] must be an absolute path");
	if ((r = str_array(o, "env", sv->env, CI_SPEC_MAX_ENV, false, &n, e)) < 0)
		return r;
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(sv->env[i], '=');
		if (!eq || eq == sv->env[i])
			return cm_jv_fail(o, e, -EINVAL, "env[%d] must be KEY=value", i);
		if (strncmp(sv->env[i], CK_APP_KEY_ENV "=", sizeof CK_APP_KEY_ENV) == 0)
			return cm_jv_fail(o, e, -EINVAL, "env[%d]: " CK_APP_KEY_ENV " is set by cocoon-init", i);
	}
	sv->restart = CI_RESTART_ON_FAILURE;
	if ((r = get_str(o, "restart", false, &s, e)) < 0)
		return r;
	if (s) {
		if (strcmp(s, "always") == 0)
			sv->restart = CI_RESTART_ALWAYS;
		else if (strcmp(s, "on-failure") == 0)
			sv->restart = CI_RESTART_ON_FAILURE;
		else if (strcmp(s, "no") == 0)
			sv->restart = CI_RESTART_NO;
		else
			return cm_jv_fail(o, e, -EINVAL, "restart must be always, on-failure or no");
	}
	uint64_t v;
	bool present;
	if ((r = get_uint(o, "backoff_ms", false, CI_BACKOFF_MAX_MS, &v, &present, e)) < 0)
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

static int resolve_after(const struct cm_jv *o, struct ci_spec *s, int idx, struct cm_err *e)
{
	char *names[CI_MAX_AFTER] = {0};
	int n = 0;
	int r = str_array(o, "after", names, CI_MAX_AFTER, false, &n, e);
	for (int i = 0; r == 0 && i < n; i++) {
		int j = find_service(s, names[i]);
		if (j < 0)
			r = cm_jv_fail(o, e, -EINVAL, "after names unknown service \"%.40s\"", names[i]);
		else if (j == idx)
			r = cm_jv_fail(o, e, -EINVAL, "service %s cannot start after itself", s->services[idx].name);
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

/* "encrypted": {"model": "name@commit:<roothash>", "key_bytes": 32|64,
 *   "keyserver": {"address": "tcp:HOST:PORT", "public_key": "<hex>", "timeout_ms": N}} */
static int parse_encrypted(const struct cm_jv *o, struct ci_model *m, struct cm_err *e)
{
	static const char *const keys[] = {"model", "key_bytes", "keyserver", NULL};
	static const char *const kkeys[] = {"address", "public_key", "image_hashes", "timeout_ms", NULL};
	struct cm_jv v, ks;
	uint64_t n = 0;
	bool present;
	const char *s, *at;
	int r;
	if ((r = cm_jv_object(o, keys, e)) < 0 || (r = cm_jv_need(o, "model", &v, e)) < 0 ||
	    (r = cm_jv_strcpy(&v, m->model_string, sizeof m->model_string, e)) < 0)
		return r;
	/* The model string names this volume: its root is the spec's roothash (the key server
	 * checks the rest of the format). */
	at = strchr(m->model_string, '@');
	s = at ? strchr(at, ':') : NULL;
	if (!at || strncmp(m->model_string, m->name, (size_t)(at - m->model_string)) != 0 ||
	    (size_t)(at - m->model_string) != strlen(m->name) || !s || s == at + 1 || strcmp(s + 1, m->roothash_hex) != 0)
		return cm_jv_fail(&v, e, -EINVAL, "must be %s@<commit>:%s (the model's name and roothash)", m->name,
				  m->roothash_hex);
	if ((r = get_uint(o, "key_bytes", true, 64, &n, NULL, e)) < 0)
		return r;
	if (n != 32 && n != 64)
		return cm_jv_fail(o, e, -EINVAL, "key_bytes must be 32 or 64");
	m->key_bytes = (unsigned)n;
	if ((r = cm_jv_need(o, "keyserver", &ks, e)) < 0 || (r = cm_jv_object(&ks, kkeys, e)) < 0 ||
	    (r = get_str(&ks, "address", true, &s, e)) < 0)
		return r;
	if ((strncmp(s, "tcp:", 4) && strncmp(s, "vsock:", 6)) || strlen(s) >= sizeof m->ks_address)
		return cm_jv_fail(&ks, e, -EINVAL, "address must be tcp:HOST:PORT or vsock:CID:PORT");
	snprintf(m->ks_address, sizeof m->ks_address, "%s", s);
	if (cm_jv_get(&ks, "public_key", &v)) {
		if ((r = cm_jv_hex(&v, m->ks_public_key, 32, e)) < 0)
			return r;
		m->ks_has_public_key = true;
	}
	if (cm_jv_get(&ks, "image_hashes", &v)) {
		size_t k;
		if ((r = cm_jv_array(&v, 1, sizeof m->ks_image_hashes / sizeof m->ks_image_hashes[0], &k, e)) < 0)
			return r;
		for (size_t i = 0; i < k; i++) {
			struct cm_jv h = cm_jv_elem(&v, i);
			if ((r = cm_jv_hex(&h, m->ks_image_hashes[i], 32, e)) < 0)
				return r;
		}
		m->ks_n_image_hashes = k;
	}
	if (!m->ks_has_public_key && !m->ks_n_image_hashes)
		return cm_jv_fail(&ks, e, -EINVAL, "names the key server by public_key or image_hashes (or both)");
	if ((r = get_uint(&ks, "timeout_ms", false, 600000, &n, &present, e)) < 0)
		return r;
	m->ks_timeout_ms = present ? (unsigned)n : 10000;
	if (m->ks_timeout_ms < 100)
		return cm_jv_fail(&ks, e, -EINVAL, "timeout_ms must be 100..600000");
	m->encrypted = true;
	return 0;
}

static int parse_model(const struct cm_jv *o, struct ci_model *m, struct cm_err *e)
{
	static const char *const keys[] = {"name", "roothash", "data_blocks", "serial", "hash_serial", "encrypted", NULL};
	int r = parse_named(o, keys, m->name, e);
	if (r < 0)
		return r;
	const char *s;
	struct cm_jv rh;
	if ((r = cm_jv_need(o, "roothash", &rh, e)) < 0 || (r = cm_jv_hex(&rh, m->roothash, 32, e)) < 0)
		return r;
	cm_hex_encode(m->roothash, 32, m->roothash_hex, sizeof m->roothash_hex);
	uint64_t v = 0;
	if ((r = get_uint(o, "data_blocks", true, (UINT64_MAX / CI_VERITY_BLOCK) - 1, &v, NULL, e)) < 0)
		return r;
	if (v == 0)
		return cm_jv_fail(o, e, -EINVAL, "data_blocks must be positive");
	m->data_blocks = v;
	if ((r = get_str(o, "serial", false, &s, e)) < 0)
		return r;
	if (!s) {
		if (snprintf(m->serial, sizeof m->serial, "model-%s", m->name) >= (int)sizeof m->serial)
			return cm_jv_fail(o, e, -EINVAL, "default serial model-%s is longer than 20 bytes; set \"serial\"",
					  m->name);
	} else if (strlen(s) == 0 || strlen(s) > 20) {
		return cm_jv_fail(o, e, -EINVAL, "serial must be 1..20 bytes");
	} else {
		snprintf(m->serial, sizeof m->serial, "%s", s);
	}
	if ((r = get_str(o, "hash_serial", false, &s, e)) < 0)
		return r;
	if (s) {
		if (strlen(s) == 0 || strlen(s) > 20)
			return cm_jv_fail(o, e, -EINVAL, "hash_serial must be 1..20 bytes");
		if (strcmp(s, m->serial) == 0)
			return cm_jv_fail(o, e, -EINVAL, "hash_serial equals serial (omit it for an appended tree)");
		snprintf(m->hash_serial, sizeof m->hash_serial, "%s", s);
	}
	struct cm_jv enc;
	if (cm_jv_get(o, "encrypted", &enc))
		return parse_encrypted(&enc, m, e);
	return 0;
}

/* "network": {"interface": "eth0", "address": "10.0.2.15/24", "gateway": "10.0.2.2"} */
static int parse_network(const struct cm_jv *v, struct ci_net *n, struct cm_err *e)
{
	static const char *const nkeys[] = {"interface", "address", "gateway", NULL};
	const char *str;
	int r;
	if ((r = cm_jv_object(v, nkeys, e)) < 0 || (r = get_str(v, "interface", true, &str, e)) < 0)
		return r;
	size_t l = strlen(str);
	if (l == 0 || l >= sizeof n->ifname || strspn(str, "abcdefghijklmnopqrstuvwxyz0123456789") != l)
		return cm_jv_fail(v, e, -EINVAL, "interface must be 1..15 of [a-z0-9]");
	memcpy(n->ifname, str, l + 1);
	if ((r = get_str(v, "address", true, &str, e)) < 0)
		return r;
	if ((r = ci_net_parse_cidr(str, &n->addr, &n->prefix, e)) < 0)
		return cm_err_prefix(e, "spec: network.address");
	if ((r = get_str(v, "gateway", false, &str, e)) < 0)
		return r;
	if (str) {
		unsigned p;
		char buf[24];
		/* the whole string: "%.15s" made "192.168.100.200junk" the address 192.168.100.200 */
		if (snprintf(buf, sizeof buf, "%s/32", str) >= (int)sizeof buf ||
		    (r = ci_net_parse_cidr(buf, &n->gateway, &p, e)) < 0)
			return cm_jv_fail(v, e, -EINVAL, "gateway \"%s\" is not an IPv4 address", str);
	}
	n->configured = true;
	return 0;
}

/* A list member of the spec ("models", "services"): an array of at most max entries. */
static int spec_list(const struct cm_jv *root, const char *key, size_t max, struct cm_jv *arr, size_t *n,
		     struct cm_err *e)
{
	*n = 0;
	return cm_jv_get(root, key, arr) ? cm_jv_array(arr, 0, max, n, e) : 0;
}

int ci_spec_parse(const char *json, size_t len, struct ci_spec *s, struct cm_err *e)
{
	memset(s, 0, sizeof *s);
	struct cm_jv root, v, arr;
	int r = cm_json_read(json, len, CI_SPEC_MAX_BYTES, "spec", &root, e);
	if (r < 0)
		return r;
	static const char *const keys[] = {"version", "services", "models", "gpu", "gpu_policy", "persistent",
					   "network", "status", NULL};
	uint64_t ver = 0;
	const char *str;
	size_t n;
	if ((r = cm_jv_object(&root, keys, e)) < 0 || (r = get_uint(&root, "version", true, 1000, &ver, NULL, e)) < 0)
		goto out;
	if (ver != 1) {
		r = cm_fail(e, -EINVAL, "spec: version %llu not supported (expected 1)", (unsigned long long)ver);
		goto out;
	}
	if ((r = cm_spec_gpu_member(&root, &s->gpu_required, e)) < 0)
		goto out;
	if (cm_jv_get(&root, "gpu_policy", &v)) {
		if (!s->gpu_required) {
			r = cm_jv_fail(&v, e, -EINVAL, "needs \"gpu\": \"required\"");
			goto out;
		}
		if ((r = cm_gpu_policy_parse(&v, &s->gpu_policy, e)) < 0)
			goto out;
		/* re-serialized: what the verifier child reads as its --policy (docs/gpu.md) */
		const char *t = json_object_to_json_string_ext(v.o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!t || !(s->gpu_policy_json = strdup(t))) {
			r = cm_fail(e, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (cm_jv_get(&root, "network", &v) && (r = parse_network(&v, &s->network, e)) < 0)
		goto out;
	if (cm_jv_get(&root, "status", &v)) {
		static const char *const skeys[] = {"vsock_port", NULL};
		uint64_t port = 0;
		if ((r = cm_jv_object(&v, skeys, e)) < 0 ||
		    (r = get_uint(&v, "vsock_port", false, UINT32_MAX - 1, &port, NULL, e)) < 0)
			goto out;
		s->status_vsock_port = (uint32_t)port;
	}
	if (cm_jv_get(&root, "persistent", &v)) {
		static const char *const pkeys[] = {"mount", "integrity", NULL};
		if ((r = cm_jv_object(&v, pkeys, e)) < 0 || (r = get_str(&v, "mount", false, &str, e)) < 0)
			goto out;
		if (!str)
			str = "/data";
		if (str[0] != '/' || strlen(str) >= sizeof s->persistent_mount || strstr(str, "..") ||
		    strcmp(str, "/") == 0) {
			r = cm_jv_fail(&v, e, -EINVAL, "mount must be an absolute path without \"..\"");
			goto out;
		}
		struct cm_jv in;
		s->persistent_integrity = true;
		if (cm_jv_get(&v, "integrity", &in) && (r = cm_jv_bool(&in, &s->persistent_integrity, e)) < 0)
			goto out;
		s->persistent = true;
		snprintf(s->persistent_mount, sizeof s->persistent_mount, "%s", str);
	}
	if ((r = spec_list(&root, "models", CI_MAX_MODELS, &arr, &n, e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv m = cm_jv_elem(&arr, i);
		if ((r = parse_model(&m, &s->models[i], e)) < 0)
			goto out;
		s->n_models++;
		for (int j = 0; j < (int)i; j++)
			if (strcmp(s->models[j].name, s->models[i].name) == 0 ||
			    strcmp(s->models[j].serial, s->models[i].serial) == 0) {
				r = cm_jv_fail(&m, e, -EINVAL, "models %s and %s share a name or serial",
					       s->models[j].name, s->models[i].name);
				goto out;
			}
	}
	if ((r = spec_list(&root, "services", CI_MAX_SERVICES, &arr, &n, e)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv sv = cm_jv_elem(&arr, i);
		if ((r = parse_service(&sv, &s->services[i], e)) < 0) {
			s->n_services = (int)i + 1; /* free what was allocated */
			goto out;
		}
		s->n_services++;
		if (find_service(s, s->services[i].name) != (int)i) {
			r = cm_jv_fail(&sv, e, -EINVAL, "two services named %s", s->services[i].name);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct cm_jv sv = cm_jv_elem(&arr, i);
		if ((r = resolve_after(&sv, s, (int)i, e)) < 0)
			goto out;
	}
	if (n && (r = topo_order(s, e)) < 0)
		goto out;
out:
	cm_json_release(&root);
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
	cm_gpu_policy_free(s->gpu_policy);
	s->gpu_policy = NULL;
	free(s->gpu_policy_json);
	s->gpu_policy_json = NULL;
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
