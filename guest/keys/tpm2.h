/* The `tpm2` key provider: a random 32-byte root secret sealed by the TPM to a PolicyPCR
 * over a configurable set of SHA-256 PCRs, kept in a LUKS2 token on the persistent volume
 * (as systemd-cryptenroll keeps its tpm2 token), unsealed on later boots. Keys are
 * derive(name) = HKDF-SHA256(root, salt "cocoon tpm2 v1", info name).
 *
 * THREAT STATEMENT (docs/threat-model.md "TPM"): a TPM emulated by the host (QEMU's
 * swtpm-backed vTPM, a cloud vTPM outside the TD) gives NO confidentiality against the
 * host: the host holds the TPM's seeds and state, can set any PCR and unseal the secret.
 * This provider is for platforms where the TPM itself is trusted (a vTPM inside the trust
 * boundary, or a non-confidential deployment). With the `tdx` attestation backend (a
 * production TD) it is refused unless the measured spec's keys/tpm2.json says
 * "allow_with_tdx": true, and that choice is visible in the spec's tree hash in RTMR3.
 *
 * Seal: the PCR values are read, the policy digest is computed in a trial session
 * (TPM2_PolicyPCR with the digest of those values), and TPM2_Create makes a keyed-hash
 * object under the storage root key (ca_tpm_srk) with that authPolicy, no userWithAuth,
 * fixedTPM|fixedParent|noDA, through an HMAC session salted to the SRK with AES-128-CFB
 * parameter encryption (the secret crosses the bus encrypted). Unseal: TPM2_Load, a policy
 * session salted to the SRK, TPM2_PolicyPCR, TPM2_Unseal with response encryption.
 *
 * The token (JSON, docs/formats.md "cocoon-tpm2 token"):
 *   {"type": "cocoon-tpm2", "keyslots": ["0"],
 *    "tpm2-blob": "<base64: TPM2B_PRIVATE || TPM2B_PUBLIC, TPM marshalling>",
 *    "tpm2-pcr-bank": "sha256", "tpm2-pcrs": [0, 7, ...] (ascending, unique),
 *    "tpm2-pcr-values": ["<64 hex>", ...] (the values at seal time, one per PCR),
 *    "tpm2-policy-hash": "<64 hex>"}
 * Before unsealing, the current values are compared with tpm2-pcr-values, so that a boot
 * whose PCRs differ fails naming them (the TPM enforces the policy either way).
 *
 * Spec settings, <spec>/keys/tpm2.json (optional; its presence selects the provider):
 *   {"pcrs": [0, 4, 7, 9, 15], "tcti": "device:/dev/tpmrm0", "allow_with_tdx": false}
 */
#ifndef COCOON_GUEST_KEYS_TPM2_H
#define COCOON_GUEST_KEYS_TPM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/keys/keys.h"
#include "measure/core/util.h"

#define CK_TPM2_TOKEN_TYPE "cocoon-tpm2"
#define CK_TPM2_CONF_FILE "keys/tpm2.json"
#define CK_TPM2_PCRS 24
#define CK_TPM2_BLOB_MAX 1024
#define CK_TPM2_TOKEN_MAX 8192
#define CK_TPM2_ROOT_LEN 32
/* PCRs sealed to when the spec names none: firmware (0), boot loader / kernel (4), Secure
 * Boot state (7), the kernel's command line and initrd (9), the appliance's events (15). */
#define CK_TPM2_DEFAULT_PCRS ((1u << 0) | (1u << 4) | (1u << 7) | (1u << 9) | (1u << 15))

struct ck_tpm2_conf {
	uint32_t pcrs;       /* mask, bit i = PCR i */
	char tcti[128];      /* "" = $COCOON_TPM_TCTI, else device:/dev/tpmrm0 */
	bool allow_with_tdx;
};

int ck_tpm2_conf_parse(const char *json, size_t len, struct ck_tpm2_conf *c, struct cm_err *e);
/* <spec_dir>/keys/tpm2.json, or the defaults when absent (spec_dir NULL: defaults). */
int ck_tpm2_conf_load(const char *spec_dir, struct ck_tpm2_conf *c, struct cm_err *e);

/* The TDX refusal: -EPERM unless backend is not "tdx" or the spec allows it. */
int ck_tpm2_allowed(const struct ck_tpm2_conf *c, const char *backend, struct cm_err *e);

struct ck_tpm2_token {
	uint32_t pcrs;
	uint8_t values[CK_TPM2_PCRS][32];
	uint8_t policy[32];
	uint8_t blob[CK_TPM2_BLOB_MAX];
	size_t blob_len;
};

/* Strict (exact members, sizes, ascending unique PCRs, canonical base64). */
int ck_tpm2_token_parse(const char *json, size_t len, struct ck_tpm2_token *t, struct cm_err *e);
/* *json malloc'd, NUL-terminated. */
int ck_tpm2_token_encode(const struct ck_tpm2_token *t, char **json, struct cm_err *e);

/* "0, 7, 15" for a mask (out >= 80 bytes). */
void ck_tpm2_pcr_list(uint32_t mask, char *out, size_t n);

/* TPM operations (guest/keys/tpm2.c, linked with tpm2-tss only where needed). */

/* Seal root to c->pcrs with the TPM at tcti (NULL = conf/env/default), filling t. */
int ck_tpm2_seal(const char *tcti, uint32_t pcrs, const uint8_t root[CK_TPM2_ROOT_LEN], struct ck_tpm2_token *t,
		 struct cm_err *e);
/* Unseal t. -EACCES naming the PCRs whose values differ from the token's; -EBADMSG when
 * the blob does not load (not from this TPM, or altered). */
int ck_tpm2_unseal(const char *tcti, const struct ck_tpm2_token *t, uint8_t root[CK_TPM2_ROOT_LEN], struct cm_err *e);

/* The provider: env->sealed_token is the token read from the persistent volume (NULL for a
 * blank one: a new root is sealed and ck_new_token() hands its JSON to the caller, who
 * writes it after formatting). */

#endif
