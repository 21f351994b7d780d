/* Least privilege (RELIABILITY.md 4 "Privilege"): once the sockets are
 * bound, give up root and every capability for good.
 *
 * Two ways in:
 *  - started as root (outside systemd) with --user NAME: privs_drop(NAME)
 *    empties the bounding and ambient sets, calls setgroups(0),
 *    setresgid and setresuid to NAME's ids, checks that setuid(0) and
 *    setgid(0) now fail, empties the capability sets with capset(2) and
 *    sets PR_SET_NO_NEW_PRIVS;
 *  - started by systemd as User= with AmbientCapabilities=
 *    CAP_NET_BIND_SERVICE: privs_drop(NULL) clears the ambient,
 *    inheritable, permitted and effective sets and sets
 *    PR_SET_NO_NEW_PRIVS (the bounding set too, when CAP_SETPCAP allows).
 * Either way /proc/self/status then shows CapEff 0000000000000000.
 *
 * Capabilities, the bounding set and no_new_privs belong to a thread
 * (only the uid change is made process-wide by glibc), so privs_drop()
 * must run before any thread starts: after server_create(), before
 * server_start(). It refuses (-EBUSY) when the process has more threads.
 *
 * Core layer: no libuv, no c-ares; no libcap (capset is called through
 * syscall(2) with <linux/capability.h>). Main thread only. */
#ifndef SVCDNS_PRIVS_H
#define SVCDNS_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "svcdns/common.h"
#include "svcdns/config.h"

/* Gives up privilege for good; see the top of this file. user is the
 * account to become (looked up with getpwnam), or NULL to keep the uid
 * and drop capabilities only. Naming one's own account is the same as
 * NULL, so is naming an account with uid 0 when running as root (an
 * explicit "stay root", logged as a warning: the capabilities still go);
 * naming another account without root is -EPERM. Returns 0, or a
 * negative errno after logging the reason: -ENOENT (no such user),
 * -EBUSY (threads already run), -EPERM (a call was refused, or setuid(0)
 * still worked afterwards), or what a failing call set. On an error the
 * process may be half-dropped: the caller must exit. */
SVCDNS_MUSTCHECK int privs_drop(const char *user);

/* The start-up rule "refuse to run as root on a non-privileged port
 * without --user": true (refuse) if euid is 0, user is NULL or empty,
 * and no listen address of srv has a port below unpriv_start (see
 * privs_unprivileged_port_start), so root buys nothing but risk. Pure. */
bool privs_check_root_on_high_port(uid_t euid, const char *user,
                                   const struct config_server *srv,
                                   unsigned unpriv_start);

/* The first port an unprivileged process may bind: the value of
 * /proc/sys/net/ipv4/ip_unprivileged_port_start, or 1024 when it cannot
 * be read. */
unsigned privs_unprivileged_port_start(void);

/* Reads the effective capability set of this process (CapEff in
 * /proc/self/status) into *caps. Returns 0 or a negative errno. */
SVCDNS_MUSTCHECK int privs_caps_effective(uint64_t *caps);

/* Finds the line "key:<blanks>value" in text (the format of
 * /proc/PID/status) and parses value in base (16 for the Cap* lines, 10
 * for Threads; for Uid/Gid the first, real, id). Returns 0, -ENOENT when
 * no line has the key, -EINVAL when its value is not a number in base
 * that fits 64 bits. Pure. */
SVCDNS_MUSTCHECK int privs_status_field(const char *text, const char *key,
                                        int base, uint64_t *out);

#endif
