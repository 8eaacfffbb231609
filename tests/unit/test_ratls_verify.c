/* Peer certificate verification (measure/ratls/peer.c + dcap.c on libmeasure's verifier):
 * acceptance, binding, every rejection case, attestation cache, collateral reload. */
#include "tests/unit/test_ratls_ca.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "measure/dcap/collateral.h"
#include "tests/unit/testutil.h"

static struct testca *T;

static int setup(void **state)
{
	(void)state;
	T = testca_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testca_free(T);
	return 0;
}

static const struct cr_policy *pol(struct cr_verifier *v, const char *name)
{
	const struct cr_policy *p = cr_verifier_policy(v, name);
	assert_non_null(p);
	return p;
}

/* Build a certificate for k carrying q (and log), verify it now under policy name. */
static int verify_built(struct cr_verifier *v, const char *name, EVP_PKEY *k, const uint8_t *q, size_t qlen,
			const char *log, struct cr_peer *p, struct cm_err *e)
{
	X509 *x = NULL;
	assert_int_equal(cr_cert_build(k, q, qlen, (const uint8_t *)log, log ? strlen(log) : 0, time(NULL) - 60, &x, e),
			 0);
	int rc = cr_peer_verify(v, pol(v, name), x, time(NULL), p, e);
	X509_free(x);
	return rc;
}

/* A verifier over t's policies ("sim" with measure_policy, "any"; cache entries) and an
 * attested certificate for a new key, valid from now - 60; p and e: the last
 * subject_verify's result. */
struct subject {
	struct cr_verifier *v;
	EVP_PKEY *k;
	X509 *x;
	time_t now;
	struct cr_peer p;
	struct cm_err e;
};

static void subject_new(struct subject *s, struct testca *t, const char *measure_policy, size_t cache, time_t now)
{
	memset(s, 0, sizeof(*s));
	s->now = now;
	s->v = testca_verifier(t, measure_policy, cache);
	s->x = testca_cert(t, &s->k, 0, now - 60);
}

/* Verify s->x under policy name at time at. */
static int subject_verify(struct subject *s, const char *name, time_t at)
{
	return cr_peer_verify(s->v, pol(s->v, name), s->x, at, &s->p, &s->e);
}

static void subject_free(struct subject *s)
{
	X509_free(s->x);
	EVP_PKEY_free(s->k);
	cr_verifier_free(s->v);
}

/* A verifier over T's policies (16 cache entries), a new key and a quote from T binding
 * `bind` (NULL: the key). */
struct quoted {
	struct cr_verifier *v;
	EVP_PKEY *k;
	uint8_t *q;
	size_t qlen;
};

static void quoted_new(struct quoted *s, EVP_PKEY *bind)
{
	struct cm_err e = {0};
	s->v = testca_verifier(T, NULL, 16);
	s->k = cr_key_new(&e);
	s->q = testca_quote(T, bind ? bind : s->k, 0, &s->qlen);
}

static void quoted_free(struct quoted *s)
{
	free(s->q);
	EVP_PKEY_free(s->k);
	cr_verifier_free(s->v);
}

/* verify_built fails with rc at check. */
static void assert_built_fails(struct cr_verifier *v, const char *name, EVP_PKEY *k, const uint8_t *q, size_t qlen,
			       const char *log, int rc, const char *check)
{
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(verify_built(v, name, k, q, qlen, log, &p, &e), rc);
	assert_string_equal(p.failed_check, check);
}

static void test_verify_accepts_bound_sim_quote_then_hits_cache(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, NULL, 16, time(NULL));
	int rc = subject_verify(&s, "sim", s.now);
	if (rc)
		fail_msg("verify: %s (%s)", s.e.msg, s.p.failed_check);
	assert_true(s.p.attested);
	assert_false(s.p.cached);
	assert_true(s.p.has_event_log);
	assert_string_equal(s.p.tcb_status, "UpToDate");
	uint8_t ih[32], pk[32];
	cm_image_hash(&s.p.regs, ih);
	assert_memory_equal(ih, s.p.image_hash, 32);
	assert_int_equal(cr_key_raw_public(s.k, pk, &s.e), 0);
	assert_memory_equal(pk, s.p.pubkey, 32);
	/* second time: evidence from the cache, policy still applied */
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	assert_true(s.p.cached);
	struct cr_cache_stats st;
	cr_verifier_stats(s.v, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.entries, 1);
	subject_free(&s);
}

static void test_verify_rejects_wrong_report_data(void **state)
{
	(void)state;
	struct cm_err e = {0};
	EVP_PKEY *other = cr_key_new(&e);
	struct quoted s;
	quoted_new(&s, other); /* bound to another key */
	assert_built_fails(s.v, "sim", s.k, s.q, s.qlen, NULL, -EBADMSG, "report_data");
	quoted_free(&s);
	EVP_PKEY_free(other);
}

static void test_verify_rejects_expired_and_not_yet_valid(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, NULL, 16, time(NULL));
	time_t nb = s.now - 60;
	assert_int_equal(subject_verify(&s, "sim", nb + 86400 + 1), -EBADMSG);
	assert_non_null(strstr(s.e.msg, "expired"));
	assert_int_equal(subject_verify(&s, "sim", nb - 1), -EBADMSG);
	assert_non_null(strstr(s.e.msg, "not yet valid"));
	assert_int_equal(subject_verify(&s, "sim", nb + 86400), 0); /* inclusive */
	subject_free(&s);
}

/* A policy file pinning the test root, plus `extra` JSON members. */
static char *write_policy_json(const char *extra)
{
	static char path[600];
	char *dir = test_tmpdir();
	X509 *root = cm_x509_load_pem_file(T->root, NULL);
	uint8_t id[48];
	char idhex[97];
	assert_int_equal(cm_root_key_id(root, id), 0);
	X509_free(root);
	cm_hex_encode(id, 48, idhex, sizeof(idhex));
	snprintf(path, sizeof(path), "%s/policy.json", dir);
	char json[512];
	snprintf(json, sizeof(json), "{\"root_key_ids\":[\"%s\"],%s}\n", idhex, extra);
	test_write_text(path, json);
	free(dir);
	return path;
}

static char *write_policy(const char *image_hash_hex)
{
	char extra[200];
	snprintf(extra, sizeof(extra), "\"image_hashes\":[\"%s\"]", image_hash_hex);
	return write_policy_json(extra);
}

static void test_verify_rejects_disallowed_image_hash(void **state)
{
	(void)state;
	struct subject s;
	/* find the real image hash with a permissive policy */
	subject_new(&s, T, NULL, 16, time(NULL));
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	cr_verifier_free(s.v);
	char good[65], bad[65];
	cm_hex_encode(s.p.image_hash, 32, good, sizeof(good));
	memcpy(bad, good, sizeof(bad));
	bad[0] = bad[0] == '0' ? '1' : '0';

	s.v = testca_verifier(T, write_policy(bad), 16);
	assert_int_equal(subject_verify(&s, "sim", s.now), -EACCES);
	assert_string_equal(s.p.failed_check, "policy_image_hash");
	/* a cached evidence result does not bypass the allowlist */
	assert_int_equal(subject_verify(&s, "sim", s.now), -EACCES);
	assert_true(s.p.cached);
	cr_verifier_free(s.v);

	s.v = testca_verifier(T, write_policy(good), 16);
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	subject_free(&s);
}

static void test_verify_rejects_unknown_critical_extension(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, NULL, 16, time(NULL));
	testca_resign_with_ext(s.x, s.k, "1.3.6.1.4.1.12345.9", 0);
	assert_int_equal(subject_verify(&s, "sim", s.now), 0); /* non-critical: fine */
	X509_free(s.x);
	EVP_PKEY_free(s.k);
	s.x = testca_cert(T, &s.k, 0, s.now - 60);
	testca_resign_with_ext(s.x, s.k, "1.3.6.1.4.1.12345.9", 1);
	assert_int_equal(subject_verify(&s, "sim", s.now), -EBADMSG);
	assert_non_null(strstr(s.e.msg, "unknown critical extension 1.3.6.1.4.1.12345.9"));
	assert_int_equal(subject_verify(&s, "any", s.now), -EBADMSG); /* any policy too */
	subject_free(&s);
}

/* A certificate with Cocoon's extensions, for any key, signed by signer (self if NULL). */
static X509 *raw_cert(EVP_PKEY *key, EVP_PKEY *signer, const char *issuer_cn, const uint8_t *q, size_t qlen)
{
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_NAME *iss = X509_NAME_new();
	X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0);
	X509_set_issuer_name(x, iss);
	X509_NAME_free(iss);
	X509_set_pubkey(x, key);
	ASN1_OBJECT *o = OBJ_txt2obj(CR_OID_QUOTE, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(os, q, (int)qlen);
	X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, o, 1, os);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	EVP_PKEY *s = signer ? signer : key;
	assert_true(X509_sign(x, s, EVP_PKEY_id(s) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	return x;
}

static void test_verify_rejects_non_ed25519_key(void **state)
{
	(void)state;
	struct cr_verifier *v = testca_verifier(T, NULL, 16);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	uint8_t q[64] = {0};
	X509 *x = raw_cert(ec, NULL, "localhost", q, sizeof(q));
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, pol(v, "any"), x, time(NULL), &p, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not Ed25519"));
	X509_free(x);
	EVP_PKEY_free(ec);
	cr_verifier_free(v);
}

static void test_verify_rejects_certificate_issued_by_another_key(void **state)
{
	(void)state;
	struct cm_err e = {0};
	EVP_PKEY *ca = cr_key_new(&e);
	struct quoted s;
	quoted_new(&s, NULL);
	struct cr_peer p;
	/* leaf of a chain: issuer differs, signed by the CA key */
	X509 *x = raw_cert(s.k, ca, "Some CA", s.q, s.qlen);
	assert_int_equal(cr_peer_verify(s.v, pol(s.v, "sim"), x, time(NULL), &p, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not self-signed"));
	X509_free(x);
	/* same names but signed by another key */
	x = raw_cert(s.k, ca, "localhost", s.q, s.qlen);
	assert_int_equal(cr_peer_verify(s.v, pol(s.v, "sim"), x, time(NULL), &p, &e), -EBADMSG);
	X509_free(x);
	quoted_free(&s);
	EVP_PKEY_free(ca);
}

static void test_verify_rejects_broken_quote(void **state)
{
	(void)state;
	struct quoted s;
	quoted_new(&s, NULL);
	/* a flipped byte in the TD body (MRTD) breaks the quote signature */
	s.q[48 + 136] ^= 1;
	assert_built_fails(s.v, "sim", s.k, s.q, s.qlen, NULL, -EBADMSG, "quote_signature");
	/* truncated */
	assert_built_fails(s.v, "sim", s.k, s.q, 600, NULL, -EBADMSG, "quote_format");
	/* no quote at all, under tdx; accepted under any */
	assert_built_fails(s.v, "sim", s.k, NULL, 0, NULL, -EBADMSG, "quote_missing");
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(verify_built(s.v, "any", s.k, NULL, 0, NULL, &p, &e), 0);
	assert_false(p.attested);
	quoted_free(&s);
}

static void test_verify_rejects_event_log_not_matching_rtmr3(void **state)
{
	(void)state;
	struct quoted s;
	quoted_new(&s, NULL);
	assert_built_fails(s.v, "sim", s.k, s.q, s.qlen, "cocoon:spec.tree=ffff\ncocoon:tdx_inited\n", -EBADMSG,
			   "event_log");
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(verify_built(s.v, "sim", s.k, s.q, s.qlen, test_event_log, &p, &e), 0);
	assert_true(p.has_event_log);
	quoted_free(&s);
}

static void test_verify_rejects_quote_from_untrusted_root(void **state)
{
	(void)state;
	/* a second CA: its quotes do not chain to T's root */
	struct testca *other = testca_new();
	struct cr_verifier *v = testca_verifier(T, NULL, 16);
	EVP_PKEY *k;
	X509 *x = testca_cert(other, &k, 0, time(NULL) - 60);
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x, time(NULL), &p, &e), -EBADMSG);
	assert_false(p.attested);
	X509_free(x);
	EVP_PKEY_free(k);
	cr_verifier_free(v);
	testca_free(other);
}

static void test_cache_is_bounded_lru(void **state)
{
	(void)state;
	struct cr_verifier *v = testca_verifier(T, NULL, 2);
	time_t now = time(NULL);
	struct cr_peer p;
	struct cm_err e = {0};
	X509 *x[3];
	EVP_PKEY *k[3];
	for (int i = 0; i < 3; i++) {
		x[i] = testca_cert(T, &k[i], i, now - 60);
		assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x[i], now, &p, &e), 0);
	}
	struct cr_cache_stats st;
	cr_verifier_stats(v, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evicted, 1);
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x[0], now, &p, &e), 0);
	assert_false(p.cached); /* the oldest was evicted */
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x[2], now, &p, &e), 0);
	assert_true(p.cached);
	/* entries expire: cache_ttl is 3600 s */
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x[2], now + 3601, &p, &e), 0);
	assert_false(p.cached);
	for (int i = 0; i < 3; i++) {
		X509_free(x[i]);
		EVP_PKEY_free(k[i]);
	}
	cr_verifier_free(v);
}

static void test_collateral_reloaded_when_file_changes(void **state)
{
	(void)state;
	struct cr_verifier *v = testca_verifier(T, NULL, 16);
	struct cm_err e = {0};
	assert_int_equal(cr_verifier_refresh(v, &e), 0); /* unchanged */
	/* rewrite the same bundle: new mtime */
	uint8_t *buf;
	size_t len;
	assert_int_equal(cm_read_file(T->collateral, 1 << 22, &buf, &len, &e), 0);
	usleep(20000);
	test_write_file(T->collateral, buf, len);
	assert_int_equal(cr_verifier_refresh(v, &e), 1);
	/* a corrupt bundle is refused and the previous collateral kept */
	usleep(20000);
	test_write_file(T->collateral, buf, len / 2);
	assert_true(cr_verifier_refresh(v, &e) < 0);
	EVP_PKEY *k;
	X509 *x = testca_cert(T, &k, 0, time(NULL) - 60);
	struct cr_peer p;
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x, time(NULL), &p, &e), 0);
	test_write_file(T->collateral, buf, len);
	free(buf);
	X509_free(x);
	EVP_PKEY_free(k);
	cr_verifier_free(v);
}

static void add_policy(struct cr_verifier *v, const char *name, const char *root, const char *collateral)
{
	struct cm_err e = {0};
	struct cr_policy_conf c = {.type = CR_POLICY_TDX};
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.root, sizeof(c.root), "%s", root);
	snprintf(c.collateral, sizeof(c.collateral), "%s", collateral);
	if (cr_verifier_add_policy(v, &c, &e))
		fail_msg("policy %s: %s", name, e.msg);
}

/* Verification of x under policy name at now fails the check (evidence, not from the cache). */
static void assert_refused(struct cr_verifier *v, const char *name, X509 *x, time_t now, const char *check)
{
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, pol(v, name), x, now, &p, &e), -EBADMSG);
	assert_false(p.cached);
	assert_string_equal(p.failed_check, check);
}

/* Verification of x under policy name is refused with collateral_missing, the message
 * holding want1 (and want2 unless NULL). */
static void assert_collateral_missing(struct cr_verifier *v, const char *name, X509 *x, time_t now,
				      const char *want1, const char *want2)
{
	struct cr_peer p;
	struct cm_err e = {0};
	assert_int_equal(cr_peer_verify(v, pol(v, name), x, now, &p, &e), -EBADMSG);
	assert_string_equal(p.failed_check, "collateral_missing");
	if (!strstr(e.msg, want1) || (want2 && !strstr(e.msg, want2)))
		fail_msg("message '%s' lacks '%s' / '%s'", e.msg, want1, want2 ? want2 : "");
}

/* The spec share's runtime/collateral/ does not exist before cocoon-launch has installed a
 * bundle (and cocoon-init's copy drops an empty directory): a policy naming it starts, refuses
 * peers with collateral_missing, and takes the bundles once the directory appears; a
 * directory that vanishes again keeps the loaded bundles. Before: the policy failed to load
 * ("No such file or directory") and cocoon-ratls exited. */
static void test_collateral_directory_that_appears_later(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, NULL, 16, time(NULL));
	char *dir = test_tmpdir(), path[PATH_MAX], file[PATH_MAX + 32], gone[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/collateral", dir);
	add_policy(s.v, "later", T->root, path);
	assert_collateral_missing(s.v, "later", s.x, s.now, path, NULL);
	assert_int_equal(cr_verifier_refresh(s.v, &s.e), 0); /* still absent: nothing to reload */
	uint8_t *buf;
	size_t len;
	assert_int_equal(cm_read_file(T->collateral, 1 << 22, &buf, &len, &s.e), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(file, sizeof(file), "%s/00906ED50000.json", path);
	test_write_file(file, buf, len);
	free(buf);
	assert_int_equal(cr_verifier_refresh(s.v, &s.e), 1);
	assert_int_equal(subject_verify(&s, "later", s.now), 0);
	/* the directory vanishes: the reload fails and the bundles stay */
	snprintf(gone, sizeof(gone), "%s.gone", path);
	assert_int_equal(rename(path, gone), 0);
	assert_true(cr_verifier_refresh(s.v, &s.e) < 0);
	assert_int_equal(subject_verify(&s, "later", s.now + 4000), 0);
	assert_false(s.p.cached); /* verified with the kept bundles, not from the cache */
	subject_free(&s);
	free(dir);
}

/* A quote verified under one policy is not accepted from the cache under another policy
 * with the same trust anchor: that policy's own collateral decides (here: it has none). */
static void test_cache_is_per_policy(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, NULL, 16, time(NULL));
	char *empty = test_tmpdir();
	add_policy(s.v, "nocollateral", T->root, empty);
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	assert_refused(s.v, "nocollateral", s.x, s.now, "collateral_missing");
	/* and the first policy's entry is still there */
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	assert_true(s.p.cached);
	subject_free(&s);
	free(empty);
}

static void write_collateral(const struct testca *t)
{
	size_t len;
	const char *b = ca_simca_collateral(t->ca, &len);
	usleep(20000); /* a new mtime */
	test_write_file(t->collateral, b, len);
}

/* The FMSPC lookup over a directory of bundles: a peer whose platform has no bundle there is
 * refused with collateral_missing naming its FMSPC (what the operator adds to
 * collateral_peer_fmspcs) and the FMSPCs loaded; once its bundle is there it verifies,
 * whatever bundle sorts first. Before: fmspc_mismatch "PCK FMSPC ... does not match the TCB
 * info", from an arbitrary bundle. */
static void test_collateral_lookup_by_fmspc(void **state)
{
	(void)state;
	struct ca_simca_params cp;
	ca_simca_params_default(&cp, (int64_t)time(NULL));
	cp.tcb_fmspc[5] = 0x01; /* TCB info for 00906ED50001; the PCK certificate says 00906ED50000 */
	struct testca *t = testca_new_with(&cp);
	char *dir = test_tmpdir(), path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/00906ED50001.json", dir);
	assert_int_equal(rename(t->collateral, path), 0);
	snprintf(t->collateral, sizeof(t->collateral), "%s", dir);
	struct subject s;
	subject_new(&s, t, NULL, 16, time(NULL));
	assert_collateral_missing(s.v, "sim", s.x, s.now, "no collateral for the peer's FMSPC 00906ED50000",
				  "(bundles for 00906ED50001)");
	/* the platform's bundle arrives (sorting after the other one) */
	cp.tcb_fmspc[5] = 0x00;
	assert_int_equal(ca_simca_reissue_collateral(t->ca, &cp, &s.e), 0);
	size_t len;
	const char *b = ca_simca_collateral(t->ca, &len);
	snprintf(path, sizeof(path), "%s/00906ED50000.json.new", dir);
	test_write_file(path, b, len);
	char dst[PATH_MAX + 32];
	snprintf(dst, sizeof(dst), "%s/ZZ-platform.json", dir);
	assert_int_equal(rename(path, dst), 0);
	assert_int_equal(cr_verifier_refresh(s.v, &s.e), 1);
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	subject_free(&s);
	testca_free(t);
	free(dir);
}

/* A CA of its own (params p), its verifier and a certificate whose evidence was verified
 * at now and then came from the cache at cached_at. */
struct own {
	struct testca *t;
	struct subject s;
};

static void own_new(struct own *o, const struct ca_simca_params *p, time_t now, time_t cached_at)
{
	o->t = testca_new_with(p);
	subject_new(&o->s, o->t, NULL, 16, now);
	assert_int_equal(subject_verify(&o->s, "sim", now), 0);
	assert_int_equal(subject_verify(&o->s, "sim", cached_at), 0);
	assert_true(o->s.p.cached);
}

static void own_free(struct own *o)
{
	subject_free(&o->s);
	testca_free(o->t);
}

/* A collateral reload flushes the policy's cached results: a PCK certificate the new CRL
 * revokes is refused at once. */
static void test_collateral_reload_flushes_cache(void **state)
{
	(void)state;
	time_t now = time(NULL);
	struct ca_simca_params cp;
	ca_simca_params_default(&cp, (int64_t)now);
	struct own o;
	own_new(&o, &cp, now, now);
	struct cm_err e = {0};
	cp.revoke_pck = true;
	assert_int_equal(ca_simca_reissue_collateral(o.t->ca, &cp, &e), 0);
	write_collateral(o.t);
	assert_int_equal(cr_verifier_refresh(o.s.v, &e), 1);
	assert_refused(o.s.v, "sim", o.s.x, now, "pck_revoked");
	own_free(&o);
}

/* A cached result expires at the earliest end of what verified it: the quote's PCK
 * certificate, the PCK CRL, TCB info and QE identity (each 2 minutes ahead here, well
 * inside the cache TTL). */
static void test_cache_expiry_capped_at_earliest_window_end(void **state)
{
	(void)state;
	static const char *const checks[] = {"pck_cert_expired", "pck_crl_expired", "tcb_info_expired",
					     "qe_identity_expired"};
	for (int i = 0; i < 4; i++) {
		time_t now = time(NULL);
		struct ca_simca_params cp;
		ca_simca_params_default(&cp, (int64_t)now);
		int64_t *end[] = {&cp.pck_to, &cp.pck_crl_to, &cp.tcb_to, &cp.qe_to};
		*end[i] = (int64_t)now + 120;
		struct own o;
		own_new(&o, &cp, now, now + 60);
		assert_refused(o.s.v, "sim", o.s.x, now + 121, checks[i]);
		own_free(&o);
	}
}

static void test_any_policy_refuses_allowlists(void **state)
{
	(void)state;
	struct cm_err e = {0};
	struct cr_verifier *v = cr_verifier_new(4, 60, &e);
	struct cr_policy_conf c = {.type = CR_POLICY_ANY};
	snprintf(c.name, sizeof(c.name), "bad");
	snprintf(c.measure_policy, sizeof(c.measure_policy), "%s", write_policy("00"));
	assert_int_equal(cr_verifier_add_policy(v, &c, &e), -EINVAL);
	cr_verifier_free(v);
}

/* Production peer policies name the images they accept: a tdx policy without an
 * allowlist is refused unless it says allow_any_image (cocoon-ratls checks this for every
 * listener's policy at start). */
static void test_policy_must_pin_image(void **state)
{
	(void)state;
	struct cm_err e = {0};
	struct cr_verifier *v = testca_verifier(T, NULL, 4);
	assert_int_equal(cr_policy_check_pinned(pol(v, "sim"), &e), -EINVAL);
	assert_non_null(strstr(e.msg, "allow_any_image"));
	assert_int_equal(cr_policy_check_pinned(pol(v, "any"), &e), 0);
	cr_verifier_free(v);
	v = testca_verifier(T, write_policy_json("\"allow_any_image\":true"), 4);
	assert_int_equal(cr_policy_check_pinned(pol(v, "sim"), &e), 0);
	cr_verifier_free(v);
	char h[65];
	memset(h, '0', 64);
	h[64] = 0;
	v = testca_verifier(T, write_policy(h), 4);
	assert_int_equal(cr_policy_check_pinned(pol(v, "sim"), &e), 0);
	cr_verifier_free(v);
}

/* Cocoon's fake_tdx (tee/cocoon/tdx.cpp FakeTdxInterface): the "quote" is the 64-byte
 * REPORTDATA, SHA-512 of the key; zero registers, so the image hash is SHA-256 of 448 zero
 * bytes. Only a fake_tdx policy accepts it; the tdx (production) policies and the fake_tdx
 * policy's own checks refuse the rest. */
static void test_fake_tdx_only_under_fake_tdx_policy(void **state)
{
	(void)state;
	struct cm_err e = {0};
	char h[65];
	memset(h, 'f', 64);
	h[64] = 0;
	struct cr_verifier *v = testca_verifier(T, write_policy(h), 4);
	struct cr_policy_conf fc = {.type = CR_POLICY_FAKE_TDX};
	snprintf(fc.name, sizeof(fc.name), "fake");
	assert_int_equal(cr_verifier_add_policy(v, &fc, &e), 0);
	snprintf(fc.name, sizeof(fc.name), "fake_pinned");
	char *dir = test_tmpdir(), path[600];
	snprintf(path, sizeof(path), "%s/fake.json", dir);
	test_write_text(path, "{\"image_hashes\":[\"" CR_FAKE_TDX_IMAGE_HASH "\"]}");
	snprintf(fc.measure_policy, sizeof(fc.measure_policy), "%s", path);
	assert_int_equal(cr_verifier_add_policy(v, &fc, &e), 0);
	snprintf(path, sizeof(path), "%s/other.json", dir);
	char json[128];
	snprintf(json, sizeof(json), "{\"image_hashes\":[\"%s\"]}", h);
	test_write_text(path, json);
	snprintf(fc.name, sizeof(fc.name), "fake_other");
	snprintf(fc.measure_policy, sizeof(fc.measure_policy), "%s", path);
	assert_int_equal(cr_verifier_add_policy(v, &fc, &e), 0);
	/* a fake_tdx policy takes no root or collateral: it checks no signature */
	snprintf(fc.name, sizeof(fc.name), "fake_root");
	fc.measure_policy[0] = 0;
	snprintf(fc.root, sizeof(fc.root), "%s", T->root);
	assert_int_equal(cr_verifier_add_policy(v, &fc, &e), -EINVAL);
	free(dir);

	EVP_PKEY *k = cr_key_new(&e), *other = cr_key_new(&e);
	uint8_t rd[CR_REPORT_DATA_LEN];
	assert_int_equal(cr_report_data(k, rd, &e), 0);
	struct cr_peer p;
	assert_int_equal(verify_built(v, "fake", k, rd, sizeof(rd), NULL, &p, &e), 0);
	assert_true(p.fake_tdx);
	assert_false(p.attested);
	assert_memory_equal(p.report_data, rd, sizeof(rd));
	uint8_t want[32];
	assert_int_equal(cm_hex_decode_exact(CR_FAKE_TDX_IMAGE_HASH, 64, want, sizeof(want)), 0);
	assert_memory_equal(p.image_hash, want, 32);
	uint8_t zero[48] = {0};
	assert_memory_equal(p.regs.mrtd, zero, 48);
	assert_memory_equal(p.regs.rtmr[3], zero, 48);
	assert_int_equal(verify_built(v, "fake_pinned", k, rd, sizeof(rd), NULL, &p, &e), 0);
	assert_built_fails(v, "fake_other", k, rd, sizeof(rd), NULL, -EACCES, "policy_image_hash");
	/* the production policy refuses it: not a TDX quote */
	assert_int_equal(verify_built(v, "sim", k, rd, sizeof(rd), NULL, &p, &e), -EBADMSG);
	assert_string_equal(p.failed_check, "quote_format");
	assert_false(p.fake_tdx);
	/* fake_tdx refuses another key's REPORTDATA, another size, a real quote, no quote */
	uint8_t ord[CR_REPORT_DATA_LEN];
	assert_int_equal(cr_report_data(other, ord, &e), 0);
	assert_built_fails(v, "fake", k, ord, sizeof(ord), NULL, -EBADMSG, "report_data");
	assert_built_fails(v, "fake", k, rd, 63, NULL, -EBADMSG, "quote_format");
	size_t qlen;
	uint8_t *q = testca_quote(T, k, 0, &qlen);
	assert_built_fails(v, "fake", k, q, qlen, NULL, -EBADMSG, "quote_format");
	free(q);
	assert_built_fails(v, "fake", k, NULL, 0, NULL, -EBADMSG, "quote_missing");
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	cr_verifier_free(v);
}

/* An event log showing the debug key provider (cocoon:cocoon_debug) or a debug shell is
 * refused by every policy that does not allow debug, even with a matching RTMR3. */
static void test_debug_events_refused_by_non_debug_policy(void **state)
{
	(void)state;
	static const char *const logs[] = {
		"cocoon:spec.tree=0123abcd\ncocoon:cocoon_debug\ncocoon:tdx_inited\n",
		"cocoon:spec.tree=0123abcd\ncocoon:debug_shell\n",
	};
	struct cm_err e = {0};
	struct cr_verifier *strict = testca_verifier(T, write_policy_json("\"allow_any_image\":true"), 4);
	struct cr_verifier *dbg =
		testca_verifier(T, write_policy_json("\"allow_any_image\":true,\"allow_debug\":true"), 4);
	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k = cr_key_new(&e);
		size_t qlen;
		uint8_t *q = testca_quote_log(T, k, 0, logs[i], &qlen);
		struct cr_peer p;
		assert_int_equal(verify_built(strict, "sim", k, q, qlen, logs[i], &p, &e), -EACCES);
		assert_string_equal(p.failed_check, "policy_debug_event");
		assert_false(p.attested);
		if (verify_built(dbg, "sim", k, q, qlen, logs[i], &p, &e))
			fail_msg("debug policy: %s (%s)", e.msg, p.failed_check);
		free(q);
		EVP_PKEY_free(k);
	}
	/* the normal log passes the strict policy */
	EVP_PKEY *k = cr_key_new(&e);
	size_t qlen;
	uint8_t *q = testca_quote(T, k, 0, &qlen);
	struct cr_peer p;
	assert_int_equal(verify_built(strict, "sim", k, q, qlen, test_event_log, &p, &e), 0);
	free(q);
	EVP_PKEY_free(k);
	cr_verifier_free(strict);
	cr_verifier_free(dbg);
}

/* The host sets the guest's clock: with the time floor on, verification never runs at a
 * time before the floor (build time, newest collateral issueDate, latest time seen), so a
 * clock held back cannot revive an expired certificate. */
static void test_time_floor_refuses_clock_held_back(void **state)
{
	(void)state;
	struct cm_err e = {0};
	time_t now = time(NULL);
	struct ca_simca_params cp;
	ca_simca_params_default(&cp, (int64_t)now - 4 * 86400); /* collateral valid from 5 days ago */
	struct testca *t = testca_new_with(&cp);
	EVP_PKEY *k;
	X509 *x = testca_cert(t, &k, 0, now - 3 * 86400); /* expired two days ago */
	struct cr_peer p;
	time_t back = now - 3 * 86400 + 3600;              /* the host's clock */
	struct cr_verifier *v = testca_verifier(t, NULL, 4);
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x, back, &p, &e), 0); /* without a floor */
	cr_verifier_free(v);
	v = testca_verifier(t, NULL, 4);
	cr_verifier_time_floor(v, (int64_t)now);            /* e.g. the image's build time */
	assert_int_equal(cr_peer_verify(v, pol(v, "sim"), x, back, &p, &e), -EBADMSG);
	assert_string_equal(p.failed_check, "certificate");
	assert_non_null(strstr(e.msg, "expired"));
	/* monotonic: a time seen once is the new floor */
	assert_int_equal(cr_verifier_time(v, (int64_t)now + 500), (int64_t)now + 500);
	assert_int_equal(cr_verifier_time(v, (int64_t)now), (int64_t)now + 500);
	cr_verifier_free(v);
	X509_free(x);
	EVP_PKEY_free(k);
	testca_free(t);
}

/* The floor starts at the newest issueDate of the loaded collateral (TCB info, QE identity). */
static void test_time_floor_from_collateral_issue_date(void **state)
{
	(void)state;
	struct cm_err e = {0};
	uint8_t *buf;
	size_t len;
	assert_int_equal(cm_read_file(T->collateral, 1 << 22, &buf, &len, &e), 0);
	X509 *root = cm_x509_load_pem_file(T->root, &e);
	struct cm_collateral *c = NULL;
	assert_int_equal(cm_collateral_load((const char *)buf, len, root, &c, &e), 0);
	int64_t issued = cm_collateral_tcb_info(c)->issue_date;
	if (cm_collateral_qe_identity(c)->issue_date > issued)
		issued = cm_collateral_qe_identity(c)->issue_date;
	cm_collateral_free(c);
	X509_free(root);
	free(buf);
	assert_true(issued > 1000);
	struct cr_verifier *v = testca_verifier(T, NULL, 4);
	assert_int_equal(cr_verifier_time(v, 1000), 1000); /* no floor unless enabled */
	cr_verifier_time_floor(v, 0);
	assert_int_equal(cr_verifier_time(v, 1000), issued);
	cr_verifier_free(v);
}

/* A policy minimum tcbEvaluationDataNumber refuses older collateral (the sim CA's is 17). */
static void test_min_tcb_evaluation_data_number_refuses_old_collateral(void **state)
{
	(void)state;
	struct subject s;
	subject_new(&s, T, write_policy_json("\"allow_any_image\":true,\"min_tcb_evaluation_data_number\":18"), 4,
		    time(NULL));
	assert_int_equal(subject_verify(&s, "sim", s.now), -EACCES);
	assert_string_equal(s.p.failed_check, "policy_tcb_evaluation_data_number");
	assert_non_null(strstr(s.e.msg, "17"));
	cr_verifier_free(s.v);
	s.v = testca_verifier(T, write_policy_json("\"allow_any_image\":true,\"min_tcb_evaluation_data_number\":17"), 4);
	assert_int_equal(subject_verify(&s, "sim", s.now), 0);
	subject_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_accepts_bound_sim_quote_then_hits_cache),
		cmocka_unit_test(test_verify_rejects_wrong_report_data),
		cmocka_unit_test(test_verify_rejects_expired_and_not_yet_valid),
		cmocka_unit_test(test_verify_rejects_disallowed_image_hash),
		cmocka_unit_test(test_verify_rejects_unknown_critical_extension),
		cmocka_unit_test(test_verify_rejects_non_ed25519_key),
		cmocka_unit_test(test_verify_rejects_certificate_issued_by_another_key),
		cmocka_unit_test(test_verify_rejects_broken_quote),
		cmocka_unit_test(test_verify_rejects_event_log_not_matching_rtmr3),
		cmocka_unit_test(test_verify_rejects_quote_from_untrusted_root),
		cmocka_unit_test(test_cache_is_bounded_lru),
		cmocka_unit_test(test_collateral_reloaded_when_file_changes),
		cmocka_unit_test(test_collateral_directory_that_appears_later),
		cmocka_unit_test(test_collateral_lookup_by_fmspc),
		cmocka_unit_test(test_cache_is_per_policy),
		cmocka_unit_test(test_collateral_reload_flushes_cache),
		cmocka_unit_test(test_cache_expiry_capped_at_earliest_window_end),
		cmocka_unit_test(test_any_policy_refuses_allowlists),
		cmocka_unit_test(test_policy_must_pin_image),
		cmocka_unit_test(test_debug_events_refused_by_non_debug_policy),
		cmocka_unit_test(test_fake_tdx_only_under_fake_tdx_policy),
		cmocka_unit_test(test_time_floor_refuses_clock_held_back),
		cmocka_unit_test(test_time_floor_from_collateral_issue_date),
		cmocka_unit_test(test_min_tcb_evaluation_data_number_refuses_old_collateral),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
