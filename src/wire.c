#include "svcdns/wire.h"

#include <errno.h>
#include <string.h>

/* --- reader ------------------------------------------------------------ */

void wire_rd_init(struct wire_rd *rd, const uint8_t *pkt, size_t len)
{
	rd->pkt = pkt;
	rd->len = pkt != NULL ? len : 0;
	rd->pos = 0;
	rd->err = 0;
}

static void rd_fail(struct wire_rd *rd)
{
	if (rd->err == 0) {
		rd->err = -EBADMSG;
	}
}

/* True if n more octets can be read; otherwise latches the error. Also
 * catches a caller that moved pos past len by hand. */
static bool rd_need(struct wire_rd *rd, size_t n)
{
	if (rd->err != 0) {
		return false;
	}
	if (rd->pos > rd->len || rd->len - rd->pos < n) {
		rd_fail(rd);
		return false;
	}
	return true;
}

uint8_t wire_rd_u8(struct wire_rd *rd)
{
	if (!rd_need(rd, 1)) {
		return 0;
	}
	return rd->pkt[rd->pos++];
}

uint16_t wire_rd_u16(struct wire_rd *rd)
{
	uint16_t v;

	if (!rd_need(rd, 2)) {
		return 0;
	}
	v = wire_get_u16(rd->pkt + rd->pos);
	rd->pos += 2;
	return v;
}

uint32_t wire_rd_u32(struct wire_rd *rd)
{
	uint32_t v;

	if (!rd_need(rd, 4)) {
		return 0;
	}
	v = wire_get_u32(rd->pkt + rd->pos);
	rd->pos += 4;
	return v;
}

void wire_rd_bytes(struct wire_rd *rd, uint8_t *out, size_t n)
{
	if (!rd_need(rd, n)) {
		return;
	}
	if (out != NULL && n != 0) {
		memcpy(out, rd->pkt + rd->pos, n);
	}
	rd->pos += n;
}

size_t wire_rd_left(const struct wire_rd *rd)
{
	if (rd->err != 0 || rd->pos > rd->len) {
		return 0;
	}
	return rd->len - rd->pos;
}

void wire_rd_name(struct wire_rd *rd, uint8_t *out, size_t *len,
                  bool allow_compression)
{
	size_t olen = 0;
	size_t pos = rd->pos;
	size_t seg = pos; /* where the current run of labels began */
	size_t end = 0;   /* where the reader resumes afterwards */
	bool jumped = false;
	unsigned hops = 0;

	if (len != NULL) {
		*len = 0;
	}
	if (!rd_need(rd, 1)) {
		return;
	}
	for (;;) {
		uint8_t c;

		if (pos >= rd->len) {
			goto fail; /* N12: no root label before the end */
		}
		c = rd->pkt[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (!allow_compression || rd->len - pos < 2) {
				goto fail;
			}
			target = (size_t)(c & 0x3f) << 8 | rd->pkt[pos + 1];
			/* RFC 1035 4.1.4: a pointer names a prior occurrence.
			 * Requiring the target to lie before the start of the
			 * run of labels being read makes each run start
			 * strictly earlier than the last, so loops (N06, N07)
			 * cannot happen; forward pointers (N08) and pointers
			 * past the end (N09) fail the same test. No name
			 * starts inside the header (N10). The hop cap bounds
			 * the work on top (RFC 9267 2). */
			if (target < WIRE_HEADER_LEN || target >= seg ||
			    ++hops > WIRE_MAX_PTR_HOPS) {
				goto fail;
			}
			if (!jumped) {
				end = pos + 2;
				jumped = true;
			}
			pos = target;
			seg = target;
			continue;
		}
		if (c > DNAME_MAXLABEL) {
			goto fail; /* N01/N02: 0x40 and 0x80 label types */
		}
		if (c == 0) {
			out[olen++] = 0;
			if (!jumped) {
				end = pos + 1;
			}
			break;
		}
		/* RFC 1035 2.3.4: 255 octets at most, the root included;
		 * checked before copying, so out never overflows (N03,
		 * N05). */
		if (olen + 1 + c > DNAME_MAXLEN - 1 || rd->len - pos - 1 < c) {
			goto fail; /* too long, or cut mid-label (N11) */
		}
		out[olen] = c;
		memcpy(out + olen + 1, rd->pkt + pos + 1, c);
		olen += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	rd->pos = end;
	if (len != NULL) {
		*len = olen;
	}
	return;
fail:
	rd_fail(rd);
}

size_t wire_peek_question(const uint8_t *pkt, size_t len,
                          uint8_t lname[DNAME_MAXLEN], uint16_t *qtype)
{
	struct wire_rd rd;
	size_t n = 0;

	wire_rd_init(&rd, pkt, len);
	wire_rd_bytes(&rd, NULL, WIRE_HEADER_LEN);
	wire_rd_name(&rd, lname, &n, false);
	*qtype = wire_rd_u16(&rd);
	if (rd.err != 0) {
		return 0;
	}
	dname_lower(lname, n);
	return n;
}

/* --- writer ------------------------------------------------------------ */

void wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf != NULL ? cap : 0;
	w->pos = 0;
	w->err = 0;
}

/* True if n more octets fit; otherwise latches -EMSGSIZE. */
static bool wr_room(struct wire_wr *w, size_t n)
{
	if (w->err != 0) {
		return false;
	}
	if (w->pos > w->cap || w->cap - w->pos < n) {
		w->err = -EMSGSIZE;
		return false;
	}
	return true;
}

void wire_wr_u8(struct wire_wr *w, uint8_t v)
{
	if (wr_room(w, 1)) {
		w->buf[w->pos++] = v;
	}
}

void wire_wr_u16(struct wire_wr *w, uint16_t v)
{
	if (wr_room(w, 2)) {
		wire_put_u16(w->buf + w->pos, v);
		w->pos += 2;
	}
}

void wire_wr_u32(struct wire_wr *w, uint32_t v)
{
	if (wr_room(w, 4)) {
		wire_put_u32(w->buf + w->pos, v);
		w->pos += 4;
	}
}

void wire_wr_bytes(struct wire_wr *w, const void *p, size_t n)
{
	if (wr_room(w, n) && n != 0) {
		memcpy(w->buf + w->pos, p, n);
		w->pos += n;
	}
}

void wire_wr_opt(struct wire_wr *w, uint16_t udp_size, uint8_t ext_rcode,
                 bool do_bit)
{
	/* RFC 6891 6.1.3: TTL = EXTENDED-RCODE, VERSION (0), DO, Z (0). */
	uint32_t ttl =
		(uint32_t)ext_rcode << 24 | (do_bit ? WIRE_EDNS_FLAG_DO : 0u);

	if (!wr_room(w, WIRE_OPT_LEN)) {
		return; /* all or nothing */
	}
	wire_wr_u8(w, 0); /* root owner */
	wire_wr_u16(w, DNS_TYPE_OPT);
	wire_wr_u16(w, udp_size);
	wire_wr_u32(w, ttl);
	wire_wr_u16(w, 0);
}

/* --- query parser ------------------------------------------------------ */

/* The OPT found in an additional section. */
struct wire_edns {
	bool seen;
	uint16_t udp;
	uint8_t version;
	bool do_bit;
};

/* Skips a name without following its pointer (the target is not
 * checked): used only to find the additional section of a message we will
 * not answer, in time linear in the packet length. */
static void skip_name(struct wire_rd *rd)
{
	size_t n = 0;

	for (;;) {
		uint8_t c = wire_rd_u8(rd);

		if (rd->err != 0 || c == 0) {
			return;
		}
		if ((c & 0xc0) == 0xc0) {
			(void)wire_rd_u8(rd);
			return;
		}
		n += 1 + (size_t)c;
		if (c > DNAME_MAXLABEL || n > DNAME_MAXLEN - 1) {
			rd_fail(rd);
			return;
		}
		wire_rd_bytes(rd, NULL, c);
	}
}

/* RFC 6891 6.1.2: the options {code, length, data} must fill the RDATA
 * exactly (E05, E23). Returns 0 or -EBADMSG. */
static int check_options(const uint8_t *rdata, size_t rdlen)
{
	struct wire_rd o;

	wire_rd_init(&o, rdata, rdlen);
	while (o.err == 0 && o.pos < o.len) {
		uint16_t olen;

		(void)wire_rd_u16(&o); /* code: no option changes our answer */
		olen = wire_rd_u16(&o);
		wire_rd_bytes(&o, NULL, olen);
	}
	return o.err;
}

/* Parses ar additional records into e. Each must be complete (E04, S04);
 * an OPT must have the literal root owner, a compression pointer included
 * (N20, E03), appear once (E02) and hold well-formed options; a TSIG must
 * be the last record (S02). Returns 0; -EPROTO when only the TSIG's place
 * is wrong (e is complete: the caller may still echo a good OPT); or
 * -EBADMSG. */
static int parse_additional(struct wire_rd *rd, uint16_t ar,
                            struct wire_edns *e)
{
	uint8_t owner[DNAME_MAXLEN];
	bool tsig_misplaced = false;

	/* RELIABILITY 4: a query needs at most OPT + TSIG. */
	if (ar > WIRE_MAX_QUERY_RRS) {
		return -EBADMSG;
	}
	for (unsigned i = 0; i < ar; i++) {
		size_t start = rd->pos;
		size_t olen = 0;
		uint16_t type;
		uint16_t rclass;
		uint32_t ttl;
		uint16_t rdlen;
		const uint8_t *rdata;

		wire_rd_name(rd, owner, &olen, true);
		type = wire_rd_u16(rd);
		rclass = wire_rd_u16(rd);
		ttl = wire_rd_u32(rd);
		rdlen = wire_rd_u16(rd);
		if (rd->err != 0) {
			return rd->err;
		}
		rdata = rd->pkt + rd->pos;
		wire_rd_bytes(rd, NULL, rdlen);
		if (rd->err != 0) {
			return rd->err;
		}
		if (type == DNS_TYPE_OPT) {
			if (e->seen || rd->pkt[start] != 0 ||
			    check_options(rdata, rdlen) != 0) {
				return -EBADMSG;
			}
			e->seen = true;
			e->udp = rclass;
			e->version = (uint8_t)(ttl >> 16);
			e->do_bit = (ttl & WIRE_EDNS_FLAG_DO) != 0;
		} else if (type == DNS_TYPE_TSIG && i + 1 != ar) {
			/* S02: FORMERR, but keep reading: a good OPT after it
			 * still earns our OPT in the answer (rule 2.1). */
			tsig_misplaced = true;
		}
	}
	return tsig_misplaced ? -EPROTO : 0;
}

static void set_edns(struct wire_query *q, const struct wire_edns *e)
{
	if (!e->seen) {
		return;
	}
	q->opt_ok = true;
	q->edns_udp = e->udp;
	q->edns_version = e->version;
	q->edns_do = e->do_bit;
}

/* For a message we will answer with an error anyway: walks qd questions
 * and an_ns answer/authority records structurally, then parses the
 * additional section, to learn whether it held exactly one good OPT (so
 * the error can carry ours, RELIABILITY 2.1). An OPT outside the additional
 * section (E06, E07) or any damage leaves opt_ok false. */
static void learn_opt(struct wire_rd *rd, unsigned qd, unsigned an_ns,
                      uint16_t ar, struct wire_query *q)
{
	struct wire_edns e = { .seen = false };

	/* Each step consumes at least 5 octets or latches an error, so the
	 * loops end within the packet whatever the counts say. */
	for (unsigned i = 0; i < qd && rd->err == 0; i++) {
		skip_name(rd);
		wire_rd_bytes(rd, NULL, 4);
	}
	for (unsigned i = 0; i < an_ns && rd->err == 0; i++) {
		uint16_t type;

		skip_name(rd);
		type = wire_rd_u16(rd);
		wire_rd_bytes(rd, NULL, 6);
		wire_rd_bytes(rd, NULL, wire_rd_u16(rd));
		if (type == DNS_TYPE_OPT) {
			return;
		}
	}
	if (rd->err != 0) {
		return;
	}
	switch (parse_additional(rd, ar, &e)) {
	case 0:
	case -EPROTO:
		set_edns(q, &e);
		break;
	default:
		break;
	}
}

/* Reads the one question: an uncompressed QNAME (the pointer rule of
 * STYLE 3.12), QTYPE and QCLASS. Returns 0 or -EBADMSG. */
static int parse_question(struct wire_rd *rd, struct wire_query *q)
{
	size_t qlen = 0;
	uint16_t qtype;
	uint16_t qclass;

	wire_rd_name(rd, q->qname, &qlen, false);
	qtype = wire_rd_u16(rd);
	qclass = wire_rd_u16(rd);
	if (rd->err != 0) {
		return rd->err;
	}
	q->qname_len = qlen;
	q->qtype = qtype;
	q->qclass = qclass;
	q->question_end = rd->pos;
	q->question_ok = true;
	dname_copy_lower(q->lname, q->qname, qlen);
	return 0;
}

enum wire_status wire_parse_query(const uint8_t *pkt, size_t len,
                                  struct wire_query *q)
{
	struct wire_edns e = { .seen = false };
	struct wire_rd rd;
	uint16_t qd;
	uint16_t an;
	uint16_t ns;
	uint16_t ar;
	int err;

	memset(q, 0, sizeof(*q));
	if (pkt == NULL || len < WIRE_HEADER_LEN) {
		return WIRE_Q_DROP; /* H01-H03: no ID to answer */
	}
	wire_rd_init(&rd, pkt, len);
	q->id = wire_rd_u16(&rd);
	q->flags = wire_rd_u16(&rd);
	qd = wire_rd_u16(&rd);
	an = wire_rd_u16(&rd);
	ns = wire_rd_u16(&rd);
	ar = wire_rd_u16(&rd);
	q->header_ok = true;
	q->opcode =
		(uint8_t)((q->flags & WIRE_OPCODE_MASK) >> WIRE_OPCODE_SHIFT);
	if ((q->flags & WIRE_FLAG_QR) != 0) {
		return WIRE_Q_DROP; /* H05: never answer a response */
	}
	if (q->opcode != 0) {
		/* O01-O07: the question is never echoed for NOTIMP. */
		learn_opt(&rd, qd, (unsigned)an + ns, ar, q);
		return WIRE_Q_NOTIMP;
	}
	if (qd != 1) {
		/* H04, H07, H08, H12 (RFC 9619). QD=0 with an OPT is the
		 * COOKIE-only query of RFC 7873 5.4, hence learn_opt. */
		learn_opt(&rd, qd, (unsigned)an + ns, ar, q);
		return WIRE_Q_FORMERR;
	}
	if (parse_question(&rd, q) != 0) {
		return WIRE_Q_FORMERR; /* H06, N01-N14 */
	}
	if (an != 0 || ns != 0) {
		learn_opt(&rd, 0, (unsigned)an + ns, ar, q); /* H10, E06, E07 */
		return WIRE_Q_FORMERR;
	}
	err = parse_additional(&rd, ar, &e);
	if (err == -EPROTO) {
		set_edns(q, &e); /* S02: the OPT itself was fine */
		return WIRE_Q_FORMERR;
	}
	if (err != 0) {
		return WIRE_Q_FORMERR; /* H09, N20, E02-E05, E23, S04 */
	}
	set_edns(q, &e);
	if (wire_rd_left(&rd) != 0) {
		return WIRE_Q_FORMERR; /* H11: trailing octets */
	}
	if (q->qtype == DNS_TYPE_OPT || q->qtype == DNS_TYPE_TSIG) {
		return WIRE_Q_FORMERR; /* T05, T06: not askable */
	}
	if (q->qtype == DNS_TYPE_MAILA || q->qtype == DNS_TYPE_MAILB) {
		return WIRE_Q_NOTIMP; /* T07: question echoed */
	}
	if (q->opt_ok && q->edns_version != 0) {
		return WIRE_Q_BADVERS; /* E01, E13 */
	}
	return WIRE_Q_OK;
}

/* --- error responses --------------------------------------------------- */

/* The response flags of RELIABILITY 2.1 (R-FORMERR, R-NOTIMP). */
static uint16_t error_flags(const struct wire_query *q, unsigned rcode, bool ra)
{
	unsigned f = WIRE_FLAG_QR | (q->flags & WIRE_OPCODE_MASK);

	/* NOTIMP: every flag but QR cleared, RD included (O07). FORMERR keeps
	 * RD only (R-FORMERR); other errors answer a well-formed query and
	 * copy CD as any answer does (H17). */
	if (rcode == DNS_RCODE_FORMERR) {
		f |= q->flags & WIRE_FLAG_RD;
	} else if (rcode != DNS_RCODE_NOTIMP) {
		f |= q->flags & (WIRE_FLAG_RD | WIRE_FLAG_CD);
		if (ra) {
			f |= WIRE_FLAG_RA;
		}
	}
	f |= rcode & WIRE_RCODE_MASK;
	return (uint16_t)f;
}

size_t wire_build_error(const struct wire_query *q, const uint8_t *pkt,
                        unsigned rcode, bool echo_question, bool ra,
                        uint8_t *out, size_t cap)
{
	struct wire_wr w;
	bool echo;
	size_t qlen = 0;
	uint8_t ext;

	if (q == NULL || !q->header_ok || (q->flags & WIRE_FLAG_QR) != 0 ||
	    rcode > 0xfff) {
		return 0;
	}
	/* RFC 6891 6.1.3: the upper 8 bits of a 12-bit rcode live in OPT. */
	ext = (uint8_t)(rcode >> 4);
	if (ext != 0 && !q->opt_ok) {
		return 0;
	}
	echo = q->question_ok && echo_question && pkt != NULL;
	if (echo) {
		/* The parser guarantees 12 < question_end <= 12 + 255 + 4;
		 * recheck so a damaged q cannot make us copy far. */
		if (q->question_end <= WIRE_HEADER_LEN ||
		    q->question_end > WIRE_HEADER_LEN + DNAME_MAXLEN + 4) {
			return 0;
		}
		qlen = q->question_end - WIRE_HEADER_LEN;
	}
	wire_wr_init(&w, out, cap);
	wire_wr_u16(&w, q->id);
	wire_wr_u16(&w, error_flags(q, rcode, ra));
	wire_wr_u16(&w, echo ? 1 : 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, q->opt_ok ? 1 : 0);
	if (echo) {
		/* Byte for byte, so the client's 0x20 case survives. */
		wire_wr_bytes(&w, pkt + WIRE_HEADER_LEN, qlen);
	}
	if (q->opt_ok) {
		wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, ext, q->edns_do);
	}
	if (w.err != 0) {
		return 0;
	}
	return w.pos;
}

size_t wire_udp_limit(const struct wire_query *q, size_t max_udp)
{
	size_t lim = WIRE_UDP_MIN;

	/* RFC 6891 6.2.5: sizes below 512 are treated as 512. */
	if (q->opt_ok && q->edns_udp > lim) {
		lim = q->edns_udp;
	}
	if (lim > max_udp) {
		lim = max_udp;
	}
	if (lim < WIRE_UDP_MIN) {
		lim = WIRE_UDP_MIN;
	}
	return lim;
}
