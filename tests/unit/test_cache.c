#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/cache.h"
#include "svcdns/dname.h"
#include "svcdns/wire.h"

static struct cache_enc *enc;

static int setup(void **state)
{
	(void)state;
	enc = cache_enc_create();
	return enc == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	cache_enc_destroy(enc);
	return 0;
}

static size_t name_wire(const char *text, uint8_t *out)
{
	size_t len;

	assert_int_equal(dname_from_text(text, out, DNAME_MAXLEN, &len), 0);
	return len;
}

/* A message builder for the upstream side. */
struct mb {
	uint8_t buf[8192];
	struct wire_wr w;
	uint16_t n[3];
};

static void mb_start(struct mb *m, uint16_t id, uint16_t flags,
                     const char *qname, uint16_t qtype)
{
	uint8_t name[DNAME_MAXLEN];
	size_t len = name_wire(qname, name);

	memset(m, 0, sizeof(*m));
	wire_wr_init(&m->w, m->buf, sizeof(m->buf));
	wire_wr_u16(&m->w, id);
	wire_wr_u16(&m->w, flags);
	wire_wr_u16(&m->w, 1);
	wire_wr_bytes(&m->w, "\0\0\0\0\0\0", 6);
	wire_wr_bytes(&m->w, name, len);
	wire_wr_u16(&m->w, qtype);
	wire_wr_u16(&m->w, DNS_CLASS_IN);
}

/* Owner NULL: a pointer to the question name. */
static void mb_rr(struct mb *m, unsigned sec, const char *owner, uint16_t type,
                  uint32_t ttl, const void *rdata, size_t rdlen)
{
	uint8_t name[DNAME_MAXLEN];

	if (owner == NULL) {
		wire_wr_u16(&m->w, 0xc00c);
	} else {
		wire_wr_bytes(&m->w, name, name_wire(owner, name));
	}
	wire_wr_u16(&m->w, type);
	wire_wr_u16(&m->w, DNS_CLASS_IN);
	wire_wr_u32(&m->w, ttl);
	wire_wr_u16(&m->w, (uint16_t)rdlen);
	wire_wr_bytes(&m->w, rdata, rdlen);
	m->n[sec]++;
}

static void mb_rr_name(struct mb *m, unsigned sec, const char *owner,
                       uint16_t type, uint32_t ttl, const char *target)
{
	uint8_t t[DNAME_MAXLEN];

	mb_rr(m, sec, owner, type, ttl, t, name_wire(target, t));
}

static void mb_soa(struct mb *m, const char *zone, uint32_t ttl,
                   uint32_t minimum)
{
	uint8_t rd[600];
	size_t a = name_wire("ns1.example.test", rd);
	size_t b = name_wire("hostmaster.example.test", rd + a);
	uint8_t *p = rd + a + b;

	wire_put_u32(p, 1);
	wire_put_u32(p + 4, 7200);
	wire_put_u32(p + 8, 1800);
	wire_put_u32(p + 12, 86400);
	wire_put_u32(p + 16, minimum);
	mb_rr(m, 1, zone, DNS_TYPE_SOA, ttl, rd, a + b + 20);
}

static size_t mb_end(struct mb *m)
{
	assert_int_equal(m->w.err, 0);
	wire_put_u16(m->buf + 6, m->n[0]);
	wire_put_u16(m->buf + 8, m->n[1]);
	wire_put_u16(m->buf + 10, m->n[2]);
	return m->w.pos;
}

static const uint8_t addr1[4] = { 192, 0, 2, 1 };

/* The typical answer: 0x20 question, an A, NS and glue, plus poison. */
static size_t typical(struct mb *m, uint16_t id)
{
	mb_start(m, id, 0x8180, "wWw.ExAmPle.TeSt", DNS_TYPE_A);
	mb_rr(m, 0, NULL, DNS_TYPE_A, 300, addr1, 4);
	mb_rr(m, 0, "bank.test", DNS_TYPE_A, 300, addr1, 4);
	mb_rr_name(m, 1, "example.test", DNS_TYPE_NS, 3600, "ns1.example.test");
	mb_rr_name(m, 1, "bank.test", DNS_TYPE_NS, 3600, "ns.evil.test");
	mb_rr(m, 2, "ns1.example.test", DNS_TYPE_A, 3600, addr1, 4);
	mb_rr(m, 2, "www.bank.test", DNS_TYPE_A, 3600, addr1, 4);
	return mb_end(m);
}

static void test_cache_msg_matches_exact_case(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("wWw.ExAmPle.TeSt", q);
	size_t len = typical(&m, 4242);
	uint8_t other[DNAME_MAXLEN];

	(void)state;
	assert_true(cache_msg_matches(m.buf, len, 4242, q, ql, DNS_TYPE_A));
	assert_false(cache_msg_matches(m.buf, len, 4243, q, ql, DNS_TYPE_A));
	assert_false(cache_msg_matches(m.buf, len, 4242, q, ql, DNS_TYPE_AAAA));
	/* The same name in another spelling: a blind spoofer's guess. */
	assert_int_equal(name_wire("www.example.test", other), ql);
	assert_false(
		cache_msg_matches(m.buf, len, 4242, other, ql, DNS_TYPE_A));
	/* A query (QR=0) is no answer; short messages are nothing. */
	m.buf[2] &= 0x7f;
	assert_false(cache_msg_matches(m.buf, len, 4242, q, ql, DNS_TYPE_A));
	assert_false(cache_msg_matches(m.buf, 11, 4242, q, ql, DNS_TYPE_A));
}

static void test_cache_msg_canon_scrubs(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("wWw.ExAmPle.TeSt", q);
	size_t len = typical(&m, 7);
	uint8_t out[4096];
	size_t olen;
	struct cache_msg_info info;
	uint8_t lower[DNAME_MAXLEN];

	(void)state;
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_int_equal(info.records, 3);
	assert_int_equal(info.scrubbed, 3);
	assert_true(info.cacheable);
	assert_false(info.negative);
	assert_int_equal(info.ttl, 300);
	assert_int_equal(wire_get_u16(out), 0);
	assert_int_equal(wire_get_u16(out + 6), 1);
	assert_int_equal(wire_get_u16(out + 8), 1);
	assert_int_equal(wire_get_u16(out + 10), 1);
	/* The question is stored lower-case; the owner points at it. */
	name_wire("www.example.test", lower);
	assert_memory_equal(out + 12, lower, ql);
	assert_int_equal(wire_get_u16(out + 12 + ql + 4), 0xc00c);
	/* The wrong spelling is refused outright. */
	assert_int_equal(cache_msg_canon(enc, m.buf, len, lower, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 -EBADMSG);
}

/* Every prefix of a valid answer, and every single-octet corruption of
 * it, is refused or accepted without reading out of bounds (ASan). */
static void test_cache_msg_canon_truncated_and_garbled(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("wWw.ExAmPle.TeSt", q);
	size_t len = typical(&m, 7);
	uint8_t out[4096];
	uint8_t copy[8192];
	size_t olen;
	size_t i;
	struct cache_msg_info info;

	(void)state;
	for (i = 0; i < len; i++) {
		uint8_t *cut = malloc(i ? i : 1);

		assert_non_null(cut);
		memcpy(cut, m.buf, i);
		(void)!cache_msg_canon(enc, cut, i, q, ql, DNS_TYPE_A, out,
		                       sizeof(out), &olen, &info);
		free(cut);
	}
	for (i = 12; i < len; i++) {
		unsigned v;

		for (v = 0; v < 256; v += 17) {
			memcpy(copy, m.buf, len);
			copy[i] = (uint8_t)v;
			(void)!cache_msg_canon(enc, copy, len, q, ql,
			                       DNS_TYPE_A, out, sizeof(out),
			                       &olen, &info);
		}
	}
	/* Too small an output buffer is an error, not an overflow. */
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, 40, &olen, &info),
	                 -EMSGSIZE);
}

static void test_cache_msg_canon_negative(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("nope.example.test", q);
	uint8_t out[4096];
	size_t olen;
	size_t len;
	struct cache_msg_info info;

	(void)state;
	mb_start(&m, 1, 0x8183, "nope.example.test", DNS_TYPE_A);
	mb_soa(&m, "example.test", 3600, 60);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_int_equal(info.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(info.negative);
	assert_true(info.cacheable);
	assert_int_equal(info.ttl, 60); /* min(SOA TTL, MINIMUM) */
	/* Without the SOA: not cached (RFC 2308 5). */
	mb_start(&m, 1, 0x8183, "nope.example.test", DNS_TYPE_A);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_false(info.cacheable);
	/* SERVFAIL briefly; REFUSED never. */
	mb_start(&m, 1, 0x8182, "nope.example.test", DNS_TYPE_A);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_true(info.cacheable);
	assert_int_equal(info.ttl, CACHE_SERVFAIL_TTL);
	mb_start(&m, 1, 0x8185, "nope.example.test", DNS_TYPE_A);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_false(info.cacheable);
}

static void test_cache_msg_canon_cname_chain(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("a.example.test", q);
	uint8_t out[4096];
	size_t olen;
	size_t len;
	struct cache_msg_info info;

	(void)state;
	mb_start(&m, 1, 0x8180, "a.example.test", DNS_TYPE_A);
	mb_rr_name(&m, 0, NULL, DNS_TYPE_CNAME, 600, "b.example.test");
	mb_rr_name(&m, 0, "b.example.test", DNS_TYPE_CNAME, 100,
	           "c.other.test");
	mb_rr(&m, 0, "c.other.test", DNS_TYPE_A, 200, addr1, 4);
	mb_rr(&m, 0, "d.other.test", DNS_TYPE_A, 200, addr1, 4);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 out, sizeof(out), &olen, &info),
	                 0);
	assert_int_equal(info.records, 3);
	assert_int_equal(info.scrubbed, 1);
	assert_int_equal(info.ttl, 100);
	assert_false(info.negative);
}

/* Builds a client query into q/req. */
static size_t client_query(const char *name, uint16_t qtype, bool edns,
                           uint16_t edns_size, uint8_t *req,
                           struct wire_query *q)
{
	struct mb m;
	size_t len;

	mb_start(&m, 0xbeef, WIRE_FLAG_RD, name, qtype);
	if (edns) {
		wire_wr_u8(&m.w, 0);
		wire_wr_u16(&m.w, DNS_TYPE_OPT);
		wire_wr_u16(&m.w, edns_size);
		wire_wr_u32(&m.w, 0);
		wire_wr_u16(&m.w, 0);
		m.n[2] = 1;
	}
	len = mb_end(&m);
	memcpy(req, m.buf, len);
	assert_int_equal(wire_parse_query(req, len, q), WIRE_Q_OK);
	return len;
}

static void test_cache_msg_reply_restores_client(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("wWw.ExAmPle.TeSt", q);
	size_t len = typical(&m, 7);
	uint8_t canon[4096];
	uint8_t out[4096];
	uint8_t req[512];
	size_t clen;
	size_t olen;
	bool tc;
	struct cache_msg_info info;
	struct wire_query cq;

	(void)state;
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 canon, sizeof(canon), &clen, &info),
	                 0);
	client_query("WWW.example.TEST", DNS_TYPE_A, true, 1232, req, &cq);
	assert_int_equal(cache_msg_reply(canon, clen, 10, &cq, req, 1232, out,
	                                 sizeof(out), &olen, &tc),
	                 0);
	assert_false(tc);
	assert_int_equal(wire_get_u16(out), 0xbeef);
	/* QR RD RA, NOERROR; AA as the upstream had it (clear). */
	assert_int_equal(wire_get_u16(out + 2), 0x8180);
	assert_memory_equal(out + 12, req + 12, ql + 4);
	assert_int_equal(wire_get_u16(out + 10), 2); /* glue + OPT */
	/* TTL 300 lowered by the age. */
	assert_int_equal(wire_get_u32(out + 12 + ql + 4 + 6), 290);
	/* Older than a TTL: 0, never a wrap. */
	assert_int_equal(cache_msg_reply(canon, clen, 5000, &cq, req, 1232, out,
	                                 sizeof(out), &olen, &tc),
	                 0);
	assert_int_equal(wire_get_u32(out + 12 + ql + 4 + 6), 0);
	/* Another question is refused. */
	client_query("www.example.test", DNS_TYPE_AAAA, true, 1232, req, &cq);
	assert_int_equal(cache_msg_reply(canon, clen, 0, &cq, req, 1232, out,
	                                 sizeof(out), &olen, &tc),
	                 -EBADMSG);
}

static void test_cache_msg_reply_truncates(void **state)
{
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("big.example.test", q);
	uint8_t canon[8192];
	uint8_t out[8192];
	uint8_t req[512];
	size_t clen;
	size_t olen;
	size_t len;
	bool tc;
	unsigned i;
	struct cache_msg_info info;
	struct wire_query cq;

	(void)state;
	mb_start(&m, 1, 0x8180, "big.example.test", DNS_TYPE_A);
	for (i = 0; i < 60; i++) {
		uint8_t a[4] = { 10, 0, 0, (uint8_t)i };

		mb_rr(&m, 0, NULL, DNS_TYPE_A, 60, a, 4);
	}
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 canon, sizeof(canon), &clen, &info),
	                 0);
	assert_true(clen > 512);
	/* No EDNS: 512 octets, so TC with the question only. */
	client_query("big.example.test", DNS_TYPE_A, false, 0, req, &cq);
	assert_int_equal(cache_msg_reply(canon, clen, 0, &cq, req,
	                                 wire_udp_limit(&cq, 1232), out,
	                                 sizeof(out), &olen, &tc),
	                 0);
	assert_true(tc);
	assert_int_equal(olen, 12 + ql + 4);
	assert_int_equal(wire_get_u16(out + 2) & WIRE_FLAG_TC, WIRE_FLAG_TC);
	assert_int_equal(wire_get_u16(out + 6), 0);
	/* With EDNS 1232 it fits whole; over TCP too. */
	client_query("big.example.test", DNS_TYPE_A, true, 4096, req, &cq);
	assert_int_equal(cache_msg_reply(canon, clen, 0, &cq, req,
	                                 wire_udp_limit(&cq, 1232), out,
	                                 sizeof(out), &olen, &tc),
	                 0);
	assert_false(tc);
	assert_int_equal(wire_get_u16(out + 6), 60);
	assert_int_equal(olen, clen + 11);
}

static void test_cache_msg_join_externalname(void **state)
{
	struct mb p;
	struct mb m;
	uint8_t q[DNAME_MAXLEN];
	size_t ql = name_wire("www.example.test", q);
	uint8_t canon[4096];
	uint8_t joined[4096];
	uint8_t out[4096];
	uint8_t req[512];
	size_t clen;
	size_t jlen;
	size_t olen;
	size_t plen;
	size_t len;
	bool tc;
	struct cache_msg_info info;
	struct wire_query cq;

	(void)state;
	/* What answer.c gives: the CNAME from the snapshot. */
	mb_start(&p, 0xbeef, 0x8500, "Ext.Web.svc.cluster.local", DNS_TYPE_A);
	mb_rr_name(&p, 0, NULL, DNS_TYPE_CNAME, 5, "www.example.test");
	plen = mb_end(&p);
	mb_start(&m, 1, 0x8183, "www.example.test", DNS_TYPE_A);
	mb_soa(&m, "example.test", 300, 30);
	len = mb_end(&m);
	assert_int_equal(cache_msg_canon(enc, m.buf, len, q, ql, DNS_TYPE_A,
	                                 canon, sizeof(canon), &clen, &info),
	                 0);
	assert_int_equal(cache_msg_join(enc, p.buf, plen, canon, clen, 100,
	                                joined, sizeof(joined), &jlen),
	                 0);
	/* NXDOMAIN from upstream, AA clear, the CNAME then the SOA. */
	assert_int_equal(wire_get_u16(joined + 2) & 0x840f, 0x8003);
	assert_int_equal(wire_get_u16(joined + 6), 1);
	assert_int_equal(wire_get_u16(joined + 8), 1);
	/* The SOA's TTL (300) lowered by the age; the CNAME's (5) kept. */
	assert_int_equal(wire_get_u32(joined + plen - 24), 5);
	assert_int_equal(wire_get_u32(joined + plen + 14 + 4), 200);
	client_query("Ext.Web.svc.cluster.local", DNS_TYPE_A, false, 0, req,
	             &cq);
	assert_int_equal(cache_msg_reply(joined, jlen, 0, &cq, req, 512, out,
	                                 sizeof(out), &olen, &tc),
	                 0);
	assert_int_equal(wire_get_u16(out + 2) & WIRE_RCODE_MASK,
	                 DNS_RCODE_NXDOMAIN);
	assert_int_equal(wire_get_u16(out), 0xbeef);
}

static void test_cache_store_hit_age_expiry(void **state)
{
	struct cache *c = cache_create(8);
	uint8_t name[DNAME_MAXLEN];
	size_t nl = name_wire("www.example.test", name);
	uint8_t msg[3000];
	uint8_t out[4096];
	size_t olen;
	uint32_t age;
	size_t i;
	struct cache_stats st;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < sizeof(msg); i++) {
		msg[i] = (uint8_t)(i * 7);
	}
	assert_int_equal(cache_lookup(c, name, nl, 1, 0, 1000, out, sizeof(out),
	                              &olen, &age),
	                 -ENOENT);
	/* 3000 octets: more chunks than one entry's share. */
	assert_int_equal(
		cache_insert(c, name, nl, 1, 0, msg, sizeof(msg), 30, 1000), 0);
	assert_int_equal(cache_lookup(c, name, nl, 1, 0, 13500, out,
	                              sizeof(out), &olen, &age),
	                 0);
	assert_int_equal(olen, sizeof(msg));
	assert_memory_equal(out, msg, sizeof(msg));
	assert_int_equal(age, 12);
	/* Key parts: type and flags. */
	assert_int_equal(cache_lookup(c, name, nl, 28, 0, 13500, out,
	                              sizeof(out), &olen, &age),
	                 -ENOENT);
	assert_int_equal(cache_lookup(c, name, nl, 1, CACHE_KEY_DO, 13500, out,
	                              sizeof(out), &olen, &age),
	                 -ENOENT);
	assert_int_equal(cache_lookup(c, name, nl, 1, 0, 31000, out,
	                              sizeof(out), &olen, &age),
	                 -ENOENT);
	cache_get_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.chunks_used, 0);
	assert_int_equal(cache_insert(c, name, nl, 1, 0, msg, 0, 0, 1),
	                 -EINVAL);
	cache_destroy(c);
}

/* L10: a million distinct names through a cache of 1000 entries. The
 * bound holds, every eviction is the least recently used, and the pool
 * accounting never drifts. */
static void test_cache_store_bound_million(void **state)
{
	struct cache *c = cache_create(1000);
	uint8_t msg[300];
	uint8_t out[1024];
	uint8_t name[DNAME_MAXLEN];
	uint8_t hot[DNAME_MAXLEN];
	size_t hl = name_wire("hot.example.test", hot);
	size_t olen;
	uint32_t age;
	unsigned i;
	struct cache_stats st;

	(void)state;
	assert_non_null(c);
	memset(msg, 0x5a, sizeof(msg));
	assert_int_equal(cache_insert(c, hot, hl, 1, 0, msg, 100, 3600, 0), 0);
	for (i = 0; i < 1000000; i++) {
		char text[64];
		size_t nl;

		snprintf(text, sizeof(text), "n%u.example.test", i);
		nl = name_wire(text, name);
		assert_int_equal(cache_insert(c, name, nl, 1, 0, msg,
		                              100 + i % 200, 60, i),
		                 0);
		if (i % 500 == 0) {
			/* The hot name stays: it keeps being used. */
			assert_int_equal(cache_lookup(c, hot, hl, 1, 0, i, out,
			                              sizeof(out), &olen, &age),
			                 0);
		}
		if (i % 100000 == 0) {
			cache_get_stats(c, &st);
			assert_true(st.entries <= 1000);
			assert_true(st.chunks_used <= st.chunks);
		}
	}
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1000);
	assert_int_equal(st.inserts, 1000001);
	assert_int_equal(st.evictions, 1000001 - 1000);
	assert_true(st.hits >= 2000);
	/* The oldest names are gone, the newest there. */
	name_wire("n0.example.test", name);
	assert_int_equal(cache_lookup(c, name, 15, 1, 0, 1000000, out,
	                              sizeof(out), &olen, &age),
	                 -ENOENT);
	cache_destroy(c);
}

static void test_cache_store_too_big(void **state)
{
	struct cache *c = cache_create(2);
	uint8_t name[DNAME_MAXLEN];
	size_t nl = name_wire("x.test", name);
	static uint8_t msg[CACHE_ENTRY_MAX + 1];
	struct cache_stats st;

	(void)state;
	assert_non_null(c);
	assert_int_equal(
		cache_insert(c, name, nl, 1, 0, msg, sizeof(msg), 5, 0),
		-EMSGSIZE);
	/* Larger than the whole pool of a 2-entry cache (1 KiB). */
	assert_int_equal(cache_insert(c, name, nl, 1, 0, msg, 2000, 5, 0),
	                 -EMSGSIZE);
	cache_get_stats(c, &st);
	assert_int_equal(st.too_big, 2);
	assert_int_equal(st.entries, 0);
	cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_msg_matches_exact_case),
		cmocka_unit_test(test_cache_msg_canon_scrubs),
		cmocka_unit_test(test_cache_msg_canon_truncated_and_garbled),
		cmocka_unit_test(test_cache_msg_canon_negative),
		cmocka_unit_test(test_cache_msg_canon_cname_chain),
		cmocka_unit_test(test_cache_msg_reply_restores_client),
		cmocka_unit_test(test_cache_msg_reply_truncates),
		cmocka_unit_test(test_cache_msg_join_externalname),
		cmocka_unit_test(test_cache_store_hit_age_expiry),
		cmocka_unit_test(test_cache_store_bound_million),
		cmocka_unit_test(test_cache_store_too_big),
	};

	return cmocka_run_group_tests_name("cache", tests, setup, teardown);
}
