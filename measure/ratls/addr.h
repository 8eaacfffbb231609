/* RA-TLS endpoint addresses: the listen and target addresses of cocoon-ratls and the
 * HOST:PORT that `cocoon-measure cert` fetches from. */
#ifndef COCOON_RATLS_ADDR_H
#define COCOON_RATLS_ADDR_H

#include <stdbool.h>

#include <sys/socket.h>

#include "measure/core/util.h"

/* Parse "[HOST:]PORT", "[V6]:PORT" (HOST numeric unless resolve). */
int cr_parse_addr(const char *s, bool resolve, struct sockaddr_storage *ss, socklen_t *len, struct cm_err *e);

#endif
