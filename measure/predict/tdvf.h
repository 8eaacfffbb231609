/* TDVF (OVMF for TDX) firmware: the metadata table, MRTD, the TD HOB QEMU builds
 * from it, and the CFV (specs/measurement.md §2, §3.3). */
#ifndef COCOON_MEASURE_TDVF_H
#define COCOON_MEASURE_TDVF_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "measure/core/util.h"

#define CM_TDVF_MAX_SECTIONS 32
#define CM_TDVF_MAX_IMAGE (64u << 20)
/* Cap on the memory all sections cover together (the MRTD hashes a 128-byte PAGE.ADD record
 * per 4 KiB page of it): 256 MiB, ~50 times what OVMF's TDVF declares (about 4.6 MiB). */
#define CM_TDVF_MAX_SECTION_MEM (256ull << 20)

enum cm_tdvf_type {
	CM_TDVF_BFV = 0,
	CM_TDVF_CFV = 1,
	CM_TDVF_TD_HOB = 2,
	CM_TDVF_TEMP_MEM = 3,
};
#define CM_TDVF_ATTR_EXTENDMR 0x1u
#define CM_TDVF_ATTR_PAGE_AUG 0x2u

struct cm_tdvf_section {
	uint32_t data_offset;
	uint32_t raw_size;
	uint64_t gpa;
	uint64_t mem_size;
	uint32_t type;
	uint32_t attributes;
};

struct cm_tdvf {
	uint32_t desc_offset; /* file offset of the "TDVF" descriptor */
	uint32_t version;
	size_t n;
	struct cm_tdvf_section s[CM_TDVF_MAX_SECTIONS];
};

/* Order of the PAGE.ADD / MR.EXTEND records in the MRTD stream. */
enum cm_page_order {
	CM_PAGE_ORDER_PER_PAGE,    /* current KVM: each page added, then its 16 extends */
	CM_PAGE_ORDER_PER_SECTION, /* legacy: all adds of a section, then all its extends */
};

/* Locate and validate the TDVF metadata (GUIDed table walk from the footer at
 * len-0x30, QEMU's checks: BFV/CFV DataOffset + MemoryDataSize inside the image, no two
 * sections overlapping, all sections together at most CM_TDVF_MAX_SECTION_MEM). Errors name
 * the field and file offset. */
int cm_tdvf_parse(const uint8_t *fw, size_t len, struct cm_tdvf *t, struct cm_err *e);

const char *cm_tdvf_type_name(uint32_t type);
/* "per-page" | "per-section" -> order; -EINVAL otherwise. */
int cm_page_order_parse(const char *s, enum cm_page_order *o);
const char *cm_page_order_name(enum cm_page_order o);

/* MRTD: one SHA-384 over the 128-byte PAGE.ADD / MR.EXTEND records and the
 * extended firmware bytes, sections in metadata order. mem: the guest's RAM in bytes; TD_HOB
 * and TempMem sections must lie inside it as QEMU lays it out (else QEMU refuses the VM). */
int cm_tdvf_mrtd(const uint8_t *fw, size_t len, const struct cm_tdvf *t, uint64_t mem, enum cm_page_order order,
		 uint8_t out[48], struct cm_err *e);

/* The TD HOB QEMU writes for a q35 guest with mem bytes of RAM, without the
 * End-of-HOB-list HOB (the bytes OVMF measures into RTMR0). *out is malloc'ed. */
int cm_tdvf_td_hob(const struct cm_tdvf *t, uint64_t mem, uint8_t **out, size_t *len,
		   struct cm_err *e);

/* The CFV section's bytes inside fw (borrowed). */
int cm_tdvf_cfv(const uint8_t *fw, size_t len, const struct cm_tdvf *t, const uint8_t **p,
		size_t *n, struct cm_err *e);

/* JSON array of the sections: index, type, data_offset, raw_size, gpa, mem_size, attributes. */
json_object *cm_tdvf_sections_json(const struct cm_tdvf *t);

#endif
