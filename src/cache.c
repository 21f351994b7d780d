/* Forwarded answers: canonical form (parse, scrub, re-encode), the reply to
 * a client, and the bounded LRU cache. See cache.h. */
#include "svcdns/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/dname.h"

/* ------------------------------------------------------------------ */
/* Encoder: names with our own compression (RFC 1035 4.1.4).           */
/* ------------------------------------------------------------------ */

/* Names that later names may point to: every label position written
 * literally below offset 0x3fff. 256 positions cover any realistic answer;
 * past that, names are written without compression (still correct). */
#define CACHE_DICT_MAX  256
#define CACHE_NAMES_MAX (CACHE_DICT_MAX * 64)

struct cache_dict {
	uint16_t off;        /* where the suffix starts in the output */
	uint8_t len;         /* its uncompressed length */
	const uint8_t *name; /* its uncompressed bytes, in names[] */
};

struct cache_enc {
	struct cache_dict dict[CACHE_DICT_MAX];
	size_t n_dict;
	uint8_t names[CACHE_NAMES_MAX];
	size_t names_used;
};

struct cache_enc *cache_enc_create(void)
{
	return calloc(1, sizeof(struct cache_enc));
}

void cache_enc_destroy(struct cache_enc *e)
{
	free(e);
}

static void enc_reset(struct cache_enc *e)
{
	e->n_dict = 0;
	e->names_used = 0;
}

/* Remembers the labels of name (len octets) written literally at out
 * positions pos[0..n): label i of the name starts at pos[i]. */
static void enc_remember(struct cache_enc *e, const uint8_t *name, size_t len,
                         const size_t *pos, const size_t *loff, unsigned n)
{
	const uint8_t *copy;
	unsigned i;

	if (e->names_used + len > sizeof(e->names)) {
		return;
	}
	memcpy(e->names + e->names_used, name, len);
	copy = e->names + e->names_used;
	e->names_used += len;
	for (i = 0; i < n && e->n_dict < CACHE_DICT_MAX; i++) {
		if (pos[i] >= 0x3fff) {
			break;
		}
		e->dict[e->n_dict].off = (uint16_t)pos[i];
		e->dict[e->n_dict].len = (uint8_t)(len - loff[i]);
		e->dict[e->n_dict].name = copy + loff[i];
		e->n_dict++;
	}
}

/* The output offset of a name equal (ASCII case-insensitively) to
 * suffix, or -1. */
static int enc_find(const struct cache_enc *e, const uint8_t *suffix,
                    size_t len)
{
	size_t i;

	for (i = 0; i < e->n_dict; i++) {
		if (e->dict[i].len == len &&
		    dname_equal(e->dict[i].name, len, suffix, len)) {
			return e->dict[i].off;
		}
	}
	return -1;
}

/* Writes the well-formed name (len octets) at w, pointing at the longest
 * suffix written before when compress is true. */
static void enc_name(struct cache_enc *e, struct wire_wr *w,
                     const uint8_t *name, size_t len, bool compress)
{
	size_t pos[DNAME_MAXLABELS + 1];
	size_t loff[DNAME_MAXLABELS + 1];
	unsigned n = 0;
	size_t i = 0;

	while (i < len && name[i] != 0) {
		int off = compress ? enc_find(e, name + i, len - i) : -1;

		if (off >= 0) {
			wire_wr_u16(w, (uint16_t)(0xc000u | (unsigned)off));
			enc_remember(e, name, len, pos, loff, n);
			return;
		}
		pos[n] = w->pos;
		loff[n++] = i;
		wire_wr_bytes(w, name + i, (size_t)name[i] + 1);
		i += (size_t)name[i] + 1;
	}
	wire_wr_u8(w, 0);
	enc_remember(e, name, len, pos, loff, n);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/* One record as read from a message, names decompressed. */
struct cache_rr {
	uint8_t owner[DNAME_MAXLEN];
	size_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	size_t rdata; /* offset of the RDATA in the message */
	uint16_t rdlen;
};

/* How the RDATA of a type holds names: a fixed prefix, names, a fixed
 * suffix. Types outside this list are copied as they are (RFC 3597 4:
 * only the RFC 1035 types may be compressed; SRV is read both ways and
 * written without compression, RFC 2782). */
struct cache_rdshape {
	uint16_t type;
	uint8_t pre;   /* octets before the first name */
	uint8_t names; /* 1 or 2 */
	uint8_t post;  /* octets after the names */
	bool compress; /* may be written compressed */
};

static const struct cache_rdshape cache_shapes[] = {
	{ DNS_TYPE_NS, 0, 1, 0, true },    { DNS_TYPE_CNAME, 0, 1, 0, true },
	{ DNS_TYPE_PTR, 0, 1, 0, true },   { 39 /* DNAME */, 0, 1, 0, false },
	{ DNS_TYPE_SOA, 0, 2, 20, true },  { DNS_TYPE_MX, 2, 1, 0, true },
	{ DNS_TYPE_SRV, 6, 1, 0, false },  { 3 /* MD */, 0, 1, 0, true },
	{ 4 /* MF */, 0, 1, 0, true },     { 7 /* MB */, 0, 1, 0, true },
	{ 8 /* MG */, 0, 1, 0, true },     { 9 /* MR */, 0, 1, 0, true },
	{ 14 /* MINFO */, 0, 2, 0, true },
};

static const struct cache_rdshape *cache_shape(uint16_t type)
{
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(cache_shapes); i++) {
		if (cache_shapes[i].type == type) {
			return &cache_shapes[i];
		}
	}
	return NULL;
}

/* Reads one record header at rd into rr and skips its RDATA. */
static int rr_read(struct wire_rd *rd, struct cache_rr *rr)
{
	wire_rd_name(rd, rr->owner, &rr->owner_len, true);
	rr->type = wire_rd_u16(rd);
	rr->rclass = wire_rd_u16(rd);
	rr->ttl = wire_rd_u32(rd);
	rr->rdlen = wire_rd_u16(rd);
	rr->rdata = rd->pos;
	wire_rd_bytes(rd, NULL, rr->rdlen);
	/* RFC 2181 8: a TTL with the top bit set is read as 0. */
	if (rr->ttl > 0x7fffffffu) {
		rr->ttl = 0;
	}
	return rd->err;
}

/* Writes rr (read from msg) at w: the owner compressed, the RDATA's names
 * decompressed and written again. ttl replaces rr's. Returns 0 or
 * -EBADMSG when the RDATA does not have its type's shape. */
static int rr_write(struct cache_enc *e, struct wire_wr *w, const uint8_t *msg,
                    size_t msg_len, const struct cache_rr *rr, uint32_t ttl)
{
	const struct cache_rdshape *sh = cache_shape(rr->type);
	size_t end = rr->rdata + rr->rdlen;
	size_t lenpos;
	struct wire_rd rd;
	unsigned i;

	enc_name(e, w, rr->owner, rr->owner_len, true);
	wire_wr_u16(w, rr->type);
	wire_wr_u16(w, rr->rclass);
	wire_wr_u32(w, ttl);
	lenpos = w->pos;
	wire_wr_u16(w, 0);
	if (sh == NULL || rr->rclass != DNS_CLASS_IN) {
		wire_wr_bytes(w, msg + rr->rdata, rr->rdlen);
		goto out_len;
	}
	/* The whole message, so that pointers may reach back before the
	 * RDATA; the fixed parts must end exactly at the RDATA's end. */
	wire_rd_init(&rd, msg, msg_len);
	rd.pos = rr->rdata;
	if (rr->rdlen < sh->pre) {
		return -EBADMSG;
	}
	wire_wr_bytes(w, msg + rr->rdata, sh->pre);
	rd.pos += sh->pre;
	for (i = 0; i < sh->names; i++) {
		uint8_t name[DNAME_MAXLEN];
		size_t nlen;

		wire_rd_name(&rd, name, &nlen, true);
		if (rd.err != 0 || rd.pos > end) {
			return -EBADMSG;
		}
		enc_name(e, w, name, nlen, sh->compress);
	}
	if (rd.pos + sh->post != end) {
		return -EBADMSG;
	}
	wire_wr_bytes(w, msg + rd.pos, sh->post);
out_len:
	if (w->err == 0) {
		wire_put_u16(w->buf + lenpos, (uint16_t)(w->pos - lenpos - 2));
	}
	return 0;
}

/* The single name in rr's RDATA (CNAME, DNAME, NS...), decompressed. */
static int rr_target(const uint8_t *msg, size_t msg_len,
                     const struct cache_rr *rr, size_t pre, uint8_t *out,
                     size_t *len)
{
	struct wire_rd rd;

	wire_rd_init(&rd, msg, msg_len);
	rd.pos = rr->rdata + pre;
	wire_rd_name(&rd, out, len, true);
	return rd.err != 0 || rd.pos > rr->rdata + rr->rdlen ? -EBADMSG : 0;
}

/* ------------------------------------------------------------------ */
/* Canonical form                                                      */
/* ------------------------------------------------------------------ */

bool cache_msg_matches(const uint8_t *msg, size_t len, uint16_t id,
                       const uint8_t *qname, size_t qname_len, uint16_t qtype)
{
	size_t q = WIRE_HEADER_LEN + qname_len;

	if (len < q + 4 || wire_get_u16(msg) != id) {
		return false;
	}
	if (!(msg[2] & 0x80) || (msg[2] & 0x78) != 0 ||
	    wire_get_u16(msg + 4) != 1) {
		return false;
	}
	return memcmp(msg + WIRE_HEADER_LEN, qname, qname_len) == 0 &&
	       wire_get_u16(msg + q) == qtype &&
	       wire_get_u16(msg + q + 2) == DNS_CLASS_IN;
}

/* State of one canonicalisation: the bailiwick rules. */
struct canon {
	uint8_t chain[DNAME_MAXLEN]; /* the current name of the chain */
	size_t chain_len;
	uint8_t zone[DNAME_MAXLEN]; /* additional data must be below it */
	size_t zone_len;
	uint16_t qtype;
	bool answered; /* a record of qtype (or ANY) was kept */
	bool have_soa;
	uint32_t soa_neg; /* min(SOA TTL, MINIMUM) (RFC 2308 5) */
	uint32_t min_ttl;
	uint16_t count[3]; /* kept per section */
};

/* Answer section: the records of the chain that starts at the question
 * (RFC 1034 4.3.2), CNAMEs moving it along; a DNAME above the chain's name
 * is kept (its CNAME follows it). Anything else is out of bailiwick. */
static bool canon_keep_answer(struct canon *c, const uint8_t *msg, size_t len,
                              const struct cache_rr *rr)
{
	if (dname_equal(rr->owner, rr->owner_len, c->chain, c->chain_len)) {
		if (rr->type == DNS_TYPE_CNAME && c->qtype != DNS_TYPE_CNAME) {
			uint8_t t[DNAME_MAXLEN];
			size_t tl;

			if (rr_target(msg, len, rr, 0, t, &tl) != 0) {
				return false;
			}
			memcpy(c->chain, t, tl);
			c->chain_len = tl;
			return true;
		}
		if (rr->type == c->qtype || c->qtype == DNS_TYPE_ANY) {
			c->answered = true;
		}
		return true;
	}
	return rr->type == 39 /* DNAME */ &&
	       dname_in_zone(c->chain, c->chain_len, rr->owner, rr->owner_len,
	                     NULL);
}

/* Authority section: only records of a zone at or above the chain's
 * final name (its SOA for a negative answer, its NS). The first such
 * owner becomes the zone additional data must lie in. */
static bool canon_keep_authority(struct canon *c, const uint8_t *msg,
                                 size_t len, const struct cache_rr *rr)
{
	if (!dname_in_zone(c->chain, c->chain_len, rr->owner, rr->owner_len,
	                   NULL)) {
		return false;
	}
	if (rr->type == DNS_TYPE_SOA && rr->rdlen >= 22) {
		uint32_t minimum =
			wire_get_u32(msg + rr->rdata + rr->rdlen - 4);
		uint32_t neg = rr->ttl < minimum ? rr->ttl : minimum;

		(void)len;
		if (!c->have_soa || neg < c->soa_neg) {
			c->soa_neg = neg;
		}
		c->have_soa = true;
	}
	if (c->zone_len == 0 &&
	    (rr->type == DNS_TYPE_SOA || rr->type == DNS_TYPE_NS)) {
		memcpy(c->zone, rr->owner, rr->owner_len);
		c->zone_len = rr->owner_len;
	}
	return true;
}

/* Additional section: records at or below the answer's zone (the
 * authority's SOA or NS owner, else the parent of the chain's final name;
 * never the root or a TLD's parent). */
static bool canon_keep_additional(struct canon *c, const struct cache_rr *rr)
{
	if (c->zone_len == 0) {
		size_t skip = c->chain[0] + 1u;

		if (c->chain_len <= skip + 1) {
			return false; /* the chain ends at the root or a TLD */
		}
		memcpy(c->zone, c->chain + skip, c->chain_len - skip);
		c->zone_len = c->chain_len - skip;
	}
	if (c->zone_len <= 1) {
		return false;
	}
	return dname_in_zone(rr->owner, rr->owner_len, c->zone, c->zone_len,
	                     NULL);
}

/* Decides how long the answer may be cached (RFC 2308; CLUSTER-DNS 35). */
static void canon_ttl(const struct canon *c, uint16_t flags,
                      struct cache_msg_info *info)
{
	unsigned rcode = flags & WIRE_RCODE_MASK;

	info->cacheable = false;
	if (flags & WIRE_FLAG_TC) {
		return;
	}
	if (rcode == DNS_RCODE_SERVFAIL) {
		info->cacheable = true;
		info->ttl = CACHE_SERVFAIL_TTL;
		return;
	}
	if (rcode == DNS_RCODE_NOERROR &&
	    (c->answered || (c->count[0] > 0 && !c->have_soa))) {
		info->cacheable = c->count[0] > 0;
		info->ttl = c->min_ttl;
	} else if (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) {
		/* Without an SOA a negative answer is not cached (RFC 2308
		 * 5); a referral (NS, no SOA) neither. */
		info->negative = true;
		info->cacheable = c->have_soa;
		info->ttl = c->soa_neg < c->min_ttl ? c->soa_neg : c->min_ttl;
	}
	if (info->ttl == 0) {
		info->cacheable = false;
	}
}

/* Reads the records of msg (from rd's position: the three sections after
 * the question) and writes those kept to w. keep == false keeps all of
 * them (a message already canonical). ttl_age lowers each TTL. */
static int canon_records(struct cache_enc *e, struct canon *c,
                         struct wire_wr *w, struct wire_rd *rd,
                         const uint8_t *msg, size_t len, const uint16_t n[3],
                         bool scrub, uint32_t ttl_age,
                         struct cache_msg_info *info)
{
	unsigned sec;
	unsigned i;

	for (sec = 0; sec < 3; sec++) {
		for (i = 0; i < n[sec]; i++) {
			struct cache_rr rr;
			bool keep = true;

			if (rr_read(rd, &rr) != 0) {
				return -EBADMSG;
			}
			if (rr.type == DNS_TYPE_OPT) {
				/* Extended RCODEs we cannot pass on. */
				if (sec != 2 || (rr.ttl >> 24) != 0) {
					return -EBADMSG;
				}
				continue;
			}
			if (rr.type == DNS_TYPE_TSIG || rr.type == 24) {
				continue; /* TSIG, SIG(0): not ours */
			}
			if (scrub && rr.rclass != DNS_CLASS_IN) {
				/* Only IN data is ours to relay: another
				 * class's RDATA is not even checked (a CH or
				 * class-0 record could carry anything). */
				keep = false;
			} else if (scrub && sec == 0) {
				keep = canon_keep_answer(c, msg, len, &rr);
			} else if (scrub && sec == 1) {
				keep = canon_keep_authority(c, msg, len, &rr);
			} else if (scrub) {
				keep = canon_keep_additional(c, &rr);
			}
			if (!keep) {
				info->scrubbed++;
				continue;
			}
			if (rr.ttl < c->min_ttl) {
				c->min_ttl = rr.ttl;
			}
			if (rr_write(e, w, msg, len, &rr,
			             rr.ttl > ttl_age ? rr.ttl - ttl_age : 0) !=
			    0) {
				return -EBADMSG;
			}
			c->count[sec]++;
			info->records++;
		}
	}
	return 0;
}

int cache_msg_canon(struct cache_enc *e, const uint8_t *up, size_t up_len,
                    const uint8_t *qname, size_t qname_len, uint16_t qtype,
                    uint8_t *out, size_t cap, size_t *out_len,
                    struct cache_msg_info *info)
{
	struct canon c;
	struct wire_rd rd;
	struct wire_wr w;
	uint16_t n[3];
	uint16_t flags;
	int err;

	memset(info, 0, sizeof(*info));
	*out_len = 0;
	if (qname_len > DNAME_MAXLEN ||
	    !cache_msg_matches(up, up_len, up_len >= 2 ? wire_get_u16(up) : 0,
	                       qname, qname_len, qtype)) {
		return -EBADMSG;
	}
	flags = wire_get_u16(up + 2);
	n[0] = wire_get_u16(up + 6);
	n[1] = wire_get_u16(up + 8);
	n[2] = wire_get_u16(up + 10);
	memset(&c, 0, sizeof(c));
	dname_copy_lower(c.chain, qname, qname_len);
	c.chain_len = qname_len;
	c.qtype = qtype;
	c.min_ttl = UINT32_MAX;
	c.soa_neg = UINT32_MAX;
	enc_reset(e);
	wire_wr_init(&w, out, cap);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, (uint16_t)(flags & ~WIRE_FLAG_Z));
	wire_wr_u16(&w, 1);
	wire_wr_bytes(&w, "\0\0\0\0\0\0", 6);
	enc_name(e, &w, c.chain, c.chain_len, false);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	wire_rd_init(&rd, up, up_len);
	rd.pos = WIRE_HEADER_LEN + qname_len + 4;
	err = canon_records(e, &c, &w, &rd, up, up_len, n, true, 0, info);
	if (err != 0) {
		return err;
	}
	if (w.err != 0) {
		return -EMSGSIZE;
	}
	wire_put_u16(out + 6, c.count[0]);
	wire_put_u16(out + 8, c.count[1]);
	wire_put_u16(out + 10, c.count[2]);
	info->rcode = (uint8_t)(flags & WIRE_RCODE_MASK);
	canon_ttl(&c, flags, info);
	*out_len = w.pos;
	return 0;
}

/* Walks the header and question of msg: the counts, and the offset just
 * past the question. */
static int msg_head(const uint8_t *msg, size_t len, uint16_t n[3], size_t *qend,
                    uint8_t *qname, size_t *qlen)
{
	struct wire_rd rd;

	if (len < WIRE_HEADER_LEN || wire_get_u16(msg + 4) != 1) {
		return -EBADMSG;
	}
	n[0] = wire_get_u16(msg + 6);
	n[1] = wire_get_u16(msg + 8);
	n[2] = wire_get_u16(msg + 10);
	wire_rd_init(&rd, msg, len);
	rd.pos = WIRE_HEADER_LEN;
	wire_rd_name(&rd, qname, qlen, false);
	wire_rd_bytes(&rd, NULL, 4);
	*qend = rd.pos;
	return rd.err;
}

int cache_msg_join(struct cache_enc *e, const uint8_t *prefix,
                   size_t prefix_len, const uint8_t *msg, size_t msg_len,
                   uint32_t age, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t name[DNAME_MAXLEN];
	size_t nlen;
	size_t pend;
	size_t mend;
	uint16_t pn[3];
	uint16_t mn[3];
	struct wire_rd rd;
	struct wire_wr w;
	struct canon c;
	struct cache_msg_info info;
	uint16_t i;
	uint16_t mflags;
	int err;

	*out_len = 0;
	if (msg_head(prefix, prefix_len, pn, &pend, name, &nlen) != 0 ||
	    msg_head(msg, msg_len, mn, &mend, name, &nlen) != 0) {
		return -EBADMSG;
	}
	/* The prefix's answer section ends where its next section starts. */
	wire_rd_init(&rd, prefix, prefix_len);
	rd.pos = pend;
	for (i = 0; i < pn[0]; i++) {
		struct cache_rr rr;

		if (rr_read(&rd, &rr) != 0) {
			return -EBADMSG;
		}
	}
	pend = rd.pos;
	if (pend > cap) {
		return -EMSGSIZE;
	}
	memcpy(out, prefix, pend);
	enc_reset(e);
	wire_wr_init(&w, out, cap);
	w.pos = pend;
	memset(&c, 0, sizeof(c));
	c.min_ttl = UINT32_MAX;
	memset(&info, 0, sizeof(info));
	wire_rd_init(&rd, msg, msg_len);
	rd.pos = mend;
	err = canon_records(e, &c, &w, &rd, msg, msg_len, mn, false, age,
	                    &info);
	if (err != 0) {
		return err;
	}
	if (w.err != 0) {
		return -EMSGSIZE;
	}
	mflags = wire_get_u16(msg + 2);
	wire_put_u16(out + 2,
	             (uint16_t)(WIRE_FLAG_QR |
	                        (wire_get_u16(prefix + 2) &
	                         (WIRE_FLAG_RD | WIRE_FLAG_CD)) |
	                        (mflags & (WIRE_FLAG_TC | WIRE_FLAG_RA |
	                                   WIRE_RCODE_MASK))));
	wire_put_u16(out + 6, (uint16_t)(pn[0] + c.count[0]));
	wire_put_u16(out + 8, c.count[1]);
	wire_put_u16(out + 10, c.count[2]);
	*out_len = w.pos;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The reply to a client                                               */
/* ------------------------------------------------------------------ */

static uint16_t reply_flags(uint16_t mflags, const struct wire_query *q)
{
	uint16_t f =
		WIRE_FLAG_QR | WIRE_FLAG_RA |
		(mflags & (WIRE_FLAG_AA | WIRE_FLAG_TC | WIRE_RCODE_MASK)) |
		(q->flags & (WIRE_FLAG_RD | WIRE_FLAG_CD));

	/* RFC 6840 5.7: AD only for a client that asked for it. */
	if ((q->flags & WIRE_FLAG_AD) || q->edns_do) {
		f |= mflags & WIRE_FLAG_AD;
	}
	return f;
}

int cache_msg_reply(const uint8_t *msg, size_t msg_len, uint32_t age,
                    const struct wire_query *q, const uint8_t *req,
                    size_t limit, uint8_t *out, size_t cap, size_t *out_len,
                    bool *truncated)
{
	uint8_t name[DNAME_MAXLEN];
	size_t nlen;
	size_t qend;
	size_t opt = q->opt_ok ? WIRE_OPT_LEN : 0;
	size_t cut_ns;
	size_t room;
	uint16_t n[3];
	uint16_t ar = 0;
	unsigned i;
	unsigned total;
	struct wire_rd rd;
	struct wire_wr w;

	*out_len = 0;
	*truncated = false;
	if (limit > cap) {
		limit = cap;
	}
	if (msg_head(msg, msg_len, n, &qend, name, &nlen) != 0 ||
	    qend != q->question_end || nlen != q->qname_len ||
	    !dname_equal(name, nlen, q->qname, q->qname_len) ||
	    wire_get_u16(msg + qend - 4) != q->qtype) {
		return -EBADMSG;
	}
	if (msg_len > cap || limit < qend + opt) {
		return -EMSGSIZE;
	}
	memcpy(out, msg, msg_len);
	memcpy(out + WIRE_HEADER_LEN, req + WIRE_HEADER_LEN,
	       qend - WIRE_HEADER_LEN);
	wire_put_u16(out, q->id);
	wire_put_u16(out + 2, reply_flags(wire_get_u16(msg + 2), q));
	/* Lower the TTLs and find where the sections end. */
	wire_rd_init(&rd, out, msg_len);
	rd.pos = qend;
	room = limit - opt;
	cut_ns = qend;
	total = (unsigned)n[0] + n[1] + n[2];
	for (i = 0; i < total; i++) {
		struct cache_rr rr;
		size_t ttlpos;

		if (rr_read(&rd, &rr) != 0) {
			return -EBADMSG;
		}
		ttlpos = rr.rdata - 6;
		wire_put_u32(out + ttlpos, rr.ttl > age ? rr.ttl - age : 0);
		if (i < (unsigned)n[0] + n[1]) {
			cut_ns = rd.pos;
		} else if (rd.pos <= room && ar == i - n[0] - n[1]) {
			ar++;
			cut_ns = rd.pos;
		}
	}
	wire_wr_init(&w, out, limit);
	if (cut_ns > room) {
		/* RFC 2181 9: no partial RRsets; the client retries over
		 * TCP. */
		*truncated = true;
		wire_put_u16(out + 2,
		             (uint16_t)(wire_get_u16(out + 2) | WIRE_FLAG_TC));
		wire_put_u16(out + 6, 0);
		wire_put_u16(out + 8, 0);
		ar = 0;
		w.pos = qend;
	} else {
		w.pos = cut_ns;
	}
	wire_put_u16(out + 10, (uint16_t)(ar + (opt ? 1 : 0)));
	if (opt) {
		wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 0, q->edns_do);
	}
	if (w.err != 0) {
		return -EMSGSIZE;
	}
	*out_len = w.pos;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

/* Entry data (the key's name, then the message) lives in a chain of
 * CACHE_CHUNK-octet chunks; the name always fits in the first one. */
#define CACHE_CHUNK          256u
#define CACHE_CHUNKS_PER_ENT 2u
#define CACHE_NIL            UINT32_MAX

struct cache_ent {
	uint32_t hash;
	uint32_t hnext; /* bucket chain */
	uint32_t prev;  /* LRU: towards the most recent */
	uint32_t next;  /* LRU: towards the least recent; free list */
	uint32_t chunk; /* first chunk */
	uint32_t msg_len;
	uint64_t stored_ms;
	uint64_t expire_ms;
	uint16_t qtype;
	uint8_t kflags;
	uint8_t name_len;
	bool used;
};

struct cache {
	struct cache_ent *ents; /* owns: max entries */
	uint32_t *buckets;      /* owns: heads, CACHE_NIL when empty */
	uint32_t *chunk_next;   /* owns: chain of each chunk; free list */
	uint8_t *pool;          /* owns: chunks * CACHE_CHUNK octets */
	size_t max;
	size_t n_buckets; /* a power of two */
	size_t n_chunks;
	uint32_t free_ents;
	uint32_t free_chunks;
	size_t n_free_chunks;
	uint32_t lru_head; /* most recent */
	uint32_t lru_tail; /* least recent */
	struct cache_stats st;
};

struct cache *cache_create(size_t max_entries)
{
	struct cache *c;
	size_t i;

	if (max_entries == 0 || max_entries > UINT32_MAX / 4) {
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->max = max_entries;
	c->n_chunks = max_entries * CACHE_CHUNKS_PER_ENT;
	for (c->n_buckets = 16; c->n_buckets < max_entries;) {
		c->n_buckets *= 2;
	}
	c->ents = calloc(max_entries, sizeof(*c->ents));
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	c->chunk_next = calloc(c->n_chunks, sizeof(*c->chunk_next));
	c->pool = calloc(c->n_chunks, CACHE_CHUNK);
	if (!c->ents || !c->buckets || !c->chunk_next || !c->pool) {
		cache_destroy(c);
		return NULL;
	}
	for (i = 0; i < c->n_buckets; i++) {
		c->buckets[i] = CACHE_NIL;
	}
	for (i = 0; i < max_entries; i++) {
		c->ents[i].next =
			i + 1 < max_entries ? (uint32_t)(i + 1) : CACHE_NIL;
	}
	for (i = 0; i < c->n_chunks; i++) {
		c->chunk_next[i] =
			i + 1 < c->n_chunks ? (uint32_t)(i + 1) : CACHE_NIL;
	}
	c->free_ents = 0;
	c->free_chunks = 0;
	c->n_free_chunks = c->n_chunks;
	c->lru_head = CACHE_NIL;
	c->lru_tail = CACHE_NIL;
	c->st.max_entries = max_entries;
	c->st.chunks = c->n_chunks;
	return c;
}

void cache_destroy(struct cache *c)
{
	if (c == NULL) {
		return;
	}
	free(c->ents);
	free(c->buckets);
	free(c->chunk_next);
	free(c->pool);
	free(c);
}

static uint32_t cache_hash(const uint8_t *lname, size_t len, uint16_t qtype,
                           uint8_t kflags)
{
	uint32_t h = dname_hash(lname, len);

	h ^= (uint32_t)qtype * 0x9e3779b1u;
	h ^= (uint32_t)kflags << 24;
	return h ^ (h >> 15);
}

static void lru_unlink(struct cache *c, uint32_t i)
{
	struct cache_ent *e = &c->ents[i];

	if (e->prev != CACHE_NIL) {
		c->ents[e->prev].next = e->next;
	} else {
		c->lru_head = e->next;
	}
	if (e->next != CACHE_NIL) {
		c->ents[e->next].prev = e->prev;
	} else {
		c->lru_tail = e->prev;
	}
}

static void lru_push(struct cache *c, uint32_t i)
{
	struct cache_ent *e = &c->ents[i];

	e->prev = CACHE_NIL;
	e->next = c->lru_head;
	if (c->lru_head != CACHE_NIL) {
		c->ents[c->lru_head].prev = i;
	} else {
		c->lru_tail = i;
	}
	c->lru_head = i;
}

/* Unlinks entry i from its bucket and the LRU list and frees its chunks
 * and itself. */
static void cache_remove(struct cache *c, uint32_t i)
{
	struct cache_ent *e = &c->ents[i];
	uint32_t *p = &c->buckets[e->hash & (c->n_buckets - 1)];
	uint32_t k = e->chunk;

	while (*p != CACHE_NIL && *p != i) {
		p = &c->ents[*p].hnext;
	}
	if (*p == i) {
		*p = e->hnext;
	}
	lru_unlink(c, i);
	while (k != CACHE_NIL) {
		uint32_t nk = c->chunk_next[k];

		c->chunk_next[k] = c->free_chunks;
		c->free_chunks = k;
		c->n_free_chunks++;
		c->st.chunks_used--;
		k = nk;
	}
	e->used = false;
	e->next = c->free_ents;
	c->free_ents = i;
	c->st.entries--;
}

static uint32_t cache_find(struct cache *c, const uint8_t *lname, size_t len,
                           uint16_t qtype, uint8_t kflags, uint32_t h)
{
	uint32_t i = c->buckets[h & (c->n_buckets - 1)];

	for (; i != CACHE_NIL; i = c->ents[i].hnext) {
		const struct cache_ent *e = &c->ents[i];

		if (e->hash == h && e->qtype == qtype && e->kflags == kflags &&
		    e->name_len == len &&
		    memcmp(c->pool + (size_t)e->chunk * CACHE_CHUNK, lname,
		           len) == 0) {
			return i;
		}
	}
	return CACHE_NIL;
}

/* Copies n octets of an entry's data from offset off to dst. */
static void cache_copy_out(const struct cache *c, uint32_t chunk, size_t off,
                           uint8_t *dst, size_t n)
{
	while (off >= CACHE_CHUNK) {
		chunk = c->chunk_next[chunk];
		off -= CACHE_CHUNK;
	}
	while (n > 0) {
		size_t k = CACHE_CHUNK - off;

		if (k > n) {
			k = n;
		}
		memcpy(dst, c->pool + (size_t)chunk * CACHE_CHUNK + off, k);
		dst += k;
		n -= k;
		off = 0;
		chunk = c->chunk_next[chunk];
	}
}

int cache_lookup(struct cache *c, const uint8_t *lname, size_t len,
                 uint16_t qtype, uint8_t kflags, uint64_t now_ms, uint8_t *out,
                 size_t cap, size_t *out_len, uint32_t *age)
{
	uint32_t h = cache_hash(lname, len, qtype, kflags);
	uint32_t i = cache_find(c, lname, len, qtype, kflags, h);
	struct cache_ent *e;

	if (i == CACHE_NIL) {
		c->st.misses++;
		return -ENOENT;
	}
	e = &c->ents[i];
	if (now_ms >= e->expire_ms) {
		cache_remove(c, i);
		c->st.expired++;
		c->st.misses++;
		return -ENOENT;
	}
	if (e->msg_len > cap) {
		return -EMSGSIZE;
	}
	cache_copy_out(c, e->chunk, e->name_len, out, e->msg_len);
	*out_len = e->msg_len;
	*age = (uint32_t)((now_ms - e->stored_ms) / 1000u);
	lru_unlink(c, i);
	lru_push(c, i);
	c->st.hits++;
	return 0;
}

int cache_insert(struct cache *c, const uint8_t *lname, size_t len,
                 uint16_t qtype, uint8_t kflags, const uint8_t *msg,
                 size_t msg_len, uint32_t ttl, uint64_t now_ms)
{
	uint32_t h = cache_hash(lname, len, qtype, kflags);
	size_t total = len + msg_len;
	size_t need = (total + CACHE_CHUNK - 1) / CACHE_CHUNK;
	uint32_t i = cache_find(c, lname, len, qtype, kflags, h);
	uint32_t prev = CACHE_NIL;
	struct cache_ent *e;
	size_t done = 0;

	if (ttl == 0 || len == 0 || len > DNAME_MAXLEN) {
		return -EINVAL;
	}
	if (msg_len > CACHE_ENTRY_MAX || need > c->n_chunks) {
		c->st.too_big++;
		return -EMSGSIZE;
	}
	if (i != CACHE_NIL) {
		cache_remove(c, i);
	}
	/* Evict from the cold end until an entry and the chunks are free. */
	while ((c->free_ents == CACHE_NIL || c->n_free_chunks < need) &&
	       c->lru_tail != CACHE_NIL) {
		cache_remove(c, c->lru_tail);
		c->st.evictions++;
	}
	i = c->free_ents;
	e = &c->ents[i];
	c->free_ents = e->next;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->hash = h;
	e->qtype = qtype;
	e->kflags = kflags;
	e->name_len = (uint8_t)len;
	e->msg_len = (uint32_t)msg_len;
	e->stored_ms = now_ms;
	e->expire_ms = now_ms + (uint64_t)ttl * 1000u;
	e->chunk = CACHE_NIL;
	while (done < total) {
		uint32_t k = c->free_chunks;
		size_t n =
			total - done < CACHE_CHUNK ? total - done : CACHE_CHUNK;
		uint8_t *dst = c->pool + (size_t)k * CACHE_CHUNK;
		size_t j;

		c->free_chunks = c->chunk_next[k];
		c->n_free_chunks--;
		c->st.chunks_used++;
		c->chunk_next[k] = CACHE_NIL;
		if (prev == CACHE_NIL) {
			e->chunk = k;
		} else {
			c->chunk_next[prev] = k;
		}
		prev = k;
		for (j = 0; j < n; j++, done++) {
			dst[j] = done < len ? lname[done] : msg[done - len];
		}
	}
	e->hnext = c->buckets[h & (c->n_buckets - 1)];
	c->buckets[h & (c->n_buckets - 1)] = i;
	lru_push(c, i);
	c->st.entries++;
	c->st.inserts++;
	return 0;
}

void cache_get_stats(const struct cache *c, struct cache_stats *st)
{
	*st = c->st;
}
