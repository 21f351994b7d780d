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

#include "svcdns/common.h"
#include "svcdns/diag.h"
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
};

struct snapshot;

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

struct snapshot_stats {
	size_t names;	  /* owner names indexed */
	size_t services;  /* services served */
	size_t endpoints; /* endpoint addresses served */
	size_t pods;	  /* pods loaded */
	size_t bytes;	  /* memory held by the snapshot */
	uint64_t build_us;
};
void snapshot_get_stats(const struct snapshot *s, struct snapshot_stats *st);

/* Writes every record as an RFC 1035 master file ($ORIGIN-free, absolute
 * names), zone by zone, SOA first, so that NSD or Knot can load it.
 * Returns 0 or -EIO. */
SVCDNS_MUSTCHECK int snapshot_dump(const struct snapshot *s, FILE *out);

/* Where the current snapshot is published. publish and acquire_current hold
 * the mutex only around the pointer swap and the refcount increment;
 * workers call acquire_current only when generation() moved, so never per
 * query. */
struct snapshot_slot {
	pthread_mutex_t mu;
	struct snapshot *cur; /* owns one reference */
	_Atomic uint64_t generation;
};

void snapshot_slot_init(struct snapshot_slot *slot);
/* Releases the current snapshot. */
void snapshot_slot_fini(struct snapshot_slot *slot);
/* Makes s current, taking over the caller's reference; the previous one is
 * released (freed when its last reader lets go). Any thread. */
void snapshot_slot_publish(struct snapshot_slot *slot, struct snapshot *s);
/* Returns a new reference to the current snapshot, or NULL if none. */
struct snapshot *snapshot_slot_acquire(struct snapshot_slot *slot);
uint64_t snapshot_slot_generation(struct snapshot_slot *slot);

/* ---- Lookup interface for answer.c (worker threads, read only). ---- */

/* A response body prebuilt for one (name, qtype): the answer, authority
 * and additional sections, ready to follow the question. */
struct snapshot_resp;
struct snapshot_zone;

#endif
