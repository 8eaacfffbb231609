/* TPM 2.0 through tpm2-tss ESAPI: the `tpm` attestation backend and the helpers the `tpm2`
 * key provider (guest/keys/tpm2.h) shares with it.
 *
 * THREAT STATEMENT (docs/threat-model.md "TPM"): a TPM emulated by the host (QEMU's
 * swtpm-backed vTPM, a cloud vTPM outside the TD) is the host's: it gives no
 * confidentiality and no integrity against the host, which can read its state, forge its
 * PCRs and sign any quote. The `tpm` backend and the `tpm2` provider are for platforms
 * where the TPM is trusted (a vTPM inside the trust boundary, or a non-confidential
 * deployment). Under TDX the TD's own registers (RTMR, MRTD) are what attests.
 *
 * TCTI: "device:PATH" (the kernel's resource manager, default "device:/dev/tpmrm0") or
 * "swtpm:path=SOCKET" (tests; swtpm's control socket is SOCKET.ctrl). The TCTI libraries are
 * linked, not loaded with dlopen, so the initrd's ELF closure has what it needs.
 *
 * Backend (ca_open("tpm")): the appliance's own events go to PCR CA_TPM_PCR (15) through
 * TPM2_PCR_Event, which extends every allocated bank with the bank's hash of the message;
 * read(3) returns the SHA-256 bank of PCR 15 in the first 32 bytes (16 zero bytes after);
 * quote(report_data) is TPM2_Quote by the AK over all 24 SHA-256 PCRs with qualifyingData =
 * SHA-256(report_data) (32 bytes: fits every TPM's TPM2B_DATA; report_data is what the TDX
 * backends put in REPORTDATA, SHA-512 of the RA-TLS public key). The quote is the container
 * of measure/tpm/quote.h (TPMS_ATTEST, signature, PCR values).
 *
 * AK: an ECC P-256 restricted signing key (ECDSA-SHA256) created as a primary in the
 * endorsement hierarchy from a fixed template, so it is the same on every boot of the same
 * TPM and certifiable against the EK (TPM2_MakeCredential / ActivateCredential by a
 * verifier who trusts the EK certificate). ca_tpm_open() writes its public key as PEM to
 * $COCOON_TPM_DIR/ak.pem (default /run/cocoon/tpm) and the EK certificate, when the TPM has
 * one in NV (0x01c0000a ECC, else 0x01c00002 RSA), to ek.der there. */
#ifndef COCOON_GUEST_ATTEST_TPM_H
#define COCOON_GUEST_ATTEST_TPM_H

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#include "guest/attest/attest.h"
#include "measure/core/util.h"

#define CA_TPM_PCR 15
#define CA_TPM_PCR_COUNT 24
#define CA_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"
#define CA_TPM_TCTI_ENV "COCOON_TPM_TCTI"
#define CA_TPM_DIR_ENV "COCOON_TPM_DIR"
#define CA_TPM_DEFAULT_DIR "/run/cocoon/tpm"
#define CA_TPM_EK_CERT_ECC 0x01c0000au
#define CA_TPM_EK_CERT_RSA 0x01c00002u

struct ca_tpm {
	ESYS_CONTEXT *esys;
	TSS2_TCTI_CONTEXT *tcti;
};

/* Connect through tcti (NULL: $COCOON_TPM_TCTI, else CA_TPM_DEFAULT_TCTI). */
int ca_tpm_connect(const char *tcti, struct ca_tpm *t, struct cm_err *e);
void ca_tpm_disconnect(struct ca_tpm *t);

/* "TPM2_X failed (<tss2-rc text>)" into e; returns -EIO (-EACCES for policy/auth failures). */
int ca_tpm_fail(struct cm_err *e, TSS2_RC rc, const char *what);

/* The SHA-256 bank of the PCRs in mask (bit i = PCR i), into out[i]. */
int ca_tpm_pcr_read(struct ca_tpm *t, uint32_t mask, uint8_t out[CA_TPM_PCR_COUNT][32], struct cm_err *e);

/* TPM2_PCR_Event(pcr, message): every bank extended with its hash of message (<= 1024 bytes). */
int ca_tpm_pcr_event(struct ca_tpm *t, int pcr, const void *msg, size_t len, struct cm_err *e);

/* A TPML_PCR_SELECTION of the SHA-256 bank for mask. */
void ca_tpm_pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel);

/* The storage root key: an ECC P-256 primary under the owner hierarchy from the TCG's
 * template (empty auth). It is the salt key of the sessions below. */
int ca_tpm_srk(struct ca_tpm *t, ESYS_TR *srk, struct cm_err *e);

/* A session salted to srk with AES-128-CFB parameter encryption: type TPM2_SE_HMAC or
 * TPM2_SE_POLICY; attrs e.g. TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT. */
int ca_tpm_session(struct ca_tpm *t, ESYS_TR srk, TPM2_SE type, TPMA_SESSION attrs, ESYS_TR *s, struct cm_err *e);

void ca_tpm_flush(struct ca_tpm *t, ESYS_TR *h);

/* The tpm backend with an explicit TCTI (NULL = as ca_tpm_connect) and state directory
 * (NULL = $COCOON_TPM_DIR, else CA_TPM_DEFAULT_DIR). */
int ca_tpm_open(const char *tcti, const char *dir, const char *event_log, struct ca_backend **out,
		struct cm_err *e);

extern const struct ca_ops ca_tpm_ops;

#endif
