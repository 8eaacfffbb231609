/* TDVF metadata, MRTD, TD HOB and CFV (specs/measurement.md §2, §3.3). */
#include "measure/predict/tdvf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"

/* GUIDs in EFI byte order. */
static const uint8_t guid_table_footer[16] = { /* 96b582de-1fb2-45f7-baea-a366c55a082d */
	0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
	0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
static const uint8_t guid_tdx_metadata_offset[16] = { /* e47a6535-984a-4798-865e-4685a7bf8ec2 */
	0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
	0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
static const uint8_t guid_tdx_metadata[16] = { /* e9eaf9f3-168e-44d5-a8eb-7f4d8738f6ae */
	0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
	0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae};

#define PAGE 4096u
#define CHUNK 256u

struct ram_entry {
	uint64_t start, len;
	int added;
};

#define MAX_RAM_ENTRIES (2 + 2 * CM_TDVF_MAX_SECTIONS)

const char *cm_tdvf_type_name(uint32_t type)
{
	switch (type) {
	case CM_TDVF_BFV: return "BFV";
	case CM_TDVF_CFV: return "CFV";
	case CM_TDVF_TD_HOB: return "TD_HOB";
	case CM_TDVF_TEMP_MEM: return "TempMem";
	default: return "unknown";
	}
}

int cm_page_order_parse(const char *s, enum cm_page_order *o)
{
	if (!strcmp(s, "per-page"))
		*o = CM_PAGE_ORDER_PER_PAGE;
	else if (!strcmp(s, "per-section"))
		*o = CM_PAGE_ORDER_PER_SECTION;
	else
		return -EINVAL;
	return 0;
}

const char *cm_page_order_name(enum cm_page_order o)
{
	return o == CM_PAGE_ORDER_PER_SECTION ? "per-section" : "per-page";
}

/* Walk the GUIDed table below the reset vector; returns the file offset of the data
 * of the entry with guid, or a negative code. */
static int find_guided_entry(const uint8_t *fw, size_t len, const uint8_t guid[16], size_t *data,
			     size_t *data_len, struct cm_err *e)
{
	if (len < 0x32 || len > CM_TDVF_MAX_IMAGE)
		return cm_fail(e, -EINVAL, "firmware size %zu is not a plausible OVMF image", len);
	size_t footer = len - 0x30;
	if (memcmp(fw + footer, guid_table_footer, 16))
		return cm_fail(e, -EINVAL, "no OVMF GUIDed table footer at file offset 0x%zx", footer);
	size_t tot = cm_le16(fw + len - 0x32);
	if (tot < 18 || tot > len - 0x20)
		return cm_fail(e, -EINVAL, "GUIDed table length %zu at offset 0x%zx out of range", tot,
			       len - 0x32);
	size_t end = len - 0x32; /* end (exclusive) of the last entry */
	size_t remaining = tot - 18;
	while (remaining >= 18) {
		size_t elen = cm_le16(fw + end - 18);
		if (elen < 18 || elen > remaining)
			return cm_fail(e, -EINVAL, "GUIDed table entry length %zu at offset 0x%zx invalid",
				       elen, end - 18);
		if (!memcmp(fw + end - 16, guid, 16)) {
			*data = end - elen;
			*data_len = elen - 18;
			return 0;
		}
		end -= elen;
		remaining -= elen;
	}
	return cm_fail(e, -ENOENT, "no TDX metadata offset entry in the OVMF GUIDed table");
}

/* No two sections overlap (QEMU would map one page twice) and together they cover at most
 * CM_TDVF_MAX_SECTION_MEM: the MRTD's work is bounded. Sections must not wrap 2^64. */
static int sections_bounded(const struct cm_tdvf *t, struct cm_err *e)
{
	uint64_t total = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct cm_tdvf_section *s = &t->s[i];
		if (s->gpa + s->mem_size < s->gpa)
			return cm_fail(e, -EINVAL, "TDVF section %zu wraps the address space", i);
		for (size_t j = 0; j < i; j++)
			if (s->gpa < t->s[j].gpa + t->s[j].mem_size && t->s[j].gpa < s->gpa + s->mem_size)
				return cm_fail(e, -EINVAL, "TDVF section %zu overlaps section %zu", i, j);
		total += s->mem_size; /* no overflow: disjoint ranges inside 2^64 */
	}
	if (total > CM_TDVF_MAX_SECTION_MEM)
		return cm_fail(e, -E2BIG, "TDVF sections cover 0x%llx bytes, over the cap of 0x%llx",
			       (unsigned long long)total, (unsigned long long)CM_TDVF_MAX_SECTION_MEM);
	return 0;
}

int cm_tdvf_parse(const uint8_t *fw, size_t len, struct cm_tdvf *t, struct cm_err *e)
{
	memset(t, 0, sizeof(*t));
	size_t d = 0, dl = 0;
	int rc = find_guided_entry(fw, len, guid_tdx_metadata_offset, &d, &dl, e);
	if (rc)
		return rc;
	if (dl < 4)
		return cm_fail(e, -EINVAL, "TDX metadata offset entry at 0x%zx too short (%zu bytes)", d, dl);
	uint32_t off = cm_le32(fw + d);
	if (off < 16 || off > len - 16)
		return cm_fail(e, -EINVAL, "TDX metadata offset 0x%x (at file offset 0x%zx) out of range",
			       off, d);
	size_t desc = len - off;
	if (desc < 16 || memcmp(fw + desc - 16, guid_tdx_metadata, 16))
		return cm_fail(e, -EINVAL, "TDX metadata GUID missing before descriptor at 0x%zx", desc);
	if (memcmp(fw + desc, "TDVF", 4))
		return cm_fail(e, -EINVAL, "TDVF descriptor signature missing at file offset 0x%zx", desc);
	uint32_t dlen = cm_le32(fw + desc + 4), ver = cm_le32(fw + desc + 8),
		 n = cm_le32(fw + desc + 12);
	if (ver != 1)
		return cm_fail(e, -EINVAL, "TDVF descriptor version %u at 0x%zx (expected 1)", ver,
			       desc + 8);
	if (n < 2 || n > CM_TDVF_MAX_SECTIONS)
		return cm_fail(e, -EINVAL, "TDVF section count %u at 0x%zx out of range (2..%d)", n,
			       desc + 12, CM_TDVF_MAX_SECTIONS);
	if (dlen != 16 + 32 * n)
		return cm_fail(e, -EINVAL, "TDVF descriptor length %u at 0x%zx != 16 + 32*%u", dlen,
			       desc + 4, n);
	if (len - desc < dlen)
		return cm_fail(e, -EINVAL, "TDVF section table at 0x%zx truncated", desc + 16);
	t->desc_offset = (uint32_t)desc;
	t->version = ver;
	t->n = n;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = fw + desc + 16 + 32 * (size_t)i;
		size_t at = desc + 16 + 32 * (size_t)i;
		struct cm_tdvf_section *s = &t->s[i];
		s->data_offset = cm_le32(p);
		s->raw_size = cm_le32(p + 4);
		s->gpa = cm_le64(p + 8);
		s->mem_size = cm_le64(p + 16);
		s->type = cm_le32(p + 24);
		s->attributes = cm_le32(p + 28);
		if (s->type > CM_TDVF_TEMP_MEM)
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): unknown type %u", i, at,
				       s->type);
		if (s->attributes & ~(CM_TDVF_ATTR_EXTENDMR | CM_TDVF_ATTR_PAGE_AUG))
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): unknown attributes 0x%x",
				       i, at, s->attributes);
		if ((s->gpa | s->mem_size) & (PAGE - 1) || s->mem_size == 0 ||
		    s->gpa + s->mem_size < s->gpa)
			return cm_fail(e, -EINVAL,
				       "TDVF section %u (at 0x%zx): address 0x%llx / size 0x%llx not page aligned",
				       i, at, (unsigned long long)s->gpa, (unsigned long long)s->mem_size);
		if (s->mem_size < s->raw_size)
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): raw size exceeds memory size",
				       i, at);
		int has_data = s->type == CM_TDVF_BFV || s->type == CM_TDVF_CFV;
		if (has_data && s->raw_size == 0)
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): %s without data", i, at,
				       cm_tdvf_type_name(s->type));
		if (!has_data && s->raw_size != 0)
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): %s with raw data", i, at,
				       cm_tdvf_type_name(s->type));
		/* QEMU (tdx_finalize_vm) copies MemoryDataSize bytes from DataOffset for BFV/CFV. */
		if (has_data && (s->mem_size > len || s->data_offset > len - s->mem_size))
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): data 0x%x+0x%llx beyond the image",
				       i, at, s->data_offset, (unsigned long long)s->mem_size);
		/* MR.EXTEND reads MemoryDataSize bytes of firmware (dstack); require them present. */
		if ((s->attributes & CM_TDVF_ATTR_EXTENDMR) &&
		    (!has_data || s->mem_size > len || s->data_offset > len - s->mem_size))
			return cm_fail(e, -EINVAL, "TDVF section %u (at 0x%zx): MR.EXTEND beyond the image data",
				       i, at);
	}
	return sections_bounded(t, e);
}

static int page_add(struct cm_hash *h, uint64_t gpa)
{
	uint8_t rec[128] = "MEM.PAGE.ADD";
	cm_put_le64(rec + 16, gpa);
	return cm_hash_update(h, rec, sizeof(rec));
}

static int mr_extend_page(struct cm_hash *h, uint64_t gpa, const uint8_t *data)
{
	/* 16 x (128-byte record + 256 data bytes), batched into one update. */
	uint8_t buf[16 * (128 + CHUNK)];
	memset(buf, 0, sizeof(buf));
	for (unsigned c = 0; c < 16; c++) {
		uint8_t *rec = buf + c * (128 + CHUNK);
		memcpy(rec, "MR.EXTEND", 9);
		cm_put_le64(rec + 16, gpa + c * CHUNK);
		memcpy(rec + 128, data + c * CHUNK, CHUNK);
	}
	return cm_hash_update(h, buf, sizeof(buf));
}

static int ram_entries(const struct cm_tdvf *t, uint64_t mem, struct ram_entry *r, size_t *n,
		       const struct cm_tdvf_section **hob, struct cm_err *e);

int cm_tdvf_mrtd(const uint8_t *fw, size_t len, const struct cm_tdvf *t, uint64_t mem, enum cm_page_order order,
		 uint8_t out[48], struct cm_err *e)
{
	struct ram_entry r[MAX_RAM_ENTRIES];
	size_t nr;
	int rc = sections_bounded(t, e);
	if (!rc)
		rc = ram_entries(t, mem, r, &nr, NULL, e);
	if (rc)
		return rc;
	struct cm_hash *h = cm_hash_new(CM_SHA384);
	if (!h)
		return cm_fail(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n && !rc; i++) {
		const struct cm_tdvf_section *s = &t->s[i];
		uint64_t pages = s->mem_size / PAGE;
		int add = !(s->attributes & CM_TDVF_ATTR_PAGE_AUG);
		int ext = (s->attributes & CM_TDVF_ATTR_EXTENDMR) != 0;
		if (ext && (s->mem_size > len || s->data_offset > len - s->mem_size)) {
			rc = cm_fail(e, -EINVAL, "TDVF section %zu: MR.EXTEND beyond the image data", i);
			break;
		}
		if (order == CM_PAGE_ORDER_PER_PAGE) {
			for (uint64_t p = 0; p < pages && !rc; p++) {
				if (add)
					rc = page_add(h, s->gpa + p * PAGE);
				if (!rc && ext)
					rc = mr_extend_page(h, s->gpa + p * PAGE,
							    fw + s->data_offset + p * PAGE);
			}
		} else {
			for (uint64_t p = 0; p < pages && add && !rc; p++)
				rc = page_add(h, s->gpa + p * PAGE);
			for (uint64_t p = 0; p < pages && ext && !rc; p++)
				rc = mr_extend_page(h, s->gpa + p * PAGE, fw + s->data_offset + p * PAGE);
		}
	}
	if (!rc)
		rc = cm_hash_final(h, out);
	cm_hash_free(h);
	if (rc && e && !e->code)
		cm_fail(e, rc, "SHA-384 failed");
	return rc;
}

/* ---- TD HOB (qemu hw/i386/tdvf-hob.c, target/i386/kvm/tdx.c) ---- */

static int ram_cmp(const void *a, const void *b)
{
	const struct ram_entry *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int accept_range(struct ram_entry *r, size_t *n, uint64_t addr, uint64_t len, struct cm_err *e)
{
	size_t i;
	for (i = 0; i < *n; i++)
		if (!(addr + len <= r[i].start || addr >= r[i].start + r[i].len))
			break;
	if (i == *n || r[i].start > addr || r[i].start + r[i].len < addr + len)
		return cm_fail(e, -EINVAL, "TDVF section 0x%llx+0x%llx is not inside one RAM entry of the guest",
			       (unsigned long long)addr, (unsigned long long)len);
	if (r[i].added)
		return 0;
	if (*n + 2 > MAX_RAM_ENTRIES)
		return cm_fail(e, -E2BIG, "too many TD HOB memory entries");
	struct ram_entry old = r[i];
	r[i] = (struct ram_entry){addr, len, 1};
	if (addr > old.start)
		r[(*n)++] = (struct ram_entry){old.start, addr - old.start, 0};
	if (addr + len < old.start + old.len)
		r[(*n)++] = (struct ram_entry){addr + len, old.start + old.len - addr - len, 0};
	return 0;
}

/* QEMU's RAM entries for a q35 TD with mem bytes, TD_HOB and TempMem sections accepted
 * into them (tdx_init_ram_entries / tdx_accept_ram_range): each must lie inside one. */
static int ram_entries(const struct cm_tdvf *t, uint64_t mem, struct ram_entry *r, size_t *n_out,
		       const struct cm_tdvf_section **hob_out, struct cm_err *e)
{
	if (mem < (16u << 20) || mem > (1ull << 46))
		return cm_fail(e, -EINVAL, "guest memory size %llu bytes out of range",
			       (unsigned long long)mem);
	size_t n = 0;
	uint64_t lowmem = mem >= 0xB0000000ull ? 0x80000000ull : 0xB0000000ull;
	if (mem >= lowmem) {
		r[n++] = (struct ram_entry){0, lowmem, 0};
		r[n++] = (struct ram_entry){1ull << 32, mem - lowmem, 0};
	} else {
		r[n++] = (struct ram_entry){0, mem, 0};
	}
	const struct cm_tdvf_section *hob = NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct cm_tdvf_section *s = &t->s[i];
		if (s->type != CM_TDVF_TD_HOB && s->type != CM_TDVF_TEMP_MEM)
			continue;
		if (s->type == CM_TDVF_TD_HOB && !hob)
			hob = s;
		int rc = accept_range(r, &n, s->gpa, s->mem_size, e);
		if (rc)
			return rc;
	}
	*n_out = n;
	if (hob_out)
		*hob_out = hob;
	return 0;
}

int cm_tdvf_td_hob(const struct cm_tdvf *t, uint64_t mem, uint8_t **out, size_t *len,
		   struct cm_err *e)
{
	*out = NULL;
	*len = 0;
	struct ram_entry r[MAX_RAM_ENTRIES];
	size_t n = 0;
	const struct cm_tdvf_section *hob = NULL;
	int rc = ram_entries(t, mem, r, &n, &hob, e);
	if (rc)
		return rc;
	if (!hob)
		return cm_fail(e, -EINVAL, "TDVF metadata has no TD_HOB section");
	qsort(r, n, sizeof(r[0]), ram_cmp);
	size_t sz = 56 + 48 * n;
	if (sz + 8 > hob->mem_size)
		return cm_fail(e, -E2BIG, "TD HOB (%zu bytes) does not fit its section", sz + 8);
	uint8_t *b = calloc(1, sz);
	if (!b)
		return cm_fail(e, -ENOMEM, "out of memory");
	/* PHIT */
	cm_put_le16(b, 1);
	cm_put_le16(b + 2, 56);
	cm_put_le32(b + 8, 9);
	cm_put_le64(b + 48, hob->gpa + sz + 8);
	for (size_t i = 0; i < n; i++) {
		uint8_t *d = b + 56 + 48 * i;
		cm_put_le16(d, 3);
		cm_put_le16(d + 2, 48);
		cm_put_le32(d + 24, r[i].added ? 0 : 7); /* SYSTEM_MEMORY | MEMORY_UNACCEPTED */
		cm_put_le32(d + 28, 7);
		cm_put_le64(d + 32, r[i].start);
		cm_put_le64(d + 40, r[i].len);
	}
	*out = b;
	*len = sz;
	return 0;
}

int cm_tdvf_cfv(const uint8_t *fw, size_t len, const struct cm_tdvf *t, const uint8_t **p,
		size_t *n, struct cm_err *e)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct cm_tdvf_section *s = &t->s[i];
		if (s->type != CM_TDVF_CFV)
			continue;
		if ((uint64_t)s->data_offset + s->raw_size > len)
			return cm_fail(e, -EINVAL, "CFV section beyond the image");
		*p = fw + s->data_offset;
		*n = s->raw_size;
		return 0;
	}
	return cm_fail(e, -ENOENT, "TDVF metadata has no CFV section");
}

json_object *cm_tdvf_sections_json(const struct cm_tdvf *t)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct cm_tdvf_section *s = &t->s[i];
		json_object *o = json_object_new_object();
		char buf[32];
		json_object_object_add(o, "index", json_object_new_int((int)i));
		json_object_object_add(o, "type", json_object_new_string(cm_tdvf_type_name(s->type)));
		snprintf(buf, sizeof(buf), "0x%x", s->data_offset);
		json_object_object_add(o, "data_offset", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%x", s->raw_size);
		json_object_object_add(o, "raw_size", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)s->gpa);
		json_object_object_add(o, "gpa", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)s->mem_size);
		json_object_object_add(o, "mem_size", json_object_new_string(buf));
		json_object_object_add(o, "mr_extend",
				       json_object_new_boolean(!!(s->attributes & CM_TDVF_ATTR_EXTENDMR)));
		json_object_object_add(o, "attributes", json_object_new_int((int)s->attributes));
		json_object_array_add(a, o);
	}
	return a;
}
