/* INI configuration of cocoon-launch. */
#include "host-launcher/config.h"
#include "host-launcher/cocoon_conf.h"

#include "measure/core/util.h"
#include "measure/predict/predict_image.h" /* cm_parse_size */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (256 * 1024)
#define MAX_SEEN 64
#define KEY_MAX 64

void cl_config_init(struct cl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->type = CL_NODE_WORKER;
	c->qgs_port = 4050;
	snprintf(c->qemu, sizeof(c->qemu), "qemu-system-x86_64");
	snprintf(c->cpu, sizeof(c->cpu), "host");
	snprintf(c->console, sizeof(c->console), "stdio");
	snprintf(c->accel, sizeof(c->accel), "auto");
	cl_collateral_conf_init(&c->collateral);
	c->tdx = true;
}

uint32_t cl_config_cid(const struct cl_config *c)
{
	return c->vsock_cid ? c->vsock_cid + c->instance * CL_INSTANCE_STRIDE : 0;
}

unsigned cl_config_host_port(const struct cl_config *c, size_t i)
{
	return c->ports[i].host + c->instance * CL_INSTANCE_STRIDE;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "on")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int set_path(char *dst, const char *v)
{
	if (cl_path_check(v) < 0)
		return -EINVAL;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* "0000:17:00.0" or "17:00.0" -> "0000:17:00.0" (lower case). */
static int parse_pci(const char *s, char out[16])
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return -EINVAL;
	if (len == 12 && sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 && n == 12) {
		/* full form */
	} else if (len == 13 && sscanf(s, "%4x:%2x:%2x.%2x%n", &dom, &bus, &dev, &fn, &n) == 4 && n == 13) {
		/* Cocoon's spelling, a two-digit function: 0000:ab:00.00 */
	} else if (len == 7 && sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && n == 7) {
		dom = 0;
	} else {
		return -EINVAL;
	}
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, 16, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static bool valid_model_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > CL_MODEL_NAME_MAX)
		return false;
	for (const char *p = n; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int set_model(struct cl_config *c, const char *name, const char *v, const char *where,
		     struct cm_err *e)
{
	if (!valid_model_name(name))
		return cm_fail(e, -EINVAL,
			       "%s: key model.%s: bad model name (1-%d characters of a-z 0-9 _ -)",
			       where, name, CL_MODEL_NAME_MAX);
	struct cl_model m;
	memset(&m, 0, sizeof(m));
	memcpy(m.name, name, strlen(name) + 1);
	char buf[2 * CL_PATH_MAX + 2];
	if (strlen(v) >= sizeof(buf))
		return cm_fail(e, -EINVAL, "%s: key model.%s: value too long", where, name);
	memcpy(buf, v, strlen(v) + 1);
	char *comma = strchr(buf, ',');
	if (comma) {
		*comma = 0;
		char *h = trim(comma + 1);
		if (set_path(m.hash, h) < 0)
			return cm_fail(e, -EINVAL, "%s: key model.%s: bad hash disk path '%s'", where,
				       name, h);
		/* "model-" + name + "-verity" must fit the 20-byte virtio serial */
		if (strlen(name) + 13 > 20)
			return cm_fail(e, -EINVAL,
				       "%s: key model.%s: name too long for a separate hash disk "
				       "(serial model-%s-verity exceeds 20 bytes; at most 7 characters)",
				       where, name, name);
	}
	char *d = trim(buf);
	if (set_path(m.data, d) < 0)
		return cm_fail(e, -EINVAL, "%s: key model.%s: bad data disk path '%s'", where, name, d);
	for (size_t i = 0; i < c->n_models; i++)
		if (!strcmp(c->models[i].name, name)) {
			c->models[i] = m;
			return 0;
		}
	if (c->n_models >= CL_MAX_MODELS)
		return cm_fail(e, -E2BIG, "%s: key model.%s: too many models (max %d)", where, name,
			       CL_MAX_MODELS);
	c->models[c->n_models++] = m;
	return 0;
}

/* The longest list values, with their NUL: any list, and the gpu key's. */
#define LIST_MAX 1024
#define GPU_LIST_MAX 512

/* A comma-separated list value (at most max - 1 characters, max <= LIST_MAX): *n = 0 (the key
 * replaces an earlier one), then add(c, item, where, e) for each item, trimmed. */
static int set_list(struct cl_config *c, const char *key, const char *v, size_t max, size_t *n,
		    int (*add)(struct cl_config *, char *, const char *, struct cm_err *), const char *where,
		    struct cm_err *e)
{
	char buf[LIST_MAX];
	if (strlen(v) >= max)
		return cm_fail(e, -EINVAL, "%s: key %s: value too long", where, key);
	memcpy(buf, v, strlen(v) + 1);
	*n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int r = add(c, trim(tok), where, e);
		if (r)
			return r;
	}
	return 0;
}

static int add_gpu(struct cl_config *c, char *tok, const char *where, struct cm_err *e)
{
	if (c->n_gpus >= CL_MAX_GPUS)
		return cm_fail(e, -E2BIG, "%s: key gpu: too many GPUs (max %d)", where, CL_MAX_GPUS);
	if (parse_pci(tok, c->gpus[c->n_gpus]) < 0)
		return cm_fail(e, -EINVAL, "%s: key gpu: bad PCI address '%s' (expected dddd:bb:dd.f)", where, tok);
	for (size_t i = 0; i < c->n_gpus; i++)
		if (!strcmp(c->gpus[i], c->gpus[c->n_gpus]))
			return cm_fail(e, -EINVAL, "%s: key gpu: %s listed twice", where, tok);
	c->n_gpus++;
	return 0;
}

static int add_port(struct cl_config *c, char *tok, const char *where, struct cm_err *e)
{
	struct cl_port p = { 0 };
	char *s = tok;
	if (!strncmp(s, "tcp:", 4)) {
		s += 4;
	} else if (!strncmp(s, "udp:", 4)) {
		p.udp = true;
		s += 4;
	}
	char *colon = strchr(s, ':');
	uint64_t h, g;
	if (!colon)
		return cm_fail(e, -EINVAL, "%s: key ports: bad forward '%s' (expected [tcp:|udp:]HOST:GUEST)", where,
			       tok);
	*colon = 0;
	if (cm_parse_u64(s, 1, 65535, &h) < 0 || cm_parse_u64(colon + 1, 1, 65535, &g) < 0) {
		*colon = ':';
		return cm_fail(e, -EINVAL, "%s: key ports: bad forward '%s' (ports are 1-65535)", where, tok);
	}
	if (c->n_ports >= CL_MAX_PORTS)
		return cm_fail(e, -E2BIG, "%s: key ports: too many forwards (max %d)", where, CL_MAX_PORTS);
	p.host = (unsigned)h;
	p.guest = (unsigned)g;
	c->ports[c->n_ports++] = p;
	return 0;
}

/* The yes/no keys: the field each one sets, or NULL. */
static bool *bool_key(struct cl_config *c, const char *key)
{
	if (!strcmp(key, "tdx"))
		return &c->tdx;
	if (!strcmp(key, "debug"))
		return &c->debug;
	if (!strcmp(key, "gpu_required"))
		return &c->gpu_required;
	if (!strcmp(key, "sim"))
		return &c->sim;
	return NULL;
}

/* Apply one key. where = "file:line" or "--set". */
static int apply(struct cl_config *c, const char *key, const char *v, const char *where,
		 struct cm_err *e)
{
	uint64_t u;
	uint64_t sz;
	bool *flag;
#define BAD(what) cm_fail(e, -EINVAL, "%s: key %s: bad value '%s' (%s)", where, key, v, what)
	int cr = cl_cocoon_apply(c, key, v, where, e);
	if (cr != 0)
		return cr < 0 ? cr : 0;
	if (!strcmp(key, "type")) {
		if (!strcmp(v, "worker"))
			c->type = CL_NODE_WORKER;
		else if (!strcmp(v, "proxy"))
			c->type = CL_NODE_PROXY;
		else if (!strcmp(v, "client"))
			return BAD("worker or proxy; a Cocoon client runs outside a TD, not under cocoon-launch");
		else
			return BAD("worker or proxy");
		cl_cocoon_note(c, key, "ours", "type = %s", v);
	} else if (!strcmp(key, "profile")) {
		if (!strcmp(v, "default"))
			c->profile = CL_PROFILE_DEFAULT;
		else if (!strcmp(v, "cocoon"))
			c->profile = CL_PROFILE_COCOON;
		else
			return BAD("default or cocoon");
	} else if (!strcmp(key, "instance")) {
		if (cm_parse_u64(v, 0, CL_MAX_INSTANCE, &u) < 0)
			return BAD("0-99");
		c->instance = (unsigned)u;
		cl_cocoon_note(c, key, "ours", "instance = %u (ports and vsock CID + instance * 10, as Cocoon)", c->instance);
	} else if (!strcmp(key, "image_dir")) {
		if (set_path(c->image_dir, v) < 0)
			return BAD("a path without commas");
	} else if (!strcmp(key, "spec_dir")) {
		if (set_path(c->spec_dir, v) < 0)
			return BAD("a path without commas");
	} else if (!strcmp(key, "persistent_disk")) {
		if (set_path(c->persistent_disk, v) < 0)
			return BAD("a path without commas");
	} else if (!strcmp(key, "persistent_size")) {
		if (cm_parse_size(v, &sz) < 0)
			return BAD("a size such as 20G");
		c->persistent_size = sz;
	} else if (!strcmp(key, "gpu")) {
		int r = set_list(c, key, v, GPU_LIST_MAX, &c->n_gpus, add_gpu, where, e);
		if (r == 0)
			cl_cocoon_note(c, key, "ours", "gpu = %s%s (vfio-pci with iommufd)", c->n_gpus ? c->gpus[0] : "none",
				       c->n_gpus > 1 ? ", ..." : "");
		return r;
	} else if (!strncmp(key, "model.", 6)) {
		return set_model(c, key + 6, v, where, e);
	} else if (!strcmp(key, "memory")) {
		if (cm_parse_size(v, &sz) < 0 || sz < (64ull << 20) || sz % (1ull << 20))
			return BAD("a size of at least 64M, a multiple of 1M, such as 100G");
		c->memory = sz;
	} else if (!strcmp(key, "vcpus")) {
		if (cm_parse_u64(v, 1, 512, &u) < 0)
			return BAD("1-512");
		c->vcpus = (unsigned)u;
	} else if (!strcmp(key, "ports")) {
		return set_list(c, key, v, LIST_MAX, &c->n_ports, add_port, where, e);
	} else if (!strcmp(key, "vsock_cid")) {
		if (cm_parse_u64(v, 0, 0xfffffff0ull, &u) < 0 || (u != 0 && u < 3))
			return BAD("0 (no vsock) or a CID >= 3");
		c->vsock_cid = (uint32_t)u;
		cl_cocoon_note(c, key, "ours", "vsock_cid = %u (+ instance * 10, as Cocoon)", c->vsock_cid);
	} else if (!strcmp(key, "qgs_port")) {
		if (cm_parse_u64(v, 1, 0xffffffffull, &u) < 0)
			return BAD("a vsock port number");
		c->qgs_port = (uint32_t)u;
	} else if (!strcmp(key, "qemu")) {
		if (set_path(c->qemu, v) < 0)
			return BAD("a program name or path");
	} else if (!strcmp(key, "cpu")) {
		size_t n = strlen(v);
		if (n == 0 || n >= sizeof(c->cpu))
			return BAD("a QEMU CPU model");
		for (const char *p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-_.,=+", *p))
				return BAD("a QEMU CPU model");
		memcpy(c->cpu, v, n + 1);
	} else if (!strcmp(key, "run_dir")) {
		if (set_path(c->run_dir, v) < 0)
			return BAD("a path without commas");
		c->have_run_dir = true;
	} else if (!strcmp(key, "log_dir")) {
		if (set_path(c->log_dir, v) < 0)
			return BAD("a path without commas");
		c->have_log_dir = true;
	} else if (!strcmp(key, "console")) {
		if (strcmp(v, "stdio") && strcmp(v, "file"))
			return BAD("stdio or file");
		snprintf(c->console, sizeof(c->console), "%s", v);
	} else if (!strcmp(key, "accel")) {
		if (strcmp(v, "auto") && strcmp(v, "kvm") && strcmp(v, "tcg"))
			return BAD("auto, kvm or tcg");
		snprintf(c->accel, sizeof(c->accel), "%s", v);
	} else if ((flag = bool_key(c, key))) {
		if (parse_bool(v, flag) < 0)
			return BAD("yes or no");
	} else if (!strncmp(key, "collateral_", 11)) {
		return cl_collateral_key(&c->collateral, key, v, where, e);
	} else {
		return cm_fail(e, -EINVAL, "%s: unknown key '%s'", where, key);
	}
#undef BAD
	return 0;
}

static bool valid_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n >= KEY_MAX)
		return false;
	for (const char *p = k; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
		      *p == '.' || *p == '-'))
			return false;
	return true;
}

int cl_config_parse(struct cl_config *c, const char *text, size_t len, const char *name,
		    struct cm_err *e)
{
	char seen[MAX_SEEN][KEY_MAX];
	unsigned seen_line[MAX_SEEN];
	size_t n_seen = 0;
	bool in_node = false, had_node = false;
	unsigned lineno = 0;
	size_t pos = 0;
	char line[4096];
	char where[CL_PATH_MAX + 32];

	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		size_t ll = end - pos;
		if (ll >= sizeof(line))
			return cm_fail(e, -EINVAL, "%s: line too long", where);
		memcpy(line, text + pos, ll);
		line[ll] = 0;
		pos = end < len ? end + 1 : end;
		if (memchr(line, 0, ll))
			return cm_fail(e, -EINVAL, "%s: NUL byte in line", where);
		char *s = trim(line);
		if (*s == 0 || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] != 0)
				return cm_fail(e, -EINVAL, "%s: bad section header '%s'", where, s);
			*close = 0;
			if (strcmp(s + 1, "node"))
				return cm_fail(e, -EINVAL, "%s: unknown section [%s] (only [node])", where, s + 1);
			if (had_node)
				return cm_fail(e, -EINVAL, "%s: duplicate section [node]", where);
			in_node = had_node = true;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return cm_fail(e, -EINVAL, "%s: expected 'key = value', got '%s'", where, s);
		*eq = 0;
		char *key = trim(s);
		char *val = trim(eq + 1);
		if (!valid_key(key))
			return cm_fail(e, -EINVAL, "%s: bad key name '%s'", where, key);
		if (!in_node)
			return cm_fail(e, -EINVAL, "%s: key %s outside the [node] section", where, key);
		for (size_t i = 0; i < n_seen; i++)
			if (!strcmp(seen[i], key))
				return cm_fail(e, -EINVAL, "%s: duplicate key %s (first set on line %u)",
					       where, key, seen_line[i]);
		if (n_seen >= MAX_SEEN)
			return cm_fail(e, -E2BIG, "%s: too many keys", where);
		snprintf(seen[n_seen], KEY_MAX, "%s", key);
		seen_line[n_seen++] = lineno;
		int r = apply(c, key, val, where, e);
		if (r < 0)
			return r;
	}
	if (!had_node)
		return cm_fail(e, -EINVAL, "%s: no [node] section", name);
	return 0;
}

int cl_config_load(struct cl_config *c, const char *path, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int r = cm_read_file(path, CONFIG_MAX_BYTES, &buf, &len, e);
	if (r < 0)
		return r;
	r = cl_config_parse(c, (const char *)buf, len, path, e);
	free(buf);
	return r;
}

int cl_config_set(struct cl_config *c, const char *kv, struct cm_err *e)
{
	char buf[4096];
	if (strlen(kv) >= sizeof(buf))
		return cm_fail(e, -EINVAL, "--set: override too long");
	memcpy(buf, kv, strlen(kv) + 1);
	char *eq = strchr(buf, '=');
	if (!eq)
		return cm_fail(e, -EINVAL, "--set %s: expected key=value", kv);
	*eq = 0;
	char *key = trim(buf);
	char *val = trim(eq + 1);
	if (!valid_key(key))
		return cm_fail(e, -EINVAL, "--set: bad key name '%s'", key);
	return apply(c, key, val, "--set", e);
}

int cl_config_finish(struct cl_config *c, struct cm_err *e)
{
	int cr = cl_cocoon_finish(c, e);
	if (cr < 0)
		return cr;
	if (!c->image_dir[0])
		return cm_fail(e, -EINVAL, "config: required key image_dir is missing");
	if (!c->spec_dir[0])
		return cm_fail(e, -EINVAL, "config: required key spec_dir is missing");
	if (!c->memory)
		return cm_fail(e, -EINVAL, "config: required key memory is missing");
	if (!c->vcpus)
		return cm_fail(e, -EINVAL, "config: required key vcpus is missing");
	for (size_t i = 0; i < c->n_ports; i++) {
		unsigned hp = cl_config_host_port(c, i);
		if (hp > 65535)
			return cm_fail(e, -ERANGE,
				       "config: key ports: host port %u + instance offset %u exceeds 65535",
				       c->ports[i].host, c->instance * CL_INSTANCE_STRIDE);
		for (size_t j = 0; j < i; j++)
			if (c->ports[j].host == c->ports[i].host && c->ports[j].udp == c->ports[i].udp)
				return cm_fail(e, -EINVAL, "config: key ports: host port %u forwarded twice",
					       c->ports[i].host);
	}
	if (c->vsock_cid && (uint64_t)c->vsock_cid + c->instance * CL_INSTANCE_STRIDE > 0xfffffff0ull)
		return cm_fail(e, -ERANGE, "config: key vsock_cid: CID + instance offset out of range");
	if (c->n_gpus && c->type == CL_NODE_PROXY)
		return cm_fail(e, -EINVAL, "config: key gpu: a proxy node has no GPU");
	if (c->profile == CL_PROFILE_COCOON) {
		/* Cocoon's run_qemu: one GPU on its one root port, one model tar, always a
		 * persistent disk and a vsock device, no sim */
		if (c->n_gpus > 1)
			return cm_fail(e, -EINVAL, "config: profile cocoon: Cocoon's shape passes one GPU (one pcie-root-port)");
		if (c->n_models > 1 || (c->n_models == 1 && (strcmp(c->models[0].name, "tar") || !c->models[0].hash[0])))
			return cm_fail(e, -EINVAL, "config: profile cocoon: Cocoon's shape attaches one model as "
						   "model.tar = FILE.tar,FILE.tar.verity (serials model-tar, model-tar-verity)");
		if (!c->persistent_disk[0])
			return cm_fail(e, -EINVAL, "config: profile cocoon: Cocoon's shape always has a persistent disk");
		if (!c->vsock_cid)
			return cm_fail(e, -EINVAL, "config: profile cocoon: Cocoon's shape always has a vsock device (vsock_cid)");
		if (c->sim || c->gpu_required)
			return cm_fail(e, -EINVAL, "config: profile cocoon: the sim and gpu_required variants are this "
						   "project's cmdline keys; Cocoon's cmdline gets cocoon_gpu from gpu");
	}
	if (c->gpu_required && !c->n_gpus)
		return cm_fail(e, -EINVAL, "config: key gpu_required: yes but no gpu is configured");
	if (!c->have_run_dir)
		snprintf(c->run_dir, sizeof(c->run_dir), "/run/cocoon/%s-%u", cl_node_type_name(c->type),
			 c->instance);
	if (!c->have_log_dir)
		snprintf(c->log_dir, sizeof(c->log_dir), "/var/log/cocoon");
	return 0;
}
