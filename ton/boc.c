/* Bag of cells (serialized_boc#b5ee9c72, specs/ton.md §2; ton crypto/vm/boc.cpp). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ton/internal.h"
#include "ton/ton.h"

#define BOC_MAGIC 0xb5ee9c72u

uint32_t ton_crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

uint16_t ton_crc16(const uint8_t *p, size_t n)
{
	uint16_t c = 0;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint16_t)(p[i] << 8);
		for (int k = 0; k < 8; k++)
			c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : c << 1);
	}
	return c;
}

static unsigned bytes_for(uint64_t v)
{
	unsigned n = 1;
	while (n < 8 && (v >> (8 * n)))
		n++;
	return n;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- writer ---------------------------------------------------------------------------- */
/* Unique cells by hash (open addressing, grown at half load), ordered as @ton/core's
 * topologicalSort: reverse post-order of a depth-first walk that visits references last
 * to first. */
struct ent {
	const struct ton_cell *c;
	size_t post;  /* position in post-order */
};

struct order {
	struct ent *tab;
	size_t cap, used;
	const struct ton_cell **post;
	size_t n;
};

static size_t slot(const struct ent *tab, size_t cap, const struct ton_cell *c)
{
	size_t h;
	memcpy(&h, c->hash, sizeof(h));
	for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!tab[i].c || !memcmp(tab[i].c->hash, c->hash, 32))
			return i;
}

static int grow(struct order *o)
{
	size_t cap = o->cap ? 2 * o->cap : 64;
	struct ent *tab = calloc(cap, sizeof(*tab));
	const struct ton_cell **post = realloc(o->post, cap / 2 * sizeof(*post));
	if (!tab || !post) {
		free(tab);
		if (post)
			o->post = post;
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->cap; i++)
		if (o->tab[i].c)
			tab[slot(tab, cap, o->tab[i].c)] = o->tab[i];
	free(o->tab);
	o->tab = tab;
	o->cap = cap;
	o->post = post;
	return 0;
}

/* Index of a visited cell in the output (reverse post-order). */
static size_t index_of(const struct order *o, const struct ton_cell *c)
{
	return o->n - 1 - o->tab[slot(o->tab, o->cap, c)].post;
}

static int visit(struct order *o, const struct ton_cell *c, struct cm_err *e)
{
	if (o->used + 1 > o->cap / 2) {
		if (o->used >= TON_BOC_MAX_CELLS)
			return cm_fail(e, -E2BIG, "BoC: more than %u cells", TON_BOC_MAX_CELLS);
		if (grow(o))
			return cm_fail(e, -ENOMEM, "out of memory");
	}
	size_t s = slot(o->tab, o->cap, c);
	if (o->tab[s].c)
		return 0;
	o->tab[s].c = c;
	o->used++;
	for (unsigned i = c->nrefs; i-- > 0;) {
		int rc = visit(o, c->refs[i], e);
		if (rc)
			return rc;
	}
	o->tab[slot(o->tab, o->cap, c)].post = o->n;
	o->post[o->n++] = c;
	return 0;
}

int ton_boc_write(const struct ton_cell *const *roots, size_t nroots, const struct ton_boc_opts *opt,
		  uint8_t **out, size_t *outlen, struct cm_err *e)
{
	if (!nroots)
		return cm_fail(e, -EINVAL, "BoC: no root");
	struct order o = { 0 };
	uint64_t *ends = NULL;
	uint8_t *buf = NULL;
	int rc = 0;
	for (size_t i = nroots; !rc && i-- > 0;)
		rc = visit(&o, roots[i], e);
	if (rc)
		goto out;
	/* index i = o.post[n-1-i] */
	size_t n = o.n;
	/* Distinct roots only (cells are merged by hash): a repeated root would give a root
	 * count above the cell count, which readers refuse. */
	for (size_t i = 0; i < nroots; i++)
		for (size_t j = 0; j < i; j++)
			if (!memcmp(roots[i]->hash, roots[j]->hash, 32)) {
				rc = cm_fail(e, -EINVAL, "BoC: roots %zu and %zu are the same cell", j, i);
				goto out;
			}
	unsigned size = bytes_for(n);
	uint64_t tot = 0;
	ends = calloc(n, sizeof(*ends));
	if (!ends) {
		rc = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ton_cell *c = o.post[n - 1 - i];
		tot += 2 + (c->bits + 7) / 8 + (uint64_t)c->nrefs * size;
		ends[i] = tot;
	}
	unsigned offb = bytes_for(tot);
	size_t len = 4 + 2 + 3 * (size_t)size + offb + nroots * size + (opt->idx ? n * offb : 0) + tot +
		     (opt->crc ? 4 : 0);
	buf = malloc(len);
	if (!buf) {
		rc = cm_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	uint8_t *p = buf;
	put_be(p, BOC_MAGIC, 4);
	p += 4;
	*p++ = (uint8_t)((opt->idx ? 0x80 : 0) | (opt->crc ? 0x40 : 0) | size);
	*p++ = (uint8_t)offb;
	put_be(p, n, size);
	put_be(p + size, nroots, size);
	put_be(p + 2 * size, 0, size);
	p += 3 * size;
	put_be(p, tot, offb);
	p += offb;
	for (size_t i = 0; i < nroots; i++, p += size)
		put_be(p, index_of(&o, roots[i]), size);
	for (size_t i = 0; opt->idx && i < n; i++, p += offb)
		put_be(p, ends[i], offb);
	for (size_t i = 0; i < n; i++) {
		const struct ton_cell *c = o.post[n - 1 - i];
		unsigned db = (c->bits + 7) / 8;
		*p++ = c->nrefs;
		*p++ = (uint8_t)(c->bits / 8 + db);
		memcpy(p, c->data, db);
		if (c->bits % 8)
			p[db - 1] |= (uint8_t)(0x80 >> (c->bits % 8));
		p += db;
		for (unsigned r = 0; r < c->nrefs; r++, p += size)
			put_be(p, index_of(&o, c->refs[r]), size);
	}
	if (opt->crc) {
		uint32_t crc = ton_crc32c(buf, (size_t)(p - buf));
		for (int i = 0; i < 4; i++)
			*p++ = (uint8_t)(crc >> (8 * i));
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	free(ends);
	free(o.tab);
	free(o.post);
	return rc;
}

/* ---- reader ---------------------------------------------------------------------------- */
struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static int take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->len - r->pos < n)
		return -1;
	*out = r->p + r->pos;
	r->pos += n;
	return 0;
}

int ton_boc_read(struct ton_arena *a, const uint8_t *buf, size_t len, struct ton_cell **roots,
		 size_t max_roots, struct cm_err *e)
{
	struct rd r = { buf, len, 0 };
	const uint8_t *h;
	if (take(&r, 6, &h))
		return cm_fail(e, -EBADMSG, "BoC: %zu bytes, too short for a header", len);
	if (get_be(h, 4) != BOC_MAGIC)
		return cm_fail(e, -EBADMSG, "BoC: magic %08llx, want b5ee9c72", (unsigned long long)get_be(h, 4));
	bool has_idx = h[4] & 0x80, has_crc = h[4] & 0x40, cache = h[4] & 0x20;
	unsigned size = h[4] & 7, offb = h[5];
	if (h[4] & 0x18)
		return cm_fail(e, -EBADMSG, "BoC: reserved flag bits set (flags byte %02x)", h[4]);
	if (cache && !has_idx)
		return cm_fail(e, -EBADMSG, "BoC: has_cache_bits without has_idx");
	if (size < 1 || size > 4)
		return cm_fail(e, -EBADMSG, "BoC: ref size %u (want 1..4)", size);
	if (offb < 1 || offb > 8)
		return cm_fail(e, -EBADMSG, "BoC: off_bytes %u (want 1..8)", offb);
	if (has_crc) {
		if (len < 10)
			return cm_fail(e, -EBADMSG, "BoC: too short for its CRC32C");
		uint32_t want = cm_le32(buf + len - 4), got = ton_crc32c(buf, len - 4);
		if (want != got)
			return cm_fail(e, -EBADMSG, "BoC: CRC32C %08x, computed %08x", want, got);
		r.len -= 4;
	}
	if (take(&r, 3 * (size_t)size + offb, &h))
		return cm_fail(e, -EBADMSG, "BoC: truncated header");
	uint64_t cells = get_be(h, size), nroots = get_be(h + size, size), absent = get_be(h + 2 * size, size),
		 tot = get_be(h + 3 * size, offb);
	if (cells < 1 || cells > TON_BOC_MAX_CELLS)
		return cm_fail(e, -EBADMSG, "BoC: cell count %llu (want 1..%u)", (unsigned long long)cells,
			       TON_BOC_MAX_CELLS);
	if (nroots < 1 || nroots > cells)
		return cm_fail(e, -EBADMSG, "BoC: root count %llu of %llu cells", (unsigned long long)nroots,
			       (unsigned long long)cells);
	if (absent)
		return cm_fail(e, -EBADMSG, "BoC: %llu absent cells (not supported)", (unsigned long long)absent);
	if (tot > cells << 10 || tot < 2 * cells)
		return cm_fail(e, -EBADMSG, "BoC: tot_cells_size %llu impossible for %llu cells",
			       (unsigned long long)tot, (unsigned long long)cells);
	if (nroots > max_roots)
		return cm_fail(e, -E2BIG, "BoC: %llu roots, at most %zu expected", (unsigned long long)nroots,
			       max_roots);
	size_t rest = (size_t)(nroots * size + (has_idx ? cells * offb : 0) + tot);
	if (r.len - r.pos != rest)
		return cm_fail(e, -EBADMSG, "BoC: %zu bytes after the header, declared sizes give %zu",
			       r.len - r.pos, rest);
	const uint8_t *rootlist = NULL, *index = NULL, *data = NULL;
	take(&r, nroots * size, &rootlist);
	if (has_idx)
		take(&r, cells * offb, &index);
	take(&r, (size_t)tot, &data);

	struct ton_cell **cs = calloc((size_t)cells, sizeof(*cs));
	uint32_t (*refidx)[TON_CELL_REFS] = calloc((size_t)cells, sizeof(*refidx));
	bool *wh = calloc((size_t)cells, sizeof(*wh));
	int rc = (!cs || !refidx || !wh) ? cm_fail(e, -ENOMEM, "out of memory") : 0;
	size_t pos = 0;
	for (uint64_t i = 0; !rc && i < cells; i++) {
		if (tot - pos < 2) {
			rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: truncated descriptor", (unsigned long long)i);
			break;
		}
		uint8_t d1 = data[pos], d2 = data[pos + 1];
		unsigned nrefs = d1 & 7, db = (d2 + 1u) / 2;
		bool with_hashes = d1 & 16;
		if (nrefs == 7) {
			rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: absent cell", (unsigned long long)i);
			break;
		}
		if (nrefs > 4 || (d1 & 8) || (d1 >> 5)) {
			rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: d1 %02x (only ordinary level-0 cells, <= 4 refs)",
				     (unsigned long long)i, d1);
			break;
		}
		size_t need = 2 + (with_hashes ? 34 : 0) + db + (size_t)nrefs * size;
		if (tot - pos < need) {
			rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: truncated", (unsigned long long)i);
			break;
		}
		const uint8_t *p = data + pos + 2, *stored = with_hashes ? p : NULL;
		p += with_hashes ? 34 : 0;
		struct ton_cell *c = cs[i] = ton_cell_alloc(a);
		if (!c) {
			rc = cm_fail(e, -ENOMEM, "out of memory");
			break;
		}
		memcpy(c->data, p, db);
		c->bits = (uint16_t)(8 * (d2 / 2));
		if (d2 & 1) {
			uint8_t last = p[db - 1];
			if (!last) {
				rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: no completion tag in its last byte",
					     (unsigned long long)i);
				break;
			}
			unsigned tz = (unsigned)__builtin_ctz(last);
			c->bits = (uint16_t)(c->bits + 7 - tz);
			c->data[db - 1] = (uint8_t)(last & ~(1u << tz));
		}
		c->nrefs = (uint8_t)nrefs;
		p += db;
		for (unsigned k = 0; k < nrefs; k++, p += size) {
			uint64_t ri = get_be(p, size);
			if (ri <= i || ri >= cells) {
				rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: reference %u to cell %llu (must be a later "
					     "cell of %llu)", (unsigned long long)i, k, (unsigned long long)ri,
					     (unsigned long long)cells);
				break;
			}
			refidx[i][k] = (uint32_t)ri;
		}
		if (rc)
			break;
		if (stored) { /* checked against the computed values below */
			wh[i] = true;
			memcpy(c->hash, stored, 32);
			c->depth = (uint16_t)get_be(stored + 32, 2);
		}
		pos += need;
		if (index) {
			uint64_t end = get_be(index + i * offb, offb);
			if (cache)
				end >>= 1;
			if (end != pos) {
				rc = cm_fail(e, -EBADMSG, "BoC: index entry %llu is %llu, cell ends at %zu",
					     (unsigned long long)i, (unsigned long long)end, pos);
				break;
			}
		}
	}
	if (!rc && pos != tot)
		rc = cm_fail(e, -EBADMSG, "BoC: cells use %zu bytes, tot_cells_size says %llu", pos,
			     (unsigned long long)tot);
	/* Hashes from the last cell back: references point forward, so they are done first. */
	for (uint64_t i = cells; !rc && i-- > 0;) {
		struct ton_cell *c = cs[i];
		uint8_t stored[32];
		uint16_t sdepth = c->depth;
		memcpy(stored, c->hash, 32);
		for (unsigned k = 0; k < c->nrefs; k++)
			c->refs[k] = cs[refidx[i][k]];
		rc = ton_cell_finish(c, e);
		if (rc)
			cm_err_prefix(e, "BoC: cell %llu", (unsigned long long)i);
		else if (wh[i] && (memcmp(stored, c->hash, 32) || sdepth != c->depth))
			rc = cm_fail(e, -EBADMSG, "BoC: cell %llu: stored hash or depth differs from the computed one",
				     (unsigned long long)i);
	}
	/* Distinct roots only: a root list naming a cell (or an equal cell) twice cannot be written
	 * back, its roots would outnumber its cells. (nroots <= max_roots, the caller's bound.) */
	for (uint64_t i = 0; !rc && i < nroots; i++) {
		uint64_t ri = get_be(rootlist + i * size, size);
		if (ri >= cells) {
			rc = cm_fail(e, -EBADMSG, "BoC: root %llu is cell %llu of %llu", (unsigned long long)i,
				     (unsigned long long)ri, (unsigned long long)cells);
			break;
		}
		roots[i] = cs[ri];
		for (uint64_t j = 0; !rc && j < i; j++)
			if (!memcmp(roots[j]->hash, roots[i]->hash, 32))
				rc = cm_fail(e, -EBADMSG, "BoC: root %llu is the same cell as root %llu",
					     (unsigned long long)i, (unsigned long long)j);
	}
	free(cs);
	free(refidx);
	free(wh);
	return rc ? rc : (int)nroots;
}
