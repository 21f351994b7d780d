/* The operations endpoint on the main loop: GET /health (200 while the
 * process runs), GET /ready (200 once the first snapshot is published, 503
 * before), GET /metrics (Prometheus text format 0.0.4). One request per
 * connection; malformed requests get 400, other paths 404, other methods
 * 405; a request must arrive within the timeout; connections are capped.
 * Main loop only. */
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
	unsigned max_conns;	     /* 0: 64 */
	unsigned timeout_ms;	     /* 0: 5000; whole request and response */
	http_metrics_fn metrics;
	http_ready_fn ready;
	void *arg;
};

struct http;

/* Binds and listens. Returns 0 and *out, or a negative errno (logged). */
SVCDNS_MUSTCHECK int http_create(struct uv_loop_s *loop,
				 const struct http_opts *opts,
				 struct http **out);

/* Closes the listener and every connection; frees itself once the loop
 * has run the closes. NULL is a no-op. */
void http_close(struct http *h);

#endif
