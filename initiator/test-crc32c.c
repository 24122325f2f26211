/* SPDX-License-Identifier: MIT */
/* CRC32C vectors from RFC 3720 §B.4 (kept in RFC 7143), plus the SSE4.2
 * and table paths checked against each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "test.h"

static void test_rfc_vectors(void)
{
	uint8_t buf[48];
	/* RFC 3720 B.4 lists the CRC as the bytes sent on the wire, which
	 * for iSCSI's little-endian-reflected CRC is the value read LE. */
	memset(buf, 0, 32);
	CHECK_EQ(crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	CHECK_EQ(crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(crc32c(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	CHECK_EQ(crc32c(0, buf, 32), 0x113fdb5cu);
	static const uint8_t scsi_read[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_EQ(crc32c(0, scsi_read, 48), 0xd9963a56u);
	CHECK_EQ(crc32c(0, "123456789", 9), 0xe3069283u);
}

static void test_paths_agree(void)
{
	uint8_t buf[4099];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(rand_r(&seed) >> 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 97)
			CHECK_EQ(crc32c_table(0, buf + off, len),
				 crc32c_sse42(0, buf + off, len));
	/* Continuation gives the same result as one pass. */
	uint32_t whole = crc32c(0, buf, sizeof(buf));
	uint32_t parts = crc32c(crc32c(0, buf, 1000), buf + 1000, sizeof(buf) - 1000);
	CHECK_EQ(whole, parts);
	if (!crc32c_have_sse42())
		printf("note: no SSE4.2 on this CPU; only the table path ran\n");
}

int main(void)
{
	test_rfc_vectors();
	test_paths_agree();
	return test_report("crc32c");
}
