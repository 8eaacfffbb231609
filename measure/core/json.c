#include "measure/core/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/util.h"

/* The first byte json-c 0.16 would take and JSON does not: a single quote outside a
 * double-quoted string (json-c takes 'x' as a string even with JSON_TOKENER_STRICT), or a NUL
 * (never valid JSON text; json-c stops there). len when there is none. */
static size_t not_json_text(const char *s, size_t len, const char **why)
{
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0) {
			*why = "NUL byte";
			return i;
		}
		if (in_str && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			in_str = !in_str;
		else if (!in_str && s[i] == '\'') {
			*why = "single-quoted string";
			return i;
		}
	}
	return len;
}

static bool json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The one place the tree calls json-c's tokener. *o gets the value, or NULL with *at and *why
 * saying where and why not. RFC 8259's whitespace after the value is allowed. */
static json_object *parse_strict(const char *text, size_t len, size_t *at, const char **why)
{
	*why = "out of memory";
	*at = not_json_text(text, len, why);
	if (*at < len)
		return NULL;
	*at = 0;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	*at = end;
	if (jerr != json_tokener_success || !o) {
		*why = jerr == json_tokener_success ? "no value"
		       : jerr == json_tokener_continue ? "unexpected end of data"
						       : json_tokener_error_desc(jerr);
		json_object_put(o);
		return NULL;
	}
	while (end < len && json_ws(text[end]))
		end++;
	if (end != len) {
		*at = end;
		*why = "data after the value";
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the strict reader ---- */

int cm_json_read(const char *text, size_t len, size_t max, const char *doc, struct cm_jv *root,
		 struct cm_err *e)
{
	*root = (struct cm_jv){.doc = doc};
	const char *d = doc ? doc : "JSON", *why;
	if (len > max || len > INT32_MAX)
		return cm_fail(e, -E2BIG, "%s: larger than %zu bytes", d, max < INT32_MAX ? max : (size_t)INT32_MAX);
	size_t at;
	root->o = parse_strict(text, len, &at, &why);
	if (!root->o)
		return cm_fail(e, -EINVAL, "%s: not valid JSON at byte %zu (%s)", d, at, why);
	return 0;
}

int cm_json_read_file(const char *path, size_t max, const char *doc, struct cm_jv *root, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	*root = (struct cm_jv){.doc = doc};
	int rc = cm_read_file(path, max, &buf, &len, e);
	if (rc)
		return rc;
	rc = cm_json_read((const char *)buf, len, max, doc, root, e);
	free(buf);
	return rc ? cm_err_prefix(e, "%s", path) : 0;
}

void cm_json_release(struct cm_jv *root)
{
	json_object_put(root->o);
	root->o = NULL;
}

static size_t path_at(const struct cm_jv *v, char *out, size_t n)
{
	if (!v || !v->up)
		return 0;
	size_t k = path_at(v->up, out, n);
	int w = v->key ? snprintf(out + k, n - k, "%s%s", k ? "." : "", v->key)
		       : snprintf(out + k, n - k, "[%zu]", v->idx);
	return w < 0 || (size_t)w >= n - k ? n - 1 : k + (size_t)w;
}

void cm_jv_path(const struct cm_jv *v, char *out, size_t n)
{
	if (!n)
		return;
	out[0] = 0;
	path_at(v, out, n);
}

static const char *jv_doc(const struct cm_jv *v)
{
	while (v->up)
		v = v->up;
	return v->doc;
}

int cm_jv_fail(const struct cm_jv *v, struct cm_err *e, int code, const char *fmt, ...)
{
	char path[160], msg[CM_ERR_MAX];
	cm_jv_path(v, path, sizeof(path));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *doc = jv_doc(v);
	return cm_fail(e, code, "%s%s%s%s%s", doc ? doc : "", doc && path[0] ? ": " : "", path,
		       doc || path[0] ? ": " : "", msg);
}

struct cm_jv cm_jv_member(const struct cm_jv *obj, const char *key, json_object *val)
{
	return (struct cm_jv){.o = val, .up = obj, .key = key};
}

struct cm_jv cm_jv_elem(const struct cm_jv *arr, size_t i)
{
	return (struct cm_jv){.o = json_object_array_get_idx(arr->o, i), .up = arr, .idx = i};
}

bool cm_jv_get(const struct cm_jv *obj, const char *key, struct cm_jv *out)
{
	json_object *val = NULL;
	bool found = json_object_is_type(obj->o, json_type_object) && json_object_object_get_ex(obj->o, key, &val);
	*out = cm_jv_member(obj, key, val);
	return found;
}

int cm_jv_need(const struct cm_jv *obj, const char *key, struct cm_jv *out, struct cm_err *e)
{
	return cm_jv_get(obj, key, out) ? 0 : cm_jv_fail(out, e, -EINVAL, "missing");
}

int cm_jv_object(const struct cm_jv *v, const char *const *keys, struct cm_err *e)
{
	if (!json_object_is_type(v->o, json_type_object))
		return cm_jv_fail(v, e, -EINVAL, "must be an object");
	if (!keys)
		return 0;
	json_object_object_foreach(v->o, key, val)
	{
		(void)val;
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], key) != 0)
			i++;
		if (!keys[i])
			return cm_jv_fail(v, e, -EINVAL, "unknown key \"%.64s\"", key);
	}
	return 0;
}

int cm_jv_array(const struct cm_jv *v, size_t min, size_t max, size_t *n, struct cm_err *e)
{
	if (!json_object_is_type(v->o, json_type_array))
		return cm_jv_fail(v, e, -EINVAL, "must be an array");
	*n = json_object_array_length(v->o);
	if (*n < min || *n > max)
		return cm_jv_fail(v, e, *n > max ? -E2BIG : -EINVAL, "%zu entries (need %zu..%zu)", *n, min, max);
	return 0;
}

int cm_jv_str(const struct cm_jv *v, size_t min, size_t max, const char **s, struct cm_err *e)
{
	if (!json_object_is_type(v->o, json_type_string))
		return cm_jv_fail(v, e, -EINVAL, "must be a string");
	*s = json_object_get_string(v->o);
	size_t n = (size_t)json_object_get_string_len(v->o);
	if (strlen(*s) != n)
		return cm_jv_fail(v, e, -EINVAL, "contains a NUL character");
	if (n < min || n > max)
		return cm_jv_fail(v, e, -EINVAL, "must be a string of %zu..%zu bytes (is %zu)", min, max, n);
	return 0;
}

int cm_jv_strcpy(const struct cm_jv *v, char *dst, size_t n, struct cm_err *e)
{
	const char *s;
	int r = cm_jv_str(v, 0, n - 1, &s, e);
	if (r == 0)
		memcpy(dst, s, strlen(s) + 1);
	return r;
}

int cm_jv_int(const struct cm_jv *v, int64_t lo, int64_t hi, int64_t *out, struct cm_err *e)
{
	if (!json_object_is_type(v->o, json_type_int))
		return cm_jv_fail(v, e, -EINVAL, "must be an integer");
	int64_t x = json_object_get_int64(v->o);
	/* json-c keeps values above INT64_MAX as uint64 and returns INT64_MAX for them */
	if (x < lo || x > hi || (x == INT64_MAX && json_object_get_uint64(v->o) != (uint64_t)INT64_MAX))
		return cm_jv_fail(v, e, -ERANGE, "%s outside %lld..%lld", json_object_get_string(v->o),
				  (long long)lo, (long long)hi);
	*out = x;
	return 0;
}

int cm_jv_bool(const struct cm_jv *v, bool *out, struct cm_err *e)
{
	if (!json_object_is_type(v->o, json_type_boolean))
		return cm_jv_fail(v, e, -EINVAL, "must be true or false");
	*out = json_object_get_boolean(v->o);
	return 0;
}

int cm_jv_hex(const struct cm_jv *v, uint8_t *out, size_t n, struct cm_err *e)
{
	const char *s = json_object_is_type(v->o, json_type_string) ? json_object_get_string(v->o) : NULL;
	if (!s || (size_t)json_object_get_string_len(v->o) != 2 * n || cm_hex_decode_exact(s, 2 * n, out, n) < 0)
		return cm_jv_fail(v, e, -EINVAL, "must be %zu hex digits", 2 * n);
	return 0;
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
