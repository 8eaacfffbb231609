/* The relay of cocoon-ratls: bytes both ways between the client side and the upstream side
 * of a connection, through one bounded buffer per direction. A side is read only while the
 * buffer it fills has room (backpressure); EOF on one side becomes a half-close of the
 * other (shutdown(SHUT_WR); on the TLS side close_notify and then shutdown(SHUT_WR), since
 * Cocoon ignores close_notify); a TCP EOF without close_notify on the TLS side ends that
 * direction like close_notify does (Cocoon never sends one; docs/threat-model.md
 * "Truncation"); the connection ends when both directions are shut. */
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
/* The events a relaying connection waits for, or-ed into *wc (client) and *wu (upstream). */
void cr_relay_interest(const struct conn *c, uint32_t *wc, uint32_t *wu);

#endif
