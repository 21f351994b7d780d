/* udp_burst: sends bursts of UDP queries faster than the server answers
 * them, from several sockets at once, and checks that every query gets
 * exactly one reply, on the socket (source port) it came from, with its
 * own ID and question. It exercises the server's receive batches (a burst
 * larger than one recvmmsg), its sendmmsg of the answers, and replies of
 * different sizes in one batch.
 *
 *   udp_burst --server ADDR --port PORT --name NAME [--name NAME]...
 *             [--bursts N] [--burst N] [--socks N] [--edns SIZE]
 *             [--timeout-ms MS]
 *
 * Each burst sends --burst queries (default 200) round-robin over --socks
 * sockets (default 4), for the names in turn (type A), with an EDNS OPT of
 * --edns octets (default 1232; 0 for none), then waits up to --timeout-ms
 * (default 2000) for their replies before the next burst. The first reply
 * for a name fixes its answer count; every later one must agree, and none
 * may be truncated when EDNS is on.
 *
 * Prints one line: sent= answered= lost= wrong_socket= bad_id= dup=
 * mismatch= truncated= rcode_errors= max_len= and exits 0 when every query
 * was answered correctly, 1 otherwise, 2 on a usage or socket error. Only
 * the given server is sent to; every loop is bounded by count and time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG       "udp_burst"
#define MAX_SOCKS  16
#define MAX_NAMES  8
#define MAX_BURST  4096
#define MAX_QLEN   300
#define MAX_REPLY  65536
#define NO_ANCOUNT (-1)

struct query {
	uint8_t wire[MAX_QLEN];
	size_t len;
	size_t qend; /* end of the question */
	unsigned name;
	bool answered;
};

struct opts {
	const char *server;
	unsigned port;
	const char *names[MAX_NAMES];
	unsigned n_names;
	unsigned bursts;
	unsigned burst;
	unsigned socks;
	unsigned edns;
	unsigned timeout_ms;
};

struct counts {
	unsigned long sent, answered, lost, wrong_socket, bad_id, dup, mismatch,
		truncated, rcode_errors;
	size_t max_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes a query for name (text, dotted) type A with id into q. */
static int build_query(struct query *q, const char *name, uint16_t id,
                       unsigned edns)
{
	uint8_t *p = q->wire;
	size_t off = 12;
	const char *s = name;

	memset(p, 0, 12);
	p[0] = (uint8_t)(id >> 8);
	p[1] = (uint8_t)id;
	p[5] = 1; /* QDCOUNT */
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		if (n == 0 || n > 63 || off + 1 + n + 5 + 11 > MAX_QLEN) {
			return -1;
		}
		p[off++] = (uint8_t)n;
		memcpy(p + off, s, n);
		off += n;
		s += n;
		if (*s == '.') {
			s++;
		}
	}
	p[off++] = 0;
	p[off++] = 0;
	p[off++] = 1; /* A */
	p[off++] = 0;
	p[off++] = 1; /* IN */
	q->qend = off;
	if (edns > 0) {
		p[11] = 1; /* ARCOUNT */
		p[off++] = 0;
		p[off++] = 0;
		p[off++] = 41; /* OPT */
		p[off++] = (uint8_t)(edns >> 8);
		p[off++] = (uint8_t)edns;
		memset(p + off, 0, 6); /* TTL, RDLENGTH */
		off += 6;
	}
	q->len = off;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->bursts = 5;
	o->burst = 200;
	o->socks = 4;
	o->edns = 1232;
	o->timeout_ms = 2000;
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i];
		const char *v = argv[i + 1];

		if (strcmp(k, "--server") == 0) {
			o->server = v;
		} else if (strcmp(k, "--port") == 0) {
			o->port = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--name") == 0 && o->n_names < MAX_NAMES) {
			o->names[o->n_names++] = v;
		} else if (strcmp(k, "--bursts") == 0) {
			o->bursts = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--burst") == 0) {
			o->burst = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--socks") == 0) {
			o->socks = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--edns") == 0) {
			o->edns = (unsigned)strtoul(v, NULL, 10);
		} else if (strcmp(k, "--timeout-ms") == 0) {
			o->timeout_ms = (unsigned)strtoul(v, NULL, 10);
		} else {
			return -1;
		}
	}
	if (i != argc || o->server == NULL || o->port == 0 || o->port > 65535 ||
	    o->n_names == 0 || o->burst == 0 || o->burst > MAX_BURST ||
	    o->socks == 0 || o->socks > MAX_SOCKS || o->bursts == 0 ||
	    o->edns > 65535) {
		return -1;
	}
	return 0;
}

/* Checks one reply r[0..len) that arrived on socket sock against the
 * queries of the burst. */
static void check_reply(const struct opts *o, struct query *qs, unsigned n,
                        int *ancount, unsigned sock, const uint8_t *r,
                        size_t len, struct counts *c)
{
	unsigned id;
	struct query *q;
	int an;

	if (len > c->max_len) {
		c->max_len = len;
	}
	if (len < 12) {
		c->mismatch++;
		return;
	}
	id = (unsigned)r[0] << 8 | r[1];
	if (id >= n) {
		c->bad_id++;
		return;
	}
	q = &qs[id];
	if (id % o->socks != sock) {
		c->wrong_socket++;
		return;
	}
	if (q->answered) {
		c->dup++;
		return;
	}
	q->answered = true;
	c->answered++;
	/* QR set, the question echoed as sent. */
	if (!(r[2] & 0x80) || len < q->qend ||
	    memcmp(r + 4, q->wire + 4, 2) != 0 ||
	    memcmp(r + 12, q->wire + 12, q->qend - 12) != 0) {
		c->mismatch++;
		return;
	}
	if ((r[3] & 0x0f) != 0) {
		c->rcode_errors++;
		return;
	}
	if (r[2] & 0x02) {
		c->truncated++;
		if (o->edns > 0) {
			return;
		}
	}
	an = r[6] << 8 | r[7];
	if (ancount[q->name] == NO_ANCOUNT) {
		ancount[q->name] = an;
	} else if (ancount[q->name] != an) {
		c->mismatch++;
	}
}

/* One burst: send every query, then read replies until all came or the
 * timeout. */
static int run_burst(const struct opts *o, const int *fds,
                     const struct sockaddr *sa, socklen_t salen,
                     struct query *qs, int *ancount, uint8_t *buf,
                     struct counts *c)
{
	unsigned n = o->burst;
	unsigned i;
	unsigned left = n;
	uint64_t deadline;
	struct pollfd pfd[MAX_SOCKS];

	for (i = 0; i < n; i++) {
		qs[i].name = i % o->n_names;
		qs[i].answered = false;
		if (build_query(&qs[i], o->names[qs[i].name], (uint16_t)i,
		                o->edns) != 0) {
			fprintf(stderr, PROG ": bad name %s\n",
			        o->names[qs[i].name]);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		ssize_t r = sendto(fds[i % o->socks], qs[i].wire, qs[i].len, 0,
		                   sa, salen);

		if (r < 0) {
			fprintf(stderr, PROG ": sendto: %s\n", strerror(errno));
			return -1;
		}
		c->sent++;
	}
	deadline = now_ms() + o->timeout_ms;
	for (i = 0; i < o->socks; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	while (left > 0) {
		uint64_t t = now_ms();
		int pr;

		if (t >= deadline) {
			break;
		}
		pr = poll(pfd, o->socks, (int)(deadline - t));
		if (pr < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			return -1;
		}
		for (i = 0; pr > 0 && i < o->socks; i++) {
			ssize_t r;

			if (!(pfd[i].revents & POLLIN)) {
				continue;
			}
			while ((r = recv(fds[i], buf, MAX_REPLY,
			                 MSG_DONTWAIT)) >= 0) {
				unsigned long before = c->answered;

				check_reply(o, qs, n, ancount, i, buf,
				            (size_t)r, c);
				if (c->answered > before) {
					left--;
				}
			}
		}
	}
	c->lost += left;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct counts c;
	struct sockaddr_storage ss;
	socklen_t salen;
	int fds[MAX_SOCKS];
	int ancount[MAX_NAMES];
	struct query *qs;
	uint8_t *buf;
	unsigned i;
	int rc = 2;

	if (parse_opts(argc, argv, &o) != 0) {
		fprintf(stderr,
		        "usage: " PROG
		        " --server ADDR --port PORT --name NAME [--name NAME]... [--bursts N] [--burst N] [--socks N] [--edns SIZE] [--timeout-ms MS]\n");
		return 2;
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, o.server,
	              &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)o.port);
		salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, o.server,
	                     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port =
			htons((uint16_t)o.port);
		salen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, PROG ": bad address %s\n", o.server);
		return 2;
	}
	qs = calloc(o.burst, sizeof(*qs));
	buf = malloc(MAX_REPLY);
	if (qs == NULL || buf == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out_free;
	}
	for (i = 0; i < o.socks; i++) {
		int big = 1 << 20;

		fds[i] = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0) {
			fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
			o.socks = i;
			goto out_close;
		}
		/* Room for a whole burst of replies (capped by rmem_max). */
		(void)setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &big,
		                 sizeof(big));
	}
	for (i = 0; i < MAX_NAMES; i++) {
		ancount[i] = NO_ANCOUNT;
	}
	memset(&c, 0, sizeof(c));
	for (i = 0; i < o.bursts; i++) {
		if (run_burst(&o, fds, (struct sockaddr *)&ss, salen, qs,
		              ancount, buf, &c) != 0) {
			goto out_close;
		}
	}
	printf("sent=%lu answered=%lu lost=%lu wrong_socket=%lu bad_id=%lu dup=%lu mismatch=%lu truncated=%lu rcode_errors=%lu max_len=%zu\n",
	       c.sent, c.answered, c.lost, c.wrong_socket, c.bad_id, c.dup,
	       c.mismatch, c.truncated, c.rcode_errors, c.max_len);
	rc = c.answered == c.sent && c.wrong_socket == 0 && c.bad_id == 0 &&
	                     c.dup == 0 && c.mismatch == 0 &&
	                     c.rcode_errors == 0 &&
	                     (o.edns == 0 || c.truncated == 0)
	             ? 0
	             : 1;
out_close:
	for (i = 0; i < o.socks; i++) {
		close(fds[i]);
	}
out_free:
	free(qs);
	free(buf);
	return rc;
}
