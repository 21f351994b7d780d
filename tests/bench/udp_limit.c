/* udp_limit: the loopback ceiling for `make bench` (adapted from the shared
 * peer kit's udp_limit.c). A single-threaded UDP responder on
 * 127.0.0.1:PORT that answers every well-formed query with a canned answer:
 * the query's ID and question copied, QR and AA set, RD echoed, N fixed A
 * records appended (name compressed to the question). No lookup, no EDNS,
 * no state: what it costs is getting a datagram in and out of the kernel,
 * the ceiling any responder on one core sits under.
 *
 *   udp_limit [-m mmsg|plain] [-b BATCH] [-a N] [-t SEC] [-r KB] PORT
 *
 *   -m mmsg   recvmmsg()/sendmmsg() batches of up to BATCH (default 64)
 *   -m plain  one recvfrom() and one sendto() per query
 *   -a N      answers per response, 1..8 (default 1)
 *   -t SEC    exit by itself after SEC seconds (default 300)
 *   -r KB     SO_RCVBUF/SO_SNDBUF request (default 4096; the kernel caps it)
 *
 * On SIGINT, SIGTERM or the -t alarm it prints its counters on stderr and
 * exits 0. It only binds 127.0.0.1 and only replies to the sender. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UL_MAXBATCH 256
#define UL_QBUF     512 /* longer queries are cut, then dropped */
#define UL_RBUF     (UL_QBUF + 8 * 16)

static volatile sig_atomic_t ul_stop;

static unsigned long long ul_in;
static unsigned long long ul_out;
static unsigned long long ul_drop;
static unsigned long long ul_rx_calls;
static unsigned long long ul_tx_calls;

static void ul_on_signal(int sig)
{
	(void)sig;
	ul_stop = 1;
}

/* Writes the answer to q (qlen octets) into r; returns its length, or 0 to
 * drop the query. Anything after the question (an OPT record) is ignored
 * and not echoed. */
static size_t ul_answer(const uint8_t *q, size_t qlen, uint8_t *r, int nans)
{
	static const uint8_t rr[16] = {
		0xC0, 0x0C,             /* name: the question's */
		0x00, 0x01, 0x00, 0x01, /* A, IN */
		0x00, 0x00, 0x00, 0x05, /* TTL 5 */
		0x00, 0x04,             /* RDLENGTH */
		10,   244,  0,    1     /* 10.244.0.N, data only */
	};
	size_t off = 12;

	if (qlen < 12 + 5 || (q[2] & 0x80) != 0 || q[4] != 0 || q[5] != 1) {
		return 0;
	}
	while (off < qlen && q[off] != 0) {
		if ((q[off] & 0xC0) != 0) {
			return 0;
		}
		off += (size_t)q[off] + 1;
	}
	off += 1 + 4; /* the root label, QTYPE, QCLASS */
	if (off > qlen) {
		return 0;
	}
	memcpy(r, q, off);
	r[2] = (uint8_t)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
	r[3] = 0;
	r[6] = 0;
	r[7] = (uint8_t)nans;
	memset(r + 8, 0, 4); /* NSCOUNT, ARCOUNT */
	for (int i = 0; i < nans; i++) {
		memcpy(r + off, rr, sizeof(rr));
		r[off + 15] = (uint8_t)(1 + i);
		off += sizeof(rr);
	}
	return off;
}

static double ul_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ul_run_plain(int fd, int nans)
{
	uint8_t q[UL_QBUF];
	uint8_t r[UL_RBUF];
	struct sockaddr_in from;

	while (!ul_stop) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0,
		                     (struct sockaddr *)&from, &fl);
		size_t rl;

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("udp_limit: recvfrom");
			return 1;
		}
		ul_rx_calls++;
		ul_in++;
		rl = ul_answer(q, (size_t)n, r, nans);
		if (rl == 0) {
			ul_drop++;
			continue;
		}
		ul_tx_calls++;
		if (sendto(fd, r, rl, 0, (struct sockaddr *)&from, fl) ==
		    (ssize_t)rl) {
			ul_out++;
		} else {
			ul_drop++;
		}
	}
	return 0;
}

static int ul_run_mmsg(int fd, int nans, int batch)
{
	static uint8_t qb[UL_MAXBATCH][UL_QBUF];
	static uint8_t rb[UL_MAXBATCH][UL_RBUF];
	static struct sockaddr_in addr[UL_MAXBATCH];
	static struct iovec qiov[UL_MAXBATCH];
	static struct iovec riov[UL_MAXBATCH];
	static struct mmsghdr qm[UL_MAXBATCH];
	static struct mmsghdr rm[UL_MAXBATCH];

	for (int i = 0; i < batch; i++) {
		qiov[i].iov_base = qb[i];
		qiov[i].iov_len = UL_QBUF;
		qm[i].msg_hdr.msg_iov = &qiov[i];
		qm[i].msg_hdr.msg_iovlen = 1;
	}
	while (!ul_stop) {
		int n;
		int k = 0;
		int sent = 0;

		for (int i = 0; i < batch; i++) {
			qm[i].msg_hdr.msg_name = &addr[i];
			qm[i].msg_hdr.msg_namelen = sizeof(addr[i]);
		}
		/* Block for the first datagram, then take what is queued. */
		n = recvmmsg(fd, qm, (unsigned)batch, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("udp_limit: recvmmsg");
			return 1;
		}
		ul_rx_calls++;
		ul_in += (unsigned)n;
		for (int i = 0; i < n; i++) {
			size_t rl =
				ul_answer(qb[i], qm[i].msg_len, rb[k], nans);

			if (rl == 0) {
				ul_drop++;
				continue;
			}
			riov[k].iov_base = rb[k];
			riov[k].iov_len = rl;
			memset(&rm[k].msg_hdr, 0, sizeof(rm[k].msg_hdr));
			rm[k].msg_hdr.msg_iov = &riov[k];
			rm[k].msg_hdr.msg_iovlen = 1;
			rm[k].msg_hdr.msg_name = &addr[i];
			rm[k].msg_hdr.msg_namelen = qm[i].msg_hdr.msg_namelen;
			k++;
		}
		while (sent < k) {
			int s = sendmmsg(fd, rm + sent, (unsigned)(k - sent),
			                 0);

			ul_tx_calls++;
			if (s < 0) {
				if (errno == EINTR && !ul_stop) {
					continue;
				}
				ul_drop += (unsigned)(k - sent);
				break;
			}
			sent += s;
			ul_out += (unsigned)s;
		}
	}
	return 0;
}

static void ul_usage(void)
{
	fprintf(stderr,
	        "usage: udp_limit [-m mmsg|plain] [-b BATCH<=256] [-a N<=8] [-t SEC] [-r KB] PORT\n");
}

int main(int argc, char **argv)
{
	const char *mode = "mmsg";
	int batch = 64;
	int nans = 1;
	int secs = 300;
	int bufkb = 4096;
	int c;
	int fd;
	int port;
	int sz;
	int rc;
	double t0;
	struct sockaddr_in sa;
	struct sigaction act;

	while ((c = getopt(argc, argv, "m:b:a:t:r:")) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'b':
			batch = atoi(optarg);
			break;
		case 'a':
			nans = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'r':
			bufkb = atoi(optarg);
			break;
		default:
			ul_usage();
			return 2;
		}
	}
	port = optind == argc - 1 ? atoi(argv[optind]) : 0;
	if (port < 1 || port > 65535 || batch < 1 || batch > UL_MAXBATCH ||
	    nans < 1 || nans > 8 || secs < 1 || bufkb < 1 ||
	    (strcmp(mode, "mmsg") != 0 && strcmp(mode, "plain") != 0)) {
		ul_usage();
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp_limit: socket");
		return 1;
	}
	sz = bufkb * 1024;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp_limit: bind");
		return 1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = ul_on_signal; /* no SA_RESTART: calls get EINTR */
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGALRM, &act, NULL);
	alarm((unsigned)secs);
	fprintf(stderr, "udp_limit: 127.0.0.1:%d mode=%s batch=%d answers=%d\n",
	        port, mode, strcmp(mode, "mmsg") == 0 ? batch : 1, nans);
	t0 = ul_now();
	rc = strcmp(mode, "mmsg") == 0 ? ul_run_mmsg(fd, nans, batch)
	                               : ul_run_plain(fd, nans);
	fprintf(stderr,
	        "udp_limit: %.1fs in=%llu out=%llu drop=%llu rx_calls=%llu tx_calls=%llu avg_rx_batch=%.2f\n",
	        ul_now() - t0, ul_in, ul_out, ul_drop, ul_rx_calls, ul_tx_calls,
	        ul_rx_calls != 0 ? (double)ul_in / (double)ul_rx_calls : 0.0);
	close(fd);
	return rc;
}
