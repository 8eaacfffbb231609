/* The key server's wire format (docs/formats.md "Key server protocol"), version 1.
 *
 * Every message is one frame: a big-endian u32 length (1..CKS_FRAME_MAX), then that many
 * bytes of JSON (strict reader, unknown keys refused). One request and one response per
 * connection.
 *
 *   key request   (appliance -> key server, over mutual RA-TLS)
 *       {"version": 1, "model": "<name>@<commit>:<verity root hex>"}
 *   key response
 *       {"version": 1, "status": "ok", "key": "<hex of 32 or 64 bytes>"}
 *       {"version": 1, "status": "refused", "check": "<check>", "message": "<why>"}
 *   admin request (operator -> key server's admin listener; never the attested listener)
 *       {"version": 1, "payload": "<JSON text>", "signature": "<hex Ed25519 signature>"}
 *     the signature is over CKS_ADMIN_CONTEXT || payload with the admin key pinned in the key
 *     server's configuration; the payload (parsed only after the signature verified) is
 *       {"op": "add-key", "server": "<key server identity key hex>", "seq": N,
 *        "model": "...", "key": "<hex>", "image_hashes": ["<hex32>", ...], "rtmr3": ["<hex48>", ...]}
 *       {"op": "list", "server": "<hex>", "seq": N}
 *     seq must be larger than every seq the server accepted before (replay protection); server
 *     binds the request to one key server.
 *   admin response
 *       {"version": 1, "status": "ok", "models": [{"model": ..., "image_hashes": [...], "rtmr3": [...]}]}
 *       or the refused form above. */
#ifndef COCOON_KEYSERVER_PROTO_H
#define COCOON_KEYSERVER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "guest/keyserver/volume.h"
#include "measure/core/util.h"

#define CKS_VERSION 1
#define CKS_FRAME_MAX 16384u
#define CKS_MODEL_MAX 169 /* name (63) '@' commit (40) ':' 64 hex digits */
#define CKS_NAME_MAX 63
#define CKS_COMMIT_MAX 40
#define CKS_MAX_ALLOW 16
#define CKS_ADMIN_CONTEXT "cocoon-keyserver admin v1\n"
#define CKS_CHECK_MAX 48
#define CKS_MSG_MAX 200

/* "name@commit:<verity root>": name [a-z0-9][a-z0-9._-]{0,62} (build-model's NAME), commit
 * [A-Za-z0-9._-]{1,40}, root 64 lowercase hex digits. */
struct cks_model {
	char str[CKS_MODEL_MAX + 1];
	char name[CKS_NAME_MAX + 1];
	uint8_t root[32];
};
int cks_model_parse(const char *s, struct cks_model *m, struct cm_err *e);

/* Frames over a blocking transport: read/write callbacks return bytes moved or <= 0. */
struct cks_io {
	int (*read)(void *ctx, void *buf, int n);
	int (*write)(void *ctx, const void *buf, int n);
	void *ctx;
};
int cks_frame_write(const struct cks_io *io, const char *body, size_t len, struct cm_err *e);
/* *body is malloc'd (NUL-terminated), at most CKS_FRAME_MAX bytes. */
int cks_frame_read(const struct cks_io *io, char **body, size_t *len, struct cm_err *e);

int cks_request_parse(const char *json, size_t len, struct cks_model *m, struct cm_err *e);
/* A malloc'd request body. */
char *cks_request_encode(const char *model);

struct cks_response {
	bool ok;
	uint8_t key[CKS_VOLUME_KEY_MAX];
	size_t key_len;
	char check[CKS_CHECK_MAX];
	char message[CKS_MSG_MAX];
};
int cks_response_parse(const char *json, size_t len, struct cks_response *r, struct cm_err *e);
/* ok: key; refused: check and message. malloc'd. */
char *cks_response_encode(const struct cks_response *r);

/* A model's grant: its key and who may have it. */
struct cks_grant {
	struct cks_model model;
	uint8_t key[CKS_VOLUME_KEY_MAX];
	size_t key_len;
	uint8_t image_hashes[CKS_MAX_ALLOW][32];
	size_t n_image_hashes;
	uint8_t rtmr3[CKS_MAX_ALLOW][48];
	size_t n_rtmr3;
};
/* The allowlists of a grant (the members "image_hashes" and "rtmr3" of obj); at least one
 * non-empty. Shared by the admin payload and the key store. */
struct cm_jv;
int cks_grant_lists_parse(const struct cm_jv *obj, struct cks_grant *g, struct cm_err *e);
/* The member "key" of obj: hex of 32 or 64 bytes; json-c's copy of the hex is wiped. */
int cks_key_parse(const struct cm_jv *obj, uint8_t *key, size_t *key_len, struct cm_err *e);
struct json_object;
void cks_grant_lists_add(struct json_object *o, const struct cks_grant *g);

enum cks_admin_op { CKS_ADMIN_ADD_KEY = 1, CKS_ADMIN_LIST };
struct cks_admin {
	enum cks_admin_op op;
	uint8_t server[32];
	uint64_t seq;
	struct cks_grant grant; /* add-key */
};
/* Verify the envelope's signature with admin_pub (raw Ed25519), then parse the payload.
 * Check names: admin_format, admin_signature, admin_payload. */
int cks_admin_parse(const char *json, size_t len, const uint8_t admin_pub[32], struct cks_admin *a,
		    struct cm_err *e);
/* Sign and encode (the admin CLI); admin_key an Ed25519 private key. malloc'd. */
char *cks_admin_encode(const struct cks_admin *a, EVP_PKEY *admin_key, struct cm_err *e);

#endif
