/* guest/keyserver: model strings, the wire format, admin signatures, the volume cipher and
 * the key store. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "guest/keyserver/proto.h"
#include "guest/keyserver/server.h"
#include "guest/keyserver/store.h"
#include "guest/keyserver/volume.h"
#include "measure/core/digest.h"

#define ROOT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MODEL "llama-3.1_8b@v1.2-rc:" ROOT

static void test_keyserver_model_string(void **state)
{
	(void)state;
	struct cks_model m;
	struct cm_err e = {0};
	assert_int_equal(cks_model_parse(MODEL, &m, &e), 0);
	assert_string_equal(m.name, "llama-3.1_8b");
	assert_string_equal(m.str, MODEL);
	assert_hex_equal(m.root, ROOT);
	static const char *const bad[] = {
		"x@c:" ROOT "0",                  /* root too long */
		"x@c:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", /* uppercase hex */
		"X@c:" ROOT,                       /* uppercase name */
		"@c:" ROOT,                        /* empty name */
		"x@:" ROOT,                        /* empty commit */
		"x:" ROOT,                         /* no commit */
		"-x@c:" ROOT,                      /* name starts with '-' */
		"x@c/d:" ROOT,                     /* '/' in commit */
		"x@c:" "0123",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(cks_model_parse(bad[i], &m, &e), -EINVAL);
		assert_string_equal(e.check, "model_string");
	}
}

static void test_keyserver_request_roundtrip_and_strictness(void **state)
{
	(void)state;
	struct cks_model m;
	struct cm_err e = {0};
	char *req = cks_request_encode(MODEL);
	assert_non_null(req);
	assert_int_equal(cks_request_parse(req, strlen(req), &m, &e), 0);
	assert_string_equal(m.str, MODEL);
	free(req);
	static const char *const bad[] = {
		"{\"version\": 2, \"model\": \"" MODEL "\"}",
		"{\"version\": 1, \"model\": \"" MODEL "\", \"extra\": 1}",
		"{\"version\": 1}",
		"{\"version\": 1, \"model\": 5}",
		"[1]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_true(cks_request_parse(bad[i], strlen(bad[i]), &m, &e) < 0);
}

static void test_keyserver_response_forms(void **state)
{
	(void)state;
	struct cks_response r = {.ok = true, .key_len = 64}, got;
	struct cm_err e = {0};
	for (int i = 0; i < 64; i++)
		r.key[i] = (uint8_t)i;
	char *t = cks_response_encode(&r);
	assert_int_equal(cks_response_parse(t, strlen(t), &got, &e), 0);
	assert_true(got.ok);
	assert_int_equal(got.key_len, 64);
	assert_memory_equal(got.key, r.key, 64);
	free(t);
	struct cks_response no = {.ok = false};
	snprintf(no.check, sizeof no.check, "grant_image_hash");
	snprintf(no.message, sizeof no.message, "not allowed");
	t = cks_response_encode(&no);
	assert_int_equal(cks_response_parse(t, strlen(t), &got, &e), 0);
	assert_false(got.ok);
	assert_string_equal(got.check, "grant_image_hash");
	free(t);
	static const char *const bad[] = {
		"{\"version\": 1, \"status\": \"ok\", \"key\": \"0011\"}", /* 2 bytes */
		"{\"version\": 1, \"status\": \"ok\"}",
		"{\"version\": 1, \"status\": \"refused\", \"check\": \"x\", \"message\": \"m\", \"key\": \"" ROOT "\"}",
		"{\"version\": 1, \"status\": \"ok\", \"key\": \"" ROOT "\", \"check\": \"x\"}",
		"{\"version\": 1, \"status\": \"refused\", \"check\": \"Bad Check\", \"message\": \"m\"}",
		"{\"version\": 1, \"status\": \"maybe\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		assert_true(cks_response_parse(bad[i], strlen(bad[i]), &got, &e) < 0);
		assert_string_equal(e.check, "response_format");
	}
}

static EVP_PKEY *ed25519(uint8_t pub[32])
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	size_t n = 32;
	assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &n), 1);
	return k;
}

static void test_keyserver_admin_signature(void **state)
{
	(void)state;
	uint8_t pub[32], other[32];
	EVP_PKEY *k = ed25519(pub), *k2 = ed25519(other);
	struct cks_admin a = {.op = CKS_ADMIN_ADD_KEY, .seq = 7}, got;
	struct cm_err e = {0};
	memset(a.server, 0x5a, 32);
	assert_int_equal(cks_model_parse(MODEL, &a.grant.model, &e), 0);
	a.grant.key_len = 32;
	memset(a.grant.key, 0x11, 32);
	a.grant.n_image_hashes = 1;
	memset(a.grant.image_hashes[0], 0x22, 32);
	char *t = cks_admin_encode(&a, k, &e);
	assert_non_null(t);
	assert_int_equal(cks_admin_parse(t, strlen(t), pub, &got, &e), 0);
	assert_int_equal(got.op, CKS_ADMIN_ADD_KEY);
	assert_int_equal(got.seq, 7);
	assert_string_equal(got.grant.model.str, MODEL);
	assert_memory_equal(got.grant.key, a.grant.key, 32);
	assert_memory_equal(got.grant.image_hashes[0], a.grant.image_hashes[0], 32);
	/* another admin key */
	memset(&e, 0, sizeof e);
	assert_int_equal(cks_admin_parse(t, strlen(t), other, &got, &e), -EPERM);
	assert_string_equal(e.check, "admin_signature");
	/* one payload byte changed (the seq 7 -> 8) */
	char *p = strstr(t, "\\\"seq\\\":7");
	assert_non_null(p);
	p[strlen("\\\"seq\\\":")] = '8';
	memset(&e, 0, sizeof e);
	assert_int_equal(cks_admin_parse(t, strlen(t), pub, &got, &e), -EPERM);
	assert_string_equal(e.check, "admin_signature");
	free(t);
	/* signed by the other key */
	t = cks_admin_encode(&a, k2, &e);
	memset(&e, 0, sizeof e);
	assert_int_equal(cks_admin_parse(t, strlen(t), pub, &got, &e), -EPERM);
	free(t);
	/* a grant that names nobody is refused after the signature */
	a.grant.n_image_hashes = 0;
	t = cks_admin_encode(&a, k, &e);
	memset(&e, 0, sizeof e);
	assert_int_equal(cks_admin_parse(t, strlen(t), pub, &got, &e), -EINVAL);
	assert_string_equal(e.check, "admin_payload");
	free(t);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* AES-XTS plain64 against an independent implementation: sector 6 of a volume. */
static void test_keyserver_volume_cipher_matches_reference(void **state)
{
	(void)state;
	uint8_t key[64], buf[2 * CKS_SECTOR], d[32];
	char want[80], got[65], cmd[600], khex[129];
	struct cm_err e = {0};
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i % 251);
	assert_int_equal(cks_volume_crypt(key, 64, 5, buf, sizeof buf, 1, &e), 0);
	cm_sha256(buf + CKS_SECTOR, CKS_SECTOR, d); /* sector 6 */
	cm_hex_encode(d, 32, got, sizeof got);
	cm_hex_encode(key, 64, khex, sizeof khex);
	/* Python's cryptography (Debian python3-cryptography): the tweak is the plain64 IV */
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes; "
		 "import hashlib; e = Cipher(algorithms.AES(bytes.fromhex(\"%s\")), "
		 "modes.XTS((6).to_bytes(16, \"little\"))).encryptor(); "
		 "print(hashlib.sha256(e.update(bytes(i %% 251 for i in range(512, 1024))) + e.finalize()).hexdigest())'",
		 khex);
	run_reference(cmd, want, sizeof want);
	assert_string_equal(got, want);
	/* decrypting gives the plaintext back; a 48-byte key is refused */
	assert_int_equal(cks_volume_crypt(key, 64, 5, buf, sizeof buf, 0, &e), 0);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], (uint8_t)(i % 251));
	assert_int_equal(cks_volume_crypt(key, 48, 0, buf, sizeof buf, 1, &e), -EINVAL);
	assert_int_equal(cks_volume_crypt(key, 64, 0, buf, 100, 1, &e), -EINVAL);
}

static void test_keyserver_store(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), sdir[300];
	snprintf(sdir, sizeof sdir, "%s/store", dir);
	uint8_t secret[32], other[32];
	memset(secret, 3, 32);
	memset(other, 4, 32);
	struct cks_store s;
	struct cks_grant g = {0}, got;
	struct cm_err e = {0};
	assert_int_equal(cks_store_open(&s, sdir, secret, 32, &e), 0);
	assert_int_equal(cks_model_parse(MODEL, &g.model, &e), 0);
	g.key_len = 64;
	memset(g.key, 0x42, 64);
	g.n_rtmr3 = 1;
	memset(g.rtmr3[0], 0x33, 48);
	assert_int_equal(cks_store_put(&s, &g, &e), 0);
	assert_int_equal(cks_store_get(&s, MODEL, &got, &e), 0);
	assert_memory_equal(got.key, g.key, 64);
	assert_int_equal(got.n_rtmr3, 1);
	assert_int_equal(cks_store_get(&s, "y@c:" ROOT, &got, &e), -ENOENT);
	assert_string_equal(e.check, "unknown_model");
	/* the key never appears in the store in plaintext */
	char cmd[400], out[16];
	snprintf(cmd, sizeof cmd, "grep -rc %s %s | grep -c ':[1-9]' || true", "4242424242424242", sdir);
	run_reference(cmd, out, sizeof out);
	assert_string_equal(out, "0");
	/* admin seq: only increasing */
	assert_int_equal(cks_store_seq(&s, 10, &e), 0);
	assert_int_equal(cks_store_seq(&s, 10, &e), -EPERM);
	assert_string_equal(e.check, "admin_replay");
	assert_int_equal(cks_store_seq(&s, 11, &e), 0);
	/* a damaged admin.seq stops admin requests, never reads as another number (sscanf's
	 * "%llu" took "-1" as 2^64-1 and " 12" as 12) */
	static const char *const damaged[] = { "-1\n", " 12\n", "12", "12x\n", "\n", "" };
	char seqp[400];
	snprintf(seqp, sizeof seqp, "%s/admin.seq", sdir);
	for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		FILE *f = fopen(seqp, "w");
		assert_non_null(f);
		fputs(damaged[i], f);
		fclose(f);
		e = (struct cm_err){0};
		if (cks_store_seq(&s, 20, &e) != -EINVAL || !strstr(e.msg, "unreadable"))
			fail_msg("admin.seq '%s' was read (%s)", damaged[i], e.msg);
	}
	FILE *f = fopen(seqp, "w");
	assert_non_null(f);
	fputs("18446744073709551614\n", f);
	fclose(f);
	assert_int_equal(cks_store_seq(&s, UINT64_MAX - 1, &e), -EPERM);
	assert_int_equal(cks_store_seq(&s, UINT64_MAX, &e), 0);
	/* identity: the same key after reopening */
	EVP_PKEY *k1, *k2;
	assert_int_equal(cks_store_identity(&s, &k1, &e), 0);
	cks_store_close(&s);
	assert_int_equal(cks_store_open(&s, sdir, secret, 32, &e), 0);
	assert_int_equal(cks_store_identity(&s, &k2, &e), 0);
	assert_int_equal(EVP_PKEY_eq(k1, k2), 1);
	assert_int_equal(cks_store_get(&s, MODEL, &got, &e), 0);
	cks_store_close(&s);
	/* another secret opens nothing */
	assert_int_equal(cks_store_open(&s, sdir, other, 32, &e), 0);
	memset(&e, 0, sizeof e);
	assert_int_equal(cks_store_get(&s, MODEL, &got, &e), -EBADMSG);
	assert_string_equal(e.check, "store_unseal");
	EVP_PKEY *k3;
	assert_true(cks_store_identity(&s, &k3, &e) < 0);
	cks_store_close(&s);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && echo ok", dir);
	run_reference(cmd, out, sizeof out);
	free(dir);
}

/* The server configuration of a key-server TD: event_log (its RTMR3 event log in its
 * certificate) is optional, a string; absent it is "". */
static void test_keyserver_server_conf_event_log(void **state)
{
	(void)state;
	char *dir = test_tmpdir(), path[300], cmd[400], out[16];
	snprintf(path, sizeof path, "%s/ks.json", dir);
	static const char *const head =
		"{\"version\": 1, \"listen\": \"tcp:0.0.0.0:7443\", \"admin_listen\": \"tcp:0.0.0.0:7444\", "
		"\"store\": \"/data/keyserver\", \"admin_key\": \"" ROOT "\", \"attest\": \"sim\", "
		"\"peer_policy\": {\"collateral\": \"/run/cocoon/sim/collateral.json\"}";
	static const char *const tails[] = {"}", ", \"event_log\": \"/run/cocoon/rtmr3.log\"}", ", \"event_log\": 3}",
					    ", \"event_log2\": \"x\"}"};
	static const int want[] = {0, 0, -1, -1};
	for (size_t i = 0; i < 4; i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "%s%s\n", head, tails[i]);
		fclose(f);
		struct cks_server_conf c;
		struct cm_err e = {0};
		int r = cks_server_conf_load(path, &c, &e);
		assert_int_equal(r < 0 ? -1 : 0, want[i]);
		if (i == 0)
			assert_string_equal(c.event_log, "");
		if (i == 1)
			assert_string_equal(c.event_log, "/run/cocoon/rtmr3.log");
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && echo ok", dir);
	run_reference(cmd, out, sizeof out);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyserver_model_string),
		cmocka_unit_test(test_keyserver_request_roundtrip_and_strictness),
		cmocka_unit_test(test_keyserver_response_forms),
		cmocka_unit_test(test_keyserver_admin_signature),
		cmocka_unit_test(test_keyserver_volume_cipher_matches_reference),
		cmocka_unit_test(test_keyserver_store),
		cmocka_unit_test(test_keyserver_server_conf_event_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
