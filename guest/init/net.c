#include "guest/init/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"

int ci_net_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix, struct cm_err *e)
{
	const char *slash = strchr(s, '/');
	char ip[INET_ADDRSTRLEN];
	if (!slash || (size_t)(slash - s) >= sizeof ip)
		return cm_fail(e, -EINVAL, "network: address \"%s\" is not a.b.c.d/len", s);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = 0;
	struct in_addr a;
	if (inet_pton(AF_INET, ip, &a) != 1)
		return cm_fail(e, -EINVAL, "network: \"%s\" is not an IPv4 address", ip);
	uint64_t p;
	if (cm_parse_u64(slash + 1, 0, 32, &p))
		return cm_fail(e, -EINVAL, "network: prefix length in \"%s\" must be 0..32", s);
	*addr = a.s_addr;
	*prefix = (unsigned)p;
	return 0;
}

static void set_in(struct sockaddr *sa, uint32_t a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	memset(in, 0, sizeof *in);
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = a;
}

static int if_up(int fd, const char *name, struct cm_err *e)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return cm_fail(e, -errno, "network: interface %s: %s", name, strerror(errno));
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return cm_fail(e, -errno, "network: cannot bring %s up (%s)", name, strerror(errno));
	return 0;
}

int ci_net_up(const struct ci_net *n, unsigned timeout_ms, struct cm_err *e)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cm_fail(e, -errno, "network: socket (%s)", strerror(errno));
	int r = if_up(fd, "lo", e); /* the kernel adds 127.0.0.1/8 and ::1 to lo when it goes up */
	if (r < 0 || !n->configured)
		goto out;
	/* The driver (virtio_net, loaded with the modules) registers the interface
	 * asynchronously; wait for it, bounded. */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (if_nametoindex(n->ifname) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= (long)timeout_ms) {
			r = cm_fail(e, -ENODEV, "network: interface %s never appeared (waited %u ms)", n->ifname,
				    timeout_ms);
			goto out;
		}
		usleep(20000);
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", n->ifname);
	set_in(&ifr.ifr_addr, n->addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0) {
		r = cm_fail(e, -errno, "network: cannot set the address of %s (%s)", n->ifname, strerror(errno));
		goto out;
	}
	uint32_t mask = n->prefix ? htonl(~0u << (32 - n->prefix)) : 0;
	set_in(&ifr.ifr_netmask, mask);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0) {
		r = cm_fail(e, -errno, "network: cannot set the netmask of %s (%s)", n->ifname, strerror(errno));
		goto out;
	}
	if ((r = if_up(fd, n->ifname, e)) < 0 || !n->gateway)
		goto out;
	struct rtentry rt;
	memset(&rt, 0, sizeof rt);
	set_in(&rt.rt_dst, 0);
	set_in(&rt.rt_genmask, 0);
	set_in(&rt.rt_gateway, n->gateway);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	char dev[16];
	snprintf(dev, sizeof dev, "%s", n->ifname);
	rt.rt_dev = dev;
	if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		r = cm_fail(e, -errno, "network: cannot add the default route via the gateway (%s)", strerror(errno));
out:
	close(fd);
	return r;
}

/* Loopback always (services talk to each other over 127.0.0.1); the spec's interface
 * when it names one. */
void ci_boot_network(struct ci_boot *b)
{
	struct cm_err e = {0};
	const struct ci_net *n = &b->spec.network;
	if (ci_net_up(n, b->cmd.timeout_s * 1000u, &e) < 0)
		ci_fatal("network", "%s", e.msg);
	if (n->configured) {
		char a[INET_ADDRSTRLEN] = "", g[INET_ADDRSTRLEN] = "none";
		inet_ntop(AF_INET, &n->addr, a, sizeof a);
		if (n->gateway)
			inet_ntop(AF_INET, &n->gateway, g, sizeof g);
		ci_log("network: %s %s/%u, gateway %s", n->ifname, a, n->prefix, g);
	} else {
		ci_log("network: loopback only");
	}
}
