/* cocoon-init steps 6..11: attestation, spec, GPU, keys, volumes, switch_root,
 * supervisor. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "guest/attest/attest.h"
#include "guest/init/net.h"
#include "guest/init/appspec.h"
#include "guest/init/boot.h"
#include "guest/init/gpu.h"
#include "guest/init/log.h"
#include "guest/init/luks.h"
#include "guest/init/supervisor.h"
#include "guest/init/sys.h"
#include "guest/init/verity.h"
#include "guest/keys/keys.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/spec.h"

#define SYSROOT "/sysroot"
#define SPEC_SHARE "/run/cocoon/spec-share"
#define SPEC_DIR "/run/spec"
#define EVENT_LOG "/run/cocoon/rtmr3.log"
#define LUKS_COPY "/run/cocoon/persistent.luks-header"
#define SPEC_MAX_FILES 10000
#define SPEC_MAX_BYTES (64u * 1024 * 1024)
#define DISK_KEY_NAME "disk_encryption"
#define DISK_KEY_LEN 32

static struct ci_spec spec;
static struct ca_backend *attest;
static bool persistent_mounted;
static bool model_mounted[CI_MAX_MODELS];

static void log_rtmr3(const char *when)
{
	uint8_t r[48];
	char hex[97];
	struct cm_err e = {0};
	if (ca_read(attest, 3, r, &e) < 0)
		ci_fatal("attest", "read RTMR3 %s: %s", when, e.msg);
	cm_hex_encode(r, 48, hex, sizeof hex);
	ci_log("rtmr3 %s", hex);
}

static void extend(const char *step, const char *msg)
{
	struct cm_err e = {0};
	if (ca_extend_event(attest, 3, msg, &e) < 0)
		ci_fatal(step, "%s", e.msg);
	ci_log("rtmr3 extend \"%s\"", msg);
}

int ci_boot_measure_debug_shell(const struct ci_boot *b, struct cm_err *e)
{
	return ci_debug_shell_measure(&attest, b->cmd.attest, EVENT_LOG, e);
}

/* The sim backend's CA may be seeded by the host from the spec's unmeasured runtime/sim/
 * (made with `cocoon-sim init --dir SPEC/runtime/sim`), so that a host-side verifier can
 * check this guest's sim quotes against a root it knows. Only for cocoon.attest=sim,
 * which the measured cmdline selects (and which no production policy accepts). */
#define SIM_SEED SPEC_DIR "/runtime/sim"
#define SIM_DIR "/run/cocoon/sim"

static void step_attest(const struct ci_boot *b)
{
	struct cm_err e = {0};
	if (ci_mkdir_p("/run/cocoon", &e) < 0)
		ci_fatal("attest", "%s", e.msg);
	if (!strcmp(b->cmd.attest, "sim") && access(SIM_SEED "/root.pem", F_OK) == 0) {
		if (ci_copy_tree(SIM_SEED, SIM_DIR, 64, 1u << 20, &e) < 0)
			ci_fatal("attest", "sim CA from %s: %s", SIM_SEED, e.msg);
		ci_log("sim CA seeded from %s", SIM_SEED);
	}
	if (ca_open(b->cmd.attest, EVENT_LOG, &attest, &e) < 0)
		ci_fatal("attest", "%s", e.msg);
	ci_log("attestation backend %s, event log %s", b->cmd.attest, EVENT_LOG);
}

/* Copy the 9p spec share to the private /run/spec (only the copy is used afterwards). */
static void step_spec_copy(void)
{
	struct cm_err e = {0};
	if (ci_mkdir_p(SPEC_SHARE, &e) < 0)
		ci_fatal("spec", "%s", e.msg);
	if (mount("spec", SPEC_SHARE, "9p", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "trans=virtio,version=9p2000.L") < 0)
		ci_fatal("spec", "cannot mount the 9p share tagged \"spec\" (%s)", strerror(errno));
	int r = ci_copy_tree(SPEC_SHARE, SPEC_DIR, SPEC_MAX_FILES, SPEC_MAX_BYTES, &e);
	umount2(SPEC_SHARE, MNT_DETACH);
	if (r < 0)
		ci_fatal("spec", "copy to %s: %s", SPEC_DIR, e.msg);
}

/* Measure the private copy (what is hashed is what is read) and load cocoon.json. */
static void step_spec_measure(void)
{
	struct cm_err e = {0};
	uint8_t h[32];
	char hex[65], msg[96];
	if (cm_spec_tree_hash(SPEC_DIR, h, &e) < 0)
		ci_fatal("spec", "tree hash of %s: %s", SPEC_DIR, e.msg);
	cm_hex_encode(h, 32, hex, sizeof hex);
	snprintf(msg, sizeof msg, CM_EVENT_SPEC_TREE_PREFIX "%s", hex);
	extend("spec", msg);
	if (ci_spec_load(SPEC_DIR, &spec, &e) < 0)
		ci_fatal("spec", "%s", e.msg);
	ci_log("spec: %d service(s), %d model(s), persistent volume %s", spec.n_services, spec.n_models,
	       spec.persistent ? spec.persistent_mount : "none");
}

static void step_gpu(const struct ci_boot *b)
{
	struct cm_err e = {0};
	bool required = spec.gpu_required || b->cmd.gpu == CI_GPU_REQUIRED;
	if (ci_gpu_verify(required, &e) < 0)
		ci_fatal("gpu", "%s", e.msg);
	ci_log("gpu: %s", required ? "verified" : "not required");
}

static void run_mkfs(const char *dev)
{
	static const char *const cands[] = {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", "/usr/sbin/mke2fs",
					     "/sbin/mke2fs"};
	const char *prog = NULL;
	for (size_t i = 0; i < sizeof cands / sizeof cands[0] && !prog; i++)
		if (access(cands[i], X_OK) == 0)
			prog = cands[i];
	if (!prog)
		ci_fatal("persistent", "no mkfs.ext4 in the initrd");
	pid_t pid = fork();
	if (pid == 0) {
		execl(prog, prog, "-q", "-F", "-t", "ext4", "-L", "persistent", "-E", "lazy_itable_init=1,nodiscard", dev,
		      (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ci_fatal("persistent", "%s %s failed", prog, dev);
}

/* The mount of the opened volume. ext4 errors=panic: a metadata block that fails its
 * integrity check later (EIO from dm-crypt) stops the TD instead of running on. */
static void mount_persistent(const char *mnt)
{
	if (mount("/dev/mapper/persistent", mnt, "ext4", MS_NOSUID | MS_NODEV, "errors=panic") == 0)
		return;
	int err = errno;
	if (err == EIO && spec.persistent_integrity)
		ci_fatal("persistent", "mount ext4 on %s: %s: integrity error: a sector of the persistent volume "
				       "failed its " CI_LUKS_INTEGRITY " check (changed outside this TD) or the disk failed; "
				       "refusing to continue on it",
			 spec.persistent_mount, strerror(err));
	ci_fatal("persistent", "mount ext4 on %s (%s)", spec.persistent_mount, strerror(err));
}

static void step_persistent(uint8_t *key, bool have_key)
{
	struct cm_err e = {0};
	char dev[300], mnt[300];
	bool integ = spec.persistent_integrity;
	if (!spec.persistent)
		return;
	if (!have_key)
		ci_fatal("persistent", "the spec has a persistent volume but no key provider was selected "
				       "(keys/cocoon-seal.json in the spec, cocoon.keys= or cocoon.debug)");
	ci_boot_wait_disk("persistent", dev, sizeof dev);
	int blank = ci_blank_check(dev, &e);
	bool formatted = false;
	if (blank < 0)
		ci_fatal("persistent", "%s", e.msg);
	if (blank == 1) {
		if (integ)
			ci_log("volume persistent: formatting with integrity (aes-xts-plain64 + " CI_LUKS_INTEGRITY
			       "), writing every sector once to initialise the tags");
		if (ci_luks_format(dev, key, DISK_KEY_LEN, integ, &e) < 0)
			ci_fatal("persistent", "%s", e.msg);
		formatted = true;
	} else {
		/* Not blank: it must be our LUKS2 volume, checked strictly before the key is
		 * ever used on it; anything else halts with the disk untouched. */
		char why[CM_ERR_MAX];
		snprintf(why, sizeof why, "%s", e.msg);
		if (ci_luks_copy_and_check(dev, LUKS_COPY, integ, &e) < 0)
			ci_fatal("persistent", "%s is not blank (%s) and not an acceptable LUKS2 volume (%s): %s", dev, why,
				 integ ? "integrity " CI_LUKS_INTEGRITY : "no integrity", e.msg);
	}
	if (formatted && ci_luks_copy_and_check(dev, LUKS_COPY, integ, &e) < 0)
		ci_fatal("persistent", "freshly formatted header fails validation: %s", e.msg);
	if (ci_luks_open(dev, LUKS_COPY, "persistent", key, DISK_KEY_LEN, &e) < 0)
		ci_fatal("persistent", "%s", e.msg);
	if (formatted)
		run_mkfs("/dev/mapper/persistent");
	snprintf(mnt, sizeof mnt, "%s%s", SYSROOT, spec.persistent_mount);
	if (ci_mkdir_p(mnt, &e) < 0)
		ci_fatal("persistent", "%s", e.msg);
	mount_persistent(mnt);
	persistent_mounted = true;
	ci_log("volume persistent: %s (%s)", formatted ? "formatted" : "opened",
	       integ ? "integrity " CI_LUKS_INTEGRITY : "no integrity");
}

static void step_keys_and_persistent(const struct ci_boot *b)
{
	struct cm_err e = {0};
	/* cocoon.keys=, else cocoon-seal when the measured spec configures it, else debug
	 * with cocoon.debug. Order (Cocoon's): spec.tree -> (debug) -> derive -> tdx_inited. */
	const char *name = ck_select(b->cmd.keys, SPEC_DIR, b->cmd.debug);
	struct ck_provider *kp = NULL;
	uint8_t key[DISK_KEY_LEN];
	bool have_key = false;
	if (name) {
		struct ck_env env = {.attest = attest, .debug = b->cmd.debug, .spec_dir = SPEC_DIR};
		if (ck_open(name, &env, &kp, &e) < 0)
			ci_fatal("keys", "%s", e.msg);
		ci_log("key provider %s", name);
		if (spec.persistent) {
			if (ck_derive(kp, DISK_KEY_NAME, key, sizeof key, &e) < 0)
				ci_fatal("keys", "%s", e.msg);
			have_key = true;
		}
		/* Cocoon's init derives "app" after "disk_encryption" in every boot; services
		 * get APP_KEY = base64 of it (never logged). */
		char app[CK_APP_KEY_ENV_MAX];
		if (ck_app_key_env(kp, app, sizeof app, &e) < 0)
			ci_fatal("keys", "%s", e.msg);
		int r = ci_spec_add_env(&spec, app, &e);
		OPENSSL_cleanse(app, sizeof app);
		if (r < 0)
			ci_fatal("keys", "%s", e.msg);
		ck_close(kp);
		ci_log("keys: %s" CK_APP_KEY_NAME " derived; " CK_APP_KEY_ENV " set for %d service(s)",
		       have_key ? DISK_KEY_NAME ", " : "", spec.n_services);
	}
	extend("keys", CM_EVENT_TDX_INITED);
	log_rtmr3("after tdx_inited");
	step_persistent(key, have_key);
	OPENSSL_cleanse(key, sizeof key);
}

static void step_models(const struct ci_boot *b)
{
	(void)b;
	struct cm_err e = {0};
	for (int i = 0; i < spec.n_models; i++) {
		const struct ci_model *m = &spec.models[i];
		char data[300], hash[300], mapper[300], dmname[64], mnt[300];
		ci_boot_wait_disk(m->serial, data, sizeof data);
		if (m->hash_serial[0])
			ci_boot_wait_disk(m->hash_serial, hash, sizeof hash);
		else
			snprintf(hash, sizeof hash, "%s", data);
		snprintf(dmname, sizeof dmname, "model-%s", m->name);
		struct ci_verity v = {
			.name = dmname,
			.data_dev = data,
			.hash_dev = hash,
			.hash_offset = m->hash_serial[0] ? 0 : m->data_blocks * 4096u,
			.data_blocks = m->data_blocks,
		};
		memcpy(v.roothash, m->roothash, 32);
		if (ci_verity_open(&v, mapper, sizeof mapper, &e) < 0)
			ci_fatal("models", "%s", e.msg);
		snprintf(mnt, sizeof mnt, "%s/models/%s", SYSROOT, m->name);
		if (ci_mkdir_p(mnt, &e) < 0)
			ci_fatal("models", "%s", e.msg);
		if (mount(mapper, mnt, "erofs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			ci_fatal("models", "mount erofs %s on /models/%s (%s)", mapper, m->name, strerror(errno));
		model_mounted[i] = true;
		ci_log("volume model-%s: mounted (verity %s)", m->name, m->roothash_hex);
	}
}

/* Shutdown: paths are in the new root now. */
static void shutdown_hook(void)
{
	struct cm_err e = {0};
	sync();
	for (int i = spec.n_models - 1; i >= 0; i--) {
		if (!model_mounted[i])
			continue;
		char mnt[300], dmname[64];
		snprintf(mnt, sizeof mnt, "/models/%s", spec.models[i].name);
		snprintf(dmname, sizeof dmname, "model-%s", spec.models[i].name);
		if (umount(mnt) < 0)
			ci_log("shutdown: umount %s (%s)", mnt, strerror(errno));
		else if (ci_dm_close(dmname, &e) < 0)
			ci_log("shutdown: %s", e.msg);
		else
			ci_log("shutdown: volume %s closed", dmname);
	}
	if (persistent_mounted) {
		if (umount(spec.persistent_mount) < 0)
			ci_log("shutdown: umount %s (%s)", spec.persistent_mount, strerror(errno));
		else if (ci_dm_close("persistent", &e) < 0)
			ci_log("shutdown: %s", e.msg);
		else
			ci_log("shutdown: volume persistent closed");
	}
}

/* Loopback always (services talk to each other over 127.0.0.1); the spec's interface
 * when it names one. */
static void step_network(const struct ci_boot *b)
{
	struct cm_err e = {0};
	if (ci_net_up(&spec.network, b->cmd.timeout_s * 1000u, &e) < 0)
		ci_fatal("network", "%s", e.msg);
	if (spec.network.configured) {
		char a[INET_ADDRSTRLEN] = "", g[INET_ADDRSTRLEN] = "none";
		inet_ntop(AF_INET, &spec.network.addr, a, sizeof a);
		if (spec.network.gateway)
			inet_ntop(AF_INET, &spec.network.gateway, g, sizeof g);
		ci_log("network: %s %s/%u, gateway %s", spec.network.ifname, a, spec.network.prefix, g);
	} else {
		ci_log("network: loopback only");
	}
}

void ci_boot_rest(struct ci_boot *b)
{
	struct cm_err e = {0};
	step_spec_copy();
	step_attest(b);
	step_spec_measure();
	step_gpu(b);
	/* The network comes up before the keys: a seal server reached over TCP (the test
	 * transport, sim only) needs it; nothing in the guest listens before the services. */
	step_network(b);
	step_keys_and_persistent(b);
	step_models(b);
	ci_disks_close(&b->disks);
	if (ci_switch_root(SYSROOT, &e) < 0)
		ci_fatal("switch_root", "%s", e.msg);
	ci_log("switched to the verified root");
	ci_supervise(&spec, shutdown_hook, b->cmd.debug);
}
