#include "measure/dcap/tcb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "measure/core/json.h"

static const char *const status_names[CM_TCB_STATUS_COUNT] = {
	[CM_TCB_UP_TO_DATE] = "UpToDate",
	[CM_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[CM_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[CM_TCB_OUT_OF_DATE] = "OutOfDate",
	[CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[CM_TCB_REVOKED] = "Revoked",
	[CM_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
	[CM_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
	[CM_TCB_NOT_SUPPORTED] = "TcbNotSupported",
};

const char *cm_tcb_status_name(enum cm_tcb_status s)
{
	return (unsigned)s < CM_TCB_STATUS_COUNT ? status_names[s] : "Unknown";
}

int cm_tcb_status_parse(const char *name, enum cm_tcb_status *out)
{
	for (int i = 0; i < CM_TCB_STATUS_COUNT; i++)
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = (enum cm_tcb_status)i;
			return 0;
		}
	return -EINVAL;
}

int cm_parse_iso8601(const char *s, int64_t *out)
{
	struct tm tm = {0};
	int used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
		return -EINVAL;
	const char *p = s + used;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "Z") != 0)
		return -EINVAL;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* ---- JSON field readers ------------------------------------------------------------
 * The strict reader (measure/core/json.h) names the JSON path of every error; the public
 * parsers report every malformed document as -EBADMSG. */

static int get_int(const struct cm_jv *o, const char *key, int64_t min, int64_t max, int64_t *out, struct cm_err *e)
{
	struct cm_jv v;
	int rc = cm_jv_need(o, key, &v, e);
	return rc ? rc : cm_jv_int(&v, min, max, out, e);
}

static int get_hex(const struct cm_jv *o, const char *key, uint8_t *out, size_t n, struct cm_err *e)
{
	struct cm_jv v;
	int rc = cm_jv_need(o, key, &v, e);
	return rc ? rc : cm_jv_hex(&v, out, n, e);
}

static int get_str(const struct cm_jv *o, const char *key, size_t max, const char **out, struct cm_err *e)
{
	struct cm_jv v;
	int rc = cm_jv_need(o, key, &v, e);
	return rc ? rc : cm_jv_str(&v, 0, max, out, e);
}

static int get_date(const struct cm_jv *o, const char *key, int64_t *out, struct cm_err *e)
{
	struct cm_jv v;
	const char *s;
	int rc = cm_jv_need(o, key, &v, e);
	if (rc || (rc = cm_jv_str(&v, 0, 64, &s, e)))
		return rc;
	return cm_parse_iso8601(s, out) ? cm_jv_fail(&v, e, -EBADMSG, "not an ISO-8601 UTC time") : 0;
}

/* An object member key of o that is an array of min..max entries. */
static int get_array(const struct cm_jv *o, const char *key, size_t min, size_t max, struct cm_jv *arr, size_t *n,
		     struct cm_err *e)
{
	int rc = cm_jv_need(o, key, arr, e);
	return rc ? rc : cm_jv_array(arr, min, max, n, e);
}

#define ST(s) (1u << (s))
/* The status sets Intel's QVL parsers accept (anything else is malformed collateral):
 * TCB info levels: VALID_TCB_INFO_STATUSES (TcbStatus.h; TcbLevel::parseTcbLevelCommon);
 * QE identity levels: parseStringToTcbStatus (EnclaveIdentityV2::parseTcbLevels);
 * TDX module levels: any string at parse time in Intel's QVL, judged when matched (step 5
 * of cm_tcb_evaluate); here any status name this file knows. */
#define PLATFORM_STATUSES                                                                              \
	(ST(CM_TCB_UP_TO_DATE) | ST(CM_TCB_SW_HARDENING_NEEDED) | ST(CM_TCB_CONFIGURATION_NEEDED) |   \
	 ST(CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) | ST(CM_TCB_OUT_OF_DATE) |                   \
	 ST(CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) | ST(CM_TCB_REVOKED))
#define QE_STATUSES                                                                                    \
	(ST(CM_TCB_UP_TO_DATE) | ST(CM_TCB_CONFIGURATION_NEEDED) | ST(CM_TCB_OUT_OF_DATE) |            \
	 ST(CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) | ST(CM_TCB_REVOKED))
#define MODULE_STATUSES (ST(CM_TCB_NOT_SUPPORTED) - 1u)

static int parse_level_common(const struct cm_jv *lv, unsigned allowed, struct cm_tcb_level *l, struct cm_err *e)
{
	struct cm_jv st, adv;
	const char *name;
	int rc = cm_jv_need(lv, "tcbStatus", &st, e);
	if (rc || (rc = cm_jv_str(&st, 0, 64, &name, e)))
		return rc;
	if (cm_tcb_status_parse(name, &l->status) || !(allowed & ST(l->status)))
		return cm_jv_fail(&st, e, -EBADMSG, "unknown tcbStatus \"%s\"", name);
	if ((rc = get_date(lv, "tcbDate", &l->tcb_date, e)))
		return rc;
	size_t n = 0;
	if (cm_jv_get(lv, "advisoryIDs", &adv) && (rc = cm_jv_array(&adv, 0, CM_ADV_MAX, &n, e)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv a = cm_jv_elem(&adv, i);
		if ((rc = cm_jv_strcpy(&a, l->adv.id[l->adv.n], CM_ADV_LEN, e)))
			return rc;
		l->adv.n++;
	}
	return 0;
}

static int parse_components(const struct cm_jv *tcb, const char *key, uint8_t out[16], struct cm_err *e)
{
	struct cm_jv arr;
	size_t n;
	int rc = get_array(tcb, key, 16, 16, &arr, &n, e);
	for (size_t i = 0; i < 16 && !rc; i++) {
		int64_t svn;
		struct cm_jv c = cm_jv_elem(&arr, i);
		if (!(rc = cm_jv_object(&c, NULL, e)) && !(rc = get_int(&c, "svn", 0, 255, &svn, e)))
			out[i] = (uint8_t)svn;
	}
	return rc;
}

/* Level order of Intel's QVL, highest first; levels that compare equal are duplicates,
 * which Intel's parsers reject. Module and QE identity levels: by ISVSVN
 * (TdxModuleTcbLevel::operator>, a std::set<..., std::greater>). */
static int cmp_isvsvn_desc(const void *a, const void *b)
{
	const struct cm_tcb_level *x = a, *y = b;
	return (int)y->isvsvn - (int)x->isvsvn;
}

/* Platform levels (TcbLevel::operator> in AttestationParsers/src/Json/TcbLevel.cpp): the SGX
 * TCB components compared as a vector (lexicographically), then PCESVN, and for TDX TCB info
 * with equal PCESVN the TDX TCB components as a vector. */
static int cmp_sgx_desc(const void *a, const void *b)
{
	const struct cm_tcb_level *x = a, *y = b;
	int c = memcmp(y->sgx, x->sgx, 16);
	return c ? c : (int)y->pcesvn - (int)x->pcesvn;
}

static int cmp_tdx_desc(const void *a, const void *b)
{
	const struct cm_tcb_level *x = a, *y = b;
	int c = cmp_sgx_desc(a, b);
	return c ? c : memcmp(y->tdx, x->tdx, 16);
}

static int sort_levels(const struct cm_jv *arr, struct cm_tcb_level *lv, int n,
		       int (*cmp)(const void *, const void *), struct cm_err *e)
{
	qsort(lv, (size_t)n, sizeof(*lv), cmp);
	for (int i = 1; i < n; i++)
		if (cmp(&lv[i - 1], &lv[i]) == 0)
			return cm_jv_fail(arr, e, -EBADMSG, "duplicated TCB levels");
	return 0;
}

/* Levels of the form {"tcb":{"isvsvn":N}, ...} (module and QE identities), sorted. */
static int parse_isv_levels(const struct cm_jv *o, unsigned allowed, struct cm_tcb_level **out, int *n_out,
			    struct cm_err *e)
{
	struct cm_jv arr;
	size_t n;
	int rc = get_array(o, "tcbLevels", 1, CM_TCB_LEVELS_MAX, &arr, &n, e);
	if (rc)
		return rc;
	struct cm_tcb_level *lv = calloc(n, sizeof(*lv));
	if (!lv)
		return cm_fail(e, -ENOMEM, "out of memory");
	*out = lv;
	*n_out = (int)n;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv l = cm_jv_elem(&arr, i), tcb;
		int64_t svn;
		if ((rc = cm_jv_object(&l, NULL, e)) || (rc = cm_jv_need(&l, "tcb", &tcb, e)) ||
		    (rc = cm_jv_object(&tcb, NULL, e)) || (rc = get_int(&tcb, "isvsvn", 0, 65535, &svn, e)) ||
		    (rc = parse_level_common(&l, allowed, &lv[i], e)))
			return rc;
		lv[i].isvsvn = (uint16_t)svn;
	}
	return sort_levels(&arr, lv, (int)n, cmp_isvsvn_desc, e);
}

static int parse_module(const struct cm_jv *m, struct cm_tdx_module *out, bool with_levels, struct cm_err *e)
{
	int rc;
	const char *id;
	if ((rc = cm_jv_object(m, NULL, e)) || (rc = get_hex(m, "mrsigner", out->mrsigner, 48, e)) ||
	    (rc = get_hex(m, "attributes", out->attributes, 8, e)) ||
	    (rc = get_hex(m, "attributesMask", out->attributes_mask, 8, e)))
		return rc;
	if (!with_levels)
		return 0;
	if ((rc = get_str(m, "id", sizeof(out->id) - 1, &id, e)))
		return rc;
	memcpy(out->id, id, strlen(id) + 1);
	return parse_isv_levels(m, MODULE_STATUSES, &out->levels, &out->n_levels, e);
}

#define COLLATERAL_JSON_MAX (1u << 22)

/* Intel's collateral JSON: a bad document of any kind is -EBADMSG. */
static int malformed(int rc, struct cm_err *e)
{
	if (rc == 0 || rc == -ENOMEM)
		return rc;
	if (e)
		e->code = -EBADMSG;
	return -EBADMSG;
}

/* Parse one collateral JSON document named name with body(root, out, e); -EBADMSG when malformed. */
static int collateral_json(const char *json, size_t len, const char *name,
			   int (*body)(const struct cm_jv *, void *, struct cm_err *), void *out, struct cm_err *e)
{
	struct cm_jv o;
	int rc = cm_json_read(json, len, COLLATERAL_JSON_MAX, name, &o, e);
	if (rc == 0)
		rc = body(&o, out, e);
	cm_json_release(&o);
	return malformed(rc, e);
}

static int tcb_info_body(const struct cm_jv *o, void *out, struct cm_err *e)
{
	struct cm_tcb_info *t = out;
	int64_t v;
	const char *id;
	struct cm_jv x, arr;
	int rc = cm_jv_object(o, NULL, e);
	if (rc || (rc = get_str(o, "id", 16, &id, e)))
		return rc;
	if (strcmp(id, "TDX") == 0)
		t->tdx = true;
	else if (strcmp(id, "SGX") != 0)
		return cm_fail(e, -EBADMSG, "TCB info: unknown id \"%s\"", id);
	if ((rc = get_int(o, "version", 0, 1000, &v, e)))
		return rc;
	t->version = (int)v;
	if (t->version < 3)
		return cm_fail(e, -EBADMSG, "TCB info: version %d not supported (need 3)", t->version);
	if ((rc = get_date(o, "issueDate", &t->issue_date, e)) || (rc = get_date(o, "nextUpdate", &t->next_update, e)) ||
	    (rc = get_hex(o, "fmspc", t->fmspc, 6, e)) || (rc = get_hex(o, "pceId", t->pceid, 2, e)) ||
	    (rc = get_int(o, "tcbType", 0, 1000, &v, e)))
		return rc;
	t->tcb_type = (int)v;
	if ((rc = get_int(o, "tcbEvaluationDataNumber", 0, INT32_MAX, &v, e)))
		return rc;
	t->eval_number = (int)v;
	if (cm_jv_get(o, "tdxModule", &x)) {
		if ((rc = parse_module(&x, &t->tdx_module, false, e)))
			return rc;
		t->has_tdx_module = true;
	}
	size_t n = 0;
	if (cm_jv_get(o, "tdxModuleIdentities", &x) && (rc = cm_jv_array(&x, 0, CM_MODULES_MAX, &n, e)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv m = cm_jv_elem(&x, i);
		if ((rc = parse_module(&m, &t->modules[t->n_modules++], true, e)))
			return rc;
	}
	if ((rc = get_array(o, "tcbLevels", 1, CM_TCB_LEVELS_MAX, &arr, &n, e)))
		return rc;
	if (!(t->levels = calloc(n, sizeof(*t->levels))))
		return cm_fail(e, -ENOMEM, "out of memory");
	t->n_levels = (int)n;
	for (size_t i = 0; i < n; i++) {
		struct cm_jv l = cm_jv_elem(&arr, i), tcb;
		struct cm_tcb_level *L = &t->levels[i];
		if ((rc = cm_jv_object(&l, NULL, e)) || (rc = cm_jv_need(&l, "tcb", &tcb, e)) ||
		    (rc = cm_jv_object(&tcb, NULL, e)) || (rc = parse_components(&tcb, "sgxtcbcomponents", L->sgx, e)) ||
		    (rc = get_int(&tcb, "pcesvn", 0, 65535, &v, e)))
			return rc;
		L->pcesvn = (uint16_t)v;
		if ((t->tdx && (rc = parse_components(&tcb, "tdxtcbcomponents", L->tdx, e))) ||
		    (rc = parse_level_common(&l, PLATFORM_STATUSES, L, e)))
			return rc;
	}
	return sort_levels(&arr, t->levels, t->n_levels, t->tdx ? cmp_tdx_desc : cmp_sgx_desc, e);
}

int cm_tcb_info_parse(const char *json, size_t len, struct cm_tcb_info *t, struct cm_err *e)
{
	memset(t, 0, sizeof(*t));
	int rc = collateral_json(json, len, "TCB info", tcb_info_body, t, e);
	if (rc)
		cm_tcb_info_free(t);
	return rc;
}

void cm_tcb_info_free(struct cm_tcb_info *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n_modules; i++)
		free(t->modules[i].levels);
	free(t->levels);
	memset(t, 0, sizeof(*t));
}

static int qe_identity_body(const struct cm_jv *o, void *out, struct cm_err *e)
{
	struct cm_qe_identity *q = out;
	int64_t v;
	uint8_t b4[4];
	const char *id;
	int rc = cm_jv_object(o, NULL, e);
	if (rc || (rc = get_str(o, "id", 16, &id, e)))
		return rc;
	if (strcmp(id, "TD_QE") == 0)
		q->td = true;
	else if (strcmp(id, "QE") != 0)
		return cm_fail(e, -EBADMSG, "QE identity: unsupported id \"%s\"", id);
	if ((rc = get_int(o, "version", 0, 1000, &v, e)))
		return rc;
	q->version = (int)v;
	if (q->version != 2)
		return cm_fail(e, -EBADMSG, "QE identity: version %d not supported (need 2)", q->version);
	if ((rc = get_date(o, "issueDate", &q->issue_date, e)) || (rc = get_date(o, "nextUpdate", &q->next_update, e)) ||
	    (rc = get_int(o, "tcbEvaluationDataNumber", 0, INT32_MAX, &v, e)))
		return rc;
	q->eval_number = (int)v;
	/* Little-endian, as Intel's QVL reads them (EnclaveReportVerifier::vectorToUint32 swaps
	 * the bytes of the hex string): "01000000" is MISCSELECT bit 0. */
	if ((rc = get_hex(o, "miscselect", b4, 4, e)))
		return rc;
	q->miscselect = cm_le32(b4);
	if ((rc = get_hex(o, "miscselectMask", b4, 4, e)))
		return rc;
	q->miscselect_mask = cm_le32(b4);
	if ((rc = get_hex(o, "attributes", q->attributes, 16, e)) ||
	    (rc = get_hex(o, "attributesMask", q->attributes_mask, 16, e)) ||
	    (rc = get_hex(o, "mrsigner", q->mrsigner, 32, e)) || (rc = get_int(o, "isvprodid", 0, 65535, &v, e)))
		return rc;
	q->isvprodid = (uint16_t)v;
	return parse_isv_levels(o, QE_STATUSES, &q->levels, &q->n_levels, e);
}

int cm_qe_identity_parse(const char *json, size_t len, struct cm_qe_identity *q, struct cm_err *e)
{
	memset(q, 0, sizeof(*q));
	int rc = collateral_json(json, len, "QE identity", qe_identity_body, q, e);
	if (rc)
		cm_qe_identity_free(q);
	return rc;
}

void cm_qe_identity_free(struct cm_qe_identity *q)
{
	if (!q)
		return;
	free(q->levels);
	memset(q, 0, sizeof(*q));
}

/* ---- evaluation (Intel QVL: QuoteVerifier, TcbLevelCheck, TdxModuleCheck, TDRelaunchCheck) ---- */

/* At most three levels are merged, each with at most CM_ADV_MAX IDs: always fits. */
static void adv_union(struct cm_tcb_eval *dst, const struct cm_advisories *src)
{
	for (int i = 0; i < src->n; i++) {
		bool have = false;
		for (int j = 0; j < dst->n_adv && !have; j++)
			have = strcmp(dst->adv[j], src->id[i]) == 0;
		if (!have && dst->n_adv < 3 * CM_ADV_MAX)
			memcpy(dst->adv[dst->n_adv++], src->id[i], CM_ADV_LEN);
	}
}

static bool is_config_needed(enum cm_tcb_status s)
{
	return s == CM_TCB_CONFIGURATION_NEEDED || s == CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED ||
	       s == CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
	       s == CM_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
}

/* convergeTcbStatusWithTdxModuleStatus / convergeTcbStatusWithQeTcbStatus share the
 * OutOfDate and Revoked rows. */
static enum cm_tcb_status converge(enum cm_tcb_status level, enum cm_tcb_status other)
{
	if (other == CM_TCB_OUT_OF_DATE) {
		if (level == CM_TCB_UP_TO_DATE || level == CM_TCB_SW_HARDENING_NEEDED)
			return CM_TCB_OUT_OF_DATE;
		if (level == CM_TCB_CONFIGURATION_NEEDED || level == CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
			return CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	}
	if (other == CM_TCB_REVOKED)
		return CM_TCB_REVOKED;
	return level;
}

static const struct cm_tdx_module *find_module(const struct cm_tcb_info *ti, uint8_t ver)
{
	char want[16];
	snprintf(want, sizeof(want), "TDX_%02X", ver);
	for (int i = 0; i < ti->n_modules; i++)
		if (strcasecmp(ti->modules[i].id, want) == 0)
			return &ti->modules[i];
	return NULL;
}


/* What Intel's algorithm carries from one step to the next. */
struct tcb_run {
	const struct cm_tcb_info *ti;
	const struct cm_qe_identity *qi;
	const struct cm_quote *q;
	const struct cm_pck_ext *pck;
	struct cm_tcb_eval *out;
	bool td;
	uint8_t ver;                     /* TDX module major version (TEE_TCB_SVN[1]); 0: none */
	const struct cm_tdx_module *mod; /* its tdxModuleIdentities entry (ver > 0) */
	const struct cm_tcb_level *qel;  /* QE identity level */
	enum cm_tcb_status qst;          /* the QE status as the converge tables use it */
	const struct cm_tcb_level *sgxl, *tdxl; /* platform levels (SGX components; TDX too) */
	const struct cm_tcb_level *ml;   /* TDX module level (ver > 0) */
	enum cm_tcb_status mstat;        /* its status (UpToDate without one) */
	enum cm_tcb_status st;           /* platform status converged with the module's */
};

/* 1. The collateral is for this quote: TCB info and QE identity kind, FMSPC, PCE-ID. */
static int collateral_matches_quote(const struct tcb_run *r, struct cm_err *e)
{
	const struct cm_tcb_info *ti = r->ti;
	const struct cm_pck_ext *pck = r->pck;
	if (ti->tdx != r->td || ti->version < 3)
		return cm_fail_check(e, -EBADMSG, "tcb_info_mismatch",
				     "TCB info id %s v%d does not match a %s quote", ti->tdx ? "TDX" : "SGX",
				     ti->version, r->td ? "TDX" : "SGX");
	if (r->qi->td != r->td)
		return cm_fail_check(e, -EBADMSG, "qe_identity_mismatch",
				     "QE identity id %s does not match a %s quote", r->qi->td ? "TD_QE" : "QE",
				     r->td ? "TDX" : "SGX");
	if (memcmp(pck->fmspc, ti->fmspc, 6) != 0)
		return cm_fail_check(e, -EBADMSG, "fmspc_mismatch",
				     "PCK FMSPC %02x%02x%02x%02x%02x%02x does not match the TCB info FMSPC "
				     "%02x%02x%02x%02x%02x%02x",
				     pck->fmspc[0], pck->fmspc[1], pck->fmspc[2], pck->fmspc[3], pck->fmspc[4], pck->fmspc[5],
				     ti->fmspc[0], ti->fmspc[1], ti->fmspc[2], ti->fmspc[3], ti->fmspc[4], ti->fmspc[5]);
	if (memcmp(pck->pceid, ti->pceid, 2) != 0)
		return cm_fail_check(e, -EBADMSG, "pceid_mismatch", "PCK PCE-ID does not match the TCB info pceId");
	return 0;
}

/* 2. The TDX module identity (4.1.2.4.11): MRSIGNERSEAM and SEAMATTRIBUTES. */
static int tdx_module_identity(struct tcb_run *r, struct cm_err *e)
{
	if (!r->td)
		return 0;
	const struct cm_quote *q = r->q;
	const uint8_t *mrsigner, *attrs;
	if (r->ver > 0) {
		r->mod = find_module(r->ti, r->ver);
		if (!r->mod)
			return cm_fail_check(e, -EBADMSG, "tdx_module_mismatch",
					     "no tdxModuleIdentities entry TDX_%02X for TDX module version %u", r->ver,
					     r->ver);
		mrsigner = r->mod->mrsigner;
		attrs = r->mod->attributes;
	} else {
		if (!r->ti->has_tdx_module)
			return cm_fail_check(e, -EBADMSG, "tdx_module_mismatch", "TCB info has no tdxModule");
		mrsigner = r->ti->tdx_module.mrsigner;
		attrs = r->ti->tdx_module.attributes;
	}
	if (memcmp(q->td.mr_signer_seam, mrsigner, 48) != 0)
		return cm_fail_check(e, -EBADMSG, "tdx_module_mismatch",
				     "MRSIGNERSEAM does not match the TDX module identity");
	for (int i = 0; i < 8; i++)
		if (q->td.seam_attributes[i] != 0 || q->td.seam_attributes[i] != attrs[i])
			return cm_fail_check(e, -EBADMSG, "tdx_module_mismatch",
					     "SEAMATTRIBUTES do not match the TDX module identity");
	return 0;
}

/* 3. The QE identity (4.1.2.9): the QE report against it, then its level by ISVSVN. */
static int qe_identity(struct tcb_run *r, struct cm_err *e)
{
	const struct cm_sgx_report *qe = &r->q->qe_report;
	const struct cm_qe_identity *qi = r->qi;
	if ((qe->misc_select & qi->miscselect_mask) != qi->miscselect)
		return cm_fail_check(e, -EBADMSG, "qe_identity_mismatch",
				     "QE MISCSELECT does not match the QE identity");
	for (int i = 0; i < 16; i++)
		if ((qe->attributes[i] & qi->attributes_mask[i]) != qi->attributes[i])
			return cm_fail_check(e, -EBADMSG, "qe_identity_mismatch",
					     "QE ATTRIBUTES do not match the QE identity");
	if (memcmp(qe->mr_signer, qi->mrsigner, 32) != 0)
		return cm_fail_check(e, -EBADMSG, "qe_identity_mismatch",
				     "QE MRSIGNER does not match the QE identity");
	if (qe->isv_prod_id != qi->isvprodid)
		return cm_fail_check(e, -EBADMSG, "qe_identity_mismatch",
				     "QE ISVPRODID %u does not match the QE identity (%u)", qe->isv_prod_id,
				     qi->isvprodid);
	for (int i = 0; i < qi->n_levels && !r->qel; i++)
		if (qi->levels[i].isvsvn <= qe->isv_svn)
			r->qel = &qi->levels[i];
	if (!r->qel)
		return cm_fail_check(e, -EBADMSG, "tcb_not_supported",
				     "QE ISVSVN %u is below every QE identity level", qe->isv_svn);
	r->out->qe_status = r->qel->status;
	/* Intel's EnclaveReportVerifier: every QE status other than UpToDate and Revoked counts
	 * as OutOfDate (ConfigurationNeeded, OutOfDateConfigurationNeeded). */
	r->qst = r->qel->status == CM_TCB_UP_TO_DATE || r->qel->status == CM_TCB_REVOKED ? r->qel->status
											 : CM_TCB_OUT_OF_DATE;
	return 0;
}

/* 4. The platform level (matchTcbLevels): the first level, highest first, that the PCK's
 * SGX components and PCESVN reach, and for a TD also its TEE_TCB_SVN. */
static int platform_level(struct tcb_run *r, struct cm_err *e)
{
	const struct cm_tcb_info *ti = r->ti;
	const struct cm_quote *q = r->q;
	for (int i = 0; i < ti->n_levels && !r->tdxl; i++) {
		const struct cm_tcb_level *L = &ti->levels[i];
		bool ok = r->pck->pcesvn >= L->pcesvn;
		for (int c = 0; c < 16 && ok; c++)
			ok = r->pck->comp_svn[c] >= L->sgx[c];
		if (!ok)
			continue;
		if (!r->td) {
			r->sgxl = L;
			break;
		}
		if (!r->sgxl)
			r->sgxl = L;
		bool tok = true;
		for (int c = q->td.tee_tcb_svn[1] > 0 ? 2 : 0; c < 16 && tok; c++)
			tok = q->td.tee_tcb_svn[c] >= L->tdx[c];
		if (tok)
			r->tdxl = L;
	}
	if (!r->sgxl)
		return cm_fail_check(e, -EBADMSG, "tcb_not_supported",
				     "no TCB level matches the PCK certificate's SGX TCB components and PCESVN");
	if (r->td && !r->tdxl)
		return cm_fail_check(e, -EBADMSG, "tcb_not_supported", "no TCB level matches the TD's TEE_TCB_SVN");
	const struct cm_tcb_level *pl = r->td ? r->tdxl : r->sgxl;
	r->out->platform_status = pl->status;
	r->out->tcb_date = pl->tcb_date;
	return 0;
}

/* 5. The TDX module level (checkTdxModuleTcbStatus), converged with the platform's. */
static int module_level(struct tcb_run *r, struct cm_err *e)
{
	const struct cm_tdx_module *mod = r->mod;
	uint8_t svn = r->q->td.tee_tcb_svn[0];
	r->mstat = CM_TCB_UP_TO_DATE;
	if (r->ver > 0) {
		for (int i = 0; i < mod->n_levels && !r->ml; i++)
			if (svn >= mod->levels[i].isvsvn)
				r->ml = &mod->levels[i];
		if (!r->ml)
			return cm_fail_check(e, -EBADMSG, "tcb_not_supported",
					     "TDX module SVN %u is below every level of %s", svn, mod->id);
		r->mstat = r->ml->status;
		if (r->mstat != CM_TCB_UP_TO_DATE && r->mstat != CM_TCB_OUT_OF_DATE && r->mstat != CM_TCB_REVOKED)
			return cm_fail_check(e, -EBADMSG, "tcb_not_supported", "unrecognized TDX module status %s",
					     cm_tcb_status_name(r->mstat));
		r->out->has_module_status = true;
		r->out->module_status = r->mstat;
	}
	r->st = converge(r->tdxl->status, r->mstat);
	return 0;
}

/* 6. TD 1.5 relaunch (checkForRelaunch): an out-of-date module that the TD would leave by
 * relaunching (TEE_TCB_SVN2 reaches the latest level) is TDRelaunchAdvised. */
static int td15_relaunch(struct tcb_run *r, struct cm_err *e)
{
	const struct cm_tcb_level *sgxl = r->sgxl;
	if (r->st == CM_TCB_REVOKED || r->q->body_type != CM_BODY_TD15 || r->qst != CM_TCB_UP_TO_DATE ||
	    !(sgxl->status == CM_TCB_UP_TO_DATE || sgxl->status == CM_TCB_SW_HARDENING_NEEDED ||
	      sgxl->status == CM_TCB_CONFIGURATION_NEEDED || sgxl->status == CM_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED) ||
	    !(r->st == CM_TCB_OUT_OF_DATE || r->st == CM_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) || r->ver == 0 ||
	    r->mstat != CM_TCB_OUT_OF_DATE)
		return 0;
	const uint8_t *svn2 = r->q->td.tee_tcb_svn2;
	const struct cm_tcb_level *latest = &r->ti->levels[0];
	int need0;
	if (svn2[1] == 0) {
		need0 = latest->tdx[0];
	} else {
		const struct cm_tdx_module *m2 = find_module(r->ti, svn2[1]);
		if (!m2)
			return cm_fail_check(e, -EBADMSG, "tdx_module_mismatch",
					     "no tdxModuleIdentities entry for TEE_TCB_SVN2 module version %u", svn2[1]);
		need0 = m2->levels[0].isvsvn;
	}
	if (svn2[0] >= need0 && svn2[2] >= latest->tdx[2])
		r->st = is_config_needed(sgxl->status) || is_config_needed(r->st)
				? CM_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
				: CM_TCB_TD_RELAUNCH_ADVISED;
	return 0;
}

/* 7. Converge with the QE status; 8. the advisories of every level that counted. */
static void converge_with_qe(struct tcb_run *r)
{
	struct cm_tcb_eval *out = r->out;
	if (!r->td) {
		out->status = converge(r->sgxl->status, r->qst);
		adv_union(out, &r->sgxl->adv);
	} else {
		out->status = r->st == CM_TCB_REVOKED ? r->st : converge(r->st, r->qst);
		adv_union(out, &r->tdxl->adv);
		if (r->ml)
			adv_union(out, &r->ml->adv);
	}
	adv_union(out, &r->qel->adv);
}

int cm_tcb_evaluate(const struct cm_tcb_info *ti, const struct cm_qe_identity *qi, const struct cm_quote *q,
		    const struct cm_pck_ext *pck, struct cm_tcb_eval *out, struct cm_err *e)
{
	memset(out, 0, sizeof(*out));
	bool td = q->tee_type == CM_TEE_TDX;
	struct tcb_run r = {.ti = ti, .qi = qi, .q = q, .pck = pck, .out = out, .td = td,
			    .ver = td ? q->td.tee_tcb_svn[1] : 0};
	int rc;
	if ((rc = collateral_matches_quote(&r, e)) || (rc = tdx_module_identity(&r, e)) || (rc = qe_identity(&r, e)) ||
	    (rc = platform_level(&r, e)))
		return rc;
	if (td && ((rc = module_level(&r, e)) || (rc = td15_relaunch(&r, e))))
		return rc;
	converge_with_qe(&r);
	return 0;
}
