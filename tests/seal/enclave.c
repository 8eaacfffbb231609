/* The test seal enclave (enclave.h). Written from Cocoon's Enclave.cpp and seal-server.cpp,
 * independently of the client in guest/keys/seal.c. */
#include "tests/seal/enclave.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "measure/core/digest.h"

static const char *const mode_names[] = {"good",      "wrong-mrenclave", "debug",   "unbound",  "replay",
					  "truncated", "extended",        "oversize", "tampered", "silent"};

int ts_mode_parse(const char *s, enum ts_mode *m)
{
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum ts_mode)i;
			return 0;
		}
	return -EINVAL;
}

int ts_enclave_init(struct ts_enclave *x, const char *sim_dir, const uint8_t secret[32], enum ts_mode mode,
		    struct cm_err *e)
{
	memset(x, 0, sizeof(*x));
	char path[512];
	snprintf(path, sizeof path, "%s/report_key", sim_dir);
	uint8_t *k;
	size_t n;
	if (cm_read_file(path, 64, &k, &n, e))
		return e->code;
	if (n != 32) {
		free(k);
		return cm_fail(e, -EINVAL, "%s: not 32 bytes", path);
	}
	memcpy(x->report_key, k, 32);
	free(k);
	if (!(x->ca = ca_simca_load(sim_dir, e)))
		return e->code;
	memcpy(x->secret, secret, 32);
	x->mode = mode;
	ca_simca_enclave_default(&x->en);
	if (mode == TS_WRONG_MRENCLAVE)
		cm_sha256("some other enclave", 18, x->en.mr_enclave);
	if (mode == TS_DEBUG)
		x->en.attributes[0] |= 0x02;
	return 0;
}

void ts_enclave_free(struct ts_enclave *x)
{
	ca_simca_free(x->ca);
	free(x->first);
	OPENSSL_cleanse(x, sizeof(*x));
}

int ts_derive(const struct ts_enclave *x, const uint8_t report[1024], const char *name, size_t name_len,
	      uint8_t key[32])
{
	uint8_t mac[32], seal_key[16], nh[32];
	unsigned ml = 0;
	if (!HMAC(EVP_sha256(), x->secret, 32, x->en.mr_enclave, 32, mac, &ml))
		return -EIO;
	memcpy(seal_key, mac, 16);
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	int rc = !h || cm_sha256(name, name_len, nh) || cm_hash_update(h, seal_key, 16) ||
			 cm_hash_update(h, report + 80, 48) /* TEE_INFO_HASH */ ||
			 cm_hash_update(h, report + 32, 48) /* TEE_TCB_INFO_HASH */ || cm_hash_update(h, nh, 32) ||
			 cm_hash_final(h, key)
		 ? -EIO
		 : 0;
	cm_hash_free(h);
	OPENSSL_cleanse(mac, sizeof mac);
	OPENSSL_cleanse(seal_key, sizeof seal_key);
	return rc;
}

/* TL bytes as td's parser reads them (1-byte or 0xfe + 3-byte length, padded to 4). */
static int get_bytes(const uint8_t *b, size_t len, size_t *off, const uint8_t **p, size_t *n)
{
	if (*off >= len)
		return -EBADMSG;
	size_t h = 1, m = b[*off];
	if (m == 254) {
		if (len - *off < 4)
			return -EBADMSG;
		m = b[*off + 1] | ((size_t)b[*off + 2] << 8) | ((size_t)b[*off + 3] << 16);
		h = 4;
	} else if (m == 255) {
		return -EBADMSG;
	}
	size_t t = (h + m + 3) / 4 * 4;
	if (t > len - *off)
		return -EBADMSG;
	*p = b + *off + h;
	*n = m;
	*off += t;
	return 0;
}

static void put_bytes(uint8_t **w, const uint8_t *p, size_t n)
{
	uint8_t *o = *w;
	size_t h = n < 254 ? 1 : 4;
	if (n < 254) {
		o[0] = (uint8_t)n;
	} else {
		o[0] = 254;
		o[1] = (uint8_t)n;
		o[2] = (uint8_t)(n >> 8);
		o[3] = (uint8_t)(n >> 16);
	}
	memcpy(o + h, p, n);
	size_t t = (h + n + 3) / 4 * 4;
	memset(o + h + n, 0, t - h - n);
	*w = o + t;
}

/* Check the TDREPORT as EVERIFYREPORT2 and the enclave would. */
static int check_report(const struct ts_enclave *x, const uint8_t *r, const uint8_t *pub, struct cm_err *e)
{
	uint8_t h[48], rd[64] = {0}, mac[32];
	unsigned ml = 0;
	if (r[0] != 0x81 || r[1] || r[2] || r[3])
		return cm_fail(e, -EBADMSG, "REPORTTYPE %02x %02x %02x %02x (want 81 00 00 00)", r[0], r[1], r[2], r[3]);
	cm_sha256(pub, 64, rd);
	if (memcmp(rd, r + 128, 64))
		return cm_fail(e, -EBADMSG, "TDREPORT REPORTDATA is not SHA-256(public key) || 0^32");
	cm_sha384(r + 256, 239, h);
	if (memcmp(h, r + 32, 48))
		return cm_fail(e, -EBADMSG, "TEE_TCB_INFO_HASH does not match TEE_TCB_INFO");
	cm_sha384(r + 512, 512, h);
	if (memcmp(h, r + 80, 48))
		return cm_fail(e, -EBADMSG, "TEE_INFO_HASH does not match TDINFO");
	if (!HMAC(EVP_sha256(), x->report_key, 32, r, 224, mac, &ml) || CRYPTO_memcmp(mac, r + 224, 32))
		return cm_fail(e, -EACCES, "TDREPORT MAC does not verify (not this platform's TD)");
	return 0;
}

/* Encrypt key to the client's pub64 (X_le || Y_le): out = enclave X_le || Y_le || ct. */
static int encrypt_to(const uint8_t pub[64], const uint8_t key[32], uint8_t out[96])
{
	uint8_t pt[65], x[32], h[32];
	pt[0] = 4;
	for (int i = 0; i < 32; i++) {
		pt[1 + i] = pub[31 - i];
		pt[33 + i] = pub[63 - i];
	}
	EVP_PKEY *me = EVP_EC_gen("P-256"), *peer = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *dc = NULL;
	EVP_CIPHER_CTX *cc = NULL;
	OSSL_PARAM prm[] = {OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0),
			    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 65), OSSL_PARAM_END};
	size_t xl = 32, ol = 0;
	uint8_t mine[65];
	int n1 = 0, n2 = 0;
	int ok = me && pc && EVP_PKEY_fromdata_init(pc) > 0 && EVP_PKEY_fromdata(pc, &peer, EVP_PKEY_PUBLIC_KEY, prm) > 0 &&
		 (dc = EVP_PKEY_CTX_new(me, NULL)) && EVP_PKEY_derive_init(dc) > 0 &&
		 EVP_PKEY_derive_set_peer(dc, peer) > 0 && EVP_PKEY_derive(dc, x, &xl) > 0 && xl == 32 &&
		 EVP_PKEY_get_octet_string_param(me, OSSL_PKEY_PARAM_PUB_KEY, mine, sizeof mine, &ol) && ol == 65;
	if (ok) {
		uint8_t xle[32];
		for (int i = 0; i < 32; i++) {
			xle[i] = x[31 - i];
			out[i] = mine[32 - i];
			out[32 + i] = mine[64 - i];
		}
		ok = cm_sha256(xle, 32, h) == 0 && (cc = EVP_CIPHER_CTX_new()) &&
		     EVP_EncryptInit_ex2(cc, EVP_aes_128_ctr(), h, h + 16, NULL) &&
		     EVP_EncryptUpdate(cc, out + 64, &n1, key, 32) && EVP_EncryptFinal_ex(cc, out + 64 + n1, &n2);
		OPENSSL_cleanse(xle, sizeof xle);
	}
	OPENSSL_cleanse(x, sizeof x);
	OPENSSL_cleanse(h, sizeof h);
	EVP_CIPHER_CTX_free(cc);
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(me);
	ERR_clear_error();
	return ok && n1 + n2 == 32 ? 0 : -EIO;
}

int ts_handle(struct ts_enclave *x, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len,
	      struct cm_err *e)
{
	*resp = NULL;
	x->served_name[0] = 0;
	if (x->mode == TS_REPLAY && x->first) {
		if (!(*resp = malloc(x->first_len)))
			return cm_fail(e, -ENOMEM, "out of memory");
		memcpy(*resp, x->first, x->first_len);
		*resp_len = x->first_len;
		return 0;
	}
	const uint8_t *report, *pub, *name;
	size_t rn, pn, nn, off = 4;
	if (len < 4 || req[0] != 0x1c || req[1] != 0x82 || req[2] != 0x7a || req[3] != 0x31)
		return cm_fail(e, -EBADMSG, "request magic is not getPersistentKey#317a821c");
	if (get_bytes(req, len, &off, &report, &rn) || get_bytes(req, len, &off, &pub, &pn) ||
	    get_bytes(req, len, &off, &name, &nn) || off != len)
		return cm_fail(e, -EBADMSG, "request is not tdx_report:bytes public_key:bytes key_name:bytes");
	if (rn != 1024 || pn != 64 || nn == 0 || nn > 256)
		return cm_fail(e, -EBADMSG, "request field sizes %zu/%zu/%zu", rn, pn, nn);
	int rc = check_report(x, report, pub, e);
	if (rc)
		return rc;
	uint8_t key[32], secret[96];
	if (ts_derive(x, report, (const char *)name, nn, key) || encrypt_to(pub, key, secret)) {
		OPENSSL_cleanse(key, sizeof key);
		return cm_fail(e, -EIO, "key derivation or encryption failed");
	}
	cm_sha256(key, sizeof key, x->served_sha256);
	memcpy(x->served_name, name, nn);
	x->served_name[nn] = 0;
	OPENSSL_cleanse(key, sizeof key);
	struct ca_simca_enclave en = x->en;
	cm_sha256(pub, 64, en.report_data);
	cm_sha256(secret, 96, en.report_data + 32);
	if (x->mode == TS_UNBOUND)
		memset(en.report_data + 32, 0, 32);
	uint8_t *quote;
	size_t qlen;
	if ((rc = ca_simca_sgx_quote(x->ca, &en, &quote, &qlen, e)))
		return rc;
	if (x->mode == TS_TAMPERED)
		secret[80] ^= 0x01;
	uint8_t *out = malloc(4 + 4 + qlen + 3 + 100 + 4), *w = out;
	if (!out) {
		free(quote);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	out[0] = 0x9a, out[1] = 0x17, out[2] = 0x3a, out[3] = 0x16;
	w += 4;
	put_bytes(&w, quote, qlen);
	put_bytes(&w, secret, 96);
	free(quote);
	if (x->mode == TS_EXTENDED) {
		memset(w, 0, 4);
		w += 4;
	}
	*resp = out;
	*resp_len = (size_t)(w - out);
	if (x->mode == TS_REPLAY && !x->first && (x->first = malloc(*resp_len))) {
		memcpy(x->first, out, *resp_len);
		x->first_len = *resp_len;
	}
	return 0;
}

static int full_io(int fd, uint8_t *p, size_t n, bool wr)
{
	for (size_t d = 0; d < n;) {
		ssize_t k = wr ? send(fd, p + d, n - d, MSG_NOSIGNAL) : recv(fd, p + d, n - d, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -EIO;
		d += (size_t)k;
	}
	return 0;
}

int ts_serve_conn(struct ts_enclave *x, int fd, struct cm_err *e)
{
	uint8_t hdr[4], *req, *resp;
	size_t rl;
	if (full_io(fd, hdr, 4, false))
		return cm_fail(e, -EIO, "no request frame");
	uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	if (n > 16536 || !(req = malloc(n ? n : 1)))
		return cm_fail(e, -EBADMSG, "request frame length %u", n);
	if (full_io(fd, req, n, false)) {
		free(req);
		return cm_fail(e, -EIO, "truncated request");
	}
	int rc = ts_handle(x, req, n, &resp, &rl, e);
	free(req);
	if (rc)
		return rc;
	if (x->mode == TS_SILENT) {
		free(resp);
		char c;
		while (recv(fd, &c, 1, 0) > 0) /* hold the connection until the client gives up */
			;
		return 0;
	}
	uint32_t say = x->mode == TS_OVERSIZE ? 16537 : x->mode == TS_TRUNCATED ? (uint32_t)rl + 100 : (uint32_t)rl;
	for (int i = 0; i < 4; i++)
		hdr[i] = (uint8_t)(say >> (8 * i));
	rc = full_io(fd, hdr, 4, true) || (x->mode != TS_OVERSIZE && full_io(fd, resp, rl, true)) ? -EIO : 0;
	free(resp);
	return rc ? cm_fail(e, rc, "sending the response failed") : 0;
}
