/* cocoon-ratls: the appliance's RA-TLS server, forwarder and SOCKS5 proxy (docs/ratls.md).
 *
 *   cocoon-ratls gen-cert --attest tdx|sim|fake_tdx --out DIR [--event-log F] [--gpu-evidence] [--current-time T] [--json]
 *   cocoon-ratls run [--config FILE] [-R LISTEN:BACKEND[@POLICY]] [-F LISTEN:TARGET[@POLICY]]
 *                    [-S LISTEN[@POLICY]] [--attest tdx|sim|fake_tdx | --cert-dir DIR] [options]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
		"                        [--log-connections] [--serialize-info | --no-serialize-info] [--gpu-evidence]\n\n"
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

/* ---- gen-cert ------------------------------------------------------------------------- */

static int cmd_gen_cert(int argc, char **argv)
{
	static const struct option opts[] = {
		{"attest", required_argument, NULL, 'a'}, {"out", required_argument, NULL, 'o'},
		{"event-log", required_argument, NULL, 'l'}, {"current-time", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
		{"gpu-evidence", no_argument, NULL, 'g'}, {0},
	};
	const char *attest = NULL, *out = NULL, *evlog = NULL;
	time_t nb = time(NULL) - CR_CERT_BACKDATE;
	int json = 0, gpu = 0, o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a': attest = optarg; break;
		case 'g': gpu = 1; break;
		case 'o': out = optarg; break;
		case 'l': evlog = optarg; break;
		case 't': {
			char *end;
			long long t = strtoll(optarg, &end, 10);
			if (*end || t <= 0)
				return die("bad --current-time", optarg), 2;
			nb = (time_t)t;
			break;
		}
		case 'j': json = 1; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	if (!attest || !out || optind != argc)
		return usage(stderr, 2);
	char abuf[32];
	struct cm_err e = {0};
	if (cr_attest_resolve(attest, "/proc/cmdline", abuf, sizeof(abuf), &e))
		return die("no quote backend", e.msg);
	attest = abuf;
	struct ca_backend *b = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	uint8_t ih[CM_IMAGE_HASH_LEN];
	int rc;
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

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"attest", required_argument, NULL, 'a'},
		{"cert-dir", required_argument, NULL, 'd'}, {"event-log", required_argument, NULL, 'l'},
		{"policy", required_argument, NULL, 'p'}, {"pow-difficulty", required_argument, NULL, 1},
		{"pow-max", required_argument, NULL, 2}, {"max-conns", required_argument, NULL, 3},
		{"handshake-timeout", required_argument, NULL, 4}, {"idle-timeout", required_argument, NULL, 5},
		{"shutdown-grace", required_argument, NULL, 6}, {"buffer", required_argument, NULL, 7},
		{"cert-refresh", required_argument, NULL, 8}, {"log-connections", no_argument, NULL, 9},
		{"gpu-evidence", no_argument, NULL, 14},
		{"serialize-info", no_argument, NULL, 10}, {"max-pow-conns", required_argument, NULL, 11},
		{"max-pow-conns-per-source", required_argument, NULL, 12}, {"no-serialize-info", no_argument, NULL, 13},
		{"help", no_argument, NULL, 'h'}, {0},
	};
	static struct cr_config conf;
	cr_config_defaults(&conf);
	struct cm_err e = {0};
	/* --config first, so flags override it */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config") && cr_config_load(&conf, argv[i + 1], &e))
			return die("invalid configuration", e.msg);
	int o, bad = 0, v;
	while ((o = getopt_long(argc, argv, "R:F:S:", opts, NULL)) != -1) {
		int rc = 0;
		struct cr_proxy_conf *x = &conf.proxy;
		switch (o) {
		case 'c': break;
		case 'R': rc = cr_config_add_listener_spec(&conf, CR_MODE_REVERSE, optarg, &e); break;
		case 'F': rc = cr_config_add_listener_spec(&conf, CR_MODE_FORWARD, optarg, &e); break;
		case 'S': rc = cr_config_add_listener_spec(&conf, CR_MODE_SOCKS5, optarg, &e); break;
		case 'a': snprintf(conf.attest, sizeof(conf.attest), "%s", optarg); break;
		case 'd': snprintf(conf.cert_dir, sizeof(conf.cert_dir), "%s", optarg); break;
		case 'l': snprintf(conf.event_log, sizeof(conf.event_log), "%s", optarg); break;
		case 'p': rc = cr_config_add_policy_spec(&conf, optarg, &e); break;
		case 1: bad |= parse_int(optarg, 0, 28, &x->pow_difficulty); break;
		case 2: bad |= parse_int(optarg, 0, 28, &x->pow_max); break;
		case 3: bad |= parse_int(optarg, 1, 1000000, &x->max_conns); break;
		case 4: bad |= parse_int(optarg, 1, 3600, &x->handshake_timeout); break;
		case 5: bad |= parse_int(optarg, 0, 86400, &x->idle_timeout); break;
		case 6: bad |= parse_int(optarg, 0, 3600, &x->shutdown_grace); break;
		case 7: bad |= parse_int(optarg, 4096, 1 << 24, &v); x->buf_size = (size_t)v; break;
		case 8: bad |= parse_int(optarg, 1, 43200, &conf.cert_refresh); break;
		case 9: x->log_connections = true; break;
		case 10: x->serialize_info = CR_INFO_ON; break;
		case 13: x->serialize_info = CR_INFO_OFF; break;
		case 11: bad |= parse_int(optarg, 1, 1000000, &x->max_pow_conns); break;
		case 12: bad |= parse_int(optarg, 1, 1000000, &x->max_pow_conns_per_source); break;
		case 14: conf.gpu_evidence = true; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
		if (rc)
			return die("invalid configuration", e.msg), 2;
		if (bad)
			return die("bad option value", argv[optind - 1]), 2;
	}
	if (optind != argc)
		return usage(stderr, 2);
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
