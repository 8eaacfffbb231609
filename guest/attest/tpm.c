/* TPM 2.0 through tpm2-tss ESAPI: shared helpers and the `tpm` attestation backend (tpm.h).
 * Not for confidentiality against the host when the host emulates the TPM (tpm.h). */
#include "guest/attest/tpm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tcti_device.h>
#include <tss2/tss2_tcti_swtpm.h>

/* The swtpm TCTI is for tests: weak, so cocoon-init (and the initrd) go without it; the test
 * programs link libtss2-tcti-swtpm. */
#pragma weak Tss2_Tcti_Swtpm_Init

#include "measure/core/digest.h"
#include "measure/dcap/collateral.h"
#include "measure/tpm/quote.h"

int ca_tpm_fail(struct cm_err *e, TSS2_RC rc, const char *what)
{
	TSS2_RC base = rc & ~(TSS2_RC)(TPM2_RC_N_MASK | TSS2_RC_LAYER_MASK);
	bool auth = (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER &&
		    (base == TPM2_RC_POLICY_FAIL || base == TPM2_RC_AUTH_FAIL || base == TPM2_RC_BAD_AUTH ||
		     base == TPM2_RC_VALUE || base == TPM2_RC_PCR_CHANGED);
	return cm_fail(e, auth ? -EACCES : -EIO, "%s failed (0x%x: %s)", what, (unsigned)rc, Tss2_RC_Decode(rc));
}

static int tcti_init(const char *conf, TSS2_TCTI_CONTEXT **out, struct cm_err *e)
{
	TSS2_RC (*init)(TSS2_TCTI_CONTEXT *, size_t *, const char *);
	const char *arg;
	if (strncmp(conf, "device:", 7) == 0) {
		init = Tss2_Tcti_Device_Init;
		arg = conf + 7;
	} else if (strncmp(conf, "swtpm:", 6) == 0) {
		if (!Tss2_Tcti_Swtpm_Init)
			return cm_fail(e, -ENOTSUP, "TPM: the swtpm TCTI is not linked into this program");
		init = Tss2_Tcti_Swtpm_Init;
		arg = conf + 6;
	} else {
		return cm_fail(e, -EINVAL, "TPM: TCTI \"%.64s\" is neither device:PATH nor swtpm:path=SOCKET", conf);
	}
	size_t size = 0;
	TSS2_RC rc = init(NULL, &size, arg);
	if (rc)
		return ca_tpm_fail(e, rc, "TPM: TCTI size");
	TSS2_TCTI_CONTEXT *c = calloc(1, size);
	if (!c)
		return cm_fail(e, -ENOMEM, "out of memory");
	if ((rc = init(c, &size, arg))) {
		free(c);
		return cm_fail(e, -ENODEV, "TPM: cannot open TCTI %.64s (0x%x: %s)", conf, (unsigned)rc,
			       Tss2_RC_Decode(rc));
	}
	*out = c;
	return 0;
}

int ca_tpm_connect(const char *tcti, struct ca_tpm *t, struct cm_err *e)
{
	memset(t, 0, sizeof *t);
	if (!tcti) {
		tcti = getenv(CA_TPM_TCTI_ENV);
		if (!tcti || !*tcti)
			tcti = CA_TPM_DEFAULT_TCTI;
	}
	int r = tcti_init(tcti, &t->tcti, e);
	if (r < 0)
		return r;
	TSS2_RC rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc) {
		Tss2_Tcti_Finalize(t->tcti);
		free(t->tcti);
		t->tcti = NULL;
		return ca_tpm_fail(e, rc, "TPM: Esys_Initialize");
	}
	return 0;
}

void ca_tpm_disconnect(struct ca_tpm *t)
{
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti) {
		Tss2_Tcti_Finalize(t->tcti);
		free(t->tcti);
	}
	memset(t, 0, sizeof *t);
}

void ca_tpm_flush(struct ca_tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
}

void ca_tpm_pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof *sel);
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < CA_TPM_PCR_COUNT; i++)
		if (mask & (1u << i))
			sel->pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
}

int ca_tpm_pcr_read(struct ca_tpm *t, uint32_t mask, uint8_t out[CA_TPM_PCR_COUNT][32], struct cm_err *e)
{
	/* TPM2_PCR_Read returns at most 8 digests; ask until every PCR of mask is read. */
	uint32_t left = mask & ((1u << CA_TPM_PCR_COUNT) - 1);
	while (left) {
		TPML_PCR_SELECTION in, *got = NULL;
		TPML_DIGEST *vals = NULL;
		UINT32 counter;
		ca_tpm_pcr_selection(left, &in);
		TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, &counter, &got, &vals);
		if (rc)
			return ca_tpm_fail(e, rc, "TPM2_PCR_Read");
		size_t k = 0;
		uint32_t done = 0;
		for (UINT32 s = 0; s < got->count; s++) {
			TPMS_PCR_SELECTION *ps = &got->pcrSelections[s];
			for (int i = 0; i < CA_TPM_PCR_COUNT && i / 8 < ps->sizeofSelect; i++) {
				if (!(ps->pcrSelect[i / 8] & (1u << (i % 8))))
					continue;
				if (ps->hash != TPM2_ALG_SHA256 || k >= vals->count || vals->digests[k].size != 32) {
					Esys_Free(got);
					Esys_Free(vals);
					return cm_fail(e, -EIO, "TPM2_PCR_Read: unexpected answer (is the SHA-256 bank allocated?)");
				}
				memcpy(out[i], vals->digests[k++].buffer, 32);
				done |= 1u << i;
			}
		}
		Esys_Free(got);
		Esys_Free(vals);
		if (!(done & left))
			return cm_fail(e, -EIO, "TPM2_PCR_Read: the SHA-256 bank is not allocated");
		left &= ~done;
	}
	return 0;
}

int ca_tpm_pcr_event(struct ca_tpm *t, int pcr, const void *msg, size_t len, struct cm_err *e)
{
	TPM2B_EVENT ev = {.size = (UINT16)len};
	if (pcr < 0 || pcr >= CA_TPM_PCR_COUNT)
		return cm_fail(e, -EINVAL, "TPM: no PCR %d", pcr);
	if (len > sizeof ev.buffer)
		return cm_fail(e, -E2BIG, "TPM: event of %zu bytes (at most %zu)", len, sizeof ev.buffer);
	memcpy(ev.buffer, msg, len);
	TPML_DIGEST_VALUES *d = NULL;
	TSS2_RC rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + (ESYS_TR)pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				    &ev, &d);
	Esys_Free(d);
	return rc ? ca_tpm_fail(e, rc, "TPM2_PCR_Event") : 0;
}

/* A primary key of hierarchy from tmpl (empty auth); *opub (when wanted) is Esys_Free'd by
 * the caller. */
static int create_primary(struct ca_tpm *t, ESYS_TR hierarchy, const TPM2B_PUBLIC *tmpl, ESYS_TR *key,
			  TPM2B_PUBLIC **opub, const char *what, struct cm_err *e)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cd = NULL;
	TPM2B_DIGEST *ch = NULL;
	TPMT_TK_CREATION *tk = NULL;
	TSS2_RC rc = Esys_CreatePrimary(t->esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, tmpl,
					&outside, &none, key, &pub, &cd, &ch, &tk);
	if (opub)
		*opub = pub;
	else
		Esys_Free(pub);
	Esys_Free(cd);
	Esys_Free(ch);
	Esys_Free(tk);
	return rc ? ca_tpm_fail(e, rc, what) : 0;
}

/* The TCG EK Credential Profile's ECC P-256 storage template (SRK "H-2" style, empty auth). */
int ca_tpm_srk(struct ca_tpm *t, ESYS_TR *srk, struct cm_err *e)
{
	TPM2B_PUBLIC pub = {.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
				    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
				    TPMA_OBJECT_DECRYPT,
		.parameters.eccDetail = {
			.symmetric = {.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB},
			.scheme = {.scheme = TPM2_ALG_NULL},
			.curveID = TPM2_ECC_NIST_P256,
			.kdf = {.scheme = TPM2_ALG_NULL},
		},
	}};
	return create_primary(t, ESYS_TR_RH_OWNER, &pub, srk, NULL, "TPM2_CreatePrimary (storage root key)", e);
}

int ca_tpm_session(struct ca_tpm *t, ESYS_TR srk, TPM2_SE type, TPMA_SESSION attrs, ESYS_TR *s, struct cm_err *e)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
	*s = ESYS_TR_NONE;
	TSS2_RC rc = Esys_StartAuthSession(t->esys, srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, type,
					   &sym, TPM2_ALG_SHA256, s);
	if (rc)
		return ca_tpm_fail(e, rc, "TPM2_StartAuthSession (salted)");
	TPMA_SESSION mask = TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION;
	if ((rc = Esys_TRSess_SetAttributes(t->esys, *s, attrs | TPMA_SESSION_CONTINUESESSION, mask))) {
		ca_tpm_flush(t, s);
		return ca_tpm_fail(e, rc, "Esys_TRSess_SetAttributes");
	}
	return 0;
}

/* ---- the backend ------------------------------------------------------------------------ */

struct tpm_be {
	struct ca_tpm t;
	char tcti[256];
	char dir[256];
	ESYS_TR ak;
	bool explicit_tcti;
};

/* The state directory (its parent exists: /run/cocoon in the appliance). */
static int make_dir(const char *dir, struct cm_err *e)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return cm_fail(e, -errno, "tpm: cannot create %s (%s)", dir, strerror(errno));
	return 0;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, struct cm_err *e)
{
	char path[320];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
		return cm_fail(e, -ENAMETOOLONG, "tpm: path too long");
	int r = cm_write_file_atomic(path, data, len, 0644, e);
	if (r < 0)
		cm_err_prefix(e, "tpm");
	return r;
}

/* The AK template: ECC P-256, restricted signing, ECDSA-SHA256, fixed to this TPM. */
static int create_ak(struct tpm_be *b, TPM2B_PUBLIC **opub, struct cm_err *e)
{
	TPM2B_PUBLIC pub = {.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
				    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT,
		.parameters.eccDetail = {
			.symmetric = {.algorithm = TPM2_ALG_NULL},
			.scheme = {.scheme = TPM2_ALG_ECDSA, .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
			.curveID = TPM2_ECC_NIST_P256,
			.kdf = {.scheme = TPM2_ALG_NULL},
		},
	}};
	return create_primary(&b->t, ESYS_TR_RH_ENDORSEMENT, &pub, &b->ak, opub,
			      "TPM2_CreatePrimary (attestation key, endorsement hierarchy)", e);
}

/* The AK's public key as PEM (SubjectPublicKeyInfo), through OpenSSL. */
static int ak_pem(const TPM2B_PUBLIC *p, char **pem, size_t *len, struct cm_err *e)
{
	const TPMS_ECC_POINT *q = &p->publicArea.unique.ecc;
	if (q->x.size != 32 || q->y.size != 32)
		return cm_fail(e, -EIO, "tpm: AK public point is not P-256");
	uint8_t xy[64];
	memcpy(xy, q->x.buffer, 32);
	memcpy(xy + 32, q->y.buffer, 32);
	EVP_PKEY *k = cm_p256_key_from_raw(xy);
	if (!k)
		return cm_fail(e, -EIO, "tpm: AK public key rejected by OpenSSL");
	BIO *bio = BIO_new(BIO_s_mem());
	int r = -EIO;
	char *data;
	if (bio && PEM_write_bio_PUBKEY(bio, k)) {
		long n = BIO_get_mem_data(bio, &data);
		if (n > 0 && (*pem = malloc((size_t)n))) {
			memcpy(*pem, data, (size_t)n);
			*len = (size_t)n;
			r = 0;
		}
	}
	BIO_free(bio);
	EVP_PKEY_free(k);
	return r ? cm_fail(e, r, "tpm: cannot encode the AK public key") : 0;
}

/* The EK certificate from NV, when the TPM has one (-ENOENT when not). */
static int read_ek_cert(struct ca_tpm *t, uint8_t **der, size_t *len, struct cm_err *e)
{
	static const TPM2_HANDLE idx[] = {CA_TPM_EK_CERT_ECC, CA_TPM_EK_CERT_RSA};
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
		/* ask whether the index exists first (ESAPI logs an error for a missing one) */
		TPMS_CAPABILITY_DATA *cap = NULL;
		TPMI_YES_NO more;
		bool have = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, idx[i], 1,
					       &more, &cap) == 0 &&
			    cap->data.handles.count == 1 && cap->data.handles.handle[0] == idx[i];
		Esys_Free(cap);
		ESYS_TR nv = ESYS_TR_NONE;
		if (!have || Esys_TR_FromTPMPublic(t->esys, idx[i], ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv))
			continue;
		TPM2B_NV_PUBLIC *np = NULL;
		TPM2B_NAME *name = NULL;
		TSS2_RC rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &np, &name);
		size_t size = rc ? 0 : np->nvPublic.dataSize;
		Esys_Free(np);
		Esys_Free(name);
		if (rc || size == 0 || size > 8192) {
			Esys_TR_Close(t->esys, &nv);
			continue;
		}
		uint8_t *buf = malloc(size);
		if (!buf) {
			Esys_TR_Close(t->esys, &nv);
			return cm_fail(e, -ENOMEM, "out of memory");
		}
		size_t off = 0;
		while (off < size && !rc) {
			UINT16 chunk = (UINT16)(size - off > 512 ? 512 : size - off);
			TPM2B_MAX_NV_BUFFER *d = NULL;
			rc = Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, chunk, (UINT16)off, &d);
			if (!rc) {
				memcpy(buf + off, d->buffer, d->size < chunk ? d->size : chunk);
				off += chunk;
			}
			Esys_Free(d);
		}
		Esys_TR_Close(t->esys, &nv);
		if (rc) {
			free(buf);
			return ca_tpm_fail(e, rc, "TPM2_NV_Read (EK certificate)");
		}
		*der = buf;
		*len = size;
		return 0;
	}
	return -ENOENT;
}

static int tpm_be_open(struct ca_backend *cb, struct cm_err *e)
{
	struct tpm_be *b = cb->priv;
	int r = ca_tpm_connect(b->explicit_tcti ? b->tcti : NULL, &b->t, e);
	if (r < 0)
		return r;
	TPM2B_PUBLIC *pub = NULL;
	char *pem = NULL;
	size_t pem_len = 0;
	uint8_t *ek = NULL;
	size_t ek_len = 0;
	if ((r = create_ak(b, &pub, e)) < 0 || (r = ak_pem(pub, &pem, &pem_len, e)) < 0 || (r = make_dir(b->dir, e)) < 0 ||
	    (r = write_file(b->dir, "ak.pem", pem, pem_len, e)) < 0)
		goto out;
	r = read_ek_cert(&b->t, &ek, &ek_len, e);
	if (r == 0)
		r = write_file(b->dir, "ek.der", ek, ek_len, e);
	else if (r == -ENOENT)
		r = 0; /* no EK certificate in NV: the AK is then trusted by its public key alone */
out:
	Esys_Free(pub);
	free(pem);
	free(ek);
	if (r < 0) {
		ca_tpm_flush(&b->t, &b->ak);
		ca_tpm_disconnect(&b->t);
	}
	return r;
}

/* Raw digests are refused: PCR 15 takes events (TPM2_PCR_Event hashes them per bank). */
static int tpm_be_extend(struct ca_backend *cb, int rtmr, const uint8_t digest[48], struct cm_err *e)
{
	(void)cb;
	(void)rtmr;
	(void)digest;
	return cm_fail(e, -ENOTSUP, "tpm: PCR %d takes events, not raw digests", CA_TPM_PCR);
}

static int tpm_be_extend_event(struct ca_backend *cb, int rtmr, const char *msg, struct cm_err *e)
{
	struct tpm_be *b = cb->priv;
	if (rtmr != 3)
		return cm_fail(e, -EPERM, "tpm: only the runtime register (RTMR3 -> PCR %d) takes events", CA_TPM_PCR);
	return ca_tpm_pcr_event(&b->t, CA_TPM_PCR, msg, strlen(msg), e);
}

static int tpm_be_read(struct ca_backend *cb, int rtmr, uint8_t out[48], struct cm_err *e)
{
	struct tpm_be *b = cb->priv;
	if (rtmr != 3)
		return cm_fail(e, -ENOTSUP, "tpm: RTMR%d has no PCR (the runtime register RTMR3 is PCR %d)", rtmr,
			       CA_TPM_PCR);
	uint8_t v[CA_TPM_PCR_COUNT][32];
	int r = ca_tpm_pcr_read(&b->t, 1u << CA_TPM_PCR, v, e);
	if (r == 0) {
		memcpy(out, v[CA_TPM_PCR], 32);
		memset(out + 32, 0, 16);
	}
	return r;
}

static int tpm_be_quote(struct ca_backend *cb, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t **quote,
			size_t *len, struct cm_err *e)
{
	struct tpm_be *b = cb->priv;
	TPM2B_DATA q = {.size = 32};
	TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	uint8_t pcrs[CA_TPM_PCR_COUNT][32];
	if (cm_sha256(report_data, CA_REPORT_DATA_LEN, q.buffer) < 0)
		return cm_fail(e, -EIO, "sha256 failed");
	ca_tpm_pcr_selection((1u << CA_TPM_PCR_COUNT) - 1, &sel);
	TSS2_RC rc = Esys_Quote(b->t.esys, b->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &q, &scheme, &sel, &att,
				&sig);
	if (rc)
		return ca_tpm_fail(e, rc, "TPM2_Quote");
	/* The values the quote's digest covers, read after it: a PCR extended in between makes
	 * the digest disagree and the verifier reject the quote (nothing is lost but a retry). */
	int r = ca_tpm_pcr_read(&b->t, (1u << CA_TPM_PCR_COUNT) - 1, pcrs, e);
	uint8_t sigbuf[sizeof(TPMT_SIGNATURE)];
	size_t siglen = 0;
	if (r == 0 && (rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sigbuf, sizeof sigbuf, &siglen)))
		r = ca_tpm_fail(e, rc, "marshal TPMT_SIGNATURE");
	if (r == 0)
		r = cm_tpm_quote_encode(att->attestationData, att->size, sigbuf, siglen, (1u << CA_TPM_PCR_COUNT) - 1,
					(const uint8_t(*)[32])pcrs, quote, len, e);
	Esys_Free(att);
	Esys_Free(sig);
	return r;
}

static void tpm_be_close(struct ca_backend *cb)
{
	struct tpm_be *b = cb->priv;
	if (!b)
		return;
	if (b->t.esys)
		ca_tpm_flush(&b->t, &b->ak);
	ca_tpm_disconnect(&b->t);
	free(b);
	cb->priv = NULL;
}

static int tpm_be_open_default(struct ca_backend *cb, struct cm_err *e)
{
	if (!cb->priv) {
		struct tpm_be *b = calloc(1, sizeof *b);
		if (!b)
			return cm_fail(e, -ENOMEM, "out of memory");
		const char *d = getenv(CA_TPM_DIR_ENV);
		snprintf(b->dir, sizeof b->dir, "%s", d && *d ? d : CA_TPM_DEFAULT_DIR);
		b->ak = ESYS_TR_NONE;
		cb->priv = b;
		int r = tpm_be_open(cb, e);
		if (r < 0) {
			free(b);
			cb->priv = NULL;
		}
		return r;
	}
	return tpm_be_open(cb, e);
}

const struct ca_ops ca_tpm_ops = {
	.name = "tpm",
	.open = tpm_be_open_default,
	.extend = tpm_be_extend,
	.read = tpm_be_read,
	.quote = tpm_be_quote,
	.close = tpm_be_close,
	.tdreport = NULL,
	.extend_event = tpm_be_extend_event,
};

int ca_tpm_open(const char *tcti, const char *dir, const char *event_log, struct ca_backend **out, struct cm_err *e)
{
	struct tpm_be *b = calloc(1, sizeof *b);
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	b->ak = ESYS_TR_NONE;
	if (tcti) {
		b->explicit_tcti = true;
		if ((size_t)snprintf(b->tcti, sizeof b->tcti, "%s", tcti) >= sizeof b->tcti) {
			free(b);
			return cm_fail(e, -ENAMETOOLONG, "tpm: TCTI string too long");
		}
	}
	if (!dir) {
		dir = getenv(CA_TPM_DIR_ENV);
		dir = dir && *dir ? dir : CA_TPM_DEFAULT_DIR;
	}
	if ((size_t)snprintf(b->dir, sizeof b->dir, "%s", dir) >= sizeof b->dir) {
		free(b);
		return cm_fail(e, -ENAMETOOLONG, "tpm: state directory path too long");
	}
	int r = ca_open_ops(&ca_tpm_ops, event_log, b, out, e);
	if (r < 0)
		free(b);
	return r;
}
