/* PE/COFF Authenticode as edk2 measures it, and QEMU's kernel header patches. */
#include "measure/predict/pe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"

/* Feed img[off, off+n) to h, taking the first hdr_len bytes from hdr when set. */
static int upd(struct cm_hash *h, const uint8_t *img, const uint8_t *hdr, size_t hdr_len, size_t off,
	       size_t n)
{
	if (hdr && off < hdr_len) {
		size_t k = hdr_len - off < n ? hdr_len - off : n;
		if (cm_hash_update(h, hdr + off, k))
			return -EIO;
		off += k;
		n -= k;
	}
	return n ? cm_hash_update(h, img + off, n) : 0;
}

struct sec {
	uint32_t ptr, size;
};

int cm_pe_authenticode(enum cm_hash_alg alg, const uint8_t *img, size_t len, const uint8_t *hdr,
		       size_t hdr_len, uint8_t *out, struct cm_pe_info *info, struct cm_err *e)
{
	struct cm_pe_info inf = {0};
	if (hdr_len > len)
		hdr_len = len;
	/* Parse from the (possibly patched) header view: copy the first 4 KiB at most. */
	if (len < 0x40 || img[0] != 'M' || img[1] != 'Z')
		return cm_fail(e, -EINVAL, "not a PE image: no MZ header at offset 0");
	uint32_t lfanew = cm_le32(img + 0x3c);
	if ((uint64_t)lfanew + 24 > len || lfanew < 0x40)
		return cm_fail(e, -EINVAL, "PE e_lfanew 0x%x at offset 0x3c out of range", lfanew);
	if (memcmp(img + lfanew, "PE\0\0", 4))
		return cm_fail(e, -EINVAL, "no PE signature at offset 0x%x", lfanew);
	uint16_t nsec = cm_le16(img + lfanew + 6);
	uint16_t optsz = cm_le16(img + lfanew + 20);
	size_t opt = (size_t)lfanew + 24;
	if (opt + 2 > len)
		return cm_fail(e, -EINVAL, "PE optional header at 0x%zx truncated", opt);
	uint16_t magic = cm_le16(img + opt);
	size_t nrva_off, dd;
	if (magic == 0x10b) {
		nrva_off = opt + 92;
		dd = opt + 96;
	} else if (magic == 0x20b) {
		nrva_off = opt + 108;
		dd = opt + 112;
		inf.pe32plus = true;
	} else {
		return cm_fail(e, -EINVAL, "unknown PE optional header magic 0x%x at 0x%zx", magic, opt);
	}
	if (nrva_off + 4 > len || opt + 64 + 4 > len)
		return cm_fail(e, -EINVAL, "PE optional header at 0x%zx truncated", opt);
	size_t csum = opt + 64;
	inf.size_of_headers = cm_le32(img + opt + 60);
	inf.nrva = cm_le32(img + nrva_off);
	inf.nsections = nsec;
	if (inf.nrva > 16)
		return cm_fail(e, -EINVAL, "PE NumberOfRvaAndSizes %u at 0x%zx > 16", inf.nrva, nrva_off);
	if (dd + 8 * (size_t)inf.nrva > opt + optsz)
		return cm_fail(e, -EINVAL, "PE data directories exceed SizeOfOptionalHeader %u", optsz);
	size_t sect_tab = opt + optsz;
	if (nsec == 0 || nsec > CM_PE_MAX_SECTIONS)
		return cm_fail(e, -EINVAL, "PE section count %u at 0x%x out of range", nsec, lfanew + 6);
	if (sect_tab + 40 * (size_t)nsec > len)
		return cm_fail(e, -EINVAL, "PE section table at 0x%zx truncated", sect_tab);
	if (inf.size_of_headers > len || inf.size_of_headers < sect_tab + 40 * (size_t)nsec)
		return cm_fail(e, -EINVAL, "PE SizeOfHeaders 0x%x at 0x%zx out of range",
			       inf.size_of_headers, opt + 60);
	if (inf.nrva > 4) {
		inf.cert_offset = cm_le32(img + dd + 32);
		inf.cert_size = cm_le32(img + dd + 36);
	}

	/* Sections sorted by PointerToRawData (stable insertion sort, as edk2). */
	struct sec s[CM_PE_MAX_SECTIONS];
	for (uint16_t i = 0; i < nsec; i++) {
		const uint8_t *p = img + sect_tab + 40 * (size_t)i;
		struct sec x = {cm_le32(p + 20), cm_le32(p + 16)};
		if (x.size && (uint64_t)x.ptr + x.size > len)
			return cm_fail(e, -EINVAL,
				       "PE section %u (header at 0x%zx): raw data 0x%x+0x%x beyond the file",
				       i, sect_tab + 40 * (size_t)i, x.ptr, x.size);
		int j = i;
		while (j > 0 && s[j - 1].ptr > x.ptr) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = x;
	}

	struct cm_hash *h = cm_hash_new(alg);
	if (!h)
		return cm_fail(e, -ENOMEM, "out of memory");
	int rc = upd(h, img, hdr, hdr_len, 0, csum);
	size_t hashed = csum;
	if (!rc) {
		if (inf.nrva <= 4) {
			rc = upd(h, img, hdr, hdr_len, csum + 4, inf.size_of_headers - (csum + 4));
			hashed += inf.size_of_headers - (csum + 4);
		} else {
			size_t sec_dd = dd + 32;
			rc = upd(h, img, hdr, hdr_len, csum + 4, sec_dd - (csum + 4));
			if (!rc)
				rc = upd(h, img, hdr, hdr_len, sec_dd + 8, inf.size_of_headers - (sec_dd + 8));
			hashed += inf.size_of_headers - (csum + 4) - 8;
		}
	}
	uint64_t sum = inf.size_of_headers;
	for (uint16_t i = 0; i < nsec && !rc; i++) {
		if (!s[i].size)
			continue;
		rc = upd(h, img, hdr, hdr_len, s[i].ptr, s[i].size);
		sum += s[i].size;
		hashed += s[i].size;
	}
	if (!rc && len > sum) {
		uint64_t cert = inf.nrva > 4 ? inf.cert_size : 0;
		if (len > sum + cert) {
			rc = upd(h, img, hdr, hdr_len, (size_t)sum, (size_t)(len - sum - cert));
			hashed += (size_t)(len - sum - cert);
		} else if (len < sum + cert) {
			cm_hash_free(h);
			return cm_fail(e, -EINVAL,
				       "PE certificate table size 0x%llx exceeds the %llu bytes after the sections",
				       (unsigned long long)cert, (unsigned long long)(len - sum));
		}
	}
	if (!rc)
		rc = cm_hash_final(h, out);
	cm_hash_free(h);
	if (rc)
		return cm_fail(e, -EIO, "Authenticode digest failed");
	inf.hashed_bytes = hashed;
	if (info)
		*info = inf;
	return 0;
}

int cm_pe_authenticode_sha384(const uint8_t *img, size_t len, const uint8_t *hdr, size_t hdr_len,
			      uint8_t out[48], struct cm_pe_info *info, struct cm_err *e)
{
	return cm_pe_authenticode(CM_SHA384, img, len, hdr, hdr_len, out, info, e);
}

int cm_linux_qemu_patch(uint8_t hdr[CM_LINUX_HDR_LEN], size_t kernel_len,
			const struct cm_qemu_kernel_params *p, struct cm_err *e)
{
	if (kernel_len < CM_LINUX_HDR_LEN)
		return cm_fail(e, -EINVAL, "kernel too short for a Linux setup header");
	if (memcmp(hdr + 0x202, "HdrS", 4))
		return cm_fail(e, -EINVAL, "no Linux boot protocol header (HdrS) at offset 0x202");
	uint16_t proto = cm_le16(hdr + 0x206);
	if (proto < 0x202 || !(hdr[0x211] & 1))
		return cm_fail(e, -ENOTSUP,
			       "Linux boot protocol 0x%x without LOADED_HIGH is not supported", proto);
	uint64_t lowmem = p->mem >= 0xB0000000ull ? 0x80000000ull : 0xB0000000ull;
	uint64_t below_4g = p->mem < lowmem ? p->mem : lowmem;
	const uint64_t acpi_data_size = 0x28000;
	uint64_t initrd_max;
	if (proto >= 0x20c && (cm_le16(hdr + 0x236) & (1u << 1)))
		initrd_max = 0xFFFFFFFFull;
	else if (proto >= 0x203)
		initrd_max = cm_le32(hdr + 0x22c);
	else
		initrd_max = 0x37ffffff;
	if (below_4g < acpi_data_size + 1)
		return cm_fail(e, -EINVAL, "memory size too small");
	if (initrd_max >= below_4g - acpi_data_size)
		initrd_max = below_4g - acpi_data_size - 1;
	const uint32_t real_addr = 0x10000, cmdline_addr = 0x20000;
	cm_put_le32(hdr + 0x228, cmdline_addr);
	/* vga= handling (QEMU: "vga=normal|ext|ask|<number>") */
	const char *v = p->cmdline ? strstr(p->cmdline, "vga=") : NULL;
	if (v) {
		v += 4;
		uint16_t mode;
		if (!strncmp(v, "normal", 6))
			mode = 0xffff;
		else if (!strncmp(v, "ext", 3))
			mode = 0xfffe;
		else if (!strncmp(v, "ask", 3))
			mode = 0xfffd;
		else
			mode = (uint16_t)strtol(v, NULL, 0);
		cm_put_le16(hdr + 0x1fa, mode);
	}
	hdr[0x210] = 0xB0;
	hdr[0x211] |= 0x80;
	cm_put_le16(hdr + 0x224, (uint16_t)(cmdline_addr - real_addr - 0x200));
	if (p->has_initrd) {
		if (p->initrd_size > initrd_max)
			return cm_fail(e, -EFBIG, "initrd (%llu bytes) above QEMU's initrd_max 0x%llx",
				       (unsigned long long)p->initrd_size,
				       (unsigned long long)initrd_max);
		cm_put_le32(hdr + 0x218, (uint32_t)((initrd_max - p->initrd_size) & ~4095ull));
		cm_put_le32(hdr + 0x21c, (uint32_t)p->initrd_size);
	}
	return 0;
}
