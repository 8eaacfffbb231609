/* cocoon-launch publish: the root-contract message that allows (or removes) a worker,
 * proxy or model hash, ready for the owner's wallet (docs/publishing.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "build_info.h"
#include "host-launcher/cli/cli.h"
#include "host-launcher/cli/cmd_ton.h"
#include "host-launcher/image.h"
#include "host-launcher/run.h"
#include "measure/core/json.h"
#include "measure/predict/predict_image.h"
#include "ton/cocoon.h"
#include "ton/ton.h"


#define DEFAULT_NANO 50000000ull   /* 0.05 TON; the surplus comes back as excesses */
#define VALID_SECONDS 900          /* TON Connect valid_until = now + this */

static const char publish_help[] =
	"usage: cocoon-launch publish --kind worker|proxy|model\n"
	"         (--hash H | --image DIR --vm VM.json --spec DIR [--variant V] | --model STRING)\n"
	"         --root ADDR [--amount TON] [--query-id N] [--del] [--manifest FILE] [--json]\n\n"
	"Prepare the Cocoon root-contract message that adds (or with --del removes) an allowed\n"
	"hash: op:uint32 query_id:uint64 hash:uint256, exactly 352 bits in one cell.\n\n"
	"  --kind K        worker (AddWorkerType), proxy (AddProxyType) or model (AddModelType)\n"
	"  --hash H        the hash itself: 64 hex digits, or base64 (gen-cert's *_image_hash.b64)\n"
	"  --image DIR     compute the image hash with libmeasure from the release files (OVMF.fd,\n"
	"                  vmlinuz, initrd.img, cmdline; checked against DIR/manifest.json):\n"
	"  --vm VM.json    the VM profile (memory, cpus, captured ACPI blobs: image-recipes/profiles)\n"
	"  --spec DIR      the spec directory the nodes boot with (RTMR3: its tree hash events)\n"
	"  --variant V     cmdline variants as the launcher appends them: base (default), or\n"
	"                  debug, gpu, sim joined with '+' (e.g. gpu)\n"
	"  --model S       model: the full string name@commit:verity (hash = SHA-256 of it)\n"
	"  --root ADDR     the root contract (raw wc:hex or user-friendly; a testnet-flagged form\n"
	"                  selects the testnet). Required: confirm it with the Cocoon team.\n"
	"  --amount TON    attached value (default 0.05); the contract returns the surplus\n"
	"  --query-id N    echoed in the excesses message (default 0, as Cocoon's wrapper)\n"
	"  --del           the Del* message instead\n"
	"  --manifest F    where to write the record of what was measured and published\n"
	"                  (default publish-<kind>-<first 16 hex of the hash>.json)\n"
	"  --json          machine-readable output\n\n"
	"Prints the body BoC (hex and base64), a ton://transfer link and a TON Connect\n"
	"sendTransaction request. Owner-wallet step: only the root owner's wallet can send it\n"
	"(anyone else gets exit code 1010 from the contract). Open the link or pass the request\n"
	"to a TON Connect wallet holding the owner key, check the amount and the destination,\n"
	"sign, then confirm with `cocoon-launch registry`.\n\n"
	"Exit codes: 0 written, 1 input unreadable or measurement failed, 2 usage.\n";

int cl_ton_hash_arg(const char *s, uint8_t out[32])
{
	size_t n = strlen(s);
	if (n == 64)
		return cm_hex_decode_exact(s, n, out, 32);
	uint8_t *b;
	size_t bl;
	if (n != 44 || ton_base64_decode(s, n, &b, &bl))
		return -EINVAL;
	int rc = bl == 32 ? 0 : -EINVAL;
	if (!rc)
		memcpy(out, b, 32);
	free(b);
	return rc;
}

/* "0.05" -> 50000000 nanoTON: digits, at most 9 decimals, > 0. */
static int parse_ton(const char *s, uint64_t *nano)
{
	uint64_t whole = 0, frac = 0;
	int fd = -1, digits = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '.' && fd < 0) {
			fd = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -EINVAL;
		digits++;
		if (fd >= 0) {
			if (++fd > 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		} else {
			if (whole > 1000000000ull)
				return -ERANGE;
			whole = whole * 10 + (uint64_t)(*p - '0');
		}
	}
	for (int i = fd < 0 ? 0 : fd; i < 9; i++)
		frac *= 10;
	*nano = whole * 1000000000ull + frac;
	return digits && *nano ? 0 : -EINVAL;
}

static int parse_variant(const char *v, struct cl_config *c)
{
	if (!strcmp(v, "base"))
		return 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *t = strtok_r(buf, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
		if (!strcmp(t, "debug"))
			c->debug = true;
		else if (!strcmp(t, "gpu"))
			c->gpu_required = true;
		else if (!strcmp(t, "sim"))
			c->sim = true;
		else
			return -EINVAL;
	}
	return 0;
}

/* Paths in the profile are relative to its directory: make them absolute. */
static int absolutize(json_object *vm, const char *vmdir, struct cm_err *e)
{
	static const char *const keys[] = { "acpi_tables", "rsdp", "table_loader", "rtmr0_log" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_object *v;
		if (!json_object_object_get_ex(vm, keys[i], &v))
			continue;
		const char *p = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string))
			return cm_fail(e, -EINVAL, "VM.json: \"%s\" must be a path", keys[i]);
		if (p[0] == '/')
			continue;
		char abs[PATH_MAX + 8];
		snprintf(abs, sizeof(abs), "%s/%s", vmdir, p);
		json_object_object_add(vm, keys[i], json_object_new_string(abs));
	}
	return 0;
}

/* MRTD, RTMR0-3 and the image hash of DIR's release files booted with the VM profile,
 * the cmdline variants and the spec: a VM.json for cm_measure_image (as image-recipes/
 * measurements.py does, plus the spec), measured by libmeasure. */
static int measure_image(const char *dir, const char *vm_path, const char *spec, const char *variant,
			 json_object **out, struct cm_err *e)
{
	struct cl_manifest m;
	struct cl_config c;
	cl_config_init(&c);
	if (parse_variant(variant, &c))
		return cm_fail(e, -EINVAL, "--variant %s: want base or debug, gpu, sim joined with '+'", variant);
	int rc = cl_manifest_load(&m, dir, e);
	for (int a = CL_ART_OVMF; !rc && a <= CL_ART_CMDLINE; a++)
		rc = cl_artifact_verify(&m, dir, (enum cl_artifact)a, e);
	char base[CL_CMDLINE_MAX], cmdline[CL_CMDLINE_MAX];
	rc = rc ? rc : cl_cmdline_read(dir, base, sizeof(base), e);
	rc = rc ? rc : cl_cmdline_build(&c, &m, base, cmdline, sizeof(cmdline), e);
	if (rc)
		return rc;
	char absdir[PATH_MAX], absvm[PATH_MAX], absspec[PATH_MAX];
	if (!realpath(dir, absdir) || !realpath(vm_path, absvm) || !realpath(spec, absspec))
		return cm_fail(e, -errno, "cannot resolve %s, %s or %s (%s)", dir, vm_path, spec, strerror(errno));
	json_object *vm = json_object_from_file(absvm);
	if (!vm || !json_object_is_type(vm, json_type_object)) {
		json_object_put(vm);
		return cm_fail(e, -EINVAL, "%s: not a JSON object", vm_path);
	}
	if (json_object_object_get_ex(vm, "boot_config", NULL) || json_object_object_get_ex(vm, "direct", NULL)) {
		json_object_put(vm);
		return cm_fail(e, -EINVAL, "%s: a tdx-measure metadata.json; give a VM profile (image-recipes/profiles)",
			       vm_path);
	}
	*strrchr(absvm, '/') = 0;
	rc = absolutize(vm, absvm, e);
	char path[PATH_MAX + 16];
	static const char *const files[][2] = { { "firmware", "OVMF.fd" }, { "kernel", "vmlinuz" },
						{ "initrd", "initrd.img" } };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", absdir, files[i][1]);
		json_object_object_add(vm, files[i][0], json_object_new_string(path));
	}
	json_object_object_del(vm, "cmdline_file");
	json_object_object_add(vm, "cmdline", json_object_new_string(cmdline));
	json_object_object_add(vm, "debug", json_object_new_boolean(c.debug));
	json_object_object_add(vm, "spec_dir", json_object_new_string(absspec));
	char tmp[] = "/tmp/cocoon-publish-XXXXXX";
	int fd = rc ? -1 : mkstemp(tmp);
	if (!rc && fd < 0)
		rc = cm_fail(e, -errno, "mkstemp (%s)", strerror(errno));
	if (!rc) {
		const char *text = json_object_to_json_string_ext(vm, JSON_C_TO_STRING_PLAIN);
		size_t n = strlen(text);
		if (write(fd, text, n) != (ssize_t)n)
			rc = cm_fail(e, -EIO, "cannot write %s", tmp);
		close(fd);
		rc = rc ? rc : cm_measure_image(tmp, out, e);
		unlink(tmp);
	}
	json_object_put(vm);
	return rc;
}

struct publish_opts {
	const char *kind, *hash, *image, *vm, *spec, *variant, *model, *root, *amount, *manifest;
	uint64_t query_id; /* 0 when not given, as Cocoon's wrapper */
	int del, json;
};

/* Where the hash came from, for the output and the manifest. */
static int hash_source(const struct publish_opts *o, enum ton_root_kind k, uint8_t hash[32], json_object *res,
		       json_object *man)
{
	json_object *src = json_object_new_object();
	json_object_object_add(res, "hash_source", src);
	if (o->hash) {
		if (cl_ton_hash_arg(o->hash, hash))
			return cli_usage_error("publish", "--hash wants 64 hex digits or base64 of 32 bytes", o->hash);
		cm_json_add_str(src, "from", "--hash (given, not measured here)");
		return 0;
	}
	if (o->model) {
		if (k != TON_KIND_MODEL)
			return cli_usage_error("publish", "--model goes with --kind model", NULL);
		if (!strchr(o->model, '@'))
			fprintf(stderr, "warning: model string without '@commit:verity': the runners hash the full "
				"string they are configured with\n");
		ton_model_hash(o->model, hash);
		cm_json_add_str(src, "from", "SHA-256 of the model string");
		cm_json_add_str(src, "model", o->model);
		json_object_object_add(man, "model", json_object_new_string(o->model));
		return 0;
	}
	if (k == TON_KIND_MODEL)
		return cli_usage_error("publish", "--kind model wants --model STRING or --hash", NULL);
	json_object *mo;
	struct cm_err e = { 0 };
	if (measure_image(o->image, o->vm, o->spec, o->variant, &mo, &e))
		return cm_cli_error(CL_EXIT_FAIL, "%s", e.msg);
	json_object *ih = json_object_object_get(mo, "image_hash");
	if (!ih || cm_hex_decode_exact(json_object_get_string(ih), 64, hash, 32)) {
		json_object_put(mo);
		return cm_cli_error(CL_EXIT_FAIL, "no image hash from %s", o->vm);
	}
	cm_json_add_str(src, "from", "libmeasure: image hash = SHA-256(MRTD, MRCONFIGID, MROWNER, "
		       "MROWNERCONFIG, RTMR0-3)");
	static const char *const regs[][2] = {
		{ "mrtd", "OVMF.fd (TDVF metadata sections)" },
		{ "rtmr0", "OVMF.fd configuration, TD HOB, ACPI blobs of the VM profile" },
		{ "rtmr1", "vmlinuz (Authenticode)" },
		{ "rtmr2", "cmdline with the variants, initrd.img" },
		{ "rtmr3", "the spec directory's events, as cocoon-init extends them" },
	};
	json_object *r = json_object_new_object();
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "value", json_object_get(json_object_object_get(mo, regs[i][0])));
		cm_json_add_str(x, "from", regs[i][1]);
		json_object_object_add(r, regs[i][0], x);
	}
	json_object_object_add(src, "registers", r);
	json_object *files = json_object_new_object();
	json_object_object_foreach(json_object_object_get(mo, "inputs"), name, in) {
		json_object *p = json_object_object_get(in, "path");
		json_object *h = json_object_object_get(in, "sha256");
		json_object *t = json_object_object_get(in, "tree");
		char line[PATH_MAX + 96];
		snprintf(line, sizeof(line), "%s %s %s", json_object_get_string(p), h ? "sha256" : "tree",
			 json_object_get_string(h ? h : t));
		json_object_object_add(files, name, json_object_new_string(line));
	}
	json_object_object_add(src, "files", files);
	cm_json_add_str(src, "variant", o->variant);
	json_object_object_add(man, "measurement", mo);
	return 0;
}

static int parse_args(int argc, char **argv, struct publish_opts *o)
{
	const struct cm_opt opts[] = {
		CM_OPT_STR("kind", 0, &o->kind),
		CM_OPT_STR("hash", 0, &o->hash),
		CM_OPT_STR("image", 0, &o->image),
		CM_OPT_STR("vm", 0, &o->vm),
		CM_OPT_STR("spec", 0, &o->spec),
		CM_OPT_STR("variant", 0, &o->variant),
		CM_OPT_STR("model", 0, &o->model),
		CM_OPT_STR("root", 0, &o->root),
		CM_OPT_STR("amount", 0, &o->amount),
		CM_OPT_U64("query-id", 0, &o->query_id, 0, UINT64_MAX, NULL),
		CM_OPT_STR("manifest", 0, &o->manifest),
		CM_OPT_FLAG("del", 0, &o->del),
		CM_OPT_FLAG("json", 0, &o->json),
		CM_OPT_HELP(0),
		CM_OPT_END,
	};
	int rc;
	if (cli_parse_opts("publish", argc, argv, opts, publish_help, &rc))
		return rc ? rc : -1; /* -1: help printed */
	if (optind != argc)
		return cli_usage_error("publish", "unexpected argument", argv[optind]);
	if (!o->kind || !o->root)
		return cli_usage_error("publish", "--kind and --root are required", NULL);
	int sources = !!o->hash + !!o->model + !!(o->image || o->vm || o->spec);
	if (sources != 1)
		return cli_usage_error("publish", "give exactly one of --hash, --model, --image/--vm/--spec", NULL);
	if ((o->image || o->vm || o->spec) && !(o->image && o->vm && o->spec))
		return cli_usage_error("publish", "--image, --vm and --spec go together", NULL);
	if (o->variant && !o->image)
		return cli_usage_error("publish", "--variant goes with --image", NULL);
	if (!o->variant)
		o->variant = "base";
	return 0;
}

int cl_cmd_publish(int argc, char **argv)
{
	struct publish_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	enum ton_root_kind k;
	if (ton_root_kind_parse(o.kind, &k))
		return cli_usage_error("publish", "--kind wants worker, proxy or model", o.kind);
	struct ton_addr root;
	unsigned aflags;
	struct cm_err e = { 0 };
	if (ton_addr_parse(o.root, &root, &aflags, &e))
		return cli_usage_error("publish", e.msg, NULL);
	uint64_t nano = DEFAULT_NANO, qid = o.query_id;
	if (o.amount && parse_ton(o.amount, &nano))
		return cli_usage_error("publish", "--amount wants TON > 0 with at most 9 decimals", o.amount);

	json_object *res = json_object_new_object(), *man = json_object_new_object();
	uint8_t hash[32];
	cm_json_add_str(res, "kind", ton_root_kind_names[k]);
	rc = hash_source(&o, k, hash, res, man);
	if (rc)
		goto out;
	cm_json_add_hex(res, "hash", hash, 32);

	struct ton_arena *a = ton_arena_new();
	struct ton_cell *body;
	uint8_t *boc = NULL;
	size_t boclen;
	uint32_t op = ton_root_op(k, o.del);
	if (!a || ton_root_hash_msg(a, op, qid, hash, &body, &e) ||
	    ton_boc_write((const struct ton_cell *const *)&body, 1, &(struct ton_boc_opts){ false, true }, &boc,
			  &boclen, &e)) {
		ton_arena_free(a);
		rc = cm_cli_error(CL_EXIT_FAIL, "message: %s", e.msg);
		goto out;
	}
	char opname[16], *b64 = ton_base64(boc, boclen, false), *b64url = ton_base64(boc, boclen, true);
	snprintf(opname, sizeof(opname), "0x%08x", op);
	json_object *msg = json_object_new_object();
	cm_json_add_str(msg, "op", opname);
	cm_json_add_str(msg, "op_name", ton_root_op_name(k, o.del));
	json_object_object_add(msg, "query_id", json_object_new_uint64(qid));
	cm_json_add_hex(msg, "body_cell_data", body->data, TON_ROOT_MSG_BITS / 8);
	cm_json_add_hex(msg, "body_cell_hash", body->hash, 32);
	cm_json_add_hex(msg, "body_boc_hex", boc, boclen);
	cm_json_add_str(msg, "body_boc_base64", b64);
	json_object_object_add(res, "message", msg);
	ton_arena_free(a);
	free(boc);

	bool testnet = aflags & TON_ADDR_TESTNET;
	char friendly[64], raw[80], nanos[24];
	ton_addr_friendly(&root, TON_ADDR_BOUNCEABLE | TON_ADDR_URLSAFE | (testnet ? TON_ADDR_TESTNET : 0), friendly,
			  sizeof(friendly));
	ton_addr_raw(&root, raw, sizeof(raw));
	snprintf(nanos, sizeof(nanos), "%llu", (unsigned long long)nano);
	json_object *to = json_object_new_object();
	cm_json_add_str(to, "address", friendly);
	cm_json_add_str(to, "raw", raw);
	cm_json_add_str(to, "network", testnet ? "testnet" : "mainnet");
	json_object_object_add(res, "root", to);
	cm_json_add_str(res, "amount_nanoton", nanos);
	size_t ll = strlen(friendly) + strlen(b64url) + 64;
	char *link = malloc(ll);
	snprintf(link, ll, "ton://transfer/%s?amount=%s&bin=%s", friendly, nanos, b64url);
	cm_json_add_str(res, "link", link);
	json_object *tc = json_object_new_object(), *msgs = json_object_new_array(), *m0 = json_object_new_object();
	json_object_object_add(tc, "valid_until", json_object_new_int64((int64_t)time(NULL) + VALID_SECONDS));
	cm_json_add_str(tc, "network", testnet ? "-3" : "-239");
	cm_json_add_str(m0, "address", friendly);
	cm_json_add_str(m0, "amount", nanos);
	cm_json_add_str(m0, "payload", b64);
	json_object_array_add(msgs, m0);
	json_object_object_add(tc, "messages", msgs);
	json_object_object_add(res, "tonconnect_request", tc);
	cm_json_add_str(res, "owner_step", "only the root owner's wallet can send this (others: exit code 1010)");
	free(link);
	free(b64);
	free(b64url);

	char defman[64];
	if (!o.manifest) {
		char hx[65];
		cm_hex_encode(hash, 32, hx, sizeof(hx));
		snprintf(defman, sizeof(defman), "publish-%s-%.16s.json", ton_root_kind_names[k], hx);
		o.manifest = defman;
	}
	cm_json_add_str(man, "tool", "cocoon-launch publish " COCOON_VERSION);
	json_object_object_add(man, "published", json_object_get(res));
	if (json_object_to_file_ext(o.manifest, man, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED)) {
		rc = cm_cli_error(CL_EXIT_FAIL, "cannot write %s", o.manifest);
		goto out;
	}
	cm_json_add_str(res, "manifest", o.manifest);
	rc = cm_json_emit(res, o.json, stdout) ? cm_cli_error(CL_EXIT_FAIL, "cannot write output") : CL_EXIT_OK;
out:
	json_object_put(res);
	json_object_put(man);
	return rc;
}
