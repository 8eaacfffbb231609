/* Adapter to libmeasure's quote verifier (see dcap.h): the one place cocoon-ratls and
 * `cocoon-measure cert` reach measure/dcap/verify.h.
 *
 * Evidence verification (signatures, PCK chain and CRLs, collateral windows, TCB
 * evaluation) runs with a permissive policy so that its result can be cached by quote
 * hash; the policy proper (accepted TCB statuses, debug, root key ids, MRTD/RTMR/image
 * hash allowlists) runs on every connection through cm_policy_check. */
#include "measure/ratls/dcap.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "measure/dcap/collateral.h"
#include "measure/dcap/policy.h"
#include "measure/dcap/verify.h"

#define MAX_BUNDLES 32
#define BUNDLE_MAX (4u << 20)

struct cr_dcap_policy {
	enum cr_policy_type type;
	struct cm_policy policy;     /* the configured policy */
	struct cm_policy evidence;   /* permissive: evidence checks only */
	X509 *anchor;                /* NULL = pinned Intel root */
	char collateral[PATH_MAX];   /* the configured file or directory ("" = none) */
	int nbundles;
	struct cm_collateral *bundles[MAX_BUNDLES];
};

static void free_bundles(struct cr_dcap_policy *p)
{
	for (int i = 0; i < p->nbundles; i++)
		cm_collateral_free(p->bundles[i]);
	p->nbundles = 0;
}

void cr_dcap_policy_free(struct cr_dcap_policy *p)
{
	if (!p)
		return;
	free_bundles(p);
	cm_policy_free(&p->policy);
	X509_free(p->anchor);
	free(p);
}

static int load_bundle(const char *path, X509 *anchor, struct cm_collateral **out, struct cm_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc = cm_read_file(path, BUNDLE_MAX, &buf, &len, e);
	if (rc)
		return rc;
	rc = cm_collateral_load((const char *)buf, len, anchor, out, e);
	free(buf);
	if (rc)
		cm_err_prefix(e, "collateral %s (%s)", path, e && e->check ? e->check : "load");
	return rc;
}

/* All bundles of a file or of the *.json files of a directory; all-or-nothing. A path
 * that does not exist at start is no collateral yet (initial: peers are refused with
 * collateral_missing until it appears and a reload takes it): the spec share's
 * runtime/collateral/ is absent until cocoon-launch has fetched a bundle, and cocoon-init's
 * spec copy drops an empty directory. On a reload a vanished path keeps the bundles. */
static int load_collateral(struct cr_dcap_policy *p, const char *path, bool initial, struct cm_err *e)
{
	struct cm_collateral *nb[MAX_BUNDLES];
	int n = 0, rc = 0;
	struct stat st;
	if (stat(path, &st)) {
		if (errno == ENOENT && initial) {
			free_bundles(p);
			return 0;
		}
		return cm_fail(e, -errno, "collateral %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = load_bundle(path, p->anchor, &nb[n], e);
		if (!rc)
			n++;
	} else {
		struct dirent **names = NULL;
		int k = scandir(path, &names, NULL, alphasort);
		for (int i = 0; i < k; i++) {
			const char *d = names[i]->d_name;
			size_t l = strlen(d);
			if (!rc && d[0] != '.' && l > 5 && !strcmp(d + l - 5, ".json")) {
				char fp[PATH_MAX + 256];
				snprintf(fp, sizeof(fp), "%s/%s", path, d);
				if (n >= MAX_BUNDLES)
					rc = cm_fail(e, -ENOSPC, "collateral %s: more than %d bundles", path, MAX_BUNDLES);
				else if (!(rc = load_bundle(fp, p->anchor, &nb[n], e)))
					n++;
			}
			free(names[i]);
		}
		free(names);
		if (k < 0)
			rc = cm_fail(e, -errno, "collateral %s: %s", path, strerror(errno));
	}
	if (rc) {
		for (int i = 0; i < n; i++)
			cm_collateral_free(nb[i]);
		return rc;
	}
	free_bundles(p);
	memcpy(p->bundles, nb, sizeof(nb[0]) * (size_t)n);
	p->nbundles = n;
	return 0;
}

int cr_dcap_policy_load(const struct cr_policy_conf *c, struct cr_dcap_policy **out, struct cm_err *e)
{
	struct cr_dcap_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return cm_fail(e, -ENOMEM, "out of memory");
	p->type = c->type;
	int rc = c->measure_policy[0] ? cm_policy_load(c->measure_policy, &p->policy, e)
				      : (cm_policy_default(&p->policy) ? cm_fail(e, -ENOMEM, "out of memory") : 0);
	if (rc)
		goto fail;
	if (c->type == CR_POLICY_ANY) {
		/* Cocoon's `any` has no TdxInterface: it cannot enforce measurements. */
		if (p->policy.n_mrtd || p->policy.n_rtmrs || p->policy.n_image_hashes || p->policy.has_report_data) {
			rc = cm_fail(e, -EINVAL, "type 'any' cannot enforce measurement allowlists");
			goto fail;
		}
		*out = p;
		return 0;
	}
	if (c->type == CR_POLICY_FAKE_TDX) {
		/* nothing is signed: a root or collateral would only suggest otherwise */
		if (c->root[0] || c->collateral[0]) {
			rc = cm_fail(e, -EINVAL, "type 'fake_tdx' takes no root or collateral (nothing is verified)");
			goto fail;
		}
		*out = p;
		return 0;
	}
	if (c->root[0]) {
		if (!(p->anchor = cm_x509_load_pem_file(c->root, e))) {
			rc = -EINVAL;
			goto fail;
		}
		uint8_t anchor_id[48];
		if (cm_root_key_id(p->anchor, anchor_id)) {
			rc = cm_fail(e, -EINVAL, "root %s: not a P-256 certificate", c->root);
			goto fail;
		}
		/* The default policy pins Intel's root key id; with an explicit root and no
		 * policy file, pin that root instead. */
		if (!c->measure_policy[0])
			memcpy(p->policy.root_key_ids[0], anchor_id, 48);
	} /* else: no anchor, the verifier uses the pinned Intel root */
	p->evidence = (struct cm_policy){
		.accepted_statuses = (1u << CM_TCB_STATUS_COUNT) - 1,
		.allow_debug = true,
		.allow_mr_servicetd = true,
	};
	snprintf(p->collateral, sizeof(p->collateral), "%s", c->collateral);
	if (c->collateral[0] && (rc = load_collateral(p, c->collateral, true, e)))
		goto fail;
	*out = p;
	return 0;
fail:
	cr_dcap_policy_free(p);
	return rc;
}

int cr_dcap_policy_reload_collateral(struct cr_dcap_policy *p, const struct cr_policy_conf *c, struct cm_err *e)
{
	if (p->type == CR_POLICY_ANY || !c->collateral[0])
		return 0;
	return load_collateral(p, c->collateral, false, e);
}

const struct cm_policy *cr_dcap_policy_measure(const struct cr_dcap_policy *p)
{
	return &p->policy;
}

int64_t cr_dcap_policy_newest_issue(const struct cr_dcap_policy *p)
{
	int64_t t = 0;
	for (int i = 0; i < p->nbundles; i++) {
		int64_t a = cm_collateral_tcb_info(p->bundles[i])->issue_date;
		int64_t b = cm_collateral_qe_identity(p->bundles[i])->issue_date;
		t = a > t ? a : t;
		t = b > t ? b : t;
	}
	return t;
}

/* The earliest end among the bundle's windows (CRL nextUpdate, TCB info / QE identity
 * nextUpdate, issuer certificates) and the quote's own PCK leaf and CA certificates. */
static int64_t valid_until(struct cm_collateral *c, const struct cm_quote *q, int64_t t, int64_t collateral_end)
{
	const struct cm_pck_info *pck;
	struct cm_err e = {0};
	int64_t end = collateral_end ? collateral_end : INT64_MAX;
	if (cm_collateral_pck(c, q, t, &pck, &e))
		return t; /* cannot happen after a successful verification: do not cache */
	if (pck->leaf_to < end)
		end = pck->leaf_to;
	if (pck->ca_to < end)
		end = pck->ca_to;
	return end;
}

/* The FMSPC lookup found no bundle for the peer's platform: name its FMSPC (what the
 * operator adds to cocoon-launch's collateral_peer_fmspcs) and the FMSPCs loaded. */
static int missing_fmspc(const struct cr_dcap_policy *p, const uint8_t fmspc[6], struct cm_err *e)
{
	char want[13], have[MAX_BUNDLES * 13 + 1] = "";
	size_t n = 0;
	cm_hex_encode(fmspc, 6, want, sizeof(want));
	for (int i = 0; i < p->nbundles; i++) {
		char h[13];
		cm_hex_encode(cm_collateral_tcb_info(p->bundles[i])->fmspc, 6, h, sizeof(h));
		n += (size_t)snprintf(have + n, sizeof(have) - n, "%s%s", i ? ", " : "", h);
	}
	for (char *c = want; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	for (char *c = have; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return cm_fail_check(e, -EBADMSG, "collateral_missing",
			     "no collateral for the peer's FMSPC %s in %s (bundles for %s); fetch it "
			     "(cocoon-launch collateral_peer_fmspcs)",
			     want, p->collateral[0] ? p->collateral : "the policy's collateral", have);
}

int cr_dcap_verify(struct cr_dcap_policy *p, const struct cm_quote *q, int64_t t, struct cr_dcap_result *out,
		   struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!p->nbundles)
		return p->collateral[0] ? cm_fail_check(e, -EBADMSG, "collateral_missing",
							 "no collateral bundle in %s (yet)", p->collateral)
					: cm_fail_check(e, -EBADMSG, "collateral_missing",
							 "no collateral configured for this policy");
	struct cm_verify_opts o = {.time = t, .anchor = p->anchor, .policy = &p->evidence};
	struct cm_verify_result r, first;
	bool have_first = false, none_for_fmspc = true; /* every bundle is for another FMSPC */
	uint8_t fmspc[6] = {0};
	for (int i = 0; i < p->nbundles; i++) {
		cm_verify_quote_with(q, p->bundles[i], &o, &r);
		if (r.verdict == CM_VERDICT_OK || !r.failed_check || strcmp(r.failed_check, "fmspc_mismatch") ||
		    !r.has_pck)
			none_for_fmspc = false;
		else
			memcpy(fmspc, r.pck.fmspc, 6);
		if (r.verdict == CM_VERDICT_OK) {
			struct cm_err pe = {0};
			if (cm_policy_check_collateral(&p->policy, cm_collateral_tcb_info(p->bundles[i]),
						       cm_collateral_qe_identity(p->bundles[i]), &pe)) {
				r.verdict = CM_VERDICT_REJECTED;
				r.failed_check = pe.check;
				snprintf(r.message, sizeof(r.message), "%s", pe.msg);
			}
		}
		if (r.verdict == CM_VERDICT_OK) {
			out->tcb = (int)r.tcb.status;
			snprintf(out->tcb_status, sizeof(out->tcb_status), "%s", cm_tcb_status_name(r.tcb.status));
			memcpy(out->root_key_id, r.root_key_id, 48);
			out->valid_until = valid_until(p->bundles[i], q, t, r.collateral_expiry);
			return 0;
		}
		/* report the most relevant failure: one not about picking the wrong bundle */
		if (!have_first || (first.failed_check && strstr(first.failed_check, "mismatch"))) {
			first = r;
			have_first = true;
		}
	}
	if (none_for_fmspc)
		return missing_fmspc(p, fmspc, e);
	const char *check = first.failed_check ? first.failed_check : "quote_verification";
	if (first.verdict == CM_VERDICT_REJECTED)
		return cm_fail_check(e, -EACCES, check, "%s", first.message);
	return cm_fail_check(e, -EBADMSG, check, "quote does not verify: %s", first.message);
}

int cr_dcap_policy_check(const struct cr_dcap_policy *p, const struct cm_quote *q, const struct cr_dcap_result *r,
			 const uint8_t image_hash[32], struct cm_err *e)
{
	(void)image_hash; /* cm_policy_check computes it from the quote */
	int rc = cm_policy_check(&p->policy, q, (enum cm_tcb_status)r->tcb, r->root_key_id, e);
	return rc ? -EACCES : 0;
}
