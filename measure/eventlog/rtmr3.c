#include "measure/eventlog/rtmr3.h"

#include <errno.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

int cm_rtmr3_event_digest(const char *msg, size_t len, uint8_t out[48], struct cm_err *e)
{
	if (len == 0)
		return cm_fail(e, -EINVAL, "empty RTMR3 event");
	if (len > CM_RTMR3_EVENT_MAX)
		return cm_fail(e, -EINVAL, "RTMR3 event of %zu bytes (limit %d)", len, CM_RTMR3_EVENT_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
			return cm_fail(e, -EINVAL, "RTMR3 event has a non-printable byte 0x%02x at %zu",
				       (unsigned char)msg[i], i);
	return cm_sha384(msg, len, out) ? cm_fail(e, -EIO, "SHA-384 failed") : 0;
}

int cm_rtmr3_replay(const uint8_t *log, size_t len, uint8_t out[48], json_object *events,
		    struct cm_err *e)
{
	memset(out, 0, 48);
	size_t pos = 0;
	for (int index = 0; pos < len; index++) {
		const uint8_t *nl = memchr(log + pos, '\n', len - pos);
		if (!nl)
			return cm_fail(e, -EBADMSG, "RTMR3 log: event %d at offset %zu is not terminated by a newline",
				       index, pos);
		size_t n = (size_t)(nl - (log + pos));
		uint8_t d[48];
		int r = cm_rtmr3_event_digest((const char *)log + pos, n, d, e);
		if (r)
			return cm_err_prefix(e, "RTMR3 log: event %d at offset %zu", index, pos);
		if (cm_rtmr_extend(out, d))
			return cm_fail(e, -EIO, "SHA-384 failed");
		if (events) {
			json_object *ev = json_object_new_object();
			cm_json_add_int(ev, "index", index);
			cm_json_add_int(ev, "offset", (int64_t)pos);
			json_object_object_add(ev, "event", json_object_new_string_len((const char *)log + pos, (int)n));
			cm_json_add_hex(ev, "digest", d, 48);
			cm_json_add_hex(ev, "rtmr3", out, 48);
			json_object_array_add(events, ev);
		}
		pos += n + 1;
	}
	return 0;
}
