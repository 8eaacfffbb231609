#include "measure/dcap/pck.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "measure/core/der.h"

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_ext_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

static bool is_space(uint8_t c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle));
}

STACK_OF(X509) *cm_pem_chain_parse(const uint8_t *pem, size_t len, struct cm_err *e)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	/* Real quotes end the chain with "\n\0": strip NULs and whitespace at the end. */
	while (len && (pem[len - 1] == 0 || is_space(pem[len - 1])))
		len--;
	STACK_OF(X509) *sk = sk_X509_new_null();
	if (!sk) {
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	size_t pos = 0;
	while (pos < len) {
		if (is_space(pem[pos])) {
			pos++;
			continue;
		}
		const uint8_t *b = find(pem + pos, len - pos, begin);
		if (b != pem + pos) {
			cm_fail(e, -EBADMSG, "unexpected data at byte %zu of the PEM chain (expected %s)", pos,
				begin);
			goto fail;
		}
		const uint8_t *en = find(b, len - pos, end);
		if (!en) {
			cm_fail(e, -EBADMSG, "certificate %d of the PEM chain has no END line",
				sk_X509_num(sk));
			goto fail;
		}
		/* A damaged END line ("-----EXD ...") would make the END of the next certificate
		 * close this one, and OpenSSL reads the block as one certificate: the base64 body
		 * holds no '-', so any between the BEGIN and END lines is refused. */
		if (memchr(b + sizeof(begin) - 1, '-', (size_t)(en - b) - (sizeof(begin) - 1))) {
			cm_fail(e, -EBADMSG, "certificate %d of the PEM chain has a damaged END line",
				sk_X509_num(sk));
			goto fail;
		}
		size_t blk = (size_t)(en - b) + sizeof(end) - 1;
		if (sk_X509_num(sk) >= CM_PCK_CHAIN_MAX) {
			cm_fail(e, -EBADMSG, "PEM chain has more than %d certificates", CM_PCK_CHAIN_MAX);
			goto fail;
		}
		if (blk > INT32_MAX) {
			cm_fail(e, -EFBIG, "PEM chain too large");
			goto fail;
		}
		BIO *bio = BIO_new_mem_buf(b, (int)blk);
		X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		ERR_clear_error();
		if (!x) {
			cm_fail(e, -EBADMSG, "certificate %d of the PEM chain is malformed", sk_X509_num(sk));
			goto fail;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			cm_fail(e, -ENOMEM, "out of memory");
			goto fail;
		}
		pos = (size_t)(b - pem) + blk;
	}
	if (sk_X509_num(sk) == 0) {
		cm_fail(e, -EBADMSG, "no certificate in the PEM chain");
		goto fail;
	}
	return sk;
fail:
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

static int oid_is(const struct cm_der *oid, unsigned sub, unsigned sub2)
{
	/* 1.2.840.113741.1.13.1.<sub>[.<sub2>] with small arcs */
	size_t base = sizeof(sgx_ext_oid);
	size_t want = base + 1 + (sub2 ? 1 : 0);
	if (oid->len != want || memcmp(oid->p, sgx_ext_oid, base) != 0 || oid->p[base] != sub)
		return 0;
	return sub2 ? oid->p[base + 1] == sub2 : 1;
}

static int octets(const struct cm_der *v, uint8_t tag, uint8_t *out, size_t n)
{
	if (tag != CM_DER_OCTET_STRING || v->len != n)
		return -EBADMSG;
	memcpy(out, v->p, n);
	return 0;
}

/* The next entry of the SEQUENCE seq, itself a SEQUENCE { OID, value } (every level of the
 * extension is a list of these). Returns 0 or -EBADMSG (the caller names the place). */
static int oid_entry(struct cm_der *seq, struct cm_der *oid, uint8_t *vt, struct cm_der *val)
{
	uint8_t t, ot;
	struct cm_der item;
	if (cm_der_next(seq, &t, &item) || t != CM_DER_SEQUENCE || cm_der_next(&item, &ot, oid) ||
	    ot != CM_DER_OID || cm_der_next(&item, vt, val) || item.len)
		return -EBADMSG;
	return 0;
}

static int parse_tcb(struct cm_der seq, struct cm_pck_ext *out, struct cm_err *e)
{
	unsigned seen = 0;
	while (seq.len) {
		uint8_t vt;
		struct cm_der oid, val;
		if (oid_entry(&seq, &oid, &vt, &val))
			return cm_fail(e, -EBADMSG, "malformed TCB entry in the PCK SGX extension");
		if (oid.len != sizeof(sgx_ext_oid) + 2 || !oid_is(&oid, 2, oid.p[sizeof(sgx_ext_oid) + 1]))
			continue; /* unknown TCB entry: ignore */
		unsigned n = oid.p[sizeof(sgx_ext_oid) + 1];
		uint64_t x;
		if (n >= 1 && n <= 17) {
			if (vt != CM_DER_INTEGER || cm_der_uint(&val, &x) || x > (n == 17 ? 0xffff : 0xff))
				return cm_fail(e, -EBADMSG, "bad TCB component %u in the PCK SGX extension", n);
			if (n == 17)
				out->pcesvn = (uint16_t)x;
			else
				out->comp_svn[n - 1] = (uint8_t)x;
		} else if (n == 18) {
			if (octets(&val, vt, out->cpusvn, 16))
				return cm_fail(e, -EBADMSG, "bad CPUSVN in the PCK SGX extension");
		} else {
			continue;
		}
		if (seen & (1u << n))
			return cm_fail(e, -EBADMSG, "duplicate TCB component %u in the PCK SGX extension", n);
		seen |= 1u << n;
	}
	if ((seen & 0x7fffe) != 0x7fffe)
		return cm_fail(e, -EBADMSG, "PCK SGX extension lacks TCB components (have mask 0x%x)", seen);
	return 0;
}

int cm_pck_ext_parse(const uint8_t *der, size_t len, struct cm_pck_ext *out, struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	struct cm_der in = {der, len}, seq;
	uint8_t t;
	if (cm_der_next(&in, &t, &seq) || t != CM_DER_SEQUENCE || in.len)
		return cm_fail(e, -EBADMSG, "PCK SGX extension is not a single DER SEQUENCE");
	unsigned seen = 0;
	while (seq.len) {
		uint8_t vt;
		struct cm_der oid, val;
		if (oid_entry(&seq, &oid, &vt, &val))
			return cm_fail(e, -EBADMSG, "malformed entry in the PCK SGX extension");
		unsigned n = 0;
		for (unsigned k = 1; k <= 7; k++)
			if (oid_is(&oid, k, 0))
				n = k;
		if (!n)
			continue; /* unknown entry: ignore, as Intel's parser does */
		if (seen & (1u << n))
			return cm_fail(e, -EBADMSG, "duplicate entry %u in the PCK SGX extension", n);
		seen |= 1u << n;
		uint64_t x;
		switch (n) {
		case 1:
			if (octets(&val, vt, out->ppid, 16))
				return cm_fail(e, -EBADMSG, "bad PPID in the PCK SGX extension");
			break;
		case 2: {
			int r;
			if (vt != CM_DER_SEQUENCE)
				return cm_fail(e, -EBADMSG, "bad TCB in the PCK SGX extension");
			if ((r = parse_tcb(val, out, e)))
				return r;
			break;
		}
		case 3:
			if (octets(&val, vt, out->pceid, 2))
				return cm_fail(e, -EBADMSG, "bad PCE-ID in the PCK SGX extension");
			break;
		case 4:
			if (octets(&val, vt, out->fmspc, 6))
				return cm_fail(e, -EBADMSG, "bad FMSPC in the PCK SGX extension");
			break;
		case 5:
			if (vt != CM_DER_ENUMERATED || cm_der_uint(&val, &x) || x > 2)
				return cm_fail(e, -EBADMSG, "bad SGX type in the PCK SGX extension");
			out->sgx_type = (int)x;
			break;
		case 6:
			if (octets(&val, vt, out->platform_instance_id, 16))
				return cm_fail(e, -EBADMSG, "bad platform instance ID in the PCK SGX extension");
			out->has_platform_instance_id = true;
			break;
		case 7: {
			if (vt != CM_DER_SEQUENCE)
				return cm_fail(e, -EBADMSG, "bad configuration in the PCK SGX extension");
			out->has_configuration = true;
			struct cm_der cfg = val;
			while (cfg.len) {
				uint8_t cvt;
				struct cm_der coid, cval;
				if (oid_entry(&cfg, &coid, &cvt, &cval) || cvt != CM_DER_BOOLEAN || cval.len != 1)
					return cm_fail(e, -EBADMSG, "malformed configuration in the PCK SGX extension");
				bool b = cval.p[0] != 0;
				if (oid_is(&coid, 7, 1))
					out->dynamic_platform = b;
				else if (oid_is(&coid, 7, 2))
					out->cached_keys = b;
				else if (oid_is(&coid, 7, 3))
					out->smt_enabled = b;
			}
			break;
		}
		}
	}
	const unsigned required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5);
	if ((seen & required) != required)
		return cm_fail(e, -EBADMSG, "PCK SGX extension lacks PPID, TCB, PCE-ID, FMSPC or SGX type");
	return 0;
}

int cm_pck_ext_from_cert(X509 *cert, struct cm_pck_ext *out, struct cm_err *e)
{
	int n = X509_get_ext_count(cert);
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
		const unsigned char *oid = OBJ_get0_data(obj);
		size_t oidlen = OBJ_length(obj);
		if (oidlen != sizeof(sgx_ext_oid) || memcmp(oid, sgx_ext_oid, oidlen) != 0)
			continue;
		const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		return cm_pck_ext_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out, e);
	}
	return cm_fail(e, -ENOENT, "certificate has no Intel SGX extension (1.2.840.113741.1.13.1)");
}

void cm_x509_subject(X509 *cert, char *buf, size_t bufsz)
{
	if (!bufsz)
		return;
	buf[0] = 0;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		char *p;
		long n = BIO_get_mem_data(b, &p);
		if (n > 0) {
			size_t m = (size_t)n < bufsz - 1 ? (size_t)n : bufsz - 1;
			memcpy(buf, p, m);
			buf[m] = 0;
		}
	}
	BIO_free(b);
}
