/* Cocoon AttestedPeerInfo frame (see peerinfo.h). */
#include "guest/ratls/peerinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "guest/ratls/proxy.h"

struct w {
	uint8_t *p;
	size_t n, cap;
	bool overflow;
};

static void put(struct w *w, const void *d, size_t n)
{
	if (w->n + n > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static void put_i32(struct w *w, int32_t v)
{
	uint8_t b[4];
	cm_put_le32(b, (uint32_t)v);
	put(w, b, 4);
}

static void put_tl_string(struct w *w, const void *d, size_t n)
{
	uint8_t hdr[4];
	size_t h;
	if (n < 254) {
		hdr[0] = (uint8_t)n;
		h = 1;
	} else {
		hdr[0] = 0xfe;
		hdr[1] = (uint8_t)n;
		hdr[2] = (uint8_t)(n >> 8);
		hdr[3] = (uint8_t)(n >> 16);
		h = 4;
	}
	put(w, hdr, h);
	put(w, d, n);
	static const uint8_t zero[4];
	put(w, zero, (4 - (h + n) % 4) % 4);
}

static void put_addr(struct w *w, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN] = "";
	int port = 0;
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	put_tl_string(w, ip, strlen(ip));
	put_i32(w, port);
}

int cr_peerinfo_encode(const struct cr_peer *p, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst, uint8_t *out, size_t cap)
{
	struct w w = {.p = out, .cap = cap};
	uint8_t len[4] = {0};
	put(&w, len, 4); /* patched below */
	bool att = p->attested || p->fake_tdx; /* Cocoon's fake_tdx is TDX data with zero registers */
	put_i32(&w, att ? 1 : 0);
	if (att) {
		put_i32(&w, 0); /* TDX */
		put(&w, p->regs.mrtd, 48);
		put(&w, p->regs.mrconfigid, 48);
		put(&w, p->regs.mrowner, 48);
		put(&w, p->regs.mrownerconfig, 48);
		for (int i = 0; i < 4; i++)
			put(&w, p->regs.rtmr[i], 48);
		put(&w, p->report_data, 64);
	}
	put(&w, p->root_key_id, 48);
	put_tl_string(&w, p->pubkey, 32);
	put_addr(&w, src);
	put_addr(&w, dst);
	if (w.overflow)
		return -ENOSPC;
	cm_put_le32(out, (uint32_t)(w.n - 4));
	return (int)w.n;
}

bool cr_listener_serialize_info(const struct cr_proxy_conf *pc, const struct cr_listener_conf *lc)
{
	enum cr_info v = lc->serialize_info != CR_INFO_DEFAULT ? lc->serialize_info : pc->serialize_info;
	return v == CR_INFO_DEFAULT ? lc->mode == CR_MODE_REVERSE : v == CR_INFO_ON;
}
