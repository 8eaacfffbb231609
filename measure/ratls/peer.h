/* Verification of a peer's RA-TLS certificate: the one place where cocoon-ratls (in the
 * TLS handshake) and `cocoon-measure cert` decide whether a certificate is acceptable
 * (specs/ratls.md §4).
 *
 * cr_cert_inspect(): structure only: a self-signed Ed25519 leaf, signature valid, only
 * known critical extensions besides Cocoon's quote (.1) and user claims (.2), claims equal
 * to the key, validity window covering `now`.
 * cr_peer_verify(): inspect, then per the named policy: `any` accepts without a quote;
 * `tdx` requires a TD quote whose REPORTDATA is SHA-512(raw public key), verified by
 * libmeasure (signatures, PCK chain, collateral, TCB status) and checked against the
 * policy's allowlists; an RTMR3 event log extension, when present, must replay to RTMR3,
 * and one that shows a debug event (cocoon:cocoon_debug, cocoon:debug_shell) is refused
 * ("policy_debug_event") unless the policy allows debug; a policy with "gpu" then requires
 * the GPU evidence extension ("gpu_missing") and verifies every GPU in it for the nonce
 * SHA-256(SPKI of the certificate key) (measure/ratls/gpuext.h).
 * `fake_tdx` is Cocoon's test attestation (tee/cocoon/tdx.cpp FakeTdxInterface): the quote
 * extension holds exactly the 64 REPORTDATA bytes, SHA-512(raw public key), and nothing
 * vouches for it; the registers are zero, so every fake_tdx peer has the image hash
 * CR_FAKE_TDX_IMAGE_HASH (SHA-256 of 448 zero bytes, as Cocoon computes it). Only a
 * fake_tdx policy accepts it (its image_hashes/mrtd/rtmrs allowlists apply; it takes no
 * root or collateral); a `tdx` policy refuses it (quote_format), and cocoon-ratls lets a
 * listener use a fake_tdx policy only when its own identity is fake_tdx too (test setups).
 * Successful DCAP verifications are cached per (SHA-256(quote), policy, collateral
 * generation) (bounded LRU, expiring at the earliest end of the collateral and PCK
 * certificate windows or the cache TTL; a collateral reload flushes the policy's
 * entries); REPORTDATA and allowlists run every time. */
#ifndef COCOON_RATLS_PEER_H
#define COCOON_RATLS_PEER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "measure/core/measurements.h"
#include "measure/core/util.h"
#include "measure/ratls/cert.h"

struct cm_gpu_policy;

/* What a certificate carries (pointers borrowed from the X509). */
struct cr_cert_info {
	uint8_t pubkey[CR_PUBKEY_LEN];
	const uint8_t *quote;
	size_t quote_len;
	const uint8_t *event_log;
	size_t event_log_len;
	const uint8_t *gpu;          /* GPU evidence extension (gpuext.h), not decoded here */
	size_t gpu_len;
	int64_t not_before, not_after;
};

int cr_cert_inspect(X509 *cert, time_t now, struct cr_cert_info *info, struct cm_err *e);

enum cr_policy_type { CR_POLICY_ANY = 0, CR_POLICY_TDX, CR_POLICY_FAKE_TDX };

#define CR_FAKE_TDX_QUOTE_LEN CR_REPORT_DATA_LEN
#define CR_FAKE_TDX_IMAGE_HASH "5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61"

struct cr_policy;  /* a named, loaded policy (peer.c) */
struct cr_verifier; /* policies + attestation cache + collateral (peer.c) */

/* The verified peer. */
struct cr_peer {
	bool attested;               /* a quote was verified */
	bool fake_tdx;               /* accepted by a fake_tdx policy: zero registers, nothing verified */
	bool cached;                 /* DCAP result came from the attestation cache */
	uint8_t pubkey[CR_PUBKEY_LEN];
	struct cm_td_regs regs;
	uint8_t image_hash[CM_IMAGE_HASH_LEN];
	uint8_t report_data[CR_REPORT_DATA_LEN];
	char tcb_status[48];
	uint8_t root_key_id[48];     /* Cocoon's collateral_root_hash (zero when unattested) */
	bool has_event_log;          /* replayed and equal to RTMR3 */
	unsigned gpus;               /* GPUs verified (policies with "gpu"), 0 otherwise */
	const char *failed_check;    /* static name of the failed check, NULL when accepted */
};

/* Verdicts: 0 accepted; -EBADMSG evidence invalid (structure, signatures, binding);
 * -EACCES rejected by policy. e names the reason, failed_check the check. */
int cr_peer_verify(struct cr_verifier *v, const struct cr_policy *p, X509 *cert, time_t now,
		   struct cr_peer *out, struct cm_err *e);

/* ---- policies and the verifier ------------------------------------------------------ */

struct cr_policy_conf {
	char name[64];
	enum cr_policy_type type;
	char measure_policy[PATH_MAX]; /* libmeasure policy JSON ("" = its defaults) */
	char root[PATH_MAX];           /* trust anchor PEM ("" = pinned Intel root) */
	char collateral[PATH_MAX];     /* a collateral bundle file or a directory of *.json */
	/* "gpu": require the GPU evidence extension and verify it (gpuext.h): "default" for
	 * libmeasure's production GPU policy, or a JSON file holding a gpu_policy object; "" =
	 * the extension is not required (nor read). Not with type `any`. */
	char gpu[PATH_MAX];
};

/* The GPU evidence verifier that policies with "gpu" use: cr_gpu_ext_verify (gpuext.h), which
 * pulls the whole GPU verifier (RIM XML signatures through libxml2, and with it ICU). peer.c
 * does not reference it: a program that verifies GPU peers installs it once at start, before
 * any policy is added (cocoon-ratls, cocoon-keyserver, `cocoon-measure cert`); cocoon-init, the
 * PID 1 of a small initrd, does not link it (docs/gpu.md). Without it a policy with "gpu" fails
 * to load ("gpu verifier not available in this program"): never a silent pass. */
typedef int cr_gpu_verify_fn(const uint8_t *der, size_t len, EVP_PKEY *key, const struct cm_gpu_policy *p,
			     int64_t now, unsigned *n, struct cm_err *e);
void cr_verifier_set_gpu(cr_gpu_verify_fn *fn);

struct cr_verifier *cr_verifier_new(size_t cache_entries, int cache_ttl, struct cm_err *e);
void cr_verifier_free(struct cr_verifier *v);
/* Add (load) a named policy. */
int cr_verifier_add_policy(struct cr_verifier *v, const struct cr_policy_conf *c, struct cm_err *e);
const struct cr_policy *cr_verifier_policy(const struct cr_verifier *v, const char *name);
const char *cr_policy_name(const struct cr_policy *p);
/* A production peer policy names what it accepts: 0 for `any` (it attests nothing) and for a
 * `tdx` policy with an MRTD, RTMR or image hash allowlist or an explicit
 * "allow_any_image": true; else -EINVAL naming the policy. cocoon-ratls runs it on every
 * listener's policy at start. */
int cr_policy_check_pinned(const struct cr_policy *p, struct cm_err *e);
/* Reload collateral of every policy whose file/directory changed; returns how many reloaded. */
int cr_verifier_refresh(struct cr_verifier *v, struct cm_err *e);

/* Time floor (docs/threat-model.md "Time"): the host sets the guest clock, so once enabled,
 * verification never runs at a time before the floor: the larger of build_time (e.g. the
 * image's SOURCE_DATE_EPOCH), the newest issueDate of any collateral loaded, and the latest
 * time a verification ran at (monotonic). cr_peer_verify applies it to its `now`. */
void cr_verifier_time_floor(struct cr_verifier *v, int64_t build_time);
/* max(t, floor) with the floor on (and the floor raised to it); t without. */
int64_t cr_verifier_time(struct cr_verifier *v, int64_t t);

struct cr_cache_stats {
	uint64_t hits, misses, expired, evicted;
	size_t entries;
};
void cr_verifier_stats(const struct cr_verifier *v, struct cr_cache_stats *out);

#endif
