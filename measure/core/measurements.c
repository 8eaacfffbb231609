#include "measure/core/measurements.h"

#include <string.h>

#include "measure/core/digest.h"

int cm_image_hash(const struct cm_td_regs *r, uint8_t out[CM_IMAGE_HASH_LEN])
{
	uint8_t buf[8 * 48 + 64];
	memcpy(buf, r->mrtd, 48);
	memcpy(buf + 48, r->mrconfigid, 48);
	memcpy(buf + 96, r->mrowner, 48);
	memcpy(buf + 144, r->mrownerconfig, 48);
	memcpy(buf + 192, r->rtmr, 4 * 48);
	memset(buf + 384, 0, 64);
	return cm_sha256(buf, sizeof(buf), out);
}
