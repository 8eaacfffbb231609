/* cocoon-keyserver serve (docs/keys.md "Key server"): the attested listener releases model
 * keys over mutual RA-TLS to appliances whose attestation passes the peer policy and the
 * model's grant; the admin listener takes signed add-key/list requests (never the attested
 * listener: an attested peer gains no admin right). One connection at a time, each bounded
 * by timeout_ms per read/write. */
#ifndef COCOON_KEYSERVER_SERVER_H
#define COCOON_KEYSERVER_SERVER_H

#include <limits.h>
#include <stdint.h>

#include "measure/ratls/peer.h"
#include "measure/core/util.h"

struct cks_server_conf {
	char listen[128];          /* tcp:IPV4:PORT (PORT 0: the kernel's choice) */
	char admin_listen[128];
	char store[256];
	char secret_file[PATH_MAX]; /* "" = the APP_KEY environment variable (base64) */
	uint8_t admin_key[32];     /* raw Ed25519 public key */
	char attest[16];           /* the server's own attestation backend: tdx or sim */
	char event_log[PATH_MAX];  /* "" = none; in a TD cocoon-init's /run/cocoon/rtmr3.log, put in
				    * its certificate so peers replay its RTMR3 (its measured spec) */
	struct cr_policy_conf peers; /* type tdx: the DCAP policy every appliance must pass */
	unsigned timeout_ms;
};

/* The configuration file (strict JSON, docs/keys.md). */
int cks_server_conf_load(const char *path, struct cks_server_conf *c, struct cm_err *e);

/* Run until SIGTERM/SIGINT. info_file (may be NULL): {"port", "admin_port", "identity"}
 * written once listening. */
int cks_serve(const struct cks_server_conf *c, const char *info_file, struct cm_err *e);

#endif
