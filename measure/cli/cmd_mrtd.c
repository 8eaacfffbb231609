/* cocoon-measure mrtd FIRMWARE [--page-order per-page|per-section] [--memory SIZE] [--json] */
#include <stdlib.h>
#include <unistd.h>

#include "measure/cli/cli.h"
#include "measure/core/digest.h"
#include "measure/core/json.h"
#include "measure/predict/predict_image.h"
#include "measure/predict/tdvf.h"

static void help(void)
{
	printf("usage: cocoon-measure mrtd FIRMWARE [--page-order per-page|per-section] [--memory SIZE] [--json]\n\n"
	       "Compute the MRTD of an OVMF/TDVF image: find the TDVF metadata, validate its\n"
	       "sections as QEMU does, and hash the PAGE.ADD / MR.EXTEND record stream.\n\n"
	       "  --page-order per-page     each page added then extended (current KVM; default)\n"
	       "  --page-order per-section  all pages of a section added, then extended (older stacks)\n"
	       "  --memory SIZE             guest RAM (bytes, or 2048M / 2G; default 2G): TD_HOB and\n"
	       "                            TempMem sections must lie inside it, as QEMU requires\n"
	       "  --json                    machine-readable output\n"
	       "  --help                    this text\n\n"
	       "Exit codes: 0 ok, 1 unreadable or malformed firmware, 2 usage.\n");
}

static int parse_page_order(const char *s, void *order)
{
	return cm_page_order_parse(s, order);
}

static int parse_memory(const char *s, void *bytes)
{
	return cm_parse_size(s, bytes);
}

int cmd_mrtd(int argc, char **argv)
{
	int json = 0, rc;
	enum cm_page_order order = CM_PAGE_ORDER_PER_PAGE;
	uint64_t mem = 2ull << 30;
	const struct cm_opt opts[] = {
		CM_OPT_PARSE("page-order", 'p', &order, parse_page_order, "per-page or per-section"),
		CM_OPT_PARSE("memory", 'm', &mem, parse_memory, "a size (bytes, or 2048M / 2G)"),
		CM_OPT_FLAG("json", 'j', &json),
		CM_OPT_HELP('h'),
		CM_OPT_END,
	};
	if (cli_parse_opts("mrtd", argc, argv, opts, help, &rc))
		return rc;
	if (optind != argc - 1)
		return cli_usage_error("mrtd", "expected exactly one FIRMWARE file");
	const char *path = argv[optind];
	struct cm_err err = {0};
	uint8_t *fw;
	size_t len;
	if (cm_read_file(path, CM_TDVF_MAX_IMAGE, &fw, &len, &err))
		return cm_cli_error(CLI_INVALID_INPUT, "%s", err.msg);
	struct cm_tdvf t;
	uint8_t mrtd[48], sha[32];
	if (cm_tdvf_parse(fw, len, &t, &err) || cm_tdvf_mrtd(fw, len, &t, mem, order, mrtd, &err)) {
		rc = cm_cli_error(CLI_INVALID_INPUT, "%s: %s", path, err.msg);
	} else {
		json_object *o = json_object_new_object();
		cm_json_add_hex(o, "mrtd", mrtd, 48);
		cm_json_add_str(o, "page_order", cm_page_order_name(order));
		cm_json_add_str(o, "firmware", path);
		cm_sha256(fw, len, sha);
		cm_json_add_hex(o, "firmware_sha256", sha, 32);
		cm_json_add_int(o, "firmware_size", (int64_t)len);
		cm_json_add_int(o, "metadata_offset", t.desc_offset);
		json_object_object_add(o, "sections", cm_tdvf_sections_json(&t));
		rc = cli_emit(o, json);
		json_object_put(o);
	}
	free(fw);
	return rc;
}
