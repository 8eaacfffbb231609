/* The states of cocoon-ratls connections, one function per state, grouped by mode
 * (conn.h shows the sequences; cr_conn_step() in dispatch.c calls them):
 *   mode_reverse.c  TLS server side: PoW challenge, verify the client, connect the backend
 *   mode_forward.c  the upstream of forward and socks5: connect, answer the PoW, TLS client
 *   mode_socks5.c   the local SOCKS5 preamble, its reply after the upstream TLS handshake
 * The modes call the connection core (conn.h), the upstream steps they share (upstream.h) and
 * the relay (relay.h), never one another. */
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

#endif
