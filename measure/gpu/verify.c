/* cm_gpu_verify: one GPU's evidence, step by step (gpu.h; docs/verification.md lists the checks). */
#include "measure/gpu/gpu_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "measure/dcap/pck.h"
#include "measure/gpu/rim.h"

#define CHAIN_PEM_MAX (16u << 10)

bool cm_gpu_check_is_policy(const char *check)
{
	return check && strncmp(check, "gpu_policy_", 11) == 0;
}

__attribute__((format(printf, 4, 5))) static void note(struct cm_gpu_result *res, const char *name,
						       const char *status, const char *fmt, ...)
{
	if (res->n_checks >= CM_GPU_CHECKS_MAX)
		return;
	struct cm_gpu_check *c = &res->checks[res->n_checks++];
	c->name = name;
	c->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* Record the failure in e (already filled by a callee or here) as the failed check name. */
static int failed(struct cm_gpu_result *res, const char *name, struct cm_err *e, int rc, const char *check)
{
	if (e && !e->check)
		cm_err_check(e, rc, check);
	note(res, name, "fail", "%s", e ? e->msg : "");
	return rc;
}

/* Fail the named step with check and a new message. */
__attribute__((format(printf, 6, 7))) static int refuse(struct cm_gpu_result *res, const char *name, struct cm_err *e,
							int code, const char *check, const char *fmt, ...)
{
	char msg[CM_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return failed(res, name, e, cm_fail_check(e, code, check, "%s", msg), check);
}

struct ctx {
	const struct cm_gpu_policy *p;
	const struct cm_spdm_report *rep;
	const struct cm_gpu_opaque *od;
	int64_t now;
	struct cm_gpu_result *res;
	struct cm_err *e;
};

/* OCSP over certs[from..n-2] (each issued by the next) of chain: the number of certificates
 * without a response in the bundle (0: all good), or a negative failure. */
static int ocsp_chain(const struct ctx *c, STACK_OF(X509) *chain, int from, X509 *root)
{
	int missing = 0, n = sk_X509_num(chain);
	for (int i = from; i < n - 1; i++) {
		int rc = cm_gpu_ocsp_status(c->p->rim_dir, sk_X509_value(chain, i), sk_X509_value(chain, i + 1), chain,
					    root, c->now, c->e);
		if (rc < 0)
			return rc;
		missing += rc == 0;
	}
	return missing;
}

static int ocsp_step(const struct ctx *c, const char *name, STACK_OF(X509) *chain, int from, X509 *root)
{
	int n = sk_X509_num(chain) - 1 - from;
	int rc = ocsp_chain(c, chain, from, root);
	if (rc < 0)
		return failed(c->res, name, c->e, rc, "gpu_ocsp");
	if (rc == 0) {
		note(c->res, name, "pass", "%d certificates good in the OCSP bundle", n);
		return 0;
	}
	if (c->p->ocsp_required)
		return refuse(c->res, name, c->e, -EACCES, "gpu_policy_ocsp_required", "gpu OCSP: no response in the bundle for %d of %d certificates (policy: ocsp_required)",
					    rc, n);
	note(c->res, name, "skipped", "no OCSP response for %d of %d certificates; revocation not checked (policy: ocsp_required false)",
	     rc, n);
	return 0;
}

/* The RIM file of id in the bundle (NAME.xml, NAME.swidtag, or nvtrust's sample naming for
 * VBIOS RIMs); 0 with path filled, -ENOENT. */
static int find_rim(const char *dir, const char *id, const struct cm_gpu_opaque *od, bool vbios, char *path, size_t n)
{
	char alt[128] = "";
	if (vbios) {
		const char *hex = id + strlen(id) - 10;
		snprintf(alt, sizeof(alt), "%s_%s_%s_%s_PROD", od->project, od->project_sku, od->chip_sku, hex);
	}
	const char *names[] = {id, id, alt};
	const char *exts[] = {".xml", ".swidtag", ".swidtag"};
	for (int i = 0; i < (vbios ? 3 : 2); i++) {
		int w = snprintf(path, n, "%s/%s%s", dir, names[i], exts[i]);
		if (w > 0 && (size_t)w < n && access(path, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

static int rim_one(const struct ctx *c, int kind, struct cm_gpu_rim **out)
{
	const struct cm_gpu_policy *p = c->p;
	struct cm_gpu_result *res = c->res;
	struct cm_err *e = c->e;
	bool vbios = kind == CM_GPU_RIM_VBIOS;
	const char *what = vbios ? "VBIOS" : "driver";
	const char *id = vbios ? res->vbios_rim_id : res->driver_rim_id;
	const char *version = vbios ? res->vbios_version : res->driver_version;
	const char *n_fetch = vbios ? "vbios_rim_fetch" : "driver_rim_fetch";
	const char *n_sig = vbios ? "vbios_rim_signature" : "driver_rim_signature";
	const char *n_chain = vbios ? "vbios_rim_chain" : "driver_rim_chain";
	const char *n_ver = vbios ? "vbios_rim_version" : "driver_rim_version";
	const char *n_ocsp = vbios ? "vbios_rim_ocsp" : "driver_rim_ocsp";
	const char *n_meas = vbios ? "vbios_rim_measurements" : "driver_rim_measurements";
	bool required = p->rim_required < 0 ? p->rim_dir != NULL : (p->rim_required & kind) != 0;
	char path[4096];
	*out = NULL;
	if (!p->rim_dir || !id[0] || find_rim(p->rim_dir, id, c->od, vbios, path, sizeof(path))) {
		if (!required) {
			note(res, n_fetch, "skipped", "%s", p->rim_dir ? "not in the RIM bundle (policy: not required)" : "no RIM bundle given");
			return 0;
		}
		int rc = cm_fail_check(e, -EACCES, "gpu_policy_rim_required", "gpu: %s RIM %s %s (policy: rim_required)", what,
				       id[0] ? id : "(no id: version fields missing)",
				       p->rim_dir ? "is not in the RIM bundle" : "needed but no RIM bundle given");
		return failed(res, n_fetch, e, rc, "gpu_policy_rim_required");
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cm_gpu_rim *rim = NULL;
	int rc = cm_read_file(path, CM_GPU_RIM_FILE_MAX, &buf, &len, e);
	if (!rc && (rc = cm_gpu_rim_parse(buf, len, &rim, e)) && e && !e->check)
		cm_err_check(e, rc, "gpu_rim_parse");
	free(buf);
	if (rc) {
		cm_err_prefix(e, "%s RIM %s", what, path);
		return failed(res, n_fetch, e, rc, "gpu_rim_parse");
	}
	bool pinned = p->n_rim_pins == 0;
	for (size_t i = 0; i < p->n_rim_pins && !pinned; i++)
		pinned = memcmp(p->rim_pins[i], rim->sha256, 32) == 0;
	if (!pinned) {
		rc = cm_fail_check(e, -EACCES, "gpu_policy_rim_pin", "gpu: %s RIM %s: its SHA-256 is not in rim_sha256", what, path);
		failed(res, n_fetch, e, rc, "gpu_policy_rim_pin");
		goto fail;
	}
	char hex[65];
	cm_hex_encode(rim->sha256, 32, hex, sizeof(hex));
	const char *base = strrchr(path, '/');
	note(res, n_fetch, "pass", "%s (sha256 %s)", base ? base + 1 : path, hex);
	if ((rc = cm_gpu_rim_verify_signature(rim, e))) {
		cm_err_prefix(e, "%s RIM", what);
		failed(res, n_sig, e, rc, "gpu_rim_signature");
		goto fail;
	}
	note(res, n_sig, "pass", "reference digest and ecdsa-sha384 SignatureValue valid");
	int64_t at = p->rim_time_fixed ? p->rim_time : c->now;
	if ((rc = cm_gpu_rim_verify_chain(rim, p->rim_root, at, e))) {
		cm_err_prefix(e, "%s RIM", what);
		failed(res, n_chain, e, rc, "gpu_rim_chain");
		goto fail;
	}
	note(res, n_chain, "pass", "%d certificates to the pinned CoRIM root, valid at %lld (%s)", sk_X509_num(rim->certs),
	     (long long)at, p->rim_time_fixed ? "policy rim_time" : "verification time");
	const char *chip_end = strchr(res->hwmodel, ' ');
	size_t chip_len = chip_end ? (size_t)(chip_end - res->hwmodel) : strlen(res->hwmodel);
	if (strcasecmp(rim->colloquial_version, version) != 0 ||
	    (rim->product[0] && (strlen(rim->product) != chip_len || strncmp(rim->product, res->hwmodel, chip_len) != 0))) {
		rc = cm_fail_check(e, -EACCES, "gpu_rim_version",
				   "gpu: %s RIM is for %s %s, the report has %s %.*s", what, rim->product,
				   rim->colloquial_version, version, (int)chip_len, res->hwmodel);
		failed(res, n_ver, e, rc, "gpu_rim_version");
		goto fail;
	}
	note(res, n_ver, "pass", "colloquialVersion %s, product %s", rim->colloquial_version, rim->product);
	if ((rc = ocsp_step(c, n_ocsp, rim->certs, 0, p->rim_root)))
		goto fail;
	struct cm_gpu_rim_cmp cmp;
	if ((rc = cm_gpu_rim_compare(rim, c->rep, c->od->nvdec0_status, &cmp, e))) {
		cm_err_prefix(e, "%s RIM", what);
		failed(res, n_meas, e, rc, "gpu_rim_measurements");
		goto fail;
	}
	note(res, n_meas, "pass", "%u active measurements match%s", cmp.matched,
	     cmp.nvdec0_skipped ? " (index 35 not compared: NVDEC0 disabled)" : "");
	*(vbios ? &res->rim_vbios_ok : &res->rim_driver_ok) = true;
	*out = rim;
	return 0;
fail:
	cm_gpu_rim_free(rim);
	return rc;
}

/* A version against an allow-list of the policy. */
static int allowed(struct cm_gpu_result *res, const char *name, struct cm_err *e, const char *check,
		   const char (*list)[32], size_t n, const char *v)
{
	if (!cm_gpu_version_allowed((char (*)[32])list, n, v))
		return refuse(res, name, e, -EACCES, check, "gpu report: %s %s not in the policy's allow-list", name, v);
	note(res, name, "pass", "%s%s", v, n ? " (allowed)" : " (any allowed)");
	return 0;
}

static int evidence(const struct ctx *c, STACK_OF(X509) *chain, const uint8_t nonce[CM_GPU_NONCE_LEN])
{
	const struct cm_gpu_policy *p = c->p;
	const struct cm_spdm_report *rep = c->rep;
	struct cm_gpu_result *res = c->res;
	struct cm_err *e = c->e;
	int rc;
	if (!cm_memeq_ct(rep->nonce, nonce, CM_GPU_NONCE_LEN))
		return refuse(res, "nonce", e, -EACCES, "gpu_nonce", "gpu report: the request nonce is not the caller's nonce");
	note(res, "nonce", "pass", "request nonce matches");
	if ((rc = cm_gpu_device_chain(chain, p->device_root, c->now, e)) || (rc = cm_gpu_claims(chain, res, e)))
		return failed(res, "chain", e, rc, "gpu_chain");
	note(res, "chain", "pass", "5 certificates to the pinned NVIDIA Device Identity CA");
	if (strncmp(res->hwmodel, "GB100 ", 6) == 0) /* Blackwell names its driver RIMs differently */
		cm_gpu_driver_rim_id(c->od, true, res->driver_rim_id, sizeof(res->driver_rim_id));
	X509 *leaf = sk_X509_value(chain, 0);
	rc = cm_gpu_p384_verify(X509_get0_pubkey(leaf), rep->raw, rep->signed_len, rep->signature);
	if (rc != 1)
		return failed(res, "signature", e,
			      rc == 0 ? cm_fail_check(e, -EACCES, "gpu_signature",
						      "gpu report: the ECDSA-P384 signature does not verify with the leaf key")
				      : cm_fail(e, rc, "gpu report: signature verification failed"),
			      "gpu_signature");
	note(res, "signature", "pass", "ECDSA-P384/SHA-384 over %zu bytes with the leaf key", rep->signed_len);
	const struct cm_gpu_opaque *od = c->od;
	uint8_t leaf_fwid[48];
	rc = cm_gpu_leaf_fwid(leaf, leaf_fwid, e);
	if (rc && rc != -ENOENT)
		return failed(res, "fwid", e, rc, "gpu_fwid");
	if (od->has_fwid) {
		if (rc == -ENOENT || !cm_memeq_ct(leaf_fwid, od->fwid, 48))
			return refuse(res, "fwid", e, -EACCES, "gpu_fwid", "gpu report: the FWID %s the leaf certificate's",
						    rc == -ENOENT ? "is in the report but not in" : "does not match");
		note(res, "fwid", "pass", "opaque FWID equals the leaf's 2.23.133.5.4.1 FWID");
	} else if (p->fwid_required) {
		return refuse(res, "fwid", e, -EACCES, "gpu_policy_fwid", "gpu report: no FWID in the opaque data (driver before 550; policy: fwid_required)");
	} else {
		note(res, "fwid", "skipped", "no FWID in the report (policy: fwid_required false)");
	}
	bool arch_ok = false;
	for (unsigned id = 0; id < 32 && !arch_ok; id++) {
		const char *chip = (p->arch_mask & (1u << id)) ? cm_gpu_arch_chip(id) : NULL;
		arch_ok = chip && strncmp(res->hwmodel, chip, strlen(chip)) == 0;
	}
	if (!arch_ok)
		return refuse(res, "arch", e, -EACCES, "gpu_arch", "gpu chain: device %s is not an allowed architecture",
					    res->hwmodel);
	note(res, "arch", "pass", "%s", res->hwmodel);
	if ((rc = allowed(res, "driver_version", e, "gpu_policy_driver", p->drivers, p->n_drivers, res->driver_version)) ||
	    (rc = allowed(res, "vbios_version", e, "gpu_policy_vbios", p->vbios, p->n_vbios, res->vbios_version)))
		return rc;
	bool ppcie = od->feature_flag == 2 || od->ppcie_status == 0xaa;
	if (ppcie && !p->ppcie_allowed)
		return refuse(res, "ppcie", e, -EACCES, "gpu_policy_ppcie", "gpu report: protected PCIe (multi-GPU) mode, refused (policy: ppcie_allowed false)");
	note(res, "ppcie", "pass", "%s", ppcie ? "protected PCIe mode (allowed)" : "not in protected PCIe mode");
	/* NVIDIA's verifiers check the BROM, Provisioner ICA and Identity certificates, not the leaf. */
	if ((rc = ocsp_step(c, "chain_ocsp", chain, 1, p->device_root)))
		return rc;
	struct cm_gpu_rim *drv = NULL, *vb = NULL;
	if ((rc = rim_one(c, CM_GPU_RIM_DRIVER, &drv)) || (rc = rim_one(c, CM_GPU_RIM_VBIOS, &vb)))
		goto out;
	if (drv && vb) {
		if ((rc = cm_gpu_rim_no_conflict(drv, vb, e)))
			failed(res, "rim_index_no_conflict", e, rc, "gpu_rim_index_conflict");
		else
			note(res, "rim_index_no_conflict", "pass", "the RIMs' active indices are disjoint");
	}
out:
	cm_gpu_rim_free(drv);
	cm_gpu_rim_free(vb);
	return rc;
}

int cm_gpu_verify(const struct cm_gpu_evidence *ev, const uint8_t nonce[CM_GPU_NONCE_LEN],
		  const struct cm_gpu_policy *p, int64_t now, struct cm_gpu_result *res, struct cm_err *e)
{
	memset(res, 0, sizeof(*res));
	res->nvdec0_status = res->feature_flag = res->opaque_version = res->ppcie_status = -1;
	if (!ev || !ev->report || !ev->chain_pem || !nonce || !p)
		return cm_fail(e, -EINVAL, "gpu: missing evidence, nonce or policy");
	struct cm_spdm_report *rep = malloc(sizeof(*rep));
	struct cm_gpu_opaque od;
	STACK_OF(X509) *chain = NULL;
	int rc;
	if (!rep)
		return cm_fail(e, -ENOMEM, "gpu: out of memory");
	if ((rc = cm_spdm_parse(ev->report, ev->report_len, rep, e)) ||
	    (rc = cm_gpu_opaque_parse(rep->opaque, rep->opaque_len, &od, e))) {
		failed(res, "report", e, rc, "gpu_report");
		goto out;
	}
	res->n_blocks = rep->n_blocks;
	res->n_opaque_fields = od.n_fields;
	res->nvdec0_status = od.nvdec0_status;
	res->feature_flag = od.feature_flag;
	res->opaque_version = od.opaque_version;
	res->ppcie_status = od.ppcie_status;
	snprintf(res->driver_version, sizeof(res->driver_version), "%s", od.driver_version);
	snprintf(res->vbios_version, sizeof(res->vbios_version), "%s", od.vbios_version);
	snprintf(res->project, sizeof(res->project), "%s", od.project);
	snprintf(res->project_sku, sizeof(res->project_sku), "%s", od.project_sku);
	snprintf(res->chip_sku, sizeof(res->chip_sku), "%s", od.chip_sku);
	res->has_fwid = od.has_fwid;
	memcpy(res->fwid, od.fwid, 48);
	cm_gpu_driver_rim_id(&od, false, res->driver_rim_id, sizeof(res->driver_rim_id));
	cm_gpu_vbios_rim_id(&od, res->vbios_rim_id, sizeof(res->vbios_rim_id));
	note(res, "report", "pass", "SPDM 1.1 GET_MEASUREMENTS: %u blocks, %u opaque fields, %zu bytes", rep->n_blocks,
	     od.n_fields, rep->len);
	if (!od.driver_version[0] || !od.has_vbios) {
		rc = refuse(res, "opaque", e, -EBADMSG, "gpu_report", "gpu report: the opaque data has no %s",
					  od.driver_version[0] ? "VBIOS_VERSION" : "DRIVER_VERSION");
		goto out;
	}
	if (ev->chain_len > CHAIN_PEM_MAX) {
		rc = refuse(res, "chain", e, -E2BIG, "gpu_chain", "gpu chain: %zu bytes (at most %u)", ev->chain_len,
					  CHAIN_PEM_MAX);
		goto out;
	}
	if (!(chain = cm_pem_chain_parse(ev->chain_pem, ev->chain_len, e))) {
		rc = failed(res, "chain", e, e ? e->code : -EBADMSG, "gpu_chain");
		goto out;
	}
	struct ctx c = {p, rep, &od, now, res, e};
	rc = evidence(&c, chain, nonce);
out:
	sk_X509_pop_free(chain, X509_free);
	free(rep);
	return rc;
}
