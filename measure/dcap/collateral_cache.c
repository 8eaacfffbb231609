/* The cache of verified collateral bundles (collateral.h). */
#include "measure/dcap/collateral_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"

struct cache_entry {
	struct cm_collateral *c;
	uint8_t fmspc[6];
	enum cm_pck_ca ca;
	int64_t expires;
	uint64_t last_used;
};

struct cm_collateral_cache {
	size_t max;
	uint64_t tick;
	struct cm_cache_stats stats;
	struct cache_entry *e;
};

struct cm_collateral_cache *cm_collateral_cache_new(size_t max_entries)
{
	if (max_entries == 0)
		max_entries = 1;
	struct cm_collateral_cache *cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->e = calloc(max_entries, sizeof(*cache->e));
	if (!cache->e) {
		free(cache);
		return NULL;
	}
	cache->max = max_entries;
	return cache;
}

void cm_collateral_cache_free(struct cm_collateral_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->max; i++)
		cm_collateral_free(cache->e[i].c);
	free(cache->e);
	free(cache);
}

/* SHA-384(04||X||Y) of the Intel SGX Root CA key (specs/attestation.md §2.8). */
static const uint8_t intel_root_key_id[48] = {
	0x46, 0xe4, 0x03, 0xbd, 0x34, 0xf0, 0x5a, 0x3f, 0x28, 0x17, 0xab, 0x9b, 0xad, 0xca, 0xac, 0xc7,
	0xff, 0xc9, 0x8e, 0x0f, 0x26, 0x10, 0x08, 0xcd, 0x30, 0xda, 0xe9, 0x36, 0xca, 0xce, 0x18, 0xd5,
	0xdc, 0xf5, 0x8e, 0xef, 0x31, 0x46, 0x36, 0x13, 0xde, 0x15, 0x70, 0xd5, 0x16, 0x20, 0x09, 0x93};

static void drop(struct cm_collateral_cache *cache, struct cache_entry *en)
{
	cm_collateral_free(en->c);
	memset(en, 0, sizeof(*en));
	cache->stats.entries--;
}

int cm_collateral_cache_get(struct cm_collateral_cache *cache, const char *bundle, size_t len, X509 *anchor,
			    int64_t t, struct cm_collateral **out, struct cm_err *e)
{
	uint8_t id[32], rk[48];
	cm_sha256(bundle, len, id);
	if (anchor ? cm_root_key_id(anchor, rk) != 0 : (memcpy(rk, intel_root_key_id, 48), 0))
		return cm_fail_check(e, -EINVAL, "trust_anchor", "trust anchor has no usable EC public key");
	cache->tick++;
	for (size_t i = 0; i < cache->max; i++) {
		struct cache_entry *en = &cache->e[i];
		if (!en->c || memcmp(en->c->id, id, 32) != 0 || memcmp(en->c->root_key_id, rk, 48) != 0)
			continue;
		if (t > en->expires) {
			cache->stats.expired++;
			drop(cache, en);
			break;
		}
		cache->stats.hits++;
		en->last_used = cache->tick;
		*out = en->c;
		return 0;
	}
	cache->stats.misses++;
	struct cm_collateral *c;
	int rc = cm_collateral_load(bundle, len, anchor, &c, e);
	if (rc)
		return rc;
	struct cache_entry *slot = NULL;
	for (size_t i = 0; i < cache->max && !slot; i++)
		if (!cache->e[i].c)
			slot = &cache->e[i];
	if (!slot) {
		slot = &cache->e[0];
		for (size_t i = 1; i < cache->max; i++)
			if (cache->e[i].last_used < slot->last_used)
				slot = &cache->e[i];
		drop(cache, slot);
	}
	int64_t from;
	slot->c = c;
	memcpy(slot->fmspc, c->tcb.fmspc, 6);
	slot->ca = c->ca;
	cm_collateral_window(c, &from, &slot->expires);
	slot->last_used = cache->tick;
	cache->stats.entries++;
	*out = c;
	return 0;
}

struct cm_collateral *cm_collateral_cache_find(struct cm_collateral_cache *cache, const uint8_t fmspc[6],
					       enum cm_pck_ca ca, int64_t t)
{
	for (size_t i = 0; i < cache->max; i++) {
		struct cache_entry *en = &cache->e[i];
		if (en->c && memcmp(en->fmspc, fmspc, 6) == 0 && en->ca == ca && t <= en->expires) {
			en->last_used = ++cache->tick;
			return en->c;
		}
	}
	return NULL;
}

void cm_collateral_cache_stats(const struct cm_collateral_cache *cache, struct cm_cache_stats *out)
{
	*out = cache->stats;
}
