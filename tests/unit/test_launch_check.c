/* cocoon-launch check: host preflight against fake sysfs/procfs/dev trees, a fake QEMU
 * (a shell script printing what the real one prints) and a fake vsock connect. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-launcher/check.h"
#include "host-launcher/config.h"
#include "measure/core/digest.h"
#include "tests/unit/testutil.h"

struct fake {
	char root[256];
	char sys[300], proc[300], dev[300];
	struct cl_host h;
	struct cl_config c;
};

static int qgs_result;
static int fake_vsock(uint32_t cid, uint32_t port, int timeout_ms)
{
	(void)timeout_ms;
	return (cid == 2 && port == 4050) ? qgs_result : -ECONNREFUSED;
}

static void mkdirs(const char *path)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

static void put(const char *root, const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	char d[512];
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = 0;
	mkdirs(d);
	test_write_text(p, text);
}

static void link_to(const char *root, const char *rel, const char *target)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void hexsha(const char *text, char out[65])
{
	uint8_t d[32];
	cm_sha256(text, strlen(text), d);
	cm_hex_encode(d, 32, out, 65);
}

/* A host where every check passes. */
static void fake_setup(struct fake *f)
{
	char *tmp = test_tmpdir();
	snprintf(f->root, sizeof(f->root), "%s", tmp);
	free(tmp);
	snprintf(f->sys, sizeof(f->sys), "%s/sys", f->root);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->root);
	snprintf(f->dev, sizeof(f->dev), "%s/dev", f->root);
	put(f->root, "sys/module/kvm_intel/parameters/tdx", "Y\n");
	put(f->root, "proc/meminfo", "MemTotal:       263000000 kB\nMemFree:        1000 kB\n"
				     "MemAvailable:   200000000 kB\n");
	put(f->root, "dev/kvm", "");
	put(f->root, "dev/vhost-vsock", "");
	put(f->root, "dev/iommu", "");
	mkdirs(f->root);
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:17:00.0/vfio-dev/vfio0", f->root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/vfio-pci", f->root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/42", f->root);
	mkdirs(p);
	link_to(f->root, "sys/bus/pci/devices/0000:17:00.0/driver", "../../../../bus/pci/drivers/vfio-pci");
	link_to(f->root, "sys/bus/pci/devices/0000:17:00.0/iommu_group", "../../../../kernel/iommu_groups/42");
	put(f->root, "bin/qemu",
	    "#!/bin/sh\n"
	    "case \"$1\" in\n"
	    "--version) echo 'QEMU emulator version 11.1.3 (Debian 1:11.1.3+ds-1~bpo13+1)';;\n"
	    "-object) printf 'List of user creatable objects:\\n  iommufd\\n  tdx-guest\\n';;\n"
	    "*) exit 1;;\n"
	    "esac\n");
	snprintf(p, sizeof(p), "%s/bin/qemu", f->root);
	chmod(p, 0755);
	/* image */
	const char *names[] = { "OVMF.fd", "vmlinuz", "initrd.img", "cmdline", "rootfs.img" };
	char man[2048] = "{\"artifacts\": {";
	for (int i = 0; i < 5; i++) {
		char rel[64], h[65];
		snprintf(rel, sizeof(rel), "img/%s", names[i]);
		put(f->root, rel, names[i]);
		hexsha(names[i], h);
		size_t n = strlen(man);
		snprintf(man + n, sizeof(man) - n, "%s\"%s\": {\"sha256\": \"%s\"}", i ? ", " : "", names[i], h);
	}
	strcat(man, "}}");
	put(f->root, "img/manifest.json", man);
	put(f->root, "spec/worker.json", "{}");
	put(f->root, "persistent.img", "");
	snprintf(p, sizeof(p), "%s/persistent.img", f->root);
	assert_int_equal(truncate(p, 1 << 20), 0);
	put(f->root, "model.img", "model");
	char conf[4096];
	snprintf(conf, sizeof(conf),
		 "[node]\ntype = worker\nimage_dir = %s/img\nspec_dir = %s/spec\npersistent_disk = %s/persistent.img\n"
		 "persistent_size = 1M\nmodel.qwen = %s/model.img\ngpu = 0000:17:00.0\nmemory = 100G\nvcpus = 32\n"
		 "vsock_cid = 6\nqemu = %s/bin/qemu\n",
		 f->root, f->root, f->root, f->root, f->root);
	struct cm_err e = { 0 };
	cl_config_init(&f->c);
	if (cl_config_parse(&f->c, conf, strlen(conf), "fake.conf", &e) < 0 || cl_config_finish(&f->c, &e) < 0)
		fail_msg("%s", e.msg);
	f->h.sys = f->sys;
	f->h.proc = f->proc;
	f->h.dev = f->dev;
	f->h.vsock_connect = fake_vsock;
	qgs_result = 0;
}

/* Remove root/rel (a file or a symbolic link). */
static void remove_rel(const char *root, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(unlink(p), 0);
}

static const struct cl_check *find(const struct cl_report *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->c[i].name, name))
			return &r->c[i];
	fail_msg("no check named %s", name);
	return NULL;
}

static void dump(const struct cl_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		fprintf(stderr, "  %s %s %s\n", cl_status_name(r->c[i].status), r->c[i].name, r->c[i].detail);
}

static struct cl_report rep;

/* Run the checks on the fake host, which must fail; check name's detail must contain want. */
static void expect_failed_check(struct fake *f, const char *name, const char *want)
{
	cl_check_host(&f->c, &f->h, &rep);
	assert_false(rep.ok);
	const char *detail = find(&rep, name)->detail;
	if (!strstr(detail, want))
		fail_msg("%s: '%s' lacks '%s'", name, detail, want);
}

static void check_passes_on_a_complete_tdx_host(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	cl_check_host(&f.c, &f.h, &rep);
	if (!rep.ok)
		dump(&rep);
	assert_true(rep.ok);
	for (size_t i = 0; i < rep.n; i++)
		assert_int_equal(rep.c[i].status, CL_PASS);
	assert_non_null(strstr(find(&rep, "gpu:0000:17:00.0")->detail, "bound to vfio-pci, IOMMU group 42"));
	assert_non_null(strstr(find(&rep, "qemu")->detail, "QEMU 11.1.3"));
	assert_non_null(find(&rep, "firmware"));
	assert_non_null(find(&rep, "image:rootfs.img"));
	assert_non_null(find(&rep, "disk:model-qwen"));
}

static void check_says_tdx_is_absent_without_kvm_intel(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	char p[512];
	snprintf(p, sizeof(p), "rm -rf %s/sys/module/kvm_intel", f.root);
	assert_int_equal(system(p), 0);
	expect_failed_check(&f, "tdx", "TDX is absent");
	assert_int_equal(find(&rep, "tdx")->status, CL_FAIL);
}

static void check_says_tdx_is_absent_when_kvm_intel_has_no_tdx_parameter(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	remove_rel(f.root, "sys/module/kvm_intel/parameters/tdx");
	expect_failed_check(&f, "tdx", "TDX is absent: the host kernel's kvm_intel has no tdx");
}

static void check_says_tdx_is_disabled_when_parameter_is_n(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	put(f.root, "sys/module/kvm_intel/parameters/tdx", "N\n");
	expect_failed_check(&f, "tdx", "TDX is disabled in KVM");
}

static void check_without_tdx_config_only_warns_about_tdx(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	put(f.root, "sys/module/kvm_intel/parameters/tdx", "N\n");
	f.c.tdx = false;
	qgs_result = -ECONNRESET;
	cl_check_host(&f.c, &f.h, &rep);
	assert_true(rep.ok);
	assert_int_equal(find(&rep, "tdx")->status, CL_WARN);
	assert_int_equal(find(&rep, "qgs")->status, CL_WARN);
}

static void check_fails_gpu_bound_to_another_driver(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/nvidia", f.root);
	mkdirs(p);
	link_to(f.root, "sys/bus/pci/devices/0000:17:00.0/driver", "../../../../bus/pci/drivers/nvidia");
	cl_check_host(&f.c, &f.h, &rep);
	assert_false(rep.ok);
	assert_string_equal(find(&rep, "gpu:0000:17:00.0")->detail, "0000:17:00.0 is bound to nvidia, not vfio-pci");
}

static void check_fails_gpu_without_iommu_group(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	remove_rel(f.root, "sys/bus/pci/devices/0000:17:00.0/iommu_group");
	expect_failed_check(&f, "gpu:0000:17:00.0", "has no IOMMU group");
}

static void check_fails_when_firmware_differs_from_manifest(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	put(f.root, "img/OVMF.fd", "another firmware");
	expect_failed_check(&f, "firmware", "does not match manifest.json");
	assert_int_equal(find(&rep, "firmware")->status, CL_FAIL);
	assert_int_equal(find(&rep, "image:vmlinuz")->status, CL_PASS);
}

static void check_fails_when_image_file_is_missing(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	remove_rel(f.root, "img/rootfs.img");
	expect_failed_check(&f, "image:rootfs.img", "cannot open");
}

static void check_fails_when_memory_is_short(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	put(f.root, "proc/meminfo", "MemTotal: 16000000 kB\nMemAvailable:    8000000 kB\n");
	cl_check_host(&f.c, &f.h, &rep);
	assert_false(rep.ok);
	assert_string_equal(find(&rep, "memory")->detail, "7812 MiB available, the guest needs 102400 MiB");
}

static void check_fails_when_persistent_disk_is_small_or_missing(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	f.c.persistent_size = 2 << 20;
	expect_failed_check(&f, "disk:persistent", "smaller than persistent_size");
	snprintf(f.c.persistent_disk, sizeof(f.c.persistent_disk), "%s/nope.img", f.root);
	expect_failed_check(&f, "disk:persistent", "missing (create it");
}

static void check_fails_when_qgs_is_unreachable(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	qgs_result = -ECONNRESET;
	expect_failed_check(&f, "qgs", "CID 2 port 4050");
	assert_int_equal(find(&rep, "qgs")->status, CL_FAIL);
}

static void check_fails_old_qemu_without_tdx_object(void **s)
{
	(void)s;
	struct fake f;
	fake_setup(&f);
	put(f.root, "bin/qemu",
	    "#!/bin/sh\ncase \"$1\" in\n--version) echo 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)';;\n"
	    "-object) echo '  iommufd';;\nesac\n");
	expect_failed_check(&f, "qemu", "QEMU 7.2.22 is older than 10.1");
	assert_non_null(strstr(find(&rep, "qemu-tdx-object")->detail, "has no tdx-guest object"));
}

static void qemu_version_is_parsed(void **s)
{
	(void)s;
	unsigned a, b, c;
	assert_int_equal(cl_qemu_parse_version("QEMU emulator version 10.1.0\nCopyright", &a, &b, &c), 0);
	assert_int_equal(a, 10);
	assert_int_equal(b, 1);
	assert_int_equal(c, 0);
	assert_int_equal(cl_qemu_parse_version("QEMU emulator version 9.2 (x)", &a, &b, &c), 0);
	assert_int_equal(b, 2);
	assert_true(cl_qemu_parse_version("qemu 10", &a, &b, &c) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_passes_on_a_complete_tdx_host),
		cmocka_unit_test(check_says_tdx_is_absent_without_kvm_intel),
		cmocka_unit_test(check_says_tdx_is_absent_when_kvm_intel_has_no_tdx_parameter),
		cmocka_unit_test(check_says_tdx_is_disabled_when_parameter_is_n),
		cmocka_unit_test(check_without_tdx_config_only_warns_about_tdx),
		cmocka_unit_test(check_fails_gpu_bound_to_another_driver),
		cmocka_unit_test(check_fails_gpu_without_iommu_group),
		cmocka_unit_test(check_fails_when_firmware_differs_from_manifest),
		cmocka_unit_test(check_fails_when_image_file_is_missing),
		cmocka_unit_test(check_fails_when_memory_is_short),
		cmocka_unit_test(check_fails_when_persistent_disk_is_small_or_missing),
		cmocka_unit_test(check_fails_when_qgs_is_unreachable),
		cmocka_unit_test(check_fails_old_qemu_without_tdx_object),
		cmocka_unit_test(qemu_version_is_parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
