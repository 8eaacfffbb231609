/* A software PCK certification authority: the one implementation behind the `sim`
 * attestation backend and the verifier's unit tests.
 *
 * It generates (P-256, OpenSSL) a test root CA, a "PCK Platform CA", a PCK leaf with a
 * proper SGX extension (OID 1.2.840.113741.1.13.1: PPID, TCB components, PCESVN, CPUSVN,
 * PCE-ID, FMSPC, SGX type), a TCB signing certificate (CN "Intel SGX TCB Signing", as the verifier requires), the root CA CRL and the PCK CRL
 * (optionally revoking the PCK leaf or CA), TCB info and QE identity JSON signed over the
 * exact text, all packed in a collateral bundle of the fixtures' shape; and it mints TDX
 * quotes (v4 TD 1.0, or v5 TD 1.5) in the exact DCAP layout: Intel QE vendor id, QE
 * report binding SHA-256(attestation key || auth data), QE report signed by the PCK key,
 * type-6 certification data with a nested type-5 PEM chain.
 *
 * Not thread-safe per object. The root is generated fresh per CA: it is a test anchor,
 * never Intel's. */
#ifndef COCOON_GUEST_SIMCA_H
#define COCOON_GUEST_SIMCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "guest/attest/attest.h"
#include "measure/core/util.h"

#define CA_SIMCA_MAX_LEVELS 8

/* Platform TCB level (tcbLevels of the TCB info). advisories: comma-separated or NULL. */
struct ca_simca_level {
	uint8_t sgx[16];
	uint16_t pcesvn;
	uint8_t tdx[16];
	const char *status;
	const char *advisories;
};

/* TDX module identity and QE identity levels. */
struct ca_simca_isv_level {
	uint16_t isvsvn;
	const char *status;
	const char *advisories;
};

enum ca_simca_signer {
	CA_SIMCA_SIGNER_TCB = 0,  /* the TCB signing certificate, chain [signer, root] (Intel's shape) */
	CA_SIMCA_SIGNER_PCK_CA,   /* the PCK Platform CA key, chain [PCK CA, root] */
	CA_SIMCA_SIGNER_PCK_LEAF, /* the PCK leaf key, chain [PCK leaf, PCK CA, root] */
};

struct ca_simca_module {
	uint8_t version; /* id "TDX_%02X" */
	int n_levels;
	struct ca_simca_isv_level levels[4];
};

struct ca_simca_params {
	int64_t cert_from, cert_to;          /* every certificate */
	int64_t root_crl_from, root_crl_to;  /* root CA CRL thisUpdate/nextUpdate */
	int64_t pck_crl_from, pck_crl_to;
	int64_t tcb_from, tcb_to;            /* TCB info issueDate/nextUpdate */
	int64_t qe_from, qe_to;
	int64_t pck_from, pck_to;            /* PCK leaf (overrides cert_* for the leaf) */
	uint8_t fmspc[6];                    /* in the PCK certificate */
	uint8_t tcb_fmspc[6];                /* in the TCB info */
	uint8_t pceid[2];
	uint8_t pck_comps[16];
	uint16_t pcesvn;
	int n_levels;
	struct ca_simca_level levels[CA_SIMCA_MAX_LEVELS];
	int n_modules;
	struct ca_simca_module modules[4];
	int n_qe_levels;
	struct ca_simca_isv_level qe_levels[4];
	bool revoke_pck;    /* list the PCK leaf in the PCK CRL */
	bool revoke_pck_ca; /* list the PCK CA in the root CA CRL */
	/* Quotes carry certification data type 3 (encrypted PPID, CPUSVN, PCESVN, PCE-ID)
	 * instead of the PEM chain, and the bundle carries pck_certificate_chain. */
	bool chain_in_bundle;
	/* QE identity miscselect / miscselectMask hex as served (NULL: "00000000" / "FFFFFFFF"). */
	const char *qe_miscselect, *qe_miscselect_mask;
	/* Who signs TCB info and QE identity (tests of the signer identity checks). */
	enum ca_simca_signer signer;
	/* pck_crl_issuer_chain is [TCB signer, root] and the PCK CRL is signed by the TCB key. */
	bool pck_crl_by_tcb_signer;
	/* Every chain (collateral and quote) carries a re-issued copy of the root: same key and
	 * subject, another serial number. */
	bool reissued_root_in_chains;
};

/* Defaults: every window [now - 1 day, now + 30 days]; one UpToDate level matching the
 * default PCK TCB and the default TD (TEE_TCB_SVN 07 01 03, module TDX_01 at SVN >= 4). */
void ca_simca_params_default(struct ca_simca_params *p, int64_t now);

/* Values placed in a minted quote. */
struct ca_simca_td {
	bool td15;            /* v5 quote with a TD 1.5 body, else v4 TD 1.0 */
	uint8_t tee_tcb_svn[16];
	uint8_t tee_tcb_svn2[16];
	uint8_t mr_seam[48];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t mr_servicetd[48];
	uint16_t qe_isvsvn;
	uint32_t qe_miscselect; /* QE report MISCSELECT (little-endian in the report) */
};
void ca_simca_td_default(struct ca_simca_td *td);

struct ca_simca;

struct ca_simca *ca_simca_new(const struct ca_simca_params *p, struct cm_err *e);
void ca_simca_free(struct ca_simca *ca);

X509 *ca_simca_root(const struct ca_simca *ca); /* borrowed */
/* The collateral bundle (JSON text, NUL-terminated). */
const char *ca_simca_collateral(const struct ca_simca *ca, size_t *len);

/* Sign a new collateral bundle with the same keys and certificates (its CRLs, TCB info
 * and QE identity from p: windows, levels, revocations), replacing the current one. */
int ca_simca_reissue_collateral(struct ca_simca *ca, const struct ca_simca_params *p, struct cm_err *e);

/* Mint a quote (malloc'd). */
int ca_simca_quote(const struct ca_simca *ca, const struct ca_simca_td *td, uint8_t **quote, size_t *len,
		   struct cm_err *e);

/* An SGX enclave as a v3 quote shows it (the test seal server's enclave). */
struct ca_simca_enclave {
	uint8_t cpu_svn[16];
	uint8_t attributes[16]; /* flags u64 LE (bit 1 DEBUG) || xfrm u64 */
	uint8_t mr_enclave[32], mr_signer[32];
	uint16_t isv_prod_id, isv_svn;
	uint8_t report_data[64];
	uint16_t qe_isvsvn;
};
/* Defaults: a production (non-debug) enclave with a fixed MRENCLAVE
 * (SHA-256("cocoon-sim seal enclave")), ISVPRODID 0, ISVSVN 0, QE ISVSVN 4. */
void ca_simca_enclave_default(struct ca_simca_enclave *en);
/* Mint an SGX v3 quote (ECDSA P-256, the same PCK chain and attestation key as the TD
 * quotes, QE3 with ISVPRODID 1), verifiable against ca_simca_sgx_collateral(). */
int ca_simca_sgx_quote(const struct ca_simca *ca, const struct ca_simca_enclave *en, uint8_t **quote, size_t *len,
		       struct cm_err *e);
/* The SGX collateral bundle (TCB info id "SGX", QE identity id "QE"), NUL-terminated;
 * saved as sgx_collateral.json. */
const char *ca_simca_sgx_collateral(const struct ca_simca *ca, size_t *len);

/* Persist to / restore from a directory: root.pem, collateral.json, sgx_collateral.json,
 * pck_chain.pem and the private keys (ca_keys.pem: root, PCK CA, TCB signing; pck_key.pem;
 * ak_key.pem; mode 0600).
 * A loaded CA mints quotes; it does not re-sign collateral. */
int ca_simca_save(const struct ca_simca *ca, const char *dir, struct cm_err *e);
struct ca_simca *ca_simca_load(const char *dir, struct cm_err *e);

/* The `sim` backend built on this CA (guest/attest/sim.c), for ca_open("sim"). */
extern const struct ca_ops ca_sim_ops;

#endif
