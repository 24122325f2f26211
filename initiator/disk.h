/* SPDX-License-Identifier: MIT */
/* Private to initiator/: what disk.c and disk-guard.c share. */
#ifndef ISCSIROOT_DISK_H
#define ISCSIROOT_DISK_H

#include "iscsi.h"

/* The LU's best designator in a VPD 0x83 page (NAA, then EUI-64, then
 * any), formatted; out stays as it was when there is none. */
void disk_best_designator(const uint8_t *buf, uint32_t len, char *out, size_t outlen);
/* The bytes a probe command's answer holds: its length less an underflow
 * residual (the allocation length is a maximum). */
uint32_t disk_received(const struct iscsi_task *t);
/* 0, or -EMEDIUMTYPE with why in err: a block size that is not a power of
 * two from 512 to 65536, no blocks, or a size that overflows 64 bits. */
int disk_check_capacity(const struct scsi_capacity *c, char *err, size_t errlen);

#endif
