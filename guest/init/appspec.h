/* The measured appliance spec: /run/spec/cocoon.json (docs/boot.md "Spec file").
 * Everything in the spec directory except runtime/ is covered by the spec tree hash
 * extended into RTMR3, so this file is trusted once measured; it is still parsed
 * strictly (unknown keys, bad types and out-of-range values are errors). */
#ifndef COCOON_INIT_APPSPEC_H
#define COCOON_INIT_APPSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/init/net.h"
#include "measure/core/util.h"

struct cm_gpu_policy;

#define CI_SPEC_FILE "cocoon.json"
#define CI_MAX_SERVICES 16
#define CI_MAX_MODELS 8
#define CI_MAX_ARGS 64
#define CI_MAX_ENV 64
/* The spec may set CI_MAX_ENV - 1 variables per service: one slot is cocoon-init's
 * (APP_KEY, ci_spec_add_env). */
#define CI_SPEC_MAX_ENV (CI_MAX_ENV - 1)
#define CI_MAX_AFTER 8
#define CI_NAME_MAX 32
#define CI_SPEC_MAX_BYTES (256 * 1024)
#define CI_BACKOFF_DEFAULT_MS 1000u
#define CI_BACKOFF_MAX_MS 60000u

enum ci_restart { CI_RESTART_NO = 0, CI_RESTART_ON_FAILURE, CI_RESTART_ALWAYS };

struct ci_service {
	char name[CI_NAME_MAX + 1];
	char *argv[CI_MAX_ARGS + 1]; /* NULL-terminated; argv[0] an absolute path */
	char *env[CI_MAX_ENV + 1];   /* "KEY=value", NULL-terminated */
	enum ci_restart restart;
	unsigned backoff_ms;         /* first restart delay; doubles up to CI_BACKOFF_MAX_MS */
	int after[CI_MAX_AFTER];     /* indexes of services this one starts after */
	int n_after;
};

struct ci_model {
	char name[CI_NAME_MAX + 1];
	uint8_t roothash[32];
	char roothash_hex[65];
	uint64_t data_blocks;
	char serial[21];             /* data disk (default "model-<name>") */
	char hash_serial[21];        /* "" = hash tree appended to the data disk */
	/* "encrypted" (docs/boot.md): the volume is dm-crypt plain aes-xts-plain64 under the
	 * verity tree; its key comes from the key server over mutual RA-TLS. */
	bool encrypted;
	char model_string[170];      /* name@commit:<roothash hex> (guest/keyserver/proto.h) */
	unsigned key_bytes;          /* 32 or 64 */
	char ks_address[128];        /* tcp:HOST:PORT or vsock:CID:PORT */
	bool ks_has_public_key;
	uint8_t ks_public_key[32];   /* the key server's pinned identity key */
	uint8_t ks_image_hashes[16][32]; /* and/or the images it may run */
	size_t ks_n_image_hashes;
	unsigned ks_timeout_ms;
};

struct ci_spec {
	struct ci_service services[CI_MAX_SERVICES];
	int n_services;
	int order[CI_MAX_SERVICES];  /* start order (dependencies first) */
	struct ci_model models[CI_MAX_MODELS];
	int n_models;
	bool gpu_required;           /* "gpu": "required" (the only thing that decides step 7) */
	struct cm_gpu_policy *gpu_policy; /* "gpu_policy" (NULL: cm_gpu_policy_default) */
	char *gpu_policy_json;       /* the same object as JSON text, for the GPU verifier (--policy) */
	bool persistent;             /* a "persistent" object is present */
	char persistent_mount[128];  /* absolute path in the new root (default /data) */
	bool persistent_integrity;   /* "integrity" (default true): LUKS2 with dm-integrity tags */
	struct ci_net network;       /* "network": one static IPv4 interface (lo is always up) */
	uint32_t status_vsock_port;  /* "status": {"vsock_port": N}: the status service's vsock port, 0 = none */
};

/* Append "KEY=value" (copied) to every service's environment; -E2BIG when a service has
 * no free slot. cocoon-init adds APP_KEY this way after the keys step. */
int ci_spec_add_env(struct ci_spec *s, const char *kv, struct cm_err *e);

/* Parse the JSON text of cocoon.json. */
int ci_spec_parse(const char *json, size_t len, struct ci_spec *s, struct cm_err *e);
/* Read and parse <dir>/cocoon.json. */
int ci_spec_load(const char *dir, struct ci_spec *s, struct cm_err *e);
void ci_spec_free(struct ci_spec *s);

#endif
