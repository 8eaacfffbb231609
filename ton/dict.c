/* HashmapE n X (specs/ton.md §3; ton crypto/block/block.tlb, crypto/vm/dict.cpp). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ton/ton.h"

#define KEY_MAX_BITS TON_CELL_BITS

/* k = ceil(log2(m + 1)): the width of a label length when m key bits remain. */
static unsigned len_bits(unsigned m)
{
	unsigned k = 0;
	while (k < 32 && (m >> k))
		k++;
	return k;
}

/* Parse a label: *len bits into lab (off = first bit to write). */
static int read_label(struct ton_slice *s, unsigned m, uint8_t *lab, unsigned off, unsigned *len)
{
	bool b0, b1, v = false;
	uint64_t l = 0;
	if (ton_s_bit(s, &b0))
		return -EBADMSG;
	if (!b0) { /* hml_short$0 len:Unary s:len bits */
		for (;;) {
			if (ton_s_bit(s, &b1))
				return -EBADMSG;
			if (!b1)
				break;
			if (++l > m)
				return -EBADMSG;
		}
	} else {
		if (ton_s_bit(s, &b1))
			return -EBADMSG;
		if (b1 && ton_s_bit(s, &v)) /* hml_same$11 v:bit */
			return -EBADMSG;
		if (ton_s_uint(s, len_bits(m), &l) || l > m)
			return -EBADMSG;
		if (b1) {
			for (unsigned i = 0; i < l; i++) {
				unsigned at = off + i;
				lab[at >> 3] = (uint8_t)((lab[at >> 3] & ~(0x80 >> (at & 7))) | (v ? 0x80 >> (at & 7) : 0));
			}
			*len = (unsigned)l;
			return 0;
		}
	}
	for (unsigned i = 0; i < l; i++) {
		bool x;
		if (ton_s_bit(s, &x))
			return -EBADMSG;
		unsigned at = off + i;
		lab[at >> 3] = (uint8_t)((lab[at >> 3] & ~(0x80 >> (at & 7))) | (x ? 0x80 >> (at & 7) : 0));
	}
	*len = (unsigned)l;
	return 0;
}

int ton_s_dict(struct ton_slice *s, const struct ton_cell **root)
{
	bool present;
	if (ton_s_bit(s, &present))
		return -EBADMSG;
	*root = NULL;
	return present ? ton_s_ref(s, root) : 0;
}

/* A fork: no data after the label, exactly two refs. */
static int fork_refs(struct ton_slice *s, struct cm_err *e)
{
	if (ton_s_bits_left(s) || ton_s_refs_left(s) != 2)
		return cm_fail(e, -EBADMSG, "dictionary: fork node with %u extra bits and %u refs (want 0 and 2)",
			       ton_s_bits_left(s), ton_s_refs_left(s));
	return 0;
}

int ton_dict_get(const struct ton_cell *root, unsigned n, const uint8_t *key, bool *found,
		 struct ton_slice *value, struct cm_err *e)
{
	*found = false;
	if (n > KEY_MAX_BITS)
		return cm_fail(e, -EINVAL, "dictionary: key of %u bits", n);
	uint8_t lab[TON_CELL_BYTES] = { 0 };
	unsigned done = 0; /* key bits consumed */
	const struct ton_cell *c = root;
	while (c) {
		struct ton_slice s;
		unsigned l;
		ton_s_init(&s, c);
		if (read_label(&s, n - done, lab, 0, &l))
			return cm_fail(e, -EBADMSG, "dictionary: bad label at key bit %u", done);
		for (unsigned i = 0; i < l; i++)
			if (ton_bit(lab, i) != ton_bit(key, done + i))
				return 0;
		done += l;
		if (done == n) {
			*found = true;
			if (value)
				*value = s;
			return 0;
		}
		if (fork_refs(&s, e))
			return e ? e->code : -EBADMSG;
		c = c->refs[ton_bit(key, done)];
		done++;
	}
	return 0;
}

struct walk {
	unsigned n;
	size_t nodes, max_nodes;
	ton_dict_cb cb;
	void *ctx;
	uint8_t key[TON_CELL_BYTES];
	struct cm_err *e;
};

static int walk(struct walk *w, const struct ton_cell *c, unsigned done)
{
	if (++w->nodes > w->max_nodes)
		return cm_fail(w->e, -E2BIG, "dictionary: more than %zu nodes", w->max_nodes);
	struct ton_slice s;
	unsigned l;
	ton_s_init(&s, c);
	if (read_label(&s, w->n - done, w->key, done, &l))
		return cm_fail(w->e, -EBADMSG, "dictionary: bad label at key bit %u", done);
	done += l;
	if (done == w->n)
		return w->cb(w->key, w->n, &s, w->ctx);
	int rc = fork_refs(&s, w->e);
	for (unsigned bit = 0; !rc && bit < 2; bit++) {
		unsigned at = done;
		w->key[at >> 3] = (uint8_t)((w->key[at >> 3] & ~(0x80 >> (at & 7))) | (bit ? 0x80 >> (at & 7) : 0));
		rc = walk(w, c->refs[bit], done + 1);
	}
	return rc;
}

int ton_dict_foreach(const struct ton_cell *root, unsigned n, size_t max_nodes, ton_dict_cb cb, void *ctx,
		     struct cm_err *e)
{
	if (n > KEY_MAX_BITS)
		return cm_fail(e, -EINVAL, "dictionary: key of %u bits", n);
	struct walk w = { .n = n, .max_nodes = max_nodes, .cb = cb, .ctx = ctx, .e = e };
	return root ? walk(&w, root, 0) : 0;
}

/* ---- builder ------------------------------------------------------------------------------ */
/* dict.cpp append_dict_label: hml_same when it is shorter, else hml_long when k < len,
 * else hml_short. */
static void write_label(struct ton_builder *b, const uint8_t *key, unsigned off, unsigned len, unsigned m)
{
	unsigned k = len_bits(m);
	bool same = true;
	for (unsigned i = 1; i < len; i++)
		if (ton_bit(key, off + i) != ton_bit(key, off))
			same = false;
	if (len > 1 && same && k < 2 * len - 1) {
		ton_b_uint(b, 3, 2);
		ton_b_bit(b, ton_bit(key, off));
		ton_b_uint(b, len, k);
	} else if (k < len) {
		ton_b_uint(b, 2, 2);
		ton_b_uint(b, len, k);
		ton_b_bits(b, key, off, len);
	} else {
		ton_b_bit(b, 0);
		for (unsigned i = 0; i < len; i++)
			ton_b_bit(b, 1);
		ton_b_bit(b, 0);
		ton_b_bits(b, key, off, len);
	}
}

static int key_cmp(const void *x, const void *y, void *np)
{
	const struct ton_dict_entry *a = x, *b = y;
	for (unsigned i = 0; i < *(unsigned *)np; i++)
		if (ton_bit(a->key, i) != ton_bit(b->key, i))
			return ton_bit(a->key, i) ? 1 : -1;
	return 0;
}

static int build(struct ton_arena *a, unsigned n, const struct ton_dict_entry *ents, size_t count, unsigned off,
		 struct ton_cell **out, struct cm_err *e)
{
	unsigned m = n - off, l = 0;
	while (l < m && ton_bit(ents[0].key, off + l) == ton_bit(ents[count - 1].key, off + l))
		l++;
	struct ton_builder b;
	ton_b_init(&b);
	write_label(&b, ents[0].key, off, l, m);
	if (count == 1) {
		if (ents[0].value) {
			struct ton_slice s;
			ton_s_init(&s, ents[0].value);
			ton_b_slice(&b, &s);
		}
	} else {
		size_t split = 0;
		while (split < count && !ton_bit(ents[split].key, off + l))
			split++;
		struct ton_cell *left, *right;
		int rc = build(a, n, ents, split, off + l + 1, &left, e);
		rc = rc ? rc : build(a, n, ents + split, count - split, off + l + 1, &right, e);
		if (rc)
			return rc;
		ton_b_ref(&b, left);
		ton_b_ref(&b, right);
	}
	return ton_b_end(&b, a, out, e);
}

int ton_dict_build(struct ton_arena *a, unsigned n, struct ton_dict_entry *ents, size_t count,
		   struct ton_cell **root, struct cm_err *e)
{
	*root = NULL;
	if (n > KEY_MAX_BITS)
		return cm_fail(e, -EINVAL, "dictionary: key of %u bits", n);
	if (!count)
		return 0;
	qsort_r(ents, count, sizeof(*ents), key_cmp, &n);
	for (size_t i = 1; i < count; i++)
		if (!key_cmp(&ents[i - 1], &ents[i], &n))
			return cm_fail(e, -EINVAL, "dictionary: duplicate key");
	return build(a, n, ents, count, 0, root, e);
}

void ton_b_dict(struct ton_builder *b, struct ton_cell *root)
{
	ton_b_bit(b, root != NULL);
	if (root)
		ton_b_ref(b, root);
}
