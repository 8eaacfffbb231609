/* Cocoon root contract messages and account data (specs/ton.md §6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "measure/core/digest.h"
#include "ton/cocoon.h"

const char *const ton_root_kind_names[TON_KIND_N] = { "worker", "proxy", "model" };

static const struct {
	uint32_t add, del;
	const char *add_name, *del_name;
} ops[TON_KIND_N] = {
	{ 0xe34b1c60, 0x8d94a79a, "cocoon_root_add_worker_type", "cocoon_root_del_worker_type" },
	{ 0x71860e80, 0x3c41d0b2, "cocoon_root_add_proxy_type", "cocoon_root_del_proxy_type" },
	{ 0xc146134d, 0x92b11c18, "cocoon_root_add_model_type", "cocoon_root_del_model_type" },
};

int ton_root_kind_parse(const char *s, enum ton_root_kind *k)
{
	for (int i = 0; i < TON_KIND_N; i++)
		if (!strcmp(s, ton_root_kind_names[i])) {
			*k = (enum ton_root_kind)i;
			return 0;
		}
	return -EINVAL;
}

uint32_t ton_root_op(enum ton_root_kind k, bool del) { return del ? ops[k].del : ops[k].add; }
const char *ton_root_op_name(enum ton_root_kind k, bool del) { return del ? ops[k].del_name : ops[k].add_name; }

int ton_root_hash_msg(struct ton_arena *a, uint32_t op, uint64_t query_id, const uint8_t hash[32],
		      struct ton_cell **out, struct cm_err *e)
{
	struct ton_builder b;
	ton_b_init(&b);
	ton_b_uint(&b, op, 32);
	ton_b_uint(&b, query_id, 64);
	ton_b_bits(&b, hash, 0, 256);
	return ton_b_end(&b, a, out, e);
}

int ton_model_hash(const char *model, uint8_t out[32])
{
	return cm_sha256(model, strlen(model), out);
}

void ton_u128_str(unsigned __int128 v, char *out, size_t outsz)
{
	char tmp[48];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	size_t i = 0;
	for (; i < n && i + 1 < outsz; i++)
		out[i] = tmp[n - 1 - i];
	if (outsz)
		out[i] = 0;
}

/* ---- account data --------------------------------------------------------------------------- */
#define U(s, n, dst, field)                                                              \
	do {                                                                            \
		uint64_t v_;                                                            \
		if (ton_s_uint((s), (n), &v_))                                          \
			return cm_fail(e, -EBADMSG, "root state: %s: too few bits", (field)); \
		(dst) = v_;                                                             \
	} while (0)
#define COINS(s, dst, field)                                                            \
	do {                                                                            \
		if (ton_s_coins((s), &(dst)))                                           \
			return cm_fail(e, -EBADMSG, "root state: %s: too few bits for Coins", (field)); \
	} while (0)
#define DICT(s, dst, field)                                                             \
	do {                                                                            \
		if (ton_s_dict((s), &(dst)))                                            \
			return cm_fail(e, -EBADMSG, "root state: %s: missing HashmapE bit or ref", (field)); \
	} while (0)

static int maybe_ref(struct ton_slice *s, bool *set, const char *field, struct cm_err *e)
{
	const struct ton_cell *c;
	if (ton_s_bit(s, set) || (*set && ton_s_ref(s, &c)))
		return cm_fail(e, -EBADMSG, "root state: %s: missing Maybe bit or ref", field);
	return 0;
}

static int end_of(const struct ton_slice *s, const char *what, struct cm_err *e)
{
	if (ton_s_bits_left(s) || ton_s_refs_left(s))
		return cm_fail(e, -EBADMSG, "root state: %s: %u bits and %u refs left over", what, ton_s_bits_left(s),
			       ton_s_refs_left(s));
	return 0;
}

static int parse_params(const struct ton_cell *c, struct ton_root_params *p, struct cm_err *e)
{
	struct ton_slice s;
	ton_s_init(&s, c);
	U(&s, 8, p->struct_version, "params.struct_version");
	unsigned sv = p->struct_version;
	if (sv > 4)
		return cm_fail(e, -EBADMSG, "root state: params.struct_version %u is unknown (Cocoon's runner reads up "
			       "to 3, newer contracts write 4)", sv);
	U(&s, 32, p->params_version, "params.params_version");
	U(&s, 32, p->unique_id, "params.unique_id");
	U(&s, 1, p->is_test, "params.is_test");
	COINS(&s, p->price_per_token, "params.price_per_token");
	COINS(&s, p->worker_fee_per_token, "params.worker_fee_per_token");
	if (sv >= 3)
		U(&s, 32, p->prompt_mult, "params.prompt_mult");
	if (sv >= 2)
		U(&s, 32, p->cached_mult, "params.cached_mult");
	if (sv >= 3)
		U(&s, 32, p->completion_mult, "params.completion_mult");
	if (sv >= 2)
		U(&s, 32, p->reasoning_mult, "params.reasoning_mult");
	U(&s, 32, p->proxy_delay_before_close, "params.proxy_delay_before_close");
	U(&s, 32, p->client_delay_before_close, "params.client_delay_before_close");
	if (sv >= 1) {
		COINS(&s, p->min_proxy_stake, "params.min_proxy_stake");
		COINS(&s, p->min_client_stake, "params.min_client_stake");
	}
	int rc = maybe_ref(&s, &p->proxy_code, "params.proxy_sc_code", e);
	rc = rc ? rc : maybe_ref(&s, &p->worker_code, "params.worker_sc_code", e);
	rc = rc ? rc : maybe_ref(&s, &p->client_code, "params.client_sc_code", e);
	return rc ? rc : end_of(&s, "params", e);
}

int ton_root_state_parse(const struct ton_cell *data, struct ton_root_state *st, struct cm_err *e)
{
	memset(st, 0, sizeof(*st));
	struct ton_slice s, d;
	const struct ton_cell *rd, *pc, *kc;
	ton_s_init(&s, data);
	if (ton_s_addr(&s, &st->owner, e))
		return cm_err_prefix(e, "root state: owner");
	U(&s, 32, st->version, "version");
	if (ton_s_bits_left(&s))
		return cm_fail(e, -EBADMSG, "root state: %u bits after version", ton_s_bits_left(&s));
	if (ton_s_ref(&s, &rd) || ton_s_ref(&s, &pc))
		return cm_fail(e, -EBADMSG, "root state: want refs RootData and CocoonParams, found %u refs",
			       data->nrefs);
	ton_s_init(&d, rd);
	DICT(&d, st->hashes[TON_KIND_PROXY], "proxy_hashes");
	DICT(&d, st->registered_proxies, "registered_proxies");
	U(&d, 32, st->last_proxy_seqno, "last_proxy_seqno");
	DICT(&d, st->hashes[TON_KIND_WORKER], "worker_hashes");
	DICT(&d, st->hashes[TON_KIND_MODEL], "model_hashes");
	int rc = end_of(&d, "RootData", e);
	rc = rc ? rc : parse_params(pc, &st->params, e);
	if (rc)
		return rc;
	unsigned sv = st->params.struct_version;
	if (sv == 4) {
		struct ton_slice k;
		if (ton_s_ref(&s, &kc))
			return cm_fail(e, -EBADMSG, "root state: struct_version 4 without the key-manager ref");
		ton_s_init(&k, kc);
		DICT(&k, st->public_keys, "public_keys");
		if (ton_s_bits(&k, 256, st->key_manager_pubkey))
			return cm_fail(e, -EBADMSG, "root state: key_manager_pubkey: too few bits");
		st->has_keys = true;
		snprintf(st->note, sizeof(st->note), "struct_version 4 (newer contract with a key manager): hash "
			 "dictionaries read as usual; Cocoon's runner snapshot reads only up to 3");
	} else if (sv != 3) {
		snprintf(st->note, sizeof(st->note), "struct_version %u: the FunC root contract accepts params of "
			 "struct_version 3 only", sv);
	}
	return end_of(&s, "account data", e);
}

int ton_root_state_has(const struct ton_root_state *st, enum ton_root_kind k, const uint8_t hash[32],
		       bool *present, struct cm_err *e)
{
	int rc = ton_dict_get(st->hashes[k], 256, hash, present, NULL, e);
	return rc ? cm_err_prefix(e, "%s_hashes", ton_root_kind_names[k]) : 0;
}

int ton_root_proxy_info(struct ton_slice *v, char addr[128], struct cm_err *e)
{
	uint64_t type, len;
	if (ton_s_uint(v, 1, &type) || ton_s_uint(v, 7, &len) || ton_s_bits(v, (unsigned)len * 8, (uint8_t *)addr))
		return cm_fail(e, -EBADMSG, "ProxyInfo: too few bits");
	if (type)
		return cm_fail(e, -EBADMSG, "ProxyInfo: type %llu (want 0)", (unsigned long long)type);
	addr[len] = 0;
	for (uint64_t i = 0; i < len; i++)
		if ((unsigned char)addr[i] < 0x20 || (unsigned char)addr[i] > 0x7e)
			return cm_fail(e, -EBADMSG, "ProxyInfo: non-printable byte in the address");
	return 0;
}
