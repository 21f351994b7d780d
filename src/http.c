/* A deliberately small HTTP/1.x server for /health, /ready and /metrics:
 * the request head is read whole (at most HTTP_HEAD_MAX octets), answered,
 * and the connection closed. It only serves operators and probes, never
 * DNS clients. */
#include "svcdns/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "svcdns/log.h"

#define HTTP_HEAD_MAX	  8192
#define HTTP_DEF_CONNS	  64
#define HTTP_DEF_TIMEOUT  5000

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct http *h;
	struct http_conn *next;
	struct http_conn *prev;
	char head[HTTP_HEAD_MAX];
	size_t len;
	struct metrics_buf out; /* the response */
	int closing;		/* handles still to close */
	bool answered;
};

struct http {
	uv_tcp_t listener;
	uv_loop_t *loop;
	struct http_opts opts;
	struct http_conn *conns;
	unsigned n_conns;
	bool closing;
	int open_handles; /* listener + connections' handles */
};

static void http_maybe_free(struct http *h)
{
	if (h->closing && h->open_handles == 0) {
		free(h);
	}
}

static void http_conn_closed(uv_handle_t *hd)
{
	struct http_conn *c = hd->data;
	struct http *h = c->h;

	h->open_handles--;
	if (--c->closing == 0) {
		metrics_buf_fini(&c->out);
		free(c);
	}
	http_maybe_free(h);
}

static void http_conn_close(struct http_conn *c)
{
	struct http *h = c->h;

	if (c->closing != 0) {
		return;
	}
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		h->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	h->n_conns--;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->tcp, http_conn_closed);
	uv_close((uv_handle_t *)&c->timer, http_conn_closed);
}

static void http_written(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;

	(void)status;
	http_conn_close(c);
}

static void http_reply(struct http_conn *c, int code, const char *reason,
		       const char *ctype, const char *body, size_t blen,
		       bool head_only, const char *extra)
{
	struct metrics_buf *o = &c->out;
	uv_buf_t buf;

	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	metrics_printf(o,
		       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		       code, reason, ctype, blen, extra ? extra : "");
	if (!head_only && blen != 0) {
		metrics_printf(o, "%.*s", (int)blen, body);
	}
	if (o->oom) {
		http_conn_close(c);
		return;
	}
	buf = uv_buf_init(o->p, (unsigned)o->len);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &buf, 1,
		     http_written) != 0) {
		http_conn_close(c);
	}
}

/* Parses "METHOD SP PATH SP HTTP/1.x" and answers. */
static void http_handle(struct http_conn *c)
{
	struct http *h = c->h;
	char method[16];
	char path[256];
	char version[16];
	char *q;
	bool head_only;
	static const char text[] = "text/plain; charset=utf-8";

	if (sscanf(c->head, "%15s %255s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || path[0] != '/') {
		http_reply(c, 400, "Bad Request", text, "bad request\n", 12,
			   false, NULL);
		return;
	}
	head_only = strcmp(method, "HEAD") == 0;
	if (!head_only && strcmp(method, "GET") != 0) {
		http_reply(c, 405, "Method Not Allowed", text,
			   "method not allowed\n", 19, false,
			   "Allow: GET, HEAD\r\n");
		return;
	}
	q = strchr(path, '?');
	if (q != NULL) {
		*q = '\0';
	}
	if (strcmp(path, "/health") == 0) {
		http_reply(c, 200, "OK", text, "OK\n", 3, head_only, NULL);
	} else if (strcmp(path, "/ready") == 0) {
		if (h->opts.ready == NULL || h->opts.ready(h->opts.arg)) {
			http_reply(c, 200, "OK", text, "OK\n", 3, head_only,
				   NULL);
		} else {
			http_reply(c, 503, "Service Unavailable", text,
				   "not ready\n", 10, head_only, NULL);
		}
	} else if (strcmp(path, "/metrics") == 0 && h->opts.metrics != NULL) {
		struct metrics_buf body;

		metrics_buf_init(&body);
		h->opts.metrics(h->opts.arg, &body);
		if (body.oom) {
			http_reply(c, 500, "Internal Server Error", text,
				   "out of memory\n", 14, head_only, NULL);
		} else {
			http_reply(c, 200, "OK",
				   "text/plain; version=0.0.4; charset=utf-8",
				   body.p ? body.p : "", body.len, head_only,
				   NULL);
		}
		metrics_buf_fini(&body);
	} else {
		http_reply(c, 404, "Not Found", text, "not found\n", 10,
			   head_only, NULL);
	}
}

static void http_alloc(uv_handle_t *hd, size_t size, uv_buf_t *buf)
{
	struct http_conn *c = hd->data;

	(void)size;
	*buf = uv_buf_init(c->head + c->len,
			   (unsigned)(sizeof(c->head) - 1 - c->len));
}

static void http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct http_conn *c = s->data;

	(void)buf;
	if (n < 0) {
		http_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->head[c->len] = '\0';
	if (strstr(c->head, "\r\n\r\n") != NULL ||
	    strstr(c->head, "\n\n") != NULL) {
		http_handle(c);
	} else if (c->len >= sizeof(c->head) - 1 ||
		   memchr(c->head, '\0', c->len) != NULL) {
		/* A head that never ends, or binary junk. */
		http_reply(c, 400, "Bad Request", "text/plain", "bad request\n",
			   12, false, NULL);
	}
}

static void http_timeout(uv_timer_t *t)
{
	http_conn_close(t->data);
}

static void http_accept(uv_stream_t *srv, int status)
{
	struct http *h = srv->data;
	struct http_conn *c;

	if (status < 0) {
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return;
	}
	c->h = h;
	uv_tcp_init(h->loop, &c->tcp);
	uv_timer_init(h->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	h->open_handles += 2;
	c->next = h->conns;
	if (h->conns != NULL) {
		h->conns->prev = c;
	}
	h->conns = c;
	h->n_conns++;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0 ||
	    h->n_conns > h->opts.max_conns) {
		/* Over the cap: the newest waits for nobody. */
		http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, http_timeout, h->opts.timeout_ms, 0);
	if (uv_read_start((uv_stream_t *)&c->tcp, http_alloc, http_read) != 0) {
		http_conn_close(c);
	}
}

static void http_listener_closed(uv_handle_t *hd)
{
	struct http *h = hd->data;

	h->open_handles--;
	http_maybe_free(h);
}

int http_create(uv_loop_t *loop, const struct http_opts *opts,
		struct http **out)
{
	struct http *h = calloc(1, sizeof(*h));
	int err;

	*out = NULL;
	if (h == NULL) {
		return -ENOMEM;
	}
	h->loop = loop;
	h->opts = *opts;
	h->opts.addr = NULL;
	if (h->opts.max_conns == 0) {
		h->opts.max_conns = HTTP_DEF_CONNS;
	}
	if (h->opts.timeout_ms == 0) {
		h->opts.timeout_ms = HTTP_DEF_TIMEOUT;
	}
	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	h->open_handles = 1;
	err = uv_tcp_bind(&h->listener, opts->addr, 0);
	if (err == 0) {
		err = uv_listen((uv_stream_t *)&h->listener, 64, http_accept);
	}
	if (err != 0) {
		h->closing = true;
		uv_close((uv_handle_t *)&h->listener, http_listener_closed);
		return err;
	}
	*out = h;
	return 0;
}

void http_close(struct http *h)
{
	if (h == NULL || h->closing) {
		return;
	}
	h->closing = true;
	while (h->conns != NULL) {
		http_conn_close(h->conns);
	}
	uv_close((uv_handle_t *)&h->listener, http_listener_closed);
}
