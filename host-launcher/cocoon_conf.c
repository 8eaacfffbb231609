/* Cocoon's worker.conf keys (cocoon_conf.h). */
#include "host-launcher/cocoon_conf.h"
#include "host-launcher/image.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define RUNTIME_VARS_MAX (64 * 1024)
#define TON_CONFIG_MAX (16u << 20)

/* The index of key's record, or -1. */
static long note_index(const struct cl_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_ckeys; i++)
		if (!strcmp(c->ckeys[i].key, key))
			return (long)i;
	return -1;
}

/* Record how key was handled (replacing an earlier record: --set overrides). */
void cl_cocoon_note(struct cl_config *c, const char *key, const char *handling, const char *fmt, ...)
{
	long i = note_index(c, key);
	if (i < 0) {
		if (c->n_ckeys >= CL_MAX_COCOON_KEYS)
			return;
		i = (long)c->n_ckeys++;
	}
	struct cl_cocoon_key *k = &c->ckeys[i];
	snprintf(k->key, sizeof(k->key), "%s", key);
	snprintf(k->handling, sizeof(k->handling), "%s", handling);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->detail, sizeof(k->detail), fmt, ap);
	va_end(ap);
}

#define note cl_cocoon_note

static bool noted(const struct cl_config *c, const char *key)
{
	return note_index(c, key) >= 0;
}

/* A runtime.vars value: printable ASCII without spaces (a line KEY=value). */
static bool var_value_ok(const char *v)
{
	if (!*v)
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

static int set_var(struct cl_config *c, const char *name, const char *v, bool secret, const char *where,
		   const char *key, struct cm_err *e)
{
	if (!var_value_ok(v) || strlen(v) >= sizeof(c->vars[0].value))
		return cm_fail(e, -EINVAL, "%s: key %s: bad value (1-%zu printable characters, no spaces)", where, key,
			       sizeof(c->vars[0].value) - 1);
	struct cl_runtime_var *x = NULL;
	for (size_t i = 0; i < c->n_vars; i++)
		if (!strcmp(c->vars[i].key, name))
			x = &c->vars[i];
	if (!x) {
		if (c->n_vars >= CL_MAX_RUNTIME_VARS)
			return cm_fail(e, -E2BIG, "%s: key %s: too many runtime vars", where, key);
		x = &c->vars[c->n_vars++];
	}
	snprintf(x->key, sizeof(x->key), "%s", name);
	snprintf(x->value, sizeof(x->value), "%s", v);
	x->secret = secret;
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* model = NAME@COMMIT:VERITY (Cocoon's build-model spec: HF repo, 40-hex commit, 64-hex
 * dm-verity root hash of the model tar). */
static int set_model_spec(struct cl_config *c, const char *v, const char *where, struct cm_err *e)
{
	char buf[512];
	if (strlen(v) >= sizeof(buf))
		return cm_fail(e, -EINVAL, "%s: key model: value too long", where);
	memcpy(buf, v, strlen(v) + 1);
	char *at = strchr(buf, '@'), *colon = at ? strchr(at, ':') : NULL;
	if (!at || !colon || at == buf)
		return cm_fail(e, -EINVAL, "%s: key model: expected NAME@COMMIT:VERITY (Cocoon's model spec)", where);
	*at = *colon = 0;
	const char *commit = at + 1, *verity = colon + 1;
	if (!is_hex(commit, 40) || !is_hex(verity, 64))
		return cm_fail(e, -EINVAL,
			       "%s: key model: COMMIT must be 40 hex digits and VERITY 64 (NAME@COMMIT:VERITY)", where);
	int r;
	if ((r = set_var(c, "MODEL_NAME", buf, false, where, "model", e)) < 0 ||
	    (r = set_var(c, "MODEL_COMMIT", commit, false, where, "model", e)) < 0 ||
	    (r = set_var(c, "MODEL_VERITY_HASH", verity, false, where, "model", e)) < 0)
		return r;
	c->have_model_var = true;
	note(c, "model", "runtime",
	     "MODEL_NAME=%s MODEL_COMMIT=%.12s... MODEL_VERITY_HASH=%.12s... in runtime/runtime.vars; the model "
	     "disk is not built here: attach Cocoon's tar as model.tar = FILE.tar,FILE.tar.verity "
	     "(serials model-tar, model-tar-verity)", buf, commit, verity);
	return 0;
}

/* http_port / worker_rpc_port / client_rpc_port: Cocoon forwards host P (+ instance * 10)
 * to guest P. */
static int add_forward(struct cl_config *c, const char *key, const char *v, const char *where, struct cm_err *e)
{
	uint64_t p;
	if (cm_parse_u64(v, 1, 65535, &p))
		return cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (a port 1-65535)", where, key, v);
	for (size_t i = 0; i < c->n_ports; i++)
		if (!c->ports[i].udp && c->ports[i].guest == p)
			return cm_fail(e, -EINVAL, "%s: key %s: guest port %" PRIu64 " is forwarded already", where, key, p);
	if (c->n_ports >= CL_MAX_PORTS)
		return cm_fail(e, -E2BIG, "%s: key %s: too many forwards (max %d)", where, key, CL_MAX_PORTS);
	c->ports[c->n_ports++] = (struct cl_port){ .udp = false, .host = (unsigned)p, .guest = (unsigned)p };
	note(c, key, "ours", "ports += %" PRIu64 ":%" PRIu64 " (host port + instance * 10 -> guest port, as Cocoon)", p, p);
	return 0;
}

static int cocoon_bool(const char *v, bool *out)
{
	/* Cocoon: val.lower() in ('true', 'yes', '1', 'on'), anything else false */
	char low[8];
	size_t n = strlen(v);
	if (n >= sizeof(low))
		return -EINVAL;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)v[i]);
	*out = !strcmp(low, "true") || !strcmp(low, "yes") || !strcmp(low, "1") || !strcmp(low, "on");
	if (!*out && strcmp(low, "false") && strcmp(low, "no") && strcmp(low, "0") && strcmp(low, "off"))
		return -EINVAL;
	return 0;
}

static int set_cocoon_path(char *dst, const char *v, const char *where, const char *key, struct cm_err *e)
{
	if (cl_path_check(v) < 0)
		return cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (a path without commas)", where, key, v);
	snprintf(dst, CL_PATH_MAX, "%s", v);
	return 0;
}

int cl_cocoon_apply(struct cl_config *c, const char *key, const char *v, const char *where, struct cm_err *e)
{
	int r = 0;
	bool b, was = c->cocoon;
	c->cocoon = true;
	if (!strcmp(key, "model")) {
		r = set_model_spec(c, v, where, e);
	} else if (!strcmp(key, "owner_address") || !strcmp(key, "root_contract_address")) {
		const char *var = key[0] == 'o' ? "OWNER_ADDRESS" : "ROOT_CONTRACT_ADDRESS";
		if ((r = set_var(c, var, v, false, where, key, e)) == 0)
			note(c, key, "runtime", "%s=%s in runtime/runtime.vars", var, v);
		c->have_owner |= key[0] == 'o';
	} else if (!strcmp(key, "node_wallet_key") || !strcmp(key, "hf_token")) {
		const char *var = key[0] == 'n' ? "NODE_WALLET_KEY" : "HF_TOKEN";
		if ((r = set_var(c, var, v, true, where, key, e)) == 0)
			note(c, key, "runtime", "%s=<redacted> in runtime/runtime.vars (mode 0600, not measured)", var);
	} else if (!strcmp(key, "worker_coefficient")) {
		uint64_t x;
		if (cm_parse_u64(v, 0, 1000000000, &x))
			return cm_fail(e, -EINVAL, "%s: key worker_coefficient: bad value '%s' (1000 = 1.0x)", where, v);
		if ((r = set_var(c, "WORKER_COEFFICIENT", v, false, where, key, e)) == 0)
			note(c, key, "runtime", "WORKER_COEFFICIENT=%s in runtime/runtime.vars", v);
	} else if (!strcmp(key, "ton_config")) {
		if ((r = set_cocoon_path(c->ton_config, v, where, key, e)) == 0)
			note(c, key, "runtime", "%s copied to runtime/global.config.json by run (not measured)", v);
	} else if (!strcmp(key, "ton_config_base")) {
		if ((r = set_cocoon_path(c->ton_config_base, v, where, key, e)) == 0)
			note(c, key, "checked",
			     "Cocoon copies it into the measured spec as global.config.json; cocoon-launch never "
			     "edits the measured spec: run checks that SPEC/global.config.json has the same bytes as %s", v);
	} else if (!strcmp(key, "persistent")) {
		if ((r = set_cocoon_path(c->persistent_disk, v, where, key, e)) == 0)
			note(c, key, "ours", "persistent_disk = %s (Cocoon creates a 100G file when missing; so does "
					     "the guest's format of a blank disk, once the file exists)", v);
	} else if (!strcmp(key, "image-dir")) {
		if ((r = set_cocoon_path(c->image_dir, v, where, key, e)) == 0)
			note(c, key, "ours", "image_dir = %s (this project's image layout: manifest.json, OVMF.fd, "
					     "vmlinuz, initrd.img, cmdline, rootfs.img)", v);
	} else if (!strcmp(key, "http_port") || !strcmp(key, "worker_rpc_port") || !strcmp(key, "client_rpc_port")) {
		r = add_forward(c, key, v, where, e);
	} else if (!strcmp(key, "ssh_port")) {
		return cm_fail(e, -EINVAL,
			       "%s: key ssh_port: refused: the appliance runs no SSH server (a production image has no "
			       "shell); Cocoon forwards this port to the guest's port 22", where);
	} else if (!strcmp(key, "fake_ton")) {
		if (cocoon_bool(v, &b) < 0)
			return cm_fail(e, -EINVAL, "%s: key fake_ton: bad value '%s' (true or false)", where, v);
		if (b)
			return cm_fail(e, -EINVAL,
				       "%s: key fake_ton: refused: Cocoon's local fake-TON network rewrites the spec (its "
				       "init script and runtime vars) and adds cocoon_fake_ton to the cmdline; this "
				       "appliance has neither (use a test spec with a local TON config instead)", where);
		note(c, key, "ours", "false: nothing to do");
	} else if (!strcmp(key, "test")) {
		if (cocoon_bool(v, &b) < 0)
			return cm_fail(e, -EINVAL, "%s: key test: bad value '%s' (true or false)", where, v);
		c->cocoon_test = b;
		if (b)
			c->debug = true;
		note(c, key, "ours", b ? "debug = yes: cmdline variant cocoon.debug (Cocoon: cocoon_debug; changes "
					 "RTMR2, not for production); default image-dir images/test"
				       : "false: production image and cmdline");
	} else {
		c->cocoon = was;
		return 0;
	}
	return r < 0 ? r : 1;
}

int cl_cocoon_finish(struct cl_config *c, struct cm_err *e)
{
	if (!c->cocoon)
		return 0;
	if (!c->have_owner)
		return cm_fail(e, -EINVAL, "config: Cocoon key owner_address is required (as Cocoon's launcher requires it)");
	if (c->type == CL_NODE_WORKER && !c->have_model_var)
		return cm_fail(e, -EINVAL, "config: Cocoon key model is required for a worker (NAME@COMMIT:VERITY)");
	const char *type = cl_node_type_name(c->type);
	struct cm_err ignore;
	if (!noted(c, "type"))
		note(c, "type", "ours", "type = %s", type);
	if (!noted(c, "root_contract_address")) {
		set_var(c, "ROOT_CONTRACT_ADDRESS", CL_COCOON_ROOT_CONTRACT, false, "default", "root_contract_address",
			&ignore);
		note(c, "root_contract_address", "default", "ROOT_CONTRACT_ADDRESS=%s (Cocoon's default)",
		     CL_COCOON_ROOT_CONTRACT);
	}
	if (!noted(c, "worker_coefficient")) {
		set_var(c, "WORKER_COEFFICIENT", "1000", false, "default", "worker_coefficient", &ignore);
		note(c, "worker_coefficient", "default", "WORKER_COEFFICIENT=1000 (Cocoon's default, 1.0x)");
	}
	if (!c->image_dir[0]) {
		snprintf(c->image_dir, sizeof(c->image_dir), "images/%s", c->cocoon_test ? "test" : "prod");
		note(c, "image-dir", "default", "image_dir = %s (Cocoon's default, relative to the working directory)",
		     c->image_dir);
	}
	if (!c->spec_dir[0]) {
		snprintf(c->spec_dir, sizeof(c->spec_dir), "spec/spec-%s", type);
		note(c, "spec", "default", "spec_dir = %s (Cocoon's default, relative to the working directory)",
		     c->spec_dir);
	}
	if (!c->persistent_disk[0]) {
		snprintf(c->persistent_disk, sizeof(c->persistent_disk), "persistent-%s-%u.img", type, c->instance);
		note(c, "persistent", "default", "persistent_disk = %s (Cocoon's default)", c->persistent_disk);
	}
	if (!c->memory) {
		c->memory = CL_COCOON_MEMORY;
		note(c, "memory", "default", "memory = 100G (Cocoon's fixed size)");
	}
	if (!c->vcpus) {
		c->vcpus = CL_COCOON_VCPUS;
		note(c, "vcpus", "default", "vcpus = 32 (Cocoon's fixed count)");
	}
	if (!noted(c, "vsock_cid")) {
		c->vsock_cid = c->type == CL_NODE_WORKER ? 6 : 7;
		note(c, "vsock_cid", "default", "vsock_cid = %u (Cocoon's default for a %s; + instance * 10)",
		     c->vsock_cid, type);
	}
	if (!c->n_ports) {
		static const unsigned worker[] = { 12000 }, proxy[] = { 11000, 11001, 11002 };
		static const char *const pkeys[] = { "http_port", "worker_rpc_port", "client_rpc_port" };
		const unsigned *p = c->type == CL_NODE_WORKER ? worker : proxy;
		size_t n = c->type == CL_NODE_WORKER ? 1 : 3;
		for (size_t i = 0; i < n; i++) {
			c->ports[c->n_ports++] = (struct cl_port){ .host = p[i], .guest = p[i] };
			note(c, pkeys[i], "default", "ports += %u:%u (Cocoon's default)", p[i], p[i]);
		}
	}
	if (!noted(c, "ton_config_base"))
		note(c, "ton_config_base", "default",
		     "not set: the guest uses the spec's own global.config.json (measured; Cocoon's default copies "
		     "its spec/mainnet-base-ton-config.json there)");
	if (!noted(c, "ton_config"))
		note(c, "ton_config", "default", "not set: no runtime/global.config.json is written");
	if (!noted(c, "ssh_port"))
		note(c, "ssh_port", "default", "not forwarded (Cocoon forwards 12005 to port 22; the appliance has no SSH)");
	return 0;
}

/* runtime.vars: the lines already there whose key we do not set, then ours (Cocoon's upsert). */
static int write_vars(const struct cl_config *c, const char *dir, struct cm_err *e)
{
	char path[CL_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/runtime.vars", dir);
	uint8_t *old = NULL;
	size_t oldn = 0;
	if (access(path, F_OK) == 0 && cm_read_file(path, RUNTIME_VARS_MAX, &old, &oldn, e) < 0)
		return e->code;
	size_t cap = oldn + 1 + c->n_vars * (sizeof(c->vars[0].key) + sizeof(c->vars[0].value) + 2);
	char *out = malloc(cap);
	if (!out) {
		free(old);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	size_t n = 0;
	for (size_t pos = 0; pos < oldn;) {
		const char *line = (const char *)old + pos;
		const char *nl = memchr(line, '\n', oldn - pos);
		size_t len = nl ? (size_t)(nl - line) : oldn - pos;
		pos += len + 1;
		const char *eq = memchr(line, '=', len);
		if (!eq)
			continue;
		bool ours = false;
		for (size_t i = 0; i < c->n_vars; i++)
			if ((size_t)(eq - line) == strlen(c->vars[i].key) && !memcmp(line, c->vars[i].key, (size_t)(eq - line)))
				ours = true;
		if (!ours) {
			memcpy(out + n, line, len);
			n += len;
			out[n++] = '\n';
		}
	}
	for (size_t i = 0; i < c->n_vars; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s=%s\n", c->vars[i].key, c->vars[i].value);
	int r = cm_write_file_atomic(path, out, n, 0600, e);
	OPENSSL_cleanse(out, cap); /* secrets (NODE_WALLET_KEY, HF_TOKEN) */
	free(out);
	free(old);
	return r;
}

int cl_cocoon_write_runtime(const struct cl_config *c, struct cm_err *e)
{
	if (!c->cocoon)
		return 0;
	char dir[CL_PATH_MAX + 16], path[CL_PATH_MAX + 40];
	snprintf(dir, sizeof(dir), "%s/runtime", c->spec_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return cm_fail(e, -errno, "cannot create %s (%s)", dir, strerror(errno));
	if (c->ton_config_base[0]) {
		uint8_t *a = NULL, *b = NULL;
		size_t an = 0, bn = 0;
		snprintf(path, sizeof(path), "%s/global.config.json", c->spec_dir);
		int r = cm_read_file(c->ton_config_base, TON_CONFIG_MAX, &a, &an, e);
		if (r == 0 && (r = cm_read_file(path, TON_CONFIG_MAX, &b, &bn, e)) < 0)
			cm_fail(e, r, "ton_config_base: the spec has no global.config.json; copy %s to %s (it is measured, "
				      "so the spec's published hash must include it)", c->ton_config_base, path);
		else if (r == 0 && (an != bn || memcmp(a, b, an)))
			r = cm_fail(e, -EINVAL, "ton_config_base: %s differs from %s (measured); update the spec and "
						"republish its hash, or point ton_config_base at the spec's copy",
				    c->ton_config_base, path);
		free(a);
		free(b);
		if (r < 0)
			return r;
	}
	if (c->ton_config[0]) {
		uint8_t *t = NULL;
		size_t tn = 0;
		if (cm_read_file(c->ton_config, TON_CONFIG_MAX, &t, &tn, e) < 0)
			return cm_err_prefix(e, "ton_config");
		snprintf(path, sizeof(path), "%s/global.config.json", dir);
		int r = cm_write_file_atomic(path, t, tn, 0644, e);
		free(t);
		if (r < 0)
			return r;
	}
	return c->n_vars ? write_vars(c, dir, e) : 0;
}
