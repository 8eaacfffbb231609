/* The states of cocoon-ratls connections, one function per state, grouped by mode
 * (conn.h shows the sequences; cr_conn_step() dispatches):
 *   mode_reverse.c  TLS server side: PoW challenge, verify the client, connect the backend
 *   mode_forward.c  the upstream of forward and socks5: connect, answer the PoW, TLS client
 *   mode_socks5.c   the local SOCKS5 preamble, its reply after the upstream TLS handshake */
#ifndef COCOON_RATLS_MODES_H
#define COCOON_RATLS_MODES_H

#include "guest/ratls/conn.h"

/* A new connection of each mode enters its first state (or is closed). */
void cr_reverse_start(struct conn *c);
void cr_forward_start(struct conn *c);
void cr_socks5_start(struct conn *c);

enum step cr_st_r_pow_send(struct conn *c);
enum step cr_st_r_pow_recv(struct conn *c);
enum step cr_st_r_tls(struct conn *c);
enum step cr_st_r_connect(struct conn *c);

enum step cr_st_f_connect(struct conn *c);
enum step cr_st_f_pow_recv(struct conn *c);
enum step cr_st_f_pow_solve(struct conn *c);
enum step cr_st_f_pow_send(struct conn *c);
enum step cr_st_f_tls(struct conn *c);

enum step cr_st_s_greet(struct conn *c);
enum step cr_st_s_greet_reply(struct conn *c);
enum step cr_st_s_request(struct conn *c);
/* ST_F_TLS of a socks5 listener: the upstream handshake, then the success reply. */
enum step cr_st_s_tls(struct conn *c);
enum step cr_st_s_reply(struct conn *c);

/* Fail the upstream side: a SOCKS5 failure reply first on socks5 listeners, then close. */
void cr_upstream_fail(struct conn *c, const char *why);
/* The connect of the upstream side (fdu: the target, or a reverse listener's backend, named
 * what): 1 connected, 0 pending, -1 failed (cr_upstream_fail "<what> connect failed: ..."). */
int cr_upstream_connected(struct conn *c, const char *what);
/* Best effort: a SOCKS5 reply with code (enum cr_socks5_reply), then close. */
void cr_socks5_fail(struct conn *c, int code, const char *why);

#endif
