/* cache_seeds: writes the seed corpus of tests/fuzz/fuzz_cache.c, upstream
 * answers of the kinds a forwarder meets (RELIABILITY.md 2.4), each
 * preceded by fuzz_cache's control octet:
 *
 *   cache_seeds DIR
 *
 * One file per seed, DIR/NAME; existing files are replaced. The answers
 * are built here with compression as real servers use it (the owner names
 * point at the question), so that the fuzzer starts from realistic bytes:
 * A/AAAA with EDNS, a CNAME chain, NXDOMAIN and NODATA with an SOA, a
 * referral with glue, out-of-bailiwick records (poisoning attempts),
 * DNAME, MX, SRV, TXT, a large RRset, TC=1, SERVFAIL, REFUSED, an OPT with
 * an extended RCODE, a TSIG record, the 0x20 spelling, and a mismatch. */
#include "svcdns/dname.h"
#include "svcdns/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX 8192

/* fuzz_cache's control octet: bit 0 = the question is the answer's own;
 * bit 2 = the client has EDNS; bits 4-5 = its UDP limit. */
#define CTL_OWN  0x01
#define CTL_FLIP 0x02
#define CTL_EDNS 0x04
#define CTL_DO   0x08
#define CTL_512  0x00
#define CTL_1232 0x10
#define CTL_TCP  0x30

struct seed {
	uint8_t buf[SEED_MAX];
	struct wire_wr w;
	size_t counts; /* offset of ANCOUNT */
	uint16_t n[3];
	unsigned sec;
};

static void seed_name(struct seed *s, const char *text)
{
	uint8_t name[DNAME_MAXLEN];
	size_t len = 0;

	if (dname_from_text(text, name, sizeof(name), &len) != 0) {
		fprintf(stderr, "cache_seeds: bad name %s\n", text);
		exit(2);
	}
	wire_wr_bytes(&s->w, name, len);
}

/* Header (ID 0x1234, flags) and question; the name as given (its case). */
static void seed_begin(struct seed *s, uint8_t ctl, uint16_t flags,
                       const char *qname, uint16_t qtype)
{
	memset(s, 0, sizeof(*s));
	wire_wr_init(&s->w, s->buf, sizeof(s->buf));
	wire_wr_u8(&s->w, ctl);
	wire_wr_u16(&s->w, 0x1234);
	wire_wr_u16(&s->w, flags);
	wire_wr_u16(&s->w, 1);
	s->counts = s->w.pos;
	wire_wr_bytes(&s->w, "\0\0\0\0\0\0", 6);
	seed_name(s, qname);
	wire_wr_u16(&s->w, qtype);
	wire_wr_u16(&s->w, DNS_CLASS_IN);
}

static void seed_section(struct seed *s, unsigned sec)
{
	s->sec = sec;
}

/* A record header: owner (text, or NULL for a pointer to the question at
 * offset 12), type, TTL; the RDATA follows through seed_rd*. Returns the
 * offset of RDLENGTH. */
static size_t seed_rr(struct seed *s, const char *owner, uint16_t type,
                      uint32_t ttl)
{
	size_t lenpos;

	if (owner == NULL) {
		wire_wr_u16(&s->w, 0xc00c);
	} else {
		seed_name(s, owner);
	}
	wire_wr_u16(&s->w, type);
	wire_wr_u16(&s->w, DNS_CLASS_IN);
	wire_wr_u32(&s->w, ttl);
	lenpos = s->w.pos;
	wire_wr_u16(&s->w, 0);
	s->n[s->sec]++;
	return lenpos;
}

static void seed_rd_end(struct seed *s, size_t lenpos)
{
	wire_put_u16(s->buf + lenpos, (uint16_t)(s->w.pos - lenpos - 2));
}

static void seed_a(struct seed *s, const char *owner, uint8_t last)
{
	size_t l = seed_rr(s, owner, DNS_TYPE_A, 300);
	uint8_t a[4] = { 192, 0, 2, last };

	wire_wr_bytes(&s->w, a, 4);
	seed_rd_end(s, l);
}

static void seed_aaaa(struct seed *s, const char *owner)
{
	size_t l = seed_rr(s, owner, DNS_TYPE_AAAA, 300);
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		          0,    0,    0,    0,    0, 0, 0, 0x10 };

	wire_wr_bytes(&s->w, a, 16);
	seed_rd_end(s, l);
}

static void seed_namerr(struct seed *s, const char *owner, uint16_t type,
                        const char *target)
{
	size_t l = seed_rr(s, owner, type, 300);

	seed_name(s, target);
	seed_rd_end(s, l);
}

static void seed_soa(struct seed *s, const char *zone, uint32_t minimum)
{
	size_t l = seed_rr(s, zone, DNS_TYPE_SOA, 3600);
	char mname[300];

	snprintf(mname, sizeof(mname), "ns1.%s", zone);
	seed_name(s, mname);
	snprintf(mname, sizeof(mname), "hostmaster.%s", zone);
	seed_name(s, mname);
	wire_wr_u32(&s->w, 2026112701);
	wire_wr_u32(&s->w, 7200);
	wire_wr_u32(&s->w, 1800);
	wire_wr_u32(&s->w, 86400);
	wire_wr_u32(&s->w, minimum);
	seed_rd_end(s, l);
}

static void seed_opt(struct seed *s, uint8_t ext_rcode, bool do_bit)
{
	seed_section(s, 2);
	wire_wr_opt(&s->w, 1232, ext_rcode, do_bit);
	s->n[2]++;
}

static int seed_write(struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	wire_put_u16(s->buf + s->counts, s->n[0]);
	wire_put_u16(s->buf + s->counts + 2, s->n[1]);
	wire_put_u16(s->buf + s->counts + 4, s->n[2]);
	if (s->w.err != 0) {
		fprintf(stderr, "cache_seeds: %s does not fit\n", name);
		return -EMSGSIZE;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->buf, 1, s->w.pos, f) != s->w.pos ||
	    fclose(f) != 0) {
		perror(path);
		return -EIO;
	}
	return 0;
}

#define RESP 0x8180 /* QR RD RA, NOERROR */

int main(int argc, char **argv)
{
	static struct seed s;
	const char *d;
	int err = 0;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: cache_seeds DIR\n");
		return 2;
	}
	d = argv[1];

	seed_begin(&s, CTL_OWN | CTL_EDNS, RESP, "www.example.test",
	           DNS_TYPE_A);
	seed_a(&s, NULL, 10);
	seed_opt(&s, 0, false);
	err |= seed_write(&s, d, "a-edns");

	seed_begin(&s, CTL_OWN | CTL_EDNS | CTL_DO | CTL_1232, RESP,
	           "www.example.test", DNS_TYPE_AAAA);
	seed_aaaa(&s, NULL);
	seed_section(&s, 1);
	seed_namerr(&s, "example.test", DNS_TYPE_NS, "ns1.example.test");
	seed_section(&s, 2);
	seed_a(&s, "ns1.example.test", 53);
	seed_opt(&s, 0, true);
	err |= seed_write(&s, d, "aaaa-ns-glue");

	/* The 0x20 spelling the forwarder sends, echoed. */
	seed_begin(&s, CTL_OWN, RESP, "wWw.ExAmPlE.tEsT", DNS_TYPE_A);
	seed_a(&s, NULL, 10);
	err |= seed_write(&s, d, "a-0x20");

	/* The same, with the question's case flipped by the control octet. */
	seed_begin(&s, CTL_OWN | CTL_FLIP, RESP, "wWw.ExAmPlE.tEsT",
	           DNS_TYPE_A);
	seed_a(&s, NULL, 10);
	err |= seed_write(&s, d, "a-0x20-mismatch");

	seed_begin(&s, CTL_OWN | CTL_EDNS, RESP, "alias.example.test",
	           DNS_TYPE_A);
	seed_namerr(&s, NULL, DNS_TYPE_CNAME, "chain2.example.test");
	seed_namerr(&s, "chain2.example.test", DNS_TYPE_CNAME,
	            "www.example.test");
	seed_a(&s, "www.example.test", 10);
	seed_opt(&s, 0, false);
	err |= seed_write(&s, d, "cname-chain");

	/* CNAME to another zone: that zone's records are out of bailiwick
	 * only if off the chain. */
	seed_begin(&s, CTL_OWN | CTL_TCP, RESP, "cdn.example.test", DNS_TYPE_A);
	seed_namerr(&s, NULL, DNS_TYPE_CNAME, "edge.cdn.example.net");
	seed_a(&s, "edge.cdn.example.net", 99);
	seed_a(&s, "www.bank.example", 66); /* off the chain */
	seed_section(&s, 1);
	seed_namerr(&s, "bank.example", DNS_TYPE_NS, "ns.evil.example");
	seed_section(&s, 2);
	seed_a(&s, "ns.evil.example", 66);
	err |= seed_write(&s, d, "poison-off-chain");

	seed_begin(&s, CTL_OWN | CTL_EDNS, 0x8183, "nope.example.test",
	           DNS_TYPE_A);
	seed_section(&s, 1);
	seed_soa(&s, "example.test", 60);
	seed_opt(&s, 0, false);
	err |= seed_write(&s, d, "nxdomain-soa");

	seed_begin(&s, CTL_OWN, 0x8183, "nope.example.test", DNS_TYPE_A);
	err |= seed_write(&s, d, "nxdomain-bare");

	seed_begin(&s, CTL_OWN, RESP, "www.example.test", DNS_TYPE_MX);
	seed_section(&s, 1);
	seed_soa(&s, "example.test", 30);
	seed_soa(&s, "other.example", 30); /* not above the name */
	err |= seed_write(&s, d, "nodata-soa");

	/* A referral (RD=0 upstream, NS + glue, no answer). */
	seed_begin(&s, CTL_OWN, 0x8000, "www.sub.example.test", DNS_TYPE_A);
	seed_section(&s, 1);
	seed_namerr(&s, "sub.example.test", DNS_TYPE_NS, "ns.sub.example.test");
	seed_section(&s, 2);
	seed_a(&s, "ns.sub.example.test", 7);
	seed_a(&s, "ns.elsewhere.example", 8);
	err |= seed_write(&s, d, "referral");

	seed_begin(&s, CTL_OWN, RESP, "x.dn.example.test", DNS_TYPE_A);
	seed_namerr(&s, "dn.example.test", 39 /* DNAME */, "dn.example.net");
	seed_namerr(&s, NULL, DNS_TYPE_CNAME, "x.dn.example.net");
	seed_a(&s, "x.dn.example.net", 5);
	err |= seed_write(&s, d, "dname");

	seed_begin(&s, CTL_OWN, RESP, "example.test", DNS_TYPE_MX);
	{
		size_t l = seed_rr(&s, NULL, DNS_TYPE_MX, 300);

		wire_wr_u16(&s.w, 10);
		wire_wr_u16(&s.w, 0xc00c); /* "example.test" compressed */
		seed_rd_end(&s, l);
	}
	err |= seed_write(&s, d, "mx-compressed");

	seed_begin(&s, CTL_OWN, RESP, "_sip._udp.example.test", DNS_TYPE_SRV);
	{
		size_t l = seed_rr(&s, NULL, DNS_TYPE_SRV, 300);

		wire_wr_u16(&s.w, 1);
		wire_wr_u16(&s.w, 5);
		wire_wr_u16(&s.w, 5060);
		seed_name(&s, "sip.example.test");
		seed_rd_end(&s, l);
	}
	seed_section(&s, 2);
	seed_a(&s, "sip.example.test", 20);
	err |= seed_write(&s, d, "srv");

	seed_begin(&s, CTL_OWN | CTL_EDNS, RESP, "txt.example.test",
	           DNS_TYPE_TXT);
	{
		size_t l = seed_rr(&s, NULL, DNS_TYPE_TXT, 300);

		wire_wr_u8(&s.w, 19);
		wire_wr_bytes(&s.w, "forwarded by svcdns", 19);
		seed_rd_end(&s, l);
	}
	seed_opt(&s, 0, false);
	err |= seed_write(&s, d, "txt");

	/* 120 addresses: larger than 512 and 1232 octets. */
	seed_begin(&s, CTL_OWN | CTL_EDNS | CTL_1232, RESP, "big.example.test",
	           DNS_TYPE_A);
	for (i = 1; i <= 120; i++) {
		seed_a(&s, NULL, (uint8_t)i);
	}
	seed_opt(&s, 0, false);
	err |= seed_write(&s, d, "big-rrset");

	seed_begin(&s, CTL_OWN, RESP | WIRE_FLAG_TC, "big.example.test",
	           DNS_TYPE_A);
	err |= seed_write(&s, d, "tc");

	seed_begin(&s, CTL_OWN, 0x8182, "fail.example.test", DNS_TYPE_A);
	err |= seed_write(&s, d, "servfail");

	seed_begin(&s, CTL_OWN, 0x8185, "www.example.test", DNS_TYPE_A);
	err |= seed_write(&s, d, "refused");

	/* BADVERS: extended RCODE 1 in the OPT. */
	seed_begin(&s, CTL_OWN | CTL_EDNS, RESP, "www.example.test",
	           DNS_TYPE_A);
	seed_opt(&s, 1, false);
	err |= seed_write(&s, d, "opt-extended-rcode");

	seed_begin(&s, CTL_OWN, RESP, "www.example.test", DNS_TYPE_A);
	seed_a(&s, NULL, 10);
	seed_section(&s, 2);
	{
		size_t l = seed_rr(&s, "key.example.test", DNS_TYPE_TSIG, 0);

		seed_name(&s, "hmac-sha256");
		wire_wr_bytes(&s.w, "\0\0\0\0\0\0\x01\x2c\0\0\0\0\0\0", 14);
		seed_rd_end(&s, l);
	}
	err |= seed_write(&s, d, "tsig");

	/* The answer to another question than the one we sent. */
	seed_begin(&s, 0, RESP, "www.example.test", DNS_TYPE_AAAA);
	seed_aaaa(&s, NULL);
	err |= seed_write(&s, d, "wrong-type");

	/* QR=0: a query, not an answer. */
	seed_begin(&s, CTL_OWN, 0x0100, "www.example.test", DNS_TYPE_A);
	err |= seed_write(&s, d, "not-a-response");

	/* A compression loop in the answer's owner. */
	seed_begin(&s, CTL_OWN, RESP, "loop.example.test", DNS_TYPE_A);
	{
		size_t at = s.w.pos - 1; /* the control octet is not sent */
		size_t l;

		wire_wr_u16(&s.w, (uint16_t)(0xc000 | at));
		wire_wr_u16(&s.w, DNS_TYPE_A);
		wire_wr_u16(&s.w, DNS_CLASS_IN);
		wire_wr_u32(&s.w, 300);
		l = s.w.pos;
		wire_wr_u16(&s.w, 0);
		wire_wr_bytes(&s.w, "\xc0\x00\x02\x01", 4);
		seed_rd_end(&s, l);
		s.n[0]++;
	}
	err |= seed_write(&s, d, "ptr-loop");

	return err ? 1 : 0;
}
