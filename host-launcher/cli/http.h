/* HTTP GET for cocoon-launch collateral (libcurl). */
#ifndef COCOON_LAUNCH_HTTP_H
#define COCOON_LAUNCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

/* GET url; status 200 required. *body: malloc'd, NUL-terminated, at most max bytes.
 * header (may be NULL): the name of one response header whose value goes to *hval
 * (malloc'd, NULL when absent). timeout_s bounds the whole transfer. */
int cli_http_get(const char *url, size_t max, unsigned timeout_s, const char *header, uint8_t **body, size_t *len,
		 char **hval, struct cm_err *e);

#endif
