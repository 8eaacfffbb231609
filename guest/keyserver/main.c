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
#include "measure/core/opts.h"
#include "measure/ratls/gpuext.h"
#include "measure/ratls/peer.h"

static int usage_to(FILE *f, int rc)
{
	fprintf(f,
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
	return rc;
}

static int usage(void)
{
	return usage_to(stderr, 2);
}

static int fail(const struct cm_err *e)
{
	fprintf(stderr, "error: %s: %s\n", e->check ? e->check : "cocoon-keyserver", e->msg);
	return 1;
}

struct args {
	const char *config, *info, *server_key, *admin_key, *model, *key_file, *attest, *event_log, *out;
	char server[sizeof(((struct cks_target *)0)->server)];
	char server_root[sizeof(((struct cks_target *)0)->root)];
	char server_collateral[sizeof(((struct cks_target *)0)->collateral)];
	const char *image_hash_v[CKS_MAX_ALLOW], *rtmr3_v[CKS_MAX_ALLOW], *server_image_v[CKS_MAX_ALLOW];
	struct cm_opt_list image_hashes, rtmr3, server_images;
	uint64_t seq; /* 0: now in microseconds */
	const char *pos;
};

/* The options that name the key server and what it must prove (SERVER-ID in the usage). */
#define TARGET_OPTS(a)                                                                              \
	CM_OPT_BUF("server", 0, (a)->server), CM_OPT_STR("server-key", 0, &(a)->server_key),          \
		CM_OPT_LIST("server-image-hash", 0, &(a)->server_images),                            \
		CM_OPT_BUF("server-root", 0, (a)->server_root),                                      \
		CM_OPT_BUF("server-collateral", 0, (a)->server_collateral), CM_OPT_HELP(0)
#define ADMIN_OPTS(a) \
	TARGET_OPTS(a), CM_OPT_STR("admin-key", 0, &(a)->admin_key), CM_OPT_U64("seq", 0, &(a)->seq, 1, UINT64_MAX, NULL)

/* argv[1] is the subcommand; each reads its own options (measure/core/opts.h) and takes no
 * operand but encrypt-volume's IMG (a->pos). 0, or 1 with *rc set: help (0) or usage (2). */
static int parse_args(int argc, char **argv, struct args *a, int *rc)
{
	*a = (struct args){ .image_hashes = CM_OPT_LIST_OF(a->image_hash_v),
			    .rtmr3 = CM_OPT_LIST_OF(a->rtmr3_v),
			    .server_images = CM_OPT_LIST_OF(a->server_image_v) };
	const struct cm_opt serve[] = {
		CM_OPT_STR("config", 0, &a->config), CM_OPT_STR("info-file", 0, &a->info), CM_OPT_HELP(0), CM_OPT_END,
	};
	const struct cm_opt add_key[] = {
		ADMIN_OPTS(a),
		CM_OPT_STR("model", 0, &a->model),
		CM_OPT_STR("key-file", 0, &a->key_file),
		CM_OPT_LIST("image-hash", 0, &a->image_hashes),
		CM_OPT_LIST("rtmr3", 0, &a->rtmr3),
		CM_OPT_END,
	};
	const struct cm_opt list[] = { ADMIN_OPTS(a), CM_OPT_END };
	const struct cm_opt request[] = {
		TARGET_OPTS(a),
		CM_OPT_STR("model", 0, &a->model),
		CM_OPT_STR("attest", 0, &a->attest),
		CM_OPT_STR("event-log", 0, &a->event_log),
		CM_OPT_STR("out", 0, &a->out),
		CM_OPT_END,
	};
	const struct cm_opt identity[] = { TARGET_OPTS(a), CM_OPT_END };
	const struct cm_opt encrypt_volume[] = { CM_OPT_STR("key-file", 0, &a->key_file), CM_OPT_HELP(0), CM_OPT_END };
	const struct {
		const char *name;
		const struct cm_opt *opts;
	} cmds[] = {
		{ "serve", serve },	  { "add-key", add_key },   { "list", list },
		{ "request", request }, { "identity", identity }, { "encrypt-volume", encrypt_volume },
	};
	char msg[256];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		switch (cm_opts_parse(argc - 1, argv + 1, cmds[i].opts, msg, sizeof msg)) {
		case CM_OPTS_HELP:
			*rc = usage_to(stdout, 0);
			return 1;
		case CM_OPTS_DONE:
			optind++; /* an index into argv, not argv + 1 */
			if (optind < argc && cmds[i].opts == encrypt_volume)
				a->pos = argv[optind++];
			if (optind == argc)
				return 0;
			snprintf(msg, sizeof msg, "unexpected argument '%s'", argv[optind]);
			break;
		default:
			break;
		}
		fprintf(stderr, "error: %s: %s (see: cocoon-keyserver --help)\n", argv[1], msg);
		*rc = 2;
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		*rc = usage_to(stdout, 0);
		return 1;
	}
	fprintf(stderr, "error: unknown command '%s' (see: cocoon-keyserver --help)\n", argv[1]);
	*rc = 2;
	return 1;
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
	if (!a->server[0] || (need_pin && !a->server_key && !a->server_images.n))
		return cm_fail(e, -EINVAL, "--server and --server-key or --server-image-hash are required");
	memcpy(t->server, a->server, sizeof t->server); /* the same size: struct args */
	if (a->server_key && (strlen(a->server_key) != 64 || cm_hex_decode_exact(a->server_key, 64, t->pubkey, 32) < 0))
		return cm_fail(e, -EINVAL, "--server-key must be 64 hex digits (the key server's identity)");
	t->has_pubkey = a->server_key != NULL;
	for (size_t i = 0; i < a->server_images.n; i++)
		if (strlen(a->server_images.v[i]) != 64 ||
		    cm_hex_decode_exact(a->server_images.v[i], 64, t->image_hashes[i], 32) < 0)
			return cm_fail(e, -EINVAL, "--server-image-hash must be 64 hex digits");
	t->n_image_hashes = a->server_images.n;
	memcpy(t->root, a->server_root, sizeof t->root);
	memcpy(t->collateral, a->server_collateral, sizeof t->collateral);
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
		for (size_t i = 0; i < a->image_hashes.n; i++)
			if (cm_hex_decode_exact(a->image_hashes.v[i], strlen(a->image_hashes.v[i]),
						req.grant.image_hashes[i], 32) < 0)
				return fprintf(stderr, "error: --image-hash must be 64 hex digits\n"), 2;
		for (size_t i = 0; i < a->rtmr3.n; i++)
			if (cm_hex_decode_exact(a->rtmr3.v[i], strlen(a->rtmr3.v[i]), req.grant.rtmr3[i], 48) < 0)
				return fprintf(stderr, "error: --rtmr3 must be 96 hex digits\n"), 2;
		req.grant.n_image_hashes = a->image_hashes.n;
		req.grant.n_rtmr3 = a->rtmr3.n;
		if (!a->image_hashes.n && !a->rtmr3.n)
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
	if (!a->server[0] || !a->server_collateral[0])
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
	static struct args a; /* three PATH_MAX paths */
	struct cm_err e = {0};
	int rc;
	if (argc < 2)
		return usage();
	if (parse_args(argc, argv, &a, &rc))
		return rc;
	signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error return, not a signal */
	cr_verifier_set_gpu(cr_gpu_ext_verify); /* peer policies with "gpu" (peer.h) */
	const char *cmd = argv[1];
	if (!strcmp(cmd, "serve")) {
		struct cks_server_conf c;
		if (!a.config)
			return usage();
		if (cks_server_conf_load(a.config, &c, &e) < 0 || cks_serve(&c, a.info, &e) < 0)
			return fail(&e);
		return 0;
	}
	if (!strcmp(cmd, "add-key") || !strcmp(cmd, "list"))
		return admin(&a, cmd[0] == 'a' ? CKS_ADMIN_ADD_KEY : CKS_ADMIN_LIST);
	if (!strcmp(cmd, "request"))
		return request(&a);
	if (!strcmp(cmd, "identity"))
		return identity(&a);
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
