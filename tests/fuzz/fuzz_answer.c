/* Fuzz target for answer.c: parse -> build the response -> parse it back
 * (RELIABILITY L16 (3), as BIND's dns_message_parse round trip). A small
 * snapshot is built once from the YAML fixture below; every input is then
 * answered over UDP and TCP, with forwarding on and off, and before the
 * first load (no snapshot), and each response must hold the invariants of
 * RELIABILITY 2.1:
 *   - a response iff the input has a header and QR=0; ID and OPCODE copied,
 *     QR=1, Z=AD=0; RA only when the client may recurse, and never on
 *     FORMERR, NOTIMP or BADVERS;
 *   - it parses back with wire_rd: the header counts match the records,
 *     every record and every name inside A/AAAA/CNAME/NS/PTR/SOA/SRV/TXT
 *     RDATA lies within the message, nothing follows the last record;
 *   - the question, when echoed, is the query's bytes exactly, and it is
 *     echoed only if exactly one question parsed;
 *   - our OPT (size 1232, version 0, no options, DO copied) iff the query
 *     held one good OPT, at most one, in the additional section;
 *   - over UDP at most max(512, EDNS size) capped at 1232 octets;
 *   - TC only over UDP, only on NOERROR/NXDOMAIN, and then with the
 *     question and OPT alone; info agrees with the header;
 *   - error rcodes carry no records; NOTIMP for an opcode != 0 has every
 *     flag but QR clear and no question; FORMERR keeps only RD;
 *   - FORWARD only when asked for, on a good RD=1 query, outside the zones
 *     or (NXDOMAIN) in a reverse or --fallthrough zone; CHASE only then
 *     too, with a NOERROR chain of CNAMEs ending at a name outside them;
 *   - the same query answered twice (no rotation) gives the same bytes.
 * A failed check aborts, so libFuzzer saves the input.
 *
 *   make fuzz FUZZ_SECONDS=300   (every target; or build this one alone:)
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-Itests/fuzz -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *	tests/fuzz/fuzz_answer.c src/{arena,log,diag,dname,wire,cache,config,\
 *	k8s,selector,manifest,bluegreen,snapshot,answer}.c -lyaml -lpthread \
 *	-o fuzz_answer
 *   ./fuzz_answer tests/fuzz/corpus/answer
 *
 * Seeds: tests/fuzz/corpus/answer, the query bytes of the RELIABILITY 2.2
 * cases ("dnscases --write-corpus") plus queries for the fixture's names. */
#include "fuzz.h"

#include "svcdns/answer.h"
#include "svcdns/diag.h"
#include "svcdns/dname.h"
#include "svcdns/k8s.h"
#include "svcdns/log.h"
#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"
#include "svcdns/wire.h"

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

/* The fixture: in shop, a dual-stack ClusterIP with a named port (web), an
 * IPv4-only one (api), a headless service with hostnames and an IPv6 slice
 * (db), ExternalNames in zone, out of zone, dangling and in a loop, a pod,
 * and two headless services with 40 and 120 endpoints appended at run time
 * (answers between 512 and 1232 octets, and over 1232: truncation). */
static const char fz_fixture[] =
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata: {name: shop}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec:\n"
	"  clusterIP: 10.96.0.20\n"
	"  clusterIPs: [10.96.0.20, 'fd00::20']\n"
	"  ports:\n"
	"  - {name: http, port: 80, protocol: TCP}\n"
	"  - {name: dns, port: 53, protocol: UDP}\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\n"
	"kind: EndpointSlice\n"
	"metadata:\n"
	"  name: web-1\n"
	"  namespace: shop\n"
	"  labels: {kubernetes.io/service-name: web}\n"
	"addressType: IPv4\n"
	"endpoints:\n"
	"- {addresses: [10.244.1.1], hostname: web-0, conditions: {ready: true}}\n"
	"- {addresses: [10.244.1.2], conditions: {ready: false}}\n"
	"ports:\n"
	"- {name: http, port: 8080, protocol: TCP}\n"
	"- {name: dns, port: 5353, protocol: UDP}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: api, namespace: shop}\n"
	"spec:\n"
	"  clusterIP: 10.96.0.21\n"
	"  ports: [{name: grpc, port: 9090, protocol: TCP}]\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: db, namespace: shop}\n"
	"spec:\n"
	"  clusterIP: None\n"
	"  ports: [{name: pg, port: 5432}]\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\n"
	"kind: EndpointSlice\n"
	"metadata:\n"
	"  name: db-1\n"
	"  namespace: shop\n"
	"  labels: {kubernetes.io/service-name: db}\n"
	"addressType: IPv4\n"
	"endpoints:\n"
	"- {addresses: [10.244.4.1], hostname: db-0}\n"
	"- {addresses: [10.244.4.2], hostname: db-1}\n"
	"ports: [{name: pg, port: 5432, protocol: TCP}]\n"
	"---\n"
	"apiVersion: discovery.k8s.io/v1\n"
	"kind: EndpointSlice\n"
	"metadata:\n"
	"  name: db-2\n"
	"  namespace: shop\n"
	"  labels: {kubernetes.io/service-name: db}\n"
	"addressType: IPv6\n"
	"endpoints:\n"
	"- {addresses: ['fd00::4:1'], hostname: db-0}\n"
	"ports: [{name: pg, port: 5432, protocol: TCP}]\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: alias, namespace: shop}\n"
	"spec: {type: ExternalName, externalName: web.shop.svc.cluster.local}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: ext, namespace: shop}\n"
	"spec: {type: ExternalName, externalName: www.example.com}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: dangling, namespace: shop}\n"
	"spec: {type: ExternalName, externalName: nothere.shop.svc.cluster.local}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: loop-a, namespace: shop}\n"
	"spec: {type: ExternalName, externalName: loop-b.shop.svc.cluster.local}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Service\n"
	"metadata: {name: loop-b, namespace: shop}\n"
	"spec: {type: ExternalName, externalName: loop-a.shop.svc.cluster.local}\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: Pod\n"
	"metadata: {name: p1, namespace: shop}\n"
	"spec: {containers: [{name: c, image: x}]}\n"
	"status:\n"
	"  phase: Running\n"
	"  podIP: 10.244.9.9\n"
	"  podIPs: [{ip: 10.244.9.9}, {ip: 'fd00::9'}]\n"
	"  conditions: [{type: Ready, status: 'True'}]\n";

#define FZ_YAML_MAX 32768

/* Appends a headless service with n ready endpoints 10.244.<net>.1..n. */
static size_t fz_headless(char *buf, size_t pos, const char *name, int net,
                          int n)
{
	int w = snprintf(
		buf + pos, FZ_YAML_MAX - pos,
		"---\napiVersion: v1\nkind: Service\n"
		"metadata: {name: %s, namespace: shop}\n"
		"spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n"
		"---\napiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata: {name: %s-1, namespace: shop, labels: "
		"{kubernetes.io/service-name: %s}}\n"
		"addressType: IPv4\n"
		"ports: [{name: http, port: 80, protocol: TCP}]\n"
		"endpoints:\n",
		name, name, name);

	CHECK(w > 0 && (size_t)w < FZ_YAML_MAX - pos);
	pos += (size_t)w;
	for (int i = 1; i <= n; i++) {
		w = snprintf(buf + pos, FZ_YAML_MAX - pos,
		             "- {addresses: [10.244.%d.%d]}\n", net, i);
		CHECK(w > 0 && (size_t)w < FZ_YAML_MAX - pos);
		pos += (size_t)w;
	}
	return pos;
}

/* The snapshot every input is answered from, built on first use (replay.c
 * has no initialisation hook). It stays reachable until exit. */
static const struct snapshot *fz_snapshot(void)
{
	static struct snapshot *snap;
	static const char *const zones[] = { "cluster.local", "k8s.example" };
	struct snapshot_opts o;
	struct k8s_file *file = NULL;
	const struct k8s_file *files[1];
	struct k8s_ip ns;
	struct diag d;
	char *yaml;
	size_t len;

	if (snap != NULL) {
		return snap;
	}
	log_set_level(LOG_LEVEL_ERR);
	yaml = malloc(FZ_YAML_MAX);
	CHECK(yaml != NULL);
	len = strlen(fz_fixture);
	memcpy(yaml, fz_fixture, len);
	len = fz_headless(yaml, len, "mid", 11, 40);
	len = fz_headless(yaml, len, "big", 10, 120);
	diag_init(&d);
	if (manifest_load_buffer("fixture.yaml", yaml, len, NULL, &file, &d) !=
	    0) {
		diag_print(&d, stderr);
		CHECK(!"the fixture loads");
	}
	CHECK(k8s_ip_parse("127.0.0.1", &ns) == 0);
	memset(&o, 0, sizeof(o));
	o.zones = zones;
	o.n_zones = 2;
	o.pods = SNAPSHOT_PODS_INSECURE;
	o.ttl = 30;
	o.ns_addrs = &ns;
	o.n_ns_addrs = 1;
	files[0] = file;
	snap = snapshot_build(files, 1, &o, 2024, &d);
	if (snap == NULL) {
		diag_print(&d, stderr);
	}
	CHECK(snap != NULL);
	diag_fini(&d);
	k8s_file_destroy(file);
	free(yaml);
	return snap;
}

/* What parsing a response back found. */
struct fz_resp {
	uint16_t id;
	uint16_t flags;
	uint16_t qd, an, ns, ar;
	size_t qend;
	bool opt;
	uint16_t opt_size;
	uint32_t opt_ttl;
	uint16_t opt_rdlen;
	unsigned rcode; /* extended */
};

/* A name inside RDATA at *pos (compression allowed), within the message. */
static void fz_rdata_name(const uint8_t *p, size_t len, size_t *pos)
{
	struct wire_rd rd;
	uint8_t name[DNAME_MAXLEN];
	size_t nl = 0;

	wire_rd_init(&rd, p, len);
	rd.pos = *pos;
	wire_rd_name(&rd, name, &nl, true);
	CHECK(rd.err == 0);
	*pos = rd.pos;
}

/* The RDATA of the types we serve: fixed sizes, and names that decompress
 * and end exactly at the end of the RDATA. */
static void fz_check_rdata(const uint8_t *p, size_t len, uint16_t type,
                           size_t rdata, uint16_t rdlen)
{
	size_t end = rdata + rdlen;
	size_t pos = rdata;

	switch (type) {
	case DNS_TYPE_A:
		CHECK(rdlen == 4);
		break;
	case DNS_TYPE_AAAA:
		CHECK(rdlen == 16);
		break;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_NS:
	case DNS_TYPE_PTR:
		fz_rdata_name(p, len, &pos);
		CHECK(pos == end);
		break;
	case DNS_TYPE_SOA:
		fz_rdata_name(p, len, &pos);
		fz_rdata_name(p, len, &pos);
		CHECK(pos + 20 == end);
		break;
	case DNS_TYPE_SRV:
		CHECK(rdlen > 6);
		pos += 6;
		fz_rdata_name(p, len, &pos);
		CHECK(pos == end);
		break;
	case DNS_TYPE_TXT:
		CHECK(rdlen >= 1);
		while (pos < end) {
			pos += 1 + (size_t)p[pos];
		}
		CHECK(pos == end);
		break;
	default:
		break;
	}
}

/* Parses p[0..len) back with wire_rd; aborts on anything out of bounds. */
static void fz_parse(const uint8_t *p, size_t len, struct fz_resp *r)
{
	struct wire_rd rd;
	uint8_t name[DNAME_MAXLEN];
	size_t nl = 0;
	unsigned total;

	memset(r, 0, sizeof(*r));
	CHECK(len >= WIRE_HEADER_LEN);
	wire_rd_init(&rd, p, len);
	r->id = wire_rd_u16(&rd);
	r->flags = wire_rd_u16(&rd);
	r->qd = wire_rd_u16(&rd);
	r->an = wire_rd_u16(&rd);
	r->ns = wire_rd_u16(&rd);
	r->ar = wire_rd_u16(&rd);
	r->rcode = r->flags & WIRE_RCODE_MASK;
	CHECK(r->qd <= 1);
	if (r->qd == 1) {
		wire_rd_name(&rd, name, &nl, false);
		(void)wire_rd_u16(&rd);
		(void)wire_rd_u16(&rd);
		CHECK(rd.err == 0);
	}
	r->qend = rd.pos;
	total = (unsigned)r->an + r->ns + r->ar;
	for (unsigned i = 0; i < total; i++) {
		size_t owner = rd.pos;
		uint16_t type;
		uint16_t rclass;
		uint32_t ttl;
		uint16_t rdlen;
		size_t rdata;

		wire_rd_name(&rd, name, &nl, true);
		type = wire_rd_u16(&rd);
		rclass = wire_rd_u16(&rd);
		ttl = wire_rd_u32(&rd);
		rdlen = wire_rd_u16(&rd);
		rdata = rd.pos;
		wire_rd_bytes(&rd, NULL, rdlen);
		CHECK(rd.err == 0);
		if (type == DNS_TYPE_OPT) {
			/* One OPT, root owner, additional section only. */
			CHECK(i >= (unsigned)r->an + r->ns);
			CHECK(!r->opt);
			CHECK(p[owner] == 0);
			r->opt = true;
			r->opt_size = rclass;
			r->opt_ttl = ttl;
			r->opt_rdlen = rdlen;
			r->rcode |= (ttl >> 24) << 4;
			continue;
		}
		CHECK(rclass == DNS_CLASS_IN);
		fz_check_rdata(p, len, type, rdata, rdlen);
	}
	CHECK(wire_rd_left(&rd) == 0);
}

/* The UDP limit of RELIABILITY 2.1, computed here, not by wire.c. */
static size_t fz_udp_limit(const struct wire_query *q)
{
	size_t lim = WIRE_UDP_MIN;

	if (q->opt_ok && q->edns_udp > lim) {
		lim = q->edns_udp;
	}
	return lim > WIRE_EDNS_ADVERTISE ? WIRE_EDNS_ADVERTISE : lim;
}

/* Checks a REPLY against the query and the rules of 2.1. */
/* How one call was made. */
struct fz_call {
	bool tcp;
	bool forward; /* opts.forward and opts.ra: the client may recurse */
	bool have_snap;
};

/* RA is answer_query's to set on a final REPLY only: FORWARD and CHASE
 * responses are finished by the server. */
#define FZ_FINAL true

static void fz_check_reply(const uint8_t *data, size_t size,
                           const struct wire_query *q, enum wire_status st,
                           const struct fz_call *c, bool final,
                           const uint8_t *resp, size_t len,
                           const struct answer_info *info)
{
	struct fz_resp r;
	struct wire_query back;
	bool tcp = c->tcp;
	bool tc;
	bool bare;

	fz_parse(resp, len, &r);
	tc = (r.flags & WIRE_FLAG_TC) != 0;
	CHECK(r.id == wire_get_u16(data));
	CHECK((r.flags & WIRE_FLAG_QR) != 0);
	CHECK((r.flags & WIRE_OPCODE_MASK) == (q->flags & WIRE_OPCODE_MASK));
	CHECK((r.flags & (WIRE_FLAG_Z | WIRE_FLAG_AD)) == 0);
	/* RFC 5358: RA iff the client may recurse; 2.1: never on these. */
	bare = r.rcode == DNS_RCODE_FORMERR || r.rcode == DNS_RCODE_NOTIMP ||
	       r.rcode == DNS_RCODE_BADVERS;
	CHECK(((r.flags & WIRE_FLAG_RA) != 0) ==
	      (final && c->forward && !bare));
	/* The question: the query's own octets, only if one parsed. */
	if (r.qd == 1) {
		CHECK(q->question_ok);
		CHECK(r.qend == q->question_end && q->question_end <= size);
		CHECK(memcmp(resp + WIRE_HEADER_LEN, data + WIRE_HEADER_LEN,
		             q->question_end - WIRE_HEADER_LEN) == 0);
	}
	/* Our OPT iff the query had exactly one good OPT. */
	CHECK(r.opt == q->opt_ok);
	if (r.opt) {
		CHECK(r.opt_size == WIRE_EDNS_ADVERTISE);
		CHECK(((r.opt_ttl >> 16) & 0xff) == 0);
		CHECK((r.opt_ttl & 0xffff & ~WIRE_EDNS_FLAG_DO) == 0);
		CHECK(((r.opt_ttl & WIRE_EDNS_FLAG_DO) != 0) == q->edns_do);
		CHECK(r.opt_rdlen == 0);
	}
	if (!tcp) {
		CHECK(len <= fz_udp_limit(q));
	}
	/* TC: UDP only, NOERROR/NXDOMAIN only, question (+ OPT) alone. */
	if (tc) {
		CHECK(!tcp);
		CHECK(r.rcode == DNS_RCODE_NOERROR ||
		      r.rcode == DNS_RCODE_NXDOMAIN);
		CHECK(r.qd == 1 && r.an == 0 && r.ns == 0);
		CHECK(r.ar == (r.opt ? 1 : 0));
	}
	CHECK(info->truncated == tc);
	CHECK(info->rcode == r.rcode);
	CHECK(info->status == st);
	/* Errors carry no records, and never AA. */
	if (r.rcode != DNS_RCODE_NOERROR && r.rcode != DNS_RCODE_NXDOMAIN) {
		CHECK(r.an == 0 && r.ns == 0 && r.ar == (r.opt ? 1 : 0));
		CHECK((r.flags & WIRE_FLAG_AA) == 0);
	}
	switch (st) {
	case WIRE_Q_FORMERR:
		CHECK(r.rcode == DNS_RCODE_FORMERR);
		CHECK((r.flags & ~(WIRE_FLAG_QR | WIRE_OPCODE_MASK |
		                   WIRE_FLAG_RD | WIRE_RCODE_MASK)) == 0);
		CHECK((r.flags & WIRE_FLAG_RD) == (q->flags & WIRE_FLAG_RD));
		CHECK(r.qd == (q->question_ok ? 1 : 0));
		break;
	case WIRE_Q_NOTIMP:
		CHECK(r.rcode == DNS_RCODE_NOTIMP);
		CHECK((r.flags & ~(WIRE_FLAG_QR | WIRE_OPCODE_MASK |
		                   WIRE_RCODE_MASK)) == 0);
		if (q->opcode != 0) {
			CHECK(r.qd == 0);
		}
		break;
	case WIRE_Q_BADVERS:
		CHECK(r.rcode == DNS_RCODE_BADVERS && r.opt && r.qd == 1);
		break;
	case WIRE_Q_OK:
		CHECK(r.qd == 1);
		if (q->qclass != DNS_CLASS_IN) {
			CHECK(r.rcode == DNS_RCODE_REFUSED);
		} else if (q->qtype == DNS_TYPE_AXFR ||
		           q->qtype == DNS_TYPE_IXFR) {
			CHECK(r.rcode ==
			      (tcp ? DNS_RCODE_REFUSED : DNS_RCODE_NOTIMP));
		} else if (!c->have_snap) {
			CHECK(r.rcode == DNS_RCODE_SERVFAIL ||
			      r.rcode == DNS_RCODE_REFUSED);
		} else {
			CHECK(r.rcode == DNS_RCODE_NOERROR ||
			      r.rcode == DNS_RCODE_NXDOMAIN ||
			      r.rcode == DNS_RCODE_REFUSED);
			CHECK(info->in_zone == (r.rcode != DNS_RCODE_REFUSED));
			CHECK(((r.flags & WIRE_FLAG_AA) != 0) == info->in_zone);
		}
		break;
	case WIRE_Q_DROP:
	default:
		CHECK(!"a reply to a message that must be dropped");
	}
	/* A response is never taken for a query. */
	CHECK(wire_parse_query(resp, len, &back) == WIRE_Q_DROP);
}

/* ANSWER_FORWARD: only for a client that may recurse, on a good RD=1
 * query of class IN that is no transfer; in zone, only an NXDOMAIN (a
 * reverse or --fallthrough zone), whose response must then be valid. */
static void fz_check_forward(const uint8_t *data, size_t size,
                             const struct wire_query *q, enum wire_status st,
                             const struct fz_call *c, const uint8_t *resp,
                             size_t len, const struct answer_info *info)
{
	struct fz_resp r;

	CHECK(c->forward && c->have_snap);
	CHECK(st == WIRE_Q_OK && (q->flags & WIRE_FLAG_RD) != 0);
	CHECK(q->qclass == DNS_CLASS_IN);
	CHECK(q->qtype != DNS_TYPE_AXFR && q->qtype != DNS_TYPE_IXFR);
	if (!info->in_zone) {
		return;
	}
	CHECK(len >= WIRE_HEADER_LEN && len <= WIRE_MSG_MAX);
	fz_check_reply(data, size, q, st, c, !FZ_FINAL, resp, len, info);
	fz_parse(resp, len, &r);
	CHECK(r.rcode == DNS_RCODE_NXDOMAIN);
}

/* ANSWER_CHASE: a valid NOERROR response whose answer is CNAMEs only,
 * and info->chase a well-formed name (the chain's end, outside every
 * zone, to be looked up upstream). */
static void fz_check_chase(const uint8_t *data, size_t size,
                           const struct wire_query *q, enum wire_status st,
                           const struct fz_call *c, const uint8_t *resp,
                           size_t len, const struct answer_info *info)
{
	struct fz_resp r;
	size_t n = 0;

	CHECK(c->forward && c->have_snap);
	CHECK(st == WIRE_Q_OK && (q->flags & WIRE_FLAG_RD) != 0);
	CHECK(len >= WIRE_HEADER_LEN && len <= WIRE_MSG_MAX);
	fz_check_reply(data, size, q, st, c, !FZ_FINAL, resp, len, info);
	fz_parse(resp, len, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an >= 1 && r.ns == 0);
	CHECK((r.flags & WIRE_FLAG_TC) == 0);
	CHECK(info->chase_len >= 1 && info->chase_len <= DNAME_MAXLEN);
	CHECK(dname_check(info->chase, info->chase_len, &n) == 0 &&
	      n == info->chase_len);
}

/* Answers the input with the options of c and checks the result. */
static void fz_one(const struct snapshot *snap, const uint8_t *data,
                   size_t size, const struct wire_query *q, enum wire_status st,
                   const struct fz_call *c)
{
	static uint8_t resp[WIRE_MSG_MAX];
	static uint8_t again[WIRE_MSG_MAX];
	struct answer_opts o;
	struct answer_state as = { .rotor = 0 };
	struct answer_info info;
	struct answer_info info2;
	size_t len = 1;
	size_t len2 = 2;
	bool must_drop =
		size < WIRE_HEADER_LEN || (data[2] & (WIRE_FLAG_QR >> 8)) != 0;
	enum answer_verdict v;

	memset(&o, 0, sizeof(o));
	o.forward = c->forward;
	o.ra = c->forward;
	o.max_udp = WIRE_EDNS_ADVERTISE;
	if (c->forward) {
		/* NXDOMAIN in the second zone goes upstream (row 31). */
		CHECK(dname_from_text("k8s.example", o.fallthrough[0],
		                      sizeof(o.fallthrough[0]), &len) == 0);
		o.fallthrough_len[0] = (uint8_t)len;
		o.n_fallthrough = 1;
	}
	v = answer_query(snap, &o, &as, data, size, c->tcp, resp, sizeof(resp),
	                 &len, &info);
	if (v == ANSWER_DROP) {
		CHECK(must_drop && len == 0);
		return;
	}
	CHECK(!must_drop);
	switch (v) {
	case ANSWER_FORWARD:
		fz_check_forward(data, size, q, st, c, resp, len, &info);
		return;
	case ANSWER_CHASE:
		fz_check_chase(data, size, q, st, c, resp, len, &info);
		break;
	case ANSWER_REPLY:
		CHECK(len >= WIRE_HEADER_LEN && len <= sizeof(resp));
		fz_check_reply(data, size, q, st, c, FZ_FINAL, resp, len,
		               &info);
		break;
	case ANSWER_DROP:
	default:
		CHECK(!"an unknown verdict");
	}
	/* Deterministic without rotation. */
	CHECK(answer_query(snap, &o, &as, data, size, c->tcp, again,
	                   sizeof(again), &len2, &info2) == v);
	CHECK(len2 == len && memcmp(resp, again, len) == 0);
	/* With rotation: the same length and header (records reordered). */
	o.rotate = true;
	as.rotor = (uint32_t)size;
	CHECK(answer_query(snap, &o, &as, data, size, c->tcp, again,
	                   sizeof(again), &len2, &info2) == v);
	CHECK(len2 == len && memcmp(resp, again, WIRE_HEADER_LEN) == 0);
	fz_check_reply(data, size, q, st, c, v == ANSWER_REPLY, again, len2,
	               &info2);
}

/* The UDP batch's cache warming (server.c udp_prefetch) on hostile
 * input: never out of bounds (the sanitizer build checks), and for a
 * name that exists the node it warms is the one the lookup finds. */
static void fz_prefetch(const struct snapshot *snap, const uint8_t *data,
                        size_t size)
{
	uint8_t lname[DNAME_MAXLEN];
	uint16_t qtype = 0;
	size_t len = wire_peek_question(data, size, lname, &qtype);
	const struct snapshot_node *n;
	const struct snapshot_node *found;

	if (len == 0) {
		return;
	}
	CHECK(len <= DNAME_MAXLEN && lname[len - 1] == 0);
	n = snapshot_prefetch_node(snap,
	                           snapshot_prefetch_slot(snap, lname, len));
	if (n != NULL) {
		snapshot_prefetch_resp(snap, n, qtype);
	}
	found = snapshot_lookup(snap, lname, len);
	CHECK(found == NULL || n != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fz_call calls[] = {
		{ .tcp = false, .forward = false, .have_snap = true },
		{ .tcp = true, .forward = false, .have_snap = true },
		{ .tcp = false, .forward = true, .have_snap = true },
		{ .tcp = true, .forward = true, .have_snap = true },
		{ .tcp = false, .forward = false, .have_snap = false },
	};
	const struct snapshot *snap = fz_snapshot();
	struct wire_query q;
	enum wire_status st = wire_parse_query(data, size, &q);

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		fz_one(calls[i].have_snap ? snap : NULL, data, size, &q, st,
		       &calls[i]);
	}
	fz_prefetch(snap, data, size);
	return 0;
}
