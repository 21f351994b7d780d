/* dnscases: the case table of RELIABILITY.md 2.2 (and, with --session, the
 * TCP session cases of 2.3) as an automated test against a running svcdns.
 *
 *   dnscases --server ADDR --port N [--tcp] [--only ID,...] [--verbose]
 *   dnscases --server ADDR --port N --session [--idle-ms MS] [--io-ms MS]
 *            [--max-conns N --threads N] [--slack-ms MS] [--only P01,...]
 *   dnscases --write-corpus DIR
 *   dnscases --list
 *
 * --timeout-multiplier N scales every wait and bound (for sanitizer or
 * valgrind builds, as SVCDNS_TEST_TIMEOUT_MULTIPLIER does).
 * --upstream-sink PORT listens on 127.0.0.1:PORT (UDP and TCP), where the
 * daemon is told to forward while no client may recurse: a case after
 * which anything arrived there fails (T15: "no upstream packet").
 *
 * Every case is one entry of the table below: the query bytes exactly as
 * the RELIABILITY row describes them, and the response the row expects
 * (drop, or rcode + header flags + section counts + OPT or not + extra
 * checks). Each query goes out on its own socket, over UDP or (--tcp) in
 * its own TCP connection with the 2-octet length prefix, and the answer is
 * awaited for a bounded time: 300 ms when nothing must come back, 2 s
 * otherwise. Every response is also held to the rules of 2.1 that hold for
 * all of them: ID copied, QR=1, OPCODE copied, Z=0, RA=0 (this version
 * never recurses), the question echoed byte for byte, every record within
 * the message, no octet after the last one, at most one OPT and only in
 * the additional section, our OPT with version 0, size 1232, no options,
 * EDNS flags 0 but DO copied, TC only on a NOERROR/NXDOMAIN answer that
 * then carries the question and OPT alone, and over UDP at most
 * min(max(512, EDNS size), 1232) octets.
 *
 * The names come from the fixture of tests/integration/300-rfc-cases
 * (zone cluster.local): web.shop (A + AAAA), api.shop (A only), alias.shop
 * (CNAME to web), dangling.shop (CNAME to a missing name), loop-a/loop-b
 * (a CNAME loop), mid.shop (40 A records) and big.shop (120 A records).
 *
 * Output: "ok ID", "FAIL ID: expected ..., got ...: why" or
 * "skip ID: reason" per case, then "dnscases: N passed, M failed, K
 * skipped". Exit status 0 if nothing failed, 1 if something did, 2 on a
 * usage or setup error. --write-corpus DIR writes each case's query bytes
 * to DIR/<ID> (the seed corpus of tests/fuzz/fuzz_answer.c) and exits. */
#include "svcdns/dname.h"
#include "svcdns/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DC_MSG_MAX       4200 /* the largest query (Z01) is 4,000 */
#define DC_RESP_MAX      65535
#define DC_RR_MAX        512
#define DC_WAIT_DROP_MS  300
#define DC_WAIT_REPLY_MS 2000
#define DC_WAIT_CLOSE_MS 2000 /* a bad frame must close the connection */
#define DC_WAIT_NEW_MS   1000 /* P08: a new client is answered within */
#define DC_ID_BASE       0xd000u
#define DC_APEX          "cluster.local"
#define DC_WHY_MAX       512
#define DC_DESC_MAX      256
#define DC_P08_CONNS     300
#define DC_P02_QUERIES   20

/* The header flag bits a case can expect (QR and OPCODE are checked for
 * every response, RCODE separately). */
#define F_AA  WIRE_FLAG_AA
#define F_TC  WIRE_FLAG_TC
#define F_RD  WIRE_FLAG_RD
#define F_RA  WIRE_FLAG_RA
#define F_Z   WIRE_FLAG_Z
#define F_AD  WIRE_FLAG_AD
#define F_CD  WIRE_FLAG_CD
#define F_ALL (F_AA | F_TC | F_RD | F_RA | F_Z | F_AD | F_CD)

/* ---- query bytes ------------------------------------------------------ */

/* The ID octets of every literal; the run stamps DC_ID_BASE + the case's
 * index there, so that every case has its own ID. */
#define ID0                         0, 0
#define HDR(f1, f2, qd, an, ns, ar) ID0, f1, f2, 0, qd, 0, an, 0, ns, 0, ar
#define RD                          0x01 /* RD in the first flag octet */
#define SVCZONE                                                              \
	3, 's', 'v', 'c', 7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', \
		'c', 'a', 'l', 0
#define SHOPZONE 4, 's', 'h', 'o', 'p', SVCZONE
#define APEX     7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0
/* web.shop.svc.cluster.local: 28 octets at offset 12. */
#define WEB  3, 'w', 'e', 'b', SHOPZONE
#define A_IN 0, 1, 0, 1
#define Q    WEB, A_IN
/* OPT: UDP size, extended rcode, version, flags, RDLENGTH. */
#define OPT(s1, s2, ext, ver, f1, f2, l1, l2) \
	0, 0, 41, s1, s2, ext, ver, f1, f2, l1, l2
#define OPT_1232 OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 0)
#define Z8       0, 0, 0, 0, 0, 0, 0, 0
#define Z32      Z8, Z8, Z8, Z8
/* TSIG (RFC 8945 4.2) by the key "." with hmac-sha256: a complete RDATA of
 * 61 octets (algorithm, time, fudge, MAC size + 32-octet MAC, original ID,
 * error, other length). */
#define TSIG_ALG 11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0
#define TSIG_RR                                                              \
	0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 61, TSIG_ALG, 0, 0, 0x65, 0, 0, 0, \
		0x01, 0x2c, 0, 32, Z32, 0xd0, 0x00, 0, 0, 0, 0

#define LIT(...)                                 \
	.pkt = (const uint8_t[]){ __VA_ARGS__ }, \
	.len = sizeof((const uint8_t[]){ __VA_ARGS__ })
#define OPTB(...)                                \
	.opt = (const uint8_t[]){ __VA_ARGS__ }, \
	.opt_len = sizeof((const uint8_t[]){ __VA_ARGS__ })

struct dc_msg {
	uint8_t b[DC_MSG_MAX];
	size_t n;
	bool overflow;
};

static void put(struct dc_msg *m, const void *p, size_t n)
{
	if (m->overflow || n > sizeof(m->b) - m->n) {
		m->overflow = true;
		return;
	}
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put8(struct dc_msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static void put16(struct dc_msg *m, uint16_t v)
{
	uint8_t b[2];

	wire_put_u16(b, v);
	put(m, b, 2);
}

static void put_hdr(struct dc_msg *m, uint16_t flags, uint16_t qd, uint16_t an,
                    uint16_t ns, uint16_t ar)
{
	put16(m, 0);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* A dotted name without escapes ("" or "." is the root). */
static void put_text_name(struct dc_msg *m, const char *text)
{
	const char *p = text;

	while (*p != '\0' && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > DNAME_MAXLABEL) {
			m->overflow = true;
			return;
		}
		put8(m, (uint8_t)n);
		put(m, p, n);
		p += n;
		if (*p == '.') {
			p++;
		}
	}
	put8(m, 0);
}

/* count labels of the given sizes, each filled with one letter. */
static void put_labels(struct dc_msg *m, const unsigned *sizes, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		put8(m, (uint8_t)sizes[i]);
		for (unsigned k = 0; k < sizes[i]; k++) {
			put8(m, (uint8_t)('a' + i % 26));
		}
	}
	put8(m, 0);
}

static void build_labels_query(struct dc_msg *m, const unsigned *sizes,
                               size_t count)
{
	put_hdr(m, 0, 1, 0, 0, 0);
	put_labels(m, sizes, count);
	put16(m, DNS_TYPE_A);
	put16(m, DNS_CLASS_IN);
}

/* N03: 5 labels of 63, a 321-octet name. */
static void build_n03(struct dc_msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 63, 63 };

	build_labels_query(m, sizes, 5);
}

/* N04: 63+63+63+61 octets of labels: 255 octets with the length octets and
 * the root. Not in our zones. */
static void build_n04(struct dc_msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 61 };

	build_labels_query(m, sizes, 4);
}

/* N05: one octet more than N04. */
static void build_n05(struct dc_msg *m)
{
	static const unsigned sizes[] = { 63, 63, 63, 62 };

	build_labels_query(m, sizes, 4);
}

/* N19: 127 one-octet labels (255 octets). */
static void build_n19(struct dc_msg *m)
{
	unsigned sizes[127];

	for (size_t i = 0; i < 127; i++) {
		sizes[i] = 1;
	}
	build_labels_query(m, sizes, 127);
}

/* The fixed part of a record owned by the root: type, class, TTL and
 * RDLENGTH (for an OPT, class is the UDP size and TTL the extended rcode,
 * version and flags). */
static void put_root_rr(struct dc_msg *m, uint16_t type, uint16_t rclass,
                        uint32_t ttl, uint16_t rdlen)
{
	put8(m, 0);
	put16(m, type);
	put16(m, rclass);
	put16(m, (uint16_t)(ttl >> 16));
	put16(m, (uint16_t)ttl);
	put16(m, rdlen);
}

/* web A with an OPT (1232) holding one option of olen octets (all fill). */
static void build_web_option(struct dc_msg *m, uint16_t code, size_t olen,
                             uint8_t fill)
{
	static const uint8_t q[] = { Q };

	put_hdr(m, 0, 1, 0, 0, 1);
	put(m, q, sizeof(q));
	put_root_rr(m, DNS_TYPE_OPT, WIRE_EDNS_ADVERTISE, 0,
	            (uint16_t)(olen + 4));
	put16(m, code);
	put16(m, (uint16_t)olen);
	for (size_t i = 0; i < olen; i++) {
		put8(m, fill);
	}
}

/* E20: a COOKIE option of 41 octets (RFC 7873 allows 8 or 16..40). */
static void build_e20(struct dc_msg *m)
{
	build_web_option(m, 10, 41, 0x5a);
}

/* E25: the padding option (RFC 7830) with 100 zero octets. */
static void build_e25(struct dc_msg *m)
{
	build_web_option(m, 12, 100, 0);
}

/* Z01: a 4,000-octet query, 3,900+ octets of it padding. */
static void build_z01(struct dc_msg *m)
{
	build_web_option(m, 12, 4000 - 44 - WIRE_OPT_LEN - 4, 0);
}

/* Z02: a 1,500-octet query whose OPT (EDNS version 1) comes after a TXT
 * record of 1,400 octets in the additional section: only a server that
 * reads the whole datagram, past any first buffer of 512 or 1,024
 * octets, finds it. */
static void build_z02(struct dc_msg *m)
{
	static const uint8_t q[] = { Q };

	put_hdr(m, 0, 1, 0, 0, 2);
	put(m, q, sizeof(q));
	put_root_rr(m, DNS_TYPE_TXT, DNS_CLASS_IN, 0, 1400);
	for (size_t i = 0; i < 1400; i += 200) {
		put8(m, 199);
		for (size_t k = 0; k < 199; k++) {
			put8(m, (uint8_t)('a' + k % 26));
		}
	}
	/* Extended rcode 0, version 1. */
	put_root_rr(m, DNS_TYPE_OPT, WIRE_EDNS_ADVERTISE, 0x00010000u, 0);
}

/* ---- expectations ----------------------------------------------------- */

enum dc_kind {
	DC_REPLY, /* a response, checked below */
	DC_DROP,  /* nothing within DC_WAIT_DROP_MS */
	DC_CLOSE, /* TCP: nothing, and the connection closed */
};

/* Extra checks. */
enum {
	X_OWNER_PTR = 1u << 0,   /* first answer owner is a pointer to 12 */
	X_ONLY_A = 1u << 1,      /* AN >= 1, every answer record an A */
	X_ONE_RRSET = 1u << 2,   /* unless TC: AN >= 1, all one type */
	X_SOA_NEG = 1u << 3,     /* one SOA in authority, TTL = min(TTL, MIN) */
	X_CNAME_A = 1u << 4,     /* answer = CNAME, then A records */
	X_CNAME_ONE = 1u << 5,   /* answer = one CNAME */
	X_CNAME_CHAIN = 1u << 6, /* answer = CNAMEs only, at most 8 */
};

#define RC(r) (1u << (r))

struct dc_expect {
	enum dc_kind kind;
	uint32_t rcodes;    /* a bit per accepted (extended) rcode */
	uint16_t flags;     /* the F_ bits expected set (others clear) */
	uint16_t flags_any; /* F_ bits not checked */
	int qd, an, ns, ar; /* -1: any */
	int opt;            /* 1: our OPT, 0: none, -1: either */
	size_t udp_max;     /* UDP size limit of this query; 0: 512 */
	size_t exact_len;   /* 0: not checked */
	size_t min_len;     /* 0: not checked */
	unsigned extra;     /* X_ */
	const char *text;   /* the table's Expected column, for the report */
};

#define EXP(rc, fl, q, a, n, r, o)                                    \
	.kind = DC_REPLY, .rcodes = RC(rc), .flags = (fl), .qd = (q), \
	.an = (a), .ns = (n), .ar = (r), .opt = (o)
#define EXP_DROP .kind = DC_DROP
/* The answer to web A: one A record, authoritative. */
#define EXP_WEB(fl, o) EXP(DNS_RCODE_NOERROR, F_AA | (fl), 1, 1, 0, o, o)
#define EXP_NODATA \
	EXP(DNS_RCODE_NOERROR, F_AA, 1, 0, 1, 0, 0), .extra = X_SOA_NEG
#define EXP_FORMERR(fl, q) EXP(DNS_RCODE_FORMERR, fl, q, 0, 0, 0, 0)
#define EXP_NOTIMP(q, o)   EXP(DNS_RCODE_NOTIMP, 0, q, 0, 0, o, o)
#define EXP_REFUSED(fl)    EXP(DNS_RCODE_REFUSED, fl, 1, 0, 0, 0, 0)

enum {
	DC_UDP = 1,
	DC_TCP = 2,
};

struct dc_case {
	const char *id;
	const char *input; /* the table's input column, shortened */
	/* The bytes: a literal, a builder, or a plain query from qname. */
	const uint8_t *pkt;
	size_t len;
	void (*build)(struct dc_msg *m);
	const char *qname;
	uint16_t qtype;
	uint16_t qclass; /* 0: IN */
	uint16_t hflags;
	const uint8_t *opt; /* appended with ARCOUNT 1 */
	size_t opt_len;
	bool edns_do;     /* the query's (valid) OPT has DO=1 */
	unsigned only;    /* DC_UDP or DC_TCP; 0: both */
	const char *skip; /* not run: why */
	struct dc_expect want;
	const struct dc_expect *want_tcp; /* NULL: as over UDP */
};

/* Over TCP, H01-H03 are a zero-length frame and frames too short for a
 * header: the connection is closed (RELIABILITY 2.2, last paragraph). */
static const struct dc_expect dc_tcp_close = {
	.kind = DC_CLOSE,
	.text = "connection closed, no answer",
};

static const struct dc_case dc_cases[] = {
	/* ---- header ---- */
	{ "H01", "empty datagram", .pkt = (const uint8_t[]){ 0 }, .len = 0,
	  .want = { EXP_DROP }, .want_tcp = &dc_tcp_close },
	{ "H02", "1-octet datagram", LIT(0xd0), .want = { EXP_DROP },
	  .want_tcp = &dc_tcp_close },
	{ "H03", "11-octet header", LIT(ID0, RD, 0, 0, 1, 0, 0, 0, 0, 0),
	  .want = { EXP_DROP }, .want_tcp = &dc_tcp_close },
	{ "H04", "QUERY, QDCOUNT=0, no OPT", LIT(HDR(RD, 0, 0, 0, 0, 0)),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "H05", "QR=1", LIT(HDR(0x80 | RD, 0, 1, 0, 0, 0), Q),
	  .want = { EXP_DROP } },
	{ "H06", "QDCOUNT=1, no question octets", LIT(HDR(RD, 0, 1, 0, 0, 0)),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "H07", "QDCOUNT=2, two questions", LIT(HDR(RD, 0, 2, 0, 0, 0), Q, Q),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "H08", "QDCOUNT=2, one question present",
	  LIT(HDR(RD, 0, 2, 0, 0, 0), Q), .want = { EXP_FORMERR(F_RD, 0) } },
	{ "H09", "ARCOUNT=1, additional section missing",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q), .want = { EXP_FORMERR(F_RD, 1) } },
	{ "H10", "ANCOUNT=1 with 3 garbage octets",
	  LIT(HDR(RD, 0, 1, 1, 0, 0), Q, 0xde, 0xad, 0xbe),
	  .want = { EXP_FORMERR(F_RD, 1) } },
	{ "H11", "4 octets after the question, counts satisfied",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), Q, 1, 2, 3, 4),
	  .want = { EXP_FORMERR(F_RD, 1) } },
	{ "H12", "QDCOUNT=65535, one question",
	  LIT(ID0, RD, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, Q),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "H13", "Z=1 in the query", LIT(HDR(RD, 0x40, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD, 0), .text = "normal answer; Z=0" } },
	{ "H14", "TC=1 in the query", LIT(HDR(0x02 | RD, 0, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD, 0), .text = "normal answer; TC=0" } },
	{ "H15", "AA=1, RA=1 in the query",
	  LIT(HDR(0x04 | RD, 0x80, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD, 0), .text = "normal answer; AA=1, RA=0" } },
	{ "H16", "AD=1, no EDNS", LIT(HDR(RD, 0x20, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD, 0), .text = "normal answer; AD=0" } },
	{ "H17", "CD=1", LIT(HDR(RD, 0x10, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD | F_CD, 0),
	            .text = "normal answer; CD copied" } },
	{ "H18", "RCODE=5 in the query", LIT(HDR(RD, 0x05, 1, 0, 0, 0), Q),
	  .want = { EXP_WEB(F_RD, 0),
	            .text = "normal answer (rcode ignored)" } },

	/* ---- opcodes: NOTIMP, every flag but QR clear, QD=0 ---- */
	{ "O01", "OPCODE 1 (IQUERY), RD=1",
	  LIT(HDR(0x08 | RD, 0, 1, 0, 0, 0), Q), .want = { EXP_NOTIMP(0, 0) } },
	{ "O02", "OPCODE 2 (STATUS), RD=1",
	  LIT(HDR(0x10 | RD, 0, 1, 0, 0, 0), Q), .want = { EXP_NOTIMP(0, 0) } },
	{ "O03", "OPCODE 3 (unassigned), RD=1, with a valid OPT",
	  LIT(HDR(0x18 | RD, 0, 1, 0, 0, 1), Q, OPT_1232),
	  .want = { EXP_NOTIMP(0, 1) } },
	{ "O04", "OPCODE 4 (NOTIFY) for cluster.local SOA, AA=1",
	  LIT(HDR(0x20 | 0x04, 0, 1, 0, 0, 0), APEX, 0, 6, 0, 1),
	  .want = { EXP_NOTIMP(0, 0) } },
	{ "O05", "OPCODE 5 (UPDATE): zone, one update RR",
	  LIT(HDR(0x28, 0, 1, 0, 1, 0), APEX, 0, 6, 0, 1, 3, 'n', 'e', 'w',
	      0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1),
	  .want = { EXP_NOTIMP(0, 0) } },
	{ "O06", "OPCODE 6 (DSO), header only", LIT(HDR(0x30, 0, 0, 0, 0, 0)),
	  .want = { EXP_NOTIMP(0, 0) } },
	{ "O07", "OPCODE 15, header only, every flag set",
	  LIT(ID0, 0x7f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0),
	  .want = { EXP_NOTIMP(0, 0) } },

	/* ---- names ---- */
	{ "N01", "label length octet 0x40",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0x40, 'a', 0, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N02", "label type 0x80",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0x80, 'a', 0, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N03", "name of 321 octets (5 labels of 63)", .build = build_n03,
	  .want = { EXP_FORMERR(0, 0) } },
	{ "N04", "name of exactly 255 octets, not in our zones",
	  .build = build_n04,
	  .want = { EXP_REFUSED(0), .exact_len = 271,
	            .text = "REFUSED, question echoed, 271 octets" } },
	{ "N05", "name of 256 octets", .build = build_n05,
	  .want = { EXP_FORMERR(0, 0) } },
	{ "N06", "pointer to itself (0xC00C at 12)",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x0c, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N07", "label, then a pointer back to the name's start",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 1, 'a', 0xc0, 0x0c, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N08", "forward pointer",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x0e, 0, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N09", "pointer past the end",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0xff, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N10", "pointer into the header (offset 2)",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 0xc0, 0x02, A_IN),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N11", "QNAME cut mid-label",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'w', 'e'),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N12", "QNAME without root label at the end",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'w', 'e', 'b'),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N13", "QNAME, then end (no QTYPE/QCLASS)",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), WEB), .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N14", "1 octet of QTYPE", LIT(HDR(RD, 0, 1, 0, 0, 0), WEB, 0),
	  .want = { EXP_FORMERR(F_RD, 0) } },
	{ "N15", "WeB.ShOp.SvC.ClUsTeR.LoCaL A",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'W', 'e', 'B', 4, 's', 'H', 'o', 'P',
	      3, 'S', 'v', 'C', 7, 'c', 'L', 'u', 'S', 't', 'E', 'r', 5, 'L',
	      'o', 'C', 'a', 'L', 0, A_IN),
	  .want = { EXP_WEB(F_RD, 0), .extra = X_OWNER_PTR,
	            .text = "NOERROR AA, question as sent, owner compressed to it" } },
	{ "N16", "NUL inside a label: w\\000b.shop.svc.cluster.local A",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 3, 'w', 0, 'b', SHOPZONE, A_IN),
	  .want = { EXP(DNS_RCODE_NXDOMAIN, F_AA | F_RD, 1, 0, 1, 0, 0),
	            .extra = X_SOA_NEG } },
	{ "N17", "'.' inside a label: web\\.shop.svc.cluster.local A",
	  LIT(HDR(RD, 0, 1, 0, 0, 0), 8, 'w', 'e', 'b', '.', 's', 'h', 'o', 'p',
	      SVCZONE, A_IN),
	  .want = { EXP(DNS_RCODE_NXDOMAIN, F_AA | F_RD, 1, 0, 1, 0, 0),
	            .extra = X_SOA_NEG } },
	{ "N18", ". NS, RD=0", .qname = ".", .qtype = DNS_TYPE_NS,
	  .want = { EXP_REFUSED(0) } },
	{ "N19", "127 one-octet labels (255 octets)", .build = build_n19,
	  .want = { EXP_REFUSED(0) } },
	{ "N20", "OPT owner is a pointer to the QNAME",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 0xc0, 0x0c, 0, 41, 0x04, 0xd0, 0, 0, 0,
	      0, 0, 0),
	  .want = { EXP_FORMERR(F_RD, 1), .text = "FORMERR, no OPT" } },

	/* ---- query types and classes ---- */
	{ "T01", "ANY for web (A and AAAA)",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_ANY,
	  .want = { EXP(DNS_RCODE_NOERROR, F_AA, 1, 1, 0, 0, 0),
	            .extra = X_ONLY_A | X_ONE_RRSET,
	            .text = "one RRset (A), AA" } },
	{ "T02", "AXFR cluster.local", .qname = DC_APEX, .qtype = DNS_TYPE_AXFR,
	  .want = { EXP_NOTIMP(1, 0) },
	  .want_tcp =
	          &(const struct dc_expect){
			  EXP_REFUSED(0), .text = "REFUSED over TCP (T02t)" } },
	{ "T02t", "AXFR cluster.local over TCP", .qname = DC_APEX,
	  .qtype = DNS_TYPE_AXFR, .only = DC_TCP, .want = { EXP_REFUSED(0) } },
	{ "T03", "IXFR cluster.local, no SOA in authority", .qname = DC_APEX,
	  .qtype = DNS_TYPE_IXFR, .want = { EXP_NOTIMP(1, 0) },
	  .want_tcp =
	          &(const struct dc_expect){
			  EXP_REFUSED(0),
			  .text = "REFUSED over TCP (section 4: no transfers)" } },
	{ "T04", "QTYPE 0", .qname = "web.shop.svc.cluster.local", .qtype = 0,
	  .want = { EXP_NODATA } },
	{ "T05", "QTYPE OPT (41)", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_OPT, .want = { EXP_FORMERR(0, 1) } },
	{ "T06", "QTYPE TSIG (250)", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_TSIG, .want = { EXP_FORMERR(0, 1) } },
	{ "T07", "QTYPE MAILB (253)", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_MAILB, .want = { EXP_NOTIMP(1, 0) } },
	{ "T08", "QTYPE 666", .qname = "web.shop.svc.cluster.local",
	  .qtype = 666, .want = { EXP_NODATA } },
	{ "T09", "RRSIG", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_RRSIG, .want = { EXP_NODATA } },
	{ "T10", "CH TXT version.bind", .qname = "version.bind",
	  .qtype = DNS_TYPE_TXT, .qclass = DNS_CLASS_CH,
	  .want = { EXP_REFUSED(0) } },
	{ "T11", "QCLASS ANY, web A", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A, .qclass = DNS_CLASS_ANY,
	  .want = { EXP_REFUSED(0) } },
	{ "T12", "QCLASS NONE, web A", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A, .qclass = DNS_CLASS_NONE,
	  .want = { EXP_REFUSED(0) } },
	{ "T13", "QCLASS 42, web A", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A, .qclass = 42, .want = { EXP_REFUSED(0) } },
	{ "T14", "example.com A, RD=0", .qname = "example.com",
	  .qtype = DNS_TYPE_A,
	  .want = { EXP_REFUSED(0), .text = "REFUSED, RA=0" } },
	{ "T15", "example.com A, RD=1 (no client may recurse here)",
	  .qname = "example.com", .qtype = DNS_TYPE_A, .hflags = F_RD,
	  .want = { EXP_REFUSED(F_RD),
	            .text = "REFUSED, RD=1, RA=0, nothing forwarded" } },
	{ "T15a", "example.com A, RD=1, client in the recursion ACL",
	  .qname = "example.com", .qtype = DNS_TYPE_A, .hflags = F_RD,
	  .skip = "forwarding is not in this version (--upstream none)" },
	{ "T16", "nosuch.shop.svc.cluster.local A",
	  .qname = "nosuch.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  .want = { EXP(DNS_RCODE_NXDOMAIN, F_AA, 1, 0, 1, 0, 0),
	            .extra = X_SOA_NEG } },
	{ "T17", "alias A (CNAME to web)",
	  .qname = "alias.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  .want = { EXP(DNS_RCODE_NOERROR, F_AA, 1, 2, 0, 0, 0),
	            .extra = X_CNAME_A } },
	{ "T17b", "dangling A (CNAME to a missing in-zone name)",
	  .qname = "dangling.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  .want = { EXP(DNS_RCODE_NXDOMAIN, F_AA, 1, 1, 1, 0, 0),
	            .extra = X_CNAME_ONE | X_SOA_NEG } },
	{ "T17c", "loop-a A (loop-a -> loop-b -> loop-a)",
	  .qname = "loop-a.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  .want = { .kind = DC_REPLY,
	            .rcodes = RC(DNS_RCODE_SERVFAIL) | RC(DNS_RCODE_NOERROR),
	            .flags_any = F_AA,
	            .qd = 1,
	            .an = -1,
	            .ns = -1,
	            .ar = 0,
	            .opt = 0,
	            .extra = X_CNAME_CHAIN,
	            .text = "SERVFAIL, or the chain up to 8 CNAMEs" } },
	{ "T18", "api AAAA (A only)", .qname = "api.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_AAAA, .want = { EXP_NODATA } },

	/* ---- EDNS ---- */
	{ "E01", "EDNS version 1", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A, OPTB(OPT(0x04, 0xd0, 0, 1, 0, 0, 0, 0)),
	  .want = { EXP(DNS_RCODE_BADVERS, 0, 1, 0, 0, 1, 1),
	            .text = "BADVERS, OPT version 0, AA=0" } },
	{ "E02", "two OPT RRs",
	  LIT(HDR(0, 0, 1, 0, 0, 2), Q, OPT_1232, OPT_1232),
	  .want = { EXP_FORMERR(0, 1), .text = "FORMERR, no OPT" } },
	{ "E03", "OPT owner 'a.'",
	  LIT(HDR(0, 0, 1, 0, 0, 1), Q, 1, 'a', 0, 0, 41, 0x04, 0xd0, 0, 0, 0,
	      0, 0, 0),
	  .want = { EXP_FORMERR(0, 1), .text = "FORMERR, no OPT" } },
	{ "E04", "OPT RDLENGTH 16, 2 octets left",
	  LIT(HDR(0, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 16), 0,
	      100),
	  .want = { EXP_FORMERR(0, 1), .text = "FORMERR, no OPT" } },
	{ "E05", "option length 10 in an 8-octet RDATA at the end",
	  LIT(HDR(0, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 8), 0,
	      100, 0, 10, 1, 2, 3, 4),
	  .want = { EXP_FORMERR(0, 1), .text = "FORMERR, no OPT" } },
	{ "E06", "OPT in the answer section",
	  LIT(HDR(0, 0, 1, 1, 0, 0), Q, OPT_1232),
	  .want = { EXP_FORMERR(0, 1) } },
	{ "E07", "OPT in the authority section",
	  LIT(HDR(0, 0, 1, 0, 1, 0), Q, OPT_1232),
	  .want = { EXP_FORMERR(0, 1) } },
	{ "E08", "EDNS size 0, mid A (about 700 octets)",
	  .qname = "mid.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0, 0, 0, 0, 0, 0, 0, 0)),
	  .want = { EXP(DNS_RCODE_NOERROR, F_AA | F_TC, 1, 0, 0, 1, 1),
	            .udp_max = 512,
	            .text = "size taken as 512: TC, question + OPT(1232)" },
	  .want_tcp =
	          &(const struct dc_expect){
			  EXP(DNS_RCODE_NOERROR, F_AA, 1, 40, 0, 1, 1),
			  .extra = X_ONLY_A,
			  .text = "the whole answer over TCP" } },
	{ "E09", "EDNS size 65535, big A (about 1.9 KB)",
	  .qname = "big.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0xff, 0xff, 0, 0, 0, 0, 0, 0)),
	  .want = { EXP(DNS_RCODE_NOERROR, F_AA | F_TC, 1, 0, 0, 1, 1),
	            .udp_max = 1232, .text = "response <= 1232: TC" },
	  .want_tcp =
	          &(const struct dc_expect){
			  EXP(DNS_RCODE_NOERROR, F_AA, 1, 120, 0, 1, 1),
			  .extra = X_ONLY_A, .min_len = 1233,
			  .text = "the whole answer over TCP" } },
	{ "E10", "unknown option 100", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 6), 0, 100, 0, 2, 0xaa, 0xbb),
	  .want = { EXP_WEB(0, 1), .text = "answer, option not echoed" } },
	{ "E11", "unknown EDNS flag 0x0080",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0x80, 0, 0)),
	  .want = { EXP_WEB(0, 1), .text = "answer, EDNS flags 0" } },
	{ "E12", "DO=1", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A, OPTB(OPT(0x04, 0xd0, 0, 0, 0x80, 0, 0, 0)),
	  .edns_do = true,
	  .want = { EXP_WEB(0, 1), .text = "answer, DO copied" } },
	{ "E13", "EDNS version 1 plus option 100",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 1, 0, 0, 0, 4), 0, 100, 0, 0),
	  .want = { EXP(DNS_RCODE_BADVERS, 0, 1, 0, 0, 1, 1) } },
	{ "E14", "ECS family 3", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 8), 0, 8, 0, 4, 0, 3, 0, 0),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR, no ECS" } },
	{ "E15", "ECS IPv4 source prefix 33",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 12), 0, 8, 0, 8, 0, 1, 33, 0, 10,
	       0, 0, 1),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR, no ECS" } },
	{ "E16", "ECS with SCOPE 24 in a query",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 11), 0, 8, 0, 7, 0, 1, 24, 24, 10,
	       0, 0),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR, no ECS" } },
	{ "E17", "ECS /8 with 4 address octets",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 12), 0, 8, 0, 8, 0, 1, 8, 0, 10,
	       0, 0, 1),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR, no ECS" } },
	{ "E18", "COOKIE of 7 octets", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 11), 0, 10, 0, 7, 1, 2, 3, 4, 5,
	       6, 7),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR (phase 1: no cookies)" } },
	{ "E19", "client COOKIE only (8 octets)",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 12), 0, 10, 0, 8, 1, 2, 3, 4, 5,
	       6, 7, 8),
	  .want = { EXP_WEB(0, 1), .text = "NOERROR, no COOKIE" } },
	{ "E20", "COOKIE of 41 octets", .build = build_e20,
	  .want = { EXP_WEB(0, 1), .text = "NOERROR (phase 1: no cookies)" } },
	{ "E21", "NSID request", .qname = "web.shop.svc.cluster.local",
	  .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 4), 0, 3, 0, 0),
	  .want = { EXP_WEB(0, 1),
	            .text = "NOERROR, no NSID (none configured)" } },
	{ "E22", "extended-rcode bits 5 in the query's OPT",
	  .qname = "web.shop.svc.cluster.local", .qtype = DNS_TYPE_A,
	  OPTB(OPT(0x04, 0xd0, 5, 0, 0, 0, 0, 0)),
	  .want = { EXP_WEB(0, 1), .text = "normal answer" } },
	{ "E23", "OPT RDLENGTH 6, its option 4+4 octets",
	  LIT(HDR(0, 0, 1, 0, 0, 1), Q, OPT(0x04, 0xd0, 0, 0, 0, 0, 0, 6), 0,
	      100, 0, 4, 1, 2, 3, 4),
	  .want = { EXP_FORMERR(0, 1), .text = "FORMERR, no OPT" } },
	{ "E24", "EDNS size 512, ANY at the apex", .qname = DC_APEX,
	  .qtype = DNS_TYPE_ANY, OPTB(OPT(0x02, 0x00, 0, 0, 0, 0, 0, 0)),
	  .want = { .kind = DC_REPLY,
	            .rcodes = RC(DNS_RCODE_NOERROR),
	            .flags = F_AA,
	            .flags_any = F_TC,
	            .qd = 1,
	            .an = -1,
	            .ns = -1,
	            .ar = -1,
	            .opt = 1,
	            .udp_max = 512,
	            .extra = X_ONE_RRSET,
	            .text = "<= 512 octets, or TC with question + OPT" },
	  .want_tcp =
	          &(const struct dc_expect){ .kind = DC_REPLY,
	                                     .rcodes = RC(DNS_RCODE_NOERROR),
	                                     .flags = F_AA,
	                                     .qd = 1,
	                                     .an = -1,
	                                     .ns = -1,
	                                     .ar = -1,
	                                     .opt = 1,
	                                     .extra = X_ONE_RRSET } },
	{ "E25", "padding option, 100 zero octets", .build = build_e25,
	  .want = { EXP_WEB(0, 1), .text = "answer, padding ignored" } },

	/* ---- TSIG ---- */
	{ "S01", "TSIG by the unknown key '.' (hmac-sha256)",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, TSIG_RR),
	  .skip = "TSIG (NOTAUTH/BADKEY with an unsigned TSIG) is not in this version" },
	{ "S02", "TSIG, then a valid OPT (TSIG not last)",
	  LIT(HDR(RD, 0, 1, 0, 0, 2), Q, TSIG_RR, OPT_1232),
	  .want = { EXP(DNS_RCODE_FORMERR, F_RD, 1, 0, 0, 1, 1),
	            .text = "FORMERR, with our OPT (R-FORMERR: the OPT is well-formed)" } },
	{ "S03", "TSIG in the answer section",
	  LIT(HDR(RD, 0, 1, 1, 0, 0), Q, TSIG_RR),
	  .want = { EXP_FORMERR(F_RD, 1) } },
	{ "S04", "TSIG with RDLENGTH 61, 15 octets present",
	  LIT(HDR(RD, 0, 1, 0, 0, 1), Q, 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 61,
	      TSIG_ALG, 0, 0),
	  .want = { EXP_FORMERR(F_RD, 1) } },

	/* ---- size ---- */
	{ "Z01", "4,000-octet query (OPT padding)", .build = build_z01,
	  .want = { EXP_WEB(0, 1), .udp_max = 1232, .text = "normal answer" } },
	{ "Z02", "1,500-octet query, OPT version 1 after a 1,400-octet TXT",
	  .build = build_z02,
	  .want = { EXP(DNS_RCODE_BADVERS, 0, 1, 0, 0, 1, 1),
	            .text = "BADVERS: the OPT at the end was read" } },
};

/* ---- the run ---------------------------------------------------------- */

struct dc_ctx {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *server;
	const char *port;
	bool tcp;
	bool verbose;
	const char *only; /* comma-separated IDs, or NULL */
	uint32_t apex_ttl;
	bool apex_known;
	unsigned pass;
	unsigned fail;
	unsigned skip;
	/* --session */
	unsigned idle_ms;
	unsigned io_ms;
	unsigned max_conns;
	unsigned threads;
	unsigned slack_ms;
	/* Waits, in ms, times --timeout-multiplier. */
	int w_drop;
	int w_reply;
	int w_close;
	int w_new; /* P08: a new client is answered within this */
	/* --upstream-sink: where the daemon would forward to; nothing may
	 * arrive there (no client of these tests may recurse; T15). */
	int sink_udp;
	int sink_tcp;
	uint8_t resp[DC_RESP_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
	uint64_t t = now_ms();

	return t >= deadline ? 0 : (int)(deadline - t);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
		               .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static bool id_selected(const char *only, const char *id)
{
	size_t n = strlen(id);
	const char *p = only;

	if (only == NULL) {
		return true;
	}
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, id, n) == 0) {
			return true;
		}
		p += len;
		if (*p == ',') {
			p++;
		}
	}
	return false;
}

/* Builds case c (index i) into m: its bytes with its own ID. */
static void case_bytes(const struct dc_case *c, size_t i, struct dc_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (c->build != NULL) {
		c->build(m);
	} else if (c->qname != NULL) {
		put_hdr(m, c->hflags, 1, 0, 0, c->opt != NULL ? 1 : 0);
		put_text_name(m, c->qname);
		put16(m, c->qtype);
		put16(m, c->qclass != 0 ? c->qclass : DNS_CLASS_IN);
		if (c->opt != NULL) {
			put(m, c->opt, c->opt_len);
		}
	} else {
		put(m, c->pkt, c->len);
	}
	if (m->n >= 2) {
		wire_put_u16(m->b, (uint16_t)(DC_ID_BASE + i));
	}
}

/* ---- response parsing (wire_rd: bounds-checked) ----------------------- */

struct dc_rr {
	unsigned section; /* 1 answer, 2 authority, 3 additional */
	size_t owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	size_t rdata;
	uint16_t rdlen;
};

struct dc_resp {
	const uint8_t *p;
	size_t len;
	uint16_t id;
	uint16_t flags;
	uint16_t qd, an, ns, ar;
	size_t qend; /* just past the question section */
	unsigned n_rr;
	struct dc_rr rr[DC_RR_MAX];
	int opt; /* index in rr of the OPT, or -1 */
	unsigned rcode;
};

static const char *const dc_section[] = { "?", "answer", "authority",
	                                  "additional" };

/* Parses p[0..len) as a response: header, questions, every record within
 * the message, no octet after the last. Returns false with why set. */
static bool resp_parse(struct dc_resp *r, const uint8_t *p, size_t len,
                       char *why, size_t whylen)
{
	struct wire_rd rd;
	uint8_t name[DNAME_MAXLEN];
	size_t nl;
	unsigned total;

	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
	r->opt = -1;
	if (len < WIRE_HEADER_LEN) {
		snprintf(why, whylen, "a %zu-octet response (no header)", len);
		return false;
	}
	wire_rd_init(&rd, p, len);
	r->id = wire_rd_u16(&rd);
	r->flags = wire_rd_u16(&rd);
	r->qd = wire_rd_u16(&rd);
	r->an = wire_rd_u16(&rd);
	r->ns = wire_rd_u16(&rd);
	r->ar = wire_rd_u16(&rd);
	r->rcode = r->flags & WIRE_RCODE_MASK;
	for (unsigned i = 0; i < r->qd; i++) {
		wire_rd_name(&rd, name, &nl, true);
		(void)wire_rd_u16(&rd);
		(void)wire_rd_u16(&rd);
		if (rd.err != 0) {
			snprintf(
				why, whylen,
				"question %u runs past the message or has a bad name",
				i + 1);
			return false;
		}
	}
	r->qend = rd.pos;
	total = (unsigned)r->an + r->ns + r->ar;
	if (total > DC_RR_MAX) {
		snprintf(why, whylen, "%u records (this checker reads %d)",
		         total, DC_RR_MAX);
		return false;
	}
	for (unsigned i = 0; i < total; i++) {
		struct dc_rr *rr = &r->rr[i];

		rr->section = i < r->an                     ? 1
		              : i < (unsigned)r->an + r->ns ? 2
		                                            : 3;
		rr->owner = rd.pos;
		wire_rd_name(&rd, name, &nl, true);
		rr->type = wire_rd_u16(&rd);
		rr->rclass = wire_rd_u16(&rd);
		rr->ttl = wire_rd_u32(&rd);
		rr->rdlen = wire_rd_u16(&rd);
		rr->rdata = rd.pos;
		wire_rd_bytes(&rd, NULL, rr->rdlen);
		if (rd.err != 0) {
			snprintf(
				why, whylen,
				"record %u (%s) runs past the message or has a bad owner",
				i + 1, dc_section[rr->section]);
			return false;
		}
		if (rr->type == DNS_TYPE_OPT) {
			if (rr->section != 3 || r->opt >= 0) {
				snprintf(why, whylen,
				         "an OPT in the %s section%s",
				         dc_section[rr->section],
				         r->opt >= 0 ? ", a second one" : "");
				return false;
			}
			r->opt = (int)i;
			r->rcode |= (rr->ttl >> 24) << 4;
		}
		r->n_rr++;
	}
	if (wire_rd_left(&rd) != 0) {
		snprintf(why, whylen, "%zu octets after the last record",
		         wire_rd_left(&rd));
		return false;
	}
	return true;
}

static const char *rcode_name(unsigned rcode, char *buf, size_t n)
{
	static const char *const names[] = { "NOERROR",  "FORMERR", "SERVFAIL",
		                             "NXDOMAIN", "NOTIMP",  "REFUSED" };

	if (rcode < SVCDNS_ARRAY_SIZE(names)) {
		return names[rcode];
	}
	if (rcode == DNS_RCODE_NOTAUTH) {
		return "NOTAUTH";
	}
	if (rcode == DNS_RCODE_BADVERS) {
		return "BADVERS";
	}
	snprintf(buf, n, "RCODE%u", rcode);
	return buf;
}

/* "qr aa rd" style, for the flag bits in mask. */
static void flags_text(uint16_t flags, bool qr, char *buf, size_t n)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} bits[] = { { F_AA, "aa" }, { F_TC, "tc" }, { F_RD, "rd" },
		     { F_RA, "ra" }, { F_Z, "z" },   { F_AD, "ad" },
		     { F_CD, "cd" } };
	size_t pos = 0;

	buf[0] = '\0';
	if (qr) {
		pos += (size_t)snprintf(buf, n, "qr");
	}
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(bits) && pos < n; i++) {
		if (flags & bits[i].bit) {
			pos += (size_t)snprintf(buf + pos, n - pos, "%s%s",
			                        pos ? " " : "", bits[i].name);
		}
	}
	if (pos == 0) {
		snprintf(buf, n, "none");
	}
}

static void count_text(char *buf, size_t n, const char *name, int v)
{
	if (v < 0) {
		snprintf(buf, n, " %s=*", name);
	} else {
		snprintf(buf, n, " %s=%d", name, v);
	}
}

static void expect_text(const struct dc_expect *e, char *buf, size_t n)
{
	char fl[64];
	char rc[16];
	char rcs[64] = "";
	char c[4][16];

	if (e->kind == DC_DROP) {
		snprintf(buf, n, "no response");
		return;
	}
	if (e->kind == DC_CLOSE) {
		snprintf(buf, n, "no response, connection closed");
		return;
	}
	for (unsigned r = 0; r < 32; r++) {
		size_t used = strlen(rcs);

		if (e->rcodes & RC(r)) {
			snprintf(rcs + used, sizeof(rcs) - used, "%s%s",
			         used ? "|" : "",
			         rcode_name(r, rc, sizeof(rc)));
		}
	}
	flags_text(e->flags, true, fl, sizeof(fl));
	count_text(c[0], sizeof(c[0]), "qd", e->qd);
	count_text(c[1], sizeof(c[1]), "an", e->an);
	count_text(c[2], sizeof(c[2]), "ns", e->ns);
	count_text(c[3], sizeof(c[3]), "ar", e->ar);
	snprintf(buf, n, "%s flags=%s%s%s%s%s%s %s%s%s%s", rcs, fl,
	         e->flags_any & F_TC ? " (tc any)" : "", c[0], c[1], c[2], c[3],
	         e->opt == 1   ? "OPT"
	         : e->opt == 0 ? "no-OPT"
	                       : "OPT?",
	         e->text ? " (" : "", e->text ? e->text : "",
	         e->text ? ")" : "");
}

static void resp_text(const struct dc_resp *r, char *buf, size_t n)
{
	char fl[64];
	char rc[16];
	char opt[64] = "no-OPT";

	flags_text(r->flags, (r->flags & WIRE_FLAG_QR) != 0, fl, sizeof(fl));
	if (r->opt >= 0) {
		const struct dc_rr *o = &r->rr[r->opt];

		snprintf(opt, sizeof(opt),
		         "OPT(size %u, version %u, flags 0x%04x, rdlen %u)",
		         o->rclass, (o->ttl >> 16) & 0xff, o->ttl & 0xffff,
		         o->rdlen);
	}
	snprintf(buf, n,
	         "%s flags=%s opcode=%u qd=%u an=%u ns=%u ar=%u %s, %zu octets",
	         rcode_name(r->rcode, rc, sizeof(rc)), fl,
	         (r->flags & WIRE_OPCODE_MASK) >> WIRE_OPCODE_SHIFT, r->qd,
	         r->an, r->ns, r->ar, opt, r->len);
}

/* The end of the query's question, by a walk of plain labels (the QNAME
 * never uses compression): 0 if the question does not parse. Independent
 * of wire.c on purpose: it decides what the echo must be. */
static size_t query_qend(const uint8_t *q, size_t len)
{
	size_t pos = WIRE_HEADER_LEN;

	if (len < WIRE_HEADER_LEN) {
		return 0;
	}
	while (pos < len && q[pos] != 0) {
		if (q[pos] > DNAME_MAXLABEL) {
			return 0;
		}
		pos += 1 + (size_t)q[pos];
	}
	if (pos >= len || pos + 1 - WIRE_HEADER_LEN > DNAME_MAXLEN ||
	    len - pos - 1 < 4) {
		return 0;
	}
	return pos + 1 + 4;
}

static bool fail_why(char *why, size_t n, const char *fmt, ...)
	SVCDNS_PRINTF(3, 4);

static bool fail_why(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return false;
}

static bool count_ok(int want, unsigned got)
{
	return want < 0 || (unsigned)want == got;
}

/* The answer records' types: all A (X_ONLY_A), all one type
 * (X_ONE_RRSET), CNAME then A (X_CNAME_A), one CNAME, or a CNAME chain. */
static bool check_answer_types(const struct dc_expect *e,
                               const struct dc_resp *r, char *why, size_t n)
{
	unsigned an = r->an;
	bool tc = (r->flags & WIRE_FLAG_TC) != 0;

	if ((e->extra & X_ONLY_A) != 0) {
		if (an == 0) {
			return fail_why(
				why, n,
				"no answer records, expected A records");
		}
		for (unsigned i = 0; i < an; i++) {
			if (r->rr[i].type != DNS_TYPE_A) {
				return fail_why(
					why, n,
					"answer record %u has type %u, expected A only",
					i + 1, r->rr[i].type);
			}
		}
	}
	if ((e->extra & X_ONE_RRSET) != 0 && !tc) {
		if (an == 0) {
			return fail_why(
				why, n,
				"no answer records, expected one RRset");
		}
		for (unsigned i = 1; i < an; i++) {
			if (r->rr[i].type != r->rr[0].type) {
				return fail_why(
					why, n,
					"answer has types %u and %u, expected one RRset (RFC 8482)",
					r->rr[0].type, r->rr[i].type);
			}
		}
	}
	if ((e->extra & X_CNAME_A) != 0) {
		if (an < 2 || r->rr[0].type != DNS_TYPE_CNAME) {
			return fail_why(
				why, n,
				"answer is not a CNAME followed by A records");
		}
		for (unsigned i = 1; i < an; i++) {
			if (r->rr[i].type != DNS_TYPE_A) {
				return fail_why(
					why, n,
					"answer record %u has type %u after the CNAME, expected A",
					i + 1, r->rr[i].type);
			}
		}
	}
	if ((e->extra & X_CNAME_ONE) != 0 &&
	    (an != 1 || r->rr[0].type != DNS_TYPE_CNAME)) {
		return fail_why(why, n, "answer is not exactly one CNAME");
	}
	if ((e->extra & X_CNAME_CHAIN) != 0) {
		if (an > 8) {
			return fail_why(why, n,
			                "a chain of %u records, more than 8",
			                an);
		}
		if (r->rcode == DNS_RCODE_NOERROR && an == 0) {
			return fail_why(why, n, "NOERROR without the chain");
		}
		for (unsigned i = 0; i < an; i++) {
			if (r->rr[i].type != DNS_TYPE_CNAME) {
				return fail_why(
					why, n,
					"answer record %u has type %u in a CNAME loop",
					i + 1, r->rr[i].type);
			}
		}
	}
	return true;
}

/* X_SOA_NEG: exactly one record in authority, the zone's SOA, with
 * TTL = min(SOA TTL, MINIMUM) (RFC 2308 3, 5). */
static bool check_soa_neg(const struct dc_ctx *cx, const struct dc_resp *r,
                          char *why, size_t n)
{
	const struct dc_rr *s;
	uint32_t minimum;
	uint32_t want;

	if (r->ns != 1) {
		return fail_why(why, n,
		                "%u authority records, expected the SOA",
		                r->ns);
	}
	s = &r->rr[r->an];
	if (s->type != DNS_TYPE_SOA || s->rdlen < 22) {
		return fail_why(why, n,
		                "authority record of type %u, expected SOA",
		                s->type);
	}
	if (!cx->apex_known) {
		return fail_why(
			why, n,
			"the apex SOA TTL is unknown (cluster.local SOA got no answer)");
	}
	minimum = wire_get_u32(r->p + s->rdata + s->rdlen - 4);
	want = cx->apex_ttl < minimum ? cx->apex_ttl : minimum;
	if (s->ttl != want) {
		return fail_why(
			why, n,
			"SOA TTL %u, expected min(SOA TTL %u, MINIMUM %u) = %u",
			s->ttl, cx->apex_ttl, minimum, want);
	}
	return true;
}

/* Our OPT: root owner, size 1232, version 0, EDNS flags 0 but DO copied,
 * no options (nothing echoed: no ECS, COOKIE, NSID or padding). */
static bool check_opt(const struct dc_resp *r, bool edns_do, char *why,
                      size_t n)
{
	const struct dc_rr *o = &r->rr[r->opt];
	uint16_t eflags = (uint16_t)(o->ttl & 0xffff);

	if (r->p[o->owner] != 0) {
		return fail_why(why, n, "OPT owner is not the root");
	}
	if (o->rclass != WIRE_EDNS_ADVERTISE) {
		return fail_why(why, n, "OPT UDP size %u, expected 1232",
		                o->rclass);
	}
	if (((o->ttl >> 16) & 0xff) != 0) {
		return fail_why(why, n, "OPT version %u, expected 0",
		                (o->ttl >> 16) & 0xff);
	}
	if ((eflags & ~WIRE_EDNS_FLAG_DO) != 0) {
		return fail_why(why, n, "EDNS flags 0x%04x, only DO may be set",
		                eflags);
	}
	if (((eflags & WIRE_EDNS_FLAG_DO) != 0) != edns_do) {
		return fail_why(why, n, "DO=%d, expected DO=%d (copied)",
		                (eflags & WIRE_EDNS_FLAG_DO) != 0, edns_do);
	}
	if (o->rdlen != 0) {
		return fail_why(
			why, n,
			"OPT carries %u octets of options, expected none",
			o->rdlen);
	}
	return true;
}

/* The rules every response obeys (2.1), then the case's expectation.
 * Returns true if the response is right; else why says what is not. */
static bool check_reply(const struct dc_ctx *cx, const struct dc_expect *e,
                        bool edns_do, const uint8_t *q, size_t qlen,
                        const struct dc_resp *r, bool tcp, char *why, size_t n)
{
	uint16_t mask = (uint16_t)(F_ALL & ~e->flags_any);
	size_t limit = e->udp_max ? e->udp_max : WIRE_UDP_MIN;
	bool tc = (r->flags & WIRE_FLAG_TC) != 0;
	size_t qe;

	if (qlen >= 2 && r->id != wire_get_u16(q)) {
		return fail_why(why, n, "ID 0x%04x, expected 0x%04x", r->id,
		                wire_get_u16(q));
	}
	if ((r->flags & WIRE_FLAG_QR) == 0) {
		return fail_why(why, n, "QR=0");
	}
	if (qlen >= 4 && (r->flags & WIRE_OPCODE_MASK) !=
	                         (wire_get_u16(q + 2) & WIRE_OPCODE_MASK)) {
		return fail_why(why, n, "OPCODE not copied");
	}
	if ((r->flags & F_Z) != 0) {
		return fail_why(why, n, "Z=1 in the response");
	}
	if ((e->rcodes & RC(r->rcode)) == 0) {
		return fail_why(why, n, "wrong rcode");
	}
	if ((r->flags & mask) != (e->flags & mask)) {
		char on[64];
		char off[64];
		uint16_t diff = (uint16_t)((r->flags ^ e->flags) & mask);

		flags_text((uint16_t)(diff & r->flags), false, on, sizeof(on));
		flags_text((uint16_t)(diff & ~r->flags), false, off,
		           sizeof(off));
		return fail_why(
			why, n,
			"header flags: set but expected clear: %s; clear but expected set: %s",
			on, off);
	}
	if (!count_ok(e->qd, r->qd) || !count_ok(e->an, r->an) ||
	    !count_ok(e->ns, r->ns) || !count_ok(e->ar, r->ar)) {
		static const char *const names[] = { "qd", "an", "ns", "ar" };
		const int want[] = { e->qd, e->an, e->ns, e->ar };
		const unsigned got[] = { r->qd, r->an, r->ns, r->ar };
		size_t k = 0;

		while (k < 3 && count_ok(want[k], got[k])) {
			k++;
		}
		return fail_why(why, n, "%s=%u, expected %d", names[k], got[k],
		                want[k]);
	}
	if (e->opt >= 0 && (r->opt >= 0) != (e->opt == 1)) {
		return fail_why(why, n,
		                r->opt >= 0 ? "an OPT it must not have"
		                            : "no OPT");
	}
	if (r->opt >= 0 && !check_opt(r, edns_do, why, n)) {
		return false;
	}
	if (r->qd > 1) {
		return fail_why(why, n, "QDCOUNT %u", r->qd);
	}
	if (r->qd == 1) {
		qe = query_qend(q, qlen);
		if (qe == 0) {
			return fail_why(
				why, n,
				"a question echoed for a query whose question does not parse");
		}
		if (r->qend != qe ||
		    memcmp(r->p + WIRE_HEADER_LEN, q + WIRE_HEADER_LEN,
		           qe - WIRE_HEADER_LEN) != 0) {
			return fail_why(
				why, n,
				"the question is not the query's, byte for byte");
		}
	}
	/* RFC 2181 9: TC only on a positive (or NXDOMAIN) answer, and then
	 * the question and OPT alone; never on an error. */
	if (tc &&
	    ((r->rcode != DNS_RCODE_NOERROR &&
	      r->rcode != DNS_RCODE_NXDOMAIN) ||
	     r->an != 0 || r->ns != 0 || r->ar != (r->opt >= 0 ? 1 : 0))) {
		return fail_why(
			why, n,
			"TC=1 on a response that is not question + OPT of an answer");
	}
	if (!tcp && (r->len > limit || r->len > WIRE_EDNS_ADVERTISE)) {
		return fail_why(why, n, "%zu octets over UDP, limit %zu",
		                r->len, limit);
	}
	if (e->exact_len != 0 && r->len != e->exact_len) {
		return fail_why(why, n, "%zu octets, expected %zu", r->len,
		                e->exact_len);
	}
	if (e->min_len != 0 && r->len < e->min_len) {
		return fail_why(why, n, "%zu octets, expected at least %zu",
		                r->len, e->min_len);
	}
	if ((e->extra & X_OWNER_PTR) != 0 &&
	    (r->an == 0 || r->p[r->rr[0].owner] != 0xc0 ||
	     r->p[r->rr[0].owner + 1] != WIRE_HEADER_LEN)) {
		return fail_why(
			why, n,
			"the answer owner is not compressed to the question (0xC00C)");
	}
	if (!check_answer_types(e, r, why, n)) {
		return false;
	}
	if ((e->extra & X_SOA_NEG) != 0 && !check_soa_neg(cx, r, why, n)) {
		return false;
	}
	return true;
}

/* ---- sockets ---------------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		return -errno;
	}
	return 0;
}

/* Connects a new non-blocking TCP socket within timeout_ms. Returns the fd
 * or a negative errno. */
static int tcp_open(const struct dc_ctx *cx, int timeout_ms)
{
	struct pollfd pfd;
	int fd = socket(cx->addr.ss_family, SOCK_STREAM, 0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0) {
		return -errno;
	}
	if (set_nonblock(fd) != 0) {
		goto out_close;
	}
	if (connect(fd, (const struct sockaddr *)&cx->addr, cx->addrlen) == 0) {
		return fd;
	}
	if (errno != EINPROGRESS) {
		err = -errno;
		goto out_err;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1) {
		err = -ETIMEDOUT;
		goto out_err;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
	    err != 0) {
		err = err != 0 ? -err : -errno;
		goto out_err;
	}
	return fd;
out_close:
	err = -errno;
out_err:
	close(fd);
	return err;
}

/* Writes all of buf before the deadline. Returns 0 or a negative errno. */
static int send_all(int fd, const uint8_t *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
		{
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, ms_left(deadline)) != 1) {
				return -ETIMEDOUT;
			}
		}
	}
	return 0;
}

/* Reads exactly n octets before the deadline. Returns 1, 0 on EOF before
 * any octet, or a negative errno (-ETIMEDOUT, -ECONNRESET, -EPIPE for EOF
 * in the middle). */
static int recv_exact(int fd, uint8_t *buf, size_t n, uint64_t deadline)
{
	size_t off = 0;

	while (off < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;
		int pr = poll(&pfd, 1, ms_left(deadline));

		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr != 1) {
			return -ETIMEDOUT;
		}
		got = recv(fd, buf + off, n - off, 0);
		if (got == 0) {
			return off == 0 ? 0 : -EPIPE;
		}
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				continue;
			}
			return -errno;
		}
		off += (size_t)got;
	}
	return 1;
}

/* One length-prefixed message. Returns 1 with *len set, 0 if the
 * connection closed before the message, or a negative errno. */
static int tcp_read_msg(int fd, uint8_t *buf, size_t cap, size_t *len,
                        uint64_t deadline)
{
	uint8_t pre[2];
	int r = recv_exact(fd, pre, 2, deadline);

	if (r != 1) {
		return r;
	}
	*len = wire_get_u16(pre);
	if (*len > cap) {
		return -EMSGSIZE;
	}
	r = recv_exact(fd, buf, *len, deadline);
	return r == 0 ? -EPIPE : r;
}

/* Waits until the peer closes fd. Returns 1 (closed: EOF or reset), 0 if
 * still open at the deadline, -1 if data came instead (*got octets). */
static int wait_closed(int fd, uint64_t deadline, size_t *got)
{
	uint8_t b[512];

	*got = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, ms_left(deadline));
		ssize_t n;

		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr != 1) {
			return *got ? -1 : 0;
		}
		n = recv(fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			return *got ? -1 : 1;
		}
		if (n > 0) {
			*got += (size_t)n;
		}
	}
}

/* One UDP exchange on a fresh socket: 1 with the response in cx->resp,
 * 0 when nothing came within wait_ms, or a negative errno. */
static int udp_exchange(struct dc_ctx *cx, const uint8_t *q, size_t qlen,
                        int wait_ms, size_t *rlen)
{
	int fd = socket(cx->addr.ss_family, SOCK_DGRAM, 0);
	uint64_t deadline = now_ms() + (uint64_t)wait_ms;
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)&cx->addr, cx->addrlen) != 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen) {
		ret = -errno;
		goto out_close;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, ms_left(deadline));
		ssize_t n;

		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr != 1) {
			break;
		}
		n = recv(fd, cx->resp, sizeof(cx->resp), 0);
		if (n >= 0) {
			*rlen = (size_t)n;
			ret = 1;
			break;
		}
		if (errno != EINTR && errno != EAGAIN) {
			ret = -errno; /* ECONNREFUSED: nothing listens */
			break;
		}
	}
out_close:
	close(fd);
	return ret;
}

/* One framed query on a fresh connection. Returns 1 with a response in
 * cx->resp, 0 if none came within wait_ms (*closed tells whether the
 * connection was closed), or a negative errno. */
static int tcp_exchange(struct dc_ctx *cx, const uint8_t *q, size_t qlen,
                        int wait_ms, size_t *rlen, bool *closed)
{
	uint8_t frame[2 + DC_MSG_MAX];
	uint64_t deadline = now_ms() + (uint64_t)wait_ms;
	int fd = tcp_open(cx, cx->w_reply);
	int r;

	*closed = false;
	if (fd < 0) {
		return fd;
	}
	wire_put_u16(frame, (uint16_t)qlen);
	memcpy(frame + 2, q, qlen);
	r = send_all(fd, frame, qlen + 2, deadline);
	if (r == 0) {
		r = tcp_read_msg(fd, cx->resp, sizeof(cx->resp), rlen,
		                 deadline);
		if (r == 0 || r == -ECONNRESET) {
			*closed = true;
			r = 0;
		} else if (r == -ETIMEDOUT) {
			r = 0;
		}
	} else if (r == -ECONNRESET || r == -EPIPE) {
		*closed = true;
		r = 0;
	}
	close(fd);
	return r;
}

/* A CLOSE expectation over TCP: the frame, then no data and EOF or reset
 * within cx->w_close. */
static bool tcp_expect_close(struct dc_ctx *cx, const uint8_t *q, size_t qlen,
                             char *got, size_t n)
{
	uint8_t frame[2 + DC_MSG_MAX];
	uint64_t t0 = now_ms();
	uint64_t deadline = t0 + (uint64_t)cx->w_close;
	int fd = tcp_open(cx, cx->w_reply);
	size_t octets = 0;
	int r;

	if (fd < 0) {
		snprintf(got, n, "connect failed: %s", strerror(-fd));
		return false;
	}
	wire_put_u16(frame, (uint16_t)qlen);
	memcpy(frame + 2, q, qlen);
	r = send_all(fd, frame, qlen + 2, deadline);
	if (r == 0) {
		r = wait_closed(fd, deadline, &octets);
	} else {
		r = 1; /* reset while we wrote: closed */
	}
	close(fd);
	if (r == 1) {
		snprintf(got, n, "closed after %u ms",
		         (unsigned)(now_ms() - t0));
		return true;
	}
	if (r < 0) {
		snprintf(got, n, "%zu octets of response", octets);
	} else {
		snprintf(got, n,
		         "connection still open after %d ms, no response",
		         cx->w_close);
	}
	return false;
}

/* ---- the upstream sink ------------------------------------------------ */

/* Binds UDP and TCP on 127.0.0.1:port, where the daemon under test is told
 * to forward (--upstream). Returns 0 or a negative errno. */
static int sink_open(struct dc_ctx *cx, unsigned port)
{
	struct sockaddr_in sin;
	int one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cx->sink_udp = socket(AF_INET, SOCK_DGRAM, 0);
	cx->sink_tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (cx->sink_udp < 0 || cx->sink_tcp < 0) {
		return -errno;
	}
	(void)setsockopt(cx->sink_tcp, SOL_SOCKET, SO_REUSEADDR, &one,
	                 sizeof(one));
	if (bind(cx->sink_udp, (const struct sockaddr *)&sin, sizeof(sin)) !=
	            0 ||
	    bind(cx->sink_tcp, (const struct sockaddr *)&sin, sizeof(sin)) !=
	            0 ||
	    listen(cx->sink_tcp, 16) != 0 || set_nonblock(cx->sink_udp) != 0 ||
	    set_nonblock(cx->sink_tcp) != 0) {
		return -errno;
	}
	return 0;
}

/* Datagrams and connections that reached the sink since the last call. */
static unsigned sink_drain(struct dc_ctx *cx)
{
	unsigned n = 0;

	if (cx->sink_udp < 0) {
		return 0;
	}
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t b[512];

		if (recv(cx->sink_udp, b, sizeof(b), 0) < 0) {
			break;
		}
		n++;
	}
	for (unsigned i = 0; i < 1000; i++) {
		int fd = accept(cx->sink_tcp, NULL, NULL);

		if (fd < 0) {
			break;
		}
		close(fd);
		n++;
	}
	return n;
}

/* ---- running the table ------------------------------------------------ */

static void report(struct dc_ctx *cx, const char *id, bool ok,
                   const char *expected, const char *got, const char *why)
{
	if (ok) {
		cx->pass++;
		if (cx->verbose) {
			printf("ok %s: %s\n", id, got);
		} else {
			printf("ok %s\n", id);
		}
		return;
	}
	cx->fail++;
	printf("FAIL %s: expected %s, got %s%s%s\n", id, expected, got,
	       why != NULL && why[0] ? ": " : "", why != NULL ? why : "");
}

/* Sends one query and judges what comes back against e. */
static void run_query(struct dc_ctx *cx, const char *id,
                      const struct dc_expect *e, bool edns_do, const uint8_t *q,
                      size_t qlen)
{
	char want[DC_DESC_MAX];
	char got[DC_WHY_MAX];
	char why[DC_WHY_MAX] = "";
	int wait = e->kind == DC_REPLY ? cx->w_reply : cx->w_drop;
	struct dc_resp *r = malloc(sizeof(*r));
	size_t rlen = 0;
	bool closed = false;
	unsigned up;
	bool ok;
	int x;

	expect_text(e, want, sizeof(want));
	if (r == NULL) {
		report(cx, id, false, want, "nothing", "out of memory");
		return;
	}
	if (cx->tcp && e->kind == DC_CLOSE) {
		ok = tcp_expect_close(cx, q, qlen, got, sizeof(got));
		report(cx, id, ok, want, got, NULL);
		goto out_free;
	}
	x = cx->tcp ? tcp_exchange(cx, q, qlen, wait, &rlen, &closed)
	            : udp_exchange(cx, q, qlen, wait, &rlen);
	up = sink_drain(cx);
	if (up != 0) {
		snprintf(got, sizeof(got),
		         "%u packets or connections at the upstream", up);
		report(cx, id, false, want, got,
		       "a query was forwarded though no client may recurse");
		goto out_free;
	}
	if (x < 0) {
		snprintf(got, sizeof(got), "an error: %s", strerror(-x));
		report(cx, id, false, want, got, NULL);
		goto out_free;
	}
	if (x == 0) {
		snprintf(got, sizeof(got), "no response within %d ms%s", wait,
		         closed ? " (connection closed)" : "");
		report(cx, id, e->kind != DC_REPLY, want, got, NULL);
		goto out_free;
	}
	if (!resp_parse(r, cx->resp, rlen, why, sizeof(why))) {
		snprintf(got, sizeof(got), "a malformed %zu-octet response",
		         rlen);
		report(cx, id, false, want, got, why);
		goto out_free;
	}
	resp_text(r, got, sizeof(got));
	if (e->kind != DC_REPLY) {
		report(cx, id, false, want, got, NULL);
		goto out_free;
	}
	ok = check_reply(cx, e, edns_do, q, qlen, r, cx->tcp, why, sizeof(why));
	report(cx, id, ok, want, got, why);
out_free:
	free(r);
}

/* Learns the apex SOA's TTL (for the negative-answer TTL rule). */
static void learn_apex(struct dc_ctx *cx)
{
	struct dc_msg m;
	struct dc_resp *r = malloc(sizeof(*r));
	char why[DC_WHY_MAX];
	size_t rlen = 0;
	bool closed;
	int x;

	if (r == NULL) {
		return;
	}
	memset(&m, 0, sizeof(m));
	put_hdr(&m, 0, 1, 0, 0, 0);
	put_text_name(&m, DC_APEX);
	put16(&m, DNS_TYPE_SOA);
	put16(&m, DNS_CLASS_IN);
	wire_put_u16(m.b, 0xcfff);
	x = cx->tcp ? tcp_exchange(cx, m.b, m.n, cx->w_reply, &rlen, &closed)
	            : udp_exchange(cx, m.b, m.n, cx->w_reply, &rlen);
	if (x == 1 && resp_parse(r, cx->resp, rlen, why, sizeof(why)) &&
	    r->rcode == DNS_RCODE_NOERROR && r->an >= 1 &&
	    r->rr[0].type == DNS_TYPE_SOA) {
		cx->apex_ttl = r->rr[0].ttl;
		cx->apex_known = true;
	} else {
		printf("# warning: no answer to %s SOA: negative-answer TTLs cannot be checked\n",
		       DC_APEX);
	}
	free(r);
}

static void run_table(struct dc_ctx *cx)
{
	learn_apex(cx);
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(dc_cases); i++) {
		const struct dc_case *c = &dc_cases[i];
		unsigned tr = cx->tcp ? DC_TCP : DC_UDP;
		const struct dc_expect *e = &c->want;
		struct dc_msg m;

		if (!id_selected(cx->only, c->id)) {
			continue;
		}
		if (c->skip != NULL) {
			printf("skip %s: %s\n", c->id, c->skip);
			cx->skip++;
			continue;
		}
		if (c->only != 0 && c->only != tr) {
			printf("skip %s: a %s-only case\n", c->id,
			       c->only == DC_TCP ? "TCP" : "UDP");
			cx->skip++;
			continue;
		}
		if (cx->tcp && c->want_tcp != NULL) {
			e = c->want_tcp;
		}
		case_bytes(c, i, &m);
		if (m.overflow) {
			printf("FAIL %s: the case's bytes do not build\n",
			       c->id);
			cx->fail++;
			continue;
		}
		run_query(cx, c->id, e, c->edns_do, m.b, m.n);
	}
}

/* ---- TCP session cases (RELIABILITY 2.3) ------------------------------ */

/* web A, no OPT: the query the session cases send. */
static size_t web_query(uint8_t *buf, uint16_t id)
{
	static const uint8_t q[] = { HDR(0, 0, 1, 0, 0, 0), Q };

	memcpy(buf, q, sizeof(q));
	wire_put_u16(buf, id);
	return sizeof(q);
}

static const struct dc_expect dc_web_answer = { EXP_WEB(0, 0),
	                                        .text = "web A answered" };

/* Judges one response to a web query. */
static bool judge_web(const struct dc_ctx *cx, const uint8_t *q, size_t qlen,
                      const uint8_t *resp, size_t rlen, bool tcp, char *why,
                      size_t n)
{
	struct dc_resp *r = malloc(sizeof(*r));
	bool ok;

	if (r == NULL) {
		return fail_why(why, n, "out of memory");
	}
	ok = resp_parse(r, resp, rlen, why, n) &&
	     check_reply(cx, &dc_web_answer, false, q, qlen, r, tcp, why, n);
	free(r);
	return ok;
}

/* Sends one framed web query on fd and reads the answer by the deadline. */
static bool tcp_web(struct dc_ctx *cx, int fd, uint16_t id, uint64_t deadline,
                    char *why, size_t n)
{
	uint8_t frame[2 + 64];
	size_t qlen = web_query(frame + 2, id);
	size_t rlen = 0;
	int r;

	wire_put_u16(frame, (uint16_t)qlen);
	r = send_all(fd, frame, qlen + 2, deadline);
	if (r != 0) {
		return fail_why(why, n, "writing the query: %s", strerror(-r));
	}
	r = tcp_read_msg(fd, cx->resp, sizeof(cx->resp), &rlen, deadline);
	if (r != 1) {
		return fail_why(why, n, "no answer: %s",
		                r == 0 ? "connection closed" : strerror(-r));
	}
	return judge_web(cx, frame + 2, qlen, cx->resp, rlen, true, why, n);
}

/* Waits for the close of fd, due within bound_ms from now. */
static bool expect_closed_within(int fd, unsigned bound_ms, const char *what,
                                 char *why, size_t n)
{
	uint64_t t0 = now_ms();
	size_t got = 0;
	int r = wait_closed(fd, t0 + bound_ms, &got);
	unsigned took = (unsigned)(now_ms() - t0);

	if (r == 1) {
		snprintf(why, n, "%s: closed after %u ms (bound %u ms)", what,
		         took, bound_ms);
		return true;
	}
	if (r < 0) {
		return fail_why(why, n,
		                "%s: %zu unexpected octets instead of a close",
		                what, got);
	}
	return fail_why(why, n, "%s: still open after %u ms", what, bound_ms);
}

/* P01: a zero-length frame, then a valid query: closed, no answer. */
static bool p01(struct dc_ctx *cx, char *why, size_t n)
{
	uint8_t buf[4 + 64] = { 0, 0 };
	size_t qlen = web_query(buf + 4, 0xe001);
	int fd = tcp_open(cx, cx->w_reply);
	bool ok;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	wire_put_u16(buf + 2, (uint16_t)qlen);
	if (send_all(fd, buf, qlen + 4, now_ms() + (uint64_t)cx->w_reply) !=
	    0) {
		close(fd);
		snprintf(why, n, "reset while writing");
		return true;
	}
	ok = expect_closed_within(fd, (unsigned)cx->w_close,
	                          "zero-length frame", why, n);
	close(fd);
	return ok;
}

/* P02: 20 framed queries in one write: 20 answers, IDs matching (any
 * order). */
static bool p02(struct dc_ctx *cx, char *why, size_t n)
{
	uint8_t buf[DC_P02_QUERIES * 66];
	uint8_t q[64];
	size_t qlen = 0;
	size_t len = 0;
	uint32_t seen = 0;
	uint64_t deadline = now_ms() + (uint64_t)cx->w_reply;
	int fd = tcp_open(cx, cx->w_reply);
	bool ok = false;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	for (unsigned i = 0; i < DC_P02_QUERIES; i++) {
		qlen = web_query(buf + len + 2, (uint16_t)(0xe100 + i));
		wire_put_u16(buf + len, (uint16_t)qlen);
		len += 2 + qlen;
	}
	if (send_all(fd, buf, len, deadline) != 0) {
		fail_why(why, n, "writing 20 queries failed");
		goto out_close;
	}
	for (unsigned i = 0; i < DC_P02_QUERIES; i++) {
		size_t rlen = 0;
		unsigned k;
		int r = tcp_read_msg(fd, cx->resp, sizeof(cx->resp), &rlen,
		                     deadline);

		if (r != 1) {
			fail_why(why, n, "%u answers, then %s", i,
			         r == 0 ? "the connection closed"
			                : strerror(-r));
			goto out_close;
		}
		k = rlen >= 2 ? wire_get_u16(cx->resp) - 0xe100u : 99u;
		if (k >= DC_P02_QUERIES || (seen & (1u << k)) != 0) {
			fail_why(why, n,
			         "answer %u has an unexpected or repeated ID",
			         i + 1);
			goto out_close;
		}
		seen |= 1u << k;
		web_query(q, (uint16_t)(0xe100 + k));
		if (!judge_web(cx, q, qlen, cx->resp, rlen, true, why, n)) {
			goto out_close;
		}
	}
	snprintf(why, n, "20 answers, all IDs matched");
	ok = true;
out_close:
	close(fd);
	return ok;
}

/* P03: one query written 1 octet every 10 ms: 1 answer. */
static bool p03(struct dc_ctx *cx, char *why, size_t n)
{
	uint8_t frame[2 + 64];
	size_t qlen = web_query(frame + 2, 0xe003);
	size_t rlen = 0;
	int one = 1;
	int fd = tcp_open(cx, cx->w_reply);
	bool ok = false;
	int r;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	wire_put_u16(frame, (uint16_t)qlen);
	for (size_t i = 0; i < qlen + 2; i++) {
		if (send_all(fd, frame + i, 1,
		             now_ms() + (uint64_t)cx->w_reply) != 0) {
			fail_why(why, n, "closed after %zu octets", i);
			goto out_close;
		}
		sleep_ms(10);
	}
	r = tcp_read_msg(fd, cx->resp, sizeof(cx->resp), &rlen,
	                 now_ms() + (uint64_t)cx->w_reply);
	if (r != 1) {
		fail_why(why, n, "no answer: %s",
		         r == 0 ? "connection closed" : strerror(-r));
		goto out_close;
	}
	ok = judge_web(cx, frame + 2, qlen, cx->resp, rlen, true, why, n);
	if (ok) {
		snprintf(why, n, "%zu octets at 10 ms each, answered",
		         qlen + 2);
	}
out_close:
	close(fd);
	return ok;
}

/* P04: connect, send nothing: closed within the idle timeout. */
static bool p04(struct dc_ctx *cx, char *why, size_t n)
{
	int fd = tcp_open(cx, cx->w_reply);
	bool ok;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	ok = expect_closed_within(fd, cx->idle_ms + cx->slack_ms,
	                          "silent connection", why, n);
	close(fd);
	return ok;
}

/* P05: one answer, then idle: closed within the idle timeout. */
static bool p05(struct dc_ctx *cx, char *why, size_t n)
{
	int fd = tcp_open(cx, cx->w_reply);
	bool ok;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	ok = tcp_web(cx, fd, 0xe005, now_ms() + (uint64_t)cx->w_reply, why,
	             n) &&
	     expect_closed_within(fd, cx->idle_ms + cx->slack_ms,
	                          "idle after one answer", why, n);
	close(fd);
	return ok;
}

/* P06 (1 octet of the length prefix) and P07 (length 64, 10 octets): an
 * incomplete message is closed within the I/O timeout. */
static bool p_partial(struct dc_ctx *cx, const uint8_t *b, size_t len,
                      const char *what, char *why, size_t n)
{
	int fd = tcp_open(cx, cx->w_reply);
	bool ok;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	if (send_all(fd, b, len, now_ms() + (uint64_t)cx->w_reply) != 0) {
		close(fd);
		return fail_why(why, n, "write failed");
	}
	ok = expect_closed_within(fd, cx->io_ms + cx->slack_ms, what, why, n);
	close(fd);
	return ok;
}

static bool p06(struct dc_ctx *cx, char *why, size_t n)
{
	static const uint8_t b[] = { 0 };

	return p_partial(cx, b, sizeof(b), "1 octet of length", why, n);
}

static bool p07(struct dc_ctx *cx, char *why, size_t n)
{
	static const uint8_t b[] = {
		0, 64, 0xe0, 0x07, 0, 0, 0, 1, 0, 0, 0, 0
	};

	return p_partial(cx, b, sizeof(b), "length 64, 10 octets", why, n);
}

/* Counts the connections among fds that the server closed. */
static unsigned count_closed(int *fds, unsigned nfds)
{
	unsigned closed = 0;

	for (unsigned i = 0; i < nfds; i++) {
		size_t got = 0;

		if (fds[i] >= 0 && wait_closed(fds[i], now_ms(), &got) == 1) {
			closed++;
			close(fds[i]);
			fds[i] = -1;
		}
	}
	return closed;
}

/* P08: 300 idle connections, then a new client: answered within 1 s, UDP
 * answered too, and the oldest idle connections evicted. */
static bool p08(struct dc_ctx *cx, char *why, size_t n)
{
	int fds[DC_P08_CONNS];
	unsigned opened = 0;
	unsigned closed;
	unsigned want_closed = 0;
	uint8_t q[64];
	size_t qlen;
	size_t rlen = 0;
	uint64_t t0;
	unsigned took;
	bool ok = false;
	int fd;
	int x;

	for (unsigned i = 0; i < DC_P08_CONNS; i++) {
		fds[i] = tcp_open(cx, cx->w_reply);
		if (fds[i] < 0) {
			fail_why(why, n, "idle connection %u: %s", i + 1,
			         strerror(-fds[i]));
			goto out_close;
		}
		opened++;
	}
	sleep_ms(100); /* let the server accept them all */
	t0 = now_ms();
	fd = tcp_open(cx, cx->w_new);
	if (fd < 0) {
		fail_why(why, n, "new client: connect: %s", strerror(-fd));
		goto out_close;
	}
	ok = tcp_web(cx, fd, 0xe008, t0 + (uint64_t)cx->w_new, why, n);
	took = (unsigned)(now_ms() - t0);
	close(fd);
	if (!ok) {
		fail_why(why + strlen(why), n - strlen(why),
		         " (new client, %u idle connections open, bound %d ms)",
		         opened, cx->w_new);
		goto out_close;
	}
	ok = false;
	qlen = web_query(q, 0xe018);
	x = udp_exchange(cx, q, qlen, cx->w_new, &rlen);
	if (x != 1 || !judge_web(cx, q, qlen, cx->resp, rlen, false, why, n)) {
		if (x != 1) {
			fail_why(
				why, n,
				"UDP not answered within %d ms with the connections open",
				cx->w_new);
		}
		goto out_close;
	}
	sleep_ms(200);
	closed = count_closed(fds, opened);
	if (cx->max_conns != 0) {
		unsigned cap = cx->max_conns * (cx->threads ? cx->threads : 1);

		want_closed = DC_P08_CONNS > cap ? DC_P08_CONNS - cap : 0;
	}
	if (closed < want_closed) {
		fail_why(
			why, n,
			"%u of %u idle connections evicted, expected at least %u (cap %u x %u threads)",
			closed, DC_P08_CONNS, want_closed, cx->max_conns,
			cx->threads);
		goto out_close;
	}
	snprintf(
		why, n,
		"new client answered in %u ms, UDP answered, %u of %u idle connections evicted",
		took, closed, DC_P08_CONNS);
	ok = true;
out_close:
	for (unsigned i = 0; i < opened; i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	return ok;
}

/* P09: an answer over 1232 octets: over UDP TC=1 with the question and OPT
 * only; over TCP the whole answer. */
static bool p09(struct dc_ctx *cx, char *why, size_t n)
{
	const struct dc_case c = { .qname = "big.shop.svc.cluster.local",
		                   .qtype = DNS_TYPE_A,
		                   OPTB(OPT_1232) };
	static const struct dc_expect udp = { EXP(DNS_RCODE_NOERROR,
		                                  F_AA | F_TC, 1, 0, 0, 1, 1),
		                              .udp_max = 1232 };
	static const struct dc_expect tcp = {
		EXP(DNS_RCODE_NOERROR, F_AA, 1, 120, 0, 1, 1),
		.extra = X_ONLY_A, .min_len = 1233
	};
	struct dc_resp *r = malloc(sizeof(*r));
	struct dc_msg m;
	size_t rlen = 0;
	size_t ulen = 0;
	bool closed;
	bool ok = false;
	int x;

	if (r == NULL) {
		return fail_why(why, n, "out of memory");
	}
	case_bytes(&c, 0x109, &m);
	x = udp_exchange(cx, m.b, m.n, cx->w_reply, &rlen);
	if (x != 1) {
		fail_why(why, n, "UDP: no answer");
		goto out_free;
	}
	if (!resp_parse(r, cx->resp, rlen, why, n) ||
	    !check_reply(cx, &udp, false, m.b, m.n, r, false, why, n)) {
		char got[DC_DESC_MAX];

		resp_text(r, got, sizeof(got));
		fail_why(why + strlen(why), n - strlen(why), " (UDP got %s)",
		         got);
		goto out_free;
	}
	ulen = rlen;
	x = tcp_exchange(cx, m.b, m.n, cx->w_reply, &rlen, &closed);
	if (x != 1) {
		fail_why(why, n, "TCP: no answer");
		goto out_free;
	}
	if (!resp_parse(r, cx->resp, rlen, why, n) ||
	    !check_reply(cx, &tcp, false, m.b, m.n, r, true, why, n)) {
		goto out_free;
	}
	snprintf(why, n,
	         "UDP %zu octets with TC, TCP %zu octets with %u records", ulen,
	         rlen, r->an);
	ok = true;
out_free:
	free(r);
	return ok;
}

/* P10: the client half-closes after its query: answered, then closed. */
static bool p10(struct dc_ctx *cx, char *why, size_t n)
{
	uint8_t frame[2 + 64];
	size_t qlen = web_query(frame + 2, 0xe010);
	size_t rlen = 0;
	uint64_t deadline = now_ms() + (uint64_t)cx->w_reply;
	int fd = tcp_open(cx, cx->w_reply);
	bool ok = false;
	int r;

	if (fd < 0) {
		return fail_why(why, n, "connect: %s", strerror(-fd));
	}
	wire_put_u16(frame, (uint16_t)qlen);
	if (send_all(fd, frame, qlen + 2, deadline) != 0 ||
	    shutdown(fd, SHUT_WR) != 0) {
		fail_why(why, n, "write or shutdown failed");
		goto out_close;
	}
	r = tcp_read_msg(fd, cx->resp, sizeof(cx->resp), &rlen, deadline);
	if (r != 1) {
		fail_why(why, n, "no answer after the half-close: %s",
		         r == 0 ? "connection closed" : strerror(-r));
		goto out_close;
	}
	if (!judge_web(cx, frame + 2, qlen, cx->resp, rlen, true, why, n)) {
		goto out_close;
	}
	ok = expect_closed_within(fd, (unsigned)cx->w_close, "answered, then",
	                          why, n);
out_close:
	close(fd);
	return ok;
}

struct dc_session_case {
	const char *id;
	const char *expected;
	bool (*run)(struct dc_ctx *cx, char *why, size_t n);
	const char *skip;
};

static const struct dc_session_case dc_session[] = {
	{ "P01", "connection closed, no answer", p01, NULL },
	{ "P02", "20 answers with matching IDs", p02, NULL },
	{ "P03", "1 answer", p03, NULL },
	{ "P04", "closed within the idle timeout", p04, NULL },
	{ "P05", "closed within the idle timeout after the answer", p05, NULL },
	{ "P06", "closed within the I/O timeout", p06, NULL },
	{ "P07", "closed within the I/O timeout", p07, NULL },
	{ "P08",
	  "new client answered within 1 s, UDP unaffected, oldest evicted", p08,
	  NULL },
	{ "P09", "UDP TC=1 with question + OPT, TCP the whole answer", p09,
	  NULL },
	{ "P10", "answer written, then closed", p10, NULL },
	{ "P11", "never produced", NULL,
	  "a TCP answer over 65,535 octets is not possible with this data" },
};

static void run_session(struct dc_ctx *cx)
{
	cx->tcp = true;
	learn_apex(cx);
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(dc_session); i++) {
		const struct dc_session_case *s = &dc_session[i];
		char why[DC_WHY_MAX] = "";
		bool ok;

		if (!id_selected(cx->only, s->id)) {
			continue;
		}
		if (s->skip != NULL) {
			printf("skip %s: %s\n", s->id, s->skip);
			cx->skip++;
			continue;
		}
		ok = s->run(cx, why, sizeof(why));
		if (ok) {
			cx->pass++;
			printf("ok %s: %s\n", s->id, why);
		} else {
			cx->fail++;
			printf("FAIL %s: expected %s, got: %s\n", s->id,
			       s->expected, why);
		}
		fflush(stdout);
	}
}

/* ---- corpus, options, main -------------------------------------------- */

static int write_corpus(const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "dnscases: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(dc_cases); i++) {
		char path[4096];
		struct dc_msg m;
		FILE *f;

		case_bytes(&dc_cases[i], i, &m);
		if (m.overflow ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     dc_cases[i].id) >= sizeof(path)) {
			fprintf(stderr, "dnscases: %s: cannot build\n",
			        dc_cases[i].id);
			return 2;
		}
		f = fopen(path, "wb");
		if (f == NULL || fwrite(m.b, 1, m.n, f) != m.n) {
			fprintf(stderr, "dnscases: %s: %s\n", path,
			        strerror(errno));
			if (f != NULL) {
				fclose(f);
			}
			return 2;
		}
		if (fclose(f) != 0) {
			fprintf(stderr, "dnscases: %s: %s\n", path,
			        strerror(errno));
			return 2;
		}
	}
	printf("dnscases: wrote %zu cases to %s\n", SVCDNS_ARRAY_SIZE(dc_cases),
	       dir);
	return 0;
}

static void list_cases(void)
{
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(dc_cases); i++) {
		char want[DC_DESC_MAX];

		expect_text(&dc_cases[i].want, want, sizeof(want));
		printf("%-5s %s -> %s%s\n", dc_cases[i].id, dc_cases[i].input,
		       dc_cases[i].skip ? "skip: " : "",
		       dc_cases[i].skip ? dc_cases[i].skip : want);
	}
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: dnscases --server ADDR --port N [--tcp] [--only ID,...] [--verbose]\n"
	        "       dnscases --server ADDR --port N --session [--idle-ms MS] [--io-ms MS]\n"
	        "                [--max-conns N] [--threads N] [--slack-ms MS] [--only P01,...]\n"
	        "       dnscases --write-corpus DIR | --list\n"
	        "       (any run: --timeout-multiplier N scales every wait;\n"
	        "        --upstream-sink PORT fails a case that reaches 127.0.0.1:PORT)\n");
}

static bool parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > 600000) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static int resolve(struct dc_ctx *cx)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	int err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(cx->server, cx->port, &hints, &res);
	if (err != 0 || res == NULL) {
		fprintf(stderr, "dnscases: %s port %s: %s\n", cx->server,
		        cx->port, gai_strerror(err));
		return -1;
	}
	memcpy(&cx->addr, res->ai_addr, res->ai_addrlen);
	cx->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int main(int argc, char **argv)
{
	static struct dc_ctx cx;
	const char *corpus = NULL;
	bool session = false;

	unsigned mult = 1;
	unsigned sink_port = 0;

	cx.idle_ms = 10000;
	cx.io_ms = 2000;
	cx.slack_ms = 500;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned *num = NULL;

		if (strcmp(a, "--tcp") == 0) {
			cx.tcp = true;
		} else if (strcmp(a, "--session") == 0) {
			session = true;
		} else if (strcmp(a, "--verbose") == 0) {
			cx.verbose = true;
		} else if (strcmp(a, "--list") == 0) {
			list_cases();
			return 0;
		} else if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (v == NULL) {
			usage(stderr);
			return 2;
		} else if (strcmp(a, "--server") == 0) {
			cx.server = v;
			i++;
		} else if (strcmp(a, "--port") == 0) {
			cx.port = v;
			i++;
		} else if (strcmp(a, "--only") == 0) {
			cx.only = v;
			i++;
		} else if (strcmp(a, "--write-corpus") == 0) {
			corpus = v;
			i++;
		} else if (strcmp(a, "--idle-ms") == 0) {
			num = &cx.idle_ms;
		} else if (strcmp(a, "--io-ms") == 0) {
			num = &cx.io_ms;
		} else if (strcmp(a, "--max-conns") == 0) {
			num = &cx.max_conns;
		} else if (strcmp(a, "--threads") == 0) {
			num = &cx.threads;
		} else if (strcmp(a, "--slack-ms") == 0) {
			num = &cx.slack_ms;
		} else if (strcmp(a, "--timeout-multiplier") == 0) {
			num = &mult;
		} else if (strcmp(a, "--upstream-sink") == 0) {
			num = &sink_port;
		} else {
			usage(stderr);
			return 2;
		}
		if (num != NULL) {
			if (!parse_uint(v, num)) {
				fprintf(stderr,
				        "dnscases: %s: bad number '%s'\n", a,
				        v);
				return 2;
			}
			i++;
		}
	}
	if (corpus != NULL) {
		return write_corpus(corpus);
	}
	if (mult == 0) {
		mult = 1;
	}
	cx.w_drop = DC_WAIT_DROP_MS * (int)mult;
	cx.w_reply = DC_WAIT_REPLY_MS * (int)mult;
	cx.w_close = DC_WAIT_CLOSE_MS * (int)mult;
	cx.w_new = DC_WAIT_NEW_MS * (int)mult;
	cx.slack_ms *= mult;
	if (cx.server == NULL || cx.port == NULL) {
		usage(stderr);
		return 2;
	}
	if (resolve(&cx) != 0) {
		return 2;
	}
	cx.sink_udp = -1;
	cx.sink_tcp = -1;
	if (sink_port != 0) {
		int err = sink_open(&cx, sink_port);

		if (err != 0) {
			fprintf(stderr,
			        "dnscases: upstream sink 127.0.0.1:%u: %s\n",
			        sink_port, strerror(-err));
			return 2;
		}
	}
	printf("# dnscases: %s over %s to %s port %s\n",
	       session ? "TCP session cases (2.3)" : "case table (2.2)",
	       session || cx.tcp ? "TCP" : "UDP", cx.server, cx.port);
	if (session) {
		run_session(&cx);
	} else {
		run_table(&cx);
	}
	printf("dnscases: %u passed, %u failed, %u skipped\n", cx.pass, cx.fail,
	       cx.skip);
	return cx.fail != 0 ? 1 : 0;
}
