/* libFuzzer target: the BoC reader (ton/boc.c) and what runs on the cells it accepts:
 * a write/read round trip that must reproduce the cells, the Cocoon root-state parser
 * and bounded dictionary walks (ton/dict.c, ton/cocoon.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ton/cocoon.h"
#include "ton/ton.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	(void)key, (void)n, (void)value;
	(*(size_t *)ctx)++;
	return 0;
}

static int proxy(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	(void)key, (void)n, (void)ctx;
	char addr[128];
	ton_root_proxy_info(value, addr, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ton_arena *a = ton_arena_new();
	struct ton_cell *roots[4], *back[4];
	struct cm_err e;
	int n = ton_boc_read(a, data, size, roots, 4, &e);
	if (n > 0) {
		uint8_t *buf;
		size_t len;
		struct ton_boc_opts o = { size & 1, size & 2 };
		if (ton_boc_write((const struct ton_cell *const *)roots, (size_t)n, &o, &buf, &len, &e))
			abort();
		if (ton_boc_read(a, buf, len, back, 4, &e) != n)
			abort();
		for (int i = 0; i < n; i++)
			if (!ton_cell_eq(roots[i], back[i]))
				abort();
		free(buf);
		size_t c = 0;
		ton_dict_foreach(roots[0], 256, 4096, count, &c, &e);
		ton_dict_foreach(roots[0], 32, 4096, count, &c, &e);
		struct ton_root_state st;
		if (!ton_root_state_parse(roots[0], &st, &e)) {
			uint8_t h[32] = { 0 };
			bool present;
			for (int k = 0; k < TON_KIND_N; k++) {
				ton_root_state_has(&st, (enum ton_root_kind)k, h, &present, &e);
				ton_dict_foreach(st.hashes[k], 256, 4096, count, &c, &e);
			}
			ton_dict_foreach(st.registered_proxies, 32, 4096, proxy, NULL, &e);
		}
	}
	ton_arena_free(a);
	return 0;
}
