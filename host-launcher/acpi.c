/* capture-acpi host side. */
#include "host-launcher/acpi.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host-launcher/argv.h"
#include "host-launcher/image.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/predict/predict.h"

/* VM.json for `cocoon-measure image --vm` (measure/predict/predict_image.h): the image's boot
 * files, the effective cmdline, this shape's memory and vCPUs, the captured blobs. */
static int write_vm_json(const struct cl_config *c, const char *cmdline, const char *out_dir,
			 struct cm_err *e)
{
	char path[CL_PATH_MAX + 64];
	json_object *vm = json_object_new_object();
	cl_config_artifact(c, CL_ART_OVMF, path, sizeof(path));
	cm_json_add_str(vm, "firmware", path);
	cl_config_artifact(c, CL_ART_KERNEL, path, sizeof(path));
	cm_json_add_str(vm, "kernel", path);
	cl_config_artifact(c, CL_ART_INITRD, path, sizeof(path));
	cm_json_add_str(vm, "initrd", path);
	if (cmdline)
		cm_json_add_str(vm, "cmdline", cmdline);
	cm_json_add_int(vm, "memory", (int64_t)c->memory);
	cm_json_add_int(vm, "cpus", c->vcpus);
	cm_json_add_str(vm, "acpi_tables", "tables.bin");
	cm_json_add_str(vm, "rsdp", "rsdp.bin");
	cm_json_add_str(vm, "table_loader", "table-loader.bin");
	cm_json_add_str(vm, "spec_dir", c->spec_dir);
	cm_json_add_bool(vm, "debug", c->debug);
	snprintf(path, sizeof(path), "%s/VM.json", out_dir);
	FILE *f = fopen(path, "we");
	int r = 0;
	if (!f || cm_json_print(vm, f) < 0)
		r = cm_fail(e, -EIO, "cannot write %s", path);
	if (f)
		fclose(f);
	json_object_put(vm);
	return r;
}

int cl_acpi_write(const struct cl_config *c, const struct cl_acpi_blobs *b, const char *cmdline,
		  const char *out_dir, struct cm_err *e)
{
	char path[CL_PATH_MAX + 64];
	json_object *root = json_object_new_object(), *files = json_object_new_object();
	int r = 0;
	for (int i = 0; i < CL_ACPI_NBLOBS && r == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", out_dir, cl_acpi_blob_files[i]);
		r = cm_write_file_atomic(path, b->data[i], b->size[i], 0644, e);
		uint8_t d[32];
		cm_sha256(b->data[i], b->size[i], d);
		json_object *f = json_object_new_object();
		cm_json_add_str(f, "file", cl_acpi_blob_files[i]);
		cm_json_add_int(f, "size", b->size[i]);
		cm_json_add_hex(f, "sha256", d, sizeof(d));
		json_object_object_add(files, cl_acpi_blob_names[i], f);
	}
	/* Cross-check with libmeasure's derivation (measurement.md 3.4): when these agree,
	 * an auditor can predict RTMR0 from etc/acpi/tables alone. */
	json_object *derived = json_object_new_object();
	uint8_t *dl = NULL, rsdp[20];
	size_t dll = 0;
	struct cm_err de = { 0 };
	if (cm_acpi_derive_loader(b->data[0], b->size[0], &dl, &dll, &de) == 0) {
		bool same = dll == b->size[2] && !memcmp(dl, b->data[2], dll);
		cm_json_add_bool(derived, "table_loader_matches", same);
		free(dl);
	} else {
		cm_json_add_str(derived, "table_loader_error", de.msg);
	}
	if (cm_acpi_derive_rsdp(b->data[0], b->size[0], rsdp, &de) == 0)
		cm_json_add_bool(derived, "rsdp_matches", b->size[1] == 20 && !memcmp(rsdp, b->data[1], 20));
	else
		cm_json_add_str(derived, "rsdp_error", de.msg);
	json_object_object_add(root, "derived", derived);
	json_object *shape = json_object_new_object();
	cm_json_add_str(shape, "type", cl_node_type_name(c->type));
	cm_json_add_int(shape, "vcpus", c->vcpus);
	cm_json_add_int(shape, "memory_mib", (int64_t)(c->memory >> 20));
	cm_json_add_int(shape, "gpus", (int64_t)c->n_gpus);
	cm_json_add_int(shape, "models", (int64_t)c->n_models);
	cm_json_add_bool(shape, "persistent_disk", c->persistent_disk[0] != 0);
	cm_json_add_bool(shape, "vsock", c->vsock_cid != 0);
	cm_json_add_bool(shape, "tdx", 0);
	json_object_object_add(root, "shape", shape);
	json_object_object_add(root, "fw_cfg", files);
	cm_json_add_str(root, "note",
			"captured from a non-TDX probe of the same shape; a TD can differ (see operator guide)");
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/acpi.json", out_dir);
		FILE *f = fopen(path, "we");
		if (!f || cm_json_print(root, f) < 0)
			r = cm_fail(e, -EIO, "cannot write %s", path);
		if (f)
			fclose(f);
	}
	json_object_put(root);
	if (r == 0)
		r = write_vm_json(c, cmdline, out_dir, e);
	return r;
}

int cl_acpi_capture(const struct cl_config *c, const char *accel, const char *kernel, const char *initrd,
		    const char *out_dir, unsigned timeout_s, struct cm_err *e)
{
	struct cl_config pc = *c;
	pc.tdx = false;
	struct cl_boot bt = {
		.accel = accel,
		.cmdline = CL_PROBE_CMDLINE,
		.probe_kernel = kernel,
		.probe_initrd = initrd,
		.probe_dir = out_dir,
		.console = "file",
	};
	struct cl_argv a;
	int r = cl_build_argv(&pc, &bt, &a, e);
	if (r < 0)
		return r;
	char path[CL_PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/serial.log", out_dir);
	unlink(path);
	char qlog[CL_PATH_MAX + 64];
	snprintf(qlog, sizeof(qlog), "%s/qemu.log", out_dir);
	fprintf(stderr, "capture-acpi: booting the probe (accel %s, %u vCPUs, %llu MiB); QEMU output in %s\n",
		accel, pc.vcpus, (unsigned long long)(pc.memory >> 20), qlog);
	pid_t pid = fork();
	if (pid < 0) {
		cl_argv_free(&a);
		return cm_fail(e, -errno, "fork failed (%s)", strerror(errno));
	}
	if (pid == 0) {
		int fd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		execvp(a.v[0], a.v);
		fprintf(stderr, "cannot execute %s (%s)\n", a.v[0], strerror(errno));
		_exit(127);
	}
	cl_argv_free(&a);
	int st = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > (time_t)timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return cm_fail(e, -ETIMEDOUT, "probe guest did not finish in %u s (see %s and %s)", timeout_s,
				       path, qlog);
		}
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return cm_fail(e, -EIO, "QEMU failed (status 0x%x); see %s", st, qlog);
	uint8_t *log;
	size_t len;
	r = cm_read_file(path, 64u << 20, &log, &len, e);
	if (r < 0)
		return r;
	struct cl_acpi_blobs b;
	char msg[256];
	r = cl_acpi_parse_log((const char *)log, len, &b, msg, sizeof(msg));
	free(log);
	if (r < 0) {
		cl_acpi_blobs_free(&b);
		return cm_fail(e, r, "%s: %s", path, msg);
	}
	char base[CL_CMDLINE_MAX], eff[CL_CMDLINE_MAX + 128];
	struct cm_err ignore;
	const char *cmdline = NULL;
	if (cl_config_cmdline_read(c, base, sizeof(base), &ignore) == 0 &&
	    cl_cmdline_build(c, NULL, base, eff, sizeof(eff), &ignore) == 0)
		cmdline = eff;
	r = cl_acpi_write(c, &b, cmdline, out_dir, e);
	cl_acpi_blobs_free(&b);
	if (r == 0)
		fprintf(stderr, "capture-acpi: wrote %s/{tables.bin,rsdp.bin,table-loader.bin,acpi.json,VM.json}\n"
			"capture-acpi: predict with: cocoon-measure image --vm %s/VM.json\n", out_dir, out_dir);
	return r;
}
