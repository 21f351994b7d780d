/* sendmmsg(2) and struct mmsghdr are GNU extensions in glibc. */
#define _GNU_SOURCE

#include "svcdns/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "svcdns/log.h"
#include "svcdns/qlog.h"
#include "svcdns/rrl.h"
#include "svcdns/wire.h"

/* UDP is read by our own loop on a uv_poll_t (udp_read), not by libuv's
 * uv_udp_t: one recvmmsg takes up to SERVER_UDP_BATCH datagrams, each into
 * its own SERVER_UDP_CHUNK of the worker's slab (64 KiB, the largest UDP
 * payload, so nothing is cut: 4 MiB of address space a worker, of which
 * only the pages datagrams land in are ever touched), and the answers of
 * the batch leave in one sendmmsg. Then it reads again, as long as the
 * last batch brought something, up to SERVER_UDP_BUDGET datagrams (or
 * SERVER_UDP_ROUNDS batches) per wakeup so that TCP, timers and forwards
 * are not starved (epoll is level-triggered: what is left wakes the loop
 * again at once). Reading again until a recvmmsg comes back empty costs
 * that one empty call per wakeup, but saves the epoll_wait that would
 * otherwise precede each batch of a busy period: measured with dnsperf,
 * 0.9 system calls per query at 60k queries/s either way (3 queries a
 * batch), and at the client's maximum 0.25-0.30 instead of 0.27-0.44 for
 * stopping after a short batch. Before a batch is answered, udp_prefetch
 * warms the caches for all of its lookups, so that their misses overlap
 * (see snapshot_prefetch_slot). */
#define SERVER_UDP_CHUNK  (64 * 1024)
#define SERVER_UDP_TOUCH  4096 /* see worker_alloc */
#define SERVER_UDP_BATCH  64
#define SERVER_UDP_BUDGET 256
#define SERVER_UDP_ROUNDS 16
/* Direct UDP mode: a worker waits for one listener's datagrams in a
 * blocking recvmmsg instead of in libuv's epoll_wait (see "Direct UDP
 * mode" below). In the default (auto) policy it goes direct as soon as
 * the current beat interval has brought SERVER_DIRECT_MIN batches and
 * SERVER_DIRECT_RATIO times as many batches as other wakeups, and stays
 * until a whole interval has not. */
#define SERVER_DIRECT_MIN   1000
#define SERVER_DIRECT_RATIO 4
/* The waker interrupts a worker sleeping in recvmmsg with this signal; its
 * handler does nothing (installed without SA_RESTART: recvmmsg fails with
 * EINTR). glibc keeps the first two real-time signals for itself. */
#define SERVER_WAKE_SIG (SIGRTMIN + 2)
/* Replies the socket did not take (sendmmsg/sendto said EAGAIN) wait in a
 * FIFO per listener until it polls writable; they come from a pool of this
 * many per worker. When the pool is empty, replies are dropped and counted
 * (udp_send_lost; the client retries). Nothing blocks. */
#define SERVER_UDP_POOL       256
#define SERVER_LISTEN_BACKLOG 256
/* One read of TCP input, shared by every connection of a worker: a read
 * callback consumes it entirely before the next read can start. */
#define SERVER_TCP_READ (64 * 1024)
/* A connection's stashed input: at most one whole frame (RFC 7766 8: a
 * 2-octet length then up to 65535 octets). */
#define SERVER_TCP_FRAME_MAX (2 + WIRE_MSG_MAX)
/* Write backlog: stop answering (and reading) at HIGH, resume at LOW. One
 * buffer holds at most HIGH plus one whole response. */
#define SERVER_TCP_BACKLOG_HIGH (64 * 1024)
#define SERVER_TCP_BACKLOG_LOW  (16 * 1024)
#define SERVER_TCP_OUT_MAX      (SERVER_TCP_BACKLOG_HIGH + SERVER_TCP_FRAME_MAX)
/* Output buffers larger than this are freed once written, so that an idle
 * connection holds little memory. */
#define SERVER_TCP_OUT_KEEP 4096
/* Debug logs on the query path, per worker and second (NSD's idea). */
#define SERVER_LOG_PER_SEC 10

struct worker;

/* A UDP peer: what recvmmsg fills in and sendmmsg sends to. */
union udp_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* A UDP reply waiting for the socket to take it (see SERVER_UDP_POOL). */
struct udp_send {
	struct udp_send *next; /* in a listener's queue or the free list */
	uint8_t *buf;          /* borrowed: a slice of worker->pool_buf */
	size_t len;
	union udp_addr addr;
	socklen_t alen;
};

/* One listen address of one worker. */
struct listener {
	uv_poll_t udp; /* the UDP socket: readable, and writable while
	                  replies wait in the queue */
	uv_tcp_t tcp;
	struct worker *w;                /* borrowed: the owner */
	const struct config_listen *cfg; /* borrowed (server's cfg) */
	int udp_fd;       /* owns; closed once the poll handle has closed */
	int tcp_fd;       /* owns until libuv takes it, then -1 */
	int udp_events;   /* what udp polls for now (UV_READABLE...) */
	bool udp_init;    /* handle initialised: uv_close it */
	bool udp_reading; /* taking queries (false in the lame duck) */
	bool direct;      /* read by the worker's direct mode, not polled;
	                     the socket is blocking */
	bool tcp_init;
	bool retry_init;  /* retry initialised: uv_close it */
	uv_timer_t retry; /* reopens tcp after running out of descriptors */
	struct udp_send *q_head; /* replies waiting for UV_WRITABLE, FIFO */
	struct udp_send *q_tail;
	/* This beat interval's UDP batches (worker_direct_pick). */
	unsigned win_batches;
};

/* Responses waiting to be written, each with its 2-octet length. */
struct conn_out {
	uint8_t *buf; /* owns */
	size_t len;
	size_t cap;
};

enum conn_timer_mode {
	CONN_TIMER_NONE,
	CONN_TIMER_IDLE, /* no complete query for tcp_idle_timeout_ms */
	CONN_TIMER_IO,   /* a message incomplete for tcp_io_timeout_ms */
};

/* One TCP connection (RFC 7766). Freed when both handles have closed. */
struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct worker *w;  /* borrowed: the owner */
	struct conn *prev; /* the worker's LRU list, least recently */
	struct conn *next; /* active first; not while closing */
	uint8_t *in;       /* owns: stashed input (see conn_read_cb) */
	size_t in_len;
	size_t in_cap;
	struct conn_out out[2]; /* out[fill] takes responses; the other */
	unsigned fill;          /* one may be in flight */
	unsigned handles;       /* open handles; 0 -> free */
	enum conn_timer_mode timer_mode;
	bool listed;   /* counted in the worker's list */
	bool writing;  /* wreq in flight */
	bool paused;   /* reading stopped on write backlog */
	bool eof;      /* the client half-closed */
	bool answered; /* a query completed since the timer was armed */
	bool closing;
	bool recurse;     /* the peer is in the recursion ACL */
	bool v6;          /* accepted on an IPv6 listener */
	unsigned pending; /* forwards whose reply is owed; 0 -> free */
};

struct worker {
	struct server *srv; /* borrowed: the owner */
	unsigned id;
	uv_loop_t loop;
	uv_async_t stop_async;
	uv_thread_t thread;
	bool loop_init;
	bool async_init;
	bool started;
	bool stopping;
	bool draining; /* lame duck: answering what is owed */
	bool drain_timer_init;
	uv_timer_t drain_timer;
	/* Liveness: a timer on the worker's loop stamps beat_ms (monotonic)
	 * every SERVER_BEAT_MS; the main loop reads it (server_stalled). */
	uv_timer_t beat;
	bool beat_init;
	unsigned beats; /* for the stall failpoint */
	_Atomic uint64_t beat_ms;
	uint64_t drain_deadline; /* uv_now() at which to stop anyway */
	struct listener *ls;     /* owns: srv->cfg->n_listen entries */
	struct snapshot *snap;   /* owns one reference; NULL before a load */
	uint64_t snap_gen;
	struct answer_state ast;
	struct forward *fwd;         /* owns; NULL without forwarding */
	struct rrl *rrl;             /* owns; NULL when RRL is off */
	struct answer_opts ao_rec;   /* for clients that may recurse */
	struct answer_opts ao_norec; /* for the others */
	uint8_t *udp_slab;           /* owns: SERVER_UDP_BATCH chunks */
	struct udp_send *pool;       /* owns: SERVER_UDP_POOL entries */
	uint8_t *pool_buf;           /* owns: their buffers */
	size_t pool_entry;           /* octets per buffer */
	struct udp_send *free_sends;
	/* One recvmmsg: datagram i lands in chunk i of udp_slab, its source
	 * in in_addr[i]. Set up once by worker_alloc. The kernel rewrites
	 * msg_namelen of the in_used entries the last recvmmsg filled; only
	 * those are reset before the next (64 cold cache lines a call
	 * otherwise). */
	struct mmsghdr in_msgs[SERVER_UDP_BATCH];
	struct iovec in_iov[SERVER_UDP_BATCH];
	union udp_addr in_addr[SERVER_UDP_BATCH];
	unsigned in_used;
	struct conn *lru_head; /* least recently active */
	struct conn *lru_tail;
	unsigned n_conns;
	uint64_t log_window; /* uv_now() of the current second */
	unsigned log_count;
	/* The answers of the UDP batch being received, sent together by
	 * udp_flush at the end of the batch. */
	struct mmsghdr out_msgs[SERVER_UDP_BATCH];
	struct iovec out_iov[SERVER_UDP_BATCH];
	union udp_addr out_addr[SERVER_UDP_BATCH];
	uint8_t *out_buf; /* owns: SERVER_UDP_BATCH x pool_entry */
	unsigned out_n;
	struct listener *out_l;
	uint64_t batch_t0_us; /* when the batch was received */
	unsigned fp_sends;    /* UDP send calls, for the EAGAIN failpoint */
	/* One sendmmsg of queued replies (udp_drain). */
	struct mmsghdr q_msgs[SERVER_UDP_BATCH];
	struct iovec q_iov[SERVER_UDP_BATCH];
	/* Written only by this worker's thread; read by server_get_stats. */
	_Atomic uint64_t stats[SERVER_STAT_COUNT];
	_Atomic uint64_t qtypes[SERVER_QTYPE_COUNT];
	_Atomic uint64_t families[2];
	_Atomic uint64_t hist[SERVER_HIST_BUCKETS];
	_Atomic uint64_t hist_sum_us;
	/* Direct UDP mode (see "Direct UDP mode"). dstate, rung, fired and
	 * wake_at are shared with the waker thread; ring_lock keeps the
	 * waker's fcntl and pthread_kill away from a socket or thread that
	 * is leaving the mode. */
	struct listener *dl; /* the listener it reads; NULL: never direct */
	pthread_t tid;       /* the worker's thread, set before the mode */
	uv_mutex_t ring_lock;
	bool ring_lock_init;
	bool direct_on;  /* may go direct (the policy, per beat) */
	bool loop_dirty; /* a forward started: its sockets and timers wait
	                    for the loop to run (libuv applies epoll changes
	                    in uv_run) */
	bool registered; /* the loop's descriptor is in the waker's epoll */
	/* This beat interval (besides dl->win_batches, its UDP batches): */
	unsigned win_wakes;         /* loop wakeups (loop mode), */
	unsigned win_other;         /* and rings (direct mode) */
	_Atomic int dstate;         /* enum worker_dstate */
	_Atomic bool rung;          /* the loop has work: run it */
	_Atomic bool fired;         /* the waker's EPOLLONESHOT fired: re-arm */
	_Atomic uint64_t wake_at;   /* uv_now() of the next timer; MAX: none */
	uint8_t resp[WIRE_MSG_MAX]; /* the response being built */
	uint8_t tcp_read[SERVER_TCP_READ]; /* see SERVER_TCP_READ */
};

/* Where a worker is, for the waker (see "Direct UDP mode"). */
enum worker_dstate {
	WD_LOOP,   /* in or around its libuv loop: a ring only sets rung */
	WD_DIRECT, /* in the direct loop, answering a batch */
	WD_RECV,   /* in the direct loop, in or entering recvmmsg */
};

struct server {
	const struct config_server *cfg;  /* borrowed */
	const struct answer_opts *aopts;  /* borrowed */
	const struct config_upstream *up; /* borrowed */
	struct snapshot_slot *slot;       /* borrowed */
	struct worker *workers;           /* owns: cfg->threads */
	unsigned n_workers;
	bool started;
	bool stopped;
	/* Failpoint for the stall tests: SVCDNS_FAILPOINT_STALL_MS=N makes
	 * worker 0 block its loop for N ms at its third beat, once. */
	unsigned stall_ms;
	/* Failpoint for the send queue: SVCDNS_FAILPOINT_UDP_AGAIN=N (N >= 2)
	 * makes every Nth UDP send call of a worker fail with EAGAIN, as
	 * when the socket buffer is full, which loopback never is. */
	unsigned udp_again;
	/* Direct UDP mode: the policy (--udp-direct; for the tests,
	 * SVCDNS_FAILPOINT_UDP_DIRECT=always, never or auto overrides it) and
	 * the waker thread. */
	enum config_udp_direct direct;
	int wk_ep; /* epoll: each worker's loop descriptor, and wk_ev */
	int wk_ev; /* eventfd: a deadline moved earlier, or stop */
	uv_thread_t wk_thread;
	bool wk_started;
	_Atomic bool wk_stop;
	_Atomic uint64_t wk_until; /* the waker sleeps until then (ms) */
};

static const char *const server_stat_names[SERVER_STAT_RCODE] = {
	[SERVER_STAT_UDP_QUERIES] = "udp_queries",
	[SERVER_STAT_TCP_QUERIES] = "tcp_queries",
	[SERVER_STAT_RESPONSES] = "responses",
	[SERVER_STAT_TRUNCATED] = "truncated",
	[SERVER_STAT_DROPPED] = "dropped",
	[SERVER_STAT_BAD_SOURCE] = "bad_source",
	[SERVER_STAT_UDP_QUEUED] = "udp_queued",
	[SERVER_STAT_UDP_SEND_LOST] = "udp_send_lost",
	[SERVER_STAT_FORWARD_FAIL] = "forward_fail",
	[SERVER_STAT_FORWARDED] = "forwarded",
	[SERVER_STAT_RECURSION_REFUSED] = "recursion_refused",
	[SERVER_STAT_TCP_ACCEPTED] = "tcp_accepted",
	[SERVER_STAT_TCP_ACTIVE] = "tcp_active",
	[SERVER_STAT_TCP_EVICTED] = "tcp_evicted",
	[SERVER_STAT_TCP_IDLE_TIMEOUTS] = "tcp_idle_timeouts",
	[SERVER_STAT_TCP_IO_TIMEOUTS] = "tcp_io_timeouts",
	[SERVER_STAT_TCP_BAD_FRAMES] = "tcp_bad_frames",
	[SERVER_STAT_TCP_PAUSED] = "tcp_paused",
	[SERVER_STAT_SNAPSHOT_SWITCHES] = "snapshot_switches",
	[SERVER_STAT_RRL_SLIPPED] = "rrl_slipped",
	[SERVER_STAT_RRL_DROPPED] = "rrl_dropped",
	[SERVER_STAT_UDP_DIRECT_BATCHES] = "udp_direct_batches",
};

static const char *const server_rcode_names[] = {
	"rcode_0",  "rcode_1",  "rcode_2",     "rcode_3",  "rcode_4",
	"rcode_5",  "rcode_6",  "rcode_7",     "rcode_8",  "rcode_9",
	"rcode_10", "rcode_11", "rcode_12",    "rcode_13", "rcode_14",
	"rcode_15", "rcode_16", "rcode_other",
};

_Static_assert(SVCDNS_ARRAY_SIZE(server_rcode_names) ==
                       SERVER_STAT_COUNT - SERVER_STAT_RCODE,
               "one name per rcode counter");

static const char *const server_qtype_names[SERVER_QTYPE_COUNT] = {
	"A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "NS", "SOA", "ANY", "other",
};

/* Bucket bounds in microseconds; CoreDNS's histogram starts at 250 us,
 * but an answer from memory takes a few: finer buckets at the low end. */
static const unsigned server_hist_bounds[SERVER_HIST_BUCKETS - 1] = {
	10, 25, 50, 100, 250, 500, 1000, 2500, 10000, 100000, 1000000,
};

const char *server_qtype_name(enum server_qtype q)
{
	return q < SERVER_QTYPE_COUNT ? server_qtype_names[q] : "?";
}

unsigned server_hist_bound_us(unsigned i)
{
	return i < SERVER_HIST_BUCKETS - 1 ? server_hist_bounds[i] : 0;
}

const char *server_stat_name(enum server_stat i)
{
	if (i < SERVER_STAT_RCODE) {
		return server_stat_names[i];
	}
	if (i < SERVER_STAT_COUNT) {
		return server_rcode_names[i - SERVER_STAT_RCODE];
	}
	return "?";
}

/* ---- Counters and logging ---------------------------------------------- */

/* Adds d to one of w's counters. Only w's thread writes them, so a relaxed
 * load and store (plain moves on x86) suffice: no locked read-modify-write
 * on the query path, and server_get_stats may read them from another
 * thread without a data race. */
static void stat_add(struct worker *w, enum server_stat i, uint64_t d)
{
	uint64_t v = atomic_load_explicit(&w->stats[i], memory_order_relaxed);

	atomic_store_explicit(&w->stats[i], v + d, memory_order_relaxed);
}

static void stat_inc(struct worker *w, enum server_stat i)
{
	stat_add(w, i, 1);
}

static void stat_bump(_Atomic uint64_t *c, uint64_t d)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);

	atomic_store_explicit(c, v + d, memory_order_relaxed);
}

static uint64_t worker_now_us(void)
{
	struct timespec ts;

	/* vDSO: no system call. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Counts n requests that took us microseconds each. */
static void worker_count_duration(struct worker *w, uint64_t us, unsigned n)
{
	unsigned b = 0;

	while (b < SERVER_HIST_BUCKETS - 1 && us > server_hist_bounds[b]) {
		b++;
	}
	stat_bump(&w->hist[b], n);
	stat_bump(&w->hist_sum_us, us * n);
}

static enum server_qtype server_qtype_of(uint16_t qtype)
{
	switch (qtype) {
	case DNS_TYPE_A:
		return SERVER_QTYPE_A;
	case DNS_TYPE_AAAA:
		return SERVER_QTYPE_AAAA;
	case DNS_TYPE_SRV:
		return SERVER_QTYPE_SRV;
	case DNS_TYPE_PTR:
		return SERVER_QTYPE_PTR;
	case DNS_TYPE_TXT:
		return SERVER_QTYPE_TXT;
	case DNS_TYPE_CNAME:
		return SERVER_QTYPE_CNAME;
	case DNS_TYPE_NS:
		return SERVER_QTYPE_NS;
	case DNS_TYPE_SOA:
		return SERVER_QTYPE_SOA;
	case DNS_TYPE_ANY:
		return SERVER_QTYPE_ANY;
	default:
		return SERVER_QTYPE_OTHER;
	}
}

/* True at most SERVER_LOG_PER_SEC times a second per worker, so that a
 * flood of bad packets cannot fill the disk with debug lines. */
static bool worker_log_ok(struct worker *w)
{
	uint64_t now = uv_now(&w->loop);

	if (!log_enabled(LOG_LEVEL_DEBUG)) {
		return false;
	}
	if (now - w->log_window >= 1000) {
		w->log_window = now;
		w->log_count = 0;
	}
	return w->log_count++ < SERVER_LOG_PER_SEC;
}

/* ---- Snapshot and answering -------------------------------------------- */

/* Moves w to the newest snapshot if the slot's generation moved. Called
 * only at the start of a UDP batch or a TCP read, never between the
 * answer and the send of one query: each response comes from exactly one
 * snapshot. Worker thread only. */
static void worker_refresh_snapshot(struct worker *w)
{
	uint64_t gen = snapshot_slot_generation(w->srv->slot);
	struct snapshot *s;

	if (gen == w->snap_gen) {
		return;
	}
	s = snapshot_slot_acquire(w->srv->slot);
	if (w->snap != NULL) {
		snapshot_release(w->snap);
	}
	w->snap = s;
	w->snap_gen = gen;
	stat_inc(w, SERVER_STAT_SNAPSHOT_SWITCHES);
}

/* ANSWER_FORWARD with no forwarder (a bug, or its creation failed):
 * SERVFAIL, question echoed. Returns the length in w->resp, 0 for
 * nothing. */
static size_t worker_servfail(struct worker *w, const uint8_t *req, size_t len,
                              bool tcp)
{
	struct wire_query q;
	size_t cap;

	if (wire_parse_query(req, len, &q) == WIRE_Q_DROP) {
		return 0;
	}
	cap = tcp ? WIRE_MSG_MAX : wire_udp_limit(&q, w->srv->aopts->max_udp);
	return wire_build_error(&q, req, DNS_RCODE_SERVFAIL, true, false,
	                        w->resp, cap);
}

/* True if the client at addr may recurse (--allow-recursion). */
static bool worker_may_recurse(const struct worker *w,
                               const struct sockaddr *addr)
{
	const struct config_upstream *up = w->srv->up;

	return w->fwd != NULL &&
	       config_cidr_match(up->allow, up->n_allow, addr);
}

/* Counts one response of rcode. */
static void worker_count_response(struct worker *w, unsigned rcode,
                                  bool truncated)
{
	stat_inc(w, SERVER_STAT_RESPONSES);
	stat_inc(w, SERVER_STAT_RCODE + (rcode < SERVER_RCODE_OTHER
	                                         ? rcode
	                                         : SERVER_RCODE_OTHER));
	if (truncated) {
		stat_inc(w, SERVER_STAT_TRUNCATED);
	}
}

/* Answers req[0..len) into w->resp and counts the result. Returns the
 * response length, or 0 when nothing is to be sent now: dropped, or
 * handed to the forwarder, which replies through worker_forward_reply
 * (perhaps before this returns; *forwarded is then true). cl says where
 * such a reply goes and recurse whether the client may recurse. */
static size_t worker_answer(struct worker *w, const uint8_t *req, size_t len,
                            const struct forward_client *cl, bool recurse,
                            bool *forwarded)
{
	struct answer_info info;
	size_t rlen = 0;
	enum answer_verdict v;
	const struct answer_opts *ao = recurse ? &w->ao_rec : &w->ao_norec;

	*forwarded = false;
	v = answer_query(w->snap, ao, &w->ast, req, len, cl->tcp, w->resp,
	                 sizeof(w->resp), &rlen, &info);
	if (info.status != WIRE_Q_DROP) {
		stat_bump(&w->qtypes[server_qtype_of(info.qtype)], 1);
		stat_bump(&w->families[cl->addr.ss_family == AF_INET6], 1);
	}
	switch (v) {
	case ANSWER_REPLY:
		break;
	case ANSWER_FORWARD:
	case ANSWER_CHASE:
		if (w->fwd == NULL) {
			stat_inc(w, SERVER_STAT_FORWARD_FAIL);
			rlen = worker_servfail(w, req, len, cl->tcp);
			info.rcode = DNS_RCODE_SERVFAIL;
			info.truncated = false;
			break;
		}
		stat_inc(w, SERVER_STAT_FORWARDED);
		*forwarded = true;
		w->loop_dirty = true;
		if (v == ANSWER_CHASE) {
			forward_submit(w->fwd, cl, req, len, w->resp, rlen,
			               info.chase, info.chase_len);
		} else {
			forward_submit(w->fwd, cl, req, len, NULL, 0, NULL, 0);
		}
		return 0;
	case ANSWER_DROP:
	default:
		stat_inc(w, SERVER_STAT_DROPPED);
		if (qlog_enabled()) {
			qlog_query((const struct sockaddr *)&cl->addr, cl->tcp,
			           req, len, NULL, 0, UINT64_MAX);
		}
		return 0;
	}
	if (rlen < WIRE_HEADER_LEN || rlen > sizeof(w->resp)) {
		stat_inc(w, SERVER_STAT_DROPPED);
		return 0;
	}
	if (!info.in_zone && info.rcode == DNS_RCODE_REFUSED &&
	    w->fwd != NULL && !recurse) {
		stat_inc(w, SERVER_STAT_RECURSION_REFUSED);
	}
	worker_count_response(w, info.rcode, info.truncated);
	/* --log-queries: one relaxed load when off. */
	if (qlog_enabled()) {
		qlog_query((const struct sockaddr *)&cl->addr, cl->tcp, req,
		           len, w->resp, rlen, UINT64_MAX);
	}
	return rlen;
}

/* ---- UDP ---------------------------------------------------------------- */

static socklen_t udp_addr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in);
}

/* The EAGAIN failpoint (server.udp_again): true, with errno EAGAIN, for
 * every Nth UDP send call; off, one predictable branch. */
static bool udp_fp_again(struct worker *w)
{
	unsigned every = w->srv->udp_again;

	if (every == 0 || ++w->fp_sends % every != 0) {
		return false;
	}
	errno = EAGAIN;
	return true;
}

/* True for the errors that mean "the socket buffer is full, try later". */
static bool udp_err_again(int err)
{
	/* EWOULDBLOCK is EAGAIN on Linux. */
	return err == EAGAIN || err == ENOBUFS;
}

static void udp_poll_cb(uv_poll_t *h, int status, int events);

/* Polls l's socket for what is needed now: readable while it takes
 * queries (unless the worker's direct mode reads it), writable while
 * replies wait. uv_poll_start re-registers the descriptor with epoll, so
 * it is called only when the set changes (the queue starts or empties,
 * the lame duck, direct mode), never per batch. */
static void udp_poll_update(struct listener *l)
{
	int ev = (l->udp_reading && !l->direct ? UV_READABLE : 0) |
	         (l->q_head != NULL ? UV_WRITABLE : 0);
	int err;

	if (!l->udp_init || uv_is_closing((uv_handle_t *)&l->udp) ||
	    ev == l->udp_events) {
		return;
	}
	err = ev == 0 ? uv_poll_stop(&l->udp)
	              : uv_poll_start(&l->udp, ev, udp_poll_cb);
	if (err != 0) {
		log_err("server: udp poll failed worker=%u on %s: %s", l->w->id,
		        l->cfg->text, uv_strerror(err));
		return;
	}
	l->udp_events = ev;
}

/* Appends a copy of the reply resp[0..len) to addr to l's queue and polls
 * for writable. With the pool empty (or a reply larger than its entries,
 * which answer_query's UDP cap rules out), the reply is dropped and
 * counted. */
static void udp_enqueue(struct listener *l, const struct sockaddr *addr,
                        socklen_t alen, const uint8_t *resp, size_t len)
{
	struct worker *w = l->w;
	struct udp_send *s = w->free_sends;

	if (s == NULL || len > w->pool_entry || alen > sizeof(s->addr)) {
		stat_inc(w, SERVER_STAT_UDP_SEND_LOST);
		return;
	}
	w->free_sends = s->next;
	memcpy(s->buf, resp, len);
	s->len = len;
	memcpy(&s->addr, addr, alen);
	s->alen = alen;
	s->next = NULL;
	if (l->q_tail != NULL) {
		l->q_tail->next = s;
	} else {
		l->q_head = s;
	}
	l->q_tail = s;
	stat_inc(w, SERVER_STAT_UDP_QUEUED);
	udp_poll_update(l);
}

/* Counts a reply the kernel refused for good (not EAGAIN). */
static void udp_send_failed(struct worker *w, int err)
{
	stat_inc(w, SERVER_STAT_UDP_SEND_LOST);
	if (worker_log_ok(w)) {
		log_debug("server: udp send failed worker=%u err=%s", w->id,
		          strerror(err));
	}
}

/* Sends one reply now (a forwarded answer, or one too big for the batch
 * buffers): one sendto, or behind the replies already queued, or into
 * the queue when the socket buffer is full. */
static void udp_reply(struct listener *l, const struct sockaddr *addr,
                      const uint8_t *resp, size_t len)
{
	socklen_t alen = udp_addr_len(addr);
	ssize_t r;

	if (l->q_head != NULL) {
		udp_enqueue(l, addr, alen, resp, len);
		return;
	}
	do {
		r = udp_fp_again(l->w) ? -1
		                       : sendto(l->udp_fd, resp, len,
		                                MSG_DONTWAIT, addr, alen);
	} while (r < 0 && errno == EINTR);
	if (r >= 0) {
		return;
	}
	if (udp_err_again(errno)) {
		udp_enqueue(l, addr, alen, resp, len);
	} else {
		udp_send_failed(l->w, errno);
	}
}

/* Sends what l's queue holds, oldest first, sendmmsg by sendmmsg, until
 * the queue is empty or the socket full again; stops polling writable
 * once empty. */
static void udp_drain(struct listener *l)
{
	struct worker *w = l->w;

	while (l->q_head != NULL) {
		struct udp_send *s = l->q_head;
		unsigned n = 0;
		int r;

		for (; s != NULL && n < SERVER_UDP_BATCH; s = s->next, n++) {
			struct msghdr *m = &w->q_msgs[n].msg_hdr;

			w->q_iov[n].iov_base = s->buf;
			w->q_iov[n].iov_len = s->len;
			memset(m, 0, sizeof(*m));
			m->msg_name = &s->addr;
			m->msg_namelen = s->alen;
			m->msg_iov = &w->q_iov[n];
			m->msg_iovlen = 1;
		}
		r = udp_fp_again(w)
		            ? -1
		            : sendmmsg(l->udp_fd, w->q_msgs, n, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0 && udp_err_again(errno)) {
			break;
		}
		if (r < 0) {
			/* The first reply is refused for good: drop it. */
			udp_send_failed(w, errno);
			r = 1;
		}
		while (r-- > 0) {
			s = l->q_head;
			l->q_head = s->next;
			s->next = w->free_sends;
			w->free_sends = s;
		}
	}
	if (l->q_head == NULL) {
		l->q_tail = NULL;
	}
	udp_poll_update(l);
}

/* Sends the answers of the batch just received with one sendmmsg (the
 * system call per datagram is most of a DNS server's cost: PEERS.md).
 * A partial send is continued; what the socket does not take now (EAGAIN)
 * goes to the listener's queue, and so does everything while the queue
 * is not empty, so that replies leave in order. */
static void udp_flush(struct worker *w)
{
	struct listener *l = w->out_l;
	unsigned n = w->out_n;
	unsigned sent = 0;

	if (n == 0) {
		return;
	}
	w->out_n = 0;
	while (sent < n && l->q_head == NULL) {
		int r = udp_fp_again(w)
		                ? -1
		                : sendmmsg(l->udp_fd, w->out_msgs + sent,
		                           n - sent, MSG_DONTWAIT);

		if (r >= 0) {
			sent += (unsigned)r;
		} else if (errno == EINTR) {
			continue;
		} else if (udp_err_again(errno)) {
			break;
		} else {
			/* This one is refused for good (sendmmsg reports an
			 * error only for the first message of a call). */
			udp_send_failed(w, errno);
			sent++;
		}
	}
	for (; sent < n; sent++) {
		udp_enqueue(l, w->out_msgs[sent].msg_hdr.msg_name,
		            w->out_msgs[sent].msg_hdr.msg_namelen,
		            w->out_iov[sent].iov_base,
		            w->out_iov[sent].iov_len);
	}
	worker_count_duration(w, worker_now_us() - w->batch_t0_us, n);
}

/* Adds the answer in w->resp[0..len) to addr to the batch that udp_flush
 * sends. */
static void udp_queue(struct listener *l, const struct sockaddr *addr,
                      size_t len)
{
	struct worker *w = l->w;
	socklen_t alen = udp_addr_len(addr);
	struct msghdr *m;
	unsigned i;

	if (w->out_n != 0 && (w->out_l != l || w->out_n == SERVER_UDP_BATCH)) {
		udp_flush(w);
	}
	if (len > w->pool_entry) {
		udp_reply(l, addr, w->resp, len);
		return;
	}
	i = w->out_n++;
	w->out_l = l;
	memcpy(w->out_buf + (size_t)i * w->pool_entry, w->resp, len);
	memcpy(&w->out_addr[i], addr, alen);
	w->out_iov[i].iov_base = w->out_buf + (size_t)i * w->pool_entry;
	w->out_iov[i].iov_len = len;
	m = &w->out_msgs[i].msg_hdr;
	memset(m, 0, sizeof(*m));
	m->msg_name = &w->out_addr[i];
	m->msg_namelen = alen;
	m->msg_iov = &w->out_iov[i];
	m->msg_iovlen = 1;
}

static uint16_t sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	}
	if (sa->sa_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	return 0;
}

/* Loopback sources are never rate limited (RELIABILITY.md 1.2: NSD's RRL
 * throttled its own test traffic); checked here so that they skip RRL's
 * classification entirely. */
static bool sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
		        s6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* Response rate limiting (RELIABILITY.md 4, L12) of the answer in
 * w->resp[0..len) to addr: returns the length to send, the slipped (TC=1,
 * no records) form's, or 0 to send nothing. UDP only: TCP needs a real
 * source address, which defeats reflection. */
static size_t udp_rate_limit(struct worker *w, const struct sockaddr *addr,
                             size_t len)
{
	switch (rrl_check_response(w->rrl, addr, w->resp, len,
	                           uv_now(&w->loop))) {
	case RRL_PASS:
		return len;
	case RRL_SLIP:
		stat_inc(w, SERVER_STAT_RRL_SLIPPED);
		return rrl_slip(w->resp, len);
	case RRL_DROP:
	default:
		stat_inc(w, SERVER_STAT_RRL_DROPPED);
		return 0;
	}
}

/* Answers the datagram req[0..len) from addr, received on l: the answer
 * joins the batch, a forwarded query replies later through
 * worker_forward_reply. */
static void udp_query(struct listener *l, const uint8_t *req, size_t len,
                      const struct sockaddr *addr)
{
	struct worker *w = l->w;
	struct forward_client cl;
	bool fwd;

	/* Port 0 cannot receive; a reply would only feed a reflection
	 * loop with a spoofed source (RELIABILITY.md 2.1, smell 5). */
	if (sockaddr_port(addr) == 0) {
		stat_inc(w, SERVER_STAT_BAD_SOURCE);
		return;
	}
	stat_inc(w, SERVER_STAT_UDP_QUERIES);
	cl.ctx = l;
	cl.tcp = false;
	memcpy(&cl.addr, addr, udp_addr_len(addr));
	len = worker_answer(w, req, len, &cl, worker_may_recurse(w, addr),
	                    &fwd);
	if (len > 0 && w->rrl != NULL && !sockaddr_is_loopback(addr)) {
		len = udp_rate_limit(w, addr, len);
	}
	if (len > 0) {
		udp_queue(l, addr, len);
	}
}

/* Warms the caches for the n queries just received (see
 * snapshot_prefetch_slot): the index slots of all of them, then their
 * nodes, then their responses, so that the batch waits for about three
 * cache misses instead of three per query. A hint only: the queries are
 * parsed and answered afterwards as if this had not run. */
static void udp_prefetch(const struct worker *w, unsigned n)
{
	uint32_t hash[SERVER_UDP_BATCH];
	uint16_t qtype[SERVER_UDP_BATCH];
	const struct snapshot_node *node[SERVER_UDP_BATCH];
	uint8_t lname[DNAME_MAXLEN];
	bool ok[SERVER_UDP_BATCH];
	unsigned i;

	for (i = 0; i < n; i++) {
		size_t len = wire_peek_question(
			w->in_msgs[i].msg_hdr.msg_iov->iov_base,
			w->in_msgs[i].msg_len, lname, &qtype[i]);

		ok[i] = len != 0;
		if (ok[i]) {
			hash[i] = snapshot_prefetch_slot(w->snap, lname, len);
		}
	}
	for (i = 0; i < n; i++) {
		node[i] =
			ok[i] ? snapshot_prefetch_node(w->snap, hash[i]) : NULL;
	}
	for (i = 0; i < n; i++) {
		if (node[i] != NULL) {
			snapshot_prefetch_resp(w->snap, node[i], qtype[i]);
		}
	}
}

/* One recvmmsg of up to want datagrams on l into w->in_msgs, with flags
 * (MSG_DONTWAIT, or MSG_WAITFORONE in direct mode). Returns its result. */
static int udp_recv(struct listener *l, unsigned want, int flags)
{
	struct worker *w = l->w;
	unsigned i;
	int n;

	for (i = 0; i < w->in_used && i < SERVER_UDP_BATCH; i++) {
		w->in_msgs[i].msg_hdr.msg_namelen = sizeof(w->in_addr[i]);
	}
	n = recvmmsg(l->udp_fd, w->in_msgs, want, flags, NULL);
	/* And the entry after them, which a failed receive may have
	 * touched. */
	w->in_used = n > 0 ? (unsigned)n + 1 : 1;
	return n;
}

/* Answers the n datagrams the last udp_recv put in w->in_msgs, and sends
 * the answers with one sendmmsg. Each batch starts with the snapshot check
 * (one relaxed atomic load when nothing changed): the one place where UDP
 * moves to a newer snapshot, never inside a batch. */
static void udp_batch(struct listener *l, unsigned n)
{
	struct worker *w = l->w;
	unsigned i;

	worker_refresh_snapshot(w);
	w->batch_t0_us = worker_now_us();
	if (n > 1 && w->snap != NULL) {
		udp_prefetch(w, n);
	}
	for (i = 0; i < n; i++) {
		const struct msghdr *m = &w->in_msgs[i].msg_hdr;

		/* Cut short (a datagram over 64 KiB cannot be), or from a
		 * family we did not bind: not a query we would answer. */
		if ((m->msg_flags & MSG_TRUNC) ||
		    m->msg_namelen > sizeof(w->in_addr[i]) ||
		    (w->in_addr[i].sa.sa_family != AF_INET &&
		     w->in_addr[i].sa.sa_family != AF_INET6)) {
			continue;
		}
		udp_query(l, m->msg_iov->iov_base, w->in_msgs[i].msg_len,
		          &w->in_addr[i].sa);
	}
	udp_flush(w);
}

static bool worker_direct_want(const struct worker *w);

/* Reads and answers what l's socket holds: a batch per recvmmsg, until a
 * recvmmsg finds nothing or the budget is spent (see SERVER_UDP_BATCH). */
static void udp_read(struct listener *l)
{
	struct worker *w = l->w;
	unsigned round;
	unsigned done = 0;
	unsigned want;
	int n;

	for (round = 0; round < SERVER_UDP_ROUNDS && done < SERVER_UDP_BUDGET &&
	                l->udp_reading;
	     round++) {
		want = SERVER_UDP_BUDGET - done;
		if (want > SERVER_UDP_BATCH) {
			want = SERVER_UDP_BATCH;
		}
		n = udp_recv(l, want, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && !udp_err_again(errno) && errno != EINTR &&
			    worker_log_ok(w)) {
				log_debug(
					"server: udp receive failed worker=%u err=%s",
					w->id, strerror(errno));
			}
			return;
		}
		done += (unsigned)n;
		if (++l->win_batches >= SERVER_DIRECT_MIN && l == w->dl &&
		    !w->direct_on && w->srv->direct == CONFIG_UDP_DIRECT_AUTO) {
			w->direct_on = worker_direct_want(w);
		}
		udp_batch(l, (unsigned)n);
	}
}

/* The UDP socket of l is readable and/or writable. POLLERR (a pending
 * socket error) stops the handle in libuv: clear the error and poll
 * again, so that one ICMP error cannot stop a listener. */
static void udp_poll_cb(uv_poll_t *h, int status, int events)
{
	struct listener *l = h->data;

	if (status < 0) {
		int soerr = 0;
		socklen_t slen = sizeof(soerr);

		(void)getsockopt(l->udp_fd, SOL_SOCKET, SO_ERROR, &soerr,
		                 &slen);
		if (worker_log_ok(l->w)) {
			log_debug("server: udp socket error worker=%u err=%s",
			          l->w->id, strerror(soerr));
		}
		l->udp_events = 0;
		udp_poll_update(l);
		return;
	}
	if (events & UV_WRITABLE) {
		udp_drain(l);
	}
	if (events & UV_READABLE) {
		udp_read(l);
	}
}

static void udp_close_cb(uv_handle_t *h)
{
	struct listener *l = h->data;

	/* libuv has let go of the descriptor: now it can be closed. */
	if (l->udp_fd >= 0) {
		close(l->udp_fd);
		l->udp_fd = -1;
	}
}

/* ---- TCP ---------------------------------------------------------------- */

static void conn_lru_unlink(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		w->lru_head = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	} else {
		w->lru_tail = c->prev;
	}
	c->prev = NULL;
	c->next = NULL;
}

static void conn_lru_append(struct conn *c)
{
	struct worker *w = c->w;

	c->prev = w->lru_tail;
	c->next = NULL;
	if (w->lru_tail != NULL) {
		w->lru_tail->next = c;
	} else {
		w->lru_head = c;
	}
	w->lru_tail = c;
}

static void conn_free(struct conn *c)
{
	free(c->in);
	free(c->out[0].buf);
	free(c->out[1].buf);
	free(c);
}

static void conn_close_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (--c->handles == 0 && c->pending == 0) {
		conn_free(c);
	}
}

/* Closes c: both handles, then the memory once both close callbacks have
 * run. Writes still queued complete with UV_ECANCELED before that.
 * Idempotent. */
static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->closing) {
		return;
	}
	c->closing = true;
	if (c->listed) {
		conn_lru_unlink(c);
		c->listed = false;
		w->n_conns--;
		stat_add(w, SERVER_STAT_TCP_ACTIVE, UINT64_MAX); /* -1 */
	}
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);
	uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
}

static size_t conn_backlog(const struct conn *c)
{
	return c->out[0].len + c->out[1].len;
}

/* Makes room for need octets of stashed input. Returns false on OOM. */
static bool conn_in_reserve(struct conn *c, size_t need)
{
	uint8_t *p;

	if (need <= c->in_cap) {
		return true;
	}
	p = realloc(c->in, need);
	if (p == NULL) {
		return false;
	}
	c->in = p;
	c->in_cap = need;
	return true;
}

/* True if the stash starts with a message that is not complete yet. */
static bool conn_partial(const struct conn *c)
{
	if (c->in_len == 0) {
		return false;
	}
	return c->in_len < 2 || c->in_len - 2 < wire_get_u16(c->in);
}

/* Appends one response, with its length prefix, to the buffer being
 * filled. Returns 0 or -ENOMEM. */
static int conn_append(struct conn *c, const uint8_t *resp, size_t len)
{
	struct conn_out *o = &c->out[c->fill];
	size_t need = o->len + 2 + len;

	if (need > o->cap) {
		size_t cap = o->cap < SERVER_TCP_OUT_KEEP ? SERVER_TCP_OUT_KEEP
		                                          : o->cap * 2;
		uint8_t *p;

		if (cap > SERVER_TCP_OUT_MAX) {
			cap = SERVER_TCP_OUT_MAX;
		}
		if (cap < need) {
			cap = need;
		}
		p = realloc(o->buf, cap);
		if (p == NULL) {
			return -ENOMEM;
		}
		o->buf = p;
		o->cap = cap;
	}
	wire_put_u16(o->buf + o->len, (uint16_t)len);
	memcpy(o->buf + o->len + 2, resp, len);
	o->len = need;
	return 0;
}

static void conn_write_cb(uv_write_t *req, int status);

/* Starts writing the filled buffer unless a write is in flight (then
 * conn_write_cb calls this again). */
static void conn_flush(struct conn *c)
{
	struct conn_out *o = &c->out[c->fill];
	uv_buf_t b;
	int err;

	if (c->closing || c->writing || o->len == 0) {
		return;
	}
	b = uv_buf_init((char *)o->buf, (unsigned)o->len);
	err = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, conn_write_cb);
	if (err != 0) {
		conn_close(c);
		return;
	}
	c->writing = true;
	c->fill ^= 1;
}

/* Answers one complete message. */
static void conn_query(struct conn *c, const uint8_t *msg, size_t len)
{
	struct worker *w = c->w;
	size_t rlen;
	uint64_t t0;
	struct forward_client cl;
	bool fwd;

	stat_inc(w, SERVER_STAT_TCP_QUERIES);
	c->answered = true;
	/* A complete query makes c the most recently active: eviction
	 * takes the head, the connection idle the longest. */
	conn_lru_unlink(c);
	conn_lru_append(c);
	memset(&cl, 0, sizeof(cl));
	cl.ctx = c;
	cl.tcp = true;
	cl.addr.ss_family = c->v6 ? AF_INET6 : AF_INET;
	/* Counted before the submit: the reply may come at once. */
	c->pending++;
	t0 = worker_now_us();
	rlen = worker_answer(w, msg, len, &cl, c->recurse, &fwd);
	if (!fwd) {
		c->pending--;
	}
	if (rlen > 0 && conn_append(c, w->resp, rlen) != 0) {
		conn_close(c);
		return;
	}
	if (rlen > 0) {
		worker_count_duration(w, worker_now_us() - t0, 1);
	}
}

/* Answers, in order, each complete frame at the front of data[0..len)
 * (RFC 7766 6.2.1.1: pipelined queries must all be processed). Stops at
 * an incomplete frame, on a write backlog over SERVER_TCP_BACKLOG_HIGH
 * (then sets paused), or on a frame shorter than a DNS header (zero
 * included), which closes the connection (RFC 7766 8; RELIABILITY.md P01,
 * H01-H03). Returns the octets used. */
static size_t conn_frames(struct conn *c, const uint8_t *data, size_t len)
{
	size_t off = 0;

	while (!c->closing && len - off >= 2) {
		size_t n = wire_get_u16(data + off);

		if (n < WIRE_HEADER_LEN) {
			/* Not even a header (H01-H03 over TCP): the stream is
			 * not DNS, close it. */
			stat_inc(c->w, SERVER_STAT_TCP_BAD_FRAMES);
			conn_close(c);
			break;
		}
		if (len - off - 2 < n) {
			break;
		}
		if (conn_backlog(c) >= SERVER_TCP_BACKLOG_HIGH) {
			if (!c->paused) {
				c->paused = true;
				stat_inc(c->w, SERVER_STAT_TCP_PAUSED);
			}
			break;
		}
		conn_query(c, data + off + 2, n);
		off += 2 + n;
	}
	return off;
}

/* Answers what the stash holds and keeps the rest at its front. */
static void conn_drain(struct conn *c)
{
	size_t used = conn_frames(c, c->in, c->in_len);

	if (c->closing) {
		return;
	}
	if (used > 0) {
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (c->in_len == 0) {
		/* Partial messages are rare (slow or hostile clients):
		 * give the memory back rather than hold it per idle
		 * connection. */
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

static void conn_timer_cb(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct worker *w = c->w;
	bool io = c->timer_mode == CONN_TIMER_IO;

	stat_inc(w, io ? SERVER_STAT_TCP_IO_TIMEOUTS
	               : SERVER_STAT_TCP_IDLE_TIMEOUTS);
	if (worker_log_ok(w)) {
		log_debug("server: tcp %s timeout worker=%u",
		          io ? "io" : "idle", w->id);
	}
	conn_close(c);
}

/* Arms the single timer of c. While a message is incomplete: the I/O
 * timeout, counted from when that message began (not from its last
 * octet: a client sending one octet a second must not hold the
 * connection forever; RELIABILITY.md P06, P07). Otherwise the idle
 * timeout, counted from the last complete query (P04, P05). */
static void conn_arm_timer(struct conn *c)
{
	const struct config_server *cfg = c->w->srv->cfg;

	if (conn_partial(c)) {
		if (c->timer_mode != CONN_TIMER_IO || c->answered) {
			c->timer_mode = CONN_TIMER_IO;
			uv_timer_start(&c->timer, conn_timer_cb,
			               cfg->tcp_io_timeout_ms, 0);
		}
	} else if (c->timer_mode != CONN_TIMER_IDLE || c->answered) {
		c->timer_mode = CONN_TIMER_IDLE;
		uv_timer_start(&c->timer, conn_timer_cb,
		               cfg->tcp_idle_timeout_ms, 0);
	}
	c->answered = false;
}

/* True once everything answered has been written and no forward still
 * owes this connection a reply. */
static bool conn_done_writing(const struct conn *c)
{
	return !c->writing && c->out[c->fill].len == 0 && c->pending == 0;
}

/* After input was handled: stop reading if paused, write, re-arm. */
static void conn_after_input(struct conn *c)
{
	if (c->closing) {
		return;
	}
	if (c->paused) {
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
	conn_flush(c);
	if (!c->closing) {
		conn_arm_timer(c);
	}
}

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_write_cb(uv_write_t *req, int status)
{
	struct conn *c = req->data;
	struct conn_out *done = &c->out[c->fill ^ 1];

	c->writing = false;
	done->len = 0;
	if (done->cap > SERVER_TCP_OUT_KEEP) {
		free(done->buf);
		done->buf = NULL;
		done->cap = 0;
	}
	if (c->closing) {
		return; /* UV_ECANCELED from conn_close */
	}
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (c->paused && conn_backlog(c) <= SERVER_TCP_BACKLOG_LOW) {
		c->paused = false;
		worker_refresh_snapshot(c->w);
		conn_drain(c);
		if (c->closing) {
			return;
		}
		if (!c->paused && !c->eof &&
		    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb,
		                  conn_read_cb) != 0) {
			conn_close(c);
			return;
		}
		conn_arm_timer(c);
	}
	conn_flush(c);
	/* RFC 7766 6.2.4 (P10): after a half-close, the answers already
	 * owed are written, then the connection closes. */
	if (!c->closing && c->eof && !c->paused && conn_done_writing(c)) {
		conn_close(c);
	}
}

/* Reads go into the worker's shared buffer, except while a message is
 * incomplete: then straight into the stash, no further than the end of
 * that message, so the stash never holds more than one frame. */
static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t need;

	(void)suggested;
	if (c->in_len == 0) {
		*buf = uv_buf_init((char *)c->w->tcp_read, SERVER_TCP_READ);
		return;
	}
	need = c->in_len < 2 ? 2 : 2 + (size_t)wire_get_u16(c->in);
	if (need <= c->in_len || !conn_in_reserve(c, need)) {
		*buf = uv_buf_init(NULL, 0); /* UV_ENOBUFS: closes */
		return;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len,
	                   (unsigned)(need - c->in_len));
}

static void conn_on_eof(struct conn *c)
{
	/* A message cut by the half-close can never complete. */
	c->in_len = 0;
	c->eof = true;
	conn_flush(c);
	if (!c->closing && !c->paused && conn_done_writing(c)) {
		conn_close(c);
	}
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct worker *w = c->w;
	size_t n = (size_t)nread;
	size_t used;

	if (nread == 0) {
		return; /* EAGAIN */
	}
	if (nread < 0) {
		if (nread == UV_EOF) {
			conn_on_eof(c);
		} else {
			conn_close(c); /* reset, or UV_ENOBUFS */
		}
		return;
	}
	worker_refresh_snapshot(w);
	if (buf->base == (char *)w->tcp_read) {
		used = conn_frames(c, w->tcp_read, n);
		/* What is left (a partial frame, or whole frames held back
		 * by the backlog) must survive the next read into the shared
		 * buffer: stash it. At most SERVER_TCP_READ octets. */
		if (!c->closing && used < n) {
			if (!conn_in_reserve(c, n - used)) {
				conn_close(c);
				return;
			}
			memcpy(c->in, w->tcp_read + used, n - used);
			c->in_len = n - used;
		}
	} else {
		c->in_len += n;
		conn_drain(c);
	}
	conn_after_input(c);
}

static void conn_accept(struct listener *l)
{
	struct worker *w = l->w;
	struct conn *c;
	int err;

	/* At the cap, make room by evicting the connection idle the longest
	 * (NSD's tcp-count behaviour; RELIABILITY.md P08). */
	if (w->n_conns >= w->srv->cfg->tcp_max_conns && w->lru_head != NULL) {
		stat_inc(w, SERVER_STAT_TCP_EVICTED);
		conn_close(w->lru_head);
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		/* libuv stops accepting on this listener until uv_accept
		 * is called; the next connection retries. */
		log_err("server: out of memory accepting worker=%u", w->id);
		return;
	}
	c->w = w;
	uv_tcp_init(&w->loop, &c->tcp);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->wreq.data = c;
	c->handles = 2;
	err = uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&c->tcp);
	if (err != 0) {
		conn_close(c);
		return;
	}
	c->listed = true;
	c->v6 = l->cfg->addr.ss_family == AF_INET6;
	conn_lru_append(c);
	w->n_conns++;
	{
		struct sockaddr_storage peer;
		int plen = sizeof(peer);

		c->recurse =
			uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer,
		                           &plen) == 0 &&
			worker_may_recurse(w, (struct sockaddr *)&peer);
	}
	stat_inc(w, SERVER_STAT_TCP_ACCEPTED);
	stat_inc(w, SERVER_STAT_TCP_ACTIVE);
	/* Answers go out as soon as they are written, not after Nagle's
	 * delay waits on the client's ACK. */
	uv_tcp_nodelay(&c->tcp, 1);
	err = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb,
	                    conn_read_cb);
	if (err != 0) {
		conn_close(c);
		return;
	}
	conn_arm_timer(c);
}

static int listener_open_tcp(struct listener *l);

static void tcp_retry_cb(uv_timer_t *t)
{
	struct listener *l = t->data;

	if (l->w->stopping || l->w->draining) {
		return;
	}
	if (listener_open_tcp(l) != 0) {
		uv_timer_start(&l->retry, tcp_retry_cb, 1000, 0);
	}
}

/* Out of descriptors (RELIABILITY L11). libuv's accept loop tries again at
 * once after telling us (its reserve descriptor may be gone), so unless a
 * descriptor is freed here the worker spins: close the connection idle the
 * longest (uv_close closes its socket at once); with none to close, stop
 * listening for a second. */
static void tcp_out_of_fds(struct listener *l)
{
	struct worker *w = l->w;

	if (w->lru_head != NULL) {
		stat_inc(w, SERVER_STAT_TCP_EVICTED);
		conn_close(w->lru_head);
		return;
	}
	if (!l->retry_init) {
		if (uv_timer_init(&w->loop, &l->retry) != 0) {
			return;
		}
		l->retry_init = true;
		l->retry.data = l;
	}
	if (!uv_is_closing((uv_handle_t *)&l->tcp)) {
		uv_close((uv_handle_t *)&l->tcp, NULL);
	}
	if (worker_log_ok(w)) {
		log_warn(
			"server: out of file descriptors worker=%u; not accepting on %s for 1 s",
			w->id, l->cfg->text);
	}
	uv_timer_start(&l->retry, tcp_retry_cb, 1000, 0);
}

static void tcp_connection_cb(uv_stream_t *server, int status)
{
	struct listener *l = server->data;

	if (status == UV_EMFILE || status == UV_ENFILE) {
		tcp_out_of_fds(l);
		return;
	}
	if (status < 0) {
		if (worker_log_ok(l->w)) {
			log_debug("server: tcp accept failed worker=%u err=%s",
			          l->w->id, uv_strerror(status));
		}
		return;
	}
	if (l->w->stopping) {
		return;
	}
	conn_accept(l);
}

/* ---- Forwarded replies ----------------------------------------------------
 */

/* The forwarder's reply for cl (forward_reply_fn): UDP goes out at once;
 * TCP joins the connection's output, unless it closed meanwhile (then the
 * connection is freed here if this was the last thing it waited for). */
static void worker_forward_reply(void *arg, const struct forward_client *cl,
                                 const uint8_t *resp, size_t len,
                                 unsigned rcode, bool truncated)
{
	struct worker *w = arg;

	if (resp != NULL && len >= WIRE_HEADER_LEN) {
		worker_count_response(w, rcode, truncated);
	}
	if (!cl->tcp) {
		if (resp != NULL && len > 0 && !w->stopping) {
			udp_reply(cl->ctx, (const struct sockaddr *)&cl->addr,
			          resp, len);
		}
		return;
	}
	{
		struct conn *c = cl->ctx;

		c->pending--;
		if (c->closing) {
			if (c->handles == 0 && c->pending == 0) {
				conn_free(c);
			}
			return;
		}
		if (resp != NULL && len > 0 && conn_append(c, resp, len) != 0) {
			conn_close(c);
			return;
		}
		conn_flush(c);
		if (!c->closing && c->eof && !c->paused &&
		    conn_done_writing(c)) {
			conn_close(c);
		}
	}
}

/* ---- Sockets ------------------------------------------------------------ */

static int sock_set(int fd, int level, int name)
{
	int one = 1;

	if (setsockopt(fd, level, name, &one, sizeof(one)) != 0) {
		return -errno;
	}
	return 0;
}

/* Opens a socket of type for l and binds it. reuseport puts it in the
 * address's SO_REUSEPORT group (one socket per worker); without it the
 * bind fails on a port anyone else holds (the start-up probe). Returns
 * the fd, or a negative errno with *what naming the call that failed. */
static int sock_open(const struct config_listen *l, int type, bool reuseport,
                     const char **what)
{
	int family = l->addr.ss_family;
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;

	*what = "socket";
	if (fd < 0) {
		return -errno;
	}
	/* TCP: connections of a previous run in TIME_WAIT must not block
	 * the bind; SO_REUSEADDR does not let two listeners share a port. */
	if (type == SOCK_STREAM) {
		*what = "setsockopt(SO_REUSEADDR)";
		err = sock_set(fd, SOL_SOCKET, SO_REUSEADDR);
	}
	if (err == 0 && reuseport) {
		*what = "setsockopt(SO_REUSEPORT)";
		err = sock_set(fd, SOL_SOCKET, SO_REUSEPORT);
	}
	/* [::]:53 must not also take the IPv4 port: 0.0.0.0:53 may be
	 * listed separately. */
	if (err == 0 && family == AF_INET6) {
		*what = "setsockopt(IPV6_V6ONLY)";
		err = sock_set(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	}
	if (err == 0) {
		*what = "bind";
		if (bind(fd, (const struct sockaddr *)&l->addr, l->addr_len) !=
		    0) {
			err = -errno;
		}
	}
	if (err != 0) {
		close(fd);
		return err;
	}
	return fd;
}

/* Binds l with a socket that is not in any SO_REUSEPORT group and closes
 * it again. Two svcdns of one user would otherwise share the port without
 * an error, each getting half the queries. */
static int server_probe(const struct config_listen *l)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	const char *what;
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(types); i++) {
		int fd = sock_open(l, types[i], false, &what);

		if (fd < 0) {
			log_err("server: cannot listen on %s/%s: %s: %s",
			        l->text, types[i] == SOCK_DGRAM ? "udp" : "tcp",
			        what, strerror(-fd));
			return fd;
		}
		close(fd);
	}
	return 0;
}

/* Best effort: --udp-rcvbuf. SO_RCVBUF is capped at net.core.rmem_max
 * (208 KiB on a stock kernel); SO_RCVBUFFORCE is not, and works because
 * the sockets are opened before privileges are dropped, as root or with
 * CAP_NET_ADMIN. Otherwise the capped size stands, and the first listener
 * of worker 0 says so once (the others get the same). */
static void udp_set_rcvbuf(struct listener *l)
{
	unsigned want = l->w->srv->cfg->udp_rcvbuf;
	int v = (int)want;
	int got = 0;
	socklen_t len = sizeof(got);

	if (want == 0 || setsockopt(l->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &v,
	                            sizeof(v)) == 0) {
		return;
	}
	(void)setsockopt(l->udp_fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	/* The kernel reports twice what it grants (its bookkeeping). */
	if (l->w->id == 0 && l == &l->w->ls[0] &&
	    getsockopt(l->udp_fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
	    (unsigned)got / 2 < want) {
		log_info("server: udp receive buffer %d octets, not %u: "
		         "net.core.rmem_max caps it without CAP_NET_ADMIN, "
		         "and a larger burst is dropped",
		         got / 2, want);
	}
}

static int listener_open_udp(struct listener *l)
{
	struct worker *w = l->w;
	const char *what;
	int err;

	l->udp_fd = sock_open(l->cfg, SOCK_DGRAM, true, &what);
	if (l->udp_fd < 0) {
		err = l->udp_fd;
		goto out_log;
	}
	udp_set_rcvbuf(l);
	/* The socket stays ours (closed by udp_close_cb); libuv only polls
	 * it. */
	what = "uv_poll_init_socket";
	err = uv_poll_init_socket(&w->loop, &l->udp, l->udp_fd);
	if (err != 0) {
		goto out_log;
	}
	l->udp_init = true;
	l->udp.data = l;
	l->udp_reading = true;
	udp_poll_update(l);
	if (l->udp_events == 0) {
		what = "uv_poll_start";
		err = -EINVAL;
		goto out_log;
	}
	return 0;
out_log:
	log_err("server: cannot listen on %s/udp: %s: %s", l->cfg->text, what,
	        uv_strerror(err));
	return err;
}

static int listener_open_tcp(struct listener *l)
{
	struct worker *w = l->w;
	const char *what;
	int err;

	l->tcp_fd = sock_open(l->cfg, SOCK_STREAM, true, &what);
	if (l->tcp_fd < 0) {
		err = l->tcp_fd;
		goto out_log;
	}
	what = "uv_tcp_init";
	err = uv_tcp_init(&w->loop, &l->tcp);
	if (err != 0) {
		goto out_log;
	}
	l->tcp_init = true;
	l->tcp.data = l;
	what = "uv_tcp_open";
	err = uv_tcp_open(&l->tcp, l->tcp_fd);
	if (err != 0) {
		goto out_log;
	}
	l->tcp_fd = -1;
	what = "listen";
	err = uv_listen((uv_stream_t *)&l->tcp, SERVER_LISTEN_BACKLOG,
	                tcp_connection_cb);
	if (err != 0) {
		goto out_log;
	}
	return 0;
out_log:
	log_err("server: cannot listen on %s/tcp: %s: %s", l->cfg->text, what,
	        uv_strerror(err));
	return err;
}

/* ---- Workers ------------------------------------------------------------ */

/* Closes every handle of w (listeners, connections, the stop async), so
 * that its loop ends. Runs on w's loop, or on the main thread for a worker
 * that never started. */
static void worker_close_all(struct worker *w)
{
	size_t i;

	w->stopping = true;
	if (w->drain_timer_init &&
	    !uv_is_closing((uv_handle_t *)&w->drain_timer)) {
		uv_close((uv_handle_t *)&w->drain_timer, NULL);
	}
	/* First: pending forwards complete (with nothing to send) while the
	 * connections they point to still exist. */
	forward_close(w->fwd);
	for (i = 0; i < w->srv->cfg->n_listen && w->ls != NULL; i++) {
		struct listener *l = &w->ls[i];

		if (l->udp_init && !uv_is_closing((uv_handle_t *)&l->udp)) {
			uv_close((uv_handle_t *)&l->udp, udp_close_cb);
		}
		if (l->tcp_init && !uv_is_closing((uv_handle_t *)&l->tcp)) {
			uv_close((uv_handle_t *)&l->tcp, NULL);
		}
		if (l->retry_init && !uv_is_closing((uv_handle_t *)&l->retry)) {
			uv_close((uv_handle_t *)&l->retry, NULL);
		}
	}
	while (w->lru_head != NULL) {
		conn_close(w->lru_head);
	}
	if (w->async_init && !uv_is_closing((uv_handle_t *)&w->stop_async)) {
		uv_close((uv_handle_t *)&w->stop_async, NULL);
	}
	if (w->beat_init && !uv_is_closing((uv_handle_t *)&w->beat)) {
		uv_close((uv_handle_t *)&w->beat, NULL);
	}
}

static uint64_t server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void worker_direct_judge(struct worker *w);

static void worker_beat_cb(uv_timer_t *t)
{
	struct worker *w = t->data;

	atomic_store_explicit(&w->beat_ms, server_now_ms(),
	                      memory_order_relaxed);
	worker_direct_judge(w);
	if (w->srv->stall_ms != 0 && w->id == 0 && ++w->beats == 3) {
		struct timespec ts = {
			.tv_sec = w->srv->stall_ms / 1000,
			.tv_nsec = (long)(w->srv->stall_ms % 1000) * 1000000L
		};

		log_warn("server: failpoint: worker=0 blocks for %u ms",
		         w->srv->stall_ms);
		nanosleep(&ts, NULL);
	}
}

/* Forwards of w still waiting for their upstream. */
static uint64_t worker_forwards_inflight(const struct worker *w)
{
	uint64_t fs[FORWARD_STAT_COUNT];

	if (w->fwd == NULL) {
		return 0;
	}
	memset(fs, 0, sizeof(fs));
	forward_get_stats(w->fwd, fs);
	return fs[FORWARD_STAT_INFLIGHT];
}

/* True while some UDP reply of w waits for its socket to take it. */
static bool worker_udp_backlog(const struct worker *w)
{
	size_t i;

	for (i = 0; i < w->srv->cfg->n_listen && w->ls != NULL; i++) {
		if (w->ls[i].q_head != NULL) {
			return true;
		}
	}
	return false;
}

static void worker_drain_check(uv_timer_t *t)
{
	struct worker *w = t->data;

	if ((w->lru_head == NULL && worker_forwards_inflight(w) == 0 &&
	     !worker_udp_backlog(w)) ||
	    uv_now(&w->loop) >= w->drain_deadline) {
		worker_close_all(w);
	}
}

/* The lame duck (RELIABILITY.md L19): stop taking queries, then answer
 * what is already owed (TCP answers being written, forwards in flight,
 * UDP replies waiting for their socket)
 * for at most --lame-duck ms, then close everything. A second stop
 * request closes at once. */
static void worker_stop_cb(uv_async_t *a)
{
	struct worker *w = a->data;
	struct conn *c;
	struct conn *next;
	size_t i;

	if (w->draining || w->srv->cfg->lame_duck_ms == 0 ||
	    uv_timer_init(&w->loop, &w->drain_timer) != 0) {
		worker_close_all(w);
		return;
	}
	w->drain_timer_init = true;
	w->drain_timer.data = w;
	w->draining = true;
	w->drain_deadline = uv_now(&w->loop) + w->srv->cfg->lame_duck_ms;
	for (i = 0; i < w->srv->cfg->n_listen && w->ls != NULL; i++) {
		struct listener *l = &w->ls[i];

		/* No more queries; replies still queued go out. */
		l->udp_reading = false;
		udp_poll_update(l);
		if (l->tcp_init && !uv_is_closing((uv_handle_t *)&l->tcp)) {
			uv_close((uv_handle_t *)&l->tcp, NULL);
		}
	}
	/* As if every client had half-closed: no more queries; the answers
	 * owed are written, then each connection closes (RFC 7766 6.2.4). */
	for (c = w->lru_head; c != NULL; c = next) {
		next = c->next;
		if (c->closing) {
			continue;
		}
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->in_len = 0;
		c->eof = true;
		conn_flush(c);
		if (!c->closing && !c->paused && conn_done_writing(c)) {
			conn_close(c);
		}
	}
	uv_timer_start(&w->drain_timer, worker_drain_check, 0, 20);
}

static void worker_walk_cb(uv_handle_t *h, void *arg)
{
	struct worker *w = arg;

	log_err("server: worker=%u handle left open type=%s closing=%d", w->id,
	        uv_handle_type_name(uv_handle_get_type(h)), uv_is_closing(h));
}

/* Once the loop has no handles: closes it and lets go of the snapshot. */
static void worker_finish(struct worker *w)
{
	int err;

	if (w->loop_init) {
		err = uv_loop_close(&w->loop);
		if (err != 0) {
			/* A bug: some handle was not closed. Name it; the loop
			 * memory stays allocated, as libuv requires. */
			uv_walk(&w->loop, worker_walk_cb, w);
		} else {
			w->loop_init = false;
		}
	}
	if (w->snap != NULL) {
		snapshot_release(w->snap);
		w->snap = NULL;
	}
}

/* ---- Direct UDP mode ----------------------------------------------------
 *
 * libuv wakes a worker through epoll_wait, and then the worker reads the
 * socket: per wakeup, epoll_wait, the recvmmsg that brings the batch, the
 * sendmmsg of the answers and the recvmmsg that finds the socket empty. A
 * responder that only serves UDP sleeps in the recvmmsg itself
 * (MSG_WAITFORONE): two system calls per batch, and no epoll bookkeeping
 * in the kernel's wakeup path. Measured with dnsperf at 60k queries/s,
 * server on one core: 8.7 -> 7.8 us of server CPU per query, where the
 * kernel's loopback ceiling (../shared/bench/udp_limit.c) costs 7.3.
 *
 * So under steady UDP load a worker sleeps in recvmmsg on one listener's
 * socket (made blocking; the busiest one, worker_direct_pick), and
 * everything else its loop does (TCP, forwards, timers, the other
 * listeners, the stop request) reaches it through the server's waker
 * thread. The waker holds each worker's loop descriptor (libuv's epoll) in
 * an epoll of its own, EPOLLONESHOT, and sleeps until the earliest of the
 * workers' next timers (wake_at). When either is due it rings the worker
 * (waker_ring): sets rung, makes the socket non-blocking, so that a
 * recvmmsg about to start returns at once, and interrupts one in progress
 * with SERVER_WAKE_SIG. The worker then runs its loop once without waiting
 * (UV_RUN_NOWAIT), re-arms the ONESHOT and goes back to the socket. No
 * wakeup is lost: rung is stored before dstate is read, dstate before rung
 * is read (both sequentially consistent), and the non-blocking flag covers
 * a signal that arrives between the worker's look at rung and its system
 * call.
 *
 * A ring costs the waker's wakeup, a signal and a few system calls, more
 * than an epoll_wait: the mode pays only while UDP batches outnumber the
 * loop's other work (SERVER_DIRECT_MIN, SERVER_DIRECT_RATIO; entered as
 * soon as a beat interval calls for it, left after one that did not). An idle
 * worker, a reply backlog (which needs the socket polled for writable) and the
 * lame duck use the loop as before. */

static void server_wake_handler(int sig)
{
	(void)sig; /* it only interrupts recvmmsg */
}

/* Installs the handler of SERVER_WAKE_SIG, once per process. */
static int server_wake_install(void)
{
	static bool done;
	struct sigaction sa;

	if (done) {
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_wake_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: recvmmsg returns EINTR */
	if (sigaction(SERVER_WAKE_SIG, &sa, NULL) != 0) {
		return -errno;
	}
	done = true;
	return 0;
}

/* Makes the waker re-read the deadlines (and see wk_stop). */
static void server_waker_poke(struct server *s)
{
	uint64_t one = 1;

	if (write(s->wk_ev, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the waker wakes anyway. */
	}
}

static void worker_set_dstate(struct worker *w, enum worker_dstate st)
{
	uv_mutex_lock(&w->ring_lock);
	atomic_store(&w->dstate, (int)st);
	uv_mutex_unlock(&w->ring_lock);
}

/* (Re-)arms the waker's EPOLLONESHOT watch on w's loop descriptor. */
static int worker_direct_arm(struct worker *w)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = w;
	if (epoll_ctl(w->srv->wk_ep,
	              w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	              uv_backend_fd(&w->loop), &ev) != 0) {
		return -errno;
	}
	w->registered = true;
	return 0;
}

/* Back to the loop: the socket is polled and non-blocking again. */
static void worker_direct_leave(struct worker *w)
{
	struct listener *l = w->dl;

	if (l == NULL || !l->direct) {
		return;
	}
	l->direct = false;
	if (l->udp_fd >= 0 && fcntl(l->udp_fd, F_SETFL, O_NONBLOCK) != 0) {
		log_err("server: worker=%u cannot make its udp socket non-blocking: %s",
		        w->id, strerror(errno));
	}
	udp_poll_update(l);
}

/* Takes w->dl's socket out of the loop's poll and makes it blocking. */
static int worker_direct_enter(struct worker *w)
{
	struct listener *l = w->dl;
	int err = 0;

	l->direct = true;
	udp_poll_update(l);
	if (fcntl(l->udp_fd, F_SETFL, 0) != 0 ||
	    (!w->registered && worker_direct_arm(w) != 0)) {
		err = -errno;
		log_warn("server: worker=%u stays in its loop: %s", w->id,
		         strerror(errno));
		worker_direct_leave(w);
	}
	return err;
}

/* True if w may sleep in its socket now. */
static bool worker_direct_ok(const struct worker *w)
{
	const struct listener *l = w->dl;

	return l != NULL && w->direct_on && w->srv->wk_started &&
	       !w->draining && !w->stopping && l->udp_reading &&
	       l->q_head == NULL && l->udp_init &&
	       !uv_is_closing((const uv_handle_t *)&l->udp);
}

/* Answers w->dl's datagrams, sleeping in recvmmsg between batches, until
 * the loop has work: a ring, a timer due, a reply backlog or an error. */
static void worker_direct_wait(struct worker *w)
{
	struct listener *l = w->dl;
	uint64_t due;
	int timeout;
	int n;

	if (!l->direct && worker_direct_enter(w) != 0) {
		w->direct_on = false;
		return;
	}
	/* After the loop run that took the event that fired it. */
	if (atomic_exchange(&w->fired, false) && worker_direct_arm(w) != 0) {
		log_warn("server: worker=%u cannot re-arm its wakeup: %s",
		         w->id, strerror(errno));
		w->direct_on = false;
		return;
	}
	timeout = uv_backend_timeout(&w->loop);
	if (timeout == 0) {
		return; /* something is due now */
	}
	due = timeout < 0 ? UINT64_MAX : uv_now(&w->loop) + (uint64_t)timeout;
	worker_set_dstate(w, WD_DIRECT);
	atomic_store(&w->wake_at, due);
	if (due != UINT64_MAX && due + 1 < atomic_load(&w->srv->wk_until)) {
		server_waker_poke(w->srv);
	}
	for (;;) {
		atomic_store(&w->dstate, WD_RECV);
		if (atomic_load(&w->rung)) {
			break;
		}
		n = udp_recv(l, SERVER_UDP_BATCH, MSG_WAITFORONE);
		atomic_store(&w->dstate, WD_DIRECT);
		if (n > 0) {
			/* RRL and the log limit read the loop's clock. */
			uv_update_time(&w->loop);
			l->win_batches++;
			stat_inc(w, SERVER_STAT_UDP_DIRECT_BATCHES);
			w->loop_dirty = false;
			udp_batch(l, (unsigned)n);
			if (l->q_head != NULL || w->loop_dirty ||
			    uv_now(&w->loop) >= due) {
				break;
			}
			continue;
		}
		/* Interrupted, or non-blocking because of a ring: the top of
		 * the loop sees rung. */
		if (n < 0 && (errno == EINTR || (udp_err_again(errno) &&
		                                 atomic_load(&w->rung)))) {
			continue;
		}
		/* An error (a pending ICMP one is returned once) or EAGAIN
		 * without a ring: let the loop poll the socket for a while. */
		if (n < 0 && !udp_err_again(errno) && worker_log_ok(w)) {
			log_debug("server: udp receive failed worker=%u err=%s",
			          w->id, strerror(errno));
		}
		w->direct_on = false;
		break;
	}
	worker_set_dstate(w, WD_LOOP);
	atomic_store(&w->wake_at, UINT64_MAX);
	if (atomic_exchange(&w->rung, false)) {
		w->win_other++;
		/* The ring made the socket non-blocking. */
		if (fcntl(l->udp_fd, F_SETFL, 0) != 0) {
			w->direct_on = false;
		}
	}
}

/* True if the beat interval so far calls for direct mode (auto): w->dl's
 * batches against the loop's other wakeups and the rings. */
static bool worker_direct_want(const struct worker *w)
{
	unsigned udp = w->dl->win_batches;
	unsigned other = w->win_other;

	if (w->win_wakes > udp) {
		other += w->win_wakes - udp;
	}
	return udp >= SERVER_DIRECT_MIN && udp >= SERVER_DIRECT_RATIO * other;
}

/* With several listeners, direct mode reads the one that brought the most
 * batches in the last beat interval: the loop leaves the old one's socket
 * (the next direct wait takes the new one's), and the interval is judged
 * by the new one's batches. */
static void worker_direct_pick(struct worker *w)
{
	struct listener *best = w->dl;
	size_t i;

	for (i = 0; i < w->srv->cfg->n_listen; i++) {
		if (w->ls[i].win_batches > best->win_batches) {
			best = &w->ls[i];
		}
	}
	if (best != w->dl) {
		log_debug("server: worker=%u reads %s directly", w->id,
		          best->cfg->text);
		worker_direct_leave(w);
		w->dl = best;
	}
}

/* The policy, once per beat interval (see SERVER_DIRECT_MIN): direct
 * mode is entered as soon as the interval calls for it (udp_read), and
 * left when a whole interval did not. */
static void worker_direct_judge(struct worker *w)
{
	size_t i;

	if (w->dl != NULL) { /* NULL: --udp-direct off */
		worker_direct_pick(w);
	}
	switch (w->srv->direct) {
	case CONFIG_UDP_DIRECT_ON:
		w->direct_on = true;
		break;
	case CONFIG_UDP_DIRECT_OFF:
		w->direct_on = false;
		break;
	case CONFIG_UDP_DIRECT_AUTO:
	default:
		w->direct_on = worker_direct_want(w);
		break;
	}
	for (i = 0; i < w->srv->cfg->n_listen; i++) {
		w->ls[i].win_batches = 0;
	}
	w->win_wakes = 0;
	w->win_other = 0;
}

/* Rings w (see "Direct UDP mode"). Waker thread. */
static void waker_ring(struct worker *w)
{
	int st;

	uv_mutex_lock(&w->ring_lock);
	atomic_store(&w->rung, true);
	st = atomic_load(&w->dstate);
	if (st == WD_DIRECT || st == WD_RECV) {
		/* A recvmmsg about to start returns at once... */
		(void)fcntl(w->dl->udp_fd, F_SETFL, O_NONBLOCK);
		/* ...and one in progress fails with EINTR. */
		if (atomic_load(&w->dstate) == WD_RECV) {
			(void)pthread_kill(w->tid, SERVER_WAKE_SIG);
		}
	}
	uv_mutex_unlock(&w->ring_lock);
}

/* Rings the workers whose timer is due; returns when the next one is.
 * A millisecond late: libuv's clock (uv_now) may be the coarse one, up to
 * a tick behind uv_hrtime, and a ring that comes before the loop sees the
 * timer due only leads to another. */
static uint64_t waker_timers(struct server *s)
{
	uint64_t now = server_now_ms();
	uint64_t until = UINT64_MAX;
	unsigned i;

	for (i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];
		uint64_t at = atomic_load(&w->wake_at);

		if (at == UINT64_MAX) {
			continue;
		}
		if (at + 1 <= now) {
			if (atomic_compare_exchange_strong(&w->wake_at, &at,
			                                   UINT64_MAX)) {
				waker_ring(w);
			}
		} else if (at + 1 < until) {
			until = at + 1;
		}
	}
	return until;
}

static void waker_main(void *arg)
{
	struct server *s = arg;
	struct epoll_event evs[16];

	while (!atomic_load(&s->wk_stop)) {
		uint64_t until = waker_timers(s);
		uint64_t again;
		int timeout = -1;
		int n;
		int i;

		/* Published, then the deadlines read again: a worker that
		 * stored an earlier one before it saw this value is seen
		 * now; one that stores it later sees the value and pokes. */
		atomic_store(&s->wk_until, until);
		again = waker_timers(s);
		if (again < until) {
			continue;
		}
		if (until != UINT64_MAX) {
			uint64_t now = server_now_ms();

			timeout = until <= now ? 0
			          : until - now > INT32_MAX
			                  ? INT32_MAX
			                  : (int)(until - now);
		}
		n = epoll_wait(s->wk_ep, evs, (int)SVCDNS_ARRAY_SIZE(evs),
		               timeout);
		for (i = 0; i < n; i++) {
			struct worker *w = evs[i].data.ptr;

			if (w == NULL) {
				uint64_t v;

				if (read(s->wk_ev, &v, sizeof(v)) < 0) {
					/* EAGAIN: already read */
				}
				continue;
			}
			atomic_store(&w->fired, true);
			waker_ring(w);
		}
	}
}

/* Creates the waker's epoll and eventfd (not its thread). */
static int server_waker_init(struct server *s)
{
	struct epoll_event ev;

	s->wk_ep = epoll_create1(EPOLL_CLOEXEC);
	s->wk_ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wk_ep < 0 || s->wk_ev < 0) {
		return -errno;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(s->wk_ep, EPOLL_CTL_ADD, s->wk_ev, &ev) != 0) {
		return -errno;
	}
	return 0;
}

static void worker_main(void *arg)
{
	struct worker *w = arg;
	int alive = 1;

	log_debug("server: worker=%u running", w->id);
	w->tid = pthread_self();
	while (alive != 0) {
		if (worker_direct_ok(w)) {
			worker_direct_wait(w);
			alive = uv_run(&w->loop, UV_RUN_NOWAIT);
		} else {
			worker_direct_leave(w);
			w->win_wakes++;
			alive = uv_run(&w->loop, UV_RUN_ONCE);
		}
	}
	/* dstate is WD_LOOP (worker_direct_wait leaves it so): the waker
	 * touches neither the socket nor the thread any more. */
	worker_finish(w);
	log_debug("server: worker=%u stopped", w->id);
}

/* Allocates the UDP slab and the send pool of w. */
static int worker_alloc(struct worker *w)
{
	size_t i;

	w->udp_slab = malloc(SERVER_UDP_CHUNK * SERVER_UDP_BATCH);
	/* Replies are at most max(512, max_udp): answer_query caps UDP
	 * answers at wire_udp_limit(). */
	w->pool_entry = w->srv->aopts->max_udp;
	if (w->pool_entry < WIRE_UDP_MIN) {
		w->pool_entry = WIRE_UDP_MIN;
	}
	if (w->pool_entry > WIRE_MSG_MAX) {
		w->pool_entry = WIRE_MSG_MAX;
	}
	w->pool = calloc(SERVER_UDP_POOL, sizeof(*w->pool));
	w->pool_buf = calloc(SERVER_UDP_POOL, w->pool_entry);
	w->out_buf = calloc(SERVER_UDP_BATCH, w->pool_entry);
	w->ls = calloc(w->srv->cfg->n_listen, sizeof(*w->ls));
	if (w->udp_slab == NULL || w->pool == NULL || w->pool_buf == NULL ||
	    w->out_buf == NULL || w->ls == NULL) {
		return -ENOMEM;
	}
	/* Touched now, not by the first burst that reaches them: the page
	 * where each chunk starts (a query fits in it) and the batch's reply
	 * buffers. Otherwise each bigger batch than any before faults pages
	 * in on the query path, and RSS creeps up to the high-water mark for
	 * as long as the bursts keep growing (make soak's L21 saw +56 kB in
	 * 4 minutes from the slab alone). 64 pages for the slab, of its 4 MiB
	 * of address space. */
	for (i = 0; i < SERVER_UDP_BATCH; i++) {
		memset(w->udp_slab + i * SERVER_UDP_CHUNK, 0, SERVER_UDP_TOUCH);
	}
	memset(w->out_buf, 0, SERVER_UDP_BATCH * w->pool_entry);
	for (i = 0; i < SERVER_UDP_BATCH; i++) {
		struct msghdr *m = &w->in_msgs[i].msg_hdr;

		w->in_iov[i].iov_base = w->udp_slab + i * SERVER_UDP_CHUNK;
		w->in_iov[i].iov_len = SERVER_UDP_CHUNK;
		m->msg_name = &w->in_addr[i];
		m->msg_namelen = sizeof(w->in_addr[i]);
		m->msg_iov = &w->in_iov[i];
		m->msg_iovlen = 1;
	}
	for (i = 0; i < SERVER_UDP_POOL; i++) {
		w->pool[i].buf = w->pool_buf + i * w->pool_entry;
		w->pool[i].next = w->free_sends;
		w->free_sends = &w->pool[i];
	}
	for (i = 0; i < w->srv->cfg->n_listen; i++) {
		w->ls[i].w = w;
		w->ls[i].cfg = &w->srv->cfg->listen[i];
		w->ls[i].udp_fd = -1;
		w->ls[i].tcp_fd = -1;
	}
	return 0;
}

static int worker_init(struct worker *w)
{
	size_t i;
	int err = worker_alloc(w);

	if (err != 0) {
		log_err("server: out of memory for worker=%u", w->id);
		return err;
	}
	err = uv_loop_init(&w->loop);
	if (err != 0) {
		log_err("server: uv_loop_init failed worker=%u err=%s", w->id,
		        uv_strerror(err));
		return err;
	}
	w->loop_init = true;
	err = uv_async_init(&w->loop, &w->stop_async, worker_stop_cb);
	if (err != 0) {
		log_err("server: uv_async_init failed worker=%u err=%s", w->id,
		        uv_strerror(err));
		return err;
	}
	w->async_init = true;
	w->stop_async.data = w;
	err = uv_timer_init(&w->loop, &w->beat);
	if (err != 0) {
		log_err("server: uv_timer_init failed worker=%u err=%s", w->id,
		        uv_strerror(err));
		return err;
	}
	w->beat_init = true;
	w->beat.data = w;
	atomic_init(&w->beat_ms, server_now_ms());
	uv_timer_start(&w->beat, worker_beat_cb, SERVER_BEAT_MS,
	               SERVER_BEAT_MS);
	err = uv_mutex_init(&w->ring_lock);
	if (err != 0) {
		return err;
	}
	w->ring_lock_init = true;
	atomic_init(&w->dstate, WD_LOOP);
	atomic_init(&w->rung, false);
	atomic_init(&w->fired, false);
	atomic_init(&w->wake_at, UINT64_MAX);
	w->dl = w->srv->direct == CONFIG_UDP_DIRECT_OFF ? NULL : &w->ls[0];
	w->direct_on = w->srv->direct == CONFIG_UDP_DIRECT_ON;
	/* Generation first, then the snapshot: a publish in between leaves
	 * us with the newer snapshot and the older number, which only costs
	 * one needless refresh (the other order could miss one). */
	w->snap_gen = snapshot_slot_generation(w->srv->slot);
	w->snap = snapshot_slot_acquire(w->srv->slot);
	w->ast.rotor = w->id;
	w->ao_norec = *w->srv->aopts;
	w->ao_norec.forward = false;
	w->ao_norec.ra = false;
	w->ao_rec = *w->srv->aopts;
	w->ao_rec.forward = true;
	w->ao_rec.ra = true;
	if (w->srv->up->forward && w->srv->up->n_servers > 0) {
		w->fwd = forward_create(&w->loop, w->srv->up,
		                        w->srv->aopts->max_udp,
		                        worker_forward_reply, w);
		if (w->fwd == NULL) {
			return -ENOMEM;
		}
	}
	if (w->srv->cfg->rrl.rate != 0) {
		struct rrl_opts ro;

		rrl_opts_default(&ro);
		/* SO_REUSEPORT spreads a spoofed flood (many source ports)
		 * over the workers, each with its own table: each gets its
		 * share of the rate, so the whole stays at --rrl-rate. */
		ro.rate = (w->srv->cfg->rrl.rate + w->srv->cfg->threads - 1) /
		          w->srv->cfg->threads;
		ro.slip = w->srv->cfg->rrl.slip;
		ro.table = w->srv->cfg->rrl.table;
		ro.log_only = w->srv->cfg->rrl.log_only;
		ro.exempt = w->srv->cfg->rrl.exempt;
		ro.n_exempt = w->srv->cfg->rrl.n_exempt;
		w->rrl = rrl_create(&ro);
		if (w->rrl == NULL) {
			log_err("server: cannot create the rate limiter worker=%u",
			        w->id);
			return -ENOMEM;
		}
	}
	for (i = 0; i < w->srv->cfg->n_listen; i++) {
		err = listener_open_udp(&w->ls[i]);
		if (err == 0) {
			err = listener_open_tcp(&w->ls[i]);
		}
		if (err != 0) {
			return err;
		}
	}
	return 0;
}

/* Undoes worker_init for a worker whose thread never ran. */
static void worker_teardown(struct worker *w)
{
	size_t i;

	if (w->loop_init) {
		worker_close_all(w);
		uv_run(&w->loop, UV_RUN_DEFAULT);
	}
	worker_finish(w);
	for (i = 0; i < w->srv->cfg->n_listen && w->ls != NULL; i++) {
		if (w->ls[i].udp_fd >= 0) {
			close(w->ls[i].udp_fd);
		}
		if (w->ls[i].tcp_fd >= 0) {
			close(w->ls[i].tcp_fd);
		}
	}
}

/* ---- Public API --------------------------------------------------------- */

int server_create(const struct config_server *cfg,
                  const struct answer_opts *aopts,
                  const struct config_upstream *up, struct snapshot_slot *slot,
                  struct server **out)
{
	struct server *s;
	size_t i;
	int err = 0;

	*out = NULL;
	if (cfg->threads == 0 || cfg->n_listen == 0) {
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_listen; i++) {
		err = server_probe(&cfg->listen[i]);
		if (err != 0) {
			return err;
		}
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->cfg = cfg;
	if (getenv("SVCDNS_FAILPOINT_STALL_MS") != NULL) {
		s->stall_ms = (unsigned)strtoul(
			getenv("SVCDNS_FAILPOINT_STALL_MS"), NULL, 10);
	}
	if (getenv("SVCDNS_FAILPOINT_UDP_AGAIN") != NULL) {
		s->udp_again = (unsigned)strtoul(
			getenv("SVCDNS_FAILPOINT_UDP_AGAIN"), NULL, 10);
		if (s->udp_again < 2) {
			s->udp_again = 0; /* 1 would never send */
		}
		log_warn(
			"server: failpoint SVCDNS_FAILPOINT_UDP_AGAIN=%u: every %uth UDP send fails with EAGAIN",
			s->udp_again, s->udp_again);
	}
	s->direct = cfg->udp_direct;
	/* The tests' override, for daemons started by scripts that do not
	 * pass --udp-direct. */
	if (getenv("SVCDNS_FAILPOINT_UDP_DIRECT") != NULL) {
		const char *v = getenv("SVCDNS_FAILPOINT_UDP_DIRECT");

		s->direct = strcmp(v, "always") == 0  ? CONFIG_UDP_DIRECT_ON
		            : strcmp(v, "never") == 0 ? CONFIG_UDP_DIRECT_OFF
		                                      : CONFIG_UDP_DIRECT_AUTO;
		log_warn("server: failpoint SVCDNS_FAILPOINT_UDP_DIRECT=%s",
		         s->direct == CONFIG_UDP_DIRECT_ON    ? "always"
		         : s->direct == CONFIG_UDP_DIRECT_OFF ? "never"
		                                              : "auto");
	}
	s->wk_ep = -1;
	s->wk_ev = -1;
	atomic_init(&s->wk_stop, false);
	atomic_init(&s->wk_until, UINT64_MAX);
	s->aopts = aopts;
	s->up = up;
	s->slot = slot;
	s->workers = calloc(cfg->threads, sizeof(*s->workers));
	if (s->workers == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->n_workers = cfg->threads;
	for (i = 0; i < s->n_workers; i++) {
		s->workers[i].srv = s;
		s->workers[i].id = (unsigned)i;
	}
	if (s->direct != CONFIG_UDP_DIRECT_OFF &&
	    (server_wake_install() != 0 || server_waker_init(s) != 0)) {
		log_warn("server: no direct UDP mode: %s", strerror(errno));
		s->direct = CONFIG_UDP_DIRECT_OFF;
	}
	for (i = 0; i < s->n_workers && err == 0; i++) {
		err = worker_init(&s->workers[i]);
	}
	if (err != 0) {
		server_destroy(s);
		return err;
	}
	*out = s;
	return 0;
}

int server_start(struct server *s)
{
	size_t i;
	int err;

	s->started = true;
	if (s->direct != CONFIG_UDP_DIRECT_OFF) {
		err = uv_thread_create(&s->wk_thread, waker_main, s);
		if (err != 0) {
			log_warn(
				"server: no direct UDP mode: cannot start the waker: %s",
				uv_strerror(err));
		} else {
			s->wk_started = true;
		}
	}
	for (i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];

		err = uv_thread_create(&w->thread, worker_main, w);
		if (err != 0) {
			log_err("server: cannot start worker=%u: %s", w->id,
			        uv_strerror(err));
			server_stop(s);
			return err;
		}
		w->started = true;
	}
	return 0;
}

void server_stop(struct server *s)
{
	size_t i;

	if (s == NULL || !s->started || s->stopped) {
		return;
	}
	s->stopped = true;
	/* uv_async_send is the one libuv call that is safe from another
	 * thread; the worker closes its own handles. */
	for (i = 0; i < s->n_workers; i++) {
		if (s->workers[i].started) {
			uv_async_send(&s->workers[i].stop_async);
		}
	}
	for (i = 0; i < s->n_workers; i++) {
		if (s->workers[i].started) {
			uv_thread_join(&s->workers[i].thread);
		}
	}
	/* Last: a worker may need a ring until it has left direct mode. */
	if (s->wk_started) {
		atomic_store(&s->wk_stop, true);
		server_waker_poke(s);
		uv_thread_join(&s->wk_thread);
		s->wk_started = false;
	}
}

void server_destroy(struct server *s)
{
	size_t i;
	size_t k;

	if (s == NULL) {
		return;
	}
	server_stop(s);
	for (i = 0; i < s->n_workers; i++) {
		struct worker *w = &s->workers[i];

		if (!w->started) {
			worker_teardown(w);
		}
		for (k = 0; k < s->cfg->n_listen && w->ls != NULL; k++) {
			/* Closed by udp_close_cb unless the loop never ran
			 * it. */
			if (w->ls[k].udp_fd >= 0) {
				close(w->ls[k].udp_fd);
				w->ls[k].udp_fd = -1;
			}
		}
		forward_destroy(w->fwd);
		w->fwd = NULL;
		rrl_destroy(w->rrl);
		w->rrl = NULL;
		free(w->ls);
		free(w->pool_buf);
		free(w->out_buf);
		free(w->pool);
		free(w->udp_slab);
		if (w->ring_lock_init) {
			uv_mutex_destroy(&w->ring_lock);
		}
	}
	if (s->wk_ep >= 0) {
		close(s->wk_ep);
	}
	if (s->wk_ev >= 0) {
		close(s->wk_ev);
	}
	free(s->workers);
	free(s);
}

void server_get_stats(const struct server *s, struct server_stats *st)
{
	size_t i;
	size_t k;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < s->n_workers; i++) {
		const struct worker *w = &s->workers[i];

		for (k = 0; k < SERVER_STAT_COUNT; k++) {
			st->v[k] += atomic_load_explicit(&w->stats[k],
			                                 memory_order_relaxed);
		}
		for (k = 0; k < SERVER_QTYPE_COUNT; k++) {
			st->qtype[k] += atomic_load_explicit(
				&w->qtypes[k], memory_order_relaxed);
		}
		for (k = 0; k < 2; k++) {
			st->family[k] += atomic_load_explicit(
				&w->families[k], memory_order_relaxed);
		}
		for (k = 0; k < SERVER_HIST_BUCKETS; k++) {
			st->hist[k] += atomic_load_explicit(
				&w->hist[k], memory_order_relaxed);
		}
		st->hist_sum_us += atomic_load_explicit(&w->hist_sum_us,
		                                        memory_order_relaxed);
		if (w->rrl != NULL) {
			struct rrl_stats rs;

			rrl_get_stats(w->rrl, &rs);
			st->rrl.passed += rs.passed;
			st->rrl.exempt += rs.exempt;
			st->rrl.limited += rs.limited;
			st->rrl.slipped += rs.slipped;
			st->rrl.dropped += rs.dropped;
			st->rrl.log_only += rs.log_only;
			st->rrl.evictions += rs.evictions;
			for (k = 0; k < RRL_CLASS_COUNT; k++) {
				st->rrl.classes[k] += rs.classes[k];
			}
			st->rrl.slots += rs.slots;
		}
		if (w->fwd != NULL) {
			forward_get_stats(w->fwd, st->fwd);
		}
	}
}

int server_stalled(struct server *s, uint64_t max_ms, uint64_t *age_ms)
{
	uint64_t now = server_now_ms();
	size_t i;

	for (i = 0; s != NULL && s->started && !s->stopped && i < s->n_workers;
	     i++) {
		uint64_t beat = atomic_load_explicit(&s->workers[i].beat_ms,
		                                     memory_order_relaxed);

		if (now > beat && now - beat > max_ms) {
			*age_ms = now - beat;
			return (int)s->workers[i].id;
		}
	}
	return -1;
}

unsigned server_threads(const struct server *s)
{
	return s->n_workers;
}

_Static_assert(CONFIG_RRL_RATE_MAX == RRL_RATE_MAX &&
                       CONFIG_RRL_SLIP_MAX == RRL_SLIP_MAX &&
                       CONFIG_RRL_TABLE_MIN == RRL_TABLE_MIN &&
                       CONFIG_RRL_TABLE_MAX == RRL_TABLE_MAX,
               "config.h and rrl.h agree on the RRL bounds");
