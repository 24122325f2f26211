/* SPDX-License-Identifier: MIT */
/* Subcommands of the iscsiroot binary: one function each, wired by main.c. */
#ifndef ISCSIROOT_CLI_H
#define ISCSIROOT_CLI_H

/* Each returns the process exit code. argv[0] is the subcommand name. */

#endif
