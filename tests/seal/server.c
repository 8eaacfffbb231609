/* cocoon-test-seal-server: the test seal server (tests only, never in the image).
 *
 *   cocoon-test-seal-server --sim-dir DIR --secret HEX64 --listen tcp:IPV4:PORT|unix:PATH
 *                           [--mode MODE] [--port-file F]
 *
 * Serves one connection at a time until killed: one frame in, one frame out (enclave.h).
 * PORT 0 asks the kernel for a free port, written to --port-file once listening. MODE is
 * good (default), wrong-mrenclave, debug, unbound, replay, truncated, extended, oversize,
 * tampered or silent. One log line per request on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/seal/enclave.h"

static int listen_on(const char *spec, const char *port_file)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	char host[64];
	unsigned port;
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		if (strlen(spec + 5) >= sizeof un->sun_path)
			return -1;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, spec + 5);
		unlink(spec + 5);
		sl = sizeof(*un);
	} else if (sscanf(spec, "tcp:%63[0-9.]:%u", host, &port) == 2 && port < 65536) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		sl = sizeof(*in);
	} else {
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 8))
		return -1;
	if (port_file) {
		struct sockaddr_in got;
		socklen_t gl = sizeof got;
		FILE *f = fopen(port_file, "we");
		if (!f || (ss.ss_family == AF_INET && getsockname(fd, (struct sockaddr *)&got, &gl)))
			return -1;
		fprintf(f, "%u\n", ss.ss_family == AF_INET ? ntohs(got.sin_port) : 0);
		if (fclose(f))
			return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *sim_dir = NULL, *secret_hex = NULL, *listen_spec = NULL, *mode_s = "good", *port_file = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--sim-dir"))
			sim_dir = argv[i + 1];
		else if (!strcmp(argv[i], "--secret"))
			secret_hex = argv[i + 1];
		else if (!strcmp(argv[i], "--listen"))
			listen_spec = argv[i + 1];
		else if (!strcmp(argv[i], "--mode"))
			mode_s = argv[i + 1];
		else if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else
			sim_dir = NULL, i = argc;
	}
	uint8_t secret[32];
	enum ts_mode mode;
	if (!sim_dir || !secret_hex || !listen_spec || strlen(secret_hex) != 64 ||
	    cm_hex_decode_exact(secret_hex, 64, secret, 32) < 0 || ts_mode_parse(mode_s, &mode)) {
		fprintf(stderr, "usage: cocoon-test-seal-server --sim-dir DIR --secret HEX64 --listen "
				"tcp:IPV4:PORT|unix:PATH [--mode MODE] [--port-file F]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct ts_enclave x;
	struct cm_err e = {0};
	if (ts_enclave_init(&x, sim_dir, secret, mode, &e)) {
		fprintf(stderr, "error: %s\n", e.msg);
		return 1;
	}
	int ls = listen_on(listen_spec, port_file);
	if (ls < 0) {
		fprintf(stderr, "error: cannot listen on %s (%s)\n", listen_spec, strerror(errno));
		return 1;
	}
	fprintf(stderr, "seal-server: listening on %s, mode %s\n", listen_spec, mode_s);
	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "error: accept (%s)\n", strerror(errno));
			return 1;
		}
		e = (struct cm_err){0};
		int rc = ts_serve_conn(&x, c, &e);
		char hex[65], served[64 + 96] = "";
		if (!rc && x.served_name[0]) {
			cm_hex_encode(x.served_sha256, 32, hex, sizeof hex);
			/* %.64s: the name is the client's bytes (the test keys are [a-z_]) */
			snprintf(served, sizeof served, " (key %.64s sha256 %s)", x.served_name, hex);
		}
		fprintf(stderr, "seal-server: request %s%s%s\n", rc ? "failed: " : "answered", rc ? e.msg : "", served);
		close(c);
	}
}
