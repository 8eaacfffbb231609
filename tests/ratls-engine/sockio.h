/* Blocking socket I/O shared by the cocoon-ratls test tools (ratls-engine, ratls-load,
 * ratls-cocoon-peer): whole buffers or nothing, interrupted calls retried. */
#ifndef COCOON_TESTS_RATLS_ENGINE_SOCKIO_H
#define COCOON_TESTS_RATLS_ENGINE_SOCKIO_H

#include <stddef.h>

/* Sends all N bytes (MSG_NOSIGNAL); 0, or -1 when the socket fails first. */
int rt_send_all(int fd, const void *p, size_t n);

/* Receives exactly N bytes; 0, or -1 on an error or end of stream first. TIMEOUT_MS >= 0:
 * also -1 when no byte arrives for that long (poll before every read); -1 waits forever. */
int rt_recv_exact(int fd, void *p, size_t n, int timeout_ms);

/* poll(2) for input on FD for at most MS milliseconds: > 0 readable, 0 timed out, < 0 error. */
int rt_wait_in(int fd, int ms);

#endif
