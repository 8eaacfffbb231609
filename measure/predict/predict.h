/* RTMR0-3 prediction for a QEMU direct boot with OVMF/TDVF (specs/measurement.md §3), the
 * SHA-256 TPM PCRs of the same boot with a vTPM (docs/measurement.md "TPM PCRs"; one set of
 * event builders for both), the ACPI loader/RSDP derivation (§3.4) and the whole-image
 * VM.json description (docs/measurement.md). */
#ifndef COCOON_MEASURE_PREDICT_H
#define COCOON_MEASURE_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/digest.h"
#include "measure/core/util.h"
#include "measure/eventlog/eventlog.h"
#include "measure/predict/tdvf.h"

/* OVMF event-layout generations. */
enum cm_ovmf_profile {
	CM_OVMF_PRE202411,     /* ReadyToBoot separator in RTMR0 */
	CM_OVMF_202411_202502, /* separator in RTMR1 (edk2 efaf8931) */
	CM_OVMF_202505,        /* extra fw_cfg / Boot0001 events: RTMR0 only from a reference log */
};
/* Which kernel bytes OVMF measures. */
enum cm_kernel_mode {
	CM_KERNEL_UNPATCHED,    /* QEMU >= 10 etc/boot/kernel with OVMF >= 202502 (Debian) */
	CM_KERNEL_QEMU_PATCHED, /* legacy fw_cfg kernel with QEMU's setup-header patches */
};
int cm_ovmf_profile_parse(const char *s, enum cm_ovmf_profile *p);
const char *cm_ovmf_profile_name(enum cm_ovmf_profile p);
int cm_kernel_mode_parse(const char *s, enum cm_kernel_mode *m);
const char *cm_kernel_mode_name(enum cm_kernel_mode m);

/* QEMU's etc/table-loader (4096-byte aligned) derived from etc/acpi/tables. */
int cm_acpi_derive_loader(const uint8_t *tables, size_t len, uint8_t **loader, size_t *loader_len,
			  struct cm_err *e);
/* QEMU's unpatched etc/acpi/rsdp (20 bytes) for etc/acpi/tables. */
int cm_acpi_derive_rsdp(const uint8_t *tables, size_t len, uint8_t rsdp[20], struct cm_err *e);

/* UCS-2 LoadOptions OVMF passes to the kernel: cmdline (+ " initrd=initrd") + NUL.
 * *out is malloc'ed; *len 0 (and *out NULL) when there is no cmdline and no initrd. */
int cm_load_options(const char *cmdline, bool has_initrd, uint8_t **out, size_t *len,
		    struct cm_err *e);

#define CM_PREDICT_MAX_EVENTS 96
#define CM_PREDICT_DESC 160

struct cm_pevent {
	int reg;            /* TDX: 0..3 = RTMR0..3; TPM: the PCR index */
	uint32_t type;      /* TCG event type (0 for RTMR3 runtime events) */
	uint8_t digest[48];
	char desc[CM_PREDICT_DESC];
};

struct cm_prediction {
	enum cm_hash_alg alg;                       /* SHA-384 (RTMRs) or SHA-256 (TPM PCRs) */
	struct cm_pevent ev[CM_PREDICT_MAX_EVENTS]; /* chronological */
	size_t n;
	uint8_t rtmr[4][48];                        /* cm_predict */
	uint8_t pcr[CM_TPM_PCRS][32];               /* cm_predict_tpm */
	bool pcr_known[CM_TPM_PCRS];                /* predicted; else pcr_unknown says why */
	const char *pcr_unknown[CM_TPM_PCRS];
};

struct cm_predict_input {
	enum cm_ovmf_profile profile;
	enum cm_kernel_mode kernel_mode;
	/* RTMR0 */
	const uint8_t *fw;
	size_t fw_len;
	const struct cm_tdvf *tdvf;
	uint64_t mem;
	const uint8_t *acpi_tables; /* etc/acpi/tables as captured */
	size_t acpi_tables_len;
	const uint8_t *rsdp;        /* optional captured etc/acpi/rsdp (else derived) */
	size_t rsdp_len;
	const uint8_t *loader;      /* optional captured etc/table-loader (else derived) */
	size_t loader_len;
	const struct cm_pevent *rtmr0_events; /* optional: RTMR0 taken from a reference log */
	size_t n_rtmr0_events;
	/* RTMR1 / RTMR2 (kernel NULL: not predicted) */
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* NULL: no -initrd; an empty one only affects the QEMU patch */
	size_t initrd_len;
	const char *cmdline;
	/* RTMR3: runtime events in order (digests from cm_rtmr3_event_digest) */
	const struct cm_pevent *rtmr3_events;
	size_t n_rtmr3_events;
	/* TPM: the events of a reference TPM log (SHA-256, reg = PCR); PCR 0 (and PCR 1 without
	 * the captured ACPI blobs) are taken from it (NULL: not predicted) */
	const struct cm_pevent *tpm_events;
	size_t n_tpm_events;
};

/* Copy the events a replayed log extended into register reg (a CCEL log: RTMR 0..3; a TPM
 * log: PCR 0..23) as prediction events (for RTMR0 or PCR 0/1 taken from a reference log).
 * Returns the count (at most max). */
size_t cm_pevents_from_log(const struct cm_eventlog *l, int reg, struct cm_pevent *out, size_t max);

/* Predict the event sequence and RTMR0..3. RTMR1/2 are skipped (left zero, no events)
 * when in->kernel is NULL. */
int cm_predict(const struct cm_predict_input *in, struct cm_prediction *out, struct cm_err *e);

/* Predict the SHA-256 TPM PCRs of the same direct boot with a vTPM (OVMF Tcg2Pei/Tcg2Dxe,
 * Linux EFI stub): PCR 2-7 and 9 from the files (the same event builders as cm_predict), 8
 * zero, 1 from the captured ACPI blobs (acpi_tables and loader, captured with the TPM
 * attached) or else in->tpm_events, 0 from in->tpm_events; without them and for 10-23 the
 * reason is in out->pcr_unknown. Needs in->kernel. */
int cm_predict_tpm(const struct cm_predict_input *in, struct cm_prediction *out, struct cm_err *e);

/* JSON: {"rtmr0": [ {digest, event_type, type_name, description}...], ...}. */
json_object *cm_prediction_events_json(const struct cm_prediction *p);
/* TPM: returns {"<pcr>": sha256 hex} of the predicted PCRs; *events gets {"<pcr>": [events]}
 * and *unknown {"<pcr>": "why not predicted"}. */
json_object *cm_tpm_prediction_json(const struct cm_prediction *p, json_object **events,
				    json_object **unknown);

#endif
