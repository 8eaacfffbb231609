#include "measure/core/opts.h"

#include "measure/core/util.h"

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

/* "option '--timeout' wants 1-3600 seconds, got '0'" */
static void wants_range(const struct cm_opt *o, const char *value, char *msg, size_t cap)
{
	snprintf(msg, cap, "option '--%s' wants %" PRIu64 "-%" PRIu64 "%s%s, got '%s'", o->name, o->min, o->max,
		 o->wants ? " " : "", o->wants ? o->wants : "", value);
}

/* Store value into o's destination; on a refusal, say what o wants. */
static int take(const struct cm_opt *o, const char *value, char *msg, size_t cap)
{
	uint64_t v;
	size_t len;
	struct cm_opt_list *l;
	switch (o->kind) {
	case CM_OPT_KIND_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case CM_OPT_KIND_STR:
		*(const char **)o->dest = value;
		return 0;
	case CM_OPT_KIND_UINT:
	case CM_OPT_KIND_U64:
		if (cm_parse_u64(value, o->min, o->max, &v)) {
			wants_range(o, value, msg, cap);
			return -1;
		}
		if (o->kind == CM_OPT_KIND_UINT)
			*(unsigned *)o->dest = (unsigned)v; /* max is an unsigned: CM_OPT_UINT's hi */
		else
			*(uint64_t *)o->dest = v;
		return 0;
	case CM_OPT_KIND_TIME:
		if (cm_parse_u64(value, o->min, INT64_MAX, &v) == 0) {
			*(int64_t *)o->dest = (int64_t)v;
			return 0;
		}
		if (o->min)
			snprintf(msg, cap, "option '--%s' wants unix seconds, %" PRIu64 " or later, got '%s'", o->name,
				 o->min, value);
		else
			snprintf(msg, cap, "option '--%s' wants unix seconds, got '%s'", o->name, value);
		return -1;
	case CM_OPT_KIND_BUF:
		len = strlen(value);
		if (len >= o->max) {
			snprintf(msg, cap, "option '--%s' wants at most %" PRIu64 " bytes, got %zu", o->name, o->max - 1,
				 len);
			return -1;
		}
		memcpy(o->dest, value, len + 1);
		return 0;
	case CM_OPT_KIND_LIST:
		l = o->dest;
		if (l->n >= l->max) {
			snprintf(msg, cap, "option '--%s' may be given at most %zu times", o->name, l->max);
			return -1;
		}
		l->v[l->n++] = value;
		return 0;
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

/* head: stop at the first operand ('+' in front of shortopts) instead of moving operands
 * to the end. */
static int parse_opts(int argc, char **argv, const struct cm_opt *opts, bool head, char *msg, size_t cap)
{
	/* getopt_long's tables from ours: a long option's val is its index + 256 (above every
	 * short name); the short names go into shortopts, with ':' where a value follows. A
	 * leading ':' makes getopt_long return ':' for a missing value. */
	struct option lo[CM_OPTS_MAX + 1];
	char so[2 + 2 * CM_OPTS_MAX + 1] = "+:";
	size_t n = 0, sl = 2;
	for (; opts[n].name; n++) {
		if (n == CM_OPTS_MAX)
			abort(); /* a table of the caller's */
		bool takes = opts[n].kind != CM_OPT_KIND_FLAG && opts[n].kind != CM_OPT_KIND_HELP;
		if (opts[n].kind == CM_OPT_KIND_BUF && opts[n].max == 0)
			abort(); /* no room even for the NUL: a table of the caller's */
		lo[n] = (struct option){ opts[n].name, takes ? required_argument : no_argument, NULL, 256 + (int)n };
		if (opts[n].short_name) {
			so[sl++] = opts[n].short_name;
			if (takes)
				so[sl++] = ':';
		}
	}
	lo[n] = (struct option){ 0 };
	so[sl] = 0;
	const char *shortopts = head ? so : so + 1;

	optind = 0; /* also forgets the rest of an earlier call's cluster ("-jx") */
	int c;
	while ((c = getopt_step(argc, argv, shortopts, lo, msg, cap)) != -1) {
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

int cm_opts_parse(int argc, char **argv, const struct cm_opt *opts, char *msg, size_t cap)
{
	return parse_opts(argc, argv, opts, false, msg, cap);
}

int cm_opts_parse_head(int argc, char **argv, const struct cm_opt *opts, char *msg, size_t cap)
{
	return parse_opts(argc, argv, opts, true, msg, cap);
}
