/* JSON output helpers over json-c: stable key order (insertion order), lowercase hex. */
#ifndef COCOON_MEASURE_JSON_H
#define COCOON_MEASURE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Add "key": "<lowercase hex>" to obj. */
void cm_json_add_hex(json_object *obj, const char *key, const uint8_t *p, size_t n);
void cm_json_add_str(json_object *obj, const char *key, const char *s);
void cm_json_add_int(json_object *obj, const char *key, int64_t v);
void cm_json_add_bool(json_object *obj, const char *key, int v);
json_object *cm_json_hex(const uint8_t *p, size_t n);

/* Parse exactly one JSON value from text[0..len) as RFC 8259 says: json-c's strict mode (no
 * trailing commas, comments, ...), plus what json-c 0.16 still accepts in strict mode refused
 * (single-quoted strings), and nothing but the value in the input. NULL if it is not. */
json_object *cm_json_parse_strict(const char *text, size_t len);

/* Print pretty JSON followed by a newline. Returns 0 or -EIO. */
int cm_json_print(json_object *obj, FILE *f);
/* The same object as "key.sub: value" lines (the CLIs' text output). */
void cm_json_print_text(json_object *o, FILE *f);
/* cm_json_print (json != 0) or cm_json_print_text, flushed; 0 or -EIO. */
int cm_json_emit(json_object *o, int json, FILE *f);

#endif
