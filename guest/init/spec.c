/* Boot step 6 (spec): the 9p spec share copied to the private /run/spec, the copy
 * measured into RTMR3 (cocoon:spec.tree) and its cocoon.json loaded (appspec.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "guest/init/boot.h"
#include "guest/init/log.h"
#include "guest/init/sys.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/spec.h"

#define SPEC_SHARE "/run/cocoon/spec-share"
#define SPEC_MAX_FILES 10000
#define SPEC_MAX_BYTES (64u * 1024 * 1024)

/* Copy the 9p spec share to the private /run/spec (only the copy is used afterwards). */
void ci_boot_spec_copy(struct ci_boot *b)
{
	(void)b;
	struct cm_err e = {0};
	if (ci_mkdir_p(SPEC_SHARE, &e) < 0)
		ci_fatal("spec", "%s", e.msg);
	if (mount("spec", SPEC_SHARE, "9p", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "trans=virtio,version=9p2000.L") < 0)
		ci_fatal("spec", "cannot mount the 9p share tagged \"spec\" (%s)", strerror(errno));
	int r = ci_copy_tree(SPEC_SHARE, CI_SPEC_DIR, SPEC_MAX_FILES, SPEC_MAX_BYTES, &e);
	umount2(SPEC_SHARE, MNT_DETACH);
	if (r < 0)
		ci_fatal("spec", "copy to %s: %s", CI_SPEC_DIR, e.msg);
}

/* Measure the private copy (what is hashed is what is read) and load cocoon.json. */
void ci_boot_spec_measure(struct ci_boot *b)
{
	struct cm_err e = {0};
	uint8_t h[32];
	char hex[65], msg[96];
	if (cm_spec_tree_hash(CI_SPEC_DIR, h, &e) < 0)
		ci_fatal("spec", "tree hash of %s: %s", CI_SPEC_DIR, e.msg);
	cm_hex_encode(h, 32, hex, sizeof hex);
	snprintf(msg, sizeof msg, CM_EVENT_SPEC_TREE_PREFIX "%s", hex);
	ci_boot_extend(b, "spec", msg);
	if (ci_spec_load(CI_SPEC_DIR, &b->spec, &e) < 0)
		ci_fatal("spec", "%s", e.msg);
	ci_log("spec: %d service(s), %d model(s), persistent volume %s", b->spec.n_services, b->spec.n_models,
	       b->spec.persistent ? b->spec.persistent_mount : "none");
}
