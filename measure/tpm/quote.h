/* TPM 2.0 quotes (TPM2_Quote by an attestation key): the container the guest's `tpm`
 * backend emits (guest/attest/tpm.h), a bounded parser of TPMS_ATTEST, and the verifier
 * `cocoon-measure quote --tpm` runs. OpenSSL only (no tpm2-tss on the auditor's side).
 *
 * Container (docs/formats.md "TPM quote"), all integers big-endian:
 *   "CTQ1"                    4-byte magic
 *   u16 n, n bytes            TPMS_ATTEST as the TPM signed it (the body of TPM2B_ATTEST)
 *   u16 m, m bytes            TPMT_SIGNATURE in the TPM's marshalling (ECDSA, SHA-256)
 *   u32 mask                  the SHA-256 PCRs whose values follow (bit i = PCR i, i < 24)
 *   32 bytes per set bit      the values, PCR index ascending
 * and nothing after.
 *
 * What a verified quote means: the AK signed a TPMS_ATTEST of type quote whose
 * extraData is the expected qualifying data (SHA-256 of the 64-byte REPORTDATA the RA-TLS
 * key binds, as for TDX) and whose PCR digest is SHA-256 over the listed values in the
 * quote's selection; each PCR of the policy equals its value there. Whether the AK belongs
 * to a trusted TPM is the caller's decision (the EK certificate, docs/threat-model.md
 * "TPM": a host-emulated TPM attests nothing against the host).
 *
 * Check names (e->check): tpm_quote_format, tpm_attest, tpm_signature,
 * tpm_qualifying_data, tpm_pcr_digest, tpm_pcr_policy; and tpm_event_log (the CLI: the
 * event log does not replay to the quoted PCR 15). */
#ifndef COCOON_MEASURE_TPM_QUOTE_H
#define COCOON_MEASURE_TPM_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "measure/core/util.h"

#define CM_TPM_PCRS 24
#define CM_TPM_QUOTE_MAX 8192
#define CM_TPM_GENERATED 0xff544347u
#define CM_TPM_ST_ATTEST_QUOTE 0x8018u
#define CM_TPM_ALG_SHA256 0x000bu
#define CM_TPM_ALG_ECDSA 0x0018u

/* TPMS_ATTEST of a quote, parsed (pointers borrow the input). */
struct cm_tpm_attest {
	const uint8_t *signer;      /* qualifiedSigner (TPM2B_NAME body) */
	size_t signer_len;
	const uint8_t *extra;       /* extraData (the qualifying data) */
	size_t extra_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware;
	uint32_t sha256_mask;       /* the SHA-256 bank's selection */
	const uint8_t *pcr_digest;
	size_t pcr_digest_len;
};

/* Strict: magic, type quote, every size bounded, exactly one bank (SHA-256) in the
 * selection, nothing after. */
int cm_tpm_attest_parse(const uint8_t *buf, size_t len, struct cm_tpm_attest *a, struct cm_err *e);

struct cm_tpm_quote {
	const uint8_t *attest;
	size_t attest_len;
	uint8_t sig_r[32], sig_s[32]; /* ECDSA P-256 (left-padded) */
	uint32_t mask;
	uint8_t pcr[CM_TPM_PCRS][32];
};

int cm_tpm_quote_parse(const uint8_t *buf, size_t len, struct cm_tpm_quote *q, struct cm_err *e);

/* Build the container (the guest's side). *out malloc'd. */
int cm_tpm_quote_encode(const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len, uint32_t mask,
			const uint8_t (*pcr)[32], uint8_t **out, size_t *out_len, struct cm_err *e);

/* A PCR policy: the SHA-256 value each PCR of mask must have. JSON:
 *   {"pcrs": {"15": "<64 hex>", "7": "<64 hex>"}}   (at least one PCR) */
struct cm_tpm_pcr_policy {
	uint32_t mask;
	uint8_t pcr[CM_TPM_PCRS][32];
};
int cm_tpm_pcr_policy_parse(const char *json, size_t len, struct cm_tpm_pcr_policy *p, struct cm_err *e);

/* The whole check; qualifying = the expected extraData (32 bytes), policy may be NULL
 * (then only the signature, the qualifying data and the digest are checked). On success
 * *out (may be NULL) holds the parsed quote. */
int cm_tpm_quote_verify(const uint8_t *buf, size_t len, EVP_PKEY *ak, const uint8_t qualifying[32],
			const struct cm_tpm_pcr_policy *policy, struct cm_tpm_quote *out, struct cm_err *e);

/* Replay the appliance's event log (the RTMR3 log format of measure/eventlog/rtmr3.h: one
 * printable line per event) into PCR 15's SHA-256 bank as the tpm backend extends it
 * (TPM2_PCR_Event): P = 0^32; P = SHA-256(P || SHA-256(line)). *n = the number of events.
 * A malformed log fails naming the event and its offset. */
int cm_tpm_replay_events(const uint8_t *log, size_t len, uint8_t out[32], int *n, struct cm_err *e);
/* One such event: pcr = SHA-256(pcr || SHA-256(msg)) (cocoon-measure spec --tpm predicts with it). */
int cm_tpm_event_extend(uint8_t pcr[32], const void *msg, size_t len);

/* qualifying data of a quote for REPORTDATA rd: SHA-256(rd). */
int cm_tpm_qualifying_data(const uint8_t rd[64], uint8_t out[32]);

#endif
