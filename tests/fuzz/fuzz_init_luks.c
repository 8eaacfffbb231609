/* libFuzzer target: cocoon-init's strict LUKS2 metadata check (guest/init/luks.c) on
 * host-controlled headers. The input is the JSON area; the harness wraps it in two
 * binary headers with valid checksums (what an attacker with the disk can produce), so
 * the fuzzer reaches the JSON rules instead of stopping at the checksum. An input whose
 * first byte is '!' is used raw as the metadata region instead. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/init/luks.h"
#include "measure/core/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void header(uint8_t *h, int idx, const uint8_t *json, size_t n)
{
	static const uint8_t m0[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe}, m1[6] = {'S', 'K', 'U', 'L', 0xba, 0xbe};
	memcpy(h, idx ? m1 : m0, 6);
	h[7] = 2;
	put_be64(h + 8, CI_LUKS_HDR_SIZE);
	put_be64(h + 16, 1);
	memcpy(h + 72, "sha256", 6);
	put_be64(h + 256, (uint64_t)idx * CI_LUKS_HDR_SIZE);
	memcpy(h + 4096, json, n);
	cm_sha256(h, CI_LUKS_HDR_SIZE, h + 448);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_err e;
	if (size > 0 && data[0] == '!') {
		ci_luks_check_metadata(data + 1, size - 1, false, NULL, &e);
		ci_luks_check_metadata(data + 1, size - 1, true, NULL, &e);
		return 0;
	}
	if (size > CI_LUKS_HDR_SIZE - 4096)
		return 0;
	uint8_t *buf = calloc(1, 2 * CI_LUKS_HDR_SIZE);
	if (!buf)
		return 0;
	header(buf, 0, data, size);
	header(buf + CI_LUKS_HDR_SIZE, 1, data, size);
	ci_luks_check_metadata(buf, 2 * CI_LUKS_HDR_SIZE, false, NULL, &e); /* both profiles */
	ci_luks_check_metadata(buf, 2 * CI_LUKS_HDR_SIZE, true, NULL, &e);
	ci_luks_check_metadata(buf, 2 * CI_LUKS_HDR_SIZE, false, CI_LUKS_TOKEN_TPM2, &e); /* tpm2 provider's */
	free(buf);
	return 0;
}
