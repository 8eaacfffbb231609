/* Cocoon AttestedPeerInfo frame (guest/ratls/peerinfo.c), layout of specs/ratls.md §6.1. */
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "guest/ratls/peerinfo.h"

static struct sockaddr_storage v4(const char *ip, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ss;
}

static void test_peerinfo_attested_frame_layout(void **state)
{
	(void)state;
	struct cr_peer p = {.attested = true};
	for (int i = 0; i < 32; i++)
		p.pubkey[i] = (uint8_t)i;
	p.report_data[0] = 0xaa;
	p.root_key_id[47] = 0xbb;
	p.regs.rtmr[3][0] = 0xcc;
	struct sockaddr_storage src = v4("127.0.0.1", 40000), dst = v4("127.0.0.1", 11101);
	uint8_t f[CR_PEERINFO_MAX];
	int n = cr_peerinfo_encode(&p, &src, &dst, f, sizeof(f));
	assert_int_equal(n, 576); /* the spec's fake-TDX example: 576-byte frame */
	assert_hex_equal(f, "3c020000" "01000000" "00000000");
	assert_int_equal(f[12 + 7 * 48], 0xcc);       /* RTMR3[0] */
	assert_int_equal(f[12 + 8 * 48], 0xaa);       /* REPORTDATA[0] */
	assert_int_equal(f[12 + 8 * 48 + 64 + 47], 0xbb); /* collateral_root_hash */
	size_t o = 12 + 8 * 48 + 64 + 48;
	assert_int_equal(f[o], 0x20);
	assert_memory_equal(f + o + 1, p.pubkey, 32);
	assert_hex_equal(f + o + 33, "000000");
	o += 36;
	assert_hex_equal(f + o, "093132372e302e302e310000" "409c0000" "093132372e302e302e310000" "5d2b0000");
	assert_int_equal(o + 32, 576);
}

static void test_peerinfo_unattested_frame_has_no_measurements(void **state)
{
	(void)state;
	struct cr_peer p = {.attested = false};
	struct sockaddr_storage src = v4("10.1.2.3", 1), dst = v4("127.0.0.1", 11102);
	uint8_t f[CR_PEERINFO_MAX];
	int n = cr_peerinfo_encode(&p, &src, &dst, f, sizeof(f));
	assert_int_equal(n, 4 + 4 + 48 + 36 + 12 + 4 + 12 + 4);
	assert_hex_equal(f, "78000000" "00000000");
	assert_int_equal(cr_peerinfo_encode(&p, &src, &dst, f, 100), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peerinfo_attested_frame_layout),
		cmocka_unit_test(test_peerinfo_unattested_frame_has_no_measurements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
