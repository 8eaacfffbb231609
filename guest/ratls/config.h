/* cocoon-ratls configuration: a JSON file and/or command-line flags (docs/ratls.md).
 *
 * {
 *   "attest": "tdx" | "sim" | "fake_tdx",  quote backend for in-process certificates, or
 *   "cert_dir": "/run/cocoon/tls",      cert.pem/key.pem made by `gen-cert` (reloaded on change)
 *   "event_log": "/run/cocoon/rtmr3.log",  embedded in generated certificates
 *   "gpu_evidence": false,              true: every generated certificate carries fresh evidence
 *                                       of every GPU (extension 1.3.6.1.4.1.12345.3.2)
 *   "cert_refresh": 3600,               seconds between generated certificates
 *   "pow_difficulty": 20, "pow_max": 28,
 *   "max_connections": 4096, "handshake_timeout": 10, "idle_timeout": 300,
 *   "max_pow_connections": 1024 (default max_connections / 4),
 *   "max_pow_connections_per_source": 64,
 *   "shutdown_grace": 10, "buffer_size": 16384, "cache_entries": 10000, "cache_ttl": 3600,
 *   "log_connections": false,
 *   "serialize_info": true|false  (default: on for reverse listeners, off for the others),
 *   "policies": { "NAME": { "type": "tdx"|"any"|"fake_tdx", "policy": "measure-policy.json",
 *                           "root": "root.pem", "collateral": "/run/cocoon/collateral",
 *                           "gpu": "default" | "gpu-policy.json" (require the peer's GPUs) } },
 *   "reverse": [ { "listen": "0.0.0.0:11001", "backend": "127.0.0.1:11101", "policy": "NAME",
 *                  "max_connections": 3072 (default: 3/4 of the total; forward/socks5: all),
 *                  "serialize_info": true (this listener's; any listener may say it) } ],
 *   "forward": [ { "listen": "127.0.0.1:9000", "target": "10.0.0.2:11001", "policy": "NAME" } ],
 *   "socks5":  [ { "listen": "127.0.0.1:8116", "policy": "NAME" } ]
 * }
 * Unknown keys are errors. Built-in policies: "any", "tdx" (Intel root, default
 * libmeasure policy, no collateral unless configured; it names no image, so a listener
 * cannot use it until it is redefined with an allowlist: cr_policy_check_pinned) and
 * "fake_tdx" (Cocoon's test attestation, measure/ratls/peer.h; a listener may use a
 * fake_tdx policy only with attest "fake_tdx"). */
#ifndef COCOON_RATLS_CONFIG_H
#define COCOON_RATLS_CONFIG_H

#include "guest/ratls/proxy.h"
#include "measure/ratls/peer.h"

#define CR_MAX_CONF_POLICIES 16
#define CR_MAX_CONF_LISTENERS 64

struct cr_config {
	char attest[16];
	char cert_dir[PATH_MAX];
	char event_log[PATH_MAX];
	bool gpu_evidence;           /* GPU evidence in generated certificates (NVML) */
	int cert_refresh;
	int cache_entries, cache_ttl;
	struct cr_proxy_conf proxy;
	int npolicies;
	struct cr_policy_conf policies[CR_MAX_CONF_POLICIES];
	int nlisteners;
	struct cr_listener_conf listeners[CR_MAX_CONF_LISTENERS];
};

void cr_config_defaults(struct cr_config *c);
int cr_config_load(struct cr_config *c, const char *path, struct cm_err *e);
/* "LISTEN:TARGET[@POLICY]" (reverse/forward) or "LISTEN[@POLICY]" (socks5). */
int cr_config_add_listener_spec(struct cr_config *c, enum cr_mode mode, const char *spec, struct cm_err *e);
/* "NAME=TYPE[,root=PEM][,collateral=PATH][,policy=JSON][,gpu=default|JSON]" */
int cr_config_add_policy_spec(struct cr_config *c, const char *spec, struct cm_err *e);
/* The quote backend named by --attest/"attest": "cmdline" is the backend cocoon-init uses,
 * cocoon.attest= on the kernel command line read from cmdline_path (/proc/cmdline);
 * any other name is copied as is. */
int cr_attest_resolve(const char *name, const char *cmdline_path, char *out, size_t n, struct cm_err *e);
/* Validate (ranges, listener policies exist, identity source chosen). */
int cr_config_check(const struct cr_config *c, struct cm_err *e);

#endif
