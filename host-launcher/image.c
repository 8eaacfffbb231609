/* Image directory, manifest.json and the measured cmdline. */
#include "host-launcher/image.h"
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

#define MANIFEST_MAX (4 * 1024 * 1024)

const char *const cl_artifact_names[CL_ART_N] = {
	[CL_ART_OVMF] = "OVMF.fd",
	[CL_ART_KERNEL] = "vmlinuz",
	[CL_ART_INITRD] = "initrd.img",
	[CL_ART_CMDLINE] = "cmdline",
	[CL_ART_ROOTFS] = "rootfs.img",
};

/* Fixed order: the appended text, and so RTMR2, does not depend on option order. */
const struct cl_variant cl_variants[3] = {
	{ "debug", " cocoon.debug" },
	{ "gpu", " cocoon.gpu=required" },
	{ "sim", " cocoon.attest=sim" },
};

/* Cocoon's image directory (reprodebian/qemu-tdx-launch, scripts/cocoon-launch). */
const char *const cl_cocoon_artifact_names[CL_ART_N] = {
	[CL_ART_OVMF] = "OVMF.fd",
	[CL_ART_KERNEL] = "image.vmlinuz",
	[CL_ART_INITRD] = "image.initrd",
	[CL_ART_CMDLINE] = "image.cmdline",
	[CL_ART_ROOTFS] = "image.img",
};

void cl_config_artifact(const struct cl_config *c, enum cl_artifact a, char *out, size_t outsz)
{
	if (c->profile == CL_PROFILE_COCOON)
		snprintf(out, outsz, "%s/%s", c->image_dir, cl_cocoon_artifact_names[a]);
	else
		cl_artifact_path(c->image_dir, a, out, outsz);
}

void cl_artifact_path(const char *image_dir, enum cl_artifact a, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", image_dir, cl_artifact_names[a]);
}

int cl_manifest_parse(struct cl_manifest *m, const char *text, size_t len, struct cm_err *e)
{
	memset(m, 0, sizeof(*m));
	struct cm_jv root, arts, vars;
	int r = cm_json_read(text, len, MANIFEST_MAX, "manifest.json", &root, e);
	if (r < 0)
		return r;
	if ((r = cm_jv_object(&root, NULL, e)) < 0 || (r = cm_jv_need(&root, "artifacts", &arts, e)) < 0 ||
	    (r = cm_jv_object(&arts, NULL, e)) < 0)
		goto out;
	for (int a = 0; a < CL_ART_N; a++) {
		struct cm_jv ent, sha;
		if (!cm_jv_get(&arts, cl_artifact_names[a], &ent))
			continue;
		if ((r = cm_jv_object(&ent, NULL, e)) < 0 || (r = cm_jv_need(&ent, "sha256", &sha, e)) < 0 ||
		    (r = cm_jv_hex(&sha, m->sha256[a], 32, e)) < 0)
			goto out;
		m->have[a] = true;
	}
	if (cm_jv_get(&root, "cmdline_variants", &vars)) {
		if ((r = cm_jv_object(&vars, NULL, e)) < 0)
			goto out;
		json_object_object_foreach(vars.o, k, v) {
			struct cm_jv var = cm_jv_member(&vars, k, v);
			int idx = -1;
			for (int i = 0; i < 3; i++)
				if (!strcmp(k, cl_variants[i].name))
					idx = i;
			if (idx < 0) {
				r = cm_jv_fail(&var, e, -EINVAL, "unknown cmdline variant");
				goto out;
			}
			if ((r = cm_jv_strcpy(&var, m->variant_append[idx], sizeof(m->variant_append[idx]), e)) < 0)
				goto out;
		}
	}
out:
	cm_json_release(&root);
	return r;
}

int cl_manifest_load(struct cl_manifest *m, const char *image_dir, struct cm_err *e)
{
	char path[CL_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/manifest.json", image_dir);
	uint8_t *buf;
	size_t len;
	int r = cm_read_file(path, MANIFEST_MAX, &buf, &len, e);
	if (r < 0)
		return r;
	r = cl_manifest_parse(m, (const char *)buf, len, e);
	free(buf);
	if (r < 0)
		cm_err_prefix(e, "%s", image_dir);
	return r;
}

int cl_file_sha256(const char *path, uint8_t out[32], struct cm_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "cannot open %s (%s)", path, strerror(errno));
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	if (!h) {
		close(fd);
		return cm_fail(e, -ENOMEM, "sha256 %s (out of memory)", path);
	}
	static const size_t bufsz = 1 << 20;
	uint8_t *buf = malloc(bufsz);
	int r = buf ? 0 : cm_fail(e, -ENOMEM, "sha256 %s (out of memory)", path);
	while (r == 0) {
		ssize_t n = read(fd, buf, bufsz);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = cm_fail(e, -errno, "cannot read %s (%s)", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (cm_hash_update(h, buf, (size_t)n) < 0)
			r = cm_fail(e, -EIO, "sha256 %s failed", path);
	}
	if (r == 0 && cm_hash_final(h, out) < 0)
		r = cm_fail(e, -EIO, "sha256 %s failed", path);
	free(buf);
	cm_hash_free(h);
	close(fd);
	return r;
}

int cl_artifact_verify(const struct cl_manifest *m, const char *image_dir, enum cl_artifact a,
		       struct cm_err *e)
{
	char path[CL_PATH_MAX + 32];
	cl_artifact_path(image_dir, a, path, sizeof(path));
	if (!m->have[a])
		return cm_fail(e, -ENOENT, "manifest.json has no sha256 for %s", cl_artifact_names[a]);
	uint8_t got[32];
	int r = cl_file_sha256(path, got, e);
	if (r < 0)
		return r;
	if (memcmp(got, m->sha256[a], 32) != 0) {
		char gh[65], wh[65];
		cm_hex_encode(got, 32, gh, sizeof(gh));
		cm_hex_encode(m->sha256[a], 32, wh, sizeof(wh));
		return cm_fail(e, -EBADMSG, "%s: sha256 %s does not match manifest.json (%s)", path, gh, wh);
	}
	return 0;
}

static int read_cmdline_file(const char *path, char *out, size_t outsz, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int r = cm_read_file(path, CL_CMDLINE_MAX, &buf, &len, e);
	if (r < 0)
		return r;
	if (len && buf[len - 1] == '\n')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			unsigned bad = buf[i];
			free(buf);
			return cm_fail(e, -EINVAL, "%s: byte 0x%02x at offset %zu is not printable ASCII",
				       path, bad, i);
		}
	if (len + 1 > outsz) {
		free(buf);
		return cm_fail(e, -ENOSPC, "%s: cmdline too long", path);
	}
	memcpy(out, buf, len);
	out[len] = 0;
	free(buf);
	return 0;
}

int cl_cmdline_read(const char *image_dir, char *out, size_t outsz, struct cm_err *e)
{
	char path[CL_PATH_MAX + 32];
	cl_artifact_path(image_dir, CL_ART_CMDLINE, path, sizeof(path));
	return read_cmdline_file(path, out, outsz, e);
}

int cl_config_cmdline_read(const struct cl_config *c, char *out, size_t outsz, struct cm_err *e)
{
	char path[CL_PATH_MAX + 32];
	cl_config_artifact(c, CL_ART_CMDLINE, path, sizeof(path));
	if (c->profile != CL_PROFILE_COCOON)
		return read_cmdline_file(path, out, outsz, e);
	/* Cocoon: cmdline_file.read_text().strip() */
	uint8_t *buf;
	size_t len;
	int r = cm_read_file(path, CL_CMDLINE_MAX, &buf, &len, e);
	if (r < 0)
		return r;
	size_t a = 0;
	while (a < len && strchr(" \t\r\n", buf[a]))
		a++;
	while (len > a && strchr(" \t\r\n", buf[len - 1]))
		len--;
	char *tmp = strndup((const char *)buf + a, len - a);
	free(buf);
	if (!tmp)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (const char *p = tmp; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			free(tmp);
			return cm_fail(e, -EINVAL, "%s: not one line of printable ASCII", path);
		}
	if (strlen(tmp) + 1 > outsz) {
		free(tmp);
		return cm_fail(e, -ENOSPC, "%s: cmdline too long", path);
	}
	memcpy(out, tmp, strlen(tmp) + 1);
	free(tmp);
	return 0;
}

/* Cocoon's run_qemu: ' cocoon_debug' (test), then ' cocoon_gpu' with a GPU, else
 * ' modprobe.blacklist=nvidia'. */
static int cocoon_cmdline(const struct cl_config *c, const char *base, char *out, size_t outsz, struct cm_err *e)
{
	int n = snprintf(out, outsz, "%s%s%s", base, c->debug ? " cocoon_debug" : "",
			 c->n_gpus ? " cocoon_gpu" : " modprobe.blacklist=nvidia");
	if (n < 0 || (size_t)n >= outsz)
		return cm_fail(e, -ENOSPC, "cmdline too long");
	return 0;
}

int cl_cmdline_build(const struct cl_config *c, const struct cl_manifest *m, const char *base,
		     char *out, size_t outsz, struct cm_err *e)
{
	if (c->profile == CL_PROFILE_COCOON)
		return cocoon_cmdline(c, base, out, outsz, e);
	const bool sel[3] = { c->debug, c->gpu_required, c->sim };
	size_t n = strlen(base);
	if (n + 1 > outsz)
		return cm_fail(e, -ENOSPC, "cmdline too long");
	memcpy(out, base, n + 1);
	for (int i = 0; i < 3; i++) {
		if (!sel[i])
			continue;
		if (m && m->variant_append[i][0] && strcmp(m->variant_append[i], cl_variants[i].append))
			return cm_fail(e, -EINVAL,
				       "manifest.json: cmdline variant %s appends '%s', this launcher appends '%s'",
				       cl_variants[i].name, m->variant_append[i], cl_variants[i].append);
		size_t a = strlen(cl_variants[i].append);
		if (n + a + 1 > outsz)
			return cm_fail(e, -ENOSPC, "cmdline too long with variant %s", cl_variants[i].name);
		memcpy(out + n, cl_variants[i].append, a + 1);
		n += a;
	}
	return 0;
}
