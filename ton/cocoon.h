/* Cocoon root contract (specs/ton.md §6): the Add/Del hash messages the owner's wallet
 * sends, the model hash, and the contract's account data (allowed hashes, params). */
#ifndef COCOON_TON_COCOON_H
#define COCOON_TON_COCOON_H

#include <stdbool.h>
#include <stdint.h>

#include "ton/ton.h"

enum ton_root_kind { TON_KIND_WORKER, TON_KIND_PROXY, TON_KIND_MODEL, TON_KIND_N };
extern const char *const ton_root_kind_names[TON_KIND_N];   /* worker proxy model */
int ton_root_kind_parse(const char *s, enum ton_root_kind *k);

/* Opcodes of cocoon_root_{add,del}_{worker,proxy,model}_type. */
uint32_t ton_root_op(enum ton_root_kind k, bool del);
const char *ton_root_op_name(enum ton_root_kind k, bool del);

#define TON_ROOT_MSG_BITS 352
/* The message body: exactly op:uint32 query_id:uint64 hash:uint256, no refs (the
 * contract's end_parse() fails with exit code 9 on one more bit). */
int ton_root_hash_msg(struct ton_arena *a, uint32_t op, uint64_t query_id, const uint8_t hash[32],
		      struct ton_cell **out, struct cm_err *e);

/* SHA-256 of the full model string "name@commit:verity", as Cocoon's runners compute it. */
int ton_model_hash(const char *model, uint8_t out[32]);

struct ton_root_params {
	unsigned struct_version;
	uint32_t params_version, unique_id;
	bool is_test;
	unsigned __int128 price_per_token, worker_fee_per_token, min_proxy_stake, min_client_stake;
	uint32_t prompt_mult, cached_mult, completion_mult, reasoning_mult;  /* 0 when absent */
	uint32_t proxy_delay_before_close, client_delay_before_close;
	bool proxy_code, worker_code, client_code;                          /* Maybe ^Cell set */
};

struct ton_root_state {
	struct ton_addr owner;
	uint32_t version;
	const struct ton_cell *hashes[TON_KIND_N];  /* Hashmap roots (HashmapE 256 Unit), NULL = empty */
	const struct ton_cell *registered_proxies;  /* HashmapE 32 ProxyInfo */
	uint32_t last_proxy_seqno;
	struct ton_root_params params;
	bool has_keys;                              /* struct_version 4: the key-manager ref */
	const struct ton_cell *public_keys;         /* HashmapE 256 {type:uint8 expire_at:uint32} */
	uint8_t key_manager_pubkey[32];
	char note[200];                             /* a remark on the layout, or "" */
};

/* Parse the root contract's account data cell (layout of specs/ton.md §6.2); every
 * failure names the field. */
int ton_root_state_parse(const struct ton_cell *data, struct ton_root_state *st, struct cm_err *e);
/* Is hash in the dictionary of kind k? */
int ton_root_state_has(const struct ton_root_state *st, enum ton_root_kind k, const uint8_t hash[32],
		       bool *present, struct cm_err *e);
/* A ProxyInfo value: type:uint1 (= 0) len:uint7 addr:(len bytes); addr is NUL-terminated. */
int ton_root_proxy_info(struct ton_slice *v, char addr[128], struct cm_err *e);

/* Decimal rendering of a Coins or other 128-bit value (out >= 40 bytes). */
void ton_u128_str(unsigned __int128 v, char *out, size_t outsz);

#endif
