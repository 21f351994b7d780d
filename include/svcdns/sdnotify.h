/* systemd's service notification protocol (sd_notify(3)), without
 * libsystemd: each message is one datagram of "KEY=VALUE\n" lines sent to
 * the AF_UNIX socket that $NOTIFY_SOCKET names (a path, or "@name" for the
 * abstract namespace). Used for Type=notify readiness (READY=1), reloads
 * (RELOADING=1 ... READY=1), shutdown (STOPPING=1) and the watchdog
 * (WATCHDOG=1 every WATCHDOG_USEC/2). Core layer: plain sockets, no libuv;
 * one thread (main) uses a struct sdnotify. */
#ifndef SVCDNS_SDNOTIFY_H
#define SVCDNS_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "svcdns/common.h"

struct sdnotify {
	int fd; /* -1 when not under systemd */
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/* Reads $NOTIFY_SOCKET and opens a datagram socket for it. Returns 0 (on),
 * -ENOENT when the variable is unset or empty (not started by systemd, or
 * Type=simple: every send is then a no-op), -EINVAL when it names neither
 * an absolute path nor "@name" or is too long, or -errno from socket(). */
SVCDNS_MUSTCHECK int sdnotify_open(struct sdnotify *n);

/* True when messages go somewhere. */
bool sdnotify_enabled(const struct sdnotify *n);

/* Sends msg ("READY=1\nSTATUS=serving") in one datagram, without
 * blocking. Returns 0, 0 when not enabled, or -errno (the caller may log
 * it; systemd then sees no message, as if none were sent). */
SVCDNS_MUSTCHECK int sdnotify_send(struct sdnotify *n, const char *msg);

/* The watchdog interval systemd asks for ($WATCHDOG_USEC, when
 * $WATCHDOG_PID is unset or this process), in microseconds; 0 for none. */
uint64_t sdnotify_watchdog_usec(void);

/* Closes the socket. Idempotent. */
void sdnotify_close(struct sdnotify *n);

#endif
