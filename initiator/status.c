/* SPDX-License-Identifier: MIT */
/* What a finished command's status means: a file of its own because both
 * the blocking helpers (sync.c) and the disk layer (disk.c, disk-guard.c)
 * need it, and the disk layer calls the helpers, never the other way. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iscsi.h"

int iscsi_task_status(const struct iscsi_task *t, char *msg, size_t len)
{
	struct scsi_sense sense;
	char text[200];

	if (t->result < 0) {
		snprintf(msg, len, "%s", strerror(-t->result));
		return t->result;
	}
	if (t->status == SCSI_STATUS_GOOD || t->status == SCSI_STATUS_CONDITION_MET) {
		/* Never a success unless every byte asked for moved. */
		if (t->len && (t->overflow || (t->underflow && t->residual && !t->short_ok))) {
			snprintf(msg, len, "the target moved %s bytes than the %u asked for "
				 "(residual %u)", t->overflow ? "more" : "fewer", t->len,
				 t->residual);
			return -EIO;
		}
		return 0;
	}
	if (t->status == SCSI_STATUS_CHECK_CONDITION &&
	    scsi_sense_decode(t->sense, t->sense_len, &sense) == 0) {
		scsi_sense_describe(&sense, text, sizeof(text));
		snprintf(msg, len, "CHECK CONDITION: %s", text);
		if (sense.key == SCSI_SENSE_DATA_PROTECT)
			return -EROFS;
		if (sense.key == SCSI_SENSE_ILLEGAL_REQUEST)
			return -EINVAL;
		return -EIO;
	}
	snprintf(msg, len, "SCSI status %s (0x%02x)", scsi_status_name(t->status),
		 t->status);
	return -EIO;
}
