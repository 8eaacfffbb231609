/* Cocoon's AttestedPeerInfo frame (`router --serialize-info`; specs/ratls.md §6.1): after
 * the handshake, one frame on the local plaintext side (reverse: to the backend; forward
 * and SOCKS5: to the local client) describing the verified remote peer, then the stream.
 *
 * Frame = u32 LE body length ‖ body; body in td::store order, integers LE:
 *   i32 has_attestation (1 also for a fake_tdx peer: zero registers, its REPORTDATA, as
 *   Cocoon's FakeTdxInterface gives); if 1: i32 variant (0 = TDX), MRTD, MRCONFIGID, MROWNER,
 *   MROWNERCONFIG, RTMR0..3 (48 bytes each), REPORTDATA (64); collateral_root_hash (48);
 *   UserClaims as a TL string (0x20 ‖ 32-byte key ‖ 3 zero bytes); source_ip (TL string);
 *   i32 source_port; destination_ip (TL string); i32 destination_port.
 * TL string: 1 length byte (< 254) or 0xfe ‖ 3-byte LE length, the bytes, zero padding to
 * a multiple of 4. [Derived from Cocoon's source, not run against Cocoon: the spec's
 * unattested example length (0x74) is 4 bytes shorter than this layout gives.] */
#ifndef COCOON_RATLS_PEERINFO_H
#define COCOON_RATLS_PEERINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "measure/ratls/peer.h"

#define CR_PEERINFO_MAX 1024

struct cr_proxy_conf;
struct cr_listener_conf;

/* Whether a listener sends the frame: its resolved serialize_info (enum cr_info, proxy.h). */
bool cr_listener_serialize_info(const struct cr_proxy_conf *pc, const struct cr_listener_conf *lc);

/* Encode into out (cap >= CR_PEERINFO_MAX); returns the frame length or -ENOSPC. */
int cr_peerinfo_encode(const struct cr_peer *p, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst, uint8_t *out, size_t cap);

#endif
