/* The default machine profile: the QEMU argv of a Cocoon appliance node (TDX direct boot,
 * and the same shape without TDX), after the checks both profiles share; a node of profile
 * cocoon goes to argv_cocoon.c. */
#include "host-launcher/argv.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "host-launcher/argv_build.h"
#include "host-launcher/image.h"

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
