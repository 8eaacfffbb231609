/* Cocoon's seal-server protocol, client side (seal.h). */
#include "build_info.h"
#include "guest/keys/seal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "measure/dcap/collateral.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/dcap/policy.h"
#include "measure/dcap/quote.h"
#include "measure/dcap/verify.h"


/* ---- spec settings ---------------------------------------------------------------------- */

static int conf_u16(const struct cm_jv *v, uint16_t *out, struct cm_err *e)
{
	int64_t x;
	int rc = cm_jv_int(v, 0, 65535, &x, e);
	if (rc == 0)
		*out = (uint16_t)x;
	return rc;
}

static int conf_mrenclave(const struct cm_jv *v, struct ck_seal_conf *c, struct cm_err *e)
{
	size_t n;
	int rc = cm_jv_array(v, 1, CK_SEAL_MRENCLAVE_MAX, &n, e);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct cm_jv x = cm_jv_elem(v, i);
		rc = cm_jv_hex(&x, c->mrenclave[i], 32, e);
	}
	if (rc == 0)
		c->n_mrenclave = n;
	return rc;
}

#define SEAL_CONF_MAX (64 * 1024)

int ck_seal_conf_parse(const char *json, size_t len, struct ck_seal_conf *c, struct cm_err *e)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->server, sizeof c->server, "%s", CK_SEAL_DEFAULT_SERVER);
	c->timeout_ms = CK_SEAL_DEFAULT_TIMEOUT_MS;
	struct cm_jv o;
	int rc = cm_json_read(json, len, SEAL_CONF_MAX, CK_SEAL_CONF_FILE, &o, e);
	static const char *const keys[] = {"server", "mrenclave", "isv_prod_id", "min_isv_svn", "timeout_ms", NULL};
	if (rc || (rc = cm_jv_object(&o, keys, e)))
		goto out;
	json_object_object_foreach(o.o, key, val)
	{
		struct cm_jv v = cm_jv_member(&o, key, val);
		const char *s;
		int64_t t;
		if (strcmp(key, "server") == 0) {
			if (!(rc = cm_jv_str(&v, 1, sizeof c->server - 1, &s, e)))
				snprintf(c->server, sizeof c->server, "%s", s);
		} else if (strcmp(key, "mrenclave") == 0) {
			rc = conf_mrenclave(&v, c, e);
		} else if (strcmp(key, "isv_prod_id") == 0) {
			rc = conf_u16(&v, &c->isv_prod_id, e);
			c->has_isv_prod_id = true;
		} else if (strcmp(key, "min_isv_svn") == 0) {
			rc = conf_u16(&v, &c->min_isv_svn, e);
		} else if (!(rc = cm_jv_int(&v, 100, 600000, &t, e))) { /* timeout_ms */
			c->timeout_ms = (unsigned)t;
		}
		if (rc)
			break;
	}
	if (!rc && c->n_mrenclave == 0)
		rc = cm_jv_fail(&o, e, -EINVAL, "mrenclave: required (the allowlist of seal enclaves)");
out:
	cm_json_release(&o);
	return rc;
}

int ck_seal_conf_load(const char *spec_dir, struct ck_seal_conf *c, struct cm_err *e)
{
	char path[512];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", spec_dir, CK_SEAL_CONF_FILE) >= sizeof path)
		return cm_fail(e, -ENAMETOOLONG, "spec path too long");
	uint8_t *buf;
	size_t len;
	int rc = cm_read_file(path, SEAL_CONF_MAX, &buf, &len, e);
	if (rc)
		return rc;
	rc = ck_seal_conf_parse((const char *)buf, len, c, e);
	free(buf);
	return rc;
}

/* ---- trust ------------------------------------------------------------------------------- */

int ck_seal_trust_load(const char *backend, const char *spec_dir, struct ck_seal_trust *t, struct cm_err *e)
{
	memset(t, 0, sizeof(*t));
	t->now = (int64_t)time(NULL);
	char path[512];
	uint8_t *buf;
	int rc;
	if (strcmp(backend, "sim") == 0) {
		const char *d = getenv("COCOON_SIM_DIR");
		d = d && *d ? d : "/run/cocoon/sim";
		snprintf(path, sizeof path, "%s/root.pem", d);
		if (!(t->anchor = cm_x509_load_pem_file(path, e)))
			return e ? e->code : -EIO;
		if (cm_root_key_id(t->anchor, t->root_key_id)) {
			ck_seal_trust_free(t);
			return cm_fail(e, -EINVAL, "%s: no EC key", path);
		}
		snprintf(path, sizeof path, "%s/sgx_collateral.json", d);
	} else {
		if (cm_hex_decode_exact(CM_COCOON_ROOT_KEY_ID, 96, t->root_key_id, 48) < 0)
			return cm_fail(e, -EINVAL, "bad pinned root key id");
		if ((size_t)snprintf(path, sizeof path, "%s/%s", spec_dir, CK_SEAL_COLLATERAL_FILE) >= sizeof path)
			return cm_fail(e, -ENAMETOOLONG, "spec path too long");
	}
	if ((rc = cm_read_file(path, 4u << 20, &buf, &t->collateral_len, e))) {
		ck_seal_trust_free(t);
		return cm_err_prefix(e, "SGX collateral for the seal enclave's quote");
	}
	t->collateral = (char *)buf;
	t->now = ck_seal_time_floor(t->now, t->collateral, t->collateral_len, t->anchor);
	return 0;
}

int64_t ck_seal_time_floor(int64_t now, const char *collateral, size_t len, X509 *anchor)
{
	int64_t floor = (int64_t)COCOON_BUILD_TIME;
	struct cm_collateral *c = NULL;
	if (cm_collateral_load(collateral, len, anchor, &c, NULL) == 0) {
		int64_t a = cm_collateral_tcb_info(c)->issue_date, b = cm_collateral_qe_identity(c)->issue_date;
		floor = a > floor ? a : floor;
		floor = b > floor ? b : floor;
		cm_collateral_free(c);
	}
	return now > floor ? now : floor;
}

void ck_seal_trust_free(struct ck_seal_trust *t)
{
	X509_free(t->anchor);
	free(t->collateral);
	memset(t, 0, sizeof(*t));
}

int ck_seal_server_allowed(const char *server, const char *backend, struct cm_err *e)
{
	if (strncmp(server, "vsock:", 6) == 0)
		return 0;
	if ((strncmp(server, "tcp:", 4) == 0 || strncmp(server, "unix:", 5) == 0) && strcmp(backend, "sim") == 0)
		return 0;
	return cm_fail(e, -EPERM, "seal server \"%.100s\": only vsock:CID:PORT (tcp: and unix: are test "
				   "transports, allowed with the sim backend only)", server);
}

/* ---- keys -------------------------------------------------------------------------------- */

static void reverse32(uint8_t *p)
{
	for (int i = 0; i < 16; i++) {
		uint8_t t = p[i];
		p[i] = p[31 - i];
		p[31 - i] = t;
	}
}

static int eph_export(struct ck_seal_eph *k, struct cm_err *e)
{
	BIGNUM *x = NULL, *y = NULL;
	int ok = EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
		 EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) && BN_bn2binpad(x, k->pub64, 32) == 32 &&
		 BN_bn2binpad(y, k->pub64 + 32, 32) == 32;
	BN_free(x);
	BN_free(y);
	if (!ok) {
		ERR_clear_error();
		ck_seal_eph_free(k);
		return cm_fail(e, -EIO, "cannot export the ephemeral public key");
	}
	reverse32(k->pub64); /* big-endian (OpenSSL) -> little-endian (the enclave's) */
	reverse32(k->pub64 + 32);
	return 0;
}

int ck_seal_eph_new(struct ck_seal_eph *k, struct cm_err *e)
{
	memset(k, 0, sizeof(*k));
	k->key = EVP_EC_gen("P-256");
	if (!k->key) {
		ERR_clear_error();
		return cm_fail(e, -EIO, "P-256 key generation failed");
	}
	return eph_export(k, e);
}

int ck_seal_eph_from_priv(const uint8_t d[32], struct ck_seal_eph *k, struct cm_err *e)
{
	memset(k, 0, sizeof(*k));
	BIGNUM *bn = BN_bin2bn(d, 32, NULL);
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
	uint8_t pub[65];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	int ok = bn && pt && bld && ctx && EC_POINT_mul(g, pt, bn, NULL, NULL, NULL) &&
		 EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, NULL) == 65 &&
		 OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
		 OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) &&
		 OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) &&
		 (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
		 EVP_PKEY_fromdata(ctx, &k->key, EVP_PKEY_KEYPAIR, params) > 0;
	BN_clear_free(bn);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		ERR_clear_error();
		ck_seal_eph_free(k);
		return cm_fail(e, -EINVAL, "not a P-256 private scalar");
	}
	return eph_export(k, e);
}

void ck_seal_eph_free(struct ck_seal_eph *k)
{
	EVP_PKEY_free(k->key);
	k->key = NULL;
}

int ck_seal_report_data(const uint8_t pub64[64], uint8_t rd[64])
{
	memset(rd, 0, 64);
	return cm_sha256(pub64, 64, rd);
}

/* ---- TL ---------------------------------------------------------------------------------- */

/* TL bytes: len < 254: one length byte; else 0xfe + 3-byte LE length; zero-padded to 4. */
static size_t tl_bytes_len(size_t n)
{
	size_t h = n < 254 ? 1 : 4;
	return (h + n + 3) & ~(size_t)3;
}

static uint8_t *tl_put_bytes(uint8_t *p, const void *data, size_t n)
{
	size_t h = n < 254 ? 1 : 4, total = tl_bytes_len(n);
	if (n < 254) {
		p[0] = (uint8_t)n;
	} else {
		p[0] = 0xfe;
		p[1] = (uint8_t)n;
		p[2] = (uint8_t)(n >> 8);
		p[3] = (uint8_t)(n >> 16);
	}
	memcpy(p + h, data, n);
	memset(p + h + n, 0, total - h - n);
	return p + total;
}

int ck_seal_request_encode(const uint8_t report[CA_TDREPORT_LEN], const uint8_t pub64[64], const char *key_name,
			   uint8_t *out, size_t cap, size_t *len, struct cm_err *e)
{
	size_t n = key_name ? strlen(key_name) : 0;
	if (n == 0 || n > CK_SEAL_NAME_MAX)
		return cm_fail(e, -EINVAL, "key name must be 1..%d bytes", CK_SEAL_NAME_MAX);
	size_t total = 4 + tl_bytes_len(CA_TDREPORT_LEN) + tl_bytes_len(64) + tl_bytes_len(n);
	if (total > cap)
		return cm_fail(e, -ENOSPC, "request buffer too small");
	cm_put_le32(out, CK_SEAL_REQ_MAGIC);
	uint8_t *p = tl_put_bytes(out + 4, report, CA_TDREPORT_LEN);
	p = tl_put_bytes(p, pub64, 64);
	tl_put_bytes(p, key_name, n);
	*len = total;
	return 0;
}

/* One TL byte string at *off: minimal length form, zero padding, inside len. */
static int tl_get_bytes(const uint8_t *b, size_t len, size_t *off, const char *what, const uint8_t **data,
			size_t *n, struct cm_err *e)
{
	size_t at = *off;
	if (at >= len)
		return cm_fail(e, -EBADMSG, "%s at offset %zu: missing", what, at);
	size_t h = 1, m = b[at];
	if (m == 255)
		return cm_fail(e, -EBADMSG, "%s at offset %zu: length prefix 0xff is not allowed here", what, at);
	if (m == 254) {
		if (len - at < 4)
			return cm_fail(e, -EBADMSG, "%s at offset %zu: truncated length", what, at);
		h = 4;
		m = b[at + 1] | ((size_t)b[at + 2] << 8) | ((size_t)b[at + 3] << 16);
		if (m < 254)
			return cm_fail(e, -EBADMSG, "%s at offset %zu: non-minimal length %zu", what, at, m);
	}
	size_t total = (h + m + 3) & ~(size_t)3;
	if (total > len - at)
		return cm_fail(e, -EBADMSG, "%s at offset %zu: %zu bytes declared, %zu left", what, at, m, len - at - h);
	if (!cm_is_zero(b + at + h + m, total - h - m))
		return cm_fail(e, -EBADMSG, "%s at offset %zu: non-zero padding", what, at);
	*data = b + at + h;
	*n = m;
	*off = at + total;
	return 0;
}

int ck_seal_response_parse(const uint8_t *body, size_t len, struct ck_seal_response *r, struct cm_err *e)
{
	memset(r, 0, sizeof(*r));
	if (len > CK_SEAL_BODY_MAX)
		return cm_fail(e, -EFBIG, "response of %zu bytes (limit %u)", len, CK_SEAL_BODY_MAX);
	if (len < 4 || cm_le32(body) != CK_SEAL_RESP_MAGIC)
		return cm_fail(e, -EBADMSG, "response magic is not persistentKey#163a179a");
	size_t off = 4, slen;
	int rc;
	if ((rc = tl_get_bytes(body, len, &off, "sgx_quote", &r->quote, &r->quote_len, e)) ||
	    (rc = tl_get_bytes(body, len, &off, "encrypted_secret", &r->secret, &slen, e)))
		return rc;
	if (slen != CK_SEAL_SECRET_LEN)
		return cm_fail(e, -EBADMSG, "encrypted_secret is %zu bytes (expected %d)", slen, CK_SEAL_SECRET_LEN);
	if (off != len)
		return cm_fail(e, -EBADMSG, "%zu bytes after the response", len - off);
	return 0;
}

/* ---- checks ------------------------------------------------------------------------------ */

int ck_seal_check(const struct ck_seal_conf *c, const struct ck_seal_trust *t, const struct ck_seal_response *r,
		  const uint8_t pub64[64], struct cm_err *e)
{
	struct cm_quote q;
	struct cm_err qe = {0};
	if (cm_quote_parse(r->quote, r->quote_len, &q, &qe) < 0)
		return cm_fail_check(e, -EBADMSG, "seal_quote", "sgx_quote: %s", qe.msg);
	/* The verifier's own policy: UpToDate only (the default); the allowlists, root key id
	 * and debug bit are checked below, each under its own name. */
	struct cm_policy pol;
	if (cm_policy_default(&pol) < 0)
		return cm_fail_check(e, -ENOMEM, "seal_quote", "out of memory");
	pol.n_root_key_ids = 0;
	pol.allow_debug = true;
	pol.allow_sgx = true;
	struct cm_verify_opts o = {.time = t->now, .anchor = t->anchor, .policy = &pol};
	struct cm_verify_result vr;
	int rc = cm_verify_quote(&q, t->collateral, t->collateral_len, &o, &vr);
	cm_policy_free(&pol);
	if (rc < 0)
		return cm_fail_check(e, -EACCES, "seal_quote", "the seal enclave's quote does not verify (%s: %s)",
				     vr.failed_check ? vr.failed_check : "?", vr.message);
	if (q.body_type != CM_BODY_SGX || vr.is_td)
		return cm_fail_check(e, -EACCES, "seal_quote_type",
				     "the seal server answered with a %s quote, not an SGX quote",
				     cm_body_type_name(q.body_type));
	uint8_t rd[64];
	if (cm_sha256(pub64, 64, rd) || cm_sha256(r->secret, CK_SEAL_SECRET_LEN, rd + 32))
		return cm_fail_check(e, -EIO, "seal_report_data", "sha256 failed");
	if (!cm_memeq_ct(rd, q.sgx.report_data, 64))
		return cm_fail_check(e, -EACCES, "seal_report_data",
				     "the enclave's REPORTDATA is not SHA-256(our public key) || SHA-256(encrypted_secret): "
				     "a replayed, redirected or altered response");
	bool allowed = false;
	for (size_t i = 0; i < c->n_mrenclave; i++)
		allowed |= memcmp(c->mrenclave[i], q.sgx.mr_enclave, 32) == 0;
	if (!allowed) {
		char hex[65];
		cm_hex_encode(q.sgx.mr_enclave, 32, hex, sizeof hex);
		return cm_fail_check(e, -EACCES, "seal_mrenclave", "MRENCLAVE %s is not in the spec's allowlist",
				     hex);
	}
	if (!vr.has_root_key_id || memcmp(vr.root_key_id, t->root_key_id, 48) != 0)
		return cm_fail_check(e, -EACCES, "seal_root_key_id",
				     "the quote does not chain to the expected root key");
	if (cm_le64(q.sgx.attributes) & 2)
		return cm_fail_check(e, -EACCES, "seal_debug",
				     "the seal enclave is a debug enclave (ATTRIBUTES.DEBUG = 1)");
	if (c->has_isv_prod_id && q.sgx.isv_prod_id != c->isv_prod_id)
		return cm_fail_check(e, -EACCES, "seal_isv_prod_id", "ISVPRODID %u, the spec wants %u",
				     q.sgx.isv_prod_id, c->isv_prod_id);
	if (q.sgx.isv_svn < c->min_isv_svn)
		return cm_fail_check(e, -EACCES, "seal_isv_svn", "ISVSVN %u is below the spec's minimum %u",
				     q.sgx.isv_svn, c->min_isv_svn);
	return 0;
}

/* ---- decryption -------------------------------------------------------------------------- */

static EVP_PKEY *peer_key(const uint8_t xy_le[64])
{
	uint8_t pt[65];
	pt[0] = 0x04;
	for (int i = 0; i < 32; i++) {
		pt[1 + i] = xy_le[31 - i];
		pt[33 + i] = xy_le[63 - i];
	}
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt),
		OSSL_PARAM_END,
	};
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	return k;
}

int ck_seal_decrypt(EVP_PKEY *priv, const uint8_t secret[CK_SEAL_SECRET_LEN], uint8_t key[CK_SEAL_KEY_LEN],
		    struct cm_err *e)
{
	uint8_t x[32], h[32];
	size_t xlen = sizeof x;
	int outl = 0, finl = 0, rc = 0;
	EVP_PKEY *peer = peer_key(secret);
	EVP_PKEY_CTX *dctx = peer ? EVP_PKEY_CTX_new(priv, NULL) : NULL;
	EVP_CIPHER_CTX *cctx = NULL;
	if (!peer) {
		rc = cm_fail(e, -EBADMSG, "the enclave's public key is not a P-256 point");
	} else if (!dctx || EVP_PKEY_derive_init(dctx) <= 0 || EVP_PKEY_derive_set_peer(dctx, peer) <= 0 ||
		   EVP_PKEY_derive(dctx, x, &xlen) <= 0 || xlen != sizeof x) {
		rc = cm_fail(e, -EIO, "ECDH failed");
	} else {
		reverse32(x); /* the enclave hashes x little-endian (sgx_ec256_dh_shared_t) */
		if (cm_sha256(x, sizeof x, h) || !(cctx = EVP_CIPHER_CTX_new()) ||
		    !EVP_DecryptInit_ex2(cctx, EVP_aes_128_ctr(), h, h + 16, NULL) ||
		    !EVP_DecryptUpdate(cctx, key, &outl, secret + 64, 32) ||
		    !EVP_DecryptFinal_ex(cctx, key + outl, &finl) || outl + finl != 32)
			rc = cm_fail(e, -EIO, "AES-128-CTR failed");
	}
	OPENSSL_cleanse(x, sizeof x);
	OPENSSL_cleanse(h, sizeof h);
	EVP_CIPHER_CTX_free(cctx); /* cleanses its key schedule */
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(peer);
	ERR_clear_error();
	if (rc)
		OPENSSL_cleanse(key, CK_SEAL_KEY_LEN);
	return rc;
}

/* ---- transport --------------------------------------------------------------------------- */

/* Wait for fd to become ready for ev before the deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - cm_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = ev};
		int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* The socket address of a server string. */
static int server_addr(const char *server, struct sockaddr_storage *ss, socklen_t *sl, struct cm_err *e)
{
	memset(ss, 0, sizeof(*ss));
	char buf[160];
	if (snprintf(buf, sizeof buf, "%s", server) >= (int)sizeof buf)
		return cm_fail(e, -EINVAL, "server address too long");
	uint64_t a, b;
	if (strncmp(buf, "vsock:", 6) == 0) {
		char *colon = strchr(buf + 6, ':');
		if (!colon)
			return cm_fail(e, -EINVAL, "server \"%s\": vsock:CID:PORT", server);
		*colon = 0;
		if (cm_parse_u64(buf + 6, 0, UINT32_MAX, &a) || cm_parse_u64(colon + 1, 0, UINT32_MAX, &b))
			return cm_fail(e, -EINVAL, "server \"%s\": bad CID or port", server);
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;
		vm->svm_family = AF_VSOCK;
		vm->svm_cid = (unsigned)a;
		vm->svm_port = (unsigned)b;
		*sl = sizeof(*vm);
		return 0;
	}
	if (strncmp(buf, "tcp:", 4) == 0) {
		char *colon = strrchr(buf + 4, ':');
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		if (!colon)
			return cm_fail(e, -EINVAL, "server \"%s\": tcp:HOST:PORT", server);
		*colon = 0;
		if (cm_parse_u64(colon + 1, 1, 65535, &b) || inet_pton(AF_INET, buf + 4, &in->sin_addr) != 1)
			return cm_fail(e, -EINVAL, "server \"%s\": tcp:IPV4:PORT", server);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)b);
		*sl = sizeof(*in);
		return 0;
	}
	if (strncmp(buf, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;
		if (!buf[5] || strlen(buf + 5) >= sizeof un->sun_path)
			return cm_fail(e, -EINVAL, "server \"%s\": bad unix socket path", server);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, buf + 5, strlen(buf + 5));
		*sl = sizeof(*un);
		return 0;
	}
	return cm_fail(e, -EINVAL, "server \"%s\": need vsock:CID:PORT, tcp:HOST:PORT or unix:PATH", server);
}

int ck_seal_connect(const char *server, unsigned timeout_ms, int *fd, struct cm_err *e)
{
	*fd = -1;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	if (server_addr(server, &ss, &sl, e) < 0)
		return cm_err_check(e, e ? e->code : -EINVAL, "seal_config");
	int s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return cm_fail_check(e, -errno, "seal_transport", "socket for %s (%s)", server, strerror(errno));
	int64_t deadline = cm_mono_ms() + timeout_ms;
	int r = connect(s, (struct sockaddr *)&ss, sl);
	if (r < 0 && errno == EINPROGRESS) {
		int err = 0;
		socklen_t el = sizeof err;
		r = wait_fd(s, POLLOUT, deadline);
		if (r == 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
			r = -err;
		if (r < 0) {
			close(s);
			if (r == -ETIMEDOUT)
				return cm_fail_check(e, r, "seal_timeout", "connect to %s: no answer within %u ms",
						     server, timeout_ms);
			return cm_fail_check(e, r, "seal_transport", "connect to %s (%s)", server, strerror(-r));
		}
	} else if (r < 0) {
		int err = errno;
		close(s);
		return cm_fail_check(e, -err, "seal_transport", "connect to %s (%s)", server, strerror(err));
	}
	*fd = s;
	return 0;
}

static int io_all(int fd, uint8_t *p, size_t n, bool wr, int64_t deadline, size_t *done)
{
	*done = 0;
	while (*done < n) {
		int r = wait_fd(fd, wr ? POLLOUT : POLLIN, deadline);
		if (r < 0)
			return r;
		ssize_t k = wr ? send(fd, p + *done, n - *done, MSG_NOSIGNAL) : recv(fd, p + *done, n - *done, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EPIPE; /* peer closed */
		*done += (size_t)k;
	}
	return 0;
}

int ck_seal_exchange(int fd, const uint8_t *req, size_t req_len, unsigned timeout_ms, uint8_t **resp,
		     size_t *resp_len, struct cm_err *e)
{
	*resp = NULL;
	*resp_len = 0;
	if (req_len > CK_SEAL_BODY_MAX)
		return cm_fail_check(e, -EFBIG, "seal_framing", "request of %zu bytes", req_len);
	int64_t deadline = cm_mono_ms() + timeout_ms;
	uint8_t hdr[4];
	size_t done;
	cm_put_le32(hdr, (uint32_t)req_len);
	int r = io_all(fd, hdr, 4, true, deadline, &done);
	if (!r)
		r = io_all(fd, (uint8_t *)req, req_len, true, deadline, &done);
	if (r == -ETIMEDOUT)
		return cm_fail_check(e, r, "seal_timeout", "sending the request: no progress within %u ms",
				     timeout_ms);
	if (r)
		return cm_fail_check(e, r, "seal_transport", "sending the request (%s)", strerror(-r));
	r = io_all(fd, hdr, 4, false, deadline, &done);
	if (r == -ETIMEDOUT)
		return cm_fail_check(e, r, "seal_timeout", "no response within %u ms", timeout_ms);
	if (r == -EPIPE)
		return cm_fail_check(e, -EBADMSG, "seal_framing",
				     "the server closed the connection after %zu of 4 length bytes", done);
	if (r)
		return cm_fail_check(e, r, "seal_transport", "reading the response (%s)", strerror(-r));
	uint32_t n = cm_le32(hdr);
	if (n > CK_SEAL_BODY_MAX)
		return cm_fail_check(e, -EFBIG, "seal_framing", "response length %u exceeds %u", n,
				     CK_SEAL_BODY_MAX);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return cm_fail_check(e, -ENOMEM, "seal_transport", "out of memory");
	r = io_all(fd, buf, n, false, deadline, &done);
	if (r) {
		free(buf);
		if (r == -ETIMEDOUT)
			return cm_fail_check(e, r, "seal_timeout", "response body: %zu of %u bytes within %u ms",
					     done, n, timeout_ms);
		if (r == -EPIPE)
			return cm_fail_check(e, -EBADMSG, "seal_framing",
					     "response body truncated: %zu of %u bytes", done, n);
		return cm_fail_check(e, r, "seal_transport", "reading the response (%s)", strerror(-r));
	}
	*resp = buf;
	*resp_len = n;
	return 0;
}

/* ---- the client -------------------------------------------------------------------------- */

int ck_seal_get_key(struct ca_backend *b, const struct ck_seal_conf *c, const struct ck_seal_trust *t,
		    const char *key_name, uint8_t key[CK_SEAL_KEY_LEN], struct cm_err *e)
{
	struct ck_seal_eph k;
	uint8_t rd[64], report[CA_TDREPORT_LEN], req[CK_SEAL_BODY_MAX], *resp = NULL;
	size_t req_len, resp_len;
	int fd = -1, rc;
	if ((rc = ck_seal_server_allowed(c->server, b->ops->name, e)))
		return cm_err_check(e, rc, "seal_config");
	if ((rc = ck_seal_eph_new(&k, e)))
		return cm_err_check(e, rc, "seal_decrypt");
	if (ck_seal_report_data(k.pub64, rd)) {
		rc = cm_fail_check(e, -EIO, "seal_tdreport", "sha256 failed");
		goto out;
	}
	if ((rc = ca_tdreport(b, rd, report, e))) {
		cm_err_check(e, rc, "seal_tdreport");
		goto out;
	}
	if ((rc = ck_seal_request_encode(report, k.pub64, key_name, req, sizeof req, &req_len, e))) {
		cm_err_check(e, rc, "seal_config");
		goto out;
	}
	if ((rc = ck_seal_connect(c->server, c->timeout_ms, &fd, e)) ||
	    (rc = ck_seal_exchange(fd, req, req_len, c->timeout_ms, &resp, &resp_len, e)))
		goto out;
	struct ck_seal_response r;
	if ((rc = ck_seal_response_parse(resp, resp_len, &r, e))) {
		cm_err_check(e, rc, "seal_response");
		goto out;
	}
	if ((rc = ck_seal_check(c, t, &r, k.pub64, e)))
		goto out;
	if ((rc = ck_seal_decrypt(k.key, r.secret, key, e)))
		cm_err_check(e, rc, "seal_decrypt");
out:
	if (fd >= 0)
		close(fd);
	free(resp);
	ck_seal_eph_free(&k);
	if (rc && e && e->check)
		cm_err_prefix(e, "%s", e->check);
	return rc;
}
