/* dm-verity open with a pinned superblock. */
#include "guest/init/verity.h"

#include <errno.h>
#include <stdbool.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "measure/core/digest.h"

int ci_verity_load_pinned(const struct ci_verity *v, struct crypt_device **out, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	*out = NULL;
	if (v->data_blocks == 0 || v->data_blocks > UINT64_MAX / CI_VERITY_BLOCK)
		return cm_fail(e, -EINVAL, "verity %s: bad data block count %llu", v->name,
			       (unsigned long long)v->data_blocks);
	int r = crypt_init_data_device(&cd, v->hash_dev, v->data_dev);
	if (r < 0)
		return cm_fail(e, r, "verity %s: cannot open %s (%s)", v->name, v->hash_dev, strerror(-r));
	struct crypt_params_verity p = {.hash_area_offset = v->hash_offset};
	r = crypt_load(cd, CRYPT_VERITY, &p);
	if (r < 0) {
		crypt_free(cd);
		return cm_fail(e, r, "verity %s: no verity superblock at byte %llu of %s (%s)", v->name,
			       (unsigned long long)v->hash_offset, v->hash_dev, strerror(-r));
	}
	struct crypt_params_verity vp;
	memset(&vp, 0, sizeof vp);
	r = crypt_get_verity_info(cd, &vp);
	if (r < 0) {
		crypt_free(cd);
		return cm_fail(e, r, "verity %s: cannot read superblock parameters", v->name);
	}
	const char *bad = NULL;
	char why[160];
	if (!vp.hash_name || strcmp(vp.hash_name, "sha256") != 0) {
		snprintf(why, sizeof why, "hash %s, expected sha256", vp.hash_name ? vp.hash_name : "(none)");
		bad = why;
	} else if (vp.hash_type != 1) {
		snprintf(why, sizeof why, "format type %u, expected 1", vp.hash_type);
		bad = why;
	} else if (vp.data_block_size != CI_VERITY_BLOCK || vp.hash_block_size != CI_VERITY_BLOCK) {
		snprintf(why, sizeof why, "block sizes %u/%u, expected 4096/4096", vp.data_block_size,
			 vp.hash_block_size);
		bad = why;
	} else if (vp.data_size != v->data_blocks) {
		snprintf(why, sizeof why, "%llu data blocks, expected %llu", (unsigned long long)vp.data_size,
			 (unsigned long long)v->data_blocks);
		bad = why;
	} else if (vp.hash_area_offset != v->hash_offset) {
		snprintf(why, sizeof why, "hash area at %llu, expected %llu", (unsigned long long)vp.hash_area_offset,
			 (unsigned long long)v->hash_offset);
		bad = why;
	} else if (vp.salt_size > 256) {
		snprintf(why, sizeof why, "salt of %u bytes", vp.salt_size);
		bad = why;
	}
	if (bad) {
		crypt_free(cd);
		return cm_fail(e, -EINVAL, "verity %s: superblock rejected (%s)", v->name, bad);
	}
	*out = cd;
	return 0;
}

int ci_verity_check_roothash(const struct ci_verity *v, struct crypt_device *cd, struct cm_err *e)
{
	struct crypt_params_verity vp;
	memset(&vp, 0, sizeof vp);
	if (crypt_get_verity_info(cd, &vp) < 0)
		return cm_fail(e, -EINVAL, "verity %s: cannot read superblock parameters", v->name);
	/* Superblock (512 bytes) at hash_offset, hash levels from the next block, the
	 * single top-level block first (cryptsetup/kernel layout). A one-block volume has
	 * no hash level: its root hash covers data block 0 itself. */
	bool no_levels = v->data_blocks == 1;
	const char *dev = no_levels ? v->data_dev : v->hash_dev;
	uint64_t top = no_levels ? 0 : v->hash_offset + CI_VERITY_BLOCK;
	uint8_t block[CI_VERITY_BLOCK], digest[32];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_fail(e, -errno, "verity %s: open %s (%s)", v->name, dev, strerror(errno));
	ssize_t n = pread(fd, block, sizeof block, (off_t)top);
	close(fd);
	if (n != (ssize_t)sizeof block)
		return cm_fail(e, -EIO, "verity %s: cannot read the %s at byte %llu of %s", v->name,
			       no_levels ? "data block" : "top hash block", (unsigned long long)top, dev);
	struct cm_hash *h = cm_hash_new(CM_SHA256);
	if (!h)
		return cm_fail(e, -ENOMEM, "out of memory");
	int r = 0;
	if (cm_hash_update(h, vp.salt, vp.salt_size) < 0 || cm_hash_update(h, block, sizeof block) < 0 ||
	    cm_hash_final(h, digest) < 0)
		r = cm_fail(e, -EIO, "sha256 failed");
	cm_hash_free(h);
	if (r < 0)
		return r;
	if (!cm_memeq_ct(digest, v->roothash, 32)) {
		char want[65], got[65];
		cm_hex_encode(v->roothash, 32, want, sizeof want);
		cm_hex_encode(digest, 32, got, sizeof got);
		return cm_fail(e, -EPERM, "verity %s: root hash %s does not match the hash tree on %s (tree root %s)",
			       v->name, want, v->hash_dev, got);
	}
	return 0;
}

int ci_verity_open(const struct ci_verity *v, char *mapper, size_t mappersz, struct cm_err *e)
{
	struct crypt_device *cd;
	int r = ci_verity_load_pinned(v, &cd, e);
	if (r < 0)
		return r;
	r = ci_verity_check_roothash(v, cd, e);
	if (r < 0) {
		crypt_free(cd);
		return r;
	}
	if (crypt_status(NULL, v->name) != CRYPT_INACTIVE) {
		crypt_free(cd);
		return cm_fail(e, -EBUSY, "verity %s: device-mapper name already in use", v->name);
	}
	r = crypt_activate_by_volume_key(cd, v->name, (const char *)v->roothash, 32,
					 CRYPT_ACTIVATE_READONLY | CRYPT_ACTIVATE_PANIC_ON_CORRUPTION);
	if (r < 0) {
		crypt_free(cd);
		if (r == -EPERM || r == -EFAULT)
			return cm_fail(e, r, "verity %s: root hash does not match the hash tree", v->name);
		return cm_fail(e, r, "verity %s: activation failed (%s)", v->name, strerror(-r));
	}
	struct crypt_active_device ad;
	r = crypt_get_active_device(cd, v->name, &ad);
	if (r < 0 || (ad.flags & CRYPT_ACTIVATE_CORRUPTED)) {
		crypt_deactivate(cd, v->name);
		crypt_free(cd);
		return cm_fail(e, r < 0 ? r : -EILSEQ, "verity %s: %s", v->name,
			       r < 0 ? "cannot query the active device" : "kernel reports the device corrupted");
	}
	crypt_free(cd);
	snprintf(mapper, mappersz, "/dev/mapper/%s", v->name);
	return 0;
}

int ci_dm_close(const char *name, struct cm_err *e)
{
	struct crypt_device *cd = NULL;
	int r = crypt_init_by_name(&cd, name);
	if (r < 0)
		return cm_fail(e, r, "close %s (%s)", name, strerror(-r));
	r = crypt_deactivate(cd, name);
	crypt_free(cd);
	if (r < 0)
		return cm_fail(e, r, "close %s (%s)", name, strerror(-r));
	return 0;
}
