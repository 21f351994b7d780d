/* DNS messages on the wire (RFC 1035 4, RFC 6891): a latched reader for
 * untrusted input, a writer with bounds, and the query parser that applies
 * the acceptance rules of RELIABILITY.md 2.1. No allocation; any thread. */
#ifndef SVCDNS_WIRE_H
#define SVCDNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"
#include "svcdns/dname.h"

#define WIRE_HEADER_LEN     12
#define WIRE_UDP_MIN        512  /* without EDNS (RFC 1035 4.2.1) */
#define WIRE_EDNS_ADVERTISE 1232 /* Flag Day 2020 */
#define WIRE_MSG_MAX        65535
#define WIRE_OPT_LEN        11 /* root owner, no options */
#define WIRE_MAX_PTR_HOPS   128
#define WIRE_MAX_QUERY_RRS  64 /* additional records accepted in a query */

/* Header flag bits in the second 16-bit word. */
#define WIRE_FLAG_QR      0x8000u
#define WIRE_OPCODE_MASK  0x7800u
#define WIRE_OPCODE_SHIFT 11
#define WIRE_FLAG_AA      0x0400u
#define WIRE_FLAG_TC      0x0200u
#define WIRE_FLAG_RD      0x0100u
#define WIRE_FLAG_RA      0x0080u
#define WIRE_FLAG_Z       0x0040u
#define WIRE_FLAG_AD      0x0020u
#define WIRE_FLAG_CD      0x0010u
#define WIRE_RCODE_MASK   0x000Fu
#define WIRE_EDNS_FLAG_DO 0x8000u

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_BADVERS = 16, /* extended: upper 8 bits live in OPT */
};

enum {
	DNS_CLASS_IN = 1,
	DNS_CLASS_CH = 3,
	DNS_CLASS_NONE = 254,
	DNS_CLASS_ANY = 255,
};

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_HINFO = 13,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_RRSIG = 46,
	DNS_TYPE_TKEY = 249,
	DNS_TYPE_TSIG = 250,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_MAILB = 253,
	DNS_TYPE_MAILA = 254,
	DNS_TYPE_ANY = 255,
};

/* Big-endian helpers on raw buffers (no alignment assumed). */
static inline uint16_t wire_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Reader over untrusted bytes. The first error latches in err (-EBADMSG);
 * after it every read returns 0 and consumes nothing, so a caller may make a
 * run of reads and check err once. */
struct wire_rd {
	const uint8_t *pkt; /* borrowed: the whole message */
	size_t len;
	size_t pos;
	int err;
};

void wire_rd_init(struct wire_rd *rd, const uint8_t *pkt, size_t len);
uint8_t wire_rd_u8(struct wire_rd *rd);
uint16_t wire_rd_u16(struct wire_rd *rd);
uint32_t wire_rd_u32(struct wire_rd *rd);
/* Copies n octets to out (out may be NULL to skip them). */
void wire_rd_bytes(struct wire_rd *rd, uint8_t *out, size_t n);
size_t wire_rd_left(const struct wire_rd *rd);

/* Reads a possibly compressed name at rd->pos into out (uncompressed, at
 * least DNAME_MAXLEN octets), case kept, and advances past it (past the first
 * pointer, if any). Pointers must point strictly backwards, at or after the
 * header (offset >= 12), with at most WIRE_MAX_PTR_HOPS jumps; labels
 * 0x40/0x80 types, labels over 63 and names over 255 octets are errors.
 * On error latches -EBADMSG. allow_compression=false rejects any pointer
 * (the QNAME rule). *len gets the uncompressed length. */
void wire_rd_name(struct wire_rd *rd, uint8_t *out, size_t *len,
                  bool allow_compression);

/* Bounded writer. The first overflow latches err (-EMSGSIZE); later writes
 * do nothing. */
struct wire_wr {
	uint8_t *buf; /* borrowed */
	size_t cap;
	size_t pos;
	int err;
};

void wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap);
void wire_wr_u8(struct wire_wr *w, uint8_t v);
void wire_wr_u16(struct wire_wr *w, uint16_t v);
void wire_wr_u32(struct wire_wr *w, uint32_t v);
void wire_wr_bytes(struct wire_wr *w, const void *p, size_t n);
/* Writes our OPT pseudo-RR: root owner, TYPE 41, CLASS = udp_size, TTL =
 * ext_rcode<<24 | version 0 | (do_bit ? DO : 0), RDLENGTH 0 (11 octets). */
void wire_wr_opt(struct wire_wr *w, uint16_t udp_size, uint8_t ext_rcode,
                 bool do_bit);

/* Verdict of the query parser (RELIABILITY.md 2.1, 2.2). */
enum wire_status {
	WIRE_Q_OK,      /* one good question: answer it */
	WIRE_Q_DROP,    /* < 12 octets or QR=1: send nothing */
	WIRE_Q_FORMERR, /* echo the question iff q->question_ok */
	WIRE_Q_NOTIMP,  /* opcode != QUERY, or an obsolete meta QTYPE */
	WIRE_Q_BADVERS, /* EDNS version != 0 */
};

/* What the parser learned about a query. qname keeps the octets as sent
 * (their case is echoed); lname is the same name lower-cased, for lookups. */
struct wire_query {
	bool header_ok; /* a whole header was read (false: < 12 octets) */
	uint16_t id;
	uint16_t flags; /* the second header word as received */
	uint8_t opcode;
	bool question_ok; /* exactly one question parsed completely */
	uint16_t qtype;
	uint16_t qclass;
	size_t qname_len;
	size_t question_end; /* offset just past QCLASS */
	uint8_t qname[DNAME_MAXLEN];
	uint8_t lname[DNAME_MAXLEN];
	bool opt_ok;       /* exactly one well-formed OPT was present */
	uint16_t edns_udp; /* requester's UDP size as sent (0 if no OPT) */
	uint8_t edns_version;
	bool edns_do;
};

/* Parses and validates a query message. Applies, in order: < 12 octets or
 * QR=1 -> DROP; opcode != 0 -> NOTIMP; QDCOUNT != 1 -> FORMERR (question not
 * echoed); a malformed or compressed QNAME, or QTYPE/QCLASS cut short ->
 * FORMERR; ANCOUNT or NSCOUNT != 0 -> FORMERR; additional records: at most
 * WIRE_MAX_QUERY_RRS, each complete; an OPT must have the root owner, appear
 * once, and hold well-formed options, else FORMERR (opt_ok false); octets
 * after the last record -> FORMERR; QTYPE OPT or TSIG -> FORMERR; QTYPE
 * MAILA/MAILB -> NOTIMP; EDNS version != 0 -> BADVERS. A TSIG that is not
 * the last record is FORMERR too (RELIABILITY S02). For NOTIMP and for the
 * FORMERRs after the header, opt_ok still tells whether the message held
 * exactly one well-formed OPT in its additional section, so the error can
 * carry ours. Never reads outside pkt[0..len). */
enum wire_status wire_parse_query(const uint8_t *pkt, size_t len,
                                  struct wire_query *q);

/* A first look at a query, for warming caches before the batch is
 * answered (server.c): copies the question's QNAME, lower-cased, to
 * lname and sets *qtype. Returns the name's length, or 0 when pkt has no
 * plain question at offset 12 (cut short, compressed, or too long); the
 * message is not validated otherwise. Never reads outside pkt[0..len). */
size_t wire_peek_question(const uint8_t *pkt, size_t len,
                          uint8_t lname[DNAME_MAXLEN], uint16_t *qtype);

/* Builds an error response (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS)
 * for q into out (cap octets) per RELIABILITY.md 2.1: ID copied; QR=1;
 * OPCODE copied; for NOTIMP every other flag 0; for FORMERR only RD copied
 * (R-FORMERR); otherwise RD and CD copied; AA/TC/RA/Z/AD 0 (RA set when ra is
 * true); the question echoed from pkt iff q->question_ok and echo_question; our
 * OPT (size 1232, DO copied, extended rcode for BADVERS) iff q->opt_ok. Returns
 * the length written, or 0 if it does not fit, if q is a DROP (no header:
 * !q->header_ok, or QR=1), or if rcode needs an extended rcode (> 15) and
 * q->opt_ok is false. */
size_t wire_build_error(const struct wire_query *q, const uint8_t *pkt,
                        unsigned rcode, bool echo_question, bool ra,
                        uint8_t *out, size_t cap);

/* The UDP payload limit for a response to q: max(512, EDNS size) capped at
 * max_udp (normally WIRE_EDNS_ADVERTISE); 512 without EDNS. Never below 512,
 * even if max_udp is. */
size_t wire_udp_limit(const struct wire_query *q, size_t max_udp);

#endif
