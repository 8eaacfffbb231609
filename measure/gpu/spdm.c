/* SPDM 1.1 GET_MEASUREMENTS report and NVIDIA opaque data (spdm.h, specs/gpu.md §2). */
#include "measure/gpu/spdm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint32_t le24(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16); }

static int parse_blocks(struct cm_spdm_report *r, const uint8_t *p, size_t len, unsigned want, size_t base,
			struct cm_err *e)
{
	bool seen[256] = {false};
	size_t pos = 0;
	r->n_blocks = 0;
	while (pos < len) {
		size_t off = base + pos;
		if (len - pos < 4)
			return cm_fail(e, -EBADMSG, "gpu report: measurement block at byte %zu truncated", off);
		uint8_t idx = p[pos], spec = p[pos + 1];
		uint16_t msize = cm_le16(p + pos + 2);
		if (idx == 0 || idx == 0xff)
			return cm_fail(e, -EBADMSG, "gpu report: measurement block at byte %zu has index %u", off, idx);
		if (spec != 0x01)
			return cm_fail(e, -EBADMSG,
				       "gpu report: measurement block %u: specification 0x%02x (want 0x01, DMTF)", idx,
				       spec);
		if (seen[idx])
			return cm_fail(e, -EBADMSG, "gpu report: measurement index %u appears twice", idx);
		seen[idx] = true;
		if (msize < 3 || msize > len - pos - 4)
			return cm_fail(e, -EBADMSG, "gpu report: measurement block %u: size %u exceeds the record", idx,
				       msize);
		const uint8_t *m = p + pos + 4;
		uint16_t vsize = cm_le16(m + 1);
		if ((size_t)vsize + 3 != msize)
			return cm_fail(e, -EBADMSG, "gpu report: measurement block %u: value size %u in %u bytes", idx,
				       vsize, msize);
		if (r->n_blocks >= CM_SPDM_BLOCKS_MAX)
			return cm_fail(e, -EBADMSG, "gpu report: more than %d measurement blocks", CM_SPDM_BLOCKS_MAX);
		r->blocks[r->n_blocks++] = (struct cm_spdm_block){idx, m[0], vsize, m + 3};
		pos += 4 + (size_t)msize;
	}
	if (r->n_blocks != want)
		return cm_fail(e, -EBADMSG, "gpu report: %u measurement blocks in the record, NumberOfBlocks says %u",
			       r->n_blocks, want);
	return 0;
}

int cm_spdm_parse(const uint8_t *p, size_t len, struct cm_spdm_report *r, struct cm_err *e)
{
	memset(r, 0, sizeof(*r));
	if (len > CM_GPU_REPORT_MAX)
		return cm_fail(e, -E2BIG, "gpu report: %zu bytes (at most %d)", len, CM_GPU_REPORT_MAX);
	if (len < CM_SPDM_REQ_LEN)
		return cm_fail(e, -EBADMSG, "gpu report: %zu bytes, shorter than the %d-byte request", len,
			       CM_SPDM_REQ_LEN);
	if (p[0] != 0x11 || p[1] != 0xe0)
		return cm_fail(e, -EBADMSG, "gpu report: request version 0x%02x code 0x%02x (want 0x11 0xe0)", p[0],
			       p[1]);
	if (!(p[2] & 0x01))
		return cm_fail(e, -EBADMSG, "gpu report: request param1 0x%02x asks for no signature", p[2]);
	if (p[3] != 0xff)
		return cm_fail(e, -EBADMSG, "gpu report: request param2 0x%02x (want 0xff, all measurements)", p[3]);
	r->raw = p;
	r->len = len;
	r->req_param1 = p[2];
	r->req_param2 = p[3];
	r->nonce = p + 4;
	r->slot = p[36];
	const uint8_t *q = p + CM_SPDM_REQ_LEN;
	size_t n = len - CM_SPDM_REQ_LEN, base = CM_SPDM_REQ_LEN;
	if (n < 8)
		return cm_fail(e, -EBADMSG, "gpu report: response header truncated at byte %zu", base);
	if (q[0] != 0x11 || q[1] != 0x60)
		return cm_fail(e, -EBADMSG, "gpu report: response version 0x%02x code 0x%02x (want 0x11 0x60)", q[0],
			       q[1]);
	r->resp_param1 = q[2];
	r->resp_param2 = q[3];
	unsigned nblocks = q[4];
	uint32_t l1 = le24(q + 5);
	if (nblocks == 0)
		return cm_fail(e, -EBADMSG, "gpu report: no measurement blocks");
	if (l1 > n - 8)
		return cm_fail(e, -EBADMSG, "gpu report: measurement record of %u bytes exceeds the report", l1);
	int rc = parse_blocks(r, q + 8, l1, nblocks, base + 8, e);
	if (rc)
		return rc;
	size_t pos = 8 + (size_t)l1;
	if (n - pos < CM_SPDM_NONCE_LEN + 2)
		return cm_fail(e, -EBADMSG, "gpu report: responder nonce / opaque length truncated at byte %zu",
			       base + pos);
	r->responder_nonce = q + pos;
	pos += CM_SPDM_NONCE_LEN;
	size_t l2 = cm_le16(q + pos);
	pos += 2;
	if (l2 == 0)
		return cm_fail(e, -EBADMSG, "gpu report: no opaque data");
	if (l2 > n - pos)
		return cm_fail(e, -EBADMSG, "gpu report: opaque data of %zu bytes exceeds the report", l2);
	r->opaque = q + pos;
	r->opaque_len = l2;
	pos += l2;
	if (n - pos != CM_SPDM_SIG_LEN)
		return cm_fail(e, -EBADMSG, "gpu report: %zu bytes after the opaque data (want the %d-byte signature)",
			       n - pos, CM_SPDM_SIG_LEN);
	r->signature = q + pos;
	r->signed_len = len - CM_SPDM_SIG_LEN;
	return 0;
}

const struct cm_spdm_block *cm_spdm_block(const struct cm_spdm_report *r, unsigned idx)
{
	for (unsigned i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].index == idx)
			return &r->blocks[i];
	return NULL;
}

/* ---- opaque data ---------------------------------------------------------------------- */

static int ascii_field(const char *name, const uint8_t *v, size_t n, char *out, size_t outsz, struct cm_err *e)
{
	while (n && v[n - 1] == 0)
		n--;
	if (n >= outsz)
		return cm_fail(e, -EBADMSG, "gpu opaque data: %s of %zu bytes (at most %zu)", name, n, outsz - 1);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return cm_fail(e, -EBADMSG, "gpu opaque data: %s has a non-printable byte 0x%02x", name, v[i]);
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

static int byte_field(const char *name, const uint8_t *v, size_t n, int *out, struct cm_err *e)
{
	if (n != 1)
		return cm_fail(e, -EBADMSG, "gpu opaque data: %s of %zu bytes (want 1)", name, n);
	*out = v[0];
	return 0;
}

static int u16_field(const char *name, const uint8_t *v, size_t n, int *out, struct cm_err *e)
{
	if (n != 2)
		return cm_fail(e, -EBADMSG, "gpu opaque data: %s of %zu bytes (want 2)", name, n);
	*out = cm_le16(v);
	return 0;
}

void cm_gpu_vbios_format(const uint8_t raw[8], char out[15])
{
	static const char hx[] = "0123456789ABCDEF";
	char t[17];
	for (int i = 0; i < 8; i++) {
		t[2 * i] = hx[raw[7 - i] >> 4];
		t[2 * i + 1] = hx[raw[7 - i] & 15];
	}
	char s[10];
	memcpy(s, t + 8, 8);
	memcpy(s + 8, t + 6, 2);
	size_t k = 0;
	for (int i = 0; i < 5; i++) {
		if (i)
			out[k++] = '.';
		out[k++] = s[2 * i];
		out[k++] = s[2 * i + 1];
	}
	out[k] = 0;
}

static int field(struct cm_gpu_opaque *o, unsigned type, const uint8_t *v, size_t n, struct cm_err *e)
{
	switch (type) {
	case CM_GPU_OD_DRIVER_VERSION:
		return ascii_field("DRIVER_VERSION", v, n, o->driver_version, sizeof(o->driver_version), e);
	case CM_GPU_OD_VBIOS_VERSION:
		if (n != 8)
			return cm_fail(e, -EBADMSG, "gpu opaque data: VBIOS_VERSION of %zu bytes (want 8)", n);
		memcpy(o->vbios_raw, v, 8);
		o->has_vbios = true;
		cm_gpu_vbios_format(v, o->vbios_version);
		return 0;
	case CM_GPU_OD_NVDEC0_STATUS: return byte_field("NVDEC0_STATUS", v, n, &o->nvdec0_status, e);
	case CM_GPU_OD_PPCIE_STATUS: return byte_field("PROTECTED_PCIE_STATUS", v, n, &o->ppcie_status, e);
	case CM_GPU_OD_BOARD_ID:
		if (n != 4)
			return cm_fail(e, -EBADMSG, "gpu opaque data: BOARD_ID of %zu bytes (want 4)", n);
		o->board_id = cm_le32(v);
		o->has_board_id = true;
		return 0;
	case CM_GPU_OD_CHIP_SKU: return ascii_field("CHIP_SKU", v, n, o->chip_sku, sizeof(o->chip_sku), e);
	case CM_GPU_OD_CHIP_SKU_MOD:
		return ascii_field("CHIP_SKU_MOD", v, n, o->chip_sku_mod, sizeof(o->chip_sku_mod), e);
	case CM_GPU_OD_PROJECT: return ascii_field("PROJECT", v, n, o->project, sizeof(o->project), e);
	case CM_GPU_OD_PROJECT_SKU: return ascii_field("PROJECT_SKU", v, n, o->project_sku, sizeof(o->project_sku), e);
	case CM_GPU_OD_PROJECT_SKU_MOD:
		return ascii_field("PROJECT_SKU_MOD", v, n, o->project_sku_mod, sizeof(o->project_sku_mod), e);
	case CM_GPU_OD_CHIP_INFO: return ascii_field("CHIP_INFO", v, n, o->chip_info, sizeof(o->chip_info), e);
	case CM_GPU_OD_FWID:
		if (n != 48)
			return cm_fail(e, -EBADMSG, "gpu opaque data: FWID of %zu bytes (want 48)", n);
		memcpy(o->fwid, v, 48);
		o->has_fwid = true;
		return 0;
	case CM_GPU_OD_OPAQUE_VERSION: return u16_field("OPAQUE_DATA_VERSION", v, n, &o->opaque_version, e);
	case CM_GPU_OD_FEATURE_FLAG: return u16_field("FEATURE_FLAG", v, n, &o->feature_flag, e);
	default: return 0; /* other types are kept out of the claims (specs/gpu.md §2.2) */
	}
}

int cm_gpu_opaque_parse(const uint8_t *p, size_t len, struct cm_gpu_opaque *o, struct cm_err *e)
{
	memset(o, 0, sizeof(*o));
	o->nvdec0_status = o->ppcie_status = o->opaque_version = o->feature_flag = -1;
	uint64_t seen = 0; /* used types are all below 64 */
	size_t pos = 0;
	while (pos < len) {
		if (len - pos < 4)
			return cm_fail(e, -EBADMSG, "gpu opaque data: field header at byte %zu truncated", pos);
		unsigned type = cm_le16(p + pos);
		size_t n = cm_le16(p + pos + 2);
		if (n > len - pos - 4)
			return cm_fail(e, -EBADMSG, "gpu opaque data: field type %u at byte %zu: %zu bytes exceed the data",
				       type, pos, n);
		if (type < 64) {
			if (seen & (1ull << type))
				return cm_fail(e, -EBADMSG, "gpu opaque data: field type %u appears twice", type);
			seen |= 1ull << type;
		}
		int rc = field(o, type, p + pos + 4, n, e);
		if (rc)
			return rc;
		o->n_fields++;
		pos += 4 + n;
	}
	return 0;
}

static void vbios_hex(const struct cm_gpu_opaque *o, char out[11])
{
	size_t k = 0;
	for (const char *s = o->vbios_version; *s; s++)
		if (*s != '.')
			out[k++] = *s;
	out[k] = 0;
}

int cm_gpu_driver_rim_id(const struct cm_gpu_opaque *o, bool blackwell, char *out, size_t n)
{
	if (!o->driver_version[0])
		return -ENOENT;
	int w = blackwell ? snprintf(out, n, "NV_GPU_CC_DRIVER_%s_%s", o->chip_info[0] ? o->chip_info : "GB100",
				     o->driver_version)
			  : snprintf(out, n, "NV_GPU_DRIVER_GH100_%s", o->driver_version);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

int cm_gpu_vbios_rim_id(const struct cm_gpu_opaque *o, char *out, size_t n)
{
	if (!o->has_vbios || !o->project[0] || !o->project_sku[0] || !o->chip_sku[0])
		return -ENOENT;
	char hex[11];
	vbios_hex(o, hex);
	int w = snprintf(out, n, "NV_GPU_VBIOS_%s_%s_%s_%s", o->project, o->project_sku, o->chip_sku, hex);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}
