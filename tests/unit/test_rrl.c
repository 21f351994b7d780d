#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/dname.h"
#include "svcdns/log.h"
#include "svcdns/rrl.h"
#include "svcdns/wire.h"

/* ---- helpers ------------------------------------------------------------ */

static struct sockaddr_storage sa_v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage sa_v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(40000);
	assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct rrl *mk(unsigned rate, unsigned slip, bool log_only)
{
	struct rrl_opts o;
	struct rrl *r;

	rrl_opts_default(&o);
	o.rate = rate;
	o.slip = slip;
	o.log_only = log_only;
	o.table = 1024;
	o.seed = 42;
	r = rrl_create(&o);
	assert_non_null(r);
	return r;
}

static size_t wname(const char *text, uint8_t *out)
{
	size_t len = 0;

	assert_int_equal(dname_from_text(text, out, DNAME_MAXLEN, &len), 0);
	dname_lower(out, len);
	return len;
}

/* Sends n responses for (src, name, class) at now_ms; counts results. */
static void burst(struct rrl *r, const struct sockaddr *src, const char *name,
                  unsigned rclass, unsigned n, uint64_t now_ms, unsigned cnt[3])
{
	uint8_t w[DNAME_MAXLEN];
	size_t len = name ? wname(name, w) : 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		cnt[rrl_check(r, src, w, len, rclass, now_ms)]++;
	}
}

/* ---- options ------------------------------------------------------------ */

static void test_rrl_create_rejects_bad_options(void **state)
{
	struct rrl_opts o;

	(void)state;
	rrl_opts_default(&o);
	assert_int_equal(o.rate, 200);
	assert_int_equal(o.slip, 2);
	assert_int_equal(o.v4_len, 24);
	assert_int_equal(o.v6_len, 56);
	o.rate = 0;
	assert_null(rrl_create(&o));
	assert_int_equal(errno, EINVAL);
	rrl_opts_default(&o);
	o.slip = RRL_SLIP_MAX + 1;
	assert_null(rrl_create(&o));
	rrl_opts_default(&o);
	o.v6_len = 129;
	assert_null(rrl_create(&o));
	rrl_opts_default(&o);
	o.table = 1;
	assert_null(rrl_create(&o));
	rrl_opts_default(&o);
	o.n_exempt = 1; /* with no array */
	assert_null(rrl_create(&o));
	rrl_destroy(NULL);
}

/* ---- rate ---------------------------------------------------------------- */

static void test_rrl_check_rate(void **state)
{
	struct rrl *r = mk(10, 0, false);
	struct sockaddr_storage a = sa_v4("192.0.2.1");
	unsigned cnt[3] = { 0, 0, 0 };
	uint64_t t;

	(void)state;
	/* A full bucket: 10 pass at once, the 11th does not. */
	burst(r, SA(a), "web.shop.svc.cluster.local", RRL_CLASS_ANSWER, 11,
	      1000, cnt);
	assert_int_equal(cnt[RRL_PASS], 10);
	assert_int_equal(cnt[RRL_DROP], 1);
	/* 100 ms earn exactly one token (10 a second). */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(a), "web.shop.svc.cluster.local", RRL_CLASS_ANSWER, 3, 1100,
	      cnt);
	assert_int_equal(cnt[RRL_PASS], 1);
	/* Offered 100 a second for 10 s: 10 a second pass, no more. */
	memset(cnt, 0, sizeof(cnt));
	for (t = 2000; t < 12000; t += 10) {
		burst(r, SA(a), "web.shop.svc.cluster.local", RRL_CLASS_ANSWER,
		      1, t, cnt);
	}
	assert_in_range(cnt[RRL_PASS], 99, 111); /* 10 s * 10 + the burst */
	assert_int_equal(cnt[RRL_PASS] + cnt[RRL_DROP], 1000);
	/* A clock that goes backwards earns nothing and breaks nothing. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(a), "web.shop.svc.cluster.local", RRL_CLASS_ANSWER, 5, 500,
	      cnt);
	assert_int_equal(cnt[RRL_PASS], 0);
	rrl_destroy(r);
}

static void test_rrl_check_burst_option(void **state)
{
	struct rrl_opts o;
	struct rrl *r;
	struct sockaddr_storage a = sa_v4("198.51.100.7");
	unsigned cnt[3] = { 0, 0, 0 };

	(void)state;
	rrl_opts_default(&o);
	o.rate = 5;
	o.burst = 50;
	o.slip = 0;
	o.seed = 1;
	r = rrl_create(&o);
	assert_non_null(r);
	burst(r, SA(a), "a.cluster.local", RRL_CLASS_ANSWER, 60, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 50);
	/* An idle key refills to the burst, never past it. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(a), "a.cluster.local", RRL_CLASS_ANSWER, 60, 3600000, cnt);
	assert_int_equal(cnt[RRL_PASS], 50);
	rrl_destroy(r);
}

/* ---- slip ---------------------------------------------------------------- */

static void slip_pattern(unsigned slip, const char *want)
{
	struct rrl *r = mk(1, slip, false);
	struct sockaddr_storage a = sa_v4("203.0.113.9");
	uint8_t w[DNAME_MAXLEN];
	size_t len = wname("x.cluster.local", w);
	char got[16];
	size_t i;

	assert_int_equal(rrl_check(r, SA(a), w, len, RRL_CLASS_ANSWER, 0),
	                 RRL_PASS);
	for (i = 0; i < strlen(want); i++) {
		enum rrl_action act =
			rrl_check(r, SA(a), w, len, RRL_CLASS_ANSWER, 0);

		got[i] = act == RRL_SLIP ? 'S' : act == RRL_DROP ? 'D' : 'P';
	}
	got[i] = '\0';
	assert_string_equal(got, want);
	rrl_destroy(r);
}

static void test_rrl_check_slip_cadence(void **state)
{
	(void)state;
	slip_pattern(2, "DSDSDSDS");
	slip_pattern(1, "SSSSSS");
	slip_pattern(0, "DDDDDD");
	slip_pattern(3, "DDSDDSDDS");
}

static void test_rrl_check_slip_restarts_after_a_token(void **state)
{
	struct rrl *r = mk(1, 2, false);
	struct sockaddr_storage a = sa_v4("203.0.113.9");
	struct rrl_stats st;

	(void)state;
	assert_int_equal(rrl_check(r, SA(a), NULL, 0, RRL_CLASS_ERROR, 0),
	                 RRL_PASS);
	assert_int_equal(rrl_check(r, SA(a), NULL, 0, RRL_CLASS_ERROR, 0),
	                 RRL_DROP);
	assert_int_equal(rrl_check(r, SA(a), NULL, 0, RRL_CLASS_ERROR, 1000),
	                 RRL_PASS);
	assert_int_equal(rrl_check(r, SA(a), NULL, 0, RRL_CLASS_ERROR, 1000),
	                 RRL_DROP);
	assert_int_equal(rrl_check(r, SA(a), NULL, 0, RRL_CLASS_ERROR, 1000),
	                 RRL_SLIP);
	rrl_get_stats(r, &st);
	assert_int_equal(st.passed, 2);
	assert_int_equal(st.limited, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.slipped, 1);
	assert_int_equal(st.classes[RRL_CLASS_ERROR], 3);
	rrl_destroy(r);
}

/* ---- keys ---------------------------------------------------------------- */

static void test_rrl_check_prefix_aggregation(void **state)
{
	struct rrl *r = mk(4, 0, false);
	unsigned cnt[3] = { 0, 0, 0 };
	struct sockaddr_storage a1 = sa_v4("192.0.2.1");
	struct sockaddr_storage a2 = sa_v4("192.0.2.254");
	struct sockaddr_storage mapped = sa_v6("::ffff:192.0.2.77");
	struct sockaddr_storage other = sa_v4("192.0.3.1");
	struct sockaddr_storage b1 = sa_v6("2001:db8:0:1::1");
	struct sockaddr_storage b2 = sa_v6("2001:db8:0:2::99");
	struct sockaddr_storage b3 = sa_v6("2001:db8:0:100::1");

	(void)state;
	/* One /24: 2 + 2 + 2 share 4 tokens, v4-mapped IPv6 included. */
	burst(r, SA(a1), "n.cluster.local", RRL_CLASS_ANSWER, 2, 0, cnt);
	burst(r, SA(a2), "n.cluster.local", RRL_CLASS_ANSWER, 2, 0, cnt);
	burst(r, SA(mapped), "n.cluster.local", RRL_CLASS_ANSWER, 2, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 4);
	/* The next /24 has its own bucket. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(other), "n.cluster.local", RRL_CLASS_ANSWER, 4, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 4);
	/* Another name, another class: other buckets. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(a1), "m.cluster.local", RRL_CLASS_ANSWER, 4, 0, cnt);
	burst(r, SA(a1), "n.cluster.local", RRL_CLASS_NODATA, 4, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 8);
	/* Names are keys as given: the caller lower-cases them. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(a1), "N.Cluster.Local", RRL_CLASS_ANSWER, 1, 0, cnt);
	assert_int_equal(cnt[RRL_DROP], 1);
	/* IPv6 /56: ...:0:1:: and ...:0:2:: share, ...:0:100:: does not. */
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(b1), "n.cluster.local", RRL_CLASS_ANSWER, 3, 0, cnt);
	burst(r, SA(b2), "n.cluster.local", RRL_CLASS_ANSWER, 3, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 4);
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(b3), "n.cluster.local", RRL_CLASS_ANSWER, 4, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 4);
	rrl_destroy(r);
}

static void test_rrl_check_exempt_prefixes(void **state)
{
	struct config_cidr ex[2];
	struct rrl_opts o;
	struct rrl_stats st;
	struct rrl *r;
	unsigned cnt[3] = { 0, 0, 0 };
	struct sockaddr_storage lo = sa_v4("127.3.2.1");
	struct sockaddr_storage lo6 = sa_v6("::1");
	struct sockaddr_storage lo_m = sa_v6("::ffff:127.0.0.1");
	struct sockaddr_storage pod = sa_v4("10.244.7.3");
	struct sockaddr_storage pod6 = sa_v6("fd00:10:244::5");
	struct sockaddr_storage out = sa_v4("11.0.0.1");

	(void)state;
	memset(ex, 0, sizeof(ex));
	ex[0].family = AF_INET;
	ex[0].bits = 8;
	ex[0].addr[0] = 10;
	ex[1].family = AF_INET6;
	ex[1].bits = 16;
	ex[1].addr[0] = 0xfd;
	rrl_opts_default(&o);
	o.rate = 1;
	o.seed = 3;
	o.exempt = ex;
	o.n_exempt = 2;
	r = rrl_create(&o);
	assert_non_null(r);
	burst(r, SA(lo), "a.cluster.local", RRL_CLASS_ANSWER, 1000, 0, cnt);
	burst(r, SA(lo6), "a.cluster.local", RRL_CLASS_ANSWER, 1000, 0, cnt);
	burst(r, SA(lo_m), "a.cluster.local", RRL_CLASS_ANSWER, 1000, 0, cnt);
	burst(r, SA(pod), "a.cluster.local", RRL_CLASS_NXDOMAIN, 1000, 0, cnt);
	burst(r, SA(pod6), NULL, RRL_CLASS_ERROR, 1000, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 5000);
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(out), "a.cluster.local", RRL_CLASS_ANSWER, 10, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 1);
	rrl_get_stats(r, &st);
	assert_int_equal(st.exempt, 5000);
	assert_int_equal(st.passed, 1);
	assert_int_equal(st.limited, 9);
	rrl_destroy(r);
	/* Loopback exemption off (the L12 load test): 127.x is limited. */
	o.exempt_loopback = false;
	r = rrl_create(&o);
	assert_non_null(r);
	memset(cnt, 0, sizeof(cnt));
	burst(r, SA(lo), "a.cluster.local", RRL_CLASS_ANSWER, 10, 0, cnt);
	burst(r, SA(pod), "a.cluster.local", RRL_CLASS_ANSWER, 10, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 11);
	rrl_destroy(r);
}

static void test_rrl_check_log_only(void **state)
{
	struct rrl *r = mk(5, 2, true);
	struct sockaddr_storage a = sa_v4("192.0.2.1");
	unsigned cnt[3] = { 0, 0, 0 };
	struct rrl_stats st;

	(void)state;
	burst(r, SA(a), "a.cluster.local", RRL_CLASS_ANSWER, 100, 0, cnt);
	assert_int_equal(cnt[RRL_PASS], 100);
	rrl_get_stats(r, &st);
	assert_int_equal(st.passed, 5);
	assert_int_equal(st.limited, 95);
	assert_int_equal(st.log_only, 95);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.slipped, 0);
	rrl_destroy(r);
}

static void test_rrl_check_unknown_family_passes(void **state)
{
	struct rrl *r = mk(1, 0, false);
	struct sockaddr_storage u;
	unsigned i;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.ss_family = AF_UNIX;
	for (i = 0; i < 10; i++) {
		assert_int_equal(
			rrl_check(r, SA(u), NULL, 0, RRL_CLASS_ERROR, 0),
			RRL_PASS);
	}
	/* An unknown class passes too. */
	u = sa_v4("192.0.2.1");
	for (i = 0; i < 10; i++) {
		assert_int_equal(rrl_check(r, SA(u), NULL, 0, 99, 0), RRL_PASS);
	}
	rrl_destroy(r);
}

/* One million sources, each a different /24, in a table of 1024 slots:
 * nothing grows, and a flooding key that keeps coming back is never
 * evicted by them (its set's least recently used way goes first), so it
 * stays limited throughout. */
static void test_rrl_check_table_bound_1m_sources(void **state)
{
	struct rrl *r = mk(10, 0, false);
	struct sockaddr_storage victim = sa_v4("198.51.100.1");
	struct sockaddr_storage src;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	struct rrl_stats st;
	uint8_t w[DNAME_MAXLEN];
	size_t len = wname("big.cluster.local", w);
	unsigned victim_pass = 0;
	unsigned fresh_pass = 0;
	uint32_t i;

	(void)state;
	memset(&src, 0, sizeof(src));
	s4->sin_family = AF_INET;
	for (i = 0; i < 1000000; i++) {
		/* 1 ms per 100 sources: 10 s in all. */
		uint64_t now = i / 100;

		s4->sin_addr.s_addr = htonl((i + 0x01000000u) << 8);
		fresh_pass += rrl_check(r, SA(src), w, len, RRL_CLASS_ANSWER,
		                        now) == RRL_PASS;
		victim_pass += rrl_check(r, SA(victim), w, len,
		                         RRL_CLASS_ANSWER, now) == RRL_PASS;
	}
	rrl_get_stats(r, &st);
	assert_int_equal(st.slots, 1024);
	assert_true(st.evictions >= 1000000 - 1024);
	/* Every new source starts with a full bucket. */
	assert_int_equal(fresh_pass, 1000000);
	/* 10 a second for 10 s plus the burst of 10. */
	assert_in_range(victim_pass, 100, 111);
	rrl_destroy(r);
}

/* The table starts small and grows with the sources, keeping every
 * bucket: 20,000 sources at one instant (none has refilled), rate 1 and
 * burst 1, so each passes once and is limited the second time, even
 * after the rebuilds that happened in between. */
static void test_rrl_check_table_grows_keeping_state(void **state)
{
	struct rrl_opts o;
	struct rrl *r;
	struct rrl_stats st;
	struct sockaddr_storage src;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	uint8_t w[DNAME_MAXLEN];
	size_t len = wname("app.cluster.local", w);
	unsigned pass2 = 0;
	uint32_t i;

	(void)state;
	rrl_opts_default(&o);
	o.rate = 1;
	o.slip = 0;
	o.seed = 7;
	r = rrl_create(&o);
	assert_non_null(r);
	rrl_get_stats(r, &st);
	assert_int_equal(st.slots, RRL_TABLE_START);
	memset(&src, 0, sizeof(src));
	s4->sin_family = AF_INET;
	for (i = 0; i < 20000; i++) {
		s4->sin_addr.s_addr = htonl((i + 0x01000000u) << 8);
		assert_int_equal(
			rrl_check(r, SA(src), w, len, RRL_CLASS_ANSWER, 1000),
			RRL_PASS);
	}
	for (i = 0; i < 20000; i++) {
		s4->sin_addr.s_addr = htonl((i + 0x01000000u) << 8);
		pass2 += rrl_check(r, SA(src), w, len, RRL_CLASS_ANSWER,
		                   1000) == RRL_PASS;
	}
	rrl_get_stats(r, &st);
	/* Grown to the default cap (a quarter full is 16,384 keys). */
	assert_int_equal(st.slots, RRL_DEFAULT_TABLE);
	/* Only keys pushed out of a full set lose their bucket: a few per
	 * cent at 30 % load, as in a table that had that size from the
	 * start. */
	assert_true(pass2 <= st.evictions);
	assert_true(st.evictions < 1000);
	rrl_destroy(r);
}

/* A few sources keep the table at its starting size; sources whose
 * buckets have refilled are dropped when it is rebuilt, so a stream of
 * short-lived sources does not grow it either. */
static void test_rrl_check_table_stays_small(void **state)
{
	struct rrl_opts o;
	struct rrl *r;
	struct rrl_stats st;
	struct sockaddr_storage src;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	uint8_t w[DNAME_MAXLEN];
	size_t len = wname("app.cluster.local", w);
	uint32_t i;

	(void)state;
	rrl_opts_default(&o);
	o.rate = 10;
	o.seed = 9;
	r = rrl_create(&o);
	assert_non_null(r);
	memset(&src, 0, sizeof(src));
	s4->sin_family = AF_INET;
	for (i = 0; i < 100; i++) {
		s4->sin_addr.s_addr = htonl((i + 0x01000000u) << 8);
		(void)rrl_check(r, SA(src), w, len, RRL_CLASS_ANSWER, 0);
	}
	rrl_get_stats(r, &st);
	assert_int_equal(st.slots, RRL_TABLE_START);
	/* 100,000 sources, 100 a second: with rate 10 each bucket refills
	 * in 100 ms, so about 10 are live at any time. */
	for (i = 0; i < 100000; i++) {
		s4->sin_addr.s_addr = htonl((i + 0x02000000u) << 8);
		assert_int_equal(rrl_check(r, SA(src), w, len, RRL_CLASS_ANSWER,
		                           1000 + i * 10),
		                 RRL_PASS);
	}
	rrl_get_stats(r, &st);
	assert_int_equal(st.slots, RRL_TABLE_START);
	assert_int_equal(st.evictions, 0);
	rrl_destroy(r);
}

/* ---- classify and slip --------------------------------------------------- */

/* Writes a response: header (flags, counts), question, then records
 * given as (owner, type, rdata) triples. */
struct rr_spec {
	const char *owner;
	uint16_t type;
	const uint8_t *rdata;
	uint16_t rdlen;
};

static size_t mkresp(uint8_t *buf, size_t cap, uint16_t flags,
                     const char *qname, uint16_t qtype,
                     const struct rr_spec *an, unsigned nan,
                     const struct rr_spec *ns, unsigned nns, bool opt)
{
	struct wire_wr w;
	uint8_t name[DNAME_MAXLEN];
	size_t len = 0;
	unsigned i;
	const struct rr_spec *sec[2] = { an, ns };
	unsigned cnt[2] = { nan, nns };
	unsigned s;

	wire_wr_init(&w, buf, cap);
	wire_wr_u16(&w, 0x1234);
	wire_wr_u16(&w, flags);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, (uint16_t)nan);
	wire_wr_u16(&w, (uint16_t)nns);
	wire_wr_u16(&w, opt ? 1 : 0);
	assert_int_equal(dname_from_text(qname, name, sizeof(name), &len), 0);
	wire_wr_bytes(&w, name, len);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	for (s = 0; s < 2; s++) {
		for (i = 0; i < cnt[s]; i++) {
			const struct rr_spec *rr = &sec[s][i];

			assert_int_equal(dname_from_text(rr->owner, name,
			                                 sizeof(name), &len),
			                 0);
			wire_wr_bytes(&w, name, len);
			wire_wr_u16(&w, rr->type);
			wire_wr_u16(&w, DNS_CLASS_IN);
			wire_wr_u32(&w, 5);
			wire_wr_u16(&w, rr->rdlen);
			wire_wr_bytes(&w, rr->rdata, rr->rdlen);
		}
	}
	if (opt) {
		wire_wr_opt(&w, 1232, 0, true);
	}
	assert_int_equal(w.err, 0);
	return w.pos;
}

static const uint8_t a_rdata[4] = { 10, 96, 0, 20 };
/* SOA RDATA: two root names, then five 32-bit numbers. */
static const uint8_t soa_rdata[22] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0,
	                               0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5 };
static const uint8_t ns_rdata[4] = { 2, 'n', 's', 0 };

static void expect_class(const uint8_t *resp, size_t len, unsigned want,
                         const char *want_name)
{
	uint8_t name[DNAME_MAXLEN];
	uint8_t wn[DNAME_MAXLEN];
	size_t nlen = 99;
	unsigned rclass = 99;

	assert_int_equal(rrl_classify(resp, len, &rclass, name, &nlen), 0);
	assert_string_equal(rrl_class_name(rclass), rrl_class_name(want));
	if (want_name == NULL) {
		assert_int_equal(nlen, 0);
	} else {
		size_t wl = wname(want_name, wn);

		assert_int_equal(nlen, wl);
		assert_memory_equal(name, wn, wl);
	}
}

static void test_rrl_classify_responses(void **state)
{
	uint8_t b[512];
	size_t n;
	const struct rr_spec ans[1] = { { "Web.Shop.svc.cluster.local",
		                          DNS_TYPE_A, a_rdata, 4 } };
	const struct rr_spec soa[1] = { { "Cluster.Local", DNS_TYPE_SOA,
		                          soa_rdata, 22 } };
	const struct rr_spec ref[1] = { { "sub.cluster.local", DNS_TYPE_NS,
		                          ns_rdata, 4 } };
	unsigned rclass;
	uint8_t name[DNAME_MAXLEN];
	size_t nlen;

	(void)state;
	n = mkresp(b, sizeof(b), 0x8400, "Web.Shop.svc.cluster.local",
	           DNS_TYPE_A, ans, 1, NULL, 0, true);
	expect_class(b, n, RRL_CLASS_ANSWER, "web.shop.svc.cluster.local");
	/* NXDOMAIN: keyed by the zone (the SOA owner), lower-cased. */
	n = mkresp(b, sizeof(b), 0x8403, "rAnd0m.cluster.local", DNS_TYPE_A,
	           NULL, 0, soa, 1, false);
	expect_class(b, n, RRL_CLASS_NXDOMAIN, "cluster.local");
	/* ... without an SOA, by the name less its first label. */
	n = mkresp(b, sizeof(b), 0x8403, "x.Example.test", DNS_TYPE_A, NULL, 0,
	           NULL, 0, false);
	expect_class(b, n, RRL_CLASS_NXDOMAIN, "example.test");
	n = mkresp(b, sizeof(b), 0x8400, "web.shop.svc.cluster.local",
	           DNS_TYPE_AAAA, NULL, 0, soa, 1, true);
	expect_class(b, n, RRL_CLASS_NODATA, "web.shop.svc.cluster.local");
	n = mkresp(b, sizeof(b), 0x8000, "a.sub.cluster.local", DNS_TYPE_A,
	           NULL, 0, ref, 1, false);
	expect_class(b, n, RRL_CLASS_REFERRAL, NULL);
	n = mkresp(b, sizeof(b), 0x8005, "google.com", DNS_TYPE_A, NULL, 0,
	           NULL, 0, false);
	expect_class(b, n, RRL_CLASS_ERROR, NULL);
	/* A FORMERR without a question. */
	memset(b, 0, 12);
	b[2] = 0x80;
	b[3] = 0x01;
	expect_class(b, 12, RRL_CLASS_ERROR, NULL);
	/* Not a response, or too short. */
	b[2] = 0;
	assert_int_equal(rrl_classify(b, 12, &rclass, name, &nlen), -EBADMSG);
	assert_int_equal(rrl_classify(b, 5, &rclass, name, &nlen), -EBADMSG);
}

static void test_rrl_check_response_keys_nxdomain_by_zone(void **state)
{
	struct rrl *r = mk(3, 0, false);
	struct sockaddr_storage a = sa_v4("192.0.2.1");
	const struct rr_spec soa[1] = { { "cluster.local", DNS_TYPE_SOA,
		                          soa_rdata, 22 } };
	uint8_t b[512];
	char q[64];
	unsigned pass = 0;
	unsigned i;

	(void)state;
	/* Random names under one zone share one NXDOMAIN bucket. */
	for (i = 0; i < 20; i++) {
		size_t n;

		snprintf(q, sizeof(q), "r%u.cluster.local", i);
		n = mkresp(b, sizeof(b), 0x8403, q, DNS_TYPE_A, NULL, 0, soa, 1,
		           false);
		pass += rrl_check_response(r, SA(a), b, n, 0) == RRL_PASS;
	}
	assert_int_equal(pass, 3);
	rrl_destroy(r);
}

static void test_rrl_slip_forms(void **state)
{
	uint8_t b[512];
	uint8_t orig[512];
	size_t n;
	size_t m;
	size_t qend = 12 + 28 + 4; /* web.shop.svc.cluster.local: 28 */
	const struct rr_spec ans[2] = {
		{ "web.shop.svc.cluster.local", DNS_TYPE_A, a_rdata, 4 },
		{ "web.shop.svc.cluster.local", DNS_TYPE_A, a_rdata, 4 },
	};
	const struct rr_spec soa[1] = { { "cluster.local", DNS_TYPE_SOA,
		                          soa_rdata, 22 } };

	(void)state;
	/* An answer with OPT: question + OPT, TC=1, AA and rcode kept. */
	n = mkresp(b, sizeof(b), 0x8500, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, ans, 2, soa, 1, true);
	memcpy(orig, b, n);
	m = rrl_slip(b, n);
	assert_int_equal(m, qend + WIRE_OPT_LEN);
	assert_true(m < n);
	assert_int_equal(wire_get_u16(b + 2), 0x8500 | WIRE_FLAG_TC);
	assert_int_equal(wire_get_u16(b + 4), 1);
	assert_int_equal(wire_get_u16(b + 6), 0);
	assert_int_equal(wire_get_u16(b + 8), 0);
	assert_int_equal(wire_get_u16(b + 10), 1);
	assert_memory_equal(b, orig, 2);
	assert_memory_equal(b + 12, orig + 12, qend - 12);
	assert_memory_equal(b + qend, orig + n - WIRE_OPT_LEN, WIRE_OPT_LEN);
	/* Without OPT: the question alone. */
	n = mkresp(b, sizeof(b), 0x8400, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, ans, 2, NULL, 0, false);
	assert_int_equal(rrl_slip(b, n), qend);
	assert_int_equal(wire_get_u16(b + 10), 0);
	/* NXDOMAIN: TC as well. */
	n = mkresp(b, sizeof(b), 0x8403, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, NULL, 0, soa, 1, true);
	assert_int_equal(rrl_slip(b, n), qend + WIRE_OPT_LEN);
	assert_int_equal(wire_get_u16(b + 2), 0x8603);
	/* An error never gets TC (RELIABILITY.md 2.1). */
	n = mkresp(b, sizeof(b), 0x8005, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, NULL, 0, NULL, 0, true);
	assert_int_equal(rrl_slip(b, n), n);
	assert_int_equal(wire_get_u16(b + 2), 0x8005);
	/* BADVERS (NOERROR in the header, 1 in the OPT) is an error. */
	n = mkresp(b, sizeof(b), 0x8000, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, NULL, 0, NULL, 0, true);
	b[n - WIRE_OPT_LEN + 5] = 1;
	expect_class(b, n, RRL_CLASS_ERROR, NULL);
	assert_int_equal(rrl_slip(b, n), n);
	assert_int_equal(wire_get_u16(b + 2), 0x8000);
	/* Malformed: a count with no record behind it, or a query. */
	n = mkresp(b, sizeof(b), 0x8400, "web.shop.svc.cluster.local",
	           DNS_TYPE_A, ans, 1, NULL, 0, false);
	wire_put_u16(b + 6, 2);
	assert_int_equal(rrl_slip(b, n), 0);
	wire_put_u16(b + 2, 0x0100);
	assert_int_equal(rrl_slip(b, n), 0);
	assert_int_equal(rrl_slip(b, 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rrl_create_rejects_bad_options),
		cmocka_unit_test(test_rrl_check_rate),
		cmocka_unit_test(test_rrl_check_burst_option),
		cmocka_unit_test(test_rrl_check_slip_cadence),
		cmocka_unit_test(test_rrl_check_slip_restarts_after_a_token),
		cmocka_unit_test(test_rrl_check_prefix_aggregation),
		cmocka_unit_test(test_rrl_check_exempt_prefixes),
		cmocka_unit_test(test_rrl_check_log_only),
		cmocka_unit_test(test_rrl_check_unknown_family_passes),
		cmocka_unit_test(test_rrl_check_table_bound_1m_sources),
		cmocka_unit_test(test_rrl_check_table_grows_keeping_state),
		cmocka_unit_test(test_rrl_check_table_stays_small),
		cmocka_unit_test(test_rrl_classify_responses),
		cmocka_unit_test(test_rrl_check_response_keys_nxdomain_by_zone),
		cmocka_unit_test(test_rrl_slip_forms),
	};

	/* "rrl: limiting ..." lines would clutter the report. */
	log_set_level(LOG_LEVEL_ERR);
	return cmocka_run_group_tests_name("rrl", tests, NULL, NULL);
}
