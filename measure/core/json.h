/* JSON over json-c: the strict reader (one for the whole tree) and the output helpers (stable
 * key order (insertion order), lowercase hex). */
#ifndef COCOON_MEASURE_JSON_H
#define COCOON_MEASURE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "measure/core/util.h"

/* Add "key": "<lowercase hex>" to obj. */
void cm_json_add_hex(json_object *obj, const char *key, const uint8_t *p, size_t n);
void cm_json_add_str(json_object *obj, const char *key, const char *s);
void cm_json_add_int(json_object *obj, const char *key, int64_t v);
void cm_json_add_bool(json_object *obj, const char *key, int v);
json_object *cm_json_hex(const uint8_t *p, size_t n);

/* ---- the strict reader ---------------------------------------------------------------------
 * Every JSON input of the project (configs, specs, policies, collateral, manifests, LUKS2
 * metadata) is read through these: cm_json_read parses as RFC 8259 says with a size bound
 * (json-c's strict mode: no trailing commas, comments, ...; plus what json-c 0.16 still takes
 * in strict mode refused: single-quoted strings, NUL bytes; nothing but whitespace after the
 * value), and the typed getters check type and range. A struct cm_jv is a value together with where it sits
 * in its document, so every error names the JSON path: "spec: services[2].argv[0]: must be
 * a string". A cm_jv borrows its parent (and the key string): it lives on the stack while
 * the parent does. */
struct cm_jv {
	json_object *o;         /* the value; NULL is JSON null */
	const struct cm_jv *up; /* the enclosing value; NULL at the root */
	const char *key;        /* the member name in up; NULL for an array element */
	size_t idx;             /* the element index in up (when key is NULL) */
	const char *doc;        /* root only: the name errors start with ("manifest.json"), or NULL */
};

/* Parse text[0..len) (at most max bytes; one JSON value and only surrounding whitespace)
 * into *root. Fails with "<doc>: not valid JSON at byte N (<why>)" or -E2BIG. Release the
 * document with cm_json_release(root). */
int cm_json_read(const char *text, size_t len, size_t max, const char *doc, struct cm_jv *root,
		 struct cm_err *e);
/* cm_json_read of the file path (at most max bytes); errors name the path. */
int cm_json_read_file(const char *path, size_t max, const char *doc, struct cm_jv *root, struct cm_err *e);
void cm_json_release(struct cm_jv *root);

/* The path of v ("services[2].argv[0]"; "" for the root); truncated to n-1 bytes. */
void cm_jv_path(const struct cm_jv *v, char *out, size_t n);
/* cm_fail with "<doc>: <path>: <message>" (the parts that are empty left out). */
int cm_jv_fail(const struct cm_jv *v, struct cm_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Children. cm_jv_get: false (and out->o NULL) when obj is no object or has no member key. */
bool cm_jv_get(const struct cm_jv *obj, const char *key, struct cm_jv *out);
/* A required member: "<path>.<key>: missing" when obj has none. */
int cm_jv_need(const struct cm_jv *obj, const char *key, struct cm_jv *out, struct cm_err *e);
struct cm_jv cm_jv_member(const struct cm_jv *obj, const char *key, json_object *val);
struct cm_jv cm_jv_elem(const struct cm_jv *arr, size_t i);

/* Typed getters: 0, or -EINVAL with the path and what was expected. */
/* An object; keys (NULL-terminated; NULL: any key) lists the members it may have. */
int cm_jv_object(const struct cm_jv *v, const char *const *keys, struct cm_err *e);
/* An array of min..max elements; *n gets the count. */
int cm_jv_array(const struct cm_jv *v, size_t min, size_t max, size_t *n, struct cm_err *e);
/* A string of min..max bytes without NUL (*s points into the document). */
int cm_jv_str(const struct cm_jv *v, size_t min, size_t max, const char **s, struct cm_err *e);
/* A string copied into dst[n] (at most n-1 bytes). */
int cm_jv_strcpy(const struct cm_jv *v, char *dst, size_t n, struct cm_err *e);
/* An integer (not a float, not a string) in lo..hi. */
int cm_jv_int(const struct cm_jv *v, int64_t lo, int64_t hi, int64_t *out, struct cm_err *e);
int cm_jv_bool(const struct cm_jv *v, bool *out, struct cm_err *e);
/* A string of exactly 2n hex digits (either case), decoded into out[n]. */
int cm_jv_hex(const struct cm_jv *v, uint8_t *out, size_t n, struct cm_err *e);

/* Print pretty JSON followed by a newline. Returns 0 or -EIO. */
int cm_json_print(json_object *obj, FILE *f);
/* The same object as "key.sub: value" lines (the CLIs' text output). */
void cm_json_print_text(json_object *o, FILE *f);
/* cm_json_print (json != 0) or cm_json_print_text, flushed; 0 or -EIO. */
int cm_json_emit(json_object *o, int json, FILE *f);

#endif
