/* Fuzz target for the upstream-answer path of the forwarder (RELIABILITY
 * L16 (4)): cache_msg_canon() on a hostile upstream answer, then what the
 * forwarder does with a canonical message: cache_msg_reply() to a client
 * at several size limits, cache_msg_join() behind a prefix, and a
 * cache_insert()/cache_lookup() round trip.
 *
 * Input: one control octet, then the upstream answer.
 *   bit 0  the question we "sent" is the answer's own question (name as
 *          it appears, its QTYPE), so that most inputs get past the
 *          question check into the record parser; else the fixed
 *          question www.example.test A;
 *   bit 1  flip the case of the first letter of that question (a 0x20
 *          mismatch: canon must refuse it);
 *   bit 2  the client query has EDNS (OPT, size 1232, DO from bit 3);
 *   bits 4-5  the client's UDP limit: 512, 1232, 4096 or TCP (65535).
 *
 * Checked on every input (a failed check aborts, so libFuzzer keeps it):
 *   - canon never accepts an answer whose question is not the one sent,
 *     byte for byte (bit 1), nor one with QR=0 or an opcode != 0;
 *   - a canonical message parses back completely with wire_rd: ID 0,
 *     QR=1, Z=0, opcode 0, QDCOUNT 1 with the lower-cased question and
 *     class IN, the header counts equal the records, every name inside
 *     NS/CNAME/PTR/SOA/MX/SRV RDATA lies within its RDATA, no OPT and no
 *     TSIG, nothing after the last record; info->records is the count
 *     and info->rcode the answer's;
 *   - canon is idempotent: the canonical message, canonicalised again,
 *     comes back byte for byte;
 *   - the reply to a client has the client's ID and question bytes, RD
 *     from the client, RA set, fits the limit, parses back, and when TC
 *     is set carries no answer or authority record;
 *   - a join behind a header-and-question prefix parses back, with the
 *     prefix's ID and question;
 *   - a cacheable answer stored in a small cache is found again with the
 *     same bytes and an age of 0.
 *
 *   make fuzz FUZZ_SECONDS=300   (every target), or this one alone:
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-Itests/fuzz -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *	tests/fuzz/fuzz_cache.c src/{log,dname,wire,cache}.c -o fuzz_cache
 *   ./fuzz_cache tests/fuzz/corpus/cache
 *
 * Seeds: tests/fuzz/corpus/cache, written by tests/tools/cache_seeds. */
#include "fuzz.h"

#include "svcdns/cache.h"
#include "svcdns/dname.h"
#include "svcdns/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

#define FZ_OUT (64 * 1024)

/* Buffers outside the stack (64 KiB each); libFuzzer runs one input at a
 * time on one thread. */
static uint8_t fz_canon[FZ_OUT];
static uint8_t fz_again[FZ_OUT];
static uint8_t fz_reply[FZ_OUT];
static uint8_t fz_join[FZ_OUT];
static uint8_t fz_lookup[FZ_OUT];
static struct cache_enc *fz_enc;
static struct cache *fz_cache;

/* Skips a name inside RDATA and checks it ends within the RDATA. */
static void fz_rdata_name(struct wire_rd *rd, size_t end)
{
	uint8_t name[DNAME_MAXLEN];
	size_t len;

	wire_rd_name(rd, name, &len, true);
	CHECK(rd->err == 0);
	CHECK(rd->pos <= end);
}

/* Walks a message's records from rd (after the question): counts n[3]. */
static void fz_walk_records(struct wire_rd *rd, const uint16_t n[3],
                            bool canonical)
{
	unsigned total = (unsigned)n[0] + n[1] + n[2];
	unsigned i;

	for (i = 0; i < total; i++) {
		uint8_t owner[DNAME_MAXLEN];
		size_t olen;
		uint16_t type;
		uint16_t rclass;
		uint16_t rdlen;
		size_t end;

		wire_rd_name(rd, owner, &olen, true);
		type = wire_rd_u16(rd);
		rclass = wire_rd_u16(rd);
		wire_rd_u32(rd); /* TTL */
		rdlen = wire_rd_u16(rd);
		CHECK(rd->err == 0);
		CHECK(wire_rd_left(rd) >= rdlen);
		end = rd->pos + rdlen;
		if (canonical) {
			CHECK(type != DNS_TYPE_OPT && type != DNS_TYPE_TSIG);
		}
		/* A canonical message holds class IN records only: the
		 * scrub drops the others. */
		if (canonical) {
			CHECK(rclass == DNS_CLASS_IN);
		}
		if (rclass != DNS_CLASS_IN) {
			rd->pos = end;
			continue;
		}
		switch (type) {
		case DNS_TYPE_NS:
		case DNS_TYPE_CNAME:
		case DNS_TYPE_PTR:
			if (canonical) {
				fz_rdata_name(rd, end);
				CHECK(rd->pos == end);
			}
			break;
		case DNS_TYPE_MX:
			if (canonical && rdlen >= 2) {
				wire_rd_u16(rd);
				fz_rdata_name(rd, end);
				CHECK(rd->pos == end);
			}
			break;
		case DNS_TYPE_SOA:
			if (canonical) {
				fz_rdata_name(rd, end);
				fz_rdata_name(rd, end);
				CHECK(end - rd->pos == 20);
			}
			break;
		default:
			break;
		}
		rd->pos = end;
	}
}

/* Parses msg[0..len) back: header, one question (returned), records. */
static void fz_parse(const uint8_t *msg, size_t len, bool canonical,
                     uint8_t *qname, size_t *qlen, uint16_t *qtype)
{
	struct wire_rd rd;
	uint16_t n[3];

	CHECK(len >= WIRE_HEADER_LEN);
	CHECK(msg[2] & 0x80);              /* QR */
	CHECK((msg[2] & 0x78) == 0);       /* opcode QUERY */
	CHECK((msg[3] & 0x40) == 0);       /* Z */
	CHECK(wire_get_u16(msg + 4) == 1); /* QDCOUNT */
	n[0] = wire_get_u16(msg + 6);
	n[1] = wire_get_u16(msg + 8);
	n[2] = wire_get_u16(msg + 10);
	wire_rd_init(&rd, msg, len);
	rd.pos = WIRE_HEADER_LEN;
	wire_rd_name(&rd, qname, qlen, false);
	*qtype = wire_rd_u16(&rd);
	CHECK(wire_rd_u16(&rd) == DNS_CLASS_IN);
	CHECK(rd.err == 0);
	fz_walk_records(&rd, n, canonical);
	CHECK(rd.err == 0);
	CHECK(rd.pos == len); /* nothing after the last record */
}

/* The client's query for (qname as sent, qtype): ID 0x5a5a, RD, OPT
 * when edns. */
static size_t fz_client_query(const uint8_t *qname, size_t qlen, uint16_t qtype,
                              bool edns, bool do_bit, uint8_t *buf, size_t cap)
{
	struct wire_wr w;

	wire_wr_init(&w, buf, cap);
	wire_wr_u16(&w, 0x5a5a);
	wire_wr_u16(&w, WIRE_FLAG_RD);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, edns ? 1 : 0);
	wire_wr_bytes(&w, qname, qlen);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	if (edns) {
		wire_wr_opt(&w, 1232, 0, do_bit);
	}
	CHECK(w.err == 0);
	return w.pos;
}

static void fz_reply_check(const uint8_t *msg, size_t len, uint8_t ctl,
                           const uint8_t *qname, size_t qlen, uint16_t qtype)
{
	static const size_t limits[4] = { 512, 1232, 4096, 65535 };
	uint8_t req[DNAME_MAXLEN + 64];
	struct wire_query q;
	size_t rlen = 0;
	size_t out_len = 0;
	size_t limit = limits[(ctl >> 4) & 3];
	bool truncated = false;
	uint8_t rname[DNAME_MAXLEN];
	size_t rnlen;
	uint16_t rtype;
	int err;

	rlen = fz_client_query(qname, qlen, qtype, ctl & 4, ctl & 8, req,
	                       sizeof(req));
	if (wire_parse_query(req, rlen, &q) != WIRE_Q_OK) {
		return; /* QTYPE OPT/TSIG/MAILB...: never forwarded */
	}
	err = cache_msg_reply(msg, len, 0, &q, req, limit, fz_reply,
	                      sizeof(fz_reply), &out_len, &truncated);
	if (err != 0) {
		/* Only a limit too small for the question and OPT. */
		CHECK(err == -EMSGSIZE);
		CHECK(limit < q.question_end + WIRE_OPT_LEN);
		return;
	}
	CHECK(out_len <= limit);
	CHECK(wire_get_u16(fz_reply) == 0x5a5a);
	CHECK(memcmp(fz_reply + WIRE_HEADER_LEN, req + WIRE_HEADER_LEN,
	             q.question_end - WIRE_HEADER_LEN) == 0);
	CHECK(wire_get_u16(fz_reply + 2) & WIRE_FLAG_RD);
	CHECK(wire_get_u16(fz_reply + 2) & WIRE_FLAG_RA);
	if (truncated) {
		CHECK(wire_get_u16(fz_reply + 2) & WIRE_FLAG_TC);
		CHECK(wire_get_u16(fz_reply + 6) == 0);
		CHECK(wire_get_u16(fz_reply + 8) == 0);
	}
	fz_parse(fz_reply, out_len, false, rname, &rnlen, &rtype);
	CHECK(rtype == qtype);
}

static void fz_join_check(const uint8_t *msg, size_t len, const uint8_t *lname,
                          size_t qlen, uint16_t qtype)
{
	uint8_t prefix[DNAME_MAXLEN + 32];
	struct wire_wr w;
	size_t out_len = 0;
	uint8_t jname[DNAME_MAXLEN];
	size_t jlen;
	uint16_t jtype;

	wire_wr_init(&w, prefix, sizeof(prefix));
	wire_wr_u16(&w, 0x4242);
	wire_wr_u16(&w, WIRE_FLAG_QR | WIRE_FLAG_AA | WIRE_FLAG_RD);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, lname, qlen);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	CHECK(w.err == 0);
	if (cache_msg_join(fz_enc, prefix, w.pos, msg, len, 3, fz_join,
	                   sizeof(fz_join), &out_len) != 0) {
		return;
	}
	CHECK(wire_get_u16(fz_join) == 0x4242);
	fz_parse(fz_join, out_len, true, jname, &jlen, &jtype);
	CHECK(jtype == qtype);
	CHECK(dname_equal(jname, jlen, lname, qlen));
}

static void fz_store_check(const uint8_t *msg, size_t len, const uint8_t *lname,
                           size_t qlen, uint16_t qtype,
                           const struct cache_msg_info *info)
{
	size_t out_len = 0;
	uint32_t age = 99;
	int err;

	if (!info->cacheable) {
		return;
	}
	CHECK(info->ttl > 0);
	err = cache_insert(fz_cache, lname, qlen, qtype, 0, msg, len, info->ttl,
	                   1000);
	if (err != 0) {
		CHECK(err == -EMSGSIZE); /* too big for this small cache */
		return;
	}
	CHECK(cache_lookup(fz_cache, lname, qlen, qtype, 0, 1000, fz_lookup,
	                   sizeof(fz_lookup), &out_len, &age) == 0);
	CHECK(out_len == len && age == 0);
	CHECK(memcmp(fz_lookup, msg, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[] = { 3,   'w', 'w', 'w', 7,   'e',
		                         'x', 'a', 'm', 'p', 'l', 'e',
		                         4,   't', 'e', 's', 't', 0 };
	uint8_t qname[DNAME_MAXLEN];
	uint8_t lname[DNAME_MAXLEN];
	size_t qlen = sizeof(fixed);
	uint16_t qtype = DNS_TYPE_A;
	struct cache_msg_info info;
	size_t out_len = 0;
	size_t again_len = 0;
	const uint8_t *up;
	size_t up_len;
	uint8_t ctl;
	bool flipped = false;
	int err;

	if (fz_enc == NULL) {
		fz_enc = cache_enc_create();
		fz_cache = cache_create(8);
		CHECK(fz_enc != NULL && fz_cache != NULL);
	}
	if (size < 1) {
		return 0;
	}
	ctl = data[0];
	up = data + 1;
	up_len = size - 1;
	memcpy(qname, fixed, sizeof(fixed));
	if ((ctl & 1) && up_len > WIRE_HEADER_LEN &&
	    dname_check(up + WIRE_HEADER_LEN, up_len - WIRE_HEADER_LEN,
	                &qlen) == 0 &&
	    up_len >= WIRE_HEADER_LEN + qlen + 2) {
		memcpy(qname, up + WIRE_HEADER_LEN, qlen);
		qtype = wire_get_u16(up + WIRE_HEADER_LEN + qlen);
	} else {
		qlen = sizeof(fixed);
	}
	if (ctl & 2) {
		size_t i;

		/* The first letter, its case flipped: a 0x20 mismatch. */
		for (i = 1; i < qlen; i++) {
			uint8_t c = (uint8_t)(qname[i] | 0x20);

			if (c >= 'a' && c <= 'z') {
				qname[i] ^= 0x20;
				flipped = true;
				break;
			}
		}
	}
	err = cache_msg_canon(fz_enc, up, up_len, qname, qlen, qtype, fz_canon,
	                      sizeof(fz_canon), &out_len, &info);
	if (err != 0) {
		CHECK(err == -EBADMSG || err == -EMSGSIZE);
		return 0;
	}
	/* Accepted: the question was the one sent, exactly. */
	CHECK(!flipped || (ctl & 1) == 0 ||
	      memcmp(up + WIRE_HEADER_LEN, qname, qlen) == 0);
	CHECK(up_len >= WIRE_HEADER_LEN + qlen + 4);
	CHECK(memcmp(up + WIRE_HEADER_LEN, qname, qlen) == 0);
	CHECK(up[2] & 0x80);
	CHECK((up[2] & 0x78) == 0);
	CHECK(out_len <= sizeof(fz_canon));
	CHECK(wire_get_u16(fz_canon) == 0);
	{
		uint8_t cname[DNAME_MAXLEN];
		size_t cnlen;
		uint16_t ctype;

		fz_parse(fz_canon, out_len, true, cname, &cnlen, &ctype);
		dname_copy_lower(lname, qname, qlen);
		CHECK(cnlen == qlen && memcmp(cname, lname, qlen) == 0);
		CHECK(ctype == qtype);
	}
	CHECK(info.records == (unsigned)wire_get_u16(fz_canon + 6) +
	                              wire_get_u16(fz_canon + 8) +
	                              wire_get_u16(fz_canon + 10));
	CHECK(info.rcode == (up[3] & 0x0f));
	/* Idempotent. */
	{
		struct cache_msg_info info2;

		CHECK(cache_msg_canon(fz_enc, fz_canon, out_len, lname, qlen,
		                      qtype, fz_again, sizeof(fz_again),
		                      &again_len, &info2) == 0);
		CHECK(again_len == out_len);
		CHECK(memcmp(fz_again, fz_canon, out_len) == 0);
		CHECK(info2.scrubbed == 0);
		CHECK(info2.records == info.records);
	}
	fz_reply_check(fz_canon, out_len, ctl, qname, qlen, qtype);
	fz_join_check(fz_canon, out_len, lname, qlen, qtype);
	fz_store_check(fz_canon, out_len, lname, qlen, qtype, &info);
	return 0;
}
