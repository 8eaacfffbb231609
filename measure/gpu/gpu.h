/* NVIDIA GPU confidential-computing evidence (specs/gpu.md): SPDM 1.1 GET_MEASUREMENTS reports,
 * the device chain to the pinned NVIDIA Device Identity CA, the offline RIM bundle (SWID XML,
 * XMLDSig ecdsa-sha384 to the pinned CoRIM root) and the GPU policy. Used by cocoon-init (the
 * collecting side) and by cocoon-measure (auditors), so both run the same verifier. */
#ifndef COCOON_MEASURE_GPU_H
#define COCOON_MEASURE_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "measure/core/json.h" /* struct cm_jv */
#include "measure/core/util.h" /* struct cm_err */

#define CM_GPU_NONCE_LEN 32
#define CM_GPU_MAX 8 /* GPUs per system */
#define CM_GPU_CHECKS_MAX 32

struct cm_gpu_evidence { /* one GPU, as NVML returns it */
	const uint8_t *report;
	size_t report_len; /* raw SPDM GET_MEASUREMENTS request + response */
	const uint8_t *chain_pem;
	size_t chain_len; /* PEM chain, leaf first */
};

enum cm_gpu_multi { CM_GPU_MULTI_NONE, CM_GPU_MULTI_PPCIE, CM_GPU_MULTI_NVLE };

struct cm_gpu_system { /* system-wide state read through NVML */
	bool cc_on, devtools_on, production_env;
	enum cm_gpu_multi multi;
	unsigned count;
	unsigned arch[CM_GPU_MAX]; /* NVML architecture ids (Hopper = 9, Blackwell = 10) */
	char driver_version[32];
};

/* The system state as JSON (system.c; `cocoon-measure gpu --system FILE`, written by cocoon-init):
 *   {"cc_on": bool, "devtools_on": bool, "production_env": bool,
 *    "multi_gpu_mode": "none"|"ppcie"|"nvle", "driver_version": "1..31 bytes",
 *    "architectures": [NVML architecture id per GPU, 0..8 entries]}   (count = entries)
 * Parse: every key required, no other key. */
json_object *cm_gpu_system_to_json(const struct cm_gpu_system *s);
int cm_gpu_system_parse(const struct cm_jv *v, struct cm_gpu_system *s, struct cm_err *e);

struct cm_gpu_policy; /* opaque */
/* Parse the "gpu_policy" object of the measured spec (or an auditor's file). Unknown keys refused. */
int cm_gpu_policy_parse(const struct cm_jv *v, struct cm_gpu_policy **out, struct cm_err *e);
/* Production defaults: 1..8 Hopper GPUs, CC on, dev tools off, production env, PPCIe refused,
 * FWID required, pinned NVIDIA roots built in, RIM comparison required when a RIM bundle is given. */
int cm_gpu_policy_default(struct cm_gpu_policy **out, struct cm_err *e);
/* Directory of the offline RIM bundle (driver + VBIOS swidtags [+ OCSP responses]); NULL = none. */
int cm_gpu_policy_set_rim_dir(struct cm_gpu_policy *p, const char *dir, struct cm_err *e);
void cm_gpu_policy_free(struct cm_gpu_policy *p);
/* Trust anchors instead of the pinned NVIDIA Device Identity CA / CoRIM root (tests; NULL keeps
 * the pinned one). The policy takes its own references. 0 or -ENOMEM. */
int cm_gpu_policy_set_roots(struct cm_gpu_policy *p, X509 *device_root, X509 *rim_root);

struct cm_gpu_result { /* claims of one verified GPU */
	char driver_version[32], vbios_version[32];
	char project[16], project_sku[16], chip_sku[16];
	uint8_t fwid[48];
	bool has_fwid;
	char hwmodel[64];             /* e.g. "GH100 A01 GSP BROM" */
	char ueid[64];                /* leaf serial, decimal */
	bool rim_driver_ok, rim_vbios_ok; /* measurement comparison done and passed */
	/* Beyond the interface contract: what the verifier saw and did, in order. */
	char driver_rim_id[64], vbios_rim_id[64];
	unsigned n_blocks, n_opaque_fields;
	int nvdec0_status, feature_flag, opaque_version, ppcie_status; /* -1: absent */
	unsigned n_checks;
	struct cm_gpu_check {
		const char *name;   /* "report", "nonce", "chain", "signature", "fwid", ... */
		const char *status; /* "pass", "fail", "skipped" */
		char detail[160];
	} checks[CM_GPU_CHECKS_MAX];
};

/* System pre-check (before any per-GPU evidence): CC mode, dev tools, env, multi-GPU mode,
 * count and architectures against the policy. Fails naming the check ("gpu_cc_mode", ...). */
int cm_gpu_check_system(const struct cm_gpu_system *s, const struct cm_gpu_policy *p, struct cm_err *e);

/* Full verification of one GPU's evidence for the caller's nonce at time now (unix seconds):
 * SPDM parse, request nonce, chain to the pinned root, leaf signature, FWID, opaque data,
 * RIMs, policy. Fails naming the check ("gpu_nonce", "gpu_chain", "gpu_signature", "gpu_fwid",
 * "gpu_rim_*", "gpu_policy_*"). */
int cm_gpu_verify(const struct cm_gpu_evidence *ev, const uint8_t nonce[CM_GPU_NONCE_LEN],
		  const struct cm_gpu_policy *p, int64_t now, struct cm_gpu_result *res, struct cm_err *e);

/* The GPU count against the policy's count_min..count_max ("gpu_count"). */
int cm_gpu_check_count(const struct cm_gpu_policy *p, unsigned count, struct cm_err *e);

/* Adds the claims (driver_version, vbios_version, project, project_sku, chip_sku, fwid,
 * hwmodel, ueid, RIM ids and results, opaque flags) and "checks" (name, status, detail in
 * order) of r to obj. */
void cm_gpu_result_to_json(const struct cm_gpu_result *r, json_object *obj);

/* A failed check that is a policy decision (valid evidence the policy refuses: verdict
 * "rejected") rather than broken or untrusted evidence ("invalid"). */
bool cm_gpu_check_is_policy(const char *check);

#endif
