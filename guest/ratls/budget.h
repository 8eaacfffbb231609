/* Connection budgets of cocoon-ratls (proxy.h): all listeners together, each listener, the
 * connections of a reverse listener still in the PoW and those of one source address. */
#ifndef COCOON_RATLS_BUDGET_H
#define COCOON_RATLS_BUDGET_H

#include <stdbool.h>

#include "guest/ratls/conn.h"

/* The same source: the IPv4 address, the /64 of an IPv6 address, the whole address when
 * either is IPv4-mapped. */
bool cr_budget_same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The budget (enum refusal) a new connection from src on l would exceed, or -1 when it fits. */
int cr_budget_refusal(const struct cr_proxy *px, const struct listener *l, const struct sockaddr_storage *src);
/* The limit of budget r (for the log). */
int cr_budget_limit(const struct cr_proxy *px, const struct listener *l, enum refusal r);
/* One summary line per listener and reason since the last call (once a second). */
void cr_budget_log_refusals(struct cr_proxy *px);
/* A reverse connection enters / leaves the PoW (l->npow, l->pow_head); leave is idempotent. */
void cr_budget_pow_enter(struct conn *c);
void cr_budget_pow_leave(struct conn *c);

#endif
