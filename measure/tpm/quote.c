/* TPM 2.0 quotes: container, TPMS_ATTEST parser, verifier (quote.h). Every length is read
 * against what is left; nothing is trusted before the signature checks out, and nothing
 * after it without the digest check. */
#include "measure/tpm/quote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/dcap/collateral.h"
#include "measure/eventlog/rtmr3.h"

struct rd {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static uint64_t get(struct rd *r, size_t n)
{
	uint64_t v = 0;
	if (r->bad || r->left < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

/* A TPM2B of at most max bytes: *body points into the input. */
static size_t get2b(struct rd *r, size_t max, const uint8_t **body)
{
	size_t n = (size_t)get(r, 2);
	if (r->bad || n > max || n > r->left) {
		r->bad = true;
		*body = NULL;
		return 0;
	}
	*body = r->p;
	r->p += n;
	r->left -= n;
	return n;
}

int cm_tpm_attest_parse(const uint8_t *buf, size_t len, struct cm_tpm_attest *a, struct cm_err *e)
{
	memset(a, 0, sizeof *a);
	struct rd r = {buf, len, false};
	uint32_t magic = (uint32_t)get(&r, 4);
	uint16_t type = (uint16_t)get(&r, 2);
	if (r.bad)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: %zu bytes is too short", len);
	if (magic != CM_TPM_GENERATED)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: magic 0x%08x is not TPM_GENERATED_VALUE",
				     magic);
	if (type != CM_TPM_ST_ATTEST_QUOTE)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: type 0x%04x is not a quote (0x8018)", type);
	a->signer_len = get2b(&r, 2 + 64, &a->signer);
	a->extra_len = get2b(&r, 64, &a->extra);
	a->clock = get(&r, 8);
	a->reset_count = (uint32_t)get(&r, 4);
	a->restart_count = (uint32_t)get(&r, 4);
	a->safe = (uint8_t)get(&r, 1);
	a->firmware = get(&r, 8);
	uint32_t banks = (uint32_t)get(&r, 4);
	if (r.bad)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: truncated or oversized header field");
	if (banks != 1)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: %u PCR banks selected, expected 1 (SHA-256)",
				     banks);
	uint16_t hash = (uint16_t)get(&r, 2);
	uint8_t nsel = (uint8_t)get(&r, 1);
	if (r.bad || nsel < 1 || nsel > 4)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: bad PCR selection size");
	if (hash != CM_TPM_ALG_SHA256)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: PCR bank 0x%04x, expected SHA-256", hash);
	for (unsigned i = 0; i < nsel; i++) {
		uint8_t b = (uint8_t)get(&r, 1);
		if (i == 3 && b)
			return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: PCR %u and up do not exist", 24u);
		a->sha256_mask |= (uint32_t)b << (8 * i);
	}
	a->pcr_digest_len = get2b(&r, 64, &a->pcr_digest);
	if (r.bad)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: truncated quote info");
	if (r.left)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: %zu bytes after the quote info", r.left);
	if (a->pcr_digest_len != 32)
		return cm_fail_check(e, -EINVAL, "tpm_attest", "TPMS_ATTEST: PCR digest of %zu bytes, expected 32",
				     a->pcr_digest_len);
	return 0;
}

static int sig_parse(const uint8_t *p, size_t n, struct cm_tpm_quote *q, struct cm_err *e)
{
	struct rd r = {p, n, false};
	uint16_t alg = (uint16_t)get(&r, 2), hash = (uint16_t)get(&r, 2);
	if (r.bad)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPMT_SIGNATURE: truncated");
	if (alg != CM_TPM_ALG_ECDSA || hash != CM_TPM_ALG_SHA256)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format",
				     "TPMT_SIGNATURE: scheme 0x%04x/0x%04x, expected ECDSA (0x0018) with SHA-256", alg, hash);
	const uint8_t *rs[2];
	size_t len[2];
	for (int i = 0; i < 2; i++)
		len[i] = get2b(&r, 32, &rs[i]);
	if (r.bad || r.left || len[0] == 0 || len[1] == 0)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPMT_SIGNATURE: bad ECDSA P-256 (r, s)");
	memset(q->sig_r, 0, 32);
	memset(q->sig_s, 0, 32);
	memcpy(q->sig_r + 32 - len[0], rs[0], len[0]);
	memcpy(q->sig_s + 32 - len[1], rs[1], len[1]);
	return 0;
}

int cm_tpm_quote_parse(const uint8_t *buf, size_t len, struct cm_tpm_quote *q, struct cm_err *e)
{
	memset(q, 0, sizeof *q);
	if (len > CM_TPM_QUOTE_MAX)
		return cm_fail_check(e, -E2BIG, "tpm_quote_format", "TPM quote: %zu bytes (at most %u)", len,
				     CM_TPM_QUOTE_MAX);
	if (len < 4 || memcmp(buf, "CTQ1", 4) != 0)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPM quote: no \"CTQ1\" magic");
	struct rd r = {buf + 4, len - 4, false};
	const uint8_t *sig;
	q->attest_len = get2b(&r, 1024, &q->attest);
	size_t sig_len = get2b(&r, 256, &sig);
	q->mask = (uint32_t)get(&r, 4);
	if (r.bad)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPM quote: truncated");
	if (q->mask >> CM_TPM_PCRS)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPM quote: PCR mask 0x%x names PCRs above 23",
				     q->mask);
	for (int i = 0; i < CM_TPM_PCRS; i++) {
		if (!(q->mask & (1u << i)))
			continue;
		if (r.left < 32)
			return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPM quote: value of PCR %d truncated", i);
		memcpy(q->pcr[i], r.p, 32);
		r.p += 32;
		r.left -= 32;
	}
	if (r.left)
		return cm_fail_check(e, -EINVAL, "tpm_quote_format", "TPM quote: %zu bytes after the PCR values", r.left);
	return sig_parse(sig, sig_len, q, e);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int cm_tpm_quote_encode(const uint8_t *attest, size_t attest_len, const uint8_t *sig, size_t sig_len, uint32_t mask,
			const uint8_t (*pcr)[32], uint8_t **out, size_t *out_len, struct cm_err *e)
{
	*out = NULL;
	*out_len = 0;
	if (attest_len > 1024 || sig_len > 256 || (mask >> CM_TPM_PCRS))
		return cm_fail(e, -EINVAL, "TPM quote: field too large");
	size_t n = 4 + 2 + attest_len + 2 + sig_len + 4 + 32 * (size_t)__builtin_popcount(mask);
	uint8_t *b = malloc(n), *p = b;
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	memcpy(p, "CTQ1", 4);
	p += 4;
	put16(p, attest_len);
	memcpy(p + 2, attest, attest_len);
	p += 2 + attest_len;
	put16(p, sig_len);
	memcpy(p + 2, sig, sig_len);
	p += 2 + sig_len;
	p[0] = (uint8_t)(mask >> 24);
	p[1] = (uint8_t)(mask >> 16);
	p[2] = (uint8_t)(mask >> 8);
	p[3] = (uint8_t)mask;
	p += 4;
	for (int i = 0; i < CM_TPM_PCRS; i++)
		if (mask & (1u << i)) {
			memcpy(p, pcr[i], 32);
			p += 32;
		}
	*out = b;
	*out_len = n;
	return 0;
}

int cm_tpm_pcr_policy_parse(const char *json, size_t len, struct cm_tpm_pcr_policy *p, struct cm_err *e)
{
	static const char *const top[] = {"pcrs", NULL};
	memset(p, 0, sizeof *p);
	struct cm_jv root, pcrs;
	int r = cm_json_read(json, len, 64 * 1024, "TPM PCR policy", &root, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&root, top, e)) < 0 || (r = cm_jv_need(&root, "pcrs", &pcrs, e)) < 0 ||
	    (r = cm_jv_object(&pcrs, NULL, e)) < 0)
		goto out;
	json_object_object_foreach(pcrs.o, key, val)
	{
		struct cm_jv v = cm_jv_member(&pcrs, key, val);
		uint64_t i;
		if ((key[0] == '0' && key[1]) || cm_parse_u64(key, 0, CM_TPM_PCRS - 1, &i)) { /* canonical: no "07" */
			r = cm_jv_fail(&v, e, -EINVAL, "PCR index must be 0..23");
			goto out;
		}
		if ((r = cm_jv_hex(&v, p->pcr[i], 32, e)) < 0)
			goto out;
		p->mask |= 1u << i;
	}
	if (!p->mask)
		r = cm_jv_fail(&pcrs, e, -EINVAL, "names no PCR");
out:
	cm_json_release(&root);
	return r;
}

int cm_tpm_event_extend(uint8_t pcr[32], const void *msg, size_t len)
{
	uint8_t d[32];
	return cm_sha256(msg, len, d) < 0 ? -1 : cm_pcr_extend(pcr, d);
}

int cm_tpm_replay_events(const uint8_t *log, size_t len, uint8_t out[32], int *n, struct cm_err *e)
{
	memset(out, 0, 32);
	*n = 0;
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *nl = memchr(log + pos, '\n', len - pos);
		if (!nl)
			return cm_fail(e, -EBADMSG, "event log: event %d at offset %zu is not terminated by a newline", *n,
				       pos);
		size_t k = (size_t)(nl - (log + pos));
		uint8_t d384[48];
		if (cm_rtmr3_event_digest((const char *)log + pos, k, d384, e) < 0) /* validates the line */
			return cm_err_prefix(e, "event log: event %d at offset %zu", *n, pos);
		if (cm_tpm_event_extend(out, log + pos, k) < 0)
			return cm_fail(e, -EIO, "sha256 failed");
		(*n)++;
		pos += k + 1;
	}
	return 0;
}

int cm_tpm_qualifying_data(const uint8_t rd[64], uint8_t out[32])
{
	return cm_sha256(rd, 64, out);
}

int cm_tpm_quote_verify(const uint8_t *buf, size_t len, EVP_PKEY *ak, const uint8_t qualifying[32],
			const struct cm_tpm_pcr_policy *policy, struct cm_tpm_quote *out, struct cm_err *e)
{
	struct cm_tpm_quote *q = malloc(sizeof *q);
	if (!q)
		return cm_fail(e, -ENOMEM, "out of memory");
	struct cm_tpm_attest a;
	uint8_t sig[64], d[32];
	int r = cm_tpm_quote_parse(buf, len, q, e);
	if (r < 0 || (r = cm_tpm_attest_parse(q->attest, q->attest_len, &a, e)) < 0)
		goto out;
	memcpy(sig, q->sig_r, 32);
	memcpy(sig + 32, q->sig_s, 32);
	int v = cm_ecdsa_p256_verify(ak, q->attest, q->attest_len, sig);
	if (v != 1) {
		r = cm_fail_check(e, -EACCES, "tpm_signature",
				  v < 0 ? "TPM quote: the AK is not a P-256 key" : "TPM quote: signature does not verify with the AK");
		goto out;
	}
	if (a.extra_len != 32 || !cm_memeq_ct(a.extra, qualifying, 32)) {
		r = cm_fail_check(e, -EACCES, "tpm_qualifying_data",
				  "TPM quote: qualifying data is not SHA-256 of the expected REPORTDATA");
		goto out;
	}
	if (a.sha256_mask != q->mask) {
		r = cm_fail_check(e, -EINVAL, "tpm_pcr_digest",
				  "TPM quote: the container's PCRs (0x%06x) are not the quote's selection (0x%06x)", q->mask,
				  a.sha256_mask);
		goto out;
	}
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	bool ok = h != NULL;
	for (int i = 0; ok && i < CM_TPM_PCRS; i++)
		if (q->mask & (1u << i))
			ok = cm_hash_update(h, q->pcr[i], 32) == 0;
	ok = ok && cm_hash_final(h, d) == 0;
	cm_hash_free(h);
	if (!ok) {
		r = cm_fail(e, -EIO, "sha256 failed");
		goto out;
	}
	if (memcmp(d, a.pcr_digest, 32) != 0) {
		r = cm_fail_check(e, -EACCES, "tpm_pcr_digest", "TPM quote: the PCR values do not hash to the signed digest");
		goto out;
	}
	for (int i = 0; policy && i < CM_TPM_PCRS; i++) {
		if (!(policy->mask & (1u << i)))
			continue;
		if (!(q->mask & (1u << i))) {
			r = cm_fail_check(e, -EACCES, "tpm_pcr_policy", "TPM quote: PCR %d is not quoted", i);
			goto out;
		}
		if (memcmp(q->pcr[i], policy->pcr[i], 32) != 0) {
			char got[65], want[65];
			cm_hex_encode(q->pcr[i], 32, got, sizeof got);
			cm_hex_encode(policy->pcr[i], 32, want, sizeof want);
			r = cm_fail_check(e, -EACCES, "tpm_pcr_policy", "TPM quote: PCR %d is %.16s..., the policy wants %.16s...",
					  i, got, want);
			goto out;
		}
	}
	if (out)
		*out = *q;
out:
	free(q);
	return r;
}
