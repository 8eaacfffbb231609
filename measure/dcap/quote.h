/* DCAP quote parsing: SGX v3, TDX v4 (TD 1.0) and v5 (TD 1.0 / TD 1.5 bodies), per
 * specs/attestation.md §1. Parsing only checks structure; signatures, chains and
 * TCB are verify.h's job. A parsed quote borrows the caller's buffer. */
#ifndef COCOON_MEASURE_QUOTE_H
#define COCOON_MEASURE_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/measurements.h"
#include "measure/core/util.h"

#define CM_QUOTE_HEADER_LEN 48
#define CM_SGX_REPORT_LEN 384
#define CM_TD10_BODY_LEN 584
#define CM_TD15_BODY_LEN 648
#define CM_QUOTE_MAX_LEN (1u << 20) /* far above any real quote (about 5 KiB) */

#define CM_TEE_SGX 0x00000000u
#define CM_TEE_TDX 0x00000081u
/* Quote header attestation key type: ECDSA-256-with-P-256 (the only one DCAP quotes use). */
#define CM_ATT_KEY_ECDSA_P256 2

enum cm_body_type {
	CM_BODY_SGX = 1,  /* SGX enclave report, 384 bytes */
	CM_BODY_TD10 = 2, /* TD report, TDX 1.0, 584 bytes */
	CM_BODY_TD15 = 3, /* TD report, TDX 1.5, 648 bytes */
};

/* Certification data types (sgx_ql_cert_key_type_t). */
enum cm_cert_type {
	CM_CERT_PPID_CLEARTEXT = 1,
	CM_CERT_PPID_RSA2048 = 2,
	CM_CERT_PPID_RSA3072 = 3,
	CM_CERT_PCK_CLEARTEXT = 4,
	CM_CERT_PCK_CHAIN = 5,
	CM_CERT_QE_REPORT = 6,
};

/* SGX report body (enclave report and QE report). */
struct cm_sgx_report {
	uint8_t cpu_svn[16];
	uint32_t misc_select;
	uint8_t isv_ext_prod_id[16];
	uint8_t attributes[16]; /* flags u64 || xfrm u64; flags bit 1 = DEBUG */
	uint8_t mr_enclave[32];
	uint8_t mr_signer[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t isv_family_id[16];
	uint8_t report_data[64];
};

/* TD report body. tee_tcb_svn2 and mr_servicetd exist in TD 1.5 bodies only. */
struct cm_td_report {
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16];
	uint8_t mr_servicetd[48];
};

/* TD attribute bits (td_attributes as a little-endian u64). */
#define CM_TD_ATTR_DEBUG (1ull << 0)
#define CM_TD_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define CM_TD_ATTR_PKS (1ull << 30)
#define CM_TD_ATTR_KL (1ull << 31)
#define CM_TD_ATTR_PERFMON (1ull << 63)

struct cm_quote {
	const uint8_t *raw;  /* the whole input (borrowed) */
	size_t len;          /* input length, including trailing bytes */

	/* header */
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type;
	uint16_t qe_svn, pce_svn; /* v3 only (reserved in v4/v5) */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];

	/* body */
	enum cm_body_type body_type;
	size_t body_off;      /* 48, or 54 after a v5 descriptor */
	size_t body_len;
	struct cm_sgx_report sgx;  /* when body_type == CM_BODY_SGX */
	struct cm_td_report td;    /* when body_type is TD10 or TD15 */

	/* signature data */
	size_t signed_len;    /* quote[0:signed_len] is covered by the quote signature */
	uint32_t sig_data_len;
	size_t sig_data_off;  /* signed_len + 4 */
	size_t trailing;      /* bytes after the signature data (real quotes carry padding) */
	const uint8_t *signature;  /* 64 bytes, ECDSA P-256 r||s */
	const uint8_t *att_key;    /* 64 bytes, P-256 X||Y */
	const uint8_t *qe_report_raw; /* 384 bytes, as signed by the PCK key */
	struct cm_sgx_report qe_report;
	const uint8_t *qe_report_sig; /* 64 bytes r||s */
	const uint8_t *qe_auth;
	uint16_t qe_auth_len;
	uint16_t cert_type;        /* certification data type: 5 = PCK chain (PEM) */
	const uint8_t *cert_data;  /* for type 5: PEM chain (leaf, CA, root), may end in NUL */
	uint32_t cert_data_len;
};

/* Parse and bounds-check a quote. On failure the message names the field and
 * its offset. */
int cm_quote_parse(const uint8_t *buf, size_t len, struct cm_quote *q, struct cm_err *e);

bool cm_quote_is_td(const struct cm_quote *q);

/* MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 of a TD quote (-EINVAL for SGX). */
int cm_quote_td_regs(const struct cm_quote *q, struct cm_td_regs *r);

/* Everything the quote says, as JSON (stable keys, lowercase hex): header, body
 * fields, QE report, the PCK chain subjects and its SGX extension (FMSPC, TCB), and
 * for TD quotes the image hash. Fails (-EBADMSG) when the embedded PCK chain is
 * malformed. */
int cm_quote_to_json(const struct cm_quote *q, json_object **out, struct cm_err *e);

const char *cm_body_type_name(enum cm_body_type t);  /* "sgx", "td10", "td15" */
const char *cm_tee_name(uint32_t tee_type);            /* "sgx", "tdx" */

#endif
