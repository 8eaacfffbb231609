/* DCAP collateral provisioning for `cocoon-launch collateral` (docs/operator-guide.md
 * "Collateral"): the config keys, the PCS/PCCS API v4 responses turned into the bundle
 * JSON libmeasure and cocoon-ratls read (specs/attestation.md §2.1), the checks a new
 * bundle must pass before it replaces the last good one, the atomic write and the state
 * file (docs/formats.md "Collateral state"). The HTTP client is in cli/http.c. */
#ifndef COCOON_LAUNCH_COLLATERAL_H
#define COCOON_LAUNCH_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "measure/core/util.h"

#define CL_COLL_MAX_FMSPCS 16
#define CL_COLL_URL_MAX 512
#define CL_COLL_DIR "runtime/collateral"              /* below spec_dir: one <FMSPC>.json each */
#define CL_COLL_STATE "runtime/collateral-state.json" /* below spec_dir (not in CL_COLL_DIR:
							 cocoon-ratls loads every *.json there) */
#define CL_COLL_BODY_MAX (4u << 20)                    /* one PCS response */

struct cl_collateral_conf {
	char url[CL_COLL_URL_MAX];          /* PCS or PCCS base, API v4 paths appended */
	char root_crl_url[CL_COLL_URL_MAX]; /* the root CA CRL (DER or hex) */
	char root[1024];                    /* trust anchor PEM; "" = the pinned Intel root */
	uint8_t fmspc[CL_COLL_MAX_FMSPCS][6];
	size_t n_fmspc;                     /* [0] the platform's when have_platform */
	bool have_platform;
	unsigned refresh;                   /* seconds between refreshes under run --supervise, 0 = never */
};

void cl_collateral_conf_init(struct cl_collateral_conf *cc);
/* One config key collateral_* (where = "file:line" or "--set"). */
int cl_collateral_key(struct cl_collateral_conf *cc, const char *key, const char *v, const char *where,
		      struct cm_err *e);

/* The PCS / PCCS API v4 responses for one FMSPC (bodies as received; chains as in the
 * issuer-chain headers, URL-encoded PEM). */
struct cl_pcs {
	const char *tcb, *tcb_chain;    /* /tdx/certification/v4/tcb?fmspc=, TCB-Info-Issuer-Chain */
	size_t tcb_len;
	const char *qe, *qe_chain;      /* /tdx/certification/v4/qe/identity, SGX-Enclave-Identity-Issuer-Chain */
	size_t qe_len;
	const uint8_t *pck_crl;         /* /sgx/certification/v4/pckcrl?ca=platform&encoding=der (DER or hex) */
	size_t pck_crl_len;
	const char *pck_crl_chain;      /* SGX-PCK-CRL-Issuer-Chain */
	const uint8_t *root_crl;        /* the root CA CRL (DER or hex) */
	size_t root_crl_len;
};

/* The bundle JSON (malloc'd, NUL-terminated) of the responses: the inner TCB info and QE
 * identity text exactly as served and signed. Checks are named "pcs_response". */
int cl_collateral_bundle(const struct cl_pcs *r, char **json, size_t *len, struct cm_err *e);

/* What the state file records of a bundle. */
struct cl_coll_info {
	int64_t tcb_issue_date, qe_issue_date;
	int64_t valid_from, valid_to; /* every window of the bundle open */
	int eval_number;
};

/* Whether bundle (for fmspc) may replace old (NULL: none; an old bundle that no longer
 * loads is replaced): it must verify to anchor (NULL: Intel's) with libmeasure
 * (signatures, chains, CRLs: a revoked signer or PCK CA fails), every window open at
 * now, a TDX TCB info for this FMSPC and a TD QE identity, and be no older than old
 * (TCB info and QE identity issueDate, tcbEvaluationDataNumber). Check names:
 * libmeasure's, "collateral_fmspc", "collateral_not_tdx", "collateral_older". */
int cl_collateral_accept(const char *bundle, size_t len, const char *old, size_t old_len, const uint8_t fmspc[6],
			 X509 *anchor, int64_t now, struct cl_coll_info *info, struct cm_err *e);

/* Write data to dir/name (mode 0644) with cm_write_file_atomic. */
int cl_write_atomic(const char *dir, const char *name, const void *data, size_t len, struct cm_err *e);

#endif
