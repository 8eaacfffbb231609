/* RTMR0-3 prediction for QEMU direct boot with OVMF/TDVF (specs/measurement.md §3). */
#include "measure/predict/predict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/eventlog/eventlog.h"
#include "measure/predict/pe.h"

int cm_ovmf_profile_parse(const char *s, enum cm_ovmf_profile *p)
{
	if (!strcmp(s, "pre202411"))
		*p = CM_OVMF_PRE202411;
	else if (!strcmp(s, "202411-202502"))
		*p = CM_OVMF_202411_202502;
	else if (!strcmp(s, "202505+"))
		*p = CM_OVMF_202505;
	else
		return -EINVAL;
	return 0;
}

const char *cm_ovmf_profile_name(enum cm_ovmf_profile p)
{
	switch (p) {
	case CM_OVMF_PRE202411: return "pre202411";
	case CM_OVMF_202505: return "202505+";
	default: return "202411-202502";
	}
}

int cm_kernel_mode_parse(const char *s, enum cm_kernel_mode *m)
{
	if (!strcmp(s, "unpatched"))
		*m = CM_KERNEL_UNPATCHED;
	else if (!strcmp(s, "qemu-patched"))
		*m = CM_KERNEL_QEMU_PATCHED;
	else
		return -EINVAL;
	return 0;
}

const char *cm_kernel_mode_name(enum cm_kernel_mode m)
{
	return m == CM_KERNEL_QEMU_PATCHED ? "qemu-patched" : "unpatched";
}

/* ---- ACPI: QEMU bios-linker-loader commands (hw/acpi/bios-linker-loader.c) ---- */

#define LOADER_CMD 128
#define ACPI_RSDP_FILE "etc/acpi/rsdp"
#define ACPI_TABLES_FILE "etc/acpi/tables"

struct loader {
	uint8_t *buf;
	size_t n, cap;
};

static uint8_t *loader_cmd(struct loader *l, uint32_t cmd)
{
	if (l->n + LOADER_CMD > l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 4096;
		uint8_t *nb = realloc(l->buf, nc);
		if (!nb)
			return NULL;
		memset(nb + l->cap, 0, nc - l->cap);
		l->buf = nb;
		l->cap = nc;
	}
	uint8_t *c = l->buf + l->n;
	l->n += LOADER_CMD;
	cm_put_le32(c, cmd);
	return c;
}

static int loader_alloc(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c = loader_cmd(l, 1);
	if (!c)
		return -ENOMEM;
	memcpy(c + 4, file, strlen(file));
	cm_put_le32(c + 60, align);
	c[64] = zone;
	return 0;
}

static int loader_pointer(struct loader *l, const char *dst, const char *src, uint32_t off, uint8_t size)
{
	uint8_t *c = loader_cmd(l, 2);
	if (!c)
		return -ENOMEM;
	memcpy(c + 4, dst, strlen(dst));
	memcpy(c + 60, src, strlen(src));
	cm_put_le32(c + 116, off);
	c[120] = size;
	return 0;
}

static int loader_checksum(struct loader *l, const char *file, uint32_t result, uint32_t start, uint32_t len)
{
	uint8_t *c = loader_cmd(l, 3);
	if (!c)
		return -ENOMEM;
	memcpy(c + 4, file, strlen(file));
	cm_put_le32(c + 60, result);
	cm_put_le32(c + 64, start);
	cm_put_le32(c + 68, len);
	return 0;
}

struct acpi_table {
	char sig[5];
	uint32_t off, len;
};

#define ACPI_MAX_TABLES 64

static int acpi_walk(const uint8_t *t, size_t len, struct acpi_table *out, size_t *n, struct cm_err *e)
{
	size_t off = 0, k = 0;
	if (len > (16u << 20))
		return cm_fail(e, -E2BIG, "etc/acpi/tables of %zu bytes too large", len);
	while (off + 8 <= len && !cm_is_zero(t + off, 4)) {
		uint32_t tl = cm_le32(t + off + 4);
		for (int i = 0; i < 4; i++)
			if (t[off + i] < 0x20 || t[off + i] > 0x7e)
				return cm_fail(e, -EINVAL, "etc/acpi/tables: no ACPI table signature at offset %zu",
					       off);
		int facs = !memcmp(t + off, "FACS", 4);
		if (tl < (facs ? 8u : 36u) || tl > len - off)
			return cm_fail(e, -EINVAL, "etc/acpi/tables: table %.4s at offset %zu has bad length %u",
				       (const char *)(t + off), off, tl);
		if (k == ACPI_MAX_TABLES)
			return cm_fail(e, -E2BIG, "etc/acpi/tables: more than %d tables", ACPI_MAX_TABLES);
		memcpy(out[k].sig, t + off, 4);
		out[k].sig[4] = 0;
		out[k].off = (uint32_t)off;
		out[k].len = tl;
		k++;
		off += tl;
	}
	if (!cm_is_zero(t + off, len - off))
		return cm_fail(e, -EINVAL, "etc/acpi/tables: unparsed bytes after offset %zu", off);
	if (!k)
		return cm_fail(e, -EINVAL, "etc/acpi/tables: no ACPI tables");
	*n = k;
	return 0;
}

static const struct acpi_table *find_table(const struct acpi_table *t, size_t n, const char *sig)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].sig, sig))
			return &t[i];
	return NULL;
}

int cm_acpi_derive_loader(const uint8_t *tables, size_t len, uint8_t **loader, size_t *loader_len,
			  struct cm_err *e)
{
	*loader = NULL;
	*loader_len = 0;
	struct acpi_table t[ACPI_MAX_TABLES];
	size_t n;
	int rc = acpi_walk(tables, len, t, &n, e);
	if (rc)
		return rc;
	if (!find_table(t, n, "RSDT"))
		return cm_fail(e, -ENOTSUP, "etc/acpi/tables: no RSDT (XSDT-only layouts are not derived; "
					    "supply the captured etc/table-loader and etc/acpi/rsdp)");
	const struct acpi_table *facs = find_table(t, n, "FACS");
	struct loader l = {0};
	rc = loader_alloc(&l, ACPI_RSDP_FILE, 16, 2) ||
	     loader_alloc(&l, ACPI_TABLES_FILE, 64, 1);
	for (size_t i = 0; i < n && !rc; i++) {
		const struct acpi_table *x = &t[i];
		if (!strcmp(x->sig, "FACS"))
			continue;
		if (!strcmp(x->sig, "FACP")) {
			if (facs)
				rc |= loader_pointer(&l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, x->off + 36, 4);
			rc |= loader_pointer(&l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, x->off + 40, 4);
			if (x->len >= 148)
				rc |= loader_pointer(&l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, x->off + 140, 8);
		} else if (!strcmp(x->sig, "RSDT")) {
			for (uint32_t p = 36; p + 4 <= x->len; p += 4)
				rc |= loader_pointer(&l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, x->off + p, 4);
		} else if (!strcmp(x->sig, "XSDT")) {
			for (uint32_t p = 36; p + 8 <= x->len; p += 8)
				rc |= loader_pointer(&l, ACPI_TABLES_FILE, ACPI_TABLES_FILE, x->off + p, 8);
		}
		rc |= loader_checksum(&l, ACPI_TABLES_FILE, x->off + 9, x->off, x->len);
	}
	if (!rc)
		rc = loader_pointer(&l, ACPI_RSDP_FILE, ACPI_TABLES_FILE, 16, 4) ||
		     loader_checksum(&l, ACPI_RSDP_FILE, 8, 0, 20);
	if (rc) {
		free(l.buf);
		return cm_fail(e, -ENOMEM, "out of memory");
	}
	*loader = l.buf;
	*loader_len = l.cap; /* zero-padded to a multiple of 4096, as QEMU aligns the blob */
	return 0;
}

int cm_acpi_derive_rsdp(const uint8_t *tables, size_t len, uint8_t rsdp[20], struct cm_err *e)
{
	struct acpi_table t[ACPI_MAX_TABLES];
	size_t n;
	int rc = acpi_walk(tables, len, t, &n, e);
	if (rc)
		return rc;
	const struct acpi_table *rsdt = find_table(t, n, "RSDT");
	if (!rsdt)
		return cm_fail(e, -ENOTSUP, "etc/acpi/tables: no RSDT to derive etc/acpi/rsdp from");
	memset(rsdp, 0, 20);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "BOCHS ", 6);
	cm_put_le32(rsdp + 16, rsdt->off);
	return 0;
}

int cm_load_options(const char *cmdline, bool has_initrd, uint8_t **out, size_t *len,
		    struct cm_err *e)
{
	*out = NULL;
	*len = 0;
	static const char suffix[] = " initrd=initrd";
	size_t cl = cmdline ? strlen(cmdline) : 0;
	if (!cl && !has_initrd)
		return 0;
	if (cl > (1u << 20))
		return cm_fail(e, -E2BIG, "kernel command line too long");
	size_t chars = cl + (has_initrd ? sizeof(suffix) - 1 : 0);
	uint8_t *b = calloc(chars + 1, 2);
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cl; i++)
		b[2 * i] = (uint8_t)cmdline[i];
	if (has_initrd)
		for (size_t i = 0; i < sizeof(suffix) - 1; i++)
			b[2 * (cl + i)] = (uint8_t)suffix[i];
	*out = b;
	*len = 2 * (chars + 1);
	return 0;
}

/* ---- event sequence ---- */

static const uint8_t efi_global_guid[16] = { /* 8be4df61-93ca-11d2-aa0d-00e098032b8c */
	0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c};
static const uint8_t image_security_guid[16] = { /* d719b2cb-3d3a-4596-a3bc-dad00e67656f */
	0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d, 0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0, 0x0e, 0x67, 0x65, 0x6f};

/* UiApp load option OVMF creates as Boot0000 (specs/measurement.md §3.2). */
static const uint8_t boot0000[62] = {
	0x09, 0x01, 0x00, 0x00, 0x2c, 0x00, 0x55, 0x00, 0x69, 0x00, 0x41, 0x00, 0x70, 0x00, 0x70, 0x00,
	0x00, 0x00, 0x04, 0x07, 0x14, 0x00, 0xc9, 0xbd, 0xb8, 0x7c, 0xeb, 0xf8, 0x34, 0x4f, 0xaa, 0xea,
	0x3e, 0xe4, 0xaf, 0x65, 0x16, 0xa1, 0x04, 0x06, 0x14, 0x00, 0x21, 0xaa, 0x2c, 0x46, 0x14, 0x76,
	0x03, 0x45, 0x83, 0x6e, 0x8a, 0xb6, 0xf4, 0x66, 0x23, 0x31, 0x7f, 0xff, 0x04, 0x00};

static const uint8_t separator[4] = {0};

static struct cm_pevent *push(struct cm_prediction *p, int reg, uint32_t type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct cm_pevent *push(struct cm_prediction *p, int reg, uint32_t type, const char *fmt, ...)
{
	if (p->n >= CM_PREDICT_MAX_EVENTS)
		return NULL;
	struct cm_pevent *ev = &p->ev[p->n++];
	memset(ev, 0, sizeof(*ev));
	ev->reg = reg;
	ev->type = type;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev->desc, sizeof(ev->desc), fmt, ap);
	va_end(ap);
	return ev;
}

/* One event whose digest is the prediction's hash (SHA-384 for RTMRs, SHA-256 for PCRs) of data. */
static int push_hash(struct cm_prediction *p, int reg, uint32_t type, const void *data, size_t len,
		     const char *desc)
{
	struct cm_pevent *ev = push(p, reg, type, "%s", desc);
	if (!ev)
		return -E2BIG;
	return cm_digest(p->alg, data, len, ev->digest);
}

static int push_separator(struct cm_prediction *p, int reg, const char *why)
{
	char desc[64];
	snprintf(desc, sizeof(desc), "separator (%s)", why);
	return push_hash(p, reg, CM_EV_SEPARATOR, separator, sizeof(separator), desc);
}

static int push_action(struct cm_prediction *p, int reg, const char *action)
{
	return push_hash(p, reg, CM_EV_EFI_ACTION, action, strlen(action), action);
}

/* UEFI_VARIABLE_DATA with empty data (no enrolled keys). */
static int push_empty_var(struct cm_prediction *p, int reg, const uint8_t guid[16], const char *name)
{
	uint8_t buf[32 + 2 * 16] = {0};
	size_t nc = strlen(name);
	memcpy(buf, guid, 16);
	cm_put_le64(buf + 16, nc);
	for (size_t i = 0; i < nc; i++)
		buf[32 + 2 * i] = (uint8_t)name[i];
	char desc[64];
	snprintf(desc, sizeof(desc), "%s (empty)", name);
	return push_hash(p, reg, CM_EV_EFI_VARIABLE_DRIVER_CONFIG, buf, 32 + 2 * nc, desc);
}

/* The Secure Boot policy (no enrolled keys) and its separator: RTMR0 / PCR 7. */
static int push_secure_boot(struct cm_prediction *p, int reg)
{
	int rc = push_empty_var(p, reg, efi_global_guid, "SecureBoot");
	rc = rc ? rc : push_empty_var(p, reg, efi_global_guid, "PK");
	rc = rc ? rc : push_empty_var(p, reg, efi_global_guid, "KEK");
	rc = rc ? rc : push_empty_var(p, reg, image_security_guid, "db");
	rc = rc ? rc : push_empty_var(p, reg, image_security_guid, "dbx");
	return rc ? rc : push_separator(p, reg, "secure boot policy");
}

/* BootOrder and Boot0000 as OVMF measures them before a direct kernel boot: RTMR0 / PCR 1. */
static int push_boot_vars(struct cm_prediction *p, int reg)
{
	static const uint8_t bootorder[2] = {0, 0};
	int rc = push_hash(p, reg, CM_EV_EFI_VARIABLE_BOOT, bootorder, 2, "BootOrder = 0000");
	return rc ? rc : push_hash(p, reg, CM_EV_EFI_VARIABLE_BOOT, boot0000, sizeof(boot0000), "Boot0000: UiApp");
}

#define QEMU_TPM_LOG_FILE "etc/tpm/log"
#define QEMU_TPM_LOG_SIZE 0x10000 /* TPM_LOG_AREA_MINIMUM_SIZE (QEMU hw/acpi/tpm.h), zero-filled */

/* "ACPI DATA" (OvmfPkg QemuFwCfgAcpi.c): etc/table-loader, then every file the loader
 * ALLOCATEs, in loader order, as downloaded (before patching): RTMR0 / PCR 1. The loader
 * and RSDP are derived from etc/acpi/tables when not captured (rsdp, tables). */
static int push_acpi(const struct cm_predict_input *in, struct cm_prediction *p, int reg, struct cm_err *e)
{
	uint8_t *derived = NULL;
	size_t loader_len = in->loader_len;
	uint8_t rsdp[20];
	const uint8_t *rp = in->rsdp, *loader = in->loader;
	size_t rl = in->rsdp_len;
	int rc = 0;
	if (!loader) {
		rc = cm_acpi_derive_loader(in->acpi_tables, in->acpi_tables_len, &derived, &loader_len, e);
		if (rc)
			return rc;
		loader = derived;
	}
	if (!rp) {
		rc = cm_acpi_derive_rsdp(in->acpi_tables, in->acpi_tables_len, rsdp, e);
		if (rc) {
			free(derived);
			return rc;
		}
		rp = rsdp;
		rl = sizeof(rsdp);
	}
	char desc[CM_PREDICT_DESC];
	snprintf(desc, sizeof(desc), "ACPI DATA: etc/table-loader (%zu bytes, %s)", loader_len,
		 in->loader ? "captured" : "derived");
	rc = push_hash(p, reg, CM_EV_PLATFORM_CONFIG_FLAGS, loader, loader_len, desc);
	for (size_t off = 0; !rc && off + LOADER_CMD <= loader_len; off += LOADER_CMD) {
		const uint8_t *c = loader + off;
		uint32_t cmd = cm_le32(c);
		if (cmd == 0) /* zero padding after the last command */
			break;
		if (cmd != 1) /* ALLOCATE */
			continue;
		char file[57];
		memcpy(file, c + 4, 56);
		file[56] = 0;
		if (!strcmp(file, ACPI_RSDP_FILE)) {
			snprintf(desc, sizeof(desc), "ACPI DATA: etc/acpi/rsdp (%zu bytes, %s)", rl,
				 in->rsdp ? "captured" : "derived");
			rc = push_hash(p, reg, CM_EV_PLATFORM_CONFIG_FLAGS, rp, rl, desc);
		} else if (!strcmp(file, ACPI_TABLES_FILE)) {
			snprintf(desc, sizeof(desc), "ACPI DATA: etc/acpi/tables (%zu bytes)", in->acpi_tables_len);
			rc = push_hash(p, reg, CM_EV_PLATFORM_CONFIG_FLAGS, in->acpi_tables, in->acpi_tables_len, desc);
		} else if (!strcmp(file, QEMU_TPM_LOG_FILE)) {
			uint8_t *zero = calloc(1, QEMU_TPM_LOG_SIZE);
			rc = zero ? push_hash(p, reg, CM_EV_PLATFORM_CONFIG_FLAGS, zero, QEMU_TPM_LOG_SIZE,
					      "ACPI DATA: etc/tpm/log (65536 zero bytes, the TPM log area)")
				  : -ENOMEM;
			free(zero);
		} else {
			free(derived);
			return cm_fail(e, -ENOTSUP,
				       "etc/table-loader command %zu allocates \"%s\", whose content is not predicted",
				       off / LOADER_CMD, file);
		}
	}
	free(derived);
	return rc ? cm_fail(e, rc, "ACPI prediction failed") : 0;
}

static int rtmr0_platform(const struct cm_predict_input *in, struct cm_prediction *p, struct cm_err *e)
{
	uint8_t *hob = NULL;
	size_t hob_len;
	int rc = cm_tdvf_td_hob(in->tdvf, in->mem, &hob, &hob_len, e);
	if (rc)
		return rc;
	char desc[CM_PREDICT_DESC];
	snprintf(desc, sizeof(desc), "TD HOB for %llu MiB of RAM (%zu bytes)",
		 (unsigned long long)(in->mem >> 20), hob_len);
	rc = push_hash(p, 0, CM_EV_EFI_HANDOFF_TABLES2, hob, hob_len, desc);
	free(hob);
	const uint8_t *cfv;
	size_t cfv_len;
	if (!rc)
		rc = cm_tdvf_cfv(in->fw, in->fw_len, in->tdvf, &cfv, &cfv_len, e);
	if (rc)
		return rc;
	snprintf(desc, sizeof(desc), "CFV (firmware bytes 0x0+0x%zx, variable store)", cfv_len);
	rc = push_hash(p, 0, CM_EV_EFI_PLATFORM_FIRMWARE_BLOB2, cfv, cfv_len, desc);
	rc = rc ? rc : push_secure_boot(p, 0);
	if (rc)
		return cm_fail(e, rc, "RTMR0 prediction failed");
	return push_acpi(in, p, 0, e);
}

/* The kernel OVMF loads (EV_EFI_BOOT_SERVICES_APPLICATION): RTMR1 / PCR 4. */
static int push_kernel(const struct cm_predict_input *in, struct cm_prediction *p, int reg, struct cm_err *e)
{
	struct cm_pevent *ev = push(p, reg, CM_EV_EFI_BOOT_SERVICES_APPLICATION, "kernel (%s, %zu bytes)",
				    cm_kernel_mode_name(in->kernel_mode), in->kernel_len);
	if (!ev)
		return cm_fail(e, -E2BIG, "too many events");
	if (in->kernel_mode == CM_KERNEL_UNPATCHED)
		return cm_pe_authenticode(p->alg, in->kernel, in->kernel_len, NULL, 0, ev->digest, NULL, e);
	uint8_t hdr[CM_LINUX_HDR_LEN];
	if (in->kernel_len < sizeof(hdr))
		return cm_fail(e, -EINVAL, "kernel too short");
	memcpy(hdr, in->kernel, sizeof(hdr));
	struct cm_qemu_kernel_params kp = {
		.mem = in->mem, .has_initrd = in->initrd != NULL, .initrd_size = in->initrd_len,
		.cmdline = in->cmdline};
	int rc = cm_linux_qemu_patch(hdr, in->kernel_len, &kp, e);
	return rc ? rc : cm_pe_authenticode(p->alg, in->kernel, in->kernel_len, hdr, sizeof(hdr), ev->digest, NULL, e);
}

/* The Linux EFI stub's tagged events: LoadOptions (cmdline) and initrd: RTMR2 / PCR 9. */
static int push_linux_stub(const struct cm_predict_input *in, struct cm_prediction *p, int reg, struct cm_err *e)
{
	uint8_t *lo;
	size_t lol;
	/* OVMF passes an initrd only when fw_cfg's initrd size is > 0 (an empty
	 * -initrd file still gets QEMU's header patch, above). */
	bool initrd = in->initrd && in->initrd_len > 0;
	int rc = cm_load_options(in->cmdline, initrd, &lo, &lol, e);
	if (rc)
		return rc;
	if (lol) {
		char desc[CM_PREDICT_DESC];
		snprintf(desc, sizeof(desc), "LOADED_IMAGE::LoadOptions: %.100s%s",
			 in->cmdline ? in->cmdline : "", initrd ? " initrd=initrd" : "");
		rc = push_hash(p, reg, CM_EV_EVENT_TAG, lo, lol, desc);
	}
	free(lo);
	if (!rc && initrd) {
		char desc[CM_PREDICT_DESC];
		snprintf(desc, sizeof(desc), "Linux initrd (%zu bytes)", in->initrd_len);
		rc = push_hash(p, reg, CM_EV_EVENT_TAG, in->initrd, in->initrd_len, desc);
	}
	return rc ? cm_fail(e, rc, "prediction failed") : 0;
}

static const char calling[] = "Calling EFI Application from Boot Option";

/* After ReadyToBoot: the EFI stub's events (RTMR2 / PCR 9), then ExitBootServices (RTMR1 / PCR 5). */
static int push_kernel_start(const struct cm_predict_input *in, struct cm_prediction *p, int stub_reg,
			     int ebs_reg, struct cm_err *e)
{
	int rc = push_linux_stub(in, p, stub_reg, e);
	if (rc)
		return rc;
	rc = push_action(p, ebs_reg, "Exit Boot Services Invocation");
	rc = rc ? rc : push_action(p, ebs_reg, "Exit Boot Services Returned with Success");
	return rc ? cm_fail(e, rc, "prediction failed") : 0;
}

int cm_predict(const struct cm_predict_input *in, struct cm_prediction *p, struct cm_err *e)
{
	memset(p, 0, sizeof(*p));
	p->alg = CM_SHA384;
	int rc = 0;
	/* 1-11: RTMR0 platform events, or verbatim from a reference log. */
	if (in->rtmr0_events) {
		for (size_t i = 0; i < in->n_rtmr0_events; i++) {
			if (p->n >= CM_PREDICT_MAX_EVENTS)
				return cm_fail(e, -E2BIG, "too many RTMR0 events");
			p->ev[p->n++] = in->rtmr0_events[i];
		}
	} else {
		if (in->profile == CM_OVMF_202505)
			return cm_fail(e, -ENOTSUP,
				       "the RTMR0 layout of OVMF >= edk2-stable202505 (extra fw_cfg events, "
				       "Boot0001) is not specified; take RTMR0 from a reference event log "
				       "(VM.json \"rtmr0_log\")");
		rc = rtmr0_platform(in, p, e);
		if (rc)
			return rc;
	}
	if (in->kernel) {
		rc = push_kernel(in, p, 1, e);
		if (rc)
			return rc;
	}
	if (!in->rtmr0_events)
		rc = push_boot_vars(p, 0);
	if (!rc && in->kernel)
		rc = push_action(p, 1, calling);
	/* The ReadyToBoot separator: RTMR0 before edk2 efaf8931 (already in a reference
	 * log's RTMR0 events), RTMR1 since. */
	if (!rc && in->profile == CM_OVMF_PRE202411 && !in->rtmr0_events)
		rc = push_separator(p, 0, "ReadyToBoot");
	else if (!rc && in->profile != CM_OVMF_PRE202411 && in->kernel)
		rc = push_separator(p, 1, "ReadyToBoot");
	if (rc)
		return cm_fail(e, rc, "prediction failed");
	if (in->kernel && (rc = push_kernel_start(in, p, 2, 1, e)))
		return rc;
	for (size_t i = 0; i < in->n_rtmr3_events; i++) {
		if (p->n >= CM_PREDICT_MAX_EVENTS)
			return cm_fail(e, -E2BIG, "too many RTMR3 events");
		p->ev[p->n] = in->rtmr3_events[i];
		p->ev[p->n++].reg = 3;
	}
	for (size_t i = 0; i < p->n; i++)
		cm_rtmr_extend(p->rtmr[p->ev[i].reg], p->ev[i].digest);
	return 0;
}

/* ---- TPM PCRs (docs/measurement.md "TPM PCRs") ---- */

static const char *const pcr_unknown_reason[CM_TPM_PCRS] = {
	[0] = "S-CRTM version and the firmware volumes OVMF decompresses (PEIFV, DXEFV) are not "
	      "predicted from OVMF.fd; give a reference TPM log (VM.json \"tpm_log\")",
	[1] = "QEMU's ACPI blobs with the TPM's tables are host-generated: give them as captured from a "
	      "machine with the same TPM device (VM.json \"acpi_tables\" and \"table_loader\"; the "
	      "derived loader lacks etc/tpm/log) or a reference TPM log (\"tpm_log\")",
};

/* PCR 1 from the captured ACPI blobs of the machine (with its TPM). */
static bool pcr1_from_files(const struct cm_predict_input *in)
{
	return in->acpi_tables && in->loader;
}

/* PCRs whose events a reference log supplies (firmware-build- or host-dependent). */
static bool tpm_from_log(const struct cm_predict_input *in, int pcr)
{
	return pcr == 0 || (pcr == 1 && !pcr1_from_files(in));
}

int cm_predict_tpm(const struct cm_predict_input *in, struct cm_prediction *p, struct cm_err *e)
{
	memset(p, 0, sizeof(*p));
	p->alg = CM_SHA256;
	if (!in->kernel)
		return cm_fail(e, -EINVAL, "TPM prediction needs the kernel");
	/* Chronological, as OVMF's Tcg2Pei/Tcg2Dxe and the EFI stub measure a direct kernel
	 * boot; per PCR the order is what matters. */
	for (size_t i = 0; i < in->n_tpm_events; i++) {
		if (!tpm_from_log(in, in->tpm_events[i].reg))
			continue;
		if (p->n >= CM_PREDICT_MAX_EVENTS)
			return cm_fail(e, -E2BIG, "too many reference TPM events");
		p->ev[p->n++] = in->tpm_events[i];
	}
	bool acpi = pcr1_from_files(in);
	int rc = push_secure_boot(p, 7);
	if (rc)
		return cm_fail(e, rc, "prediction failed");
	if (acpi && (rc = push_acpi(in, p, 1, e)))
		return rc;
	rc = push_kernel(in, p, 4, e);
	if (rc)
		return rc;
	if (acpi)
		rc = push_boot_vars(p, 1);
	rc = rc ? rc : push_action(p, 4, calling);
	/* ReadyToBoot: a separator in PCR 0-6 (PCR 0, and 1 without the ACPI blobs: in the
	 * reference log's events). */
	for (int pcr = acpi ? 1 : 2; pcr <= 6 && !rc; pcr++)
		rc = push_separator(p, pcr, "ReadyToBoot");
	if (rc)
		return cm_fail(e, rc, "prediction failed");
	rc = push_kernel_start(in, p, 9, 5, e);
	if (rc)
		return rc;
	/* PCR 0-9 are boot PCRs (8: nothing measures into it, it stays zero). */
	bool have_log = in->tpm_events != NULL;
	for (int pcr = 0; pcr < 10; pcr++) {
		p->pcr_known[pcr] = tpm_from_log(in, pcr) ? have_log : true;
		p->pcr_unknown[pcr] = p->pcr_known[pcr] ? NULL : pcr_unknown_reason[pcr];
	}
	/* PCR 10-23: not boot PCRs. */
	for (int pcr = 10; pcr < CM_TPM_PCRS; pcr++) {
		p->pcr_known[pcr] = false;
		p->pcr_unknown[pcr] =
			pcr < 16 ? "runtime: IMA (10), applications and the appliance's own extends, not the boot" :
			pcr == 16 ? "debug PCR, not used by the boot" :
			pcr < 23 ? "DRTM PCR (all ones until a dynamic launch), not used by the boot" :
				   "application PCR, not used by the boot";
	}
	for (size_t i = 0; i < p->n; i++)
		cm_pcr_extend(p->pcr[p->ev[i].reg], p->ev[i].digest);
	return 0;
}

size_t cm_pevents_from_log(const struct cm_eventlog *l, int reg, struct cm_pevent *out, size_t max)
{
	size_t n = 0;
	uint32_t want = l->kind == CM_EVENTLOG_TPM ? (uint32_t)reg : (uint32_t)reg + 1;
	for (size_t i = 0; i < l->n && n < max; i++) {
		const struct cm_event *ev = &l->ev[i];
		if (ev->mr_index != want || ev->type == CM_EV_NO_ACTION)
			continue;
		struct cm_pevent *x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->reg = reg;
		x->type = ev->type;
		memcpy(x->digest, ev->digest, ev->digest_len);
		char d[CM_PREDICT_DESC - 16];
		cm_event_describe(ev, d, sizeof(d));
		snprintf(x->desc, sizeof(x->desc), "from log: %s", d);
	}
	return n;
}

static json_object *pevent_json(const struct cm_prediction *p, const struct cm_pevent *ev)
{
	json_object *x = json_object_new_object();
	cm_json_add_hex(x, "digest", ev->digest, cm_hash_len(p->alg));
	cm_json_add_int(x, "event_type", ev->type);
	cm_json_add_str(x, "type_name", ev->type ? cm_event_type_name(ev->type) : "runtime");
	cm_json_add_str(x, "description", ev->desc);
	return x;
}

/* {"<key><reg>": [events...]} for registers 0..nreg-1 (only those with events when sparse). */
static json_object *events_json(const struct cm_prediction *p, const char *prefix, int nreg, bool sparse)
{
	json_object *o = json_object_new_object();
	for (int r = 0; r < nreg; r++) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < p->n; i++)
			if (p->ev[i].reg == r)
				json_object_array_add(a, pevent_json(p, &p->ev[i]));
		if (sparse && !json_object_array_length(a)) {
			json_object_put(a);
			continue;
		}
		char key[16];
		snprintf(key, sizeof(key), "%s%d", prefix, r);
		json_object_object_add(o, key, a);
	}
	return o;
}

json_object *cm_prediction_events_json(const struct cm_prediction *p)
{
	return events_json(p, "rtmr", 4, false);
}

json_object *cm_tpm_prediction_json(const struct cm_prediction *p, json_object **events,
				    json_object **unknown)
{
	json_object *pcrs = json_object_new_object();
	*unknown = json_object_new_object();
	for (int r = 0; r < CM_TPM_PCRS; r++) {
		char key[8];
		snprintf(key, sizeof(key), "%d", r);
		if (p->pcr_known[r])
			cm_json_add_hex(pcrs, key, p->pcr[r], 32);
		else
			cm_json_add_str(*unknown, key, p->pcr_unknown[r]);
	}
	*events = events_json(p, "", CM_TPM_PCRS, true);
	return pcrs;
}
