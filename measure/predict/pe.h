/* PE/COFF Authenticode SHA-384 exactly as edk2 measures an EFI application
 * (OvmfPkg/Tcg/TdTcg2Dxe/MeasureBootPeCoff.c), and QEMU's Linux setup-header patches
 * for the legacy fw_cfg kernel path (specs/measurement.md §3.5). */
#ifndef COCOON_MEASURE_PE_H
#define COCOON_MEASURE_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/digest.h"
#include "measure/core/util.h"

#define CM_PE_MAX_SECTIONS 96
#define CM_LINUX_HDR_LEN 0x280 /* bytes of the image QEMU may patch */

struct cm_pe_info {
	bool pe32plus;
	uint16_t nsections;
	uint32_t size_of_headers;
	uint32_t nrva;           /* NumberOfRvaAndSizes */
	uint32_t cert_offset;    /* DataDirectory[SECURITY] */
	uint32_t cert_size;
	size_t hashed_bytes;     /* bytes fed to the hash */
};

/* Authenticode digest of img with alg (SHA-384 for RTMR1, SHA-256 for TPM PCR 4; out holds
 * cm_hash_len(alg) bytes). When hdr is non-NULL, its hdr_len bytes replace the start of img
 * (used for the QEMU-patched setup header). info may be NULL. */
int cm_pe_authenticode(enum cm_hash_alg alg, const uint8_t *img, size_t len, const uint8_t *hdr,
		       size_t hdr_len, uint8_t *out, struct cm_pe_info *info, struct cm_err *e);
/* The same with SHA-384. */
int cm_pe_authenticode_sha384(const uint8_t *img, size_t len, const uint8_t *hdr, size_t hdr_len,
			      uint8_t out[48], struct cm_pe_info *info, struct cm_err *e);

/* QEMU x86_load_linux header patches (legacy path: QEMU < 10 or OVMF without
 * etc/boot/kernel support). hdr holds a copy of the first CM_LINUX_HDR_LEN bytes
 * of the kernel and is patched in place. */
struct cm_qemu_kernel_params {
	uint64_t mem;          /* guest RAM bytes (q35 below-4G split) */
	bool has_initrd;
	uint64_t initrd_size;
	const char *cmdline;   /* for vga=; may be NULL */
};
int cm_linux_qemu_patch(uint8_t hdr[CM_LINUX_HDR_LEN], size_t kernel_len,
			const struct cm_qemu_kernel_params *p, struct cm_err *e);

#endif
