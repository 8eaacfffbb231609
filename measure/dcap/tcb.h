/* Intel TCB Info (v3, "TDX"/"SGX") and QE Identity (v2, "TD_QE"/"QE") collateral: parsing
 * of the signed JSON and the TCB status evaluation of Intel's QVL
 * (specs/attestation.md §2.2, §2.3, §2.7). Signatures and validity windows are
 * collateral.h's job; this file only reads fields and evaluates. */
#ifndef COCOON_MEASURE_TCB_H
#define COCOON_MEASURE_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"
#include "measure/dcap/pck.h"
#include "measure/dcap/quote.h"

/* Intel's status names (tcbStatus strings). NOT_SUPPORTED is "no matching level". */
enum cm_tcb_status {
	CM_TCB_UP_TO_DATE = 0,
	CM_TCB_SW_HARDENING_NEEDED,
	CM_TCB_CONFIGURATION_NEEDED,
	CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	CM_TCB_OUT_OF_DATE,
	CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	CM_TCB_REVOKED,
	CM_TCB_TD_RELAUNCH_ADVISED,
	CM_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
	CM_TCB_NOT_SUPPORTED,
	CM_TCB_STATUS_COUNT,
};

const char *cm_tcb_status_name(enum cm_tcb_status s);
/* -EINVAL for an unknown name. */
int cm_tcb_status_parse(const char *name, enum cm_tcb_status *out);

#define CM_ADV_MAX 64      /* advisory IDs per level */
#define CM_ADV_LEN 32      /* bytes per ID incl. NUL */
#define CM_TCB_LEVELS_MAX 128
#define CM_MODULES_MAX 16

struct cm_advisories {
	int n;
	char id[CM_ADV_MAX][CM_ADV_LEN];
};

struct cm_tcb_level {
	uint8_t sgx[16];
	uint16_t pcesvn;
	uint8_t tdx[16];
	uint16_t isvsvn;  /* module / QE identity levels */
	enum cm_tcb_status status;
	int64_t tcb_date;
	struct cm_advisories adv;
};

struct cm_tdx_module {
	char id[16];          /* "TDX_03"; "" for the default tdxModule */
	uint8_t mrsigner[48];
	uint8_t attributes[8];
	uint8_t attributes_mask[8];
	int n_levels;
	struct cm_tcb_level *levels;   /* sorted by descending isvsvn */
};

struct cm_tcb_info {
	bool tdx;             /* id "TDX" (else "SGX") */
	int version;
	int64_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	int tcb_type;
	int eval_number;
	bool has_tdx_module;
	struct cm_tdx_module tdx_module;
	int n_modules;
	struct cm_tdx_module modules[CM_MODULES_MAX];
	int n_levels;
	struct cm_tcb_level *levels;   /* in Intel's QVL order (TcbLevel::operator>), highest first */
};

struct cm_qe_identity {
	bool td;              /* id "TD_QE" (else "QE") */
	int version;
	int64_t issue_date, next_update;
	int eval_number;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	int n_levels;
	struct cm_tcb_level *levels;   /* sorted by descending isvsvn */
};

/* Parse the exact signed JSON text. Strict: required fields, hex lengths, known statuses. */
int cm_tcb_info_parse(const char *json, size_t len, struct cm_tcb_info *out, struct cm_err *e);
void cm_tcb_info_free(struct cm_tcb_info *t);
int cm_qe_identity_parse(const char *json, size_t len, struct cm_qe_identity *out, struct cm_err *e);
void cm_qe_identity_free(struct cm_qe_identity *q);

/* "YYYY-MM-DDTHH:MM:SSZ" (optionally with fractional seconds) to unix seconds. */
int cm_parse_iso8601(const char *s, int64_t *out);

struct cm_tcb_eval {
	enum cm_tcb_status status;        /* final (converged) status */
	enum cm_tcb_status platform_status; /* matched TCB level (TDX level for TDX) */
	bool has_module_status;
	enum cm_tcb_status module_status;
	enum cm_tcb_status qe_status;
	int64_t tcb_date;                 /* tcbDate of the matched platform level */
	int n_adv;                        /* union: platform, module, QE levels */
	char adv[3 * CM_ADV_MAX][CM_ADV_LEN];
};

/* Evaluate per §2.7. On failure returns a negative code, sets *check to a stable check
 * name ("tcb_info_mismatch", "fmspc_mismatch", "pceid_mismatch", "tdx_module_mismatch",
 * "qe_identity_mismatch", "tcb_not_supported") and fills e. A Revoked status is not a
 * failure here (the caller decides). */
int cm_tcb_evaluate(const struct cm_tcb_info *ti, const struct cm_qe_identity *qi, const struct cm_quote *q,
		    const struct cm_pck_ext *pck, struct cm_tcb_eval *out, struct cm_err *e);

#endif
