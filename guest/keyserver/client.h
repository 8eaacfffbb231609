/* The appliance's side (cocoon-init step 10, `cocoon-keyserver request`): one key request
 * over mutual RA-TLS. The appliance's certificate carries a fresh quote through its
 * attestation backend and its RTMR3 event log; the key server must present the pinned
 * identity key. Check names (stable; in errors and on the console): keyserver_connect,
 * keyserver_timeout, keyserver_tls, keyserver_identity, keyserver_frame, response_format,
 * keyserver_refused (the server's check follows in the message), keyserver_key_length. */
#ifndef COCOON_KEYSERVER_CLIENT_H
#define COCOON_KEYSERVER_CLIENT_H

#include "guest/keyserver/session.h"

/* b NULL: an unattested certificate (only for tests of the server's refusal). nvml_lib
 * (NULL: none): the certificate also carries the GPU evidence of every GPU, for key servers
 * whose policy has "gpu". The key (expected_len bytes; 0 = 32 or 64) goes to key, *key_len. */
int cks_fetch_key(struct ca_backend *b, const char *event_log, const char *nvml_lib, const struct cks_target *t,
		  const char *model, size_t expected_len, uint8_t key[CKS_VOLUME_KEY_MAX], size_t *key_len, struct cm_err *e);

#endif
