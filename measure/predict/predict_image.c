/* Whole-image measurement from VM.json. */
#include "measure/predict/predict_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/core/measurements.h"
#include "measure/eventlog/eventlog.h"
#include "measure/eventlog/rtmr3.h"
#include "measure/predict/spec.h"
#include "measure/predict/tdvf.h"

#define MAX_FIRMWARE (64u << 20)
#define MAX_KERNEL (256u << 20)
#define MAX_INITRD (2048u << 20)
#define MAX_ACPI (16u << 20)
#define MAX_VM_JSON (1u << 20)

int cm_spec_gpu_member(const struct cm_jv *root, bool *required, struct cm_err *e)
{
	struct cm_jv v;
	const char *s;
	*required = false;
	if (!cm_jv_get(root, "gpu", &v))
		return 0;
	int rc = cm_jv_str(&v, 1, 16, &s, e);
	if (rc)
		return rc;
	if (!strcmp(s, "required"))
		*required = true;
	else if (strcmp(s, "off"))
		return cm_jv_fail(&v, e, -EINVAL, "must be required or off");
	return 0;
}

int cm_spec_gpu_required(const char *dir, bool *required, struct cm_err *e)
{
	char path[4096];
	*required = false;
	if (snprintf(path, sizeof(path), "%s/%s", dir, CM_SPEC_FILE) >= (int)sizeof(path))
		return cm_fail(e, -ENAMETOOLONG, "%s: path too long", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	struct cm_jv root;
	int rc = cm_json_read_file(path, 256u * 1024, "spec", &root, e);
	if (rc)
		return rc;
	rc = cm_spec_gpu_member(&root, required, e);
	cm_json_release(&root);
	return rc;
}

int cm_rtmr3_spec_events(const char *dir, bool debug, struct cm_pevent ev[CM_RTMR3_SPEC_EVENTS_MAX], size_t *n,
			 uint8_t tree[32], struct cm_err *e)
{
	*n = 0;
	bool gpu;
	int rc = cm_spec_tree_hash(dir, tree, e);
	if (!rc)
		rc = cm_spec_gpu_required(dir, &gpu, e);
	if (rc)
		return rc;
	char msg[128], hex[65];
	cm_hex_encode(tree, 32, hex, sizeof(hex));
	snprintf(msg, sizeof(msg), "%s%s", CM_EVENT_SPEC_TREE_PREFIX, hex);
	/* cocoon-init's order: spec (6), gpu (7), the debug key provider (8), tdx_inited (8). */
	const char *msgs[CM_RTMR3_SPEC_EVENTS_MAX] = {msg, CM_EVENT_GPU_VERIFIED, CM_EVENT_DEBUG, CM_EVENT_TDX_INITED};
	const bool on[CM_RTMR3_SPEC_EVENTS_MAX] = {true, gpu, debug, true};
	for (int i = 0; i < CM_RTMR3_SPEC_EVENTS_MAX; i++) {
		if (!on[i])
			continue;
		struct cm_pevent *x = &ev[(*n)++];
		memset(x, 0, sizeof(*x));
		x->reg = 3;
		snprintf(x->desc, sizeof(x->desc), "%s", msgs[i]);
		rc = cm_rtmr3_event_digest(msgs[i], strlen(msgs[i]), x->digest, e);
		if (rc)
			return rc;
	}
	return 0;
}

int cm_parse_size(const char *s, uint64_t *out)
{
	/* digits (cm_parse_u64's: no sign, no space), then an optional unit */
	char digits[21];
	size_t n = strspn(s, "0123456789");
	uint64_t v;
	if (n >= sizeof(digits))
		return -ERANGE;
	memcpy(digits, s, n);
	digits[n] = 0;
	if (cm_parse_u64(digits, 0, UINT64_MAX, &v))
		return -EINVAL;
	const char *end = s + n;
	unsigned shift = 0;
	if (*end) {
		switch (*end) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		case 'T': case 't': shift = 40; break;
		default: return -EINVAL;
		}
		if (end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

/* ---- inputs ---- */

enum { IN_FIRMWARE, IN_KERNEL, IN_INITRD, IN_ACPI, IN_RSDP, IN_LOADER, IN_RTMR0_LOG, IN_CMDLINE, IN_TPM_LOG,
       IN_N };
static const char *const in_names[IN_N] = {"firmware", "kernel", "initrd", "acpi_tables",
					   "rsdp", "table_loader", "rtmr0_log", "cmdline_file", "tpm_log"};
static const size_t in_max[IN_N] = {MAX_FIRMWARE, MAX_KERNEL, MAX_INITRD, MAX_ACPI,
				    4096, 1u << 20, 64u << 20, 1u << 20, CM_EVENTLOG_MAX_LEN};

struct input {
	char *path;
	uint8_t *buf;
	size_t len;
	bool mapped;
	uint8_t sha256[32];
};

static uint8_t empty_file[1];

/* Map a regular input file read-only (no copy: the hashes read the page cache
 * directly). Inputs must not change while being measured. */
static int map_input(struct input *in, size_t max, struct cm_err *e)
{
	int fd = open(in->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "cannot open %s (%s)", in->path, strerror(errno));
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st))
		rc = cm_fail(e, -errno, "cannot stat %s", in->path);
	else if (!S_ISREG(st.st_mode))
		rc = cm_fail(e, -EINVAL, "%s is not a regular file", in->path);
	else if ((uint64_t)st.st_size > max)
		rc = cm_fail(e, -EFBIG, "%s: %lld bytes (limit %zu)", in->path, (long long)st.st_size, max);
	if (!rc && st.st_size == 0) {
		in->buf = empty_file;
		in->len = 0;
	} else if (!rc) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED)
			rc = cm_fail(e, -errno, "cannot map %s (%s)", in->path, strerror(errno));
		else {
			in->buf = p;
			in->len = (size_t)st.st_size;
			in->mapped = true;
		}
	}
	close(fd);
	return rc;
}

struct image {
	struct input in[IN_N];
	char *cmdline;
	uint64_t mem;
	int64_t cpus;
	bool debug;
	char *spec_dir;
	enum cm_ovmf_profile profile;
	enum cm_page_order order;
	enum cm_kernel_mode kmode;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
	bool tpm; /* TPM PCRs wanted: RTMR0-3 may be left out (no ACPI blobs) */
};

static void image_free(struct image *im)
{
	for (int i = 0; i < IN_N; i++) {
		free(im->in[i].path);
		if (im->in[i].mapped)
			munmap(im->in[i].buf, im->in[i].len);
	}
	free(im->cmdline);
	free(im->spec_dir);
}

static char *resolve(const char *base_dir, const char *p)
{
	char *r;
	if (p[0] == '/' || !base_dir[0])
		r = strdup(p);
	else if (asprintf(&r, "%s/%s", base_dir, p) < 0)
		r = NULL;
	return r;
}

/* The string member key of o, NULL when absent; *rc < 0 when it is there and no string. */
static const char *jstr(const struct cm_jv *o, const char *key, int *rc, struct cm_err *e)
{
	struct cm_jv v;
	const char *s = NULL;
	if (!*rc && cm_jv_get(o, key, &v))
		*rc = cm_jv_str(&v, 0, PATH_MAX, &s, e);
	return *rc ? NULL : s;
}

static int set_path(struct image *im, int which, const char *dir, const char *p, struct cm_err *e)
{
	if (!p)
		return 0;
	if (!*p || !strcmp(p, "/dev/null")) /* tdx-measure's "not given" */
		return 0;
	im->in[which].path = resolve(dir, p);
	return im->in[which].path ? 0 : cm_fail(e, -ENOMEM, "out of memory");
}

static int get_hex48(const struct cm_jv *root, const char *key, uint8_t out[48], struct cm_err *e)
{
	struct cm_jv v;
	return cm_jv_get(root, key, &v) ? cm_jv_hex(&v, out, 48, e) : 0;
}

/* VM.json (tdx-measure's metadata.json and Cocoon's flat form): the platform settings at the
 * top level or under "boot_config", the direct boot under "direct". Other members are
 * tdx-measure's and not read. */
static int parse_vm_json(const struct cm_jv *root, const char *pd, struct image *im, struct cm_err *e)
{
	im->profile = CM_OVMF_202411_202502;
	im->order = CM_PAGE_ORDER_PER_PAGE;
	im->kmode = CM_KERNEL_UNPATCHED;
	int rc = cm_jv_object(root, NULL, e);
	struct cm_jv bc, direct, v;
	if (!rc && cm_jv_get(root, "boot_config", &bc))
		rc = cm_jv_object(&bc, NULL, e);
	if (!rc && cm_jv_get(root, "direct", &direct))
		rc = cm_jv_object(&direct, NULL, e);
	if (rc)
		return rc;
	const struct cm_jv *plat = bc.o ? &bc : root, *boot = direct.o ? &direct : root;
	const char *fwp = jstr(root, "firmware", &rc, e);
	if (!fwp)
		fwp = jstr(plat, "bios", &rc, e);
	rc = rc ? rc : set_path(im, IN_FIRMWARE, pd, fwp, e);
	rc = rc ? rc : set_path(im, IN_KERNEL, pd, jstr(boot, "kernel", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_INITRD, pd, jstr(boot, "initrd", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_ACPI, pd, jstr(plat, "acpi_tables", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_RSDP, pd, jstr(plat, "rsdp", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_LOADER, pd, jstr(plat, "table_loader", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_RTMR0_LOG, pd, jstr(root, "rtmr0_log", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_CMDLINE, pd, jstr(boot, "cmdline_file", &rc, e), e);
	rc = rc ? rc : set_path(im, IN_TPM_LOG, pd, jstr(root, "tpm_log", &rc, e), e);
	const char *s;
	if (!rc && (s = jstr(boot, "cmdline", &rc, e)) && !(im->cmdline = strdup(s)))
		rc = cm_fail(e, -ENOMEM, "out of memory");
	if (!rc && im->cmdline && im->in[IN_CMDLINE].path)
		rc = cm_fail(e, -EINVAL, "VM.json: give \"cmdline\" or \"cmdline_file\", not both");
	if (!rc && (s = jstr(root, "spec_dir", &rc, e)) && !(im->spec_dir = resolve(pd, s)))
		rc = cm_fail(e, -ENOMEM, "out of memory");
	if (!rc) {
		int64_t mem;
		if (!cm_jv_get(plat, "memory", &v))
			rc = cm_fail(e, -EINVAL, "VM.json: \"memory\" is required (bytes or \"2048M\"/\"100G\")");
		else if (json_object_is_type(v.o, json_type_int) && !(rc = cm_jv_int(&v, 0, INT64_MAX, &mem, e)))
			im->mem = (uint64_t)mem;
		else if (!json_object_is_type(v.o, json_type_int) &&
			 (!json_object_is_type(v.o, json_type_string) || cm_parse_size(json_object_get_string(v.o), &im->mem)))
			rc = cm_jv_fail(&v, e, -EINVAL, "bad \"memory\" value (bytes or \"2048M\"/\"100G\")");
	}
	int64_t cpus;
	if (!rc && cm_jv_get(plat, "cpus", &v) && !(rc = cm_jv_int(&v, 0, INT32_MAX, &cpus, e)))
		im->cpus = cpus;
	if (!rc && cm_jv_get(root, "debug", &v))
		rc = cm_jv_bool(&v, &im->debug, e);
	if (!rc && (s = jstr(root, "ovmf_profile", &rc, e)) && cm_ovmf_profile_parse(s, &im->profile))
		rc = cm_fail(e, -EINVAL, "VM.json: ovmf_profile \"%s\" (pre202411 | 202411-202502 | 202505+)", s);
	if (!rc && (s = jstr(root, "page_order", &rc, e)) && cm_page_order_parse(s, &im->order))
		rc = cm_fail(e, -EINVAL, "VM.json: page_order \"%s\" (per-page | per-section)", s);
	if (!rc && (s = jstr(root, "kernel_mode", &rc, e)) && cm_kernel_mode_parse(s, &im->kmode))
		rc = cm_fail(e, -EINVAL, "VM.json: kernel_mode \"%s\" (unpatched | qemu-patched)", s);
	rc = rc ? rc : get_hex48(root, "mrconfigid", im->mrconfigid, e);
	rc = rc ? rc : get_hex48(root, "mrowner", im->mrowner, e);
	rc = rc ? rc : get_hex48(root, "mrownerconfig", im->mrownerconfig, e);
	if (!rc && !im->in[IN_FIRMWARE].path)
		rc = cm_fail(e, -EINVAL, "VM.json: \"firmware\" is required");
	if (!rc && !im->in[IN_ACPI].path && !im->in[IN_RTMR0_LOG].path && !im->tpm)
		rc = cm_fail(e, -EINVAL, "VM.json: \"acpi_tables\" (or \"rtmr0_log\") is required");
	if (!rc && im->in[IN_INITRD].path && !im->in[IN_KERNEL].path)
		rc = cm_fail(e, -EINVAL, "VM.json: \"initrd\" without \"kernel\"");
	return rc;
}

static int parse_vm(const char *path, struct image *im, struct cm_err *e)
{
	struct cm_jv root;
	int rc = cm_json_read_file(path, MAX_VM_JSON, "VM.json", &root, e);
	if (rc)
		return rc;
	char *pd = strdup(path), *slash = pd ? strrchr(pd, '/') : NULL;
	if (!pd) {
		cm_json_release(&root);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	if (slash)
		*slash = 0;
	else
		pd[0] = 0;
	rc = parse_vm_json(&root, pd, im, e);
	free(pd);
	cm_json_release(&root);
	return rc;
}

/* SHA-256 of every input, in a second thread while the measurement runs. */
struct sha_job {
	struct image *im;
	int rc;
};

static void *sha_worker(void *arg)
{
	struct sha_job *j = arg;
	for (int i = 0; i < IN_N && !j->rc; i++)
		if (j->im->in[i].buf)
			j->rc = cm_sha256(j->im->in[i].buf, j->im->in[i].len, j->im->in[i].sha256);
	return NULL;
}

/* The events of registers first..last of a reference log (RTMR0 of a CCEL log; PCR 0-1 of a
 * TPM log) as prediction events. */
static int events_from_log(const struct input *in, enum cm_eventlog_kind kind, int first, int last,
			   struct cm_pevent **out, size_t *n, struct cm_err *e)
{
	struct cm_eventlog l;
	int rc = kind == CM_EVENTLOG_TPM ? cm_tpm_eventlog_parse(in->buf, in->len, &l, e)
					 : cm_eventlog_parse(in->buf, in->len, &l, e);
	if (rc) {
		cm_eventlog_free(&l);
		return cm_err_prefix(e, "%s %s", kind == CM_EVENTLOG_TPM ? "tpm_log" : "rtmr0_log", in->path);
	}
	*out = calloc(l.n ? l.n : 1, sizeof(**out));
	if (!*out) {
		cm_eventlog_free(&l);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	*n = 0;
	for (int r = first; r <= last; r++)
		*n += cm_pevents_from_log(&l, r, *out + *n, l.n - *n);
	cm_eventlog_free(&l);
	return 0;
}

int cm_measure_image(const char *vm_json, json_object **out, struct cm_err *e)
{
	return cm_measure_image_ex(vm_json, false, out, e);
}

int cm_measure_image_ex(const char *vm_json, bool tpm, json_object **out, struct cm_err *e)
{
	*out = NULL;
	struct image im;
	memset(&im, 0, sizeof(im));
	struct cm_prediction *p = NULL, *tp = NULL;
	struct cm_pevent *log_events = NULL, *tpm_events = NULL;
	size_t n_log = 0, n_tpm = 0;
	im.tpm = tpm;
	int rc = parse_vm(vm_json, &im, e);
	for (int i = 0; i < IN_N && !rc; i++)
		if (im.in[i].path && (rc = map_input(&im.in[i], in_max[i], e)))
			cm_err_prefix(e, "%s", in_names[i]);
	if (rc)
		goto out;
	if (im.in[IN_CMDLINE].buf) {
		size_t n = im.in[IN_CMDLINE].len;
		const char *c = (const char *)im.in[IN_CMDLINE].buf;
		while (n && (c[n - 1] == '\n' || c[n - 1] == '\r'))
			n--;
		if (memchr(c, 0, n)) {
			rc = cm_fail(e, -EINVAL, "cmdline_file contains a NUL byte");
			goto out;
		}
		im.cmdline = strndup(c, n);
	}

	pthread_t th;
	struct sha_job job = {&im, 0};
	bool threaded = pthread_create(&th, NULL, sha_worker, &job) == 0;
	if (!threaded)
		sha_worker(&job);

	struct cm_tdvf tdvf;
	uint8_t mrtd[48], tree[32];
	struct cm_pevent r3[CM_RTMR3_SPEC_EVENTS_MAX];
	size_t n3 = 0;
	rc = cm_tdvf_parse(im.in[IN_FIRMWARE].buf, im.in[IN_FIRMWARE].len, &tdvf, e);
	if (rc)
		cm_err_prefix(e, "firmware %s", im.in[IN_FIRMWARE].path);
	if (!rc)
		rc = cm_tdvf_mrtd(im.in[IN_FIRMWARE].buf, im.in[IN_FIRMWARE].len, &tdvf, im.mem, im.order, mrtd, e);
	if (!rc && im.spec_dir)
		rc = cm_rtmr3_spec_events(im.spec_dir, im.debug, r3, &n3, tree, e);
	if (!rc && im.in[IN_RTMR0_LOG].buf)
		rc = events_from_log(&im.in[IN_RTMR0_LOG], CM_EVENTLOG_CCEL, 0, 0, &log_events, &n_log, e);
	if (!rc && tpm && !im.in[IN_KERNEL].buf)
		rc = cm_fail(e, -EINVAL, "VM.json: the TPM PCRs need \"kernel\"");
	if (!rc && tpm && im.in[IN_TPM_LOG].buf)
		rc = events_from_log(&im.in[IN_TPM_LOG], CM_EVENTLOG_TPM, 0, 1, &tpm_events, &n_tpm, e);
	/* RTMR0-3 need the ACPI blobs or a reference log; --tpm without them gives the PCRs only. */
	bool tdx = im.in[IN_ACPI].buf || im.in[IN_RTMR0_LOG].buf;
	if (!rc && !(p = calloc(1, sizeof(*p))))
		rc = cm_fail(e, -ENOMEM, "out of memory");
	if (!rc && tpm && !(tp = malloc(sizeof(*tp))))
		rc = cm_fail(e, -ENOMEM, "out of memory");
	if (!rc) {
		struct cm_predict_input in = {
			.profile = im.profile, .kernel_mode = im.kmode,
			.fw = im.in[IN_FIRMWARE].buf, .fw_len = im.in[IN_FIRMWARE].len, .tdvf = &tdvf,
			.mem = im.mem,
			.acpi_tables = im.in[IN_ACPI].buf, .acpi_tables_len = im.in[IN_ACPI].len,
			.rsdp = im.in[IN_RSDP].buf, .rsdp_len = im.in[IN_RSDP].len,
			.loader = im.in[IN_LOADER].buf, .loader_len = im.in[IN_LOADER].len,
			.rtmr0_events = log_events, .n_rtmr0_events = n_log,
			.kernel = im.in[IN_KERNEL].buf, .kernel_len = im.in[IN_KERNEL].len,
			.initrd = im.in[IN_INITRD].buf,
			.initrd_len = im.in[IN_INITRD].len,
			.cmdline = im.cmdline,
			.rtmr3_events = r3, .n_rtmr3_events = n3,
			.tpm_events = tpm_events, .n_tpm_events = n_tpm};
		if (tdx)
			rc = cm_predict(&in, p, e);
		if (!rc && tp)
			rc = cm_predict_tpm(&in, tp, e);
	}
	if (threaded)
		pthread_join(th, NULL);
	if (!rc && job.rc)
		rc = cm_fail(e, job.rc, "SHA-256 of the inputs failed");
	if (rc)
		goto out;

	json_object *o = json_object_new_object();
	cm_json_add_hex(o, "mrtd", mrtd, 48);
	static const char *const rk[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
	bool full = tdx && im.in[IN_KERNEL].buf != NULL;
	for (int r = 0; r < 4; r++) {
		if (!tdx || (!full && (r == 1 || r == 2)))
			json_object_object_add(o, rk[r], NULL);
		else
			cm_json_add_hex(o, rk[r], p->rtmr[r], 48);
	}
	if (full) {
		struct cm_td_regs regs;
		memcpy(regs.mrtd, mrtd, 48);
		memcpy(regs.mrconfigid, im.mrconfigid, 48);
		memcpy(regs.mrowner, im.mrowner, 48);
		memcpy(regs.mrownerconfig, im.mrownerconfig, 48);
		memcpy(regs.rtmr, p->rtmr, sizeof(regs.rtmr));
		uint8_t ih[CM_IMAGE_HASH_LEN];
		cm_image_hash(&regs, ih);
		cm_json_add_hex(o, "image_hash", ih, sizeof(ih));
	} else {
		json_object_object_add(o, "image_hash", NULL); /* RTMR1/2 unknown without a kernel */
	}
	if (im.spec_dir)
		cm_json_add_hex(o, "spec_tree", tree, 32);
	json_object *prof = json_object_new_object();
	cm_json_add_str(prof, "ovmf_profile", cm_ovmf_profile_name(im.profile));
	cm_json_add_str(prof, "page_order", cm_page_order_name(im.order));
	cm_json_add_str(prof, "kernel_mode", cm_kernel_mode_name(im.kmode));
	cm_json_add_int(prof, "memory", (int64_t)im.mem);
	if (im.cpus)
		cm_json_add_int(prof, "cpus", im.cpus);
	cm_json_add_bool(prof, "debug", im.debug);
	cm_json_add_str(prof, "rtmr0_source", !tdx ? "not predicted" : log_events ? "event-log" : "predicted");
	if (tp) {
		cm_json_add_str(prof, "pcr0_source", tpm_events ? "event-log" : "not predicted");
		cm_json_add_str(prof, "pcr1_source", im.in[IN_ACPI].buf && im.in[IN_LOADER].buf ? "captured-acpi"
						     : tpm_events ? "event-log" : "not predicted");
	}
	if (im.cmdline)
		cm_json_add_str(prof, "cmdline", im.cmdline);
	json_object_object_add(o, "profile", prof);
	json_object *inputs = json_object_new_object();
	for (int i = 0; i < IN_N; i++) {
		if (!im.in[i].path)
			continue;
		json_object *x = json_object_new_object();
		cm_json_add_str(x, "path", im.in[i].path);
		cm_json_add_int(x, "size", (int64_t)im.in[i].len);
		cm_json_add_hex(x, "sha256", im.in[i].sha256, 32);
		json_object_object_add(inputs, in_names[i], x);
	}
	if (im.spec_dir) {
		json_object *x = json_object_new_object();
		cm_json_add_str(x, "path", im.spec_dir);
		cm_json_add_hex(x, "tree", tree, 32);
		json_object_object_add(inputs, "spec_dir", x);
	}
	json_object_object_add(o, "inputs", inputs);
	json_object_object_add(o, "events", tdx ? cm_prediction_events_json(p) : NULL);
	if (tp) {
		json_object *tev, *unknown;
		json_object_object_add(o, "pcrs", cm_tpm_prediction_json(tp, &tev, &unknown));
		cm_json_add_str(o, "pcr_bank", "sha256");
		cm_json_add_str(o, "pcr_trust", "not a TDX trust anchor: a vTPM emulated by the host is the host's; "
						"these PCRs count only where the TPM is inside the trust boundary");
		json_object_object_add(o, "pcrs_not_predicted", unknown);
		json_object_object_add(o, "tpm_events", tev);
	}
	*out = o;
out:
	free(log_events);
	free(tpm_events);
	free(p);
	free(tp);
	image_free(&im);
	return rc;
}
