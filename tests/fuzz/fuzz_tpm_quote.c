/* libFuzzer target: TPM quotes (measure/tpm/quote.h): the CTQ1 container, TPMS_ATTEST and
 * the whole verifier (signature checked against a fixed key), and the PCR policy JSON. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "measure/dcap/collateral.h"
#include "measure/tpm/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *ak;
	if (!ak) {
		uint8_t xy[64] = {0};
		/* the P-256 generator: a valid point */
		static const char g[] = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
					"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
		cm_hex_decode_exact(g, 128, xy, 64);
		ak = cm_p256_key_from_raw(xy);
	}
	struct cm_err e;
	struct cm_tpm_quote q;
	struct cm_tpm_attest a;
	struct cm_tpm_pcr_policy p;
	uint8_t qual[32] = {0};
	cm_tpm_attest_parse(data, size, &a, &e);
	if (cm_tpm_quote_parse(data, size, &q, &e) == 0)
		cm_tpm_attest_parse(q.attest, q.attest_len, &a, &e);
	memset(&p, 0, sizeof p);
	p.mask = 1u << 15;
	cm_tpm_quote_verify(data, size, ak, qual, &p, NULL, &e);
	cm_tpm_pcr_policy_parse((const char *)data, size, &p, &e);
	return 0;
}
