/* Command-line options as a table: each option names where its value goes and what values
 * it takes, and one parser (cm_opts_parse, over getopt_long) fills them in and words every
 * refusal the same way. cocoon-measure and cocoon-launch declare their options with it
 * (measure/cli/common.c and host-launcher/cli/common.c add their help and usage-error forms).
 *
 *	int json = 0;
 *	const char *vm = NULL;
 *	unsigned timeout = 90;
 *	const struct cm_opt opts[] = {
 *		CM_OPT_STR("vm", 'v', &vm),
 *		CM_OPT_UINT("timeout", 0, &timeout, 1, 3600, "seconds"),
 *		CM_OPT_FLAG("json", 'j', &json),
 *		CM_OPT_HELP('h'),
 *		CM_OPT_END,
 *	};
 *
 * The macros check the type of each destination at compile time. */
#ifndef COCOON_MEASURE_OPTS_H
#define COCOON_MEASURE_OPTS_H

#include <stddef.h>
#include <stdint.h>

enum cm_opt_kind {
	CM_OPT_KIND_FLAG,  /* no value: the int at dest becomes 1 */
	CM_OPT_KIND_STR,   /* the const char * at dest points at the value (argv's storage) */
	CM_OPT_KIND_UINT,  /* a decimal in [min, max] (cm_parse_u64, util.h): the unsigned at dest */
	CM_OPT_KIND_U64,   /* a decimal in [min, max] (cm_parse_u64): the uint64_t at dest */
	CM_OPT_KIND_TIME,  /* unix seconds, min or later: the int64_t at dest */
	CM_OPT_KIND_BUF,   /* a copy of the value in the char array at dest (max bytes with its
			    * NUL); a longer value is refused, never cut */
	CM_OPT_KIND_LIST,  /* repeatable: the value is appended to the struct cm_opt_list at dest */
	CM_OPT_KIND_PARSE, /* parse(value, dest) stores it, or refuses it with nonzero */
	CM_OPT_KIND_HELP,  /* no value: cm_opts_parse stops and says help was asked for */
};

struct cm_opt {
	const char *name; /* the long name without "--"; NULL ends the table */
	char short_name;  /* a one-letter alias, or 0 */
	enum cm_opt_kind kind;
	void *dest;
	const char *wants; /* UINT, U64: the unit ("seconds"); PARSE: the values it takes */
	int (*parse)(const char *value, void *dest);
	uint64_t min, max; /* UINT, U64; TIME: min; BUF: the array's size */
};

/* A repeatable option's values, in argv's order: at most max of them (more are refused). */
struct cm_opt_list {
	const char **v;
	size_t n, max;
};
#define CM_OPT_LIST_OF(arr) { (arr), 0, sizeof(arr) / sizeof((arr)[0]) }

/* The pointer p as a void *, a compile-time error unless it has type T. */
#define CM_OPT_DEST_(T, p) ((void *)(1 ? (p) : (T)0))
/* 0, and a compile-time error unless a is an array (not a pointer): BUF takes its size. */
#define CM_OPT_ARRAY_(a) (sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))]) - 1)
#define CM_OPT_FLAG(name, s, p) { (name), (s), CM_OPT_KIND_FLAG, CM_OPT_DEST_(int *, p), NULL, NULL, 0, 0 }
#define CM_OPT_STR(name, s, p) { (name), (s), CM_OPT_KIND_STR, CM_OPT_DEST_(const char **, p), NULL, NULL, 0, 0 }
#define CM_OPT_UINT(name, s, p, lo, hi, unit) \
	{ (name), (s), CM_OPT_KIND_UINT, CM_OPT_DEST_(unsigned *, p), (unit), NULL, (lo), (hi) }
#define CM_OPT_U64(name, s, p, lo, hi, unit) \
	{ (name), (s), CM_OPT_KIND_U64, CM_OPT_DEST_(uint64_t *, p), (unit), NULL, (lo), (hi) }
#define CM_OPT_TIME(name, s, p, lo) { (name), (s), CM_OPT_KIND_TIME, CM_OPT_DEST_(int64_t *, p), NULL, NULL, (lo), 0 }
#define CM_OPT_BUF(name, s, arr) \
	{ (name), (s), CM_OPT_KIND_BUF, CM_OPT_DEST_(char *, arr), NULL, NULL, 0, sizeof(arr) + CM_OPT_ARRAY_(arr) }
#define CM_OPT_LIST(name, s, l) { (name), (s), CM_OPT_KIND_LIST, CM_OPT_DEST_(struct cm_opt_list *, l), NULL, NULL, 0, 0 }
#define CM_OPT_PARSE(name, s, p, fn, values) { (name), (s), CM_OPT_KIND_PARSE, (p), (values), (fn), 0, 0 }
#define CM_OPT_HELP(s) { "help", (s), CM_OPT_KIND_HELP, NULL, NULL, NULL, 0, 0 }
#define CM_OPT_END { NULL, 0, CM_OPT_KIND_FLAG, NULL, NULL, NULL, 0, 0 }

/* The most options one table may hold (a longer table aborts: it is the caller's constant). */
#define CM_OPTS_MAX 32

enum {
	CM_OPTS_DONE = 0, /* every option read; optind is the first operand */
	CM_OPTS_HELP = 1, /* --help (or its alias) was given */
	CM_OPTS_BAD = -1, /* msg says which option or value was refused */
};

/* Read argv's options (from argv[1]; getopt_long's order, operands moved to the end) into
 * opts' destinations, in the order given. A refusal is written to msg (cap bytes), naming the
 * option as typed: "unknown option '--x'", "option '--x' needs a value", "option '--x' takes
 * no value", "option '--timeout' wants 1-3600 seconds, got '0'", "option '--dir' wants at
 * most 4095 bytes, got 5000", or "option '--elf' may be given at most 16 times". */
int cm_opts_parse(int argc, char **argv, const struct cm_opt *opts, char *msg, size_t cap);

/* The same, for the options before the first operand only (a program whose subcommand, the
 * first operand, has options of its own): optind is that operand, argv is not reordered. */
int cm_opts_parse_head(int argc, char **argv, const struct cm_opt *opts, char *msg, size_t cap);

#endif
