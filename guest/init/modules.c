/* Kernel module loading with libkmod (image.md §6.1). */
#include "guest/init/modules.h"

#include <ctype.h>
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "guest/init/log.h"
#include "guest/init/status.h"
#include "guest/init/boot.h"

char *ci_modules_line(char *line, int *bad)
{
	*bad = 0;
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	while (*line && isspace((unsigned char)*line))
		line++;
	size_t n = strlen(line);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)line[i]) && line[i] != '_' && line[i] != '-')
			*bad = 1;
	return line;
}

static int load_one(struct kmod_ctx *ctx, const char *name, int *inserted, struct cm_err *e)
{
	struct kmod_list *list = NULL, *it;
	int r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return cm_fail(e, r, "module %s: lookup failed (%s)", name, strerror(-r));
	if (!list)
		return cm_fail(e, -ENOENT, "module %s: not found in modules.dep or modules.builtin", name);
	r = 0;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *m = kmod_module_get_module(it);
		int state = kmod_module_get_initstate(m);
		if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE) {
			kmod_module_unref(m);
			continue;
		}
		long long t0 = cm_mono_ms();
		int p = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
		long long took = cm_mono_ms() - t0;
		if (took >= CI_MODULE_SLOW_MS) /* make bench's per-step times name the slow ones */
			ci_log("module %s: %lld ms", kmod_module_get_name(m), took);
		if (p == -ENODEV) {
			ci_log("module %s: no such device, skipped", kmod_module_get_name(m));
			kmod_module_unref(m);
			continue;
		}
		if (p < 0 && p != -EEXIST) {
			r = cm_fail(e, p, "module %s (%s): insert failed (%s)", name, kmod_module_get_name(m),
				    strerror(-p));
			kmod_module_unref(m);
			break;
		}
		if (p == 0)
			(*inserted)++;
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return r;
}

/* A libkmod context over dirname (NULL: the running kernel's) with its indexes loaded. */
static int kmod_open(const char *dirname, struct kmod_ctx **out, struct cm_err *e)
{
	const char *null_config[] = {NULL}; /* ignore /etc/modprobe.d: no install commands */
	struct kmod_ctx *ctx = kmod_new(dirname, null_config);
	if (!ctx)
		return cm_fail(e, -ENOMEM, "kmod_new failed");
	int r = kmod_load_resources(ctx);
	if (r < 0) {
		kmod_unref(ctx);
		return cm_fail(e, r, "kmod: cannot load module indexes (%s)", strerror(-r));
	}
	*out = ctx;
	return 0;
}

int ci_modules_load(const char *list_path, const char *dirname, struct cm_err *e)
{
	FILE *f = fopen(list_path, "re");
	if (!f)
		return cm_fail(e, -errno, "open %s (%s)", list_path, strerror(errno));
	struct kmod_ctx *ctx;
	int r = kmod_open(dirname, &ctx, e);
	if (r < 0) {
		fclose(f);
		return r;
	}
	char line[256];
	int inserted = 0, lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		int bad;
		char *name = ci_modules_line(line, &bad);
		if (bad) {
			r = cm_fail(e, -EINVAL, "%s:%d: bad module name", list_path, lineno);
			break;
		}
		if (!name)
			continue;
		r = load_one(ctx, name, &inserted, e);
		if (r < 0)
			break;
	}
	kmod_unref(ctx);
	fclose(f);
	return r < 0 ? r : inserted;
}

int ci_modules_load_names(const char *const *names, size_t n, const char *dirname, struct cm_err *e)
{
	struct kmod_ctx *ctx;
	int r = kmod_open(dirname, &ctx, e);
	if (r < 0)
		return r;
	int inserted = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = load_one(ctx, names[i], &inserted, e);
	kmod_unref(ctx);
	return r < 0 ? r : inserted;
}

void ci_boot_modules(struct ci_boot *b)
{
	(void)b;
	struct cm_err e = {0};
	if (access(CI_MODULES_LIST, F_OK) != 0) {
		ci_log("modules: no %s, nothing to load", CI_MODULES_LIST);
		return;
	}
	int n = ci_modules_load(CI_MODULES_LIST, NULL, &e);
	if (n < 0)
		ci_fatal("modules", "%s", e.msg);
	ci_log("modules: %d loaded", n);
	/* configfs may have been a module: mount it now (TSM reports need it). */
	if (mount("configfs", "/sys/kernel/config", "configfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
	    errno != EBUSY && errno != ENODEV && errno != ENOENT)
		ci_log("configfs: not mounted (%s)", strerror(errno));
}
