/* cocoon-ratls configuration (see config.h). */
#include "guest/ratls/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/cmdline/cmdline.h"
#include "guest/ratls/fake_tdx.h"
#include "measure/core/json.h"
#include "measure/ratls/pow.h"

void cr_config_defaults(struct cr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cert_refresh = 3600;
	c->cache_entries = 10000;
	c->cache_ttl = 3600;
	c->proxy = (struct cr_proxy_conf){
		.max_conns = 4096,
		.max_pow_conns = 0, /* a quarter of max_conns */
		.max_pow_conns_per_source = 64,
		.handshake_timeout = 10,
		.idle_timeout = 300,
		.shutdown_grace = 10,
		.buf_size = 16384,
		.pow_difficulty = CR_POW_DEFAULT_DIFFICULTY,
		.pow_max = CR_POW_CLIENT_MAX_DIFFICULTY,
	};
	c->npolicies = 3;
	snprintf(c->policies[0].name, sizeof(c->policies[0].name), "any");
	c->policies[0].type = CR_POLICY_ANY;
	snprintf(c->policies[1].name, sizeof(c->policies[1].name), "tdx");
	c->policies[1].type = CR_POLICY_TDX;
	snprintf(c->policies[2].name, sizeof(c->policies[2].name), "fake_tdx");
	c->policies[2].type = CR_POLICY_FAKE_TDX;
}

static struct cr_policy_conf *policy_slot(struct cr_config *c, const char *name, struct cm_err *e)
{
	for (int i = 0; i < c->npolicies; i++)
		if (!strcmp(c->policies[i].name, name))
			return &c->policies[i];
	if (c->npolicies >= CR_MAX_CONF_POLICIES) {
		cm_fail(e, -ENOSPC, "too many policies (max %d)", CR_MAX_CONF_POLICIES);
		return NULL;
	}
	if (!*name || strlen(name) >= sizeof(c->policies[0].name)) {
		cm_fail(e, -EINVAL, "bad policy name '%s'", name);
		return NULL;
	}
	struct cr_policy_conf *p = &c->policies[c->npolicies++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static int set_type(struct cr_policy_conf *p, const char *t, struct cm_err *e)
{
	if (!strcmp(t, "any"))
		p->type = CR_POLICY_ANY;
	else if (!strcmp(t, "tdx"))
		p->type = CR_POLICY_TDX;
	else if (!strcmp(t, "fake_tdx"))
		p->type = CR_POLICY_FAKE_TDX;
	else
		return cm_fail(e, -EINVAL, "policy %s: unknown type '%s' (any, tdx, fake_tdx)", p->name, t);
	return 0;
}

static int copy_str(char *dst, size_t n, const char *src, const char *what, struct cm_err *e)
{
	if (strlen(src) >= n)
		return cm_fail(e, -ENAMETOOLONG, "%s too long", what);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int cr_config_add_policy_spec(struct cr_config *c, const char *spec, struct cm_err *e)
{
	char buf[PATH_MAX * 3];
	if (copy_str(buf, sizeof(buf), spec, "policy spec", e))
		return -ENAMETOOLONG;
	char *eq = strchr(buf, '=');
	if (!eq)
		return cm_fail(e, -EINVAL, "policy spec '%s' is not NAME=TYPE[,key=value...]", spec);
	*eq = 0;
	struct cr_policy_conf *p = policy_slot(c, buf, e);
	if (!p)
		return -EINVAL;
	char *save = NULL;
	char *tok = strtok_r(eq + 1, ",", &save);
	if (!tok || set_type(p, tok, e))
		return tok ? -EINVAL : cm_fail(e, -EINVAL, "policy %s: missing type", p->name);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *v = strchr(tok, '=');
		if (!v)
			return cm_fail(e, -EINVAL, "policy %s: '%s' is not key=value", p->name, tok);
		*v++ = 0;
		int rc;
		if (!strcmp(tok, "root"))
			rc = copy_str(p->root, sizeof(p->root), v, "root", e);
		else if (!strcmp(tok, "collateral"))
			rc = copy_str(p->collateral, sizeof(p->collateral), v, "collateral", e);
		else if (!strcmp(tok, "policy"))
			rc = copy_str(p->measure_policy, sizeof(p->measure_policy), v, "policy", e);
		else if (!strcmp(tok, "gpu"))
			rc = copy_str(p->gpu, sizeof(p->gpu), v, "gpu", e);
		else
			rc = cm_fail(e, -EINVAL, "policy %s: unknown key '%s'", p->name, tok);
		if (rc)
			return rc;
	}
	return 0;
}

int cr_config_add_listener_spec(struct cr_config *c, enum cr_mode mode, const char *spec, struct cm_err *e)
{
	if (c->nlisteners >= CR_MAX_CONF_LISTENERS)
		return cm_fail(e, -ENOSPC, "too many listeners (max %d)", CR_MAX_CONF_LISTENERS);
	struct cr_listener_conf l = {.mode = mode};
	char buf[600];
	if (copy_str(buf, sizeof(buf), spec, "listener spec", e))
		return -ENAMETOOLONG;
	char *at = strrchr(buf, '@');
	snprintf(l.policy, sizeof(l.policy), "%s", mode == CR_MODE_REVERSE ? "any" : "tdx");
	if (at) {
		*at = 0;
		if (copy_str(l.policy, sizeof(l.policy), at + 1, "policy name", e))
			return -EINVAL;
	}
	if (mode == CR_MODE_SOCKS5) {
		if (copy_str(l.listen, sizeof(l.listen), buf, "listen address", e))
			return -EINVAL;
	} else {
		/* LISTEN:TARGET where LISTEN is PORT or HOST:PORT: the target is the last
		 * HOST:PORT (or [V6]:PORT) */
		char *sep = NULL;
		char *p = buf + strlen(buf);
		int colons = 0;
		while (p > buf) {
			p--;
			if (*p == ']')
				while (p > buf && *p != '[')
					p--;
			if (*p == ':' && ++colons == 2) {
				sep = p;
				break;
			}
		}
		if (!sep)
			return cm_fail(e, -EINVAL, "listener '%s' is not LISTEN:HOST:PORT", spec);
		*sep = 0;
		if (copy_str(l.listen, sizeof(l.listen), buf, "listen address", e) ||
		    copy_str(l.target, sizeof(l.target), sep + 1, "target address", e))
			return -EINVAL;
	}
	c->listeners[c->nlisteners++] = l;
	return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static int jint(const struct cm_jv *v, int lo, int hi, int *out, struct cm_err *e)
{
	int64_t x;
	int rc = cm_jv_int(v, lo, hi, &x, e);
	if (rc == 0)
		*out = (int)x;
	return rc;
}

/* A JSON boolean as CR_INFO_ON / CR_INFO_OFF. */
static int jinfo(const struct cm_jv *v, enum cr_info *out, struct cm_err *e)
{
	bool b;
	int rc = cm_jv_bool(v, &b, e);
	if (rc == 0)
		*out = b ? CR_INFO_ON : CR_INFO_OFF;
	return rc;
}

static int load_listeners(struct cr_config *c, const struct cm_jv *arr, enum cr_mode mode, struct cm_err *e)
{
	size_t n;
	int rc = cm_jv_array(arr, 0, CR_MAX_CONF_LISTENERS, &n, e);
	for (size_t i = 0; i < n && !rc; i++) {
		struct cm_jv o = cm_jv_elem(arr, i);
		if ((rc = cm_jv_object(&o, NULL, e)))
			return rc;
		if (c->nlisteners >= CR_MAX_CONF_LISTENERS)
			return cm_fail(e, -ENOSPC, "too many listeners");
		struct cr_listener_conf l = {.mode = mode};
		snprintf(l.policy, sizeof(l.policy), "%s", mode == CR_MODE_REVERSE ? "any" : "tdx");
		json_object_object_foreach(o.o, key, val)
		{
			struct cm_jv v = cm_jv_member(&o, key, val);
			if (!strcmp(key, "listen"))
				rc = cm_jv_strcpy(&v, l.listen, sizeof(l.listen), e);
			else if (!strcmp(key, mode == CR_MODE_REVERSE ? "backend" : "target") && mode != CR_MODE_SOCKS5)
				rc = cm_jv_strcpy(&v, l.target, sizeof(l.target), e);
			else if (!strcmp(key, "policy"))
				rc = cm_jv_strcpy(&v, l.policy, sizeof(l.policy), e);
			else if (!strcmp(key, "max_connections"))
				rc = jint(&v, 1, 1000000, &l.max_conns, e);
			else if (!strcmp(key, "serialize_info"))
				rc = jinfo(&v, &l.serialize_info, e);
			else
				rc = cm_jv_fail(&o, e, -EINVAL, "unknown key '%s'", key);
			if (rc)
				return rc;
		}
		if (!l.listen[0] || (mode != CR_MODE_SOCKS5 && !l.target[0]))
			return cm_jv_fail(&o, e, -EINVAL, "listen and %s required",
					  mode == CR_MODE_REVERSE ? "backend" : "target");
		c->listeners[c->nlisteners++] = l;
	}
	return rc;
}

static int load_policies(struct cr_config *c, const struct cm_jv *obj, struct cm_err *e)
{
	int rc = cm_jv_object(obj, NULL, e);
	if (rc)
		return rc;
	json_object_object_foreach(obj->o, name, po)
	{
		struct cm_jv pv = cm_jv_member(obj, name, po);
		struct cr_policy_conf *p = policy_slot(c, name, e);
		if (!p)
			return -EINVAL;
		if ((rc = cm_jv_object(&pv, NULL, e)))
			return rc;
		json_object_object_foreach(po, key, val)
		{
			struct cm_jv v = cm_jv_member(&pv, key, val);
			char t[16];
			if (!strcmp(key, "type"))
				rc = cm_jv_strcpy(&v, t, sizeof(t), e) ?: set_type(p, t, e);
			else if (!strcmp(key, "policy"))
				rc = cm_jv_strcpy(&v, p->measure_policy, sizeof(p->measure_policy), e);
			else if (!strcmp(key, "root"))
				rc = cm_jv_strcpy(&v, p->root, sizeof(p->root), e);
			else if (!strcmp(key, "collateral"))
				rc = cm_jv_strcpy(&v, p->collateral, sizeof(p->collateral), e);
			else if (!strcmp(key, "gpu"))
				rc = cm_jv_strcpy(&v, p->gpu, sizeof(p->gpu), e);
			else
				rc = cm_jv_fail(&pv, e, -EINVAL, "unknown key '%s'", key);
			if (rc)
				return rc;
		}
	}
	return 0;
}

#define CONFIG_MAX (1 << 20)

int cr_config_load(struct cr_config *c, const char *path, struct cm_err *e)
{
	struct cm_jv root;
	int rc = cm_json_read_file(path, CONFIG_MAX, "config", &root, e);
	if (rc)
		return rc;
	if ((rc = cm_jv_object(&root, NULL, e))) {
		cm_json_release(&root);
		return cm_err_prefix(e, "%s", path);
	}
	json_object_object_foreach(root.o, key, val)
	{
		struct cm_jv v = cm_jv_member(&root, key, val);
		struct cr_proxy_conf *x = &c->proxy;
		int bs = 0;
		if (!strcmp(key, "attest"))
			rc = cm_jv_strcpy(&v, c->attest, sizeof(c->attest), e);
		else if (!strcmp(key, "cert_dir"))
			rc = cm_jv_strcpy(&v, c->cert_dir, sizeof(c->cert_dir), e);
		else if (!strcmp(key, "event_log"))
			rc = cm_jv_strcpy(&v, c->event_log, sizeof(c->event_log), e);
		else if (!strcmp(key, "gpu_evidence"))
			rc = cm_jv_bool(&v, &c->gpu_evidence, e);
		else if (!strcmp(key, "cert_refresh"))
			rc = jint(&v, 1, 86400 / 2, &c->cert_refresh, e);
		else if (!strcmp(key, "cache_entries"))
			rc = jint(&v, 0, 1000000, &c->cache_entries, e);
		else if (!strcmp(key, "cache_ttl"))
			rc = jint(&v, 1, 86400 * 7, &c->cache_ttl, e);
		else if (!strcmp(key, "pow_difficulty"))
			rc = jint(&v, 0, CR_POW_CLIENT_MAX_DIFFICULTY, &x->pow_difficulty, e);
		else if (!strcmp(key, "pow_max"))
			rc = jint(&v, 0, CR_POW_CLIENT_MAX_DIFFICULTY, &x->pow_max, e);
		else if (!strcmp(key, "max_connections"))
			rc = jint(&v, 1, 1000000, &x->max_conns, e);
		else if (!strcmp(key, "max_pow_connections"))
			rc = jint(&v, 1, 1000000, &x->max_pow_conns, e);
		else if (!strcmp(key, "max_pow_connections_per_source"))
			rc = jint(&v, 1, 1000000, &x->max_pow_conns_per_source, e);
		else if (!strcmp(key, "handshake_timeout"))
			rc = jint(&v, 1, 3600, &x->handshake_timeout, e);
		else if (!strcmp(key, "idle_timeout"))
			rc = jint(&v, 0, 86400, &x->idle_timeout, e);
		else if (!strcmp(key, "shutdown_grace"))
			rc = jint(&v, 0, 3600, &x->shutdown_grace, e);
		else if (!strcmp(key, "buffer_size")) {
			rc = jint(&v, 4096, 1 << 24, &bs, e);
			x->buf_size = (size_t)bs;
		} else if (!strcmp(key, "log_connections"))
			rc = cm_jv_bool(&v, &x->log_connections, e);
		else if (!strcmp(key, "serialize_info"))
			rc = jinfo(&v, &x->serialize_info, e);
		else if (!strcmp(key, "policies"))
			rc = load_policies(c, &v, e);
		else if (!strcmp(key, "reverse"))
			rc = load_listeners(c, &v, CR_MODE_REVERSE, e);
		else if (!strcmp(key, "forward"))
			rc = load_listeners(c, &v, CR_MODE_FORWARD, e);
		else if (!strcmp(key, "socks5"))
			rc = load_listeners(c, &v, CR_MODE_SOCKS5, e);
		else
			rc = cm_jv_fail(&root, e, -EINVAL, "unknown key '%s'", key);
		if (rc)
			break;
	}
	cm_json_release(&root);
	return rc ? cm_err_prefix(e, "%s", path), rc : 0;
}

/* The type of the named policy, -1 when there is none. */
static int policy_type(const struct cr_config *c, const char *name)
{
	for (int j = 0; j < c->npolicies; j++)
		if (!strcmp(c->policies[j].name, name))
			return (int)c->policies[j].type;
	return -1;
}

int cr_config_check(const struct cr_config *c, struct cm_err *e)
{
	if (!c->attest[0] == !c->cert_dir[0])
		return cm_fail(e, -EINVAL, "choose exactly one certificate source: attest (tdx|sim) or cert_dir");
	if (c->attest[0] && strcmp(c->attest, "tdx") && strcmp(c->attest, "sim") && strcmp(c->attest, CR_ATTEST_FAKE_TDX))
		return cm_fail(e, -EINVAL, "attest must be tdx, sim or fake_tdx, not '%s'", c->attest);
	if (!c->nlisteners)
		return cm_fail(e, -EINVAL, "no listeners (reverse, forward or socks5)");
	if (c->proxy.max_pow_conns > c->proxy.max_conns)
		return cm_fail(e, -EINVAL, "max_pow_connections %d above max_connections %d", c->proxy.max_pow_conns,
			       c->proxy.max_conns);
	for (int i = 0; i < c->nlisteners; i++) {
		if (c->listeners[i].max_conns > c->proxy.max_conns)
			return cm_fail(e, -EINVAL, "listener %s: max_connections %d above the total %d",
				       c->listeners[i].listen, c->listeners[i].max_conns, c->proxy.max_conns);
		if (policy_type(c, c->listeners[i].policy) < 0)
			return cm_fail(e, -EINVAL, "listener %s: unknown policy '%s'", c->listeners[i].listen,
				       c->listeners[i].policy);
		/* fake peers only in test setups: an appliance that proves nothing itself */
		if (policy_type(c, c->listeners[i].policy) == CR_POLICY_FAKE_TDX && strcmp(c->attest, CR_ATTEST_FAKE_TDX))
			return cm_fail(e, -EINVAL,
				       "listener %s: policy '%s' is fake_tdx (Cocoon's test attestation, nothing verified): "
				       "allowed only with attest fake_tdx",
				       c->listeners[i].listen, c->listeners[i].policy);
	}
	return 0;
}

int cr_attest_resolve(const char *name, const char *cmdline_path, char *out, size_t n, struct cm_err *e)
{
	if (strcmp(name, "cmdline")) {
		if (out != name)
			snprintf(out, n, "%s", name);
		return 0;
	}
	/* init's own parser (guest/cmdline): the same quotes, "--" and duplicate rules */
	struct ci_cmdline c;
	if (ci_cmdline_load(cmdline_path, &c, e))
		return cm_err_prefix(e, "--attest cmdline");
	snprintf(out, n, "%s", c.attest);
	return 0;
}
