/* The boot's volumes: the dm-verity root (step 5) under an overlay, the LUKS2
 * persistent volume (step 9, checks in luks.c) and the dm-verity models (step 10),
 * and their unmount at shutdown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/luks.h"
#include "guest/init/modelkey.h"
#include "guest/init/sys.h"
#include "guest/init/verity.h"

#define LOWER "/run/cocoon/lower"
#define OVL "/run/cocoon/overlay"
#define LUKS_COPY "/run/cocoon/persistent.luks-header"

void ci_boot_root(struct ci_boot *b)
{
	struct cm_err e = {0};
	char dev[300], mapper[300];
	ci_boot_wait_disk(b, "root", dev, sizeof dev);
	struct ci_verity v = {
		.name = "root",
		.data_dev = dev,
		.hash_dev = dev,
		.hash_offset = b->cmd.rootblocks * CI_VERITY_BLOCK,
		.data_blocks = b->cmd.rootblocks,
	};
	memcpy(v.roothash, b->cmd.roothash, 32);
	if (ci_verity_open(&v, mapper, sizeof mapper, &e) < 0)
		ci_fatal("root", "%s", e.msg);
	if (ci_mkdir_p(LOWER, &e) < 0 || ci_mkdir_p(OVL, &e) < 0 || ci_mkdir_p(CI_SYSROOT, &e) < 0)
		ci_fatal("root", "%s", e.msg);
	if (mount(mapper, LOWER, "erofs", MS_RDONLY | MS_NODEV, NULL) < 0)
		ci_fatal("root", "mount erofs %s on %s (%s)", mapper, LOWER, strerror(errno));
	if (mount("tmpfs", OVL, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
	    ci_mkdir_p(OVL "/upper", &e) < 0 || ci_mkdir_p(OVL "/work", &e) < 0)
		ci_fatal("root", "overlay tmpfs on %s (%s)", OVL, errno ? strerror(errno) : e.msg);
	if (mount("overlay", CI_SYSROOT, "overlay", 0,
		  "lowerdir=" LOWER ",upperdir=" OVL "/upper,workdir=" OVL "/work") < 0)
		ci_fatal("root", "mount overlay on %s (%s)", CI_SYSROOT, strerror(errno));
	ci_log("root verified %s", b->cmd.roothash_hex);
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
static void mount_persistent(const struct ci_spec *spec, const char *mnt)
{
	if (mount("/dev/mapper/persistent", mnt, "ext4", MS_NOSUID | MS_NODEV, "errors=panic") == 0)
		return;
	int err = errno;
	if (err == EIO && spec->persistent_integrity)
		ci_fatal("persistent", "mount ext4 on %s: %s: integrity error: a sector of the persistent volume "
				       "failed its " CI_LUKS_INTEGRITY " check (changed outside this TD) or the disk failed; "
				       "refusing to continue on it",
			 spec->persistent_mount, strerror(err));
	ci_fatal("persistent", "mount ext4 on %s (%s)", spec->persistent_mount, strerror(err));
}

static void open_persistent(struct ci_boot *b)
{
	struct cm_err e = {0};
	char dev[300], mnt[300];
	const struct ci_spec *spec = &b->spec;
	bool integ = spec->persistent_integrity;
	if (!b->have_disk_key)
		ci_fatal("persistent", "the spec has a persistent volume but no key provider was selected "
				       "(keys/cocoon-seal.json or keys/tpm2.json in the spec, cocoon.keys= or cocoon.debug)");
	ci_boot_wait_disk(b, "persistent", dev, sizeof dev);
	int blank = ci_blank_check(dev, &e);
	bool formatted = false;
	if (blank < 0)
		ci_fatal("persistent", "%s", e.msg);
	if (blank == 1) {
		if (integ)
			ci_log("volume persistent: formatting with integrity (aes-xts-plain64 + " CI_LUKS_INTEGRITY
			       "), writing every sector once to initialise the tags");
		if (ci_luks_format(dev, b->disk_key, CI_DISK_KEY_LEN, integ, &e) < 0)
			ci_fatal("persistent", "%s", e.msg);
		/* the tpm2 provider's sealed secret goes into the new header (a crash before
		 * this leaves a volume without it: the next boot halts; zero the disk) */
		if (b->luks_token && (!b->luks_token_new || ci_luks_token_write(dev, b->luks_token_new, &e) < 0))
			ci_fatal("persistent", "%s", b->luks_token_new ? e.msg : "no token was sealed for the new volume");
		formatted = true;
	} else {
		/* Not blank: it must be our LUKS2 volume, checked strictly before the key is
		 * ever used on it; anything else halts with the disk untouched. */
		char why[CM_ERR_MAX];
		snprintf(why, sizeof why, "%s", e.msg);
		if (ci_luks_copy_and_check(dev, LUKS_COPY, integ, b->luks_token, &e) < 0)
			ci_fatal("persistent", "%s is not blank (%s) and not an acceptable LUKS2 volume (%s): %s", dev, why,
				 integ ? "integrity " CI_LUKS_INTEGRITY : "no integrity", e.msg);
	}
	if (formatted && ci_luks_copy_and_check(dev, LUKS_COPY, integ, b->luks_token, &e) < 0)
		ci_fatal("persistent", "freshly formatted header fails validation: %s", e.msg);
	if (ci_luks_open(dev, LUKS_COPY, "persistent", b->disk_key, CI_DISK_KEY_LEN, &e) < 0)
		ci_fatal("persistent", "%s", e.msg);
	if (formatted)
		run_mkfs("/dev/mapper/persistent");
	snprintf(mnt, sizeof mnt, "%s%s", CI_SYSROOT, spec->persistent_mount);
	if (ci_mkdir_p(mnt, &e) < 0)
		ci_fatal("persistent", "%s", e.msg);
	mount_persistent(spec, mnt);
	b->persistent_mounted = true;
	ci_log("volume persistent: %s (%s)", formatted ? "formatted" : "opened",
	       integ ? "integrity " CI_LUKS_INTEGRITY : "no integrity");
}

void ci_boot_persistent(struct ci_boot *b)
{
	if (b->spec.persistent)
		open_persistent(b);
	OPENSSL_cleanse(b->disk_key, sizeof b->disk_key);
	b->have_disk_key = false;
	free(b->luks_token_new);
	b->luks_token_new = NULL;
}

void ci_boot_models(struct ci_boot *b)
{
	struct cm_err e = {0};
	for (int i = 0; i < b->spec.n_models; i++) {
		const struct ci_model *m = &b->spec.models[i];
		char data[300], hash[300], mapper[300], dmname[64], mnt[300];
		ci_boot_wait_disk(b, m->serial, data, sizeof data);
		if (m->hash_serial[0])
			ci_boot_wait_disk(b, m->hash_serial, hash, sizeof hash);
		else
			snprintf(hash, sizeof hash, "%s", data);
		/* An encrypted model's verity device is model-<name>-verity, its crypt device on top
		 * model-<name> (modelkey.c). */
		snprintf(dmname, sizeof dmname, m->encrypted ? "model-%s-verity" : "model-%s", m->name);
		struct ci_verity v = {
			.name = dmname,
			.data_dev = data,
			.hash_dev = hash,
			.hash_offset = m->hash_serial[0] ? 0 : m->data_blocks * CI_VERITY_BLOCK,
			.data_blocks = m->data_blocks,
		};
		memcpy(v.roothash, m->roothash, 32);
		if (ci_verity_open(&v, mapper, sizeof mapper, &e) < 0)
			ci_fatal("models", "%s", e.msg);
		if (m->encrypted) {
			char vdev[300];
			snprintf(vdev, sizeof vdev, "%s", mapper);
			ci_boot_model_key(b, m, vdev, mapper, sizeof mapper);
		}
		snprintf(mnt, sizeof mnt, "%s/models/%s", CI_SYSROOT, m->name);
		if (ci_mkdir_p(mnt, &e) < 0)
			ci_fatal("models", "%s", e.msg);
		if (mount(mapper, mnt, "erofs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
			ci_fatal("models", "mount erofs %s on /models/%s (%s)%s", mapper, m->name, strerror(errno),
				 m->encrypted ? ": the released key does not decrypt the volume to a filesystem (wrong key?)"
					      : "");
		b->model_mounted[i] = true;
		ci_log("volume model-%s: mounted (verity %s%s)", m->name, m->roothash_hex,
		       m->encrypted ? ", decrypted with the key server's key" : "");
	}
}

/* Unmount mnt and close its dm device dmname, logging the outcome. */
static void close_volume(const char *mnt, const char *dmname)
{
	struct cm_err e = {0};
	if (umount(mnt) < 0)
		ci_log("shutdown: umount %s (%s)", mnt, strerror(errno));
	else if (ci_dm_close(dmname, &e) < 0)
		ci_log("shutdown: %s", e.msg);
	else
		ci_log("shutdown: volume %s closed", dmname);
}

void ci_boot_close_volumes(void *boot)
{
	const struct ci_boot *b = boot;
	sync();
	for (int i = b->spec.n_models - 1; i >= 0; i--) {
		if (!b->model_mounted[i])
			continue;
		char mnt[300], dmname[64];
		snprintf(mnt, sizeof mnt, "/models/%s", b->spec.models[i].name);
		snprintf(dmname, sizeof dmname, "model-%s", b->spec.models[i].name);
		close_volume(mnt, dmname);
		struct cm_err e = {0};
		snprintf(dmname, sizeof dmname, "model-%s-verity", b->spec.models[i].name);
		if (b->spec.models[i].encrypted && ci_dm_close(dmname, &e) < 0)
			ci_log("shutdown: %s", e.msg);
	}
	if (b->persistent_mounted)
		close_volume(b->spec.persistent_mount, "persistent");
}
