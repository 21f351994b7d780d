/* dnsprobe: waits for a DNS server's first positive answer, for the
 * start-up times of `make bench` (the idea of the shared kit's probe.py).
 *
 *   dnsprobe PORT NAME TIMEOUT_MS
 *
 * Prints "ready" once it runs (the caller takes its start time after that,
 * then starts the server), then asks 127.0.0.1:PORT for NAME A about every
 * millisecond, each time with a new ID, until an answer with that ID comes
 * back with RCODE 0 and at least one answer record; it prints the wall
 * clock of that moment in microseconds since the epoch (comparable with
 * bash's $EPOCHREALTIME) and exits 0. Exit 1 when TIMEOUT_MS passes first,
 * 2 on a usage error. Only 127.0.0.1 is ever sent to. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t probe_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes a query for name (dotted, no escapes) into q; returns its length
 * or 0 if the name does not fit. */
static size_t probe_query(const char *name, uint8_t *q, size_t cap)
{
	size_t off = 12;
	const char *p = name;

	memset(q, 0, 12);
	q[2] = 0x01; /* RD */
	q[5] = 1;    /* QDCOUNT */
	while (*p != '\0') {
		size_t len = strcspn(p, ".");

		if (len == 0 || len > 63 || off + len + 1 + 5 > cap) {
			return 0;
		}
		q[off] = (uint8_t)len;
		memcpy(q + off + 1, p, len);
		off += len + 1;
		p += len;
		if (*p == '.') {
			p++;
		}
	}
	q[off++] = 0;
	q[off++] = 0;
	q[off++] = 1; /* A */
	q[off++] = 0;
	q[off++] = 1; /* IN */
	return off;
}

int main(int argc, char **argv)
{
	uint8_t q[512];
	uint8_t r[4096];
	struct sockaddr_in sa;
	uint64_t deadline;
	uint16_t id = 1;
	size_t qlen;
	long port;
	long timeout_ms;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: dnsprobe PORT NAME TIMEOUT_MS\n");
		return 2;
	}
	port = strtol(argv[1], NULL, 10);
	timeout_ms = strtol(argv[3], NULL, 10);
	qlen = probe_query(argv[2], q, sizeof(q));
	if (port < 1 || port > 65535 || timeout_ms < 1 || qlen == 0) {
		fprintf(stderr, "usage: dnsprobe PORT NAME TIMEOUT_MS\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("dnsprobe: socket");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	printf("ready\n");
	fflush(stdout);
	deadline = probe_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000u;
	while (probe_ns(CLOCK_MONOTONIC) < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t until;

		id++;
		q[0] = (uint8_t)(id >> 8);
		q[1] = (uint8_t)id;
		(void)sendto(fd, q, qlen, 0, (struct sockaddr *)&sa,
		             sizeof(sa));
		until = probe_ns(CLOCK_MONOTONIC) + 1000000u; /* 1 ms */
		for (;;) {
			uint64_t now = probe_ns(CLOCK_MONOTONIC);
			ssize_t n;
			int ms;

			if (now >= until) {
				break;
			}
			ms = (int)((until - now + 999999u) / 1000000u);
			if (poll(&pfd, 1, ms) <= 0) {
				break;
			}
			n = recv(fd, r, sizeof(r), MSG_DONTWAIT);
			if (n < 12 || r[0] != q[0] || r[1] != q[1]) {
				continue; /* an error, or a late answer */
			}
			if ((r[2] & 0x80) != 0 && (r[3] & 0x0F) == 0 &&
			    (r[6] != 0 || r[7] != 0)) {
				unsigned long long us =
					probe_ns(CLOCK_REALTIME) / 1000u;

				printf("%llu\n", us);
				return 0;
			}
			break; /* not yet serving the data */
		}
		if (probe_ns(CLOCK_MONOTONIC) < until) {
			struct timespec ts = { 0, 500000 };

			nanosleep(&ts, NULL);
		}
	}
	fprintf(stderr, "dnsprobe: no answer for %s within %ld ms\n", argv[2],
	        timeout_ms);
	return 1;
}
