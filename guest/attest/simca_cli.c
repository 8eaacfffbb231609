/* cocoon-sim: drive the `sim` attestation backend from a shell (tests, boot harness).
 *
 *   cocoon-sim [--dir DIR] init                    create or renew the state directory
 *   cocoon-sim [--dir DIR] read N                  print RTMR N (hex)
 *   cocoon-sim [--dir DIR] extend N DIGEST         RTMR N = SHA-384(RTMR N || DIGEST), 48-byte hex
 *   cocoon-sim [--dir DIR] extend-event MESSAGE    RTMR3 extend with SHA-384(MESSAGE)
 *   cocoon-sim [--dir DIR] quote [--report-data HEX] --out FILE
 *
 * --dir sets $COCOON_SIM_DIR (default /run/cocoon/sim). The state directory holds
 * root.pem, collateral.json and policy.json for `cocoon-measure quote --collateral`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "guest/attest/simca.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/core/opts.h"
#include "measure/dcap/collateral.h"

static void help(void)
{
	printf("usage: cocoon-sim [--dir DIR] [--json] COMMAND ...\n\n"
	       "Drive the software TD of the `sim` attestation backend (state in DIR, default\n"
	       "$COCOON_SIM_DIR or /run/cocoon/sim; shared by every process through file locks).\n\n"
	       "  init                          create the state (software PCK CA, collateral valid for\n"
	       "                                30 days, registers) or renew it when it expires within a day\n"
	       "  read N                        print RTMR N\n"
	       "  extend N DIGEST               RTMR N = SHA-384(RTMR N || DIGEST), DIGEST = 48 bytes hex\n"
	       "  extend-event MESSAGE          extend RTMR3 with SHA-384(MESSAGE)\n"
	       "  quote [--report-data HEX] --out FILE\n"
	       "                                write a TDX v4 quote over the registers (REPORTDATA:\n"
	       "                                up to 64 bytes hex, zero-padded)\n\n"
	       "Verify with: cocoon-measure quote FILE --collateral DIR/collateral.json --root DIR/root.pem\n"
	       "             --policy DIR/policy.json\n"
	       "Exit codes: 0 ok, 1 failure, 2 usage.\n");
}

static int fail(const char *msg)
{
	fprintf(stderr, "error: %s\n", msg);
	return 1;
}

static int usage(const char *msg)
{
	fprintf(stderr, "error: %s (try cocoon-sim --help)\n", msg);
	return 2;
}

/* opts' options from argv (all of them, or head: those before the COMMAND): 0, or 1 with
 * *rc set: help printed (0) or a usage error (2). */
static int read_opts(int argc, char **argv, const struct cm_opt *opts, bool head, int *rc)
{
	char msg[256];
	switch ((head ? cm_opts_parse_head : cm_opts_parse)(argc, argv, opts, msg, sizeof msg)) {
	case CM_OPTS_DONE:
		return 0;
	case CM_OPTS_HELP:
		help();
		*rc = 0;
		return 1;
	default:
		*rc = usage(msg);
		return 1;
	}
}

/* --report-data: up to 64 bytes of hex, zero-padded. */
static int parse_report_data(const char *s, void *rd)
{
	uint8_t v[CA_REPORT_DATA_LEN] = {0};
	size_t n;
	if (cm_hex_decode(s, strlen(s), v, sizeof(v), &n))
		return -EINVAL;
	memcpy(rd, v, sizeof(v));
	return 0;
}

static int parse_rtmr(const char *s, int *out)
{
	if (!s || strlen(s) != 1 || s[0] < '0' || s[0] > '3')
		return -EINVAL;
	*out = s[0] - '0';
	return 0;
}

static int emit_reg(struct ca_backend *b, int n, int json, struct cm_err *e)
{
	uint8_t r[48];
	char hex[97];
	if (b->ops->read(b, n, r, e))
		return fail(e->msg);
	cm_hex_encode(r, 48, hex, sizeof(hex));
	if (json) {
		json_object *o = json_object_new_object();
		cm_json_add_int(o, "rtmr", n);
		cm_json_add_str(o, "value", hex);
		cm_json_print(o, stdout);
		json_object_put(o);
	} else {
		printf("%s\n", hex);
	}
	return 0;
}

static int cmd_quote(struct ca_backend *b, int argc, char **argv, struct cm_err *e)
{
	uint8_t rd[CA_REPORT_DATA_LEN] = {0};
	const char *out = NULL;
	int rc;
	const struct cm_opt opts[] = {
		CM_OPT_PARSE("report-data", 'r', rd, parse_report_data, "at most 64 bytes of hex"),
		CM_OPT_STR("out", 'o', &out),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (read_opts(argc, argv, opts, false, &rc))
		return rc;
	if (!out || optind != argc)
		return usage("quote needs --out FILE and no other arguments");
	uint8_t *q;
	size_t len;
	if (b->ops->quote(b, rd, &q, &len, e))
		return fail(e->msg);
	FILE *f = fopen(out, "wb");
	rc = 0;
	if (!f || fwrite(q, 1, len, f) != len)
		rc = fail("cannot write the quote file");
	if (f && fclose(f))
		rc = fail("cannot write the quote file");
	free(q);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int json = 0, rc;
	const struct cm_opt opts[] = {
		CM_OPT_STR("dir", 'd', &dir),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (read_opts(argc, argv, opts, true, &rc))
		return rc;
	if (dir && setenv("COCOON_SIM_DIR", dir, 1))
		return fail("cannot set COCOON_SIM_DIR");
	if (optind >= argc)
		return usage("missing COMMAND");
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;

	struct cm_err e = {0};
	struct ca_backend b = {.ops = &ca_sim_ops};
	if (b.ops->open(&b, &e))
		return fail(e.msg);
	int n;
	uint8_t d[48];
	rc = 0;
	if (strcmp(cmd, "init") == 0 && sub_argc == 1) {
		const char *state = getenv("COCOON_SIM_DIR");
		if (json) {
			json_object *o = json_object_new_object();
			cm_json_add_str(o, "dir", state && *state ? state : "/run/cocoon/sim");
			cm_json_print(o, stdout);
			json_object_put(o);
		}
	} else if (strcmp(cmd, "read") == 0 && sub_argc == 2) {
		rc = parse_rtmr(sub_argv[1], &n) ? usage("RTMR index must be 0..3") : emit_reg(&b, n, json, &e);
	} else if (strcmp(cmd, "extend") == 0 && sub_argc == 3) {
		if (parse_rtmr(sub_argv[1], &n) || cm_hex_decode_exact(sub_argv[2], strlen(sub_argv[2]), d, 48))
			rc = usage("extend needs an RTMR index 0..3 and a 48-byte hex digest");
		else if (b.ops->extend(&b, n, d, &e))
			rc = fail(e.msg);
		else
			rc = emit_reg(&b, n, json, &e);
	} else if (strcmp(cmd, "extend-event") == 0 && sub_argc == 2) {
		if (cm_sha384(sub_argv[1], strlen(sub_argv[1]), d) || b.ops->extend(&b, 3, d, &e))
			rc = fail(e.msg[0] ? e.msg : "hash failure");
		else
			rc = emit_reg(&b, 3, json, &e);
	} else if (strcmp(cmd, "quote") == 0) {
		rc = cmd_quote(&b, sub_argc, sub_argv, &e);
	} else {
		rc = usage("unknown COMMAND or wrong number of arguments");
	}
	b.ops->close(&b);
	return rc;
}
