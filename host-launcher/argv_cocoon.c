/* The `cocoon` machine profile: Cocoon's own QEMU command line (TelegramMessenger/cocoon
 * scripts/cocoon-launch run_qemu, b75d444), argument for argument, so a Cocoon image
 * booted by cocoon-launch keeps Cocoon's published MRTD/RTMR0-2 and image hash
 * (docs/operator-guide.md "Profile cocoon"). Only host-side backends differ: the console
 * may go to a file, and a QMP socket is added (for stop and supervision); capture-acpi's
 * probe replaces kernel and initrd, opens the disks read-only and logs its serial port. */
#include "host-launcher/argv.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "host-launcher/argv_build.h"
#include "host-launcher/image.h"

int cl_build_argv_cocoon(const struct cl_config *c, const struct cl_boot *b, struct cl_argv *out,
			 struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	const bool kvm = !strcmp(b->accel, "kvm"), probe = b->probe_dir != NULL;
	char path[CL_PATH_MAX + 64], mem[32];
	cl_mem_size(c->memory, mem, sizeof(mem));

	PUSH("%s", c->qemu);
	PUSH("-machine");
	PUSH("q35,kernel-irqchip=split,memory-backend=mem0%s", c->tdx ? ",confidential-guest-support=tdx" : "");
	PUSH("-bios");
	cl_config_artifact(c, CL_ART_OVMF, path, sizeof(path));
	PUSH("%s", path);
	PUSH("-accel");
	PUSH("%s", b->accel);
	PUSH("-cpu");
	PUSH("%s", (!kvm && !strcmp(c->cpu, "host")) ? "max" : c->cpu);
	PUSH("-smp");
	PUSH("%u", c->vcpus);
	PUSH("-vga");
	PUSH("none");
	if (c->tdx) {
		PUSH("-object");
		PUSH("{\"qom-type\":\"tdx-guest\",\"id\":\"tdx\",\"quote-generation-socket\":"
		     "{\"type\":\"vsock\",\"cid\":\"2\",\"port\":\"%" PRIu32 "\"}}",
		     c->qgs_port);
	}
	PUSH("-object");
	PUSH("memory-backend-ram,id=mem0,size=%s", mem);
	PUSH("-device");
	PUSH("vhost-vsock-pci,guest-cid=%" PRIu32, cl_config_cid(c));
	PUSH("-object");
	PUSH("iommufd,id=iommufd0");
	PUSH("-device");
	PUSH("pcie-root-port,id=pci.0,bus=pcie.0");
	cl_config_artifact(c, CL_ART_ROOTFS, path, sizeof(path));
	PUSH("-drive");
	PUSH("cache=writeback,file=%s,readonly=on,id=drive1,if=none,index=1,werror=report", path);
	PUSH("-device");
	PUSH("virtio-blk-pci,bootindex=1,drive=drive1,serial=root");
	PUSH("-drive");
	PUSH("cache=writeback,file=%s,format=raw,id=drive2,if=none,index=2,werror=report%s", c->persistent_disk,
	     probe ? ",readonly=on" : "");
	PUSH("-device");
	PUSH("virtio-blk-pci,bootindex=2,drive=drive2,serial=persistent");
	if (c->n_models) { /* model.tar = TAR,TAR.verity (config.c allows only this one) */
		PUSH("-drive");
		PUSH("readonly=on,file=%s,id=drivecache,if=none,index=3,werror=report", c->models[0].data);
		PUSH("-device");
		PUSH("virtio-blk-pci,drive=drivecache,serial=model-tar");
		PUSH("-drive");
		PUSH("readonly=on,file=%s,id=drivecacheverity,if=none,index=4,werror=report", c->models[0].hash);
		PUSH("-device");
		PUSH("virtio-blk-pci,drive=drivecacheverity,serial=model-tar-verity");
	}
	PUSH("-chardev");
	cl_console_chardev(c, b, "char0", "", path, sizeof(path));
	PUSH("%s", path);
	PUSH("-device");
	PUSH("virtio-serial-pci,id=virtio-serial0");
	PUSH("-device");
	PUSH("virtconsole,chardev=char0");
	if (cl_argv_boot_files(out, c, b, e) < 0)
		return e->code;
	PUSH("-virtfs");
	PUSH("local,path=%s,mount_tag=spec,security_model=mapped,readonly=on", c->spec_dir);
	PUSH("-net");
	PUSH("nic,netdev=user.0,model=virtio");
	if (cl_argv_user_netdev(out, c, "user.0") < 0)
		goto nomem;
	PUSH("-nographic");
	PUSH("-serial");
	if (probe)
		PUSH("file:%s/serial.log", b->probe_dir);
	else
		PUSH("null");
	PUSH("-monitor");
	PUSH("null");
	if (c->n_gpus) {
		PUSH("-device");
		PUSH("vfio-pci,host=%s,bus=pci.0,iommufd=iommufd0", c->gpus[0]);
	}
	if (!probe) {
		cl_qmp_path(c, path, sizeof(path));
		PUSH("-qmp");
		PUSH("unix:%s,server=on,wait=off", path);
	}
	return 0;
nomem:
	cl_argv_free(out);
	return cm_fail(e, -ENOMEM, "building the QEMU argv (out of memory)");
}
