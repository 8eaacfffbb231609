/* ratls-engine: a small OpenAI-style streaming HTTP server for tests and benchmarks.
 *
 *   ratls-engine [--listen [HOST:]PORT] [--tokens N] [--delay-us U] [--port-file F] [--peer-info]
 *
 * POST /v1/chat/completions (or /v1/completions): answers with Server-Sent Events over
 * chunked transfer encoding, one `data: {...chat.completion.chunk...}` event per token
 * ("max_tokens" in the JSON body, default --tokens), then `data: [DONE]`. GET /health
 * answers "ok". HTTP/1.1 keep-alive; one thread per connection (blocking I/O). --peer-info:
 * every connection starts with Cocoon's AttestedPeerInfo frame (u32 LE length 1..1024, the
 * body), as cocoon-ratls reverse listeners send by default; one without it is closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/ratls-engine/sockio.h"

#define REQ_MAX 65536

static int g_tokens = 16;
static int g_delay_us;
static int g_peer_info;

static int chunk(int fd, const char *data, size_t n)
{
	char b[1024];
	int h = snprintf(b, sizeof(b), "%zx\r\n", n);
	if (n + (size_t)h + 2 > sizeof(b))
		return -1;
	memcpy(b + h, data, n);
	memcpy(b + (size_t)h + n, "\r\n", 2);
	return rt_send_all(fd, b, (size_t)h + n + 2);
}

static int stream_completion(int fd, int tokens, unsigned long long id)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
				   "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
	if (rt_send_all(fd, head, sizeof(head) - 1))
		return -1;
	char ev[512];
	for (int i = 0; i < tokens; i++) {
		int n = snprintf(ev, sizeof(ev),
				 "data: {\"id\":\"cmpl-%llu\",\"object\":\"chat.completion.chunk\",\"model\":\"test\","
				 "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"}}]}\n\n",
				 id, i);
		if (chunk(fd, ev, (size_t)n))
			return -1;
		if (g_delay_us)
			usleep((useconds_t)g_delay_us);
	}
	static const char done[] = "data: [DONE]\n\n";
	if (chunk(fd, done, sizeof(done) - 1) || rt_send_all(fd, "0\r\n\r\n", 5))
		return -1;
	return 0;
}

/* Append what the socket has to req (REQ_MAX bytes); -1 on EOF or error. */
static int recv_more(int fd, char *req, size_t *have)
{
	for (;;) {
		ssize_t r = recv(fd, req + *have, REQ_MAX - *have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		*have += (size_t)r;
		return 0;
	}
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static unsigned long long next_id;
	char *req = malloc(REQ_MAX + 1);
	size_t have = 0;
	if (req && g_peer_info) {
		/* the AttestedPeerInfo frame: length, then the body (not interpreted here) */
		while (have < 4)
			if (recv_more(fd, req, &have))
				goto out;
		uint32_t len = (uint32_t)(uint8_t)req[0] | (uint32_t)(uint8_t)req[1] << 8 |
			       (uint32_t)(uint8_t)req[2] << 16 | (uint32_t)(uint8_t)req[3] << 24;
		if (len == 0 || len > 1024)
			goto out;
		while (have < 4 + len)
			if (recv_more(fd, req, &have))
				goto out;
		memmove(req, req + 4 + len, have - 4 - len);
		have -= 4 + len;
	}
	while (req) {
		/* headers */
		char *end;
		while (!(end = memmem(req, have, "\r\n\r\n", 4)))
			if (have >= REQ_MAX || recv_more(fd, req, &have))
				goto out;
		size_t hlen = (size_t)(end - req) + 4;
		req[hlen - 1] = 0;
		size_t clen = 0;
		for (char *p = req; (p = strcasestr(p, "\ncontent-length:")); p++)
			clen = strtoul(p + 16, NULL, 10);
		if (clen > REQ_MAX - hlen)
			goto out;
		while (have < hlen + clen)
			if (recv_more(fd, req, &have))
				goto out;
		char saved = req[hlen + clen];
		req[hlen + clen] = 0;
		int rc;
		if (!strncmp(req, "GET /health ", 12)) {
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
			rc = rt_send_all(fd, ok, sizeof(ok) - 1);
		} else if (!strncmp(req, "POST /v1/chat/completions ", 26) || !strncmp(req, "POST /v1/completions ", 21)) {
			int tokens = g_tokens;
			char *mt = strstr(req + hlen, "\"max_tokens\"");
			if (mt && (mt = strchr(mt, ':')))
				tokens = atoi(mt + 1);
			if (tokens < 0 || tokens > 1000000)
				tokens = g_tokens;
			rc = stream_completion(fd, tokens, __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED));
		} else {
			static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
			rc = rt_send_all(fd, nf, sizeof(nf) - 1);
		}
		req[hlen + clen] = saved;
		if (rc)
			goto out;
		memmove(req, req + hlen + clen, have - hlen - clen);
		have -= hlen + clen;
	}
out:
	free(req);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"tokens", required_argument, NULL, 't'},
		{"delay-us", required_argument, NULL, 'd'}, {"port-file", required_argument, NULL, 'p'},
		{"peer-info", no_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'}, {0},
	};
	const char *listen_s = "127.0.0.1:0", *port_file = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l': listen_s = optarg; break;
		case 't': g_tokens = atoi(optarg); break;
		case 'd': g_delay_us = atoi(optarg); break;
		case 'p': port_file = optarg; break;
		case 'i': g_peer_info = 1; break;
		case 'h':
			printf("usage: ratls-engine [--listen [HOST:]PORT] [--tokens N] [--delay-us U] [--port-file F] [--peer-info]\n");
			return 0;
		default: return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const char *colon = strrchr(listen_s, ':');
	if (colon) {
		char host[64];
		snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_s), listen_s);
		if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
			fprintf(stderr, "error: bad listen address %s\n", listen_s);
			return 2;
		}
	}
	a.sin_port = htons((uint16_t)atoi(colon ? colon + 1 : listen_s));
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096)) {
		perror("ratls-engine: listen");
		return 1;
	}
	socklen_t al = sizeof(a);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	if (port_file) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, port_file)) {
			perror("ratls-engine: port file");
			return 1;
		}
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(10000);
				continue;
			}
			perror("ratls-engine: accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_t t;
		if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd))
			close(fd);
	}
}
