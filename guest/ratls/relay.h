/* The relay of cocoon-ratls: bytes both ways between the client side and the upstream side
 * of a connection, through one bounded buffer per direction. A side is read only while the
 * buffer it fills has room (backpressure); EOF on one side becomes a half-close of the
 * other (shutdown(SHUT_WR); on the TLS side close_notify and then shutdown(SHUT_WR), since
 * Cocoon ignores close_notify); a TCP EOF without close_notify on the TLS side ends that
 * direction like close_notify does (Cocoon never sends one; docs/threat-model.md
 * "Truncation"); the connection ends when both directions are shut.
 *
 * The TLS side's half-close follows the last data written to it by CR_TLS_FIN_GAP_MS at
 * least: Cocoon's TlsPipeWorker (tee/cocoon/utils.cpp) drops the decrypted data it reads
 * together with the TCP EOF (it stops on the EOF before its ProxyWorker copies the data), so
 * data, close_notify and FIN sent back to back lost the data at Cocoon's router in 6 of 60
 * connections (tests/interop/cocoon_router.sh, docs/testing.md). */
#ifndef COCOON_RATLS_RELAY_H
#define COCOON_RATLS_RELAY_H

#include "guest/ratls/conn.h"

/* Allocate the buffers, queue the AttestedPeerInfo frame (serialize_info) and enter ST_RELAY. */
int cr_relay_start(struct conn *c);
/* cr_relay_start() as a state's last step: closes c when out of memory. */
enum step cr_relay_enter(struct conn *c);
/* Move what can be moved after epoll reported events on one side; closes c when both
 * directions are done or on an I/O error. */
void cr_relay(struct conn *c, uint32_t events, bool on_client);
/* The gap between the last data written to the TLS side and its half-close. */
#define CR_TLS_FIN_GAP_MS 50
/* Run a deferred TLS-side half-close of c when it is due at now_ms; else lower *wait_ms
 * (epoll timeout) to the time left. */
void cr_relay_due(struct conn *c, int64_t now_ms, int *wait_ms);

#endif
