/* The attestation backend object (attest.h): open on a backend's operations, the
 * operations every backend answers, and the RTMR3 event log. It calls no backend by name
 * (attest.c does), so the backends can open themselves through ca_open_ops. */
#include "guest/attest/attest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/eventlog/rtmr3.h"

int ca_open_ops(const struct ca_ops *ops, const char *event_log, void *priv, struct ca_backend **out,
		struct cm_err *e)
{
	*out = NULL;
	struct ca_backend *b = calloc(1, sizeof *b);
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	b->ops = ops;
	b->priv = priv;
	if (event_log && snprintf(b->event_log, sizeof b->event_log, "%s", event_log) >= (int)sizeof b->event_log) {
		free(b);
		return cm_fail(e, -ENAMETOOLONG, "event log path too long");
	}
	int r = ops->open(b, e);
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

static int log_append(const char *path, const char *m, struct cm_err *e)
{
	size_t n = strlen(m);
	char line[CA_EVENT_MAX + 2];
	memcpy(line, m, n);
	line[n] = '\n';
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return cm_fail(e, -errno, "event log %s: open (%s)", path, strerror(errno));
	ssize_t w = write(fd, line, n + 1);
	int err = errno;
	if (close(fd) < 0 && w == (ssize_t)(n + 1))
		return cm_fail(e, -errno, "event log %s: close (%s)", path, strerror(errno));
	if (w != (ssize_t)(n + 1))
		return cm_fail(e, w < 0 ? -err : -EIO, "event log %s: short write", path);
	return 0;
}

int ca_extend_event(struct ca_backend *b, int rtmr, const char *message, struct cm_err *e)
{
	if (rtmr != 3)
		return cm_fail(e, -EPERM, "RTMR%d belongs to the firmware; only RTMR3 takes runtime events", rtmr);
	uint8_t d[48];
	int r = cm_rtmr3_event_digest(message, strlen(message), d, e);
	if (r < 0)
		return r;
	r = b->ops->extend_event ? b->ops->extend_event(b, rtmr, message, e) : b->ops->extend(b, rtmr, d, e);
	if (r < 0)
		return cm_err_prefix(e, "extend RTMR3 with \"%.64s\"", message);
	/* Extend first, then log: a failure here is fatal for the caller, and a log
	 * that lacks a line never replays to the register. */
	if (b->event_log[0])
		return log_append(b->event_log, message, e);
	return 0;
}

int ca_read(struct ca_backend *b, int rtmr, uint8_t out[48], struct cm_err *e)
{
	if (rtmr < 0 || rtmr >= CA_RTMR_COUNT)
		return cm_fail(e, -EINVAL, "no RTMR%d", rtmr);
	return b->ops->read(b, rtmr, out, e);
}

int ca_quote(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t **quote, size_t *len,
	     struct cm_err *e)
{
	*quote = NULL;
	*len = 0;
	return b->ops->quote(b, report_data, quote, len, e);
}

int ca_tdreport(struct ca_backend *b, const uint8_t report_data[CA_REPORT_DATA_LEN], uint8_t report[CA_TDREPORT_LEN],
		struct cm_err *e)
{
	if (!b->ops->tdreport)
		return cm_fail(e, -ENOTSUP, "backend %s has no TDREPORT", b->ops->name);
	return b->ops->tdreport(b, report_data, report, e);
}

void ca_close(struct ca_backend *b)
{
	if (!b)
		return;
	if (b->ops->close)
		b->ops->close(b);
	free(b);
}
