/* latency: per-query latency at a fixed offered load, timed by the kernel.
 *
 *   latency PORT QUERYFILE RATE SECONDS
 *
 * Sends the queries of QUERYFILE ("NAME TYPE" per line, TYPE A, AAAA, SRV,
 * PTR, TXT or ANY; cycled) to 127.0.0.1:PORT at RATE queries a second for
 * SECONDS, open loop (a late tick sends what is due at once), from 4 UDP
 * sockets, and times each answer from the moment just before its query
 * was handed to sendmmsg to the moment the kernel queued the answer on
 * our socket (SO_TIMESTAMPNS). So the client's own scheduling after the
 * answer arrives is not counted: dnsperf -v on one busy core adds up to
 * milliseconds of its own at the tail. Answers still missing 1 s after
 * the last query are lost. Prints one line of key=value pairs: sent,
 * received, lost, avg/p50/p90/p99/p99.9/max in ms.
 *
 * Two threads: a sender paced by clock_nanosleep every 100 us and a
 * receiver blocked in recvmmsg. Only 127.0.0.1 is ever sent to. */
/* recvmmsg(2) and sendmmsg(2) are GNU extensions in glibc. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LAT_SOCKS   4
#define LAT_BATCH   64
#define LAT_TICK_NS 100000L
#define LAT_QMAX    300
#define LAT_HIST_US 1000000 /* 1 s of 1-us buckets; above: the last */
#define LAT_SLOTS   65536   /* per socket: one per query ID */

struct lat_query {
	uint8_t wire[LAT_QMAX];
	uint16_t len;
};

struct lat_state {
	int fd[LAT_SOCKS];
	struct sockaddr_in to;
	struct lat_query *q;
	size_t nq;
	long rate;
	int seconds;
	/* Send time of the query in flight with ID i on socket s, ns; 0 =
	 * none. Written by the sender before the send, cleared by the
	 * receiver on the answer. */
	_Atomic uint64_t sent_ns[LAT_SOCKS][LAT_SLOTS];
	atomic_bool done;
	uint64_t sent;
	uint64_t received;
	uint64_t stray;
	uint32_t *hist;
	double sum_ms;
	double max_ms;
};

static uint64_t lat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int lat_type(const char *t)
{
	static const struct {
		const char *name;
		int code;
	} types[] = { { "A", 1 },    { "AAAA", 28 }, { "SRV", 33 },
		      { "PTR", 12 }, { "TXT", 16 },  { "ANY", 255 } };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(t, types[i].name) == 0) {
			return types[i].code;
		}
	}
	return -1;
}

/* One query in wire form (ID 0, RD=0, no EDNS); 0 on success. */
static int lat_build(struct lat_query *q, const char *name, int type)
{
	size_t pos = 12;
	const char *p = name;

	memset(q->wire, 0, 12);
	q->wire[5] = 1; /* QDCOUNT */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || pos + 1 + l + 5 > LAT_QMAX) {
			return -1;
		}
		q->wire[pos++] = (uint8_t)l;
		memcpy(q->wire + pos, p, l);
		pos += l;
		p += l;
		if (*p == '.') {
			p++;
		}
	}
	q->wire[pos++] = 0;
	q->wire[pos++] = (uint8_t)(type >> 8);
	q->wire[pos++] = (uint8_t)type;
	q->wire[pos++] = 0;
	q->wire[pos++] = 1; /* IN */
	q->len = (uint16_t)pos;
	return 0;
}

static int lat_load(struct lat_state *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[300];
		char type[16];
		int t;

		if (sscanf(line, "%299s %15s", name, type) != 2 ||
		    (t = lat_type(type)) < 0) {
			continue;
		}
		if (s->nq == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct lat_query *nq = realloc(s->q, nc * sizeof(*nq));

			if (nq == NULL) {
				fclose(f);
				return -1;
			}
			s->q = nq;
			cap = nc;
		}
		if (lat_build(&s->q[s->nq], name, t) == 0) {
			s->nq++;
		}
	}
	fclose(f);
	return s->nq > 0 ? 0 : -1;
}

static void lat_record(struct lat_state *s, uint64_t ns)
{
	uint64_t us = ns / 1000;
	double ms = (double)ns / 1e6;

	s->hist[us < LAT_HIST_US ? us : LAT_HIST_US - 1]++;
	s->sum_ms += ms;
	if (ms > s->max_ms) {
		s->max_ms = ms;
	}
	s->received++;
}

static void *lat_receiver(void *arg)
{
	struct lat_state *s = arg;
	static uint8_t buf[LAT_BATCH][1500];
	static char ctl[LAT_BATCH][64];
	struct mmsghdr m[LAT_BATCH];
	struct iovec iov[LAT_BATCH];
	struct pollfd pfd[LAT_SOCKS];
	uint64_t quiet_since = 0;

	for (int i = 0; i < LAT_SOCKS; i++) {
		pfd[i].fd = s->fd[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		int r = poll(pfd, LAT_SOCKS, 100);

		if (r <= 0) {
			/* After the sender is done: 1 s without answers ends.
			 */
			if (atomic_load(&s->done)) {
				if (quiet_since == 0) {
					quiet_since = lat_now_ns();
				} else if (lat_now_ns() - quiet_since >
				           1000000000u) {
					return NULL;
				}
			}
			continue;
		}
		quiet_since = 0;
		for (int k = 0; k < LAT_SOCKS; k++) {
			int n;

			if (pfd[k].revents & POLLERR) {
				int e = 0;
				socklen_t el = sizeof(e);

				/* An ICMP error (nobody on the port): clear it.
				 */
				(void)getsockopt(s->fd[k], SOL_SOCKET, SO_ERROR,
				                 &e, &el);
			}
			if (!(pfd[k].revents & POLLIN)) {
				continue;
			}
			for (int i = 0; i < LAT_BATCH; i++) {
				iov[i].iov_base = buf[i];
				iov[i].iov_len = sizeof(buf[i]);
				memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
				m[i].msg_hdr.msg_iov = &iov[i];
				m[i].msg_hdr.msg_iovlen = 1;
				m[i].msg_hdr.msg_control = ctl[i];
				m[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
			}
			n = recvmmsg(s->fd[k], m, LAT_BATCH, MSG_DONTWAIT,
			             NULL);
			for (int i = 0; i < n; i++) {
				uint64_t rx = 0;
				uint64_t tx;
				uint16_t id;
				struct cmsghdr *c;

				if (m[i].msg_len < 12 || !(buf[i][2] & 0x80)) {
					s->stray++;
					continue;
				}
				for (c = CMSG_FIRSTHDR(&m[i].msg_hdr);
				     c != NULL;
				     c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
					if (c->cmsg_level == SOL_SOCKET &&
					    c->cmsg_type == SCM_TIMESTAMPNS) {
						struct timespec ts;

						memcpy(&ts, CMSG_DATA(c),
						       sizeof(ts));
						rx = (uint64_t)ts.tv_sec *
						             1000000000u +
						     (uint64_t)ts.tv_nsec;
					}
				}
				if (rx == 0) {
					rx = lat_now_ns();
				}
				id = (uint16_t)(buf[i][0] << 8 | buf[i][1]);
				tx = atomic_exchange(&s->sent_ns[k][id], 0);
				if (tx == 0 || rx < tx) {
					s->stray++;
					continue;
				}
				lat_record(s, rx - tx);
			}
		}
	}
}

static void lat_send(struct lat_state *s)
{
	struct mmsghdr m[LAT_SOCKS][LAT_BATCH];
	struct iovec iov[LAT_SOCKS][LAT_BATCH];
	uint8_t out[LAT_SOCKS][LAT_BATCH][LAT_QMAX];
	unsigned cnt[LAT_SOCKS];
	uint16_t next_id[LAT_SOCKS] = { 0 };
	size_t qi = 0;
	uint64_t t0 = lat_now_ns();
	uint64_t end = t0 + (uint64_t)s->seconds * 1000000000u;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		uint64_t now = lat_now_ns();
		uint64_t due;

		if (now >= end) {
			break;
		}
		due = (uint64_t)((double)(now - t0) * (double)s->rate / 1e9);
		while (s->sent < due) {
			memset(cnt, 0, sizeof(cnt));
			/* Up to a batch per socket, round robin. */
			for (; s->sent < due; s->sent++) {
				int k = (int)(s->sent % LAT_SOCKS);
				unsigned j = cnt[k];
				const struct lat_query *q = &s->q[qi];
				uint16_t id;

				if (j == LAT_BATCH) {
					break;
				}
				/* Skip an ID still in flight (lost, or very
				 * late): its answer would be misattributed. */
				id = next_id[k]++;
				if (atomic_load(&s->sent_ns[k][id]) != 0) {
					id = next_id[k]++;
				}
				memcpy(out[k][j], q->wire, q->len);
				out[k][j][0] = (uint8_t)(id >> 8);
				out[k][j][1] = (uint8_t)id;
				iov[k][j].iov_base = out[k][j];
				iov[k][j].iov_len = q->len;
				memset(&m[k][j].msg_hdr, 0,
				       sizeof(m[k][j].msg_hdr));
				m[k][j].msg_hdr.msg_iov = &iov[k][j];
				m[k][j].msg_hdr.msg_iovlen = 1;
				cnt[k]++;
				qi = (qi + 1) % s->nq;
			}
			for (int k = 0; k < LAT_SOCKS; k++) {
				uint64_t tx = lat_now_ns();
				unsigned done = 0;

				for (unsigned j = 0; j < cnt[k]; j++) {
					uint16_t id =
						(uint16_t)(out[k][j][0] << 8 |
					                   out[k][j][1]);

					atomic_store(&s->sent_ns[k][id], tx);
				}
				while (done < cnt[k]) {
					int r = sendmmsg(s->fd[k], m[k] + done,
					                 cnt[k] - done, 0);

					if (r < 0) {
						if (errno == EINTR) {
							continue;
						}
						break; /* counted lost */
					}
					done += (unsigned)r;
				}
			}
		}
		next.tv_nsec += LAT_TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

static double lat_pct(const struct lat_state *s, double p)
{
	uint64_t want = (uint64_t)((double)s->received * p);
	uint64_t c = 0;

	if (want == 0) {
		want = 1;
	}
	for (uint32_t us = 0; us < LAT_HIST_US; us++) {
		c += s->hist[us];
		if (c >= want) {
			return (double)us / 1000.0;
		}
	}
	return (double)LAT_HIST_US / 1000.0;
}

int main(int argc, char **argv)
{
	static struct lat_state s;
	pthread_t rx;
	int on = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: latency PORT QUERYFILE RATE SECONDS\n");
		return 2;
	}
	s.to.sin_family = AF_INET;
	s.to.sin_port = htons((uint16_t)atoi(argv[1]));
	s.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.rate = atol(argv[3]);
	s.seconds = atoi(argv[4]);
	if (s.rate <= 0 || s.seconds <= 0 || lat_load(&s, argv[2]) != 0) {
		fprintf(stderr, "latency: bad RATE, SECONDS or QUERYFILE\n");
		return 2;
	}
	s.hist = calloc(LAT_HIST_US, sizeof(*s.hist));
	if (s.hist == NULL) {
		return 1;
	}
	for (int k = 0; k < LAT_SOCKS; k++) {
		int sz = 4 << 20;

		s.fd[k] = socket(AF_INET, SOCK_DGRAM, 0);
		if (s.fd[k] < 0 ||
		    setsockopt(s.fd[k], SOL_SOCKET, SO_TIMESTAMPNS, &on,
		               sizeof(on)) != 0 ||
		    connect(s.fd[k], (const struct sockaddr *)&s.to,
		            sizeof(s.to)) != 0) {
			perror("latency: socket");
			return 1;
		}
		(void)setsockopt(s.fd[k], SOL_SOCKET, SO_RCVBUF, &sz,
		                 sizeof(sz));
		(void)setsockopt(s.fd[k], SOL_SOCKET, SO_SNDBUF, &sz,
		                 sizeof(sz));
	}
	atomic_init(&s.done, false);
	if (pthread_create(&rx, NULL, lat_receiver, &s) != 0) {
		return 1;
	}
	lat_send(&s);
	atomic_store(&s.done, true);
	pthread_join(rx, NULL);
	printf("sent=%llu received=%llu lost=%llu stray=%llu "
	       "lat_avg_ms=%.3f lat_p50_ms=%.3f lat_p90_ms=%.3f "
	       "lat_p99_ms=%.3f lat_p999_ms=%.3f lat_max_ms=%.3f\n",
	       (unsigned long long)s.sent, (unsigned long long)s.received,
	       (unsigned long long)(s.sent - s.received),
	       (unsigned long long)s.stray,
	       s.received ? s.sum_ms / (double)s.received : 0.0,
	       lat_pct(&s, 0.50), lat_pct(&s, 0.90), lat_pct(&s, 0.99),
	       lat_pct(&s, 0.999), s.max_ms);
	return 0;
}
