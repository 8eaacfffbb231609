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

/* RTMR3 events cocoon-init extends for a spec directory: cocoon:spec.tree=<hash>,
 * optional cocoon:cocoon_debug, cocoon:tdx_inited (DESIGN.md boot flow). ev needs
 * room for 3 entries; tree gets the 32-byte tree id. */
int cm_rtmr3_spec_events(const char *dir, bool debug, struct cm_pevent ev[3], size_t *n,
			 uint8_t tree[32], struct cm_err *e);

/* Measure the image VM.json describes (paths relative to its directory). Also accepts
 * tdx-measure's metadata.json shape ("boot_config" + "direct"). *out gets the result. */
int cm_measure_image(const char *vm_json, json_object **out, struct cm_err *e);

/* "100G", "2048M", "4096K", "17179869184" -> bytes (binary units). */
int cm_parse_size(const char *s, uint64_t *out);

#endif
