/* Test collateral for `cocoon-launch collateral` (tests/collateral/collateral_test.sh): one
 * software PCK CA (guest/attest/simca.h) signs, for FMSPC 00906ED50000 unless said
 * otherwise, bundles that differ in one respect each. Usage: gen OUTDIR NOW [SIMDIR]
 *   root.pem        the CA's root (the anchor: collateral_root)
 *   good.json       issued NOW - 1 h, valid 30 days
 *   newer.json      issued NOW - 10 min (replaces good.json)
 *   older.json      issued NOW - 2 days, still valid (must not replace good.json)
 *   expired.json    TCB info and QE identity nextUpdate NOW - 1 h
 *   revoked.json    the PCK CA listed in the root CA CRL
 *   wrongfmspc.json a TCB info for FMSPC 00906ED50001
 * SIMDIR (optional): the CA saved as a `sim` state directory (ca_simca_save; root.pem,
 * keys, collateral.json valid [NOW - 1 day, NOW + 30 days]), which a host copies to a spec
 * share's runtime/sim/ so that booted appliances mint quotes this collateral verifies
 * (tests/integration/collateral_boot.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "guest/attest/simca.h"

static int put(const char *dir, const char *name, const char *text, size_t len)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "gen: cannot write %s\n", p);
		return -1;
	}
	return 0;
}

static int emit(struct ca_simca *ca, struct ca_simca_params *p, const char *dir, const char *name)
{
	struct cm_err e = {0};
	if (ca_simca_reissue_collateral(ca, p, &e)) {
		fprintf(stderr, "gen: %s: %s\n", name, e.msg);
		return -1;
	}
	size_t len;
	const char *b = ca_simca_collateral(ca, &len);
	return put(dir, name, b, len);
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: gen OUTDIR NOW [SIMDIR]\n");
		return 2;
	}
	const char *dir = argv[1];
	int64_t now = strtoll(argv[2], NULL, 10);
	static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};
	struct ca_simca_params p;
	ca_simca_params_default(&p, now);
	memcpy(p.fmspc, fmspc, 6);
	memcpy(p.tcb_fmspc, fmspc, 6);
	struct cm_err e = {0};
	struct ca_simca *ca = ca_simca_new(&p, &e);
	if (!ca) {
		fprintf(stderr, "gen: %s\n", e.msg);
		return 1;
	}
	int r = 0;
	if (argc == 4 && ca_simca_save(ca, argv[3], &e)) {
		fprintf(stderr, "gen: %s: %s\n", argv[3], e.msg);
		ca_simca_free(ca);
		return 1;
	}
	char *pem = NULL;
	size_t pl = 0;
	FILE *m = open_memstream(&pem, &pl);
	if (!m || !PEM_write_X509(m, ca_simca_root(ca)) || fclose(m))
		r = -1;
	else
		r = put(dir, "root.pem", pem, pl);
	free(pem);
	struct ca_simca_params q = p;
	q.tcb_from = q.qe_from = now - 3600;
	r |= emit(ca, &q, dir, "good.json");
	q = p;
	q.tcb_from = q.qe_from = now - 600;
	r |= emit(ca, &q, dir, "newer.json");
	q = p;
	q.tcb_from = q.qe_from = now - 2 * 86400;
	r |= emit(ca, &q, dir, "older.json");
	q = p;
	q.tcb_from = q.qe_from = now - 2 * 86400;
	q.tcb_to = q.qe_to = now - 3600;
	r |= emit(ca, &q, dir, "expired.json");
	q = p;
	q.revoke_pck_ca = true;
	r |= emit(ca, &q, dir, "revoked.json");
	q = p;
	q.tcb_fmspc[5] = 0x01;
	r |= emit(ca, &q, dir, "wrongfmspc.json");
	ca_simca_free(ca);
	return r ? 1 : 0;
}
