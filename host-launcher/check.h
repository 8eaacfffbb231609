/* Host preflight (`cocoon-launch check`): one result per check and a verdict.
 * The sysfs, procfs and /dev roots are parameters so tests run against fake trees. */
#ifndef COCOON_LAUNCH_CHECK_H
#define COCOON_LAUNCH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host-launcher/config.h"

struct cl_host {
	const char *sys;   /* "/sys" */
	const char *proc;  /* "/proc" */
	const char *dev;   /* "/dev" */
	/* Connect to vsock (cid, port) with a short timeout; 0 or -errno. NULL = real AF_VSOCK. */
	int (*vsock_connect)(uint32_t cid, uint32_t port, int timeout_ms);
};

void cl_host_default(struct cl_host *h);

enum cl_status { CL_PASS, CL_WARN, CL_FAIL, CL_SKIP };

#define CL_MAX_CHECKS 48

struct cl_check {
	char name[32];
	enum cl_status status;
	bool required;     /* a FAIL of a required check fails the verdict */
	char detail[512];
};

struct cl_report {
	struct cl_check c[CL_MAX_CHECKS];
	size_t n;
	bool ok;           /* verdict */
};

/* c may be NULL (host-only checks). */
void cl_check_host(const struct cl_config *c, const struct cl_host *h, struct cl_report *r);

/* Parse "QEMU emulator version 11.1.3 (Debian ...)" -> major, minor. */
int cl_qemu_parse_version(const char *text, unsigned *major, unsigned *minor, unsigned *micro);

/* Run a program with arguments and capture up to max bytes of its stdout (NUL-terminated). */
int cl_capture_output(char *const argv[], char *out, size_t max, int *status);

/* Real AF_VSOCK connect with a timeout. */
int cl_vsock_connect(uint32_t cid, uint32_t port, int timeout_ms);

/* Is /dev/kvm (under dev) openable read-write? 0 or -errno. */
int cl_kvm_usable(const char *dev);

const char *cl_status_name(enum cl_status s);

#endif
