/* cocoon-mkinitrd: build a deterministic initramfs (see docs/initrd.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "initrd/compress.h"
#include "initrd/elfdeps.h"
#include "initrd/kmods.h"
#include "initrd/listfile.h"
#include "initrd/tree.h"
#include "measure/core/opts.h"

#define MAX_LIBDIRS 32
#define MAX_MODULES 512

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cocoon-mkinitrd -o OUT [options] [LISTFILE...]\n"
		"Build a deterministic newc initramfs from list files (lines: 'file DEST HOST [MODE]',\n"
		"'elf DEST HOST', 'dir DEST [MODE]', 'slink DEST TARGET', 'tree DEST HOSTDIR').\n"
		"  -o, --output FILE          archive to write (atomically)\n"
		"  -e, --elf DEST=HOST        like an 'elf DEST HOST' list line (repeatable)\n"
		"  -c, --compress METHOD      zstd (default: level 19, single-threaded), gzip (-9 -n) or none\n"
		"      --epoch N              mtime of every entry (default $SOURCE_DATE_EPOCH, else 0)\n"
		"  -L, --libdir DIR           library search directory for 'elf' lines (repeatable;\n"
		"                             default the Debian amd64 multiarch and /lib dirs)\n"
		"  -k, --kernel-modules DIR   <root>/lib/modules/<kver> with the kernel's modules.dep\n"
		"  -m, --modules FILE         module names to ship (one per line, '#' comments); their\n"
		"                             modules.dep closure is added under lib/modules/<kver>/\n"
		"  -M, --ship-modules FILE    more module names (same format) shipped with their closure\n"
		"                             but not written to the module list (cocoon-init loads\n"
		"                             them later on demand: the GPU modules of step 7)\n"
		"      --module-list DEST     where the module name list goes in the archive\n"
		"                             (default etc/cocoon/modules)\n"
		"      --depmod PATH          depmod to regenerate the module indexes (default depmod)\n"
		"  -h, --help\n");
}

/* Appends the names of path to *names (*n of them so far; the array holds MAX_MODULES). */
static int read_names(const char *path, char ***names, size_t *n, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc = cm_read_file(path, 1u << 20, &buf, &len, e);
	if (rc < 0)
		return rc;
	char **v = *names ? *names : calloc(MAX_MODULES, sizeof(*v));
	size_t nv = *n;
	if (!v) {
		free(buf);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	char *save = NULL;
	for (char *line = strtok_r((char *)buf, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *w = strtok(line, " \t\r");
		if (!w)
			continue;
		if (strtok(NULL, " \t\r"))
			rc = cm_fail(e, -EINVAL, "%s: one module name per line ('%s ...')", path, w);
		else if (nv == MAX_MODULES)
			rc = cm_fail(e, -E2BIG, "%s: more than %d modules", path, MAX_MODULES);
		else if (strlen(w) > 200 || strchr(w, '/'))
			rc = cm_fail(e, -EINVAL, "%s: bad module name '%.32s'", path, w);
		else if (!(v[nv++] = strdup(w)))
			rc = cm_fail(e, -ENOMEM, "out of memory");
	}
	free(buf);
	*names = v;
	*n = nv;
	return rc;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *method = "zstd", *kmoddir = NULL, *modfile = NULL, *shipfile = NULL;
	const char *listdest = "etc/cocoon/modules", *depmod = "depmod";
	const char *libdirs[MAX_LIBDIRS + 1] = {NULL}; /* NULL-terminated for mi_add_listfile */
	const char *elf_v[MAX_LIBDIRS];
	struct cm_opt_list libs = {libdirs, 0, MAX_LIBDIRS}, elfs = CM_OPT_LIST_OF(elf_v);
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	const struct cm_opt opts[] = {
		CM_OPT_STR("output", 'o', &out),
		CM_OPT_STR("compress", 'c', &method),
		CM_OPT_STR("epoch", 0, &epoch_s),
		CM_OPT_LIST("libdir", 'L', &libs),
		CM_OPT_STR("kernel-modules", 'k', &kmoddir),
		CM_OPT_STR("modules", 'm', &modfile),
		CM_OPT_STR("module-list", 0, &listdest),
		CM_OPT_STR("depmod", 0, &depmod),
		CM_OPT_STR("ship-modules", 'M', &shipfile),
		CM_OPT_LIST("elf", 'e', &elfs),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	char msg[256];
	switch (cm_opts_parse(argc, argv, opts, msg, sizeof(msg))) {
	case CM_OPTS_HELP:
		usage(stdout);
		return 0;
	case CM_OPTS_BAD:
		fprintf(stderr, "cocoon-mkinitrd: %s\n", msg);
		usage(stderr);
		return 2;
	default:
		break;
	}
	for (size_t i = 0; i < elfs.n; i++) {
		const char *eq = strchr(elfs.v[i], '=');
		if (!eq || eq == elfs.v[i] || (size_t)(eq - elfs.v[i]) >= MI_MAX_PATH) {
			fprintf(stderr, "cocoon-mkinitrd: --elf wants DEST=HOST with DEST shorter than %u bytes, got '%.64s'\n",
				MI_MAX_PATH, elfs.v[i]);
			return 2;
		}
	}
	if (!out || (optind == argc && elfs.n == 0) || (!kmoddir != !modfile) || (shipfile && !kmoddir)) {
		fprintf(stderr, "cocoon-mkinitrd: need -o OUT, a LISTFILE or --elf, and -k with -m together\n");
		usage(stderr);
		return 2;
	}
	uint64_t epoch = 0;
	if (epoch_s && *epoch_s) {
		if (cm_parse_u64(epoch_s, 0, UINT32_MAX, &epoch)) {
			fprintf(stderr, "cocoon-mkinitrd: bad epoch '%s' (decimal seconds, < 2^32)\n", epoch_s);
			return 2;
		}
	}

	struct cm_err e = {0};
	struct mi_tree t = {0};
	struct mi_buf cpio = {0}, z = {0};
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = mi_add_listfile(&t, argv[i], libs.n ? libdirs : NULL, &e);
	for (size_t i = 0; i < elfs.n && rc == 0; i++) {
		char dest[MI_MAX_PATH];
		const char *eq = strchr(elfs.v[i], '=');
		memcpy(dest, elfs.v[i], (size_t)(eq - elfs.v[i])); /* shorter than MI_MAX_PATH: checked above */
		dest[eq - elfs.v[i]] = 0;
		rc = mi_add_elf(&t, dest, eq + 1, libs.n ? libdirs : NULL, &e);
	}
	if (rc == 0 && kmoddir) {
		rc = read_names(modfile, &names, &nnames, &e);
		size_t nlisted = nnames;
		if (rc == 0 && shipfile)
			rc = read_names(shipfile, &names, &nnames, &e);
		if (rc == 0)
			rc = mi_add_kmods(&t, kmoddir, (const char *const *)names, nnames, nlisted, depmod, listdest,
					  &e);
	}
	if (rc == 0)
		rc = mi_tree_write_cpio(&t, epoch, &cpio, &e);
	if (rc == 0)
		rc = mi_compress(method, &cpio, &z, &e);
	if (rc == 0)
		rc = cm_write_file_atomic(out, z.p, z.len, 0644, &e);
	if (rc == 0)
		fprintf(stderr, "cocoon-mkinitrd: %s: %zu entries, %zu bytes (%s), %zu bytes uncompressed\n", out, t.n,
			z.len, method, cpio.len);
	else
		fprintf(stderr, "cocoon-mkinitrd: error: %s\n", e.msg);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	mi_tree_free(&t);
	mi_buf_free(&cpio);
	mi_buf_free(&z);
	return rc == 0 ? 0 : 1;
}
