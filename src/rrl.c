/* Response rate limiting: a per-worker table of token buckets. See rrl.h. */
#include "svcdns/rrl.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "svcdns/dname.h"
#include "svcdns/log.h"
#include "svcdns/wire.h"

#define RRL_WAYS 4u
/* Sets of the old table moved per rrl_check during a rebuild: 16 slots,
 * so a rebuild from 16 Ki slots spans 1,024 calls. */
#define RRL_MOVE_SETS 4u
/* Tokens are counted in thousandths, so that a refill after any number of
 * milliseconds is exact: rate tokens a second are rate thousandths a
 * millisecond. burst * 1000 <= 1e9 fits 32 bits. */
#define RRL_MILLI 1000u

/* One key and its bucket: 48 octets. */
struct rrl_slot {
	uint64_t name_hash;
	uint8_t prefix[16]; /* the source's network, host bits zero */
	uint64_t last_ms;   /* last refill */
	uint32_t tokens;    /* thousandths */
	uint32_t limited;   /* limited responses since the last token */
	uint32_t used;      /* the table's tick at the last use (LRU) */
	uint8_t family;     /* 0: free slot; 4 or 6 */
	uint8_t rclass;
	bool logged; /* this episode of limiting was logged */
};

_Static_assert(sizeof(struct rrl_slot) == 48, "RRL_DEFAULT_TABLE's memory");

enum rrl_stat {
	RRL_ST_PASSED,
	RRL_ST_EXEMPT,
	RRL_ST_LIMITED,
	RRL_ST_SLIPPED,
	RRL_ST_DROPPED,
	RRL_ST_LOG_ONLY,
	RRL_ST_EVICTIONS,
	RRL_ST_CLASS,
	RRL_ST_COUNT = RRL_ST_CLASS + RRL_CLASS_COUNT,
};

struct rrl {
	struct rrl_opts o;
	uint32_t cap;    /* burst * RRL_MILLI */
	size_t sets;     /* a power of two */
	size_t max_sets; /* o.table's: the table grows up to it */
	size_t live;     /* slots taken (family != 0) */
	uint64_t seed;
	struct rrl_slot *slots; /* owns: sets * RRL_WAYS */
	/* During a rebuild, the table being left (see rrl_grow). */
	struct rrl_slot *old; /* owns: old_sets * RRL_WAYS; NULL if none */
	size_t old_sets;
	size_t old_next;     /* sets before it have moved */
	uint32_t tick;       /* counts rrl_check calls that reach a slot */
	uint64_t log_window; /* now_ms / 1000 of the current log second */
	unsigned log_count;
	/* Written by the owner only, read by rrl_get_stats anywhere. */
	_Atomic uint64_t st[RRL_ST_COUNT];
	_Atomic uint64_t n_slots; /* sets * RRL_WAYS, for rrl_get_stats */
};

static const char *const rrl_class_names[RRL_CLASS_COUNT] = {
	[RRL_CLASS_ANSWER] = "answer",     [RRL_CLASS_NXDOMAIN] = "nxdomain",
	[RRL_CLASS_NODATA] = "nodata",     [RRL_CLASS_ERROR] = "error",
	[RRL_CLASS_REFERRAL] = "referral",
};

const char *rrl_class_name(unsigned rclass)
{
	return rclass < RRL_CLASS_COUNT ? rrl_class_names[rclass] : "?";
}

/* Owner-only increment: a relaxed load and store, no locked instruction
 * on the query path (as server.c's counters). */
static void rrl_stat_inc(struct rrl *r, unsigned i)
{
	uint64_t v = atomic_load_explicit(&r->st[i], memory_order_relaxed);

	atomic_store_explicit(&r->st[i], v + 1, memory_order_relaxed);
}

void rrl_opts_default(struct rrl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rate = RRL_DEFAULT_RATE;
	o->slip = RRL_DEFAULT_SLIP;
	o->v4_len = RRL_DEFAULT_V4_LEN;
	o->v6_len = RRL_DEFAULT_V6_LEN;
	o->table = RRL_DEFAULT_TABLE;
	o->exempt_loopback = true;
}

static bool rrl_opts_ok(const struct rrl_opts *o)
{
	unsigned burst = o->burst ? o->burst : o->rate;

	return o->rate >= 1 && o->rate <= RRL_RATE_MAX &&
	       burst <= RRL_RATE_MAX && o->slip <= RRL_SLIP_MAX &&
	       o->v4_len >= 1 && o->v4_len <= 32 && o->v6_len >= 1 &&
	       o->v6_len <= 128 && o->table >= RRL_TABLE_MIN &&
	       o->table <= RRL_TABLE_MAX &&
	       (o->n_exempt == 0 || o->exempt != NULL);
}

struct rrl *rrl_create(const struct rrl_opts *opts)
{
	struct rrl *r;
	size_t slots = RRL_WAYS;

	if (!rrl_opts_ok(opts)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->o = *opts;
	if (r->o.burst == 0) {
		r->o.burst = r->o.rate;
	}
	r->cap = r->o.burst * RRL_MILLI;
	while (slots < opts->table) {
		slots *= 2;
	}
	r->max_sets = slots / RRL_WAYS;
	if (slots > RRL_TABLE_START) {
		slots = RRL_TABLE_START;
	}
	r->sets = slots / RRL_WAYS;
	atomic_store_explicit(&r->n_slots, slots, memory_order_relaxed);
	r->slots = calloc(slots, sizeof(*r->slots));
	if (r->slots == NULL) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->seed = opts->seed;
	/* A secret seed: without it a client could pick names that all land
	 * in one set and evict the bucket of the flood it wants to hide. */
	if (r->seed == 0 &&
	    getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed)) {
		r->seed = (uint64_t)(uintptr_t)r ^ 0x9e3779b97f4a7c15u;
	}
	return r;
}

void rrl_destroy(struct rrl *r)
{
	if (r == NULL) {
		return;
	}
	free(r->old);
	free(r->slots);
	free(r);
}

/* ---- Keys ---------------------------------------------------------------- */

/* A 64-bit mix (the splitmix64 finaliser constants). */
static uint64_t rrl_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	x ^= x >> 31;
	return x;
}

/* Hash of bytes p[0..n) under seed: eight octets at a time, each word
 * mixed in, then the length. */
static uint64_t rrl_hash(uint64_t seed, const uint8_t *p, size_t n)
{
	uint64_t h = rrl_mix(seed ^ (uint64_t)n);
	size_t i = 0;

	while (i < n) {
		uint64_t w = 0;
		size_t k;

		for (k = 0; k < 8 && i < n; k++, i++) {
			w |= (uint64_t)p[i] << (8 * k);
		}
		h = rrl_mix(h ^ w) + 0x9e3779b97f4a7c15u;
	}
	return h;
}

/* Writes the network of src into prefix (16 octets, host bits zero) and
 * its family (4 or 6). Returns false for a family we do not limit. */
static bool rrl_prefix(const struct rrl *r, const struct sockaddr *src,
                       uint8_t prefix[16], uint8_t *family)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
		                            0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;
	unsigned bits;
	unsigned i;

	memset(prefix, 0, 16);
	if (src->sa_family == AF_INET) {
		a = (const uint8_t *)&(
			    (const struct sockaddr_in *)(const void *)src)
		            ->sin_addr;
		*family = 4;
	} else if (src->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)src)
		            ->sin6_addr.s6_addr;
		*family = 6;
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			a += 12;
			*family = 4;
		}
	} else {
		return false;
	}
	bits = *family == 4 ? r->o.v4_len : r->o.v6_len;
	for (i = 0; i * 8 < bits; i++) {
		prefix[i] = a[i];
	}
	if (bits % 8 != 0) {
		prefix[bits / 8] &= (uint8_t)(0xffu << (8 - bits % 8));
	}
	return true;
}

/* True for 127.0.0.0/8 and ::1 (in any family form), which are never
 * limited: the tests and local tools (RELIABILITY.md 1.2, NSD limiting
 * 127.0.0.0/24). */
static bool rrl_loopback(const uint8_t prefix[16], uint8_t family,
                         const struct sockaddr *src)
{
	const struct sockaddr_in6 *s6;

	if (family == 4) {
		return prefix[0] == 127;
	}
	s6 = (const struct sockaddr_in6 *)(const void *)src;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
}

/* ---- The table ----------------------------------------------------------- */

/* The hash that places a key in the table. */
static uint64_t rrl_key_hash(const struct rrl *r, const uint8_t prefix[16],
                             uint8_t family, uint8_t rclass, uint64_t name_hash)
{
	return rrl_mix(name_hash ^ rrl_hash(r->seed, prefix, 16) ^
	               ((uint64_t)family << 8 | rclass));
}

/* True if the bucket of s has refilled completely by now_ms: then the
 * slot says nothing a fresh one would not (a full bucket, nothing limited
 * since the last token, the log episode over), so it can be dropped. */
static bool rrl_slot_stale(const struct rrl *r, const struct rrl_slot *s,
                           uint64_t now_ms)
{
	uint64_t gap;

	if (s->tokens >= r->cap) {
		return true;
	}
	if (now_ms <= s->last_ms) {
		return false;
	}
	gap = now_ms - s->last_ms;
	/* gap >= cap: at least cap thousandths earned (rate >= 1); below
	 * it, gap * rate < 1e9 * 1e6 cannot overflow. */
	return gap >= r->cap ||
	       gap * r->o.rate >= (uint64_t)(r->cap - s->tokens);
}

/* The way of set a new key takes: a free one, else one whose bucket has
 * refilled (no state lost), else the least recently used one (ticks
 * compared modulo 2^32, so the wrap does no harm). */
static struct rrl_slot *rrl_victim(const struct rrl *r, struct rrl_slot *set,
                                   uint64_t now_ms)
{
	struct rrl_slot *victim = NULL;
	unsigned i;

	for (i = 0; i < RRL_WAYS; i++) {
		if (set[i].family == 0) {
			return &set[i];
		}
	}
	for (i = 0; i < RRL_WAYS; i++) {
		if (rrl_slot_stale(r, &set[i], now_ms)) {
			return &set[i];
		}
		if (victim == NULL ||
		    (int32_t)(set[i].used - victim->used) < 0) {
			victim = &set[i];
		}
	}
	return victim;
}

/* Takes the way victim (of the current table) for a key: counts the key
 * it replaces, if any (an eviction unless its bucket had refilled). */
static void rrl_take(struct rrl *r, struct rrl_slot *victim, uint64_t now_ms)
{
	if (victim->family == 0) {
		r->live++;
	} else if (!rrl_slot_stale(r, victim, now_ms)) {
		rrl_stat_inc(r, RRL_ST_EVICTIONS);
	}
}

/* Moves s, a slot of the table being left, into the current one (or drops
 * it if its bucket has refilled) and frees s. Returns where it went, or
 * NULL. */
static struct rrl_slot *rrl_move(struct rrl *r, struct rrl_slot *s,
                                 uint64_t now_ms)
{
	struct rrl_slot *to;
	uint64_t h;

	r->live--;
	if (rrl_slot_stale(r, s, now_ms)) {
		s->family = 0;
		return NULL;
	}
	h = rrl_key_hash(r, s->prefix, s->family, s->rclass, s->name_hash);
	to = rrl_victim(r, &r->slots[(h & (r->sets - 1)) * RRL_WAYS], now_ms);
	rrl_take(r, to, now_ms);
	*to = *s;
	s->family = 0;
	return to;
}

/* One step of a rebuild: moves the next RRL_MOVE_SETS sets of the old
 * table into the current one, and frees the old table after its last. */
static void rrl_move_some(struct rrl *r, uint64_t now_ms)
{
	size_t end = r->old_next + RRL_MOVE_SETS;
	size_t i;

	if (end > r->old_sets) {
		end = r->old_sets;
	}
	for (i = r->old_next * RRL_WAYS; i < end * RRL_WAYS; i++) {
		if (r->old[i].family != 0) {
			(void)rrl_move(r, &r->old[i], now_ms);
		}
	}
	r->old_next = end;
	if (end == r->old_sets) {
		free(r->old);
		r->old = NULL;
	}
}

/* Starts a rebuild: a new current table, twice as large or more (or as
 * large again when most slots hold buckets that have refilled: then it
 * only sheds those), into which the old one moves a few sets per
 * rrl_check (rrl_move_some), so that no call pays for the whole table
 * (nor for faulting in all of the new one's pages at once). On OOM the
 * table stays as it is and stops growing. */
static void rrl_grow(struct rrl *r, uint64_t now_ms)
{
	size_t n = r->sets * RRL_WAYS;
	size_t keep = 0;
	size_t new_sets = r->sets;
	struct rrl_slot *t;
	size_t i;

	for (i = 0; i < n; i++) {
		keep += r->slots[i].family != 0 &&
		        !rrl_slot_stale(r, &r->slots[i], now_ms);
	}
	/* At most an eighth full afterwards: at least as many new keys
	 * again before the next rebuild. */
	while (keep * 8 >= new_sets * RRL_WAYS && new_sets < r->max_sets) {
		new_sets *= 2;
	}
	t = calloc(new_sets * RRL_WAYS, sizeof(*t));
	if (t == NULL) {
		r->max_sets = r->sets;
		return;
	}
	r->old = r->slots;
	r->old_sets = r->sets;
	r->old_next = 0;
	r->slots = t;
	r->sets = new_sets;
	atomic_store_explicit(&r->n_slots, new_sets * RRL_WAYS,
	                      memory_order_relaxed);
}

/* The slot of the key in set, or NULL. */
static struct rrl_slot *rrl_find(struct rrl_slot *set, const uint8_t prefix[16],
                                 uint8_t family, uint8_t rclass,
                                 uint64_t name_hash)
{
	unsigned i;

	for (i = 0; i < RRL_WAYS; i++) {
		struct rrl_slot *s = &set[i];

		if (s->family == family && s->rclass == rclass &&
		    s->name_hash == name_hash &&
		    memcmp(s->prefix, prefix, 16) == 0) {
			return s;
		}
	}
	return NULL;
}

/* Finds the slot of the key, or takes one over (rrl_victim). During a
 * rebuild the key may still be in the old table: it moves over now. A new
 * key that would make the table more than a quarter full starts a rebuild
 * (rrl_grow), as long as the table is below its cap: a table of 4-way
 * sets fuller than that starts to push out keys still in use. */
static struct rrl_slot *rrl_lookup(struct rrl *r, const uint8_t prefix[16],
                                   uint8_t family, uint8_t rclass,
                                   uint64_t name_hash, uint64_t now_ms)
{
	uint64_t h = rrl_key_hash(r, prefix, family, rclass, name_hash);
	struct rrl_slot *s;

	if (r->old != NULL) {
		rrl_move_some(r, now_ms);
	}
	s = rrl_find(&r->slots[(h & (r->sets - 1)) * RRL_WAYS], prefix, family,
	             rclass, name_hash);
	if (s == NULL && r->old != NULL) {
		s = rrl_find(&r->old[(h & (r->old_sets - 1)) * RRL_WAYS],
		             prefix, family, rclass, name_hash);
		if (s != NULL) {
			s = rrl_move(r, s, now_ms);
		}
	}
	if (s != NULL) {
		s->used = r->tick++;
		return s;
	}
	if (r->old == NULL && r->sets < r->max_sets &&
	    r->live * 4 >= r->sets * RRL_WAYS) {
		rrl_grow(r, now_ms);
	}
	s = rrl_victim(r, &r->slots[(h & (r->sets - 1)) * RRL_WAYS], now_ms);
	rrl_take(r, s, now_ms);
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->rclass = rclass;
	s->name_hash = name_hash;
	memcpy(s->prefix, prefix, 16);
	s->tokens = r->cap; /* a new key starts with a full bucket */
	s->last_ms = now_ms;
	s->used = r->tick++;
	return s;
}

/* Adds the tokens earned since the last refill, up to the burst. A clock
 * that went backwards earns nothing. */
static void rrl_refill(const struct rrl *r, struct rrl_slot *s, uint64_t now_ms)
{
	uint64_t add;

	if (now_ms <= s->last_ms) {
		return;
	}
	add = (now_ms - s->last_ms) * r->o.rate;
	if (add >= (uint64_t)(r->cap - s->tokens)) {
		/* A full bucket ends an episode of limiting: the next one
		 * is logged again. */
		s->tokens = r->cap;
		s->logged = false;
	} else {
		s->tokens += (uint32_t)add;
	}
	s->last_ms = now_ms;
}

/* True at most RRL_LOG_PER_SEC times a second. */
static bool rrl_log_ok(struct rrl *r, uint64_t now_ms)
{
	if (!log_enabled(LOG_LEVEL_INFO)) {
		return false;
	}
	if (now_ms / 1000 != r->log_window) {
		r->log_window = now_ms / 1000;
		r->log_count = 0;
	}
	return r->log_count++ < RRL_LOG_PER_SEC;
}

/* Logs the start of limiting for a key (NSD's "ratelimit block"). */
static void rrl_log_limit(struct rrl *r, const struct rrl_slot *s,
                          const uint8_t *lname, size_t len)
{
	char name[DNAME_TEXT_MAX] = "-";
	char net[64];
	const uint8_t *p = s->prefix;

	if (len > 0 && dname_to_text(lname, len, name, sizeof(name)) != 0) {
		strcpy(name, "?");
	}
	if (s->family == 4) {
		snprintf(net, sizeof(net), "%u.%u.%u.%u/%u", p[0], p[1], p[2],
		         p[3], r->o.v4_len);
	} else {
		snprintf(net, sizeof(net),
		         "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/%u", p[0], p[1],
		         p[2], p[3], p[4], p[5], p[6], p[7], r->o.v6_len);
	}
	log_info("rrl: %s net=%s class=%s name=%s rate=%u",
	         r->o.log_only ? "would limit (log-only)" : "limiting", net,
	         rrl_class_name(s->rclass), name, r->o.rate);
}

enum rrl_action rrl_check(struct rrl *r, const struct sockaddr *src,
                          const uint8_t *lname, size_t len, unsigned rclass,
                          uint64_t now_ms)
{
	uint8_t prefix[16];
	uint8_t family;
	struct rrl_slot *s;
	uint64_t nh;

	if (rclass >= RRL_CLASS_COUNT || !rrl_prefix(r, src, prefix, &family)) {
		rrl_stat_inc(r, RRL_ST_PASSED);
		return RRL_PASS;
	}
	if ((r->o.exempt_loopback && rrl_loopback(prefix, family, src)) ||
	    config_cidr_match(r->o.exempt, r->o.n_exempt, src)) {
		rrl_stat_inc(r, RRL_ST_EXEMPT);
		return RRL_PASS;
	}
	nh = len > 0 ? rrl_hash(r->seed, lname, len) : 0;
	s = rrl_lookup(r, prefix, family, (uint8_t)rclass, nh, now_ms);
	rrl_refill(r, s, now_ms);
	if (s->tokens >= RRL_MILLI) {
		s->tokens -= RRL_MILLI;
		s->limited = 0;
		rrl_stat_inc(r, RRL_ST_PASSED);
		return RRL_PASS;
	}
	/* Once per episode (until the bucket is full again), and at most
	 * RRL_LOG_PER_SEC a second: a flood of keys cannot flood the log. */
	if (!s->logged && rrl_log_ok(r, now_ms)) {
		s->logged = true;
		rrl_log_limit(r, s, lname, len);
	}
	s->limited++;
	rrl_stat_inc(r, RRL_ST_LIMITED);
	rrl_stat_inc(r, RRL_ST_CLASS + rclass);
	if (r->o.log_only) {
		rrl_stat_inc(r, RRL_ST_LOG_ONLY);
		return RRL_PASS;
	}
	if (r->o.slip != 0 && s->limited % r->o.slip == 0) {
		rrl_stat_inc(r, RRL_ST_SLIPPED);
		return RRL_SLIP;
	}
	rrl_stat_inc(r, RRL_ST_DROPPED);
	return RRL_DROP;
}

/* ---- Responses ----------------------------------------------------------- */

/* Reads the header and question of resp: the counts, the query name (case
 * kept) and the offset past the question. */
static int rrl_head(const uint8_t *resp, size_t len, uint16_t n[4],
                    uint8_t *qname, size_t *qlen, size_t *qend)
{
	struct wire_rd rd;

	if (len < WIRE_HEADER_LEN || !(resp[2] & 0x80)) {
		return -EBADMSG;
	}
	n[0] = wire_get_u16(resp + 4);
	n[1] = wire_get_u16(resp + 6);
	n[2] = wire_get_u16(resp + 8);
	n[3] = wire_get_u16(resp + 10);
	*qlen = 0;
	*qend = WIRE_HEADER_LEN;
	if (n[0] == 0) {
		return 0;
	}
	if (n[0] != 1) {
		return -EBADMSG;
	}
	wire_rd_init(&rd, resp, len);
	rd.pos = WIRE_HEADER_LEN;
	wire_rd_name(&rd, qname, qlen, false);
	wire_rd_bytes(&rd, NULL, 4);
	*qend = rd.pos;
	return rd.err;
}

/* Skips one record at rd; *type gets its TYPE, *owner its owner (may be
 * NULL). */
static void rrl_skip_rr(struct wire_rd *rd, uint16_t *type, uint8_t *owner,
                        size_t *owner_len)
{
	uint8_t tmp[DNAME_MAXLEN];
	size_t tlen;

	wire_rd_name(rd, owner ? owner : tmp, owner ? owner_len : &tlen, true);
	*type = wire_rd_u16(rd);
	wire_rd_bytes(rd, NULL, 6); /* CLASS, TTL */
	wire_rd_bytes(rd, NULL, wire_rd_u16(rd));
}

/* Walks every record after the question and finds the first OPT of the
 * additional section: *opt and *opt_len (0 if none), and the extended
 * RCODE bits it carries in *ext (RFC 6891 6.1.3: the top octet of its
 * TTL). Returns 0 or -EBADMSG. */
static int rrl_find_opt(const uint8_t *resp, size_t len, size_t qend,
                        const uint16_t n[4], size_t *opt, size_t *opt_len,
                        unsigned *ext)
{
	unsigned total = (unsigned)n[1] + n[2] + n[3];
	struct wire_rd rd;
	unsigned i;

	*opt = 0;
	*opt_len = 0;
	*ext = 0;
	wire_rd_init(&rd, resp, len);
	rd.pos = qend;
	for (i = 0; i < total; i++) {
		size_t start = rd.pos;
		uint16_t type = 0;

		rrl_skip_rr(&rd, &type, NULL, NULL);
		if (rd.err != 0) {
			return -EBADMSG;
		}
		if (type == DNS_TYPE_OPT && i >= (unsigned)n[1] + n[2] &&
		    *opt_len == 0) {
			*opt = start;
			*opt_len = rd.pos - start;
			/* The owner is the root (1 octet) in any OPT we send;
			 * TYPE and CLASS follow, then the TTL. */
			if (resp[start] == 0) {
				*ext = resp[start + 5];
			}
		}
	}
	return 0;
}

/* Classifies a NOERROR response with no answer by its authority section:
 * an SOA -> NODATA, NS without SOA -> referral. */
static unsigned rrl_noerror_empty(const uint8_t *resp, size_t len, size_t qend,
                                  uint16_t ns)
{
	struct wire_rd rd;
	bool have_ns = false;
	uint16_t i;

	wire_rd_init(&rd, resp, len);
	rd.pos = qend;
	for (i = 0; i < ns && rd.err == 0; i++) {
		uint16_t type = 0;

		rrl_skip_rr(&rd, &type, NULL, NULL);
		if (type == DNS_TYPE_SOA) {
			return RRL_CLASS_NODATA;
		}
		have_ns |= type == DNS_TYPE_NS;
	}
	return have_ns && rd.err == 0 ? RRL_CLASS_REFERRAL : RRL_CLASS_NODATA;
}

/* The NXDOMAIN key: the SOA owner of the authority section (after the
 * answer section: a CNAME chain may precede it, RFC 6604), else the query
 * name less its first label. */
static void rrl_nx_name(const uint8_t *resp, size_t len, size_t qend,
                        uint16_t an, uint16_t ns, uint8_t *name,
                        size_t *name_len)
{
	uint8_t owner[DNAME_MAXLEN];
	size_t olen = 0;
	struct wire_rd rd;
	uint16_t i;

	wire_rd_init(&rd, resp, len);
	rd.pos = qend;
	for (i = 0; i < an; i++) {
		uint16_t type = 0;

		rrl_skip_rr(&rd, &type, NULL, NULL);
	}
	for (i = 0; i < ns && rd.err == 0; i++) {
		uint16_t type = 0;

		rrl_skip_rr(&rd, &type, owner, &olen);
		if (rd.err != 0) {
			break;
		}
		if (type == DNS_TYPE_SOA) {
			dname_copy_lower(name, owner, olen);
			*name_len = olen;
			return;
		}
	}
	if (*name_len > 1) {
		size_t skip = (size_t)name[0] + 1;

		memmove(name, name + skip, *name_len - skip);
		*name_len -= skip;
	}
}

int rrl_classify(const uint8_t *resp, size_t len, unsigned *rclass,
                 uint8_t *name, size_t *name_len)
{
	uint16_t n[4];
	size_t qend;
	size_t opt;
	size_t opt_len;
	unsigned ext;
	unsigned rcode;
	int err = rrl_head(resp, len, n, name, name_len, &qend);

	if (err != 0) {
		*name_len = 0;
		return err;
	}
	if (rrl_find_opt(resp, len, qend, n, &opt, &opt_len, &ext) != 0) {
		*name_len = 0;
		return -EBADMSG;
	}
	dname_lower(name, *name_len);
	/* BADVERS is NOERROR in the header and 1 in the OPT. */
	rcode = (ext << 4) | (wire_get_u16(resp + 2) & WIRE_RCODE_MASK);
	if (rcode == DNS_RCODE_NXDOMAIN) {
		*rclass = RRL_CLASS_NXDOMAIN;
		rrl_nx_name(resp, len, qend, n[1], n[2], name, name_len);
	} else if (rcode != DNS_RCODE_NOERROR || n[0] == 0) {
		/* The name of an error is the attacker's choice: one bucket
		 * per network and class, as BIND's errors-per-second. */
		*rclass = RRL_CLASS_ERROR;
		*name_len = 0;
	} else if (n[1] > 0) {
		*rclass = RRL_CLASS_ANSWER;
	} else {
		*rclass = rrl_noerror_empty(resp, len, qend, n[2]);
		if (*rclass == RRL_CLASS_REFERRAL) {
			*name_len = 0;
		}
	}
	return 0;
}

enum rrl_action rrl_check_response(struct rrl *r, const struct sockaddr *src,
                                   const uint8_t *resp, size_t len,
                                   uint64_t now_ms)
{
	uint8_t name[DNAME_MAXLEN];
	size_t name_len = 0;
	unsigned rclass = RRL_CLASS_ERROR;

	if (rrl_classify(resp, len, &rclass, name, &name_len) != 0) {
		rclass = RRL_CLASS_ERROR;
		name_len = 0;
	}
	return rrl_check(r, src, name, name_len, rclass, now_ms);
}

size_t rrl_slip(uint8_t *resp, size_t len)
{
	uint8_t qname[DNAME_MAXLEN];
	size_t qlen;
	size_t qend;
	size_t opt;
	size_t opt_len;
	unsigned ext;
	unsigned rcode;
	uint16_t n[4];
	uint16_t flags;

	if (rrl_head(resp, len, n, qname, &qlen, &qend) != 0 ||
	    rrl_find_opt(resp, len, qend, n, &opt, &opt_len, &ext) != 0) {
		return 0;
	}
	flags = wire_get_u16(resp + 2);
	rcode = (ext << 4) | (flags & WIRE_RCODE_MASK);
	if (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) {
		flags |= WIRE_FLAG_TC;
	}
	wire_put_u16(resp + 2, flags);
	wire_put_u16(resp + 6, 0);
	wire_put_u16(resp + 8, 0);
	wire_put_u16(resp + 10, opt_len ? 1 : 0);
	/* The OPT sits after the question, so it only moves down. */
	memmove(resp + qend, resp + opt, opt_len);
	return qend + opt_len;
}

void rrl_get_stats(const struct rrl *r, struct rrl_stats *st)
{
	uint64_t v[RRL_ST_COUNT];
	unsigned i;

	for (i = 0; i < RRL_ST_COUNT; i++) {
		/* Relaxed loads of counters another thread writes. The
		 * cast drops const only for C11's atomic_load prototype;
		 * nothing is written. */
		v[i] = atomic_load_explicit(
			(_Atomic uint64_t *)(uintptr_t)&r->st[i],
			memory_order_relaxed);
	}
	memset(st, 0, sizeof(*st));
	st->passed = v[RRL_ST_PASSED];
	st->exempt = v[RRL_ST_EXEMPT];
	st->limited = v[RRL_ST_LIMITED];
	st->slipped = v[RRL_ST_SLIPPED];
	st->dropped = v[RRL_ST_DROPPED];
	st->log_only = v[RRL_ST_LOG_ONLY];
	st->evictions = v[RRL_ST_EVICTIONS];
	for (i = 0; i < RRL_CLASS_COUNT; i++) {
		st->classes[i] = v[RRL_ST_CLASS + i];
	}
	st->slots = (size_t)atomic_load_explicit(
		(_Atomic uint64_t *)(uintptr_t)&r->n_slots,
		memory_order_relaxed);
}
