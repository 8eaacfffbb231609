/* Whole-image measurement from a VM.json description (docs/measurement.md): MRTD,
 * RTMR0-3, the Cocoon image hash, per-register events and the sha256 of every input. */
#ifndef COCOON_MEASURE_PREDICT_IMAGE_H
#define COCOON_MEASURE_PREDICT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/util.h"
#include "measure/predict/predict.h"

#include "measure/core/json.h"

#define CM_RTMR3_SPEC_EVENTS_MAX 4
#define CM_SPEC_FILE "cocoon.json"

/* RTMR3 events cocoon-init extends for a spec directory: cocoon:spec.tree=<hash>,
 * cocoon:gpu_verified when the directory's cocoon.json says "gpu": "required", optional
 * cocoon:cocoon_debug, cocoon:tdx_inited (DESIGN.md boot flow; docs/boot.md). A directory
 * without cocoon.json (Cocoon's own specs) requires no GPU. ev needs room for
 * CM_RTMR3_SPEC_EVENTS_MAX entries; tree gets the 32-byte tree id. */
int cm_rtmr3_spec_events(const char *dir, bool debug, struct cm_pevent ev[CM_RTMR3_SPEC_EVENTS_MAX], size_t *n,
			 uint8_t tree[32], struct cm_err *e);

/* The "gpu" member of a cocoon.json root object: "required" -> true, "off" or absent ->
 * false, anything else -EINVAL naming the path. cocoon-init's spec parser and the RTMR3
 * prediction share this rule. */
int cm_spec_gpu_member(const struct cm_jv *root, bool *required, struct cm_err *e);
/* The same for DIR/cocoon.json (absent: false). */
int cm_spec_gpu_required(const char *dir, bool *required, struct cm_err *e);

/* Measure the image VM.json describes (paths relative to its directory). Also accepts
 * tdx-measure's metadata.json shape ("boot_config" + "direct"). *out gets the result. */
int cm_measure_image(const char *vm_json, json_object **out, struct cm_err *e);
/* The same; with tpm, also the SHA-256 TPM PCRs of the boot with a vTPM (cm_predict_tpm):
 * "pcrs" {"<pcr>": hex}, "pcr_bank", "pcr_trust" (they are no TDX trust anchor),
 * "pcrs_not_predicted" {"<pcr>": why}, "tpm_events"
 * {"<pcr>": [events]}; PCR 0 and 1 come from VM.json's "tpm_log" (a reference log) if given. */
int cm_measure_image_ex(const char *vm_json, bool tpm, json_object **out, struct cm_err *e);

/* "100G", "2048M", "4096K", "17179869184" -> bytes (binary units). */
int cm_parse_size(const char *s, uint64_t *out);

#endif
