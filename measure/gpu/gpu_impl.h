/* measure/gpu internals shared by its files (not a public header):
 *   roots.c   the pinned NVIDIA roots
 *   device.c  time-checked chains, ECDSA-P384 raw r‖s, the device chain, FWID, claims
 *   rim.c     RIM (SWID XML) parsing, XMLDSig, measurement comparison (rim.h)
 *   ocsp.c    the offline OCSP response bundle
 *   policy.c  the GPU policy and the NVML system pre-check
 *   verify.c  cm_gpu_verify: the steps in order */
#ifndef COCOON_MEASURE_GPU_IMPL_H
#define COCOON_MEASURE_GPU_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "measure/gpu/gpu.h"
#include "measure/gpu/spdm.h"

#define CM_GPU_CHAIN_LEN 5     /* leaf, BROM, Provisioner ICA, GH100 Identity, root copy */
#define CM_GPU_VERSIONS_MAX 32 /* allow-list entries */
#define CM_GPU_RIM_PINS_MAX 64

enum { CM_GPU_RIM_DRIVER = 1, CM_GPU_RIM_VBIOS = 2 };

struct cm_gpu_policy {
	unsigned count_min, count_max;
	uint32_t arch_mask; /* bit n: NVML architecture id n allowed */
	bool cc_required, devtools_allowed, production_required, ppcie_allowed, nvle_allowed;
	bool fwid_required, ocsp_required;
	int rim_required;  /* -1: both when a bundle is given, none otherwise; else CM_GPU_RIM_* mask */
	bool rim_time_fixed;
	int64_t rim_time;  /* RIM signer chains are checked at this time when rim_time_fixed */
	size_t n_drivers, n_vbios, n_rim_pins;
	char drivers[CM_GPU_VERSIONS_MAX][32];
	char vbios[CM_GPU_VERSIONS_MAX][32];
	uint8_t rim_pins[CM_GPU_RIM_PINS_MAX][32]; /* SHA-256 of the RIM files allowed; none = any */
	char *rim_dir;
	X509 *device_root, *rim_root;
};

/* ---- roots.c ---- */
extern const char cm_gpu_device_root_pem[];
extern const char cm_gpu_rim_root_pem[];

/* ---- device.c ---- */
X509 *cm_gpu_pem_cert(const char *pem);
/* Verify leaf via untrusted to root alone, at time at (unix seconds), X.509 strict; the
 * X509_V_ERR code (0 = ok). */
int cm_gpu_chain_verify_at(X509 *root, X509 *leaf, STACK_OF(X509) *untrusted, int64_t at);
/* ECDSA-P384/SHA-384 of msg with a raw r‖s signature: 1 valid, 0 invalid, negative on error. */
int cm_gpu_p384_verify(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t sig[96]);
bool cm_gpu_is_p384(EVP_PKEY *key);
/* The device chain (5 certificates, the last the pinned root, time-checked). "gpu_chain". */
int cm_gpu_device_chain(STACK_OF(X509) *chain, X509 *root, int64_t now, struct cm_err *e);
/* The leaf's 48-byte FWID: Hopper, the end of its 2.23.133.5.4.1 extension; Blackwell, the
 * first FWID of its 2.23.133.5.4.1.1 DICE TcbInfo; -ENOENT without either. */
int cm_gpu_leaf_fwid(X509 *leaf, uint8_t out[48], struct cm_err *e);
/* hwmodel (CN of cert[1]) and ueid (leaf serial, decimal). */
int cm_gpu_claims(STACK_OF(X509) *chain, struct cm_gpu_result *res, struct cm_err *e);

/* ---- policy.c ---- */
/* The hwmodel prefix of an NVML architecture ("GH100 " for Hopper), NULL when unknown. */
const char *cm_gpu_arch_chip(unsigned id);
/* v in the allow-list (case-insensitive); an empty list allows all. */
bool cm_gpu_version_allowed(char (*list)[32], size_t n, const char *v);

/* ---- ocsp.c ---- */
/* The revocation status of cert (issued by issuer) from the OCSP responses in dir/ocsp/,
 * signed under root, valid at now: 1 good, 0 no response for it; fails "gpu_ocsp". */
int cm_gpu_ocsp_status(const char *dir, X509 *cert, X509 *issuer, STACK_OF(X509) *chain, X509 *root,
		       int64_t now, struct cm_err *e);

#endif
