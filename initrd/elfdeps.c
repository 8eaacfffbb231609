/* cocoon-mkinitrd: the shared-library closure of ELF binaries (PT_INTERP + DT_NEEDED),
 * parsed directly (no ldd, no running the binary). ELF64 little-endian only. */
#include "initrd/elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MI_MAX_ELF (256u * 1024 * 1024)
#define MI_MAX_NEEDED 256

static const char *const default_libdirs[] = {
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib", NULL,
};

static bool in_bounds(size_t len, uint64_t off, uint64_t n)
{
	return off <= len && n <= len - off;
}

/* File offset of virtual address va through the PT_LOAD segments. */
static int va_to_off(const uint8_t *b, size_t len, const Elf64_Ehdr *eh, uint64_t va, uint64_t *off)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, b + eh->e_phoff + (uint64_t)i * eh->e_phentsize, sizeof(ph));
		if (ph.p_type == PT_LOAD && va >= ph.p_vaddr && va - ph.p_vaddr < ph.p_filesz) {
			*off = ph.p_offset + (va - ph.p_vaddr);
			return in_bounds(len, *off, 1) ? 0 : -1;
		}
	}
	return -1;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int mi_elf_deps(const char *host, char **interp, char ***needed, size_t *n, struct cm_err *e)
{
	uint8_t *b;
	size_t len;
	*interp = NULL;
	*needed = NULL;
	*n = 0;
	int rc = cm_read_file(host, MI_MAX_ELF, &b, &len, e);
	if (rc < 0)
		return rc;
	Elf64_Ehdr eh;
	char **v = NULL;
	size_t nv = 0;
	if (len < sizeof(eh) || memcmp(b, ELFMAG, SELFMAG) != 0) {
		rc = cm_fail(e, -EINVAL, "%s: not an ELF file", host);
		goto out;
	}
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		rc = cm_fail(e, -EINVAL, "%s: not a 64-bit little-endian ELF file", host);
		goto out;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_bounds(len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr))) {
		rc = cm_fail(e, -EINVAL, "%s: program header table out of bounds (offset %llu, %u entries)", host,
			     (unsigned long long)eh.e_phoff, eh.e_phnum);
		goto out;
	}
	uint64_t dyn_off = 0, dyn_size = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, b + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP) {
			if (!in_bounds(len, ph.p_offset, ph.p_filesz) || ph.p_filesz < 2 || ph.p_filesz > PATH_MAX ||
			    b[ph.p_offset + ph.p_filesz - 1] != '\0' ||
			    strlen((const char *)b + ph.p_offset) != ph.p_filesz - 1) {
				rc = cm_fail(e, -EINVAL, "%s: malformed PT_INTERP at offset %llu", host,
					     (unsigned long long)ph.p_offset);
				goto out;
			}
			free(*interp);
			*interp = strdup((const char *)b + ph.p_offset);
			if (!*interp) {
				rc = cm_fail(e, -ENOMEM, "out of memory");
				goto out;
			}
		} else if (ph.p_type == PT_DYNAMIC) {
			if (!in_bounds(len, ph.p_offset, ph.p_filesz)) {
				rc = cm_fail(e, -EINVAL, "%s: PT_DYNAMIC out of bounds", host);
				goto out;
			}
			dyn_off = ph.p_offset;
			dyn_size = ph.p_filesz;
		}
	}
	if (dyn_size) {
		uint64_t strtab_va = 0, strsz = 0;
		size_t cnt = dyn_size / sizeof(Elf64_Dyn);
		for (size_t i = 0; i < cnt; i++) {
			Elf64_Dyn d;
			memcpy(&d, b + dyn_off + i * sizeof(d), sizeof(d));
			if (d.d_tag == DT_NULL)
				break;
			if (d.d_tag == DT_STRTAB)
				strtab_va = d.d_un.d_ptr;
			else if (d.d_tag == DT_STRSZ)
				strsz = d.d_un.d_val;
		}
		uint64_t stroff;
		if (!strtab_va || va_to_off(b, len, &eh, strtab_va, &stroff) < 0 || !in_bounds(len, stroff, strsz)) {
			rc = cm_fail(e, -EINVAL, "%s: DT_STRTAB missing or out of bounds", host);
			goto out;
		}
		for (size_t i = 0; i < cnt; i++) {
			Elf64_Dyn d;
			memcpy(&d, b + dyn_off + i * sizeof(d), sizeof(d));
			if (d.d_tag == DT_NULL)
				break;
			if (d.d_tag != DT_NEEDED)
				continue;
			uint64_t o = d.d_un.d_val;
			const char *s = (const char *)b + stroff + o;
			if (o >= strsz || !memchr(s, '\0', strsz - o) || !*s || strchr(s, '/')) {
				rc = cm_fail(e, -EINVAL, "%s: bad DT_NEEDED string offset %llu", host, (unsigned long long)o);
				goto out;
			}
			if (nv == MI_MAX_NEEDED) {
				rc = cm_fail(e, -E2BIG, "%s: more than %d DT_NEEDED entries", host, MI_MAX_NEEDED);
				goto out;
			}
			char **nvv = realloc(v, (nv + 1) * sizeof(*v));
			if (!nvv || !(nvv[nv] = strdup(s))) {
				if (nvv)
					v = nvv;
				rc = cm_fail(e, -ENOMEM, "out of memory");
				goto out;
			}
			v = nvv;
			nv++;
		}
	}
	*needed = v;
	*n = nv;
	v = NULL;
	nv = 0;
	rc = 0;
out:
	free_strv(v, nv);
	if (rc < 0) {
		free(*interp);
		*interp = NULL;
	}
	free(b);
	return rc;
}

/* Find a library by name in libdirs; the first regular file (symlinks followed) wins. */
static int find_lib(const char *name, const char *const *libdirs, char *out, size_t outsz, struct cm_err *e)
{
	for (size_t i = 0; libdirs[i]; i++) {
		int n = snprintf(out, outsz, "%s/%s", libdirs[i], name);
		if (n < 0 || (size_t)n >= outsz)
			continue;
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
	}
	return cm_fail(e, -ENOENT, "shared library %s not found in %s ...", name, libdirs[0]);
}

int mi_add_elf(struct mi_tree *t, const char *path, const char *host, const char *const *libdirs,
	       struct cm_err *e)
{
	if (!libdirs || !libdirs[0])
		libdirs = default_libdirs;
	int rc = mi_add_file(t, path, host, 0755, e);
	if (rc < 0)
		return rc;
	/* Work list of host files whose dependencies are still to be scanned; seen holds
	 * library names already resolved (the closure is a set, order does not matter:
	 * the archive is sorted). */
	char **work = NULL, **seen = NULL;
	size_t nwork = 0, nseen = 0;
	if (!(work = malloc(sizeof(*work))) || !(work[0] = strdup(host))) {
		free(work);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	nwork = 1;
	while (nwork && rc == 0) {
		char *cur = work[--nwork];
		char *interp = NULL, **needed = NULL;
		size_t nn = 0;
		rc = mi_elf_deps(cur, &interp, &needed, &nn, e);
		if (rc == 0 && interp)
			rc = mi_add_file(t, interp, interp, 0755, e);
		for (size_t i = 0; i < nn && rc == 0; i++) {
			bool dup = false;
			for (size_t j = 0; j < nseen && !dup; j++)
				dup = strcmp(seen[j], needed[i]) == 0;
			if (dup)
				continue;
			char lib[PATH_MAX];
			rc = find_lib(needed[i], libdirs, lib, sizeof(lib), e);
			if (rc < 0) {
				cm_err_prefix(e, "%s (needed by %s)", needed[i], cur);
				break;
			}
			rc = mi_add_file(t, lib, lib, 0755, e);
			if (rc < 0)
				break;
			char **ns = realloc(seen, (nseen + 1) * sizeof(*seen));
			char **nw = ns ? realloc(work, (nwork + 1) * sizeof(*work)) : NULL;
			if (ns)
				seen = ns;
			if (nw)
				work = nw;
			if (!ns || !nw || !(seen[nseen] = strdup(needed[i]))) {
				rc = cm_fail(e, -ENOMEM, "out of memory");
				break;
			}
			nseen++;
			if (!(work[nwork] = strdup(lib))) {
				rc = cm_fail(e, -ENOMEM, "out of memory");
				break;
			}
			nwork++;
		}
		free(interp);
		free_strv(needed, nn);
		free(cur);
	}
	free_strv(work, nwork);
	free_strv(seen, nseen);
	return rc < 0 ? rc : 0;
}
