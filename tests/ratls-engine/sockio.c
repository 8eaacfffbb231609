/* Blocking socket I/O shared by the cocoon-ratls test tools (sockio.h). */
#include "tests/ratls-engine/sockio.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

int rt_wait_in(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms);
}

/* The one whole-buffer loop: sends B (OUT; B is only read then) or receives into it, N bytes,
 * interrupted calls retried; when receiving with TIMEOUT_MS >= 0, polls before every read. */
static int transfer(int fd, uint8_t *b, size_t n, bool out, int timeout_ms)
{
	while (n) {
		if (!out && timeout_ms >= 0 && rt_wait_in(fd, timeout_ms) <= 0)
			return -1;
		ssize_t r = out ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int rt_send_all(int fd, const void *p, size_t n)
{
	return transfer(fd, (uint8_t *)p, n, true, -1);
}

int rt_recv_exact(int fd, void *p, size_t n, int timeout_ms)
{
	return transfer(fd, p, n, false, timeout_ms);
}
