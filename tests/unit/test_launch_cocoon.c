/* cocoon-launch: Cocoon's own worker.conf keys (host-launcher/cocoon_conf.c): each maps to a
 * cocoon-launch key, becomes a runtime var / runtime file for the guest as Cocoon's launcher
 * writes them, or is refused with the reason; Cocoon's defaults fill what the file leaves out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host-launcher/argv.h"
#include "host-launcher/cocoon_conf.h"
#include "host-launcher/image.h"
#include "host-launcher/config.h"
#include "tests/unit/testutil.h"

/* TelegramMessenger/cocoon scripts/dist-worker/worker.conf.example (b75d444), its keys. */
static const char example[] =
	"[node]\n"
	"type = worker\n"
	"model = Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:"
	"7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9\n"
	"owner_address = UQAuz15H1ZHrZ_psVrAra7HealMIVeFq0wguqlmFno1f3B-m\n"
	"gpu = 0000:ab:00.00\n"
	"node_wallet_key = [PRIVATE]\n"
	"hf_token = hf_yourtoken\n"
	"ton_config = actual_path\n"
	"root_contract_address = EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k\n"
	"# instance = 0\n";

static int parse(struct cl_config *c, const char *text, struct cm_err *e)
{
	cl_config_init(c);
	int r = cl_config_parse(c, text, strlen(text), "w.conf", e);
	return r < 0 ? r : cl_config_finish(c, e);
}

static const char *var(const struct cl_config *c, const char *k)
{
	for (size_t i = 0; i < c->n_vars; i++)
		if (!strcmp(c->vars[i].key, k))
			return c->vars[i].value;
	return NULL;
}

static const struct cl_cocoon_key *ckey(const struct cl_config *c, const char *k)
{
	for (size_t i = 0; i < c->n_ckeys; i++)
		if (!strcmp(c->ckeys[i].key, k))
			return &c->ckeys[i];
	return NULL;
}

static void test_cocoon_example_accepted(void **state)
{
	(void)state;
	static struct cl_config c;
	struct cm_err e = { 0 };
	assert_int_equal(parse(&c, example, &e), 0);
	assert_true(c.cocoon);
	assert_string_equal(var(&c, "MODEL_NAME"), "Qwen/Qwen3-8B");
	assert_string_equal(var(&c, "MODEL_COMMIT"), "b968826d9c46dd6066d109eabc6255188de91218");
	assert_string_equal(var(&c, "MODEL_VERITY_HASH"), "7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9");
	assert_string_equal(var(&c, "OWNER_ADDRESS"), "UQAuz15H1ZHrZ_psVrAra7HealMIVeFq0wguqlmFno1f3B-m");
	assert_string_equal(var(&c, "NODE_WALLET_KEY"), "[PRIVATE]");
	assert_string_equal(var(&c, "HF_TOKEN"), "hf_yourtoken");
	assert_string_equal(var(&c, "ROOT_CONTRACT_ADDRESS"), "EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k");
	assert_string_equal(var(&c, "WORKER_COEFFICIENT"), "1000");
	/* Cocoon's GPU spelling, normalized */
	assert_int_equal(c.n_gpus, 1);
	assert_string_equal(c.gpus[0], "0000:ab:00.0");
	/* Cocoon's defaults */
	assert_string_equal(c.image_dir, "images/prod");
	assert_string_equal(c.spec_dir, "spec/spec-worker");
	assert_string_equal(c.persistent_disk, "persistent-worker-0.img");
	assert_true(c.memory == CL_COCOON_MEMORY && c.vcpus == CL_COCOON_VCPUS && c.vsock_cid == 6);
	assert_int_equal(c.n_ports, 1);
	assert_true(c.ports[0].host == 12000 && c.ports[0].guest == 12000);
	assert_string_equal(c.ton_config, "actual_path");
	/* every key of the file has its handling recorded; secrets are never in it */
	static const char *const keys[] = { "type", "model", "owner_address", "gpu", "node_wallet_key", "hf_token",
					    "ton_config", "root_contract_address" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(ckey(&c, keys[i]));
	for (size_t i = 0; i < c.n_ckeys; i++) {
		assert_null(strstr(c.ckeys[i].detail, "[PRIVATE]"));
		assert_null(strstr(c.ckeys[i].detail, "hf_yourtoken"));
	}
	assert_string_equal(ckey(&c, "hf_token")->handling, "runtime");
	assert_string_equal(ckey(&c, "ssh_port")->handling, "default");
}

static void test_cocoon_keys_map(void **state)
{
	(void)state;
	static struct cl_config c;
	struct cm_err e = { 0 };
	assert_int_equal(parse(&c,
			       "[node]\ntype = proxy\nowner_address = A\ninstance = 2\nimage-dir = /img\npersistent = /p.img\n"
			       "http_port = 11000\nworker_rpc_port = 11001\nclient_rpc_port = 11002\ntest = true\n"
			       "fake_ton = false\nworker_coefficient = 1500\nvsock_cid = 17\nton_config_base = /b.json\n",
			       &e),
			 0);
	assert_string_equal(c.image_dir, "/img");
	assert_string_equal(c.persistent_disk, "/p.img");
	assert_int_equal(c.n_ports, 3);
	assert_int_equal(cl_config_host_port(&c, 1), 11021); /* + instance * 10, as Cocoon */
	assert_int_equal(c.ports[1].guest, 11001);
	assert_true(c.debug); /* test = true: cocoon.debug */
	assert_int_equal(cl_config_cid(&c), 37);
	assert_string_equal(var(&c, "WORKER_COEFFICIENT"), "1500");
	assert_string_equal(c.ton_config_base, "/b.json");
	assert_string_equal(c.spec_dir, "spec/spec-proxy");
	/* a file without Cocoon keys gets none of this */
	static struct cl_config o;
	assert_int_equal(parse(&o, "[node]\nimage_dir = /i\nspec_dir = /s\nmemory = 1G\nvcpus = 1\n", &e), 0);
	assert_false(o.cocoon);
	assert_int_equal(o.n_vars, 0);
	assert_int_equal(o.n_ports, 0);
}

static void test_cocoon_keys_refused(void **state)
{
	(void)state;
	static struct cl_config c;
	struct cm_err e = { 0 };
	static const struct {
		const char *line, *why;
	} bad[] = {
		{ "ssh_port = 12005", "no SSH server" },
		{ "fake_ton = true", "fake-TON" },
		{ "type = client", "client runs outside a TD" },
		{ "model = Qwen/Qwen3-8B", "NAME@COMMIT:VERITY" },
		{ "model = Q@b968826d:7e9d", "40 hex" },
		{ "worker_coefficient = 1.5", "1000 = 1.0x" },
		{ "root_contract_address = a b", "no spaces" },
		{ "gpu = 0000:ab:00.08", "bad PCI address" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "[node]\nowner_address = A\n%s\n", bad[i].line);
		assert_true(parse(&c, text, &e) < 0);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("%s: %s", bad[i].line, e.msg);
	}
	/* Cocoon's required keys */
	assert_true(parse(&c, "[node]\nhf_token = x\nmodel = Q@b968826d9c46dd6066d109eabc6255188de91218:"
			      "7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9\n", &e) < 0);
	assert_non_null(strstr(e.msg, "owner_address is required"));
	assert_true(parse(&c, "[node]\nowner_address = A\n", &e) < 0);
	assert_non_null(strstr(e.msg, "model is required"));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static void test_cocoon_runtime_written(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), conf[2200], path[700], ton[600], base[600];
	static struct cl_config c;
	struct cm_err e = { 0 };
	snprintf(ton, sizeof(ton), "%s/ton.json", dir);
	snprintf(base, sizeof(base), "%s/base.json", dir);
	test_write_text(ton, "{\"liteservers\": []}\n");
	test_write_text(base, "{\"base\": 1}\n");
	snprintf(conf, sizeof(conf),
		 "[node]\ntype = proxy\nowner_address = A\nspec_dir = %s\nhf_token = SECRET\nton_config = %s\n"
		 "ton_config_base = %s\n",
		 dir, ton, base);
	assert_int_equal(parse(&c, conf, &e), 0);
	/* the measured copy of ton_config_base is missing, then different: refused */
	assert_true(cl_cocoon_write_runtime(&c, &e) < 0);
	assert_non_null(strstr(e.msg, "no global.config.json"));
	snprintf(path, sizeof(path), "%s/global.config.json", dir);
	test_write_text(path, "{\"base\": 2}\n");
	assert_true(cl_cocoon_write_runtime(&c, &e) < 0);
	assert_non_null(strstr(e.msg, "differs"));
	test_write_text(path, "{\"base\": 1}\n");
	/* an older runtime.vars: keys we set are replaced, others kept (Cocoon's upsert) */
	snprintf(path, sizeof(path), "%s/runtime", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/runtime/runtime.vars", dir);
	test_write_text(path, "EXTRA=kept\nHF_TOKEN=old\n");
	assert_int_equal(cl_cocoon_write_runtime(&c, &e), 0);
	char *vars = slurp(path);
	assert_non_null(vars);
	assert_string_equal(vars, "EXTRA=kept\nOWNER_ADDRESS=A\nHF_TOKEN=SECRET\nROOT_CONTRACT_ADDRESS="
				  CL_COCOON_ROOT_CONTRACT "\nWORKER_COEFFICIENT=1000\n");
	free(vars);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/runtime/global.config.json", dir);
	char *t = slurp(path);
	assert_string_equal(t, "{\"liteservers\": []}\n");
	free(t);
	free(dir);
}

static bool has(const struct cl_argv *a, const char *w)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], w))
			return true;
	return false;
}

/* capture-acpi's probe of the cocoon shape: Cocoon's machine with the probe's kernel,
 * initrd and logs, disks read-only, no QMP; everything guest-visible as in the real boot. */
static void test_cocoon_profile_probe_argv(void **state)
{
	(void)state;
	static struct cl_config c;
	struct cm_err e = { 0 };
	assert_int_equal(parse(&c, "[node]\nprofile = cocoon\ntype = proxy\nowner_address = A\nimage-dir = /img\n"
				   "tdx = no\n", &e), 0);
	struct cl_boot run = { .accel = "tcg", .cmdline = "x", .console = "stdio" };
	struct cl_boot probe = { .accel = "tcg", .cmdline = "x", .console = "file", .probe_kernel = "/k",
				 .probe_initrd = "/i", .probe_dir = "/out" };
	struct cl_argv a, p;
	assert_int_equal(cl_build_argv(&c, &run, &a, &e), 0);
	assert_int_equal(cl_build_argv(&c, &probe, &p, &e), 0);
	assert_true(has(&a, "/img/image.vmlinuz") && has(&a, "/img/image.initrd") && has(&a, "-qmp"));
	assert_true(has(&a, "cache=writeback,file=/img/image.img,readonly=on,id=drive1,if=none,index=1,werror=report"));
	assert_true(has(&p, "/k") && has(&p, "/i") && !has(&p, "-qmp") && has(&p, "file:/out/serial.log"));
	assert_true(has(&p, "cache=writeback,file=persistent-proxy-0.img,format=raw,id=drive2,if=none,index=2,"
			    "werror=report,readonly=on"));
	/* the same guest-visible devices */
	static const char *const dev[] = { "q35,kernel-irqchip=split,memory-backend=mem0", "-vga",
					   "memory-backend-ram,id=mem0,size=100G", "vhost-vsock-pci,guest-cid=7",
					   "iommufd,id=iommufd0", "pcie-root-port,id=pci.0,bus=pcie.0",
					   "virtio-blk-pci,bootindex=1,drive=drive1,serial=root",
					   "virtio-blk-pci,bootindex=2,drive=drive2,serial=persistent",
					   "virtio-serial-pci,id=virtio-serial0", "virtconsole,chardev=char0",
					   "nic,netdev=user.0,model=virtio", "-nographic" };
	for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
		assert_true(has(&a, dev[i]) && has(&p, dev[i]));
	cl_argv_free(&a);
	cl_argv_free(&p);
	/* the VM.json a capture writes names Cocoon's files; Cocoon's cmdline suffixes */
	char path[256], cmd[256];
	cl_config_artifact(&c, CL_ART_KERNEL, path, sizeof(path));
	assert_string_equal(path, "/img/image.vmlinuz");
	assert_int_equal(cl_cmdline_build(&c, NULL, "console=hvc0", cmd, sizeof(cmd), &e), 0);
	assert_string_equal(cmd, "console=hvc0 modprobe.blacklist=nvidia");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cocoon_example_accepted),
		cmocka_unit_test(test_cocoon_keys_map),
		cmocka_unit_test(test_cocoon_keys_refused),
		cmocka_unit_test(test_cocoon_runtime_written),
		cmocka_unit_test(test_cocoon_profile_probe_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
