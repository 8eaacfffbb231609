/* cocoon-keyserver: the key server of confidential models and its tools (docs/keys.md
 * "Key server").
 *
 *   cocoon-keyserver serve --config FILE [--info-file FILE]
 *   cocoon-keyserver add-key ADMIN --model M --key-file F [--image-hash HEX]... [--rtmr3 HEX]...
 *   cocoon-keyserver list ADMIN
 *       ADMIN = --server tcp:HOST:PORT --server-key HEX --admin-key PEM [--seq N]
 *   cocoon-keyserver request --server tcp:HOST:PORT SERVER-ID --model M
 *                            [--attest tdx|sim|none] [--event-log FILE] [--out FILE]
 *       SERVER-ID = [--server-key HEX] [--server-image-hash HEX]... [--server-root PEM]
 *                   [--server-collateral FILE]  (a key, image hashes, or both)
 *   cocoon-keyserver identity --server tcp:HOST:PORT --server-collateral FILE [--server-root PEM]
 *                             [SERVER-ID pins]
 *   cocoon-keyserver encrypt-volume --key-file F IMG
 *
 * add-key/list sign their request with the admin's Ed25519 key (PEM) for the server whose
 * identity is --server-key; --seq defaults to the current time in microseconds. request is
 * the appliance's client (cocoon-init's step 10) for operators and tests: it prints the
 * SHA-256 of the released key, never the key (--out writes the key, mode 0600). identity
 * is the model owner's audit of a running key server: its certificate's quote verified
 * against the root and collateral, it prints (JSON) the identity key to pin, the image hash
 * and RTMR3 (its measured spec) the quote shows; no request is sent.
 * Exit codes: 0 ok, 1 failure (one line "error: <check>: <why>"), 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "guest/attest/attest.h"
#include "guest/keyserver/client.h"
#include "guest/keyserver/server.h"
#include "guest/keyserver/volume.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/ratls/gpuext.h"
#include "measure/ratls/peer.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: cocoon-keyserver serve --config FILE [--info-file FILE]\n"
		"       cocoon-keyserver add-key ADMIN --model M --key-file F [--image-hash HEX]... [--rtmr3 HEX]...\n"
		"       cocoon-keyserver list ADMIN\n"
		"         ADMIN = --server tcp:HOST:PORT --server-key HEX --admin-key PEM [--seq N]\n"
		"       cocoon-keyserver request --server tcp:HOST:PORT SERVER-ID --model M\n"
		"                                [--attest tdx|sim|none] [--event-log FILE] [--out FILE]\n"
		"         SERVER-ID = [--server-key HEX] [--server-image-hash HEX]... [--server-root PEM]\n"
		"                     [--server-collateral FILE]\n"
		"       cocoon-keyserver identity --server tcp:HOST:PORT --server-collateral FILE [--server-root PEM]\n"
		"                                 [--server-key HEX] [--server-image-hash HEX]...\n"
		"       cocoon-keyserver encrypt-volume --key-file F IMG\n");
	return 2;
}

static int fail(const struct cm_err *e)
{
	fprintf(stderr, "error: %s: %s\n", e->check ? e->check : "cocoon-keyserver", e->msg);
	return 1;
}

struct args {
	const char *config, *info, *server, *server_key, *admin_key, *model, *key_file, *attest, *event_log, *out;
	const char *server_root, *server_collateral;
	const char *image_hashes[CKS_MAX_ALLOW], *rtmr3[CKS_MAX_ALLOW], *server_images[CKS_MAX_ALLOW];
	size_t n_ih, n_r3, n_sih;
	unsigned long long seq;
	const char *pos;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = !strcmp(o, "--config")	 ? &a->config
				    : !strcmp(o, "--info-file")	 ? &a->info
				    : !strcmp(o, "--server")	 ? &a->server
				    : !strcmp(o, "--server-key") ? &a->server_key
				    : !strcmp(o, "--admin-key")	 ? &a->admin_key
				    : !strcmp(o, "--model")	 ? &a->model
				    : !strcmp(o, "--key-file")	 ? &a->key_file
				    : !strcmp(o, "--attest")	 ? &a->attest
				    : !strcmp(o, "--event-log")	 ? &a->event_log
				    : !strcmp(o, "--out")	 ? &a->out
				    : !strcmp(o, "--server-root") ? &a->server_root
				    : !strcmp(o, "--server-collateral") ? &a->server_collateral
				    : !strcmp(o, "--server-image-hash") && a->n_sih < CKS_MAX_ALLOW ? &a->server_images[a->n_sih++]
				    : !strcmp(o, "--image-hash") && a->n_ih < CKS_MAX_ALLOW ? &a->image_hashes[a->n_ih++]
				    : !strcmp(o, "--rtmr3") && a->n_r3 < CKS_MAX_ALLOW	    ? &a->rtmr3[a->n_r3++]
											    : NULL;
		if (!strcmp(o, "--seq") && v) {
			char *end;
			a->seq = strtoull(v, &end, 10);
			if (*end || !a->seq)
				return -1;
			i++;
		} else if (slot && v) {
			*slot = v;
			i++;
		} else if (o[0] != '-' && !a->pos) {
			a->pos = o;
		} else {
			return -1;
		}
	}
	return 0;
}

static int read_key_file(const char *path, uint8_t key[CKS_VOLUME_KEY_MAX], size_t *len, struct cm_err *e)
{
	uint8_t *p;
	int r = cm_read_file(path, CKS_VOLUME_KEY_MAX + 1, &p, len, e);
	if (r < 0)
		return r;
	if ((r = cks_volume_key_len_ok(*len, e)) == 0)
		memcpy(key, p, *len);
	OPENSSL_cleanse(p, *len);
	free(p);
	return r ? cm_err_prefix(e, "%s", path) : 0;
}

static int target(const struct args *a, bool need_pin, struct cks_target *t, struct cm_err *e)
{
	memset(t, 0, sizeof *t);
	t->timeout_ms = 10000;
	if (!a->server || (need_pin && !a->server_key && !a->n_sih) ||
	    snprintf(t->server, sizeof t->server, "%s", a->server) >= (int)sizeof t->server)
		return cm_fail(e, -EINVAL, "--server and --server-key or --server-image-hash are required");
	if (a->server_key && (strlen(a->server_key) != 64 || cm_hex_decode_exact(a->server_key, 64, t->pubkey, 32) < 0))
		return cm_fail(e, -EINVAL, "--server-key must be 64 hex digits (the key server's identity)");
	t->has_pubkey = a->server_key != NULL;
	for (size_t i = 0; i < a->n_sih; i++)
		if (strlen(a->server_images[i]) != 64 || cm_hex_decode_exact(a->server_images[i], 64, t->image_hashes[i], 32) < 0)
			return cm_fail(e, -EINVAL, "--server-image-hash must be 64 hex digits");
	t->n_image_hashes = a->n_sih;
	snprintf(t->root, sizeof t->root, "%s", a->server_root ? a->server_root : "");
	snprintf(t->collateral, sizeof t->collateral, "%s", a->server_collateral ? a->server_collateral : "");
	if (t->n_image_hashes && !t->collateral[0])
		return cm_fail(e, -EINVAL, "--server-image-hash needs --server-collateral (and --server-root off Intel's)");
	return 0;
}

static int admin(const struct args *a, enum cks_admin_op op)
{
	struct cm_err e = {0};
	struct cks_target t;
	struct cks_admin req;
	memset(&req, 0, sizeof req);
	req.op = op;
	if (!a->server_key)
		return fprintf(stderr, "error: admin requests need --server-key (they are signed for one key server)\n"), 2;
	if (target(a, true, &t, &e) < 0)
		return fail(&e);
	memcpy(req.server, t.pubkey, 32);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	req.seq = a->seq ? a->seq : (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	if (op == CKS_ADMIN_ADD_KEY) {
		if (!a->model || !a->key_file)
			return usage();
		if (cks_model_parse(a->model, &req.grant.model, &e) < 0 ||
		    read_key_file(a->key_file, req.grant.key, &req.grant.key_len, &e) < 0)
			return fail(&e);
		for (size_t i = 0; i < a->n_ih; i++)
			if (cm_hex_decode_exact(a->image_hashes[i], strlen(a->image_hashes[i]), req.grant.image_hashes[i], 32) < 0)
				return fprintf(stderr, "error: --image-hash must be 64 hex digits\n"), 2;
		for (size_t i = 0; i < a->n_r3; i++)
			if (cm_hex_decode_exact(a->rtmr3[i], strlen(a->rtmr3[i]), req.grant.rtmr3[i], 48) < 0)
				return fprintf(stderr, "error: --rtmr3 must be 96 hex digits\n"), 2;
		req.grant.n_image_hashes = a->n_ih;
		req.grant.n_rtmr3 = a->n_r3;
		if (!a->n_ih && !a->n_r3)
			return fprintf(stderr, "error: a grant needs --image-hash or --rtmr3\n"), 2;
	}
	if (!a->admin_key)
		return usage();
	FILE *f = fopen(a->admin_key, "re");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return fprintf(stderr, "error: %s is not an Ed25519 private key (PEM)\n", a->admin_key), 1;
	}
	char *body = cks_admin_encode(&req, k, &e), *resp = NULL;
	OPENSSL_cleanse(&req, sizeof req);
	size_t len;
	EVP_PKEY *ck = cr_key_new(&e);
	SSL_CTX *ctx = ck ? cks_ctx_new(false, ck, &e) : NULL;
	int r = body && ctx ? cks_client_exchange(&t, ctx, body, &resp, &len, &e) : -EIO;
	struct cm_jv root, v;
	const char *status;
	if (r == 0 && (r = cm_json_read(resp, len, CKS_FRAME_MAX, "admin response", &root, &e)) == 0) {
		if ((r = cm_jv_need(&root, "status", &v, &e)) == 0 && (r = cm_jv_str(&v, 1, 16, &status, &e)) == 0) {
			if (strcmp(status, "ok") == 0) {
				cm_json_print(root.o, stdout);
			} else {
				struct cm_jv c, m;
				const char *cs = "?", *ms = "?";
				if (cm_jv_get(&root, "check", &c))
					cm_jv_str(&c, 0, CKS_CHECK_MAX, &cs, NULL);
				if (cm_jv_get(&root, "message", &m))
					cm_jv_str(&m, 0, CKS_FRAME_MAX, &ms, NULL);
				r = cm_fail_check(&e, -EACCES, "keyserver_refused", "the key server refused: %s: %s", cs, ms);
			}
		}
		cm_json_release(&root);
	}
	if (body)
		OPENSSL_cleanse(body, strlen(body));
	free(body);
	free(resp);
	SSL_CTX_free(ctx);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(k);
	return r < 0 ? fail(&e) : 0;
}

static int request(const struct args *a)
{
	struct cm_err e = {0};
	struct cks_target t;
	struct ca_backend *b = NULL;
	uint8_t key[CKS_VOLUME_KEY_MAX], d[32];
	size_t len = 0;
	char hex[65];
	const char *attest = a->attest ? a->attest : "tdx";
	if (!a->model)
		return usage();
	if (target(a, true, &t, &e) < 0 || (strcmp(attest, "none") && ca_open(attest, NULL, &b, &e) < 0))
		return fail(&e);
	int r = cks_fetch_key(b, a->event_log, NULL, &t, a->model, 0, key, &len, &e);
	if (b)
		ca_close(b);
	if (r < 0)
		return fail(&e);
	cm_sha256(key, len, d);
	cm_hex_encode(d, 32, hex, sizeof hex);
	if (a->out) {
		int fd = open(a->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		r = fd >= 0 && write(fd, key, len) == (ssize_t)len ? 0 : -1;
		if (fd >= 0)
			close(fd);
	}
	OPENSSL_cleanse(key, sizeof key);
	if (r < 0)
		return fprintf(stderr, "error: cannot write %s\n", a->out), 1;
	printf("released %s: %zu bytes, sha256 %s\n", a->model, len, hex);
	return 0;
}

/* identity: what a running key server's certificate shows, its quote verified. */
static int identity(const struct args *a)
{
	struct cm_err e = {0};
	struct cks_target t;
	struct cr_peer p;
	if (!a->server || !a->server_collateral)
		return usage();
	if (target(a, false, &t, &e) < 0)
		return fail(&e);
	EVP_PKEY *ck = cr_key_new(&e);
	SSL_CTX *ctx = ck ? cks_ctx_new(false, ck, &e) : NULL;
	int r = ctx ? cks_server_identity(&t, ctx, &p, &e) : -EIO;
	SSL_CTX_free(ctx);
	EVP_PKEY_free(ck);
	if (r < 0)
		return fail(&e);
	if (!p.attested)
		return fprintf(stderr, "error: keyserver_identity: %s presents no verified quote\n", a->server), 1;
	char hex[97];
	json_object *o = json_object_new_object();
	cm_hex_encode(p.pubkey, 32, hex, sizeof hex);
	cm_json_add_str(o, "identity", hex);
	cm_hex_encode(p.image_hash, 32, hex, sizeof hex);
	cm_json_add_str(o, "image_hash", hex);
	cm_hex_encode(p.regs.mrtd, 48, hex, sizeof hex);
	cm_json_add_str(o, "mrtd", hex);
	cm_hex_encode(p.regs.rtmr[3], 48, hex, sizeof hex);
	cm_json_add_str(o, "rtmr3", hex);
	cm_json_add_str(o, "tcb_status", p.tcb_status);
	json_object_object_add(o, "event_log_replayed", json_object_new_boolean(p.has_event_log));
	cm_json_print(o, stdout);
	json_object_put(o);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	struct cm_err e = {0};
	if (argc < 2 || parse_args(argc, argv, &a) < 0)
		return usage();
	signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error return, not a signal */
	cr_verifier_set_gpu(cr_gpu_ext_verify); /* peer policies with "gpu" (peer.h) */
	const char *cmd = argv[1];
	if (!strcmp(cmd, "serve")) {
		struct cks_server_conf c;
		if (!a.config || a.pos)
			return usage();
		if (cks_server_conf_load(a.config, &c, &e) < 0 || cks_serve(&c, a.info, &e) < 0)
			return fail(&e);
		return 0;
	}
	if (!strcmp(cmd, "add-key") || !strcmp(cmd, "list"))
		return a.pos ? usage() : admin(&a, cmd[0] == 'a' ? CKS_ADMIN_ADD_KEY : CKS_ADMIN_LIST);
	if (!strcmp(cmd, "request"))
		return a.pos ? usage() : request(&a);
	if (!strcmp(cmd, "identity"))
		return a.pos ? usage() : identity(&a);
	if (!strcmp(cmd, "encrypt-volume")) {
		uint8_t key[CKS_VOLUME_KEY_MAX];
		size_t len;
		if (!a.key_file || !a.pos)
			return usage();
		int r = read_key_file(a.key_file, key, &len, &e);
		if (r == 0)
			r = cks_volume_encrypt_file(a.pos, key, len, &e);
		OPENSSL_cleanse(key, sizeof key);
		return r < 0 ? fail(&e) : 0;
	}
	return usage();
}
