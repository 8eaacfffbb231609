/* Attestation backends: one small interface over the TD's measurement registers and
 * quote generation (DESIGN.md "Attestation backends").
 *
 *   tdx  configfs-tsm reports (one report directory per request, generation checked),
 *        RTMR extend through /sys/class/misc/tdx_guest/measurements/rtmrN:sha384
 *        (Linux >= 6.16), TDREPORT through /dev/tdx_guest.
 *   sim  a software TD for machines without TDX: register state and a test PCK CA in
 *        $COCOON_SIM_DIR (default /run/cocoon/sim; root certificate root.pem, matching
 *        collateral bundle collateral.json); quotes in the exact TDX v4 layout, verifiable
 *        by libmeasure with root.pem as the trust anchor. Only when the measured cmdline
 *        selects it.
 *
 * RTMR3 event log (docs/formats.md): every extend made through ca_extend() with an event
 * message appends that message as one line ("<message>\n") to the log file given to
 * ca_open(); the digest extended is SHA-384(message). Messages are printable ASCII
 * (0x20..0x7e), at most CA_EVENT_MAX bytes. Replay: R = 0^48; for each line m:
 * R = SHA-384(R || SHA-384(m)). This is the format of Cocoon's /var/log/tdx-attestation.log.
 */
#ifndef COCOON_GUEST_ATTEST_H
#define COCOON_GUEST_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define CA_RTMR_COUNT 4
#define CA_REPORT_DATA_LEN 64
#define CA_EVENT_MAX 1024
#define CA_TDREPORT_LEN 1024

struct ca_backend;

/* Operations a backend implements (guest/attest/tdx.c, guest/attest/sim.c). */
struct ca_ops {
	const char *name;
	int (*open)(struct ca_backend *b, struct cm_err *e);
	int (*extend)(struct ca_backend *b, int rtmr, const uint8_t digest[48], struct cm_err *e);
	int (*read)(struct ca_backend *b, int rtmr, uint8_t out[48], struct cm_err *e);
	/* A DCAP quote over report_data; *quote is malloc'd. */
	int (*quote)(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t **quote,
		     size_t *len, struct cm_err *e);
	void (*close)(struct ca_backend *b);
	/* Optional (NULL = not supported): a 1024-byte TDREPORT over report_data
	 * (tdx: /dev/tdx_guest TDX_CMD_GET_REPORT0), for key providers that talk to a
	 * local sealing service. */
	int (*tdreport)(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN],
			uint8_t report[CA_TDREPORT_LEN], struct cm_err *e);
	/* Optional (NULL = extend with SHA-384(message)): a backend that measures the message
	 * itself (tpm: TPM2_PCR_Event into PCR 15, each bank its own hash). */
	int (*extend_event)(struct ca_backend *b, int rtmr, const char *message, struct cm_err *e);
};

struct ca_backend {
	const struct ca_ops *ops;
	char event_log[256]; /* RTMR3 event log path, "" for none */
	void *priv;          /* backend state */
};

/* Open backend "tdx", "sim" or "tpm" (guest/attest/tpm.h: only in binaries that link
 * guest/attest/tpm.o and tpm2-tss; the others answer "not built into this binary"). event_log
 * may be NULL (no log). With tpm the log's lines replay into PCR 15's SHA-256 bank:
 * P = 0^32; for each line m: P = SHA-256(P || SHA-256(m)). */
int ca_open(const char *name, const char *event_log, struct ca_backend **out, struct cm_err *e);

/* Extend rtmr with SHA-384(message) and append message to the event log (RTMR3 only
 * may carry runtime events; rtmr 0..2 are the firmware's and are refused). */
int ca_extend_event(struct ca_backend *b, int rtmr, const char *message, struct cm_err *e);

int ca_read(struct ca_backend *b, int rtmr, uint8_t out[48], struct cm_err *e);
int ca_quote(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t **quote,
	     size_t *len, struct cm_err *e);
void ca_close(struct ca_backend *b);

/* Extensions (guest/attest/attest.c). */

/* Open a backend from its ops with an initial priv (backend options, e.g. from
 * ca_tdx_open() in tdx.h). priv stays the caller's on failure; after success the
 * backend's close frees it. */
int ca_open_ops(const struct ca_ops *ops, const char *event_log, void *priv, struct ca_backend **out,
		struct cm_err *e);

/* TDREPORT through the backend (-ENOTSUP when it has none). */
int ca_tdreport(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN],
		uint8_t report[CA_TDREPORT_LEN], struct cm_err *e);

#endif
