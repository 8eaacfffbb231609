/* Parser for the measured kernel command line. */
#include "guest/cmdline/cmdline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE_MAX 4096
#define ROOTBLOCKS_MAX (UINT64_MAX / CI_VERITY_BLOCK)

/* A positive count in 1..max (cm_parse_u64), canonical: no leading zeros, so a measured
 * value has one spelling. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
	return s[0] == '0' ? -EINVAL : cm_parse_u64(s, 1, max, out);
}

enum { K_ROOTHASH, K_ROOTBLOCKS, K_ATTEST, K_DEBUG, K_GPU, K_TIMEOUT, K_KEYS, K_COUNT };
static const char *const key_names[K_COUNT] = {
	"cocoon.roothash", "cocoon.rootblocks", "cocoon.attest", "cocoon.debug",
	"cocoon.gpu",      "cocoon.timeout",    "cocoon.keys",
};

static int apply(struct ci_cmdline *c, int k, const char *val, struct cm_err *e)
{
	const char *name = key_names[k];
	uint64_t v;
	if (k == K_DEBUG) {
		if (val)
			return cm_fail(e, -EINVAL, "%s takes no value (got \"%s\")", name, val);
		c->debug = true;
		return 0;
	}
	if (!val || !*val)
		return cm_fail(e, -EINVAL, "%s needs a value", name);
	switch (k) {
	case K_ROOTHASH:
		if (strlen(val) != 64 || cm_hex_decode_exact(val, 64, c->roothash, 32) < 0)
			return cm_fail(e, -EINVAL, "%s must be 64 hex digits (got \"%.80s\")", name, val);
		for (int i = 0; i < 64; i++)
			c->roothash_hex[i] = (char)tolower((unsigned char)val[i]);
		c->roothash_hex[64] = '\0';
		return 0;
	case K_ROOTBLOCKS:
		if (parse_count(val, ROOTBLOCKS_MAX, &v) < 0)
			return cm_fail(e, -EINVAL, "%s must be a positive decimal block count (got \"%.40s\")", name,
				       val);
		c->rootblocks = v;
		return 0;
	case K_ATTEST:
		if (strcmp(val, "tdx") != 0 && strcmp(val, "sim") != 0 && strcmp(val, "tpm") != 0)
			return cm_fail(e, -EINVAL, "%s must be tdx, sim or tpm (got \"%.40s\")", name, val);
		snprintf(c->attest, sizeof c->attest, "%s", val);
		return 0;
	case K_GPU:
		if (strcmp(val, "required") == 0)
			c->gpu = CI_GPU_REQUIRED;
		else if (strcmp(val, "off") == 0)
			c->gpu = CI_GPU_OFF;
		else
			return cm_fail(e, -EINVAL, "%s must be required or off (got \"%.40s\")", name, val);
		return 0;
	case K_TIMEOUT:
		if (parse_count(val, CI_MAX_TIMEOUT_S, &v) < 0)
			return cm_fail(e, -EINVAL, "%s must be 1..%u seconds (got \"%.40s\")", name,
				       CI_MAX_TIMEOUT_S, val);
		c->timeout_s = (unsigned)v;
		return 0;
	case K_KEYS:
		if (strlen(val) >= sizeof c->keys)
			return cm_fail(e, -EINVAL, "%s: provider name too long", name);
		for (const char *p = val; *p; p++)
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
				return cm_fail(e, -EINVAL, "%s: bad provider name \"%.40s\"", name, val);
		snprintf(c->keys, sizeof c->keys, "%s", val);
		return 0;
	}
	return cm_fail(e, -EINVAL, "internal: key %d", k);
}

int ci_cmdline_parse(const char *text, struct ci_cmdline *c, struct cm_err *e)
{
	memset(c, 0, sizeof *c);
	snprintf(c->attest, sizeof c->attest, "tdx");
	c->timeout_s = CI_DEFAULT_TIMEOUT_S;
	bool seen[K_COUNT] = {false};
	size_t n = strlen(text);
	if (n > CMDLINE_MAX)
		return cm_fail(e, -E2BIG, "kernel command line longer than %d bytes", CMDLINE_MAX);

	char tok[CMDLINE_MAX + 1];
	size_t i = 0;
	while (i < n) {
		while (i < n && isspace((unsigned char)text[i]))
			i++;
		if (i >= n)
			break;
		/* One parameter; double quotes group (the kernel's next_arg() rules). */
		size_t t = 0;
		bool inq = false;
		while (i < n && (inq || !isspace((unsigned char)text[i]))) {
			if (text[i] == '"')
				inq = !inq;
			else
				tok[t++] = text[i];
			i++;
		}
		tok[t] = '\0';
		if (inq)
			return cm_fail(e, -EINVAL, "unterminated quote in the kernel command line");
		if (strcmp(tok, "--") == 0)
			break; /* the rest belongs to init's argv */
		if (strncmp(tok, "cocoon.", 7) != 0)
			continue;
		char *eq = strchr(tok, '=');
		const char *val = NULL;
		if (eq) {
			*eq = '\0';
			val = eq + 1;
		}
		int k;
		for (k = 0; k < K_COUNT; k++)
			if (strcmp(tok, key_names[k]) == 0)
				break;
		if (k == K_COUNT)
			return cm_fail(e, -EINVAL, "unknown key %.60s on the kernel command line", tok);
		if (seen[k])
			return cm_fail(e, -EINVAL, "%s given twice on the kernel command line", key_names[k]);
		seen[k] = true;
		int r = apply(c, k, val, e);
		if (r < 0)
			return r;
	}
	if (!seen[K_ROOTHASH])
		return cm_fail(e, -EINVAL, "cocoon.roothash= missing from the kernel command line");
	if (!seen[K_ROOTBLOCKS])
		return cm_fail(e, -EINVAL, "cocoon.rootblocks= missing from the kernel command line");
	return 0;
}

int ci_cmdline_load(const char *path, struct ci_cmdline *c, struct cm_err *e)
{
	uint8_t *buf;
	size_t n;
	int r = cm_read_file(path, CMDLINE_MAX + 1, &buf, &n, e);
	if (r < 0)
		return r;
	if (n > 0 && buf[n - 1] == '\n')
		n--; /* the kernel's one trailing newline */
	char text[CMDLINE_MAX + 2];
	memcpy(text, buf, n);
	text[n] = '\0';
	free(buf);
	if (memchr(text, '\0', n))
		return cm_fail(e, -EINVAL, "%s holds a NUL byte", path);
	return ci_cmdline_parse(text, c, e);
}
