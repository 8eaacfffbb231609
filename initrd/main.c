/* cocoon-mkinitrd: build a deterministic initramfs (see docs/initrd.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initrd/compress.h"
#include "initrd/elfdeps.h"
#include "initrd/kmods.h"
#include "initrd/listfile.h"
#include "initrd/tree.h"

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
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},      {"compress", required_argument, NULL, 'c'},
		{"epoch", required_argument, NULL, 'E'},       {"libdir", required_argument, NULL, 'L'},
		{"kernel-modules", required_argument, NULL, 'k'}, {"modules", required_argument, NULL, 'm'},
		{"module-list", required_argument, NULL, 'l'}, {"depmod", required_argument, NULL, 'D'},
		{"ship-modules", required_argument, NULL, 'M'},
		{"elf", required_argument, NULL, 'e'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *method = "zstd", *kmoddir = NULL, *modfile = NULL, *shipfile = NULL;
	const char *listdest = "etc/cocoon/modules", *depmod = "depmod";
	const char *libdirs[MAX_LIBDIRS + 1] = {NULL};
	size_t nlib = 0;
	const char *elfs[MAX_LIBDIRS];
	size_t nelf = 0;
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	int c;
	while ((c = getopt_long(argc, argv, "o:c:e:L:k:m:M:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'c': method = optarg; break;
		case 'e':
			if (nelf == MAX_LIBDIRS || !strchr(optarg, '=')) {
				fprintf(stderr, "cocoon-mkinitrd: --elf DEST=HOST (at most %d)\n", MAX_LIBDIRS);
				return 2;
			}
			elfs[nelf++] = optarg;
			break;
		case 'E': epoch_s = optarg; break;
		case 'L':
			if (nlib == MAX_LIBDIRS) {
				fprintf(stderr, "cocoon-mkinitrd: too many --libdir\n");
				return 2;
			}
			libdirs[nlib++] = optarg;
			break;
		case 'k': kmoddir = optarg; break;
		case 'm': modfile = optarg; break;
		case 'M': shipfile = optarg; break;
		case 'l': listdest = optarg; break;
		case 'D': depmod = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out || (optind == argc && nelf == 0) || (!kmoddir != !modfile) || (shipfile && !kmoddir)) {
		fprintf(stderr, "cocoon-mkinitrd: need -o OUT, a LISTFILE or --elf, and -k with -m together\n");
		usage(stderr);
		return 2;
	}
	uint64_t epoch = 0;
	if (epoch_s && *epoch_s) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(epoch_s, &end, 10);
		if (errno || *end || v > UINT32_MAX) {
			fprintf(stderr, "cocoon-mkinitrd: bad epoch '%s' (decimal seconds, < 2^32)\n", epoch_s);
			return 2;
		}
		epoch = v;
	}

	struct cm_err e = {0};
	struct mi_tree t = {0};
	struct mi_buf cpio = {0}, z = {0};
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;
	for (int i = optind; i < argc && rc == 0; i++)
		rc = mi_add_listfile(&t, argv[i], nlib ? libdirs : NULL, &e);
	for (size_t i = 0; i < nelf && rc == 0; i++) {
		char dest[MI_MAX_PATH];
		const char *eq = strchr(elfs[i], '=');
		snprintf(dest, sizeof(dest), "%.*s", (int)(eq - elfs[i]), elfs[i]);
		rc = mi_add_elf(&t, dest, eq + 1, nlib ? libdirs : NULL, &e);
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
