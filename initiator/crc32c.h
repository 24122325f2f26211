/* SPDX-License-Identifier: MIT */
/* CRC32C (Castagnoli), the iSCSI header and data digest (RFC 7143 §13.1). */
#ifndef ISCSIROOT_CRC32C_H
#define ISCSIROOT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc32c(0, …). The SSE4.2 instruction is used
 * when the CPU has it, a table otherwise. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* Both paths, exposed so the tests can check them against each other. */
uint32_t crc32c_table(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len);
int crc32c_have_sse42(void);

#endif
