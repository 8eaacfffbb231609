/* TCG2 crypto-agile event logs (TCG_PCR_EVENT2 after a SHA-1-format Spec ID event): the
 * TDX CC event log the ACPI CCEL table points to (SHA-384, MR index 1..4 = RTMR0-3,
 * specs/measurement.md §5) and a TPM's log (/sys/kernel/security/tpm0/binary_bios_measurements,
 * the SHA-256 bank, PCR 0..23, docs/measurement.md "TPM PCRs"): parse, replay, decode events,
 * and report anomalies. One parser for both; the kind selects the bank and the registers. */
#ifndef COCOON_MEASURE_EVENTLOG_H
#define COCOON_MEASURE_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/util.h"

#define CM_CCEL_TABLE_LEN 56
#define CM_EVENTLOG_MAX_LEN (64u << 20)
#define CM_EVENTLOG_MAX_EVENTS 65536
#define CM_EVENTLOG_MAX_ALGS 8
#define CM_TPM_PCRS 24

/* What a log measures into: the bank replayed and the register numbering. */
enum cm_eventlog_kind {
	CM_EVENTLOG_CCEL, /* SHA-384 (0x000c), MR index 1..4 = RTMR0..3 */
	CM_EVENTLOG_TPM,  /* SHA-256 (0x000b), PCR 0..23 */
};

/* Event types (TCG PC Client PFP). */
enum {
	CM_EV_PREBOOT_CERT = 0x0,
	CM_EV_POST_CODE = 0x1,
	CM_EV_NO_ACTION = 0x3,
	CM_EV_SEPARATOR = 0x4,
	CM_EV_ACTION = 0x5,
	CM_EV_EVENT_TAG = 0x6,
	CM_EV_S_CRTM_CONTENTS = 0x7,
	CM_EV_S_CRTM_VERSION = 0x8,
	CM_EV_CPU_MICROCODE = 0x9,
	CM_EV_PLATFORM_CONFIG_FLAGS = 0xa,
	CM_EV_TABLE_OF_DEVICES = 0xb,
	CM_EV_COMPACT_HASH = 0xc,
	CM_EV_IPL = 0xd,
	CM_EV_IPL_PARTITION_DATA = 0xe,
	CM_EV_NONHOST_CODE = 0xf,
	CM_EV_NONHOST_CONFIG = 0x10,
	CM_EV_NONHOST_INFO = 0x11,
	CM_EV_OMIT_BOOT_DEVICE_EVENTS = 0x12,
	CM_EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001,
	CM_EV_EFI_VARIABLE_BOOT = 0x80000002,
	CM_EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003,
	CM_EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004,
	CM_EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005,
	CM_EV_EFI_GPT_EVENT = 0x80000006,
	CM_EV_EFI_ACTION = 0x80000007,
	CM_EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008,
	CM_EV_EFI_HANDOFF_TABLES = 0x80000009,
	CM_EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000a,
	CM_EV_EFI_HANDOFF_TABLES2 = 0x8000000b,
	CM_EV_EFI_VARIABLE_BOOT2 = 0x8000000c,
	CM_EV_EFI_VARIABLE_AUTHORITY = 0x800000e0,
};

struct cm_ccel_table {
	uint8_t revision;
	bool checksum_ok;
	char oem_id[7];
	uint8_t cc_type;    /* 2 = TDX */
	uint8_t cc_subtype;
	uint64_t laml;      /* log area minimum length */
	uint64_t lasa;      /* log area start address */
};

/* Validate an ACPI CCEL table (signature, length, checksum). */
int cm_ccel_table_parse(const uint8_t *p, size_t len, struct cm_ccel_table *t, struct cm_err *e);

struct cm_event {
	size_t offset;       /* byte offset of the event in the log */
	uint32_t mr_index;   /* CCEL: CC MR index (1..4 = RTMR0..3); TPM: the PCR index */
	uint32_t type;
	enum cm_eventlog_kind kind;
	bool has_digest;
	uint8_t digest_len;  /* 48 (CCEL, SHA-384) or 32 (TPM, SHA-256) */
	uint8_t digest[48];  /* the replayed bank's digest */
	const uint8_t *data; /* borrowed from the log */
	uint32_t data_len;
	int content_check;   /* 1 digest == hash(data), 0 not content-bound, -1 mismatch */
};

struct cm_eventlog {
	enum cm_eventlog_kind kind;
	struct cm_event *ev;
	size_t n;
	size_t end;               /* offset just after the last event */
	size_t padding;           /* trailing bytes after the log (0xFF or zero fill) */
	bool end_marker;          /* stopped at MrIndex 0xFFFFFFFF */
	uint16_t alg_id[CM_EVENTLOG_MAX_ALGS];
	uint16_t alg_size[CM_EVENTLOG_MAX_ALGS];
	size_t nalgs;
	uint8_t rtmr[4][48];      /* CCEL: replayed */
	unsigned extends[4];
	uint8_t pcr[CM_TPM_PCRS][32]; /* TPM: replayed SHA-256 PCRs (PCR 0 starts at the
				       * StartupLocality event's locality, else zero) */
	unsigned pcr_extends[CM_TPM_PCRS];
	json_object *anomalies;   /* array of strings: duplicate separators, mismatches, ... */
};

/* Parse and replay a log. A structurally malformed log (truncated event, bad Spec ID
 * header, unknown algorithm, no SHA-384) fails naming the offset; semantic problems
 * are collected in l->anomalies. Always free with cm_eventlog_free (also on failure). */
int cm_eventlog_parse(const uint8_t *log, size_t len, struct cm_eventlog *l, struct cm_err *e);
/* The same for a TPM log: the SHA-256 bank replayed into PCR 0..23 (the Spec ID event must
 * list SHA-256; other banks are parsed and skipped). The log ends at its last byte. */
int cm_tpm_eventlog_parse(const uint8_t *log, size_t len, struct cm_eventlog *l, struct cm_err *e);
void cm_eventlog_free(struct cm_eventlog *l);

/* SHA-256 PCR values as text: one "<index> <64 hex>" a line (also "<index>: 0x<hex>", as
 * tpm2_pcrread prints; blank lines and '#' comments skipped), index 0..23, each at most once.
 * *mask gets bit i for every PCR i given. Errors name the line. At most 64 KiB. */
int cm_pcr_values_parse(const uint8_t *buf, size_t len, uint8_t pcr[CM_TPM_PCRS][32], uint32_t *mask,
			struct cm_err *e);

const char *cm_event_type_name(uint32_t type);
/* A readable description of an event (variable name, action string, blob name,
 * device path file name, kernel tag, RTMR3 message ...), written into buf. */
void cm_event_describe(const struct cm_event *ev, char *buf, size_t size);

/* JSON object of one event: index, offset, imr (0-based RTMR) and mr_index for a CCEL
 * event or pcr for a TPM event, type, type_name, digest, description, data_len, content_check. */
json_object *cm_event_to_json(const struct cm_event *ev, size_t index);

#endif
