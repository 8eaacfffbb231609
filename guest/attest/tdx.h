/* The "tdx" attestation backend (attestation.md §5), with its kernel interfaces
 * behind a root prefix and an I/O table so unit tests run it against a fake
 * configfs/sysfs tree that mimics the kernel ABI. */
#ifndef COCOON_GUEST_ATTEST_TDX_H
#define COCOON_GUEST_ATTEST_TDX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest/attest/attest.h"

#define CA_TDX_RTMR_FMT "%s/sys/class/misc/tdx_guest/measurements/rtmr%d:sha384"
#define CA_TDX_REPORT_DIR "%s/sys/kernel/config/tsm/report"
#define CA_TDX_DEVICE "%s/dev/tdx_guest"
#define CA_TDX_QUOTE_MAX (64 * 1024) /* outblob buffer; a full buffer counts as truncated */
#define CA_TDX_QUOTE_MIN 1021        /* libtdx_attest rejects <= 1020 bytes */
#define CA_TDX_BUSY_RETRIES 20       /* EBUSY/EAGAIN retries per file operation */
#define CA_TDX_BUSY_SLEEP_MS 25
#define CA_TDX_RACE_RETRIES 4        /* whole-request retries after a generation race */

/* TDX_CMD_GET_REPORT0 = _IOWR('T', 1, struct { u8 reportdata[64]; u8 tdreport[1024]; }) */
#define CA_TDX_CMD_GET_REPORT0 0xC4405401u

/* Kernel file operations. Each returns >= 0 on success or -errno. */
struct ca_tdx_io {
	void *ctx;
	/* open(path, O_WRONLY) + one write of len bytes at offset 0 (must write all). */
	int (*write)(void *ctx, const char *path, const void *buf, size_t len);
	/* open(path, O_RDONLY) + read until EOF or max bytes; returns the length. */
	ssize_t (*read)(void *ctx, const char *path, void *buf, size_t max);
	/* TDX_CMD_GET_REPORT0 on the device node. */
	int (*get_report0)(void *ctx, const char *dev, const uint8_t report_data[64], uint8_t report[1024]);
};

/* The real syscalls. */
extern const struct ca_tdx_io ca_tdx_sys_io;

/* Open the tdx backend with kernel paths under root ("" or NULL = the real root) and
 * io (NULL = ca_tdx_sys_io). ca_open("tdx", ...) equals ca_tdx_open(NULL, NULL, ...). */
int ca_tdx_open(const char *root, const struct ca_tdx_io *io, const char *event_log, struct ca_backend **out,
		struct cm_err *e);

#endif
