/* ratls-load: concurrent streaming-completion client for tests and benchmarks.
 *
 *   ratls-load --connect HOST:PORT [--conns C] [--requests R] [--tokens N]
 *              [--mode plain|tls|ratls] [--idle-check SECONDS] [--json]
 *              [--cert DIR] [--root PEM --collateral FILE] [--handshakes N] [--half-close]
 *
 * C threads each open one connection (plain TCP; `tls`: TLS 1.3 without verification, for
 * nginx; `ratls`: Cocoon's PoW preamble then TLS 1.3 with a self-signed Ed25519 client
 * certificate, like Cocoon's client runner) and send R keep-alive requests, reading each
 * Server-Sent-Events response to the end and checking it carries N token events and
 * [DONE]. Prints requests, errors, seconds, requests/s, MB/s, latency p50/p99 (ms).
 * --idle-check: open C connections, send nothing, and report how many the server closed
 * within SECONDS. Exit status 1 if any request failed.
 * ratls mode: --cert DIR presents DIR/cert.pem (an attested certificate from gen-cert)
 * instead of an ephemeral one; --root/--collateral verify the server exactly as
 * cocoon-ratls does (guest/ratls/tls.h, a `tdx` policy with that root); --handshakes N
 * makes each thread do N connect + PoW + handshake + close cycles (no requests) and
 * report handshakes per second. --half-close (plain mode): shut the write side down after
 * the last request and require the full response and then EOF (half-close propagation). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "guest/ratls/tls.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/peer.h"
#include "measure/ratls/pow.h"
#include "tests/ratls-engine/sockio.h"

enum mode { M_PLAIN, M_TLS, M_RATLS };

static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static int g_conns = 10, g_requests = 10, g_tokens = 16;
static enum mode g_mode = M_PLAIN;
static SSL_CTX *g_ctx;
static int g_handshakes;
static bool g_half_close; /* plain mode: shutdown(SHUT_WR) after the last request */
static struct cr_policy_conf g_verify; /* type tdx when --root given */
static bool g_verify_on;

struct result {
	int ok, errors;
	uint64_t bytes;
	double *lat; /* ms per request */
	int nlat;
	char err[1024];
};

struct io {
	int fd;
	SSL *ssl;
	struct cr_verifier *v;  /* per thread, when verifying the server */
	struct cr_tls_peer st;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static ssize_t io_read(struct io *io, char *p, size_t n)
{
	if (io->ssl) {
		int r = SSL_read(io->ssl, p, (int)n);
		return r > 0 ? r : (SSL_get_error(io->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
	}
	for (;;) {
		ssize_t r = recv(io->fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

static int io_write(struct io *io, const char *p, size_t n)
{
	if (!io->ssl)
		return rt_send_all(io->fd, p, n);
	while (n) { /* partial writes are enabled on cocoon-ratls contexts */
		int w = SSL_write(io->ssl, p, (int)n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int open_conn(struct io *io, char *err, size_t errn)
{
	io->ssl = NULL;
	io->fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int attempt = 0;; attempt++) {
		if (!connect(io->fd, (struct sockaddr *)&g_addr, g_addrlen))
			break;
		if ((errno != EAGAIN && errno != ECONNREFUSED) || attempt > 50) {
			snprintf(err, errn, "connect: %s", strerror(errno));
			return -1;
		}
		usleep(20000);
	}
	if (g_mode == M_RATLS) {
		uint8_t ch[CR_POW_CHALLENGE_LEN], resp[CR_POW_RESPONSE_LEN];
		struct cr_pow_challenge c;
		struct cm_err e = {0};
		int64_t nonce;
		if (rt_recv_exact(io->fd, ch, sizeof(ch), -1) || cr_pow_challenge_decode(ch, &c, &e) ||
		    cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e)) {
			snprintf(err, errn, "PoW: %s", e.msg[0] ? e.msg : "no challenge");
			return -1;
		}
		cr_pow_response_encode(nonce, resp);
		if (send(io->fd, resp, sizeof(resp), MSG_NOSIGNAL) != (ssize_t)sizeof(resp)) {
			snprintf(err, errn, "PoW send failed");
			return -1;
		}
	}
	if (g_mode != M_PLAIN) {
		if (g_verify_on) {
			struct cm_err e = {0};
			io->st.verifier = io->v;
			io->st.policy = cr_verifier_policy(io->v, "server");
			io->ssl = cr_tls_new(g_ctx, io->fd, false, &io->st, &e);
		} else {
			io->ssl = SSL_new(g_ctx);
			SSL_set_fd(io->ssl, io->fd);
		}
		if (!io->ssl || SSL_connect(io->ssl) != 1) {
			unsigned long x = ERR_get_error();
			snprintf(err, errn, "TLS handshake: %s %s", x ? ERR_reason_error_string(x) : "closed",
				 io->st.error);
			ERR_clear_error();
			return -1;
		}
		struct cm_err e = {0};
		if (g_verify_on && cr_tls_check_verified(io->ssl, &e)) {
			snprintf(err, errn, "server not verified: %s", e.msg);
			return -1;
		}
	}
	return 0;
}

static void close_conn(struct io *io)
{
	if (io->ssl) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	if (io->fd >= 0)
		close(io->fd);
	io->fd = -1;
	io->ssl = NULL;
}

/* Buffered reader over an io. */
struct rd {
	struct io *io;
	char *buf;
	size_t cap, off, len;
	long total;
};

static int rd_fill(struct rd *r)
{
	if (r->off == r->len)
		r->off = r->len = 0;
	if (r->len == r->cap) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	ssize_t n = io_read(r->io, r->buf + r->len, r->cap - r->len);
	if (n <= 0)
		return -1;
	r->len += (size_t)n;
	r->total += n;
	return 0;
}

/* A CRLF-terminated line (without CRLF) into out. */
static int rd_line(struct rd *r, char *out, size_t n)
{
	for (;;) {
		char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		if (nl) {
			size_t l = (size_t)(nl - (r->buf + r->off));
			if (l && nl[-1] == '\r')
				l--;
			if (l >= n)
				return -1;
			memcpy(out, r->buf + r->off, l);
			out[l] = 0;
			r->off = (size_t)(nl + 1 - r->buf);
			return 0;
		}
		if (rd_fill(r))
			return -1;
	}
}

/* Server-Sent-Events counter over the de-chunked body. */
struct sse {
	char pre[16];
	size_t n;
	int events, done;
};

static void sse_feed(struct sse *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (s->n >= 12 && !memcmp(s->pre, "data: [DONE]", 12))
				s->done = 1;
			else if (s->n >= 6 && !memcmp(s->pre, "data: ", 6))
				s->events++;
			s->n = 0;
		} else if (s->n < sizeof(s->pre)) {
			s->pre[s->n++] = p[i];
		}
	}
}

/* One request/response; returns the bytes received or -1. */
static long do_request(struct io *io, char *buf, size_t cap, bool last, char *err, size_t errn)
{
	char req[256], body[64], line[512];
	int bl = snprintf(body, sizeof(body), "{\"max_tokens\":%d}", g_tokens);
	int rl = snprintf(req, sizeof(req),
			  "POST /v1/chat/completions HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\n"
			  "Content-Length: %d\r\n\r\n%s",
			  bl, body);
	if (io_write(io, req, (size_t)rl)) {
		snprintf(err, errn, "write failed");
		return -1;
	}
	if (last && g_half_close && !io->ssl)
		shutdown(io->fd, SHUT_WR);
	static __thread struct rd r;
	if (r.buf != buf) /* one reader per thread and connection buffer */
		r = (struct rd){.io = io, .buf = buf, .cap = cap};
	r.io = io;
	r.total = 0;
	long before = (long)(r.len - r.off);
	bool chunked = false;
	if (rd_line(&r, line, sizeof(line)) || strncmp(line, "HTTP/1.1 200", 12)) {
		snprintf(err, errn, "bad status line '%.80s'", line);
		return -1;
	}
	for (;;) {
		if (rd_line(&r, line, sizeof(line))) {
			snprintf(err, errn, "bad headers");
			return -1;
		}
		if (!line[0])
			break;
		if (!strncasecmp(line, "transfer-encoding:", 18) && strcasestr(line, "chunked"))
			chunked = true;
	}
	if (!chunked) {
		snprintf(err, errn, "response not chunked");
		return -1;
	}
	struct sse ev = {0};
	for (;;) {
		if (rd_line(&r, line, sizeof(line))) {
			snprintf(err, errn, "connection closed mid-response");
			return -1;
		}
		unsigned long sz = strtoul(line, NULL, 16);
		if (sz == 0) {
			if (rd_line(&r, line, sizeof(line)))
				return -1;
			break;
		}
		while (sz) {
			if (r.off == r.len && rd_fill(&r)) {
				snprintf(err, errn, "connection closed mid-chunk");
				return -1;
			}
			size_t take = r.len - r.off < sz ? r.len - r.off : sz;
			sse_feed(&ev, r.buf + r.off, take);
			r.off += take;
			sz -= take;
		}
		if (rd_line(&r, line, sizeof(line)) || line[0]) {
			snprintf(err, errn, "bad chunk trailer");
			return -1;
		}
	}
	if (ev.events != g_tokens || !ev.done) {
		snprintf(err, errn, "got %d token events%s, want %d", ev.events, ev.done ? "" : " and no [DONE]", g_tokens);
		return -1;
	}
	if (last && g_half_close && (r.off != r.len || io_read(io, line, 1) != 0)) {
		snprintf(err, errn, "no EOF after the response to a half-closed request");
		return -1;
	}
	return r.total + before - (long)(r.len - r.off);
}

static void *worker(void *arg)
{
	struct result *res = arg;
	struct io io = {.fd = -1};
	if (g_verify_on) {
		struct cm_err e = {0};
		io.v = cr_verifier_new(16, 3600, &e);
		if (!io.v || cr_verifier_add_policy(io.v, &g_verify, &e)) {
			snprintf(res->err, sizeof(res->err), "verifier: %s", e.msg);
			res->errors = 1;
			return NULL;
		}
	}
	if (g_handshakes) {
		for (int i = 0; i < g_handshakes; i++) {
			if (open_conn(&io, res->err, sizeof(res->err))) {
				res->errors++;
				close_conn(&io);
				break;
			}
			close_conn(&io);
			res->ok++;
		}
		cr_verifier_free(io.v);
		return NULL;
	}
	char *buf = malloc(1 << 16);
	res->lat = calloc((size_t)g_requests, sizeof(double));
	if (!buf || !res->lat || open_conn(&io, res->err, sizeof(res->err))) {
		res->errors = g_requests;
		close_conn(&io);
		free(buf);
		return NULL;
	}
	for (int i = 0; i < g_requests; i++) {
		double t0 = now_s();
		long n = do_request(&io, buf, 1 << 16, i == g_requests - 1, res->err, sizeof(res->err));
		if (n < 0) {
			res->errors += g_requests - i;
			break;
		}
		res->lat[res->nlat++] = (now_s() - t0) * 1e3;
		res->bytes += (uint64_t)n;
		res->ok++;
	}
	close_conn(&io);
	free(buf);
	cr_verifier_free(io.v);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int idle_check(int seconds, int json)
{
	int *fds = calloc((size_t)g_conns, sizeof(int));
	double t0 = now_s(), last = 0;
	int closed = 0;
	for (int i = 0; i < g_conns; i++) {
		fds[i] = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fds[i], (struct sockaddr *)&g_addr, g_addrlen)) {
			perror("connect");
			return 1;
		}
	}
	struct pollfd *p = calloc((size_t)g_conns, sizeof(*p));
	for (int i = 0; i < g_conns; i++)
		p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	while (closed < g_conns && now_s() - t0 < seconds) {
		if (poll(p, (nfds_t)g_conns, 200) <= 0)
			continue;
		for (int i = 0; i < g_conns; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char b[256];
			ssize_t r = recv(p[i].fd, b, sizeof(b), 0);
			if (r <= 0) { /* closed by the server (data such as a PoW challenge is drained) */
				close(p[i].fd);
				p[i].fd = -1;
				closed++;
				last = now_s() - t0;
			}
		}
	}
	if (json)
		printf("{\"connections\":%d,\"closed_by_server\":%d,\"last_close_s\":%.2f}\n", g_conns, closed, last);
	else
		printf("connections: %d\nclosed_by_server: %d\nlast_close_s: %.2f\n", g_conns, closed, last);
	for (int i = 0; i < g_conns; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	free(fds);
	return closed == g_conns ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"connect", required_argument, NULL, 'c'}, {"conns", required_argument, NULL, 'n'},
		{"requests", required_argument, NULL, 'r'}, {"tokens", required_argument, NULL, 't'},
		{"mode", required_argument, NULL, 'm'}, {"idle-check", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
		{"cert", required_argument, NULL, 'C'}, {"root", required_argument, NULL, 'R'},
		{"collateral", required_argument, NULL, 'L'}, {"handshakes", required_argument, NULL, 'H'},
		{"half-close", no_argument, NULL, 'Q'}, {0},
	};
	const char *target = NULL, *cert_dir = NULL;
	g_verify.type = CR_POLICY_TDX;
	snprintf(g_verify.name, sizeof(g_verify.name), "server");
	int json = 0, idle = 0, o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': target = optarg; break;
		case 'n': g_conns = atoi(optarg); break;
		case 'r': g_requests = atoi(optarg); break;
		case 't': g_tokens = atoi(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'j': json = 1; break;
		case 'C': cert_dir = optarg; break;
		case 'R': snprintf(g_verify.root, sizeof(g_verify.root), "%s", optarg); g_verify_on = true; break;
		case 'L': snprintf(g_verify.collateral, sizeof(g_verify.collateral), "%s", optarg); break;
		case 'H': g_handshakes = atoi(optarg); break;
		case 'Q': g_half_close = true; break;
		case 'm':
			g_mode = !strcmp(optarg, "tls") ? M_TLS : !strcmp(optarg, "ratls") ? M_RATLS : M_PLAIN;
			break;
		case 'h':
			printf("usage: ratls-load --connect HOST:PORT [--conns C] [--requests R] [--tokens N] "
			       "[--mode plain|tls|ratls] [--idle-check S] [--json]\n");
			return 0;
		default: return 2;
		}
	}
	if (!target || g_conns < 1 || g_requests < 1 || g_tokens < 0) {
		fprintf(stderr, "error: --connect HOST:PORT required (see --help)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	char host[256];
	const char *colon = strrchr(target, ':');
	if (!colon) {
		fprintf(stderr, "error: bad address %s\n", target);
		return 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - target), target);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, colon + 1, &hints, &ai)) {
		fprintf(stderr, "error: cannot resolve %s\n", target);
		return 2;
	}
	memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
	g_addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (idle)
		return idle_check(idle, json);
	if (g_verify_on && g_mode == M_RATLS) {
		struct cm_err e = {0};
		EVP_PKEY *k = NULL;
		X509 *x = NULL;
		if (cert_dir ? cr_cert_load(cert_dir, &k, &x, &e)
			     : (!(k = cr_key_new(&e)) || cr_cert_build(k, NULL, 0, NULL, 0, time(NULL) - 60, &x, &e))) {
			fprintf(stderr, "error: client certificate (%s)\n", e.msg);
			return 1;
		}
		g_ctx = cr_tls_ctx_new(false, x, k, &e);
		X509_free(x);
		EVP_PKEY_free(k);
		if (!g_ctx) {
			fprintf(stderr, "error: TLS context (%s)\n", e.msg);
			return 1;
		}
	} else if (g_mode != M_PLAIN) {
		g_ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_min_proto_version(g_ctx, TLS1_3_VERSION);
		SSL_CTX_set_ciphersuites(g_ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
		SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
		if (g_mode == M_RATLS) {
			/* an unattested Cocoon-style client certificate */
			struct cm_err e = {0};
			EVP_PKEY *k = cr_key_new(&e);
			X509 *x = NULL;
			if (cert_dir) {
				EVP_PKEY_free(k);
				k = NULL;
				if (cr_cert_load(cert_dir, &k, &x, &e)) {
					fprintf(stderr, "error: %s\n", e.msg);
					return 1;
				}
			}
			if (!k || (!x && cr_cert_build(k, NULL, 0, NULL, 0, time(NULL) - CR_CERT_BACKDATE, &x, &e)) ||
			    SSL_CTX_use_certificate(g_ctx, x) != 1 || SSL_CTX_use_PrivateKey(g_ctx, k) != 1) {
				fprintf(stderr, "error: client certificate (%s)\n", e.msg);
				return 1;
			}
			X509_free(x);
			EVP_PKEY_free(k);
		}
	}
	pthread_t *th = calloc((size_t)g_conns, sizeof(*th));
	struct result *res = calloc((size_t)g_conns, sizeof(*res));
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	double t0 = now_s();
	for (int i = 0; i < g_conns; i++)
		if (pthread_create(&th[i], &attr, worker, &res[i])) {
			fprintf(stderr, "error: pthread_create\n");
			return 1;
		}
	for (int i = 0; i < g_conns; i++)
		pthread_join(th[i], NULL);
	double secs = now_s() - t0;
	int ok = 0, errors = 0, nl = 0;
	uint64_t bytes = 0;
	const char *first_err = NULL;
	for (int i = 0; i < g_conns; i++) {
		ok += res[i].ok;
		errors += res[i].errors;
		bytes += res[i].bytes;
		nl += res[i].nlat;
		if (res[i].errors && !first_err)
			first_err = res[i].err;
	}
	double *lat = calloc((size_t)nl + 1, sizeof(double));
	for (int i = 0, k = 0; i < g_conns; i++)
		for (int j = 0; j < res[i].nlat; j++)
			lat[k++] = res[i].lat[j];
	qsort(lat, (size_t)nl, sizeof(double), cmp_d);
	double p50 = nl ? lat[nl / 2] : 0, p99 = nl ? lat[(size_t)((nl - 1) * 0.99)] : 0;
	json_object *j = json_object_new_object();
	if (g_handshakes)
		json_object_object_add(j, "handshakes_per_s", json_object_new_double(ok / secs));
	json_object_object_add(j, "requests", json_object_new_int(ok));
	json_object_object_add(j, "errors", json_object_new_int(errors));
	json_object_object_add(j, "seconds", json_object_new_double(secs));
	json_object_object_add(j, "requests_per_s", json_object_new_double(ok / secs));
	json_object_object_add(j, "mb_per_s", json_object_new_double((double)bytes / secs / 1e6));
	json_object_object_add(j, "bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(j, "p50_ms", json_object_new_double(p50));
	json_object_object_add(j, "p99_ms", json_object_new_double(p99));
	if (first_err)
		json_object_object_add(j, "first_error", json_object_new_string(first_err));
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	} else {
		json_object_object_foreach(j, k, v) printf("%s: %s\n", k, json_object_get_string(v));
	}
	json_object_put(j);
	return errors ? 1 : 0;
}
