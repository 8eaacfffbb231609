/* libton (ton/): every vector of ton/ton_vectors.json (cell hashes, BoCs, dictionaries,
 * addresses, CRCs), ton.md's examples, round-trip properties over random cells, keys and
 * addresses, strict BoC rejections, and the Cocoon root contract's messages and state. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "host-launcher/cli/cmd_ton.h"
#include "host-launcher/image.h"
#include "measure/core/digest.h"
#include "measure/predict/predict_image.h"
#include "ton/cocoon.h"
#include "ton/ton.h"

static json_object *vectors;
static struct ton_arena *A;

static int setup(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = fixture_read("ton/ton_vectors.json", &len);
	vectors = json_tokener_parse((const char *)buf);
	free(buf);
	A = ton_arena_new();
	return vectors && A ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(vectors);
	ton_arena_free(A);
	return 0;
}

/* vectors.<a>.<b>... (NULL-terminated path) */
static json_object *vget(const char *first, ...)
{
	va_list ap;
	json_object *o = json_object_object_get(vectors, "vectors");
	va_start(ap, first);
	for (const char *k = first; k; k = va_arg(ap, const char *)) {
		json_object *n = NULL;
		if (!json_object_object_get_ex(o, k, &n)) {
			va_end(ap);
			fail_msg("fixture lacks %s", k);
		}
		o = n;
	}
	va_end(ap);
	return o;
}

static const char *vstr(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("fixture lacks %s", key);
	return json_object_get_string(v);
}

static int vint(json_object *o, const char *key) { return atoi(vstr(o, key)); }

static void hex32(const char *hex, uint8_t out[32])
{
	assert_int_equal(cm_hex_decode_exact(hex, strlen(hex), out, 32), 0);
}

static char *hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	assert_non_null(s);
	cm_hex_encode(p, n, s, 2 * n + 1);
	return s;
}

/* A leaf cell from padded data hex and its bit length. */
static struct ton_cell *cell_from(const char *padded_hex, unsigned bits, struct ton_cell *ref)
{
	size_t n;
	uint8_t *d = hex_to_bytes(padded_hex, &n);
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	ton_b_bits(&b, d, 0, bits);
	if (ref)
		ton_b_ref(&b, ref);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	free(d);
	return c;
}

/* The cell's own fields against a vector object (d1, d2, depth, hash). */
static void check_cell(const struct ton_cell *c, json_object *v)
{
	char d[8];
	snprintf(d, sizeof(d), "%02x", c->nrefs);
	assert_string_equal(d, vstr(v, "d1"));
	snprintf(d, sizeof(d), "%02x", c->bits / 8 + (c->bits + 7) / 8);
	assert_string_equal(d, vstr(v, "d2"));
	assert_int_equal(c->bits, vint(v, "bit_length"));
	assert_int_equal(c->nrefs, vint(v, "refs_count"));
	assert_int_equal(c->depth, vint(v, "depth"));
	assert_hex_equal(c->hash, vstr(v, "hash"));
}

/* c written as a one-root BoC (with CRC, no index) and read back into the arena. */
static struct ton_cell *boc_round_trip(const struct ton_cell *c)
{
	uint8_t *buf;
	size_t len;
	struct ton_cell *back;
	assert_int_equal(ton_boc_write(&c, 1, &(struct ton_boc_opts){ false, true }, &buf, &len, NULL), 0);
	assert_int_equal(ton_boc_read(A, buf, len, &back, 1, NULL), 1);
	free(buf);
	return back;
}

/* Serialize with the named variant, compare, then parse every variant back. */
static void check_boc(const struct ton_cell *root, json_object *v)
{
	static const struct {
		const char *key;
		struct ton_boc_opts o;
	} variants[] = {
		{ "boc_hex_no_idx_no_crc", { false, false } },
		{ "boc_hex_crc_only", { false, true } },
		{ "boc_hex_idx_and_crc", { true, true } },
	};
	int seen = 0;
	for (size_t i = 0; i < 3; i++) {
		json_object *h;
		if (!json_object_object_get_ex(v, variants[i].key, &h))
			continue;
		seen++;
		uint8_t *out;
		size_t len;
		assert_int_equal(ton_boc_write(&root, 1, &variants[i].o, &out, &len, NULL), 0);
		char *got = hex_of(out, len);
		assert_string_equal(got, json_object_get_string(h));
		free(got);
		free(out);
		size_t n;
		uint8_t *bytes = hex_to_bytes(json_object_get_string(h), &n);
		struct ton_cell *back;
		struct cm_err e = { 0 };
		if (ton_boc_read(A, bytes, n, &back, 1, &e) != 1)
			fail_msg("%s: %s", variants[i].key, e.msg);
		assert_true(ton_cell_eq(back, root));
		free(bytes);
	}
	assert_true(seen > 0);
}

static void test_crc_vectors(void **state)
{
	(void)state;
	json_object *cases = json_object_object_get(vget("crc32c", NULL), "cases");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = json_object_array_get_idx(cases, i);
		const char *s = vstr(c, "ascii");
		char got[9];
		snprintf(got, sizeof(got), "%08x", ton_crc32c((const uint8_t *)s, strlen(s)));
		assert_string_equal(got, vstr(c, "crc32c_hex"));
	}
	cases = json_object_object_get(vget("crc16", NULL), "cases");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		json_object *c = json_object_array_get_idx(cases, i);
		const char *s = vstr(c, "ascii");
		uint16_t crc = ton_crc16((const uint8_t *)s, strlen(s));
		char got[5];
		snprintf(got, sizeof(got), "%04x", crc);
		assert_string_equal(got, vstr(c, "crc16_hex"));
		assert_int_equal(crc | 0x10000, vint(c, "method_id"));
	}
}

static void test_cell_vectors(void **state)
{
	(void)state;
	static const char *const leaves[] = { "empty_cell", "cell_352_bits", "cell_10_bits_unaligned",
					      "hashmape_empty" };
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		json_object *v = vget(leaves[i], NULL);
		struct ton_cell *c = cell_from(vstr(v, "padded_data_hex"), (unsigned)vint(v, "bit_length"), NULL);
		check_cell(c, v);
		json_object *rep;
		if (json_object_object_get_ex(v, "representation_hex", &rep)) {
			/* representation = d1 d2 padded data (no refs) */
			char d1d2[5];
			snprintf(d1d2, sizeof(d1d2), "%s%s", vstr(v, "d1"), vstr(v, "d2"));
			assert_memory_equal(json_object_get_string(rep), d1d2, 4);
			assert_string_equal(json_object_get_string(rep) + 4, vstr(v, "padded_data_hex"));
		}
		check_boc(c, v);
	}
	/* the 10-bit vector's bits, as a string */
	json_object *v = vget("cell_10_bits_unaligned", NULL);
	const char *bits = vstr(v, "bits");
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	for (const char *p = bits; *p; p++)
		ton_b_bit(&b, *p == '1');
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	assert_hex_equal(c->hash, vstr(v, "hash"));
	/* 352 bits from data_hex */
	v = vget("cell_352_bits", NULL);
	assert_string_equal(vstr(v, "data_hex"), vstr(v, "padded_data_hex"));
}

static void test_two_cell_tree(void **state)
{
	(void)state;
	json_object *v = vget("two_cell_tree", NULL), *rv = vget("two_cell_tree", "root", NULL),
		    *cv = vget("two_cell_tree", "child", NULL);
	struct ton_cell *child = cell_from(vstr(cv, "padded_data_hex"), (unsigned)vint(cv, "bit_length"), NULL);
	struct ton_cell *root = cell_from(vstr(rv, "padded_data_hex"), (unsigned)vint(rv, "bit_length"), child);
	check_cell(child, cv);
	check_cell(root, rv);
	check_boc(root, v);
	/* ton.md §2.1: the same BoC with index and CRC, field by field */
	size_t n;
	uint8_t *bytes = hex_to_bytes("b5ee9c72c101020100070004070102ab010001c07a2b4b21", &n);
	struct ton_cell *back;
	assert_int_equal(ton_boc_read(A, bytes, n, &back, 1, NULL), 1);
	assert_hex_equal(back->hash, "405db8a6c213cbbf3557547e73d1fab759bc4905a3c239120c1c4338aaf426b8");
	assert_hex_equal(back->refs[0]->hash, "7c6c1a965fd501d2938c2c0e06626bdaa3531357016e169070c9ef79c4c46bc0");
	free(bytes);
}

struct collect {
	uint8_t keys[64][32];
	size_t n;
	unsigned value_bits;
};

static int collect_cb(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	struct collect *c = ctx;
	if (c->n >= 64)
		return -E2BIG;
	memcpy(c->keys[c->n++], key, (n + 7) / 8);
	c->value_bits += ton_s_bits_left(value) + ton_s_refs_left(value);
	return 0;
}

static void check_dict_vector(const char *name)
{
	json_object *v = vget(name, NULL), *keys = json_object_object_get(v, "keys_hex");
	size_t nk = json_object_array_length(keys);
	uint8_t k[8][32];
	struct ton_dict_entry ents[8];
	for (size_t i = 0; i < nk; i++) {
		hex32(json_object_get_string(json_object_array_get_idx(keys, i)), k[i]);
		ents[i] = (struct ton_dict_entry){ k[i], NULL };
	}
	struct ton_cell *root;
	assert_int_equal(ton_dict_build(A, 256, ents, nk, &root, NULL), 0);
	json_object *hv = json_object_object_get(v, "hashmap_root");
	check_cell(root, hv);
	check_boc(root, hv);
	/* container: hme_root$1 + ref */
	json_object *cv = json_object_object_get(v, "hashmape_container");
	struct ton_builder b;
	struct ton_cell *cont;
	ton_b_init(&b);
	ton_b_dict(&b, root);
	assert_int_equal(ton_b_end(&b, A, &cont, NULL), 0);
	check_cell(cont, cv);
	check_boc(cont, cv);
	/* lookups through the container */
	struct ton_slice s;
	const struct ton_cell *r;
	ton_s_init(&s, cont);
	assert_int_equal(ton_s_dict(&s, &r), 0);
	assert_ptr_equal(r, root);
	for (size_t i = 0; i < nk; i++) {
		bool found = false;
		struct ton_slice val;
		assert_int_equal(ton_dict_get(r, 256, k[i], &found, &val, NULL), 0);
		assert_true(found);
		assert_int_equal(ton_s_bits_left(&val) + ton_s_refs_left(&val), 0);
	}
	uint8_t absent[32];
	hex32(vstr(v, "absent_key_example"), absent);
	bool found = true;
	assert_int_equal(ton_dict_get(r, 256, absent, &found, NULL, NULL), 0);
	assert_false(found);
	struct collect col = { 0 };
	assert_int_equal(ton_dict_foreach(r, 256, 1000, collect_cb, &col, NULL), 0);
	assert_int_equal(col.n, nk);
	assert_int_equal(col.value_bits, 0);
	for (size_t i = 1; i < col.n; i++)
		assert_true(memcmp(col.keys[i - 1], col.keys[i], 32) < 0);
}

static void test_dict_vectors(void **state)
{
	(void)state;
	check_dict_vector("hashmape_uint256_one_key");
	check_dict_vector("hashmape_uint256_two_keys");
	/* hashmape_empty: the containing cell has the single 0 bit */
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	ton_b_dict(&b, NULL);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	assert_hex_equal(c->hash, vstr(vget("hashmape_empty", NULL), "hash"));
	struct ton_slice s;
	const struct ton_cell *r = c;
	ton_s_init(&s, c);
	assert_int_equal(ton_s_dict(&s, &r), 0);
	assert_null(r);
}

/* ton.md §3: {K with first bit 0, ff..ff}: fork root 02 01 20, hml_long left, hml_same right. */
static void test_dict_spec_structure(void **state)
{
	(void)state;
	uint8_t k0[32], kf[32];
	memset(k0, 0x5a, 32);
	memset(kf, 0xff, 32);
	struct ton_dict_entry ents[2] = { { kf, NULL }, { k0, NULL } };
	struct ton_cell *root;
	assert_int_equal(ton_dict_build(A, 256, ents, 2, &root, NULL), 0);
	assert_int_equal(root->nrefs, 2);
	assert_int_equal(root->bits, 2);                 /* d2 = 0x01 */
	assert_int_equal(root->data[0] | 0x20, 0x20);    /* 00 + tag = 0x20 */
	assert_int_equal(root->refs[0]->data[0], 0xbf);  /* 10 + 9-bit... first byte bf for 0x5a.. */
	const struct ton_cell *right = root->refs[1];
	assert_int_equal(right->bits, 11);               /* 11 1 11111111 -> d2 = 3, ff f0 */
	assert_int_equal(right->data[0], 0xff);
	assert_int_equal(right->data[1], 0xe0);
	size_t n;
	uint8_t *bytes;
	const struct ton_cell *rr = right;
	assert_int_equal(ton_boc_write(&rr, 1, &(struct ton_boc_opts){ 0 }, &bytes, &n, NULL), 0);
	assert_hex_equal(bytes + n - 4, "0003fff0");
	free(bytes);
	/* single key: 267-bit hml_long leaf, 47-byte BoC */
	struct ton_cell *one;
	assert_int_equal(ton_dict_build(A, 256, ents, 1, &one, NULL), 0);
	assert_int_equal(one->bits, 267);
	const struct ton_cell *o1 = one;
	assert_int_equal(ton_boc_write(&o1, 1, &(struct ton_boc_opts){ 0 }, &bytes, &n, NULL), 0);
	assert_int_equal(n, 47);
	assert_hex_equal(bytes, "b5ee9c72010101010024000043");
	free(bytes);
}

static void check_addr_forms(json_object *v)
{
	static const struct {
		const char *key;
		unsigned flags;
	} forms[] = {
		{ "bounceable_urlsafe", TON_ADDR_BOUNCEABLE | TON_ADDR_URLSAFE },
		{ "non_bounceable_urlsafe", TON_ADDR_URLSAFE },
		{ "testnet_bounceable_urlsafe", TON_ADDR_BOUNCEABLE | TON_ADDR_TESTNET | TON_ADDR_URLSAFE },
		{ "testnet_non_bounceable_urlsafe", TON_ADDR_TESTNET | TON_ADDR_URLSAFE },
		{ "bounceable_std_base64", TON_ADDR_BOUNCEABLE },
		{ "non_bounceable_std_base64", 0 },
		{ "testnet_bounceable_std_base64", TON_ADDR_BOUNCEABLE | TON_ADDR_TESTNET },
		{ "testnet_non_bounceable_std_base64", TON_ADDR_TESTNET },
	};
	struct ton_addr a;
	unsigned flags;
	char out[80];
	struct cm_err e = { 0 };
	if (ton_addr_parse(vstr(v, "raw"), &a, &flags, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(flags, TON_ADDR_RAW);
	assert_int_equal(a.wc, vint(v, "workchain"));
	assert_hex_equal(a.hash, vstr(v, "hash_hex"));
	ton_addr_raw(&a, out, sizeof(out));
	assert_string_equal(out, vstr(v, "raw"));
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *want = vstr(v, forms[i].key);
		ton_addr_friendly(&a, forms[i].flags, out, sizeof(out));
		assert_string_equal(out, want);
		struct ton_addr b;
		if (ton_addr_parse(want, &b, &flags, &e))
			fail_msg("%s: %s", forms[i].key, e.msg);
		assert_int_equal(b.wc, a.wc);
		assert_memory_equal(b.hash, a.hash, 32);
		/* a string without - or _ reads the same in both alphabets */
		assert_int_equal(flags & ~TON_ADDR_URLSAFE, forms[i].flags & ~TON_ADDR_URLSAFE);
	}
	/* the 36 bytes */
	uint8_t *raw;
	size_t n;
	assert_int_equal(ton_base64_decode(vstr(v, "bounceable_urlsafe"), 48, &raw, &n), 0);
	assert_int_equal(n, 36);
	assert_hex_equal(raw, vstr(v, "bounceable_36_bytes_hex"));
	free(raw);
	/* MsgAddressInt cell */
	json_object *cv = json_object_object_get(v, "msg_address_int_cell");
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	ton_b_addr(&b, &a);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	check_cell(c, cv);
	check_boc(c, cv);
	struct ton_slice s;
	struct ton_addr back;
	ton_s_init(&s, c);
	assert_int_equal(ton_s_addr(&s, &back, NULL), 0);
	assert_int_equal(back.wc, a.wc);
	assert_memory_equal(back.hash, a.hash, 32);
}

static void test_address_vectors(void **state)
{
	(void)state;
	check_addr_forms(vget("address_basechain", NULL));
	check_addr_forms(vget("address_masterchain", NULL));
	/* ton.md §5: Cocoon's default mainnet root */
	struct ton_addr a;
	char out[80];
	assert_int_equal(ton_addr_parse("0:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", &a, NULL,
					NULL), 0);
	ton_addr_friendly(&a, TON_ADDR_BOUNCEABLE | TON_ADDR_URLSAFE, out, sizeof(out));
	assert_string_equal(out, "EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g0");
	ton_addr_friendly(&a, TON_ADDR_URLSAFE, out, sizeof(out));
	assert_string_equal(out, "UQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN-Xx");
	ton_addr_friendly(&a, TON_ADDR_BOUNCEABLE | TON_ADDR_TESTNET | TON_ADDR_URLSAFE, out, sizeof(out));
	assert_string_equal(out, "kQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aNwO-");
	assert_int_equal(ton_addr_parse("EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k", &a, NULL, NULL), 0);
	ton_addr_raw(&a, out, sizeof(out));
	assert_true(!strncmp(out, "0:a7b3b6d8", 10));
	assert_true(!strcmp(out + strlen(out) - 4, "2753"));
}

static void addr_rejects(const char *s, const char *needle)
{
	struct ton_addr a;
	struct cm_err e = { 0 };
	assert_true(ton_addr_parse(s, &a, NULL, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("'%s': '%s' lacks '%s'", s, e.msg, needle);
}

static void test_address_rejections(void **state)
{
	(void)state;
	addr_rejects("EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g1", "CRC16");
	addr_rejects("EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g", "characters");
	addr_rejects("EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0a+-g0", "base64");  /* mixed */
	addr_rejects("EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7!0", "base64");
	addr_rejects("0:5c5e", "64 hex");
	addr_rejects("128:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "int8");
	addr_rejects("x:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "int8");
	addr_rejects(":5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "workchain");
	/* strtol took these: a sign other than '-', white space */
	addr_rejects("+0:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "int8");
	addr_rejects(" -1:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "int8");
	addr_rejects("-:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "workchain");
	addr_rejects("-129:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", "int8");
	struct ton_addr m;
	assert_int_equal(ton_addr_parse("-128:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", &m, NULL,
					NULL), 0);
	assert_int_equal(m.wc, -128);
	assert_int_equal(ton_addr_parse("-1:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a37", &m, NULL,
					NULL), 0);
	assert_int_equal(m.wc, -1);
	addr_rejects("0:5c5ef3fd0d4038939b6a51aa5c8a5b789199c1cc5d13b3b396d18a79148d1a3z", "64 hex");
	/* a valid CRC over a bad tag */
	uint8_t b[36] = { 0x12 };
	uint16_t crc = ton_crc16(b, 34);
	b[34] = (uint8_t)(crc >> 8);
	b[35] = (uint8_t)crc;
	char *s = ton_base64(b, 36, true);
	addr_rejects(s, "tag byte");
	free(s);
}

static void test_address_roundtrip_random(void **state)
{
	(void)state;
	srand(16);
	for (int i = 0; i < 500; i++) {
		struct ton_addr a = { .wc = (int8_t)(rand() % 256 - 128) }, b;
		for (int k = 0; k < 32; k++)
			a.hash[k] = (uint8_t)rand();
		unsigned flags = (unsigned)(rand() % 8) << 1, got;
		char s[80];
		ton_addr_friendly(&a, flags, s, sizeof(s));
		assert_int_equal(strlen(s), 48);
		assert_int_equal(ton_addr_parse(s, &b, &got, NULL), 0);
		assert_int_equal(a.wc, b.wc);
		assert_memory_equal(a.hash, b.hash, 32);
		assert_int_equal(got & (TON_ADDR_BOUNCEABLE | TON_ADDR_TESTNET), flags & (TON_ADDR_BOUNCEABLE | TON_ADDR_TESTNET));
		ton_addr_raw(&a, s, sizeof(s));
		assert_int_equal(ton_addr_parse(s, &b, &got, NULL), 0);
		assert_memory_equal(a.hash, b.hash, 32);
		assert_int_equal(a.wc, b.wc);
		/* one changed character of a friendly form is caught (CRC16 or the tag) */
		ton_addr_friendly(&a, flags, s, sizeof(s));
		int at = rand() % 48;
		s[at] = s[at] == 'A' ? 'B' : 'A';
		assert_true(ton_addr_parse(s, &b, NULL, NULL) < 0);
	}
}

/* ---- random cells ---- */
static struct ton_cell *random_cell(int depth, struct ton_cell **pool, size_t *npool)
{
	struct ton_builder b;
	ton_b_init(&b);
	unsigned bits = (unsigned)(rand() % 4 == 0 ? rand() % 1024 : rand() % 64);
	for (unsigned i = 0; i < bits; i++)
		ton_b_bit(&b, rand() & 1);
	unsigned nrefs = depth > 0 ? (unsigned)(rand() % 5) : 0;
	for (unsigned i = 0; i < nrefs; i++) {
		/* share an earlier cell now and then: a DAG, written once */
		if (*npool && rand() % 4 == 0)
			ton_b_ref(&b, pool[rand() % *npool]);
		else
			ton_b_ref(&b, random_cell(depth - 1 - rand() % 2, pool, npool));
	}
	struct ton_cell *c;
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	if (*npool < 256)
		pool[(*npool)++] = c;
	return c;
}

static void test_boc_roundtrip_random(void **state)
{
	(void)state;
	srand(1623);
	struct ton_cell *pool[256];
	for (int i = 0; i < 300; i++) {
		size_t npool = 0, nroots = 1 + (size_t)(rand() % 3);
		const struct ton_cell *roots[3];
		for (size_t r = 0; r < nroots; r++)
			roots[r] = random_cell(rand() % 5, pool, &npool);
		struct ton_boc_opts o = { rand() & 1, rand() & 1 };
		uint8_t *buf;
		size_t len;
		assert_int_equal(ton_boc_write(roots, nroots, &o, &buf, &len, NULL), 0);
		struct ton_cell *back[3];
		struct cm_err e = { 0 };
		if (ton_boc_read(A, buf, len, back, 3, &e) != (int)nroots)
			fail_msg("round %d: %s", i, e.msg);
		for (size_t r = 0; r < nroots; r++)
			assert_true(ton_cell_eq(back[r], roots[r]));
		/* the same bytes again from the parsed cells */
		uint8_t *again;
		size_t alen;
		assert_int_equal(ton_boc_write((const struct ton_cell *const *)back, nroots, &o, &again, &alen, NULL), 0);
		assert_int_equal(alen, len);
		assert_memory_equal(again, buf, len);
		free(again);
		/* every proper prefix is rejected (a sample of them for long BoCs) */
		for (size_t p = 0; p < len; p += len <= 1500 ? 1 : 1 + (size_t)rand() % (len / 300))
			assert_true(ton_boc_read(A, buf, p, back, 3, NULL) < 0);
		assert_true(ton_boc_read(A, buf, len - 1, back, 3, NULL) < 0);
		/* with a CRC, any changed byte is rejected */
		if (o.crc) {
			size_t at = (size_t)rand() % len;
			buf[at] ^= (uint8_t)(1 + rand() % 255);
			assert_true(ton_boc_read(A, buf, len, back, 3, NULL) < 0);
		}
		free(buf);
	}
}

static void test_boc_prefixes_of_vectors(void **state)
{
	(void)state;
	static const char *const names[] = { "empty_cell", "cell_352_bits", "cell_10_bits_unaligned", "two_cell_tree" };
	static const char *const keys[] = { "boc_hex_no_idx_no_crc", "boc_hex_crc_only", "boc_hex_idx_and_crc" };
	for (size_t i = 0; i < 4; i++)
		for (size_t k = 0; k < 3; k++) {
			size_t n;
			uint8_t *b = hex_to_bytes(vstr(vget(names[i], NULL), keys[k]), &n);
			struct ton_cell *r;
			for (size_t p = 0; p < n; p++)
				assert_true(ton_boc_read(A, b, p, &r, 1, NULL) < 0);
			assert_int_equal(ton_boc_read(A, b, n, &r, 1, NULL), 1);
			free(b);
		}
}

static void boc_rejects(const char *hex, const char *needle)
{
	size_t n;
	uint8_t *b = hex_to_bytes(hex, &n);
	struct ton_cell *r[2];
	struct cm_err e = { 0 };
	assert_true(ton_boc_read(A, b, n, r, 2, &e) < 0);
	if (!strstr(e.msg, needle))
		fail_msg("%s: '%s' lacks '%s'", hex, e.msg, needle);
	free(b);
}

static void test_boc_strict(void **state)
{
	(void)state;
	/* baseline: two cells, root 0 -> 1 */
	boc_rejects("b5ee9c73010102010007000102ab010001c0", "magic");
	boc_rejects("b5ee9c72090102010007000102ab010001c0", "reserved flag");
	boc_rejects("b5ee9c72210102010007000102ab010001c0", "has_cache_bits without has_idx");
	boc_rejects("b5ee9c72000102010007000102ab010001c0", "ref size 0");
	boc_rejects("b5ee9c72010002010007000102ab010001c0", "off_bytes 0");
	boc_rejects("b5ee9c72010100010007000102ab010001c0", "cell count 0");
	boc_rejects("b5ee9c72010102030007000102ab010001c0", "root count 3");
	boc_rejects("b5ee9c72010102010107000102ab010001c0", "absent");
	boc_rejects("b5ee9c72010102010008000102ab010001c0", "declared sizes");
	boc_rejects("b5ee9c72010102010007000102ab010001c000", "declared sizes");      /* trailing byte */
	boc_rejects("b5ee9c72010102010007000102ab000001c0", "reference 0 to cell 0"); /* self: a cycle */
	boc_rejects("b5ee9c72010102010007000102ab020001c0", "must be a later");
	boc_rejects("b5ee9c72010102010008000102ab010101c000", "must be a later");     /* child refs back */
	boc_rejects("b5ee9c72010102010007000902ab010001c0", "d1 09");                 /* exotic */
	boc_rejects("b5ee9c72010102010007002102ab010001c0", "d1 21");                 /* level mask */
	boc_rejects("b5ee9c72010102010007000702ab010001c0", "absent cell");
	boc_rejects("b5ee9c72010102010007000102ab01000100", "completion tag");
	boc_rejects("b5ee9c72010102010007000102ab010003c0", "truncated");
	boc_rejects("b5ee9c72010102010008000102ab010001c000", "cells use");
	boc_rejects("b5ee9c72010102010007050102ab010001c0", "root 0 is cell 5");
	/* two roots naming cell 1 (cell 0 unreachable): written back, 2 roots of 1 cell (fuzz_ton_boc) */
	boc_rejects("b5ee9c7201010202000701010102ab010001c0", "same cell as root 0");
	{ /* and the writer refuses a repeated root */
		struct ton_cell *c[2] = { 0 };
		size_t cn;
		uint8_t *cb = hex_to_bytes("b5ee9c72010102010007000102ab010001c0", &cn);
		assert_int_equal(ton_boc_read(A, cb, cn, c, 1, NULL), 1);
		c[1] = c[0];
		uint8_t *out = NULL;
		size_t outlen;
		struct ton_boc_opts o = { 0 };
		struct cm_err e = { 0 };
		assert_true(ton_boc_write((const struct ton_cell *const *)c, 2, &o, &out, &outlen, &e) < 0);
		assert_non_null(strstr(e.msg, "same cell"));
		free(out);
		free(cb);
	}
	boc_rejects("b5ee9c72c101020100070003070102ab010001c07a2b4b21", "CRC32C");    /* index changed, CRC kept */
	boc_rejects("b5ee9c72810102010007000307" "0102ab010001c0", "index entry 0");
	boc_rejects("b5ee9c72010102010007", "declared sizes");
	boc_rejects("b5ee9c7201020101000fff00", "impossible");
	/* with_hashes (d1 +16) is accepted when the stored hash and depth are right */
	size_t n;
	struct ton_cell *r;
	uint8_t *b = hex_to_bytes("b5ee9c7201010101002400" "1000" "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
			 "0000", &n);
	assert_int_equal(ton_boc_read(A, b, n, &r, 1, NULL), 1);
	assert_hex_equal(r->hash, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
	b[13] ^= 1;
	assert_true(ton_boc_read(A, b, n, &r, 1, NULL) < 0);
	free(b);
	/* depth beyond TON_MAX_DEPTH: a chain of 1026 cells */
	size_t cells = 1026;
	size_t len = 4 + 2 + 3 * 2 + 2 + 2 + cells * 4 - 2;
	b = calloc(1, len);
	uint8_t *p = b;
	memcpy(p, "\xb5\xee\x9c\x72\x02\x02", 6);
	p += 6;
	*p++ = (uint8_t)(cells >> 8), *p++ = (uint8_t)cells;
	*p++ = 0, *p++ = 1, *p++ = 0, *p++ = 0;
	size_t tot = cells * 4 - 2;
	*p++ = (uint8_t)(tot >> 8), *p++ = (uint8_t)tot;
	*p++ = 0, *p++ = 0;
	for (size_t i = 0; i < cells; i++) {
		bool last = i == cells - 1;
		*p++ = last ? 0 : 1;
		*p++ = 0;
		if (!last) {
			*p++ = (uint8_t)((i + 1) >> 8);
			*p++ = (uint8_t)(i + 1);
		}
	}
	assert_int_equal((size_t)(p - b), len);
	struct cm_err e = { 0 };
	assert_true(ton_boc_read(A, b, len, &r, 1, &e) < 0);
	assert_non_null(strstr(e.msg, "depth"));
	free(b);
}

/* ---- dictionaries: random round trips, a hostile DAG ---- */
static void test_dict_random(void **state)
{
	(void)state;
	srand(256);
	for (int round = 0; round < 60; round++) {
		unsigned n = round % 2 ? 32 : 256;
		size_t count = (size_t)(rand() % 40);
		uint8_t keys[40][32];
		struct ton_dict_entry ents[40];
		struct ton_cell *vals[40];
		for (size_t i = 0; i < count; i++) {
			/* clustered keys: long common prefixes and hml_same runs */
			for (unsigned k = 0; k < 32; k++)
				keys[i][k] = (uint8_t)(rand() % 3 == 0 ? 0xff : rand() % 3 == 0 ? 0 : rand());
			keys[i][(n / 8) - 1] = (uint8_t)i; /* distinct */
			struct ton_builder b;
			ton_b_init(&b);
			ton_b_uint(&b, i, 16);
			assert_int_equal(ton_b_end(&b, A, &vals[i], NULL), 0);
			ents[i] = (struct ton_dict_entry){ keys[i], round % 3 ? vals[i] : NULL };
		}
		struct ton_cell *root;
		assert_int_equal(ton_dict_build(A, n, ents, count, &root, NULL), 0);
		assert_true(count ? root != NULL : root == NULL);
		/* through a BoC */
		struct ton_builder b;
		struct ton_cell *cont, *back;
		ton_b_init(&b);
		ton_b_dict(&b, root);
		assert_int_equal(ton_b_end(&b, A, &cont, NULL), 0);
		back = boc_round_trip(cont);
		struct ton_slice s;
		const struct ton_cell *r;
		ton_s_init(&s, back);
		assert_int_equal(ton_s_dict(&s, &r), 0);
		for (size_t i = 0; i < count; i++) {
			bool found;
			struct ton_slice v;
			assert_int_equal(ton_dict_get(r, n, keys[i], &found, &v, NULL), 0);
			assert_true(found);
			uint64_t x = 0;
			if (round % 3) {
				assert_int_equal(ton_s_uint(&v, 16, &x), 0);
				assert_int_equal(x, i);
			}
			assert_int_equal(ton_s_bits_left(&v), 0);
			/* a near miss is absent */
			uint8_t miss[32];
			memcpy(miss, keys[i], 32);
			miss[rand() % (n / 8)] ^= (uint8_t)(1 << (rand() % 8));
			bool dup = false;
			for (size_t j = 0; j < count; j++)
				dup |= !memcmp(miss, keys[j], n / 8);
			assert_int_equal(ton_dict_get(r, n, miss, &found, NULL, NULL), 0);
			assert_int_equal(found, dup);
		}
		struct collect col = { 0 };
		assert_int_equal(ton_dict_foreach(r, n, 10000, collect_cb, &col, NULL), 0);
		assert_int_equal(col.n, count);
		for (size_t i = 1; i < col.n; i++)
			assert_true(memcmp(col.keys[i - 1], col.keys[i], n / 8) < 0);
	}
	/* duplicate keys are refused */
	uint8_t k[32] = { 1 };
	struct ton_dict_entry d[2] = { { k, NULL }, { k, NULL } };
	struct ton_cell *root;
	assert_true(ton_dict_build(A, 256, d, 2, &root, NULL) < 0);
}

static int count_cb(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	(void)key, (void)n, (void)value;
	(*(size_t *)ctx)++;
	return 0;
}

static void test_dict_hostile(void **state)
{
	(void)state;
	/* 256 levels of forks whose two refs are the same cell: 2^256 keys in 257 cells */
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	ton_b_uint(&b, 0, 2); /* hml_short len 0 at m = 0 */
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	for (int i = 0; i < 256; i++) {
		ton_b_init(&b);
		ton_b_uint(&b, 0, 2);
		ton_b_ref(&b, c);
		ton_b_ref(&b, c);
		assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	}
	size_t count = 0;
	struct cm_err e = { 0 };
	assert_int_equal(ton_dict_foreach(c, 256, 5000, count_cb, &count, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "more than 5000 nodes"));
	uint8_t key[32];
	memset(key, 0xa5, 32);
	bool found;
	assert_int_equal(ton_dict_get(c, 256, key, &found, NULL, NULL), 0);
	assert_true(found);
	/* malformed: a fork with data after the label; a label longer than the key */
	ton_b_init(&b);
	ton_b_uint(&b, 1, 3);  /* 0 0 + one stray bit */
	ton_b_ref(&b, c);
	ton_b_ref(&b, c);
	struct ton_cell *bad;
	assert_int_equal(ton_b_end(&b, A, &bad, NULL), 0);
	assert_true(ton_dict_get(bad, 256, key, &found, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "fork"));
	ton_b_init(&b);
	ton_b_uint(&b, 3, 2);
	ton_b_bit(&b, 1);
	ton_b_uint(&b, 300, 9); /* hml_same len 300 > 256 */
	assert_int_equal(ton_b_end(&b, A, &bad, NULL), 0);
	assert_true(ton_dict_get(bad, 256, key, &found, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, "bad label"));
	assert_true(ton_dict_foreach(bad, 256, 10, count_cb, &count, &e) < 0);
}

static void test_builder_limits(void **state)
{
	(void)state;
	struct ton_builder b;
	struct ton_cell *c;
	ton_b_init(&b);
	for (int i = 0; i < 1023; i++)
		ton_b_bit(&b, 1);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	assert_int_equal(c->bits, 1023);
	struct ton_cell *full = c;
	ton_b_bit(&b, 1);
	assert_true(ton_b_end(&b, A, &c, NULL) < 0);
	ton_b_init(&b);
	for (int i = 0; i < 5; i++)
		ton_b_ref(&b, full);
	assert_true(ton_b_end(&b, A, &c, NULL) < 0);
	ton_b_init(&b);
	ton_b_uint(&b, 256, 8);
	assert_true(ton_b_end(&b, A, &c, NULL) < 0);
	/* Coins */
	ton_b_init(&b);
	ton_b_coins(&b, 0);
	ton_b_coins(&b, 1000000000);
	ton_b_coins(&b, ~(unsigned __int128)0 >> 8);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	struct ton_slice s;
	unsigned __int128 v;
	ton_s_init(&s, c);
	assert_int_equal(ton_s_coins(&s, &v), 0);
	assert_true(v == 0);
	assert_int_equal(ton_s_coins(&s, &v), 0);
	assert_true(v == 1000000000);
	assert_int_equal(ton_s_coins(&s, &v), 0);
	assert_true(v == ~(unsigned __int128)0 >> 8);
	assert_int_equal(ton_s_bits_left(&s), 0);
	assert_true(ton_s_coins(&s, &v) < 0);
	char dec[48];
	ton_u128_str((unsigned __int128)1 << 100, dec, sizeof(dec));
	assert_string_equal(dec, "1267650600228229401496703205376");
}

/* ---- Cocoon root contract ---- */
static void test_root_messages(void **state)
{
	(void)state;
	/* The fixture quote's image hash (specs/measurement.md §6). */
	uint8_t h[32];
	hex32("04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436", h);
	static const struct {
		enum ton_root_kind k;
		bool del;
		const char *op;
	} want[] = {
		{ TON_KIND_WORKER, false, "e34b1c60" }, { TON_KIND_WORKER, true, "8d94a79a" },
		{ TON_KIND_PROXY, false, "71860e80" },  { TON_KIND_PROXY, true, "3c41d0b2" },
		{ TON_KIND_MODEL, false, "c146134d" },  { TON_KIND_MODEL, true, "92b11c18" },
	};
	for (size_t i = 0; i < 6; i++) {
		struct ton_cell *c;
		uint64_t qid = i * 0x0102030405060708ull;
		assert_int_equal(ton_root_hash_msg(A, ton_root_op(want[i].k, want[i].del), qid, h, &c, NULL), 0);
		assert_int_equal(c->bits, TON_ROOT_MSG_BITS);
		assert_int_equal(c->nrefs, 0);
		char exp[2 * 44 + 1];
		snprintf(exp, sizeof(exp), "%s%016llx04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436",
			 want[i].op, (unsigned long long)qid);
		assert_hex_equal(c->data, exp);
		/* BoC: d1 00 d2 58, one root */
		const struct ton_cell *cc = c;
		uint8_t *buf;
		size_t len;
		assert_int_equal(ton_boc_write(&cc, 1, &(struct ton_boc_opts){ false, true }, &buf, &len, NULL), 0);
		assert_int_equal(len, 4 + 2 + 3 + 1 + 1 + 2 + 44 + 4);
		assert_hex_equal(buf, "b5ee9c7241010101002e000058");
		free(buf);
		char name[40];
		snprintf(name, sizeof(name), "cocoon_root_%s_%s_type", want[i].del ? "del" : "add",
			 ton_root_kind_names[want[i].k]);
		assert_string_equal(ton_root_op_name(want[i].k, want[i].del), name);
	}
	enum ton_root_kind k;
	assert_int_equal(ton_root_kind_parse("proxy", &k), 0);
	assert_int_equal(k, TON_KIND_PROXY);
	assert_true(ton_root_kind_parse("client", &k) < 0);
	/* the model hash against sha256sum of the full string */
	const char *model = "Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:"
			    "2b2f1e8a6dbb3f2f7b6c5f5b0a9d0b8b6f1b4c1d2e3f405162738495a6b7c8d9";
	uint8_t mh[32];
	assert_int_equal(ton_model_hash(model, mh), 0);
	char cmd[512], ref[80];
	snprintf(cmd, sizeof(cmd), "printf %%s '%s' | sha256sum | cut -c1-64", model);
	run_reference(cmd, ref, sizeof(ref));
	assert_hex_equal(mh, ref);
}

struct state_keys {
	uint8_t worker[3][32], proxy[32], model[32], absent[32];
	struct ton_addr owner;
};

static struct ton_cell *params_cell(unsigned sv, bool extra_bit)
{
	struct ton_builder b;
	struct ton_cell *c, *code;
	ton_b_init(&b);
	assert_int_equal(ton_b_end(&b, A, &code, NULL), 0);
	ton_b_init(&b);
	ton_b_uint(&b, sv, 8);
	ton_b_uint(&b, 7, 32);          /* params_version */
	ton_b_uint(&b, 0xc0c0, 32);     /* unique_id */
	ton_b_bit(&b, 0);               /* is_test */
	ton_b_coins(&b, 20);            /* price_per_token */
	ton_b_coins(&b, 1);             /* worker_fee_per_token */
	if (sv >= 3)
		ton_b_uint(&b, 10000, 32);
	if (sv >= 2)
		ton_b_uint(&b, 1000, 32);
	if (sv >= 3)
		ton_b_uint(&b, 80000, 32);
	if (sv >= 2)
		ton_b_uint(&b, 80000, 32);
	ton_b_uint(&b, 60, 32);
	ton_b_uint(&b, 120, 32);
	if (sv >= 1) {
		ton_b_coins(&b, 15000000000ull);
		ton_b_coins(&b, 1000000000);
	}
	ton_b_bit(&b, 1);
	ton_b_ref(&b, code);
	ton_b_bit(&b, 0);
	ton_b_bit(&b, 1);
	ton_b_ref(&b, code);
	if (extra_bit)
		ton_b_bit(&b, 0);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	return c;
}

/* The root's account data with the given dictionaries (NULL = empty). */
static struct ton_cell *state_cell(const struct state_keys *k, size_t nworkers, bool proxy, bool model, unsigned sv)
{
	struct ton_dict_entry w[3], p[1] = { { k->proxy, NULL } }, m[1] = { { k->model, NULL } };
	for (size_t i = 0; i < nworkers; i++)
		w[i] = (struct ton_dict_entry){ k->worker[i], NULL };
	struct ton_cell *wd, *pd, *md, *rp, *rd, *data, *info;
	assert_int_equal(ton_dict_build(A, 256, w, nworkers, &wd, NULL), 0);
	assert_int_equal(ton_dict_build(A, 256, p, proxy, &pd, NULL), 0);
	assert_int_equal(ton_dict_build(A, 256, m, model, &md, NULL), 0);
	struct ton_builder b;
	const char *addr = "10.0.0.2:8090 10.0.0.2:8091";
	ton_b_init(&b);
	ton_b_bit(&b, 0);
	ton_b_uint(&b, strlen(addr), 7);
	ton_b_bits(&b, (const uint8_t *)addr, 0, 8 * (unsigned)strlen(addr));
	assert_int_equal(ton_b_end(&b, A, &info, NULL), 0);
	uint8_t seq[4] = { 0, 0, 0, 5 };
	struct ton_dict_entry r[1] = { { seq, info } };
	assert_int_equal(ton_dict_build(A, 32, r, 1, &rp, NULL), 0);
	ton_b_init(&b);
	ton_b_dict(&b, pd);
	ton_b_dict(&b, rp);
	ton_b_uint(&b, 5, 32);
	ton_b_dict(&b, wd);
	ton_b_dict(&b, md);
	assert_int_equal(ton_b_end(&b, A, &rd, NULL), 0);
	struct ton_cell *keys = NULL;
	if (sv == 4) {
		ton_b_init(&b);
		ton_b_dict(&b, NULL);
		ton_b_bits(&b, k->model, 0, 256);
		ton_b_uint(&b, 0, 8);
		assert_int_equal(ton_b_end(&b, A, &keys, NULL), 0);
	}
	ton_b_init(&b);
	ton_b_addr(&b, &k->owner);
	ton_b_uint(&b, 42, 32);
	ton_b_ref(&b, rd);
	ton_b_ref(&b, params_cell(sv, false));
	if (keys)
		ton_b_ref(&b, keys);
	assert_int_equal(ton_b_end(&b, A, &data, NULL), 0);
	return data;
}

static void make_keys(struct state_keys *k)
{
	for (int i = 0; i < 3; i++)
		memset(k->worker[i], 0x10 * (i + 1), 32);
	k->worker[2][31] = 0x01;
	hex32("04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436", k->worker[0]);
	memset(k->proxy, 0xee, 32);
	assert_int_equal(ton_model_hash("Qwen/Qwen3-8B@abc:def", k->model), 0);
	memset(k->absent, 0x77, 32);
	assert_int_equal(ton_addr_parse("EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g0", &k->owner, NULL, NULL), 0);
}

static int proxy_cb(const uint8_t *key, unsigned n, struct ton_slice *value, void *ctx)
{
	assert_int_equal(n, 32);
	assert_hex_equal(key, "00000005");
	return ton_root_proxy_info(value, ctx, NULL);
}

static void test_root_state(void **state)
{
	(void)state;
	struct state_keys k;
	make_keys(&k);
	struct ton_cell *data = state_cell(&k, 3, true, true, 3), *back;
	back = boc_round_trip(data);
	struct ton_root_state st;
	struct cm_err e = { 0 };
	if (ton_root_state_parse(back, &st, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(st.version, 42);
	assert_int_equal(st.last_proxy_seqno, 5);
	assert_memory_equal(st.owner.hash, k.owner.hash, 32);
	assert_int_equal(st.params.struct_version, 3);
	assert_int_equal(st.params.unique_id, 0xc0c0);
	assert_true(st.params.min_proxy_stake == 15000000000ull);
	assert_true(st.params.proxy_code && !st.params.worker_code && st.params.client_code);
	assert_int_equal(st.params.completion_mult, 80000);
	assert_string_equal(st.note, "");
	bool present;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ton_root_state_has(&st, TON_KIND_WORKER, k.worker[i], &present, NULL), 0);
		assert_true(present);
		assert_int_equal(ton_root_state_has(&st, TON_KIND_PROXY, k.worker[i], &present, NULL), 0);
		assert_false(present);
	}
	assert_int_equal(ton_root_state_has(&st, TON_KIND_PROXY, k.proxy, &present, NULL), 0);
	assert_true(present);
	assert_int_equal(ton_root_state_has(&st, TON_KIND_MODEL, k.model, &present, NULL), 0);
	assert_true(present);
	assert_int_equal(ton_root_state_has(&st, TON_KIND_WORKER, k.absent, &present, NULL), 0);
	assert_false(present);
	char addr[128] = "";
	assert_int_equal(ton_dict_foreach(st.registered_proxies, 32, 100, proxy_cb, addr, NULL), 0);
	assert_string_equal(addr, "10.0.0.2:8090 10.0.0.2:8091");

	/* only workers non-empty: worker_hashes is then RootData's ref 1 (after the proxies) */
	data = state_cell(&k, 1, false, false, 3);
	assert_int_equal(ton_root_state_parse(data, &st, NULL), 0);
	assert_null(st.hashes[TON_KIND_PROXY]);
	assert_null(st.hashes[TON_KIND_MODEL]);
	assert_int_equal(ton_root_state_has(&st, TON_KIND_WORKER, k.worker[0], &present, NULL), 0);
	assert_true(present);

	/* struct_version 4: the key-manager ref, with a note */
	data = state_cell(&k, 2, true, false, 4);
	assert_int_equal(ton_root_state_parse(data, &st, &e), 0);
	assert_true(st.has_keys);
	assert_memory_equal(st.key_manager_pubkey, k.model, 32);
	assert_non_null(strstr(st.note, "struct_version 4"));
	assert_int_equal(ton_root_state_has(&st, TON_KIND_WORKER, k.worker[1], &present, NULL), 0);
	assert_true(present);
	/* older layouts parse with a note; unknown ones are refused */
	for (unsigned sv = 0; sv <= 2; sv++) {
		data = state_cell(&k, 1, false, false, sv);
		assert_int_equal(ton_root_state_parse(data, &st, NULL), 0);
		assert_int_equal(st.params.struct_version, sv);
		assert_non_null(strstr(st.note, "struct_version 3 only"));
	}
	data = state_cell(&k, 1, false, false, 5);
	assert_true(ton_root_state_parse(data, &st, &e) < 0);
	assert_non_null(strstr(e.msg, "struct_version 5"));
}

/* The cell b builds is refused by ton_root_state_parse with an error that contains needle. */
static void expect_state_refused(struct ton_builder *b, const char *needle)
{
	struct ton_cell *c;
	struct ton_root_state st;
	struct cm_err e = { 0 };
	assert_int_equal(ton_b_end(b, A, &c, NULL), 0);
	assert_true(ton_root_state_parse(c, &st, &e) < 0);
	assert_non_null(strstr(e.msg, needle));
}

static void test_root_state_malformed(void **state)
{
	(void)state;
	struct state_keys k;
	make_keys(&k);
	struct ton_builder b;
	struct ton_cell *c, *good = state_cell(&k, 1, false, false, 3);
	/* an extra bit in params */
	ton_b_init(&b);
	ton_b_addr(&b, &k.owner);
	ton_b_uint(&b, 1, 32);
	ton_b_ref(&b, good->refs[0]);
	ton_b_ref(&b, params_cell(3, true));
	expect_state_refused(&b, "params: 1 bits");
	/* no params ref */
	ton_b_init(&b);
	ton_b_addr(&b, &k.owner);
	ton_b_uint(&b, 1, 32);
	ton_b_ref(&b, good->refs[0]);
	expect_state_refused(&b, "CocoonParams");
	/* truncated version */
	ton_b_init(&b);
	ton_b_addr(&b, &k.owner);
	ton_b_uint(&b, 1, 31);
	expect_state_refused(&b, "version");
	/* addr_none as owner */
	ton_b_init(&b);
	ton_b_uint(&b, 0, 2);
	expect_state_refused(&b, "owner");
	/* RootData whose dictionary bit promises a missing ref */
	ton_b_init(&b);
	ton_b_bit(&b, 1);
	struct ton_cell *rd;
	assert_int_equal(ton_b_end(&b, A, &rd, NULL), 0);
	ton_b_init(&b);
	ton_b_addr(&b, &k.owner);
	ton_b_uint(&b, 1, 32);
	ton_b_ref(&b, rd);
	ton_b_ref(&b, params_cell(3, false));
	expect_state_refused(&b, "proxy_hashes");
	/* a bad ProxyInfo */
	ton_b_init(&b);
	ton_b_bit(&b, 1);
	ton_b_uint(&b, 3, 7);
	ton_b_uint(&b, 0x41, 8);
	assert_int_equal(ton_b_end(&b, A, &c, NULL), 0);
	struct ton_slice s;
	char addr[128];
	ton_s_init(&s, c);
	assert_true(ton_root_proxy_info(&s, addr, NULL) < 0);
}

static void test_base64(void **state)
{
	(void)state;
	uint8_t *out;
	size_t n;
	char *s = ton_base64((const uint8_t *)"\xfb\xff", 2, false);
	assert_string_equal(s, "+/8=");
	free(s);
	s = ton_base64((const uint8_t *)"\xfb\xff", 2, true);
	assert_string_equal(s, "-_8");
	free(s);
	assert_int_equal(ton_base64_decode("-_8", 3, &out, &n), 0);
	assert_int_equal(n, 2);
	assert_hex_equal(out, "fbff");
	free(out);
	assert_int_equal(ton_base64_decode("+/8=", 4, &out, &n), 0);
	assert_int_equal(n, 2);
	free(out);
	assert_int_equal(ton_base64_decode("te6cckEBAQEAAgAAAEysuc0=", 24, &out, &n), 0);
	assert_int_equal(n, 17);
	assert_hex_equal(out, "b5ee9c724101010100020000004cacb9cd");
	free(out);
	assert_true(ton_base64_decode("-/8=", 4, &out, &n) < 0);
	assert_true(ton_base64_decode("A", 1, &out, &n) < 0);
	assert_true(ton_base64_decode("AB C", 4, &out, &n) < 0);
	assert_true(ton_base64_decode("AB=C", 4, &out, &n) < 0);
}

/* ---- cocoon-launch publish / registry, in-process ---- */
#define FIXTURE_IMAGE_HASH "04b3afd931d28680af91a15b09d672c40ad6b141f7f9089a8d67d595220f7436"
#define ROOT_ADDR "EQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aN7g0"

static char *cli_dir;

static const char *tpath(const char *name)
{
	static char p[16][PATH_MAX];
	static int i;
	if (!cli_dir)
		cli_dir = test_tmpdir();
	i = (i + 1) % 16; /* callers keep a few at a time */
	snprintf(p[i], sizeof(p[i]), "%s/%s", cli_dir, name);
	return p[i];
}

/* Run a command with a NULL-terminated argument list (argv[0] = the command name). */
static int run_cmd(int (*fn)(int, char **), const char *name, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	argv[argc++] = (char *)name;
	va_start(ap, name);
	for (const char *a; (a = va_arg(ap, const char *)) && argc < 31;)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	return fn(argc, argv);
}

static json_object *read_manifest(const char *path)
{
	json_object *m = json_object_from_file(path);
	assert_non_null(m);
	return m;
}

static const char *jpath(json_object *o, const char *a, const char *b)
{
	json_object *v = json_object_object_get(o, a);
	if (b)
		v = json_object_object_get(v, b);
	assert_non_null(v);
	return json_object_get_string(v);
}

/* publish for the fixture image hash: the AddWorkerType body op ‖ query_id ‖ hash. */
static void test_publish_fixture_hash(void **state)
{
	(void)state;
	const char *man = tpath("man-worker.json");
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH, "--root",
				 ROOT_ADDR, "--manifest", man, NULL), 0);
	json_object *m = read_manifest(man), *pub = json_object_object_get(m, "published");
	assert_string_equal(jpath(pub, "message", "body_cell_data"), "e34b1c60" "0000000000000000" FIXTURE_IMAGE_HASH);
	assert_string_equal(jpath(pub, "message", "op_name"), "cocoon_root_add_worker_type");
	const char *hex = jpath(pub, "message", "body_boc_hex");
	/* header of a one-cell BoC with CRC, d1 00 d2 58, the 44 bytes, then a CRC32C we check */
	assert_int_equal(strncmp(hex, "b5ee9c7241010101002e000058e34b1c60000000000000000004b3afd9", 58), 0);
	size_t n;
	uint8_t *b = hex_to_bytes(hex, &n);
	assert_int_equal(n, 61);
	assert_int_equal(cm_le32(b + 57), ton_crc32c(b, 57));
	struct ton_cell *c;
	assert_int_equal(ton_boc_read(A, b, n, &c, 1, NULL), 1);
	assert_int_equal(c->bits, 352);
	/* base64 of the same bytes; the link carries base64url, TON Connect standard base64 */
	char *b64 = ton_base64(b, n, false), *url = ton_base64(b, n, true);
	assert_string_equal(jpath(pub, "message", "body_boc_base64"), b64);
	char link[256];
	snprintf(link, sizeof(link), "ton://transfer/%s?amount=50000000&bin=%s", ROOT_ADDR, url);
	assert_string_equal(jpath(pub, "link", NULL), link);
	json_object *tc = json_object_object_get(pub, "tonconnect_request");
	json_object *m0 = json_object_array_get_idx(json_object_object_get(tc, "messages"), 0);
	assert_string_equal(jpath(m0, "address", NULL), ROOT_ADDR);
	assert_string_equal(jpath(m0, "amount", NULL), "50000000");
	assert_string_equal(jpath(m0, "payload", NULL), b64);
	assert_string_equal(jpath(tc, "network", NULL), "-239");
	free(b64);
	free(url);
	free(b);
	json_object_put(m);

	/* Del, proxy, query id, amount, a testnet root given raw + testnet-flagged */
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "proxy", "--del", "--hash", FIXTURE_IMAGE_HASH,
				 "--root", "kQBcXvP9DUA4k5tqUapcilt4kZnBzF0Ts7OW0Yp5FI0aNwO-", "--amount", "0.02",
				 "--query-id", "7", "--manifest", man, "--json", NULL), 0);
	m = read_manifest(man);
	pub = json_object_object_get(m, "published");
	assert_string_equal(jpath(pub, "message", "body_cell_data"), "3c41d0b2" "0000000000000007" FIXTURE_IMAGE_HASH);
	assert_string_equal(jpath(pub, "amount_nanoton", NULL), "20000000");
	assert_string_equal(jpath(pub, "root", "network"), "testnet");
	assert_string_equal(jpath(json_object_object_get(pub, "tonconnect_request"), "network", NULL), "-3");
	json_object_put(m);

	/* model: SHA-256 of the full string; base64 hash input */
	const char *model = "Qwen/Qwen3-8B@abc:def";
	uint8_t mh[32];
	ton_model_hash(model, mh);
	char *mb64 = ton_base64(mh, 32, false), mhex[65];
	cm_hex_encode(mh, 32, mhex, sizeof(mhex));
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "model", "--model", model, "--root", ROOT_ADDR,
				 "--manifest", man, NULL), 0);
	m = read_manifest(man);
	assert_string_equal(jpath(json_object_object_get(m, "published"), "hash", NULL), mhex);
	assert_string_equal(jpath(m, "model", NULL), model);
	json_object_put(m);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "model", "--hash", mb64, "--root", ROOT_ADDR,
				 "--manifest", man, NULL), 0);
	m = read_manifest(man);
	assert_string_equal(jpath(json_object_object_get(m, "published"), "message", "body_cell_data") + 24, mhex);
	json_object_put(m);
	free(mb64);
}

static void test_publish_usage(void **state)
{
	(void)state;
	const char *man = tpath("man-usage.json");
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH, NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "client", "--hash", FIXTURE_IMAGE_HASH, "--root",
				 ROOT_ADDR, NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH, "--model",
				 "x@y:z", "--root", ROOT_ADDR, NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--model", "x@y:z", "--root", ROOT_ADDR,
				 "--manifest", man, NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", "04b3", "--root", ROOT_ADDR,
				 NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH, "--root",
				 ROOT_ADDR "x", NULL), 2);
	static const char *const bad_amounts[] = { "0", "-1", "0.0000000001", "1e9", ".", "", "1.2.3" };
	for (size_t i = 0; i < sizeof(bad_amounts) / sizeof(bad_amounts[0]); i++)
		assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH,
					 "--root", ROOT_ADDR, "--amount", bad_amounts[i], NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--image", "/nonexistent", "--root",
				 ROOT_ADDR, NULL), 2);
	/* " -5" was taken by strtoull as 2^64-5; "+5" as 5 */
	static const char *const bad_query_ids[] = { "-1", " -5", "+5", " 5", "18446744073709551616", "" };
	for (size_t i = 0; i < sizeof(bad_query_ids) / sizeof(bad_query_ids[0]); i++)
		if (run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--hash", FIXTURE_IMAGE_HASH, "--query-id",
			    bad_query_ids[i], "--root", ROOT_ADDR, NULL) != 2)
			fail_msg("--query-id '%s' was taken", bad_query_ids[i]);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--help", NULL), 0);
	assert_int_equal(access(man, F_OK), -1);
}

/* publish --image: the hash cm_measure_image computes for the same files, variant and spec. */
static void test_publish_image(void **state)
{
	(void)state;
	char kernel[PATH_MAX], fw[PATH_MAX], acpi[PATH_MAX];
	snprintf(kernel, sizeof(kernel), "%s/build/cache/kernel/vmlinuz", getenv("PWD"));
	assert_non_null(realpath(fixture_path("tdx/measure/OVMF.fd"), fw));
	assert_non_null(realpath(fixture_path("tdx/measure/canonical-defaults/acpi_tables.bin"), acpi));
	const char *img = tpath("image");
	assert_int_equal(mkdir(img, 0755), 0);
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/OVMF.fd", img);
	assert_int_equal(symlink(fw, p), 0);
	snprintf(p, sizeof(p), "%s/vmlinuz", img);
	assert_int_equal(symlink(kernel, p), 0);
	snprintf(p, sizeof(p), "%s/initrd.img", img);
	test_write_file(p, "initrd bytes", 12);
	snprintf(p, sizeof(p), "%s/cmdline", img);
	test_write_file(p, "console=hvc0 cocoon.roothash=00\n", 32);
	char man[2048], hex[5][65];
	static const char *const art[] = { "OVMF.fd", "vmlinuz", "initrd.img", "cmdline", "rootfs.img" };
	snprintf(p, sizeof(p), "%s/rootfs.img", img);
	test_write_file(p, "rootfs", 6);
	for (int i = 0; i < 5; i++) {
		uint8_t h[32];
		snprintf(p, sizeof(p), "%s/%s", img, art[i]);
		assert_int_equal(cl_file_sha256(p, h, NULL), 0);
		cm_hex_encode(h, 32, hex[i], sizeof(hex[i]));
	}
	snprintf(man, sizeof(man), "{\"artifacts\": {\"OVMF.fd\": {\"sha256\": \"%s\"}, \"vmlinuz\": {\"sha256\": \"%s\"}, "
		 "\"initrd.img\": {\"sha256\": \"%s\"}, \"cmdline\": {\"sha256\": \"%s\"}, \"rootfs.img\": {\"sha256\": "
		 "\"%s\"}}}", hex[0], hex[1], hex[2], hex[3], hex[4]);
	snprintf(p, sizeof(p), "%s/manifest.json", img);
	test_write_file(p, man, strlen(man));
	/* the profile names its ACPI blob relative to itself */
	const char *prof = tpath("profile");
	assert_int_equal(mkdir(prof, 0755), 0);
	snprintf(p, sizeof(p), "%s/tables.bin", prof);
	assert_int_equal(symlink(acpi, p), 0);
	snprintf(p, sizeof(p), "%s/VM.json", prof);
	const char *vmj = "{\"memory\": \"2G\", \"cpus\": 2, \"acpi_tables\": \"tables.bin\"}";
	test_write_file(p, vmj, strlen(vmj));
	char vm[PATH_MAX + 32];
	snprintf(vm, sizeof(vm), "%s", p);
	const char *spec = tpath("spec");
	assert_int_equal(mkdir(spec, 0755), 0);
	snprintf(p, sizeof(p), "%s/worker.json", spec);
	test_write_file(p, "{\"model\": \"m\"}\n", 15);

	const char *out = tpath("man-image.json");
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--image", img, "--vm", vm, "--spec", spec,
				 "--variant", "debug", "--root", ROOT_ADDR, "--manifest", out, NULL), 0);
	json_object *m = read_manifest(out);
	const char *published = jpath(json_object_object_get(m, "published"), "hash", NULL);
	assert_string_equal(jpath(m, "measurement", "image_hash"), published);
	assert_string_equal(jpath(json_object_object_get(m, "published"), "hash_source", "variant"), "debug");

	/* the same measurement through a VM.json written here */
	char direct[4 * PATH_MAX];
	snprintf(direct, sizeof(direct), "{\"memory\": \"2G\", \"cpus\": 2, \"acpi_tables\": \"%s\", \"firmware\": \"%s\", "
		 "\"kernel\": \"%s\", \"initrd\": \"%s/initrd.img\", \"cmdline\": \"console=hvc0 cocoon.roothash=00 "
		 "cocoon.debug\", \"debug\": true, \"spec_dir\": \"%s\"}", acpi, fw, kernel, img, spec);
	const char *dvm = tpath("direct.json");
	test_write_file(dvm, direct, strlen(direct));
	json_object *o;
	struct cm_err e = { 0 };
	if (cm_measure_image(dvm, &o, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "image_hash")), published);
	json_object_put(o);
	/* the base variant differs (RTMR2 and RTMR3 change) */
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--image", img, "--vm", vm, "--spec", spec,
				 "--root", ROOT_ADDR, "--manifest", out, NULL), 0);
	json_object *m2 = read_manifest(out);
	assert_string_not_equal(jpath(json_object_object_get(m2, "published"), "hash", NULL), published);
	json_object_put(m2);
	json_object_put(m);
	/* a release file that no longer matches manifest.json: refused */
	snprintf(p, sizeof(p), "%s/initrd.img", img);
	test_write_file(p, "other initrd", 12);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--image", img, "--vm", vm, "--spec", spec,
				 "--root", ROOT_ADDR, "--manifest", out, NULL), 1);
	assert_int_equal(run_cmd(cl_cmd_publish, "publish", "--kind", "worker", "--image", img, "--vm", vm, "--spec", spec,
				 "--variant", "fast", "--root", ROOT_ADDR, "--manifest", out, NULL), 1);
}

static void test_registry(void **state)
{
	(void)state;
	struct state_keys k;
	make_keys(&k);
	const struct ton_cell *data = state_cell(&k, 3, true, true, 3);
	uint8_t *buf;
	size_t len;
	assert_int_equal(ton_boc_write(&data, 1, &(struct ton_boc_opts){ true, true }, &buf, &len, NULL), 0);
	const char *boc = tpath("state.boc");
	test_write_file(boc, buf, len);
	char w0[65], w2[65], px[65], md[65], ab[65];
	cm_hex_encode(k.worker[0], 32, w0, sizeof(w0));
	cm_hex_encode(k.worker[2], 32, w2, sizeof(w2));
	cm_hex_encode(k.proxy, 32, px, sizeof(px));
	cm_hex_encode(k.model, 32, md, sizeof(md));
	cm_hex_encode(k.absent, 32, ab, sizeof(ab));
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, NULL), 0);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", w0, NULL), 0);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", w2, "--kind", "worker", NULL), 0);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", w2, "--kind", "proxy", NULL), 5);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", px, "--kind", "proxy", NULL), 0);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", md, "--json", NULL), 0);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", ab, NULL), 5);
	/* base64 text, hex text, toncenter getAddressInformation JSON */
	char *b64 = ton_base64(buf, len, false);
	const char *t = tpath("state.b64");
	test_write_file(t, b64, strlen(b64));
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", t, "--hash", w0, NULL), 0);
	char *hx = malloc(2 * len + 2);
	cm_hex_encode(buf, len, hx, 2 * len + 1);
	strcat(hx, "\n");
	test_write_file(t, hx, strlen(hx));
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", t, "--hash", ab, NULL), 5);
	char *js = malloc(strlen(b64) + 128);
	sprintf(js, "{\"ok\": true, \"result\": {\"balance\": \"1\", \"code\": \"\", \"data\": \"%s\"}}", b64);
	test_write_file(t, js, strlen(js));
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", t, "--hash", px, NULL), 0);
	free(js);
	free(hx);
	free(b64);
	/* a damaged state: the CRC catches it */
	buf[len / 2] ^= 0x10;
	test_write_file(t, buf, len);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", t, "--hash", w0, NULL), 1);
	free(buf);
	/* runGetMethod results (toncenter v2 and v3 stacks) */
	static const struct {
		const char *json;
		int rc;
	} gm[] = {
		{ "{\"ok\":true,\"result\":{\"@type\":\"smc.runResult\",\"gas_used\":2768,\"stack\":[[\"num\",\"-0x1\"]],"
		  "\"exit_code\":0}}", 0 },
		{ "{\"ok\":true,\"result\":{\"stack\":[[\"num\",\"0x0\"]],\"exit_code\":0}}", 5 },
		{ "{\"gas_used\":2768,\"exit_code\":0,\"stack\":[{\"type\":\"num\",\"value\":\"-0x1\"}]}", 0 },
		{ "{\"gas_used\":2768,\"exit_code\":0,\"stack\":[{\"type\":\"num\",\"value\":\"0x0\"}]}", 5 },
		{ "{\"ok\":true,\"result\":{\"stack\":[[\"num\",\"0x2\"]],\"exit_code\":0}}", 1 },
		{ "{\"ok\":true,\"result\":{\"stack\":[],\"exit_code\":11}}", 1 },
		{ "{\"ok\":false,\"error\":\"rate limit\",\"code\":429}", 1 },
		{ "{\"stack\":[[\"cell\",\"te6\"]]}", 1 },
		{ "{\"result\": 1}", 1 },
		{ "{not json", 1 },
		{ "not a boc", 1 },
	};
	for (size_t i = 0; i < sizeof(gm) / sizeof(gm[0]); i++) {
		test_write_file(t, gm[i].json, strlen(gm[i].json));
		if (run_cmd(cl_cmd_registry, "registry", "--state", t, "--hash", w0, NULL) != gm[i].rc)
			fail_msg("%s: want exit %d", gm[i].json, gm[i].rc);
	}
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--hash", w0, NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--hash", "zz", NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", boc, "--kind", "client", NULL), 2);
	assert_int_equal(run_cmd(cl_cmd_registry, "registry", "--state", tpath("missing"), NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_vectors),
		cmocka_unit_test(test_cell_vectors),
		cmocka_unit_test(test_two_cell_tree),
		cmocka_unit_test(test_dict_vectors),
		cmocka_unit_test(test_dict_spec_structure),
		cmocka_unit_test(test_address_vectors),
		cmocka_unit_test(test_address_rejections),
		cmocka_unit_test(test_address_roundtrip_random),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_builder_limits),
		cmocka_unit_test(test_boc_roundtrip_random),
		cmocka_unit_test(test_boc_prefixes_of_vectors),
		cmocka_unit_test(test_boc_strict),
		cmocka_unit_test(test_dict_random),
		cmocka_unit_test(test_dict_hostile),
		cmocka_unit_test(test_root_messages),
		cmocka_unit_test(test_root_state),
		cmocka_unit_test(test_root_state_malformed),
		cmocka_unit_test(test_publish_fixture_hash),
		cmocka_unit_test(test_publish_usage),
		cmocka_unit_test(test_publish_image),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
