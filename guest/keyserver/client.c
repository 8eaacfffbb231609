/* The appliance's key request (see client.h). */
#include "guest/keyserver/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "measure/ratls/cert.h"

int cks_fetch_key(struct ca_backend *b, const char *event_log, const char *nvml_lib, const struct cks_target *t,
		  const char *model, size_t expected_len, uint8_t key[CKS_VOLUME_KEY_MAX], size_t *key_len, struct cm_err *e)
{
	struct cks_response resp;
	char *req = NULL, *body = NULL;
	size_t len = 0;
	*key_len = 0;
	EVP_PKEY *k = cr_key_new(e);
	if (!k)
		return -EIO;
	SSL_CTX *ctx = b ? cks_attested_ctx(b, false, k, event_log, nvml_lib, NULL, e) : cks_ctx_new(false, k, e);
	int r = -EIO;
	if (!ctx) {
		cm_err_prefix(e, "own certificate");
		r = cm_err_check(e, e->code ? e->code : -EIO, "keyserver_tls");
		goto out;
	}
	if (!(req = cks_request_encode(model))) {
		r = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = cks_client_exchange(t, ctx, req, &body, &len, e)) < 0 || (r = cks_response_parse(body, len, &resp, e)) < 0)
		goto out;
	if (!resp.ok) {
		r = cm_fail_check(e, -EACCES, "keyserver_refused", "the key server refused: %s: %s", resp.check,
				  resp.message);
	} else if (expected_len && resp.key_len != expected_len) {
		r = cm_fail_check(e, -EINVAL, "keyserver_key_length", "the key server sent %zu key bytes, the spec says %zu",
				  resp.key_len, expected_len);
	} else {
		memcpy(key, resp.key, resp.key_len);
		*key_len = resp.key_len;
	}
	OPENSSL_cleanse(&resp, sizeof resp);
out:
	if (body) {
		OPENSSL_cleanse(body, len);
		free(body);
	}
	free(req);
	SSL_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}
