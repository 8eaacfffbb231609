/* The NVIDIA GPU attestation report (specs/gpu.md §2): an SPDM 1.1 GET_MEASUREMENTS request
 * (37 bytes) followed by the MEASUREMENTS response, whose last 96 bytes are the ECDSA-P384
 * signature r‖s over everything before them; and the NVIDIA opaque data (type-length-value
 * fields) of the response. Parsing is strict and bounded: every length is checked against
 * the bytes that remain, no trailing bytes, no duplicate measurement index, no duplicate
 * opaque field the verifier uses. */
#ifndef COCOON_MEASURE_GPU_SPDM_H
#define COCOON_MEASURE_GPU_SPDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define CM_SPDM_REQ_LEN 37
#define CM_SPDM_SIG_LEN 96
#define CM_SPDM_NONCE_LEN 32
#define CM_GPU_REPORT_MAX 8192 /* NVML_CC_GPU_ATTESTATION_REPORT_SIZE */
#define CM_SPDM_BLOCKS_MAX 255 /* measurement indices 1..254 */

struct cm_spdm_block {
	uint8_t index;      /* 1-based SPDM measurement index */
	uint8_t value_type; /* DMTF measurement value type */
	uint16_t size;      /* value size */
	const uint8_t *value;
};

struct cm_spdm_report {
	const uint8_t *raw;
	size_t len;
	uint8_t req_param1, req_param2, slot;
	const uint8_t *nonce; /* the request nonce (the caller's), CM_SPDM_NONCE_LEN bytes */
	uint8_t resp_param1, resp_param2;
	unsigned n_blocks;
	struct cm_spdm_block blocks[CM_SPDM_BLOCKS_MAX]; /* in report order */
	const uint8_t *responder_nonce;
	const uint8_t *opaque;
	size_t opaque_len;
	const uint8_t *signature; /* r‖s, CM_SPDM_SIG_LEN bytes */
	size_t signed_len;        /* len - CM_SPDM_SIG_LEN */
};

/* Parse report[0..len) (pointers into report). */
int cm_spdm_parse(const uint8_t *report, size_t len, struct cm_spdm_report *r, struct cm_err *e);
/* The block with SPDM index idx, or NULL. */
const struct cm_spdm_block *cm_spdm_block(const struct cm_spdm_report *r, unsigned idx);

/* NVIDIA opaque field types used here (specs/gpu.md §2.2). */
enum {
	CM_GPU_OD_DRIVER_VERSION = 3,
	CM_GPU_OD_VBIOS_VERSION = 6,
	CM_GPU_OD_NVDEC0_STATUS = 11,
	CM_GPU_OD_BOARD_ID = 14,
	CM_GPU_OD_CHIP_SKU = 15,
	CM_GPU_OD_CHIP_SKU_MOD = 16,
	CM_GPU_OD_PROJECT = 17,
	CM_GPU_OD_PROJECT_SKU = 18,
	CM_GPU_OD_PROJECT_SKU_MOD = 19,
	CM_GPU_OD_FWID = 20,
	CM_GPU_OD_PPCIE_STATUS = 21,
	CM_GPU_OD_OPAQUE_VERSION = 34,
	CM_GPU_OD_CHIP_INFO = 35,
	CM_GPU_OD_FEATURE_FLAG = 36,
};

struct cm_gpu_opaque {
	unsigned n_fields;                     /* TLVs, unknown types included */
	char driver_version[32];               /* "" when absent */
	bool has_vbios;
	uint8_t vbios_raw[8];
	char vbios_version[32];                /* "96.00.9F.00.01" */
	char project[16], project_sku[16], project_sku_mod[16], chip_sku[16], chip_sku_mod[16];
	char chip_info[32];
	bool has_fwid;
	uint8_t fwid[48];
	int nvdec0_status;                     /* 0xAA enabled, 0x55 disabled, -1 absent */
	int ppcie_status;                      /* 0xAA / 0x55, -1 absent */
	int opaque_version;                    /* -1 absent */
	int feature_flag;                      /* -1 absent */
	bool has_board_id;
	uint32_t board_id;
};

/* Decode the opaque data of a report. */
int cm_gpu_opaque_parse(const uint8_t *p, size_t len, struct cm_gpu_opaque *o, struct cm_err *e);

/* The VBIOS version string of the 8 opaque bytes (specs/gpu.md §2.2): hex of the bytes
 * reversed, t[8:16] ‖ t[6:8], byte pairs joined by "." (upper case). out needs 15 bytes. */
void cm_gpu_vbios_format(const uint8_t raw[8], char out[15]);

/* RIM identifiers of the evidence (specs/gpu.md §2.2): NV_GPU_DRIVER_GH100_<driver> (Hopper),
 * NV_GPU_CC_DRIVER_<CHIP_INFO, default GB100>_<driver> (Blackwell), and
 * NV_GPU_VBIOS_<project>_<sku>_<chip sku>_<VBIOS hex, upper case>. -ENOSPC / -ENOENT. */
int cm_gpu_driver_rim_id(const struct cm_gpu_opaque *o, bool blackwell, char *out, size_t n);
int cm_gpu_vbios_rim_id(const struct cm_gpu_opaque *o, char *out, size_t n);

#endif
