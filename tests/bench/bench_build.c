/* Load and rebuild times, and memory, for a manifest directory:
 *
 *   bench_build DIR FILE [ROUNDS]
 *
 * 1. scans DIR (every file parsed) and builds a snapshot: the start-up cost;
 * 2. appends a comment to FILE, rescans (one file re-parsed) and
 *    rebuilds, ROUNDS times: the cost of a one-file change;
 * and prints the times (median, max), the snapshot's own size and the
 * process's RSS, one "key=value" line per measurement. Like the daemon,
 * each build writes into the memory of the snapshot before last
 * (snapshot_opts.recycle); BENCH_NO_RECYCLE=1 turns that off. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"

/* Where the dead snapshots wait for the next build (the daemon's is the
 * one it publishes through). */
static struct snapshot_slot bench_slot;

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long bench_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
		}
	}
	fclose(f);
	return kib;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Builds as the daemon's reloads do: from the directory's files, copying
 * what it can from prev (NULL: the first build). */
static struct snapshot *bench_build(struct manifest_set *set,
                                    const struct snapshot *prev)
{
	static const char *const zones[] = { "cluster.local" };
	const struct k8s_file *const *files = NULL;
	size_t n = manifest_set_files(set, &files);
	struct snapshot_opts o = { 0 };
	struct diag d;
	struct snapshot *s;

	o.zones = zones;
	o.n_zones = 1;
	o.ttl = 5;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.reuse = prev;
	o.recycle = getenv("BENCH_NO_RECYCLE") == NULL ? &bench_slot : NULL;
	diag_init(&d);
	s = snapshot_build(files, n, &o, 1, &d);
	diag_fini(&d);
	return s;
}

/* The master-file text of s (malloc), for comparing two builds. */
static char *bench_dump(const struct snapshot *s, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL) {
		return NULL;
	}
	if (snapshot_dump(s, f) != 0) {
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	return text;
}

/* BENCH_VERIFY=1: the copying build must serve exactly what a build from
 * scratch serves. Returns 0 when the dumps are equal. */
static int bench_verify(struct manifest_set *set, const struct snapshot *got)
{
	struct snapshot *full = bench_build(set, NULL);
	size_t la = 0;
	size_t lb = 0;
	char *a = full ? bench_dump(full, &la) : NULL;
	char *b = bench_dump(got, &lb);
	int rc = (a == NULL || b == NULL || la != lb || memcmp(a, b, la) != 0);

	fprintf(stderr, "bench_build: verify %s (%zu and %zu octets)\n",
	        rc ? "FAILED: the copying build differs" : "ok", la, lb);
	free(a);
	free(b);
	if (full != NULL) {
		snapshot_release(full);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct manifest_limits lim;
	struct manifest_set *set;
	struct manifest_scan_stats st;
	struct snapshot_stats ss;
	struct snapshot *snap;
	struct diag d;
	const char *victim;
	double t0;
	double scan_ms;
	double build_ms;
	double *scan = NULL;
	double *build = NULL;
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	int i;

	if (argc < 3 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: bench_build DIR FILE [ROUNDS]\n");
		return 2;
	}
	/* As the daemon does (main.c): large blocks from mmap, always. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TOP_PAD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	snapshot_slot_init(&bench_slot);
	manifest_limits_default(&lim);
	set = manifest_set_create(argv[1], &lim);
	scan = calloc((size_t)rounds, sizeof(*scan));
	build = calloc((size_t)rounds, sizeof(*build));
	if (set == NULL || scan == NULL || build == NULL) {
		return 1;
	}
	diag_init(&d);
	t0 = bench_now_ms();
	if (manifest_set_scan(set, false, &d, &st) != 0 || d.errors != 0) {
		diag_print(&d, stderr);
		return 1;
	}
	scan_ms = bench_now_ms() - t0;
	diag_fini(&d);
	t0 = bench_now_ms();
	snap = bench_build(set, NULL);
	build_ms = bench_now_ms() - t0;
	if (snap == NULL) {
		return 1;
	}
	malloc_trim(0); /* as the daemon does after each reload */
	snapshot_get_stats(snap, &ss);
	printf("bench_build: dir=%s files=%u services=%zu endpoints=%zu pods=%zu names=%zu\n",
	       argv[1], st.files, ss.services, ss.endpoints, ss.pods, ss.names);
	printf("bench_build: load_parse_ms=%.1f load_build_ms=%.1f load_total_ms=%.1f snapshot_bytes=%zu rss_kib=%ld\n",
	       scan_ms, build_ms, scan_ms + build_ms, ss.bytes,
	       bench_rss_kib());
	victim = argv[2];
	for (i = 0; i < rounds; i++) {
		FILE *f = fopen(victim, "a");
		struct snapshot *next;

		if (f == NULL) {
			perror(victim);
			return 1;
		}
		fprintf(f, "# bench_build round %d\n", i);
		fclose(f);
		diag_init(&d);
		t0 = bench_now_ms();
		if (manifest_set_scan(set, false, &d, &st) != 0 ||
		    st.loaded != 1) {
			fprintf(stderr, "bench_build: rescan loaded %u files\n",
			        st.loaded);
			return 1;
		}
		scan[i] = bench_now_ms() - t0;
		diag_fini(&d);
		t0 = bench_now_ms();
		next = bench_build(set, snap);
		build[i] = bench_now_ms() - t0;
		if (next == NULL) {
			return 1;
		}
		snapshot_get_stats(next, &ss);
		if (getenv("BENCH_VERIFY") != NULL &&
		    bench_verify(set, next) != 0) {
			return 1;
		}
		if (i == 0) {
			printf("bench_build: one_file namespaces_built=%zu namespaces_copied=%zu names=%zu\n",
			       ss.ns_built, ss.ns_reused, ss.names);
		}
		snapshot_release(snap);
		snap = next;
		malloc_trim(0);
	}
	qsort(scan, (size_t)rounds, sizeof(*scan), bench_cmp);
	qsort(build, (size_t)rounds, sizeof(*build), bench_cmp);
	printf("bench_build: one_file_rescan_ms_median=%.1f one_file_build_ms_median=%.1f one_file_total_ms_median=%.1f one_file_total_ms_max=%.1f rounds=%d rss_kib=%ld\n",
	       scan[rounds / 2], build[rounds / 2],
	       scan[rounds / 2] + build[rounds / 2],
	       scan[rounds - 1] + build[rounds - 1], rounds, bench_rss_kib());
	snapshot_release(snap);
	snapshot_slot_fini(&bench_slot);
	manifest_set_destroy(set);
	free(scan);
	free(build);
	return 0;
}
