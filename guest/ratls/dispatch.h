/* The dispatcher of cocoon-ratls connections, above their states (conn.h shows the
 * sequences): a new connection enters the first state of its listener's mode (modes.h);
 * cr_conn_step() calls the current state's function (the modes' and the relay's), runs the
 * next one while the state changes, then registers the events the state waits for. The
 * loop (loop.c) calls it; nothing it calls calls it back. */
#ifndef COCOON_RATLS_DISPATCH_H
#define COCOON_RATLS_DISPATCH_H

#include "guest/ratls/conn.h"

/* A connection accepted on l from src (fd non-blocking): counted in the budgets, in the
 * first state of l's mode and run once. NULL when out of memory (fd closed); the
 * connection may come back already closed (on px->dead until cr_conn_reap). */
struct conn *cr_conn_open(struct cr_proxy *px, struct listener *l, int fd, const struct sockaddr_storage *src);
/* Drive c with the events epoll reported on one of its sides. */
void cr_conn_step(struct conn *c, uint32_t events, bool on_client);
/* Run c's current state without an event (a new connection, the PoW solver's turn). */
void cr_conn_advance(struct conn *c);

#endif
