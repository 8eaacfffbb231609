/* The steps of cocoon-ratls connections shared by the modes (modes.h) on the upstream side:
 * waiting for its connect (forward and socks5 targets, reverse backends) and failing it,
 * with a SOCKS5 failure reply first on socks5 listeners. */
#ifndef COCOON_RATLS_UPSTREAM_H
#define COCOON_RATLS_UPSTREAM_H

#include "guest/ratls/conn.h"

/* Fail the upstream side: a SOCKS5 failure reply first on socks5 listeners, then close. */
void cr_upstream_fail(struct conn *c, const char *why);
/* The connect of the upstream side (fdu: the target, or a reverse listener's backend, named
 * what): 1 connected, 0 pending, -1 failed (cr_upstream_fail "<what> connect failed: ..."). */
int cr_upstream_connected(struct conn *c, const char *what);
/* Best effort: a SOCKS5 reply with code (enum cr_socks5_reply), then close. */
void cr_socks5_fail(struct conn *c, int code, const char *why);

#endif
