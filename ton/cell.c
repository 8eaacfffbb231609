/* Cells: arena, builder, slice, representation hash and depth (specs/ton.md §1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "measure/core/digest.h"
#include "ton/internal.h"
#include "ton/ton.h"

/* ---- arena: cells in blocks, freed together --------------------------------------------- */
#define BLOCK_CELLS 64

struct block {
	struct block *next;
	size_t used;
	struct ton_cell cells[BLOCK_CELLS];
};

struct ton_arena {
	struct block *head;
};

struct ton_arena *ton_arena_new(void)
{
	return calloc(1, sizeof(struct ton_arena));
}

void ton_arena_free(struct ton_arena *a)
{
	if (!a)
		return;
	for (struct block *b = a->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

static struct ton_cell *cell_alloc(struct ton_arena *a)
{
	if (!a->head || a->head->used == BLOCK_CELLS) {
		struct block *b = malloc(sizeof(*b));
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		a->head = b;
	}
	struct ton_cell *c = &a->head->cells[a->head->used++];
	memset(c, 0, sizeof(*c));
	return c;
}

/* ---- hash ------------------------------------------------------------------------------ */
static unsigned data_bytes(unsigned bits) { return (bits + 7) / 8; }

/* d1 d2 padded-data, then each ref's depth (u16 BE), then each ref's hash. */
static int cell_finish(struct ton_cell *c, struct cm_err *e)
{
	uint8_t rep[2 + TON_CELL_BYTES + TON_CELL_REFS * 34];
	size_t n = 0, db = data_bytes(c->bits);
	rep[n++] = c->nrefs;
	rep[n++] = (uint8_t)(c->bits / 8 + db);
	memcpy(rep + n, c->data, db);
	if (c->bits % 8)
		rep[n + db - 1] |= (uint8_t)(0x80 >> (c->bits % 8));
	n += db;
	unsigned depth = 0;
	for (unsigned i = 0; i < c->nrefs; i++) {
		const struct ton_cell *r = c->refs[i];
		rep[n++] = (uint8_t)(r->depth >> 8);
		rep[n++] = (uint8_t)r->depth;
		if (r->depth + 1u > depth)
			depth = r->depth + 1u;
	}
	for (unsigned i = 0; i < c->nrefs; i++) {
		memcpy(rep + n, c->refs[i]->hash, 32);
		n += 32;
	}
	if (depth > TON_MAX_DEPTH)
		return cm_fail(e, -EOVERFLOW, "cell depth %u exceeds %u", depth, TON_MAX_DEPTH);
	c->depth = (uint16_t)depth;
	if (cm_sha256(rep, n, c->hash))
		return cm_fail(e, -ENOMEM, "sha256 failed");
	return 0;
}

int ton_cell_finish(struct ton_cell *c, struct cm_err *e) { return cell_finish(c, e); }
struct ton_cell *ton_cell_alloc(struct ton_arena *a) { return cell_alloc(a); }

/* ---- builder ------------------------------------------------------------------------------ */
void ton_b_init(struct ton_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void ton_b_bit(struct ton_builder *b, bool v)
{
	if (b->bits >= TON_CELL_BITS) {
		b->overflow = true;
		return;
	}
	if (v)
		b->data[b->bits >> 3] |= (uint8_t)(0x80 >> (b->bits & 7));
	b->bits++;
}

void ton_b_uint(struct ton_builder *b, uint64_t v, unsigned nbits)
{
	if (nbits > 64 || (nbits < 64 && (v >> nbits))) {
		b->overflow = true;
		return;
	}
	for (unsigned i = nbits; i-- > 0;)
		ton_b_bit(b, (v >> i) & 1);
}

void ton_b_bits(struct ton_builder *b, const uint8_t *src, unsigned off, unsigned nbits)
{
	for (unsigned i = 0; i < nbits; i++)
		ton_b_bit(b, ton_bit(src, off + i));
}

void ton_b_ref(struct ton_builder *b, struct ton_cell *c)
{
	if (b->nrefs >= TON_CELL_REFS || !c) {
		b->overflow = true;
		return;
	}
	b->refs[b->nrefs++] = c;
}

void ton_b_coins(struct ton_builder *b, unsigned __int128 v)
{
	unsigned len = 0;
	for (unsigned __int128 t = v; t; t >>= 8)
		len++;
	if (len > 15) {
		b->overflow = true;
		return;
	}
	ton_b_uint(b, len, 4);
	for (unsigned i = len; i-- > 0;)
		ton_b_uint(b, (uint8_t)(v >> (8 * i)), 8);
}

void ton_b_slice(struct ton_builder *b, const struct ton_slice *s)
{
	ton_b_bits(b, s->c->data, s->pos, s->c->bits - s->pos);
	for (unsigned i = s->refpos; i < s->c->nrefs; i++)
		ton_b_ref(b, s->c->refs[i]);
}

int ton_b_end(struct ton_builder *b, struct ton_arena *a, struct ton_cell **out, struct cm_err *e)
{
	if (b->overflow)
		return cm_fail(e, -EOVERFLOW, "cell overflow (more than %u bits or %u refs, or a value wider "
			       "than its field)", TON_CELL_BITS, TON_CELL_REFS);
	struct ton_cell *c = cell_alloc(a);
	if (!c)
		return cm_fail(e, -ENOMEM, "out of memory");
	c->bits = (uint16_t)b->bits;
	c->nrefs = (uint8_t)b->nrefs;
	memcpy(c->data, b->data, sizeof(c->data));
	memcpy(c->refs, b->refs, sizeof(c->refs));
	int rc = cell_finish(c, e);
	if (rc)
		return rc;
	*out = c;
	return 0;
}

/* ---- slice ------------------------------------------------------------------------------- */
void ton_s_init(struct ton_slice *s, const struct ton_cell *c)
{
	s->c = c;
	s->pos = 0;
	s->refpos = 0;
}

unsigned ton_s_bits_left(const struct ton_slice *s) { return s->c->bits - s->pos; }
unsigned ton_s_refs_left(const struct ton_slice *s) { return s->c->nrefs - s->refpos; }

int ton_s_uint(struct ton_slice *s, unsigned nbits, uint64_t *v)
{
	if (nbits > 64 || ton_s_bits_left(s) < nbits)
		return -EBADMSG;
	uint64_t r = 0;
	for (unsigned i = 0; i < nbits; i++)
		r = (r << 1) | ton_bit(s->c->data, s->pos + i);
	s->pos += nbits;
	*v = r;
	return 0;
}

int ton_s_bit(struct ton_slice *s, bool *v)
{
	uint64_t x;
	int rc = ton_s_uint(s, 1, &x);
	if (!rc)
		*v = x;
	return rc;
}

int ton_s_bits(struct ton_slice *s, unsigned nbits, uint8_t *out)
{
	if (ton_s_bits_left(s) < nbits)
		return -EBADMSG;
	memset(out, 0, data_bytes(nbits));
	for (unsigned i = 0; i < nbits; i++)
		if (ton_bit(s->c->data, s->pos + i))
			out[i >> 3] |= (uint8_t)(0x80 >> (i & 7));
	s->pos += nbits;
	return 0;
}

int ton_s_ref(struct ton_slice *s, const struct ton_cell **c)
{
	if (!ton_s_refs_left(s))
		return -EBADMSG;
	*c = s->c->refs[s->refpos++];
	return 0;
}

int ton_s_coins(struct ton_slice *s, unsigned __int128 *v)
{
	uint64_t len, byte;
	if (ton_s_uint(s, 4, &len))
		return -EBADMSG;
	unsigned __int128 r = 0;
	for (uint64_t i = 0; i < len; i++) {
		if (ton_s_uint(s, 8, &byte))
			return -EBADMSG;
		r = (r << 8) | byte;
	}
	*v = r;
	return 0;
}

/* Equal fields and equal representation hashes: under SHA-256 collision resistance the
 * whole trees are equal (no recursion, so shared subtrees cost nothing). */
bool ton_cell_eq(const struct ton_cell *a, const struct ton_cell *b)
{
	if (a == b)
		return true;
	if (a->bits != b->bits || a->nrefs != b->nrefs || a->depth != b->depth ||
	    memcmp(a->data, b->data, sizeof(a->data)) || memcmp(a->hash, b->hash, 32))
		return false;
	for (unsigned i = 0; i < a->nrefs; i++)
		if (memcmp(a->refs[i]->hash, b->refs[i]->hash, 32) || a->refs[i]->depth != b->refs[i]->depth)
			return false;
	return true;
}
