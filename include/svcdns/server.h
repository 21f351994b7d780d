/* The serving side: N worker threads, each with its own libuv loop, its own
 * UDP and TCP socket per listen address (SO_REUSEPORT, so the kernel spreads
 * the traffic), its own buffers, counters and snapshot reference. Queries
 * are answered by answer_query() from the snapshot the worker holds; the
 * worker moves to a newer snapshot between batches, never inside one.
 * Threads talk only through uv_async_send and the snapshot slot. */
#ifndef SVCDNS_SERVER_H
#define SVCDNS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "svcdns/answer.h"
#include "svcdns/common.h"
#include "svcdns/config.h"
#include "svcdns/forward.h"
#include "svcdns/rrl.h"
#include "svcdns/snapshot.h"

/* Counters, per worker (written only by the worker's thread) and summed by
 * server_get_stats. Indexes into struct server_stats.v. */
enum server_stat {
	SERVER_STAT_UDP_QUERIES,   /* datagrams handed to answer_query */
	SERVER_STAT_TCP_QUERIES,   /* TCP messages handed to answer_query */
	SERVER_STAT_RESPONSES,     /* responses sent or queued */
	SERVER_STAT_TRUNCATED,     /* of which TC=1 */
	SERVER_STAT_DROPPED,       /* answer_query said DROP (R-DROP) */
	SERVER_STAT_BAD_SOURCE,    /* UDP from source port 0: ignored */
	SERVER_STAT_UDP_QUEUED,    /* replies that waited in the send pool */
	SERVER_STAT_UDP_SEND_LOST, /* pool empty or send error: not sent */
	SERVER_STAT_FORWARD_FAIL,  /* ANSWER_FORWARD without upstream */
	SERVER_STAT_FORWARDED,     /* handed to forward_submit */
	SERVER_STAT_RECURSION_REFUSED, /* out of zone, client not allowed */
	SERVER_STAT_TCP_ACCEPTED,
	SERVER_STAT_TCP_ACTIVE,  /* a gauge: connections open now */
	SERVER_STAT_TCP_EVICTED, /* closed to make room at the cap */
	SERVER_STAT_TCP_IDLE_TIMEOUTS,
	SERVER_STAT_TCP_IO_TIMEOUTS,
	SERVER_STAT_TCP_BAD_FRAMES, /* zero-length frame: closed */
	SERVER_STAT_TCP_PAUSED,     /* reads stopped on write backlog */
	SERVER_STAT_SNAPSHOT_SWITCHES,
	SERVER_STAT_RRL_SLIPPED, /* rate limited: sent truncated (TC=1) */
	SERVER_STAT_RRL_DROPPED, /* rate limited: not sent */
	SERVER_STAT_UDP_DIRECT_BATCHES, /* recvmmsg batches in direct mode */
	/* Responses by RCODE: SERVER_STAT_RCODE + rcode for rcode 0..16
	 * (16 = BADVERS); anything larger counts at SERVER_STAT_RCODE + 17. */
	SERVER_STAT_RCODE,
	SERVER_STAT_COUNT = SERVER_STAT_RCODE + 18,
};

#define SERVER_RCODE_OTHER 17

/* Requests by query type (the types cluster DNS serves, then the rest). */
enum server_qtype {
	SERVER_QTYPE_A,
	SERVER_QTYPE_AAAA,
	SERVER_QTYPE_SRV,
	SERVER_QTYPE_PTR,
	SERVER_QTYPE_TXT,
	SERVER_QTYPE_CNAME,
	SERVER_QTYPE_NS,
	SERVER_QTYPE_SOA,
	SERVER_QTYPE_ANY,
	SERVER_QTYPE_OTHER,
	SERVER_QTYPE_COUNT,
};

/* The request-duration histogram: time from receiving a query to handing
 * its answer to the kernel (for UDP, per receive batch: the batch's
 * queries all count the batch's time). Buckets by upper bound in
 * microseconds (server_hist_bound_us); the last one is +Inf. */
#define SERVER_HIST_BUCKETS 12

struct server_stats {
	uint64_t v[SERVER_STAT_COUNT];
	uint64_t fwd[FORWARD_STAT_COUNT]; /* the workers' forwarders */
	uint64_t qtype[SERVER_QTYPE_COUNT];
	uint64_t family[2];                 /* requests over IPv4, IPv6 */
	uint64_t hist[SERVER_HIST_BUCKETS]; /* per bucket, not cumulative */
	uint64_t hist_sum_us;               /* total of the durations */
	struct rrl_stats rrl;               /* the workers' rate limiters */
};

/* "A", "AAAA", ..., "other". */
const char *server_qtype_name(enum server_qtype q);

/* Upper bound of histogram bucket i in microseconds; 0 for the last
 * (+Inf) bucket. */
unsigned server_hist_bound_us(unsigned i);

/* The metric name of a counter ("udp_queries", ..., "rcode_0".."rcode_16",
 * "rcode_other"). */
const char *server_stat_name(enum server_stat i);

struct server;

/* Creates the workers: for each of cfg->threads workers and each listen
 * address it opens a UDP and a TCP socket with SO_REUSEPORT, binds them and
 * starts listening, so that a busy port is an error here, before any thread
 * runs. Before that it probes every address with a socket that does not set
 * SO_REUSEPORT, because a second svcdns (same user) would otherwise share
 * the port silently. Each worker takes a reference to the current snapshot
 * of slot.
 *
 * With up->forward and servers configured, each worker also gets a
 * forwarder (forward.h); clients in up->allow may recurse (RA set, names
 * outside the zones forwarded), others get REFUSED for them.
 *
 * cfg, aopts, up and slot are borrowed and must outlive the server. Returns 0
 * and *out, or a negative errno (-EADDRINUSE, -EACCES, -ENOMEM, ...) after
 * logging which address failed and why. Main thread only. */
SVCDNS_MUSTCHECK int server_create(const struct config_server *cfg,
                                   const struct answer_opts *aopts,
                                   const struct config_upstream *up,
                                   struct snapshot_slot *slot,
                                   struct server **out);

/* Starts one thread per worker. Returns 0 or a negative errno (then the
 * threads already started are stopped again). Main thread only, once. */
SVCDNS_MUSTCHECK int server_start(struct server *s);

/* Asks every worker to stop (uv_async_send), then joins the threads. Each
 * worker stops reading, closes its handles and connections, runs its loop
 * until they are closed and closes the loop. Idempotent; a no-op if the
 * server never started. Main thread only. */
void server_stop(struct server *s);

/* Stops the server if needed, closes whatever server_create opened and
 * frees everything, releasing the workers' snapshots. NULL is a no-op. */
void server_destroy(struct server *s);

/* Sums the workers' counters (and their forwarders') into st. Any thread; while
 * workers run, each counter is read with a relaxed atomic load, so the sum is
 * not one instant, only close to it. */
void server_get_stats(const struct server *s, struct server_stats *st);

/* Each worker stamps its liveness every SERVER_BEAT_MS from its own loop.
 * Returns the id of a worker whose stamp is older than max_ms (a loop
 * stuck in a callback), with the age in *age_ms, or -1 when every worker
 * is live (or the workers are not running). Main loop. */
#define SERVER_BEAT_MS 1000
int server_stalled(struct server *s, uint64_t max_ms, uint64_t *age_ms);

/* Number of workers. */
unsigned server_threads(const struct server *s);

#endif
