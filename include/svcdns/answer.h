/* One query + one snapshot -> one response, by the cluster-DNS rules of
 * CLUSTER-DNS.md. No sockets, no allocation, no locks: the worker gives the
 * buffers, the snapshot it holds and its own answer_state. */
#ifndef SVCDNS_ANSWER_H
#define SVCDNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"
#include "svcdns/wire.h"

struct snapshot;

#define ANSWER_MAX_FALLTHROUGH 8

struct answer_opts {
	/* Forwarding is on and this client may recurse: names outside the
	 * served zones (with RD=1) -> ANSWER_FORWARD, and so do NXDOMAINs in
	 * the reverse zones (kubeadm's "fallthrough in-addr.arpa ip6.arpa")
	 * and in the fallthrough zones; ExternalName CNAMEs to names outside
	 * the zones -> ANSWER_CHASE. false -> REFUSED outside the zones. */
	bool forward;
	size_t max_udp; /* largest UDP response; 1232 by default */
	bool rotate;    /* rotate A/AAAA sets per query */
	/* Set RA in responses (the client may recurse, RFC 5358); never on
	 * FORMERR, NOTIMP or BADVERS. */
	bool ra;
	/* --fallthrough zones: lower-case wire form. */
	uint8_t fallthrough[ANSWER_MAX_FALLTHROUGH][DNAME_MAXLEN];
	uint8_t fallthrough_len[ANSWER_MAX_FALLTHROUGH];
	size_t n_fallthrough;
};

/* Per-worker mutable state; only its owner thread touches it. */
struct answer_state {
	uint32_t rotor;
};

enum answer_verdict {
	ANSWER_REPLY,   /* resp[0..*resp_len) is the response */
	ANSWER_DROP,    /* send nothing */
	ANSWER_FORWARD, /* out of zone: hand the query upstream */
	/* resp[0..*resp_len) is an ExternalName's CNAME chain ending at
	 * info->chase (outside every zone): look that name up upstream with
	 * the query's type and answer the chain plus the upstream's answer,
	 * with the upstream's rcode (CLUSTER-DNS row 18, section 4). */
	ANSWER_CHASE,
};

/* What happened, for metrics and logs. */
struct answer_info {
	enum wire_status status;
	uint16_t qtype;
	uint16_t rcode; /* extended rcode of the response */
	bool truncated;
	bool in_zone;
	uint8_t chase[DNAME_MAXLEN]; /* ANSWER_CHASE: the target, wire form */
	size_t chase_len;
};

/* Answers req[0..req_len). tcp selects the size limit: 65535 on TCP, else
 * wire_udp_limit() of the query. resp must hold at least resp_cap octets
 * (WIRE_MSG_MAX suffices for any answer). snap may be NULL before the first
 * load: in-zone names then get SERVFAIL. Worker thread; no allocation. */
enum answer_verdict answer_query(const struct snapshot *snap,
                                 const struct answer_opts *opts,
                                 struct answer_state *st, const uint8_t *req,
                                 size_t req_len, bool tcp, uint8_t *resp,
                                 size_t resp_cap, size_t *resp_len,
                                 struct answer_info *info);

#endif
