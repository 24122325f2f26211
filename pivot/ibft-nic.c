/* SPDX-License-Identifier: MIT */
/*
 * The interfaces of the iBFT's NICs: the table names a NIC by its MAC;
 * the kernel names the interface that has it (/sys/class/net/NAME/address,
 * lower-case hex as "%pM" prints it). Each boot target's path goes
 * through its own NIC's interface.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "pivot.h"

int ibft_ifname_by_mac(const char *root, const uint8_t mac[6], char *out, size_t len)
{
	char dir[PATH_MAX], want[18], path[PATH_MAX + 300], have[32];
	struct dirent *e;
	DIR *d;
	int r = -ENOENT;

	out[0] = '\0';
	snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/sys/class/net", root) >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	while (d && r < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= len)
			continue;
		snprintf(path, sizeof(path), "%s/%s/address", dir, e->d_name);
		if (read_text_file(path, have, sizeof(have)) == 0 &&
		    !strcmp(have, want)) {
			snprintf(out, len, "%s", e->d_name);
			r = 0;
		}
	}
	if (d)
		closedir(d);
	return r;
}

void ibft_name_nics(const char *root, struct ibft *fw)
{
	for (unsigned i = 0; i < fw->nnics; i++) {
		struct ibft_nic *nic = &fw->nics[i];

		if (ibft_ifname_by_mac(root, nic->mac, nic->ifname, sizeof(nic->ifname)) < 0)
			log_debug("iBFT NIC %u: no interface has its MAC (yet)", nic->index);
	}
}
