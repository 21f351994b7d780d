/* Forwarded answers: their canonical form and a bounded cache of them.
 *
 * An upstream answer is never relayed byte for byte. cache_msg_canon()
 * checks it against the question we sent (the 0x20 spelling included,
 * RFC 5452 9.1), parses every record within bounds, drops the records that
 * are out of bailiwick (not on the CNAME chain of the question, not above
 * its final name, or additional data from outside the answer's zone) and
 * writes the rest again with our own compression: the canonical message.
 * That message is what gets cached and what cache_msg_reply() turns into
 * the response a client sees (its ID, its question spelling, its flags and
 * size limit, TTLs lowered by the entry's age).
 *
 * The cache is a preallocated table of entries and a pool of fixed-size
 * chunks, with LRU eviction: nothing is allocated after cache_create().
 * One cache per worker, no locks. Core layer: no libuv, no c-ares; any
 * thread, but one thread per cache. */
#ifndef SVCDNS_CACHE_H
#define SVCDNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"
#include "svcdns/wire.h"

/* SERVFAIL from an upstream is cached this long (CoreDNS: 5 s). */
#define CACHE_SERVFAIL_TTL 5
/* Larger canonical messages are relayed but not cached. */
#define CACHE_ENTRY_MAX (16 * 1024)

/* Key flags: answers differ with DO (DNSSEC records) and CD. */
#define CACHE_KEY_DO 0x01u
#define CACHE_KEY_CD 0x02u

/* What cache_msg_canon() learned about an answer. */
struct cache_msg_info {
	uint8_t rcode;     /* 4-bit RCODE of the upstream answer */
	bool cacheable;    /* ttl is meaningful */
	bool negative;     /* NXDOMAIN or NODATA (RFC 2308) */
	uint32_t ttl;      /* how long the answer may be cached, seconds */
	unsigned scrubbed; /* records dropped as out of bailiwick */
	unsigned records;  /* records kept */
};

/* Scratch space of the encoder (about 40 KiB); one per thread. */
struct cache_enc;

struct cache_enc *cache_enc_create(void);
void cache_enc_destroy(struct cache_enc *e);

/* True if msg[0..len) is a response (QR=1, opcode QUERY) with one
 * question that is exactly qname (qname_len octets, compared byte for
 * byte, so the 0x20 spelling must be echoed), qtype and class IN, and ID
 * id. The cheap check run on every datagram before anything else.
 * Never reads outside msg[0..len). */
bool cache_msg_matches(const uint8_t *msg, size_t len, uint16_t id,
                       const uint8_t *qname, size_t qname_len, uint16_t qtype);

/* Checks the upstream answer up[0..up_len) against the question we sent
 * (qname exactly as sent, qtype; the ID is the caller's business) and
 * writes its canonical form to out (cap octets): ID 0, the upstream's
 * header flags with Z clear, the question lower-cased, the records kept
 * (see the top of this file), no OPT, no TSIG. An extended RCODE in the
 * upstream's OPT makes the answer unusable (-EBADMSG). Fills *info.
 * Returns 0, -EBADMSG (malformed, wrong question, not a response) or
 * -EMSGSIZE (cap too small). No allocation. */
SVCDNS_MUSTCHECK int cache_msg_canon(struct cache_enc *e, const uint8_t *up,
                                     size_t up_len, const uint8_t *qname,
                                     size_t qname_len, uint16_t qtype,
                                     uint8_t *out, size_t cap, size_t *out_len,
                                     struct cache_msg_info *info);

/* Joins prefix (a response from answer.c: header, question and a CNAME
 * chain in its answer section; anything after the answer section is
 * ignored) and msg (the canonical answer for the chain's target) into one
 * canonical message: the prefix's header ID and question, its answer
 * records, then msg's records re-encoded with their TTLs lowered by age
 * seconds (msg came from the cache); RCODE and flags from msg, AA clear
 * (CLUSTER-DNS row 18). Returns 0, -EBADMSG or -EMSGSIZE. */
SVCDNS_MUSTCHECK int cache_msg_join(struct cache_enc *e, const uint8_t *prefix,
                                    size_t prefix_len, const uint8_t *msg,
                                    size_t msg_len, uint32_t age, uint8_t *out,
                                    size_t cap, size_t *out_len);

/* Builds the response to the client query q (req its bytes) from the
 * canonical msg: the client's ID and question bytes (msg's question must
 * be the same name, type and class); QR; AA, TC, AD and the RCODE from msg
 * (AD only when the client set AD or DO, RFC 6840 5.7); RD and CD from the
 * client; RA set. Every TTL is lowered by age seconds (never below 0).
 * The result fits limit octets: when the answer and authority sections do
 * not, TC=1 with the question (and OPT) only; additional records that do
 * not fit are left out without TC (CLUSTER-DNS row 43). Our OPT (1232, DO
 * copied) is added iff the client sent one. Sets *truncated. Returns 0,
 * -EBADMSG or -EMSGSIZE. */
SVCDNS_MUSTCHECK int cache_msg_reply(const uint8_t *msg, size_t msg_len,
                                     uint32_t age, const struct wire_query *q,
                                     const uint8_t *req, size_t limit,
                                     uint8_t *out, size_t cap, size_t *out_len,
                                     bool *truncated);

struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t inserts;
	uint64_t evictions; /* LRU entries dropped to make room */
	uint64_t expired;   /* entries found past their TTL */
	uint64_t too_big;   /* not cached: over CACHE_ENTRY_MAX or the pool */
	size_t entries;     /* now */
	size_t max_entries;
	size_t chunks_used; /* now */
	size_t chunks;      /* the pool */
};

struct cache;

/* Creates a cache of max_entries entries (>= 1) with a pool of 512 octets
 * per entry on average, all allocated now. Returns NULL on OOM. */
struct cache *cache_create(size_t max_entries);
void cache_destroy(struct cache *c);

/* Looks up (lname, len: a lower-case wire name; qtype; kflags: CACHE_KEY_*)
 * at now_ms (a monotonic clock). On a hit copies the canonical message to
 * out (cap octets), sets *out_len and *age (whole seconds since it was
 * stored), makes the entry the most recently used and returns 0. An entry
 * past its TTL is dropped. Returns -ENOENT on a miss, -EMSGSIZE if cap is
 * too small. No allocation. */
SVCDNS_MUSTCHECK int cache_lookup(struct cache *c, const uint8_t *lname,
                                  size_t len, uint16_t qtype, uint8_t kflags,
                                  uint64_t now_ms, uint8_t *out, size_t cap,
                                  size_t *out_len, uint32_t *age);

/* Stores msg (msg_len octets) under the key for ttl seconds (> 0),
 * replacing an entry with the same key and evicting least recently used
 * entries while entries or chunks are short. Returns 0, or -EMSGSIZE when
 * the message cannot be cached (over CACHE_ENTRY_MAX, or larger than the
 * whole pool), -EINVAL for ttl 0. No allocation. */
SVCDNS_MUSTCHECK int cache_insert(struct cache *c, const uint8_t *lname,
                                  size_t len, uint16_t qtype, uint8_t kflags,
                                  const uint8_t *msg, size_t msg_len,
                                  uint32_t ttl, uint64_t now_ms);

void cache_get_stats(const struct cache *c, struct cache_stats *st);

#endif
