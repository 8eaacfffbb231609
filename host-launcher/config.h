/* cocoon-launch configuration: an INI file with one [node] section (the shape of
 * Cocoon's worker.conf) plus command-line overrides (--set key=value).
 * Every key is documented in docs/operator-guide.md. Unknown keys, bad values and
 * duplicate keys are errors that name the key and the line. */
#ifndef COCOON_LAUNCH_CONFIG_H
#define COCOON_LAUNCH_CONFIG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host-launcher/collateral.h"
#include "measure/core/util.h"

#define CL_PATH_MAX 1024
#define CL_MAX_GPUS 8
#define CL_MAX_MODELS 8
#define CL_MAX_PORTS 16
#define CL_MODEL_NAME_MAX 14   /* "model-" + name <= 20 bytes (virtio-blk serial) */
#define CL_MAX_INSTANCE 99
#define CL_INSTANCE_STRIDE 10  /* ports and CIDs move by instance * 10 (Cocoon) */

enum cl_node_type { CL_NODE_WORKER, CL_NODE_PROXY };

/* The QEMU command line shape: this project's, or Cocoon's own (scripts/cocoon-launch
 * run_qemu; argv_cocoon.c), so a Cocoon image keeps Cocoon's published measurements. */
enum cl_profile { CL_PROFILE_DEFAULT, CL_PROFILE_COCOON };

#define CL_MAX_RUNTIME_VARS 16
#define CL_MAX_COCOON_KEYS 32

/* A KEY=value line of the spec share's runtime/runtime.vars (Cocoon's runtime vars). */
struct cl_runtime_var {
	char key[32];
	char value[512];
	bool secret; /* never printed */
};

/* How one of Cocoon's worker.conf keys was handled (cocoon_conf.h), for `check`. */
struct cl_cocoon_key {
	char key[32];
	char handling[16]; /* "ours", "runtime", "default" */
	char detail[400];
};

struct cl_model {
	char name[CL_MODEL_NAME_MAX + 1];
	char data[CL_PATH_MAX];
	char hash[CL_PATH_MAX]; /* separate verity hash-tree disk, "" when appended */
};

struct cl_port {
	bool udp;
	unsigned host;  /* base host port; the instance offset is added when building argv */
	unsigned guest;
};

struct cl_config {
	enum cl_node_type type;
	enum cl_profile profile;
	unsigned instance;
	char image_dir[CL_PATH_MAX];
	char spec_dir[CL_PATH_MAX];
	char persistent_disk[CL_PATH_MAX]; /* "" = none */
	uint64_t persistent_size;          /* minimum size in bytes checked by `check`, 0 = any */
	char gpus[CL_MAX_GPUS][16];        /* PCI addresses, normalized "dddd:bb:dd.f" */
	size_t n_gpus;
	struct cl_model models[CL_MAX_MODELS];
	size_t n_models;
	uint64_t memory;                   /* bytes, multiple of 1 MiB */
	unsigned vcpus;
	struct cl_port ports[CL_MAX_PORTS];
	size_t n_ports;
	uint32_t vsock_cid;                /* base guest CID (instance offset added), 0 = no vsock */
	uint32_t qgs_port;                 /* quote generation service vsock port on CID 2 */
	char qemu[CL_PATH_MAX];
	char cpu[64];
	char run_dir[CL_PATH_MAX];         /* QMP socket; default /run/cocoon/<type>-<instance> */
	char log_dir[CL_PATH_MAX];         /* serial/console logs */
	char console[8];                   /* "stdio" or "file" */
	bool tdx;                          /* false only with an explicit tdx = no / --no-tdx */
	char accel[8];                     /* "auto", "kvm", "tcg" */
	bool debug, gpu_required, sim;     /* cmdline variants (change RTMR2) */
	struct cl_collateral_conf collateral; /* collateral_* keys (host-launcher/collateral.h) */
	/* which keys were set (for the defaults that depend on others) */
	bool have_run_dir, have_log_dir;
	/* Cocoon's worker.conf keys (cocoon_conf.h) */
	bool cocoon;                       /* the file has at least one Cocoon-only key */
	bool cocoon_test, have_model_var, have_owner;
	struct cl_runtime_var vars[CL_MAX_RUNTIME_VARS];
	size_t n_vars;
	char ton_config[CL_PATH_MAX];      /* -> SPEC/runtime/global.config.json */
	char ton_config_base[CL_PATH_MAX]; /* must equal SPEC/global.config.json (measured) */
	struct cl_cocoon_key ckeys[CL_MAX_COCOON_KEYS];
	size_t n_ckeys;
};

/* Defaults for every optional key. */
void cl_config_init(struct cl_config *c);

/* Parse INI text (name is used in messages). Required keys are checked by
 * cl_config_finish(). */
int cl_config_parse(struct cl_config *c, const char *text, size_t len, const char *name,
		    struct cm_err *e);
int cl_config_load(struct cl_config *c, const char *path, struct cm_err *e);

/* One override "key=value" (from --set); errors name the key and "--set". Overrides may
 * replace keys set by the file (that is their point). */
int cl_config_set(struct cl_config *c, const char *kv, struct cm_err *e);

/* Check required keys and cross-key rules, fill derived defaults. */
int cl_config_finish(struct cl_config *c, struct cm_err *e);

/* The two value rules below are inline so that cocoon_conf.c, which config.c calls for
 * Cocoon's keys, can apply them without calling back into config.c. */
static inline const char *cl_node_type_name(enum cl_node_type t)
{
	return t == CL_NODE_PROXY ? "proxy" : "worker";
}

/* Can this path stand inside a QEMU option value (-chardev file,path=...)? 1 to
 * CL_PATH_MAX - 1 bytes, no ',' (QEMU's option separator) and no control characters.
 * Every config path key and capture-acpi's --out pass it. Returns 0 or -EINVAL. */
static inline int cl_path_check(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= CL_PATH_MAX || strchr(v, ','))
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	return 0;
}

/* Effective per-instance values. */
uint32_t cl_config_cid(const struct cl_config *c);
unsigned cl_config_host_port(const struct cl_config *c, size_t i);

#endif
