/* QEMU argv for a Cocoon node (TDX direct boot, and the same shape without TDX). */
#include "host-launcher/argv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/image.h"

void cl_argv_free(struct cl_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int cl_argv_push(struct cl_argv *a, const char *fmt, ...)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

void cl_console_log_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s-%u.console.log", c->log_dir, cl_node_type_name(c->type), c->instance);
}

void cl_serial_log_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s-%u.serial.log", c->log_dir, cl_node_type_name(c->type), c->instance);
}

void cl_qmp_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/qmp.sock", c->run_dir);
}

void cl_status_path(const struct cl_config *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/status.sock", c->run_dir);
}

void cl_mem_size(uint64_t bytes, char *out, size_t outsz)
{
	if (bytes % (1ull << 30) == 0)
		snprintf(out, outsz, "%" PRIu64 "G", bytes >> 30);
	else
		snprintf(out, outsz, "%" PRIu64 "M", bytes >> 20);
}

#define PUSH(...)                                                   \
	do {                                                        \
		if (cl_argv_push(out, __VA_ARGS__) < 0)             \
			goto nomem;                                 \
	} while (0)

/* opt and the file: the probe's own when probing, else the image's artifact a. */
static int push_boot_file(struct cl_argv *out, const struct cl_config *c, const struct cl_boot *b, const char *opt,
			  const char *probe_file, enum cl_artifact a)
{
	char path[CL_PATH_MAX + 64];
	const char *file = probe_file;
	if (!b->probe_dir) {
		cl_config_artifact(c, a, path, sizeof(path));
		file = path;
	}
	return cl_argv_push(out, "%s", opt) < 0 || cl_argv_push(out, "%s", file) < 0 ? -ENOMEM : 0;
}

int cl_argv_boot_files(struct cl_argv *out, const struct cl_config *c, const struct cl_boot *b, struct cm_err *e)
{
	if (push_boot_file(out, c, b, "-kernel", b->probe_kernel, CL_ART_KERNEL) < 0 ||
	    push_boot_file(out, c, b, "-initrd", b->probe_initrd, CL_ART_INITRD) < 0)
		goto nomem;
	PUSH("-append");
	if (b->cmdline) {
		PUSH("%s", b->cmdline);
	} else if (b->cmdline_file) {
		PUSH("%s", b->cmdline_file);
		out->deferred = out->n;
	} else {
		cl_argv_free(out);
		return cm_fail(e, -EINVAL, "no kernel command line");
	}
	return 0;
nomem:
	cl_argv_free(out);
	return cm_fail(e, -ENOMEM, "building the QEMU argv (out of memory)");
}

int cl_argv_user_netdev(struct cl_argv *out, const struct cl_config *c, const char *id)
{
	char nd[64 + CL_MAX_PORTS * 48];
	size_t n = (size_t)snprintf(nd, sizeof(nd), "user,id=%s", id);
	for (size_t i = 0; i < c->n_ports && n < sizeof(nd); i++)
		n += (size_t)snprintf(nd + n, sizeof(nd) - n, ",hostfwd=%s::%u-:%u", c->ports[i].udp ? "udp" : "tcp",
				      cl_config_host_port(c, i), c->ports[i].guest);
	return cl_argv_push(out, "-netdev") < 0 || cl_argv_push(out, "%s", nd) < 0 ? -ENOMEM : 0;
}

void cl_console_chardev(const struct cl_config *c, const struct cl_boot *b, const char *id, const char *stdio_opts,
			char *out, size_t outsz)
{
	char path[CL_PATH_MAX + 64];
	if (b->probe_dir) {
		snprintf(out, outsz, "file,id=%s,path=%s/console.log", id, b->probe_dir);
	} else if (!strcmp(b->console, "file")) {
		cl_console_log_path(c, path, sizeof(path));
		snprintf(out, outsz, "file,id=%s,path=%s", id, path);
	} else {
		snprintf(out, outsz, "stdio,id=%s%s", id, stdio_opts);
	}
}

int cl_build_argv(const struct cl_config *c, const struct cl_boot *b, struct cl_argv *out,
		  struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	const bool kvm = !strcmp(b->accel, "kvm");
	if (!kvm && strcmp(b->accel, "tcg"))
		return cm_fail(e, -EINVAL, "accelerator '%s' (expected kvm or tcg)", b->accel);
	if (c->tdx && !kvm)
		return cm_fail(e, -EINVAL, "TDX needs KVM (accel tcg is only for --no-tdx test boots)");
	const bool probe = b->probe_dir != NULL;
	if (probe && cl_path_check(b->probe_dir) < 0)
		return cm_fail(e, -EINVAL, "probe output directory '%s' cannot go into a QEMU option "
				       "(a path without commas or control characters)", b->probe_dir);
	if (c->profile == CL_PROFILE_COCOON)
		return cl_build_argv_cocoon(c, b, out, e);
	const char *img = c->image_dir;
	const char *type = cl_node_type_name(c->type);
	char mem[32];
	cl_mem_size(c->memory, mem, sizeof(mem));
	char path[CL_PATH_MAX + 64];

	PUSH("%s", c->qemu);
	PUSH("-name");
	PUSH("cocoon-%s-%u,process=cocoon-%s-%u,debug-threads=on", type, c->instance, type, c->instance);
	PUSH("-nodefaults");
	PUSH("-no-user-config");
	PUSH("-display");
	PUSH("none");
	PUSH("-no-reboot");
	PUSH("-accel");
	PUSH("%s", b->accel);
	PUSH("-machine");
	/* canonical/tdx boot_direct.sh: q35,kernel_irqchip=split,confidential-guest-support=tdx,hpet=off;
	 * Cocoon adds memory-backend=mem0. The non-TDX shape keeps everything else. */
	if (c->tdx)
		PUSH("q35,kernel-irqchip=split,confidential-guest-support=tdx,hpet=off,memory-backend=mem0");
	else
		PUSH("q35,kernel-irqchip=split,hpet=off,memory-backend=mem0");
	PUSH("-cpu");
	/* TCG cannot emulate "host"; "max" is its closest equivalent. */
	PUSH("%s", (!kvm && !strcmp(c->cpu, "host")) ? "max" : c->cpu);
	PUSH("-smp");
	PUSH("%u", c->vcpus);
	PUSH("-m");
	PUSH("%s", mem);
	PUSH("-object");
	PUSH("memory-backend-ram,id=mem0,size=%s", mem);
	if (c->tdx) {
		PUSH("-object");
		PUSH("{\"qom-type\":\"tdx-guest\",\"id\":\"tdx\",\"quote-generation-socket\":"
		     "{\"type\":\"vsock\",\"cid\":\"2\",\"port\":\"%" PRIu32 "\"}}",
		     c->qgs_port);
	}

	/* firmware and direct boot */
	PUSH("-bios");
	cl_artifact_path(img, CL_ART_OVMF, path, sizeof(path));
	PUSH("%s", path);
	if (cl_argv_boot_files(out, c, b, e) < 0)
		return e->code;

	/* disks, by the virtio serials cocoon-init looks for */
	cl_artifact_path(img, CL_ART_ROOTFS, path, sizeof(path));
	PUSH("-drive");
	PUSH("file=%s,if=none,id=drive-root,format=raw,readonly=on", path);
	PUSH("-device");
	PUSH("virtio-blk-pci,drive=drive-root,serial=root,bootindex=1");
	if (c->persistent_disk[0]) {
		PUSH("-drive");
		PUSH("file=%s,if=none,id=drive-persistent,format=raw%s", c->persistent_disk,
		     probe ? ",readonly=on" : "");
		PUSH("-device");
		PUSH("virtio-blk-pci,drive=drive-persistent,serial=persistent");
	}
	for (size_t i = 0; i < c->n_models; i++) {
		const struct cl_model *m = &c->models[i];
		PUSH("-drive");
		PUSH("file=%s,if=none,id=drive-model-%s,format=raw,readonly=on", m->data, m->name);
		PUSH("-device");
		PUSH("virtio-blk-pci,drive=drive-model-%s,serial=model-%s", m->name, m->name);
		if (m->hash[0]) {
			PUSH("-drive");
			PUSH("file=%s,if=none,id=drive-model-%s-verity,format=raw,readonly=on", m->hash, m->name);
			PUSH("-device");
			PUSH("virtio-blk-pci,drive=drive-model-%s-verity,serial=model-%s-verity", m->name, m->name);
		}
	}

	/* spec share (9p, read-only, tag "spec") */
	PUSH("-fsdev");
	PUSH("local,id=fsdev-spec,path=%s,security_model=none,readonly=on", c->spec_dir);
	PUSH("-device");
	PUSH("virtio-9p-pci,fsdev=fsdev-spec,mount_tag=spec");

	/* user networking with host port forwards (host port + instance * 10) */
	if (cl_argv_user_netdev(out, c, "net0") < 0)
		goto nomem;
	PUSH("-device");
	PUSH("virtio-net-pci,netdev=net0,romfile=");

	if (c->vsock_cid) {
		PUSH("-device");
		PUSH("vhost-vsock-pci,guest-cid=%" PRIu32, cl_config_cid(c));
	}

	/* GPUs: iommufd + one pcie-root-port per GPU */
	if (c->n_gpus) {
		PUSH("-object");
		PUSH("iommufd,id=iommufd0");
		for (size_t i = 0; i < c->n_gpus; i++) {
			PUSH("-device");
			PUSH("pcie-root-port,id=rp-gpu%zu,bus=pcie.0,chassis=%zu", i, i + 1);
			PUSH("-device");
			PUSH("vfio-pci,host=%s,bus=rp-gpu%zu,iommufd=iommufd0", c->gpus[i], i);
		}
		/* 64-bit MMIO window large enough for H100/H200 BARs (OVMF knob, in MiB). */
		PUSH("-fw_cfg");
		PUSH("name=opt/ovmf/X-PciMmio64Mb,string=262144");
	}

	/* consoles: virtio console (hvc0) and the serial port (ttyS0) as a log */
	PUSH("-device");
	PUSH("virtio-serial-pci,id=virtio-serial0");
	PUSH("-chardev");
	cl_console_chardev(c, b, "hvc0", ",signal=off", path, sizeof(path));
	PUSH("%s", path);
	PUSH("-device");
	PUSH("virtconsole,chardev=hvc0");
	PUSH("-chardev");
	if (probe) {
		PUSH("file,id=serial0,path=%s/serial.log", b->probe_dir);
	} else {
		cl_serial_log_path(c, path, sizeof(path));
		PUSH("file,id=serial0,path=%s", path);
	}
	PUSH("-serial");
	PUSH("chardev:serial0");
	if (!probe) {
		/* the guest's status channel (guest/init/status.h): a virtio-serial port whose
		 * host end is a unix socket `cocoon-launch status` connects to */
		cl_status_path(c, path, sizeof(path));
		PUSH("-chardev");
		PUSH("socket,id=status0,path=%s,server=on,wait=off", path);
		PUSH("-device");
		PUSH("virtserialport,chardev=status0,name=org.cocoon.status");
		cl_qmp_path(c, path, sizeof(path));
		PUSH("-qmp");
		PUSH("unix:%s,server=on,wait=off", path);
	}
	return 0;
nomem:
	cl_argv_free(out);
	return cm_fail(e, -ENOMEM, "building the QEMU argv (out of memory)");
}

int cl_shell_quote(const char *s, char *out, size_t outsz)
{
	bool safe = *s != 0;
	for (const char *p = s; *p; p++)
		if (!(( *p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_@%+=:,./-", *p)))
			safe = false;
	size_t n = 0;
#define PUTC(ch)                               \
	do {                                   \
		if (n + 1 >= outsz)            \
			return -ENOSPC;        \
		out[n++] = (ch);               \
	} while (0)
	if (outsz == 0)
		return -ENOSPC;
	if (safe) {
		for (const char *p = s; *p; p++)
			PUTC(*p);
	} else {
		PUTC('\'');
		for (const char *p = s; *p; p++) {
			if (*p == '\'') {
				PUTC('\'');
				PUTC('\\');
				PUTC('\'');
				PUTC('\'');
			} else {
				PUTC(*p);
			}
		}
		PUTC('\'');
	}
#undef PUTC
	out[n] = 0;
	return (int)n;
}

static int print_word(const struct cl_argv *a, size_t i, FILE *f)
{
	size_t cap = 4 * strlen(a->v[i]) + 3;
	char *q = malloc(cap);
	if (!q)
		return -ENOMEM;
	cl_shell_quote(a->v[i], q, cap);
	if (a->deferred == i + 1)
		fprintf(f, "\"$(cat %s)\"", q);
	else
		fputs(q, f);
	free(q);
	return 0;
}

int cl_argv_print(const struct cl_argv *a, FILE *f)
{
	for (size_t i = 0; i < a->n; i++) {
		if (i)
			fputs("  ", f);
		if (print_word(a, i, f) < 0)
			return -ENOMEM;
		/* an option and its value share a line */
		if (i > 0 && a->v[i][0] == '-' && i + 1 < a->n && a->v[i + 1][0] != '-') {
			fputc(' ', f);
			if (print_word(a, ++i, f) < 0)
				return -ENOMEM;
		}
		fputs(i + 1 < a->n ? " \\\n" : "\n", f);
	}
	return ferror(f) ? -EIO : 0;
}
