/* Inside the cocoon-ratls data path (proxy.h is the outside): the proxy, its listeners and
 * connections, and the connection core (conn.c): close and free, the events each state
 * waits for, preamble I/O, connect and handshake helpers; it calls no state function.
 * Each unit of the data path calls only the ones below it (tests/unit/check_cycles.sh):
 *   loop.c                  the epoll loop (proxy.c: setup and teardown)
 *   dispatch.c              open, step, advance: the table of the state functions
 *   mode_*.c                the state functions, grouped by mode (modes.h)
 *   upstream.c, relay.c     the upstream steps the modes share; the relay
 *   conn.c                  the connection core
 *   budget.c, conn_list.c   the connection budgets; the lists of connections
 *
 * A connection is a state machine driven by epoll events: cr_conn_step() (dispatch.h) calls
 * one function per state, runs the next state while they change and then registers the
 * events the state waits for. The states are grouped by the side they serve:
 *   reverse   ST_R_POW_SEND -> ST_R_POW_RECV -> ST_R_TLS -> ST_R_CONNECT -> ST_RELAY
 *   socks5    ST_S_GREET -> ST_S_GREET_REPLY -> ST_S_REQUEST -> upstream -> ST_S_REPLY -> ST_RELAY
 *   forward   upstream -> ST_RELAY
 *   upstream  ST_F_CONNECT -> ST_F_POW_RECV -> ST_F_POW_SOLVE -> ST_F_POW_SEND -> ST_F_TLS
 *             (ST_F_POW_SEND writes the PoW answer and the ClientHello together) */
#ifndef COCOON_RATLS_CONN_H
#define COCOON_RATLS_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "guest/ratls/conn_list.h"
#include "guest/ratls/proxy.h"
#include "guest/ratls/tls.h"
#include "measure/ratls/pow.h"

#define MAX_LISTENERS 64
#define POW_STEP 20000 /* nonces per loop turn while solving (~6 ms) */

enum ep_kind { EP_LISTENER = 1, EP_SIGNAL, EP_CONN_C, EP_CONN_U };

/* Why accept() refused a connection (the budget that was full). */
enum refusal { REF_TOTAL, REF_LISTENER, REF_POW, REF_SOURCE, NREFUSALS };

struct ep {
	enum ep_kind kind;
	void *ptr;
};

struct listener {
	struct ep ep;
	struct cr_listener_conf conf;
	const struct cr_policy *policy;
	struct sockaddr_storage target;
	socklen_t target_len;
	int fd;
	int port;
	bool paused;
	char name[300];
	int max_conns, nconns;           /* this listener's budget and use */
	int npow;                        /* reverse: connections still in the PoW */
	struct conn *pow_head;           /* ... linked through conn.inpow */
	uint64_t refused[NREFUSALS];     /* refusals not logged yet */
};

enum state {
	/* reverse */
	ST_R_POW_SEND, ST_R_POW_RECV, ST_R_TLS, ST_R_CONNECT,
	/* socks5 preamble */
	ST_S_GREET, ST_S_GREET_REPLY, ST_S_REQUEST,
	/* forward / socks5 upstream */
	ST_F_CONNECT, ST_F_POW_RECV, ST_F_POW_SOLVE, ST_F_POW_SEND, ST_F_TLS, ST_S_REPLY,
	ST_RELAY,
	NSTATES
};

struct buf {
	uint8_t *p;
	size_t off, len;
};

struct conn {
	struct ep epc, epu;
	struct cr_proxy *px;
	struct listener *l;
	uint64_t id;
	enum state st;
	uint32_t events;        /* what epoll reported in this turn (0: none, or used up) ... */
	bool on_client;         /* ... for the client side's fd (else the upstream's) */
	int fdc, fdu;           /* client side (accepted), upstream side (connected) */
	bool regc, regu;        /* registered in epoll */
	uint32_t evc, evu;      /* registered interest */
	SSL *ssl;               /* on fdc (reverse) or fdu (forward/socks5) */
	bool tls_on_c;
	int hs_want;            /* SSL_ERROR_WANT_READ/WRITE during the handshake */
	struct cr_tls_peer tp;
	uint8_t pre[300];       /* preamble bytes (PoW, SOCKS5) */
	size_t pre_len, pre_off;
	uint8_t *flight;        /* upstream: PoW answer + ClientHello, sent in one write */
	size_t flight_len, flight_off;
	struct cr_pow_challenge ch;
	int64_t pow_next;
	struct sockaddr_storage dst;  /* SOCKS5 target */
	socklen_t dst_len;
	struct sockaddr_storage src;  /* the accepted client's address */
	struct buf c2u, u2c;
	bool c_eof, u_eof, c_shut, u_shut;
	int64_t tls_wr_ms;      /* CLOCK_MONOTONIC ms of the last data written to the TLS side */
	int64_t tls_shut_ms;    /* >0: the TLS side's half-close is due then (cr_relay_due) */
	time_t started, last_io;
	uint64_t bytes_c2u, bytes_u2c;
	bool dead;
	char peer[64];
	struct conn_link all;         /* px->conns (after close: px->dead, through all.next) */
	bool in_pow;                  /* counted in l->npow */
	struct conn_link inpow;       /* l->pow_head list */
};

struct cr_proxy {
	struct cr_proxy_conf conf;
	struct cr_verifier *verifier;
	SSL_CTX *srv_ctx, *cli_ctx;
	int epfd, sigfd;
	struct ep sig_ep;
	int nlisteners;
	struct listener *listeners[MAX_LISTENERS];
	struct conn *conns;    /* all open connections */
	struct conn *dead;     /* closed during this loop turn, freed after it */
	int nconns;
	int max_pow;           /* conf.max_pow_conns resolved */
	uint64_t next_id;
	bool stopping, stop_now;
	time_t stop_deadline;
	sigset_t oldmask;
};

/* What a state function tells the dispatcher. */
enum step {
	STEP_CONTINUE, /* run the new state if it changed, else wait for the state's events */
	STEP_STOP,     /* nothing more in this turn: closed, relaying, or solving the PoW */
};

/* One state; c->events and c->on_client hold the event being handled. */
typedef enum step (*cr_state_fn)(struct conn *c);

/* Register the events c's state waits for (closes c when epoll_ctl fails). */
void cr_conn_update_interest(struct conn *c);
/* Close both sides, log, move c to the proxy's dead list (freed by cr_conn_free). */
void cr_conn_close(struct conn *c, const char *why);
void cr_conn_free(struct conn *c);
/* Free the connections closed during this loop turn. */
void cr_conn_reap(struct cr_proxy *px);

/* Non-blocking connect of fdu to dst; connect_done: 0 connected or -errno. */
int cr_conn_start_connect(struct conn *c, const struct sockaddr_storage *dst, socklen_t len);
int cr_conn_connect_done(struct conn *c);
/* The connect of fdu after c->events: 0 still connecting, 1 connected (c->events cleared:
 * the next state starts without them), -errno failed. */
int cr_conn_connect_wait(struct conn *c);
/* Preamble I/O through pre[]: read up to want bytes / write pre[pre_off..pre_len).
 * 1 complete, 0 pending, <0 error or EOF. */
int cr_conn_pre_read(int fd, struct conn *c, size_t want);
int cr_conn_pre_write(int fd, struct conn *c);
/* Send p[*off..len) on fd: 1 all sent, 0 pending, -EPIPE the peer is gone. */
int cr_conn_send_rest(int fd, const uint8_t *p, size_t *off, size_t len);
/* Write pre[] to the client side, then enter next; closes c with why when the client is gone. */
enum step cr_conn_pre_flush(struct conn *c, enum state next, const char *why);
/* Load n bytes into pre[] to be written. */
void cr_conn_pre_set(struct conn *c, const uint8_t *p, size_t n);
/* The TLS object of c: the server on the client side (reverse) or the client on the
 * upstream side (forward, socks5), with the current contexts. 0 or -EIO. */
int cr_conn_tls_new(struct conn *c, bool server);
/* Drive c->ssl's handshake: 1 done and the peer verified, 0 pending, <0 failed (closed). */
int cr_conn_handshake(struct conn *c);
void cr_conn_log_peer(struct conn *c);

#endif
