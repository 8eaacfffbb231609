#include "measure/core/opts.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One getopt_long step with getopt's own messages off: the next option's val, -1 after the
 * last, or '?' with msg naming a bad option as typed. */
static int getopt_step(int argc, char **argv, const char *shortopts, const struct option *longopts, char *msg,
		       size_t cap)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	/* A long option has moved optind past itself (getopt_long sets optopt to its value when
	 * it was given a value it does not take, to 0 when it is unknown); an unknown short one
	 * may sit inside a cluster ("-jx"), so it is named by optopt. */
	const char *arg = optind > 1 && optind - 1 < argc ? argv[optind - 1] : "";
	bool is_long = !strncmp(arg, "--", 2);
	char shortname[3] = { '-', (char)optopt, 0 };
	const char *name = is_long || optopt <= ' ' || optopt >= 127 ? arg : shortname;
	int len = (int)strcspn(name, "=");
	if (c == ':')
		snprintf(msg, cap, "option '%.*s' needs a value", len, name);
	else if (is_long && optopt)
		snprintf(msg, cap, "option '%.*s' takes no value", len, name);
	else
		snprintf(msg, cap, "unknown option '%.*s'", len, name);
	return '?';
}

static int parse_decimal(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int cm_opt_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;
	if (parse_decimal(s, lo, hi, &v))
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Store value into o's destination; on a refusal, say what o wants. */
static int take(const struct cm_opt *o, const char *value, char *msg, size_t cap)
{
	uint64_t v;
	switch (o->kind) {
	case CM_OPT_KIND_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case CM_OPT_KIND_STR:
		*(const char **)o->dest = value;
		return 0;
	case CM_OPT_KIND_UINT:
		if (cm_opt_uint(value, o->min, o->max, o->dest) == 0)
			return 0;
		snprintf(msg, cap, "option '--%s' wants %u-%u%s%s, got '%s'", o->name, o->min, o->max,
			 o->wants ? " " : "", o->wants ? o->wants : "", value);
		return -1;
	case CM_OPT_KIND_TIME:
		if (parse_decimal(value, o->min, INT64_MAX, &v) == 0) {
			*(int64_t *)o->dest = (int64_t)v;
			return 0;
		}
		if (o->min)
			snprintf(msg, cap, "option '--%s' wants unix seconds, %u or later, got '%s'", o->name, o->min,
				 value);
		else
			snprintf(msg, cap, "option '--%s' wants unix seconds, got '%s'", o->name, value);
		return -1;
	case CM_OPT_KIND_PARSE:
		if (o->parse(value, o->dest) == 0)
			return 0;
		snprintf(msg, cap, "option '--%s' wants %s, got '%s'", o->name, o->wants, value);
		return -1;
	case CM_OPT_KIND_HELP:
		break;
	}
	abort(); /* HELP is handled by the caller; no other kind exists */
}

int cm_opts_parse(int argc, char **argv, const struct cm_opt *opts, char *msg, size_t cap)
{
	/* getopt_long's tables from ours: a long option's val is its index + 256 (above every
	 * short name); the short names go into shortopts, with ':' where a value follows. A
	 * leading ':' makes getopt_long return ':' for a missing value. */
	struct option lo[CM_OPTS_MAX + 1];
	char so[1 + 2 * CM_OPTS_MAX + 1] = ":";
	size_t n = 0, sl = 1;
	for (; opts[n].name; n++) {
		if (n == CM_OPTS_MAX)
			abort(); /* a table of the caller's */
		bool takes = opts[n].kind != CM_OPT_KIND_FLAG && opts[n].kind != CM_OPT_KIND_HELP;
		lo[n] = (struct option){ opts[n].name, takes ? required_argument : no_argument, NULL, 256 + (int)n };
		if (opts[n].short_name) {
			so[sl++] = opts[n].short_name;
			if (takes)
				so[sl++] = ':';
		}
	}
	lo[n] = (struct option){ 0 };
	so[sl] = 0;

	optind = 0; /* also forgets the rest of an earlier call's cluster ("-jx") */
	int c;
	while ((c = getopt_step(argc, argv, so, lo, msg, cap)) != -1) {
		if (c == '?')
			return CM_OPTS_BAD;
		size_t i = 0;
		if (c >= 256)
			i = (size_t)c - 256;
		else
			while (opts[i].short_name != c)
				i++; /* getopt_long returns only the names in so */
		if (opts[i].kind == CM_OPT_KIND_HELP)
			return CM_OPTS_HELP;
		if (take(&opts[i], optarg, msg, cap))
			return CM_OPTS_BAD;
	}
	return CM_OPTS_DONE;
}
