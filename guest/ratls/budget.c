/* Connection budgets (see budget.h). */
#include "guest/ratls/budget.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "guest/ratls/log.h"

static const char *const refusal_name[NREFUSALS] = {"total", "listener", "pow", "source"};

/* A /64 is one host's usual IPv6 allocation. */
bool cr_budget_same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family != AF_INET6)
		return false;
	const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
	const struct in6_addr *y = &((const struct sockaddr_in6 *)b)->sin6_addr;
	return !memcmp(x, y, IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y) ? 16 : 8);
}

int cr_budget_refusal(const struct cr_proxy *px, const struct listener *l, const struct sockaddr_storage *src)
{
	if (px->nconns >= px->conf.max_conns)
		return REF_TOTAL;
	if (l->nconns >= l->max_conns)
		return REF_LISTENER;
	if (l->conf.mode != CR_MODE_REVERSE)
		return -1;
	if (l->npow >= px->max_pow)
		return REF_POW;
	int n = 0, max = px->conf.max_pow_conns_per_source;
	for (const struct conn *c = l->pow_head; max > 0 && c; c = c->inpow.next)
		if (cr_budget_same_source(&c->src, src) && ++n >= max)
			return REF_SOURCE;
	return -1;
}

int cr_budget_limit(const struct cr_proxy *px, const struct listener *l, enum refusal r)
{
	return r == REF_TOTAL ? px->conf.max_conns : r == REF_LISTENER ? l->max_conns
		: r == REF_POW ? px->max_pow : px->conf.max_pow_conns_per_source;
}

void cr_budget_log_refusals(struct cr_proxy *px)
{
	for (int i = 0; i < px->nlisteners; i++) {
		struct listener *l = px->listeners[i];
		for (int r = 0; r < NREFUSALS; r++) {
			if (!l->refused[r])
				continue;
			cr_log("warn", "conn_limit", "listener=%s reason=%s limit=%d refused=%llu", l->name,
			       refusal_name[r], cr_budget_limit(px, l, r), (unsigned long long)l->refused[r]);
			l->refused[r] = 0;
		}
	}
}

void cr_budget_pow_enter(struct conn *c)
{
	struct listener *l = c->l;
	c->in_pow = true;
	cr_conn_list_push(&l->pow_head, c, offsetof(struct conn, inpow));
	l->npow++;
}

void cr_budget_pow_leave(struct conn *c)
{
	if (!c->in_pow)
		return;
	struct listener *l = c->l;
	cr_conn_list_unlink(&l->pow_head, c, offsetof(struct conn, inpow));
	c->in_pow = false;
	l->npow--;
}
