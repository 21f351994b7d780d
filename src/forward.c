/* Forwarding to the upstream resolvers through c-ares 1.18 on a worker's
 * libuv loop. See forward.h.
 *
 * c-ares 1.18 facts this file depends on (read in its 1.18.1 source):
 * - ares_send() keeps the query ID it is given, and may run the callback
 *   before it returns (no servers, a socket that cannot be opened); so
 *   every piece of state is in place before the call.
 * - ares_destroy() completes each pending query with ARES_EDESTRUCTION.
 * - It keeps one UDP socket per server while any query is pending, so the
 *   source port alone is weak: we add 0x20 and check every datagram
 *   (forward_recvfrom) before c-ares reads it.
 * - With ARES_FLAG_EDNS an answer of FORMERR without OPT makes c-ares strip
 *   the last 11 octets of the query and clear the flag for the channel: our
 *   queries therefore always end with an 11-octet OPT.
 * - With socket functions set, c-ares configures nothing on its sockets:
 *   non-blocking, close-on-exec and TCP_NODELAY are ours to set. */
#include "svcdns/forward.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

/* c-ares 1.18's ares.h uses fd_set but includes only <sys/types.h>, which
 * does not define it under -D_POSIX_C_SOURCE=200809L: <sys/select.h>
 * must come first. */
#include <sys/select.h>
/* clang-format off */
#include <ares.h>
/* clang-format on */

#include "svcdns/cache.h"
#include "svcdns/dname.h"
#include "svcdns/log.h"
#include "svcdns/wire.h"

/* Tries per server: c-ares waits timeout, then 2 x timeout, ... per round
 * over the servers; 2 tries with timeout = 90% of the budget / (3 x
 * servers) ends within the budget (RELIABILITY.md 1.2: 500 ms x 2 tries =
 * 1.5 s). Our own deadline, at 95% of it, answers SERVFAIL whatever c-ares
 * is still doing, so the client hears within the budget. */
#define FWD_TRIES      2
#define FWD_MIN_TRY_MS 50
/* The client's question as kept: header + name + type + class. */
#define FWD_CREQ_MAX (WIRE_HEADER_LEN + DNAME_MAXLEN + 4)
/* Datagrams checked per read callback before yielding to the loop. */
#define FWD_RECV_BATCH 64
#define FWD_RANDOM_BUF 4096

static const char *const forward_stat_names[FORWARD_STAT_COUNT] = {
	[FORWARD_STAT_QUERIES] = "forward_queries",
	[FORWARD_STAT_CACHE_HITS] = "cache_hits",
	[FORWARD_STAT_CACHE_MISSES] = "cache_misses",
	[FORWARD_STAT_CACHE_INSERTS] = "cache_inserts",
	[FORWARD_STAT_CACHE_EVICTIONS] = "cache_evictions",
	[FORWARD_STAT_CACHE_ENTRIES] = "cache_entries",
	[FORWARD_STAT_SENT] = "forward_sent",
	[FORWARD_STAT_ANSWERS] = "forward_answers",
	[FORWARD_STAT_LATE] = "forward_late",
	[FORWARD_STAT_TIMEOUTS] = "forward_timeouts",
	[FORWARD_STAT_ERRORS] = "forward_errors",
	[FORWARD_STAT_FULL] = "forward_full",
	[FORWARD_STAT_BAD_ANSWERS] = "forward_bad_answers",
	[FORWARD_STAT_SPOOF_ADDR] = "spoof_addr",
	[FORWARD_STAT_SPOOF_ID] = "spoof_id",
	[FORWARD_STAT_SPOOF_QUESTION] = "spoof_question",
	[FORWARD_STAT_EMPTY] = "forward_empty",
	[FORWARD_STAT_SCRUBBED] = "forward_scrubbed",
	[FORWARD_STAT_INFLIGHT] = "forward_inflight",
};

const char *forward_stat_name(enum forward_stat i)
{
	return i < FORWARD_STAT_COUNT ? forward_stat_names[i] : "?";
}

struct forward;

/* One socket c-ares opened through our functions. Freed once the fd is
 * closed and the poll handle (if any) has closed. */
struct fwd_sock {
	uv_poll_t poll;
	struct forward *f;     /* borrowed: the owner */
	struct fwd_sock *next; /* f->socks */
	int fd;                /* -1 once closed */
	bool udp;
	bool poll_init;
	struct sockaddr_storage peer; /* UDP: the server it talks to */
	socklen_t peer_len;
};

/* One forward in flight. Owned by c-ares from ares_send until its
 * callback; the client may have had its SERVFAIL before that. */
struct fwd_query {
	struct forward *f;      /* borrowed */
	struct fwd_query *next; /* free list; deadline list */
	struct fwd_query *prev; /* deadline list */
	struct forward_client cl;
	uint64_t deadline; /* uv_now() ms */
	uint16_t id;       /* the upstream ID */
	uint16_t qtype;
	uint8_t kflags;
	bool active;   /* c-ares holds it */
	bool answered; /* the client got its response */
	bool listed;   /* on the deadline list */
	bool tcp;
	uint8_t qname[DNAME_MAXLEN]; /* as sent: 0x20 spelling */
	uint8_t lname[DNAME_MAXLEN]; /* lower case: the cache key */
	size_t qname_len;
	uint8_t creq[FWD_CREQ_MAX]; /* the client's header and question */
	size_t creq_len;
	bool opt_ok;
	bool edns_do;
	uint16_t edns_udp;
	uint8_t *prefix; /* owns: ExternalName response so far, or NULL */
	size_t prefix_len;
};

struct forward {
	uv_loop_t *loop;                  /* borrowed */
	const struct config_upstream *up; /* borrowed */
	size_t max_udp;
	forward_reply_fn cb;
	void *cb_arg;
	ares_channel channel;
	bool channel_init;
	bool closing;
	uv_timer_t ares_timer; /* c-ares timeouts */
	uv_timer_t dl_timer;   /* our deadlines */
	unsigned timers_open;
	struct ares_socket_functions funcs;
	struct fwd_sock *socks;
	struct fwd_query *slots; /* owns: up->max_inflight */
	struct fwd_query *free_slots;
	struct fwd_query *dl_head; /* oldest deadline first */
	struct fwd_query *dl_tail;
	uint16_t *id_slot; /* owns: 65536 entries, slot index + 1 */
	unsigned n_active;
	struct cache *cache;   /* owns; NULL without a cache */
	struct cache_enc *enc; /* owns */
	uint8_t rnd[FWD_RANDOM_BUF];
	size_t rnd_pos;
	_Atomic uint64_t stats[FORWARD_STAT_COUNT];
	uint8_t qbuf[FWD_CREQ_MAX + WIRE_OPT_LEN]; /* the upstream query */
	uint8_t msg[WIRE_MSG_MAX];                 /* canonical answers */
	uint8_t msg2[WIRE_MSG_MAX];                /* joined answers */
	uint8_t resp[WIRE_MSG_MAX];                /* the client's response */
};

/* Only this worker's thread writes; see server.c stat_add. */
static void fstat_add(struct forward *f, enum forward_stat i, uint64_t d)
{
	uint64_t v = atomic_load_explicit(&f->stats[i], memory_order_relaxed);

	atomic_store_explicit(&f->stats[i], v + d, memory_order_relaxed);
}

static void fstat_inc(struct forward *f, enum forward_stat i)
{
	fstat_add(f, i, 1);
}

static void fstat_set(struct forward *f, enum forward_stat i, uint64_t v)
{
	atomic_store_explicit(&f->stats[i], v, memory_order_relaxed);
}

/* ---- Randomness ---------------------------------------------------------- */

/* n random octets from the kernel's CSPRNG, read a buffer at a time. */
static void fwd_random(struct forward *f, uint8_t *out, size_t n)
{
	while (n > 0) {
		size_t k;

		if (f->rnd_pos == sizeof(f->rnd)) {
			ssize_t got = getrandom(f->rnd, sizeof(f->rnd), 0);

			if (got != (ssize_t)sizeof(f->rnd)) {
				/* getrandom(2) does not fail for 4 KiB once
				 * the pool is initialised; keep going with
				 * what the buffer held rather than abort. */
				log_warn("forward: getrandom failed");
			}
			f->rnd_pos = 0;
		}
		k = sizeof(f->rnd) - f->rnd_pos;
		if (k > n) {
			k = n;
		}
		memcpy(out, f->rnd + f->rnd_pos, k);
		f->rnd_pos += k;
		out += k;
		n -= k;
	}
}

/* A random ID not in flight (CVE-2023-31147 was weak randomness). */
static uint16_t fwd_new_id(struct forward *f)
{
	uint8_t b[2];
	uint16_t id;
	unsigned i;

	for (i = 0; i < 64; i++) {
		fwd_random(f, b, 2);
		id = wire_get_u16(b);
		if (f->id_slot[id] == 0) {
			return id;
		}
	}
	/* The cap keeps at most 50000 of 65536 IDs busy: a free one is
	 * near; walk to it. */
	while (f->id_slot[id] != 0) {
		id++;
	}
	return id;
}

/* Writes lname with each letter's case flipped at random (0x20, draft
 * vixie-dnsext-dns0x20; RFC 5452 9.1 counts the question in matching). */
static void fwd_0x20(struct forward *f, const uint8_t *lname, size_t len,
                     uint8_t *out)
{
	uint8_t bits[DNAME_MAXLEN / 8 + 1];
	size_t i;

	fwd_random(f, bits, len / 8 + 1);
	for (i = 0; i < len; i++) {
		uint8_t c = lname[i];

		if (c >= 'a' && c <= 'z' && (bits[i / 8] >> (i % 8)) & 1) {
			c = (uint8_t)(c - 'a' + 'A');
		}
		out[i] = c;
	}
	/* Length octets are below 64 and never letters: untouched. */
}

/* ---- c-ares timers ---------------------------------------------------------
 */

static void fwd_ares_timer_cb(uv_timer_t *t);

/* Re-arms the c-ares timer for its next timeout, or stops it. Called
 * after every call into c-ares. */
static void fwd_reschedule(struct forward *f)
{
	struct timeval tv;
	struct timeval *r;
	uint64_t ms;

	if (f->closing || !f->channel_init) {
		return;
	}
	r = ares_timeout(f->channel, NULL, &tv);
	if (r == NULL) {
		uv_timer_stop(&f->ares_timer);
		return;
	}
	ms = (uint64_t)r->tv_sec * 1000u +
	     ((uint64_t)r->tv_usec + 999u) / 1000u;
	uv_timer_start(&f->ares_timer, fwd_ares_timer_cb, ms ? ms : 1, 0);
}

static void fwd_ares_timer_cb(uv_timer_t *t)
{
	struct forward *f = t->data;

	ares_process_fd(f->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	fwd_reschedule(f);
}

/* ---- Replies ---------------------------------------------------------------
 */

/* Rebuilds the client's query from what the slot kept. */
static bool fwd_client_query(const struct fwd_query *s, struct wire_query *q)
{
	if (wire_parse_query(s->creq, s->creq_len, q) != WIRE_Q_OK) {
		return false;
	}
	q->opt_ok = s->opt_ok;
	q->edns_do = s->edns_do;
	q->edns_udp = s->edns_udp;
	return true;
}

static size_t fwd_limit(const struct forward *f, const struct wire_query *q,
                        bool tcp)
{
	return tcp ? WIRE_MSG_MAX : wire_udp_limit(q, f->max_udp);
}

/* Sends the client SERVFAIL (RA set: the client may recurse). */
static void fwd_servfail(struct forward *f, const struct forward_client *cl,
                         const struct wire_query *q, const uint8_t *req)
{
	size_t len = wire_build_error(q, req, DNS_RCODE_SERVFAIL, true, true,
	                              f->resp, fwd_limit(f, q, cl->tcp));

	f->cb(f->cb_arg, cl, len ? f->resp : NULL, len, DNS_RCODE_SERVFAIL,
	      false);
}

/* Sends the client the canonical msg (joined with prefix for a chase),
 * aged by age seconds. */
static void fwd_reply_msg(struct forward *f, const struct forward_client *cl,
                          const struct wire_query *q, const uint8_t *req,
                          const uint8_t *msg, size_t msg_len, uint32_t age,
                          const uint8_t *prefix, size_t prefix_len)
{
	size_t len;
	bool tc;

	if (prefix != NULL) {
		size_t jl;

		if (cache_msg_join(f->enc, prefix, prefix_len, msg, msg_len,
		                   age, f->msg2, sizeof(f->msg2), &jl) != 0) {
			fstat_inc(f, FORWARD_STAT_BAD_ANSWERS);
			fwd_servfail(f, cl, q, req);
			return;
		}
		/* The upstream part got its age; the CNAME is fresh. */
		msg = f->msg2;
		msg_len = jl;
		age = 0;
	}
	if (cache_msg_reply(msg, msg_len, age, q, req, fwd_limit(f, q, cl->tcp),
	                    f->resp, sizeof(f->resp), &len, &tc) != 0) {
		fstat_inc(f, FORWARD_STAT_BAD_ANSWERS);
		fwd_servfail(f, cl, q, req);
		return;
	}
	f->cb(f->cb_arg, cl, f->resp, len, f->resp[3] & WIRE_RCODE_MASK, tc);
}

/* ---- Slots and deadlines
 * ----------------------------------------------------- */

static void dl_unlink(struct forward *f, struct fwd_query *s)
{
	if (!s->listed) {
		return;
	}
	if (s->prev != NULL) {
		s->prev->next = s->next;
	} else {
		f->dl_head = s->next;
	}
	if (s->next != NULL) {
		s->next->prev = s->prev;
	} else {
		f->dl_tail = s->prev;
	}
	s->prev = NULL;
	s->next = NULL;
	s->listed = false;
}

static void dl_timer_cb(uv_timer_t *t);

static void dl_arm(struct forward *f)
{
	uint64_t now = uv_now(f->loop);

	if (f->closing) {
		return;
	}
	if (f->dl_head == NULL) {
		uv_timer_stop(&f->dl_timer);
		return;
	}
	uv_timer_start(
		&f->dl_timer, dl_timer_cb,
		f->dl_head->deadline > now ? f->dl_head->deadline - now : 0, 0);
}

/* The budget is spent: SERVFAIL now, never silence (RELIABILITY.md L7,
 * U08, U09). c-ares keeps the query until its own timeouts end it. */
static void dl_timer_cb(uv_timer_t *t)
{
	struct forward *f = t->data;
	uint64_t now = uv_now(f->loop);

	while (f->dl_head != NULL && f->dl_head->deadline <= now) {
		struct fwd_query *s = f->dl_head;
		struct wire_query q;

		dl_unlink(f, s);
		s->answered = true;
		fstat_inc(f, FORWARD_STAT_TIMEOUTS);
		if (fwd_client_query(s, &q)) {
			fwd_servfail(f, &s->cl, &q, s->creq);
		} else {
			f->cb(f->cb_arg, &s->cl, NULL, 0, DNS_RCODE_SERVFAIL,
			      false);
		}
	}
	dl_arm(f);
}

static void slot_free(struct forward *f, struct fwd_query *s)
{
	dl_unlink(f, s);
	f->id_slot[s->id] = 0;
	free(s->prefix);
	s->prefix = NULL;
	s->active = false;
	s->next = f->free_slots;
	f->free_slots = s;
	f->n_active--;
	fstat_set(f, FORWARD_STAT_INFLIGHT, f->n_active);
}

/* ---- The answer
 * ---------------------------------------------------------------- */

static void fwd_cache_store(struct forward *f, const struct fwd_query *s,
                            const uint8_t *msg, size_t len,
                            const struct cache_msg_info *info)
{
	struct cache_stats st;
	uint32_t ttl = info->ttl;

	if (f->cache == NULL || !info->cacheable) {
		return;
	}
	if (ttl > f->up->cache_max_ttl) {
		ttl = f->up->cache_max_ttl;
	}
	if (ttl == 0 ||
	    cache_insert(f->cache, s->lname, s->qname_len, s->qtype, s->kflags,
	                 msg, len, ttl, uv_now(f->loop)) != 0) {
		return;
	}
	cache_get_stats(f->cache, &st);
	fstat_set(f, FORWARD_STAT_CACHE_INSERTS, st.inserts);
	fstat_set(f, FORWARD_STAT_CACHE_EVICTIONS, st.evictions);
	fstat_set(f, FORWARD_STAT_CACHE_ENTRIES, st.entries);
}

/* The c-ares callback: an answer (ARES_SUCCESS, any RCODE thanks to
 * ARES_FLAG_NOCHECKRESP) or a failure. */
static void fwd_ares_cb(void *arg, int status, int timeouts,
                        unsigned char *abuf, int alen)
{
	struct fwd_query *s = arg;
	struct forward *f = s->f;
	struct cache_msg_info info;
	struct wire_query q;
	size_t mlen = 0;
	int err = -EIO;

	(void)timeouts;
	if (status == ARES_SUCCESS && abuf != NULL && alen >= WIRE_HEADER_LEN) {
		/* UDP answers were checked in forward_recvfrom; TCP ones
		 * (after TC) are checked here. */
		if (!cache_msg_matches(abuf, (size_t)alen, s->id, s->qname,
		                       s->qname_len, s->qtype)) {
			fstat_inc(f, FORWARD_STAT_SPOOF_QUESTION);
		} else {
			err = cache_msg_canon(f->enc, abuf, (size_t)alen,
			                      s->qname, s->qname_len, s->qtype,
			                      f->msg, sizeof(f->msg), &mlen,
			                      &info);
			if (err != 0) {
				fstat_inc(f, FORWARD_STAT_BAD_ANSWERS);
			} else {
				fstat_add(f, FORWARD_STAT_SCRUBBED,
				          info.scrubbed);
				fwd_cache_store(f, s, f->msg, mlen, &info);
			}
		}
	} else if (status != ARES_EDESTRUCTION) {
		fstat_inc(f, FORWARD_STAT_ERRORS);
	}
	if (s->answered) {
		if (err == 0) {
			fstat_inc(f, FORWARD_STAT_LATE);
		}
	} else if (status == ARES_EDESTRUCTION) {
		f->cb(f->cb_arg, &s->cl, NULL, 0, DNS_RCODE_SERVFAIL, false);
	} else if (!fwd_client_query(s, &q)) {
		f->cb(f->cb_arg, &s->cl, NULL, 0, DNS_RCODE_SERVFAIL, false);
	} else if (err != 0) {
		fwd_servfail(f, &s->cl, &q, s->creq);
	} else {
		fstat_inc(f, FORWARD_STAT_ANSWERS);
		fwd_reply_msg(f, &s->cl, &q, s->creq, f->msg, mlen, 0,
		              s->prefix, s->prefix_len);
	}
	s->answered = true;
	slot_free(f, s);
}

/* ---- Submitting
 * ------------------------------------------------------------------ */

/* Keeps what the reply needs of the client's query: the header and the
 * question (ARCOUNT cleared), and the OPT facts. */
static bool fwd_keep_client(struct fwd_query *s, const struct wire_query *q,
                            const uint8_t *req)
{
	if (q->question_end > sizeof(s->creq)) {
		return false;
	}
	memcpy(s->creq, req, q->question_end);
	wire_put_u16(s->creq + 10, 0);
	s->creq_len = q->question_end;
	s->opt_ok = q->opt_ok;
	s->edns_do = q->edns_do;
	s->edns_udp = q->edns_udp;
	return true;
}

/* Writes the upstream query for s into f->qbuf: RD (and CD as the client
 * had it), the 0x20 name, our OPT (1232, DO as the client's; never the
 * client's options, such as ECS). Returns its length. */
static size_t fwd_build_query(struct forward *f, const struct fwd_query *s,
                              uint16_t client_flags)
{
	struct wire_wr w;

	wire_wr_init(&w, f->qbuf, sizeof(f->qbuf));
	wire_wr_u16(&w, s->id);
	wire_wr_u16(&w,
	            (uint16_t)(WIRE_FLAG_RD | (client_flags & WIRE_FLAG_CD)));
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 1);
	wire_wr_bytes(&w, s->qname, s->qname_len);
	wire_wr_u16(&w, s->qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 0, s->edns_do);
	return w.err ? 0 : w.pos;
}

/* Answers from the cache if it can. Returns true when it did. */
static bool fwd_from_cache(struct forward *f, const struct forward_client *cl,
                           const struct wire_query *q, const uint8_t *req,
                           const uint8_t *lname, size_t len, uint8_t kflags,
                           const uint8_t *prefix, size_t prefix_len)
{
	size_t mlen;
	uint32_t age;
	struct cache_stats st;
	int err;

	if (f->cache == NULL) {
		return false;
	}
	err = cache_lookup(f->cache, lname, len, q->qtype, kflags,
	                   uv_now(f->loop), f->msg, sizeof(f->msg), &mlen,
	                   &age);
	cache_get_stats(f->cache, &st);
	fstat_set(f, FORWARD_STAT_CACHE_HITS, st.hits);
	fstat_set(f, FORWARD_STAT_CACHE_MISSES, st.misses);
	fstat_set(f, FORWARD_STAT_CACHE_ENTRIES, st.entries);
	if (err != 0) {
		return false;
	}
	fwd_reply_msg(f, cl, q, req, f->msg, mlen, age, prefix, prefix_len);
	return true;
}

void forward_submit(struct forward *f, const struct forward_client *cl,
                    const uint8_t *req, size_t len, const uint8_t *prefix,
                    size_t prefix_len, const uint8_t *target, size_t target_len)
{
	struct wire_query q;
	struct fwd_query *s;
	uint8_t lname[DNAME_MAXLEN];
	size_t nlen;
	uint8_t kflags;
	size_t qlen;

	fstat_inc(f, FORWARD_STAT_QUERIES);
	if (wire_parse_query(req, len, &q) != WIRE_Q_OK ||
	    q.qclass != DNS_CLASS_IN || target_len > DNAME_MAXLEN) {
		f->cb(f->cb_arg, cl, NULL, 0, DNS_RCODE_SERVFAIL, false);
		return;
	}
	if (prefix != NULL) {
		dname_copy_lower(lname, target, target_len);
		nlen = target_len;
	} else {
		memcpy(lname, q.lname, q.qname_len);
		nlen = q.qname_len;
	}
	kflags = (uint8_t)((q.edns_do ? CACHE_KEY_DO : 0) |
	                   ((q.flags & WIRE_FLAG_CD) ? CACHE_KEY_CD : 0));
	if (fwd_from_cache(f, cl, &q, req, lname, nlen, kflags, prefix,
	                   prefix_len)) {
		return;
	}
	if (f->closing || f->free_slots == NULL) {
		fstat_inc(f, FORWARD_STAT_FULL);
		fwd_servfail(f, cl, &q, req);
		return;
	}
	s = f->free_slots;
	f->free_slots = s->next;
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->cl = *cl;
	s->qtype = q.qtype;
	s->kflags = kflags;
	s->qname_len = nlen;
	memcpy(s->lname, lname, nlen);
	fwd_0x20(f, lname, nlen, s->qname);
	s->id = fwd_new_id(f);
	if (!fwd_keep_client(s, &q, req) ||
	    (prefix != NULL && (s->prefix = malloc(prefix_len)) == NULL)) {
		s->next = f->free_slots;
		f->free_slots = s;
		fstat_inc(f, FORWARD_STAT_ERRORS);
		fwd_servfail(f, cl, &q, req);
		return;
	}
	if (prefix != NULL) {
		memcpy(s->prefix, prefix, prefix_len);
		s->prefix_len = prefix_len;
	}
	qlen = fwd_build_query(f, s, q.flags);
	/* Everything the callback needs is set before ares_send, which may
	 * call it at once (STYLE.md 3.15). */
	f->id_slot[s->id] = (uint16_t)(s - f->slots + 1);
	s->active = true;
	f->n_active++;
	fstat_set(f, FORWARD_STAT_INFLIGHT, f->n_active);
	s->deadline = uv_now(f->loop) + f->up->timeout_ms * 95u / 100u;
	s->listed = true;
	s->prev = f->dl_tail;
	s->next = NULL;
	if (f->dl_tail != NULL) {
		f->dl_tail->next = s;
	} else {
		f->dl_head = s;
		dl_arm(f);
	}
	f->dl_tail = s;
	fstat_inc(f, FORWARD_STAT_SENT);
	ares_send(f->channel, f->qbuf, (int)qlen, fwd_ares_cb, s);
	fwd_reschedule(f);
}

/* ---- Sockets: polling
 * ----------------------------------------------------------- */

static struct fwd_sock *fwd_sock_find(struct forward *f, int fd)
{
	struct fwd_sock *k;

	for (k = f->socks; k != NULL; k = k->next) {
		if (k->fd == fd) {
			return k;
		}
	}
	return NULL;
}

static void fwd_poll_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void fwd_poll_cb(uv_poll_t *p, int status, int events)
{
	struct fwd_sock *k = p->data;
	struct forward *f = k->f;
	int fd = k->fd;

	/* On an error let c-ares read and write, so it sees it and moves
	 * the queries on. k may be freed inside ares_process_fd. */
	if (status < 0) {
		events = UV_READABLE | UV_WRITABLE;
	}
	ares_process_fd(f->channel,
	                (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
	                (events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
	fwd_reschedule(f);
}

/* c-ares says what it wants of a socket: poll for it, or (0, 0) stop
 * polling (it is about to close the socket). */
static void fwd_sock_state_cb(void *data, ares_socket_t fd, int readable,
                              int writable)
{
	struct forward *f = data;
	struct fwd_sock *k = fwd_sock_find(f, fd);
	int events =
		(readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

	if (k == NULL) {
		return;
	}
	if (events == 0) {
		if (k->poll_init) {
			uv_poll_stop(&k->poll);
		}
		return;
	}
	if (!k->poll_init) {
		if (uv_poll_init_socket(f->loop, &k->poll, fd) != 0) {
			log_err("forward: cannot poll the upstream socket fd=%d",
			        fd);
			return;
		}
		k->poll.data = k;
		k->poll_init = true;
	}
	uv_poll_start(&k->poll, events, fwd_poll_cb);
}

/* ---- Sockets: our functions for c-ares
 * ---------------------------------------- */

static ares_socket_t fwd_socket(int af, int type, int protocol, void *data)
{
	struct forward *f = data;
	struct fwd_sock *k = calloc(1, sizeof(*k));
	int fd;

	if (k == NULL) {
		errno = ENOMEM;
		return ARES_SOCKET_BAD;
	}
	fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd < 0) {
		int e = errno;

		free(k);
		errno = e;
		return ARES_SOCKET_BAD;
	}
	if (type == SOCK_STREAM) {
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		                 sizeof(one));
	}
	k->f = f;
	k->fd = fd;
	k->udp = type == SOCK_DGRAM;
	k->next = f->socks;
	f->socks = k;
	return fd;
}

/* UDP sockets are not connected: the kernel would drop datagrams from
 * other sources without telling us, and we count them (forward_recvfrom).
 * The peer is remembered and used by forward_sendv. TCP connects. */
static int fwd_connect(ares_socket_t fd, const struct sockaddr *sa,
                       ares_socklen_t len, void *data)
{
	struct forward *f = data;
	struct fwd_sock *k = fwd_sock_find(f, fd);

	if (k == NULL || len > sizeof(k->peer)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(&k->peer, sa, len);
	k->peer_len = len;
	if (k->udp) {
		return 0;
	}
	return connect(fd, sa, len);
}

static int fwd_close(ares_socket_t fd, void *data)
{
	struct forward *f = data;
	struct fwd_sock **p = &f->socks;
	struct fwd_sock *k;

	while (*p != NULL && (*p)->fd != fd) {
		p = &(*p)->next;
	}
	k = *p;
	if (k != NULL) {
		*p = k->next;
		k->fd = -1;
		if (k->poll_init) {
			/* Stop before close(2): libuv removes the fd from
			 * epoll at once (uv__platform_invalidate_fd). */
			uv_poll_stop(&k->poll);
			uv_close((uv_handle_t *)&k->poll, fwd_poll_close_cb);
		} else {
			free(k);
		}
	}
	return close(fd);
}

static bool fwd_same_addr(const struct sockaddr_storage *a,
                          const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* Checks one datagram from an upstream socket (RFC 5452 9.1, DNSpooq
 * CVE-2020-25684..25686): the server's own address and port, a whole
 * header, an ID in flight, and the question exactly as we sent it. */
static bool fwd_datagram_ok(struct forward *f, const struct fwd_sock *k,
                            const struct sockaddr_storage *from,
                            const uint8_t *buf, size_t n)
{
	uint16_t slot;
	const struct fwd_query *s;

	if (!fwd_same_addr(from, &k->peer)) {
		fstat_inc(f, FORWARD_STAT_SPOOF_ADDR);
		return false;
	}
	/* A 0-byte datagram is not a closed connection (c-ares
	 * CVE-2023-32067); short ones are nothing at all. */
	if (n < WIRE_HEADER_LEN) {
		fstat_inc(f, FORWARD_STAT_EMPTY);
		return false;
	}
	slot = f->id_slot[wire_get_u16(buf)];
	if (slot == 0) {
		fstat_inc(f, FORWARD_STAT_SPOOF_ID);
		return false;
	}
	s = &f->slots[slot - 1];
	if (!cache_msg_matches(buf, n, s->id, s->qname, s->qname_len,
	                       s->qtype)) {
		fstat_inc(f, FORWARD_STAT_SPOOF_QUESTION);
		return false;
	}
	return true;
}

static ares_ssize_t fwd_recvfrom(ares_socket_t fd, void *buf, size_t len,
                                 int flags, struct sockaddr *from,
                                 ares_socklen_t *from_len, void *data)
{
	struct forward *f = data;
	struct fwd_sock *k = fwd_sock_find(f, fd);
	int i;

	if (k == NULL || !k->udp) {
		if (from != NULL) {
			return recvfrom(fd, buf, len, flags, from, from_len);
		}
		return recv(fd, buf, len, flags);
	}
	for (i = 0; i < FWD_RECV_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, buf, len, flags,
		                     (struct sockaddr *)&ss, &sl);

		if (n < 0) {
			return -1; /* errno as recvfrom left it */
		}
		if (!fwd_datagram_ok(f, k, &ss, buf, (size_t)n)) {
			continue;
		}
		if (from != NULL && from_len != NULL) {
			if (*from_len > sl) {
				*from_len = sl;
			}
			memcpy(from, &ss, *from_len);
		}
		return n;
	}
	/* More waits: the poll is level-triggered and comes back. */
	errno = EAGAIN;
	return -1;
}

static ares_ssize_t fwd_sendv(ares_socket_t fd, const struct iovec *vec, int n,
                              void *data)
{
	struct forward *f = data;
	struct fwd_sock *k = fwd_sock_find(f, fd);
	struct msghdr mh;

	memset(&mh, 0, sizeof(mh));
	/* sendmsg does not write through msg_iov. */
	mh.msg_iov = (struct iovec *)(uintptr_t)vec;
	mh.msg_iovlen = (size_t)n;
	if (k != NULL && k->udp) {
		mh.msg_name = &k->peer;
		mh.msg_namelen = k->peer_len;
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

/* ---- Lifecycle
 * -------------------------------------------------------------------- */

/* Servers for c-ares, from the configuration. */
static int fwd_set_servers(struct forward *f)
{
	struct ares_addr_port_node nodes[CONFIG_MAX_UPSTREAMS];
	size_t i;

	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < f->up->n_servers; i++) {
		const struct config_listen *l = &f->up->servers[i];
		struct ares_addr_port_node *n = &nodes[i];

		n->next = i + 1 < f->up->n_servers ? &nodes[i + 1] : NULL;
		n->family = l->addr.ss_family;
		if (n->family == AF_INET) {
			const struct sockaddr_in *s4 =
				(const struct sockaddr_in *)&l->addr;

			memcpy(&n->addr.addr4, &s4->sin_addr, 4);
			n->udp_port = ntohs(s4->sin_port);
		} else {
			const struct sockaddr_in6 *s6 =
				(const struct sockaddr_in6 *)&l->addr;

			memcpy(&n->addr.addr6, &s6->sin6_addr, 16);
			n->udp_port = ntohs(s6->sin6_port);
		}
		n->tcp_port = n->udp_port;
	}
	return ares_set_servers_ports(f->channel, nodes);
}

static int fwd_channel(struct forward *f)
{
	struct ares_options o;
	size_t n = f->up->n_servers ? f->up->n_servers : 1;
	int try_ms = (int)(f->up->timeout_ms * 9u / 10u / (3u * n));
	int err;

	if (try_ms < FWD_MIN_TRY_MS) {
		try_ms = FWD_MIN_TRY_MS;
	}
	memset(&o, 0, sizeof(o));
	/* NOCHECKRESP: SERVFAIL and REFUSED come back to us, relayed as
	 * they are. EDNS: answers up to 1232 octets over UDP. */
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH;
	o.timeout = try_ms;
	o.tries = FWD_TRIES;
	o.ednspsz = WIRE_EDNS_ADVERTISE;
	o.sock_state_cb = fwd_sock_state_cb;
	o.sock_state_cb_data = f;
	o.nservers = 0;
	err = ares_init_options(&f->channel, &o,
	                        ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
	                                ARES_OPT_TRIES | ARES_OPT_EDNSPSZ |
	                                ARES_OPT_SOCK_STATE_CB |
	                                ARES_OPT_SERVERS);
	if (err != ARES_SUCCESS) {
		log_err("forward: ares_init_options failed: %s",
		        ares_strerror(err));
		return -ENOMEM;
	}
	f->channel_init = true;
	f->funcs.asocket = fwd_socket;
	f->funcs.aclose = fwd_close;
	f->funcs.aconnect = fwd_connect;
	f->funcs.arecvfrom = fwd_recvfrom;
	f->funcs.asendv = fwd_sendv;
	ares_set_socket_functions(f->channel, &f->funcs, f);
	err = fwd_set_servers(f);
	if (err != ARES_SUCCESS) {
		log_err("forward: ares_set_servers_ports failed: %s",
		        ares_strerror(err));
		return -EINVAL;
	}
	return 0;
}

static void fwd_free(struct forward *f)
{
	cache_destroy(f->cache);
	cache_enc_destroy(f->enc);
	free(f->slots);
	free(f->id_slot);
	free(f);
}

struct forward *forward_create(struct uv_loop_s *loop,
                               const struct config_upstream *up, size_t max_udp,
                               forward_reply_fn cb, void *arg)
{
	struct forward *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL) {
		log_err("forward: out of memory");
		return NULL;
	}
	f->loop = loop;
	f->up = up;
	f->max_udp = max_udp;
	f->cb = cb;
	f->cb_arg = arg;
	f->rnd_pos = sizeof(f->rnd);
	f->slots = calloc(up->max_inflight, sizeof(*f->slots));
	f->id_slot = calloc(65536, sizeof(*f->id_slot));
	f->enc = cache_enc_create();
	if (up->cache_size > 0) {
		f->cache = cache_create(up->cache_size);
	}
	if (f->slots == NULL || f->id_slot == NULL || f->enc == NULL ||
	    (up->cache_size > 0 && f->cache == NULL)) {
		log_err("forward: out of memory");
		fwd_free(f);
		return NULL;
	}
	for (i = up->max_inflight; i-- > 0;) {
		f->slots[i].next = f->free_slots;
		f->free_slots = &f->slots[i];
	}
	if (fwd_channel(f) != 0) {
		if (f->channel_init) {
			ares_destroy(f->channel);
		}
		fwd_free(f);
		return NULL;
	}
	/* Last: from here on the loop owns handles of f. */
	uv_timer_init(loop, &f->ares_timer);
	uv_timer_init(loop, &f->dl_timer);
	f->ares_timer.data = f;
	f->dl_timer.data = f;
	f->timers_open = 2;
	return f;
}

static void fwd_timer_close_cb(uv_handle_t *h)
{
	struct forward *f = h->data;

	f->timers_open--;
}

void forward_close(struct forward *f)
{
	if (f == NULL || f->closing) {
		return;
	}
	f->closing = true;
	if (f->channel_init) {
		/* Completes every pending query with ARES_EDESTRUCTION
		 * (their clients get nothing) and closes the sockets. */
		ares_destroy(f->channel);
		f->channel_init = false;
	}
	uv_close((uv_handle_t *)&f->ares_timer, fwd_timer_close_cb);
	uv_close((uv_handle_t *)&f->dl_timer, fwd_timer_close_cb);
}

void forward_destroy(struct forward *f)
{
	if (f == NULL) {
		return;
	}
	fwd_free(f);
}

void forward_get_stats(const struct forward *f, uint64_t *out)
{
	size_t i;

	for (i = 0; i < FORWARD_STAT_COUNT; i++) {
		out[i] += atomic_load_explicit(&f->stats[i],
		                               memory_order_relaxed);
	}
}
