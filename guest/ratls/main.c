/* cocoon-ratls: the appliance's RA-TLS server, forwarder and SOCKS5 proxy (docs/ratls.md).
 *
 *   cocoon-ratls gen-cert --attest tdx|sim|fake_tdx --out DIR [--event-log F] [--gpu-evidence] [--current-time T] [--json]
 *   cocoon-ratls run [--config FILE] [-R LISTEN:BACKEND[@POLICY]] [-F LISTEN:TARGET[@POLICY]]
 *                    [-S LISTEN[@POLICY]] [--attest tdx|sim|fake_tdx | --cert-dir DIR] [options]
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "build_info.h"
#include "guest/attest/attest.h"
#include "guest/gpu/nvml.h"
#include "guest/ratls/config.h"
#include "guest/ratls/fake_tdx.h"
#include "guest/ratls/identity.h"
#include "guest/ratls/log.h"
#include "guest/ratls/proxy.h"
#include "measure/core/json.h"
#include "measure/core/opts.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/gpuext.h"
#include "measure/ratls/peer.h"

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: cocoon-ratls gen-cert --attest tdx|sim|fake_tdx|cmdline --out DIR [--event-log FILE] [--gpu-evidence]\n"
		"                             [--current-time UNIX] [--json]\n"
		"       cocoon-ratls run [--config FILE] [-R [HOST:]PORT:BACKEND[@POLICY]]... [-F [HOST:]PORT:TARGET[@POLICY]]...\n"
		"                        [-S [HOST:]PORT[@POLICY]]... [--attest tdx|sim|fake_tdx|cmdline | --cert-dir DIR] [--event-log FILE]\n"
		"                        [--policy NAME=TYPE[,root=PEM][,collateral=PATH][,policy=JSON][,gpu=default|JSON]]...\n"
		"                        [--pow-difficulty N] [--pow-max N] [--max-conns N] [--max-pow-conns N]\n"
		"                        [--max-pow-conns-per-source N] [--handshake-timeout S]\n"
		"                        [--idle-timeout S] [--shutdown-grace S] [--buffer BYTES] [--cert-refresh S]\n"
		"                        [--log-connections] [--serialize-info | --no-serialize-info] [--gpu-evidence]\n"
		"       (-R, -F, -S are also --reverse, --forward, --socks5; flags apply over --config's file)\n\n"
		"RA-TLS (Cocoon-compatible: PoW preamble, TLS 1.3, attested Ed25519 certificates) in front of\n"
		"the inference engine. Policies: built-in 'any' (no quote needed), 'tdx' (DCAP-verified quote,\n"
		"Intel root) and 'fake_tdx' (Cocoon's test attestation: only with --attest fake_tdx); reverse\n"
		"listeners default to 'any', forward/socks5 to 'tdx'. See docs/ratls.md.\n");
	return rc;
}

/* "error: <what> (<why>)" */
static int die(const char *what, const char *why)
{
	fprintf(stderr, "error: %s (%s)\n", what, why);
	return 1;
}

/* Read a subcommand's options (measure/core/opts.h); it takes no operands. 0, or 1 with *rc
 * set: help printed (0) or a usage error (2). */
static int parse_opts(const char *cmd, int argc, char **argv, const struct cm_opt *opts, int *rc)
{
	char msg[256];
	switch (cm_opts_parse(argc, argv, opts, msg, sizeof(msg))) {
	case CM_OPTS_HELP:
		*rc = usage(stdout, 0);
		return 1;
	case CM_OPTS_DONE:
		if (optind == argc)
			return 0;
		snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
		break;
	default:
		break;
	}
	fprintf(stderr, "error: %s (see: cocoon-ratls %s --help)\n", msg, cmd);
	*rc = 2;
	return 1;
}

/* ---- gen-cert ------------------------------------------------------------------------- */

static int cmd_gen_cert(int argc, char **argv)
{
	const char *attest = NULL, *out = NULL, *evlog = NULL;
	int64_t now = 0;
	int json = 0, gpu = 0, rc;
	const struct cm_opt opts[] = {
		CM_OPT_STR("attest", 0, &attest),
		CM_OPT_STR("out", 0, &out),
		CM_OPT_STR("event-log", 0, &evlog),
		CM_OPT_TIME("current-time", 0, &now, 1),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_FLAG("gpu-evidence", 0, &gpu),
		CM_OPT_HELP(0),
		CM_OPT_END,
	};
	if (parse_opts("gen-cert", argc, argv, opts, &rc))
		return rc;
	if (!attest || !out)
		return die("gen-cert needs --attest and --out", "see: cocoon-ratls --help"), 2;
	/* --current-time is the certificate's notBefore as given; by default, now backdated */
	time_t nb = now ? (time_t)now : time(NULL) - CR_CERT_BACKDATE;
	char abuf[32];
	struct cm_err e = {0};
	if (cr_attest_resolve(attest, "/proc/cmdline", abuf, sizeof(abuf), &e))
		return die("no quote backend", e.msg);
	attest = abuf;
	struct ca_backend *b = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	uint8_t ih[CM_IMAGE_HASH_LEN];
	if (!strcmp(attest, CR_ATTEST_FAKE_TDX)) {
		rc = cr_identity_generate_fake(nb, &key, &cert, ih, &e);
	} else {
		rc = ca_open(attest, NULL, &b, &e);
		if (!rc)
			rc = cr_identity_generate(b, evlog, gpu ? CG_NVML_LIB : NULL, nb, &key, &cert, ih, &e);
	}
	if (!rc) {
		mkdir(out, 0755);
		rc = cr_cert_write(out, key, cert, &e);
	}
	if (b)
		ca_close(b);
	EVP_PKEY_free(key);
	X509_free(cert);
	if (rc)
		return die("gen-cert failed", e.msg);
	char hex[65];
	cm_hex_encode(ih, sizeof(ih), hex, sizeof(hex));
	if (json) {
		json_object *j = json_object_new_object();
		json_object_object_add(j, "image_hash", json_object_new_string(hex));
		json_object_object_add(j, "cert", json_object_new_string(out));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		printf("image_hash: %s\n", hex);
	}
	return 0;
}

/* ---- run -------------------------------------------------------------------------------- */

struct runtime {
	struct cr_config *conf;
	struct cr_verifier *verifier;
	struct ca_backend *backend;
	bool fake;              /* attest fake_tdx: generated like a backend's, without one */
	time_t next_refresh;
	struct timespec cert_mtime;
};

static int install_identity(struct cr_proxy *px, struct runtime *rt, struct cm_err *e)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc;
	char hex[65] = "-";
	if (rt->backend || rt->fake) {
		uint8_t ih[CM_IMAGE_HASH_LEN];
		time_t nb = time(NULL) - CR_CERT_BACKDATE;
		rc = rt->fake ? cr_identity_generate_fake(nb, &key, &cert, ih, e)
			      : cr_identity_generate(rt->backend, rt->conf->event_log,
						     rt->conf->gpu_evidence ? CG_NVML_LIB : NULL, nb, &key, &cert, ih, e);
		if (!rc)
			cm_hex_encode(ih, sizeof(ih), hex, sizeof(hex));
	} else {
		rc = cr_cert_load(rt->conf->cert_dir, &key, &cert, e);
	}
	if (!rc)
		rc = cr_proxy_set_identity(px, cert, key, e);
	if (!rc)
		cr_log("info", "certificate_installed", "source=%s image_hash=%s",
		       rt->backend || rt->fake ? rt->conf->attest : rt->conf->cert_dir, hex);
	EVP_PKEY_free(key);
	X509_free(cert);
	return rc;
}

static struct timespec cert_mtime(const char *dir)
{
	char p[PATH_MAX + 16];
	struct stat st;
	snprintf(p, sizeof(p), "%s/cert.pem", dir);
	if (stat(p, &st))
		return (struct timespec){0};
	return st.st_mtim;
}

static void tick(struct cr_proxy *px, void *arg)
{
	struct runtime *rt = arg;
	struct cm_err e = {0};
	time_t now = time(NULL);
	bool generated = rt->backend || rt->fake;
	if (generated && now >= rt->next_refresh) {
		rt->next_refresh = now + rt->conf->cert_refresh;
		if (install_identity(px, rt, &e))
			cr_log("error", "certificate_refresh_failed", "error=\"%s\"", e.msg); /* keep the old one */
	} else if (!generated) {
		struct timespec m = cert_mtime(rt->conf->cert_dir);
		if (m.tv_sec != rt->cert_mtime.tv_sec || m.tv_nsec != rt->cert_mtime.tv_nsec) {
			/* retried every second until the pair loads (a writer may be mid-update) */
			if (install_identity(px, rt, &e))
				cr_log("error", "certificate_reload_failed", "error=\"%s\"", e.msg);
			else
				rt->cert_mtime = m;
		}
	}
	int r = cr_verifier_refresh(rt->verifier, &e);
	if (r > 0)
		cr_log("info", "collateral_reloaded", "policies=%d", r);
	else if (r < 0)
		cr_log("error", "collateral_reload_failed", "error=\"%s\"", e.msg);
}

/* run's options: read first, applied over --config's file (the flags win), listeners and
 * policies after the file's, in the order given. */
#define UNSET UINT_MAX /* an unsigned option not given (outside every range below) */
struct run_opts {
	const char *config;
	/* copied into conf when not empty (an empty one is the file's or the default) */
	char attest[sizeof(((struct cr_config *)0)->attest)];
	char cert_dir[sizeof(((struct cr_config *)0)->cert_dir)];
	char event_log[sizeof(((struct cr_config *)0)->event_log)];
	struct {
		enum cr_mode mode;
		const char *spec;
	} listeners[CR_MAX_CONF_LISTENERS];
	size_t nlisteners;
	const char *policy_v[CR_MAX_CONF_POLICIES];
	struct cm_opt_list policies;
	unsigned pow_difficulty, pow_max, max_conns, max_pow_conns, max_pow_conns_per_source;
	unsigned handshake_timeout, idle_timeout, shutdown_grace, buffer, cert_refresh;
	int log_connections, serialize_info, no_serialize_info, gpu_evidence;
};

static int add_listener(struct run_opts *r, enum cr_mode mode, const char *spec)
{
	if (r->nlisteners == CR_MAX_CONF_LISTENERS)
		return -E2BIG;
	r->listeners[r->nlisteners].mode = mode;
	r->listeners[r->nlisteners++].spec = spec;
	return 0;
}
static int add_reverse(const char *v, void *r) { return add_listener(r, CR_MODE_REVERSE, v); }
static int add_forward(const char *v, void *r) { return add_listener(r, CR_MODE_FORWARD, v); }
static int add_socks5(const char *v, void *r) { return add_listener(r, CR_MODE_SOCKS5, v); }

/* The options of r over conf (already holding the defaults and the --config file). */
static int apply_run_opts(const struct run_opts *r, struct cr_config *c, struct cm_err *e)
{
	struct cr_proxy_conf *x = &c->proxy;
	const struct {
		unsigned v;
		int *dst;
	} ints[] = {
		{ r->pow_difficulty, &x->pow_difficulty },
		{ r->pow_max, &x->pow_max },
		{ r->max_conns, &x->max_conns },
		{ r->max_pow_conns, &x->max_pow_conns },
		{ r->max_pow_conns_per_source, &x->max_pow_conns_per_source },
		{ r->handshake_timeout, &x->handshake_timeout },
		{ r->idle_timeout, &x->idle_timeout },
		{ r->shutdown_grace, &x->shutdown_grace },
		{ r->cert_refresh, &c->cert_refresh },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (ints[i].v != UNSET)
			*ints[i].dst = (int)ints[i].v; /* every range below is within INT_MAX */
	if (r->buffer != UNSET)
		x->buf_size = r->buffer;
	if (r->log_connections)
		x->log_connections = true;
	if (r->serialize_info)
		x->serialize_info = CR_INFO_ON;
	if (r->no_serialize_info)
		x->serialize_info = CR_INFO_OFF;
	if (r->gpu_evidence)
		c->gpu_evidence = true;
	if (r->attest[0])
		memcpy(c->attest, r->attest, sizeof(c->attest)); /* the same sizes: struct run_opts */
	if (r->cert_dir[0])
		memcpy(c->cert_dir, r->cert_dir, sizeof(c->cert_dir));
	if (r->event_log[0])
		memcpy(c->event_log, r->event_log, sizeof(c->event_log));
	for (size_t i = 0; i < r->policies.n; i++)
		if (cr_config_add_policy_spec(c, r->policies.v[i], e))
			return -EINVAL;
	for (size_t i = 0; i < r->nlisteners; i++)
		if (cr_config_add_listener_spec(c, r->listeners[i].mode, r->listeners[i].spec, e))
			return -EINVAL;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static struct run_opts r;
	r = (struct run_opts){
		.policies = CM_OPT_LIST_OF(r.policy_v),
		.pow_difficulty = UNSET, .pow_max = UNSET, .max_conns = UNSET, .max_pow_conns = UNSET,
		.max_pow_conns_per_source = UNSET, .handshake_timeout = UNSET, .idle_timeout = UNSET,
		.shutdown_grace = UNSET, .buffer = UNSET, .cert_refresh = UNSET,
	};
	_Static_assert(CR_MAX_CONF_LISTENERS == 64, "the text below");
	const char *const listeners = "a listener spec, at most 64 of them";
	const struct cm_opt opts[] = {
		CM_OPT_STR("config", 0, &r.config),
		CM_OPT_PARSE("reverse", 'R', &r, add_reverse, listeners),
		CM_OPT_PARSE("forward", 'F', &r, add_forward, listeners),
		CM_OPT_PARSE("socks5", 'S', &r, add_socks5, listeners),
		CM_OPT_BUF("attest", 0, r.attest),
		CM_OPT_BUF("cert-dir", 0, r.cert_dir),
		CM_OPT_BUF("event-log", 0, r.event_log),
		CM_OPT_LIST("policy", 0, &r.policies),
		CM_OPT_UINT("pow-difficulty", 0, &r.pow_difficulty, 0, 28, "bits"),
		CM_OPT_UINT("pow-max", 0, &r.pow_max, 0, 28, "bits"),
		CM_OPT_UINT("max-conns", 0, &r.max_conns, 1, 1000000, NULL),
		CM_OPT_UINT("max-pow-conns", 0, &r.max_pow_conns, 1, 1000000, NULL),
		CM_OPT_UINT("max-pow-conns-per-source", 0, &r.max_pow_conns_per_source, 1, 1000000, NULL),
		CM_OPT_UINT("handshake-timeout", 0, &r.handshake_timeout, 1, 3600, "seconds"),
		CM_OPT_UINT("idle-timeout", 0, &r.idle_timeout, 0, 86400, "seconds"),
		CM_OPT_UINT("shutdown-grace", 0, &r.shutdown_grace, 0, 3600, "seconds"),
		CM_OPT_UINT("buffer", 0, &r.buffer, 4096, 1 << 24, "bytes"),
		CM_OPT_UINT("cert-refresh", 0, &r.cert_refresh, 1, 43200, "seconds"),
		CM_OPT_FLAG("log-connections", 0, &r.log_connections),
		CM_OPT_FLAG("serialize-info", 0, &r.serialize_info),
		CM_OPT_FLAG("no-serialize-info", 0, &r.no_serialize_info),
		CM_OPT_FLAG("gpu-evidence", 0, &r.gpu_evidence),
		CM_OPT_HELP(0),
		CM_OPT_END,
	};
	int prc;
	if (parse_opts("run", argc, argv, opts, &prc))
		return prc;
	if (r.serialize_info && r.no_serialize_info)
		return die("bad options", "--serialize-info and --no-serialize-info exclude each other"), 2;
	static struct cr_config conf;
	cr_config_defaults(&conf);
	struct cm_err e = {0};
	if (r.config && cr_config_load(&conf, r.config, &e))
		return die("invalid configuration", e.msg);
	if (apply_run_opts(&r, &conf, &e))
		return die("invalid configuration", e.msg), 2;
	if (conf.attest[0] &&
	    cr_attest_resolve(conf.attest, "/proc/cmdline", conf.attest, sizeof(conf.attest), &e))
		return die("no quote backend", e.msg), 2;
	if (cr_config_check(&conf, &e))
		return die("invalid configuration", e.msg), 2;

	struct runtime rt = {.conf = &conf};
	int rc = 1;
	struct cr_proxy *px = NULL;
	rt.verifier = cr_verifier_new((size_t)conf.cache_entries, conf.cache_ttl, &e);
	if (!rt.verifier)
		goto out;
	for (int i = 0; i < conf.npolicies; i++)
		if (cr_verifier_add_policy(rt.verifier, &conf.policies[i], &e))
			goto out;
	/* the host sets the clock: never verify at a time before the build or the newest
	 * collateral issueDate, and never go back in time (docs/threat-model.md "Time") */
	cr_verifier_time_floor(rt.verifier, (int64_t)COCOON_BUILD_TIME);
	cr_log("info", "time_floor", "floor=%lld build_time=%lld", (long long)cr_verifier_time(rt.verifier, 0),
	       (long long)COCOON_BUILD_TIME);
	/* production peer policies name the images they accept (docs/ratls.md) */
	for (int i = 0; i < conf.nlisteners; i++)
		if (cr_policy_check_pinned(cr_verifier_policy(rt.verifier, conf.listeners[i].policy), &e)) {
			cm_err_prefix(&e, "listener %s", conf.listeners[i].listen);
			goto out;
		}
	px = cr_proxy_new(&conf.proxy, rt.verifier, &e);
	if (!px)
		goto out;
	rt.fake = !strcmp(conf.attest, CR_ATTEST_FAKE_TDX);
	if (conf.attest[0] && !rt.fake && ca_open(conf.attest, NULL, &rt.backend, &e))
		goto out;
	if (install_identity(px, &rt, &e))
		goto out;
	rt.next_refresh = time(NULL) + conf.cert_refresh;
	if (!rt.backend && !rt.fake)
		rt.cert_mtime = cert_mtime(conf.cert_dir);
	for (int i = 0; i < conf.nlisteners; i++) {
		if (cr_proxy_add_listener(px, &conf.listeners[i], &e))
			goto out;
		cr_log("info", "listening", "mode=%s listen=%s port=%d target=%s policy=%s",
		       conf.listeners[i].mode == CR_MODE_REVERSE ? "reverse"
		       : conf.listeners[i].mode == CR_MODE_FORWARD ? "forward" : "socks5",
		       conf.listeners[i].listen, cr_proxy_listener_port(px, i),
		       conf.listeners[i].target[0] ? conf.listeners[i].target : "-", conf.listeners[i].policy);
	}
	if (cr_proxy_run(px, tick, &rt, &e))
		goto out;
	rc = 0;
out:
	if (rc)
		cr_log("error", "fatal", "error=\"%s\"", e.msg);
	cr_proxy_free(px);
	if (rt.backend)
		ca_close(rt.backend);
	cr_verifier_free(rt.verifier);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr, 2);
	cr_verifier_set_gpu(cr_gpu_ext_verify); /* peer policies with "gpu" (peer.h) */
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "--version")) {
		printf("cocoon-ratls %s\n", COCOON_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "gen-cert"))
		return cmd_gen_cert(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr, "error: unknown command '%s' (see: cocoon-ratls --help)\n", argv[1]);
	return 2;
}
