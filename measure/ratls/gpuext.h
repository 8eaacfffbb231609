/* GPU evidence in the RA-TLS certificate: the non-critical extension 1.3.6.1.4.1.12345.3.2
 * (docs/formats.md "GPU evidence extension"). cocoon-ratls puts in it, at each certificate
 * renewal, fresh evidence of every GPU for the nonce SHA-256(DER SubjectPublicKeyInfo of the
 * certificate's key), so the evidence is bound to the key the quote binds; peers and
 * `cocoon-measure cert` verify it with libmeasure's GPU verifier (measure/gpu/gpu.h).
 *
 *   CocoonGpuEvidence ::= SEQUENCE {
 *     version   INTEGER (1),
 *     system    SEQUENCE {                       -- what the TD's NVML reported
 *       ccOn BOOLEAN, devToolsOn BOOLEAN, productionEnv BOOLEAN,
 *       multiGpuMode INTEGER (0 none, 1 protected PCIe, 2 NVLE),
 *       driverVersion UTF8String (SIZE (1..31)) },
 *     gpus      SEQUENCE SIZE (1..8) OF SEQUENCE {
 *       architecture INTEGER (0..4294967295),   -- NVML id: 9 Hopper, 10 Blackwell
 *       report       OCTET STRING (SIZE (1..8192)),  -- NVML attestationReport (SPDM request + response)
 *       certChain    OCTET STRING (SIZE (1..5120)) } }  -- NVML attestationCertChain (PEM, leaf first)
 */
#ifndef COCOON_RATLS_GPUEXT_H
#define COCOON_RATLS_GPUEXT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "measure/core/util.h"
#include "measure/gpu/gpu.h"

#define CR_OID_GPU "1.3.6.1.4.1.12345.3.2"
#define CR_GPU_EXT_VERSION 1
#define CR_GPU_REPORT_MAX 8192
#define CR_GPU_CHAIN_MAX 5120
/* Upper bound of an encoded extension (8 GPUs at the maximum sizes). */
#define CR_GPU_EXT_MAX (16 + 64 + CM_GPU_MAX * (16 + CR_GPU_REPORT_MAX + CR_GPU_CHAIN_MAX))

struct cr_gpu_ext {
	struct cm_gpu_system sys;                 /* sys.count = the number of GPUs below */
	struct cm_gpu_evidence gpu[CM_GPU_MAX];   /* decode: pointers into the DER */
};

/* DER of x (malloc'd into *der). Fails on counts or sizes the format does not allow. */
int cr_gpu_ext_encode(const struct cr_gpu_ext *x, uint8_t **der, size_t *len, struct cm_err *e);
/* Strict DER decode (definite lengths, the exact tags, ranges above, no trailing bytes). */
int cr_gpu_ext_decode(const uint8_t *der, size_t len, struct cr_gpu_ext *x, struct cm_err *e);

/* The GPU nonce for a certificate key: SHA-256 of its DER SubjectPublicKeyInfo. */
int cr_gpu_nonce(EVP_PKEY *key, uint8_t nonce[CM_GPU_NONCE_LEN], struct cm_err *e);

/* Decode, then the system check (cm_gpu_check_system) and every GPU (cm_gpu_verify) for the
 * nonce of key at now under p. *n gets the number of GPUs verified. Fails with -EBADMSG when
 * the extension is malformed ("gpu_ext") or a GPU's evidence does not verify (the verifier's
 * check: "gpu_nonce", "gpu_signature", ...), -EACCES when the policy rejects the system state
 * or a GPU ("gpu_cc_mode", "gpu_policy_*", ...); the message names the GPU. */
int cr_gpu_ext_verify(const uint8_t *der, size_t len, EVP_PKEY *key, const struct cm_gpu_policy *p, int64_t now,
		      unsigned *n, struct cm_err *e);

#endif
