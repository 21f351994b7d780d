/* A deliberately small HTTP/1.x server for /health, /ready and /metrics:
 * the request head is read whole (at most HTTP_HEAD_MAX octets), answered,
 * and the connection closed after a half-close. It only serves operators
 * and probes, never DNS clients. See http.h. */
#include "svcdns/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "svcdns/log.h"

#define HTTP_HEAD_MAX     8192
#define HTTP_DEF_CONNS    64
#define HTTP_DEF_READ_MS  2000
#define HTTP_DEF_WRITE_MS 10000
#define HTTP_METHOD_MAX   16
#define HTTP_TARGET_MAX   1024

static const char http_text[] = "text/plain; charset=utf-8";

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	uv_shutdown_t sreq;
	struct http *h;
	struct http_conn *next; /* newer */
	struct http_conn *prev; /* older */
	char head[HTTP_HEAD_MAX];
	size_t len;
	struct metrics_buf out;  /* the status line, headers, short bodies */
	struct metrics_buf body; /* /metrics: the exposition text */
	int closing;             /* handles still to close */
	bool answered;
};

struct http {
	uv_tcp_t listener;
	uv_loop_t *loop;
	struct http_opts opts;
	struct http_conn *oldest; /* connections, oldest first */
	struct http_conn *newest;
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
		metrics_buf_fini(&c->body);
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
		h->oldest = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	} else {
		h->newest = c->prev;
	}
	h->n_conns--;
	c->closing = 2;
	uv_close((uv_handle_t *)&c->tcp, http_conn_closed);
	uv_close((uv_handle_t *)&c->timer, http_conn_closed);
}

static void http_timeout(uv_timer_t *t)
{
	http_conn_close(t->data);
}

static void http_drain_alloc(uv_handle_t *hd, size_t size, uv_buf_t *buf)
{
	struct http_conn *c = hd->data;

	(void)size;
	*buf = uv_buf_init(c->head, (unsigned)sizeof(c->head));
}

static void http_drain(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0) {
		http_conn_close(s->data);
	}
}

/* Half-closed: read and drop what the client still sends until it closes
 * (bounded by the write timeout). Closing with octets unread would send a
 * RST, and a RST can destroy the response before the client reads it. */
static void http_shut(uv_shutdown_t *req, int status)
{
	struct http_conn *c = req->data;

	if (status != 0 || c->closing != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, http_drain_alloc,
	                  http_drain) != 0) {
		http_conn_close(c);
	}
}

/* The response is out: half-close, so that the client sees its end. */
static void http_written(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;

	if (status != 0 || c->closing != 0) {
		http_conn_close(c);
		return;
	}
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, http_shut) != 0) {
		http_conn_close(c);
	}
}

/* Sends the status line, the headers and, unless head_only, the body:
 * body[0..blen) is copied, or with body NULL c->body is sent. The
 * connection closes once the response is out or the write timeout fires. */
static void http_reply(struct http_conn *c, int code, const char *reason,
                       const char *ctype, const char *body, size_t blen,
                       bool head_only, const char *extra)
{
	struct metrics_buf *o = &c->out;
	uv_buf_t bufs[2];
	unsigned n = 1;

	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	metrics_printf(
		o,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n%s\r\n",
		code, reason, ctype, blen, extra ? extra : "");
	if (!head_only && body != NULL) {
		metrics_printf(o, "%.*s", (int)blen, body);
	}
	if (o->oom) {
		http_conn_close(c);
		return;
	}
	bufs[0] = uv_buf_init(o->p, (unsigned)o->len);
	if (!head_only && body == NULL && blen != 0) {
		bufs[1] = uv_buf_init(c->body.p, (unsigned)blen);
		n = 2;
	}
	uv_timer_start(&c->timer, http_timeout, c->h->opts.write_timeout_ms, 0);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, http_written) !=
	    0) {
		http_conn_close(c);
	}
}

static void http_bad_request(struct http_conn *c)
{
	http_reply(c, 400, "Bad Request", http_text, "bad request\n", 12, false,
	           NULL);
}

/* Splits the request line "METHOD SP TARGET SP HTTP/1.x" (RFC 9112 3)
 * into method and path (the target without its query). Returns 0, or
 * -EBADMSG for anything else: extra spaces, control octets, an
 * absolute-form target, another protocol version. */
static int http_request_line(const char *head, char *method, char *path)
{
	const char *end = strpbrk(head, "\r\n");
	const char *sp1 = strchr(head, ' ');
	const char *sp2;
	const char *p;
	size_t mlen;
	size_t tlen;

	if (end == NULL || sp1 == NULL || sp1 > end) {
		return -EBADMSG;
	}
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	mlen = (size_t)(sp1 - head);
	if (sp2 == NULL || mlen == 0 || mlen >= HTTP_METHOD_MAX) {
		return -EBADMSG;
	}
	tlen = (size_t)(sp2 - sp1 - 1);
	if (tlen == 0 || tlen >= HTTP_TARGET_MAX || sp1[1] != '/' ||
	    end - sp2 - 1 != 8 ||
	    (strncmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
	     strncmp(sp2 + 1, "HTTP/1.0", 8) != 0)) {
		return -EBADMSG;
	}
	for (p = head; p < sp1; p++) {
		if (*p < 'A' || *p > 'Z') {
			return -EBADMSG;
		}
	}
	for (p = sp1 + 1; p < sp2; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			return -EBADMSG;
		}
	}
	memcpy(method, head, mlen);
	method[mlen] = '\0';
	memcpy(path, sp1 + 1, tlen);
	path[tlen] = '\0';
	path[strcspn(path, "?#")] = '\0';
	return 0;
}

static void http_metrics(struct http_conn *c, bool head_only)
{
	struct http *h = c->h;

	h->opts.metrics(h->opts.arg, &c->body);
	if (c->body.oom) {
		http_reply(c, 500, "Internal Server Error", http_text,
		           "out of memory\n", 14, head_only, NULL);
		return;
	}
	http_reply(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	           NULL, c->body.len, head_only, NULL);
}

/* Answers a complete request head. */
static void http_handle(struct http_conn *c)
{
	struct http *h = c->h;
	char method[HTTP_METHOD_MAX];
	char path[HTTP_TARGET_MAX];
	bool head_only;

	if (http_request_line(c->head, method, path) != 0) {
		http_bad_request(c);
		return;
	}
	head_only = strcmp(method, "HEAD") == 0;
	if (!head_only && strcmp(method, "GET") != 0) {
		http_reply(c, 405, "Method Not Allowed", http_text,
		           "method not allowed\n", 19, false,
		           "Allow: GET, HEAD\r\n");
	} else if (strcmp(path, "/health") == 0) {
		if (h->opts.health == NULL || h->opts.health(h->opts.arg)) {
			http_reply(c, 200, "OK", http_text, "OK\n", 3,
			           head_only, NULL);
		} else {
			http_reply(c, 503, "Service Unavailable", http_text,
			           "a worker is stalled\n", 20, head_only,
			           NULL);
		}
	} else if (strcmp(path, "/ready") == 0) {
		if (h->opts.ready == NULL || h->opts.ready(h->opts.arg)) {
			http_reply(c, 200, "OK", http_text, "OK\n", 3,
			           head_only, NULL);
		} else {
			http_reply(c, 503, "Service Unavailable", http_text,
			           "not ready\n", 10, head_only, NULL);
		}
	} else if (strcmp(path, "/metrics") == 0 && h->opts.metrics != NULL) {
		http_metrics(c, head_only);
	} else {
		http_reply(c, 404, "Not Found", http_text, "not found\n", 10,
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
	if (c->answered) {
		return;
	}
	if (n < 0) {
		/* EOF before a whole head, or an error: nobody to answer. */
		http_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->head[c->len] = '\0';
	if (memchr(c->head, '\0', c->len) != NULL) {
		http_bad_request(c); /* binary junk */
	} else if (strstr(c->head, "\r\n\r\n") != NULL ||
	           strstr(c->head, "\n\n") != NULL) {
		http_handle(c);
	} else if (c->len >= sizeof(c->head) - 1) {
		http_bad_request(c); /* a head that never ends */
	}
}

/* At the cap, the oldest connection still waiting for its request makes
 * room (the DNS TCP side's rule): a client that opens connections and
 * sends nothing cannot lock probes out. Returns false if every connection
 * but the newcomer is being answered. */
static bool http_evict(struct http *h, const struct http_conn *newcomer)
{
	struct http_conn *c;

	for (c = h->oldest; c != NULL && c != newcomer; c = c->next) {
		if (!c->answered && c->closing == 0) {
			log_debug(
				"http: connection limit=%u reached, closing the oldest idle one",
				h->opts.max_conns);
			http_conn_close(c);
			return true;
		}
	}
	return false;
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
	c->prev = h->newest;
	if (h->newest != NULL) {
		h->newest->next = c;
	} else {
		h->oldest = c;
	}
	h->newest = c;
	h->n_conns++;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) {
		http_conn_close(c);
		return;
	}
	if (h->n_conns > h->opts.max_conns && !http_evict(h, c)) {
		http_conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, http_timeout, h->opts.read_timeout_ms, 0);
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
	unsigned flags =
		opts->addr->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
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
	if (h->opts.read_timeout_ms == 0) {
		h->opts.read_timeout_ms = HTTP_DEF_READ_MS;
	}
	if (h->opts.write_timeout_ms == 0) {
		h->opts.write_timeout_ms = HTTP_DEF_WRITE_MS;
	}
	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	h->open_handles = 1;
	err = uv_tcp_bind(&h->listener, opts->addr, flags);
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
	while (h->oldest != NULL) {
		http_conn_close(h->oldest);
	}
	uv_close((uv_handle_t *)&h->listener, http_listener_closed);
}
