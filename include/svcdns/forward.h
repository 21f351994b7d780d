/* Forwarding names outside the zones to the upstream resolvers: one
 * c-ares channel per worker, driven by the worker's libuv loop (uv_poll on
 * each socket c-ares opens, a uv_timer for its timeouts), with a fresh
 * random query ID and 0x20-randomised name per forward, a hard deadline
 * (SERVFAIL, never silence), a cap on forwards in flight, and the answer
 * cache of cache.h in front.
 *
 * Every datagram an upstream socket receives is checked before c-ares
 * sees it: from the server's own address and port, an ID in flight, the
 * question exactly as sent (RFC 5452 9.1). Anything else is dropped and
 * counted. IO layer: worker loop only, except forward_get_stats. */
#ifndef SVCDNS_FORWARD_H
#define SVCDNS_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "svcdns/common.h"
#include "svcdns/config.h"

/* Counters of one worker's forwarder (FORWARD_STAT_*). */
enum forward_stat {
	FORWARD_STAT_QUERIES, /* forward_submit calls */
	FORWARD_STAT_CACHE_HITS,
	FORWARD_STAT_CACHE_MISSES,
	FORWARD_STAT_CACHE_INSERTS,
	FORWARD_STAT_CACHE_EVICTIONS,
	FORWARD_STAT_CACHE_ENTRIES,  /* a gauge */
	FORWARD_STAT_SENT,           /* queries handed to c-ares */
	FORWARD_STAT_ANSWERS,        /* upstream answers relayed */
	FORWARD_STAT_LATE,           /* answers after the deadline (cached) */
	FORWARD_STAT_TIMEOUTS,       /* SERVFAIL at the deadline */
	FORWARD_STAT_ERRORS,         /* c-ares gave up: SERVFAIL */
	FORWARD_STAT_FULL,           /* over the in-flight cap: SERVFAIL */
	FORWARD_STAT_BAD_ANSWERS,    /* malformed or unusable: SERVFAIL */
	FORWARD_STAT_SPOOF_ADDR,     /* datagram from another address/port */
	FORWARD_STAT_SPOOF_ID,       /* ID not in flight */
	FORWARD_STAT_SPOOF_QUESTION, /* question not as sent (0x20) */
	FORWARD_STAT_EMPTY,          /* 0-byte or short datagrams */
	FORWARD_STAT_SCRUBBED,       /* out-of-bailiwick records dropped */
	FORWARD_STAT_INFLIGHT,       /* a gauge */
	FORWARD_STAT_COUNT,
};

/* "forward_queries", "cache_hits", ... */
const char *forward_stat_name(enum forward_stat i);

/* Where a response goes. The forwarder copies it and hands it back;
 * only the server reads it. */
struct forward_client {
	void *ctx;                    /* borrowed: a listener or a connection */
	struct sockaddr_storage addr; /* UDP: the client */
	bool tcp;
};

/* Called exactly once per forward_submit, maybe before forward_submit
 * returns (a cache hit, the cap, an immediate c-ares failure). resp is
 * the response (len octets, valid during the call only) with its rcode
 * and whether it was truncated; resp NULL means send nothing (the
 * forwarder is closing). Worker loop. */
typedef void (*forward_reply_fn)(void *arg, const struct forward_client *cl,
                                 const uint8_t *resp, size_t len,
                                 unsigned rcode, bool truncated);

struct forward;
/* uv_loop_t; headers stay free of <uv.h> (make lint). */
struct uv_loop_s;

/* Creates the forwarder of one worker on loop: the c-ares channel with
 * up->servers, timeouts that end within up->timeout_ms, the socket
 * functions that filter what upstreams send, the timers and the cache
 * (up->cache_size entries, none if 0). max_udp caps UDP responses. cb(arg,
 * ...) gets the responses. up is borrowed and must outlive the forwarder.
 * Returns NULL (after logging) on failure. Worker loop (or before it runs).
 * ares_library_init must have run. */
struct forward *forward_create(struct uv_loop_s *loop,
                               const struct config_upstream *up, size_t max_udp,
                               forward_reply_fn cb, void *arg);

/* Forwards the query req[0..len) (a valid query: answer_query said
 * FORWARD or CHASE) for client cl. For an ExternalName chase, prefix
 * (prefix_len octets) is the response so far and target/target_len the
 * out-of-zone name (wire form) to look up with the query's type; the
 * client gets the prefix's CNAMEs and the upstream's answer. Otherwise
 * prefix is NULL. The reply comes through the callback, exactly once.
 * Worker loop. */
void forward_submit(struct forward *f, const struct forward_client *cl,
                    const uint8_t *req, size_t len, const uint8_t *prefix,
                    size_t prefix_len, const uint8_t *target,
                    size_t target_len);

/* Destroys the channel (pending forwards are completed with resp NULL)
 * and closes the handles. The loop must then run until they are closed,
 * before forward_destroy. Idempotent. Worker loop. */
void forward_close(struct forward *f);

/* Frees f after forward_close and the loop run. NULL is a no-op. */
void forward_destroy(struct forward *f);

/* Adds f's counters to out[FORWARD_STAT_COUNT]. Any thread (relaxed
 * loads: close to an instant, not one). */
void forward_get_stats(const struct forward *f, uint64_t *out);

#endif
