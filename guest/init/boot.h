/* The boot of cocoon-init (DESIGN.md "Boot flow", docs/boot.md): the state every step
 * reads and writes, and the steps main.c calls in order. Each step lives in the file
 * that owns its concern and halts with "FATAL <step>: <reason>" (ci_fatal) on failure. */
#ifndef COCOON_INIT_BOOT_H
#define COCOON_INIT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/cmdline/cmdline.h"
#include "guest/init/appspec.h"
#include "guest/init/disks.h"

#define CI_SYSROOT "/sysroot"                 /* the verified root until switch_root */
#define CI_SPEC_DIR "/run/spec"               /* private copy of the spec share (measured) */
#define CI_EVENT_LOG "/run/cocoon/rtmr3.log"  /* RTMR3 event log */
#define CI_DISK_KEY_LEN 32 /* "disk_encryption": the persistent volume's LUKS2 key */

struct ca_backend;
struct cg_nvml;

/* All boot state, one instance for the life of PID 1 (the shutdown hook reads it). */
struct ci_boot {
	struct ci_cmdline cmd;                   /* 2: the measured command line */
	struct ci_disks disks;                   /* 4: disk finder (closed before switch_root) */
	struct ca_backend *attest;               /* 6: attestation backend (or the debug shell's) */
	struct ci_spec spec;                     /* 6: the measured spec's cocoon.json */
	struct cg_nvml *gpu_nvml;                /* 7: NVML, held open for the life of PID 1 */
	uint8_t disk_key[CI_DISK_KEY_LEN];       /* 8: derived for 9, cleansed by it */
	bool have_disk_key;
	const char *luks_token;                  /* 8: the token type the volume must carry (tpm2), or NULL */
	char *luks_token_new;                    /* 8: a token to store after formatting (tpm2, blank volume) */
	bool persistent_mounted;                 /* 9 */
	bool model_mounted[CI_MAX_MODELS];       /* 10 */
};

/* Step 3 (modules.c): the initrd's module list, then configfs (may have been a module). */
void ci_boot_modules(struct ci_boot *b);

/* Step 4 (disks.c): the disk finder; and a wait for one disk by serial (FATAL disks). */
void ci_boot_disks(struct ci_boot *b);
void ci_boot_wait_disk(struct ci_boot *b, const char *serial, char *path, size_t pathsz);

/* Step 5 (volumes.c): dm-verity root, erofs, overlay on /sysroot. */
void ci_boot_root(struct ci_boot *b);

/* Step 6 (spec.c, attest.c): copy the 9p spec share to /run/spec; open the attestation
 * backend; measure the copy into RTMR3 and load cocoon.json. */
void ci_boot_spec_copy(struct ci_boot *b);
void ci_boot_attest(struct ci_boot *b);
void ci_boot_spec_measure(struct ci_boot *b);

/* RTMR3 <- msg through the boot's backend (FATAL step), logged; and the register logged. */
void ci_boot_extend(struct ci_boot *b, const char *step, const char *msg);
void ci_boot_log_rtmr3(struct ci_boot *b, const char *when);

/* The image hash of the registers now (TDREPORT through the backend) for the status
 * channel; logged as "image hash <hex>" (no FATAL: the status is informational). */
void ci_boot_status_image_hash(struct ci_boot *b);

/* cocoon.debug's FATAL hook (ci_fatal_policy.measure_shell, ctx a struct ci_boot):
 * RTMR3 <- "cocoon:debug_shell" through the boot's attestation backend, opened first
 * (backend cmd.attest, event log /run/cocoon/rtmr3.log) when the FATAL came before step 6. */
int ci_boot_measure_debug_shell(void *boot, struct cm_err *e);

/* The same on an explicit backend slot (*backend opened with name and event_log when
 * NULL; the log's directory is created). Logs "rtmr3 extend ..." on success. */
int ci_debug_shell_measure(struct ca_backend **backend, const char *name, const char *event_log,
			   struct cm_err *e);

/* Step 7 (gpu.c): GPU verification when the measured spec requires it (GPU modules, NVML,
 * every GPU verified, ready, RTMR3 <- cocoon:gpu_verified). */
void ci_boot_gpu(struct ci_boot *b);

/* Step 7a (net.c): loopback, and the spec's interface when it names one (before the
 * keys: a seal server over TCP needs it). */
void ci_boot_network(struct ci_boot *b);

/* Step 8 (keys.c): key provider, disk_encryption (persistent volume) and app keys,
 * then RTMR3 <- cocoon:tdx_inited. */
void ci_boot_keys(struct ci_boot *b);

/* Step 9 (volumes.c): the LUKS2 persistent volume (formatted when blank) mounted in
 * /sysroot; the disk key is cleansed whether or not there is one. */
void ci_boot_persistent(struct ci_boot *b);

/* Step 10 (volumes.c): each model's dm-verity volume, erofs at /sysroot/models/<name>. */
void ci_boot_models(struct ci_boot *b);

/* Step 11 (sys.c): close the disk finder, switch_root to /sysroot. */
void ci_boot_switch_root(struct ci_boot *b);

/* Shutdown (volumes.c; ci_supervise's hook, ctx a struct ci_boot, paths in the new
 * root): unmount and close the model and persistent volumes. */
void ci_boot_close_volumes(void *boot);

#endif
