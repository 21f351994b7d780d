#include "unit.h"

#include "svcdns/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixtures for wire_parse_query, named after the case IDs of RELIABILITY.md
 * 2.2. Run with "--write-corpus DIR" this program writes every fixture to
 * DIR/<id> instead of testing: that is the seed corpus of fuzz_wire. */

/* Header with ID 0xabcd, the two flag octets and four small counts. */
#define HDR(f1, f2, qd, an, ns, ar) \
	0xab, 0xcd, f1, f2, 0, qd, 0, an, 0, ns, 0, ar
#define RD 0x01 /* RD in the first flag octet */
/* web.shop.svc.cluster.local (27 octets, at offset 12). */
#define QN                                                                 \
	3, 'w', 'e', 'b', 4, 's', 'h', 'o', 'p', 3, 's', 'v', 'c', 7, 'c', \
		'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0
#define QN_LEN 28
#define QEND   (WIRE_HEADER_LEN + QN_LEN + 4) /* 44 */
#define A_IN   0, 1, 0, 1
#define Q      QN, A_IN
/* OPT with udp size, extended rcode, version, flags and RDLENGTH. */
#define OPT(s1, s2, ext, ver, f1, f2, l1, l2) \
	0, 0, 41, s1, s2, ext, ver, f1, f2, l1, l2
#define OPT_1232 OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 0)
/* TSIG-like record whose owner is compressed to the QNAME. */
#define TSIG_RR(l1, l2) 0xc0, 0x0c, 0, 250, 0, 255, 0, 0, 0, 0, l1, l2

#define BUILT_MAX 4096

struct msg {
	uint8_t b[BUILT_MAX];
	size_t n;
};

/* Builders run outside cmocka too (corpus mode), so they abort. */
static void put(struct msg *m, const void *p, size_t n)
{
	if (n > sizeof(m->b) - m->n) {
		abort();
	}
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2];

	wire_put_u16(b, v);
	put(m, b, 2);
}

static void put_hdr(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an,
                    uint16_t ns, uint16_t ar)
{
	put16(m, 0xabcd);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

static void put_name(struct msg *m, const unsigned *sizes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		put8(m, (uint8_t)sizes[i]);
		for (unsigned k = 0; k < sizes[i]; k++) {
			put8(m, (uint8_t)('a' + (i % 26)));
		}
	}
	put8(m, 0);
}

static void put_query(struct msg *m, const unsigned *sizes, size_t count)
{
	put_hdr(m, 0x0100, 1, 0, 0, 0);
	put_name(m, sizes, count);
	put16(m, DNS_TYPE_A);
	put16(m, DNS_CLASS_IN);
}

static void build_n03(struct msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 63, 63 };

	put_query(m, sizes, 5);
}

static void build_n04(struct msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 61 };

	put_query(m, sizes, 4);
}

static void build_n05(struct msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 62 };

	put_query(m, sizes, 4);
}

static void build_n19(struct msg *m)
{
	unsigned sizes[127];

	for (size_t i = 0; i < 127; i++) {
		sizes[i] = 1;
	}
	put_query(m, sizes, 127);
}

/* O02 (STATUS) whose question is 5 labels of 63, then a good OPT: the
 * walk that looks for the OPT must reject the name. */
static void build_o02_long(struct msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 63, 63 };
	static const uint8_t opt[] = { OPT_1232 };

	put_hdr(m, 0x1000, 1, 0, 0, 1);
	put_name(m, sizes, 5);
	put16(m, DNS_TYPE_A);
	put16(m, DNS_CLASS_IN);
	put(m, opt, sizeof(opt));
}

/* A query whose OPT holds one padding option (RFC 7830) of pad zeros. */
static void build_padded(struct msg *m, size_t pad)
{
	static const uint8_t q[] = { Q };

	put_hdr(m, 0x0100, 1, 0, 0, 1);
	put(m, q, sizeof(q));
	put8(m, 0);
	put16(m, DNS_TYPE_OPT);
	put16(m, 1232);
	put16(m, 0);
	put16(m, 0);
	put16(m, (uint16_t)(pad + 4));
	put16(m, 12);
	put16(m, (uint16_t)pad);
	for (size_t i = 0; i < pad; i++) {
		put8(m, 0);
	}
}

/* E25: 100 octets of padding. */
static void build_e25(struct msg *m)
{
	build_padded(m, 100);
}

/* Z01: a 4,000-octet query, padded with an EDNS padding option. */
static void build_z01(struct msg *m)
{
	build_padded(m, 4000 - QEND - WIRE_OPT_LEN - 4);
}

/* n additional A records with a root owner and no RDATA. */
static void build_ar(struct msg *m, uint16_t n)
{
	static const uint8_t q[] = { Q };

	put_hdr(m, 0x0100, 1, 0, 0, n);
	put(m, q, sizeof(q));
	for (unsigned i = 0; i < n; i++) {
		put8(m, 0);
		put16(m, DNS_TYPE_A);
		put16(m, DNS_CLASS_IN);
		put16(m, 0);
		put16(m, 0);
		put16(m, 0);
	}
}

static void build_ar64(struct msg *m)
{
	build_ar(m, WIRE_MAX_QUERY_RRS);
}

static void build_ar65(struct msg *m)
{
	build_ar(m, WIRE_MAX_QUERY_RRS + 1);
}

struct fx {
	const char *id;
	const uint8_t *pkt;
	size_t len;
	void (*build)(struct msg *m);
	enum wire_status st;
	bool qok; /* question_ok */
	bool ook; /* opt_ok */
};

#define LIT(...)                                 \
	.pkt = (const uint8_t[]){ __VA_ARGS__ }, \
	.len = sizeof((const uint8_t[]){ __VA_ARGS__ })

#define OK      WIRE_Q_OK
#define DROP    WIRE_Q_DROP
#define FORMERR WIRE_Q_FORMERR
#define NOTIMP  WIRE_Q_NOTIMP
#define BADVERS WIRE_Q_BADVERS

static const struct fx fixtures[] = {
	/* Header. */
	{ "H01", .pkt = (const uint8_t[]){ 0 }, .len = 0, .st = DROP },
	{ "H02", LIT(0xab), .st = DROP },
	{ "H03", LIT(0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0), .st = DROP },
	{ "H04", LIT(HDR(RD, 0, 0, 0, 0, 0)), .st = FORMERR },
	{ "H04-opt", LIT(HDR(RD, 0, 0, 0, 0, 1), OPT_1232), .st = FORMERR,
	  .ook = true },
	{ "H04-cookie",
	  LIT(HDR(RD, 0, 0, 0, 0, 1), OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 12), 0, 10,
	      0, 8, 1, 2, 3, 4, 5, 6, 7, 8),
	  .st = FORMERR, .ook = true },
	{ "H05", LIT(HDR(0x81, 0, 1, 0, 0, 0), Q), .st = DROP },
	{ "H06", LIT(HDR(RD, 0, 1, 0, 0, 0)), .st = FORMERR },
	{ "H07", LIT(HDR(RD, 0, 2, 0, 0, 0), Q, Q), .st = FORMERR },
	{ "H07-opt", LIT(HDR(RD, 0, 2, 0, 0, 1), Q, Q, OPT_1232), .st = FORMERR,
	  .ook = true },
	{ "H08", LIT(HDR(RD, 0, 2, 0, 0, 0), Q), .st = FORMERR },
	{ "H09", LIT(HDR(RD, 0, 1, 0, 0, 1), Q), .st = FORMERR, .qok = true },
	{ "H10", LIT(HDR(RD, 0, 1, 1, 0, 0), Q, 0xde, 0xad, 0xbe),
	  .st = FORMERR, .qok = true },
	{ "H11", LIT(HDR(RD, 0, 1, 0, 0, 0), Q, 1, 2, 3, 4), .st = FORMERR,
	  .qok = true },
	{ "H11-opt", LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT_1232, 1, 2, 3, 4),
	  .st = FORMERR, .qok = true, .ook = true },
	{ "H12", LIT(0xab, 0xcd, RD, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, Q),
	  .st = FORMERR },
	{ "H12-opt",
	  LIT(0xab, 0xcd, RD, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 1, Q, OPT_1232),
	  .st = FORMERR },
	{ "H13", LIT(HDR(RD, 0x40, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H14", LIT(HDR(0x03, 0, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H15", LIT(HDR(0x05, 0x80, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H16", LIT(HDR(RD, 0x20, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H17", LIT(HDR(RD, 0x10, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H18", LIT(HDR(RD, 0x05, 1, 0, 0, 0), Q), .st = OK, .qok = true },
	{ "H-all-flags", LIT(HDR(0x07, 0xff, 1, 0, 0, 0), Q), .st = OK,
	  .qok = true },

	/* Opcodes. */
	{ "O01", LIT(HDR(0x08 | RD, 0, 1, 0, 0, 0), Q), .st = NOTIMP },
	{ "O02", LIT(HDR(0x10, 0, 1, 0, 0, 0), Q), .st = NOTIMP },
	{ "O03", LIT(HDR(0x18, 0, 1, 0, 0, 0), Q), .st = NOTIMP },
	{ "O04", LIT(HDR(0x24, 0, 1, 0, 0, 0), QN, 0, 6, 0, 1), .st = NOTIMP },
	/* UPDATE: zone, one prerequisite, one update, then OPT. */
	{ "O05",
	  LIT(HDR(0x28, 0, 1, 1, 1, 1), QN, 0, 6, 0, 1, 0xc0, 0x0c, 0, 1, 0,
	      255, 0, 0, 0, 0, 0, 0, 3, 'n', 'e', 'w', 0xc0, 0x0c, 0, 1, 0, 1,
	      0, 0, 0, 60, 0, 4, 10, 0, 0, 1, OPT_1232),
	  .st = NOTIMP, .ook = true },
	{ "O05-badopt",
	  LIT(HDR(0x28, 0, 1, 0, 0, 1), QN, 0, 6, 0, 1,
	      OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 3), 0, 100, 0),
	  .st = NOTIMP },
	{ "O05-optan", LIT(HDR(0x28, 0, 1, 1, 0, 0), QN, 0, 6, 0, 1, OPT_1232),
	  .st = NOTIMP },
	{ "O02-badlabel",
	  LIT(HDR(0x10, 0, 1, 0, 0, 1), 0x40, 'a', 0, A_IN, OPT_1232),
	  .st = NOTIMP },
	{ "O02-longname", .build = build_o02_long, .st = NOTIMP },
	{ "O06", LIT(HDR(0x30, 0, 0, 0, 0, 0)), .st = NOTIMP },
	{ "O07", LIT(HDR(0x7f, 0xff, 0, 0, 0, 0)), .st = NOTIMP },
	{ "O07-opt", LIT(HDR(0x7f, 0xff, 0, 0, 0, 1), OPT_1232), .st = NOTIMP,
	  .ook = true },

	/* Names. */
	{ "N01", LIT(HDR(RD, 0, 1, 0, 0, 0), 0x40, 'a', 0, A_IN),
	  .st = FORMERR },
	{ "N02", LIT(HDR(RD, 0, 1, 0, 0, 0), 0x80, 'a', 0, A_IN),
	  .st = FORMERR },
	{ "N03", .build = build_n03, .st = FORMERR },
	{ "N04", .build = build_n04, .st = OK, .qok = true },
	{ "N05", .build = build_n05, .st = FORMERR },
	{ "N06", LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x0c, A_IN), .st = FORMERR },
	{ "N07", LIT(HDR(RD, 0, 1, 0, 0, 0), 1, 'a', 0xc0, 0x0c, A_IN),
	  .st = FORMERR },
	{ "N08", LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x0e, 0, A_IN),
	  .st = FORMERR },
	{ "N09", LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0xff, A_IN), .st = FORMERR },
	{ "N10", LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x02, A_IN), .st = FORMERR },
	{ "N11", LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'w', 'e'), .st = FORMERR },
	{ "N12", LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'w', 'e', 'b'), .st = FORMERR },
	{ "N13", LIT(HDR(RD, 0, 1, 0, 0, 0), QN), .st = FORMERR },
	{ "N14", LIT(HDR(RD, 0, 1, 0, 0, 0), QN, 0), .st = FORMERR },
	{ "N15",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'W', 'e', 'B', 4, 's', 'H', 'o', 'P',
	      3, 'S', 'v', 'C', 7, 'c', 'L', 'u', 'S', 't', 'E', 'r', 5, 'L',
	      'o', 'C', 'a', 'L', 0, A_IN),
	  .st = OK, .qok = true },
	{ "N16",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'a', 0, 'b', 5, 'l', 'o', 'c', 'a',
	      'l', 0, A_IN),
	  .st = OK, .qok = true },
	{ "N17", LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'a', '.', 'b', 0, A_IN),
	  .st = OK, .qok = true },
	{ "N18", LIT(HDR(0, 0, 1, 0, 0, 0), 0, 0, 2, 0, 1), .st = OK,
	  .qok = true },
	{ "N19", .build = build_n19, .st = OK, .qok = true },
	{ "N20",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 0xc0, 0x0c, 0, 41, 0x04, 0xd0, 0, 0, 0,
	      0, 0, 0),
	  .st = FORMERR, .qok = true },

	/* Query types. */
	{ "T05", LIT(HDR(RD, 0, 1, 0, 0, 0), QN, 0, 41, 0, 1), .st = FORMERR,
	  .qok = true },
	{ "T06", LIT(HDR(RD, 0, 1, 0, 0, 0), QN, 0, 250, 0, 1), .st = FORMERR,
	  .qok = true },
	{ "T07", LIT(HDR(RD, 0, 1, 0, 0, 0), QN, 0, 253, 0, 1), .st = NOTIMP,
	  .qok = true },
	{ "T07-maila", LIT(HDR(RD, 0, 1, 0, 0, 0), QN, 0, 254, 0, 1),
	  .st = NOTIMP, .qok = true },
	{ "T07-opt", LIT(HDR(RD, 0, 1, 0, 0, 1), QN, 0, 253, 0, 1, OPT_1232),
	  .st = NOTIMP, .qok = true, .ook = true },
	{ "T05-badvers",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), QN, 0, 41, 0, 1,
	      OPT(0x04, 0xd0, 0, 1, 0, 0, 0, 0)),
	  .st = FORMERR, .qok = true, .ook = true },
	{ "T-axfr", LIT(HDR(0, 0, 1, 0, 0, 0), QN, 0, 252, 0, 1), .st = OK,
	  .qok = true },

	/* EDNS. */
	{ "E01",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 1, 0, 0, 0, 0)),
	  .st = BADVERS, .qok = true, .ook = true },
	{ "E02", LIT(HDR(RD, 0, 1, 0, 0, 2), Q, OPT_1232, OPT_1232),
	  .st = FORMERR, .qok = true },
	{ "E03",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 1, 'a', 0, 41, 0x04, 0xd0, 0, 0, 0, 0,
	      0, 0),
	  .st = FORMERR, .qok = true },
	{ "E04",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 0x10),
	      0, 100),
	  .st = FORMERR, .qok = true },
	{ "E05",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 8), 0,
	      100, 0, 10, 1, 2, 3, 4),
	  .st = FORMERR, .qok = true },
	{ "E05-short",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 3), 0,
	      100, 0),
	  .st = FORMERR, .qok = true },
	{ "E06", LIT(HDR(RD, 0, 1, 1, 0, 0), Q, OPT_1232), .st = FORMERR,
	  .qok = true },
	{ "E06-an-ok",
	  LIT(HDR(RD, 0, 1, 1, 0, 1), Q, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0,
	      4, 10, 0, 0, 1, OPT_1232),
	  .st = FORMERR, .qok = true, .ook = true },
	{ "E07", LIT(HDR(RD, 0, 1, 0, 1, 0), Q, OPT_1232), .st = FORMERR,
	  .qok = true },
	{ "E08", LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0, 0, 0, 0, 0, 0, 0, 0)),
	  .st = OK, .qok = true, .ook = true },
	{ "E09",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0xff, 0xff, 0, 0, 0, 0, 0, 0)),
	  .st = OK, .qok = true, .ook = true },
	{ "E10",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 6), 0,
	      100, 0, 2, 0xaa, 0xbb),
	  .st = OK, .qok = true, .ook = true },
	{ "E11",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0x80, 0, 0)),
	  .st = OK, .qok = true, .ook = true },
	{ "E12",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0x80, 0, 0, 0)),
	  .st = OK, .qok = true, .ook = true },
	{ "E13",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 1, 0, 0, 0, 4), 0,
	      100, 0, 0),
	  .st = BADVERS, .qok = true, .ook = true },
	{ "E22",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 5, 0, 0, 0, 0, 0)),
	  .st = OK, .qok = true, .ook = true },
	{ "E23",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 6), 0,
	      100, 0, 4, 1, 2, 3, 4),
	  .st = FORMERR, .qok = true },
	{ "E25", .build = build_e25, .st = OK, .qok = true, .ook = true },
	{ "Z01", .build = build_z01, .st = OK, .qok = true, .ook = true },

	/* Other additional records. */
	/* S02: the fault is the TSIG's place; the OPT after it is good and
	 * earns our OPT in the FORMERR (rule 2.1). */
	{ "S02", LIT(HDR(RD, 0, 1, 0, 0, 2), Q, TSIG_RR(0, 0), OPT_1232),
	  .st = FORMERR, .qok = true, .ook = true },
	{ "S03", LIT(HDR(RD, 0, 1, 1, 0, 0), Q, TSIG_RR(0, 0)), .st = FORMERR,
	  .qok = true },
	{ "S04", LIT(HDR(RD, 0, 1, 0, 0, 1), Q, TSIG_RR(0, 9), 1, 2, 3),
	  .st = FORMERR, .qok = true },
	{ "S-tsig-last",
	  LIT(HDR(RD, 0, 1, 0, 0, 2), Q, OPT_1232, TSIG_RR(0, 3), 1, 2, 3),
	  .st = OK, .qok = true, .ook = true },
	{ "AR-fwdptr",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 0xc0, 0x40, 0, 1, 0, 1, 0, 0, 0, 0, 0,
	      0),
	  .st = FORMERR, .qok = true },
	{ "AR-hdrptr",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 0xc0, 0x04, 0, 1, 0, 1, 0, 0, 0, 0, 0,
	      0),
	  .st = FORMERR, .qok = true },
	{ "AR64", .build = build_ar64, .st = OK, .qok = true },
	{ "AR65", .build = build_ar65, .st = FORMERR, .qok = true },
};

/* Returns the fixture's bytes, building it into m if it is built. */
static const uint8_t *fx_bytes(const struct fx *f, struct msg *m, size_t *len)
{
	if (f->build == NULL) {
		*len = f->len;
		return f->pkt;
	}
	m->n = 0;
	f->build(m);
	*len = m->n;
	return m->b;
}

static const struct fx *fx_find(const char *id)
{
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(fixtures); i++) {
		if (strcmp(fixtures[i].id, id) == 0) {
			return &fixtures[i];
		}
	}
	fail_msg("no fixture %s", id);
	abort(); /* not reached: fail_msg jumps out of the test */
}

/* Parses fixture id into q; returns the packet (valid while m lives). */
static const uint8_t *parse_fx(const char *id, struct msg *m,
                               struct wire_query *q, size_t *len,
                               enum wire_status *st)
{
	const uint8_t *pkt = fx_bytes(fx_find(id), m, len);

	*st = wire_parse_query(pkt, *len, q);
	return pkt;
}

static void test_wire_parse_query_fixtures(void **state)
{
	static struct msg m;

	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(fixtures); i++) {
		const struct fx *f = &fixtures[i];
		struct wire_query q;
		size_t len = 0;
		const uint8_t *pkt = fx_bytes(f, &m, &len);
		enum wire_status st = wire_parse_query(pkt, len, &q);

		print_message("%s\n", f->id);
		assert_int_equal(st, f->st);
		assert_int_equal(q.question_ok, f->qok);
		assert_int_equal(q.opt_ok, f->ook);
		assert_int_equal(q.header_ok, len >= WIRE_HEADER_LEN);
		if (q.question_ok) {
			uint8_t lower[DNAME_MAXLEN];
			size_t nlen = 0;

			assert_true(q.question_end <= len);
			assert_int_equal(q.question_end,
			                 WIRE_HEADER_LEN + q.qname_len + 4);
			assert_int_equal(
				dname_check(q.qname, q.qname_len, &nlen), 0);
			assert_int_equal(nlen, q.qname_len);
			assert_memory_equal(q.qname, pkt + WIRE_HEADER_LEN,
			                    q.qname_len);
			dname_copy_lower(lower, q.qname, q.qname_len);
			assert_memory_equal(q.lname, lower, q.qname_len);
		} else {
			assert_int_equal(q.qname_len, 0);
		}
		if (!q.opt_ok) {
			assert_int_equal(q.edns_udp, 0);
			assert_int_equal(q.edns_version, 0);
			assert_false(q.edns_do);
		}
		if (len >= WIRE_HEADER_LEN) {
			assert_int_equal(q.id, 0xabcd);
			assert_int_equal(q.flags, wire_get_u16(pkt + 2));
		}
	}
}

static void test_wire_parse_query_fields(void **state)
{
	struct msg m;
	struct wire_query q;
	size_t len = 0;
	enum wire_status st;

	(void)state;
	parse_fx("N15", &m, &q, &len, &st);
	assert_int_equal(q.qtype, DNS_TYPE_A);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.qname_len, QN_LEN);
	assert_int_equal(q.question_end, QEND);
	assert_int_equal(q.opcode, 0);
	assert_memory_equal(q.qname, "\003WeB\004sHoP", 9);
	assert_memory_equal(
		q.lname, "\003web\004shop\003svc\007cluster\005local", QN_LEN);

	parse_fx("N04", &m, &q, &len, &st);
	assert_int_equal(q.qname_len, 255);
	assert_int_equal(len, WIRE_HEADER_LEN + 255 + 4);

	parse_fx("N19", &m, &q, &len, &st);
	assert_int_equal(q.qname_len, 255);
	assert_int_equal(dname_label_count(q.qname, q.qname_len), 127);

	parse_fx("N17", &m, &q, &len, &st);
	assert_int_equal(dname_label_count(q.qname, q.qname_len), 1);

	parse_fx("N16", &m, &q, &len, &st);
	assert_int_equal(dname_label_count(q.qname, q.qname_len), 2);

	parse_fx("O07", &m, &q, &len, &st);
	assert_int_equal(q.opcode, 15);

	parse_fx("O05", &m, &q, &len, &st);
	assert_int_equal(q.opcode, 5);
	assert_int_equal(q.edns_udp, 1232);

	parse_fx("E01", &m, &q, &len, &st);
	assert_int_equal(q.edns_version, 1);
	assert_int_equal(q.edns_udp, 1232);

	parse_fx("E11", &m, &q, &len, &st);
	assert_false(q.edns_do);
	parse_fx("E12", &m, &q, &len, &st);
	assert_true(q.edns_do);

	parse_fx("E09", &m, &q, &len, &st);
	assert_int_equal(q.edns_udp, 65535);

	parse_fx("Z01", &m, &q, &len, &st);
	assert_int_equal(len, 4000);
}

/* Every proper prefix of a good query is FORMERR or DROP, never OK. */
static void test_wire_parse_query_truncations(void **state)
{
	static const char *const ids[] = { "E10", "S-tsig-last", "N15", "E25" };
	struct msg m;

	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(ids); i++) {
		size_t len = 0;
		const uint8_t *pkt = fx_bytes(fx_find(ids[i]), &m, &len);

		for (size_t n = 0; n < len; n++) {
			struct wire_query q;
			enum wire_status st = wire_parse_query(pkt, n, &q);

			if (n < WIRE_HEADER_LEN) {
				assert_int_equal(st, WIRE_Q_DROP);
			} else {
				assert_int_equal(st, WIRE_Q_FORMERR);
				assert_false(q.opt_ok);
				assert_int_equal(q.question_ok, n >= QEND);
			}
		}
	}
}

/* wire_peek_question agrees with the parser on every fixture it accepts,
 * takes no compressed or cut-short name, and lower-cases. */
static void test_wire_peek_question(void **state)
{
	static const uint8_t mixed[] = {
		0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x03, 'W',  'e',  'B',
		0x01, 'A',  0x00, 0x00, 0x1c, 0x00, 0x01,
	};
	static const uint8_t compressed[] = {
		0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
	};
	static struct msg m;
	uint8_t lname[DNAME_MAXLEN];
	uint16_t qtype = 0;

	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(fixtures); i++) {
		const struct fx *f = &fixtures[i];
		struct wire_query q;
		size_t len = 0;
		const uint8_t *pkt = fx_bytes(f, &m, &len);
		size_t n;

		if (wire_parse_query(pkt, len, &q) != WIRE_Q_OK) {
			continue;
		}
		print_message("%s\n", f->id);
		n = wire_peek_question(pkt, len, lname, &qtype);
		assert_int_equal(n, q.qname_len);
		assert_memory_equal(lname, q.lname, n);
		assert_int_equal(qtype, q.qtype);
	}
	assert_int_equal(
		wire_peek_question(mixed, sizeof(mixed), lname, &qtype), 7);
	assert_memory_equal(lname, "\003web\001a", 7);
	assert_int_equal(qtype, DNS_TYPE_AAAA);
	/* Cut anywhere before QTYPE is whole: nothing. */
	for (size_t n = 0; n < sizeof(mixed) - 2; n++) {
		assert_int_equal(wire_peek_question(mixed, n, lname, &qtype),
		                 0);
	}
	assert_int_equal(wire_peek_question(compressed, sizeof(compressed),
	                                    lname, &qtype),
	                 0);
}

/* --- wire_rd ----------------------------------------------------------- */

static void test_wire_rd_latch(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct wire_rd rd;
	uint8_t out[4];

	(void)state;
	wire_rd_init(&rd, b, sizeof(b));
	assert_int_equal(wire_rd_u8(&rd), 1);
	assert_int_equal(wire_rd_u16(&rd), 0x0203);
	assert_int_equal(wire_rd_left(&rd), 4);
	assert_int_equal(wire_rd_u32(&rd), 0x04050607);
	assert_int_equal(wire_rd_left(&rd), 0);
	assert_int_equal(rd.err, 0);
	assert_int_equal(wire_rd_u8(&rd), 0);
	assert_int_equal(rd.err, -EBADMSG);
	assert_int_equal(rd.pos, 7);

	/* After the first error nothing is consumed, even if it fits. */
	wire_rd_init(&rd, b, sizeof(b));
	assert_int_equal(wire_rd_u16(&rd), 0x0102);
	assert_int_equal(wire_rd_u32(&rd), 0x03040506);
	assert_int_equal(wire_rd_u16(&rd), 0);
	assert_int_equal(rd.err, -EBADMSG);
	assert_int_equal(rd.pos, 6);
	assert_int_equal(wire_rd_u8(&rd), 0);
	assert_int_equal(rd.pos, 6);
	assert_int_equal(wire_rd_left(&rd), 0);

	wire_rd_init(&rd, b, sizeof(b));
	wire_rd_bytes(&rd, NULL, 2);
	wire_rd_bytes(&rd, out, 4);
	assert_memory_equal(out, "\003\004\005\006", 4);
	wire_rd_bytes(&rd, out, 2);
	assert_int_equal(rd.err, -EBADMSG);
	assert_int_equal(rd.pos, 6);

	wire_rd_init(&rd, NULL, 10);
	assert_int_equal(wire_rd_left(&rd), 0);
	assert_int_equal(wire_rd_u8(&rd), 0);
	assert_int_equal(rd.err, -EBADMSG);
}

/* Names for wire_rd_name with compression: a header of zeros, then
 *   12: example.com           (13 octets)
 *   25: www -> 12             ("www.example.com")
 *   31: -> 25                 (a chain of two pointers)
 *   33: mail -> 20            ("mail.com", a pointer to a suffix)
 *   40: -> 33 -> 20           (chain into a suffix) */
static const uint8_t names_pkt[] = {
	0,   0,    0,   0,    0,   0,   0,   0,   0,   0,   0,    0,  7,    'e',
	'x', 'a',  'm', 'p',  'l', 'e', 3,   'c', 'o', 'm', 0,    3,  'w',  'w',
	'w', 0xc0, 12,  0xc0, 25,  4,   'm', 'a', 'i', 'l', 0xc0, 20, 0xc0, 33,
};

struct name_case {
	size_t off;
	bool ok;
	const char *text;
	size_t end;
};

static const struct name_case name_cases[] = {
	{ 12, true, "example.com.", 25 },
	{ 20, true, "com.", 25 },
	{ 24, true, ".", 25 },
	{ 25, true, "www.example.com.", 31 },
	{ 31, true, "www.example.com.", 33 },
	{ 33, true, "mail.com.", 40 },
	{ 40, true, "mail.com.", 42 },
	{ 41, false, NULL, 0 }, /* 0x21 is a 33-octet label, cut short */
	{ 42, false, NULL, 0 }, /* at the end */
	{ 43, false, NULL, 0 }, /* past the end */
	{ 1000, false, NULL, 0 },
};

static void test_wire_rd_name_compressed(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		struct wire_rd rd;
		uint8_t out[DNAME_MAXLEN];
		char text[DNAME_TEXT_MAX];
		size_t len = 99;

		print_message("offset %zu\n", c->off);
		wire_rd_init(&rd, names_pkt, sizeof(names_pkt));
		rd.pos = c->off;
		wire_rd_name(&rd, out, &len, true);
		if (!c->ok) {
			assert_int_equal(rd.err, -EBADMSG);
			assert_int_equal(len, 0);
			continue;
		}
		assert_int_equal(rd.err, 0);
		assert_int_equal(rd.pos, c->end);
		assert_int_equal(dname_to_text(out, len, text, sizeof(text)),
		                 0);
		assert_string_equal(text, c->text);
	}
}

struct bad_name {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	size_t off;
};

#define Z12 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define BAD(what, off, ...)                                                \
	{                                                                  \
		what, (const uint8_t[]){ Z12, __VA_ARGS__ },               \
			sizeof((const uint8_t[]){ Z12, __VA_ARGS__ }), off \
	}

static const struct bad_name bad_names[] = {
	BAD("self pointer (N06)", 12, 0xc0, 12),
	BAD("label then pointer to its start (N07)", 12, 1, 'a', 0xc0, 12),
	BAD("pointer into that loop (N07)", 14, 1, 'a', 0xc0, 12),
	BAD("two pointers to each other", 14, 0xc0, 14, 0xc0, 12),
	BAD("forward pointer (N08)", 12, 0xc0, 14, 0),
	BAD("pointer past the end (N09)", 12, 0xc0, 0xff),
	BAD("pointer far past the end", 12, 0xff, 0xff),
	BAD("pointer into the header (N10)", 12, 0xc0, 2),
	BAD("pointer to offset 11", 13, 0, 0xc0, 11),
	BAD("pointer to offset 0", 12, 0xc0, 0),
	BAD("truncated pointer", 12, 0xc0),
	BAD("label type 0x40 (N01)", 12, 0x40, 'a', 0),
	BAD("label type 0x80 (N02)", 12, 0x80, 'a', 0),
	BAD("cut mid-label (N11)", 12, 3, 'w', 'e'),
	BAD("no root (N12)", 12, 3, 'w', 'e', 'b'),
	BAD("empty", 12, ),
};

static void test_wire_rd_name_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(bad_names); i++) {
		const struct bad_name *c = &bad_names[i];
		struct wire_rd rd;
		uint8_t out[DNAME_MAXLEN];
		size_t len = 99;

		print_message("%s\n", c->what);
		wire_rd_init(&rd, c->pkt, c->len);
		rd.pos = c->off;
		wire_rd_name(&rd, out, &len, true);
		assert_int_equal(rd.err, -EBADMSG);
		assert_int_equal(len, 0);
	}
}

/* A chain of n pointers, each to the one before, ending at a root label at
 * offset 12. Returns the offset of the last pointer. */
static size_t build_chain(struct msg *m, unsigned n)
{
	m->n = 0;
	put_hdr(m, 0, 0, 0, 0, 0);
	put8(m, 0);
	for (unsigned i = 0; i < n; i++) {
		size_t prev = i == 0 ? 12 : m->n - 2;

		put16(m, (uint16_t)(0xc000 | prev));
	}
	return m->n - 2;
}

static void test_wire_rd_name_hop_limit(void **state)
{
	struct msg m;
	struct wire_rd rd;
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;
	size_t off;

	(void)state;
	off = build_chain(&m, WIRE_MAX_PTR_HOPS);
	wire_rd_init(&rd, m.b, m.n);
	rd.pos = off;
	wire_rd_name(&rd, out, &len, true);
	assert_int_equal(rd.err, 0);
	assert_int_equal(len, 1);
	assert_int_equal(rd.pos, off + 2);

	off = build_chain(&m, WIRE_MAX_PTR_HOPS + 1);
	wire_rd_init(&rd, m.b, m.n);
	rd.pos = off;
	wire_rd_name(&rd, out, &len, true);
	assert_int_equal(rd.err, -EBADMSG);
}

/* Compression cannot be used to build a name over 255 octets. */
static void test_wire_rd_name_decompressed_length(void **state)
{
	static const unsigned base[] = { 63, 63, 63 };
	struct msg m;
	struct wire_rd rd;
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;
	size_t ok_off;
	size_t bad_off;

	(void)state;
	m.n = 0;
	put_hdr(&m, 0, 0, 0, 0, 0);
	put_name(&m, base, 3); /* 193 octets at 12 */
	ok_off = m.n;
	put8(&m, 61);
	for (int i = 0; i < 61; i++) {
		put8(&m, 'x');
	}
	put16(&m, 0xc00c); /* 62 + 193 = 255 */
	bad_off = m.n;
	put8(&m, 62);
	for (int i = 0; i < 62; i++) {
		put8(&m, 'y');
	}
	put16(&m, 0xc00c); /* 63 + 193 = 256 */

	wire_rd_init(&rd, m.b, m.n);
	rd.pos = ok_off;
	wire_rd_name(&rd, out, &len, true);
	assert_int_equal(rd.err, 0);
	assert_int_equal(len, 255);
	assert_int_equal(rd.pos, bad_off);

	wire_rd_name(&rd, out, &len, true);
	assert_int_equal(rd.err, -EBADMSG);
	assert_int_equal(len, 0);
}

static void test_wire_rd_name_no_compression(void **state)
{
	struct wire_rd rd;
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;

	(void)state;
	wire_rd_init(&rd, names_pkt, sizeof(names_pkt));
	rd.pos = 12;
	wire_rd_name(&rd, out, &len, false);
	assert_int_equal(rd.err, 0);
	assert_int_equal(len, 13);
	assert_int_equal(rd.pos, 25);
	wire_rd_name(&rd, out, &len, false); /* www -> 12 */
	assert_int_equal(rd.err, -EBADMSG);
	assert_int_equal(len, 0);
	assert_int_equal(rd.pos, 25);

	/* A latched reader reads no name. */
	rd.pos = 12;
	wire_rd_name(&rd, out, &len, true);
	assert_int_equal(len, 0);
	assert_int_equal(rd.pos, 12);

	/* NULL len is allowed. */
	wire_rd_init(&rd, names_pkt, sizeof(names_pkt));
	rd.pos = 25;
	wire_rd_name(&rd, out, NULL, true);
	assert_int_equal(rd.err, 0);
	assert_int_equal(rd.pos, 31);
}

/* --- wire_wr ----------------------------------------------------------- */

static void test_wire_wr_latch(void **state)
{
	uint8_t buf[8];
	struct wire_wr w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wire_wr_init(&w, buf, 7);
	wire_wr_u8(&w, 1);
	wire_wr_u16(&w, 0x0203);
	wire_wr_u16(&w, 0x0405);
	wire_wr_u32(&w, 0x06070809); /* 2 left: does not fit */
	assert_int_equal(w.err, -EMSGSIZE);
	assert_int_equal(w.pos, 5);
	wire_wr_u8(&w, 0x10); /* would fit, but the error latched */
	wire_wr_bytes(&w, "ab", 2);
	assert_int_equal(w.pos, 5);
	assert_memory_equal(buf, "\001\002\003\004\005\356\356\356", 8);

	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_bytes(&w, NULL, 0);
	wire_wr_bytes(&w, "abcdefgh", 8);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.pos, 8);
	wire_wr_u8(&w, 0);
	assert_int_equal(w.err, -EMSGSIZE);
}

static void test_wire_wr_opt(void **state)
{
	static const uint8_t want[] = { 0, 0,    41, 0x04, 0xd0, 1,
		                        0, 0x80, 0,  0,    0 };
	uint8_t buf[WIRE_OPT_LEN];
	struct wire_wr w;

	(void)state;
	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 1, true);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.pos, WIRE_OPT_LEN);
	assert_memory_equal(buf, want, sizeof(want));

	/* All or nothing. */
	wire_wr_init(&w, buf, WIRE_OPT_LEN - 1);
	wire_wr_opt(&w, 512, 0, false);
	assert_int_equal(w.err, -EMSGSIZE);
	assert_int_equal(w.pos, 0);
}

/* --- wire_build_error -------------------------------------------------- */

struct built {
	struct msg m;
	struct wire_query q;
	const uint8_t *pkt;
	size_t len;
	enum wire_status st;
	uint8_t out[1024];
	size_t olen;
};

static void build_error_for(struct built *b, const char *id, unsigned rcode,
                            bool echo, bool ra)
{
	b->pkt = parse_fx(id, &b->m, &b->q, &b->len, &b->st);
	b->olen = wire_build_error(&b->q, b->pkt, rcode, echo, ra, b->out,
	                           sizeof(b->out));
}

static void assert_counts(const uint8_t *out, uint16_t qd, uint16_t ar)
{
	assert_int_equal(wire_get_u16(out + 4), qd);
	assert_int_equal(wire_get_u16(out + 6), 0);
	assert_int_equal(wire_get_u16(out + 8), 0);
	assert_int_equal(wire_get_u16(out + 10), ar);
}

static void test_wire_build_error_formerr(void **state)
{
	static struct built b;

	(void)state;
	/* Every query flag set (QR aside): FORMERR keeps RD only. */
	build_error_for(&b, "H-all-flags", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, QEND);
	assert_int_equal(wire_get_u16(b.out), 0xabcd);
	assert_int_equal(wire_get_u16(b.out + 2),
	                 WIRE_FLAG_QR | WIRE_FLAG_RD | DNS_RCODE_FORMERR);
	assert_counts(b.out, 1, 0);
	assert_memory_equal(b.out + 12, b.pkt + 12, QEND - 12);

	/* H10: question echoed; H07: not (two questions). */
	build_error_for(&b, "H10", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, QEND);
	assert_counts(b.out, 1, 0);
	build_error_for(&b, "H07", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8101);
	assert_counts(b.out, 0, 0);

	/* The caller may decline to echo. R-FORMERR: CD is not copied. */
	build_error_for(&b, "H17", DNS_RCODE_FORMERR, false, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8101);
	/* Other errors answer a good query: CD copied as in any answer. */
	build_error_for(&b, "H17", DNS_RCODE_REFUSED, false, false);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8115);
	assert_counts(b.out, 0, 0);

	/* H07-opt: our OPT, no question. */
	build_error_for(&b, "H07-opt", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN + WIRE_OPT_LEN);
	assert_counts(b.out, 0, 1);
	assert_memory_equal(b.out + 12,
	                    "\000\000\051\004\320\000\000\000\000\000\000",
	                    WIRE_OPT_LEN);

	/* E02 / N20: the OPT is the fault, so none in the response. */
	build_error_for(&b, "E02", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, QEND);
	assert_counts(b.out, 1, 0);
	build_error_for(&b, "N20", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, QEND);
	assert_counts(b.out, 1, 0);

	/* H11-opt: trailing data is not the OPT's fault. */
	build_error_for(&b, "H11-opt", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, QEND + WIRE_OPT_LEN);
	assert_counts(b.out, 1, 1);
}

static void test_wire_build_error_notimp(void **state)
{
	static struct built b;

	(void)state;
	/* O07: every flag 0 except QR; opcode kept. */
	build_error_for(&b, "O07", DNS_RCODE_NOTIMP, true, true);
	assert_int_equal(b.olen, WIRE_HEADER_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), 0xf804);
	assert_counts(b.out, 0, 0);

	/* O01 with RD: cleared, and never the question. */
	build_error_for(&b, "O01", DNS_RCODE_NOTIMP, true, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8804);
	assert_counts(b.out, 0, 0);

	/* O05 carried a valid OPT: ours goes back. */
	build_error_for(&b, "O05", DNS_RCODE_NOTIMP, true, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN + WIRE_OPT_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), 0xa804);
	assert_counts(b.out, 0, 1);
	build_error_for(&b, "O05-badopt", DNS_RCODE_NOTIMP, true, false);
	assert_int_equal(b.olen, WIRE_HEADER_LEN);

	/* T07: MAILB is NOTIMP with the question echoed. */
	build_error_for(&b, "T07", DNS_RCODE_NOTIMP, true, false);
	assert_int_equal(b.st, WIRE_Q_NOTIMP);
	assert_int_equal(b.olen, QEND);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8004);
	assert_counts(b.out, 1, 0);
	assert_memory_equal(b.out + 12, b.pkt + 12, QEND - 12);
}

static void test_wire_build_error_badvers(void **state)
{
	static const uint8_t opt[] = { 0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0 };
	static struct built b;

	(void)state;
	/* E01: header rcode 0, OPT extended rcode 1 (=16), version 0. */
	build_error_for(&b, "E01", DNS_RCODE_BADVERS, true, false);
	assert_int_equal(b.st, WIRE_Q_BADVERS);
	assert_int_equal(b.olen, QEND + WIRE_OPT_LEN);
	assert_int_equal(wire_get_u16(b.out + 2), WIRE_FLAG_QR | WIRE_FLAG_RD);
	assert_counts(b.out, 1, 1);
	assert_memory_equal(b.out + QEND, opt, sizeof(opt));

	build_error_for(&b, "E13", DNS_RCODE_BADVERS, true, false);
	assert_int_equal(b.olen, QEND + WIRE_OPT_LEN);
	assert_memory_equal(b.out + QEND, opt, sizeof(opt));

	/* An extended rcode cannot be sent without an OPT. */
	build_error_for(&b, "H17", DNS_RCODE_BADVERS, true, false);
	assert_int_equal(b.olen, 0);
}

static void test_wire_build_error_opt_flags(void **state)
{
	static struct built b;

	(void)state;
	/* E12: DO copied. E11: other EDNS flags never are. Z01: the
	 * padding is not echoed. */
	build_error_for(&b, "E12", DNS_RCODE_SERVFAIL, true, false);
	assert_int_equal(b.olen, QEND + WIRE_OPT_LEN);
	assert_memory_equal(b.out + QEND,
	                    "\000\000\051\004\320\000\000\200\000\000\000",
	                    WIRE_OPT_LEN);
	build_error_for(&b, "E11", DNS_RCODE_SERVFAIL, true, false);
	assert_memory_equal(b.out + QEND,
	                    "\000\000\051\004\320\000\000\000\000\000\000",
	                    WIRE_OPT_LEN);
	build_error_for(&b, "Z01", DNS_RCODE_SERVFAIL, true, false);
	assert_int_equal(b.olen, QEND + WIRE_OPT_LEN);
	/* E09: our OPT advertises 1232 whatever the client said. */
	build_error_for(&b, "E09", DNS_RCODE_REFUSED, true, true);
	assert_int_equal(wire_get_u16(b.out + QEND + 3), WIRE_EDNS_ADVERTISE);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8185);
}

static void test_wire_build_error_sizes(void **state)
{
	static struct built b;
	uint8_t small[QEND + WIRE_OPT_LEN];

	(void)state;
	/* N04: a 255-octet name echoed makes a 271-octet REFUSED. */
	build_error_for(&b, "N04", DNS_RCODE_REFUSED, true, false);
	assert_int_equal(b.olen, 271);
	assert_int_equal(wire_get_u16(b.out + 2), 0x8105);

	build_error_for(&b, "E12", DNS_RCODE_SERVFAIL, true, false);
	assert_int_equal(wire_build_error(&b.q, b.pkt, DNS_RCODE_SERVFAIL, true,
	                                  false, small, sizeof(small)),
	                 sizeof(small));
	assert_int_equal(wire_build_error(&b.q, b.pkt, DNS_RCODE_SERVFAIL, true,
	                                  false, small, sizeof(small) - 1),
	                 0);
	assert_int_equal(wire_build_error(&b.q, b.pkt, DNS_RCODE_SERVFAIL, true,
	                                  false, small, 0),
	                 0);
	assert_int_equal(wire_build_error(&b.q, b.pkt, DNS_RCODE_SERVFAIL, true,
	                                  false, small, 11),
	                 0);
	/* Out-of-range rcode. */
	assert_int_equal(wire_build_error(&b.q, b.pkt, 0x1000, true, false,
	                                  small, sizeof(small)),
	                 0);
}

static void test_wire_build_error_drop(void **state)
{
	static struct built b;

	(void)state;
	build_error_for(&b, "H03", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.st, WIRE_Q_DROP);
	assert_int_equal(b.olen, 0);
	build_error_for(&b, "H01", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.olen, 0);
	build_error_for(&b, "H05", DNS_RCODE_FORMERR, true, false);
	assert_int_equal(b.st, WIRE_Q_DROP);
	assert_int_equal(b.olen, 0);
	assert_int_equal(wire_build_error(NULL, b.pkt, DNS_RCODE_FORMERR, true,
	                                  false, b.out, sizeof(b.out)),
	                 0);
}

/* --- wire_udp_limit ---------------------------------------------------- */

struct limit_case {
	bool opt;
	uint16_t edns;
	size_t max;
	size_t want;
};

static const struct limit_case limit_cases[] = {
	{ false, 0, 1232, 512 },    { false, 4096, 1232, 512 },
	{ true, 0, 1232, 512 },     { true, 1, 1232, 512 },
	{ true, 511, 1232, 512 },   { true, 512, 1232, 512 },
	{ true, 513, 1232, 513 },   { true, 1000, 1232, 1000 },
	{ true, 1232, 1232, 1232 }, { true, 1233, 1232, 1232 },
	{ true, 4096, 1232, 1232 }, { true, 65535, 1232, 1232 },
	{ true, 4096, 4096, 4096 }, { true, 65535, 4096, 4096 },
	{ true, 1400, 100, 512 },   { false, 0, 100, 512 },
};

static void test_wire_udp_limit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(limit_cases); i++) {
		const struct limit_case *c = &limit_cases[i];
		struct wire_query q;

		memset(&q, 0, sizeof(q));
		q.opt_ok = c->opt;
		q.edns_udp = c->edns;
		print_message("case %zu\n", i);
		assert_int_equal(wire_udp_limit(&q, c->max), c->want);
	}
}

static void test_wire_udp_limit_parsed(void **state)
{
	struct msg m;
	struct wire_query q;
	size_t len = 0;
	enum wire_status st;

	(void)state;
	parse_fx("E08", &m, &q, &len, &st);
	assert_int_equal(wire_udp_limit(&q, WIRE_EDNS_ADVERTISE), 512);
	parse_fx("E09", &m, &q, &len, &st);
	assert_int_equal(wire_udp_limit(&q, WIRE_EDNS_ADVERTISE), 1232);
	parse_fx("H17", &m, &q, &len, &st);
	assert_int_equal(wire_udp_limit(&q, WIRE_EDNS_ADVERTISE), 512);
}

/* --- corpus ------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const uint8_t *p,
                      size_t n)
{
	char path[4096];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	if (n != 0 && fwrite(p, 1, n, f) != n) {
		err = -1;
	}
	if (fclose(f) != 0) {
		err = -1;
	}
	return err;
}

static int write_corpus(const char *dir)
{
	static struct msg m;
	char name[64];
	int err = 0;

	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(fixtures); i++) {
		size_t len = 0;
		const uint8_t *pkt = fx_bytes(&fixtures[i], &m, &len);

		snprintf(name, sizeof(name), "fx-%s", fixtures[i].id);
		err |= write_file(dir, name, pkt, len);
	}
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(bad_names); i++) {
		snprintf(name, sizeof(name), "name-bad-%02zu", i);
		err |= write_file(dir, name, bad_names[i].pkt,
		                  bad_names[i].len);
	}
	err |= write_file(dir, "name-good", names_pkt, sizeof(names_pkt));
	build_chain(&m, WIRE_MAX_PTR_HOPS);
	err |= write_file(dir, "name-chain-128", m.b, m.n);
	build_chain(&m, WIRE_MAX_PTR_HOPS + 1);
	err |= write_file(dir, "name-chain-129", m.b, m.n);
	return err == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_parse_query_fixtures),
		cmocka_unit_test(test_wire_parse_query_fields),
		cmocka_unit_test(test_wire_parse_query_truncations),
		cmocka_unit_test(test_wire_peek_question),
		cmocka_unit_test(test_wire_rd_latch),
		cmocka_unit_test(test_wire_rd_name_compressed),
		cmocka_unit_test(test_wire_rd_name_bad),
		cmocka_unit_test(test_wire_rd_name_hop_limit),
		cmocka_unit_test(test_wire_rd_name_decompressed_length),
		cmocka_unit_test(test_wire_rd_name_no_compression),
		cmocka_unit_test(test_wire_wr_latch),
		cmocka_unit_test(test_wire_wr_opt),
		cmocka_unit_test(test_wire_build_error_formerr),
		cmocka_unit_test(test_wire_build_error_notimp),
		cmocka_unit_test(test_wire_build_error_badvers),
		cmocka_unit_test(test_wire_build_error_opt_flags),
		cmocka_unit_test(test_wire_build_error_sizes),
		cmocka_unit_test(test_wire_build_error_drop),
		cmocka_unit_test(test_wire_udp_limit_table),
		cmocka_unit_test(test_wire_udp_limit_parsed),
	};

	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		return write_corpus(argv[2]);
	}
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
