#include "measure/core/json.h"

#include <errno.h>
#include <stdlib.h>

#include "measure/core/util.h"

json_object *cm_json_hex(const uint8_t *p, size_t n)
{
	char stackbuf[257];
	char *buf = stackbuf;
	if (2 * n + 1 > sizeof(stackbuf)) {
		buf = malloc(2 * n + 1);
		if (!buf)
			return NULL;
	}
	cm_hex_encode(p, n, buf, 2 * n + 1);
	json_object *o = json_object_new_string_len(buf, (int)(2 * n));
	if (buf != stackbuf)
		free(buf);
	return o;
}

void cm_json_add_hex(json_object *obj, const char *key, const uint8_t *p, size_t n)
{
	json_object_object_add(obj, key, cm_json_hex(p, n));
}

void cm_json_add_str(json_object *obj, const char *key, const char *s)
{
	json_object_object_add(obj, key, s ? json_object_new_string(s) : NULL);
}

void cm_json_add_int(json_object *obj, const char *key, int64_t v)
{
	json_object_object_add(obj, key, json_object_new_int64(v));
}

void cm_json_add_bool(json_object *obj, const char *key, int v)
{
	json_object_object_add(obj, key, json_object_new_boolean(v ? 1 : 0));
}

int cm_json_print(json_object *obj, FILE *f)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || fputs(s, f) < 0 || fputc('\n', f) < 0)
		return -EIO;
	return 0;
}
