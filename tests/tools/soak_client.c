/* soak_client: the load clients of tests/soak/run.sh (RELIABILITY.md 3).
 *
 *   soak_client names --server ADDR --port PORT --count N --rate QPS
 *                      --zone ZONE [--fwd-zone ZONE --fwd-every K]
 *                      [--timeout-ms MS] [--seed S]
 *     L10: N queries (type A, UDP) for N distinct names, "q<hex>.ZONE",
 *     every K-th one under --fwd-zone instead (forwarded upstream). The
 *     names come from a bijection of the sequence number, so none repeats.
 *     Prints one line: sent= answered= timeouts= stray= rcode_N=... qps=
 *     Exit 0 when every query got an answer (timeouts 0), else 1.
 *
 *   soak_client hold --server ADDR --port PORT --conns N --seconds S
 *     L11: opens N TCP connections (non-blocking connects, at most 1 s
 *     for all of them), holds them S seconds without sending anything,
 *     then closes them. Prints: opened= refused= closed_by_peer= (the
 *     daemon may close idle or evicted ones: that is not an error).
 *     Exit 0 unless the socket calls themselves fail (2).
 *
 * Only the given server address is ever sent to; every loop is bounded by
 * the count and by time. */
#include "svcdns/dname.h"
#include "svcdns/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG          "soak_client"
#define SOAK_BURST    64 /* queries sent per turn of the loop, at most */
#define SOAK_IDS      65536
#define SOAK_HOLD_MAX 100000

struct soak_opts {
	const char *server;
	unsigned port;
	unsigned long count;
	unsigned rate;
	const char *zone;
	const char *fwd_zone;
	unsigned fwd_every;
	unsigned timeout_ms;
	unsigned conns;
	unsigned seconds;
	uint64_t seed;
};

struct soak_slot {
	bool used;
	uint64_t sent_ms;
	uint8_t qname[DNAME_MAXLEN];
	size_t qlen;
};

static uint64_t soak_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A bijection on 64-bit numbers (odd multipliers and xor-shifts are each
 * invertible), so distinct sequence numbers give distinct labels. */
static uint64_t soak_perm(uint64_t x, uint64_t seed)
{
	x ^= seed;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	x ^= x >> 33;
	return x;
}

static int soak_addr(const struct soak_opts *o, struct sockaddr_storage *ss,
                     socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, o->server, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)o->port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, o->server, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)o->port);
		*len = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "%s: --server: not a numeric address: %s\n", PROG,
	        o->server);
	return -EINVAL;
}

/* ---- names ------------------------------------------------------------- */

struct soak_names {
	const struct soak_opts *o;
	int fd;
	struct soak_slot *slots; /* SOAK_IDS, indexed by ID */
	uint8_t zone[DNAME_MAXLEN];
	size_t zone_len;
	uint8_t fwd[DNAME_MAXLEN];
	size_t fwd_len;
	unsigned long sent;
	unsigned long answered;
	unsigned long timeouts;
	unsigned long stray;
	unsigned long send_errors;
	unsigned long rcodes[16];
	unsigned inflight;
};

/* Builds query i: ID i mod 65536, RD set (forwarding needs it). */
static size_t soak_build(struct soak_names *n, unsigned long i, uint8_t *buf,
                         struct soak_slot *slot)
{
	char label[24];
	bool fwd = n->o->fwd_every && n->fwd_len && i % n->o->fwd_every == 0;
	const uint8_t *zone = fwd ? n->fwd : n->zone;
	size_t zlen = fwd ? n->fwd_len : n->zone_len;
	int ll = snprintf(label, sizeof(label), "q%016llx",
	                  (unsigned long long)soak_perm(i, n->o->seed));
	struct wire_wr w;

	slot->qname[0] = (uint8_t)ll;
	memcpy(slot->qname + 1, label, (size_t)ll);
	memcpy(slot->qname + 1 + ll, zone, zlen);
	slot->qlen = 1 + (size_t)ll + zlen;
	wire_wr_init(&w, buf, 512);
	wire_wr_u16(&w, (uint16_t)(i % SOAK_IDS));
	wire_wr_u16(&w, WIRE_FLAG_RD);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, slot->qname, slot->qlen);
	wire_wr_u16(&w, DNS_TYPE_A);
	wire_wr_u16(&w, DNS_CLASS_IN);
	return w.err ? 0 : w.pos;
}

/* Reads every datagram waiting and matches it by ID and question. */
static void soak_receive(struct soak_names *n)
{
	uint8_t buf[65536];

	for (;;) {
		ssize_t r = recv(n->fd, buf, sizeof(buf), 0);
		struct soak_slot *s;
		uint16_t id;

		if (r < 0) {
			return; /* EAGAIN, or an error the timeouts will show */
		}
		if (r < WIRE_HEADER_LEN || !(buf[2] & 0x80)) {
			n->stray++;
			continue;
		}
		id = wire_get_u16(buf);
		s = &n->slots[id];
		if (!s->used || (size_t)r < WIRE_HEADER_LEN + s->qlen ||
		    !dname_equal(buf + WIRE_HEADER_LEN, s->qlen, s->qname,
		                 s->qlen)) {
			n->stray++;
			continue;
		}
		s->used = false;
		n->inflight--;
		n->answered++;
		n->rcodes[buf[3] & 0x0f]++;
	}
}

/* Expires queries older than the timeout; scanning every ID each time is
 * too slow, so the caller passes the window of IDs that may be old. */
static void soak_expire(struct soak_names *n, uint64_t now, unsigned long upto)
{
	unsigned long lo = upto > SOAK_IDS ? upto - SOAK_IDS : 0;
	unsigned long i;

	for (i = lo; i < upto; i++) {
		struct soak_slot *s = &n->slots[i % SOAK_IDS];

		if (s->used && now - s->sent_ms >= n->o->timeout_ms) {
			s->used = false;
			n->inflight--;
			n->timeouts++;
		}
	}
}

static int soak_names_run(const struct soak_opts *o)
{
	struct soak_names n;
	struct sockaddr_storage ss;
	socklen_t slen;
	uint64_t t0;
	uint64_t last_expire = 0;
	double secs;
	unsigned i;

	memset(&n, 0, sizeof(n));
	n.o = o;
	if (o->zone == NULL || o->count == 0 || o->rate == 0 ||
	    (uint64_t)o->rate * o->timeout_ms / 1000 >= SOAK_IDS / 2) {
		fprintf(stderr,
		        "%s names: need --zone, --count, --rate, and rate x timeout under 32768\n",
		        PROG);
		return 2;
	}
	if (soak_addr(o, &ss, &slen) != 0 ||
	    dname_from_text(o->zone, n.zone, sizeof(n.zone), &n.zone_len) !=
	            0 ||
	    (o->fwd_zone != NULL &&
	     dname_from_text(o->fwd_zone, n.fwd, sizeof(n.fwd), &n.fwd_len) !=
	             0)) {
		fprintf(stderr, "%s names: bad --server or zone\n", PROG);
		return 2;
	}
	n.slots = calloc(SOAK_IDS, sizeof(*n.slots));
	n.fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (n.slots == NULL || n.fd < 0 ||
	    connect(n.fd, (struct sockaddr *)&ss, slen) != 0) {
		perror(PROG ": socket");
		return 2;
	}
	{
		int sz = 4 * 1024 * 1024;

		setsockopt(n.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
	t0 = soak_now_ms();
	while (n.sent < o->count || n.inflight > 0) {
		uint64_t now = soak_now_ms();
		unsigned long due =
			(unsigned long)((now - t0) * o->rate / 1000);
		struct pollfd pfd = { .fd = n.fd, .events = POLLIN };

		if (due > o->count) {
			due = o->count;
		}
		for (i = 0; i < SOAK_BURST && n.sent < due; i++) {
			uint8_t q[512];
			struct soak_slot *s = &n.slots[n.sent % SOAK_IDS];
			size_t len;

			if (s->used) {
				break; /* its ID is still out: wait */
			}
			len = soak_build(&n, n.sent, q, s);
			if (send(n.fd, q, len, 0) != (ssize_t)len) {
				if (errno == EAGAIN || errno == ENOBUFS) {
					break;
				}
				n.send_errors++;
			} else {
				s->used = true;
				s->sent_ms = now;
				n.inflight++;
			}
			n.sent++;
		}
		poll(&pfd, 1, 1);
		soak_receive(&n);
		now = soak_now_ms();
		if (now - last_expire >= 100) {
			soak_expire(&n, now, n.sent);
			last_expire = now;
		}
		/* A hard stop: everything sent and twice the timeout gone. */
		if (n.sent >= o->count &&
		    now - t0 > (uint64_t)o->count * 1000 / o->rate +
		                       2ull * o->timeout_ms + 1000) {
			soak_expire(&n, now + o->timeout_ms, n.sent);
			break;
		}
	}
	secs = (double)(soak_now_ms() - t0) / 1000.0;
	printf("sent=%lu answered=%lu timeouts=%lu stray=%lu send_errors=%lu",
	       n.sent, n.answered, n.timeouts, n.stray, n.send_errors);
	for (i = 0; i < 16; i++) {
		if (n.rcodes[i] != 0) {
			printf(" rcode_%u=%lu", i, n.rcodes[i]);
		}
	}
	printf(" seconds=%.1f qps=%.0f\n", secs,
	       secs > 0 ? (double)n.sent / secs : 0.0);
	close(n.fd);
	free(n.slots);
	return n.timeouts == 0 && n.send_errors == 0 && n.answered == n.sent
	               ? 0
	               : 1;
}

/* ---- hold -------------------------------------------------------------- */

static int soak_hold_run(const struct soak_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	struct pollfd *pfd;
	unsigned opened = 0;
	unsigned refused = 0;
	unsigned closed = 0;
	unsigned i;
	uint64_t t0;
	struct rlimit rl;

	if (o->conns == 0 || o->conns > SOAK_HOLD_MAX ||
	    soak_addr(o, &ss, &slen)) {
		fprintf(stderr,
		        "%s hold: need --server, --port, --conns 1..%d\n", PROG,
		        SOAK_HOLD_MAX);
		return 2;
	}
	/* Our own descriptor limit must not be what fails. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o->conns + 16 &&
	    rl.rlim_max >= o->conns + 16) {
		rl.rlim_cur = o->conns + 16;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	pfd = calloc(o->conns, sizeof(*pfd));
	if (pfd == NULL) {
		return 2;
	}
	for (i = 0; i < o->conns; i++) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

		pfd[i].fd = -1;
		if (fd < 0) {
			perror(PROG ": socket");
			break;
		}
		if (connect(fd, (struct sockaddr *)&ss, slen) != 0 &&
		    errno != EINPROGRESS) {
			refused++;
			close(fd);
			continue;
		}
		pfd[i].fd = fd;
		pfd[i].events = POLLOUT;
	}
	/* Wait up to 1 s for the connects to finish. */
	t0 = soak_now_ms();
	while (soak_now_ms() - t0 < 1000) {
		unsigned pending = 0;

		if (poll(pfd, o->conns, 50) < 0) {
			break;
		}
		for (i = 0; i < o->conns; i++) {
			int err = 0;
			socklen_t el = sizeof(err);

			if (pfd[i].fd < 0 || pfd[i].events != POLLOUT) {
				continue;
			}
			if (pfd[i].revents == 0) {
				pending++;
				continue;
			}
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err != 0) {
				refused++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
				continue;
			}
			opened++;
			pfd[i].events = POLLIN; /* EOF or reset: the peer */
		}
		if (pending == 0) {
			break;
		}
	}
	/* Hold them, counting those the daemon closes. */
	t0 = soak_now_ms();
	while (soak_now_ms() - t0 < (uint64_t)o->seconds * 1000) {
		if (poll(pfd, o->conns, 100) <= 0) {
			continue;
		}
		for (i = 0; i < o->conns; i++) {
			char b[512];

			if (pfd[i].fd < 0 || pfd[i].events != POLLIN ||
			    pfd[i].revents == 0) {
				continue;
			}
			if (read(pfd[i].fd, b, sizeof(b)) <= 0) {
				closed++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
	}
	for (i = 0; i < o->conns; i++) {
		if (pfd[i].fd >= 0) {
			close(pfd[i].fd);
		}
	}
	free(pfd);
	printf("opened=%u refused=%u closed_by_peer=%u\n", opened, refused,
	       closed);
	return 0;
}

/* ---- command line ------------------------------------------------------ */

static int soak_num(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n > max) {
		return -EINVAL;
	}
	*out = n;
	return 0;
}

int main(int argc, char **argv)
{
	struct soak_opts o;
	int i;

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 2000;
	o.seed = (uint64_t)time(NULL);
	if (argc < 2) {
		goto usage;
	}
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i];
		const char *v = argv[i + 1];
		unsigned long n = 0;
		int err = 0;

		if (strcmp(k, "--server") == 0) {
			o.server = v;
		} else if (strcmp(k, "--zone") == 0) {
			o.zone = v;
		} else if (strcmp(k, "--fwd-zone") == 0) {
			o.fwd_zone = v;
		} else if ((err = soak_num(v, 100000000ul, &n)) != 0) {
			goto usage;
		} else if (strcmp(k, "--port") == 0 && n >= 1 && n <= 65535) {
			o.port = (unsigned)n;
		} else if (strcmp(k, "--count") == 0) {
			o.count = n;
		} else if (strcmp(k, "--rate") == 0) {
			o.rate = (unsigned)n;
		} else if (strcmp(k, "--fwd-every") == 0) {
			o.fwd_every = (unsigned)n;
		} else if (strcmp(k, "--timeout-ms") == 0 && n > 0) {
			o.timeout_ms = (unsigned)n;
		} else if (strcmp(k, "--conns") == 0) {
			o.conns = (unsigned)n;
		} else if (strcmp(k, "--seconds") == 0) {
			o.seconds = (unsigned)n;
		} else if (strcmp(k, "--seed") == 0) {
			o.seed = n;
		} else {
			goto usage;
		}
	}
	if (i != argc || o.server == NULL || o.port == 0) {
		goto usage;
	}
	if (strcmp(argv[1], "names") == 0) {
		return soak_names_run(&o);
	}
	if (strcmp(argv[1], "hold") == 0) {
		return soak_hold_run(&o);
	}
usage:
	fprintf(stderr,
	        "usage: %s names --server ADDR --port PORT --count N --rate QPS --zone ZONE\n"
	        "                  [--fwd-zone ZONE --fwd-every K] [--timeout-ms MS] [--seed S]\n"
	        "       %s hold --server ADDR --port PORT --conns N --seconds S\n",
	        PROG, PROG);
	return 2;
}
