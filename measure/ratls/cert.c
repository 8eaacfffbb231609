/* Cocoon-format RA-TLS certificate builder (see cert.h). */
#include "measure/ratls/cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "measure/core/digest.h"
#include "measure/ratls/gpuext.h"

EVP_PKEY *cr_key_new(struct cm_err *e)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!pc || EVP_PKEY_keygen_init(pc) != 1 || EVP_PKEY_keygen(pc, &key) != 1) {
		cm_fail(e, -EIO, "Ed25519 key generation failed");
		key = NULL;
	}
	EVP_PKEY_CTX_free(pc);
	return key;
}

int cr_key_raw_public(EVP_PKEY *key, uint8_t out[CR_PUBKEY_LEN], struct cm_err *e)
{
	size_t n = CR_PUBKEY_LEN;
	if (!key || EVP_PKEY_id(key) != EVP_PKEY_ED25519)
		return cm_fail(e, -EINVAL, "public key is not Ed25519");
	if (EVP_PKEY_get_raw_public_key(key, out, &n) != 1 || n != CR_PUBKEY_LEN)
		return cm_fail(e, -EINVAL, "Ed25519 public key is not 32 bytes");
	return 0;
}

int cr_report_data(EVP_PKEY *key, uint8_t out[CR_REPORT_DATA_LEN], struct cm_err *e)
{
	uint8_t pk[CR_PUBKEY_LEN];
	int rc = cr_key_raw_public(key, pk, e);
	if (rc)
		return rc;
	return cm_sha512(pk, sizeof(pk), out) ? cm_fail(e, -EIO, "SHA-512 failed") : 0;
}

/* Add an extension whose extnValue content is the raw bytes (not DER-wrapped again). */
static int add_raw_ext(X509 *x, const char *oid, int critical, const uint8_t *p, size_t n)
{
	int ok = 0;
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	if (obj && os && n <= INT32_MAX && ASN1_OCTET_STRING_set(os, p, (int)n) == 1 &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os)) && X509_add_ext(x, ext, -1) == 1)
		ok = 1;
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

static int add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static int set_name(X509 *x)
{
	static const char *const f[][2] = {
		{"C", "AE"}, {"ST", "DUBAI"}, {"O", "TDLib Development"}, {"OU", "Security"}, {"CN", "localhost"},
	};
	X509_NAME *n = X509_get_subject_name(x);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (X509_NAME_add_entry_by_txt(n, f[i][0], MBSTRING_ASC, (const unsigned char *)f[i][1], -1, -1,
					       0) != 1)
			return 0;
	return X509_set_issuer_name(x, n) == 1;
}

static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok;
}

int cr_cert_build(EVP_PKEY *key, const uint8_t *quote, size_t quote_len, const uint8_t *event_log,
		  size_t event_log_len, time_t not_before, X509 **out, struct cm_err *e)
{
	return cr_cert_build_gpu(key, quote, quote_len, event_log, event_log_len, NULL, 0, not_before, out, e);
}

int cr_cert_build_gpu(EVP_PKEY *key, const uint8_t *quote, size_t quote_len, const uint8_t *event_log,
		      size_t event_log_len, const uint8_t *gpu, size_t gpu_len, time_t not_before, X509 **out,
		      struct cm_err *e)
{
	uint8_t pk[CR_PUBKEY_LEN];
	int rc = cr_key_raw_public(key, pk, e);
	if (rc)
		return rc;
	if (quote && (quote_len == 0 || quote_len > CR_QUOTE_MAX))
		return cm_fail(e, -EINVAL, "quote length %zu outside 1..%u", quote_len, CR_QUOTE_MAX);
	if (event_log && event_log_len > CR_EVENTLOG_MAX)
		return cm_fail(e, -EINVAL, "event log length %zu above %u", event_log_len, CR_EVENTLOG_MAX);
	if (gpu && (gpu_len == 0 || gpu_len > CR_GPU_EXT_MAX))
		return cm_fail(e, -EINVAL, "GPU evidence length %zu outside 1..%u", gpu_len, (unsigned)CR_GPU_EXT_MAX);
	X509 *x = X509_new();
	X509V3_CTX ctx;
	const char *step = "allocation";
	if (!x)
		goto fail;
	step = "version/serial/validity";
	if (X509_set_version(x, X509_VERSION_3) != 1 || !set_serial(x) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &not_before) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 0, CR_CERT_VALIDITY, &not_before))
		goto fail;
	step = "subject";
	if (!set_name(x) || X509_set_pubkey(x, key) != 1)
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	step = "quote extension";
	if (quote && !add_raw_ext(x, CR_OID_QUOTE, 1, quote, quote_len))
		goto fail;
	step = "user claims extension";
	if (quote && !add_raw_ext(x, CR_OID_CLAIMS, 1, pk, sizeof(pk)))
		goto fail;
	step = "standard extensions";
	if (!add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_conf_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    !add_conf_ext(x, &ctx, NID_ext_key_usage, "critical,serverAuth,clientAuth") ||
	    !add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_conf_ext(x, &ctx, NID_subject_alt_name, "DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1,IP:::1"))
		goto fail;
	step = "event log extension";
	if (event_log && !add_raw_ext(x, CR_OID_EVENTLOG, 0, event_log, event_log_len))
		goto fail;
	step = "GPU evidence extension";
	if (gpu && !add_raw_ext(x, CR_OID_GPU, 0, gpu, gpu_len))
		goto fail;
	step = "signature";
	if (X509_sign(x, key, NULL) <= 0)
		goto fail;
	*out = x;
	return 0;
fail:
	X509_free(x);
	ERR_clear_error();
	return cm_fail(e, -EIO, "certificate build failed at %s", step);
}

static int write_pem(const char *dir, const char *name, mode_t mode, EVP_PKEY *key, X509 *cert,
		     struct cm_err *e)
{
	char dst[4096];
	if (snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return cm_fail(e, -ENAMETOOLONG, "path too long: %s", dir);
	/* The PEM text is rendered in memory (freed with OPENSSL_clear_free by BIO_free), then
	 * written to a temporary file created 0600 before it gets mode. */
	BIO *bio = BIO_new(BIO_s_mem());
	int ok = bio && (key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
			     : PEM_write_bio_X509(bio, cert));
	char *data;
	long n = ok ? BIO_get_mem_data(bio, &data) : 0;
	int rc = n > 0 ? cm_write_file_atomic(dst, data, (size_t)n, mode, e)
		       : cm_fail(e, -EIO, "cannot write %s (PEM encoding failed)", dst);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int cr_cert_write(const char *dir, EVP_PKEY *key, X509 *cert, struct cm_err *e)
{
	/* Key first: a reader seeing a new cert.pem must find its key. */
	int rc = write_pem(dir, "key.pem", 0600, key, NULL, e);
	return rc ? rc : write_pem(dir, "cert.pem", 0644, NULL, cert, e);
}

int cr_cert_load(const char *dir, EVP_PKEY **key, X509 **cert, struct cm_err *e)
{
	char p[4096];
	*key = NULL;
	*cert = NULL;
	snprintf(p, sizeof(p), "%s/cert.pem", dir);
	FILE *f = fopen(p, "r");
	if (!f)
		return cm_fail(e, -errno, "cannot open %s: %s", p, strerror(errno));
	*cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	snprintf(p, sizeof(p), "%s/key.pem", dir);
	f = fopen(p, "r");
	if (f) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!*cert || !*key || X509_check_private_key(*cert, *key) != 1) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
		ERR_clear_error();
		return cm_fail(e, -EINVAL, "%s: cert.pem/key.pem missing, malformed or not a pair", dir);
	}
	return 0;
}
