/* libFuzzer target: cocoon-ratls' configuration parsers (guest/ratls/config.c).
 * Input starting with '{' (after blanks): a JSON config file, loaded through a memfd
 * path exactly like --config FILE, then checked. Otherwise: lines "R spec", "F spec",
 * "S spec" (reverse/forward/socks5 listener flags) and "P spec" (--policy), then checked.
 * Every listener's addresses then go through cr_parse_addr() (numeric only: no DNS). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest/ratls/config.h"
#include "measure/ratls/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_json(struct cr_config *c, const uint8_t *data, size_t size)
{
	struct cm_err e = {0};
	int fd = memfd_create("ratls-config", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (cr_config_load(c, path, &e) == 0)
			cr_config_check(c, &e);
	}
	close(fd);
}

static void load_flags(struct cr_config *c, const uint8_t *data, size_t size)
{
	struct cm_err e = {0};
	char *s = malloc(size + 1);
	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = 0;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) < 2)
			continue;
		const char *spec = line + 2;
		switch (line[0]) {
		case 'R': cr_config_add_listener_spec(c, CR_MODE_REVERSE, spec, &e); break;
		case 'F': cr_config_add_listener_spec(c, CR_MODE_FORWARD, spec, &e); break;
		case 'S': cr_config_add_listener_spec(c, CR_MODE_SOCKS5, spec, &e); break;
		case 'P': cr_config_add_policy_spec(c, spec, &e); break;
		default: break;
		}
	}
	free(s);
	cr_config_check(c, &e);
}

static void parse_addrs(const struct cr_config *c)
{
	struct cm_err e = {0};
	struct sockaddr_storage ss;
	socklen_t len;
	for (int i = 0; i < c->nlisteners; i++) {
		if (cr_parse_addr(c->listeners[i].listen, false, &ss, &len, &e) == 0 && len > sizeof(ss))
			abort();
		if (c->listeners[i].target[0] && cr_parse_addr(c->listeners[i].target, false, &ss, &len, &e) == 0 &&
		    len > sizeof(ss))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cr_config c; /* large (paths): not on the stack */
	cr_config_defaults(&c);
	size_t i = 0;
	while (i < size && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r'))
		i++;
	if (i < size && data[i] == '{')
		load_json(&c, data, size);
	else
		load_flags(&c, data, size);
	parse_addrs(&c);
	return 0;
}
