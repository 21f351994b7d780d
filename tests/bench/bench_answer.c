/* In-process answer speed: loads a manifest directory, builds the
 * snapshot, turns a dnsperf query file ("name TYPE" lines) into wire
 * queries and answers them in a loop with answer_query, without sockets:
 *
 *   bench_answer DIR QUERIES [SECONDS]
 *
 * Prints queries answered, ns per query and queries/s on one core, the
 * DNS work alone (the kernel's datagram path is what the peer benchmark
 * adds on top). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svcdns/answer.h"
#include "svcdns/dname.h"
#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"
#include "svcdns/wire.h"

#define BENCH_MAX_QUERIES 200000

struct bench_q {
	uint8_t msg[300];
	size_t len;
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t bench_type(const char *t)
{
	static const struct {
		const char *name;
		uint16_t type;
	} types[] = { { "A", DNS_TYPE_A },     { "AAAA", DNS_TYPE_AAAA },
		      { "SRV", DNS_TYPE_SRV }, { "PTR", DNS_TYPE_PTR },
		      { "TXT", DNS_TYPE_TXT }, { "SOA", DNS_TYPE_SOA } };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(t, types[i].name) == 0) {
			return types[i].type;
		}
	}
	return DNS_TYPE_A;
}

/* A query as dnsperf sends it: RD set, no EDNS. */
static int bench_make(struct bench_q *q, const char *name, const char *type,
                      uint16_t id)
{
	size_t nl;

	memset(q->msg, 0, WIRE_HEADER_LEN);
	wire_put_u16(q->msg, id);
	wire_put_u16(q->msg + 2, WIRE_FLAG_RD);
	wire_put_u16(q->msg + 4, 1);
	if (dname_from_text(name, q->msg + WIRE_HEADER_LEN,
	                    sizeof(q->msg) - WIRE_HEADER_LEN - 4, &nl) != 0) {
		return -1;
	}
	wire_put_u16(q->msg + WIRE_HEADER_LEN + nl, bench_type(type));
	wire_put_u16(q->msg + WIRE_HEADER_LEN + nl + 2, DNS_CLASS_IN);
	q->len = WIRE_HEADER_LEN + nl + 4;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const zones[] = { "cluster.local" };
	static uint8_t resp[WIRE_MSG_MAX];
	struct manifest_limits lim;
	struct manifest_scan_stats st;
	struct snapshot_opts o = { 0 };
	struct answer_opts ao = { 0 };
	struct answer_state ast = { 0 };
	struct manifest_set *set;
	const struct k8s_file *const *files = NULL;
	struct snapshot *snap;
	struct bench_q *qs;
	struct diag d;
	size_t n = 0;
	size_t nf;
	double secs = argc > 3 ? atof(argv[3]) : 2.0;
	double t0;
	double el;
	unsigned long long done = 0;
	char line[512];
	FILE *f;

	if (argc < 3 || secs <= 0 || secs > 60) {
		fprintf(stderr, "usage: bench_answer DIR QUERIES [SECONDS]\n");
		return 2;
	}
	manifest_limits_default(&lim);
	set = manifest_set_create(argv[1], &lim);
	diag_init(&d);
	if (set == NULL || manifest_set_scan(set, false, &d, &st) != 0) {
		return 1;
	}
	nf = manifest_set_files(set, &files);
	o.zones = zones;
	o.n_zones = 1;
	o.ttl = 5;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	snap = snapshot_build(files, nf, &o, 1, &d);
	diag_fini(&d);
	f = fopen(argv[2], "r");
	qs = calloc(BENCH_MAX_QUERIES, sizeof(*qs));
	if (snap == NULL || f == NULL || qs == NULL) {
		return 1;
	}
	while (n < BENCH_MAX_QUERIES && fgets(line, sizeof(line), f) != NULL) {
		char name[300];
		char type[16];

		if (sscanf(line, "%299s %15s", name, type) == 2 &&
		    bench_make(&qs[n], name, type, (uint16_t)n) == 0) {
			n++;
		}
	}
	fclose(f);
	if (n == 0) {
		return 1;
	}
	ao.max_udp = WIRE_EDNS_ADVERTISE;
	t0 = bench_now();
	do {
		size_t i;

		for (i = 0; i < n; i++) {
			struct answer_info info;
			size_t rlen;

			answer_query(snap, &ao, &ast, qs[i].msg, qs[i].len,
			             false, resp, sizeof(resp), &rlen, &info);
		}
		done += n;
		el = bench_now() - t0;
	} while (el < secs);
	printf("bench_answer: queries=%llu ns_per_query=%.1f qps_one_core=%.0f distinct=%zu\n",
	       done, el * 1e9 / (double)done, (double)done / el, n);
	snapshot_release(snap);
	manifest_set_destroy(set);
	free(qs);
	return 0;
}
