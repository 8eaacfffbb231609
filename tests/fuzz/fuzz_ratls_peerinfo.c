/* libFuzzer target: cocoon-ratls' AttestedPeerInfo frame encoder (guest/ratls/peerinfo.c).
 * The input fills a verified peer (its registers, REPORTDATA, key and root id come from
 * the peer's quote and certificate) and the two socket addresses, and picks the output
 * capacity. The encoded frame is decoded here (peerinfo.h layout) and must give back
 * every field; a too-small buffer must give -ENOSPC without writing past it (ASan). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/ratls/peerinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rd {
	const uint8_t *p;
	size_t n, off;
};

static const uint8_t *take(struct rd *r, size_t n)
{
	if (r->off + n > r->n)
		abort(); /* the frame is shorter than its own layout */
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

static int32_t take_i32(struct rd *r)
{
	return (int32_t)cm_le32(take(r, 4));
}

/* TL string: returns a pointer to the bytes, *len set; checks the zero padding. */
static const uint8_t *take_tl(struct rd *r, size_t *len)
{
	size_t h = 1, n = *take(r, 1);
	if (n == 0xfe) {
		const uint8_t *l = take(r, 3);
		n = (size_t)l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16;
		h = 4;
	}
	const uint8_t *p = take(r, n);
	size_t pad = (4 - (h + n) % 4) % 4;
	const uint8_t *z = take(r, pad);
	for (size_t i = 0; i < pad; i++)
		if (z[i])
			abort();
	*len = n;
	return p;
}

/* The address as text must parse back (inet_pton) to the peer's address, with its port;
 * no address (NULL, other families) is an empty string and port 0. */
static void check_addr(struct rd *r, const struct sockaddr_storage *ss)
{
	size_t n;
	const uint8_t *ip = take_tl(r, &n);
	int port = take_i32(r);
	char txt[64];
	if (n >= sizeof(txt))
		abort();
	memcpy(txt, ip, n);
	txt[n] = 0;
	uint8_t back[16];
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		if (inet_pton(AF_INET, txt, back) != 1 || memcmp(back, &a->sin_addr, 4) || port != ntohs(a->sin_port))
			abort();
	} else if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		if (inet_pton(AF_INET6, txt, back) != 1 || memcmp(back, &a->sin6_addr, 16) ||
		    port != ntohs(a->sin6_port))
			abort();
	} else if (n || port) {
		abort();
	}
}

/* Fill an address from the input: family selector, then 16 address bytes and a port. */
static const struct sockaddr_storage *make_addr(struct sockaddr_storage *ss, const uint8_t *b)
{
	memset(ss, 0, sizeof(*ss));
	uint16_t port = (uint16_t)(b[17] << 8 | b[18]);
	switch (b[0] % 4) {
	case 0: return NULL;
	case 1: {
		struct sockaddr_in *a = (void *)ss;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, b + 1, 4);
		a->sin_port = htons(port);
		return ss;
	}
	case 2: {
		struct sockaddr_in6 *a = (void *)ss;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, b + 1, 16);
		a->sin6_port = htons(port);
		return ss;
	}
	default:
		ss->ss_family = AF_UNIX; /* neither: empty address, port 0 */
		return ss;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* flags(1) cap(2) src(19) dst(19) regs(384) report_data(64) root(48) key(32) */
	uint8_t in[1 + 2 + 19 + 19 + sizeof(struct cm_td_regs) + 64 + 48 + 32] = {0};
	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	const uint8_t *p = in;
	struct cr_peer peer;
	memset(&peer, 0, sizeof(peer));
	peer.attested = p[0] & 1;
	size_t cap = (size_t)(p[1] | p[2] << 8) % (CR_PEERINFO_MAX + 1);
	if (p[0] & 2)
		cap = CR_PEERINFO_MAX;
	struct sockaddr_storage s1, s2;
	const struct sockaddr_storage *src = make_addr(&s1, p + 3), *dst = make_addr(&s2, p + 22);
	p += 41;
	memcpy(&peer.regs, p, sizeof(peer.regs));
	p += sizeof(peer.regs);
	memcpy(peer.report_data, p, 64);
	memcpy(peer.root_key_id, p + 64, 48);
	memcpy(peer.pubkey, p + 112, 32);

	uint8_t *out = malloc(cap ? cap : 1); /* exact size: ASan catches a write past cap */
	if (!out)
		return 0;
	int n = cr_peerinfo_encode(&peer, src, dst, out, cap);
	if (n == -ENOSPC) {
		if (cap >= CR_PEERINFO_MAX) /* the documented capacity always suffices */
			abort();
		free(out);
		return 0;
	}
	if (n < 4 || (size_t)n > cap || cm_le32(out) != (uint32_t)n - 4)
		abort();
	struct rd r = {.p = out, .n = (size_t)n, .off = 4};
	if (take_i32(&r) != (peer.attested ? 1 : 0))
		abort();
	if (peer.attested) {
		if (take_i32(&r) != 0)
			abort();
		const uint8_t *regs[8] = {peer.regs.mrtd, peer.regs.mrconfigid, peer.regs.mrowner,
					  peer.regs.mrownerconfig, peer.regs.rtmr[0], peer.regs.rtmr[1],
					  peer.regs.rtmr[2], peer.regs.rtmr[3]};
		for (int i = 0; i < 8; i++)
			if (memcmp(take(&r, 48), regs[i], 48))
				abort();
		if (memcmp(take(&r, 64), peer.report_data, 64))
			abort();
	}
	if (memcmp(take(&r, 48), peer.root_key_id, 48))
		abort();
	size_t kl;
	const uint8_t *k = take_tl(&r, &kl);
	if (kl != 32 || memcmp(k, peer.pubkey, 32))
		abort();
	check_addr(&r, src);
	check_addr(&r, dst);
	if (r.off != r.n)
		abort();
	free(out);
	return 0;
}
