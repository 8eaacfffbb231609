/* The measured kernel command line (RTMR2): the cocoon.* keys cocoon-init obeys. The one
 * parser of it: cocoon-ratls (--attest cmdline) links this too, so no guest program reads
 * the line differently (quotes, "--", duplicates).
 * docs/boot.md lists every key. Unknown cocoon.* keys, duplicates and malformed
 * values are errors (a typo in a measured cmdline must not be silently ignored). */
#ifndef COCOON_GUEST_CMDLINE_H
#define COCOON_GUEST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "measure/core/util.h"

enum ci_gpu_mode { CI_GPU_UNSET = 0, CI_GPU_REQUIRED, CI_GPU_OFF };

#define CI_DEFAULT_TIMEOUT_S 60u
#define CI_MAX_TIMEOUT_S 3600u
/* The dm-verity data and hash block size of every volume (root, models; cocoon.rootblocks
 * counts these): the one definition (image.md §4.2), used by guest/init/verity.c too. */
#define CI_VERITY_BLOCK 4096u

struct ci_cmdline {
	uint8_t roothash[32];
	char roothash_hex[65];   /* lower-case */
	uint64_t rootblocks;     /* data blocks (CI_VERITY_BLOCK) in front of the hash area */
	char attest[8];          /* "tdx" (default) or "sim" */
	char keys[16];           /* key provider ("" = none named) */
	bool debug;              /* cocoon.debug */
	enum ci_gpu_mode gpu;    /* cocoon.gpu= */
	unsigned timeout_s;      /* cocoon.timeout=, device wait bound */
};

/* Parse a whole /proc/cmdline text (kernel quoting rules: whitespace separated,
 * double quotes group). Requires cocoon.roothash and cocoon.rootblocks. */
int ci_cmdline_parse(const char *text, struct ci_cmdline *c, struct cm_err *e);

/* Read path (/proc/cmdline; at most 4096 bytes, one trailing newline dropped) and parse
 * it with ci_cmdline_parse. */
int ci_cmdline_load(const char *path, struct ci_cmdline *c, struct cm_err *e);

#endif
