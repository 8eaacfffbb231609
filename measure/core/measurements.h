/* The TD measurement registers and Cocoon's image hash over them. */
#ifndef COCOON_MEASURE_MEASUREMENTS_H
#define COCOON_MEASURE_MEASUREMENTS_H

#include <stdint.h>

struct cm_td_regs {
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
};

#define CM_IMAGE_HASH_LEN 32

/* Cocoon image hash: SHA-256(MRTD || MRCONFIGID || MROWNER || MROWNERCONFIG ||
 * RTMR0..3 || 64 zero bytes), 448 bytes in (TelegramMessenger/cocoon
 * tee/cocoon/tdx.cpp AttestationData::image_hash). */
int cm_image_hash(const struct cm_td_regs *r, uint8_t out[CM_IMAGE_HASH_LEN]);

#endif
