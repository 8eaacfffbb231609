/* libFuzzer target: the PCS / PCCS responses `cocoon-launch collateral` turns into a
 * bundle (host-launcher/collateral.h), then the acceptance checks on that bundle. The
 * input is the seven responses separated by "\n--\n": TCB info body, its issuer-chain
 * header, QE identity body, its header, PCK CRL, its header, root CA CRL (the seed is
 * made from the fixture bundle by tests/collateral/pcs.py). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host-launcher/collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	char *part[7] = {0};
	size_t plen[7] = {0};
	char *p = buf;
	for (int i = 0; i < 7 && p; i++) {
		char *sep = memmem(p, size - (size_t)(p - buf), "\n--\n", 4);
		part[i] = p;
		plen[i] = sep ? (size_t)(sep - p) : size - (size_t)(p - buf);
		if (sep)
			*sep = 0; /* the headers are C strings */
		p = sep ? sep + 4 : NULL;
	}
	struct cl_pcs r = {
		.tcb = part[0], .tcb_len = plen[0], .tcb_chain = part[1],
		.qe = part[2], .qe_len = plen[2], .qe_chain = part[3],
		.pck_crl = (const uint8_t *)part[4], .pck_crl_len = plen[4], .pck_crl_chain = part[5],
		.root_crl = (const uint8_t *)part[6], .root_crl_len = plen[6],
	};
	char *json = NULL;
	size_t len = 0;
	struct cm_err e;
	static const uint8_t fmspc[6] = {0xb0, 0xc0, 0x6f, 0, 0, 0};
	if (cl_collateral_bundle(&r, &json, &len, &e) == 0)
		cl_collateral_accept(json, len, json, len, fmspc, NULL, 1752919234, NULL, &e);
	free(json);
	free(buf);
	return 0;
}
