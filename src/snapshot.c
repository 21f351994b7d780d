/* The snapshot: every name svcdns serves, with its responses prebuilt in
 * wire form, built from the loaded Kubernetes objects by the rules of
 * CLUSTER-DNS.md. Two halves: the builder (objects -> builder nodes with
 * their records -> templates), which runs off the serving threads, and the
 * read side (lookup, publish), which workers use without locks.
 *
 * Memory: a snapshot's small parts live in its arena, its tables in
 * malloc blocks, and its names, responses and PTR target names in three
 * logs it may share with the snapshots before and after it (struct
 * snap_log); the builder's scratch data lives in a second arena, left to
 * the next build. */
#include "svcdns/snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "svcdns/arena.h"
#include "svcdns/log.h"
#include "svcdns/selector.h"
#include "svcdns/wire.h"

#define SNAP_TXT_TTL     28800 /* dns-version TXT (CLUSTER-DNS row 20) */
#define SNAP_SOA_TTL_MAX 300   /* SOA TTL = min(ttl, 300) (row 22) */
#define SNAP_CHASE_MAX   8     /* CNAME chain limit (RFC 1034 3.6.2) */
#define SNAP_BODY_MAX                                     \
	(WIRE_MSG_MAX - 600)    /* leave room for header, \
	                           question and OPT */
#define SNAP_DICT_MAX       512 /* compression dictionary entries */
#define SNAP_SCHEMA_VERSION "1.1.0"
#define SNAP_BUF_MAX        (256u * 1024 * 1024) /* octets per buffer */

/* A node in the node buffer, at a 4-aligned offset: its answer types with
 * the offsets of their responses in the response buffer, then its name
 * (lower case). ANY is not stored: it takes the first type (the types are
 * in the order RFC 8482's minimal ANY prefers). */
struct snap_type {
	uint16_t qtype;
	uint16_t reserved;
	uint32_t off; /* in the response buffer */
};

struct snapshot_node {
	uint8_t len;
	uint8_t n_types;
	uint16_t reserved;
	struct snap_type types[];
	/* uint8_t name[len] follows types[n_types] */
};

/* A response in the response buffer, at a 4-aligned offset: this header,
 * the glue lengths, the zptr and zcopy offsets, then the body. */
struct snap_rhdr {
	uint8_t rcode;
	uint8_t rotate;
	uint16_t rr_len;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t n_glue;
	uint16_t n_zptr;
	uint16_t n_zcopy;
	uint16_t n_rptr;
	uint16_t an_len;
	uint16_t ns_len;
	uint16_t arr[]; /* glue_len[n_glue], zptr[n_zptr], zcopy[n_zcopy],
	                   rptr[n_rptr] */
};

/* The addresses that have PTR records: one entry per address, its target
 * names stored back to back in ptr_names. Answered at query time: there is
 * one per endpoint, and PTR queries are rare. */
struct snap_ptr {
	uint8_t family;
	uint8_t n_targets;
	uint16_t flags; /* SNAP_PTR_SHADOWED */
	uint32_t off;   /* into ptr_names */
	uint8_t addr[16];
};

/* The address also has endpoint names, left out because it is a
 * ClusterIP (row 15): a build that rebuilds the ClusterIP's namespace
 * cannot take this entry over from the previous snapshot. */
#define SNAP_PTR_SHADOWED 1u

/* The names of one namespace's Services: a range of the node buffer and a
 * range of the response buffer that point nowhere outside themselves, so a
 * later build whose inputs for the namespace are the same (fp) copies them
 * instead of building them again (snapshot_opts.reuse). */
struct snap_unit {
	const char *ns; /* arena (snapshot) */
	uint64_t fp;    /* sum of snap_mix64(file id) over its objects */
	uint32_t node_off;
	uint32_t node_end;
	uint32_t resp_off;
	uint32_t resp_end;
	uint32_t n_nodes;
	uint32_t endpoints;
	bool fresh; /* built every time: blue/green, ExternalName */
};

/* The index: open addressing over (hash, node offset); off 0 is empty. */
struct snap_slot {
	uint32_t hash;
	uint32_t off;
};

/* The node, response and PTR name buffers are logs: an address range
 * reserved once (SNAP_BUF_MAX), made writable as it fills, never moved. A
 * rebuild that takes most namespaces over appends to its predecessor's
 * logs: those namespaces (and the PTR entries all of whose targets are in
 * them) stay where they are, read by both snapshots, and only what is
 * built is written (a copy would write every page of the snapshot again,
 * and after a quiet period each of those pages is a fresh fault). What no
 * live snapshot indexes is garbage, until a build would leave more than
 * SNAP_LOG_GARBAGE_DIV-th of what it takes over as garbage: it starts new
 * logs and copies (builder_logs, builder_finish_ptrs). Each snapshot
 * counts a reference. */
struct snap_log {
	_Atomic unsigned refs;
	atomic_bool writing; /* a build appends (one at a time) */
	uint8_t *p;          /* SNAP_BUF_MAX reserved */
	size_t len;          /* written by published builds */
	size_t committed;    /* read-write from p */
};

#define SNAP_LOG_GARBAGE_DIV 8

/* A snapshot's logs: names and responses, and PTR target names. */
enum snap_log_kind {
	SNAP_LOG_NODES,
	SNAP_LOG_RESPS,
	SNAP_LOG_PTR_NAMES,
	SNAP_LOG_N,
};

/* A growable byte buffer, 4-aligned appends: malloc, or a view of a log
 * (log != NULL: p is log->p, len where this snapshot's data ends). */
struct snap_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	struct snap_log *log;
};

/* A (namespace, address) pair of a live pod, for pods verified mode, as
 * the build collects them. */
struct snap_podip {
	uint32_t hash;
	uint32_t ns;
	uint8_t family;
	uint8_t addr[16];
};

/* The slots of the open-addressing tables that keep them, one per family
 * (8 octets for IPv4: at 150,000 pods the table is 2 MiB, not 7); ns is
 * the namespace's slot in ns_table + 1 (0: empty slot). */
struct snap_pod4 {
	uint32_t ns;
	uint8_t addr[4];
};

struct snap_pod6 {
	uint32_t ns;
	uint8_t addr[16];
};

/* The snapshot's malloc blocks besides its snap_bufs, which a later build
 * can write again (snapshot_slot's recycling). */
enum snap_blk {
	SNAP_BLK_TABLE, /* table */
	SNAP_BLK_PTRS,  /* ptrs */
	SNAP_BLK_PTR_INDEX,
	SNAP_BLK_POD4,
	SNAP_BLK_POD6,
	SNAP_BLK_N,
};

/* A build's large scratch arrays, which the next build with the same
 * opts.recycle slot writes again (snapshot_scratch). */
enum snap_tmp {
	SNAP_TMP_BPTRS, /* builder.bptrs, grown by realloc */
	SNAP_TMP_MERGE, /* builder_merge_ptrs's output, next time */
	SNAP_TMP_COPIED,
	SNAP_TMP_INDEX,
	SNAP_TMP_UNITS,
	SNAP_TMP_SVCS,
	SNAP_TMP_SLICES,
	SNAP_TMP_PODS,
	SNAP_TMP_POD_NS,
	SNAP_TMP_GROUPED, /* builder_group_pods's array */
	SNAP_TMP_KEEP,    /* builder.keep */
	SNAP_TMP_N,
};

/* What a build leaves in its slot for the next one: its scratch arena
 * (emptied; not kept past SNAP_SCRATCH_ARENA_MAX) and arrays, not in use. */
#define SNAP_SCRATCH_ARENA_MAX (16u * 1024 * 1024)

struct snapshot_scratch {
	struct arena *tmp;
	void *p[SNAP_TMP_N];
	size_t len[SNAP_TMP_N];
};

struct snapshot {
	_Atomic unsigned refs;
	struct arena *arena; /* owns the small things below */
	uint32_t serial;
	uint32_t ttl;
	enum snapshot_pods_mode pods;
	struct snapshot_zone *zones;
	size_t n_zones;
	size_t n_fwd;            /* forward zones come first */
	struct snap_buf nodes;   /* owns: every node */
	struct snap_buf resps;   /* owns: every response */
	struct snap_slot *table; /* malloc */
	size_t mask;
	size_t n_nodes;
	const char **ns_table; /* namespace names, open addressing */
	size_t ns_mask;
	struct snap_pod4 *pod4; /* malloc: verified pod addresses, IPv4 */
	size_t pod4_mask;
	struct snap_pod6 *pod6; /* malloc: ... IPv6 */
	size_t pod6_mask;
	struct snapshot_bluegreen *bg; /* blue/green services */
	size_t n_bg;
	struct snap_ptr *ptrs; /* malloc: sorted by address */
	size_t n_ptrs;
	uint32_t *ptr_index; /* malloc: open addressing, entry index + 1 */
	size_t ptr_mask;
	struct snap_buf ptr_names; /* owns */
	struct snap_unit *units;   /* arena: sorted by namespace */
	size_t n_units;
	uint64_t opts_fp; /* what reuse must match: zones, TTL, ... */
	uint64_t pods_fp; /* the pod table's inputs: pod files, namespaces */
	uint32_t neg[SNAPSHOT_MAX_ZONES + 2][2]; /* zone negative templates */
	struct snapshot_stats stats;
	size_t blk[SNAP_BLK_N]; /* octets allocated for each block */
	/* Where the snapshot goes when its last reference is released
	 * (opts.recycle), or NULL; dead_next links it there. */
	struct snapshot_slot *recycle;
	struct snapshot *dead_next;
	size_t spare; /* what it added to the slot's spare_bytes, dead */
};

/* ------------------------------------------------------------------ */
/* Builder data: lives in the scratch arena.                           */

struct brr {
	struct brr *next;
	uint16_t type;
	uint32_t ttl;
	struct k8s_ip ip;          /* A, AAAA */
	uint16_t prio;             /* SRV */
	uint16_t weight;           /* SRV */
	uint16_t port;             /* SRV */
	const uint8_t *target;     /* SRV, PTR, CNAME, NS: lower-case wire */
	const struct bnode *tnode; /* the node named target, when known */
	uint8_t target_len;
	const char *txt; /* TXT: one string */
};

struct bnode {
	struct brr *rrs; /* in insertion order, duplicates included */
	struct brr *last;
	uint32_t hash;
	uint8_t len;
	uint8_t zone; /* index into the zone list */
	bool cname;
	uint8_t name[]; /* lower case */
};

/* A compression dictionary entry: a name suffix written at abs_off. */
struct tb_dict {
	uint16_t abs_off;
	uint8_t len;
	const uint8_t *name; /* the suffix, lower case */
};

/* Template builder: one response body at a time. */
struct tb {
	uint8_t buf[WIRE_MSG_MAX];
	size_t pos;  /* body octets so far */
	size_t qend; /* absolute offset of the body (12 + qname + 4) */
	int err;
	uint16_t zptr[8];
	uint16_t n_zptr;
	uint16_t zcopy[1024];
	uint16_t n_zcopy;
	uint16_t rptr[1024]; /* pointers into the body, body-relative */
	uint16_t n_rptr;
	bool rptr_full; /* more than rptr holds: point absolutely */
	uint16_t glue_len[4096];
	uint16_t n_glue;
	uint16_t ancount;
	uint16_t nscount;
	struct tb_dict dict[SNAP_DICT_MAX];
	unsigned n_dict;
	const uint8_t *zone; /* the zone of the owner name, lower case */
	uint8_t zone_len;
};

struct builder {
	struct snapshot *snap;
	struct arena *tmp; /* scratch, freed after the build */
	struct diag *diag;
	const struct snapshot_opts *opts;
	struct bnode **nodes; /* malloc: insertion order */
	size_t n_nodes;
	size_t cap_nodes;
	struct bindex *index; /* malloc: open addressing */
	size_t index_mask;
	const struct brr **sel; /* malloc: records picked for a template */
	size_t cap_sel;
	struct tb *tb;          /* malloc */
	const uint8_t *primary; /* first forward zone (PTR targets) */
	uint8_t primary_len;
	/* Every object, collected over all files. */
	const struct k8s_service **svcs;
	size_t n_svcs;
	const struct k8s_slice **slices;
	size_t n_slices;
	const struct k8s_pod **pods;
	size_t n_pods;
	const char **nss; /* distinct namespace names (tmp) */
	uint64_t *ns_fp;  /* per nss entry: sum of snap_mix64(file id) */
	bool *ns_fresh;   /* per nss entry: never copied */
	size_t n_nss;
	size_t cap_nss;
	uint32_t *ns_slots; /* malloc: open addressing, nss index + 1 */
	size_t ns_slots_mask;
	size_t last_ns;              /* the nss index found last */
	const struct snapshot *prev; /* opts->reuse, when usable */
	struct bunit *units;         /* malloc: by namespace */
	size_t n_units;
	size_t units_first_node; /* nodes before it are zone structure */
	size_t reused_nodes;
	size_t reused_bptrs;      /* b->bptrs[0..) taken over, in order */
	struct snap_slot *copied; /* malloc: copied nodes, to index */
	size_t n_copied;
	uint64_t pods_fp;    /* sum of snap_mix64(file id) over pods */
	uint32_t same_floor; /* responses below are not shared */
	size_t cap_bg;
	bool pods_grouped; /* b->pods grouped by namespace */
	uint32_t *pod_ns;  /* malloc: per pod, its nss index (collect) */
	size_t *ns_pods;   /* malloc: per nss entry, its first pod; n_nss+1 */
	bool *ns_pods_sorted; /* malloc: per nss entry, pods sorted by name */
	uint32_t neg[SNAPSHOT_MAX_ZONES + 2][2]; /* zone negative templates */
	struct bsame *same; /* malloc: shared responses, open addressing */
	size_t same_mask;
	size_t n_same;
	struct bptr *bptrs; /* malloc: PTR records to make */
	size_t n_bptrs;
	size_t cap_bptrs;
	uint64_t t[6]; /* phase times, for SVCDNS_DEBUG_BUILD */
	/* Blocks of a dead snapshot, to write again (their pages are
	 * mapped already); what is left at the end is freed. */
	void *kept[SNAP_BLK_N];
	size_t kept_len[SNAP_BLK_N];
	/* opts.recycle: the last build's scratch (arrays not in use), and
	 * the length of each kind's array in use now. */
	struct snapshot_scratch *scr;
	size_t tmp_len[SNAP_TMP_N];
	/* The logs: a dead snapshot's that nothing else holds (to write
	 * again), and those appended to (builder_may_append). */
	struct snap_log *spare_log[SNAP_LOG_N];
	struct snap_log *claimed[SNAP_LOG_N];
	bool append;      /* on prev's logs: taken-over units stay in place */
	bool ptr_append;  /* on prev's PTR name log: kept entries too */
	size_t log_from;  /* where this build's writes start, all logs */
	size_t log_taken; /* octets taken over in place */
	/* prev's PTR entries kept whole (indexes into prev->ptrs, in
	 * order), and the octets of their target names. */
	uint32_t *keep;
	size_t n_keep;
	size_t keep_names;
	struct bptr *grp; /* malloc: an address's targets, merged */
	size_t cap_grp;
	int err;
};

/* A response that later equal ones share. */
struct bsame {
	uint32_t hash;
	uint32_t off; /* 0: empty slot */
	uint32_t len;
};

/* A PTR record to make: address -> name. */
struct bptr {
	struct k8s_ip ip;
	bool clusterip;
	bool shadowed; /* taken over from an entry with SNAP_PTR_SHADOWED */
	uint8_t tlen;
	const uint8_t *target; /* a builder node's name */
};

/* An index slot: the hash is kept beside the node so that a probe does not
 * touch the node unless the hash matches. */
struct bindex {
	uint32_t hash;
	struct bnode *node;
};

/* A namespace's Services in this build: built (node range in b->nodes) or
 * copied from the previous snapshot (reuse). */
struct bunit {
	const char *ns;
	uint64_t fp;
	size_t svc_first; /* range in b->svcs */
	size_t svc_end;
	size_t node_first; /* range in b->nodes, when built */
	size_t node_end;
	size_t endpoints;
	const struct snap_unit *reuse; /* NULL: built */
	bool fresh;
	struct snap_unit out; /* where it landed in the new buffers */
};

/* An endpoint address as the rules see it, whatever its source. */
struct bep {
	struct k8s_ip ip;
	const char *color;    /* blue/green previews: the pod's color */
	const char *hostname; /* NULL: named by its dashed IP */
	const struct k8s_endpoint_port *ports;
	size_t n_ports;
};

static uint32_t snap_hash_bytes(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

/* The index hash of a lower-case wire name: 8 octets at a time. Both the
 * builder and the lookup hash lower-case names, so no case folding here
 * (the query path lower-cases the name once, in the parser). */
static uint32_t snap_hash_name(const uint8_t *name, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v;

		memcpy(&v, name + i, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i < len) {
		uint64_t v = 0;

		memcpy(&v, name + i, len - i);
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint32_t snap_hash_str(const char *s)
{
	return snap_hash_bytes(2166136261u, s, strlen(s));
}

/* strcmp, after the cheap case: strings interned within a manifest file
 * (namespaces, label values) are often the same pointer. */
static int snap_strcmp(const char *x, const char *y)
{
	return x == y ? 0 : strcmp(x, y);
}

static size_t snap_pow2(size_t n)
{
	size_t p = 16;

	while (p < n) {
		p <<= 1;
	}
	return p;
}

/* ---------------------------- names -------------------------------- */

/* Appends one label (text of len octets) to a wire name under
 * construction. Returns 0 or -EINVAL when a limit would be passed. */
static int name_push(uint8_t *name, size_t *len, const char *label, size_t llen)
{
	if (llen == 0 || llen > DNAME_MAXLABEL ||
	    *len + llen + 2 > DNAME_MAXLEN) {
		return -EINVAL;
	}
	name[*len] = (uint8_t)llen;
	memcpy(name + *len + 1, label, llen);
	*len += llen + 1;
	return 0;
}

/* Builds "<l1>.<l2>...<zone>" from NULL-terminated labels, lower-cased.
 * Returns 0 or -EINVAL. */
static int name_make(uint8_t *out, size_t *out_len, const char *const *labels,
                     const uint8_t *zone, size_t zone_len)
{
	size_t len = 0;
	size_t i;

	for (i = 0; labels[i] != NULL; i++) {
		if (name_push(out, &len, labels[i], strlen(labels[i])) != 0) {
			return -EINVAL;
		}
	}
	if (len + zone_len > DNAME_MAXLEN) {
		return -EINVAL;
	}
	memcpy(out + len, zone, zone_len);
	len += zone_len;
	dname_lower(out, len);
	*out_len = len;
	return 0;
}

/* The endpoint label for an address without hostname: the dashed IP
 * (CLUSTER-DNS row 7): dots or colons become dashes, and a leading or
 * trailing dash gets a 0 so that the label stays valid. */
/* Writes v in decimal; returns the number of digits. */
static size_t snap_u8_text(unsigned v, char *out)
{
	size_t n = 0;

	if (v >= 100) {
		out[n++] = (char)('0' + v / 100);
	}
	if (v >= 10) {
		out[n++] = (char)('0' + v / 10 % 10);
	}
	out[n++] = (char)('0' + v % 10);
	return n;
}

/* The endpoint label for an address without hostname: the dashed IP
 * (CLUSTER-DNS row 7): dots or colons become dashes, and a leading or
 * trailing dash gets a 0 so that the label stays valid. */
static void snap_dashed_ip(const struct k8s_ip *ip, char *out, size_t cap)
{
	char text[64];
	size_t i;
	size_t n = 0;

	if (ip->family == 4) {
		/* The common case, without printf: a-b-c-d. */
		for (i = 0; i < 4; i++) {
			n += snap_u8_text(ip->addr[i], out + n);
			out[n++] = i < 3 ? '-' : '\0';
		}
		return;
	}
	k8s_ip_to_text(ip, text, sizeof(text));
	if (text[0] == ':' && n + 1 < cap) {
		out[n++] = '0';
	}
	for (i = 0; text[i] != '\0' && n + 2 < cap; i++) {
		out[n++] = (text[i] == '.' || text[i] == ':') ? '-' : text[i];
	}
	if (n > 0 && out[n - 1] == '-' && n + 1 < cap) {
		out[n++] = '0';
	}
	out[n] = '\0';
}

/* Parses a pod label back into an address (CLUSTER-DNS row 17): exactly
 * three dashes and no "--" is IPv4, anything else IPv6 with '-' -> ':'.
 * Returns 0 or -EINVAL. */
static int snap_parse_dashed(const uint8_t *label, size_t len,
                             struct k8s_ip *ip)
{
	char text[64];
	size_t i;
	unsigned dashes = 0;
	bool dbl = false;

	if (len == 0 || len >= sizeof(text)) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		uint8_t c = label[i];

		if (c == '-') {
			dashes++;
			if (i > 0 && label[i - 1] == '-') {
				dbl = true;
			}
		} else if (!((c >= '0' && c <= '9') ||
		             (c >= 'a' && c <= 'f'))) {
			return -EINVAL;
		}
		text[i] = (char)c;
	}
	text[len] = '\0';
	if (dashes == 3 && !dbl) {
		for (i = 0; i < len; i++) {
			if (text[i] == '-') {
				text[i] = '.';
			}
		}
	} else {
		for (i = 0; i < len; i++) {
			if (text[i] == '-') {
				text[i] = ':';
			}
		}
	}
	return k8s_ip_parse(text, ip);
}

/* The reverse name of ip under in-addr.arpa or ip6.arpa. */
static void snap_reverse_name(const struct k8s_ip *ip, uint8_t *out,
                              size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	int i;

	if (ip->family == 4) {
		for (i = 3; i >= 0; i--) {
			size_t tl =
				snap_u8_text(ip->addr[i], (char *)out + n + 1);

			out[n] = (uint8_t)tl;
			n += tl + 1;
		}
		memcpy(out + n, "\7in-addr\4arpa", 14);
		n += 14;
	} else {
		for (i = 15; i >= 0; i--) {
			out[n++] = 1;
			out[n++] = (uint8_t)hex[ip->addr[i] & 0xf];
			out[n++] = 1;
			out[n++] = (uint8_t)hex[ip->addr[i] >> 4];
		}
		memcpy(out + n, "\3ip6\4arpa", 10);
		n += 10;
	}
	*len = n;
}

/* ------------------------- builder nodes --------------------------- */

/* A block of len octets or more, zeroed if zero: *kept (kept_len octets,
 * memory written before) when it is large enough and at most max_len,
 * taken out of *kept; else a new one. *got gets the block's length (0 on
 * OOM, with NULL). */
static void *snap_reuse(void **kept, size_t kept_len, size_t len,
                        size_t max_len, bool zero, size_t *got)
{
	void *p = *kept;

	len = len != 0 ? len : 1;
	if (p != NULL && kept_len >= len && kept_len <= max_len) {
		*kept = NULL;
		if (zero) {
			memset(p, 0, len);
		}
		*got = kept_len;
		return p;
	}
	p = zero ? calloc(1, len) : malloc(len);
	*got = p != NULL ? len : 0;
	return p;
}

/* A scratch array of n * size octets for kind k, zeroed if zero: the last
 * build's (opts.recycle) when it is large enough and at most twice that,
 * else a new one. NULL on OOM. Give it back with builder_tmp_drop. */
static void *builder_tmp(struct builder *b, enum snap_tmp k, size_t n,
                         size_t size, bool zero)
{
	void *none = NULL;

	if (size != 0 && n > SIZE_MAX / 2 / size) {
		return NULL;
	}
	return snap_reuse(b->scr ? &b->scr->p[k] : &none,
	                  b->scr ? b->scr->len[k] : 0, n * size, 2 * n * size,
	                  zero, &b->tmp_len[k]);
}

/* Gives back p, kind k's array of len octets: kept for the next build
 * (the larger of it and the one kept already), or freed. */
static void builder_tmp_drop_len(struct builder *b, enum snap_tmp k, void *p,
                                 size_t len)
{
	struct snapshot_scratch *scr = b->scr;

	if (p == NULL) {
		return;
	}
	if (scr == NULL) {
		free(p);
		return;
	}
	if (scr->p[k] != NULL && scr->len[k] >= len) {
		free(p);
		return;
	}
	free(scr->p[k]);
	scr->p[k] = p;
	scr->len[k] = len;
}

static void builder_tmp_drop(struct builder *b, enum snap_tmp k, void *p)
{
	builder_tmp_drop_len(b, k, p, b->tmp_len[k]);
	b->tmp_len[k] = 0;
}

static bool builder_grow_index(struct builder *b, size_t want)
{
	size_t cap = snap_pow2(want * 2 + 2);
	size_t old_len = b->tmp_len[SNAP_TMP_INDEX];
	struct bindex *idx;
	size_t i;

	if (b->index != NULL && cap <= b->index_mask + 1) {
		return true;
	}
	idx = builder_tmp(b, SNAP_TMP_INDEX, cap, sizeof(*idx), true);
	if (idx == NULL) {
		b->tmp_len[SNAP_TMP_INDEX] = old_len;
		return false;
	}
	for (i = 0; i < b->n_nodes; i++) {
		size_t j = b->nodes[i]->hash & (cap - 1);

		while (idx[j].node != NULL) {
			j = (j + 1) & (cap - 1);
		}
		idx[j].hash = b->nodes[i]->hash;
		idx[j].node = b->nodes[i];
	}
	builder_tmp_drop_len(b, SNAP_TMP_INDEX, b->index, old_len);
	b->index = idx;
	b->index_mask = cap - 1;
	return true;
}

static struct bnode *builder_find_h(const struct builder *b,
                                    const uint8_t *name, size_t len, uint32_t h,
                                    size_t *slot)
{
	size_t j = h & b->index_mask;

	while (b->index[j].node != NULL) {
		if (b->index[j].hash == h) {
			struct bnode *n = b->index[j].node;

			if (n->len == len && memcmp(n->name, name, len) == 0) {
				return n;
			}
		}
		j = (j + 1) & b->index_mask;
	}
	*slot = j;
	return NULL;
}

static struct bnode *builder_find(const struct builder *b, const uint8_t *name,
                                  size_t len)
{
	size_t slot;

	return builder_find_h(b, name, len, snap_hash_name(name, len), &slot);
}

/* Returns the node for name (lower case), creating it. NULL on OOM. */
static struct bnode *builder_node(struct builder *b, const uint8_t *name,
                                  size_t len, size_t zone)
{
	uint32_t h = snap_hash_name(name, len);
	size_t slot;
	struct bnode *n = builder_find_h(b, name, len, h, &slot);

	if (n != NULL) {
		return n;
	}
	if (b->n_nodes == b->cap_nodes) {
		size_t cap = b->cap_nodes ? b->cap_nodes * 2 : 1024;
		struct bnode **nn = realloc(b->nodes, cap * sizeof(*nn));

		if (nn == NULL) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->nodes = nn;
		b->cap_nodes = cap;
	}
	n = arena_alloc(b->tmp, sizeof(*n) + len);
	if (n == NULL) {
		b->err = -ENOMEM;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	memcpy(n->name, name, len);
	n->len = (uint8_t)len;
	n->zone = (uint8_t)zone;
	n->hash = h;
	b->nodes[b->n_nodes++] = n;
	b->index[slot].hash = h;
	b->index[slot].node = n;
	if (b->n_nodes * 2 > b->index_mask + 1 &&
	    !builder_grow_index(b, b->n_nodes * 2)) {
		b->err = -ENOMEM;
		return NULL;
	}
	return n;
}

/* Orders records of one type by their data, so that equal ones are
 * adjacent (de-duplication) and answers come out in a stable order. */
static int brr_cmp(const struct brr *a, const struct brr *c)
{
	int r;

	switch (a->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		return memcmp(a->ip.addr, c->ip.addr, 16);
	case DNS_TYPE_SRV:
		if (a->prio != c->prio) {
			return (int)a->prio - (int)c->prio;
		}
		if (a->weight != c->weight) {
			return (int)a->weight - (int)c->weight;
		}
		if (a->port != c->port) {
			return (int)a->port - (int)c->port;
		}
		SVCDNS_FALLTHROUGH;
	case DNS_TYPE_PTR:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_NS:
		r = memcmp(a->target, c->target,
		           a->target_len < c->target_len ? a->target_len
		                                         : c->target_len);
		return r != 0 ? r : (int)a->target_len - (int)c->target_len;
	case DNS_TYPE_TXT:
		return strcmp(a->txt, c->txt);
	default:
		return 0;
	}
}

static int brr_qsort_cmp(const void *a, const void *c)
{
	return brr_cmp(*(const struct brr *const *)a,
	               *(const struct brr *const *)c);
}

/* Gathers n's records of type into b->sel, sorted, without duplicates
 * (CLUSTER-DNS row 3: no address served twice). Returns the count. */
static size_t builder_select(struct builder *b, const struct bnode *n,
                             uint16_t type)
{
	const struct brr *rr;
	size_t k = 0;
	size_t i;
	size_t out;

	for (rr = n->rrs; rr != NULL; rr = rr->next) {
		if (rr->type != type) {
			continue;
		}
		if (k == b->cap_sel) {
			size_t cap = b->cap_sel ? b->cap_sel * 2 : 256;
			const struct brr **v =
				realloc(b->sel, cap * sizeof(*v));

			if (v == NULL) {
				b->err = -ENOMEM;
				return k;
			}
			b->sel = v;
			b->cap_sel = cap;
		}
		b->sel[k++] = rr;
	}
	if (k < 2) {
		return k;
	}
	if (k <= 16) {
		/* Small sets, the usual case: insertion sort, no qsort
		 * overhead. */
		for (i = 1; i < k; i++) {
			const struct brr *x = b->sel[i];
			size_t j = i;

			while (j > 0 && brr_cmp(b->sel[j - 1], x) > 0) {
				b->sel[j] = b->sel[j - 1];
				j--;
			}
			b->sel[j] = x;
		}
	} else {
		qsort(b->sel, k, sizeof(*b->sel), brr_qsort_cmp);
	}
	for (i = 1, out = 1; i < k; i++) {
		if (brr_cmp(b->sel[out - 1], b->sel[i]) != 0) {
			b->sel[out++] = b->sel[i];
		}
	}
	return out;
}

/* Adds a copy of rr to node n (duplicates are removed when templates are
 * made). */
static void builder_add(struct builder *b, struct bnode *n,
                        const struct brr *rr)
{
	struct brr *c;

	if (n == NULL || b->err != 0) {
		return;
	}
	c = arena_alloc(b->tmp, sizeof(*c));
	if (c == NULL) {
		b->err = -ENOMEM;
		return;
	}
	*c = *rr;
	c->next = NULL;
	if (n->last != NULL) {
		n->last->next = c;
	} else {
		n->rrs = c;
	}
	n->last = c;
}

static const uint8_t *builder_name_dup(struct builder *b, const uint8_t *name,
                                       size_t len)
{
	const uint8_t *p = arena_memdup(b->tmp, name, len);

	if (p == NULL) {
		b->err = -ENOMEM;
	}
	return p;
}

static void builder_add_addr(struct builder *b, struct bnode *n,
                             const struct k8s_ip *ip, uint32_t ttl)
{
	struct brr rr = { 0 };

	rr.type = ip->family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
	rr.ttl = ttl;
	rr.ip = *ip;
	builder_add(b, n, &rr);
}

/* Adds a record whose data is a name. target must outlive the build (a
 * builder node's name, or a copy in the scratch arena): it is not copied. */
static void builder_add_target(struct builder *b, struct bnode *n,
                               uint16_t type, const uint8_t *target,
                               size_t tlen, uint32_t ttl)
{
	struct brr rr = { 0 };

	rr.type = type;
	rr.ttl = ttl;
	rr.target = target;
	rr.target_len = (uint8_t)tlen;
	if (rr.target != NULL) {
		builder_add(b, n, &rr);
	}
}

static void builder_add_srv(struct builder *b, struct bnode *n, uint16_t weight,
                            uint16_t port, const uint8_t *target, size_t tlen)
{
	struct brr rr = { 0 };

	rr.type = DNS_TYPE_SRV;
	rr.ttl = b->opts->ttl;
	rr.weight = weight;
	rr.port = port;
	rr.target = target; /* a node's name: lives as long as the build */
	rr.target_len = (uint8_t)tlen;
	rr.tnode = (const struct bnode *)(const void *)((const char *)target -
	                                                offsetof(struct bnode,
	                                                         name));
	if (rr.target != NULL) {
		builder_add(b, n, &rr);
	}
}

/* --------------------------- collecting ---------------------------- */

/* A 64-bit mix (splitmix64's finaliser): file ids summed per namespace
 * give a fingerprint that changes when any file behind it does. */
static uint64_t snap_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Counts an object of namespace ns from file f: the namespace is added to
 * the distinct names, and f's id to its fingerprint. */
/* The index of ns in b->nss, or n_nss when it is not there; *slot is
 * where it goes in the hash table. */
static size_t builder_ns_find(const struct builder *b, const char *ns,
                              size_t *slot)
{
	size_t j;

	for (j = snap_hash_str(ns) & b->ns_slots_mask; b->ns_slots[j] != 0;
	     j = (j + 1) & b->ns_slots_mask) {
		if (strcmp(b->nss[b->ns_slots[j] - 1], ns) == 0) {
			*slot = j;
			return b->ns_slots[j] - 1;
		}
	}
	*slot = j;
	return b->n_nss;
}

/* Rebuilds the namespace hash table at twice the entries' count. */
static bool builder_ns_rehash(struct builder *b)
{
	size_t cap = snap_pow2(b->n_nss * 4 + 64);
	uint32_t *v = calloc(cap, sizeof(*v));
	size_t i;

	if (v == NULL) {
		return false;
	}
	free(b->ns_slots);
	b->ns_slots = v;
	b->ns_slots_mask = cap - 1;
	for (i = 0; i < b->n_nss; i++) {
		size_t j = snap_hash_str(b->nss[i]) & b->ns_slots_mask;

		while (v[j] != 0) {
			j = (j + 1) & b->ns_slots_mask;
		}
		v[j] = (uint32_t)i + 1;
	}
	return true;
}

static bool builder_add_ns(struct builder *b, const char *ns,
                           const struct k8s_file *f)
{
	size_t i = b->n_nss;
	size_t slot = 0;

	/* The objects of one file mostly share a namespace: try the last
	 * one first, then the hash table. */
	if (b->n_nss > 0 && snap_strcmp(b->nss[b->last_ns], ns) == 0) {
		i = b->last_ns;
	} else {
		if (b->ns_slots == NULL && !builder_ns_rehash(b)) {
			return false;
		}
		i = builder_ns_find(b, ns, &slot);
	}
	if (i == b->n_nss) {
		if (b->n_nss == b->cap_nss) {
			size_t cap = b->cap_nss ? b->cap_nss * 2 : 64;
			const char **n = realloc(b->nss, cap * sizeof(*n));
			uint64_t *fp;
			bool *fr;

			if (n == NULL) {
				return false;
			}
			b->nss = n;
			fp = realloc(b->ns_fp, cap * sizeof(*fp));
			if (fp == NULL) {
				return false;
			}
			b->ns_fp = fp;
			fr = realloc(b->ns_fresh, cap * sizeof(*fr));
			if (fr == NULL) {
				return false;
			}
			b->ns_fresh = fr;
			b->cap_nss = cap;
		}
		b->nss[i] = ns;
		b->ns_fp[i] = 0;
		b->ns_fresh[i] = false;
		b->n_nss++;
		b->ns_slots[slot] = (uint32_t)i + 1;
		if (b->n_nss * 2 > b->ns_slots_mask && !builder_ns_rehash(b)) {
			return false;
		}
	}
	b->last_ns = i;
	b->ns_fp[i] += snap_mix64(f->id);
	return true;
}

/* The index of ns in b->nss (builder_collect added every namespace of
 * every object); n_nss if absent. */
static size_t builder_ns_index(const struct builder *b, const char *ns)
{
	size_t slot;

	return b->ns_slots != NULL ? builder_ns_find(b, ns, &slot) : b->n_nss;
}

/* Gathers every object of every file into flat arrays. Duplicate Services
 * (same namespace and name in two files) keep the first, by path order. */
static int builder_collect(struct builder *b, const struct k8s_file *const *f,
                           size_t n)
{
	size_t ns = 0;
	size_t nsl = 0;
	size_t np = 0;
	size_t i;
	size_t j;

	for (i = 0; i < n; i++) {
		ns += f[i]->n_services;
		nsl += f[i]->n_slices;
		np += f[i]->n_pods;
	}
	b->svcs = builder_tmp(b, SNAP_TMP_SVCS, ns + 1, sizeof(*b->svcs), true);
	b->slices = builder_tmp(b, SNAP_TMP_SLICES, nsl + 1, sizeof(*b->slices),
	                        true);
	b->pods = builder_tmp(b, SNAP_TMP_PODS, np + 1, sizeof(*b->pods), true);
	b->pod_ns = builder_tmp(b, SNAP_TMP_POD_NS, np + 1, sizeof(*b->pod_ns),
	                        true);
	if (b->svcs == NULL || b->slices == NULL || b->pods == NULL ||
	    b->pod_ns == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < f[i]->n_namespaces; j++) {
			if (!builder_add_ns(b, f[i]->namespaces[j].meta.name,
			                    f[i])) {
				return -ENOMEM;
			}
		}
		for (j = 0; j < f[i]->n_services; j++) {
			b->svcs[b->n_svcs++] = &f[i]->services[j];
			if (!builder_add_ns(b, f[i]->services[j].meta.ns,
			                    f[i])) {
				return -ENOMEM;
			}
		}
		for (j = 0; j < f[i]->n_slices; j++) {
			b->slices[b->n_slices++] = &f[i]->slices[j];
			if (!builder_add_ns(b, f[i]->slices[j].meta.ns, f[i])) {
				return -ENOMEM;
			}
		}
		for (j = 0; j < f[i]->n_pods; j++) {
			b->pods[b->n_pods] = &f[i]->pods[j];
			b->pods_fp += snap_mix64(f[i]->id);
			if (!builder_add_ns(b, f[i]->pods[j].meta.ns, f[i])) {
				return -ENOMEM;
			}
			b->pod_ns[b->n_pods++] = (uint32_t)b->last_ns;
		}
	}
	return 0;
}

static int svc_cmp(const void *a, const void *c)
{
	const struct k8s_service *x = *(const struct k8s_service *const *)a;
	const struct k8s_service *y = *(const struct k8s_service *const *)c;
	int r = snap_strcmp(x->meta.ns, y->meta.ns);

	return r != 0 ? r : strcmp(x->meta.name, y->meta.name);
}

static int slice_cmp(const void *a, const void *c)
{
	const struct k8s_slice *x = *(const struct k8s_slice *const *)a;
	const struct k8s_slice *y = *(const struct k8s_slice *const *)c;
	int r = snap_strcmp(x->meta.ns, y->meta.ns);

	if (r == 0) {
		r = snap_strcmp(x->service_name, y->service_name);
	}
	if (r == 0) {
		r = (int)x->legacy - (int)y->legacy;
	}
	return r;
}

static int pod_cmp(const void *a, const void *c)
{
	const struct k8s_pod *x = *(const struct k8s_pod *const *)a;
	const struct k8s_pod *y = *(const struct k8s_pod *const *)c;
	int r = snap_strcmp(x->meta.ns, y->meta.ns);

	return r != 0 ? r : strcmp(x->meta.name, y->meta.name);
}

/* Sorts services, slices and pods so that those of one service (or one
 * namespace) are adjacent and can be found by binary search. qsort is not
 * stable, but ties among services are duplicates (dropped with a warning)
 * and ties among slices of one service only reorder equal-ranked slices,
 * which the stable tie-break on origin below removes. */
static void builder_sort(struct builder *b)
{
	size_t i;
	size_t out = 0;

	qsort(b->svcs, b->n_svcs, sizeof(*b->svcs), svc_cmp);
	for (i = 0; i < b->n_svcs; i++) {
		if (out > 0 && svc_cmp(&b->svcs[out - 1], &b->svcs[i]) == 0) {
			const struct k8s_service *s = b->svcs[i];

			diag_add(
				b->diag, DIAG_WARNING, s->meta.origin.file,
				s->meta.origin.line, s->meta.origin.col,
				"Service %s/%s is defined again (first in %s); this copy is ignored",
				s->meta.ns, s->meta.name,
				b->svcs[out - 1]->meta.origin.file);
			continue;
		}
		b->svcs[out++] = b->svcs[i];
	}
	b->n_svcs = out;
	qsort(b->slices, b->n_slices, sizeof(*b->slices), slice_cmp);
	/* Pods are sorted on first use (builder_first_pod): most services
	 * have slices and never need them. */
}

/* Index of the first slice of (ns, service) in the sorted slice array. */
static size_t builder_first_slice(const struct builder *b, const char *ns,
                                  const char *svc)
{
	size_t lo = 0;
	size_t hi = b->n_slices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct k8s_slice *s = b->slices[mid];
		int r = strcmp(s->meta.ns, ns);

		if (r == 0) {
			r = strcmp(s->service_name, svc);
		}
		if (r < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

/* Groups the pods by namespace (a counting sort on their nss index: no
 * string compare), once, for the first service that needs them. */
static bool builder_group_pods(struct builder *b)
{
	const struct k8s_pod **v = builder_tmp(
		b, SNAP_TMP_GROUPED, b->n_pods + 1, sizeof(*v), false);
	size_t *next = malloc((b->n_nss + 1) * sizeof(*next));
	size_t i;

	b->ns_pods = calloc(b->n_nss + 1, sizeof(*b->ns_pods));
	b->ns_pods_sorted = calloc(b->n_nss + 1, sizeof(*b->ns_pods_sorted));
	if (v == NULL || next == NULL || b->ns_pods == NULL ||
	    b->ns_pods_sorted == NULL) {
		builder_tmp_drop(b, SNAP_TMP_GROUPED, v);
		free(next);
		return false;
	}
	for (i = 0; i < b->n_pods; i++) {
		b->ns_pods[b->pod_ns[i] + 1]++;
	}
	for (i = 0; i < b->n_nss; i++) {
		b->ns_pods[i + 1] += b->ns_pods[i];
	}
	memcpy(next, b->ns_pods, (b->n_nss + 1) * sizeof(*next));
	for (i = 0; i < b->n_pods; i++) {
		v[next[b->pod_ns[i]]++] = b->pods[i];
	}
	free(next);
	builder_tmp_drop(b, SNAP_TMP_PODS, b->pods);
	b->pods = v;
	b->pods_grouped = true;
	return true;
}

/* The first pod of namespace ns; its pods follow, sorted by name, up to
 * the first pod of another namespace. */
static size_t builder_first_pod(struct builder *b, const char *ns)
{
	size_t k = builder_ns_index(b, ns);
	size_t first;
	size_t end;

	if (k >= b->n_nss) {
		return b->n_pods;
	}
	if (!b->pods_grouped && !builder_group_pods(b)) {
		b->err = -ENOMEM;
		return b->n_pods;
	}
	first = b->ns_pods[k];
	end = b->ns_pods[k + 1];
	if (!b->ns_pods_sorted[k] && end - first > 1) {
		qsort(b->pods + first, end - first, sizeof(*b->pods), pod_cmp);
	}
	b->ns_pods_sorted[k] = true;
	return first;
}

/* Growable endpoint list (malloc), reused across services. */
struct beps {
	struct bep *v;
	size_t n;
	size_t cap;
};

static bool beps_push(struct beps *l, const struct bep *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct bep *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			return false;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return true;
}

/* The ready endpoints of s from its EndpointSlices, or, when it has none,
 * from its core/v1 Endpoints (CLUSTER-DNS row 28). Returns the number of
 * slice objects found (0: neither kind exists). */
static size_t builder_slice_eps(struct builder *b, const struct k8s_service *s,
                                struct beps *out)
{
	size_t first = builder_first_slice(b, s->meta.ns, s->meta.name);
	size_t i;
	size_t found = 0;
	bool have_slices = false;

	for (i = first; i < b->n_slices; i++) {
		const struct k8s_slice *sl = b->slices[i];
		size_t e;

		if (strcmp(sl->meta.ns, s->meta.ns) != 0 ||
		    strcmp(sl->service_name, s->meta.name) != 0) {
			break;
		}
		/* Sorted: real slices before legacy Endpoints subsets. */
		if (sl->legacy && have_slices) {
			break;
		}
		if (!sl->legacy) {
			have_slices = true;
		}
		found++;
		if (sl->address_type == 0) {
			continue; /* FQDN slices are not served */
		}
		for (e = 0; e < sl->n_endpoints; e++) {
			const struct k8s_endpoint *ep = &sl->endpoints[e];
			size_t a;

			if (!ep->ready) {
				continue; /* row 26 */
			}
			for (a = 0; a < ep->n_addrs; a++) {
				struct bep be = { 0 };

				be.ip = ep->addrs[a];
				be.hostname = ep->hostname;
				be.ports = sl->ports;
				be.n_ports = sl->n_ports;
				if (!beps_push(out, &be)) {
					b->err = -ENOMEM;
					return found;
				}
			}
		}
	}
	return found;
}

/* Resolves a service port's targetPort for one pod: a number, or a named
 * container port of the pod. Returns 0 when the name is not found. */
static uint16_t pod_target_port(const struct k8s_pod *p,
                                const struct k8s_service_port *sp)
{
	size_t i;

	if (sp->target_name == NULL) {
		return sp->target_port ? sp->target_port : sp->port;
	}
	for (i = 0; i < p->n_ports; i++) {
		if (strcmp(p->ports[i].name, sp->target_name) == 0 &&
		    p->ports[i].proto == sp->proto) {
			return p->ports[i].port;
		}
	}
	return 0;
}

/* Endpoints derived from the Pods a selector service selects, the way the
 * EndpointSlice controller would (CLUSTER-DNS 2.4, 2.6): Running, Ready
 * (or publishNotReadyAddresses), an IP, not being deleted; hostname only
 * when spec.subdomain names the service. */
static void builder_pod_eps(struct builder *b, const struct k8s_service *s,
                            const char *color_key, const char *color,
                            struct beps *out)
{
	size_t i;

	for (i = builder_first_pod(b, s->meta.ns); i < b->n_pods; i++) {
		const struct k8s_pod *p = b->pods[i];
		struct k8s_endpoint_port *ports;
		bool ready;
		size_t k;
		size_t a;

		if (strcmp(p->meta.ns, s->meta.ns) != 0) {
			break;
		}
		if (p->n_ips == 0 || p->meta.deleting ||
		    p->phase == K8S_POD_SUCCEEDED ||
		    p->phase == K8S_POD_FAILED ||
		    !selector_matches_with(&s->selector, &p->meta.labels,
		                           color_key, color)) {
			continue;
		}
		ready = p->phase == K8S_POD_RUNNING && p->ready;
		if (!ready && !s->publish_not_ready) {
			continue;
		}
		ports = arena_calloc(b->tmp, s->n_ports + 1, sizeof(*ports));
		if (ports == NULL) {
			b->err = -ENOMEM;
			return;
		}
		for (k = 0; k < s->n_ports; k++) {
			ports[k].name = s->ports[k].name;
			ports[k].proto = s->ports[k].proto;
			ports[k].port = pod_target_port(p, &s->ports[k]);
		}
		for (a = 0; a < p->n_ips; a++) {
			struct bep be = { 0 };

			be.ip = p->ips[a];
			if (p->hostname != NULL && p->subdomain != NULL &&
			    strcmp(p->subdomain, s->meta.name) == 0) {
				be.hostname = p->hostname;
			}
			be.ports = ports;
			be.n_ports = s->n_ports;
			if (!beps_push(out, &be)) {
				b->err = -ENOMEM;
				return;
			}
		}
	}
}

/* Records what blue/green service s serves in this snapshot. */
static void builder_bg_record(struct builder *b, const struct k8s_service *s,
                              const struct bluegreen_config *cfg,
                              const struct bluegreen_decision *d,
                              bool from_slices)
{
	struct snapshot *snap = b->snap;
	struct snapshot_bluegreen *e;
	struct arena *a = snap->arena;

	if (snap->n_bg == b->cap_bg) {
		size_t cap = b->cap_bg ? b->cap_bg * 2 : 16;
		struct snapshot_bluegreen *v = arena_calloc(a, cap, sizeof(*v));

		if (v == NULL) {
			b->err = -ENOMEM;
			return;
		}
		if (snap->n_bg != 0) {
			memcpy(v, snap->bg, snap->n_bg * sizeof(*v));
		}
		snap->bg = v;
		b->cap_bg = cap;
	}
	e = &snap->bg[snap->n_bg++];
	e->ns = arena_strdup(a, s->meta.ns);
	e->name = arena_strdup(a, s->meta.name);
	e->desired = d->desired ? arena_strdup(a, d->desired) : NULL;
	e->served = d->served ? arena_strdup(a, d->served) : NULL;
	e->previous = d->previous ? arena_strdup(a, d->previous) : NULL;
	e->ready_served = d->ready_served;
	e->ready_desired = d->ready_desired;
	e->min_ready = cfg->min_ready;
	e->held = d->held;
	e->cutover = d->cutover;
	e->from_slices = from_slices;
	if (e->ns == NULL || e->name == NULL ||
	    (d->desired && e->desired == NULL) ||
	    (d->served && e->served == NULL) ||
	    (d->previous && e->previous == NULL)) {
		b->err = -ENOMEM;
		return;
	}
	if (b->opts->bg_next != NULL && d->served != NULL &&
	    bluegreen_state_set(b->opts->bg_next, s->meta.ns, s->meta.name,
	                        d->served) != 0) {
		b->err = -ENOMEM;
	}
}

/* True when p is live and counts as a ready endpoint of s. */
static bool pod_ready_for(const struct k8s_pod *p, const struct k8s_service *s)
{
	if (p->n_ips == 0 || p->meta.deleting ||
	    p->phase == K8S_POD_SUCCEEDED || p->phase == K8S_POD_FAILED) {
		return false;
	}
	return (p->phase == K8S_POD_RUNNING && p->ready) ||
	       s->publish_not_ready;
}

/* Blue/green service s (DESIGN.md, CLUSTER-DNS 2.6): its endpoints are the
 * Pods its selector matches with the color key set to the color served;
 * the color served follows the desired one unless the readiness guard
 * holds it. Without any Pod of it loaded, its EndpointSlices are followed,
 * as CoreDNS does. pv gets the ready endpoints of every color, for the
 * preview names. Returns false when s is not blue/green. */
static bool builder_bluegreen(struct builder *b, const struct k8s_service *s,
                              struct beps *eps, struct beps *pv)
{
	struct bluegreen_config cfg;
	struct bluegreen_decision d;
	const char *colors[BLUEGREEN_MAX_COLORS];
	unsigned ready[BLUEGREEN_MAX_COLORS] = { 0 };
	size_t nc = 0;
	size_t seen = 0;
	const char *desired = NULL;
	const char *prev;
	unsigned r_desired = 0;
	unsigned r_prev = 0;
	size_t i;

	pv->n = 0;
	if (s->type == K8S_SVC_EXTERNAL_NAME || !s->has_selector ||
	    !bluegreen_config_of(s, &cfg, b->diag)) {
		return false;
	}
	for (i = builder_first_pod(b, s->meta.ns); i < b->n_pods; i++) {
		const struct k8s_pod *p = b->pods[i];
		const char *c;
		size_t k;

		if (strcmp(p->meta.ns, s->meta.ns) != 0) {
			break;
		}
		c = k8s_labels_get(&p->meta.labels, cfg.label);
		if (c == NULL ||
		    !selector_matches_with(&s->selector, &p->meta.labels,
		                           cfg.label, c)) {
			continue;
		}
		seen++;
		for (k = 0; k < nc && strcmp(colors[k], c) != 0; k++) {
		}
		if (k == nc) {
			if (nc == BLUEGREEN_MAX_COLORS) {
				continue;
			}
			colors[nc++] = c;
		}
		ready[k] += pod_ready_for(p, s);
	}
	if (cfg.file != NULL) {
		desired = bluegreen_colors_get(b->opts->colors, cfg.file,
		                               cfg.file_key);
		if (desired == NULL) {
			diag_add(
				b->diag, DIAG_WARNING, s->meta.origin.file,
				s->meta.origin.line, s->meta.origin.col,
				"Service %s/%s: color file %s has no key %s; using the selector's color",
				s->meta.ns, s->meta.name, cfg.file,
				cfg.file_key);
		}
	}
	if (desired == NULL) {
		desired = k8s_labels_get(&s->selector, cfg.label);
	}
	prev = bluegreen_state_get(b->opts->bg_prev, s->meta.ns, s->meta.name);
	if (seen == 0) {
		/* No Pods loaded: follow the slices; nothing to guard. */
		builder_slice_eps(b, s, eps);
		bluegreen_decide(&cfg, desired, (unsigned)eps->n, NULL, 0, &d);
		d.previous = prev;
		d.cutover = prev && d.served && strcmp(prev, d.served) != 0;
		builder_bg_record(b, s, &cfg, &d, true);
		return true;
	}
	for (i = 0; i < nc; i++) {
		if (desired != NULL && strcmp(colors[i], desired) == 0) {
			r_desired = ready[i];
		}
		if (prev != NULL && strcmp(colors[i], prev) == 0) {
			r_prev = ready[i];
		}
	}
	bluegreen_decide(&cfg, desired, r_desired, prev, r_prev, &d);
	if (d.served != NULL) {
		builder_pod_eps(b, s, cfg.label, d.served, eps);
	}
	for (i = 0; i < nc; i++) {
		size_t from = pv->n;
		size_t k;

		builder_pod_eps(b, s, cfg.label, colors[i], pv);
		for (k = from; k < pv->n; k++) {
			pv->v[k].color = colors[i];
		}
	}
	builder_bg_record(b, s, &cfg, &d, false);
	return true;
}

/* The label an endpoint is known by: its hostname, else its dashed IP. */
static const char *bep_label(const struct bep *e, char *buf, size_t cap)
{
	if (e->hostname != NULL) {
		return e->hostname;
	}
	snap_dashed_ip(&e->ip, buf, cap);
	return buf;
}

/* ---------------------------- emitting ----------------------------- */

/* Node for labels + zone zi, or NULL (with a warning) when the name is not
 * a valid DNS name. */
static struct bnode *builder_named(struct builder *b, size_t zi,
                                   const char *const *labels)
{
	const struct snapshot_zone *z = &b->snap->zones[zi];
	uint8_t name[DNAME_MAXLEN];
	size_t len;

	if (name_make(name, &len, labels, z->name, z->name_len) != 0) {
		return NULL;
	}
	return builder_node(b, name, len, zi);
}

static uint16_t srv_weight(size_t candidates)
{
	size_t w = candidates ? 100 / candidates : 100;

	return (uint16_t)(w ? w : 1);
}

static const char *proto_label(enum k8s_proto p)
{
	switch (p) {
	case K8S_PROTO_UDP:
		return "_udp";
	case K8S_PROTO_SCTP:
		return "_sctp";
	case K8S_PROTO_TCP:
	default:
		return "_tcp";
	}
}

/* "_<name>" in buf, or NULL when the name would not fit a label. */
static const char *port_label(const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name);

	if (n + 2 > cap || n + 1 > DNAME_MAXLABEL) {
		return NULL;
	}
	buf[0] = '_';
	memcpy(buf + 1, name, n + 1);
	return buf;
}

/* Node for _<port>._<proto>.<svc>.<ns>.svc.<zone>. */
static struct bnode *builder_port_node(struct builder *b, size_t zi,
                                       const struct k8s_service *s,
                                       const char *pname, enum k8s_proto pr)
{
	char pl[DNAME_MAXLABEL + 2];
	const char *labels[] = { port_label(pname, pl, sizeof(pl)),
		                 proto_label(pr),
		                 s->meta.name,
		                 s->meta.ns,
		                 "svc",
		                 NULL };

	if (labels[0] == NULL) {
		return NULL;
	}
	return builder_named(b, zi, labels);
}

/* ClusterIP (and NodePort, LoadBalancer) service: A/AAAA = its ClusterIPs,
 * SRV with the service port and the service as target (rows 1, 2, 5, 10,
 * 12, 13). */
static void emit_clusterip(struct builder *b, size_t zi,
                           const struct k8s_service *s, struct bnode *sn)
{
	size_t nip = s->n_cluster_ips ? s->n_cluster_ips : 1;
	size_t i;

	for (i = 0; i < s->n_cluster_ips; i++) {
		builder_add_addr(b, sn, &s->cluster_ips[i], b->opts->ttl);
	}
	for (i = 0; i < s->n_ports; i++) {
		const struct k8s_service_port *p = &s->ports[i];
		struct bnode *pn;

		builder_add_srv(b, sn, srv_weight(s->n_ports * nip), p->port,
		                sn->name, sn->len);
		if (p->name[0] == '\0') {
			continue; /* unnamed ports have no _port._proto form */
		}
		pn = builder_port_node(b, zi, s, p->name, p->proto);
		builder_add_srv(b, pn, srv_weight(nip), p->port, sn->name,
		                sn->len);
	}
}

/* Endpoint names <label>.<svc>.<ns>.svc.<zone> -> their addresses (rows 6,
 * 7, 8). Returns false on a name that does not fit (skipped). */
static struct bnode *emit_endpoint_name(struct builder *b, size_t zi,
                                        const struct k8s_service *s,
                                        const struct bep *e)
{
	char buf[64];
	const char *labels[] = { bep_label(e, buf, sizeof(buf)), s->meta.name,
		                 s->meta.ns, "svc", NULL };
	struct bnode *en = builder_named(b, zi, labels);

	builder_add_addr(b, en, &e->ip, b->opts->ttl);
	return en;
}

/* Per-endpoint SRV records of a headless service (rows 11, 12, 13). */
static void emit_headless_srv(struct builder *b, size_t zi,
                              const struct k8s_service *s, struct bnode *sn,
                              const struct beps *eps, struct bnode **en)
{
	size_t total = 0;
	size_t i;
	size_t k;

	for (i = 0; i < eps->n; i++) {
		total += eps->v[i].n_ports;
	}
	for (i = 0; i < eps->n; i++) {
		for (k = 0; k < eps->v[i].n_ports && en[i] != NULL; k++) {
			builder_add_srv(b, sn, srv_weight(total),
			                eps->v[i].ports[k].port, en[i]->name,
			                en[i]->len);
		}
	}
	/* Named ports: one SRV name per (name, protocol) pair. Endpoints of
	 * one slice share its port list: look at each list once. */
	for (i = 0; i < eps->n; i++) {
		if (i > 0 && eps->v[i].ports == eps->v[i - 1].ports) {
			continue;
		}
		for (k = 0; k < eps->v[i].n_ports; k++) {
			const struct k8s_endpoint_port *p = &eps->v[i].ports[k];
			struct bnode *pn;
			size_t cand = 0;
			size_t j;
			size_t m;

			if (p->name[0] == '\0') {
				continue;
			}
			pn = builder_port_node(b, zi, s, p->name, p->proto);
			if (pn == NULL || pn->rrs != NULL) {
				continue; /* done for an earlier endpoint */
			}
			for (j = 0; j < eps->n; j++) {
				for (m = 0; m < eps->v[j].n_ports; m++) {
					const struct k8s_endpoint_port *q =
						&eps->v[j].ports[m];

					if (q->proto == p->proto &&
					    strcmp(q->name, p->name) == 0) {
						cand++;
					}
				}
			}
			for (j = 0; j < eps->n; j++) {
				for (m = 0; m < eps->v[j].n_ports; m++) {
					const struct k8s_endpoint_port *q =
						&eps->v[j].ports[m];

					if (q->proto != p->proto ||
					    strcmp(q->name, p->name) != 0 ||
					    en[j] == NULL) {
						continue;
					}
					builder_add_srv(b, pn, srv_weight(cand),
					                q->port, en[j]->name,
					                en[j]->len);
				}
			}
		}
	}
}

/* Appends x to b->bptrs. */
static void builder_push_bptr(struct builder *b, const struct bptr *x)
{
	if (b->n_bptrs == b->cap_bptrs) {
		size_t cap = b->cap_bptrs ? b->cap_bptrs * 2 : 1024;
		struct bptr *v = realloc(b->bptrs, cap * sizeof(*v));

		if (v == NULL) {
			b->err = -ENOMEM;
			return;
		}
		b->bptrs = v;
		b->cap_bptrs = cap;
	}
	b->bptrs[b->n_bptrs++] = *x;
}

/* PTR <reverse(ip)> -> target (a builder node's name, which outlives the
 * build's use of it). Collected here, made into the address table at the
 * end (builder_finish_ptrs). */
static void emit_ptr(struct builder *b, const struct k8s_ip *ip,
                     const uint8_t *target, size_t tlen, bool clusterip)
{
	struct bptr x = { .ip = *ip,
		          .clusterip = clusterip,
		          .tlen = (uint8_t)tlen,
		          .target = target };

	builder_push_bptr(b, &x);
}

/* The address of the previous snapshot's PTR entry e. */
static struct k8s_ip snap_ptr_ip(const struct snap_ptr *e)
{
	struct k8s_ip ip = { .family = e->family };

	memcpy(ip.addr, e->addr, 16);
	return ip;
}

/* Target t (tl octets) of the previous snapshot's entry e as a record of
 * this build: a ClusterIP's name (cip) keeps the entry's mark that it hid
 * endpoint names (row 15). */
static struct bptr bptr_of_entry(const struct snap_ptr *e, const uint8_t *t,
                                 size_t tl, bool cip)
{
	struct bptr x = { .ip = snap_ptr_ip(e),
		          .clusterip = cip,
		          .shadowed = cip && (e->flags & SNAP_PTR_SHADOWED),
		          .tlen = (uint8_t)tl,
		          .target = t };

	return x;
}

/* Emits one service into forward zone zi; eps are its ready endpoints. */
static void emit_service(struct builder *b, size_t zi,
                         const struct k8s_service *s, const struct beps *eps,
                         struct bnode **en)
{
	const char *labels[] = { s->meta.name, s->meta.ns, "svc", NULL };
	struct bnode *sn;
	size_t i;

	if (s->type == K8S_SVC_EXTERNAL_NAME) {
		uint8_t t[DNAME_MAXLEN];
		size_t tl;
		struct k8s_ip ip;

		/* Row 19: an IP address as externalName is not served. */
		if (s->external_name == NULL ||
		    k8s_ip_parse(s->external_name, &ip) == 0 ||
		    dname_from_text(s->external_name, t, sizeof(t), &tl) != 0 ||
		    tl <= 1) {
			return;
		}
		dname_lower(t, tl);
		sn = builder_named(b, zi, labels);
		if (sn != NULL) {
			sn->cname = true;
			builder_add_target(b, sn, DNS_TYPE_CNAME,
			                   builder_name_dup(b, t, tl), tl,
			                   b->opts->ttl);
		}
		return;
	}
	if (s->headless && eps->n == 0) {
		return; /* row 4: NXDOMAIN for every type */
	}
	sn = builder_named(b, zi, labels);
	if (sn == NULL) {
		return;
	}
	if (!s->headless) {
		emit_clusterip(b, zi, s, sn);
	}
	for (i = 0; i < eps->n; i++) {
		en[i] = emit_endpoint_name(b, zi, s, &eps->v[i]);
		if (s->headless) {
			builder_add_addr(b, sn, &eps->v[i].ip, b->opts->ttl);
		}
		if (zi == 0 && en[i] != NULL) {
			emit_ptr(b, &eps->v[i].ip, en[i]->name, en[i]->len,
			         false);
		}
	}
	if (s->headless) {
		emit_headless_srv(b, zi, s, sn, eps, en);
	}
}

/* Preview names <color>.<svc>.<ns>.svc.<zone>: the ready endpoints of each
 * color, active or not, so the idle color can be tried by name before the
 * switch. */
static void emit_previews(struct builder *b, size_t zi,
                          const struct k8s_service *s, const struct beps *pv)
{
	size_t i;

	for (i = 0; i < pv->n; i++) {
		const char *labels[] = { pv->v[i].color, s->meta.name,
			                 s->meta.ns, "svc", NULL };
		struct bnode *n = builder_named(b, zi, labels);

		builder_add_addr(b, n, &pv->v[i].ip, b->opts->ttl);
	}
}

/* Structural names of a zone: apex SOA and NS, ns.dns glue; for forward
 * zones also svc, pod and dns-version (rows 20, 21, 24). */
static void emit_zone_structure(struct builder *b, size_t zi)
{
	const struct snapshot_zone *z = &b->snap->zones[zi];
	struct bnode *apex = builder_node(b, z->name, z->name_len, zi);
	const char *nsl[] = { "ns", "dns", NULL };
	const char *dnsl[] = { "dns", NULL };
	struct bnode *nsn = builder_named(b, zi, nsl);
	struct brr soa = { 0 };
	size_t i;

	soa.type = DNS_TYPE_SOA;
	builder_add(b, apex, &soa);
	if (nsn != NULL) {
		builder_add_target(b, apex, DNS_TYPE_NS, nsn->name, nsn->len,
		                   b->opts->ttl);
		for (i = 0; i < b->opts->n_ns_addrs; i++) {
			builder_add_addr(b, nsn, &b->opts->ns_addrs[i],
			                 b->opts->ttl);
		}
	}
	builder_named(b, zi, dnsl);
	if (!z->reverse) {
		const char *svcl[] = { "svc", NULL };
		const char *podl[] = { "pod", NULL };
		const char *verl[] = { "dns-version", NULL };
		struct bnode *vn;
		struct brr txt = { 0 };

		builder_named(b, zi, svcl);
		builder_named(b, zi, podl);
		vn = builder_named(b, zi, verl);
		txt.type = DNS_TYPE_TXT;
		txt.ttl = SNAP_TXT_TTL;
		txt.txt = SNAP_SCHEMA_VERSION;
		builder_add(b, vn, &txt);
	}
}

static int snap_zone_of(const struct snapshot *s, const uint8_t *name,
                        size_t len);

/* Compares a label with a NUL-terminated name the way strcmp orders two
 * names (the order of the services, and so of the units). */
static int snap_label_cmp(const uint8_t *label, size_t len, const char *name)
{
	size_t nl = strlen(name);
	int r = memcmp(label, name, len < nl ? len : nl);

	if (r != 0) {
		return r;
	}
	return len < nl ? -1 : (len > nl ? 1 : 0);
}

/* The unit of namespace label (len octets) in the sorted unit array u[n],
 * or NULL. The stride lets one search serve snap_unit and bunit. */
static const void *snap_unit_search(const void *u, size_t n, size_t stride,
                                    size_t ns_at, const uint8_t *label,
                                    size_t len)
{
	size_t lo = 0;
	size_t hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *at = (const char *)u + mid * stride;
		const char *ns;
		int r;

		memcpy(&ns, at + ns_at, sizeof(ns));
		r = snap_label_cmp(label, len, ns);
		if (r == 0) {
			return at;
		}
		if (r > 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

static const struct snap_unit *snap_find_unit(const struct snapshot *s,
                                              const uint8_t *label, size_t len)
{
	return snap_unit_search(s->units, s->n_units, sizeof(*s->units),
	                        offsetof(struct snap_unit, ns), label, len);
}

static struct bunit *builder_find_unit(const struct builder *b,
                                       const uint8_t *label, size_t len)
{
	return (struct bunit *)(uintptr_t)snap_unit_search(
		b->units, b->n_units, sizeof(*b->units),
		offsetof(struct bunit, ns), label, len);
}

/* The namespace label of an in-zone Service name: <...>.<ns>.svc.<zone>
 * where the zone is zone_len octets at the end. Counts the labels before
 * the zone into *n_labels (up to 8). Returns false when there is no such
 * label. */
static bool snap_ns_label(const uint8_t *name, size_t len, size_t zone_len,
                          const uint8_t **label, size_t *label_len,
                          size_t *n_labels)
{
	size_t at[8];
	size_t n = 0;
	size_t i = 0;

	if (len < zone_len) {
		return false;
	}
	while (i < len - zone_len && name[i] != 0) {
		if (n == SVCDNS_ARRAY_SIZE(at)) {
			return false;
		}
		at[n++] = i;
		i += (size_t)name[i] + 1;
	}
	*n_labels = n;
	if (i != len - zone_len || n < 2 || name[at[n - 1]] != 3 ||
	    memcmp(name + at[n - 1] + 1, "svc", 3) != 0) {
		return false;
	}
	*label = name + at[n - 2] + 1;
	*label_len = name[at[n - 2]];
	return true;
}

/* The length of the wire name at p (it is well formed: ours). */
static size_t snap_name_len(const uint8_t *p)
{
	size_t i = 0;

	while (p[i] != 0) {
		i += (size_t)p[i] + 1;
	}
	return i + 1;
}

/* Marks the namespaces whose units are built whatever their inputs: those
 * with blue/green Services (their answers follow color files and the
 * previous cutover state) or ExternalName Services (their answers chase
 * names elsewhere), and the namespaces such in-zone targets are in. */
static void builder_mark_fresh(struct builder *b)
{
	size_t i;
	size_t k;

	for (i = 0; i < b->n_svcs; i++) {
		const struct k8s_service *s = b->svcs[i];
		bool ext = s->type == K8S_SVC_EXTERNAL_NAME;
		uint8_t t[DNAME_MAXLEN];
		const uint8_t *label;
		size_t label_len;
		size_t tl;
		size_t nl;
		int zi;

		if (!ext && k8s_labels_get(&s->meta.annotations,
		                           BLUEGREEN_ANNOT_LABEL) == NULL) {
			continue;
		}
		k = builder_ns_index(b, s->meta.ns);
		if (k < b->n_nss) {
			b->ns_fresh[k] = true;
		}
		if (!ext || s->external_name == NULL ||
		    dname_from_text(s->external_name, t, sizeof(t), &tl) != 0) {
			continue;
		}
		dname_lower(t, tl);
		zi = snap_zone_of(b->snap, t, tl);
		if (zi < 0 || (size_t)zi >= b->snap->n_fwd ||
		    !snap_ns_label(t, tl, b->snap->zones[zi].name_len, &label,
		                   &label_len, &nl)) {
			continue;
		}
		if (label_len < DNAME_MAXLABEL + 1) {
			char ns[DNAME_MAXLABEL + 1];

			memcpy(ns, label, label_len);
			ns[label_len] = '\0';
			k = builder_ns_index(b, ns);
			if (k < b->n_nss) {
				b->ns_fresh[k] = true;
			}
		}
	}
}

/* Groups the sorted services by namespace into units, and picks those the
 * previous snapshot can give: same fingerprint, neither fresh now nor
 * then. */
static int builder_plan_units(struct builder *b)
{
	size_t i = 0;
	size_t k;

	b->units = builder_tmp(b, SNAP_TMP_UNITS, b->n_svcs + 1,
	                       sizeof(*b->units), true);
	if (b->units == NULL) {
		return -ENOMEM;
	}
	if (b->n_svcs > 0) {
		builder_mark_fresh(b);
	}
	while (i < b->n_svcs) {
		const char *ns = b->svcs[i]->meta.ns;
		struct bunit *u = &b->units[b->n_units++];
		size_t j = i + 1;

		while (j < b->n_svcs && strcmp(b->svcs[j]->meta.ns, ns) == 0) {
			j++;
		}
		u->ns = ns;
		u->svc_first = i;
		u->svc_end = j;
		k = builder_ns_index(b, ns);
		if (k < b->n_nss) {
			u->fp = b->ns_fp[k];
			u->fresh = b->ns_fresh[k];
		}
		if (b->prev != NULL && !u->fresh) {
			const struct snap_unit *pu = snap_find_unit(
				b->prev, (const uint8_t *)ns, strlen(ns));

			if (pu != NULL && !pu->fresh && pu->fp == u->fp) {
				u->reuse = pu;
				b->reused_nodes += pu->n_nodes;
			}
		}
		i = j;
	}
	return 0;
}

static void builder_reuse_none(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->n_units; i++) {
		b->units[i].reuse = NULL;
	}
	b->reused_nodes = 0;
	b->n_bptrs = 0;
	b->reused_bptrs = 0;
	b->n_keep = 0;
	b->keep_names = 0;
}

/* Takes over the PTR entries of the units taken over from the previous
 * snapshot's address table: an entry whose targets are all in such units
 * is kept whole (b->keep); the targets in such units of an entry that
 * also has others are made again (b->bptrs, in order). If an address
 * there hid endpoint names behind a ClusterIP (row 15) whose namespace is
 * built now, those names are not in the table to take over: then nothing
 * is taken over. */
static void builder_reuse_ptrs(struct builder *b)
{
	const struct snapshot *p = b->prev;
	size_t zl = p->zones[0].name_len;
	const uint8_t *last = NULL;
	size_t last_len = 0;
	const struct bunit *lu = NULL;
	size_t i;
	size_t k;

	b->keep = builder_tmp(b, SNAP_TMP_KEEP, p->n_ptrs + 1, sizeof(*b->keep),
	                      false);
	if (b->keep == NULL) {
		b->err = -ENOMEM;
		return;
	}
	for (i = 0; i < p->n_ptrs && b->err == 0; i++) {
		const struct snap_ptr *e = &p->ptrs[i];
		const uint8_t *t = p->ptr_names.p + e->off;
		/* Per target: 0 not taken over, else 1 + ClusterIP. */
		uint8_t taken[UINT8_MAX];
		size_t n_taken = 0;
		size_t names = 0;

		for (k = 0; k < e->n_targets; k++) {
			size_t tl = snap_name_len(t);
			const uint8_t *label;
			size_t label_len;
			size_t nl;
			const struct bunit *u;
			bool cip;

			if (!snap_ns_label(t, tl, zl, &label, &label_len,
			                   &nl) ||
			    (nl != 3 && nl != 4)) {
				builder_reuse_none(b);
				return; /* not one of ours: play safe */
			}
			cip = nl == 3;
			if (last != NULL && last_len == label_len &&
			    memcmp(last, label, label_len) == 0) {
				u = lu;
			} else {
				u = builder_find_unit(b, label, label_len);
				last = label;
				last_len = label_len;
				lu = u;
			}
			taken[k] = 0;
			if (u != NULL && u->reuse != NULL) {
				taken[k] = (uint8_t)(1 + cip);
				n_taken++;
			} else if (cip && (e->flags & SNAP_PTR_SHADOWED)) {
				builder_reuse_none(b);
				return;
			}
			names += tl;
			t += tl;
		}
		if (n_taken > 0 && n_taken == e->n_targets) {
			b->keep[b->n_keep++] = (uint32_t)i;
			b->keep_names += names;
			continue;
		}
		t = p->ptr_names.p + e->off;
		for (k = 0; k < e->n_targets && n_taken > 0; k++) {
			size_t tl = snap_name_len(t);

			if (taken[k] != 0) {
				struct bptr x =
					bptr_of_entry(e, t, tl, taken[k] == 2);

				builder_push_bptr(b, &x);
			}
			t += tl;
		}
	}
	b->reused_bptrs = b->n_bptrs;
}

/* Emits the services of one unit, and the ClusterIP PTRs of them. */
static void builder_emit_unit(struct builder *b, struct bunit *u,
                              struct beps *eps, struct beps *pv,
                              struct bnode ***en, size_t *en_cap)
{
	size_t zi;
	size_t i;

	u->node_first = b->n_nodes;
	for (i = u->svc_first; i < u->svc_end && b->err == 0; i++) {
		const struct k8s_service *s = b->svcs[i];

		eps->n = 0;
		if (builder_bluegreen(b, s, eps, pv)) {
			/* Endpoints chosen by the color rules. */
		} else if (s->type != K8S_SVC_EXTERNAL_NAME &&
		           builder_slice_eps(b, s, eps) == 0 &&
		           s->has_selector) {
			builder_pod_eps(b, s, NULL, NULL, eps);
		}
		if (eps->n > *en_cap) {
			struct bnode **n = realloc(*en, eps->n * sizeof(*n));

			if (n == NULL) {
				b->err = -ENOMEM;
				break;
			}
			*en = n;
			*en_cap = eps->n;
		}
		u->endpoints += eps->n;
		for (zi = 0; zi < b->snap->n_fwd; zi++) {
			emit_service(b, zi, s, eps, *en);
			emit_previews(b, zi, s, pv);
		}
	}
	u->node_end = b->n_nodes;
}

static int builder_emit(struct builder *b)
{
	struct beps eps = { 0 };
	struct beps pv = { 0 };
	struct bnode **en = NULL;
	size_t en_cap = 0;
	size_t zi;
	size_t i;

	for (zi = 0; zi < b->snap->n_zones; zi++) {
		emit_zone_structure(b, zi);
	}
	for (zi = 0; zi < b->snap->n_fwd; zi++) {
		for (i = 0; i < b->n_nss; i++) {
			const char *sl[] = { b->nss[i], "svc", NULL };
			const char *pl[] = { b->nss[i], "pod", NULL };

			builder_named(b, zi, sl);
			if (b->opts->pods != SNAPSHOT_PODS_DISABLED) {
				builder_named(b, zi, pl);
			}
		}
	}
	b->units_first_node = b->n_nodes;
	if (b->err == 0) {
		b->err = builder_plan_units(b);
	}
	if (b->err == 0 && b->prev != NULL) {
		builder_reuse_ptrs(b);
	}
	/* ClusterIP PTRs first: they win over endpoint PTRs (row 15). The
	 * target is the name the unit will make. */
	for (i = 0; i < b->n_units && b->err == 0; i++) {
		const struct bunit *u = &b->units[i];
		const struct snapshot_zone *z = &b->snap->zones[0];
		size_t j;
		size_t k;

		for (j = u->svc_first; u->reuse == NULL && j < u->svc_end;
		     j++) {
			const struct k8s_service *s = b->svcs[j];
			const char *labels[] = { s->meta.name, s->meta.ns,
				                 "svc", NULL };
			uint8_t name[DNAME_MAXLEN];
			const uint8_t *target;
			size_t len;

			if (s->headless || s->type == K8S_SVC_EXTERNAL_NAME ||
			    s->n_cluster_ips == 0 ||
			    name_make(name, &len, labels, z->name,
			              z->name_len) != 0) {
				continue;
			}
			target = builder_name_dup(b, name, len);
			for (k = 0; target != NULL && k < s->n_cluster_ips;
			     k++) {
				emit_ptr(b, &s->cluster_ips[k], target, len,
				         true);
			}
		}
	}
	for (i = 0; i < b->n_units && b->err == 0; i++) {
		struct bunit *u = &b->units[i];

		if (u->reuse != NULL) {
			u->endpoints = u->reuse->endpoints;
		} else {
			builder_emit_unit(b, u, &eps, &pv, &en, &en_cap);
		}
		b->snap->stats.endpoints += u->endpoints;
	}
	b->snap->stats.services = b->n_svcs;
	b->snap->stats.pods = b->n_pods;
	free(eps.v);
	free(pv.v);
	free(en);
	return b->err;
}

/* ---------------------------- templates ---------------------------- */

static void tb_bytes(struct tb *t, const void *p, size_t n)
{
	if (t->err != 0 || t->pos + n > SNAP_BODY_MAX) {
		t->err = -EMSGSIZE;
		return;
	}
	memcpy(t->buf + t->pos, p, n);
	t->pos += n;
}

static void tb_u16(struct tb *t, uint16_t v)
{
	uint8_t b[2];

	wire_put_u16(b, v);
	tb_bytes(t, b, 2);
}

static void tb_u32(struct tb *t, uint32_t v)
{
	uint8_t b[4];

	wire_put_u32(b, v);
	tb_bytes(t, b, 4);
}

static void tb_dict_add(struct tb *t, size_t abs_off, const uint8_t *name,
                        size_t len)
{
	if (t->n_dict >= SNAP_DICT_MAX || abs_off >= 0x3fff || len <= 1) {
		return;
	}
	t->dict[t->n_dict].abs_off = (uint16_t)abs_off;
	t->dict[t->n_dict].name = name;
	t->dict[t->n_dict].len = (uint8_t)len;
	t->n_dict++;
}

static int tb_dict_find(const struct tb *t, const uint8_t *name, size_t len)
{
	unsigned i;

	for (i = 0; i < t->n_dict; i++) {
		if (t->dict[i].len == len &&
		    memcmp(t->dict[i].name, name, len) == 0) {
			return t->dict[i].abs_off;
		}
	}
	return -1;
}

/* Starts a body for a question whose name is qname (lower case). */
static void tb_begin(struct tb *t, const struct snapshot_zone *z,
                     const uint8_t *qname, size_t qlen)
{
	size_t o = 0;

	t->pos = 0;
	t->err = 0;
	t->n_zptr = 0;
	t->n_zcopy = 0;
	t->n_rptr = 0;
	t->rptr_full = false;
	t->n_glue = 0;
	t->ancount = 0;
	t->nscount = 0;
	t->n_dict = 0;
	t->qend = WIRE_HEADER_LEN + qlen + 4;
	t->zone = z->name;
	t->zone_len = z->name_len;
	while (qname != NULL && o < qlen && qname[o] != 0) {
		tb_dict_add(t, WIRE_HEADER_LEN + o, qname + o, qlen - o);
		o += (size_t)qname[o] + 1;
	}
}

/* Writes a compression pointer to absolute offset abs. A pointer into the
 * question is absolute; one into the body is stored body-relative and
 * listed in rptr, so that the body does not depend on the length of the
 * question's name and equal bodies of different names can be shared
 * (tb_finish). */
static void tb_ptr(struct tb *t, size_t abs)
{
	if (abs >= t->qend && !t->rptr_full && t->pos <= UINT16_MAX) {
		if (t->n_rptr == SVCDNS_ARRAY_SIZE(t->rptr)) {
			t->rptr_full = true;
		} else {
			t->rptr[t->n_rptr++] = (uint16_t)t->pos;
			tb_u16(t, (uint16_t)(abs - t->qend));
			return;
		}
	}
	tb_u16(t, (uint16_t)(0xc000u | abs));
}

/* Writes name (lower case). compress: the longest suffix already in the
 * message becomes a pointer (RFC 1035 4.1.4). Otherwise the name is written
 * whole, and when zcopy is set its zone part is marked to be copied from
 * the question, so that it keeps the query's spelling (row 25). Returns the
 * absolute offset where the name starts. */
static size_t tb_name(struct tb *t, const uint8_t *name, size_t len,
                      bool compress, bool zcopy)
{
	size_t start = t->qend + t->pos;
	size_t o = 0;

	while (o < len && name[o] != 0) {
		int ptr = compress ? tb_dict_find(t, name + o, len - o) : -1;

		if (ptr >= 0) {
			tb_ptr(t, (size_t)ptr);
			return start;
		}
		tb_dict_add(t, t->qend + t->pos, name + o, len - o);
		if (zcopy && len - o == t->zone_len &&
		    memcmp(name + o, t->zone, t->zone_len) == 0 &&
		    t->n_zcopy < SVCDNS_ARRAY_SIZE(t->zcopy) &&
		    t->pos <= UINT16_MAX) {
			t->zcopy[t->n_zcopy++] = (uint16_t)t->pos;
		}
		tb_bytes(t, name + o, (size_t)name[o] + 1);
		o += (size_t)name[o] + 1;
	}
	tb_bytes(t, "", 1);
	return start;
}

/* Writes TYPE, CLASS IN, TTL and a placeholder RDLENGTH; returns the body
 * offset of RDLENGTH for tb_rr_end. */
static size_t tb_rr_begin(struct tb *t, uint16_t type, uint32_t ttl)
{
	size_t at;

	tb_u16(t, type);
	tb_u16(t, DNS_CLASS_IN);
	tb_u32(t, ttl);
	at = t->pos;
	tb_u16(t, 0);
	return at;
}

static void tb_rr_end(struct tb *t, size_t at)
{
	if (t->err == 0) {
		wire_put_u16(t->buf + at, (uint16_t)(t->pos - at - 2));
	}
}

/* Owner: a pointer to an earlier name at abs, or the name written out when
 * abs is out of pointer range. */
static void tb_owner(struct tb *t, size_t abs, const uint8_t *name, size_t len)
{
	if (abs < 0x3fff) {
		tb_ptr(t, abs);
	} else {
		tb_name(t, name, len, true, false);
	}
}

static uint32_t snap_soa_ttl(const struct snapshot *s)
{
	return s->ttl < SNAP_SOA_TTL_MAX ? s->ttl : SNAP_SOA_TTL_MAX;
}

/* SOA RDATA of zone z: ns.dns.<z> hostmaster.<z> serial 7200 1800 86400
 * ttl (row 22). Names compressed against what the message holds. */
static void tb_soa_rdata(struct tb *t, const struct snapshot *s,
                         const struct snapshot_zone *z)
{
	uint8_t n[DNAME_MAXLEN];

	memcpy(n, "\2ns\3dns", 7);
	memcpy(n + 7, z->name, z->name_len);
	tb_name(t, n, (size_t)z->name_len + 7, true, false);
	memcpy(n, "\12hostmaster", 11);
	memcpy(n + 11, z->name, z->name_len);
	tb_name(t, n, (size_t)z->name_len + 11, true, false);
	tb_u32(t, s->serial);
	tb_u32(t, 7200);
	tb_u32(t, 1800);
	tb_u32(t, 86400);
	tb_u32(t, s->ttl);
}

/* One RR of rr's type at owner (absolute pointer target). Returns the
 * absolute offset of the RDATA's target name (SRV, NS, CNAME, PTR), or 0. */
static size_t tb_rr(struct tb *t, const struct snapshot *s,
                    const struct snapshot_zone *z, const struct brr *rr,
                    size_t owner_abs, const struct bnode *owner)
{
	size_t at;
	size_t tabs = 0;
	size_t n;

	tb_owner(t, owner_abs, owner->name, owner->len);
	switch (rr->type) {
	case DNS_TYPE_A:
		at = tb_rr_begin(t, rr->type, rr->ttl);
		tb_bytes(t, rr->ip.addr, 4);
		break;
	case DNS_TYPE_AAAA:
		at = tb_rr_begin(t, rr->type, rr->ttl);
		tb_bytes(t, rr->ip.addr, 16);
		break;
	case DNS_TYPE_SRV:
		at = tb_rr_begin(t, rr->type, rr->ttl);
		tb_u16(t, rr->prio);
		tb_u16(t, rr->weight);
		tb_u16(t, rr->port);
		/* RFC 2782: the target is not compressed. */
		tabs = tb_name(t, rr->target, rr->target_len, false, true);
		break;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		at = tb_rr_begin(t, rr->type, rr->ttl);
		tabs = tb_name(t, rr->target, rr->target_len, true, false);
		break;
	case DNS_TYPE_TXT:
		at = tb_rr_begin(t, rr->type, rr->ttl);
		n = strlen(rr->txt);
		n = n > 255 ? 255 : n;
		tb_bytes(t, &(uint8_t){ (uint8_t)n }, 1);
		tb_bytes(t, rr->txt, n);
		break;
	case DNS_TYPE_SOA:
	default:
		if (z == NULL) {
			/* Glue, the one caller without a zone, is A and AAAA
			 * only: an SOA here is a bug, not a record. */
			t->err = -EINVAL;
			return tabs;
		}
		at = tb_rr_begin(t, DNS_TYPE_SOA, snap_soa_ttl(s));
		tb_soa_rdata(t, s, z);
		break;
	}
	tb_rr_end(t, at);
	return tabs;
}

/* Additional-section glue: the A then AAAA records of each target. */
static void tb_glue(struct tb *t, struct builder *b,
                    const struct brr *const *targets, const size_t *tabs,
                    size_t n)
{
	size_t i;
	int pass;

	for (i = 0; i < n; i++) {
		const struct bnode *tn =
			targets[i]->tnode
				? targets[i]->tnode
				: builder_find(b, targets[i]->target,
		                               targets[i]->target_len);

		for (pass = 0; tn != NULL && pass < 2; pass++) {
			size_t k = builder_select(
				b, tn, pass == 0 ? DNS_TYPE_A : DNS_TYPE_AAAA);
			size_t j;

			for (j = 0; j < k; j++) {
				size_t before = t->pos;

				if (t->n_glue >=
				    SVCDNS_ARRAY_SIZE(t->glue_len)) {
					return;
				}
				tb_rr(t, b->snap, NULL, b->sel[j], tabs[i], tn);
				if (t->err != 0) {
					/* Out of room: stop at the last whole
					 * record. */
					t->pos = before;
					t->err = 0;
					return;
				}
				t->glue_len[t->n_glue++] =
					(uint16_t)(t->pos - before);
			}
		}
	}
}

/* A new log, nothing writable yet; NULL on failure. The reservation is
 * PROT_NONE so that it is not charged against a strict overcommit limit
 * until it is used. */
static struct snap_log *snap_log_new(void)
{
	struct snap_log *l = calloc(1, sizeof(*l));
	void *p;

	if (l == NULL) {
		return NULL;
	}
	p = mmap(NULL, SNAP_BUF_MAX, PROT_NONE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(l);
		return NULL;
	}
	l->p = p;
	atomic_init(&l->refs, 1);
	atomic_init(&l->writing, false);
	return l;
}

static void snap_log_unref(struct snap_log *l)
{
	if (l == NULL ||
	    atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	munmap(l->p, SNAP_BUF_MAX);
	free(l);
}

/* Makes the first need octets of l writable (in steps that double). */
static bool snap_log_commit(struct snap_log *l, size_t need)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t want = l->committed * 2;

	if (need <= l->committed) {
		return true;
	}
	want = want > need ? want : need;
	want = want > 65536 ? want : 65536;
	want = (want + page - 1) & ~(page - 1);
	if (want > SNAP_BUF_MAX) {
		want = SNAP_BUF_MAX;
	}
	if (need > want || mprotect(l->p + l->committed, want - l->committed,
	                            PROT_READ | PROT_WRITE) != 0) {
		return false;
	}
	l->committed = want;
	return true;
}

/* Makes room for more octets at the end of buf. */
static bool snap_buf_grow(struct snap_buf *buf, size_t more)
{
	size_t need = (buf->p ? buf->len : 4) + more + 3;

	/* RELIABILITY.md 4 "Size limits": a snapshot stays bounded whatever
	 * the manifests hold (each buffer; the arena has its own cap). */
	if (need > SNAP_BUF_MAX) {
		return false;
	}
	if (need > buf->cap && buf->log != NULL) {
		if (!snap_log_commit(buf->log, need)) {
			return false;
		}
		buf->cap = buf->log->committed;
	} else if (need > buf->cap) {
		size_t cap = buf->cap ? buf->cap : 65536;
		uint8_t *p;

		while (cap < need) {
			cap *= 2;
		}
		p = realloc(buf->p, cap);
		if (p == NULL) {
			return false;
		}
		if (buf->p == NULL) {
			/* Offset 0 stands for "none": start at 4. */
			memset(p, 0, 4);
			buf->len = 4;
		}
		buf->p = p;
		buf->cap = cap;
	}
	return true;
}

/* As snap_buf_grow, and pads the end to a multiple of 4 so that a record
 * read in place is aligned. */
static bool snap_buf_reserve(struct snap_buf *buf, size_t more)
{
	if (!snap_buf_grow(buf, more)) {
		return false;
	}
	while (buf->len & 3) {
		buf->p[buf->len++] = 0;
	}
	return true;
}

/* A block of n * size octets for k, zeroed if zero: the dead snapshot's
 * (builder_take_dead) when it is at least that large and not a quarter
 * larger, else a new one. NULL on OOM or past SNAP_BUF_MAX. */
static void *builder_blk(struct builder *b, enum snap_blk k, size_t n,
                         size_t size, bool zero)
{
	size_t len;

	if (size != 0 && n > SNAP_BUF_MAX / size) {
		return NULL;
	}
	len = n * size;
	return snap_reuse(&b->kept[k], b->kept_len[k], len, len + len / 4, zero,
	                  &b->snap->blk[k]);
}

/* A response already in the buffer whose bytes equal the one being
 * finished, or 0. Only responses with glue are shared: they are the large
 * ones (SRV), and the bare service name and its _port._proto name often
 * have the very same SRV answer. */
static uint32_t tb_find_same(struct builder *b, uint32_t h, const void *blob,
                             size_t len)
{
	size_t j;

	if (b->same == NULL) {
		return 0;
	}
	for (j = h & b->same_mask; b->same[j].off != 0;
	     j = (j + 1) & b->same_mask) {
		if (b->same[j].hash == h && b->same[j].len == len &&
		    b->same[j].off >= b->same_floor &&
		    memcmp(b->snap->resps.p + b->same[j].off, blob, len) == 0) {
			return b->same[j].off;
		}
	}
	return 0;
}

static void tb_remember(struct builder *b, uint32_t h, uint32_t off, size_t len)
{
	size_t j;

	if (b->n_same * 2 >= b->same_mask) {
		size_t cap = b->same ? (b->same_mask + 1) * 2 : 1024;
		struct bsame *v = calloc(cap, sizeof(*v));

		if (v == NULL) {
			return; /* sharing is an optimisation only */
		}
		for (j = 0; b->same != NULL && j <= b->same_mask; j++) {
			size_t k;

			if (b->same[j].off == 0) {
				continue;
			}
			for (k = b->same[j].hash & (cap - 1); v[k].off != 0;
			     k = (k + 1) & (cap - 1)) {
			}
			v[k] = b->same[j];
		}
		free(b->same);
		b->same = v;
		b->same_mask = cap - 1;
	}
	for (j = h & b->same_mask; b->same[j].off != 0;
	     j = (j + 1) & b->same_mask) {
	}
	b->same[j].hash = h;
	b->same[j].off = off;
	b->same[j].len = (uint32_t)len;
	b->n_same++;
}

/* Appends the template under construction to the response buffer and
 * returns its offset, or 0 on OOM (offset 0 is never a response). */
static uint32_t tb_finish(struct builder *b, struct tb *t, uint8_t rcode,
                          size_t an_len, uint16_t rr_len)
{
	struct snap_buf *buf = &b->snap->resps;
	size_t narr = (size_t)t->n_glue + t->n_zptr + t->n_zcopy + t->n_rptr;
	size_t glue = 0;
	size_t len;
	struct snap_rhdr *h;
	size_t off;
	size_t i;
	uint32_t hash;
	uint32_t same;

	for (i = 0; i < t->n_glue; i++) {
		glue += t->glue_len[i];
	}
	len = sizeof(*h) + narr * 2 + t->pos;
	if (!snap_buf_reserve(buf, len)) {
		b->err = -ENOMEM;
		return 0;
	}
	off = buf->len;
	h = (struct snap_rhdr *)(void *)(buf->p + off);
	h->rcode = rcode;
	h->rotate = rr_len != 0 && t->ancount > 1;
	h->rr_len = rr_len;
	h->ancount = t->ancount;
	h->nscount = t->nscount;
	h->n_glue = t->n_glue;
	h->n_zptr = t->n_zptr;
	h->n_zcopy = t->n_zcopy;
	h->n_rptr = t->n_rptr;
	h->an_len = (uint16_t)an_len;
	h->ns_len = (uint16_t)(t->pos - an_len - glue);
	memcpy(h->arr, t->glue_len, t->n_glue * sizeof(uint16_t));
	memcpy(h->arr + t->n_glue, t->zptr, t->n_zptr * sizeof(uint16_t));
	memcpy(h->arr + t->n_glue + t->n_zptr, t->zcopy,
	       t->n_zcopy * sizeof(uint16_t));
	memcpy(h->arr + t->n_glue + t->n_zptr + t->n_zcopy, t->rptr,
	       t->n_rptr * sizeof(uint16_t));
	memcpy((uint8_t *)(h->arr + narr), t->buf, t->pos);
	if (t->n_glue == 0) {
		buf->len = off + len;
		return (uint32_t)off;
	}
	hash = snap_hash_name((const uint8_t *)h, len);
	same = tb_find_same(b, hash, h, len);
	if (same != 0) {
		return same; /* written past the end, never kept */
	}
	buf->len = off + len;
	tb_remember(b, hash, (uint32_t)off, len);
	return (uint32_t)off;
}

/* Decodes the response at off into a view (pointers into the buffer). */
static void snap_resp_view(const struct snapshot *s, uint32_t off,
                           struct snapshot_resp *r)
{
	const struct snap_rhdr *h =
		(const struct snap_rhdr *)(const void *)(s->resps.p + off);
	size_t narr = (size_t)h->n_glue + h->n_zptr + h->n_zcopy + h->n_rptr;

	r->rcode = h->rcode;
	r->rotate = h->rotate;
	r->rr_len = h->rr_len;
	r->ancount = h->ancount;
	r->nscount = h->nscount;
	r->n_glue = h->n_glue;
	r->n_zptr = h->n_zptr;
	r->n_zcopy = h->n_zcopy;
	r->an_len = h->an_len;
	r->ns_len = h->ns_len;
	r->glue_len = h->arr;
	r->zptr = h->arr + h->n_glue;
	r->zcopy = h->arr + h->n_glue + h->n_zptr;
	r->n_rptr = h->n_rptr;
	r->rptr = h->arr + h->n_glue + h->n_zptr + h->n_zcopy;
	r->body = (const uint8_t *)(h->arr + narr);
}

/* The zone's negative templates: an SOA in the authority section whose
 * owner and RDATA names point at the zone's labels inside the question;
 * those pointers depend on the question's length, so they are patched per
 * query (zptr). The offsets are decoded into views once the response
 * buffer stops moving (snap_finish_zones). */
static int tb_zone_negative(struct builder *b, size_t zi, uint32_t offs[2])
{
	struct tb *t = b->tb;
	const struct snapshot_zone *z = &b->snap->zones[zi];
	int i;

	for (i = 0; i < 2; i++) {
		size_t at;

		tb_begin(t, z, NULL, 0);
		t->zptr[t->n_zptr++] = (uint16_t)t->pos;
		tb_u16(t, 0);
		at = tb_rr_begin(t, DNS_TYPE_SOA, snap_soa_ttl(b->snap));
		tb_bytes(t, "\2ns\3dns", 7);
		t->zptr[t->n_zptr++] = (uint16_t)t->pos;
		tb_u16(t, 0);
		tb_bytes(t, "\12hostmaster", 11);
		t->zptr[t->n_zptr++] = (uint16_t)t->pos;
		tb_u16(t, 0);
		tb_u32(t, b->snap->serial);
		tb_u32(t, 7200);
		tb_u32(t, 1800);
		tb_u32(t, 86400);
		tb_u32(t, b->snap->ttl);
		tb_rr_end(t, at);
		t->nscount = 1;
		offs[i] = tb_finish(
			b, t, i == 0 ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN,
			0, 0);
		if (offs[i] == 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* The zone (index) that name is in, or -1. */
static int snap_zone_of(const struct snapshot *s, const uint8_t *name,
                        size_t len)
{
	size_t off;
	const struct snapshot_zone *z = snapshot_find_zone(s, name, len, &off);

	return z ? (int)(z - s->zones) : -1;
}

/* Follows the CNAME at n for qtype (rows 18, RFC 1034 3.6.2, RFC 6604):
 * in-zone targets are resolved from the builder's own names; an in-zone
 * target that does not exist gives NXDOMAIN, one without the type NODATA
 * (both with the SOA of the target's zone); an out-of-zone target ends the
 * answer with the CNAME alone. Returns the response offset, 0 on error. */
static uint32_t tb_chase(struct builder *b, const struct bnode *n,
                         uint16_t qtype)
{
	struct tb *t = b->tb;
	const struct snapshot *s = b->snap;
	const struct bnode *cur = n;
	size_t cur_abs = WIRE_HEADER_LEN;
	uint8_t rcode = DNS_RCODE_NOERROR;
	int neg_zone = -1;
	size_t an_len;
	int hops;

	tb_begin(t, &s->zones[n->zone], n->name, n->len);
	for (hops = 0; hops < SNAP_CHASE_MAX; hops++) {
		const struct brr *c = cur->rrs;
		const struct bnode *next;
		size_t tabs;
		size_t k;
		size_t j;

		tabs = tb_rr(t, s, NULL, c, cur_abs, cur);
		t->ancount++;
		if (qtype == DNS_TYPE_CNAME) {
			break;
		}
		next = builder_find(b, c->target, c->target_len);
		if (next == NULL) {
			neg_zone = snap_zone_of(s, c->target, c->target_len);
			rcode = neg_zone >= 0 ? DNS_RCODE_NXDOMAIN
			                      : DNS_RCODE_NOERROR;
			break;
		}
		if (next->cname) {
			cur = next;
			cur_abs = tabs;
			continue;
		}
		k = builder_select(b, next, qtype);
		for (j = 0; j < k; j++) {
			tb_rr(t, s, NULL, b->sel[j], tabs, next);
			t->ancount++;
		}
		if (k == 0) {
			neg_zone = next->zone;
		}
		break;
	}
	an_len = t->pos;
	if (neg_zone >= 0) {
		struct brr soa = { .type = DNS_TYPE_SOA };
		const struct snapshot_zone *z = &s->zones[neg_zone];
		int abs = tb_dict_find(t, z->name, z->name_len);
		struct {
			struct bnode n;
			uint8_t name[DNAME_MAXLEN];
		} apex;

		memset(&apex, 0, sizeof(apex));
		memcpy(apex.n.name, z->name, z->name_len);
		apex.n.len = z->name_len;
		tb_rr(t, s, z, &soa, abs >= 0 ? (size_t)abs : 0x3fff, &apex.n);
		t->nscount = 1;
	}
	if (t->err != 0) {
		b->err = b->err ? b->err : -EMSGSIZE;
		return 0;
	}
	return tb_finish(b, t, rcode, an_len, 0);
}

/* The template for qtype at a non-CNAME node: its records of that type
 * (sorted, without duplicates), plus glue for SRV and NS targets. Returns
 * the response offset, 0 on error. */
static uint32_t tb_plain(struct builder *b, const struct bnode *n,
                         uint16_t qtype)
{
	struct tb *t = b->tb;
	const struct snapshot *s = b->snap;
	const struct snapshot_zone *z = &s->zones[n->zone];
	const struct brr *targets[512];
	size_t tabs[512];
	size_t n_targets = 0;
	size_t an_len;
	uint16_t rr_len = 0;
	size_t k = builder_select(b, n, qtype);
	size_t i;

	tb_begin(t, z, n->name, n->len);
	for (i = 0; i < k; i++) {
		const struct brr *rr = b->sel[i];
		size_t before = t->pos;
		size_t ta;

		ta = tb_rr(t, s, z, rr, WIRE_HEADER_LEN, n);
		if (t->err != 0) {
			char text[DNAME_TEXT_MAX];

			/* Larger than any message: keep what fits. */
			t->pos = before;
			t->err = 0;
			if (dname_to_text(n->name, n->len, text,
			                  sizeof(text)) != 0) {
				strcpy(text, "?");
			}
			diag_add(
				b->diag, DIAG_WARNING, "snapshot", 0, 0,
				"%s: more records of type %u than fit in a message; %u served",
				text, (unsigned)qtype, (unsigned)t->ancount);
			break;
		}
		t->ancount++;
		if (ta != 0 && n_targets < SVCDNS_ARRAY_SIZE(targets)) {
			size_t j;

			for (j = 0; j < n_targets; j++) {
				if (targets[j]->target_len == rr->target_len &&
				    memcmp(targets[j]->target, rr->target,
				           rr->target_len) == 0) {
					break;
				}
			}
			if (j == n_targets) {
				targets[n_targets] = rr;
				tabs[n_targets++] = ta;
			}
		}
	}
	an_len = t->pos;
	if (qtype == DNS_TYPE_A) {
		rr_len = 16;
	} else if (qtype == DNS_TYPE_AAAA) {
		rr_len = 28;
	}
	if (qtype == DNS_TYPE_SRV || qtype == DNS_TYPE_NS) {
		tb_glue(t, b, targets, tabs, n_targets);
	}
	return tb_finish(b, t, DNS_RCODE_NOERROR, an_len, rr_len);
}

/* ----------------------------- finishing --------------------------- */

/* Types a node answers, in the order the ANY rule prefers (RFC 8482: one
 * RRset; CNAME, else A, else AAAA, else the first). */
static const uint16_t snap_type_order[] = {
	DNS_TYPE_CNAME, DNS_TYPE_A,   DNS_TYPE_AAAA, DNS_TYPE_SOA,
	DNS_TYPE_NS,    DNS_TYPE_SRV, DNS_TYPE_PTR,  DNS_TYPE_TXT,
};

/* Writes node n, with its templates, into the node buffer and returns its
 * offset (0 on error). */
static uint32_t builder_finish_node(struct builder *b, struct bnode *n)
{
	struct snapshot *s = b->snap;
	struct snap_type types[SVCDNS_ARRAY_SIZE(snap_type_order)];
	unsigned have = 0;
	size_t nt = 0;
	size_t i;
	struct snapshot_node *out;
	size_t size;
	size_t off;
	const struct brr *rr;

	for (rr = n->rrs; rr != NULL; rr = rr->next) {
		for (i = 0; i < SVCDNS_ARRAY_SIZE(snap_type_order); i++) {
			if (snap_type_order[i] == rr->type) {
				have |= 1u << i;
			}
		}
	}
	if (n->cname) {
		/* CNAME first: ANY answers with it. */
		static const uint16_t chased[] = { DNS_TYPE_CNAME, DNS_TYPE_A,
			                           DNS_TYPE_AAAA,
			                           DNS_TYPE_TXT };

		for (i = 0; i < SVCDNS_ARRAY_SIZE(chased); i++) {
			types[nt].qtype = chased[i];
			types[nt].reserved = 0;
			types[nt].off = tb_chase(b, n, chased[i]);
			if (types[nt++].off == 0) {
				return 0;
			}
		}
	} else {
		for (i = 0; i < SVCDNS_ARRAY_SIZE(snap_type_order); i++) {
			if (!(have & (1u << i))) {
				continue;
			}
			types[nt].qtype = snap_type_order[i];
			types[nt].reserved = 0;
			types[nt].off = tb_plain(b, n, snap_type_order[i]);
			if (types[nt++].off == 0) {
				return 0;
			}
		}
	}
	size = sizeof(*out) + nt * sizeof(types[0]) + n->len;
	if (!snap_buf_reserve(&s->nodes, size)) {
		b->err = -ENOMEM;
		return 0;
	}
	off = s->nodes.len;
	out = (struct snapshot_node *)(void *)(s->nodes.p + off);
	out->len = n->len;
	out->n_types = (uint8_t)nt;
	out->reserved = 0;
	memcpy(out->types, types, nt * sizeof(types[0]));
	memcpy((uint8_t *)(out->types + nt), n->name, n->len);
	s->nodes.len = off + size;
	return (uint32_t)off;
}

static const uint8_t *snap_node_name(const struct snapshot_node *n)
{
	return (const uint8_t *)(n->types + n->n_types);
}

/* Inserts the node at off (hash h) into the index. */
static void snap_index_put(struct snapshot *s, uint32_t h, uint32_t off)
{
	size_t j = h & s->mask;

	while (s->table[j].off != 0) {
		j = (j + 1) & s->mask;
	}
	s->table[j].hash = h;
	s->table[j].off = off;
}

/* Makes the templates of nodes [from, to) and indexes them. */
static int builder_finish_range(struct builder *b, size_t from, size_t to)
{
	struct snapshot *s = b->snap;
	size_t i;

	for (i = from; i < to; i++) {
		uint32_t off;

		/* The table is far larger than the cache: ask for the slot
		 * of a node a few ahead while this one's templates are made
		 * (the probe below is otherwise a miss per node). */
		if (i + 8 < to) {
			__builtin_prefetch(
				&s->table[b->nodes[i + 8]->hash & s->mask], 1);
		}
		off = builder_finish_node(b, b->nodes[i]);
		if (off == 0) {
			return b->err ? b->err : -ENOMEM;
		}
		snap_index_put(s, b->nodes[i]->hash, off);
	}
	return 0;
}

/* Notes the nodes at [at, end) of the node buffer for the index, their
 * response offsets moved by delta first (unless 0). Nodes start
 * 4-aligned, padded with zeros in between. */
static void builder_index_unit(struct builder *b, size_t at, size_t end,
                               uint32_t delta)
{
	uint8_t *base = b->snap->nodes.p;

	while ((at = (at + 3) & ~(size_t)3) < end) {
		struct snapshot_node *n =
			(struct snapshot_node *)(void *)(base + at);
		const uint8_t *name = (const uint8_t *)(n->types + n->n_types);
		size_t k;

		for (k = 0; delta != 0 && k < n->n_types; k++) {
			n->types[k].off += delta;
		}
		if (b->n_copied < b->reused_nodes) {
			b->copied[b->n_copied].hash =
				snap_hash_name(name, n->len);
			b->copied[b->n_copied++].off = (uint32_t)at;
		}
		at += sizeof(*n) + n->n_types * sizeof(n->types[0]) + n->len;
	}
}

/* Takes unit u over from the previous snapshot: in place when the build
 * appends to its logs, else copied (its responses as they are, its nodes
 * with their response offsets moved); each node indexed. */
static int builder_copy_unit(struct builder *b, struct bunit *u)
{
	struct snapshot *s = b->snap;
	const struct snapshot *p = b->prev;
	const struct snap_unit *pu = u->reuse;
	size_t rlen = pu->resp_end - pu->resp_off;
	size_t nlen = pu->node_end - pu->node_off;
	size_t at;
	size_t end;
	uint32_t delta;

	if (b->append) {
		/* In place, in the log both snapshots share: nothing is
		 * written there (the previous snapshot's readers read it). */
		u->out = *pu;
		builder_index_unit(b, pu->node_off, pu->node_end, 0);
		return 0;
	}
	if (!snap_buf_reserve(&s->resps, rlen) ||
	    !snap_buf_reserve(&s->nodes, nlen)) {
		return -ENOMEM;
	}
	u->out = *pu;
	u->out.resp_off = (uint32_t)s->resps.len;
	memcpy(s->resps.p + s->resps.len, p->resps.p + pu->resp_off, rlen);
	s->resps.len += rlen;
	u->out.resp_end = (uint32_t)s->resps.len;
	/* Modulo 2^32: a move down works as well as one up. */
	delta = u->out.resp_off - pu->resp_off;
	at = s->nodes.len;
	u->out.node_off = (uint32_t)at;
	memcpy(s->nodes.p + at, p->nodes.p + pu->node_off, nlen);
	s->nodes.len += nlen;
	end = s->nodes.len;
	u->out.node_end = (uint32_t)end;
	builder_index_unit(b, at, end, delta);
	return 0;
}

/* Indexes the copied nodes, each slot prefetched a few nodes ahead. */
static void builder_index_copied(struct builder *b)
{
	struct snapshot *s = b->snap;
	size_t i;

	for (i = 0; i < b->n_copied; i++) {
		if (i + 8 < b->n_copied) {
			__builtin_prefetch(
				&s->table[b->copied[i + 8].hash & s->mask], 1);
		}
		snap_index_put(s, b->copied[i].hash, b->copied[i].off);
	}
}

/* Starts a unit in both buffers at a 4-aligned offset. */
static bool builder_unit_begin(struct builder *b, struct bunit *u)
{
	struct snapshot *s = b->snap;

	if (!snap_buf_reserve(&s->resps, 0) ||
	    !snap_buf_reserve(&s->nodes, 0)) {
		return false;
	}
	u->out.resp_off = (uint32_t)s->resps.len;
	u->out.node_off = (uint32_t)s->nodes.len;
	b->same_floor = u->out.resp_off;
	return true;
}

/* Claims log l of kind k for appending (one build at a time). */
static bool builder_claim(struct builder *b, enum snap_log_kind k,
                          struct snap_log *l)
{
	if (atomic_exchange_explicit(&l->writing, true, memory_order_acquire)) {
		return false;
	}
	b->claimed[k] = l;
	return true;
}

static void builder_unclaim(struct builder *b, enum snap_log_kind k)
{
	if (b->claimed[k] != NULL) {
		atomic_store_explicit(&b->claimed[k]->writing, false,
		                      memory_order_release);
		b->claimed[k] = NULL;
	}
}

/* Whether the build appends to prev's logs of kinds [k, k + n), having
 * claimed them: when what it leaves behind as garbage stays under
 * SNAP_LOG_GARBAGE_DIV-th of the taken octets it takes over in place. */
static bool builder_may_append(struct builder *b, enum snap_log_kind k,
                               size_t n, struct snap_log *const *l,
                               size_t taken)
{
	size_t used = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (l[i] == NULL || !builder_claim(b, k + i, l[i])) {
			while (i-- > 0) {
				builder_unclaim(b, k + i);
			}
			return false;
		}
		used += l[i]->len;
	}
	if (used - taken <= taken / SNAP_LOG_GARBAGE_DIV) {
		b->log_taken += taken;
		return true;
	}
	for (i = 0; i < n; i++) {
		builder_unclaim(b, k + i);
	}
	return false;
}

/* Puts buf on a log of kind k: the claimed one, appending, or else a dead
 * snapshot's (builder_take_dead) or a new one, from its start. */
static int builder_on_log(struct builder *b, enum snap_log_kind k,
                          struct snap_buf *buf, bool append)
{
	struct snap_log *l = append ? b->claimed[k] : b->spare_log[k];

	if (append) {
		atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
	} else if (l != NULL) {
		b->spare_log[k] = NULL;
	} else if ((l = snap_log_new()) == NULL) {
		/* No address range to reserve (a ulimit -v, say): a plain
		 * malloc buffer, which later builds copy from. */
		*buf = (struct snap_buf){ 0 };
		b->log_from += 4;
		return 0;
	}
	/* The buffer holds the reference from here on. */
	buf->log = l;
	buf->p = l->p;
	if (!append) {
		/* Offset 0 stands for "none": start at 4. */
		if (!snap_log_commit(l, 4)) {
			return -ENOMEM;
		}
		memset(l->p, 0, 4);
		l->len = 4;
	}
	buf->len = l->len;
	buf->cap = l->committed;
	b->log_from += l->len;
	return 0;
}

/* Puts the node and response buffers on logs: prev's when the build may
 * append to them, the units it takes over staying in place; else logs
 * which those units are copied into. */
static int builder_logs(struct builder *b)
{
	struct snapshot *s = b->snap;
	const struct snapshot *p = b->prev;
	int err;

	if (p != NULL && b->reused_nodes > 0) {
		struct snap_log *l[] = { p->nodes.log, p->resps.log };
		size_t taken = 0;
		size_t i;

		for (i = 0; i < b->n_units; i++) {
			const struct snap_unit *pu = b->units[i].reuse;

			if (pu != NULL) {
				taken += (pu->node_end - pu->node_off) +
				         (pu->resp_end - pu->resp_off);
			}
		}
		b->append = builder_may_append(b, SNAP_LOG_NODES, 2, l, taken);
	}
	err = builder_on_log(b, SNAP_LOG_NODES, &s->nodes, b->append);
	if (err == 0) {
		err = builder_on_log(b, SNAP_LOG_RESPS, &s->resps, b->append);
	}
	return err;
}

static int builder_finish(struct builder *b)
{
	struct snapshot *s = b->snap;
	size_t total = b->n_nodes + b->reused_nodes;
	size_t cap = snap_pow2(total * 2 + 2);
	size_t i;
	int err;

	s->table = builder_blk(b, SNAP_BLK_TABLE, cap, sizeof(*s->table), true);
	s->units = arena_calloc(s->arena, b->n_units + 1, sizeof(*s->units));
	if (s->table == NULL || s->units == NULL || builder_logs(b) != 0) {
		return -ENOMEM;
	}
	for (i = 0; i < s->n_zones; i++) {
		if (tb_zone_negative(b, i, b->neg[i]) != 0) {
			return -ENOMEM;
		}
	}
	s->mask = cap - 1;
	err = builder_finish_range(b, 0, b->units_first_node);
	/* Built units first, in node order; then the copies. A unit's
	 * responses are shared only within it, so that it can be copied
	 * alone by a later build. */
	for (i = 0; i < b->n_units && err == 0; i++) {
		struct bunit *u = &b->units[i];

		if (u->reuse != NULL) {
			continue;
		}
		if (!builder_unit_begin(b, u)) {
			return -ENOMEM;
		}
		err = builder_finish_range(b, u->node_first, u->node_end);
		u->out.resp_end = (uint32_t)s->resps.len;
		u->out.node_end = (uint32_t)s->nodes.len;
		u->out.n_nodes = (uint32_t)(u->node_end - u->node_first);
		u->out.endpoints = (uint32_t)u->endpoints;
		s->stats.ns_built++;
	}
	if (b->reused_nodes > 0) {
		b->copied = builder_tmp(b, SNAP_TMP_COPIED, b->reused_nodes,
		                        sizeof(*b->copied), false);
		if (b->copied == NULL) {
			return -ENOMEM;
		}
	}
	for (i = 0; i < b->n_units && err == 0; i++) {
		if (b->units[i].reuse != NULL) {
			err = builder_copy_unit(b, &b->units[i]);
			s->stats.ns_reused++;
			s->stats.ns_in_place += b->append;
		}
	}
	builder_index_copied(b);
	b->same_floor = 0;
	for (i = 0; i < b->n_units && err == 0; i++) {
		struct snap_unit *su = &s->units[s->n_units++];

		*su = b->units[i].out;
		su->fp = b->units[i].fp;
		su->fresh = b->units[i].fresh;
		su->ns = arena_strdup(s->arena, b->units[i].ns);
		if (su->ns == NULL) {
			err = -ENOMEM;
		}
	}
	if (err != 0) {
		return err;
	}
	s->n_nodes = total;
	s->stats.names = total;
	return 0;
}

static int bptr_cmp(const void *a, const void *c)
{
	const struct bptr *x = a;
	const struct bptr *y = c;
	int r = (int)x->ip.family - (int)y->ip.family;

	if (r == 0) {
		r = memcmp(x->ip.addr, y->ip.addr, 16);
	}
	if (r == 0) {
		r = (int)y->clusterip - (int)x->clusterip;
	}
	if (r == 0) {
		r = memcmp(x->target, y->target,
		           x->tlen < y->tlen ? x->tlen : y->tlen);
	}
	return r != 0 ? r : (int)x->tlen - (int)y->tlen;
}

static uint32_t snap_ip_hash(uint8_t family, const uint8_t *addr)
{
	return snap_hash_bytes(2166136261u ^ family, addr, 16);
}

/* The address table for PTR (rows 14, 15): for each address, its
 * ClusterIP service if it is one (the ClusterIP match wins), else one name
 * per service endpoint that has it, without duplicates. */
/* The PTRs taken over (b->bptrs[0, reused_bptrs)) are in order already:
 * sort the new ones and merge. */
static int builder_merge_ptrs(struct builder *b)
{
	const struct bptr *x = b->bptrs;
	const struct bptr *y = b->bptrs + b->reused_bptrs;
	size_t nx = b->reused_bptrs;
	size_t ny = b->n_bptrs - b->reused_bptrs;
	struct bptr *out = builder_tmp(b, SNAP_TMP_MERGE, b->n_bptrs + 1,
	                               sizeof(*out), false);
	size_t i = 0;
	size_t j = 0;
	size_t k = 0;

	if (out == NULL) {
		return -ENOMEM;
	}
	if (ny > 1) {
		qsort(b->bptrs + nx, ny, sizeof(*b->bptrs), bptr_cmp);
	}
	while (i < nx && j < ny) {
		out[k++] = bptr_cmp(&x[i], &y[j]) <= 0 ? x[i++] : y[j++];
	}
	while (i < nx) {
		out[k++] = x[i++];
	}
	while (j < ny) {
		out[k++] = y[j++];
	}
	/* The old array becomes the next build's merge output. */
	builder_tmp_drop_len(b, SNAP_TMP_MERGE, b->bptrs,
	                     b->cap_bptrs * sizeof(*b->bptrs));
	b->bptrs = out;
	b->cap_bptrs = b->tmp_len[SNAP_TMP_MERGE] / sizeof(*out);
	b->tmp_len[SNAP_TMP_MERGE] = 0;
	return 0;
}

/* Whether the PTR table's addresses are the previous snapshot's, in the
 * same order (a cutover moves names, not addresses): its index, made by
 * the same inserts, is then the same, and is copied. */
static bool builder_ptrs_as_before(const struct builder *b)
{
	const struct snapshot *p = b->prev;
	const struct snapshot *s = b->snap;
	size_t i;

	if (p == NULL || p->ptr_index == NULL || p->n_ptrs != s->n_ptrs) {
		return false;
	}
	for (i = 0; i < s->n_ptrs; i++) {
		if (p->ptrs[i].family != s->ptrs[i].family ||
		    memcmp(p->ptrs[i].addr, s->ptrs[i].addr, 16) != 0) {
			return false;
		}
	}
	return true;
}

/* Appends the entry of one address from its targets g[0, n), sorted
 * (bptr_cmp): the ClusterIP's name alone when there is one (row 15), else
 * each endpoint name once. */
static int builder_put_ptr(struct builder *b, const struct bptr *g, size_t n)
{
	struct snapshot *s = b->snap;
	struct snap_ptr *e = &s->ptrs[s->n_ptrs++];
	size_t j;

	e->family = g->ip.family;
	memcpy(e->addr, g->ip.addr, 16);
	if (!snap_buf_grow(&s->ptr_names, 0)) {
		return -ENOMEM;
	}
	e->off = (uint32_t)s->ptr_names.len;
	for (j = 0; j < n; j++) {
		const struct bptr *p = &g[j];

		if (p->shadowed || (g->clusterip && !p->clusterip)) {
			e->flags |= SNAP_PTR_SHADOWED;
		}
		if ((g->clusterip && !p->clusterip) ||
		    e->n_targets == UINT8_MAX ||
		    (j > 0 && bptr_cmp(p, &g[j - 1]) == 0)) {
			continue;
		}
		if (!snap_buf_grow(&s->ptr_names, p->tlen)) {
			return -ENOMEM;
		}
		memcpy(s->ptr_names.p + s->ptr_names.len, p->target, p->tlen);
		s->ptr_names.len += p->tlen;
		e->n_targets++;
	}
	return 0;
}

/* Appends prev's entry ke as it is: its target names stay where they are
 * when the build appends to prev's name log, else they are copied. */
static int builder_put_kept(struct builder *b, const struct snap_ptr *ke)
{
	struct snapshot *s = b->snap;
	struct snap_ptr *e = &s->ptrs[s->n_ptrs++];
	const uint8_t *t = b->prev->ptr_names.p + ke->off;
	size_t len = 0;
	size_t k;

	*e = *ke;
	if (b->ptr_append) {
		return 0;
	}
	for (k = 0; k < ke->n_targets; k++) {
		len += snap_name_len(t + len);
	}
	if (!snap_buf_grow(&s->ptr_names, len)) {
		return -ENOMEM;
	}
	e->off = (uint32_t)s->ptr_names.len;
	memcpy(s->ptr_names.p + s->ptr_names.len, t, len);
	s->ptr_names.len += len;
	return 0;
}

/* An address of a kept entry ke that also has targets g[0, n) made now:
 * the entry is made from both lists, as if all were made now. */
static int builder_put_merged(struct builder *b, const struct snap_ptr *ke,
                              const struct bptr *g, size_t n)
{
	const struct snapshot *p = b->prev;
	const uint8_t *t = p->ptr_names.p + ke->off;
	size_t m = 0;
	size_t k;

	if (ke->n_targets + n > b->cap_grp) {
		struct bptr *v =
			realloc(b->grp, (ke->n_targets + n) * sizeof(*v));

		if (v == NULL) {
			return -ENOMEM;
		}
		b->grp = v;
		b->cap_grp = ke->n_targets + n;
	}
	for (k = 0; k < ke->n_targets; k++) {
		size_t tl = snap_name_len(t);
		const uint8_t *label;
		size_t label_len;
		size_t nl = 0;

		/* A ClusterIP's name has 3 labels above the zone. */
		(void)snap_ns_label(t, tl, p->zones[0].name_len, &label,
		                    &label_len, &nl);
		b->grp[m++] = bptr_of_entry(ke, t, tl, nl == 3);
		t += tl;
	}
	memcpy(b->grp + m, g, n * sizeof(*g));
	m += n;
	qsort(b->grp, m, sizeof(*b->grp), bptr_cmp);
	return builder_put_ptr(b, b->grp, m);
}

/* The address table: the entries made now (b->bptrs, grouped by address)
 * merged with those kept from prev (b->keep), both in address order. */
static int builder_put_ptrs(struct builder *b)
{
	const struct snapshot *p = b->prev;
	size_t i = 0;
	size_t k = 0;
	int err = 0;

	while (err == 0 && (i < b->n_bptrs || k < b->n_keep)) {
		const struct snap_ptr *ke =
			k < b->n_keep ? &p->ptrs[b->keep[k]] : NULL;
		size_t j = i;
		int c = -1;

		if (ke != NULL) {
			struct k8s_ip ip = snap_ptr_ip(ke);

			c = i < b->n_bptrs ? k8s_ip_cmp(&b->bptrs[i].ip, &ip)
			                   : 1;
		}
		if (c > 0) {
			err = builder_put_kept(b, ke);
			k++;
			continue;
		}
		while (j < b->n_bptrs &&
		       k8s_ip_cmp(&b->bptrs[j].ip, &b->bptrs[i].ip) == 0) {
			j++;
		}
		if (c < 0) {
			err = builder_put_ptr(b, b->bptrs + i, j - i);
		} else {
			err = builder_put_merged(b, ke, b->bptrs + i, j - i);
			k++;
		}
		i = j;
	}
	return err;
}

static int builder_finish_ptrs(struct builder *b)
{
	struct snapshot *s = b->snap;
	size_t i;
	size_t cap;
	bool same;
	int err;

	if (b->reused_bptrs == 0) {
		if (b->n_bptrs > 1) {
			qsort(b->bptrs, b->n_bptrs, sizeof(*b->bptrs),
			      bptr_cmp);
		}
	} else if (builder_merge_ptrs(b) != 0) {
		return -ENOMEM;
	}
	s->ptrs = builder_blk(b, SNAP_BLK_PTRS, b->n_bptrs + b->n_keep + 1,
	                      sizeof(*s->ptrs), true);
	if (s->ptrs == NULL) {
		return -ENOMEM;
	}
	if (b->n_keep > 0) {
		struct snap_log *l = b->prev->ptr_names.log;

		b->ptr_append = builder_may_append(b, SNAP_LOG_PTR_NAMES, 1, &l,
		                                   b->keep_names);
	}
	err = builder_on_log(b, SNAP_LOG_PTR_NAMES, &s->ptr_names,
	                     b->ptr_append);
	if (err == 0) {
		err = builder_put_ptrs(b);
	}
	if (err != 0) {
		return err;
	}
	cap = snap_pow2(s->n_ptrs * 2 + 2);
	same = builder_ptrs_as_before(b) && b->prev->ptr_mask == cap - 1;
	s->ptr_index = builder_blk(b, SNAP_BLK_PTR_INDEX, cap,
	                           sizeof(*s->ptr_index), !same);
	if (s->ptr_index == NULL) {
		return -ENOMEM;
	}
	s->ptr_mask = cap - 1;
	if (same) {
		memcpy(s->ptr_index, b->prev->ptr_index,
		       cap * sizeof(*s->ptr_index));
		s->stats.names += s->n_ptrs;
		return 0;
	}
	for (i = 0; i < s->n_ptrs; i++) {
		size_t k = snap_ip_hash(s->ptrs[i].family, s->ptrs[i].addr) &
		           s->ptr_mask;

		while (s->ptr_index[k] != 0) {
			k = (k + 1) & s->ptr_mask;
		}
		s->ptr_index[k] = (uint32_t)i + 1;
	}
	s->stats.names += s->n_ptrs;
	return 0;
}

/* The namespace set and, in pods verified mode, the (namespace, address)
 * set of live pods (row 17; decision 4: every entry of podIPs). */
static long snap_ns_slot(const struct snapshot *s, const uint8_t *label,
                         size_t len);

static int builder_pod_tables(struct builder *b, size_t n_ips);

static int builder_finish_pods(struct builder *b)
{
	struct snapshot *s = b->snap;
	size_t cap = snap_pow2(b->n_nss * 2 + 2);
	size_t i;
	size_t n_ips = 0;

	s->ns_table = arena_calloc(s->arena, cap, sizeof(*s->ns_table));
	if (s->ns_table == NULL) {
		return -ENOMEM;
	}
	s->ns_mask = cap - 1;
	for (i = 0; i < b->n_nss; i++) {
		size_t j = snap_hash_str(b->nss[i]) & s->ns_mask;
		const char *copy = arena_strdup(s->arena, b->nss[i]);

		if (copy == NULL) {
			return -ENOMEM;
		}
		while (s->ns_table[j] != NULL) {
			j = (j + 1) & s->ns_mask;
		}
		s->ns_table[j] = copy;
	}
	if (s->pods != SNAPSHOT_PODS_VERIFIED) {
		return 0;
	}
	/* The same pod files and the same namespaces in the same order: the
	 * previous table, slot for slot. */
	s->pods_fp = b->pods_fp;
	for (i = 0; i < b->n_nss; i++) {
		s->pods_fp = snap_mix64(s->pods_fp ^ snap_hash_str(b->nss[i]));
	}
	if (b->prev != NULL && b->prev->pod4 != NULL &&
	    b->prev->pods_fp == s->pods_fp && b->prev->ns_mask == s->ns_mask) {
		size_t b4 = (b->prev->pod4_mask + 1) * sizeof(*s->pod4);
		size_t b6 = (b->prev->pod6_mask + 1) * sizeof(*s->pod6);

		s->pod4 = builder_blk(b, SNAP_BLK_POD4, b4, 1, false);
		s->pod6 = builder_blk(b, SNAP_BLK_POD6, b6, 1, false);
		if (s->pod4 == NULL || s->pod6 == NULL) {
			return -ENOMEM;
		}
		memcpy(s->pod4, b->prev->pod4, b4);
		memcpy(s->pod6, b->prev->pod6, b6);
		s->pod4_mask = b->prev->pod4_mask;
		s->pod6_mask = b->prev->pod6_mask;
		return 0;
	}
	for (i = 0; i < b->n_pods; i++) {
		n_ips += b->pods[i]->n_ips;
	}
	return builder_pod_tables(b, n_ips);
}

/* The hash of a pod table slot. */
static uint32_t snap_pod_hash(uint32_t ns, uint8_t family, const uint8_t *addr)
{
	return snap_hash_bytes(ns * 2654435761u ^ family, addr,
	                       family == 4 ? 4 : 16);
}

/* Sizes a table for n entries, at most 3/4 full: probes stay short. */
static void *snap_pod_alloc(struct builder *b, enum snap_blk k, size_t n,
                            size_t size, size_t *mask)
{
	size_t cap = snap_pow2(n + n / 3 + 2);

	*mask = cap - 1;
	return builder_blk(b, k, cap, size, true);
}

static void snap_pod_put(struct snapshot *s, const struct snap_podip *e)
{
	size_t j;

	if (e->family == 4) {
		for (j = e->hash & s->pod4_mask; s->pod4[j].ns != 0;
		     j = (j + 1) & s->pod4_mask) {
		}
		s->pod4[j].ns = e->ns;
		memcpy(s->pod4[j].addr, e->addr, 4);
		return;
	}
	for (j = e->hash & s->pod6_mask; s->pod6[j].ns != 0;
	     j = (j + 1) & s->pod6_mask) {
	}
	s->pod6[j].ns = e->ns;
	memcpy(s->pod6[j].addr, e->addr, 16);
}

static void snap_pod_prefetch(const struct snapshot *s,
                              const struct snap_podip *e)
{
	if (e->family == 4) {
		__builtin_prefetch(&s->pod4[e->hash & s->pod4_mask], 1);
	} else {
		__builtin_prefetch(&s->pod6[e->hash & s->pod6_mask], 1);
	}
}

/* Two passes: the entries first (pods of one file share their namespace,
 * so its slot is looked up once per run of them), then the inserts, each
 * slot prefetched a few entries ahead: the tables are far larger than the
 * cache. */
static int builder_pod_tables(struct builder *b, size_t n_ips)
{
	struct snapshot *s = b->snap;
	struct snap_podip *v = malloc((n_ips + 1) * sizeof(*v));
	const char *last_ns = NULL;
	long ns = -1;
	size_t n = 0;
	size_t n4 = 0;
	size_t i;

	if (v == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < b->n_pods; i++) {
		const struct k8s_pod *p = b->pods[i];
		size_t k;

		if (p->meta.deleting || p->phase == K8S_POD_SUCCEEDED ||
		    p->phase == K8S_POD_FAILED || p->phase == K8S_POD_UNKNOWN) {
			continue;
		}
		if (last_ns == NULL || strcmp(last_ns, p->meta.ns) != 0) {
			last_ns = p->meta.ns;
			ns = snap_ns_slot(s, (const uint8_t *)last_ns,
			                  strlen(last_ns));
		}
		for (k = 0; ns >= 0 && k < p->n_ips; k++) {
			struct snap_podip *e = &v[n++];

			memset(e, 0, sizeof(*e));
			e->ns = (uint32_t)ns + 1;
			e->family = p->ips[k].family;
			memcpy(e->addr, p->ips[k].addr, 16);
			e->hash = snap_pod_hash(e->ns, e->family, e->addr);
			n4 += e->family == 4;
		}
	}
	s->pod4 = snap_pod_alloc(b, SNAP_BLK_POD4, n4, sizeof(*s->pod4),
	                         &s->pod4_mask);
	s->pod6 = snap_pod_alloc(b, SNAP_BLK_POD6, n - n4, sizeof(*s->pod6),
	                         &s->pod6_mask);
	if (s->pod4 == NULL || s->pod6 == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (i + 8 < n) {
			snap_pod_prefetch(s, &v[i + 8]);
		}
		snap_pod_put(s, &v[i]);
	}
	free(v);
	return 0;
}

static int snap_init_zones(struct builder *b)
{
	struct snapshot *s = b->snap;
	const struct snapshot_opts *o = b->opts;
	static const char *const reverse[] = { "in-addr.arpa", "ip6.arpa" };
	size_t i;

	if (o->n_zones == 0 || o->n_zones > SNAPSHOT_MAX_ZONES) {
		diag_add(b->diag, DIAG_ERROR, "snapshot", 0, 0,
		         "between 1 and %d zones are needed",
		         SNAPSHOT_MAX_ZONES);
		return -EINVAL;
	}
	s->zones = arena_calloc(s->arena, o->n_zones + 2, sizeof(*s->zones));
	if (s->zones == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < o->n_zones + 2; i++) {
		struct snapshot_zone *z = &s->zones[i];
		const char *text =
			i < o->n_zones ? o->zones[i] : reverse[i - o->n_zones];
		size_t len;

		if (dname_from_text(text, z->name, sizeof(z->name), &len) !=
		            0 ||
		    len <= 1) {
			diag_add(b->diag, DIAG_ERROR, "snapshot", 0, 0,
			         "zone \"%s\" is not a domain name", text);
			return -EINVAL;
		}
		dname_lower(z->name, len);
		z->name_len = (uint8_t)len;
		z->labels = (uint8_t)dname_label_count(z->name, len);
		z->reverse = i >= o->n_zones;
	}
	s->n_zones = o->n_zones + 2;
	s->n_fwd = o->n_zones;
	b->primary = s->zones[0].name;
	b->primary_len = s->zones[0].name_len;
	return 0;
}

static uint64_t snap_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* How many names the build will make, roughly, so that the index is sized
 * once: per zone, a few per service and one per endpoint address, plus one
 * reverse name per address. */
static size_t builder_estimate(const struct builder *b)
{
	size_t eps = 0;
	size_t i;

	for (i = 0; i < b->n_slices; i++) {
		eps += b->slices[i]->n_endpoints;
	}
	return b->snap->n_fwd * (b->n_svcs * 4 + eps + b->n_nss * 2 + 8) + eps +
	       b->n_svcs * 2;
}

/* The buffers are complete: trim them (for a log, record where this
 * build's data ends), then decode the zones' negative templates into views
 * (pointers into the response buffer). */
static void snap_finish_buffers(struct builder *b)
{
	struct snapshot *s = b->snap;
	struct snap_buf *bufs[] = { &s->nodes, &s->resps, &s->ptr_names };
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(bufs); i++) {
		uint8_t *p;

		if (bufs[i]->log != NULL) {
			/* Published: the next build appends after it. */
			bufs[i]->log->len = bufs[i]->len;
			continue;
		}
		if (bufs[i]->p == NULL || bufs[i]->len == bufs[i]->cap) {
			continue;
		}
		p = realloc(bufs[i]->p, bufs[i]->len);

		if (p != NULL) {
			bufs[i]->p = p;
			bufs[i]->cap = bufs[i]->len;
		}
	}
	/* What the logs hold that this snapshot does not use: what was in
	 * them before, but for the units taken over in place. */
	s->stats.garbage = b->log_from - b->log_taken;
	memcpy(s->neg, b->neg, sizeof(s->neg));
	for (i = 0; i < s->n_zones; i++) {
		snap_resp_view(s, b->neg[i][0], &s->zones[i].nodata);
		snap_resp_view(s, b->neg[i][1], &s->zones[i].nxdomain);
	}
}

/* What a copied unit depends on besides its objects: the zones, the TTL,
 * the pods mode and the server's own addresses. */
static uint64_t snap_opts_fp(const struct snapshot_opts *o)
{
	uint64_t h = snap_mix64(((uint64_t)o->ttl << 8) ^ (uint64_t)o->pods ^
	                        ((uint64_t)o->n_zones << 40));
	size_t i;

	for (i = 0; i < o->n_zones && i < SNAPSHOT_MAX_ZONES; i++) {
		uint8_t name[DNAME_MAXLEN];
		size_t len = 0;

		if (dname_from_text(o->zones[i], name, sizeof(name), &len) ==
		    0) {
			dname_lower(name, len);
		}
		h = snap_mix64(h ^ snap_hash_name(name, len));
	}
	for (i = 0; i < o->n_ns_addrs; i++) {
		h = snap_mix64(h ^ snap_hash_bytes(o->ns_addrs[i].family,
		                                   o->ns_addrs[i].addr, 16));
	}
	return h;
}

/* Frees buf's memory, or lets go of its log. */
static void snap_buf_free(struct snap_buf *buf)
{
	if (buf->log != NULL) {
		snap_log_unref(buf->log);
	} else {
		free(buf->p);
	}
	buf->p = NULL;
	buf->log = NULL;
}

static void snap_free(struct snapshot *s)
{
	arena_destroy(s->arena);
	free(s->table);
	snap_buf_free(&s->nodes);
	snap_buf_free(&s->resps);
	free(s->ptrs);
	free(s->ptr_index);
	free(s->pod4);
	free(s->pod6);
	snap_buf_free(&s->ptr_names);
	free(s);
}

static void snap_scratch_free(struct snapshot_scratch *scr)
{
	size_t i;

	if (scr == NULL) {
		return;
	}
	arena_destroy(scr->tmp);
	for (i = 0; i < SNAP_TMP_N; i++) {
		free(scr->p[i]);
	}
	free(scr);
}

static size_t snap_scratch_bytes(const struct snapshot_scratch *scr)
{
	size_t bytes = 0;
	size_t i;

	if (scr == NULL) {
		return 0;
	}
	bytes = sizeof(*scr) + (scr->tmp ? arena_footprint(scr->tmp) : 0);
	for (i = 0; i < SNAP_TMP_N; i++) {
		bytes += scr->p[i] != NULL ? scr->len[i] : 0;
	}
	return bytes;
}

/* Swaps scr into the slot's scratch (NULL takes it out) and keeps the
 * slot's count of spare octets; returns what was there. */
static struct snapshot_scratch *snap_scratch_swap(struct snapshot_slot *slot,
                                                  struct snapshot_scratch *scr)
{
	struct snapshot_scratch *old;

	atomic_fetch_add_explicit(&slot->spare_bytes, snap_scratch_bytes(scr),
	                          memory_order_relaxed);
	old = atomic_exchange_explicit(&slot->scratch, scr,
	                               memory_order_acq_rel);
	atomic_fetch_sub_explicit(&slot->spare_bytes, snap_scratch_bytes(old),
	                          memory_order_relaxed);
	return old;
}

/* Takes the slot's whole list of dead snapshots (its count with it). */
static struct snapshot *snap_dead_take(struct snapshot_slot *slot)
{
	struct snapshot *d = atomic_exchange_explicit(&slot->dead, NULL,
	                                              memory_order_acquire);
	const struct snapshot *e;
	size_t bytes = 0;

	for (e = d; e != NULL; e = e->dead_next) {
		bytes += e->spare;
	}
	atomic_fetch_sub_explicit(&slot->spare_bytes, bytes,
	                          memory_order_relaxed);
	return d;
}

static void builder_fini(struct builder *b)
{
	size_t i;

	/* Only a build that copied namespaces leaves its scratch: that of a
	 * full build (the first load, SIGHUP) is sized for every name, tens
	 * of MB at 10,000 services, where the next one-file rebuild needs a
	 * fraction. */
	if (b->scr != NULL && b->reused_nodes == 0) {
		snap_scratch_free(b->scr);
		b->scr = NULL;
	}
	free(b->same);
	builder_tmp_drop_len(b, SNAP_TMP_BPTRS, b->bptrs,
	                     b->cap_bptrs * sizeof(*b->bptrs));
	free(b->nodes);
	builder_tmp_drop(b, SNAP_TMP_INDEX, b->index);
	free(b->sel);
	free(b->tb);
	builder_tmp_drop(b, SNAP_TMP_SVCS, b->svcs);
	builder_tmp_drop(b, SNAP_TMP_SLICES, b->slices);
	builder_tmp_drop(b, b->pods_grouped ? SNAP_TMP_GROUPED : SNAP_TMP_PODS,
	                 b->pods);
	free(b->nss);
	free(b->ns_fp);
	free(b->ns_fresh);
	free(b->ns_slots);
	builder_tmp_drop(b, SNAP_TMP_POD_NS, b->pod_ns);
	free(b->ns_pods);
	free(b->ns_pods_sorted);
	builder_tmp_drop(b, SNAP_TMP_UNITS, b->units);
	builder_tmp_drop(b, SNAP_TMP_COPIED, b->copied);
	builder_tmp_drop(b, SNAP_TMP_KEEP, b->keep);
	for (i = 0; i < SNAP_BLK_N; i++) {
		free(b->kept[i]);
	}
	free(b->grp);
	for (i = 0; i < SNAP_LOG_N; i++) {
		builder_unclaim(b, (enum snap_log_kind)i);
		snap_log_unref(b->spare_log[i]);
	}
	if (b->scr == NULL) {
		arena_destroy(b->tmp);
		return;
	}
	/* Left for the next build with this slot (snapshot_slot_trim frees
	 * it). */
	if (b->tmp != NULL && b->scr->tmp == NULL &&
	    arena_footprint(b->tmp) <= SNAP_SCRATCH_ARENA_MAX) {
		arena_reset(b->tmp);
		b->scr->tmp = b->tmp;
	} else {
		arena_destroy(b->tmp);
	}
	snap_scratch_free(snap_scratch_swap(b->opts->recycle, b->scr));
}

/* Frees a list of dead snapshots (linked by dead_next); returns the
 * octets they held. */
static size_t snap_free_dead(struct snapshot *d)
{
	size_t bytes = 0;

	while (d != NULL) {
		struct snapshot *next = d->dead_next;

		bytes += d->spare;
		snap_free(d);
		d = next;
	}
	return bytes;
}

static void *snap_blk_take(struct snapshot *s, enum snap_blk k)
{
	void *p = NULL;

	switch (k) {
	case SNAP_BLK_TABLE:
		p = s->table;
		s->table = NULL;
		break;
	case SNAP_BLK_PTRS:
		p = s->ptrs;
		s->ptrs = NULL;
		break;
	case SNAP_BLK_PTR_INDEX:
		p = s->ptr_index;
		s->ptr_index = NULL;
		break;
	case SNAP_BLK_POD4:
		p = s->pod4;
		s->pod4 = NULL;
		break;
	case SNAP_BLK_POD6:
		p = s->pod6;
		s->pod6 = NULL;
		break;
	case SNAP_BLK_N:
		break;
	}
	return p;
}

/* Takes the memory of the snapshot that died last in slot (older ones are
 * freed): the new snapshot writes into pages that are mapped already. At
 * 10,000 services a one-file rebuild otherwise spends a third of its time
 * faulting in and zeroing fresh pages. Its logs are taken only when it
 * was their last holder: a log it shares with the current snapshot is
 * appended to, not written again (builder_logs). */
static void builder_take_dead(struct builder *b, struct snapshot_slot *slot)
{
	struct snapshot *d = snap_dead_take(slot);
	struct snapshot *s = b->snap;
	struct snap_buf *logs[SNAP_LOG_N];
	size_t i;

	if (d == NULL) {
		return;
	}
	logs[SNAP_LOG_NODES] = &d->nodes;
	logs[SNAP_LOG_RESPS] = &d->resps;
	logs[SNAP_LOG_PTR_NAMES] = &d->ptr_names;
	snap_free_dead(d->dead_next);
	for (i = 0; i < SVCDNS_ARRAY_SIZE(logs); i++) {
		struct snap_log *l = logs[i]->log;

		if (l != NULL &&
		    atomic_load_explicit(&l->refs, memory_order_acquire) == 1) {
			b->spare_log[i] = l;
			logs[i]->log = NULL;
			logs[i]->p = NULL;
			s->stats.recycled += l->committed;
		}
	}
	for (i = 0; i < SNAP_BLK_N; i++) {
		b->kept[i] = snap_blk_take(d, (enum snap_blk)i);
		b->kept_len[i] = b->kept[i] != NULL ? d->blk[i] : 0;
		s->stats.recycled += b->kept_len[i];
	}
	snap_free(d);
}

struct snapshot *snapshot_build(const struct k8s_file *const *files, size_t n,
                                const struct snapshot_opts *opts,
                                uint32_t serial, struct diag *d)
{
	struct builder b = { 0 };
	struct snapshot *s = calloc(1, sizeof(*s));
	uint64_t t0 = snap_now_us();
	int err = -ENOMEM;
	size_t i;

	if (s == NULL) {
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->serial = serial;
	s->ttl = opts->ttl;
	s->pods = opts->pods;
	s->arena = arena_create(256 * 1024);
	if (s->arena != NULL) {
		arena_set_limit(s->arena, SNAP_BUF_MAX);
	}
	b.snap = s;
	b.opts = opts;
	b.diag = d;
	if (opts->recycle != NULL) {
		s->recycle = opts->recycle;
		builder_take_dead(&b, opts->recycle);
		b.scr = snap_scratch_swap(opts->recycle, NULL);
		if (b.scr == NULL) {
			b.scr = calloc(1, sizeof(*b.scr));
		}
	}
	if (b.scr != NULL && b.scr->tmp != NULL) {
		b.tmp = b.scr->tmp;
		b.scr->tmp = NULL;
	} else {
		b.tmp = arena_create(256 * 1024);
	}
	if (b.scr != NULL && b.scr->p[SNAP_TMP_BPTRS] != NULL) {
		b.bptrs = b.scr->p[SNAP_TMP_BPTRS];
		b.cap_bptrs = b.scr->len[SNAP_TMP_BPTRS] / sizeof(*b.bptrs);
		b.scr->p[SNAP_TMP_BPTRS] = NULL;
	}
	b.tb = malloc(sizeof(*b.tb));
	if (s->arena == NULL || b.tmp == NULL || b.tb == NULL ||
	    !builder_grow_index(&b, 64)) {
		goto out_fail;
	}
	err = snap_init_zones(&b);
	if (err == 0) {
		s->opts_fp = snap_opts_fp(opts);
		if (opts->reuse != NULL && opts->reuse->opts_fp == s->opts_fp) {
			b.prev = opts->reuse;
		}
		err = builder_collect(&b, files, n);
	}
	b.t[0] = snap_now_us();
	if (err == 0 && !builder_grow_index(&b, builder_estimate(&b))) {
		err = -ENOMEM;
	}
	if (err == 0) {
		builder_sort(&b);
		b.t[1] = snap_now_us();
		err = builder_emit(&b);
	}
	b.t[2] = snap_now_us();
	if (err == 0) {
		err = builder_finish(&b);
	}
	b.t[5] = snap_now_us();
	if (err == 0) {
		err = builder_finish_ptrs(&b);
	}
	b.t[3] = snap_now_us();
	if (err == 0) {
		err = builder_finish_pods(&b);
	}
	b.t[4] = snap_now_us();
	if (err != 0) {
		goto out_fail;
	}
	snap_finish_buffers(&b);
	if (getenv("SVCDNS_DEBUG_BUILD") != NULL) {
		fprintf(stderr,
		        "snapshot: append=%d nodes=%zu resps=%zu arena=%zu tmp=%zu names=%zu collect_us=%llu sort_us=%llu emit_us=%llu finish_us=%llu (ptrs_us=%llu) pods_us=%llu\n",
		        (int)b.append, s->nodes.len, s->resps.len,
		        arena_footprint(s->arena), arena_footprint(b.tmp),
		        b.n_nodes, (unsigned long long)(b.t[0] - t0),
		        (unsigned long long)(b.t[1] - b.t[0]),
		        (unsigned long long)(b.t[2] - b.t[1]),
		        (unsigned long long)(b.t[3] - b.t[2]),
		        (unsigned long long)(b.t[3] - b.t[5]),
		        (unsigned long long)(b.t[4] - b.t[3]));
	}
	builder_fini(&b);
	s->stats.bytes = arena_footprint(s->arena) + sizeof(*s) + s->nodes.cap +
	                 s->resps.cap + s->ptr_names.cap;
	for (i = 0; i < SNAP_BLK_N; i++) {
		s->stats.bytes += s->blk[i];
	}
	s->stats.build_us = snap_now_us() - t0;
	return s;

out_fail:
	if (err == -ENOMEM) {
		diag_add(
			d, DIAG_ERROR, "snapshot", 0, 0,
			"out of memory, or over the snapshot size limit (%u MiB a table), while building the snapshot; the previous one stays",
			SNAP_BUF_MAX >> 20);
	}
	builder_fini(&b);
	snap_free(s);
	return NULL;
}

/* --------------------------- start-up cache -------------------------- */

/* A saved snapshot is this header and the snapshot's tables, raw: only the
 * build that wrote it reads it back (magic, version, layout sizes). */
#define SNAP_FILE_MAGIC  "svcdns-snapshot"
#define SNAP_FILE_FORMAT 1u
#define SNAP_FILE_MAX_NS (1u << 20)

struct snap_file_hdr {
	char magic[16];
	char version[16]; /* SVCDNS_VERSION */
	uint32_t format;
	uint32_t layout; /* sizes of the raw structures, mixed */
	uint64_t key;
	uint64_t opts_fp;
	uint64_t sum; /* of everything after the header */
	uint32_t serial;
	uint32_t ttl;
	uint32_t pods;
	uint32_t n_zones;
	uint32_t n_fwd;
	uint32_t have_pods;
	uint64_t n_nodes;
	uint64_t mask;
	uint64_t nodes_len;
	uint64_t resps_len;
	uint64_t n_ptrs;
	uint64_t ptr_mask;
	uint64_t ptr_names_len;
	uint64_t pod4_mask;
	uint64_t pod6_mask;
	uint64_t ns_mask;
	uint64_t n_units;
	uint32_t neg[SNAPSHOT_MAX_ZONES + 2][2];
	struct snapshot_stats stats;
};

struct snap_fzone {
	uint8_t name[DNAME_MAXLEN];
	uint8_t name_len;
	uint8_t labels;
	uint8_t reverse;
	uint8_t pad;
};

static uint32_t snap_file_layout(void)
{
	return (uint32_t)snap_mix64(sizeof(struct snap_file_hdr) * 1000003u ^
	                            sizeof(struct snapshot_node) * 10007u ^
	                            sizeof(struct snap_rhdr) * 101u ^
	                            sizeof(struct snap_ptr) ^
	                            (uint64_t)sizeof(struct snap_unit) << 20 ^
	                            (uint64_t)sizeof(struct snap_slot) << 28 ^
	                            (uint64_t)sizeof(struct snap_pod6) << 36);
}

/* A running checksum, 8 octets at a time. */
static uint64_t snap_sum(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, b + i, 8);
		h = (h ^ v) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	for (; i < n; i++) {
		h = (h ^ b[i]) * 0x100000001b3ull;
	}
	return h;
}

struct snap_io {
	FILE *f;
	uint64_t sum;
	int err;
};

static void snap_put(struct snap_io *io, const void *p, size_t n)
{
	if (io->err == 0 && n > 0 && fwrite(p, 1, n, io->f) != n) {
		io->err = -EIO;
	}
	io->sum = snap_sum(io->sum, p, n);
}

static void snap_put_str(struct snap_io *io, const char *str)
{
	size_t len = str != NULL ? strlen(str) : 0;
	uint8_t l = (uint8_t)(len > 255 ? 255 : len);

	snap_put(io, &l, 1);
	snap_put(io, str, l);
}

int snapshot_save(const struct snapshot *s, uint64_t key, FILE *f)
{
	struct snap_file_hdr h;
	struct snap_io io = { .f = f };
	size_t i;

	if (s->n_bg != 0) {
		return -ENOTSUP;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAP_FILE_MAGIC, sizeof(SNAP_FILE_MAGIC));
	snprintf(h.version, sizeof(h.version), "%s", SVCDNS_VERSION);
	h.format = SNAP_FILE_FORMAT;
	h.layout = snap_file_layout();
	h.key = key;
	h.opts_fp = s->opts_fp;
	h.serial = s->serial;
	h.ttl = s->ttl;
	h.pods = (uint32_t)s->pods;
	h.n_zones = (uint32_t)s->n_zones;
	h.n_fwd = (uint32_t)s->n_fwd;
	h.have_pods = s->pod4 != NULL;
	h.n_nodes = s->n_nodes;
	h.mask = s->mask;
	h.nodes_len = s->nodes.len;
	h.resps_len = s->resps.len;
	h.n_ptrs = s->n_ptrs;
	h.ptr_mask = s->ptr_mask;
	h.ptr_names_len = s->ptr_names.len;
	h.pod4_mask = s->pod4 != NULL ? s->pod4_mask : 0;
	h.pod6_mask = s->pod4 != NULL ? s->pod6_mask : 0;
	h.ns_mask = s->ns_mask;
	h.n_units = s->n_units;
	memcpy(h.neg, s->neg, sizeof(h.neg));
	h.stats = s->stats;
	/* The header goes last, once the sum is known. */
	if (fseek(f, (long)sizeof(h), SEEK_SET) != 0) {
		return -EIO;
	}
	for (i = 0; i < s->n_zones; i++) {
		struct snap_fzone z;

		memset(&z, 0, sizeof(z));
		memcpy(z.name, s->zones[i].name, sizeof(z.name));
		z.name_len = s->zones[i].name_len;
		z.labels = s->zones[i].labels;
		z.reverse = s->zones[i].reverse;
		snap_put(&io, &z, sizeof(z));
	}
	snap_put(&io, s->table, (s->mask + 1) * sizeof(*s->table));
	snap_put(&io, s->nodes.p, s->nodes.len);
	snap_put(&io, s->resps.p, s->resps.len);
	snap_put(&io, s->ptrs, s->n_ptrs * sizeof(*s->ptrs));
	snap_put(&io, s->ptr_index, (s->ptr_mask + 1) * sizeof(*s->ptr_index));
	snap_put(&io, s->ptr_names.p, s->ptr_names.len);
	if (s->pod4 != NULL) {
		snap_put(&io, s->pod4, (s->pod4_mask + 1) * sizeof(*s->pod4));
		snap_put(&io, s->pod6, (s->pod6_mask + 1) * sizeof(*s->pod6));
	}
	for (i = 0; i <= s->ns_mask; i++) {
		snap_put_str(&io, s->ns_table[i]);
	}
	for (i = 0; i < s->n_units; i++) {
		struct snap_unit u = s->units[i];

		u.ns = NULL;
		snap_put(&io, &u, sizeof(u));
		snap_put_str(&io, s->units[i].ns);
	}
	h.sum = io.sum;
	if (io.err != 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    fwrite(&h, sizeof(h), 1, f) != 1 || fflush(f) != 0) {
		return -EIO;
	}
	return 0;
}

static bool snap_get(struct snap_io *io, void *p, size_t n)
{
	if (io->err != 0) {
		return false;
	}
	if (n > 0 && fread(p, 1, n, io->f) != n) {
		io->err = -EINVAL; /* short: truncated */
		return false;
	}
	io->sum = snap_sum(io->sum, p, n);
	return true;
}

/* A string of the file into the snapshot's arena; "" stays NULL. */
static bool snap_get_str(struct snap_io *io, struct arena *a, const char **out)
{
	uint8_t l;
	char buf[256];

	*out = NULL;
	if (!snap_get(io, &l, 1) || !snap_get(io, buf, l)) {
		return false;
	}
	if (l == 0) {
		return true;
	}
	*out = arena_strndup(a, buf, l);
	if (*out == NULL) {
		io->err = -ENOMEM;
		return false;
	}
	return true;
}

static void *snap_get_alloc(struct snap_io *io, size_t n, size_t size)
{
	void *p;

	if (io->err != 0) {
		return NULL;
	}
	p = malloc(n * size + 1);
	if (p == NULL) {
		io->err = -ENOMEM;
		return NULL;
	}
	if (!snap_get(io, p, n * size)) {
		free(p);
		return NULL;
	}
	return p;
}

static bool snap_is_mask(uint64_t m, uint64_t max)
{
	return m >= 15 && m < max && ((m + 1) & m) == 0;
}

/* The response at off lies inside the response buffer. */
static bool snap_resp_ok(const struct snapshot *s, uint32_t off)
{
	const struct snap_rhdr *h;
	size_t narr;
	size_t len;
	size_t i;

	if (off < 4 || (off & 3) != 0 || off + sizeof(*h) > s->resps.len) {
		return false;
	}
	h = (const struct snap_rhdr *)(const void *)(s->resps.p + off);
	narr = (size_t)h->n_glue + h->n_zptr + h->n_zcopy + h->n_rptr;
	len = (size_t)h->an_len + h->ns_len;
	if (off + sizeof(*h) + narr * 2 > s->resps.len) {
		return false;
	}
	for (i = 0; i < h->n_glue; i++) {
		len += h->arr[i];
	}
	return len <= WIRE_MSG_MAX &&
	       off + sizeof(*h) + narr * 2 + len <= s->resps.len;
}

/* Every index slot names a node inside the node buffer whose responses
 * are inside the response buffer; PTR and pod slots are in range. */
static bool snap_check_loaded(const struct snapshot *s)
{
	size_t i;

	for (i = 0; i <= s->mask; i++) {
		const struct snapshot_node *n;
		uint32_t off = s->table[i].off;
		size_t k;

		if (off == 0) {
			continue;
		}
		if ((off & 3) != 0 || off + sizeof(*n) > s->nodes.len) {
			return false;
		}
		n = (const struct snapshot_node *)(const void *)(s->nodes.p +
		                                                 off);
		if (off + sizeof(*n) + n->n_types * sizeof(n->types[0]) +
		            n->len >
		    s->nodes.len) {
			return false;
		}
		for (k = 0; k < n->n_types; k++) {
			if (!snap_resp_ok(s, n->types[k].off)) {
				return false;
			}
		}
	}
	for (i = 0; i < s->n_zones; i++) {
		if (!snap_resp_ok(s, s->neg[i][0]) ||
		    !snap_resp_ok(s, s->neg[i][1]) ||
		    s->zones[i].name_len < 2 ||
		    dname_len(s->zones[i].name) != s->zones[i].name_len) {
			return false;
		}
	}
	for (i = 0; i < s->n_ptrs; i++) {
		const struct snap_ptr *e = &s->ptrs[i];
		size_t at = e->off;
		unsigned k;

		for (k = 0; k < e->n_targets; k++) {
			size_t j = at;

			while (j < s->ptr_names.len && s->ptr_names.p[j] != 0 &&
			       j - at < DNAME_MAXLEN) {
				j += (size_t)s->ptr_names.p[j] + 1;
			}
			if (j >= s->ptr_names.len || s->ptr_names.p[j] != 0) {
				return false;
			}
			at = j + 1;
		}
	}
	for (i = 0; i <= s->ptr_mask; i++) {
		if (s->ptr_index[i] > s->n_ptrs) {
			return false;
		}
	}
	return true;
}

int snapshot_load(FILE *f, uint64_t key, const struct snapshot_opts *opts,
                  struct snapshot **out)
{
	struct snap_file_hdr h;
	struct snap_io io = { .f = f };
	struct snapshot *s;
	size_t i;

	*out = NULL;
	if (fread(&h, sizeof(h), 1, f) != 1) {
		return -EINVAL;
	}
	if (memcmp(h.magic, SNAP_FILE_MAGIC, sizeof(SNAP_FILE_MAGIC)) != 0 ||
	    h.format != SNAP_FILE_FORMAT || h.layout != snap_file_layout() ||
	    strncmp(h.version, SVCDNS_VERSION, sizeof(h.version)) != 0 ||
	    h.key != key || h.opts_fp != snap_opts_fp(opts) ||
	    h.n_zones != opts->n_zones + 2 || h.n_fwd != opts->n_zones ||
	    h.pods != (uint32_t)opts->pods || h.ttl != opts->ttl) {
		return -ESTALE;
	}
	if (h.n_zones > SNAPSHOT_MAX_ZONES + 2 || h.n_zones < 3 ||
	    !snap_is_mask(h.mask, SNAP_BUF_MAX) ||
	    !snap_is_mask(h.ptr_mask, SNAP_BUF_MAX) ||
	    !snap_is_mask(h.ns_mask, SNAP_FILE_MAX_NS) ||
	    (h.have_pods && (!snap_is_mask(h.pod4_mask, SNAP_BUF_MAX) ||
	                     !snap_is_mask(h.pod6_mask, SNAP_BUF_MAX))) ||
	    h.nodes_len < 4 || h.nodes_len > SNAP_BUF_MAX || h.resps_len < 4 ||
	    h.resps_len > SNAP_BUF_MAX || h.ptr_names_len > SNAP_BUF_MAX ||
	    h.n_ptrs > h.ptr_mask || h.n_units > SNAP_FILE_MAX_NS ||
	    h.n_nodes > h.mask) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	atomic_init(&s->refs, 1);
	s->arena = arena_create(64 * 1024);
	if (s->arena == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->serial = h.serial;
	s->ttl = h.ttl;
	s->pods = (enum snapshot_pods_mode)h.pods;
	s->n_zones = h.n_zones;
	s->n_fwd = h.n_fwd;
	s->n_nodes = h.n_nodes;
	s->opts_fp = h.opts_fp;
	memcpy(s->neg, h.neg, sizeof(s->neg));
	s->stats = h.stats;
	s->zones = arena_calloc(s->arena, s->n_zones, sizeof(*s->zones));
	if (s->zones == NULL) {
		io.err = -ENOMEM;
	}
	for (i = 0; i < s->n_zones && io.err == 0; i++) {
		struct snap_fzone z;

		if (snap_get(&io, &z, sizeof(z))) {
			memcpy(s->zones[i].name, z.name, sizeof(z.name));
			s->zones[i].name_len = z.name_len;
			s->zones[i].labels = z.labels;
			s->zones[i].reverse = z.reverse != 0;
		}
	}
	s->mask = h.mask;
	s->table = snap_get_alloc(&io, h.mask + 1, sizeof(*s->table));
	s->nodes.p = snap_get_alloc(&io, h.nodes_len, 1);
	s->nodes.len = s->nodes.cap = h.nodes_len;
	s->resps.p = snap_get_alloc(&io, h.resps_len, 1);
	s->resps.len = s->resps.cap = h.resps_len;
	s->n_ptrs = h.n_ptrs;
	s->ptrs = snap_get_alloc(&io, h.n_ptrs, sizeof(*s->ptrs));
	s->ptr_mask = h.ptr_mask;
	s->ptr_index =
		snap_get_alloc(&io, h.ptr_mask + 1, sizeof(*s->ptr_index));
	s->ptr_names.p = snap_get_alloc(&io, h.ptr_names_len, 1);
	s->ptr_names.len = s->ptr_names.cap = h.ptr_names_len;
	if (h.have_pods) {
		s->pod4_mask = h.pod4_mask;
		s->pod6_mask = h.pod6_mask;
		s->pod4 =
			snap_get_alloc(&io, h.pod4_mask + 1, sizeof(*s->pod4));
		s->pod6 =
			snap_get_alloc(&io, h.pod6_mask + 1, sizeof(*s->pod6));
	}
	s->ns_mask = h.ns_mask;
	s->ns_table =
		arena_calloc(s->arena, h.ns_mask + 1, sizeof(*s->ns_table));
	if (s->ns_table == NULL && io.err == 0) {
		io.err = -ENOMEM;
	}
	for (i = 0; i <= h.ns_mask && io.err == 0; i++) {
		snap_get_str(&io, s->arena, &s->ns_table[i]);
	}
	s->units = arena_calloc(s->arena, h.n_units + 1, sizeof(*s->units));
	if (s->units == NULL && io.err == 0) {
		io.err = -ENOMEM;
	}
	for (i = 0; i < h.n_units && io.err == 0; i++) {
		struct snap_unit *u = &s->units[i];

		if (snap_get(&io, u, sizeof(*u)) &&
		    snap_get_str(&io, s->arena, &u->ns)) {
			/* Another process's file ids: never copied from. */
			u->fresh = true;
			u->fp = 0;
			s->n_units++;
		}
	}
	if (io.err == 0 && io.sum != h.sum) {
		io.err = -EINVAL;
	}
	if (io.err == 0 && !snap_check_loaded(s)) {
		io.err = -EINVAL;
	}
	if (io.err != 0) {
		snap_free(s);
		return io.err;
	}
	for (i = 0; i < s->n_zones; i++) {
		snap_resp_view(s, s->neg[i][0], &s->zones[i].nodata);
		snap_resp_view(s, s->neg[i][1], &s->zones[i].nxdomain);
	}
	*out = s;
	return 0;
}

/* ----------------------------- read side --------------------------- */

void snapshot_acquire(struct snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

/* The octets of s's logs that other snapshots hold too. */
static size_t snap_shared_bytes(const struct snapshot *s)
{
	const struct snap_buf *bufs[] = { &s->nodes, &s->resps, &s->ptr_names };
	size_t bytes = 0;
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(bufs); i++) {
		if (bufs[i]->log != NULL &&
		    atomic_load_explicit(&bufs[i]->log->refs,
		                         memory_order_relaxed) > 1) {
			bytes += bufs[i]->cap;
		}
	}
	return bytes;
}

void snapshot_release(struct snapshot *s)
{
	if (s == NULL) {
		return;
	}
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	if (s->recycle != NULL) {
		/* To the slot, for the next build: lock-free, no syscall (a
		 * worker may be the last reader). */
		struct snapshot_slot *slot = s->recycle;
		struct snapshot *head =
			atomic_load_explicit(&slot->dead, memory_order_relaxed);

		/* Its logs count when it is their last holder. */
		s->spare = s->stats.bytes - snap_shared_bytes(s);
		atomic_fetch_add_explicit(&slot->spare_bytes, s->spare,
		                          memory_order_relaxed);
		do {
			s->dead_next = head;
		} while (!atomic_compare_exchange_weak_explicit(
			&slot->dead, &head, s, memory_order_release,
			memory_order_relaxed));
		return;
	}
	snap_free(s);
}

size_t snapshot_bluegreen(const struct snapshot *s,
                          const struct snapshot_bluegreen **out)
{
	*out = s->bg;
	return s->n_bg;
}

uint32_t snapshot_serial(const struct snapshot *s)
{
	return s->serial;
}

uint32_t snapshot_ttl(const struct snapshot *s)
{
	return s->ttl;
}

void snapshot_get_stats(const struct snapshot *s, struct snapshot_stats *st)
{
	*st = s->stats;
}

const struct snapshot_zone *snapshot_find_zone(const struct snapshot *s,
                                               const uint8_t *lname, size_t len,
                                               size_t *suffix_off)
{
	const struct snapshot_zone *best = NULL;
	size_t i;

	for (i = 0; i < s->n_zones; i++) {
		const struct snapshot_zone *z = &s->zones[i];
		size_t off;

		if (len < z->name_len ||
		    memcmp(lname + len - z->name_len, z->name, z->name_len) !=
		            0 ||
		    !dname_in_zone(lname, len, z->name, z->name_len, &off)) {
			continue;
		}
		if (best == NULL || z->name_len > best->name_len) {
			best = z;
			*suffix_off = off;
		}
	}
	return best;
}

const struct snapshot_node *snapshot_lookup(const struct snapshot *s,
                                            const uint8_t *lname, size_t len)
{
	uint32_t h = snap_hash_name(lname, len);
	size_t j = h & s->mask;

	while (s->table[j].off != 0) {
		if (s->table[j].hash == h) {
			const struct snapshot_node *n =
				(const struct snapshot_node
			                 *)(const void *)(s->nodes.p +
			                                  s->table[j].off);

			if (n->len == len &&
			    memcmp(snap_node_name(n), lname, len) == 0) {
				return n;
			}
		}
		j = (j + 1) & s->mask;
	}
	return NULL;
}

uint32_t snapshot_prefetch_slot(const struct snapshot *s, const uint8_t *lname,
                                size_t len)
{
	uint32_t h = snap_hash_name(lname, len);

	__builtin_prefetch(&s->table[h & s->mask]);
	return h;
}

const struct snapshot_node *snapshot_prefetch_node(const struct snapshot *s,
                                                   uint32_t hash)
{
	size_t j = hash & s->mask;
	size_t off;

	while (s->table[j].off != 0 && s->table[j].hash != hash) {
		j = (j + 1) & s->mask;
	}
	off = s->table[j].off;
	if (off == 0) {
		return NULL;
	}
	/* A node (header, types, name) is often 40-70 octets: its second
	 * cache line too, when there is one. */
	__builtin_prefetch(s->nodes.p + off);
	if (s->nodes.len - off > 64) {
		__builtin_prefetch(s->nodes.p + off + 64);
	}
	return (const struct snapshot_node *)(const void *)(s->nodes.p + off);
}

void snapshot_prefetch_resp(const struct snapshot *s,
                            const struct snapshot_node *n, uint16_t qtype)
{
	uint8_t i;

	for (i = 0; i < n->n_types; i++) {
		if (n->types[i].qtype == qtype || qtype == DNS_TYPE_ANY) {
			size_t off = n->types[i].off;

			__builtin_prefetch(s->resps.p + off);
			if (s->resps.len - off > 64) {
				__builtin_prefetch(s->resps.p + off + 64);
			}
			return;
		}
	}
}

bool snapshot_node_resp(const struct snapshot *s, const struct snapshot_node *n,
                        uint16_t qtype, struct snapshot_resp *out)
{
	uint8_t i;

	/* ANY: one RRset, the first in the preferred order (RFC 8482). */
	if (qtype == DNS_TYPE_ANY && n->n_types > 0) {
		snap_resp_view(s, n->types[0].off, out);
		return true;
	}
	for (i = 0; i < n->n_types; i++) {
		if (n->types[i].qtype == qtype) {
			snap_resp_view(s, n->types[i].off, out);
			return true;
		}
	}
	return false;
}

/* The slot of namespace label in ns_table, or -1. */
static long snap_ns_slot(const struct snapshot *s, const uint8_t *label,
                         size_t len)
{
	uint32_t h = snap_hash_bytes(2166136261u, label, len);
	size_t j = h & s->ns_mask;

	while (s->ns_table[j] != NULL) {
		const char *ns = s->ns_table[j];

		if (strncmp(ns, (const char *)label, len) == 0 &&
		    ns[len] == '\0') {
			return (long)j;
		}
		j = (j + 1) & s->ns_mask;
	}
	return -1;
}

static bool snap_pod_known(const struct snapshot *s, long ns_slot,
                           const struct k8s_ip *ip)
{
	uint32_t ns = (uint32_t)ns_slot + 1;
	uint32_t h = snap_pod_hash(ns, ip->family, ip->addr);
	size_t j;

	if (s->pod4 == NULL) {
		return false;
	}
	if (ip->family == 4) {
		for (j = h & s->pod4_mask; s->pod4[j].ns != 0;
		     j = (j + 1) & s->pod4_mask) {
			if (s->pod4[j].ns == ns &&
			    memcmp(s->pod4[j].addr, ip->addr, 4) == 0) {
				return true;
			}
		}
		return false;
	}
	for (j = h & s->pod6_mask; s->pod6[j].ns != 0;
	     j = (j + 1) & s->pod6_mask) {
		if (s->pod6[j].ns == ns &&
		    memcmp(s->pod6[j].addr, ip->addr, 16) == 0) {
			return true;
		}
	}
	return false;
}

bool snapshot_pod_answer(const struct snapshot *s,
                         const struct snapshot_zone *z, const uint8_t *lname,
                         size_t len, size_t suffix_off, struct k8s_ip *ip)
{
	size_t offs[4];
	size_t o = 0;
	unsigned n = 0;
	long ns;

	(void)len;
	if (z->reverse || s->pods == SNAPSHOT_PODS_DISABLED) {
		return false;
	}
	/* Exactly <ip>.<ns>.pod left of the zone (section 2.1). */
	while (o < suffix_off && n < 4) {
		offs[n++] = o;
		o += (size_t)lname[o] + 1;
	}
	if (n != 3 || o != suffix_off || lname[offs[2]] != 3 ||
	    memcmp(lname + offs[2] + 1, "pod", 3) != 0) {
		return false;
	}
	ns = snap_ns_slot(s, lname + offs[1] + 1, lname[offs[1]]);
	if (ns < 0) {
		return false;
	}
	if (snap_parse_dashed(lname + 1, lname[0], ip) != 0) {
		return false;
	}
	if (s->pods == SNAPSHOT_PODS_VERIFIED && !snap_pod_known(s, ns, ip)) {
		return false;
	}
	return true;
}

/* The address of a reverse name: d.c.b.a.in-addr.arpa (decimal labels
 * 0..255 without leading zeros) or 32 hex nibbles under ip6.arpa. */
static bool snap_parse_reverse(const struct snapshot_zone *z,
                               const uint8_t *lname, size_t suffix_off,
                               struct k8s_ip *ip)
{
	size_t o = 0;
	int i;

	memset(ip, 0, sizeof(*ip));
	if (z->name_len == 14 && memcmp(z->name, "\7in-addr\4arpa", 14) == 0) {
		ip->family = 4;
		for (i = 3; i >= 0; i--) {
			unsigned v = 0;
			size_t l;
			size_t k;

			if (o >= suffix_off) {
				return false;
			}
			l = lname[o];
			if (l == 0 || l > 3 || (l > 1 && lname[o + 1] == '0')) {
				return false;
			}
			for (k = 1; k <= l; k++) {
				uint8_t c = lname[o + k];

				if (c < '0' || c > '9') {
					return false;
				}
				v = v * 10 + (unsigned)(c - '0');
			}
			if (v > 255) {
				return false;
			}
			ip->addr[i] = (uint8_t)v;
			o += l + 1;
		}
		return o == suffix_off;
	}
	ip->family = 6;
	for (i = 0; i < 32; i++) {
		uint8_t c;
		unsigned v;

		if (o + 2 > suffix_off || lname[o] != 1) {
			return false;
		}
		c = lname[o + 1];
		if (c >= '0' && c <= '9') {
			v = (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v = (unsigned)(c - 'a' + 10);
		} else {
			return false;
		}
		/* Nibbles come least significant first. */
		ip->addr[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
		o += 2;
	}
	return o == suffix_off;
}

unsigned snapshot_ptr_lookup(const struct snapshot *s,
                             const struct snapshot_zone *z,
                             const uint8_t *lname, size_t len,
                             const uint8_t **names)
{
	struct k8s_ip ip;
	size_t k;

	if (!z->reverse || s->ptr_index == NULL || len < z->name_len ||
	    !snap_parse_reverse(z, lname, len - z->name_len, &ip)) {
		return 0;
	}
	k = snap_ip_hash(ip.family, ip.addr) & s->ptr_mask;
	while (s->ptr_index[k] != 0) {
		const struct snap_ptr *e = &s->ptrs[s->ptr_index[k] - 1];

		if (e->family == ip.family &&
		    memcmp(e->addr, ip.addr, 16) == 0) {
			*names = s->ptr_names.p + e->off;
			return e->n_targets;
		}
		k = (k + 1) & s->ptr_mask;
	}
	return 0;
}

/* --------------------------- publishing ---------------------------- */

void snapshot_slot_init(struct snapshot_slot *slot)
{
	pthread_mutex_init(&slot->mu, NULL);
	slot->cur = NULL;
	atomic_init(&slot->generation, 0);
	atomic_init(&slot->dead, NULL);
	atomic_init(&slot->scratch, NULL);
	atomic_init(&slot->spare_bytes, 0);
}

size_t snapshot_slot_trim(struct snapshot_slot *slot)
{
	struct snapshot_scratch *scr = snap_scratch_swap(slot, NULL);
	size_t bytes = snap_scratch_bytes(scr);

	snap_scratch_free(scr);
	return bytes + snap_free_dead(snap_dead_take(slot));
}

size_t snapshot_slot_spare_bytes(struct snapshot_slot *slot)
{
	return atomic_load_explicit(&slot->spare_bytes, memory_order_relaxed);
}

void snapshot_slot_fini(struct snapshot_slot *slot)
{
	snapshot_release(slot->cur);
	slot->cur = NULL;
	snapshot_slot_trim(slot);
	pthread_mutex_destroy(&slot->mu);
}

void snapshot_slot_publish(struct snapshot_slot *slot, struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&slot->mu);
	old = slot->cur;
	slot->cur = s;
	atomic_fetch_add_explicit(&slot->generation, 1, memory_order_release);
	pthread_mutex_unlock(&slot->mu);
	/* Freed here only if no worker holds it; else by its last reader. */
	snapshot_release(old);
}

struct snapshot *snapshot_slot_acquire(struct snapshot_slot *slot)
{
	struct snapshot *s;

	/* The lock makes "load the pointer, then take a reference" atomic
	 * with respect to publish's release of the old snapshot. */
	pthread_mutex_lock(&slot->mu);
	s = slot->cur;
	if (s != NULL) {
		snapshot_acquire(s);
	}
	pthread_mutex_unlock(&slot->mu);
	return s;
}

uint64_t snapshot_slot_generation(struct snapshot_slot *slot)
{
	return atomic_load_explicit(&slot->generation, memory_order_acquire);
}

/* ------------------------------ dump ------------------------------- */

static int dump_name(const struct wire_rd *base, size_t at, char *out,
                     size_t cap)
{
	struct wire_rd rd = *base;
	uint8_t name[DNAME_MAXLEN];
	size_t len = 0;

	rd.pos = at;
	wire_rd_name(&rd, name, &len, true);
	if (rd.err != 0) {
		return -EIO;
	}
	return dname_to_text(name, len, out, cap);
}

/* Prints the RDATA at rd (rdlen octets) of type in presentation form. */
static int dump_rdata(struct wire_rd *rd, uint16_t type, uint16_t rdlen,
                      char *out, size_t cap)
{
	char a[DNAME_TEXT_MAX];
	char c[DNAME_TEXT_MAX];
	size_t at = rd->pos;
	const uint8_t *p = rd->pkt + at;

	switch (type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (inet_ntop(type == DNS_TYPE_A ? AF_INET : AF_INET6, p, a,
		              sizeof(a)) == NULL) {
			return -EIO;
		}
		snprintf(out, cap, "%s", a);
		return 0;
	case DNS_TYPE_SRV:
		if (dump_name(rd, at + 6, a, sizeof(a)) != 0) {
			return -EIO;
		}
		snprintf(out, cap, "%u %u %u %s", wire_get_u16(p),
		         wire_get_u16(p + 2), wire_get_u16(p + 4), a);
		return 0;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		return dump_name(rd, at, out, cap);
	case DNS_TYPE_TXT:
		snprintf(out, cap, "\"%.*s\"", (int)p[0], (const char *)p + 1);
		return 0;
	case DNS_TYPE_SOA: {
		struct wire_rd r2 = *rd;
		uint8_t nm[DNAME_MAXLEN];
		size_t nl;

		if (dump_name(rd, at, a, sizeof(a)) != 0) {
			return -EIO;
		}
		r2.pos = at;
		wire_rd_name(&r2, nm, &nl, true);
		if (dump_name(rd, r2.pos, c, sizeof(c)) != 0) {
			return -EIO;
		}
		wire_rd_name(&r2, nm, &nl, true);
		p = rd->pkt + r2.pos;
		if (r2.err != 0 || r2.pos + 20 > at + rdlen) {
			return -EIO;
		}
		snprintf(out, cap, "%s %s %u %u %u %u %u", a, c,
		         wire_get_u32(p), wire_get_u32(p + 4),
		         wire_get_u32(p + 8), wire_get_u32(p + 12),
		         wire_get_u32(p + 16));
		return 0;
	}
	default:
		return -EIO;
	}
}

static const char *dump_type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A:
		return "A";
	case DNS_TYPE_AAAA:
		return "AAAA";
	case DNS_TYPE_SRV:
		return "SRV";
	case DNS_TYPE_NS:
		return "NS";
	case DNS_TYPE_CNAME:
		return "CNAME";
	case DNS_TYPE_PTR:
		return "PTR";
	case DNS_TYPE_TXT:
		return "TXT";
	case DNS_TYPE_SOA:
		return "SOA";
	default:
		return "TYPE0";
	}
}

/* Renders the answer section of r as a message for n's name and prints the
 * records owned by n itself (not chased targets). */
static int dump_resp(const struct snapshot_node *n,
                     const struct snapshot_resp *r, const char *owner,
                     uint8_t *msg, FILE *out)
{
	size_t qend = WIRE_HEADER_LEN + n->len + 4;
	struct wire_rd rd;
	uint16_t i;
	char rdata[3 * DNAME_TEXT_MAX];

	memset(msg, 0, WIRE_HEADER_LEN);
	memcpy(msg + WIRE_HEADER_LEN, snap_node_name(n), n->len);
	memset(msg + WIRE_HEADER_LEN + n->len, 0, 4);
	memcpy(msg + qend, r->body, r->an_len);
	for (i = 0; i < r->n_rptr; i++) {
		if (r->rptr[i] + 2u <= r->an_len) {
			uint8_t *p = msg + qend + r->rptr[i];

			wire_put_u16(p, (uint16_t)(0xc000u |
			                           (qend + wire_get_u16(p))));
		}
	}
	wire_rd_init(&rd, msg, qend + r->an_len);
	rd.pos = qend;
	for (i = 0; i < r->ancount; i++) {
		uint8_t name[DNAME_MAXLEN];
		size_t len;
		uint16_t type;
		uint32_t ttl;
		uint16_t rdlen;

		wire_rd_name(&rd, name, &len, true);
		type = wire_rd_u16(&rd);
		wire_rd_u16(&rd);
		ttl = wire_rd_u32(&rd);
		rdlen = wire_rd_u16(&rd);
		if (rd.err != 0 || wire_rd_left(&rd) < rdlen) {
			return -EIO;
		}
		if (dname_equal(name, len, snap_node_name(n), n->len)) {
			if (dump_rdata(&rd, type, rdlen, rdata,
			               sizeof(rdata)) != 0) {
				return -EIO;
			}
			fprintf(out, "%s\t%u\tIN\t%s\t%s\n", owner, ttl,
			        dump_type_name(type), rdata);
		}
		wire_rd_bytes(&rd, NULL, rdlen);
	}
	return 0;
}

static int dump_node_cmp(const void *a, const void *b)
{
	const struct snapshot_node *x = *(const struct snapshot_node *const *)a;
	const struct snapshot_node *y = *(const struct snapshot_node *const *)b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r;

	/* Shorter (closer to the apex) first, then bytewise: stable output. */
	unsigned lx = dname_label_count(snap_node_name(x), x->len);
	unsigned ly = dname_label_count(snap_node_name(y), y->len);

	if (lx != ly) {
		return (int)lx - (int)ly;
	}
	r = memcmp(snap_node_name(x), snap_node_name(y), n);
	return r != 0 ? r : (int)x->len - (int)y->len;
}

/* The PTR records of reverse zone z, from the address table. */
static int dump_ptrs(const struct snapshot *s, const struct snapshot_zone *z,
                     FILE *out)
{
	uint8_t family = z->name_len == 14 ? 4 : 6;
	size_t i;

	for (i = 0; i < s->n_ptrs; i++) {
		const struct snap_ptr *e = &s->ptrs[i];
		struct k8s_ip ip;
		uint8_t rname[DNAME_MAXLEN];
		char owner[DNAME_TEXT_MAX];
		const uint8_t *t = s->ptr_names.p + e->off;
		size_t rlen;
		unsigned k;

		if (e->family != family) {
			continue;
		}
		ip.family = e->family;
		memcpy(ip.addr, e->addr, 16);
		snap_reverse_name(&ip, rname, &rlen);
		if (dname_to_text(rname, rlen, owner, sizeof(owner)) != 0) {
			return -EIO;
		}
		for (k = 0; k < e->n_targets; k++) {
			char target[DNAME_TEXT_MAX];
			size_t tl = dname_len(t);

			if (dname_to_text(t, tl, target, sizeof(target)) != 0) {
				return -EIO;
			}
			fprintf(out, "%s\t%u\tIN\tPTR\t%s\n", owner, s->ttl,
			        target);
			t += tl;
		}
	}
	return 0;
}

int snapshot_dump(const struct snapshot *s, FILE *out)
{
	const struct snapshot_node **nodes =
		calloc(s->n_nodes + 1, sizeof(*nodes));
	uint8_t *msg = malloc(WIRE_MSG_MAX);
	size_t zi;
	size_t i;
	size_t n = 0;
	int err = 0;

	if (nodes == NULL || msg == NULL) {
		free(nodes);
		free(msg);
		return -EIO;
	}
	for (i = 0; i <= s->mask; i++) {
		if (s->table[i].off != 0) {
			nodes[n++] = (const struct snapshot_node
			                      *)(const void *)(s->nodes.p +
			                                       s->table[i].off);
		}
	}
	qsort(nodes, n, sizeof(*nodes), dump_node_cmp);
	for (i = 0; i < s->n_bg; i++) {
		const struct snapshot_bluegreen *g = &s->bg[i];

		fprintf(out,
		        "; bluegreen %s/%s served=%s desired=%s ready=%u min-ready=%u%s%s\n",
		        g->ns, g->name, g->served ? g->served : "-",
		        g->desired ? g->desired : "-", g->ready_served,
		        g->min_ready, g->held ? " held" : "",
		        g->from_slices ? " from-slices" : "");
	}
	for (zi = 0; zi < s->n_zones && err == 0; zi++) {
		const struct snapshot_zone *z = &s->zones[zi];
		char zt[DNAME_TEXT_MAX];

		if (dname_to_text(z->name, z->name_len, zt, sizeof(zt)) != 0) {
			err = -EIO;
			break;
		}
		fprintf(out, "; zone %s serial %u\n", zt, s->serial);
		for (i = 0; i < n && err == 0; i++) {
			const struct snapshot_node *nd = nodes[i];
			char owner[DNAME_TEXT_MAX];
			size_t off;
			uint16_t k;

			const uint8_t *nm = snap_node_name(nd);

			if (snapshot_find_zone(s, nm, nd->len, &off) != z ||
			    dname_to_text(nm, nd->len, owner, sizeof(owner)) !=
			            0) {
				continue;
			}
			for (k = 0; k < nd->n_types && err == 0; k++) {
				struct snapshot_resp r;

				/* A CNAME node's other types are chased
				 * answers: their records belong to others. */
				if (k > 0 &&
				    nd->types[0].qtype == DNS_TYPE_CNAME) {
					continue;
				}
				snap_resp_view(s, nd->types[k].off, &r);
				err = dump_resp(nd, &r, owner, msg, out);
			}
		}
		if (z->reverse) {
			err = err ? err : dump_ptrs(s, z, out);
		}
	}
	free(nodes);
	free(msg);
	if (ferror(out)) {
		err = -EIO;
	}
	return err;
}
