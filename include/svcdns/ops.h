/* What the operations endpoint shows: the Prometheus metrics, assembled at
 * scrape time from the workers' counters (server.h), the reloads (watch.h)
 * and the current snapshot (the blue/green services and their colors).
 * Names follow CoreDNS's where they map (svcdns_dns_requests_total,
 * svcdns_dns_responses_total{rcode}, svcdns_dns_request_duration_seconds,
 * svcdns_forward_requests_total, svcdns_cache_hits_total, ...). IO layer;
 * main loop only. */
#ifndef SVCDNS_OPS_H
#define SVCDNS_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "svcdns/metrics.h"
#include "svcdns/server.h"
#include "svcdns/snapshot.h"
#include "svcdns/watch.h"

struct ops_sources {
	const struct server *srv; /* borrowed; NULL: no worker yet */
	/* borrowed; NULL while the first load runs on the thread pool,
	 * which writes the watch's statistics meanwhile */
	const struct watch *watch;
	struct snapshot_slot *slot; /* borrowed */
	bool ready;                 /* the first snapshot is published */
	uint64_t start_unix;        /* process start, seconds */
};

/* Appends every metric family to out (text format 0.0.4). Families whose
 * source is missing (no workers, the watch busy) are left out, never
 * shown as zero. Main loop only. */
void ops_render_metrics(const struct ops_sources *src, struct metrics_buf *out);

#endif
