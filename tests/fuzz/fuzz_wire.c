/* Fuzz target for wire.c: the query parser, the error builder on its
 * verdict, and name decompression from every offset (RELIABILITY L16 (1)
 * and (2)). Every check below is an invariant of wire.c, so a failure
 * aborts and libFuzzer saves the input.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE tests/fuzz/fuzz_wire.c \
 *	src/wire.c src/dname.c -o fuzz_wire
 *   ./fuzz_wire tests/fuzz/corpus/wire */
#include "fuzz.h"

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

/* Beyond this size names are read from a sample of offsets only, so that
 * one input costs about the same whatever its length. */
#define NAME_OFFSETS_MAX 512

static void check_name(const uint8_t *name, size_t len)
{
	char text[DNAME_TEXT_MAX];
	uint8_t back[DNAME_MAXLEN];
	size_t n = 0;

	CHECK(len >= 1 && len <= DNAME_MAXLEN);
	CHECK(dname_check(name, len, &n) == 0 && n == len);
	CHECK(dname_len(name) == len);
	CHECK(dname_to_text(name, len, text, sizeof(text)) == 0);
	CHECK(dname_from_text(text, back, sizeof(back), &n) == 0);
	CHECK(n == len && memcmp(back, name, len) == 0);
}

static void check_query(const uint8_t *data, size_t size,
                        const struct wire_query *q, enum wire_status st)
{
	uint8_t lower[DNAME_MAXLEN];

	CHECK(st >= WIRE_Q_OK && st <= WIRE_Q_BADVERS);
	CHECK(q->header_ok == (size >= WIRE_HEADER_LEN));
	if (st == WIRE_Q_OK || st == WIRE_Q_BADVERS) {
		CHECK(q->question_ok);
		CHECK(q->qtype != DNS_TYPE_OPT && q->qtype != DNS_TYPE_TSIG);
		CHECK(q->qtype != DNS_TYPE_MAILA && q->qtype != DNS_TYPE_MAILB);
	}
	if (st == WIRE_Q_BADVERS) {
		CHECK(q->opt_ok && q->edns_version != 0);
	}
	if (q->opcode != 0 && st != WIRE_Q_DROP) {
		CHECK(st == WIRE_Q_NOTIMP && !q->question_ok);
	}
	if (!q->opt_ok) {
		CHECK(q->edns_udp == 0 && q->edns_version == 0 && !q->edns_do);
	}
	if (!q->question_ok) {
		CHECK(q->qname_len == 0);
		return;
	}
	CHECK(q->question_end == WIRE_HEADER_LEN + q->qname_len + 4);
	CHECK(q->question_end <= size);
	/* The QNAME is never compressed: it is the packet's own octets. */
	CHECK(memcmp(q->qname, data + WIRE_HEADER_LEN, q->qname_len) == 0);
	check_name(q->qname, q->qname_len);
	dname_copy_lower(lower, q->qname, q->qname_len);
	CHECK(memcmp(lower, q->lname, q->qname_len) == 0);
	CHECK(dname_equal(q->qname, q->qname_len, q->lname, q->qname_len));
	CHECK(dname_hash(q->qname, q->qname_len) ==
	      dname_hash(q->lname, q->qname_len));
}

static void check_error(const uint8_t *data, const struct wire_query *q,
                        enum wire_status st, unsigned rcode, bool echo, bool ra)
{
	uint8_t out[WIRE_HEADER_LEN + DNAME_MAXLEN + 4 + WIRE_OPT_LEN];
	size_t len =
		wire_build_error(q, data, rcode, echo, ra, out, sizeof(out));
	size_t want = WIRE_HEADER_LEN;
	bool qd = echo && q->question_ok;

	if (st == WIRE_Q_DROP || (rcode > 15 && !q->opt_ok)) {
		CHECK(len == 0);
		return;
	}
	want += qd ? q->question_end - WIRE_HEADER_LEN : 0;
	want += q->opt_ok ? WIRE_OPT_LEN : 0;
	CHECK(len == want);
	CHECK(wire_get_u16(out) == q->id);
	CHECK((wire_get_u16(out + 2) & WIRE_FLAG_QR) != 0);
	CHECK((wire_get_u16(out + 2) & (WIRE_FLAG_TC | WIRE_FLAG_AA |
	                                WIRE_FLAG_Z | WIRE_FLAG_AD)) == 0);
	CHECK(wire_get_u16(out + 4) == (qd ? 1 : 0));
	CHECK(wire_get_u16(out + 10) == (q->opt_ok ? 1 : 0));
	/* One octet short never fits, and never overflows. */
	CHECK(wire_build_error(q, data, rcode, echo, ra, out, len - 1) == 0);

	/* The response parses as a response: the parser drops it. */
	{
		struct wire_query r;

		CHECK(wire_parse_query(out, len, &r) == WIRE_Q_DROP);
	}
}

static void check_names(const uint8_t *data, size_t size)
{
	size_t step = size <= NAME_OFFSETS_MAX ? 1 : size / NAME_OFFSETS_MAX;

	for (size_t off = 0; off <= size; off += step) {
		struct wire_rd rd;
		uint8_t name[DNAME_MAXLEN];
		size_t len = 0;

		wire_rd_init(&rd, data, size);
		rd.pos = off;
		wire_rd_name(&rd, name, &len, true);
		if (rd.err != 0) {
			CHECK(rd.err == -EBADMSG && len == 0);
			CHECK(rd.pos == off);
			continue;
		}
		CHECK(rd.pos > off && rd.pos <= size);
		check_name(name, len);
		/* Without compression it either agrees or fails. */
		{
			struct wire_rd plain;
			uint8_t name2[DNAME_MAXLEN];
			size_t len2 = 0;

			wire_rd_init(&plain, data, size);
			plain.pos = off;
			wire_rd_name(&plain, name2, &len2, false);
			if (plain.err == 0) {
				CHECK(plain.pos == rd.pos && len2 == len &&
				      memcmp(name, name2, len) == 0);
			}
		}
	}
}

/* wire_peek_question (the UDP batch's cache warming) agrees with the
 * parser on every query the parser accepts, and stays in bounds on the
 * rest. */
static void check_peek(const uint8_t *data, size_t size,
                       const struct wire_query *q, enum wire_status st)
{
	uint8_t lname[DNAME_MAXLEN];
	uint16_t qtype = 0;
	size_t len = wire_peek_question(data, size, lname, &qtype);

	CHECK(len <= DNAME_MAXLEN);
	if (st != WIRE_Q_OK) {
		return;
	}
	CHECK(len == q->qname_len);
	CHECK(memcmp(lname, q->lname, len) == 0);
	CHECK(qtype == q->qtype);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned rcodes[] = {
		DNS_RCODE_FORMERR, DNS_RCODE_SERVFAIL, DNS_RCODE_NOTIMP,
		DNS_RCODE_REFUSED, DNS_RCODE_BADVERS,
	};
	struct wire_query q;
	enum wire_status st = wire_parse_query(data, size, &q);
	size_t lim = wire_udp_limit(&q, WIRE_EDNS_ADVERTISE);

	check_query(data, size, &q, st);
	check_peek(data, size, &q, st);
	CHECK(lim >= WIRE_UDP_MIN && lim <= WIRE_EDNS_ADVERTISE);
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		check_error(data, &q, st, rcodes[i], true, i % 2 == 0);
		check_error(data, &q, st, rcodes[i], false, i % 2 != 0);
	}
	check_names(data, size);
	return 0;
}
