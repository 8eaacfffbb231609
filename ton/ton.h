/* libton: TON cells, bags of cells, HashmapE dictionaries and addresses (specs/ton.md),
 * for preparing and checking Cocoon root-contract messages and state (docs/publishing.md).
 *
 * Only ordinary level-0 cells exist here (up to 1023 data bits and 4 references); a BoC
 * holding exotic cells, non-zero level masks or absent cells is refused. Every parser is
 * bounded against hostile input and reports failures with the project's struct cm_err
 * (measure/util.h): 0 or a count on success, a negative errno-style code on failure. */
#ifndef COCOON_TON_H
#define COCOON_TON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "measure/core/util.h"

#define TON_CELL_BITS 1023
#define TON_CELL_BYTES 128
#define TON_CELL_REFS 4
#define TON_MAX_DEPTH 1024        /* as the TON VM: deeper cells are refused */
#define TON_BOC_MAX_CELLS (1u << 20)

/* A finished, immutable cell: data bits (zero after `bits`), references, representation
 * hash and depth. Cells live in an arena and are freed with it. */
struct ton_cell {
	uint16_t bits;
	uint8_t nrefs;
	uint16_t depth;
	uint8_t data[TON_CELL_BYTES];
	struct ton_cell *refs[TON_CELL_REFS];
	uint8_t hash[32];
};

struct ton_arena;
struct ton_arena *ton_arena_new(void);
void ton_arena_free(struct ton_arena *a);

/* ---- builder --------------------------------------------------------------------------
 * Stores never fail on the spot: an overflow (more than 1023 bits or 4 refs, a value that
 * does not fit its width) is remembered and reported by ton_b_end. */
struct ton_builder {
	uint8_t data[TON_CELL_BYTES];
	unsigned bits, nrefs;
	struct ton_cell *refs[TON_CELL_REFS];
	bool overflow;
};

void ton_b_init(struct ton_builder *b);
void ton_b_uint(struct ton_builder *b, uint64_t v, unsigned nbits);   /* nbits <= 64 */
void ton_b_bit(struct ton_builder *b, bool v);
/* nbits bits of src starting at bit offset off (bit 0 = MSB of src[0]). */
void ton_b_bits(struct ton_builder *b, const uint8_t *src, unsigned off, unsigned nbits);
void ton_b_ref(struct ton_builder *b, struct ton_cell *c);
/* Coins (VarUInteger 16): 4-bit byte length, then the value big-endian. */
void ton_b_coins(struct ton_builder *b, unsigned __int128 v);
/* Make the cell (hash and depth computed) in arena a. */
int ton_b_end(struct ton_builder *b, struct ton_arena *a, struct ton_cell **out, struct cm_err *e);

/* ---- slice: a read cursor over a cell --------------------------------------------------
 * Reads return 0, or -EBADMSG when the cell has too few bits or refs left (the caller
 * names the field). */
struct ton_slice {
	const struct ton_cell *c;
	unsigned pos, refpos;
};

void ton_s_init(struct ton_slice *s, const struct ton_cell *c);
unsigned ton_s_bits_left(const struct ton_slice *s);
unsigned ton_s_refs_left(const struct ton_slice *s);
int ton_s_uint(struct ton_slice *s, unsigned nbits, uint64_t *v);      /* nbits <= 64 */
int ton_s_bit(struct ton_slice *s, bool *v);
int ton_s_bits(struct ton_slice *s, unsigned nbits, uint8_t *out);     /* out zero-padded */
int ton_s_ref(struct ton_slice *s, const struct ton_cell **c);
int ton_s_coins(struct ton_slice *s, unsigned __int128 *v);
/* Append the rest of a slice (bits and refs) to a builder. */
void ton_b_slice(struct ton_builder *b, const struct ton_slice *s);

/* Bit i of a big-endian bit string. */
static inline bool ton_bit(const uint8_t *p, unsigned i) { return (p[i >> 3] >> (7 - (i & 7))) & 1; }

/* Equality: same bits, references and representation hash. */
bool ton_cell_eq(const struct ton_cell *a, const struct ton_cell *b);

/* ---- bag of cells ------------------------------------------------------------------------ */
struct ton_boc_opts {
	bool idx, crc;  /* write the offset index / the CRC32C */
};

/* Serialize the roots (one or more, distinct: a repeated root is -EINVAL) with shared cells
 * written once, in topological order (a root before its children, as @ton/core). *out is
 * malloc'd. */
int ton_boc_write(const struct ton_cell *const *roots, size_t nroots, const struct ton_boc_opts *o,
		  uint8_t **out, size_t *outlen, struct cm_err *e);
/* Parse a BoC strictly: magic b5ee9c72, declared counts and sizes exactly consumed, index
 * and CRC32C checked when present, references only to later cells (no cycles), ordinary
 * level-0 cells only, depth <= TON_MAX_DEPTH, distinct roots (a root list that names one cell
 * twice could not be written back). Up to max_roots roots into roots[]; returns the number of
 * roots. Cells live in a. */
int ton_boc_read(struct ton_arena *a, const uint8_t *buf, size_t len, struct ton_cell **roots,
		 size_t max_roots, struct cm_err *e);

uint32_t ton_crc32c(const uint8_t *p, size_t n);
uint16_t ton_crc16(const uint8_t *p, size_t n);   /* CRC-16/XMODEM */

/* ---- HashmapE n X (n <= 1023) ------------------------------------------------------------ */
/* Read a HashmapE from a slice: one bit, and a ref (the Hashmap root) when set;
 * *root = NULL for an empty dictionary. */
int ton_s_dict(struct ton_slice *s, const struct ton_cell **root);
/* Look up a key (n bits, big-endian in key). *found tells; value (if not NULL) gets
 * the leaf's remaining bits and refs. Malformed labels and forks are errors. */
int ton_dict_get(const struct ton_cell *root, unsigned n, const uint8_t *key, bool *found,
		 struct ton_slice *value, struct cm_err *e);
/* Visit every entry in key order; stops on a non-zero return of cb (returned). At most
 * max_nodes cells are visited (shared subtrees count each time): a dictionary bigger
 * than that is an error, so a hostile DAG cannot make the walk exponential. */
typedef int (*ton_dict_cb)(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx);
int ton_dict_foreach(const struct ton_cell *root, unsigned n, size_t max_nodes, ton_dict_cb cb, void *ctx,
		     struct cm_err *e);

struct ton_dict_entry {
	const uint8_t *key;             /* n bits */
	const struct ton_cell *value;   /* its bits and refs are the value; NULL = empty */
};
/* Build the Hashmap root of distinct keys (labels in dict.cpp's shortest form);
 * *root = NULL for no entries. Entries are sorted in place. */
int ton_dict_build(struct ton_arena *a, unsigned n, struct ton_dict_entry *ents, size_t count,
		   struct ton_cell **root, struct cm_err *e);
/* Store a HashmapE (bit + optional ref) into a builder. */
void ton_b_dict(struct ton_builder *b, struct ton_cell *root);

/* ---- addresses (TEP-2) -------------------------------------------------------------------- */
struct ton_addr {
	int8_t wc;
	uint8_t hash[32];
};

#define TON_ADDR_RAW 1          /* parsed from wc:hex */
#define TON_ADDR_BOUNCEABLE 2   /* user-friendly flags */
#define TON_ADDR_TESTNET 4
#define TON_ADDR_URLSAFE 8
#define TON_ADDR_FRIENDLY_LEN 48

/* Parse "<wc>:<64 hex>" or the 48-character user-friendly form (base64 or base64url,
 * not mixed; tag 0x11/0x51 [+0x80], CRC16 checked). *flags (may be NULL) tells which. */
int ton_addr_parse(const char *s, struct ton_addr *a, unsigned *flags, struct cm_err *e);
/* "<wc>:<hex>" into out (at least 70 bytes). */
void ton_addr_raw(const struct ton_addr *a, char *out, size_t outsz);
/* User-friendly form with TON_ADDR_BOUNCEABLE / TESTNET / URLSAFE flags; out >= 49 bytes. */
void ton_addr_friendly(const struct ton_addr *a, unsigned flags, char *out, size_t outsz);
/* MsgAddressInt addr_std$10 anycast:0 wc:int8 hash:bits256 (267 bits). */
void ton_b_addr(struct ton_builder *b, const struct ton_addr *a);
int ton_s_addr(struct ton_slice *s, struct ton_addr *a, struct cm_err *e);

/* ---- base64 (OpenSSL), standard or URL-safe, with padding only in the standard form -- */
/* Returns a malloc'd NUL-terminated string. */
char *ton_base64(const uint8_t *p, size_t n, bool urlsafe);
/* Decode either alphabet (not mixed), padding optional, whitespace refused. *out malloc'd. */
int ton_base64_decode(const char *s, size_t slen, uint8_t **out, size_t *outlen);

#endif
