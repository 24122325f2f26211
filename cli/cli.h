/* SPDX-License-Identifier: MIT */
/* Subcommands of the iscsiroot binary: one function each, wired by main.c. */
#ifndef ISCSIROOT_CLI_H
#define ISCSIROOT_CLI_H

/* Each returns the process exit code. argv[0] is the subcommand name. */
int cmd_bench(int argc, char **argv);
int cmd_dhcp(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_inquiry(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_iscsistart(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_daemon(int argc, char **argv);

#endif
