/* cocoon-launch collateral: fetch DCAP collateral for the configured FMSPCs from a PCS or
 * PCCS (API v4), verify it with libmeasure, install it atomically in the spec share's
 * unmeasured runtime/collateral/ and record the state (docs/operator-guide.md
 * "Collateral", docs/formats.md "Collateral state"). */
#include "host-launcher/cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "host-launcher/cli/http.h"
#include "host-launcher/collateral.h"
#include "host-launcher/run.h"
#include "measure/core/json.h"
#include "measure/dcap/collateral.h"

#define HTTP_TIMEOUT 60
#define BUNDLE_MAX (4u << 20)

static const char collateral_help[] =
	"usage: cocoon-launch collateral CONFIG [--set KEY=VALUE]... [--instance N] [--time UNIX] [--json]\n"
	"Fetch the DCAP collateral of the platform's FMSPC (collateral_fmspc) and of the peers'\n"
	"(collateral_peer_fmspcs) from collateral_url (Intel PCS or a PCCS, API v4), verify each\n"
	"bundle with libmeasure (signatures, chains, CRLs, validity, FMSPC, not older than the\n"
	"bundle in use) and install it atomically as SPEC_DIR/" CL_COLL_DIR "/<FMSPC>.json;\n"
	"a bundle that fails keeps the last good one. State: SPEC_DIR/" CL_COLL_STATE ".\n"
	"  --time UNIX   verify at this time instead of now (tests, replays)\n"
	"  --json        print the state file\n"
	"Exit codes: 0 every FMSPC has a fresh bundle, 1 some fetch or check failed (the last good\n"
	"bundles stay), 2 usage, 3 configuration.\n";

struct fetched {
	uint8_t *body;
	size_t len;
	char *hdr;
};

static void fetched_free(struct fetched *f)
{
	free(f->body);
	free(f->hdr);
	memset(f, 0, sizeof(*f));
}

static int get(const char *url, const char *header, struct fetched *f, struct cm_err *e)
{
	return cli_http_get(url, CL_COLL_BODY_MAX, HTTP_TIMEOUT, header, &f->body, &f->len, header ? &f->hdr : NULL,
			    e);
}

/* Per-FMSPC outcome of this run. */
struct outcome {
	const char *result; /* "updated", "unchanged", "refused", "fetch_failed" */
	char error[CM_ERR_MAX + 32];
	const char *check;
};

static void fail_outcome(struct outcome *o, const char *result, const struct cm_err *e)
{
	o->result = result;
	snprintf(o->error, sizeof(o->error), "%s", e->msg);
	o->check = e->check;
}

/* The previous state's fetched_at of fmspc (0 when unknown). */
static int64_t old_fetched_at(const char *state_path, const char *fmspc)
{
	struct cm_jv root, arr, el, v;
	int64_t t = 0;
	if (cm_json_read_file(state_path, 1u << 20, "state", &root, NULL))
		return 0;
	size_t n;
	if (cm_jv_get(&root, "fmspcs", &arr) && !cm_jv_array(&arr, 0, CL_COLL_MAX_FMSPCS * 4, &n, NULL)) {
		for (size_t i = 0; i < n; i++) {
			el = cm_jv_elem(&arr, i);
			const char *f;
			if (cm_jv_get(&el, "fmspc", &v) && !cm_jv_str(&v, 12, 12, &f, NULL) && !strcasecmp(f, fmspc) &&
			    cm_jv_get(&el, "fetched_at", &v) && v.o && !cm_jv_int(&v, 0, INT64_MAX, &t, NULL))
				break;
			t = 0;
		}
	}
	cm_json_release(&root);
	return t;
}

static void add_time_or_null(json_object *o, const char *key, int64_t t)
{
	if (t > 0)
		cm_json_add_int(o, key, t);
	else
		json_object_object_add(o, key, NULL);
}

static void add_str_or_null(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s && *s ? json_object_new_string(s) : NULL);
}

/* The state entry of one FMSPC: the installed bundle (whatever this run did) and this run. */
static json_object *state_entry(const struct cl_config *c, size_t i, const char *fmspc, const struct outcome *o,
				X509 *anchor, int64_t now, const char *state_path)
{
	const struct cl_collateral_conf *cc = &c->collateral;
	json_object *x = json_object_new_object();
	cm_json_add_str(x, "fmspc", fmspc);
	cm_json_add_bool(x, "platform", cc->have_platform && i == 0);
	char rel[64], path[CL_PATH_MAX + 64];
	snprintf(rel, sizeof(rel), "%s/%s.json", CL_COLL_DIR, fmspc);
	snprintf(path, sizeof(path), "%s/%s", c->spec_dir, rel);
	uint8_t *buf = NULL;
	size_t len = 0;
	struct cm_collateral *col = NULL;
	struct stat st;
	bool have = stat(path, &st) == 0 && cm_read_file(path, BUNDLE_MAX, &buf, &len, NULL) == 0 &&
		    cm_collateral_load((const char *)buf, len, anchor, &col, NULL) == 0;
	add_str_or_null(x, "bundle", have ? rel : NULL);
	int64_t fetched = 0;
	if (have) {
		const struct cm_tcb_info *t = cm_collateral_tcb_info(col);
		int64_t from, to;
		cm_collateral_window(col, &from, &to);
		fetched = !strcmp(o->result, "updated") || !strcmp(o->result, "unchanged") ? now
											: old_fetched_at(state_path, fmspc);
		cm_json_add_int(x, "installed_at", (int64_t)st.st_mtim.tv_sec);
		add_time_or_null(x, "fetched_at", fetched);
		cm_json_add_int(x, "tcb_issue_date", t->issue_date);
		cm_json_add_int(x, "qe_issue_date", cm_collateral_qe_identity(col)->issue_date);
		cm_json_add_int(x, "tcb_evaluation_data_number", t->eval_number);
		cm_json_add_int(x, "valid_until", to);
		cm_json_add_int(x, "age", now - t->issue_date);
		cm_json_add_bool(x, "expired", now > to || now < from);
	} else {
		json_object_object_add(x, "installed_at", NULL);
		json_object_object_add(x, "fetched_at", NULL);
	}
	cm_json_add_str(x, "last_result", o->result);
	add_str_or_null(x, "last_error", o->error);
	add_str_or_null(x, "last_check", o->check);
	cm_collateral_free(col);
	free(buf);
	return x;
}

/* One FMSPC: fetch its TCB info, build the bundle with the shared responses, accept,
 * install. */
static void refresh_one(const struct cl_config *c, const uint8_t f[6], const char *fmspc, const struct cl_pcs *shared,
			X509 *anchor, int64_t now, const char *dir, struct outcome *o)
{
	struct cm_err e = {0};
	char url[CL_COLL_URL_MAX + 64];
	snprintf(url, sizeof(url), "%s/tdx/certification/v4/tcb?fmspc=%s", c->collateral.url, fmspc);
	struct fetched tcb = {0};
	if (get(url, "TCB-Info-Issuer-Chain", &tcb, &e)) {
		fail_outcome(o, "fetch_failed", &e);
		return;
	}
	struct cl_pcs r = *shared;
	r.tcb = (const char *)tcb.body;
	r.tcb_len = tcb.len;
	r.tcb_chain = tcb.hdr;
	char *bundle = NULL;
	size_t blen = 0;
	int rc = cl_collateral_bundle(&r, &bundle, &blen, &e);
	fetched_free(&tcb);
	if (rc) {
		fail_outcome(o, "refused", &e);
		return;
	}
	char name[32], path[CL_PATH_MAX + 128];
	snprintf(name, sizeof(name), "%s.json", fmspc);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	uint8_t *old = NULL;
	size_t olen = 0;
	if (cm_read_file(path, BUNDLE_MAX, &old, &olen, NULL))
		old = NULL;
	rc = cl_collateral_accept(bundle, blen, (const char *)old, olen, f, anchor, now, NULL, &e);
	if (rc)
		fail_outcome(o, "refused", &e);
	else if (old && olen == blen && !memcmp(old, bundle, blen))
		o->result = "unchanged"; /* not rewritten: cocoon-ratls would reload for nothing */
	else if (cl_write_atomic(dir, name, bundle, blen, &e))
		fail_outcome(o, "refused", &e);
	else
		o->result = "updated";
	free(old);
	free(bundle);
}

int cli_collateral_refresh(const struct cl_config *c, int64_t now, bool json)
{
	const struct cl_collateral_conf *cc = &c->collateral;
	if (!cc->n_fmspc)
		return cm_cli_error(CL_EXIT_CONFIG, "config: collateral needs collateral_fmspc (the platform's FMSPC) "
						 "and/or collateral_peer_fmspcs");
	struct cm_err e = {0};
	X509 *anchor = NULL;
	if (cc->root[0] && !(anchor = cm_x509_load_pem_file(cc->root, &e)))
		return cm_cli_error(CL_EXIT_CONFIG, "config: key collateral_root: %s", e.msg);
	char dir[CL_PATH_MAX + 64], state_path[CL_PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/%s", c->spec_dir, CL_COLL_DIR);
	snprintf(state_path, sizeof(state_path), "%s/%s", c->spec_dir, CL_COLL_STATE);
	if (cli_mkdir_p(dir, 0755) < 0) {
		X509_free(anchor);
		return cm_cli_error(CL_EXIT_FAIL, "cannot create %s (%s)", dir, strerror(errno));
	}
	/* Shared by every FMSPC: QE identity, PCK CRL (platform CA: TDX PCK certificates), root CA CRL. */
	struct fetched qe = {0}, crl = {0}, root = {0};
	char url[CL_COLL_URL_MAX + 64];
	snprintf(url, sizeof(url), "%s/tdx/certification/v4/qe/identity", cc->url);
	int shared_rc = get(url, "SGX-Enclave-Identity-Issuer-Chain", &qe, &e);
	if (!shared_rc) {
		snprintf(url, sizeof(url), "%s/sgx/certification/v4/pckcrl?ca=platform&encoding=der", cc->url);
		shared_rc = get(url, "SGX-PCK-CRL-Issuer-Chain", &crl, &e);
	}
	if (!shared_rc)
		shared_rc = get(cc->root_crl_url, NULL, &root, &e);
	struct cl_pcs shared = {
		.qe = (const char *)qe.body, .qe_len = qe.len, .qe_chain = qe.hdr,
		.pck_crl = crl.body, .pck_crl_len = crl.len, .pck_crl_chain = crl.hdr,
		.root_crl = root.body, .root_crl_len = root.len,
	};
	json_object *state = json_object_new_object(), *arr = json_object_new_array();
	cm_json_add_int(state, "version", 1);
	cm_json_add_int(state, "checked_at", now);
	cm_json_add_str(state, "source", cc->url);
	int rc = 0;
	for (size_t i = 0; i < cc->n_fmspc; i++) {
		char fmspc[13];
		cm_hex_encode(cc->fmspc[i], 6, fmspc, sizeof(fmspc));
		for (char *p = fmspc; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		struct outcome o = {0};
		if (shared_rc)
			fail_outcome(&o, "fetch_failed", &e);
		else
			refresh_one(c, cc->fmspc[i], fmspc, &shared, anchor, now, dir, &o);
		json_object *entry = state_entry(c, i, fmspc, &o, anchor, now, state_path), *b;
		if (strcmp(o.result, "updated") && strcmp(o.result, "unchanged")) {
			rc = CL_EXIT_FAIL;
			bool kept = json_object_object_get_ex(entry, "bundle", &b) && b;
			fprintf(stderr, "error: collateral %s: %s%s%s%s; %s\n", fmspc, o.error, o.check ? " [check " : "",
				o.check ? o.check : "", o.check ? "]" : "",
				kept ? "the last good bundle stays" : "no bundle is installed for it");
		} else if (!json) {
			printf("collateral %s: %s\n", fmspc, o.result);
		}
		json_object_array_add(arr, entry);
	}
	json_object_object_add(state, "fmspcs", arr);
	const char *text = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
									  JSON_C_TO_STRING_NOSLASHESCAPE);
	char sdir[CL_PATH_MAX + 16];
	snprintf(sdir, sizeof(sdir), "%s/runtime", c->spec_dir);
	char *nl = NULL;
	if (text && asprintf(&nl, "%s\n", text) > 0 &&
	    cl_write_atomic(sdir, strrchr(CL_COLL_STATE, '/') + 1, nl, strlen(nl), &e)) {
		fprintf(stderr, "error: %s\n", e.msg);
		rc = CL_EXIT_FAIL;
	}
	if (json && nl)
		fputs(nl, stdout);
	free(nl);
	json_object_put(state);
	fetched_free(&qe);
	fetched_free(&crl);
	fetched_free(&root);
	X509_free(anchor);
	return rc;
}

int cmd_collateral(int argc, char **argv)
{
	struct cli_cfg_opts o = { .instance = -1 };
	int rc = 0, json = 0;
	int64_t now = (int64_t)time(NULL);
	const struct cm_opt opts[] = {
		CLI_CFG_OPTS(&o),
		CM_OPT_TIME("time", 0, &now, 1),
		CM_OPT_FLAG("json", 0, &json),
		CM_OPT_END,
	};
	if (cli_parse_opts("collateral", argc, argv, opts, collateral_help, &rc))
		return rc;
	if (argc - optind != 1)
		return cli_usage_error("collateral", "exactly one CONFIG expected", NULL);
	struct cl_config c;
	rc = cli_load_config(&c, argv[optind], &o);
	if (rc)
		return rc;
	return cli_collateral_refresh(&c, now, json);
}
