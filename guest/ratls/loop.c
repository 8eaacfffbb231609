/* The cocoon-ratls event loop (see proxy.h): accept within the budgets, dispatch epoll
 * events to the connections, the PoW solver's turns, timeouts, once-a-second work and the
 * graceful stop. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guest/ratls/budget.h"
#include "guest/ratls/dispatch.h"
#include "guest/ratls/log.h"
#include "guest/ratls/relay.h"

static void accept_conns(struct cr_proxy *px, struct listener *l)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				cr_log("error", "accept_paused", "listener=%s error=\"%s\"", l->name, strerror(errno));
				struct epoll_event ev = {.events = 0, .data.ptr = &l->ep};
				epoll_ctl(px->epfd, EPOLL_CTL_MOD, l->fd, &ev);
				l->paused = true;
			}
			return;
		}
		int why = cr_budget_refusal(px, l, &ss);
		if (why >= 0) {
			l->refused[why]++; /* logged by cr_budget_log_refusals() */
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cr_conn_open(px, l, fd, &ss);
	}
}

static void check_timeouts(struct cr_proxy *px, time_t now)
{
	for (struct conn *c = px->conns, *n; c; c = n) {
		n = c->all.next;
		if (c->st != ST_RELAY && now - c->started >= px->conf.handshake_timeout)
			cr_conn_close(c, "handshake timeout");
		else if (c->st == ST_RELAY && px->conf.idle_timeout > 0 && now - c->last_io >= px->conf.idle_timeout)
			cr_conn_close(c, "idle timeout");
	}
}

void cr_proxy_stop(struct cr_proxy *px)
{
	if (px->stopping) {
		px->stop_now = true;
		return;
	}
	px->stopping = true;
	px->stop_deadline = time(NULL) + px->conf.shutdown_grace;
	for (int i = 0; i < px->nlisteners; i++) {
		if (px->listeners[i]->fd >= 0)
			close(px->listeners[i]->fd);
		px->listeners[i]->fd = -1;
	}
	cr_log("info", "shutdown", "open_connections=%d grace=%d", px->nconns, px->conf.shutdown_grace);
}

int cr_proxy_run(struct cr_proxy *px, cr_tick_fn tick, void *arg, struct cm_err *e)
{
	if (!px->srv_ctx)
		return cm_fail(e, -EINVAL, "no certificate installed");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &px->oldmask);
	signal(SIGPIPE, SIG_IGN);
	px->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (px->sigfd < 0)
		return cm_fail(e, -errno, "signalfd: %s", strerror(errno));
	px->sig_ep = (struct ep){EP_SIGNAL, px};
	struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &px->sig_ep};
	epoll_ctl(px->epfd, EPOLL_CTL_ADD, px->sigfd, &sev);
	cr_log("info", "started", "listeners=%d max_conns=%d max_pow_conns=%d max_pow_conns_per_source=%d",
	       px->nlisteners, px->conf.max_conns, px->max_pow, px->conf.max_pow_conns_per_source);
	time_t last_tick = time(NULL);
	struct epoll_event evs[256];
	while (!px->stop_now) {
		if (px->stopping && (px->nconns == 0 || time(NULL) >= px->stop_deadline))
			break;
		bool solving = false;
		int wait_ms = 1000;
		int64_t now_ms = cm_mono_ms();
		for (struct conn *c = px->conns, *next; c; c = next) {
			next = c->all.next; /* cr_relay_due may close c */
			if (c->st == ST_F_POW_SOLVE)
				solving = true;
			cr_relay_due(c, now_ms, &wait_ms); /* deferred TLS half-closes (relay.h) */
		}
		cr_conn_reap(px);
		int n = epoll_wait(px->epfd, evs, 256, solving ? 0 : wait_ms);
		if (n < 0 && errno != EINTR)
			return cm_fail(e, -errno, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct ep *ep = evs[i].data.ptr;
			if (ep->kind == EP_LISTENER) {
				struct listener *l = ep->ptr;
				if (!px->stopping && l->fd >= 0)
					accept_conns(px, l);
			} else if (ep->kind == EP_SIGNAL) {
				struct signalfd_siginfo si;
				while (read(px->sigfd, &si, sizeof(si)) == sizeof(si))
					cr_proxy_stop(px);
			} else {
				struct conn *c = ep->ptr;
				if (c->dead)
					continue;
				if (evs[i].events & EPOLLERR && c->st == ST_RELAY) {
					cr_conn_close(c, "socket error");
					continue;
				}
				uint64_t before = c->bytes_c2u + c->bytes_u2c;
				enum state sb = c->st;
				cr_conn_step(c, evs[i].events, ep->kind == EP_CONN_C);
				if (!c->dead && (evs[i].events & EPOLLHUP) && c->st == sb &&
				    before == c->bytes_c2u + c->bytes_u2c) {
					/* HUP without progress: stop listening on that fd; the other side drives. */
					int fd = ep->kind == EP_CONN_C ? c->fdc : c->fdu;
					if (c->st != ST_RELAY) {
						cr_conn_close(c, "peer hung up");
					} else {
						epoll_ctl(px->epfd, EPOLL_CTL_DEL, fd, NULL);
						if (ep->kind == EP_CONN_C)
							c->regc = false, c->evc = 0;
						else
							c->regu = false, c->evu = 0;
						if (!c->regc && !c->regu)
							cr_conn_close(c, "peer hung up");
					}
				}
			}
		}
		if (solving)
			for (struct conn *c = px->conns; c; c = c->all.next)
				if (c->st == ST_F_POW_SOLVE)
					cr_conn_advance(c);
		cr_conn_reap(px);
		time_t now = time(NULL);
		if (now != last_tick) {
			last_tick = now;
			cr_budget_log_refusals(px);
			check_timeouts(px, now);
			for (int i = 0; i < px->nlisteners; i++) {
				struct listener *l = px->listeners[i];
				if (l->paused && l->fd >= 0) {
					struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->ep};
					epoll_ctl(px->epfd, EPOLL_CTL_MOD, l->fd, &ev);
					l->paused = false;
				}
			}
			if (tick)
				tick(px, arg);
			cr_conn_reap(px);
		}
	}
	while (px->conns)
		cr_conn_close(px->conns, "shutdown");
	cr_conn_reap(px);
	cr_budget_log_refusals(px);
	cr_log("info", "stopped", "listeners=%d", px->nlisteners);
	return 0;
}

