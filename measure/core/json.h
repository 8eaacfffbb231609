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

/* Print pretty JSON followed by a newline. Returns 0 or -EIO. */
int cm_json_print(json_object *obj, FILE *f);

#endif
