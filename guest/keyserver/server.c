/* cocoon-keyserver serve (see server.h). */
#include "guest/keyserver/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "guest/attest/attest.h"
#include "guest/keyserver/session.h"
#include "guest/keyserver/store.h"
#include "measure/core/json.h"

#define CONF_MAX (64 * 1024)
#define CERT_RENEW 3600 /* a fresh attested certificate every hour (they are valid for a day) */

int cks_server_conf_load(const char *path, struct cks_server_conf *c, struct cm_err *e)
{
	static const char *const keys[] = {"version", "listen", "admin_listen", "store", "secret_file", "admin_key",
					   "attest", "event_log", "peer_policy", "timeout_ms", NULL};
	static const char *const pkeys[] = {"measure_policy", "root", "collateral", "gpu", NULL};
	memset(c, 0, sizeof *c);
	struct cm_jv root, v, p;
	int64_t n;
	int r = cm_json_read_file(path, CONF_MAX, path, &root, e);
	if (r < 0)
		return r;
	c->timeout_ms = 10000;
	snprintf(c->attest, sizeof c->attest, "tdx");
	if ((r = cm_jv_object(&root, keys, e)) || (r = cm_jv_need(&root, "version", &v, e)) ||
	    (r = cm_jv_int(&v, 1, 1, &n, e)) || (r = cm_jv_need(&root, "listen", &v, e)) ||
	    (r = cm_jv_strcpy(&v, c->listen, sizeof c->listen, e)) || (r = cm_jv_need(&root, "admin_listen", &v, e)) ||
	    (r = cm_jv_strcpy(&v, c->admin_listen, sizeof c->admin_listen, e)) ||
	    (r = cm_jv_need(&root, "store", &v, e)) || (r = cm_jv_strcpy(&v, c->store, sizeof c->store, e)) ||
	    (r = cm_jv_need(&root, "admin_key", &v, e)) || (r = cm_jv_hex(&v, c->admin_key, 32, e)) ||
	    (r = cm_jv_need(&root, "peer_policy", &p, e)) || (r = cm_jv_object(&p, pkeys, e)))
		goto out;
	if (cm_jv_get(&root, "secret_file", &v) && (r = cm_jv_strcpy(&v, c->secret_file, sizeof c->secret_file, e)))
		goto out;
	if (cm_jv_get(&root, "attest", &v) && (r = cm_jv_strcpy(&v, c->attest, sizeof c->attest, e)))
		goto out;
	if (cm_jv_get(&root, "event_log", &v) && (r = cm_jv_strcpy(&v, c->event_log, sizeof c->event_log, e)))
		goto out;
	if (cm_jv_get(&root, "timeout_ms", &v)) {
		if ((r = cm_jv_int(&v, 100, 600000, &n, e)))
			goto out;
		c->timeout_ms = (unsigned)n;
	}
	snprintf(c->peers.name, sizeof c->peers.name, "appliances");
	c->peers.type = CR_POLICY_TDX;
	if ((cm_jv_get(&p, "measure_policy", &v) &&
	     (r = cm_jv_strcpy(&v, c->peers.measure_policy, sizeof c->peers.measure_policy, e))) ||
	    (cm_jv_get(&p, "root", &v) && (r = cm_jv_strcpy(&v, c->peers.root, sizeof c->peers.root, e))) ||
	    /* "gpu": the peer's certificate must carry GPU evidence that verifies (measure/ratls/peer.h) */
	    (cm_jv_get(&p, "gpu", &v) && (r = cm_jv_strcpy(&v, c->peers.gpu, sizeof c->peers.gpu, e))) ||
	    (r = cm_jv_need(&p, "collateral", &v, e)) ||
	    (r = cm_jv_strcpy(&v, c->peers.collateral, sizeof c->peers.collateral, e)))
		goto out;
	if (strcmp(c->attest, "tdx") && strcmp(c->attest, "sim"))
		r = cm_fail(e, -EINVAL, "%s: attest must be tdx or sim", path);
out:
	cm_json_release(&root);
	return r;
}

static int listen_tcp(const char *spec, int *port, struct cm_err *e)
{
	char host[64];
	uint64_t p;
	struct sockaddr_in in = {.sin_family = AF_INET};
	/* tcp:HOST:PORT, HOST the text between the first colon and the last */
	const char *colon = strncmp(spec, "tcp:", 4) ? NULL : strrchr(spec + 4, ':');
	size_t hl = colon ? (size_t)(colon - (spec + 4)) : sizeof host;
	if (hl >= sizeof host || cm_parse_u64(colon + 1, 0, 65535, &p))
		return cm_fail(e, -EINVAL, "listen address %.100s: tcp:IPV4:PORT", spec);
	memcpy(host, spec + 4, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, &in.sin_addr) != 1)
		return cm_fail(e, -EINVAL, "listen address %.100s: tcp:IPV4:PORT", spec);
	in.sin_port = htons((uint16_t)p);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	socklen_t sl = sizeof in;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&in, sizeof in) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&in, &sl) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return cm_fail(e, -err, "listen on %s (%s)", spec, strerror(err));
	}
	*port = ntohs(in.sin_port);
	return fd;
}

struct server {
	const struct cks_server_conf *c;
	struct cks_store store;
	struct ca_backend *attest;
	EVP_PKEY *key;
	uint8_t pub[32];
	uint8_t image_hash[32]; /* of its own quote (changes only with its image) */
	SSL_CTX *ctx;
	time_t ctx_made;
	struct cr_verifier *peers_v, *any_v;
	const struct cr_policy *peers, *any;
	FILE *releases;
};

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void slog(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cocoon-keyserver: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void respond(struct cks_session *s, const struct cks_response *r)
{
	struct cm_err e = {0};
	char *body = cks_response_encode(r);
	if (body) {
		cks_frame_write(&s->io, body, strlen(body), &e);
		OPENSSL_cleanse(body, strlen(body));
		free(body);
	}
}

static void refuse(struct cks_session *s, const char *check, const char *msg)
{
	struct cks_response r = {.ok = false};
	snprintf(r.check, sizeof r.check, "%s", check);
	snprintf(r.message, sizeof r.message, "%.*s", (int)sizeof r.message - 1, msg);
	respond(s, &r);
}

static bool listed(const uint8_t *list, size_t n, size_t width, const uint8_t *v)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list + i * width, v, width) == 0)
			return true;
	return false;
}

/* The grant's allowlists against the verified peer: 0, or the failed check. */
static const char *grant_check(const struct cks_grant *g, const struct cr_peer *p)
{
	if (g->n_image_hashes && !listed(&g->image_hashes[0][0], g->n_image_hashes, 32, p->image_hash))
		return "grant_image_hash";
	if (g->n_rtmr3 && !listed(&g->rtmr3[0][0], g->n_rtmr3, 48, p->regs.rtmr[3]))
		return "grant_rtmr3";
	return NULL;
}

static void serve_key(struct server *sv, int fd)
{
	struct cm_err e = {0};
	struct cks_session s;
	char *body = NULL, ih[65], r3[97];
	size_t len;
	struct cks_grant g;
	struct cks_model m;
	memset(&g, 0, sizeof g);
	if (cks_session_start(&s, sv->ctx, fd, true, sv->peers_v, sv->peers, sv->c->timeout_ms, &e) < 0) {
		slog("refused peer: %s: %s", e.check ? e.check : "?", e.msg);
		goto out;
	}
	cm_hex_encode(s.tp.peer.image_hash, 32, ih, sizeof ih);
	cm_hex_encode(s.tp.peer.regs.rtmr[3], 48, r3, sizeof r3);
	if (cks_frame_read(&s.io, &body, &len, &e) < 0 || cks_request_parse(body, len, &m, &e) < 0) {
		slog("refused peer %s: %s: %s", ih, e.check ? e.check : "request", e.msg);
		refuse(&s, e.check ? e.check : "request_format", e.msg);
		goto out;
	}
	if (!s.tp.peer.attested || !s.tp.peer.has_event_log) {
		/* The RTMR3 event log is what shows a debug boot: required. */
		slog("refused peer %s: peer_event_log: no attested certificate with an RTMR3 event log", ih);
		refuse(&s, "peer_event_log", "an attested certificate with the RTMR3 event log is required");
		goto out;
	}
	const char *bad = NULL;
	if (cks_store_get(&sv->store, m.str, &g, &e) < 0)
		bad = e.check ? e.check : "store";
	else if ((bad = grant_check(&g, &s.tp.peer)))
		snprintf(e.msg, sizeof e.msg, "%s is not allowed by the grant of %s", bad[6] == 'i' ? "the image hash" : "RTMR3",
			 m.str);
	if (bad) {
		slog("refused model %s to image %s rtmr3 %s: %s: %s", m.str, ih, r3, bad, e.msg);
		refuse(&s, bad, e.msg);
		goto out;
	}
	struct cks_response r = {.ok = true, .key_len = g.key_len};
	memcpy(r.key, g.key, g.key_len);
	respond(&s, &r);
	OPENSSL_cleanse(&r, sizeof r);
	time_t now = time(NULL);
	slog("released model %s to image %s rtmr3 %s tcb %s at %lld", m.str, ih, r3, s.tp.peer.tcb_status,
	     (long long)now);
	if (sv->releases) {
		fprintf(sv->releases, "{\"time\": %lld, \"model\": \"%s\", \"image_hash\": \"%s\", \"rtmr3\": \"%s\"}\n",
			(long long)now, m.str, ih, r3);
		fflush(sv->releases);
		fsync(fileno(sv->releases));
	}
out:
	OPENSSL_cleanse(&g, sizeof g);
	free(body);
	cks_session_end(&s);
}

static void admin_list(struct server *sv, struct cks_session *s)
{
	struct cm_err e = {0};
	struct cks_grant *gs;
	size_t n;
	if (cks_store_list(&sv->store, &gs, &n, &e) < 0) {
		refuse(s, "store", e.msg);
		return;
	}
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	cm_json_add_int(o, "version", CKS_VERSION);
	cm_json_add_str(o, "status", "ok");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_new_object();
		cm_json_add_str(m, "model", gs[i].model.str);
		cks_grant_lists_add(m, &gs[i]);
		json_object_array_add(a, m);
	}
	json_object_object_add(o, "models", a);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	cks_frame_write(&s->io, t, strlen(t), &e);
	json_object_put(o);
	free(gs);
}

static void serve_admin(struct server *sv, int fd)
{
	struct cm_err e = {0};
	struct cks_session s;
	struct cks_admin a;
	char *body = NULL;
	size_t len;
	memset(&a, 0, sizeof a);
	if (cks_session_start(&s, sv->ctx, fd, true, sv->any_v, sv->any, sv->c->timeout_ms, &e) < 0) {
		slog("admin: %s", e.msg);
		goto out;
	}
	if (cks_frame_read(&s.io, &body, &len, &e) < 0 || cks_admin_parse(body, len, sv->c->admin_key, &a, &e) < 0) {
		slog("admin: refused: %s: %s", e.check ? e.check : "admin", e.msg);
		refuse(&s, e.check ? e.check : "admin_format", e.msg);
		goto out;
	}
	if (memcmp(a.server, sv->pub, 32) != 0) {
		slog("admin: refused: admin_server: signed for another key server");
		refuse(&s, "admin_server", "the request is signed for another key server");
		goto out;
	}
	if (cks_store_seq(&sv->store, a.seq, &e) < 0 ||
	    (a.op == CKS_ADMIN_ADD_KEY && cks_store_put(&sv->store, &a.grant, &e) < 0)) {
		slog("admin: refused: %s: %s", e.check ? e.check : "store", e.msg);
		refuse(&s, e.check ? e.check : "store", e.msg);
		goto out;
	}
	if (a.op == CKS_ADMIN_ADD_KEY)
		slog("admin: key added for %s (%zu image hashes, %zu rtmr3 values)", a.grant.model.str,
		     a.grant.n_image_hashes, a.grant.n_rtmr3);
	admin_list(sv, &s);
out:
	OPENSSL_cleanse(&a, sizeof a);
	free(body);
	cks_session_end(&s);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int renew_cert(struct server *sv, struct cm_err *e)
{
	SSL_CTX *ctx = cks_attested_ctx(sv->attest, true, sv->key, sv->c->event_log, NULL, sv->image_hash, e);
	if (!ctx)
		return cm_err_prefix(e, "own certificate");
	SSL_CTX_free(sv->ctx);
	sv->ctx = ctx;
	sv->ctx_made = time(NULL);
	return 0;
}

static int read_secret(const struct cks_server_conf *c, uint8_t *buf, size_t cap, size_t *len, struct cm_err *e)
{
	if (c->secret_file[0]) {
		uint8_t *p;
		int r = cm_read_file(c->secret_file, cap, &p, len, e);
		if (r < 0)
			return r;
		memcpy(buf, p, *len);
		OPENSSL_cleanse(p, *len);
		free(p);
		return 0;
	}
	const char *b64 = getenv("APP_KEY");
	if (!b64)
		return cm_fail(e, -EINVAL, "no server secret: set secret_file or run under cocoon-init (APP_KEY)");
	/* cocoon-init's APP_KEY: base64 of the 32-byte application key (guest/keys/keys.c) */
	if (cm_base64_decode(b64, strlen(b64), false, buf, cap, len) || *len != 32)
		return cm_fail(e, -EINVAL, "APP_KEY is not base64 of 32 bytes");
	return 0;
}

int cks_serve(const struct cks_server_conf *c, const char *info_file, struct cm_err *e)
{
	struct server sv = {.c = c};
	uint8_t secret[256];
	size_t slen = 0;
	int fds[2] = {-1, -1}, ports[2], r;
	size_t publen = 32;
	if ((r = read_secret(c, secret, sizeof secret, &slen, e)) < 0)
		return r;
	r = cks_store_open(&sv.store, c->store, secret, slen, e);
	OPENSSL_cleanse(secret, sizeof secret);
	if (r < 0 || (r = cks_store_identity(&sv.store, &sv.key, e)) < 0 ||
	    (r = EVP_PKEY_get_raw_public_key(sv.key, sv.pub, &publen) == 1 ? 0 : -EIO) < 0 ||
	    (r = ca_open(c->attest, NULL, &sv.attest, e)) < 0 || (r = renew_cert(&sv, e)) < 0)
		goto out;
	if (!(sv.peers_v = cr_verifier_new(256, 600, e)) || (r = cr_verifier_add_policy(sv.peers_v, &c->peers, e)) < 0 ||
	    !(sv.any_v = cks_any_verifier(&sv.any, e))) {
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	sv.peers = cr_verifier_policy(sv.peers_v, c->peers.name);
	if ((fds[0] = listen_tcp(c->listen, &ports[0], e)) < 0 || (fds[1] = listen_tcp(c->admin_listen, &ports[1], e)) < 0) {
		r = -EADDRNOTAVAIL;
		goto out;
	}
	char path[300], pubhex[65], ihex[65];
	snprintf(path, sizeof path, "%s/releases.log", c->store);
	sv.releases = fopen(path, "ae");
	cm_hex_encode(sv.pub, 32, pubhex, sizeof pubhex);
	cm_hex_encode(sv.image_hash, 32, ihex, sizeof ihex);
	slog("identity %s, image %s, keys on port %d, admin on port %d (attest %s)", pubhex, ihex, ports[0], ports[1],
	     c->attest);
	if (info_file) {
		FILE *f = fopen(info_file, "we");
		if (!f || fprintf(f, "{\"port\": %d, \"admin_port\": %d, \"identity\": \"%s\", \"image_hash\": \"%s\"}\n",
				  ports[0], ports[1], pubhex, ihex) < 0 || fclose(f)) {
			r = cm_fail(e, -EIO, "cannot write %s", info_file);
			goto out;
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop) {
		struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
		if (poll(p, 2, 1000) < 0)
			continue;
		if (time(NULL) - sv.ctx_made > CERT_RENEW && renew_cert(&sv, e) < 0)
			slog("%s (keeping the previous certificate)", e->msg);
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			int cfd = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
			if (cfd < 0)
				continue;
			if (i == 0)
				serve_key(&sv, cfd);
			else
				serve_admin(&sv, cfd);
		}
	}
	slog("stopping");
	r = 0;
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (sv.releases)
		fclose(sv.releases);
	SSL_CTX_free(sv.ctx);
	EVP_PKEY_free(sv.key);
	cr_verifier_free(sv.peers_v);
	cr_verifier_free(sv.any_v);
	if (sv.attest)
		ca_close(sv.attest);
	cks_store_close(&sv.store);
	return r;
}
