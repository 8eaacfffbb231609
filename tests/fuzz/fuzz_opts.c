/* libFuzzer target: command-line options (measure/core/opts.h). The input is argv after the
 * program name, one word per NUL-terminated piece, read against a table with every kind. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/core/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 16

static int parse_even(const char *s, void *dest)
{
	size_t n = strlen(s);
	if (n % 2)
		return -EINVAL;
	*(size_t *)dest = n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	char *argv[MAX_WORDS + 2] = { (char *)"fuzz" };
	int argc = 1;
	for (char *p = buf; p <= buf + size && argc <= MAX_WORDS; p += strlen(p) + 1)
		argv[argc++] = p;

	int flag = 0;
	const char *str = NULL;
	unsigned u = 0;
	int64_t t = 0;
	size_t even = 0;
	uint64_t seq = 0;
	char dir[8] = "";
	const char *list_v[3];
	struct cm_opt_list list = CM_OPT_LIST_OF(list_v);
	const struct cm_opt opts[] = {
		CM_OPT_FLAG("json", 'j', &flag),
		CM_OPT_STR("collateral", 'c', &str),
		CM_OPT_UINT("timeout", 0, &u, 1, 3600, "seconds"),
		CM_OPT_TIME("time", 't', &t, 0),
		CM_OPT_PARSE("even", 'e', &even, parse_even, "an even length"),
		CM_OPT_U64("seq", 0, &seq, 2, UINT64_MAX - 1, NULL),
		CM_OPT_BUF("dir", 'd', dir),
		CM_OPT_LIST("elf", 'l', &list),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	char msg[256];
	/* the first byte picks the parser: all options, or those before the first operand */
	int head = size > 0 && (data[0] & 1);
	int rc = (head ? cm_opts_parse_head : cm_opts_parse)(argc, argv, opts, msg, sizeof msg);
	if (rc == CM_OPTS_BAD && !memchr(msg, 0, sizeof msg))
		abort(); /* the message is always terminated */
	if (rc == CM_OPTS_DONE && (optind < 1 || optind > argc))
		abort();
	if (u > 3600 || t < 0 || even % 2 || seq == 1 || seq == UINT64_MAX || list.n > list.max ||
	    !memchr(dir, 0, sizeof dir))
		abort(); /* a stored value is always in its range */
	for (size_t i = 0; i < list.n; i++)
		if (list.v[i] < buf || list.v[i] > buf + size)
			abort(); /* a listed value is one of argv's words */
	free(buf);
	return 0;
}
