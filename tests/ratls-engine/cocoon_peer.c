/* ratls-cocoon-peer: a test peer that behaves like Cocoon's own router (TelegramMessenger/cocoon
 * tee/cocoon/router.cpp, pow.cpp, utils.cpp) where cocoon-ratls must interoperate with it, since
 * Cocoon's binaries cannot be fetched by CI (issue 17 §0).
 *
 *   ratls-cocoon-peer server --backend HOST:PORT [--pow N] [--fake-tdx] COMMON   (router -R)
 *   ratls-cocoon-peer client --target HOST:PORT [--fake-tdx] COMMON              (router -F)
 *   COMMON: --port-file F --stats F [--handover-ms MS] [--stall-ms MS] [--eof-wake-ms MS]
 *
 * server: listens on 127.0.0.1 (kernel-chosen port, written to --port-file), sends the PoW
 *   challenge, and reads the answer like Cocoon's PowVerifyServer: what one read returns is all
 *   that is handed over to TLS (PowVerifyServer::finish -> extract_fd); readiness that arrived
 *   during the hand-over is lost (edge-triggered epoll), so when the ClientHello was not in that
 *   read the peer waits for a NEW data segment after the hand-over (--handover-ms) and stalls
 *   (logs stall=1 after --stall-ms, closes) when none comes. TLS 1.3 server asking for a client
 *   certificate (accepting any), then the plaintext backend.
 * client: listens for plaintext clients, connects the target, answers its PoW and does the TLS
 *   client handshake, then relays.
 * Both: never send a TLS close_notify and ignore one they receive; a TCP EOF on either side
 *   closes both sockets (Cocoon's ProxyWorker ends on the first closed side). Data that
 *   arrives on the TLS side together with the TCP EOF is lost, as in Cocoon's TlsPipeWorker
 *   (utils.cpp: it reads both in one read, decrypts, and stops on the EOF before its
 *   ProxyWorker copies the data): after the TLS socket turns readable the peer waits
 *   --eof-wake-ms (default 5; Cocoon's wake-up) and, when the FIN is in by then, drops what
 *   it decrypts (end=data_lost_with_eof; seen at Cocoon's router, tests/interop/). Certificates are
 *   Cocoon-format Ed25519 ones without a quote, or with the 64-byte fake_tdx quote (--fake-tdx).
 *
 * One child process per connection; each appends a line to --stats after its handshake (or
 * when it failed) and one when its connection ends:
 *   hs role=server|client first_read=N data_segs=S stall=0|1 handshake=ok|fail
 *   end role=server|client notify_seen=0|1 end=WHY
 * first_read: bytes of the first read after the challenge (answer + ClientHello in one write:
 * > 12), data_segs: data segments received by then (tcpi_data_segs_in; one write: 1). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "measure/ratls/cert.h"
#include "measure/ratls/pow.h"
#include "tests/ratls-engine/sockio.h"

static bool g_server;
static struct sockaddr_in g_next;  /* backend (server) or target (client) */
static int g_pow = 10, g_handover_ms = 20, g_stall_ms = 3000, g_eof_wake_ms = 5;
static const char *g_stats;
static SSL_CTX *g_ctx;

struct result {
	int first_read, data_segs;
	bool stall, hs_ok, notify_seen;
	const char *end;
};

static void stats_line(const struct result *r, bool end)
{
	char line[256];
	int n = end ? snprintf(line, sizeof(line), "end role=%s notify_seen=%d end=%s\n", g_server ? "server" : "client",
			       r->notify_seen, r->end)
		    : snprintf(line, sizeof(line), "hs role=%s first_read=%d data_segs=%d stall=%d handshake=%s\n",
			       g_server ? "server" : "client", r->first_read, r->data_segs, r->stall,
			       r->hs_ok ? "ok" : "fail");
	int fd = open(g_stats, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

static int data_segs_in(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -1;
	return (int)ti.tcpi_data_segs_in;
}

/* The PoW step of Cocoon's server; 0 when the TLS step may start. */
static int pow_server(int fd, struct result *r)
{
	struct cm_err e = {0};
	struct cr_pow_challenge ch;
	uint8_t buf[4096];
	if (cr_pow_challenge_new(&ch, g_pow, &e))
		return -1;
	cr_pow_challenge_encode(&ch, buf);
	if (rt_send_all(fd, buf, CR_POW_CHALLENGE_LEN) || rt_wait_in(fd, 10000) <= 0)
		return -1;
	/* the one read: peeked, so the TLS library reads the ClientHello itself afterwards */
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK);
	r->data_segs = data_segs_in(fd);
	r->first_read = (int)n;
	if (n < CR_POW_RESPONSE_LEN || recv(fd, buf, CR_POW_RESPONSE_LEN, 0) != CR_POW_RESPONSE_LEN ||
	    cr_pow_check(&ch, buf, &e))
		return -1;
	if (n > CR_POW_RESPONSE_LEN)
		return 0; /* the ClientHello came with the answer: handed over in the buffer */
	/* hand-over: what arrives now is missed; only a new segment after it wakes TLS up */
	struct timespec ts = {0, (long)g_handover_ms * 1000000L};
	nanosleep(&ts, NULL);
	int before = data_segs_in(fd);
	for (int waited = 0; waited < g_stall_ms; waited += 10) {
		if (data_segs_in(fd) > before)
			return 0;
		struct timespec t10 = {0, 10 * 1000000L};
		nanosleep(&t10, NULL);
	}
	r->stall = true;
	return -1;
}

/* The client's PoW answer (Cocoon's PowSolveClient). */
static int pow_client(int fd)
{
	struct cm_err e = {0};
	uint8_t ch[CR_POW_CHALLENGE_LEN], resp[CR_POW_RESPONSE_LEN];
	struct cr_pow_challenge c;
	int64_t nonce;
	if (rt_recv_exact(fd, ch, sizeof(ch), 10000) || cr_pow_challenge_decode(ch, &c, &e) ||
	    cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e))
		return -1;
	cr_pow_response_encode(nonce, resp);
	return rt_send_all(fd, resp, sizeof(resp));
}

/* Cocoon's TlsPipeWorker on a readable TLS socket: wait for its wake-up; when the peer's FIN
 * is in by then, the data read with it is decrypted and lost. True when data was lost. */
static bool eof_with_data(SSL *ssl, int tfd, uint8_t *buf, size_t cap)
{
	if (SSL_has_pending(ssl))
		return false;
	struct timespec ts = {0, (long)g_eof_wake_ms * 1000000L};
	nanosleep(&ts, NULL);
	struct pollfd p = {.fd = tfd, .events = POLLRDHUP};
	if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLRDHUP | POLLHUP)))
		return false;
	bool lost = false;
	for (;;) {
		int n = SSL_read(ssl, buf, (int)cap);
		if (n <= 0)
			break;
		lost = true;
	}
	ERR_clear_error();
	return lost;
}

/* Relay between the TLS side and the plaintext side until either side's TCP EOF, then close
 * both without close_notify. */
static void relay(SSL *ssl, int tfd, int pfd, struct result *r)
{
	uint8_t buf[16384];
	for (;;) {
		struct pollfd p[2] = {{.fd = tfd, .events = POLLIN}, {.fd = pfd, .events = POLLIN}};
		if (!SSL_has_pending(ssl) && poll(p, 2, 60000) <= 0) {
			r->end = "timeout";
			return;
		}
		if (SSL_has_pending(ssl) || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (r->notify_seen) {
				/* past close_notify: only the TCP state matters */
				ssize_t n = recv(tfd, buf, sizeof(buf), 0);
				if (n <= 0) {
					r->end = "tls_side_eof";
					return;
				}
			} else {
				if (eof_with_data(ssl, tfd, buf, sizeof(buf))) {
					r->end = "data_lost_with_eof";
					return;
				}
				int n = SSL_read(ssl, buf, sizeof(buf));
				if (n > 0) {
					if (rt_send_all(pfd, buf, (size_t)n)) {
						r->end = "plain_side_write_error";
						return;
					}
				} else {
					int err = SSL_get_error(ssl, n);
					ERR_clear_error();
					if (err == SSL_ERROR_ZERO_RETURN)
						r->notify_seen = true; /* ignored */
					else if (err != SSL_ERROR_WANT_READ) {
						r->end = "tls_side_eof";
						return;
					}
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(pfd, buf, sizeof(buf), 0);
			if (n <= 0) {
				r->end = "plain_side_eof";
				return;
			}
			if (SSL_write(ssl, buf, (int)n) != (int)n) {
				ERR_clear_error();
				r->end = "tls_side_write_error";
				return;
			}
		}
	}
}

static void serve(int cfd)
{
	struct result r = {.end = "setup"};
	int one = 1, nfd = -1;
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL *ssl = NULL;
	int tfd = cfd;
	if (!g_server) {
		/* client: cfd is the local plaintext client; connect the target */
		nfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (nfd < 0 || connect(nfd, (struct sockaddr *)&g_next, sizeof(g_next)) || pow_client(nfd)) {
			r.end = "target_pow_failed";
			goto out;
		}
		setsockopt(nfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		tfd = nfd;
	} else if (pow_server(cfd, &r)) {
		r.end = r.stall ? "stall" : "pow_failed";
		goto out;
	}
	struct timeval tv = {10, 0};
	setsockopt(tfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(g_ctx);
	if (!ssl || SSL_set_fd(ssl, tfd) != 1 || (g_server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1) {
		ERR_clear_error();
		r.end = "handshake_failed";
		goto out;
	}
	r.hs_ok = true;
	stats_line(&r, false);
	tv.tv_sec = 0;
	setsockopt(tfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (g_server) {
		nfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (nfd < 0 || connect(nfd, (struct sockaddr *)&g_next, sizeof(g_next))) {
			r.end = "backend_connect_failed";
			goto out;
		}
	}
	relay(ssl, tfd, g_server ? nfd : cfd, &r);
out:
	if (!r.hs_ok)
		stats_line(&r, false);
	stats_line(&r, true);
	SSL_free(ssl); /* no SSL_shutdown: Cocoon sends no close_notify */
	close(cfd);
	if (nfd >= 0)
		close(nfd);
}

static int verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static int make_ctx(bool fake_tdx)
{
	struct cm_err e = {0};
	EVP_PKEY *k = cr_key_new(&e);
	uint8_t rd[CR_REPORT_DATA_LEN];
	X509 *x = NULL;
	if (!k || (fake_tdx && cr_report_data(k, rd, &e)) ||
	    cr_cert_build(k, fake_tdx ? rd : NULL, fake_tdx ? sizeof(rd) : 0, NULL, 0, time(NULL) - 60, &x, &e)) {
		fprintf(stderr, "certificate: %s\n", e.msg);
		return -1;
	}
	g_ctx = SSL_CTX_new(g_server ? TLS_server_method() : TLS_client_method());
	if (!g_ctx || SSL_CTX_set_min_proto_version(g_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(g_ctx, x) != 1 || SSL_CTX_use_PrivateKey(g_ctx, k) != 1)
		return -1;
	SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, verify_any);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"backend", required_argument, NULL, 'b'}, {"target", required_argument, NULL, 't'},
		{"pow", required_argument, NULL, 'p'}, {"port-file", required_argument, NULL, 'f'},
		{"stats", required_argument, NULL, 's'}, {"handover-ms", required_argument, NULL, 'h'},
		{"stall-ms", required_argument, NULL, 'w'}, {"fake-tdx", no_argument, NULL, 'x'},
		{"eof-wake-ms", required_argument, NULL, 'e'}, {0},
	};
	if (argc < 2 || (strcmp(argv[1], "server") && strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: ratls-cocoon-peer server|client ... (see the source)\n");
		return 2;
	}
	g_server = !strcmp(argv[1], "server");
	const char *next = NULL, *port_file = NULL;
	bool fake = false;
	int o;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': case 't': next = optarg; break;
		case 'p': g_pow = atoi(optarg); break;
		case 'f': port_file = optarg; break;
		case 's': g_stats = optarg; break;
		case 'h': g_handover_ms = atoi(optarg); break;
		case 'w': g_stall_ms = atoi(optarg); break;
		case 'x': fake = true; break;
		case 'e': g_eof_wake_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!next || !port_file || !g_stats || parse_addr(next, &g_next) || make_ctx(fake)) {
		fprintf(stderr, "ratls-cocoon-peer: bad arguments or setup\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* children are not waited for */
	signal(SIGPIPE, SIG_IGN);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al)) {
		perror("listen");
		return 1;
	}
	FILE *pf = fopen(port_file, "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf))
		return 1;
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("accept");
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(cfd);
			_exit(0);
		}
		close(cfd);
	}
}
