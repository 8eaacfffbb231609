/* CCEL table and TCG2 crypto-agile event logs (CCEL and TPM): parse, replay, decode, anomalies. */
#include "measure/eventlog/eventlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "measure/core/json.h"

#define TPM_ALG_SHA256 0x000b
#define TPM_ALG_SHA384 0x000c

/* The bank a log kind replays. */
struct bank {
	uint16_t alg;
	uint16_t size;
	enum cm_hash_alg hash;
	const char *name;
};
static const struct bank banks[] = {
	[CM_EVENTLOG_CCEL] = {TPM_ALG_SHA384, 48, CM_SHA384, "SHA-384"},
	[CM_EVENTLOG_TPM] = {TPM_ALG_SHA256, 32, CM_SHA256, "SHA-256"},
};

int cm_ccel_table_parse(const uint8_t *p, size_t len, struct cm_ccel_table *t, struct cm_err *e)
{
	memset(t, 0, sizeof(*t));
	if (len < CM_CCEL_TABLE_LEN)
		return cm_fail(e, -EINVAL, "CCEL table truncated: %zu bytes, need %d", len,
			       CM_CCEL_TABLE_LEN);
	if (memcmp(p, "CCEL", 4))
		return cm_fail(e, -EINVAL, "ACPI table signature at offset 0 is not CCEL");
	uint32_t tlen = cm_le32(p + 4);
	if (tlen < CM_CCEL_TABLE_LEN || tlen != len)
		return cm_fail(e, -EINVAL, "CCEL table length field %u (offset 4) != file size %zu", tlen,
			       len);
	uint8_t sum = 0;
	for (size_t i = 0; i < tlen; i++)
		sum = (uint8_t)(sum + p[i]);
	t->checksum_ok = sum == 0;
	if (!t->checksum_ok)
		return cm_fail(e, -EINVAL, "CCEL table checksum (offset 9) invalid");
	t->revision = p[8];
	memcpy(t->oem_id, p + 10, 6);
	t->cc_type = p[36];
	t->cc_subtype = p[37];
	t->laml = cm_le64(p + 40);
	t->lasa = cm_le64(p + 48);
	if (t->cc_type != 2)
		return cm_fail(e, -EINVAL, "CCEL CC type %u at offset 36 is not TDX (2)", t->cc_type);
	return 0;
}

const char *cm_event_type_name(uint32_t type)
{
	switch (type) {
	case CM_EV_PREBOOT_CERT: return "EV_PREBOOT_CERT";
	case CM_EV_POST_CODE: return "EV_POST_CODE";
	case 0x2: return "EV_UNUSED";
	case CM_EV_NO_ACTION: return "EV_NO_ACTION";
	case CM_EV_SEPARATOR: return "EV_SEPARATOR";
	case CM_EV_ACTION: return "EV_ACTION";
	case CM_EV_EVENT_TAG: return "EV_EVENT_TAG";
	case CM_EV_S_CRTM_CONTENTS: return "EV_S_CRTM_CONTENTS";
	case CM_EV_S_CRTM_VERSION: return "EV_S_CRTM_VERSION";
	case CM_EV_CPU_MICROCODE: return "EV_CPU_MICROCODE";
	case CM_EV_PLATFORM_CONFIG_FLAGS: return "EV_PLATFORM_CONFIG_FLAGS";
	case CM_EV_TABLE_OF_DEVICES: return "EV_TABLE_OF_DEVICES";
	case CM_EV_COMPACT_HASH: return "EV_COMPACT_HASH";
	case CM_EV_IPL: return "EV_IPL";
	case CM_EV_IPL_PARTITION_DATA: return "EV_IPL_PARTITION_DATA";
	case CM_EV_NONHOST_CODE: return "EV_NONHOST_CODE";
	case CM_EV_NONHOST_CONFIG: return "EV_NONHOST_CONFIG";
	case CM_EV_NONHOST_INFO: return "EV_NONHOST_INFO";
	case CM_EV_OMIT_BOOT_DEVICE_EVENTS: return "EV_OMIT_BOOT_DEVICE_EVENTS";
	case CM_EV_EFI_VARIABLE_DRIVER_CONFIG: return "EV_EFI_VARIABLE_DRIVER_CONFIG";
	case CM_EV_EFI_VARIABLE_BOOT: return "EV_EFI_VARIABLE_BOOT";
	case CM_EV_EFI_BOOT_SERVICES_APPLICATION: return "EV_EFI_BOOT_SERVICES_APPLICATION";
	case CM_EV_EFI_BOOT_SERVICES_DRIVER: return "EV_EFI_BOOT_SERVICES_DRIVER";
	case CM_EV_EFI_RUNTIME_SERVICES_DRIVER: return "EV_EFI_RUNTIME_SERVICES_DRIVER";
	case CM_EV_EFI_GPT_EVENT: return "EV_EFI_GPT_EVENT";
	case CM_EV_EFI_ACTION: return "EV_EFI_ACTION";
	case CM_EV_EFI_PLATFORM_FIRMWARE_BLOB: return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
	case CM_EV_EFI_HANDOFF_TABLES: return "EV_EFI_HANDOFF_TABLES";
	case CM_EV_EFI_PLATFORM_FIRMWARE_BLOB2: return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
	case CM_EV_EFI_HANDOFF_TABLES2: return "EV_EFI_HANDOFF_TABLES2";
	case CM_EV_EFI_VARIABLE_BOOT2: return "EV_EFI_VARIABLE_BOOT2";
	case CM_EV_EFI_VARIABLE_AUTHORITY: return "EV_EFI_VARIABLE_AUTHORITY";
	default: return "EV_UNKNOWN";
	}
}

static void anomaly(struct cm_eventlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void anomaly(struct cm_eventlog *l, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(l->anomalies, json_object_new_string(buf));
}

/* UEFI_VARIABLE_DATA: GUID, u64 name chars, u64 data len, UTF-16 name, data. */
static int var_split(const struct cm_event *ev, const uint8_t **name, size_t *nchars,
		     const uint8_t **vdata, size_t *vlen)
{
	if (ev->data_len < 32)
		return -1;
	uint64_t nc = cm_le64(ev->data + 16), dl = cm_le64(ev->data + 24);
	if (nc > (ev->data_len - 32) / 2 || dl > ev->data_len - 32 - 2 * nc)
		return -1;
	*name = ev->data + 32;
	*nchars = (size_t)nc;
	*vdata = ev->data + 32 + 2 * nc;
	*vlen = (size_t)dl;
	return 0;
}

static int digest_is(const struct cm_event *ev, const uint8_t *p, size_t n)
{
	uint8_t d[48];
	return !cm_digest(banks[ev->kind].hash, p, n, d) && !memcmp(d, ev->digest, ev->digest_len);
}

static int content_check(const struct cm_event *ev)
{
	const uint8_t *name, *vd;
	size_t nc, vl;
	switch (ev->type) {
	case CM_EV_SEPARATOR:
	case CM_EV_EFI_ACTION:
	case CM_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CM_EV_EFI_VARIABLE_AUTHORITY:
		return digest_is(ev, ev->data, ev->data_len) ? 1 : -1;
	case CM_EV_EFI_VARIABLE_BOOT:
	case CM_EV_EFI_VARIABLE_BOOT2:
		/* edk2 hashes the variable data only; other firmware the whole record. */
		if (digest_is(ev, ev->data, ev->data_len))
			return 1;
		if (!var_split(ev, &name, &nc, &vd, &vl) && digest_is(ev, vd, vl))
			return 1;
		return -1;
	default:
		return 0;
	}
}

/* TPM: "StartupLocality\0" + u8 locality sets PCR 0's initial value (TCG PC Client PFP 10.4.5.3). */
static void startup_locality(struct cm_eventlog *l, const struct cm_event *ev)
{
	static const char sig[16] = "StartupLocality";
	if (ev->mr_index == 0 && ev->data_len == 17 && !memcmp(ev->data, sig, 16)) {
		if (l->pcr_extends[0])
			anomaly(l, "event %zu at offset %zu: StartupLocality after PCR 0 was extended", l->n - 1,
				ev->offset);
		else
			l->pcr[0][31] = ev->data[16];
	}
}

static int parse(const uint8_t *log, size_t len, enum cm_eventlog_kind kind, struct cm_eventlog *l,
		 struct cm_err *e)
{
	const struct bank *bk = &banks[kind];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->anomalies = json_object_new_array();
	if (len > CM_EVENTLOG_MAX_LEN)
		return cm_fail(e, -E2BIG, "event log of %zu bytes exceeds the limit", len);
	/* Spec ID event (TCG_PCR_EVENT, SHA-1 format). */
	if (len < 32)
		return cm_fail(e, -EINVAL, "event log truncated at offset 0: no Spec ID event");
	uint32_t t0 = cm_le32(log + 4), sz0 = cm_le32(log + 28);
	if (t0 != CM_EV_NO_ACTION)
		return cm_fail(e, -EINVAL, "first event at offset 0 has type 0x%x, not EV_NO_ACTION", t0);
	if (sz0 > len - 32)
		return cm_fail(e, -EINVAL, "Spec ID event at offset 0 truncated (size %u)", sz0);
	const uint8_t *s = log + 32;
	if (sz0 < 29 || memcmp(s, "Spec ID Event03", 16))
		return cm_fail(e, -EINVAL, "no 'Spec ID Event03' signature at offset 32");
	uint32_t nalgs = cm_le32(s + 24);
	if (nalgs == 0 || nalgs > CM_EVENTLOG_MAX_ALGS || 28 + 4 * (size_t)nalgs + 1 > sz0)
		return cm_fail(e, -EINVAL, "Spec ID algorithm count %u at offset 56 invalid", nalgs);
	bool have_bank = false;
	for (uint32_t i = 0; i < nalgs; i++) {
		l->alg_id[i] = cm_le16(s + 28 + 4 * i);
		l->alg_size[i] = cm_le16(s + 30 + 4 * i);
		if (l->alg_id[i] == bk->alg) {
			if (l->alg_size[i] != bk->size)
				return cm_fail(e, -EINVAL, "Spec ID: %s digest size %u at offset %zu", bk->name,
					       l->alg_size[i], (size_t)(32 + 30 + 4 * i));
			have_bank = true;
		}
		if (l->alg_size[i] == 0 || l->alg_size[i] > 64)
			return cm_fail(e, -EINVAL, "Spec ID: algorithm 0x%x digest size %u unsupported",
				       l->alg_id[i], l->alg_size[i]);
	}
	l->nalgs = nalgs;
	if (!have_bank)
		return cm_fail(e, -EINVAL, "Spec ID event lists no %s (0x%04x) algorithm", bk->name, bk->alg);
	uint8_t vis = s[28 + 4 * nalgs];
	if (28 + 4 * (size_t)nalgs + 1 + vis > sz0)
		return cm_fail(e, -EINVAL, "Spec ID vendor info at offset %zu truncated",
			       (size_t)(32 + 28 + 4 * nalgs));

	size_t cap = 64;
	l->ev = calloc(cap, sizeof(*l->ev));
	if (!l->ev)
		return cm_fail(e, -ENOMEM, "out of memory");
	unsigned separators[CM_TPM_PCRS] = {0};
	size_t off = 32 + sz0;
	while (off < len) {
		size_t rem = len - off;
		uint32_t mr = rem >= 4 ? cm_le32(log + off) : 0;
		bool ff_tail = rem < 4;
		for (size_t i = 0; i < rem && ff_tail; i++)
			ff_tail = log[off + i] == 0xff;
		/* A CCEL log area is padded (0xFF or zero) to LAML; a TPM log ends at its last
		 * event (the kernel exports exactly the log), so any tail there is an event. */
		if (kind == CM_EVENTLOG_CCEL && ((rem >= 4 && mr == 0xFFFFFFFFu) || ff_tail)) {
			l->end_marker = true;
			l->padding = rem;
			for (size_t i = off; i < len; i++)
				if (log[i] != 0xff) {
					anomaly(l, "non-padding byte 0x%02x at offset %zu after the end marker at %zu",
						log[i], i, off);
					break;
				}
			break;
		}
		if (kind == CM_EVENTLOG_CCEL && cm_is_zero(log + off, rem)) { /* zero-filled remainder */
			l->padding = rem;
			break;
		}
		if (rem < 12)
			return cm_fail(e, -EINVAL, "event at offset %zu truncated (header needs 12 bytes, %zu left)",
				       off, rem);
		if (l->n >= CM_EVENTLOG_MAX_EVENTS)
			return cm_fail(e, -E2BIG, "more than %d events (offset %zu)", CM_EVENTLOG_MAX_EVENTS, off);
		if (l->n == cap) {
			struct cm_event *ne = realloc(l->ev, 2 * cap * sizeof(*ne));
			if (!ne)
				return cm_fail(e, -ENOMEM, "out of memory");
			l->ev = ne;
			cap *= 2;
		}
		struct cm_event *ev = &l->ev[l->n];
		memset(ev, 0, sizeof(*ev));
		ev->offset = off;
		ev->kind = kind;
		ev->digest_len = (uint8_t)bk->size;
		ev->mr_index = mr;
		ev->type = cm_le32(log + off + 4);
		uint32_t count = cm_le32(log + off + 8);
		if (count == 0 || count > l->nalgs)
			return cm_fail(e, -EINVAL, "event at offset %zu: digest count %u invalid", off, count);
		size_t p = off + 12;
		for (uint32_t i = 0; i < count; i++) {
			if (len - p < 2)
				return cm_fail(e, -EINVAL, "event at offset %zu truncated in digest %u", off, i);
			uint16_t alg = cm_le16(log + p);
			size_t k, dsz = 0;
			for (k = 0; k < l->nalgs; k++)
				if (l->alg_id[k] == alg)
					dsz = l->alg_size[k];
			if (!dsz)
				return cm_fail(e, -EINVAL, "event at offset %zu: algorithm 0x%04x (at %zu) not in the Spec ID event",
					       off, alg, p);
			if (len - p - 2 < dsz)
				return cm_fail(e, -EINVAL, "event at offset %zu truncated in digest %u", off, i);
			if (alg == bk->alg) {
				memcpy(ev->digest, log + p + 2, bk->size);
				ev->has_digest = true;
			}
			p += 2 + dsz;
		}
		if (len - p < 4)
			return cm_fail(e, -EINVAL, "event at offset %zu truncated before its event size", off);
		uint32_t dl = cm_le32(log + p);
		if (dl > len - p - 4)
			return cm_fail(e, -EINVAL, "event at offset %zu truncated: data of %u bytes at %zu, %zu left",
				       off, dl, p + 4, len - p - 4);
		ev->data = log + p + 4;
		ev->data_len = dl;
		off = p + 4 + dl;
		l->n++;
		if (!ev->has_digest)
			return cm_fail(e, -EINVAL, "event at offset %zu has no %s digest", ev->offset, bk->name);
		if (ev->type == CM_EV_NO_ACTION) {
			if (kind == CM_EVENTLOG_TPM)
				startup_locality(l, ev);
			continue;
		}
		ev->content_check = content_check(ev);
		if (ev->content_check < 0)
			anomaly(l, "event %zu at offset %zu (%s): digest does not match its event data", l->n - 1,
				ev->offset, cm_event_type_name(ev->type));
		if (kind == CM_EVENTLOG_TPM) {
			if (mr >= CM_TPM_PCRS) {
				anomaly(l, "event %zu at offset %zu: PCR index %u out of range (0..23), not replayed",
					l->n - 1, ev->offset, mr);
				continue;
			}
			if (ev->type == CM_EV_SEPARATOR && ++separators[mr] > 1)
				anomaly(l, "event %zu at offset %zu: duplicate EV_SEPARATOR for PCR %u", l->n - 1,
					ev->offset, mr);
			cm_pcr_extend(l->pcr[mr], ev->digest);
			l->pcr_extends[mr]++;
			continue;
		}
		if (mr < 1 || mr > 4) {
			anomaly(l, "event %zu at offset %zu: MR index %u out of range (1..4), not replayed",
				l->n - 1, ev->offset, mr);
			continue;
		}
		if (ev->type == CM_EV_SEPARATOR && ++separators[mr] > 1)
			anomaly(l, "event %zu at offset %zu: duplicate EV_SEPARATOR for RTMR%u", l->n - 1,
				ev->offset, mr - 1);
		cm_rtmr_extend(l->rtmr[mr - 1], ev->digest);
		l->extends[mr - 1]++;
	}
	l->end = off < len ? off : len;
	return 0;
}

int cm_eventlog_parse(const uint8_t *log, size_t len, struct cm_eventlog *l, struct cm_err *e)
{
	return parse(log, len, CM_EVENTLOG_CCEL, l, e);
}

int cm_tpm_eventlog_parse(const uint8_t *log, size_t len, struct cm_eventlog *l, struct cm_err *e)
{
	return parse(log, len, CM_EVENTLOG_TPM, l, e);
}

void cm_eventlog_free(struct cm_eventlog *l)
{
	free(l->ev);
	json_object_put(l->anomalies);
	memset(l, 0, sizeof(*l));
}

/* ---- PCR values ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int cm_pcr_values_parse(const uint8_t *buf, size_t len, uint8_t pcr[CM_TPM_PCRS][32], uint32_t *mask,
			struct cm_err *e)
{
	*mask = 0;
	memset(pcr, 0, CM_TPM_PCRS * 32);
	if (len > 65536)
		return cm_fail(e, -E2BIG, "PCR values of %zu bytes exceed 64 KiB", len);
	const char *p = (const char *)buf, *end = p + len;
	for (unsigned line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q = p, *le = nl ? nl : end;
		p = nl ? nl + 1 : end;
		while (q < le && is_blank(*q))
			q++;
		if (q == le || *q == '#')
			continue;
		unsigned idx = 0;
		const char *d = q;
		while (q < le && *q >= '0' && *q <= '9' && q - d < 3)
			idx = idx * 10 + (unsigned)(*q++ - '0');
		if (q == d || idx >= CM_TPM_PCRS)
			return cm_fail(e, -EINVAL, "PCR values line %u: no PCR index 0..23", line);
		while (q < le && is_blank(*q))
			q++;
		if (q < le && (*q == ':' || *q == '='))
			q++;
		while (q < le && is_blank(*q))
			q++;
		if (le - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
			q += 2;
		const char *h = q;
		while (q < le && !is_blank(*q))
			q++;
		const char *t = q;
		while (t < le && is_blank(*t))
			t++;
		if (t != le || cm_hex_decode_exact(h, (size_t)(q - h), pcr[idx], 32))
			return cm_fail(e, -EINVAL, "PCR values line %u: PCR %u needs 64 hex digits (SHA-256)", line, idx);
		if (*mask & (1u << idx))
			return cm_fail(e, -EINVAL, "PCR values line %u: PCR %u given twice", line, idx);
		*mask |= 1u << idx;
	}
	return 0;
}

/* ---- descriptions ---- */

struct sbuf {
	char *p;
	size_t size, n;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->n >= b->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(b->p + b->n, b->size - b->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		b->n = b->n + (size_t)r < b->size ? b->n + (size_t)r : b->size - 1;
}

static void sb_ascii(struct sbuf *b, const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n && i < 200; i++)
		sb_printf(b, "%c", p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
}

/* UTF-16LE (n code units) as ASCII, stopping at NUL. */
static void sb_utf16(struct sbuf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 200; i++) {
		uint16_t c = cm_le16(p + 2 * i);
		if (!c)
			break;
		sb_printf(b, "%c", c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
}

static size_t utf16_units(const uint8_t *p, size_t bytes)
{
	size_t i;
	for (i = 0; i + 1 < bytes; i += 2)
		if (!cm_le16(p + i))
			return i / 2;
	return bytes / 2;
}

static void describe_device_path(struct sbuf *b, const uint8_t *p, size_t n)
{
	int files = 0;
	while (n >= 4) {
		uint8_t type = p[0], sub = p[1];
		uint16_t nl = cm_le16(p + 2);
		if (nl < 4 || nl > n || type == 0x7f)
			break;
		if (type == 4 && sub == 4) { /* media file path */
			sb_printf(b, "%s", files++ ? "/" : " ");
			sb_utf16(b, p + 4, (nl - 4) / 2);
		}
		p += nl;
		n -= nl;
	}
	if (!files)
		sb_printf(b, " (no file path)");
}

static bool printable(const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

void cm_event_describe(const struct cm_event *ev, char *buf, size_t size)
{
	struct sbuf b = {buf, size, 0};
	if (size)
		buf[0] = 0;
	const uint8_t *d = ev->data;
	size_t n = ev->data_len;
	const uint8_t *name, *vd;
	size_t nc, vl;
	switch (ev->type) {
	case CM_EV_NO_ACTION:
		if (n >= 16 && !memcmp(d, "Spec ID Event03", 16))
			sb_printf(&b, "Spec ID Event03");
		else if (n >= 16 && !memcmp(d, "StartupLocality", 16))
			sb_printf(&b, "StartupLocality %u", n > 16 ? d[16] : 0);
		else
			sb_ascii(&b, d, n < 16 ? n : 16);
		return;
	case CM_EV_SEPARATOR:
		if (n == 4 && cm_le32(d) == 0)
			sb_printf(&b, "separator");
		else if (n == 4 && cm_le32(d) == 0xffffffffu)
			sb_printf(&b, "error separator");
		else
			sb_printf(&b, "separator (%zu bytes of data)", n);
		return;
	case CM_EV_EFI_VARIABLE_DRIVER_CONFIG:
	case CM_EV_EFI_VARIABLE_BOOT:
	case CM_EV_EFI_VARIABLE_BOOT2:
	case CM_EV_EFI_VARIABLE_AUTHORITY:
		if (var_split(ev, &name, &nc, &vd, &vl)) {
			sb_printf(&b, "malformed UEFI_VARIABLE_DATA (%zu bytes)", n);
			return;
		}
		sb_utf16(&b, name, nc);
		if (nc == 9 && !memcmp(name, "B\0o\0o\0t\0O\0r\0d\0e\0r\0", 18)) {
			sb_printf(&b, " =");
			for (size_t i = 0; i + 1 < vl && i < 64; i += 2)
				sb_printf(&b, "%s%04X", i ? "," : " ", cm_le16(vd + i));
		} else if (nc == 8 && !memcmp(name, "B\0o\0o\0t\0", 8) && vl >= 6) {
			sb_printf(&b, ": ");
			sb_utf16(&b, vd + 6, utf16_units(vd + 6, vl - 6));
		} else if (nc == 10 && !memcmp(name, "S\0e\0c\0u\0r\0e\0B\0o\0o\0t\0", 20)) {
			sb_printf(&b, vl ? " = %u" : " (empty)", vl ? vd[0] : 0);
		} else {
			sb_printf(&b, " (%zu bytes)", vl);
		}
		return;
	case CM_EV_EFI_HANDOFF_TABLES2:
	case CM_EV_EFI_PLATFORM_FIRMWARE_BLOB2:
		if (n >= 1 && (size_t)d[0] + 1 <= n) {
			sb_ascii(&b, d + 1, d[0]);
			size_t r = 1 + d[0];
			if (ev->type == CM_EV_EFI_PLATFORM_FIRMWARE_BLOB2 && n - r >= 16)
				sb_printf(&b, " (base 0x%llx, 0x%llx bytes)",
					  (unsigned long long)cm_le64(d + r),
					  (unsigned long long)cm_le64(d + r + 8));
			else if (n - r >= 8)
				sb_printf(&b, " (%llu table(s))", (unsigned long long)cm_le64(d + r));
		}
		return;
	case CM_EV_EFI_PLATFORM_FIRMWARE_BLOB:
		if (n >= 16)
			sb_printf(&b, "firmware blob base 0x%llx, 0x%llx bytes",
				  (unsigned long long)cm_le64(d), (unsigned long long)cm_le64(d + 8));
		return;
	case CM_EV_EFI_BOOT_SERVICES_APPLICATION:
	case CM_EV_EFI_BOOT_SERVICES_DRIVER:
	case CM_EV_EFI_RUNTIME_SERVICES_DRIVER:
		if (n >= 32) {
			uint64_t dpl = cm_le64(d + 24);
			sb_printf(&b, "image of %llu bytes", (unsigned long long)cm_le64(d + 8));
			if (dpl <= n - 32)
				describe_device_path(&b, d + 32, (size_t)dpl);
		}
		return;
	case CM_EV_EVENT_TAG:
		if (n >= 8) {
			uint32_t id = cm_le32(d), tl = cm_le32(d + 4);
			sb_printf(&b, "tag 0x%08x", id);
			if (tl <= n - 8) {
				sb_printf(&b, " ");
				sb_ascii(&b, d + 8, tl);
			}
			if (id == 0x8F3B22ED)
				sb_printf(&b, " (kernel command line)");
			else if (id == 0x8F3B22EC)
				sb_printf(&b, " (initrd)");
		}
		return;
	case CM_EV_EFI_GPT_EVENT:
		sb_printf(&b, "GPT partition table (%zu bytes)", n);
		return;
	default:
		if (printable(d, n))
			sb_ascii(&b, d, n);
		else
			sb_printf(&b, "%zu bytes of event data", n);
	}
}

json_object *cm_event_to_json(const struct cm_event *ev, size_t index)
{
	json_object *o = json_object_new_object();
	char desc[512];
	cm_event_describe(ev, desc, sizeof(desc));
	cm_json_add_int(o, "index", (int64_t)index);
	cm_json_add_int(o, "offset", (int64_t)ev->offset);
	if (ev->kind == CM_EVENTLOG_TPM) {
		cm_json_add_int(o, "pcr", ev->mr_index);
	} else {
		if (ev->mr_index >= 1 && ev->mr_index <= 4 && ev->type != CM_EV_NO_ACTION)
			cm_json_add_int(o, "imr", ev->mr_index - 1);
		cm_json_add_int(o, "mr_index", ev->mr_index);
	}
	cm_json_add_int(o, "event_type", ev->type);
	cm_json_add_str(o, "type_name", cm_event_type_name(ev->type));
	cm_json_add_hex(o, "digest", ev->digest, ev->digest_len);
	cm_json_add_str(o, "description", desc);
	cm_json_add_int(o, "event_size", ev->data_len);
	if (ev->data_len <= 4096)
		cm_json_add_hex(o, "event", ev->data, ev->data_len);
	if (ev->type != CM_EV_NO_ACTION)
		cm_json_add_str(o, "content_check",
				ev->content_check > 0 ? "match" : ev->content_check < 0 ? "mismatch" : "n/a");
	return o;
}
