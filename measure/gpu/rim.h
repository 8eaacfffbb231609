/* NVIDIA reference integrity manifests (RIMs, specs/gpu.md §4): TCG RIM as an ISO-19770-2 SWID
 * tag with an enveloped XMLDSig signature (ecdsa-sha384; C14N 1.1, exclusive C14N or C14N 1.0
 * as the RIM names it), read with libxml2 (no network, no DTD). cm_gpu_rim_parse checks the
 * structure and reads the identity and the measurements; the signature, its chain and the
 * comparison with a report are separate steps. */
#ifndef COCOON_MEASURE_GPU_RIM_H
#define COCOON_MEASURE_GPU_RIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "measure/core/util.h"
#include "measure/gpu/spdm.h"

#define CM_GPU_RIM_MEAS_MAX 256
#define CM_GPU_RIM_ALT_MAX 8
#define CM_GPU_RIM_CERTS_MAX 8
#define CM_GPU_RIM_FILE_MAX (1u << 20)

struct cm_gpu_rim_meas {
	unsigned index; /* 0-based RIM index: compared with SPDM block index + 1 */
	bool active;
	unsigned size;  /* bytes of every alternative (48) */
	unsigned n_alt;
	uint8_t alt[CM_GPU_RIM_ALT_MAX][48];
};

struct cm_gpu_rim {
	char colloquial_version[64], product[32], edition[32], manufacturer_id[16];
	uint8_t sha256[32]; /* of the file */
	unsigned n_meas;
	struct cm_gpu_rim_meas meas[CM_GPU_RIM_MEAS_MAX];
	/* the signature */
	int c14n_mode;      /* libxml2's xmlC14NMode of CanonicalizationMethod */
	int ref_c14n_mode;  /* of the Reference's canonicalization transform */
	uint8_t digest[48]; /* DigestValue */
	uint8_t sigval[96]; /* SignatureValue r‖s */
	STACK_OF(X509) *certs; /* KeyInfo, signer first */
	void *doc;          /* xmlDocPtr */
};

/* Parse xml[0..len) (at most CM_GPU_RIM_FILE_MAX bytes). Free with cm_gpu_rim_free. */
int cm_gpu_rim_parse(const uint8_t *xml, size_t len, struct cm_gpu_rim **out, struct cm_err *e);
void cm_gpu_rim_free(struct cm_gpu_rim *r);
/* The reference digest and SignatureValue with the KeyInfo signer key. "gpu_rim_signature". */
int cm_gpu_rim_verify_signature(const struct cm_gpu_rim *r, struct cm_err *e);
/* The signer chain to root, time-checked at at. "gpu_rim_chain" / "gpu_rim_expired". */
int cm_gpu_rim_verify_chain(const struct cm_gpu_rim *r, X509 *root, int64_t at, struct cm_err *e);

struct cm_gpu_rim_cmp {
	unsigned compared, matched, mismatched;
	bool nvdec0_skipped; /* RIM index 35 not compared: NVDEC0 disabled (0x55) */
	char mismatches[96]; /* "21,22,..." */
};
/* Compare the active measurements of rim with rep (RIM index i with SPDM block i+1; any
 * alternative of the same size; index 35 only when NVDEC0 is enabled (0xAA), skipped when
 * disabled (0x55), an error otherwise). Returns 0 when all match; "gpu_rim_measurements". */
int cm_gpu_rim_compare(const struct cm_gpu_rim *rim, const struct cm_spdm_report *rep, int nvdec0_status,
		       struct cm_gpu_rim_cmp *c, struct cm_err *e);
/* An index active in both RIMs: "gpu_rim_index_conflict". */
int cm_gpu_rim_no_conflict(const struct cm_gpu_rim *driver, const struct cm_gpu_rim *vbios, struct cm_err *e);

#endif
