/* fakeup: a scripted fake upstream for the forwarding tests
 * (RELIABILITY.md 2.4, U01..U09). It listens on 127.0.0.1:PORT (UDP) and
 * answers every query for NAME A with "NAME 60 IN A 192.0.2.1" (the
 * question echoed exactly, as a real server does), after doing what the
 * mode says:
 *
 *   ok          answer at once
 *   drop        never answer (a blackhole)
 *   delay MS    answer after MS milliseconds
 *   wrong-id    first a poisoned answer (A 6.6.6.6) with another ID, then
 *               the real one 100 ms later
 *   wrong-case  first a poisoned answer whose question has the case of
 *               every letter flipped, then the real one 100 ms later
 *   other-port  first a poisoned answer from another source port, then
 *               the real one 100 ms later
 *   zero        first a 0-byte datagram, then the real one (U03)
 *   garbage     a header with QR=1 and random octets (U05)
 *   refused     REFUSED
 *
 * usage: fakeup PORT MODE [MS] [--lifetime S] [--count FILE]
 * It exits after --lifetime seconds (default 60), writing the number of
 * queries received to FILE after each one. Bounded in every loop. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FAKEUP_PENDING 256

struct pending {
	bool used;
	uint64_t due_ms;
	struct sockaddr_in to;
	uint8_t msg[512];
	size_t len;
};

static struct pending pend[FAKEUP_PENDING];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Builds the answer to query q (qlen octets) into out; a = the address.
 * Returns its length, or 0 if q is not a one-question query. */
static size_t build_answer(const uint8_t *q, size_t qlen, const uint8_t a[4],
                           unsigned rcode, uint8_t *out)
{
	size_t pos = 12;
	size_t end;

	if (qlen < 17 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1) {
		return 0;
	}
	while (pos < qlen && q[pos] != 0 && q[pos] < 64) {
		pos += (size_t)q[pos] + 1;
	}
	end = pos + 5;
	if (end > qlen || end > 300) {
		return 0;
	}
	memcpy(out, q, end);
	out[2] = (uint8_t)(0x84 | (q[2] & 0x01)); /* QR AA RD */
	out[3] = (uint8_t)(0x80 | rcode);         /* RA */
	put16(out + 6, rcode == 0 ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (rcode != 0) {
		return end;
	}
	put16(out + end, 0xc00c);
	put16(out + end + 2, 1);
	put16(out + end + 4, 1);
	out[end + 6] = 0;
	out[end + 7] = 0;
	put16(out + end + 8, 60);
	put16(out + end + 10, 4);
	memcpy(out + end + 12, a, 4);
	return end + 16;
}

static void queue(const struct sockaddr_in *to, const uint8_t *msg, size_t len,
                  uint64_t due)
{
	int i;

	for (i = 0; i < FAKEUP_PENDING; i++) {
		if (!pend[i].used) {
			pend[i].used = true;
			pend[i].due_ms = due;
			pend[i].to = *to;
			memcpy(pend[i].msg, msg, len);
			pend[i].len = len;
			return;
		}
	}
}

static int open_udp(uint16_t port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("fakeup: bind");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const uint8_t good[4] = { 192, 0, 2, 1 };
	static const uint8_t evil[4] = { 6, 6, 6, 6 };
	const char *mode;
	const char *count_file = NULL;
	unsigned delay = 0;
	unsigned lifetime = 60;
	unsigned long queries = 0;
	uint64_t end;
	int fd;
	int other;
	int i;

	if (argc < 3) {
		fprintf(stderr,
		        "usage: fakeup PORT MODE [MS] [--lifetime S] [--count FILE]\n");
		return 2;
	}
	mode = argv[2];
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--lifetime") == 0 && i + 1 < argc) {
			lifetime = (unsigned)atoi(argv[++i]);
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count_file = argv[++i];
		} else {
			delay = (unsigned)atoi(argv[i]);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	fd = open_udp((uint16_t)atoi(argv[1]));
	other = open_udp(0);
	end = now_ms() + (uint64_t)lifetime * 1000u;
	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t = now_ms();

		for (i = 0; i < FAKEUP_PENDING; i++) {
			if (pend[i].used && pend[i].due_ms <= t) {
				sendto(fd, pend[i].msg, pend[i].len, 0,
				       (struct sockaddr *)&pend[i].to,
				       sizeof(pend[i].to));
				pend[i].used = false;
			}
		}
		if (poll(&p, 1, 10) > 0) {
			uint8_t q[512];
			uint8_t a[600];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, q, sizeof(q), 0,
			                     (struct sockaddr *)&from, &fl);
			size_t len;

			if (n <= 0) {
				continue;
			}
			queries++;
			if (count_file != NULL) {
				FILE *f = fopen(count_file, "w");

				if (f != NULL) {
					fprintf(f, "%lu\n", queries);
					fclose(f);
				}
			}
			t = now_ms();
			if (strcmp(mode, "drop") == 0) {
				continue;
			}
			if (strcmp(mode, "refused") == 0) {
				len = build_answer(q, (size_t)n, good, 5, a);
				queue(&from, a, len, t);
				continue;
			}
			if (strcmp(mode, "garbage") == 0) {
				size_t k;

				memcpy(a, q, 12);
				a[2] |= 0x80;
				put16(a + 6, 9);
				for (k = 12; k < 40; k++) {
					a[k] = (uint8_t)rand();
				}
				queue(&from, a, 40, t);
				continue;
			}
			len = build_answer(q, (size_t)n, good, 0, a);
			if (len == 0) {
				continue;
			}
			if (strcmp(mode, "delay") == 0) {
				queue(&from, a, len, t + delay);
				continue;
			}
			if (strcmp(mode, "ok") == 0) {
				queue(&from, a, len, t);
				continue;
			}
			/* The poisoned attempt first, the real answer later. */
			queue(&from, a, len, t + 100);
			len = build_answer(q, (size_t)n, evil, 0, a);
			if (strcmp(mode, "wrong-id") == 0) {
				a[0] ^= 0x5a;
				queue(&from, a, len, t);
			} else if (strcmp(mode, "wrong-case") == 0) {
				size_t k;

				for (k = 12; k < len && a[k] != 0xc0; k++) {
					if ((a[k] | 0x20) >= 'a' &&
					    (a[k] | 0x20) <= 'z') {
						a[k] ^= 0x20;
					}
				}
				queue(&from, a, len, t);
			} else if (strcmp(mode, "other-port") == 0) {
				sendto(other, a, len, 0,
				       (struct sockaddr *)&from, sizeof(from));
			} else if (strcmp(mode, "zero") == 0) {
				sendto(fd, a, 0, 0, (struct sockaddr *)&from,
				       sizeof(from));
			}
		}
	}
	close(other);
	close(fd);
	return 0;
}
