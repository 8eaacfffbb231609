/* Peer certificate verification, policies and the attestation cache (see peer.h). */
#include "measure/ratls/peer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/dcap/quote.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/core/json.h"
#include "measure/gpu/gpu.h"
#include "measure/ratls/dcap.h"
#include "measure/ratls/gpuext.h" /* the format only: the verifier is installed (peer.h) */

/* ---- structure ------------------------------------------------------------------------ */

static int oid_is(const ASN1_OBJECT *o, const char *oid)
{
	char buf[80];
	return OBJ_obj2txt(buf, sizeof(buf), o, 1) > 0 && !strcmp(buf, oid);
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return INT64_MIN;
	return (int64_t)timegm(&tm);
}

int cr_cert_inspect(X509 *cert, time_t now, struct cr_cert_info *info, struct cm_err *e)
{
	memset(info, 0, sizeof(*info));
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	if (!pk || EVP_PKEY_id(pk) != EVP_PKEY_ED25519)
		return cm_fail(e, -EBADMSG, "certificate key is not Ed25519");
	int rc = cr_key_raw_public(pk, info->pubkey, e);
	if (rc)
		return -EBADMSG;
	if (X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) != 0 ||
	    X509_verify(cert, pk) != 1) {
		ERR_clear_error();
		return cm_fail(e, -EBADMSG, "certificate is not self-signed by its own key");
	}
	info->not_before = asn1_time_unix(X509_get0_notBefore(cert));
	info->not_after = asn1_time_unix(X509_get0_notAfter(cert));
	if (info->not_before == INT64_MIN || info->not_after == INT64_MIN)
		return cm_fail(e, -EBADMSG, "certificate validity is malformed");
	if ((int64_t)now < info->not_before)
		return cm_fail(e, -EBADMSG, "certificate not yet valid (notBefore %lld > now %lld)",
			       (long long)info->not_before, (long long)now);
	if ((int64_t)now > info->not_after)
		return cm_fail(e, -EBADMSG, "certificate expired (notAfter %lld < now %lld)",
			       (long long)info->not_after, (long long)now);
	const uint8_t *claims = NULL;
	size_t claims_len = 0;
	int n = X509_get_ext_count(cert);
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(ext);
		const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(ext);
		const uint8_t *p = ASN1_STRING_get0_data(d);
		size_t len = (size_t)ASN1_STRING_length(d);
		if (oid_is(o, CR_OID_QUOTE)) {
			if (info->quote)
				return cm_fail(e, -EBADMSG, "duplicate quote extension");
			if (len == 0 || len > CR_QUOTE_MAX)
				return cm_fail(e, -EBADMSG, "quote extension length %zu outside 1..%u", len, CR_QUOTE_MAX);
			info->quote = p;
			info->quote_len = len;
		} else if (oid_is(o, CR_OID_CLAIMS)) {
			if (claims)
				return cm_fail(e, -EBADMSG, "duplicate user claims extension");
			claims = p;
			claims_len = len;
		} else if (oid_is(o, CR_OID_EVENTLOG)) {
			if (info->event_log || len > CR_EVENTLOG_MAX)
				return cm_fail(e, -EBADMSG, "event log extension duplicated or above %u bytes",
					       CR_EVENTLOG_MAX);
			info->event_log = p;
			info->event_log_len = len;
		} else if (oid_is(o, CR_OID_GPU)) {
			if (info->gpu || len == 0 || len > CR_GPU_EXT_MAX)
				return cm_fail(e, -EBADMSG, "GPU evidence extension duplicated, empty or above %u bytes",
					       (unsigned)CR_GPU_EXT_MAX);
			info->gpu = p;
			info->gpu_len = len;
		} else if (X509_EXTENSION_get_critical(ext) && !X509_supported_extension(ext)) {
			char oid[80] = "?";
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
			return cm_fail(e, -EBADMSG, "unknown critical extension %s", oid);
		}
	}
	/* Cocoon ignores the claims and rebuilds them from the key; a mismatch can only be
	 * a forgery or a bug, so refuse it. */
	if (claims && (claims_len != CR_PUBKEY_LEN || !cm_memeq_ct(claims, info->pubkey, CR_PUBKEY_LEN)))
		return cm_fail(e, -EBADMSG, "user claims extension differs from the certificate key");
	return 0;
}

/* ---- attestation cache ------------------------------------------------------------------ */

/* An entry belongs to (SHA-256 of the quote, policy, collateral generation of the policy):
 * a result is only ever reused by the policy whose collateral produced it, and a reload
 * of that collateral flushes the policy's entries (the generation guards the rest). */
struct att_key {
	uint8_t quote_hash[32];
	uint32_t policy;
	uint64_t generation;
};

struct att_entry {
	struct att_key key;
	struct cr_dcap_result res;
	int64_t expires;
	struct att_entry *hnext, *prev, *next;
};

struct att_cache {
	size_t cap, n, nbuckets;
	int ttl;
	struct att_entry **buckets;
	struct att_entry *head, *tail; /* most recent first */
	struct cr_cache_stats st;
};

static size_t bucket_of(const struct att_cache *c, const struct att_key *k)
{
	return (size_t)(cm_le64(k->quote_hash) ^ k->policy) % c->nbuckets;
}

static bool key_eq(const struct att_key *a, const struct att_key *b)
{
	return !memcmp(a->quote_hash, b->quote_hash, 32) && a->policy == b->policy && a->generation == b->generation;
}

static void lru_unlink(struct att_cache *c, struct att_entry *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		c->head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		c->tail = x->prev;
	x->prev = x->next = NULL;
}

static void lru_push(struct att_cache *c, struct att_entry *x)
{
	x->prev = NULL;
	x->next = c->head;
	if (c->head)
		c->head->prev = x;
	c->head = x;
	if (!c->tail)
		c->tail = x;
}

static void cache_remove(struct att_cache *c, struct att_entry *x)
{
	struct att_entry **pp = &c->buckets[bucket_of(c, &x->key)];
	while (*pp && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = x->hnext;
	lru_unlink(c, x);
	free(x);
	c->n--;
}

static struct att_entry *cache_get(struct att_cache *c, const struct att_key *key, int64_t now)
{
	for (struct att_entry *x = c->buckets[bucket_of(c, key)]; x; x = x->hnext) {
		if (!key_eq(&x->key, key))
			continue;
		if (now >= x->expires) {
			c->st.expired++;
			cache_remove(c, x);
			break;
		}
		c->st.hits++;
		lru_unlink(c, x);
		lru_push(c, x);
		return x;
	}
	c->st.misses++;
	return NULL;
}

static void cache_put(struct att_cache *c, const struct att_key *key, const struct cr_dcap_result *r, int64_t now)
{
	if (!c->cap)
		return;
	for (struct att_entry *x = c->buckets[bucket_of(c, key)]; x; x = x->hnext)
		if (key_eq(&x->key, key)) { /* re-verified after expiry: replace */
			cache_remove(c, x);
			break;
		}
	while (c->n >= c->cap && c->tail) {
		c->st.evicted++;
		cache_remove(c, c->tail);
	}
	struct att_entry *x = calloc(1, sizeof(*x));
	if (!x)
		return;
	x->key = *key;
	x->res = *r;
	x->expires = now + c->ttl;
	if (r->valid_until && r->valid_until < x->expires)
		x->expires = r->valid_until;
	size_t b = bucket_of(c, key);
	x->hnext = c->buckets[b];
	c->buckets[b] = x;
	lru_push(c, x);
	c->n++;
}

/* Drop every entry of a policy (its collateral was reloaded). */
static void cache_flush_policy(struct att_cache *c, uint32_t policy)
{
	for (struct att_entry *x = c->head, *n; x; x = n) {
		n = x->next;
		if (x->key.policy == policy)
			cache_remove(c, x);
	}
}

/* ---- policies ----------------------------------------------------------------------------- */

#define MAX_POLICIES 32

struct cr_policy {
	struct cr_policy_conf conf;
	struct cr_dcap_policy *dcap; /* libmeasure policy, anchor and collateral */
	struct cm_gpu_policy *gpu;   /* conf.gpu loaded; NULL: no GPU requirement */
	uint64_t collateral_sig;    /* fingerprint of the collateral files last loaded */
	uint32_t id;                /* identity in the attestation cache (1..) */
	uint64_t generation;        /* collateral loads so far (part of the cache key) */
};

struct cr_verifier {
	struct att_cache cache;
	bool floor_on;
	int64_t floor; /* tracked always (collateral issueDate), applied when floor_on */
	int npolicies;
	struct cr_policy *policies[MAX_POLICIES];
};

struct cr_verifier *cr_verifier_new(size_t cache_entries, int cache_ttl, struct cm_err *e)
{
	struct cr_verifier *v = calloc(1, sizeof(*v));
	if (!v) {
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	v->cache.cap = cache_entries;
	v->cache.ttl = cache_ttl > 0 ? cache_ttl : 3600;
	v->cache.nbuckets = cache_entries > 16 ? cache_entries : 16;
	v->cache.buckets = calloc(v->cache.nbuckets, sizeof(*v->cache.buckets));
	if (!v->cache.buckets) {
		free(v);
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	return v;
}

void cr_verifier_free(struct cr_verifier *v)
{
	if (!v)
		return;
	while (v->cache.head)
		cache_remove(&v->cache, v->cache.head);
	free(v->cache.buckets);
	for (int i = 0; i < v->npolicies; i++) {
		cr_dcap_policy_free(v->policies[i]->dcap);
		cm_gpu_policy_free(v->policies[i]->gpu);
		free(v->policies[i]);
	}
	free(v);
}

static void raise_floor(struct cr_verifier *v, int64_t t)
{
	if (t > v->floor)
		v->floor = t;
}

void cr_verifier_time_floor(struct cr_verifier *v, int64_t build_time)
{
	v->floor_on = true;
	raise_floor(v, build_time);
}

int64_t cr_verifier_time(struct cr_verifier *v, int64_t t)
{
	if (!v->floor_on)
		return t;
	raise_floor(v, t);
	return v->floor;
}

/* Fingerprint (names, sizes, mtimes) of a collateral file or directory. */
static uint64_t collateral_fingerprint(const char *path)
{
	uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	MIX(st.st_mtim.tv_sec);
	MIX(st.st_mtim.tv_nsec);
	MIX(st.st_size);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[PATH_MAX + 256];
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			if (de->d_name[0] == '.' || stat(p, &st) != 0)
				continue;
			for (const char *c = de->d_name; *c; c++)
				MIX(*c);
			MIX(st.st_mtim.tv_sec);
			MIX(st.st_mtim.tv_nsec);
			MIX(st.st_size);
		}
		if (d)
			closedir(d);
	}
#undef MIX
	return h;
}

#define GPU_POLICY_MAX (64u * 1024)

/* Installed by the program (peer.h): referencing cr_gpu_ext_verify here would link the whole
 * GPU verifier into every program that verifies peers. */
static cr_gpu_verify_fn *gpu_verify;

void cr_verifier_set_gpu(cr_gpu_verify_fn *fn)
{
	gpu_verify = fn;
}

/* conf.gpu: "default", or a JSON file whose document is a gpu_policy object. */
static int load_gpu_policy(const struct cr_policy_conf *c, struct cm_gpu_policy **out, struct cm_err *e)
{
	if (c->type == CR_POLICY_ANY)
		return cm_fail(e, -EINVAL, "type 'any' cannot require GPU evidence (it attests nothing)");
	if (!gpu_verify)
		return cm_fail(e, -ENOTSUP, "gpu verifier not available in this program (it cannot require GPU evidence)");
	if (!strcmp(c->gpu, "default"))
		return cm_gpu_policy_default(out, e);
	struct cm_jv root;
	int rc = cm_json_read_file(c->gpu, GPU_POLICY_MAX, c->gpu, &root, e);
	if (rc)
		return rc;
	rc = cm_gpu_policy_parse(&root, out, e);
	cm_json_release(&root);
	return rc;
}

int cr_verifier_add_policy(struct cr_verifier *v, const struct cr_policy_conf *c, struct cm_err *e)
{
	if (v->npolicies >= MAX_POLICIES)
		return cm_fail(e, -ENOSPC, "too many policies (max %d)", MAX_POLICIES);
	if (!c->name[0] || cr_verifier_policy(v, c->name))
		return cm_fail(e, -EINVAL, "policy name '%s' empty or duplicated", c->name);
	struct cr_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return cm_fail(e, -ENOMEM, "out of memory");
	p->conf = *c;
	int rc = cr_dcap_policy_load(c, &p->dcap, e);
	if (!rc && c->gpu[0])
		rc = load_gpu_policy(c, &p->gpu, e);
	if (rc) {
		cr_dcap_policy_free(p->dcap);
		free(p);
		return cm_err_prefix(e, "policy %s", c->name), rc;
	}
	if (c->collateral[0])
		p->collateral_sig = collateral_fingerprint(c->collateral);
	raise_floor(v, cr_dcap_policy_newest_issue(p->dcap));
	p->id = (uint32_t)v->npolicies + 1;
	v->policies[v->npolicies++] = p;
	return 0;
}

const struct cr_policy *cr_verifier_policy(const struct cr_verifier *v, const char *name)
{
	for (int i = 0; i < v->npolicies; i++)
		if (!strcmp(v->policies[i]->conf.name, name))
			return v->policies[i];
	return NULL;
}

int cr_policy_check_pinned(const struct cr_policy *p, struct cm_err *e)
{
	if (p->conf.type != CR_POLICY_TDX)
		return 0; /* any attests nothing; every fake_tdx peer has the same image */
	const struct cm_policy *m = cr_dcap_policy_measure(p->dcap);
	if (cm_policy_pins_image(m) || m->allow_any_image)
		return 0;
	return cm_fail(e, -EINVAL,
		       "policy %s names no image (no image_hashes, mrtd or rtmrs in its policy JSON%s%s); "
		       "pin the images from the measured spec or say \"allow_any_image\": true",
		       p->conf.name, p->conf.measure_policy[0] ? " " : ", which is libmeasure's default",
		       p->conf.measure_policy);
}

const char *cr_policy_name(const struct cr_policy *p)
{
	return p->conf.name;
}

int cr_verifier_refresh(struct cr_verifier *v, struct cm_err *e)
{
	int reloaded = 0, rc = 0;
	for (int i = 0; i < v->npolicies; i++) {
		struct cr_policy *p = v->policies[i];
		if (!p->conf.collateral[0])
			continue;
		uint64_t sig = collateral_fingerprint(p->conf.collateral);
		if (sig == p->collateral_sig)
			continue;
		int r = cr_dcap_policy_reload_collateral(p->dcap, &p->conf, e);
		if (r) {
			cm_err_prefix(e, "policy %s", p->conf.name);
			rc = r; /* keep the previous collateral */
			continue;
		}
		p->collateral_sig = sig;
		raise_floor(v, cr_dcap_policy_newest_issue(p->dcap));
		p->generation++;
		cache_flush_policy(&v->cache, p->id);
		reloaded++;
	}
	return rc ? rc : reloaded;
}

void cr_verifier_stats(const struct cr_verifier *v, struct cr_cache_stats *out)
{
	*out = v->cache.st;
	out->entries = v->cache.n;
}

/* ---- verification ------------------------------------------------------------------------ */

/* The first debug event of a replayed RTMR3 log (one message per line), or NULL. */
static const char *debug_event(const uint8_t *log, size_t len)
{
	static const char *const debug[] = {CM_EVENT_DEBUG, CM_EVENT_DEBUG_SHELL};
	for (size_t off = 0; off < len;) {
		const uint8_t *nl = memchr(log + off, '\n', len - off);
		size_t l = (nl ? (size_t)(nl - log) : len) - off;
		for (size_t i = 0; i < sizeof(debug) / sizeof(debug[0]); i++)
			if (l == strlen(debug[i]) && !memcmp(log + off, debug[i], l))
				return debug[i];
		off += l + 1;
	}
	return NULL;
}

/* The allowlist of n entries of size sz accepts v (an empty list accepts anything). */
static bool allowed(const void *list, size_t n, size_t sz, const uint8_t *v)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp((const uint8_t *)list + i * sz, v, sz))
			return true;
	return n == 0;
}

/* Cocoon's fake_tdx (see peer.h): the 64 REPORTDATA bytes as the quote, zero registers. */
static int fake_tdx_steps(const struct cr_policy *p, const struct cr_cert_info *ci, struct cr_peer *out,
			  struct cm_err *e)
{
	if (!ci->quote)
		return cm_fail_check(e, -EBADMSG, "quote_missing", "certificate carries no quote");
	if (ci->quote_len != CR_FAKE_TDX_QUOTE_LEN)
		return cm_fail_check(e, -EBADMSG, "quote_format", "a fake_tdx quote is %u bytes (REPORTDATA), not %zu",
				     CR_FAKE_TDX_QUOTE_LEN, ci->quote_len);
	uint8_t want[CR_REPORT_DATA_LEN];
	if (cm_sha512(ci->pubkey, CR_PUBKEY_LEN, want))
		return cm_fail_check(e, -EIO, "report_data", "SHA-512 failed");
	if (!cm_memeq_ct(want, ci->quote, CR_REPORT_DATA_LEN))
		return cm_fail_check(e, -EBADMSG, "report_data",
				     "REPORTDATA is not SHA-512 of the certificate's public key");
	memcpy(out->report_data, ci->quote, CR_REPORT_DATA_LEN);
	cm_image_hash(&out->regs, out->image_hash); /* zero registers */
	const struct cm_policy *m = cr_dcap_policy_measure(p->dcap);
	uint8_t zero[4 * 48] = {0};
	if (!allowed(m->mrtd, m->n_mrtd, 48, zero))
		return cm_fail_check(e, -EACCES, "policy_mrtd", "MRTD (zero: fake_tdx) is not in the policy's allowlist");
	if (!allowed(m->rtmrs, m->n_rtmrs, sizeof(zero), zero))
		return cm_fail_check(e, -EACCES, "policy_rtmrs", "RTMR0..3 (zero: fake_tdx) are not in the policy's allowlist");
	if (!allowed(m->image_hashes, m->n_image_hashes, CM_IMAGE_HASH_LEN, out->image_hash))
		return cm_fail_check(e, -EACCES, "policy_image_hash", "image hash is not in the policy's allowlist");
	out->fake_tdx = true;
	return 0;
}

/* The GPU evidence of an attested peer: required by the policy, bound to the certificate's
 * key by the nonce, every GPU verified. The key is the quote's, so the attested TD made it. */
static int peer_gpu(const struct cr_policy *p, X509 *cert, const struct cr_cert_info *ci, time_t now,
		    struct cr_peer *out, struct cm_err *e)
{
	if (!ci->gpu)
		return cm_fail_check(e, -EACCES, "gpu_missing",
				     "the policy requires GPU evidence and the certificate carries none");
	int rc = gpu_verify(ci->gpu, ci->gpu_len, X509_get0_pubkey(cert), p->gpu, (int64_t)now, &out->gpus, e);
	return rc ? cm_err_check(e, rc == -EACCES ? -EACCES : -EBADMSG, e->check ? e->check : "gpu") : 0;
}

/* The steps of cr_peer_verify; a failure names its check in e. */
static int peer_steps(struct cr_verifier *v, const struct cr_policy *p, X509 *cert, time_t now,
		      struct cr_peer *out, struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	now = (time_t)cr_verifier_time(v, (int64_t)now);
	struct cr_cert_info ci;
	int rc = cr_cert_inspect(cert, now, &ci, e);
	if (rc)
		return cm_err_check(e, rc, "certificate");
	memcpy(out->pubkey, ci.pubkey, CR_PUBKEY_LEN);
	if (p->conf.type == CR_POLICY_ANY)
		return 0; /* Cocoon's `any`: no quote needed (allowlists were refused at load) */
	if (p->conf.type == CR_POLICY_FAKE_TDX)
		return fake_tdx_steps(p, &ci, out, e);

	if (!ci.quote)
		return cm_fail_check(e, -EBADMSG, "quote_missing", "certificate carries no quote");
	struct cm_quote q;
	rc = cm_quote_parse(ci.quote, ci.quote_len, &q, e);
	if (rc)
		return cm_err_check(e, (cm_err_prefix(e, "quote"), -EBADMSG), "quote_format");
	if (!cm_quote_is_td(&q) || cm_quote_td_regs(&q, &out->regs))
		return cm_fail_check(e, -EBADMSG, "quote_format", "quote is not a TDX quote");
	memcpy(out->report_data, q.td.report_data, CR_REPORT_DATA_LEN);
	uint8_t want[CR_REPORT_DATA_LEN];
	if (cm_sha512(ci.pubkey, CR_PUBKEY_LEN, want))
		return cm_fail_check(e, -EIO, "report_data", "SHA-512 failed");
	if (!cm_memeq_ct(want, q.td.report_data, CR_REPORT_DATA_LEN))
		return cm_fail_check(e, -EBADMSG, "report_data",
				     "REPORTDATA is not SHA-512 of the certificate's public key");
	cm_image_hash(&out->regs, out->image_hash);

	if (ci.event_log) {
		uint8_t r3[48];
		if (cm_rtmr3_replay(ci.event_log, ci.event_log_len, r3, NULL, e))
			return cm_err_check(e, (cm_err_prefix(e, "event log"), -EBADMSG), "event_log");
		if (!cm_memeq_ct(r3, out->regs.rtmr[3], 48))
			return cm_fail_check(e, -EBADMSG, "event_log",
					     "event log replay differs from the quote's RTMR3");
		out->has_event_log = true;
		const char *dbg = debug_event(ci.event_log, ci.event_log_len);
		if (dbg && !cr_dcap_policy_measure(p->dcap)->allow_debug)
			return cm_fail_check(e, -EACCES, "policy_debug_event",
					     "event log shows %s: a debug appliance is not accepted by the policy", dbg);
	}

	/* DCAP verification (signatures, PCK chain, collateral, TCB), cached per (quote hash,
	 * policy, collateral generation). */
	struct att_key key = {.policy = p->id, .generation = p->generation};
	cm_sha256(ci.quote, ci.quote_len, key.quote_hash);
	struct cr_dcap_result res;
	struct att_entry *hit = cache_get(&v->cache, &key, (int64_t)now);
	if (hit) {
		res = hit->res;
		out->cached = true;
	} else {
		if ((rc = cr_dcap_verify(p->dcap, &q, (int64_t)now, &res, e)))
			return cm_err_check(e, rc, e->check ? e->check : "quote_verification");
		cache_put(&v->cache, &key, &res, (int64_t)now);
	}
	snprintf(out->tcb_status, sizeof(out->tcb_status), "%s", res.tcb_status);
	memcpy(out->root_key_id, res.root_key_id, sizeof(out->root_key_id));
	/* Policy (TCB status accepted, debug, allowlists) on every connection. */
	if ((rc = cr_dcap_policy_check(p->dcap, &q, &res, out->image_hash, e)))
		return cm_err_check(e, rc, e->check ? e->check : "policy");
	if (p->gpu && (rc = peer_gpu(p, cert, &ci, now, out, e)))
		return rc;
	out->attested = true;
	return 0;
}

int cr_peer_verify(struct cr_verifier *v, const struct cr_policy *p, X509 *cert, time_t now,
		   struct cr_peer *out, struct cm_err *e)
{
	struct cm_err local = {0};
	if (!e)
		e = &local; /* the check name travels in it */
	int rc = peer_steps(v, p, cert, now, out, e);
	if (rc)
		out->failed_check = e->check;
	return rc;
}
