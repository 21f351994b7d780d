/* The sd_notify datagram protocol. See sdnotify.h. */
#include "svcdns/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sdnotify_open(struct sdnotify *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (path == NULL || path[0] == '\0') {
		return -ENOENT;
	}
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len > sizeof(n->addr.sun_path) - 1) {
		return -EINVAL;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@') {
		/* Linux's abstract namespace: a leading NUL, and the length
		 * counts exactly the name (no terminating NUL). */
		n->addr.sun_path[0] = '\0';
		n->addr_len =
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                    len);
	} else {
		n->addr_len =
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                    len + 1);
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		return -errno;
	}
	return 0;
}

bool sdnotify_enabled(const struct sdnotify *n)
{
	return n->fd >= 0;
}

int sdnotify_send(struct sdnotify *n, const char *msg)
{
	ssize_t r;

	if (n->fd < 0) {
		return 0;
	}
	/* Never block the event loop on a full socket buffer: systemd
	 * would rather miss one message than have the loop stall. */
	r = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
	           (const struct sockaddr *)&n->addr, n->addr_len);
	if (r < 0) {
		return -errno;
	}
	return 0;
}

/* Parses a whole decimal number; false for anything else. */
static bool sdnotify_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0') {
		return false;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

uint64_t sdnotify_watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t usec;
	uint64_t p;

	if (!sdnotify_parse_u64(getenv("WATCHDOG_USEC"), &usec)) {
		return 0;
	}
	/* The variables are meant for one process (sd_watchdog_enabled(3));
	 * a child that inherited them must not ping for its parent. */
	if (pid != NULL &&
	    (!sdnotify_parse_u64(pid, &p) || p != (uint64_t)getpid())) {
		return 0;
	}
	return usec;
}

void sdnotify_close(struct sdnotify *n)
{
	if (n->fd >= 0) {
		close(n->fd);
		n->fd = -1;
	}
}
