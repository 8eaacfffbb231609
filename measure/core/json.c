#include "measure/core/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "measure/core/util.h"

/* A single quote outside a double-quoted string (json-c 0.16 takes 'x' as a string even
 * with JSON_TOKENER_STRICT), or a NUL byte (never valid JSON text; json-c stops there). */
static bool not_json_text(const char *s, size_t len)
{
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0)
			return true;
		if (in_str && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			in_str = !in_str;
		else if (!in_str && s[i] == '\'')
			return true;
	}
	return false;
}

json_object *cm_json_parse_strict(const char *text, size_t len)
{
	if (len > INT32_MAX || not_json_text(text, len))
		return NULL;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

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

static void print_text_at(json_object *o, const char *prefix, FILE *f)
{
	json_object_object_foreach(o, key, val)
	{
		char name[256];
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", key);
		switch (json_object_get_type(val)) {
		case json_type_object:
			print_text_at(val, name, f);
			break;
		case json_type_array: {
			size_t n = json_object_array_length(val);
			int scalars = n > 0;
			for (size_t i = 0; i < n; i++) {
				json_type t = json_object_get_type(json_object_array_get_idx(val, i));
				if (t != json_type_int && t != json_type_boolean && t != json_type_double)
					scalars = 0;
			}
			if (scalars) { /* numbers on one line: "key: 3,3,2" */
				fprintf(f, "%s: ", name);
				for (size_t i = 0; i < n; i++)
					fprintf(f, "%s%s", i ? "," : "",
						json_object_get_string(json_object_array_get_idx(val, i)));
				fputc('\n', f);
				break;
			}
			fprintf(f, "%s:%s\n", name, n ? "" : " (none)");
			for (size_t i = 0; i < n; i++) {
				json_object *it = json_object_array_get_idx(val, i);
				if (json_object_is_type(it, json_type_object) || json_object_is_type(it, json_type_array))
					fprintf(f, "  - %s\n", json_object_to_json_string_ext(it, JSON_C_TO_STRING_PLAIN |
											   JSON_C_TO_STRING_NOSLASHESCAPE));
				else
					fprintf(f, "  - %s\n", json_object_get_string(it));
			}
			break;
		}
		case json_type_null:
			fprintf(f, "%s: (none)\n", name);
			break;
		default:
			fprintf(f, "%s: %s\n", name, json_object_get_string(val));
		}
	}
}

void cm_json_print_text(json_object *o, FILE *f)
{
	print_text_at(o, "", f);
}

int cm_json_emit(json_object *o, int json, FILE *f)
{
	if (json) {
		if (cm_json_print(o, f))
			return -EIO;
	} else {
		cm_json_print_text(o, f);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
