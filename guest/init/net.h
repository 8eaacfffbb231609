/* Guest networking without a DHCP client or udev: loopback always, and the one static
 * interface configuration the measured spec names ("network" in cocoon.json). */
#ifndef COCOON_INIT_NET_H
#define COCOON_INIT_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "measure/core/util.h"

struct ci_net {
	bool configured;      /* a "network" object is in the spec */
	char ifname[16];      /* e.g. "eth0" (kernel name: no udev renaming) */
	uint32_t addr;        /* IPv4, network byte order */
	unsigned prefix;      /* 0..32 */
	uint32_t gateway;     /* 0 = none */
};

/* "a.b.c.d/len" -> address and prefix. */
int ci_net_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix, struct cm_err *e);

/* Bring up lo, then (when configured) wait up to timeout_ms for the interface, set its
 * address, bring it up and add the default route. */
int ci_net_up(const struct ci_net *n, unsigned timeout_ms, struct cm_err *e);

#endif
