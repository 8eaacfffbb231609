/* The image directory a release ships (built by image-recipes/, documented in
 * docs/operator-guide.md):
 *
 *   OVMF.fd  vmlinuz  initrd.img  cmdline  rootfs.img  manifest.json
 *
 * manifest.json: {"artifacts": {"OVMF.fd": {"sha256": "<hex>"}, ...},
 *                 "cmdline_variants": {"debug": " cocoon.debug", ...}}   (the latter optional)
 *
 * `cmdline` is measured (RTMR2) and is used verbatim; the only changes the launcher
 * makes are the explicit variants below, each announced on stderr. */
#ifndef COCOON_LAUNCH_IMAGE_H
#define COCOON_LAUNCH_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include "host-launcher/config.h"
#include "measure/core/util.h"

enum cl_artifact { CL_ART_OVMF, CL_ART_KERNEL, CL_ART_INITRD, CL_ART_CMDLINE, CL_ART_ROOTFS, CL_ART_N };

#define CL_CMDLINE_MAX 4096

extern const char *const cl_artifact_names[CL_ART_N];

struct cl_variant {
	const char *name;    /* debug, gpu, sim */
	const char *append;  /* appended verbatim to the measured cmdline */
};
extern const struct cl_variant cl_variants[3];

struct cl_manifest {
	bool have[CL_ART_N];
	uint8_t sha256[CL_ART_N][32];
	/* variants named by the manifest; "" when absent */
	char variant_append[3][64];
};

/* Parse manifest.json text. Unknown artifacts are errors; missing artifacts are
 * reported by cl_manifest_verify. */
int cl_manifest_parse(struct cl_manifest *m, const char *text, size_t len, struct cm_err *e);
int cl_manifest_load(struct cl_manifest *m, const char *image_dir, struct cm_err *e);

/* Hash one artifact file and compare it with the manifest. */
int cl_artifact_verify(const struct cl_manifest *m, const char *image_dir, enum cl_artifact a,
		       struct cm_err *e);

/* sha256 of a file, streamed. */
int cl_file_sha256(const char *path, uint8_t out[32], struct cm_err *e);

/* path = image_dir/name */
void cl_artifact_path(const char *image_dir, enum cl_artifact a, char *out, size_t outsz);

/* Read `cmdline` (one line; a single trailing newline is dropped, any other control
 * character is an error) and append the variants selected in c, in fixed order
 * debug, gpu, sim. Variants the manifest names must agree with the built-in text. */
int cl_cmdline_build(const struct cl_config *c, const struct cl_manifest *m, const char *base,
		     char *out, size_t outsz, struct cm_err *e);
int cl_cmdline_read(const char *image_dir, char *out, size_t outsz, struct cm_err *e);

/* The profile's file names (profile cocoon: Cocoon's image directory, OVMF.fd image.vmlinuz
 * image.initrd image.cmdline image.img) and its cmdline file (cocoon: stripped, as
 * Cocoon's launcher reads it; cl_cmdline_build then appends Cocoon's suffixes:
 * " cocoon_debug" with debug, " cocoon_gpu" with a GPU, else " modprobe.blacklist=nvidia"). */
extern const char *const cl_cocoon_artifact_names[CL_ART_N];
void cl_config_artifact(const struct cl_config *c, enum cl_artifact a, char *out, size_t outsz);
int cl_config_cmdline_read(const struct cl_config *c, char *out, size_t outsz, struct cm_err *e);

#endif
