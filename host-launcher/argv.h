/* The QEMU argument vector of a Cocoon node, and its shell-quoted rendering. */
#ifndef COCOON_LAUNCH_ARGV_H
#define COCOON_LAUNCH_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "host-launcher/config.h"
#include "measure/core/util.h"

struct cl_argv {
	char **v;   /* NULL-terminated */
	size_t n, cap;
	/* --print of an image whose cmdline file is absent: v[deferred - 1] is that file's
	 * path, rendered as "$(cat PATH)". 0 = none. Never set for a real boot. */
	size_t deferred;
};

void cl_argv_free(struct cl_argv *a);
int cl_argv_push(struct cl_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How this boot differs from the configured production boot. */
struct cl_boot {
	const char *accel;    /* "kvm" or "tcg" (resolved, never "auto") */
	const char *cmdline;  /* effective -append text (measured cmdline + variants) */
	const char *cmdline_file; /* only when cmdline is NULL (--print without the image) */
	/* capture-acpi probe: replaces kernel/initrd, opens every disk read-only, logs to
	 * probe_dir, no QMP. NULL for a normal boot. */
	const char *probe_kernel, *probe_initrd, *probe_dir;
	/* console chardev: "stdio" or "file" (file = log_dir/<type>-<instance>.console.log) */
	const char *console;
};

/* Build the argv (argv[0] = c->qemu) of c's profile (argv_default.c). Errors: TDX with TCG,
 * bad combinations. */
int cl_build_argv(const struct cl_config *c, const struct cl_boot *b, struct cl_argv *out,
		  struct cm_err *e);

/* The same for profile cocoon (argv_cocoon.c; cl_build_argv hands such a node to it). */
int cl_build_argv_cocoon(const struct cl_config *c, const struct cl_boot *b, struct cl_argv *out,
			 struct cm_err *e);

/* Pieces both profiles share: -kernel/-initrd/-append (the probe's files for a probe);
 * -netdev "user,id=ID,hostfwd=..." of the config's ports (-ENOMEM); the console chardev value (the probe's
 * console.log, the console log file, or "stdio,id=ID" + stdio_opts); "100G" / "8192M". */
int cl_argv_boot_files(struct cl_argv *out, const struct cl_config *c, const struct cl_boot *b, struct cm_err *e);
int cl_argv_user_netdev(struct cl_argv *out, const struct cl_config *c, const char *id);
void cl_console_chardev(const struct cl_config *c, const struct cl_boot *b, const char *id, const char *stdio_opts,
			char *out, size_t outsz);
void cl_mem_size(uint64_t bytes, char *out, size_t outsz);

/* Shell-quote one word into out (always NUL-terminated). Returns the length, or
 * -ENOSPC. Safe words are left bare; others are single-quoted. */
int cl_shell_quote(const char *s, char *out, size_t outsz);

/* --print rendering: shell-quoted, one option per line (an option and its value share
 * the line), continued with " \", lines after the first indented by two spaces: paste
 * it into a shell and it runs. */
int cl_argv_print(const struct cl_argv *a, FILE *f);

/* Log file names. */
void cl_console_log_path(const struct cl_config *c, char *out, size_t outsz);
void cl_serial_log_path(const struct cl_config *c, char *out, size_t outsz);
void cl_qmp_path(const struct cl_config *c, char *out, size_t outsz);
/* The status channel's unix socket (QEMU's end of the "org.cocoon.status" port). */
void cl_status_path(const struct cl_config *c, char *out, size_t outsz);

#endif
