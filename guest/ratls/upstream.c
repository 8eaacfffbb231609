/* The upstream steps shared by the modes (see upstream.h). */
#include "guest/ratls/upstream.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "guest/ratls/socks5.h"

void cr_socks5_fail(struct conn *c, int code, const char *why)
{
	uint8_t r[CR_SOCKS5_REPLY_LEN];
	cr_socks5_reply_encode((enum cr_socks5_reply)code, r);
	if (c->fdc >= 0)
		(void)!send(c->fdc, r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
	cr_conn_close(c, why);
}

void cr_upstream_fail(struct conn *c, const char *why)
{
	if (c->l->conf.mode == CR_MODE_SOCKS5)
		cr_socks5_fail(c, CR_SOCKS5_HOST_UNREACHABLE, why);
	else
		cr_conn_close(c, why);
}

int cr_upstream_connected(struct conn *c, const char *what)
{
	int r = cr_conn_connect_wait(c);
	if (r < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s connect failed: %s", what, strerror(-r));
		cr_upstream_fail(c, msg);
		return -1;
	}
	return r;
}
