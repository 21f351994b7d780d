/* The /metrics text: every family, from the sources of ops.h. Counters
 * are summed per worker by server_get_stats at scrape time, so a scrape
 * costs the workers nothing. */
#include "svcdns/ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* c-ares 1.18's ares.h needs fd_set from <sys/select.h> first (STYLE.md
 * 3.9). */
#include <sys/select.h>
/* clang-format off */
#include <ares.h>
/* clang-format on */
#include <uv.h>
#include <yaml.h>

#include "svcdns/kube.h"
#include "svcdns/qlog.h"

#define OPS_LABELS_MAX 512

/* A counter or gauge without labels: HELP, TYPE and the sample. */
static void ops_one(struct metrics_buf *b, const char *name, const char *type,
                    const char *help, uint64_t v)
{
	metrics_family(b, name, type, help);
	metrics_u64(b, name, NULL, v);
}

/* A family with one label key and several values. */
struct ops_labelled {
	const char *value;
	uint64_t n;
};

static void ops_by(struct metrics_buf *b, const char *name, const char *type,
                   const char *help, const char *key,
                   const struct ops_labelled *v, size_t n)
{
	char l[OPS_LABELS_MAX];
	size_t i;

	metrics_family(b, name, type, help);
	for (i = 0; i < n; i++) {
		metrics_u64(b, name,
		            metrics_label(l, sizeof(l), false, key, v[i].value),
		            v[i].n);
	}
}

static void ops_process(struct metrics_buf *b, const struct ops_sources *src)
{
	char l[OPS_LABELS_MAX];
	struct rusage ru;
	long pages = 0;
	long rss = 0;
	FILE *f;

	metrics_family(b, "svcdns_build_info", "gauge",
	               "The svcdns version and the versions of its libraries.");
	metrics_label(l, sizeof(l), false, "version", SVCDNS_VERSION);
	metrics_label(l, sizeof(l), true, "libuv", uv_version_string());
	metrics_label(l, sizeof(l), true, "cares", ares_version(NULL));
	metrics_label(l, sizeof(l), true, "libyaml", yaml_get_version_string());
	metrics_u64(b, "svcdns_build_info", l, 1);
	ops_one(b, "svcdns_ready", "gauge",
	        "1 once the first snapshot is published (GET /ready).",
	        src->ready ? 1 : 0);
	ops_one(b, "process_start_time_seconds", "gauge",
	        "Start time of the process since the Unix epoch in seconds.",
	        src->start_unix);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		metrics_family(
			b, "process_cpu_seconds_total", "counter",
			"Total user and system CPU time spent in seconds.");
		metrics_f64(b, "process_cpu_seconds_total", NULL,
		            (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		                    (double)(ru.ru_utime.tv_usec +
		                             ru.ru_stime.tv_usec) /
		                            1e6);
	}
	f = fopen("/proc/self/statm", "r");
	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2) {
			ops_one(b, "process_resident_memory_bytes", "gauge",
			        "Resident memory size in bytes.",
			        (uint64_t)rss *
			                (uint64_t)sysconf(_SC_PAGESIZE));
		}
		fclose(f);
	}
}

/* A histogram bound in seconds without trailing zeros ("0.00025"). */
static void ops_le(char *out, size_t cap, unsigned bound_us)
{
	size_t n;

	if (bound_us == 0) {
		snprintf(out, cap, "+Inf");
		return;
	}
	snprintf(out, cap, "%u.%06u", bound_us / 1000000u, bound_us % 1000000u);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0') {
		out[--n] = '\0';
	}
	if (n > 0 && out[n - 1] == '.') {
		out[--n] = '\0';
	}
}

/* Requests by type and family, and the duration histogram (CoreDNS's
 * coredns_dns_request_duration_seconds; family "1" IPv4, "2" IPv6 as in
 * its coredns_dns_requests_total). */
static void ops_dns_detail(struct metrics_buf *b, const struct server_stats *st)
{
	const struct ops_labelled fam[] = {
		{ "1", st->family[0] },
		{ "2", st->family[1] },
	};
	char l[OPS_LABELS_MAX];
	char le[32];
	uint64_t cum = 0;
	unsigned i;

	metrics_family(b, "svcdns_dns_requests_by_type_total", "counter",
	               "DNS requests received, by query type.");
	for (i = 0; i < SERVER_QTYPE_COUNT; i++) {
		metrics_u64(b, "svcdns_dns_requests_by_type_total",
		            metrics_label(l, sizeof(l), false, "type",
		                          server_qtype_name(i)),
		            st->qtype[i]);
	}
	ops_by(b, "svcdns_dns_requests_by_family_total", "counter",
	       "DNS requests received, by address family (1 IPv4, 2 IPv6).",
	       "family", fam, SVCDNS_ARRAY_SIZE(fam));
	metrics_family(
		b, "svcdns_dns_request_duration_seconds", "histogram",
		"Time from receiving a request to handing its response to the kernel (UDP: per receive batch).");
	for (i = 0; i < SERVER_HIST_BUCKETS; i++) {
		cum += st->hist[i];
		ops_le(le, sizeof(le), server_hist_bound_us(i));
		metrics_u64(b, "svcdns_dns_request_duration_seconds_bucket",
		            metrics_label(l, sizeof(l), false, "le", le), cum);
	}
	metrics_f64(b, "svcdns_dns_request_duration_seconds_sum", NULL,
	            (double)st->hist_sum_us / 1e6);
	metrics_u64(b, "svcdns_dns_request_duration_seconds_count", NULL, cum);
}

/* Requests, responses by rcode and the per-worker extras. */
static void ops_dns(struct metrics_buf *b, const struct server_stats *st)
{
	static const unsigned always[] = { 0, 1, 2, 3, 4, 5 };
	const uint64_t *v = st->v;
	char l[OPS_LABELS_MAX];
	char name[16];
	unsigned r;

	{
		const struct ops_labelled req[] = {
			{ "udp", v[SERVER_STAT_UDP_QUERIES] },
			{ "tcp", v[SERVER_STAT_TCP_QUERIES] },
		};

		ops_by(b, "svcdns_dns_requests_total", "counter",
		       "DNS requests received, by transport.", "proto", req,
		       SVCDNS_ARRAY_SIZE(req));
	}
	ops_dns_detail(b, st);
	metrics_family(b, "svcdns_dns_responses_total", "counter",
	               "DNS responses sent, by rcode.");
	for (r = 0; r <= SERVER_RCODE_OTHER; r++) {
		uint64_t n = v[SERVER_STAT_RCODE + r];
		const char *rn = qlog_rcode_name(r);

		/* The usual rcodes are always there (a series that
		 * appears late breaks rate()); the rest when seen. */
		if (n == 0 && (r >= SVCDNS_ARRAY_SIZE(always))) {
			continue;
		}
		if (r == SERVER_RCODE_OTHER) {
			snprintf(name, sizeof(name), "OTHER");
		} else if (rn != NULL) {
			snprintf(name, sizeof(name), "%s", rn);
		} else {
			snprintf(name, sizeof(name), "RCODE%u", r);
		}
		metrics_u64(b, "svcdns_dns_responses_total",
		            metrics_label(l, sizeof(l), false, "rcode", name),
		            n);
	}
	ops_one(b, "svcdns_dns_responses_truncated_total", "counter",
	        "UDP responses sent with TC=1.", v[SERVER_STAT_TRUNCATED]);
	{
		const struct ops_labelled drop[] = {
			{ "malformed", v[SERVER_STAT_DROPPED] },
			{ "source_port_0", v[SERVER_STAT_BAD_SOURCE] },
		};

		ops_by(b, "svcdns_dns_dropped_total", "counter",
		       "Requests left unanswered, by reason.", "reason", drop,
		       SVCDNS_ARRAY_SIZE(drop));
	}
	ops_one(b, "svcdns_dns_recursion_refused_total", "counter",
	        "Names outside the zones refused to clients outside --allow-recursion.",
	        v[SERVER_STAT_RECURSION_REFUSED]);
	ops_one(b, "svcdns_dns_udp_send_queued_total", "counter",
	        "UDP responses that waited for the socket in the send pool.",
	        v[SERVER_STAT_UDP_QUEUED]);
	ops_one(b, "svcdns_dns_udp_send_lost_total", "counter",
	        "UDP responses not sent (send pool empty or a send error).",
	        v[SERVER_STAT_UDP_SEND_LOST]);
	ops_one(b, "svcdns_dns_udp_direct_batches_total", "counter",
	        "UDP batches read by a worker sleeping in its socket (direct mode).",
	        v[SERVER_STAT_UDP_DIRECT_BATCHES]);
	ops_one(b, "svcdns_snapshot_switches_total", "counter",
	        "Times a worker moved to a newer snapshot.",
	        v[SERVER_STAT_SNAPSHOT_SWITCHES]);
	/* Response rate limiting (rrl.c, UDP answers to non-loopback
	 * clients). */
	ops_one(b, "svcdns_rrl_dropped_total", "counter",
	        "Responses dropped by response rate limiting.",
	        v[SERVER_STAT_RRL_DROPPED]);
	ops_one(b, "svcdns_rrl_slipped_total", "counter",
	        "Rate-limited responses sent truncated (TC=1) instead.",
	        v[SERVER_STAT_RRL_SLIPPED]);
	ops_one(b, "svcdns_rrl_limited_total", "counter",
	        "Responses over the rate (log-only ones included).",
	        st->rrl.limited);
	ops_one(b, "svcdns_rrl_log_only_total", "counter",
	        "Responses over the rate sent anyway (--rrl-log-only).",
	        st->rrl.log_only);
	ops_one(b, "svcdns_rrl_evictions_total", "counter",
	        "Rate-limit slots taken over by another source.",
	        st->rrl.evictions);
	{
		unsigned k;

		metrics_family(b, "svcdns_rrl_limited_by_class_total",
		               "counter",
		               "Responses over the rate, by response class.");
		for (k = 0; k < RRL_CLASS_COUNT; k++) {
			char cl[64];

			metrics_label(cl, sizeof(cl), false, "class",
			              rrl_class_name(k));
			metrics_u64(b, "svcdns_rrl_limited_by_class_total", cl,
			            st->rrl.classes[k]);
		}
	}
}

static void ops_tcp(struct metrics_buf *b, const struct server_stats *st)
{
	const uint64_t *v = st->v;
	const struct ops_labelled closed[] = {
		{ "idle_timeout", v[SERVER_STAT_TCP_IDLE_TIMEOUTS] },
		{ "io_timeout", v[SERVER_STAT_TCP_IO_TIMEOUTS] },
		{ "evicted", v[SERVER_STAT_TCP_EVICTED] },
		{ "bad_frame", v[SERVER_STAT_TCP_BAD_FRAMES] },
	};

	ops_one(b, "svcdns_dns_tcp_connections", "gauge",
	        "DNS TCP connections open now.", v[SERVER_STAT_TCP_ACTIVE]);
	ops_one(b, "svcdns_dns_tcp_connections_total", "counter",
	        "DNS TCP connections accepted.", v[SERVER_STAT_TCP_ACCEPTED]);
	ops_by(b, "svcdns_dns_tcp_closed_total", "counter",
	       "DNS TCP connections closed by svcdns, by reason.", "reason",
	       closed, SVCDNS_ARRAY_SIZE(closed));
	ops_one(b, "svcdns_dns_tcp_read_paused_total", "counter",
	        "Times reading a TCP connection paused on its write backlog.",
	        v[SERVER_STAT_TCP_PAUSED]);
}

/* Forwarding and its cache. */
static void ops_forward(struct metrics_buf *b, const struct server_stats *st)
{
	const uint64_t *f = st->fwd;
	const struct ops_labelled errors[] = {
		{ "timeout", f[FORWARD_STAT_TIMEOUTS] },
		{ "error", f[FORWARD_STAT_ERRORS] },
		{ "inflight_cap", f[FORWARD_STAT_FULL] },
		{ "bad_answer", f[FORWARD_STAT_BAD_ANSWERS] },
		{ "no_upstream", st->v[SERVER_STAT_FORWARD_FAIL] },
	};
	const struct ops_labelled spoof[] = {
		{ "address", f[FORWARD_STAT_SPOOF_ADDR] },
		{ "id", f[FORWARD_STAT_SPOOF_ID] },
		{ "question", f[FORWARD_STAT_SPOOF_QUESTION] },
		{ "short", f[FORWARD_STAT_EMPTY] },
	};

	ops_one(b, "svcdns_forward_queries_total", "counter",
	        "Queries for names outside the zones (cache hits included).",
	        f[FORWARD_STAT_QUERIES]);
	ops_one(b, "svcdns_forward_requests_total", "counter",
	        "Queries sent to the upstream resolvers.",
	        f[FORWARD_STAT_SENT]);
	ops_one(b, "svcdns_forward_responses_total", "counter",
	        "Upstream answers relayed to clients.",
	        f[FORWARD_STAT_ANSWERS]);
	ops_by(b, "svcdns_forward_errors_total", "counter",
	       "Forwarded queries answered SERVFAIL, by reason.", "reason",
	       errors, SVCDNS_ARRAY_SIZE(errors));
	ops_one(b, "svcdns_forward_late_responses_total", "counter",
	        "Upstream answers that came after the deadline (cached only).",
	        f[FORWARD_STAT_LATE]);
	ops_by(b, "svcdns_forward_spoofed_total", "counter",
	       "Upstream datagrams dropped by the spoofing checks, by reason.",
	       "reason", spoof, SVCDNS_ARRAY_SIZE(spoof));
	ops_one(b, "svcdns_forward_scrubbed_records_total", "counter",
	        "Out-of-bailiwick records dropped from upstream answers.",
	        f[FORWARD_STAT_SCRUBBED]);
	ops_one(b, "svcdns_forward_inflight", "gauge",
	        "Forwarded queries waiting for an upstream now.",
	        f[FORWARD_STAT_INFLIGHT]);
	ops_one(b, "svcdns_cache_hits_total", "counter",
	        "Forwarded names answered from the cache.",
	        f[FORWARD_STAT_CACHE_HITS]);
	ops_one(b, "svcdns_cache_misses_total", "counter",
	        "Forwarded names not in the cache.",
	        f[FORWARD_STAT_CACHE_MISSES]);
	ops_one(b, "svcdns_cache_entries", "gauge",
	        "Answers in the cache, all workers together.",
	        f[FORWARD_STAT_CACHE_ENTRIES]);
	ops_one(b, "svcdns_cache_inserts_total", "counter",
	        "Answers stored in the cache.", f[FORWARD_STAT_CACHE_INSERTS]);
	ops_one(b, "svcdns_cache_evictions_total", "counter",
	        "Answers evicted from a full cache.",
	        f[FORWARD_STAT_CACHE_EVICTIONS]);
}

static void ops_server(struct metrics_buf *b, const struct server *srv)
{
	struct server_stats st;

	server_get_stats(srv, &st);
	ops_one(b, "svcdns_workers", "gauge", "Worker threads.",
	        server_threads(srv));
	ops_dns(b, &st);
	ops_tcp(b, &st);
	ops_forward(b, &st);
}

/* The reloads and the objects they loaded. */
static void ops_watch(struct metrics_buf *b, const struct watch *w)
{
	struct watch_stats ws;

	watch_get_stats(w, &ws);
	{
		const struct ops_labelled kinds[] = {
			{ "Namespace", ws.kinds[WATCH_KIND_NAMESPACE] },
			{ "Service", ws.kinds[WATCH_KIND_SERVICE] },
			{ "EndpointSlice", ws.kinds[WATCH_KIND_ENDPOINTSLICE] },
			{ "Endpoints", ws.kinds[WATCH_KIND_ENDPOINTS] },
			{ "Pod", ws.kinds[WATCH_KIND_POD] },
			{ "other", ws.kinds[WATCH_KIND_OTHER] },
		};

		ops_by(b, "svcdns_objects", "gauge",
		       "Objects in the published snapshot, by kind (Endpoints: subsets; other: skipped kinds).",
		       "kind", kinds, SVCDNS_ARRAY_SIZE(kinds));
	}
	ops_one(b, "svcdns_manifest_files", "gauge",
	        "Manifest files in the published snapshot.", ws.files);
	ops_one(b, "svcdns_manifest_files_failed", "gauge",
	        "Manifest files whose last load failed (their last good objects are served).",
	        ws.failed_files);
	ops_one(b, "svcdns_reloads_total", "counter",
	        "Snapshots published (the first one included).", ws.reloads);
	ops_one(b, "svcdns_reload_failures_total", "counter",
	        "Manifest file loads that failed, summed over the reloads.",
	        ws.reload_failures);
	ops_one(b, "svcdns_last_reload_timestamp_seconds", "gauge",
	        "When the last snapshot was published, since the Unix epoch.",
	        ws.last_reload_unix);
	ops_one(b, "svcdns_watch_scans_total", "counter",
	        "Scans of the manifest directory.", ws.scans);
	ops_one(b, "svcdns_watch_early_builds_total", "counter",
	        "Snapshots published from a build started before the settle time was over.",
	        ws.early_builds);
	ops_one(b, "svcdns_watch_early_builds_dropped_total", "counter",
	        "Builds started before the settle time was over and dropped because the directory changed again.",
	        ws.early_dropped);
	ops_one(b, "svcdns_watch_directory_missing", "gauge",
	        "1 while the manifest directory is unreadable or empty (the last good data is served).",
	        ws.dir_missing ? 1 : 0);
	ops_one(b, "svcdns_bluegreen_held_total", "counter",
	        "Reloads in which the readiness guard held a cutover.",
	        ws.held);
}

/* --kubernetes: the API watch. */
static void ops_kube(struct metrics_buf *b, const struct kube *k)
{
	struct kube_stats ks;

	kube_get_stats(k, &ks);
	ops_one(b, "svcdns_kube_synced", "gauge",
	        "1 once every watched resource has been listed (the first full sync).",
	        ks.synced ? 1 : 0);
	ops_one(b, "svcdns_kube_resources", "gauge", "API resources watched.",
	        ks.resources);
	ops_one(b, "svcdns_kube_watches_connected", "gauge",
	        "Resources whose watch stream is open now.", ks.connected);
	ops_one(b, "svcdns_kube_events_total", "counter",
	        "Watch events applied (ADDED, MODIFIED, DELETED).", ks.events);
	ops_one(b, "svcdns_kube_bookmarks_total", "counter",
	        "BOOKMARK events received.", ks.bookmarks);
	ops_one(b, "svcdns_kube_list_pages_total", "counter",
	        "LIST pages fetched.", ks.lists);
	ops_one(b, "svcdns_kube_watch_silences_total", "counter",
	        "Watches dropped and resumed after receiving nothing for 90 s.",
	        ks.silent);
	ops_one(b, "svcdns_kube_relists_total", "counter",
	        "LISTs after the first (410 Gone, broken streams).",
	        ks.relists);
	ops_one(b, "svcdns_kube_errors_total", "counter",
	        "Failed API transfers and refused objects.", ks.errors);
	ops_one(b, "svcdns_kube_objects", "gauge",
	        "Objects held from the API server.", ks.objects);
	ops_one(b, "svcdns_kube_store_bytes", "gauge",
	        "Memory of the API object store.", ks.store_bytes);
}

/* namespace="ns",service="name" into l. */
static char *ops_svc_labels(char *l, size_t cap, const char *ns,
                            const char *name)
{
	metrics_label(l, cap, false, "namespace", ns);
	return metrics_label(l, cap, true, "service", name);
}

static void ops_cutovers(struct metrics_buf *b, const struct watch *w)
{
	const struct watch_cutover *c;
	char l[OPS_LABELS_MAX];
	size_t n = watch_cutovers(w, &c);
	size_t i;

	metrics_family(b, "svcdns_bluegreen_cutovers_total", "counter",
	               "Blue/green cutovers served, by service.");
	for (i = 0; i < n; i++) {
		metrics_u64(b, "svcdns_bluegreen_cutovers_total",
		            ops_svc_labels(l, sizeof(l), c[i].ns, c[i].name),
		            c[i].count);
	}
}

/* The snapshot being served and its blue/green services. */
static void ops_snapshot(struct metrics_buf *b, struct snapshot_slot *slot)
{
	const struct snapshot_bluegreen *bg;
	struct snapshot_stats ss;
	char l[OPS_LABELS_MAX];
	struct snapshot *s = snapshot_slot_acquire(slot);
	size_t n;
	size_t i;

	ops_one(b, "svcdns_snapshot_generation", "gauge",
	        "Generation of the published snapshot (1 for the first).",
	        snapshot_slot_generation(slot));
	if (s == NULL) {
		return;
	}
	snapshot_get_stats(s, &ss);
	ops_one(b, "svcdns_snapshot_serial", "gauge",
	        "SOA serial of the published snapshot.", snapshot_serial(s));
	metrics_family(b, "svcdns_snapshot_build_seconds", "gauge",
	               "Time taken to build the published snapshot.");
	metrics_f64(b, "svcdns_snapshot_build_seconds", NULL,
	            (double)ss.build_us / 1e6);
	ops_one(b, "svcdns_snapshot_bytes", "gauge",
	        "Memory held by the published snapshot.", ss.bytes);
	ops_one(b, "svcdns_snapshot_garbage_bytes", "gauge",
	        "Part of svcdns_snapshot_bytes that only replaced snapshots used (reclaimed when a rebuild would leave over an eighth).",
	        ss.garbage);
	ops_one(b, "svcdns_snapshot_names", "gauge",
	        "Owner names in the published snapshot.", ss.names);
	ops_one(b, "svcdns_snapshot_spare_bytes", "gauge",
	        "Memory of replaced snapshots and rebuild scratch kept for the next rebuild.",
	        snapshot_slot_spare_bytes(slot));
	n = snapshot_bluegreen(s, &bg);
	metrics_family(b, "svcdns_bluegreen_active", "gauge",
	               "1 for the color each blue/green service serves now.");
	for (i = 0; i < n; i++) {
		if (bg[i].served == NULL) {
			continue;
		}
		ops_svc_labels(l, sizeof(l), bg[i].ns, bg[i].name);
		metrics_u64(b, "svcdns_bluegreen_active",
		            metrics_label(l, sizeof(l), true, "color",
		                          bg[i].served),
		            1);
	}
	metrics_family(
		b, "svcdns_bluegreen_held", "gauge",
		"1 while the readiness guard holds a blue/green service on its previous color.");
	for (i = 0; i < n; i++) {
		metrics_u64(b, "svcdns_bluegreen_held",
		            ops_svc_labels(l, sizeof(l), bg[i].ns, bg[i].name),
		            bg[i].held ? 1 : 0);
	}
	metrics_family(
		b, "svcdns_bluegreen_ready_endpoints", "gauge",
		"Ready endpoints of the color each blue/green service serves.");
	for (i = 0; i < n; i++) {
		metrics_u64(b, "svcdns_bluegreen_ready_endpoints",
		            ops_svc_labels(l, sizeof(l), bg[i].ns, bg[i].name),
		            bg[i].ready_served);
	}
	snapshot_release(s);
}

void ops_render_metrics(const struct ops_sources *src, struct metrics_buf *out)
{
	ops_process(out, src);
	if (src->srv != NULL) {
		ops_server(out, src->srv);
	}
	ops_snapshot(out, src->slot);
	if (src->watch != NULL) {
		ops_watch(out, src->watch);
		ops_cutovers(out, src->watch);
		if (watch_kube(src->watch) != NULL) {
			ops_kube(out, watch_kube(src->watch));
		}
	}
}
