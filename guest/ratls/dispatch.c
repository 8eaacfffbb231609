/* The dispatcher of cocoon-ratls connections (see dispatch.h): a new connection enters its
 * mode's first state, and each turn runs the state functions of the modes and the relay. */
#include "guest/ratls/dispatch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/ratls/log.h"
#include "guest/ratls/modes.h"
#include "guest/ratls/relay.h"

/* ---- open ----------------------------------------------------------------------------------- */

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%d", h, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%d", h, port);
	} else {
		snprintf(out, n, "?");
	}
}

/* The first state of a new connection, per mode. */
static void (*const mode_start[])(struct conn *c) = {
	[CR_MODE_REVERSE] = cr_reverse_start,
	[CR_MODE_FORWARD] = cr_forward_start,
	[CR_MODE_SOCKS5] = cr_socks5_start,
};

struct conn *cr_conn_open(struct cr_proxy *px, struct listener *l, int fd, const struct sockaddr_storage *src)
{
	char peer[64];
	addr_str(src, peer, sizeof(peer));
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->px = px;
	c->l = l;
	c->id = ++px->next_id;
	c->fdc = fd;
	c->fdu = -1;
	memcpy(&c->src, src, sizeof(*src));
	c->epc = (struct ep){EP_CONN_C, c};
	c->epu = (struct ep){EP_CONN_U, c};
	c->tp.verifier = px->verifier;
	c->tp.policy = l->policy;
	c->started = c->last_io = time(NULL);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	cr_conn_list_push(&px->conns, c, offsetof(struct conn, all));
	px->nconns++;
	l->nconns++;
	if (px->conf.log_connections)
		cr_log("info", "conn_open", "conn=%llu listener=%s peer=%s", (unsigned long long)c->id, l->name, peer);
	mode_start[l->conf.mode](c);
	cr_conn_advance(c);
	return c;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static enum step st_relay(struct conn *c)
{
	cr_relay(c, c->events, c->on_client);
	return STEP_STOP;
}

static enum step st_f_tls(struct conn *c)
{
	return (c->l->conf.mode == CR_MODE_SOCKS5 ? cr_st_s_tls : cr_st_f_tls)(c);
}

static const cr_state_fn states[NSTATES] = {
	[ST_R_POW_SEND] = cr_st_r_pow_send,
	[ST_R_POW_RECV] = cr_st_r_pow_recv,
	[ST_R_TLS] = cr_st_r_tls,
	[ST_R_CONNECT] = cr_st_r_connect,
	[ST_S_GREET] = cr_st_s_greet,
	[ST_S_GREET_REPLY] = cr_st_s_greet_reply,
	[ST_S_REQUEST] = cr_st_s_request,
	[ST_F_CONNECT] = cr_st_f_connect,
	[ST_F_POW_RECV] = cr_st_f_pow_recv,
	[ST_F_POW_SOLVE] = cr_st_f_pow_solve,
	[ST_F_POW_SEND] = cr_st_f_pow_send,
	[ST_F_TLS] = st_f_tls,
	[ST_S_REPLY] = cr_st_s_reply,
	[ST_RELAY] = st_relay,
};

void cr_conn_step(struct conn *c, uint32_t events, bool on_client)
{
	c->events = events;
	c->on_client = on_client;
	while (!c->dead) {
		enum state before = c->st;
		if (states[c->st](c) == STEP_STOP || c->dead)
			return;
		if (c->st == before) {
			cr_conn_update_interest(c);
			return;
		}
	}
}

void cr_conn_advance(struct conn *c)
{
	cr_conn_step(c, 0, false);
}
