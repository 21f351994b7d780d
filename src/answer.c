/* One query against one snapshot: parse, pick the prebuilt response, copy it
 * behind the echoed question, fix up the few bytes that depend on the query
 * (ID, flags, zone pointers, the zone's spelling, OPT), truncate by the
 * rules of CLUSTER-DNS.md row 43. No allocation, no locks, no I/O. */
#include "svcdns/answer.h"

#include <string.h>

#include "svcdns/dname.h"
#include "svcdns/snapshot.h"

/* Header flags of an authoritative answer: QR, AA, RD and CD copied
 * (RELIABILITY.md H17), everything else clear (Z, AD, RA: no recursion). */
static uint16_t answer_flags(const struct wire_query *q, unsigned rcode)
{
	return (uint16_t)(WIRE_FLAG_QR | WIRE_FLAG_AA |
	                  (q->flags & (WIRE_FLAG_RD | WIRE_FLAG_CD)) |
	                  (rcode & WIRE_RCODE_MASK));
}

static void answer_header(uint8_t *out, const struct wire_query *q,
                          uint16_t flags, uint16_t an, uint16_t ns, uint16_t ar)
{
	wire_put_u16(out, q->id);
	wire_put_u16(out + 2, flags);
	wire_put_u16(out + 4, 1);
	wire_put_u16(out + 6, an);
	wire_put_u16(out + 8, ns);
	wire_put_u16(out + 10, ar);
}

/* Copies the answer section, rotated by k records when the set allows it
 * (all records the same length: an A or AAAA set), so that clients that
 * take the first address spread their load. */
static void answer_copy_rotated(uint8_t *dst, const struct snapshot_resp *r,
                                uint32_t k)
{
	size_t split = (size_t)(k % r->ancount) * r->rr_len;

	memcpy(dst, r->body + split, r->an_len - split);
	memcpy(dst + (r->an_len - split), r->body, split);
}

/* Writes resp for question q into out (limit octets at most). Returns the
 * length. The answer and authority sections are all or nothing: if they do
 * not fit, TC=1 with the question (and OPT) only; glue that does not fit is
 * left out without TC (RFC 2181 9). */
static size_t answer_render(const struct wire_query *q, const uint8_t *req,
                            const struct snapshot_resp *r,
                            const struct snapshot_zone *z,
                            const struct answer_opts *o,
                            struct answer_state *st, size_t limit, uint8_t *out,
                            struct answer_info *info)
{
	size_t qend = q->question_end;
	size_t opt = q->opt_ok ? WIRE_OPT_LEN : 0;
	size_t pos = qend;
	size_t room;
	uint16_t flags = answer_flags(q, r->rcode);
	uint16_t glue = 0;
	uint16_t i;
	uint16_t zoff;

	memcpy(out + WIRE_HEADER_LEN, req + WIRE_HEADER_LEN,
	       qend - WIRE_HEADER_LEN);
	room = limit > qend + opt ? limit - qend - opt : 0;
	if ((size_t)r->an_len + r->ns_len > room) {
		answer_header(out, q, flags | WIRE_FLAG_TC, 0, 0, opt ? 1 : 0);
		info->truncated = true;
		goto out_opt;
	}
	if (r->rotate && o->rotate) {
		answer_copy_rotated(out + pos, r, st->rotor++);
	} else {
		memcpy(out + pos, r->body, r->an_len);
	}
	memcpy(out + pos + r->an_len, r->body + r->an_len, r->ns_len);
	pos += (size_t)r->an_len + r->ns_len;
	{
		const uint8_t *g = r->body + r->an_len + r->ns_len;

		for (glue = 0; glue < r->n_glue; glue++) {
			size_t gl = r->glue_len[glue];

			if (pos + gl + opt > limit) {
				break;
			}
			memcpy(out + pos, g, gl);
			pos += gl;
			g += gl;
		}
	}
	/* Pointers to the zone's labels inside the question (negative answers
	 * are shared by every name of the zone). */
	zoff = (uint16_t)(0xc000u |
	                  (WIRE_HEADER_LEN + q->qname_len - z->name_len));
	for (i = 0; i < r->n_zptr; i++) {
		if (qend + r->zptr[i] + 2 <= pos) {
			wire_put_u16(out + qend + r->zptr[i], zoff);
		}
	}
	/* Pointers into the body are stored relative to it: the body fits
	 * any question length (equal answers are shared by names). */
	for (i = 0; i < r->n_rptr; i++) {
		if (qend + r->rptr[i] + 2 <= pos) {
			uint8_t *p = out + qend + r->rptr[i];

			wire_put_u16(p, (uint16_t)(0xc000u |
			                           (qend + wire_get_u16(p))));
		}
	}
	/* Uncompressed names (SRV targets) take the zone's spelling from the
	 * question (row 25). */
	for (i = 0; i < r->n_zcopy; i++) {
		if (qend + r->zcopy[i] + z->name_len <= pos) {
			memcpy(out + qend + r->zcopy[i],
			       req + WIRE_HEADER_LEN + q->qname_len -
			               z->name_len,
			       z->name_len);
		}
	}
	answer_header(out, q, flags, r->ancount, r->nscount,
	              (uint16_t)(glue + (opt ? 1 : 0)));
	info->rcode = r->rcode;

out_opt:
	if (opt) {
		struct wire_wr w;

		wire_wr_init(&w, out, limit);
		w.pos = info->truncated ? qend : pos;
		wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 0, q->edns_do);
		pos = w.pos;
	} else if (info->truncated) {
		pos = qend;
	}
	return pos;
}

/* PTR records (rows 14-16): kept per address in the snapshot and written
 * here, uncompressed, after the echoed question. All of them or, when they
 * do not fit the limit, none with TC (RFC 2181 9). */
static size_t answer_ptr(const struct wire_query *q, const uint8_t *req,
                         const struct snapshot *snap,
                         const struct snapshot_zone *z, const uint8_t *names,
                         unsigned n, size_t limit, uint8_t *out,
                         struct answer_info *info, const struct answer_opts *o,
                         struct answer_state *st)
{
	size_t opt = q->opt_ok ? WIRE_OPT_LEN : 0;
	size_t pos = q->question_end;
	uint32_t ttl = snapshot_ttl(snap);
	struct wire_wr w;
	unsigned i;

	if (q->qtype != DNS_TYPE_PTR && q->qtype != DNS_TYPE_ANY) {
		return answer_render(q, req, &z->nodata, z, o, st, limit, out,
		                     info);
	}
	memcpy(out + WIRE_HEADER_LEN, req + WIRE_HEADER_LEN,
	       pos - WIRE_HEADER_LEN);
	wire_wr_init(&w, out, limit > opt ? limit - opt : 0);
	w.pos = pos;
	for (i = 0; i < n; i++) {
		size_t tl = dname_len(names);

		wire_wr_u16(&w, 0xc000u | WIRE_HEADER_LEN);
		wire_wr_u16(&w, DNS_TYPE_PTR);
		wire_wr_u16(&w, DNS_CLASS_IN);
		wire_wr_u32(&w, ttl);
		wire_wr_u16(&w, (uint16_t)tl);
		wire_wr_bytes(&w, names, tl);
		names += tl;
	}
	if (w.err != 0) {
		answer_header(out, q, answer_flags(q, 0) | WIRE_FLAG_TC, 0, 0,
		              opt ? 1 : 0);
		info->truncated = true;
		w.err = 0;
		w.pos = q->question_end;
	} else {
		answer_header(out, q, answer_flags(q, 0), (uint16_t)n, 0,
		              opt ? 1 : 0);
	}
	w.cap = limit;
	if (opt) {
		wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 0, q->edns_do);
	}
	return w.pos;
}

/* A pod name's single address record (CLUSTER-DNS row 17), written
 * directly: pod names are computed, not stored. */
static size_t answer_pod(const struct wire_query *q, const uint8_t *req,
                         const struct snapshot *snap,
                         const struct snapshot_zone *z, const struct k8s_ip *ip,
                         size_t limit, uint8_t *out, struct answer_info *info,
                         const struct answer_opts *o, struct answer_state *st)
{
	uint16_t want = ip->family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
	size_t alen = ip->family == 4 ? 4 : 16;
	uint8_t body[2 + 10 + 16];
	struct snapshot_resp r;

	if (q->qtype != want && q->qtype != DNS_TYPE_ANY) {
		return answer_render(q, req, &z->nodata, z, o, st, limit, out,
		                     info);
	}
	memset(&r, 0, sizeof(r));
	wire_put_u16(body, 0xc000u | WIRE_HEADER_LEN);
	wire_put_u16(body + 2, want);
	wire_put_u16(body + 4, DNS_CLASS_IN);
	wire_put_u32(body + 6, snapshot_ttl(snap));
	wire_put_u16(body + 10, (uint16_t)alen);
	memcpy(body + 12, ip->addr, alen);
	r.rcode = DNS_RCODE_NOERROR;
	r.ancount = 1;
	r.an_len = (uint32_t)(12 + alen);
	r.body = body;
	return answer_render(q, req, &r, z, o, st, limit, out, info);
}

static enum answer_verdict answer_error(const struct wire_query *q,
                                        const uint8_t *req, unsigned rcode,
                                        bool echo, uint8_t *resp,
                                        size_t resp_cap, size_t *resp_len,
                                        struct answer_info *info)
{
	info->rcode = (uint16_t)rcode;
	*resp_len =
		wire_build_error(q, req, rcode, echo, false, resp, resp_cap);
	return *resp_len ? ANSWER_REPLY : ANSWER_DROP;
}

/* True if lname is in one of the --fallthrough zones. */
static bool answer_in_fallthrough(const struct answer_opts *o,
                                  const uint8_t *lname, size_t len)
{
	size_t i;

	for (i = 0; i < o->n_fallthrough; i++) {
		if (dname_in_zone(lname, len, o->fallthrough[i],
		                  o->fallthrough_len[i], NULL)) {
			return true;
		}
	}
	return false;
}

/* For a NOERROR response whose answer section is CNAMEs only, ending at
 * a name outside every zone (an ExternalName, row 18): stores that name
 * in info->chase and returns true. */
static bool answer_chase_target(const struct snapshot *snap,
                                const uint8_t *resp, size_t len,
                                struct answer_info *info)
{
	struct wire_rd rd;
	uint16_t an = wire_get_u16(resp + 6);
	uint16_t i;
	size_t off;

	if ((wire_get_u16(resp + 2) & (WIRE_FLAG_TC | WIRE_RCODE_MASK)) != 0 ||
	    an == 0 || wire_get_u16(resp + 8) != 0) {
		return false;
	}
	wire_rd_init(&rd, resp, len);
	rd.pos = WIRE_HEADER_LEN;
	wire_rd_name(&rd, info->chase, &info->chase_len, false);
	wire_rd_bytes(&rd, NULL, 4);
	for (i = 0; i < an && rd.err == 0; i++) {
		uint8_t owner[DNAME_MAXLEN];
		size_t olen;
		uint16_t type;
		uint16_t rdlen;
		size_t end;

		wire_rd_name(&rd, owner, &olen, true);
		type = wire_rd_u16(&rd);
		wire_rd_bytes(&rd, NULL, 6);
		rdlen = wire_rd_u16(&rd);
		end = rd.pos + rdlen;
		if (type != DNS_TYPE_CNAME) {
			return false;
		}
		wire_rd_name(&rd, info->chase, &info->chase_len, true);
		if (rd.pos != end) {
			return false;
		}
	}
	if (rd.err != 0) {
		return false;
	}
	dname_lower(info->chase, info->chase_len);
	return snapshot_find_zone(snap, info->chase, info->chase_len, &off) ==
	       NULL;
}

static enum answer_verdict
answer_inner(const struct snapshot *snap, const struct answer_opts *opts,
             struct answer_state *st, const uint8_t *req, size_t req_len,
             bool tcp, uint8_t *resp, size_t resp_cap, size_t *resp_len,
             struct answer_info *info)
{
	struct wire_query q;
	const struct snapshot_zone *z;
	const struct snapshot_node *n;
	const struct snapshot_resp *r;
	struct snapshot_resp view;
	const uint8_t *ptr_names = NULL;
	unsigned n_ptr;
	struct k8s_ip ip;
	size_t limit;
	size_t off = 0;

	memset(info, 0, sizeof(*info));
	*resp_len = 0;
	info->status = wire_parse_query(req, req_len, &q);
	info->qtype = q.qtype;
	switch (info->status) {
	case WIRE_Q_OK:
		break;
	case WIRE_Q_DROP:
		return ANSWER_DROP;
	case WIRE_Q_NOTIMP:
		return answer_error(&q, req, DNS_RCODE_NOTIMP, q.question_ok,
		                    resp, resp_cap, resp_len, info);
	case WIRE_Q_BADVERS:
		return answer_error(&q, req, DNS_RCODE_BADVERS, true, resp,
		                    resp_cap, resp_len, info);
	case WIRE_Q_FORMERR:
	default:
		return answer_error(&q, req, DNS_RCODE_FORMERR, q.question_ok,
		                    resp, resp_cap, resp_len, info);
	}
	/* RELIABILITY.md 2.1: any class but IN is refused, CHAOS included. */
	if (q.qclass != DNS_CLASS_IN) {
		return answer_error(&q, req, DNS_RCODE_REFUSED, true, resp,
		                    resp_cap, resp_len, info);
	}
	/* No zone transfers: NOTIMP over UDP (RFC 5936 4.2), REFUSED over
	 * TCP (T02, T02t, T03). */
	if (q.qtype == DNS_TYPE_AXFR || q.qtype == DNS_TYPE_IXFR) {
		return answer_error(&q, req,
		                    tcp ? DNS_RCODE_REFUSED : DNS_RCODE_NOTIMP,
		                    true, resp, resp_cap, resp_len, info);
	}
	z = snap ? snapshot_find_zone(snap, q.lname, q.qname_len, &off) : NULL;
	if (z == NULL) {
		if (snap == NULL) {
			/* Nothing loaded yet: "not ready" is SERVFAIL, never a
			 * false NXDOMAIN (CLUSTER-DNS row 38). */
			return answer_error(&q, req, DNS_RCODE_SERVFAIL, true,
			                    resp, resp_cap, resp_len, info);
		}
		if (opts->forward && (q.flags & WIRE_FLAG_RD)) {
			return ANSWER_FORWARD;
		}
		return answer_error(&q, req, DNS_RCODE_REFUSED, true, resp,
		                    resp_cap, resp_len, info);
	}
	info->in_zone = true;
	limit = tcp ? WIRE_MSG_MAX : wire_udp_limit(&q, opts->max_udp);
	if (limit > resp_cap) {
		limit = resp_cap;
	}
	n = snapshot_lookup(snap, q.lname, q.qname_len);
	if (n != NULL) {
		r = snapshot_node_resp(snap, n, q.qtype, &view) ? &view
		                                                : &z->nodata;
	} else if (z->reverse &&
	           (n_ptr = snapshot_ptr_lookup(snap, z, q.lname, q.qname_len,
	                                        &ptr_names)) != 0) {
		*resp_len = answer_ptr(&q, req, snap, z, ptr_names, n_ptr,
		                       limit, resp, info, opts, st);
		return ANSWER_REPLY;
	} else if (snapshot_pod_answer(snap, z, q.lname, q.qname_len, off,
	                               &ip)) {
		*resp_len = answer_pod(&q, req, snap, z, &ip, limit, resp, info,
		                       opts, st);
		return ANSWER_REPLY;
	} else {
		r = &z->nxdomain;
	}
	*resp_len = answer_render(&q, req, r, z, opts, st, limit, resp, info);
	if (!opts->forward || !(q.flags & WIRE_FLAG_RD) || *resp_len == 0) {
		return ANSWER_REPLY;
	}
	/* NXDOMAIN in the reverse zones (addresses the cluster does not
	 * know) and in the --fallthrough zones goes upstream (row 31). */
	if (r == &z->nxdomain &&
	    (z->reverse || answer_in_fallthrough(opts, q.lname, q.qname_len))) {
		return ANSWER_FORWARD;
	}
	if (n != NULL && r != &z->nodata && q.qtype != DNS_TYPE_CNAME &&
	    q.qtype != DNS_TYPE_ANY &&
	    answer_chase_target(snap, resp, *resp_len, info)) {
		return ANSWER_CHASE;
	}
	return ANSWER_REPLY;
}

enum answer_verdict answer_query(const struct snapshot *snap,
                                 const struct answer_opts *opts,
                                 struct answer_state *st, const uint8_t *req,
                                 size_t req_len, bool tcp, uint8_t *resp,
                                 size_t resp_cap, size_t *resp_len,
                                 struct answer_info *info)
{
	enum answer_verdict v = answer_inner(snap, opts, st, req, req_len, tcp,
	                                     resp, resp_cap, resp_len, info);

	/* RA for a client that may recurse (RFC 5358), never on the
	 * responses RELIABILITY.md 2.1 wants bare. */
	if (opts->ra && v == ANSWER_REPLY && *resp_len >= WIRE_HEADER_LEN &&
	    info->rcode != DNS_RCODE_FORMERR &&
	    info->rcode != DNS_RCODE_NOTIMP &&
	    info->rcode != DNS_RCODE_BADVERS) {
		resp[3] |= (uint8_t)WIRE_FLAG_RA;
	}
	return v;
}
