/* The cocoon-ratls data path: one epoll loop, non-blocking sockets, bounded buffers.
 *
 *   reverse  LISTEN (TLS server, PoW challenge first) -> BACKEND plaintext
 *   forward  LISTEN plaintext -> TARGET (PoW answer, TLS client)
 *   socks5   LISTEN plaintext SOCKS5 CONNECT -> requested address (PoW answer, TLS client)
 *
 * Every listener names a policy of the verifier. Data moves through two buffers per
 * connection (one per direction); a side is read only while the buffer it fills has room
 * (backpressure), EOF is propagated as half-close (shutdown(SHUT_WR), after a TLS close_notify on
 * the TLS side; a TCP EOF without close_notify is an EOF too, as Cocoon sends none),
 * handshakes and idle connections time out. Connection budgets: all listeners together
 * (max_conns), each listener (its max_conns), the connections of a reverse listener still
 * in the PoW (max_pow_conns) and those from one source address (max_pow_conns_per_source;
 * IPv4 address or IPv6 /64); refusals are logged as one summary line per listener, reason
 * and second. SIGTERM/SIGINT stop accepting and let open connections finish for the grace
 * period. */
#ifndef COCOON_RATLS_PROXY_H
#define COCOON_RATLS_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include <openssl/ssl.h>

#include "measure/ratls/peer.h"

enum cr_mode { CR_MODE_REVERSE = 0, CR_MODE_FORWARD, CR_MODE_SOCKS5 };

/* Whether the AttestedPeerInfo frame goes to the plaintext side: a listener's own setting,
 * else the proxy's, else on for reverse listeners (Cocoon's routers always send it in front
 * of its runners, which require it) and off for forward/SOCKS5 ones
 * (cr_listener_serialize_info, peerinfo.h). */
enum cr_info { CR_INFO_DEFAULT = 0, CR_INFO_ON, CR_INFO_OFF };

struct cr_proxy_conf {
	int max_conns;          /* open connections (client side) at most, all listeners */
	int max_pow_conns;      /* per reverse listener: connections still in the PoW (0 = max_conns / 4) */
	int max_pow_conns_per_source; /* ... of them from one source address (0 = no limit) */
	int handshake_timeout;  /* seconds from accept to the first relayed byte path */
	int idle_timeout;       /* seconds without traffic in either direction */
	int shutdown_grace;     /* seconds open connections get after SIGTERM */
	size_t buf_size;        /* bytes per direction per connection */
	int pow_difficulty;     /* reverse: difficulty asked of clients (0..28) */
	int pow_max;            /* forward/socks5: highest difficulty solved (<= 28) */
	bool log_connections;   /* one line per connection open/close */
	enum cr_info serialize_info; /* Cocoon's AttestedPeerInfo frame to the plaintext side */
};

struct cr_listener_conf {
	enum cr_mode mode;
	char listen[256];       /* [HOST:]PORT */
	char target[256];       /* reverse: BACKEND, forward: TARGET; socks5: "" */
	char policy[64];
	int max_conns;          /* this listener's budget (0 = max_conns, 3/4 of it for reverse) */
	enum cr_info serialize_info; /* CR_INFO_DEFAULT: the proxy's */
};

struct cr_proxy;

/* Called once a second from the loop (certificate rotation, collateral reload). */
typedef void (*cr_tick_fn)(struct cr_proxy *px, void *arg);

struct cr_proxy *cr_proxy_new(const struct cr_proxy_conf *conf, struct cr_verifier *v, struct cm_err *e);
void cr_proxy_free(struct cr_proxy *px);
int cr_proxy_add_listener(struct cr_proxy *px, const struct cr_listener_conf *l, struct cm_err *e);
/* Install a certificate and key for new connections (open ones keep theirs). */
int cr_proxy_set_identity(struct cr_proxy *px, X509 *cert, EVP_PKEY *key, struct cm_err *e);
/* The bound port of listener i (for tests using port 0). */
int cr_proxy_listener_port(const struct cr_proxy *px, int i);
/* Run until SIGTERM/SIGINT (plus the grace period) or cr_proxy_stop(). */
int cr_proxy_run(struct cr_proxy *px, cr_tick_fn tick, void *arg, struct cm_err *e);
void cr_proxy_stop(struct cr_proxy *px);

#endif
