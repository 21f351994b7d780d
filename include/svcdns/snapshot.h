/* The immutable, reference-counted answer index built from the loaded
 * objects: every name svcdns serves with its responses prebuilt in wire
 * form. Built off the serving threads; published by one pointer swap;
 * workers read it without locks. */
#ifndef SVCDNS_SNAPSHOT_H
#define SVCDNS_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "svcdns/bluegreen.h"
#include "svcdns/common.h"
#include "svcdns/diag.h"
#include "svcdns/dname.h"
#include "svcdns/k8s.h"

enum snapshot_pods_mode {
	SNAPSHOT_PODS_DISABLED,
	SNAPSHOT_PODS_INSECURE,
	SNAPSHOT_PODS_VERIFIED,
};

#define SNAPSHOT_MAX_ZONES 8

struct snapshot_opts {
	/* Forward zones in text ("cluster.local"); the first is primary (PTR
	 * targets). Borrowed during snapshot_build only. */
	const char *const *zones;
	size_t n_zones;
	enum snapshot_pods_mode pods;
	uint32_t ttl; /* 0..3600, default 5 */
	/* Addresses of ns.dns.<zone> (the server's own); may be empty. */
	const struct k8s_ip *ns_addrs;
	size_t n_ns_addrs;
	/* Blue/green: the color files' contents (may be NULL), what each
	 * blue/green service served in the previous snapshot (may be NULL:
	 * the first build), and where to record what this one serves (may
	 * be NULL). Borrowed during snapshot_build only. */
	const struct bluegreen_colors *colors;
	const struct bluegreen_state *bg_prev;
	struct bluegreen_state *bg_next;
	/* The previous snapshot (may be NULL), borrowed during the build:
	 * the names of a namespace whose objects all come from the same
	 * loaded files as then (k8s_file.id) are copied from it instead of
	 * being built again. Namespaces with blue/green or ExternalName
	 * Services, and the targets of in-zone ExternalNames, are always
	 * built. Ignored when it was built with other zones, TTL, pods mode
	 * or server addresses. */
	const struct snapshot *reuse;
	/* Where the snapshot goes when its last reference is released (may
	 * be NULL: it is freed then): kept in that slot until the next build
	 * with the same recycle takes its memory, or snapshot_slot_trim().
	 * The slot must outlive every snapshot built so. */
	struct snapshot_slot *recycle;
};

/* What one blue/green service serves in a snapshot. */
struct snapshot_bluegreen {
	const char *ns;      /* arena (snapshot) */
	const char *name;    /* arena (snapshot) */
	const char *desired; /* NULL when unknown */
	const char *served;  /* NULL when no color is known */
	const char *previous;
	unsigned ready_served;
	unsigned ready_desired;
	unsigned min_ready;
	bool held;
	bool cutover;
	bool from_slices; /* no Pods loaded: EndpointSlices followed */
};

struct snapshot;
struct snapshot_scratch;

/* Builds a snapshot from the objects of files[0..n) (borrowed during the
 * call only: the snapshot copies what it keeps). serial is the SOA serial.
 * Problems in the data (an address served by no one, a service without
 * ports...) go to d as warnings. Returns NULL on OOM or bad opts (with a
 * diagnostic). Any thread. */
struct snapshot *snapshot_build(const struct k8s_file *const *files, size_t n,
                                const struct snapshot_opts *opts,
                                uint32_t serial, struct diag *d);

/* Reference counting; the builder holds the first reference. */
void snapshot_acquire(struct snapshot *s);
void snapshot_release(struct snapshot *s);

uint32_t snapshot_serial(const struct snapshot *s);

/* The blue/green services of s and what each serves. */
size_t snapshot_bluegreen(const struct snapshot *s,
                          const struct snapshot_bluegreen **out);

struct snapshot_stats {
	size_t names;     /* owner names indexed */
	size_t services;  /* services served */
	size_t endpoints; /* endpoint addresses served */
	size_t pods;      /* pods loaded */
	size_t bytes;     /* memory held by the snapshot */
	uint64_t build_us;
	size_t ns_built;    /* namespaces with Services built */
	size_t ns_reused;   /* ... taken over from opts.reuse */
	size_t ns_in_place; /* ... of them left where they were, in the
	                     * buffers both snapshots share */
	size_t recycled;    /* octets of a replaced snapshot's memory
	                     * taken over (opts.recycle) */
	size_t garbage;     /* octets of its buffers (bytes) that only
	                     * replaced snapshots used */
};
void snapshot_get_stats(const struct snapshot *s, struct snapshot_stats *st);

/* Writes every record as an RFC 1035 master file ($ORIGIN-free, absolute
 * names), zone by zone, SOA first, so that NSD or Knot can load it.
 * Returns 0 or -EIO. */
SVCDNS_MUSTCHECK int snapshot_dump(const struct snapshot *s, FILE *out);

/* The start-up cache: a snapshot saved to a file and read back by the next
 * start, which then answers before the manifests are parsed again.
 *
 * snapshot_save writes s to f (a regular file, from its start) with key,
 * the caller's fingerprint of the inputs (the manifest directory's state).
 * Snapshots with blue/green Services are not saved (their answers follow
 * the previous cutover state): -ENOTSUP. Returns 0 or -EIO. Any thread. */
SVCDNS_MUSTCHECK int snapshot_save(const struct snapshot *s, uint64_t key,
                                   FILE *f);

/* Reads back what this build of svcdns saved under the same key and
 * options (zones, TTL, pods mode, server addresses): 0 and *out (one
 * reference; later builds never copy from it). -ESTALE: another key,
 * options or build; -EINVAL: damaged (checksum, bounds); -ENOMEM. */
SVCDNS_MUSTCHECK int snapshot_load(FILE *f, uint64_t key,
                                   const struct snapshot_opts *opts,
                                   struct snapshot **out);

/* Where the current snapshot is published. publish and acquire_current hold
 * the mutex only around the pointer swap and the refcount increment;
 * workers call acquire_current only when generation() moved, so never per
 * query. */
struct snapshot_slot {
	pthread_mutex_t mu;
	struct snapshot *cur; /* owns one reference */
	_Atomic uint64_t generation;
	/* Snapshots built with this slot as opts.recycle whose last
	 * reference is gone, newest first (a lock-free stack), and the last
	 * such build's scratch memory. */
	_Atomic(struct snapshot *) dead;
	_Atomic(struct snapshot_scratch *) scratch;
	_Atomic size_t spare_bytes; /* what dead and scratch hold */
};

void snapshot_slot_init(struct snapshot_slot *slot);
/* Releases the current snapshot, then frees the dead ones. */
void snapshot_slot_fini(struct snapshot_slot *slot);

/* Frees the dead snapshots and the scratch the slot keeps for the next
 * build's memory (snapshot_opts.recycle); returns the octets they held.
 * Any thread. */
size_t snapshot_slot_trim(struct snapshot_slot *slot);

/* The octets the slot keeps that way now. Any thread. */
size_t snapshot_slot_spare_bytes(struct snapshot_slot *slot);
/* Makes s current, taking over the caller's reference; the previous one is
 * released (freed when its last reader lets go). Any thread. */
void snapshot_slot_publish(struct snapshot_slot *slot, struct snapshot *s);
/* Returns a new reference to the current snapshot, or NULL if none. */
struct snapshot *snapshot_slot_acquire(struct snapshot_slot *slot);
uint64_t snapshot_slot_generation(struct snapshot_slot *slot);

/* ---- Lookup interface for answer.c (worker threads, read only). ---- */

/* A response body prebuilt for one (name, qtype): the answer, authority and
 * additional sections, ready to be copied after the question. All offsets
 * are relative to the start of the body, which follows the question. Names
 * inside point into the question by compression pointers computed for the
 * owner name's length, so a body only fits a question for its own name;
 * the zone templates (negative answers) instead carry zptr patches. */
struct snapshot_resp {
	uint8_t rcode;   /* DNS_RCODE_NOERROR or DNS_RCODE_NXDOMAIN */
	uint8_t rotate;  /* answer RRs all rr_len long: may rotate */
	uint16_t rr_len; /* length of each answer RR when rotate */
	uint16_t ancount;
	uint16_t nscount;
	uint16_t n_glue;  /* additional records, each droppable */
	uint16_t n_zptr;  /* 2-octet pointers to the question's zone */
	uint16_t n_zcopy; /* zone-length spans to copy from the question */
	uint16_t n_rptr;  /* pointers into the body, stored body-relative */
	uint32_t an_len;  /* octets of the answer section */
	uint32_t ns_len;  /* octets of the authority section */
	const uint16_t *glue_len; /* arena (snapshot): n_glue lengths */
	const uint16_t *zptr;     /* arena (snapshot): body offsets */
	const uint16_t *zcopy;    /* arena (snapshot): body offsets */
	const uint16_t *rptr;     /* body offsets of 2-octet pointers whose
	                             value is body-relative: add the body's
	                             offset in the message and 0xc000 */
	const uint8_t *body;      /* arena (snapshot): an | ns | glue */
};

/* A zone svcdns is authoritative for: a forward (cluster) zone or one of
 * the reverse zones in-addr.arpa and ip6.arpa. */
struct snapshot_zone {
	uint8_t name[DNAME_MAXLEN]; /* lower case, wire form */
	uint8_t name_len;
	uint8_t labels;
	bool reverse;
	struct snapshot_resp nodata;   /* NOERROR, SOA in authority */
	struct snapshot_resp nxdomain; /* NXDOMAIN, SOA in authority */
};

struct snapshot_node;

/* The zone that lname (lower case, len octets) is in, or NULL; the
 * deepest match wins. *suffix_off gets the offset of the zone's labels in
 * lname. */
const struct snapshot_zone *snapshot_find_zone(const struct snapshot *s,
                                               const uint8_t *lname, size_t len,
                                               size_t *suffix_off);

/* The node for lname (lower case), or NULL if the name does not exist
 * (pod names are not nodes: see snapshot_pod_answer). */
const struct snapshot_node *snapshot_lookup(const struct snapshot *s,
                                            const uint8_t *lname, size_t len);

/* The prebuilt response for qtype at node n of s: fills *out (a view into
 * the snapshot) and returns true, or returns false for "the name exists
 * but has no such data" (answer the zone's nodata). ANY gets the first of
 * the node's RRsets (RFC 8482). */
bool snapshot_node_resp(const struct snapshot *s, const struct snapshot_node *n,
                        uint16_t qtype, struct snapshot_resp *out);

/* Cache warming for a batch of lookups. A lookup costs three dependent
 * memory reads (index slot, node, response header), each a cache miss
 * when the snapshot is larger than the caches (and after an idle period,
 * when it is not). server.c issues the reads of a whole UDP batch stage by
 * stage so that their misses overlap: snapshot_prefetch_slot for every
 * query, then snapshot_prefetch_node, then snapshot_prefetch_resp, then
 * it answers them. These are hints (__builtin_prefetch, which never
 * faults): they take any name and type, change nothing, and the answer
 * never depends on them. snapshot_prefetch_slot returns the name's index
 * hash; snapshot_prefetch_node returns the node the first slot of that
 * hash points to (unchecked: maybe another name) or NULL. Measured at 60k
 * queries/s on the benchmark's cluster: user CPU 1.11 -> 0.87 us per
 * query, the total 8.76 -> 8.55 us (10 interleaved runs; README,
 * Performance). */
uint32_t snapshot_prefetch_slot(const struct snapshot *s, const uint8_t *lname,
                                size_t len);
const struct snapshot_node *snapshot_prefetch_node(const struct snapshot *s,
                                                   uint32_t hash);
void snapshot_prefetch_resp(const struct snapshot *s,
                            const struct snapshot_node *n, uint16_t qtype);

/* Pod names <a-b-c-d>.<ns>.pod.<zone> (CLUSTER-DNS row 17). Given lname
 * in zone z (suffix at suffix_off), decides: returns false if lname is not
 * of that form or is not served by the pods mode (NXDOMAIN); otherwise
 * returns true and sets *ip to the address the name stands for. The
 * namespace names <ns>.pod.<zone> are ordinary nodes. */
bool snapshot_pod_answer(const struct snapshot *s,
                         const struct snapshot_zone *z, const uint8_t *lname,
                         size_t len, size_t suffix_off, struct k8s_ip *ip);

/* PTR records (CLUSTER-DNS rows 14-16) are kept per address, not as
 * nodes. When lname (lower case, in reverse zone z) is the reverse name of
 * an address the cluster knows, returns the number of PTR targets and
 * points *names at them (wire names, back to back, lower case); otherwise
 * returns 0 (the name does not exist). */
unsigned snapshot_ptr_lookup(const struct snapshot *s,
                             const struct snapshot_zone *z,
                             const uint8_t *lname, size_t len,
                             const uint8_t **names);

uint32_t snapshot_ttl(const struct snapshot *s);

#endif
