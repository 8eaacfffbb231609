/* Cocoon proof-of-work preamble against fixtures/pow/cocoon_pow_vector.json. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "measure/ratls/pow.h"

static json_object *vector(void)
{
	size_t len;
	uint8_t *buf = fixture_read("pow/cocoon_pow_vector.json", &len);
	json_object *o = json_tokener_parse((const char *)buf);
	free(buf);
	assert_non_null(o);
	return o;
}

/* The member k of o (fails the test if there is none). */
static json_object *member(json_object *o, const char *k)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

static const char *jstr(json_object *o, const char *k)
{
	return json_object_get_string(member(o, k));
}

static int64_t jint(json_object *o, const char *k)
{
	return json_object_get_int64(member(o, k));
}

static void salt_of(json_object *root, struct cr_pow_challenge *c)
{
	size_t n;
	uint8_t *salt = hex_to_bytes(jstr(root, "salt_hex"), &n);
	assert_int_equal(n, CR_POW_SALT_LEN);
	memcpy(c->salt, salt, n);
	free(salt);
}

/* The challenge of the vector's case s: its difficulty, the vector's salt. */
static struct cr_pow_challenge challenge_of(json_object *root, json_object *s)
{
	struct cr_pow_challenge c = {.difficulty = (int32_t)jint(s, "difficulty_bits")};
	salt_of(root, &c);
	return c;
}

static void test_pow_challenge_bytes_match_vector(void **state)
{
	(void)state;
	json_object *root = vector(), *sol = member(root, "solutions");
	assert_true(json_object_array_length(sol) >= 3);
	for (size_t i = 0; i < json_object_array_length(sol); i++) {
		json_object *s = json_object_array_get_idx(sol, i);
		struct cr_pow_challenge c = challenge_of(root, s);
		uint8_t out[CR_POW_CHALLENGE_LEN];
		cr_pow_challenge_encode(&c, out);
		assert_hex_equal(out, jstr(s, "challenge_hex"));
		/* and back */
		struct cr_pow_challenge d;
		struct cm_err e = {0};
		assert_int_equal(cr_pow_challenge_decode(out, &d, &e), 0);
		assert_int_equal(d.difficulty, c.difficulty);
		assert_memory_equal(d.salt, c.salt, CR_POW_SALT_LEN);
	}
	json_object_put(root);
}

static void test_pow_solver_finds_first_valid_nonce(void **state)
{
	(void)state;
	json_object *root = vector(), *sol = member(root, "solutions");
	for (size_t i = 0; i < json_object_array_length(sol); i++) {
		json_object *s = json_object_array_get_idx(sol, i);
		struct cr_pow_challenge c = challenge_of(root, s);
		int64_t nonce = -1;
		struct cm_err e = {0};
		assert_int_equal(cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e), 0);
		assert_int_equal(nonce, jint(s, "first_valid_nonce"));
		uint8_t resp[CR_POW_RESPONSE_LEN];
		cr_pow_response_encode(nonce, resp);
		assert_hex_equal(resp, jstr(s, "response_hex"));
		assert_int_equal(cr_pow_leading_zeros(c.salt, nonce), jint(s, "leading_zero_bits"));
		assert_int_equal(cr_pow_check(&c, resp, &e), 0);
	}
	json_object_put(root);
}

static void test_pow_check_accept_reject_cases(void **state)
{
	(void)state;
	json_object *root = vector(), *checks = member(root, "checks");
	assert_true(json_object_array_length(checks) >= 5);
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		json_object *s = json_object_array_get_idx(checks, i);
		struct cr_pow_challenge c = challenge_of(root, s);
		size_t n;
		uint8_t *resp = hex_to_bytes(jstr(s, "response_hex"), &n);
		assert_int_equal(n, CR_POW_RESPONSE_LEN);
		uint8_t mine[CR_POW_RESPONSE_LEN];
		cr_pow_response_encode(jint(s, "nonce"), mine);
		assert_memory_equal(mine, resp, n);
		assert_int_equal(cr_pow_leading_zeros(c.salt, jint(s, "nonce")), jint(s, "leading_zero_bits"));
		json_object *acc = member(s, "accepted");
		struct cm_err e = {0};
		int rc = cr_pow_check(&c, resp, &e);
		if (json_object_get_boolean(acc))
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, -EACCES);
			assert_non_null(strstr(e.msg, "leading zero bits"));
		}
		free(resp);
	}
	json_object_put(root);
}

static void test_pow_rejects_big_endian_reading(void **state)
{
	(void)state;
	json_object *root = vector(), *pit = member(root, "pitfall");
	struct cr_pow_challenge c = {.difficulty = 16};
	salt_of(root, &c);
	int64_t wrong = jint(pit, "wrong_reading_first_nonce_difficulty_16");
	assert_int_equal(cr_pow_leading_zeros(c.salt, wrong), jint(pit, "cocoon_leading_zero_bits"));
	uint8_t resp[CR_POW_RESPONSE_LEN];
	cr_pow_response_encode(wrong, resp);
	struct cm_err e = {0};
	assert_int_equal(cr_pow_check(&c, resp, &e), -EACCES);
	json_object_put(root);
}

static void test_pow_client_refuses_difficulty_above_limit(void **state)
{
	(void)state;
	struct cr_pow_challenge c = {.difficulty = 29};
	int64_t nonce = 0;
	struct cm_err e = {0};
	assert_int_equal(cr_pow_solve(&c, CR_POW_CLIENT_MAX_DIFFICULTY, &nonce, &e), -EPERM);
	assert_non_null(strstr(e.msg, "29"));
}

static void test_pow_rejects_bad_magic(void **state)
{
	(void)state;
	struct cm_err e = {0};
	struct cr_pow_challenge c = {.difficulty = 0};
	uint8_t resp[CR_POW_RESPONSE_LEN];
	cr_pow_response_encode(0, resp);
	resp[0] ^= 1;
	assert_int_equal(cr_pow_check(&c, resp, &e), -EPROTO); /* even at difficulty 0 */
	uint8_t ch[CR_POW_CHALLENGE_LEN];
	cr_pow_challenge_encode(&c, ch);
	ch[3] ^= 0x80;
	assert_int_equal(cr_pow_challenge_decode(ch, &c, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "magic"));
	cr_pow_challenge_encode(&(struct cr_pow_challenge){.difficulty = -1}, ch);
	assert_int_equal(cr_pow_challenge_decode(ch, &c, &e), -EPROTO);
}

static void test_pow_difficulty_zero_accepts_any_nonce(void **state)
{
	(void)state;
	struct cr_pow_challenge c;
	struct cm_err e = {0};
	assert_int_equal(cr_pow_challenge_new(&c, 0, &e), 0);
	uint8_t resp[CR_POW_RESPONSE_LEN];
	cr_pow_response_encode(0x7fffffffffffffffLL, resp);
	assert_int_equal(cr_pow_check(&c, resp, &e), 0);
	assert_int_equal(cr_pow_challenge_new(&c, 65, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pow_challenge_bytes_match_vector),
		cmocka_unit_test(test_pow_solver_finds_first_valid_nonce),
		cmocka_unit_test(test_pow_check_accept_reject_cases),
		cmocka_unit_test(test_pow_rejects_big_endian_reading),
		cmocka_unit_test(test_pow_client_refuses_difficulty_above_limit),
		cmocka_unit_test(test_pow_rejects_bad_magic),
		cmocka_unit_test(test_pow_difficulty_zero_accepts_any_nonce),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
