/* The status channel client (status.h). */
#include "host-launcher/status.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "measure/core/json.h"
#include "measure/core/util.h"

int cl_status_scan(const char *buf, size_t len, const char *nonce, json_object **out, struct cm_err *e)
{
	*out = NULL;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		const char *line = buf + start;
		size_t n = i - start;
		start = i + 1;
		if (n == 0 || n > INT32_MAX)
			continue;
		struct cm_jv root;
		if (cm_json_read(line, n, CL_STATUS_ANSWER_MAX, "status", &root, NULL) < 0)
			continue; /* a stale, cut answer on the serial stream */
		json_object *o = json_object_get(root.o);
		cm_json_release(&root);
		if (!json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			continue;
		}
		json_object *v;
		if (json_object_object_get_ex(o, "nonce", &v) && json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), nonce)) {
			*out = o;
			return 1;
		}
		if (!json_object_object_get_ex(o, "nonce", NULL) && json_object_object_get_ex(o, "error", &v)) {
			int r = cm_fail(e, -EPROTO, "status: the guest refused the request (%.200s)",
					json_object_get_string(v));
			json_object_put(o);
			return r;
		}
		json_object_put(o);
	}
	return 0;
}

static int connect_to(const struct cl_status_addr *a, struct cm_err *e)
{
	int fd;
	if (a->path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(a->path) >= sizeof(sa.sun_path))
			return cm_fail(e, -ENAMETOOLONG, "status socket path %s too long", a->path);
		memcpy(sa.sun_path, a->path, strlen(a->path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return cm_fail(e, -errno, "status socket (%s)", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			int err = errno;
			close(fd);
			return cm_fail(e, -err, "cannot connect to the status channel at %s (%s; is the guest running?)",
				       a->path, strerror(err));
		}
	} else {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = a->cid, .svm_port = a->port };
		if ((fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return cm_fail(e, -errno, "vsock socket (%s)", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			int err = errno;
			close(fd);
			return cm_fail(e, -err, "cannot connect to the status channel at vsock %u:%u (%s)", a->cid,
				       a->port, strerror(err));
		}
	}
	return fd;
}

int cl_status_query(const struct cl_status_addr *a, unsigned timeout_ms, json_object **out, struct cm_err *e)
{
	*out = NULL;
	uint8_t rnd[8];
	char nonce[17], req[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return cm_fail(e, -EIO, "status: no random nonce (%s)", strerror(errno));
	cm_hex_encode(rnd, sizeof(rnd), nonce, sizeof(nonce));
	int len = snprintf(req, sizeof(req), "status %s\n", nonce);
	int fd = connect_to(a, e);
	if (fd < 0)
		return fd;
	long long deadline = cm_mono_ms() + timeout_ms;
	char *buf = malloc(CL_STATUS_ANSWER_MAX);
	int r = buf ? 0 : cm_fail(e, -ENOMEM, "status: out of memory");
	if (r == 0 && write(fd, req, (size_t)len) != len)
		r = cm_fail(e, -EIO, "status: sending the request failed (%s)", strerror(errno));
	size_t n = 0;
	while (r == 0) {
		long long left = deadline - cm_mono_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = cm_fail(e, -ETIMEDOUT, "status: no answer from the guest within %u ms (still booting, "
						   "or the channel is not served)", timeout_ms);
			break;
		}
		if (n == CL_STATUS_ANSWER_MAX) {
			r = cm_fail(e, -EMSGSIZE, "status: answer larger than %u bytes", CL_STATUS_ANSWER_MAX);
			break;
		}
		ssize_t got = read(fd, buf + n, CL_STATUS_ANSWER_MAX - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = cm_fail(e, -ECONNRESET, "status: the channel closed before an answer");
			break;
		}
		n += (size_t)got;
		/* scan the complete lines (the buffer holds only lines not scanned yet) */
		char *nl = memrchr(buf, '\n', n);
		if (!nl)
			continue;
		size_t upto = (size_t)(nl - buf) + 1;
		r = cl_status_scan(buf, upto, nonce, out, e);
		if (r == 1) {
			r = 0;
			break;
		}
		memmove(buf, buf + upto, n - upto);
		n -= upto;
	}
	free(buf);
	close(fd);
	return r;
}

/* ---- human rendering ----------------------------------------------------------------- */

static const char *sget(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static const char *sget_or(json_object *o, const char *key, const char *dflt)
{
	const char *v = sget(o, key);
	return v ? v : dflt;
}

static json_object *aget(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static void print_lines(FILE *f, const char *title, json_object *arr, size_t last)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	fprintf(f, "%-11s%zu line(s)%s\n", title, n, n > last ? " (the last shown)" : "");
	for (size_t i = n > last ? n - last : 0; i < n; i++)
		fprintf(f, "  %s\n", json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* An integer member, else 0 (*have false). */
static int64_t iget(json_object *o, const char *key, bool *have)
{
	json_object *v;
	*have = json_object_object_get_ex(o, key, &v) && v && json_object_is_type(v, json_type_int);
	return *have ? json_object_get_int64(v) : 0;
}

/* One line per FMSPC of the collateral state (docs/formats.md "Collateral state"): how old
 * the bundle in use is at now (its TCB info issueDate), when it was fetched, when it expires,
 * and the last refresh. The state file's own age says only when it was written (in the
 * guest: when cocoon-init copied the spec share). */
static void print_collateral(FILE *f, json_object *col, int64_t now)
{
	json_object *state, *arr;
	if (!json_object_object_get_ex(col, "state", &state) || !state || !(arr = aget(state, "fmspcs")))
		return;
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n && i < 64; i++) {
		json_object *x = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(x, json_type_object))
			continue;
		bool have_issue, have_fetch, have_until;
		int64_t issued = iget(x, "tcb_issue_date", &have_issue), fetched = iget(x, "fetched_at", &have_fetch),
			until = iget(x, "valid_until", &have_until);
		const char *err = sget(x, "last_error");
		fprintf(f, "  %-13s ", sget_or(x, "fmspc", "?"));
		if (!sget(x, "bundle") || !have_issue) {
			fprintf(f, "no bundle");
		} else {
			fprintf(f, "issued %lld s ago", (long long)(now - issued));
			if (have_fetch)
				fprintf(f, ", fetched %lld s ago", (long long)(now - fetched));
			if (have_until)
				fprintf(f, now > until ? ", EXPIRED %lld s ago" : ", expires in %lld s",
					(long long)(now > until ? now - until : until - now));
		}
		fprintf(f, ", last refresh %s%s%s\n", sget_or(x, "last_result", "?"), err ? ": " : "", err ? err : "");
	}
}

void cl_status_print(json_object *st, FILE *f)
{
	cl_status_print_at(st, (int64_t)time(NULL), f);
}

void cl_status_print_at(json_object *st, int64_t now, FILE *f)
{
	const char *v;
	fprintf(f, "%-11s%s (step %s)\n", "phase", sget_or(st, "phase", "?"),
		sget_or(st, "step", "-"));
	if ((v = sget(st, "fatal")))
		fprintf(f, "%-11s%s\n", "fatal", v);
	fprintf(f, "%-11s%s\n", "version", sget_or(st, "version", "?"));
	fprintf(f, "%-11s%s ms\n", "uptime", sget_or(st, "uptime_ms", "?"));
	if ((v = sget(st, "services_started_ms")))
		fprintf(f, "%-11s%s ms after the kernel started\n", "started", v);
	fprintf(f, "%-11s%s\n", "image hash",
		sget_or(st, "image_hash", sget_or(st, "image_hash_error", "not yet")));
	fprintf(f, "%-11s%s\n", "rtmr3", sget_or(st, "rtmr3", "not yet"));
	json_object *svcs = aget(st, "services");
	size_t n = svcs ? json_object_array_length(svcs) : 0;
	fprintf(f, "%-11s%zu\n", "services", n);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(svcs, i);
		const char *pid = sget(s, "pid"), *last = sget(s, "last_exit");
		fprintf(f, "  %-16s %-8s pid %-7s restarts %s%s%s\n", sget_or(s, "name", "?"),
			sget_or(s, "state", "?"), pid ? pid : "-", sget_or(s, "restarts", "0"),
			last ? ", last: " : "", last ? last : "");
	}
	json_object *gpu;
	if (json_object_object_get_ex(st, "gpu", &gpu) && gpu)
		fprintf(f, "%-11s%s\n", "gpu", json_object_to_json_string_ext(gpu, JSON_C_TO_STRING_PLAIN));
	else
		fprintf(f, "%-11s%s\n", "gpu", "no verification summary");
	json_object *col;
	if (json_object_object_get_ex(st, "collateral", &col) && col)
	{
		fprintf(f, "%-11s%s, %s s old\n", "collateral", sget_or(col, "path", "?"),
			sget_or(col, "age_s", "?"));
		print_collateral(f, col, now);
	}
	else
		fprintf(f, "%-11s%s\n", "collateral", "none");
	print_lines(f, "event log", aget(st, "event_log"), 64);
	print_lines(f, "log tail", aget(st, "log_tail"), 15);
}
