/* The GPU evidence certificate extension (see gpuext.h). */
#include "measure/ratls/gpuext.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "measure/core/der.h"
#include "measure/core/digest.h"

#define DER_UTF8 0x0c

/* ---- encode -------------------------------------------------------------------------------- */

static size_t len_size(size_t n)
{
	size_t k = 1;
	if (n >= 0x80)
		for (size_t v = n; v; v >>= 8)
			k++;
	return k;
}

static size_t tlv_size(size_t n)
{
	return 1 + len_size(n) + n;
}

/* Bytes of a minimal non-negative INTEGER's contents. */
static size_t uint_len(uint64_t v)
{
	size_t n = 1;
	while (n < 9 && (v >> (8 * n - 1)) != 0)
		n++;
	return n;
}

struct w {
	uint8_t *p;
	size_t off;
};

static void put_hdr(struct w *w, uint8_t tag, size_t n)
{
	w->p[w->off++] = tag;
	if (n < 0x80) {
		w->p[w->off++] = (uint8_t)n;
		return;
	}
	size_t k = len_size(n) - 1;
	w->p[w->off++] = (uint8_t)(0x80 | k);
	for (size_t i = k; i > 0; i--)
		w->p[w->off++] = (uint8_t)(n >> (8 * (i - 1)));
}

static void put_tlv(struct w *w, uint8_t tag, const void *p, size_t n)
{
	put_hdr(w, tag, n);
	memcpy(w->p + w->off, p, n);
	w->off += n;
}

static void put_uint(struct w *w, uint64_t v)
{
	size_t n = uint_len(v);
	put_hdr(w, CM_DER_INTEGER, n);
	for (size_t i = n; i > 0; i--)
		w->p[w->off++] = i > 8 ? 0 : (uint8_t)(v >> (8 * (i - 1)));
}

static void put_bool(struct w *w, bool b)
{
	put_tlv(w, CM_DER_BOOLEAN, b ? "\xff" : "\x00", 1);
}

int cr_gpu_ext_encode(const struct cr_gpu_ext *x, uint8_t **der, size_t *len, struct cm_err *e)
{
	*der = NULL;
	const struct cm_gpu_system *s = &x->sys;
	size_t dlen = strlen(s->driver_version);
	if (s->count < 1 || s->count > CM_GPU_MAX)
		return cm_fail_check(e, -EINVAL, "gpu_ext", "%u GPUs (1..%d)", s->count, CM_GPU_MAX);
	if (dlen < 1 || dlen >= sizeof(s->driver_version) || (unsigned)s->multi > CM_GPU_MULTI_NVLE)
		return cm_fail_check(e, -EINVAL, "gpu_ext", "driver version or multi-GPU mode out of range");
	size_t entry[CM_GPU_MAX], gpus = 0;
	for (unsigned i = 0; i < s->count; i++) {
		const struct cm_gpu_evidence *g = &x->gpu[i];
		if (g->report_len < 1 || g->report_len > CR_GPU_REPORT_MAX || g->chain_len < 1 ||
		    g->chain_len > CR_GPU_CHAIN_MAX)
			return cm_fail_check(e, -EINVAL, "gpu_ext", "GPU %u: report (%zu) or chain (%zu) size out of range",
					     i, g->report_len, g->chain_len);
		entry[i] = tlv_size(uint_len(s->arch[i])) + tlv_size(g->report_len) + tlv_size(g->chain_len);
		gpus += tlv_size(entry[i]);
	}
	size_t sys = 3 * tlv_size(1) + tlv_size(uint_len((uint64_t)s->multi)) + tlv_size(dlen);
	size_t body = tlv_size(1) + tlv_size(sys) + tlv_size(gpus);
	*len = tlv_size(body);
	struct w w = {.p = malloc(*len)};
	if (!w.p)
		return cm_fail(e, -ENOMEM, "out of memory");
	put_hdr(&w, CM_DER_SEQUENCE, body);
	put_uint(&w, CR_GPU_EXT_VERSION);
	put_hdr(&w, CM_DER_SEQUENCE, sys);
	put_bool(&w, s->cc_on);
	put_bool(&w, s->devtools_on);
	put_bool(&w, s->production_env);
	put_uint(&w, (uint64_t)s->multi);
	put_tlv(&w, DER_UTF8, s->driver_version, dlen);
	put_hdr(&w, CM_DER_SEQUENCE, gpus);
	for (unsigned i = 0; i < s->count; i++) {
		put_hdr(&w, CM_DER_SEQUENCE, entry[i]);
		put_uint(&w, s->arch[i]);
		put_tlv(&w, CM_DER_OCTET_STRING, x->gpu[i].report, x->gpu[i].report_len);
		put_tlv(&w, CM_DER_OCTET_STRING, x->gpu[i].chain_pem, x->gpu[i].chain_len);
	}
	*der = w.p;
	return 0;
}

/* ---- decode -------------------------------------------------------------------------------- */

#define BAD(...) cm_fail_check(e, -EBADMSG, "gpu_ext", "GPU evidence extension: " __VA_ARGS__)

static int get(struct cm_der *in, uint8_t want, struct cm_der *v, const char *what, struct cm_err *e)
{
	uint8_t tag;
	if (cm_der_next(in, &tag, v) || tag != want)
		return BAD("%s: malformed or wrong type", what);
	return 0;
}

static int get_uint(struct cm_der *in, uint64_t max, uint64_t *out, const char *what, struct cm_err *e)
{
	struct cm_der v;
	int rc = get(in, CM_DER_INTEGER, &v, what, e);
	if (rc)
		return rc;
	bool minimal = v.len == 1 || (v.len > 1 && !(v.p[0] == 0 && !(v.p[1] & 0x80)));
	if (!minimal || cm_der_uint(&v, out) || *out > max)
		return BAD("%s: not an integer in 0..%llu", what, (unsigned long long)max);
	return 0;
}

static int get_bool(struct cm_der *in, bool *out, const char *what, struct cm_err *e)
{
	struct cm_der v;
	int rc = get(in, CM_DER_BOOLEAN, &v, what, e);
	if (rc)
		return rc;
	if (v.len != 1 || (v.p[0] != 0 && v.p[0] != 0xff))
		return BAD("%s: not a DER BOOLEAN", what);
	*out = v.p[0] == 0xff;
	return 0;
}

static int get_octets(struct cm_der *in, size_t max, const uint8_t **p, size_t *n, const char *what,
		      struct cm_err *e)
{
	struct cm_der v;
	int rc = get(in, CM_DER_OCTET_STRING, &v, what, e);
	if (rc)
		return rc;
	if (v.len < 1 || v.len > max)
		return BAD("%s: %zu bytes (1..%zu)", what, v.len, max);
	*p = v.p;
	*n = v.len;
	return 0;
}

static int decode_system(struct cm_der *in, struct cm_gpu_system *s, struct cm_err *e)
{
	struct cm_der v;
	uint64_t multi;
	int rc = get(in, CM_DER_SEQUENCE, &v, "system", e);
	if (!rc)
		rc = get_bool(&v, &s->cc_on, "system.ccOn", e);
	if (!rc)
		rc = get_bool(&v, &s->devtools_on, "system.devToolsOn", e);
	if (!rc)
		rc = get_bool(&v, &s->production_env, "system.productionEnv", e);
	if (!rc)
		rc = get_uint(&v, CM_GPU_MULTI_NVLE, &multi, "system.multiGpuMode", e);
	if (rc)
		return rc;
	s->multi = (enum cm_gpu_multi)multi;
	struct cm_der d;
	if ((rc = get(&v, DER_UTF8, &d, "system.driverVersion", e)))
		return rc;
	if (d.len < 1 || d.len >= sizeof(s->driver_version))
		return BAD("system.driverVersion: %zu bytes (1..%zu)", d.len, sizeof(s->driver_version) - 1);
	for (size_t i = 0; i < d.len; i++)
		if (d.p[i] < 0x20 || d.p[i] > 0x7e)
			return BAD("system.driverVersion: not printable");
	memcpy(s->driver_version, d.p, d.len);
	s->driver_version[d.len] = '\0';
	return v.len ? BAD("system: trailing bytes") : 0;
}

int cr_gpu_ext_decode(const uint8_t *der, size_t len, struct cr_gpu_ext *x, struct cm_err *e)
{
	memset(x, 0, sizeof(*x));
	struct cm_der in = {der, len}, body, gpus;
	uint64_t ver;
	int rc = get(&in, CM_DER_SEQUENCE, &body, "CocoonGpuEvidence", e);
	if (rc)
		return rc;
	if (in.len)
		return BAD("trailing bytes");
	if ((rc = get_uint(&body, UINT32_MAX, &ver, "version", e)))
		return rc;
	if (ver != CR_GPU_EXT_VERSION)
		return BAD("version %llu (expected %d)", (unsigned long long)ver, CR_GPU_EXT_VERSION);
	if ((rc = decode_system(&body, &x->sys, e)) || (rc = get(&body, CM_DER_SEQUENCE, &gpus, "gpus", e)))
		return rc;
	if (body.len)
		return BAD("trailing bytes after gpus");
	while (gpus.len) {
		if (x->sys.count == CM_GPU_MAX)
			return BAD("more than %d GPUs", CM_GPU_MAX);
		unsigned i = x->sys.count;
		struct cm_der g;
		uint64_t arch;
		struct cm_gpu_evidence *ev = &x->gpu[i];
		if ((rc = get(&gpus, CM_DER_SEQUENCE, &g, "gpus[]", e)) ||
		    (rc = get_uint(&g, UINT32_MAX, &arch, "gpus[].architecture", e)) ||
		    (rc = get_octets(&g, CR_GPU_REPORT_MAX, &ev->report, &ev->report_len, "gpus[].report", e)) ||
		    (rc = get_octets(&g, CR_GPU_CHAIN_MAX, &ev->chain_pem, &ev->chain_len, "gpus[].certChain", e)))
			return cm_err_prefix(e, "GPU %u", i);
		if (g.len)
			return BAD("gpus[%u]: trailing bytes", i);
		x->sys.arch[i] = (unsigned)arch;
		x->sys.count++;
	}
	return x->sys.count ? 0 : BAD("no GPU");
}

/* ---- the nonce binding --------------------------------------------------------------------- */

int cr_gpu_nonce(EVP_PKEY *key, uint8_t nonce[CM_GPU_NONCE_LEN], struct cm_err *e)
{
	unsigned char *spki = NULL;
	int n = key ? i2d_PUBKEY(key, &spki) : -1;
	if (n <= 0) {
		ERR_clear_error();
		return cm_fail(e, -EINVAL, "cannot encode the certificate's public key");
	}
	int rc = cm_sha256(spki, (size_t)n, nonce) ? cm_fail(e, -EIO, "SHA-256 failed") : 0;
	OPENSSL_free(spki);
	return rc;
}
