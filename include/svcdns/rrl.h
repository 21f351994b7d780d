/* Response rate limiting (RRL) for UDP answers (RELIABILITY.md 4 "RRL",
 * L12). A reflection attack sends queries with the victim's address as the
 * source; RRL bounds what we send to any one network for one answer:
 *
 *   key    = (source prefix: IPv4 /24, IPv6 /56 by default;
 *             name: the query name for answers and NODATA, the zone for
 *             NXDOMAIN (random names under one zone share a bucket), none
 *             for errors and referrals;
 *             response class: answer / NXDOMAIN / NODATA / error /
 *             referral)
 *   bucket = a token bucket per key: `rate` tokens a second, at most
 *            `burst` saved up; each response takes one token.
 *
 * A response with no token is "limited": every slip-th limited response
 * of a key goes out in the SLIP form (rrl_slip: the question and OPT only,
 * TC=1, so that a real client retries over TCP, where spoofing does not
 * work), the others are dropped. With slip 0 all are dropped, with slip 1
 * none. Loopback (unless exempt_loopback is off) and the exempt prefixes
 * are never limited; in log-only mode nothing is limited but everything is
 * counted as if it were.
 *
 * Apply it to UDP only: TCP cannot be spoofed and has its own caps.
 *
 * The table is an array of slots, 4-way set associative, indexed by a
 * keyed hash (a random seed per table, so that a client cannot aim keys at
 * one set), with the least recently used way of a full set replaced. It
 * starts at RRL_TABLE_START slots and grows as sources come, up to
 * opts.table, whatever the number of sources: a new key that would make it
 * more than a quarter full starts a rebuild into a table at least twice as
 * large, on the owner's thread, a few sets per rrl_check() call (no call
 * pays for the whole table), dropping the slots whose buckets have
 * refilled (they hold nothing a new slot would not). So a server that
 * sees few sources holds 48 KiB, not opts.table slots. One table per
 * worker, no locks: rrl_check() and rrl_slip() run on the owner's thread
 * only; rrl_get_stats() may run on any thread.
 *
 * Core layer: no libuv, no c-ares. */
#ifndef SVCDNS_RRL_H
#define SVCDNS_RRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "svcdns/common.h"
#include "svcdns/config.h"

/* Defaults. The rate is NSD's (rrl-ratelimit 200); BIND documents no
 * default and its examples use 5-10 for Internet-facing authoritative
 * servers whose clients are caching resolvers, Knot 3.2 none (off). Our
 * clients are resolvers without caches (glibc's) and forwarders (CoreDNS) whose
 * ndots:5 search-path expansion sends many NXDOMAINs of one zone, which
 * share one bucket: a low rate would throttle them. 200 still bounds
 * reflection at one victim network to 200 responses a second per key.
 * Slip 2 is NSD's and BIND's default (Knot 3.2 uses 1); /24 is everyone's,
 * /56 BIND's IPv6 default (NSD uses /64). */
#define RRL_DEFAULT_RATE   200u
#define RRL_DEFAULT_SLIP   2u
#define RRL_DEFAULT_V4_LEN 24u
#define RRL_DEFAULT_V6_LEN 56u
/* Slots per worker at most: 48 octets each, so 3 MiB once grown to it.
 * The table starts at RRL_TABLE_START (48 KiB) slots. */
#define RRL_DEFAULT_TABLE 65536u
#define RRL_TABLE_START   1024u
#define RRL_TABLE_MIN     64u
#define RRL_TABLE_MAX     (16u * 1024u * 1024u)
#define RRL_RATE_MAX      1000000u
#define RRL_SLIP_MAX      10u
/* rrl_check() logs "limiting" once per key and episode (until its bucket
 * is full again), at most this many lines a second. */
#define RRL_LOG_PER_SEC 5u

/* Response classes (NSD's and BIND's split): each has its own bucket. */
enum rrl_class {
	RRL_CLASS_ANSWER,   /* NOERROR with answer records */
	RRL_CLASS_NXDOMAIN, /* keyed by the zone, not the name */
	RRL_CLASS_NODATA,   /* NOERROR, no answer, an SOA (or nothing) */
	RRL_CLASS_ERROR,    /* any other rcode; keyed without a name */
	RRL_CLASS_REFERRAL, /* NOERROR, no answer, NS and no SOA; no name */
	RRL_CLASS_COUNT,
};

enum rrl_action {
	RRL_PASS, /* send the response as it is */
	RRL_SLIP, /* send rrl_slip()'s form of it instead */
	RRL_DROP, /* send nothing */
};

struct rrl_opts {
	unsigned rate;   /* responses a second per key, 1..RRL_RATE_MAX */
	unsigned burst;  /* tokens saved up; 0 = rate */
	unsigned slip;   /* 0 (drop all), 1 (slip all) .. RRL_SLIP_MAX */
	unsigned v4_len; /* prefix lengths that make one source: 1..32 */
	unsigned v6_len; /* and 1..128 */
	size_t table;    /* slots at most (the table grows to it); rounded
	                    up to a power of two */
	bool log_only;   /* count, never limit */
	/* 127.0.0.0/8 and ::1 are never limited (true by default; the L12
	 * load test turns it off to flood from 127.x sources). */
	bool exempt_loopback;
	/* Never limited either: borrowed, must outlive the table (the
	 * config's array). */
	const struct config_cidr *exempt;
	size_t n_exempt;
	/* Seeds the key hash; 0 takes one from getrandom() (tests pass a
	 * fixed one). */
	uint64_t seed;
};

struct rrl_stats {
	uint64_t passed;    /* with a token */
	uint64_t exempt;    /* from loopback or an exempt prefix */
	uint64_t limited;   /* without a token (log-only included) */
	uint64_t slipped;   /* of the limited: sent in the SLIP form */
	uint64_t dropped;   /* of the limited: not sent */
	uint64_t log_only;  /* of the limited: sent anyway (log-only mode) */
	uint64_t evictions; /* slots taken over from another key */
	uint64_t classes[RRL_CLASS_COUNT]; /* limited, by class */
	size_t slots;                      /* the table now */
};

struct rrl;

/* Fills o with the defaults above (loopback exempt, no other exempt
 * prefix, log_only false, seed 0). */
void rrl_opts_default(struct rrl_opts *o);

/* Creates a table. Returns NULL if an option is out of range (errno
 * EINVAL) or on OOM (ENOMEM). Any thread. */
struct rrl *rrl_create(const struct rrl_opts *opts);

/* Frees r; NULL is a no-op. */
void rrl_destroy(struct rrl *r);

/* Decides the fate of one UDP response of class rclass (enum rrl_class)
 * to src (AF_INET or AF_INET6; a v4-mapped IPv6 address counts as IPv4),
 * keyed by the lower-case wire name lname[0..len) (NULL/0 for none; see
 * the top of this file for which name). now_ms is a monotonic clock in
 * milliseconds (uv_now() of the worker's loop). Returns RRL_PASS,
 * RRL_SLIP or RRL_DROP; unknown families and classes pass. Owner thread;
 * no allocation except when the table grows (see the top of this file;
 * out of memory, it stays as it is). */
enum rrl_action rrl_check(struct rrl *r, const struct sockaddr *src,
                          const uint8_t *lname, size_t len, unsigned rclass,
                          uint64_t now_ms);

/* Classifies the response resp[0..len) and finds the name to key it on:
 * *rclass, and the lower-case wire name in name (DNAME_MAXLEN octets)
 * with its length in *name_len (0 for no name). NXDOMAIN is keyed by the
 * owner of the SOA in the authority section (the zone), or by the query
 * name without its first label when there is none. Returns 0, or -EBADMSG
 * when resp is not a response with a readable header and question. Pure,
 * any thread. */
SVCDNS_MUSTCHECK int rrl_classify(const uint8_t *resp, size_t len,
                                  unsigned *rclass, uint8_t *name,
                                  size_t *name_len);

/* rrl_classify() then rrl_check(). A response that cannot be classified
 * counts as an error with no name. */
enum rrl_action rrl_check_response(struct rrl *r, const struct sockaddr *src,
                                   const uint8_t *resp, size_t len,
                                   uint64_t now_ms);

/* Rewrites the response resp[0..len) in place into its SLIP form: the
 * header and question kept, TC=1 for NOERROR and NXDOMAIN (RFC 2181 9:
 * the client retries over TCP; TC is never set on an error response,
 * RELIABILITY.md 2.1, those are cut the same way without it), AN=NS=0 and
 * the additional section reduced to the response's OPT, if it had one.
 * The result is never longer than the response. Returns the new length,
 * or 0 if resp is malformed (then send nothing). Pure, any thread. */
size_t rrl_slip(uint8_t *resp, size_t len);

/* Copies the counters. Any thread: each is read with a relaxed atomic
 * load, so the copy is close to, not exactly, one instant. */
void rrl_get_stats(const struct rrl *r, struct rrl_stats *st);

/* "answer", "nxdomain", "nodata", "error", "referral" (metric labels). */
const char *rrl_class_name(unsigned rclass);

#endif
