/* The operations endpoint on the main loop: GET /health (200 while the
 * process runs), GET /ready (200 once the first snapshot is published, 503
 * before), GET /metrics (Prometheus text format 0.0.4); HEAD as well. One
 * request per connection ("Connection: close"); a malformed request gets
 * 400, other paths 404, other methods 405, and the connection is closed.
 * As on the DNS TCP side: the request head must arrive within
 * read_timeout_ms, the response must be taken within write_timeout_ms, and
 * when max_conns connections are open the oldest one still waiting for its
 * request is closed to make room. Main loop only. */
#ifndef SVCDNS_HTTP_H
#define SVCDNS_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "svcdns/common.h"
#include "svcdns/metrics.h"

struct uv_loop_s;

/* Renders every metric into out. */
typedef void (*http_metrics_fn)(void *arg, struct metrics_buf *out);
/* True once the server can answer (the first snapshot is published). */
typedef bool (*http_ready_fn)(void *arg);

struct http_opts {
	const struct sockaddr *addr; /* borrowed during http_create */
	unsigned max_conns;          /* 0: 64 */
	unsigned read_timeout_ms;    /* 0: 2000; the whole request head */
	unsigned write_timeout_ms;   /* 0: 10000; the whole response */
	http_metrics_fn metrics;
	http_ready_fn ready;
	/* GET /health: 503 when it returns false (NULL: always 200). */
	http_ready_fn health;
	void *arg;
};

struct http;

/* Binds and listens (an IPv6 address only for IPv6). Returns 0 and *out,
 * or a negative errno (the caller logs it). */
SVCDNS_MUSTCHECK int http_create(struct uv_loop_s *loop,
                                 const struct http_opts *opts,
                                 struct http **out);

/* Closes the listener and every connection; frees itself once the loop
 * has run the closes. NULL is a no-op. */
void http_close(struct http *h);

#endif
