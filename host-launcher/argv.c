/* The QEMU argument vector, the pieces both machine profiles share (argv_default.c,
 * argv_cocoon.c), the host-side file names, and the shell-quoted --print rendering. */
#include "host-launcher/argv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/argv_build.h"
#include "host-launcher/image.h"

void cl_argv_free(struct cl_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int cl_argv_push(struct cl_argv *a, const char *fmt, ...)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

void cl_console_log_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s-%u.console.log", c->log_dir, cl_node_type_name(c->type), c->instance);
}

void cl_serial_log_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s-%u.serial.log", c->log_dir, cl_node_type_name(c->type), c->instance);
}

void cl_qmp_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/qmp.sock", c->run_dir);
}

void cl_status_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/status.sock", c->run_dir);
}

void cl_mem_size(uint64_t bytes, char *out, size_t outsz)
{
	if (bytes % (1ull << 30) == 0)
		snprintf(out, outsz, "%" PRIu64 "G", bytes >> 30);
	else
		snprintf(out, outsz, "%" PRIu64 "M", bytes >> 20);
}


/* opt and the file: the probe's own when probing, else the image's artifact a. */
static int push_boot_file(struct cl_argv *out, const struct cl_config *c, const struct cl_boot *b, const char *opt,
			  const char *probe_file, enum cl_artifact a)
{
	char path[CL_PATH_MAX + 64];
	const char *file = probe_file;
	if (!b->probe_dir) {
		cl_config_artifact(c, a, path, sizeof(path));
		file = path;
	}
	return cl_argv_push(out, "%s", opt) < 0 || cl_argv_push(out, "%s", file) < 0 ? -ENOMEM : 0;
}

int cl_argv_boot_files(struct cl_argv *out, const struct cl_config *c, const struct cl_boot *b, struct cm_err *e)
{
	if (push_boot_file(out, c, b, "-kernel", b->probe_kernel, CL_ART_KERNEL) < 0 ||
	    push_boot_file(out, c, b, "-initrd", b->probe_initrd, CL_ART_INITRD) < 0)
		goto nomem;
	PUSH("-append");
	if (b->cmdline) {
		PUSH("%s", b->cmdline);
	} else if (b->cmdline_file) {
		PUSH("%s", b->cmdline_file);
		out->deferred = out->n;
	} else {
		cl_argv_free(out);
		return cm_fail(e, -EINVAL, "no kernel command line");
	}
	return 0;
nomem:
	cl_argv_free(out);
	return cm_fail(e, -ENOMEM, "building the QEMU argv (out of memory)");
}

int cl_argv_user_netdev(struct cl_argv *out, const struct cl_config *c, const char *id)
{
	char nd[64 + CL_MAX_PORTS * 48];
	size_t n = (size_t)snprintf(nd, sizeof(nd), "user,id=%s", id);
	for (size_t i = 0; i < c->n_ports && n < sizeof(nd); i++)
		n += (size_t)snprintf(nd + n, sizeof(nd) - n, ",hostfwd=%s::%u-:%u", c->ports[i].udp ? "udp" : "tcp",
				      cl_config_host_port(c, i), c->ports[i].guest);
	return cl_argv_push(out, "-netdev") < 0 || cl_argv_push(out, "%s", nd) < 0 ? -ENOMEM : 0;
}

void cl_console_chardev(const struct cl_config *c, const struct cl_boot *b, const char *id, const char *stdio_opts,
			char *out, size_t outsz)
{
	char path[CL_PATH_MAX + 64];
	if (b->probe_dir) {
		snprintf(out, outsz, "file,id=%s,path=%s/console.log", id, b->probe_dir);
	} else if (!strcmp(b->console, "file")) {
		cl_console_log_path(c, path, sizeof(path));
		snprintf(out, outsz, "file,id=%s,path=%s", id, path);
	} else {
		snprintf(out, outsz, "stdio,id=%s%s", id, stdio_opts);
	}
}

int cl_shell_quote(const char *s, char *out, size_t outsz)
{
	bool safe = *s != 0;
	for (const char *p = s; *p; p++)
		if (!(( *p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_@%+=:,./-", *p)))
			safe = false;
	size_t n = 0;
#define PUTC(ch)                               \
	do {                                   \
		if (n + 1 >= outsz)            \
			return -ENOSPC;        \
		out[n++] = (ch);               \
	} while (0)
	if (outsz == 0)
		return -ENOSPC;
	if (safe) {
		for (const char *p = s; *p; p++)
			PUTC(*p);
	} else {
		PUTC('\'');
		for (const char *p = s; *p; p++) {
			if (*p == '\'') {
				PUTC('\'');
				PUTC('\\');
				PUTC('\'');
				PUTC('\'');
			} else {
				PUTC(*p);
			}
		}
		PUTC('\'');
	}
#undef PUTC
	out[n] = 0;
	return (int)n;
}

static int print_word(const struct cl_argv *a, size_t i, FILE *f)
{
	size_t cap = 4 * strlen(a->v[i]) + 3;
	char *q = malloc(cap);
	if (!q)
		return -ENOMEM;
	cl_shell_quote(a->v[i], q, cap);
	if (a->deferred == i + 1)
		fprintf(f, "\"$(cat %s)\"", q);
	else
		fputs(q, f);
	free(q);
	return 0;
}

int cl_argv_print(const struct cl_argv *a, FILE *f)
{
	for (size_t i = 0; i < a->n; i++) {
		if (i)
			fputs("  ", f);
		if (print_word(a, i, f) < 0)
			return -ENOMEM;
		/* an option and its value share a line */
		if (i > 0 && a->v[i][0] == '-' && i + 1 < a->n && a->v[i + 1][0] != '-') {
			fputc(' ', f);
			if (print_word(a, ++i, f) < 0)
				return -ENOMEM;
		}
		fputs(i + 1 < a->n ? " \\\n" : "\n", f);
	}
	return ferror(f) ? -EIO : 0;
}
