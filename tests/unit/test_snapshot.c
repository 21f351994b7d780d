/* Snapshot building, lookup and publishing. The DNS rules themselves are
 * checked through answer_query in test_answer.c. */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svcdns/dname.h"
#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"
#include "svcdns/wire.h"

static struct k8s_file *load(const char *yaml)
{
	struct manifest_limits lim;
	struct k8s_file *f = NULL;
	struct diag d;

	manifest_limits_default(&lim);
	diag_init(&d);
	assert_int_equal(manifest_load_buffer("t.yaml", yaml, strlen(yaml),
	                                      &lim, &f, &d),
	                 0);
	diag_fini(&d);
	return f;
}

static struct snapshot *build(struct k8s_file **f, size_t n,
                              const char *const *zones, size_t nz,
                              struct diag *d)
{
	struct snapshot_opts o = { 0 };

	o.zones = zones;
	o.n_zones = nz;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.ttl = 30;
	return snapshot_build((const struct k8s_file *const *)f, n, &o, 7, d);
}

static const char svc_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: web, namespace: a}\n"
	"spec: {clusterIP: 10.0.0.1, ports: [{name: http, port: 80}]}\n";

/* True if the name exists: a node, or a reverse name with PTRs. */
static bool exists(const struct snapshot *s, const char *text)
{
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	size_t off;
	const struct snapshot_zone *z;
	const uint8_t *targets;

	assert_int_equal(dname_from_text(text, name, sizeof(name), &len), 0);
	dname_lower(name, len);
	if (snapshot_lookup(s, name, len) != NULL) {
		return true;
	}
	z = snapshot_find_zone(s, name, len, &off);
	return z != NULL && snapshot_ptr_lookup(s, z, name, len, &targets) != 0;
}

/* The cache-warming stages find the node the lookup finds, and take
 * names that do not exist. */
static void test_snapshot_prefetch(void **state)
{
	static const char *const zones[] = { "cluster.local" };
	static const char *const names[] = {
		"web.a.svc.cluster.local",
		"_http._tcp.web.a.svc.cluster.local",
		"a.svc.cluster.local",
		"nope.a.svc.cluster.local",
		"example.org",
		".",
	};
	struct k8s_file *f = load(svc_yaml);
	struct diag d;
	struct snapshot *s;
	unsigned found = 0;

	(void)state;
	diag_init(&d);
	s = build(&f, 1, zones, 1, &d);
	assert_non_null(s);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t name[DNAME_MAXLEN];
		size_t len;
		const struct snapshot_node *want;
		const struct snapshot_node *got;

		assert_int_equal(
			dname_from_text(names[i], name, sizeof(name), &len), 0);
		want = snapshot_lookup(s, name, len);
		got = snapshot_prefetch_node(
			s, snapshot_prefetch_slot(s, name, len));
		if (want != NULL) {
			assert_ptr_equal(got, want);
			found++;
		}
		if (got != NULL) {
			snapshot_prefetch_resp(s, got, DNS_TYPE_A);
			snapshot_prefetch_resp(s, got, DNS_TYPE_ANY);
			snapshot_prefetch_resp(s, got, 65280);
		}
	}
	assert_int_equal(found, 3);
	snapshot_release(s);
	diag_fini(&d);
	k8s_file_destroy(f);
}

static void test_snapshot_ptr_names(void **state)
{
	static const char *const zones[] = { "cluster.local" };
	static const char yaml[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: web, namespace: a}\n"
		"spec: {clusterIP: 10.0.0.1, clusterIPs: [10.0.0.1, 'fd00::1']}\n"
		"---\nkind: Service\napiVersion: v1\n"
		"metadata: {name: h, namespace: a}\nspec: {clusterIP: None}\n"
		"---\nkind: Service\napiVersion: v1\n"
		"metadata: {name: h2, namespace: a}\nspec: {clusterIP: None}\n"
		"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
		"metadata: {name: h-1, namespace: a, labels: "
		"{kubernetes.io/service-name: h}}\naddressType: IPv4\n"
		"endpoints: [{addresses: [10.1.0.5]}, {addresses: [10.0.0.1]}]\n"
		"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
		"metadata: {name: h2-1, namespace: a, labels: "
		"{kubernetes.io/service-name: h2}}\naddressType: IPv4\n"
		"endpoints: [{addresses: [10.1.0.5]}]\n";
	struct k8s_file *f = load(yaml);
	struct diag d;
	struct snapshot *s;
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	size_t off;
	const struct snapshot_zone *z;
	const uint8_t *t;
	char text[DNAME_TEXT_MAX];

	(void)state;
	diag_init(&d);
	s = build(&f, 1, zones, 1, &d);
	assert_non_null(s);
	/* One PTR per service selecting the address (row 15). */
	assert_int_equal(dname_from_text("5.0.1.10.in-addr.arpa", name,
	                                 sizeof(name), &len),
	                 0);
	z = snapshot_find_zone(s, name, len, &off);
	assert_int_equal(snapshot_ptr_lookup(s, z, name, len, &t), 2);
	assert_int_equal(dname_to_text(t, dname_len(t), text, sizeof(text)), 0);
	assert_string_equal(text, "10-1-0-5.h.a.svc.cluster.local.");
	t += dname_len(t);
	assert_int_equal(dname_to_text(t, dname_len(t), text, sizeof(text)), 0);
	assert_string_equal(text, "10-1-0-5.h2.a.svc.cluster.local.");
	/* A ClusterIP that is also an endpoint address: the ClusterIP wins. */
	assert_int_equal(dname_from_text("1.0.0.10.in-addr.arpa", name,
	                                 sizeof(name), &len),
	                 0);
	assert_int_equal(snapshot_ptr_lookup(s, z, name, len, &t), 1);
	assert_int_equal(dname_to_text(t, dname_len(t), text, sizeof(text)), 0);
	assert_string_equal(text, "web.a.svc.cluster.local.");
	/* IPv6 nibbles; malformed reverse names do not exist. */
	assert_true(exists(
		s,
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"));
	assert_false(exists(
		s,
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"));
	assert_false(exists(s, "01.0.0.10.in-addr.arpa"));
	assert_false(exists(s, "256.0.0.10.in-addr.arpa"));
	assert_false(exists(s, "0.0.10.in-addr.arpa"));
	assert_false(exists(s, "x.1.0.0.10.in-addr.arpa"));
	snapshot_release(s);
	diag_fini(&d);
	k8s_file_destroy(f);
}

static void test_snapshot_build_zones(void **state)
{
	static const char *const zones[] = { "cluster.local",
		                             "Example.Internal." };
	struct k8s_file *f = load(svc_yaml);
	struct diag d;
	struct snapshot *s;
	struct snapshot_stats st;
	const struct snapshot_zone *z;
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	size_t off = 0;

	(void)state;
	diag_init(&d);
	s = build(&f, 1, zones, 2, &d);
	assert_non_null(s);
	assert_int_equal(d.errors, 0);
	/* The same data is served in every zone (row 47). */
	assert_true(exists(s, "web.a.svc.cluster.local"));
	assert_true(exists(s, "web.a.svc.example.internal"));
	assert_true(exists(s, "_http._tcp.web.a.svc.example.internal"));
	assert_true(exists(s, "a.svc.example.internal"));
	assert_false(exists(s, "web.b.svc.cluster.local"));
	/* PTR targets use the first zone only: one reverse name. */
	assert_true(exists(s, "1.0.0.10.in-addr.arpa"));
	assert_int_equal(snapshot_serial(s), 7);
	assert_int_equal(snapshot_ttl(s), 30);
	snapshot_get_stats(s, &st);
	assert_int_equal(st.services, 1);
	assert_true(st.names > 10);
	assert_true(st.bytes > 0);
	/* Zone matching is by whole labels, deepest zone first. */
	assert_int_equal(dname_from_text("x.xexample.internal", name,
	                                 sizeof(name), &len),
	                 0);
	assert_null(snapshot_find_zone(s, name, len, &off));
	assert_int_equal(
		dname_from_text("x.example.internal", name, sizeof(name), &len),
		0);
	z = snapshot_find_zone(s, name, len, &off);
	assert_non_null(z);
	assert_int_equal(off, 2);
	assert_false(z->reverse);
	assert_int_equal(dname_from_text("4.3.2.1.in-addr.arpa", name,
	                                 sizeof(name), &len),
	                 0);
	z = snapshot_find_zone(s, name, len, &off);
	assert_non_null(z);
	assert_true(z->reverse);
	snapshot_release(s);
	diag_fini(&d);
	k8s_file_destroy(f);
}

static void test_snapshot_build_bad_zone(void **state)
{
	static const char *const bad[] = { "a..b" };
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_null(build(NULL, 0, bad, 1, &d));
	assert_int_equal(d.errors, 1);
	diag_fini(&d);
	diag_init(&d);
	assert_null(build(NULL, 0, bad, 0, &d));
	assert_int_equal(d.errors, 1);
	diag_fini(&d);
}

static void test_snapshot_build_duplicate_service(void **state)
{
	static const char *const zones[] = { "cluster.local" };
	static const char other[] = "kind: Service\napiVersion: v1\n"
				    "metadata: {name: web, namespace: a}\n"
				    "spec: {clusterIP: 10.0.0.2}\n";
	struct k8s_file *f[2] = { load(svc_yaml), load(other) };
	struct diag d;
	struct snapshot *s;

	(void)state;
	diag_init(&d);
	s = build(f, 2, zones, 1, &d);
	assert_non_null(s);
	assert_int_equal(d.warnings, 1);
	assert_true(exists(s, "1.0.0.10.in-addr.arpa"));
	assert_false(exists(s, "2.0.0.10.in-addr.arpa"));
	snapshot_release(s);
	diag_fini(&d);
	k8s_file_destroy(f[0]);
	k8s_file_destroy(f[1]);
}

/* Thousands of endpoints: more than a 64 KiB message holds. The build
 * keeps what fits and warns; nothing overflows. */
static void test_snapshot_build_huge_service(void **state)
{
	static const char *const zones[] = { "cluster.local" };
	size_t cap = 6000 * 48 + 1024;
	char *y = malloc(cap);
	size_t n;
	unsigned i;
	struct k8s_file *f;
	struct diag d;
	struct snapshot *s;

	(void)state;
	n = (size_t)snprintf(y, cap,
	                     "kind: Service\napiVersion: v1\n"
	                     "metadata: {name: big, namespace: a}\n"
	                     "spec: {clusterIP: None}\n---\n"
	                     "kind: EndpointSlice\n"
	                     "apiVersion: discovery.k8s.io/v1\n"
	                     "metadata: {name: big-1, namespace: a, labels: "
	                     "{kubernetes.io/service-name: big}}\n"
	                     "addressType: IPv6\nendpoints:\n");
	for (i = 0; i < 6000; i++) {
		n += (size_t)snprintf(y + n, cap - n,
		                      "- addresses: ['fd00::%x']\n", i + 1);
	}
	f = load(y);
	diag_init(&d);
	s = build(&f, 1, zones, 1, &d);
	assert_non_null(s);
	assert_true(d.warnings >= 1);
	assert_true(exists(s, "fd00--1770.big.a.svc.cluster.local"));
	snapshot_release(s);
	diag_fini(&d);
	k8s_file_destroy(f);
	free(y);
}

struct reader_arg {
	struct snapshot_slot *slot;
	unsigned rounds;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct snapshot *held = NULL;
	uint64_t gen = 0;
	unsigned i;

	for (i = 0; i < a->rounds; i++) {
		uint64_t g = snapshot_slot_generation(a->slot);

		if (g != gen || held == NULL) {
			struct snapshot *s = snapshot_slot_acquire(a->slot);

			snapshot_release(held);
			held = s;
			gen = g;
		}
		/* cmocka's asserts are not for other threads. */
		if (held != NULL && snapshot_serial(held) != 7) {
			abort();
		}
	}
	snapshot_release(held);
	return NULL;
}

/* Publishing while readers switch: every reference is released exactly
 * once (ASan/TSan builds check the rest). */
static void test_snapshot_slot_publish(void **state)
{
	static const char *const zones[] = { "cluster.local" };
	struct snapshot_slot slot;
	struct k8s_file *f = load(svc_yaml);
	struct reader_arg arg;
	pthread_t th[2];
	struct diag d;
	unsigned i;

	(void)state;
	snapshot_slot_init(&slot);
	assert_null(snapshot_slot_acquire(&slot));
	arg.slot = &slot;
	arg.rounds = 20000;
	assert_int_equal(pthread_create(&th[0], NULL, reader, &arg), 0);
	assert_int_equal(pthread_create(&th[1], NULL, reader, &arg), 0);
	diag_init(&d);
	for (i = 0; i < 50; i++) {
		struct snapshot *s = build(&f, 1, zones, 1, &d);

		assert_non_null(s);
		snapshot_slot_publish(&slot, s);
	}
	diag_fini(&d);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	assert_int_equal(snapshot_slot_generation(&slot), 50);
	snapshot_slot_fini(&slot);
	k8s_file_destroy(f);
}

/* ---- Copying unchanged namespaces from the previous snapshot. ---- */

static struct snapshot *build_reuse(struct k8s_file **f, size_t n,
                                    const struct snapshot *prev, uint32_t ttl)
{
	static const char *const zones[] = { "cluster.local", "alt.test" };
	struct snapshot_opts o = { 0 };
	struct snapshot *s;
	struct diag d;

	o.zones = zones;
	o.n_zones = 2;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.ttl = ttl;
	o.reuse = prev;
	diag_init(&d);
	s = snapshot_build((const struct k8s_file *const *)f, n, &o, 9, &d);
	diag_fini(&d);
	assert_non_null(s);
	return s;
}

static char *dump_text(const struct snapshot *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(snapshot_dump(s, f), 0);
	fclose(f);
	return text;
}

/* cmocka compares strings and memory one octet at a time: large dumps are
 * compared with strcmp first. */
static void same_text(const char *a, const char *b)
{
	if (strcmp(a, b) != 0) {
		assert_string_equal(a, b);
	}
}

static void same_dump(const struct snapshot *a, const struct snapshot *b)
{
	char *ta = dump_text(a);
	char *tb = dump_text(b);

	same_text(ta, tb);
	free(ta);
	free(tb);
}

/* Every response of name in a equals the one in b, octet for octet. */
static void same_responses(const struct snapshot *a, const struct snapshot *b,
                           const char *text)
{
	static const uint16_t types[] = { DNS_TYPE_A,   DNS_TYPE_AAAA,
		                          DNS_TYPE_SRV, DNS_TYPE_CNAME,
		                          DNS_TYPE_TXT, DNS_TYPE_NS };
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	const struct snapshot_node *na;
	const struct snapshot_node *nb;
	size_t i;

	assert_int_equal(dname_from_text(text, name, sizeof(name), &len), 0);
	dname_lower(name, len);
	na = snapshot_lookup(a, name, len);
	nb = snapshot_lookup(b, name, len);
	assert_true((na == NULL) == (nb == NULL));
	for (i = 0; na != NULL && i < SVCDNS_ARRAY_SIZE(types); i++) {
		struct snapshot_resp ra;
		struct snapshot_resp rb;
		bool ha = snapshot_node_resp(a, na, types[i], &ra);
		bool hb = snapshot_node_resp(b, nb, types[i], &rb);
		size_t body = 0;
		size_t k;

		assert_true(ha == hb);
		if (!ha) {
			continue;
		}
		assert_int_equal(ra.rcode, rb.rcode);
		assert_int_equal(ra.ancount, rb.ancount);
		assert_int_equal(ra.nscount, rb.nscount);
		assert_int_equal(ra.n_glue, rb.n_glue);
		assert_int_equal(ra.an_len, rb.an_len);
		assert_int_equal(ra.ns_len, rb.ns_len);
		assert_int_equal(ra.n_rptr, rb.n_rptr);
		for (k = 0; k < ra.n_glue; k++) {
			assert_int_equal(ra.glue_len[k], rb.glue_len[k]);
			body += ra.glue_len[k];
		}
		body += ra.an_len + ra.ns_len;
		assert_memory_equal(ra.body, rb.body, body);
	}
}

static const char ns_a_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: web, namespace: a}\n"
	"spec: {clusterIP: 10.0.0.1, ports: [{name: http, port: 80}]}\n"
	"---\nkind: Service\napiVersion: v1\n"
	"metadata: {name: h, namespace: a}\n"
	"spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n"
	"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
	"metadata: {name: h-1, namespace: a, labels: "
	"{kubernetes.io/service-name: h}}\naddressType: IPv4\n"
	"ports: [{name: http, port: 8080}]\n"
	"endpoints: [{addresses: [10.1.0.5], hostname: one}, "
	"{addresses: [10.1.0.6]}]\n";

static const char ns_b_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: db, namespace: b}\n"
	"spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}\n"
	"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
	"metadata: {name: db-1, namespace: b, labels: "
	"{kubernetes.io/service-name: db}}\naddressType: IPv4\n"
	"ports: [{name: pg, port: 5432}]\n"
	"endpoints: [{addresses: [10.2.0.1]}, {addresses: [10.2.0.2]}]\n";

static const char ns_b2_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: db, namespace: b}\n"
	"spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}\n"
	"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
	"metadata: {name: db-1, namespace: b, labels: "
	"{kubernetes.io/service-name: db}}\naddressType: IPv4\n"
	"ports: [{name: pg, port: 5432}]\n"
	"endpoints: [{addresses: [10.2.0.9]}]\n";

/* ExternalName to a name in b: c is built whenever b changes. */
static const char ns_c_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: x, namespace: c}\n"
	"spec: {type: ExternalName, externalName: db.b.svc.cluster.local}\n";

static const char ns_d_yaml[] =
	"kind: Service\napiVersion: v1\n"
	"metadata: {name: api, namespace: d}\n"
	"spec: {clusterIP: 10.0.0.4, ports: [{port: 443}]}\n";

static void check_same(const struct snapshot *full, const struct snapshot *s)
{
	static const char *const names[] = {
		"web.a.svc.cluster.local",
		"_http._tcp.web.a.svc.alt.test",
		"h.a.svc.cluster.local",
		"one.h.a.svc.cluster.local",
		"10-1-0-6.h.a.svc.alt.test",
		"_http._tcp.h.a.svc.cluster.local",
		"db.b.svc.cluster.local",
		"10-2-0-9.db.b.svc.cluster.local",
		"10-2-0-1.db.b.svc.cluster.local",
		"x.c.svc.cluster.local",
		"x.c.svc.alt.test",
		"api.d.svc.cluster.local",
		"cluster.local",
		"a.svc.cluster.local",
	};
	size_t i;

	same_dump(full, s);
	for (i = 0; i < SVCDNS_ARRAY_SIZE(names); i++) {
		same_responses(full, s, names[i]);
	}
}

static void test_snapshot_reuse_unchanged(void **state)
{
	struct k8s_file *f[4] = { load(ns_a_yaml), load(ns_b_yaml),
		                  load(ns_c_yaml), load(ns_d_yaml) };
	struct k8s_file *b2 = load(ns_b2_yaml);
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *full;
	struct snapshot_stats st;

	(void)state;
	s1 = build_reuse(f, 4, NULL, 30);
	snapshot_get_stats(s1, &st);
	assert_int_equal(st.ns_built, 4);
	assert_int_equal(st.ns_reused, 0);
	/* Nothing changed: all but the ExternalName's namespace and its
	 * target's are copied. */
	s2 = build_reuse(f, 4, s1, 30);
	snapshot_get_stats(s2, &st);
	assert_int_equal(st.ns_built, 2);
	assert_int_equal(st.ns_reused, 2);
	check_same(s1, s2);
	snapshot_release(s2);
	/* b's file replaced: b (the ExternalName target) and c are built,
	 * a and d copied; the answers are those of a build from scratch,
	 * x.c's chased answer included. */
	k8s_file_destroy(f[1]);
	f[1] = b2;
	s2 = build_reuse(f, 4, s1, 30);
	full = build_reuse(f, 4, NULL, 30);
	snapshot_get_stats(s2, &st);
	assert_int_equal(st.ns_built, 2);
	assert_int_equal(st.ns_reused, 2);
	check_same(full, s2);
	assert_false(exists(s2, "10-2-0-1.db.b.svc.cluster.local"));
	assert_true(exists(s2, "9.0.2.10.in-addr.arpa"));
	assert_false(exists(s2, "1.0.2.10.in-addr.arpa"));
	assert_true(exists(s2, "5.0.1.10.in-addr.arpa"));
	assert_true(exists(s2, "1.0.0.10.in-addr.arpa"));
	snapshot_release(full);
	snapshot_release(s1);
	/* Other options (TTL): nothing is copied. */
	s1 = build_reuse(f, 4, s2, 60);
	snapshot_get_stats(s1, &st);
	assert_int_equal(st.ns_reused, 0);
	snapshot_release(s1);
	snapshot_release(s2);
	for (size_t i = 0; i < 4; i++) {
		k8s_file_destroy(f[i]);
	}
}

/* Namespace ns-<ns>: a headless Service with `slices` slices of 700 IPv4
 * endpoints, the last octets 1 + shift .. 250 + shift (shift <= 5). */
static struct k8s_file *big_ns_of(unsigned ns, unsigned shift, unsigned slices)
{
	size_t cap = slices * (700 * 40 + 256) + 256;
	char *y = malloc(cap);
	size_t n;
	unsigned sl;
	unsigned i;
	struct k8s_file *f;

	assert_non_null(y);
	n = (size_t)snprintf(y, cap,
	                     "kind: Service\napiVersion: v1\n"
	                     "metadata: {name: big, namespace: ns-%u}\n"
	                     "spec: {clusterIP: None}\n",
	                     ns);
	for (sl = 0; sl < slices; sl++) {
		n += (size_t)snprintf(
			y + n, cap - n,
			"---\nkind: EndpointSlice\n"
			"apiVersion: discovery.k8s.io/v1\n"
			"metadata: {name: big-%u, namespace: ns-%u, labels: "
			"{kubernetes.io/service-name: big}}\n"
			"addressType: IPv4\nendpoints:\n",
			sl, ns);
		for (i = 0; i < 700; i++) {
			n += (size_t)snprintf(y + n, cap - n,
			                      "- addresses: ['10.%u.%u.%u']\n",
			                      ns, sl * 3 + i / 250,
			                      i % 250 + 1 + shift);
		}
	}
	f = load(y);
	free(y);
	return f;
}

static struct k8s_file *big_ns(unsigned ns, unsigned shift)
{
	return big_ns_of(ns, shift, 8);
}

/* A cluster of 56,000 endpoints (buffers of megabytes, grown many times)
 * rebuilt after a one-namespace change: the answers of a build from
 * scratch. */
static void test_snapshot_reuse_large(void **state)
{
	struct k8s_file *f[10];
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *full;
	struct snapshot_stats st;
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++) {
		f[i] = big_ns((unsigned)i, 0);
	}
	s1 = build_reuse(f, 10, NULL, 30);
	snapshot_get_stats(s1, &st);
	assert_true(st.bytes > 2 * 4 * 1024 * 1024);
	assert_int_equal(st.endpoints, 10 * 8 * 700);
	k8s_file_destroy(f[3]);
	f[3] = big_ns(3, 5);
	s2 = build_reuse(f, 10, s1, 30);
	full = build_reuse(f, 10, NULL, 30);
	snapshot_get_stats(s2, &st);
	assert_int_equal(st.ns_built, 1);
	assert_int_equal(st.ns_reused, 9);
	same_dump(full, s2);
	same_responses(full, s2, "big.ns-3.svc.cluster.local");
	same_responses(full, s2, "10-3-0-8.big.ns-3.svc.cluster.local");
	same_responses(full, s2, "10-9-20-250.big.ns-9.svc.alt.test");
	assert_true(exists(s2, "10-3-0-255.big.ns-3.svc.cluster.local"));
	assert_false(exists(s2, "10-3-0-1.big.ns-3.svc.cluster.local"));
	assert_true(exists(s1, "10-3-0-1.big.ns-3.svc.cluster.local"));
	snapshot_release(full);
	snapshot_release(s1);
	snapshot_release(s2);
	for (i = 0; i < 10; i++) {
		k8s_file_destroy(f[i]);
	}
}

static struct snapshot *build_recycle(struct k8s_file **f, size_t n,
                                      const struct snapshot *prev,
                                      struct snapshot_slot *slot)
{
	static const char *const zones[] = { "cluster.local", "alt.test" };
	struct snapshot_opts o = { 0 };
	struct snapshot *s;
	struct diag d;

	o.zones = zones;
	o.n_zones = 2;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.ttl = 30;
	o.reuse = prev;
	o.recycle = slot;
	diag_init(&d);
	s = snapshot_build((const struct k8s_file *const *)f, n, &o, 9, &d);
	diag_fini(&d);
	assert_non_null(s);
	return s;
}

static size_t recycled(const struct snapshot *s)
{
	struct snapshot_stats st;

	snapshot_get_stats(s, &st);
	return st.recycled;
}

/* opts.recycle: a snapshot whose last reader lets go waits in the slot,
 * and the next build writes into its memory; what it builds must not
 * differ from a build into fresh memory, growing or shrinking. */
static void test_snapshot_recycle(void **state)
{
	struct snapshot_slot slot;
	struct k8s_file *f[4];
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *s3;
	struct snapshot *s4;
	struct snapshot *full;
	size_t i;

	(void)state;
	snapshot_slot_init(&slot);
	for (i = 0; i < 4; i++) {
		f[i] = big_ns((unsigned)i, 0);
	}
	s1 = build_recycle(f, 4, NULL, &slot);
	assert_int_equal(recycled(s1), 0);
	k8s_file_destroy(f[1]);
	f[1] = big_ns(1, 5);
	s2 = build_recycle(f, 4, s1, &slot);
	assert_int_equal(recycled(s2), 0);           /* s1 is alive */
	assert_non_null(atomic_load(&slot.scratch)); /* the build's, kept */
	snapshot_acquire(s1);                        /* a worker reads it */
	snapshot_release(s1);
	assert_null(atomic_load(&slot.dead));
	snapshot_release(s1); /* the worker lets go: dead, kept */
	assert_true(atomic_load(&slot.dead) == s1);
	assert_true(snapshot_slot_spare_bytes(&slot) > 4 * 1024 * 1024);

	k8s_file_destroy(f[2]);
	f[2] = big_ns(2, 3);
	s3 = build_recycle(f, 4, s2, &slot);
	assert_true(recycled(s3) > 4 * 1024 * 1024);
	full = build_reuse(f, 4, NULL, 30);
	same_dump(full, s3);
	same_responses(full, s3, "big.ns-2.svc.cluster.local");
	same_responses(full, s3, "10-2-0-9.big.ns-2.svc.cluster.local");
	same_responses(full, s3, "10-3-20-250.big.ns-3.svc.alt.test");
	assert_true(exists(s3, "10-1-0-255.big.ns-1.svc.cluster.local"));
	assert_false(exists(s3, "10-2-0-1.big.ns-2.svc.cluster.local"));

	/* Trimmed: nothing left to take. */
	snapshot_release(s2);
	assert_true(snapshot_slot_spare_bytes(&slot) > 4 * 1024 * 1024);
	assert_true(snapshot_slot_trim(&slot) > 4 * 1024 * 1024);
	assert_null(atomic_load(&slot.dead));
	assert_null(atomic_load(&slot.scratch));
	assert_int_equal(snapshot_slot_spare_bytes(&slot), 0);
	s4 = build_recycle(f, 4, s3, &slot);
	assert_int_equal(recycled(s4), 0);
	same_dump(full, s4);
	snapshot_release(full);

	/* Shrinking into the memory of a larger one, then growing again. */
	snapshot_release(s3);
	full = build_reuse(f, 1, NULL, 30);
	s3 = build_recycle(f, 1, NULL, &slot);
	assert_true(recycled(s3) > 0);
	same_dump(full, s3);
	snapshot_release(full);
	snapshot_release(s4);
	full = build_reuse(f, 4, NULL, 30);
	s4 = build_recycle(f, 4, s3, &slot);
	assert_true(recycled(s4) > 0);
	same_dump(full, s4);
	same_responses(full, s4, "10-3-20-250.big.ns-3.svc.alt.test");
	snapshot_release(full);
	snapshot_release(s3);
	snapshot_release(s4);
	snapshot_slot_fini(&slot); /* frees the dead ones */
	for (i = 0; i < 4; i++) {
		k8s_file_destroy(f[i]);
	}
}

/* A rebuild that takes most namespaces over appends to the previous
 * snapshot's node and response buffers and leaves those namespaces in
 * place; what it writes must not change what the older snapshots answer.
 * Each change of ns-3 leaves a tenth of the buffers as garbage: a build
 * appends, the next would leave more than an eighth of what it takes over
 * and copies into new buffers, the next appends to those, and so on. */
static void test_snapshot_log(void **state)
{
	static const size_t in_place[] = { 9, 0, 9, 0 };
	struct snapshot_slot slot;
	struct k8s_file *f[10];
	struct snapshot *s[5];
	struct snapshot *other;
	struct snapshot *full;
	struct snapshot_stats st;
	char name[64];
	size_t garbage = 0;
	size_t i;

	(void)state;
	snapshot_slot_init(&slot);
	for (i = 0; i < 10; i++) {
		f[i] = big_ns((unsigned)i, 0);
	}
	s[0] = build_recycle(f, 10, NULL, &slot);
	for (i = 1; i < 5; i++) {
		k8s_file_destroy(f[3]);
		f[3] = big_ns(3, (unsigned)i);
		s[i] = build_recycle(f, 10, s[i - 1], &slot);
		snapshot_get_stats(s[i], &st);
		assert_int_equal(st.ns_reused, 9);
		assert_int_equal(st.ns_in_place, in_place[i - 1]);
		/* A tenth per change of ns-3 since the copy; 12 octets (the
		 * three buffers' offset 0) after it. */
		if (in_place[i - 1] == 0) {
			assert_int_equal(st.garbage, 12);
		} else {
			assert_true(st.garbage > garbage + garbage / 2 + 8);
		}
		garbage = st.garbage;
		full = build_reuse(f, 10, NULL, 30);
		same_dump(full, s[i]);
		same_responses(full, s[i], "big.ns-3.svc.cluster.local");
		same_responses(full, s[i], "10-9-20-250.big.ns-9.svc.alt.test");
		snapshot_release(full);
		/* The replaced snapshot still has what it had. */
		snprintf(name, sizeof(name),
		         "10-3-0-%zu.big.ns-3.svc.cluster.local", i);
		assert_true(exists(s[i - 1], name));
		assert_false(exists(s[i], name));
		snapshot_release(s[i - 1]);
	}
	/* Two builds from the same snapshot: the second appends after the
	 * first, whose answers stay as they were. */
	other = build_recycle(f, 10, s[4], &slot);
	k8s_file_destroy(f[3]);
	f[3] = big_ns(3, 0);
	full = build_reuse(f, 10, NULL, 30);
	s[0] = build_recycle(f, 10, s[4], &slot);
	snapshot_get_stats(s[0], &st);
	assert_int_equal(st.ns_in_place, 9);
	same_dump(full, s[0]);
	assert_true(exists(s[0], "10-3-0-1.big.ns-3.svc.cluster.local"));
	assert_false(exists(other, "10-3-0-1.big.ns-3.svc.cluster.local"));
	assert_true(exists(other, "10-3-0-254.big.ns-3.svc.cluster.local"));
	assert_false(exists(s[0], "10-3-0-254.big.ns-3.svc.cluster.local"));
	snapshot_release(full);
	snapshot_release(other);
	snapshot_release(s[4]);
	snapshot_release(s[0]);
	snapshot_slot_fini(&slot);
	for (i = 0; i < 10; i++) {
		k8s_file_destroy(f[i]);
	}
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* 0 if a and b dump the same, compared through temporary files: under the
 * child's limit an 8 MB dump in memory may not fit (under valgrind it
 * does not); 6 if a dump fails, 7 if they differ. */
static int same_dump_files(const struct snapshot *a, const struct snapshot *b)
{
	FILE *fa = tmpfile();
	FILE *fb = tmpfile();
	char ba[4096];
	char bb[4096];
	size_t na;
	int rc = 0;

	if (fa == NULL || fb == NULL || snapshot_dump(a, fa) != 0 ||
	    snapshot_dump(b, fb) != 0 || fflush(fa) != 0 || fflush(fb) != 0) {
		rc = 6;
	}
	if (rc == 0) {
		rewind(fa);
		rewind(fb);
	}
	while (rc == 0 && (na = fread(ba, 1, sizeof(ba), fa)) > 0) {
		if (fread(bb, 1, na, fb) != na || memcmp(ba, bb, na) != 0) {
			rc = 7;
		}
	}
	if (rc == 0 && ferror(fa)) {
		rc = 6;
	} else if (rc == 0 && fread(bb, 1, 1, fb) != 0) {
		rc = 7; /* b is longer */
	}
	if (fa != NULL) {
		fclose(fa);
	}
	if (fb != NULL) {
		fclose(fb);
	}
	return rc;
}

/* In a child whose address space is limited (ulimit -v) below the
 * buffers' reservation: 0 if the builds fall back to malloc buffers, take
 * namespaces over by copying them and answer as a build from scratch. No
 * cmocka asserts here (they would unwind into the parent's tests). */
static int no_reserve_child(struct k8s_file **f)
{
	static const char *const zones[] = { "cluster.local", "alt.test" };
	struct snapshot_opts o = { 0 };
	struct snapshot_stats st;
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *full;
	struct k8s_file *g[10];
	struct rlimit rl;
	unsigned long pages = 0;
	struct diag d;
	FILE *m;
	int rc = 0;

	m = fopen("/proc/self/statm", "r");
	if (m == NULL || fscanf(m, "%lu", &pages) != 1) {
		return 2;
	}
	fclose(m);
	rl.rlim_cur = rl.rlim_max =
		pages * (unsigned long)sysconf(_SC_PAGESIZE) + (96ul << 20);
	if (setrlimit(RLIMIT_AS, &rl) != 0) {
		return 3;
	}
	o.zones = zones;
	o.n_zones = 2;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.ttl = 30;
	diag_init(&d);
	s1 = snapshot_build((const struct k8s_file *const *)f, 9, &o, 9, &d);
	memcpy(g, f, sizeof(g));
	g[3] = f[9]; /* ns-3 changed */
	o.reuse = s1;
	s2 = s1 ? snapshot_build((const struct k8s_file *const *)g, 9, &o, 9,
	                         &d)
	        : NULL;
	o.reuse = NULL;
	full = snapshot_build((const struct k8s_file *const *)g, 9, &o, 9, &d);
	diag_fini(&d);
	if (s1 == NULL || s2 == NULL || full == NULL) {
		return 4;
	}
	snapshot_get_stats(s2, &st);
	if (st.ns_reused != 8 || st.ns_in_place != 0) {
		rc = 5;
	}
	if (rc == 0) {
		rc = same_dump_files(s2, full);
	}
	snapshot_release(full);
	snapshot_release(s2);
	snapshot_release(s1);
	return rc;
}
#endif

/* With no room to reserve the buffers' address range, builds still work
 * (the sanitizers reserve terabytes of shadow memory: not under them). */
static void test_snapshot_no_reserve(void **state)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	(void)state;
	skip();
#else
	struct k8s_file *f[10];
	int status = 0;
	pid_t pid;
	size_t i;

	(void)state;
	for (i = 0; i < 9; i++) {
		f[i] = big_ns((unsigned)i, 0);
	}
	f[9] = big_ns(3, 2);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = no_reserve_child(f);

		for (i = 0; i < 10; i++) { /* for valgrind's leak check */
			k8s_file_destroy(f[i]);
		}
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (i = 0; i < 10; i++) {
		k8s_file_destroy(f[i]);
	}
#endif
}

/* The PTR target of address text in s ("" when none). */
static void ptr_of(const struct snapshot *s, const char *addr, char *out,
                   size_t cap)
{
	uint8_t name[DNAME_MAXLEN];
	const struct snapshot_zone *z;
	const uint8_t *t;
	size_t len;
	size_t off;

	assert_int_equal(dname_from_text(addr, name, sizeof(name), &len), 0);
	z = snapshot_find_zone(s, name, len, &off);
	assert_non_null(z);
	out[0] = '\0';
	if (snapshot_ptr_lookup(s, z, name, len, &t) != 0) {
		assert_int_equal(dname_to_text(t, dname_len(t), out, cap), 0);
	}
}

/* Namespace d's headless Service api and its slice, up to the endpoints. */
#define API_D                                                         \
	"kind: Service\napiVersion: v1\n"                             \
	"metadata: {name: api, namespace: d}\n"                       \
	"spec: {clusterIP: None, ports: [{name: h, port: 80}]}\n"     \
	"---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n" \
	"metadata: {name: api-1, namespace: d, labels: "              \
	"{kubernetes.io/service-name: api}}\naddressType: IPv4\n"     \
	"ports: [{name: h, port: 80}]\n"

/* PTR entries kept whole from the previous snapshot meet addresses that
 * a namespace built now also has: an endpoint (both names), then a
 * ClusterIP (its name alone, row 15), then that ClusterIP gone again
 * (the names it hid are not in the table: nothing is taken over). Each
 * build answers as a build from scratch. */
static void test_snapshot_reuse_ptr_merged(void **state)
{
	static const char d1[] = API_D "endpoints: [{addresses: [10.2.0.7]}]\n";
	static const char d2[] = API_D "endpoints: [{addresses: [10.2.0.2]}, "
				       "{addresses: [10.2.0.8]}]\n";
	static const char d3[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: vip, namespace: d}\n"
		"spec: {clusterIP: 10.2.0.1, ports: [{port: 80}]}\n";
	static const char *const ds[] = { d2, d3, d1 };
	static const char *const want[][4] = {
		{ "10-2-0-1.db.b.svc.cluster.local.",
		  "10-2-0-2.api.d.svc.cluster.local.", "",
		  "10-2-0-8.api.d.svc.cluster.local." },
		{ "vip.d.svc.cluster.local.",
		  "10-2-0-2.db.b.svc.cluster.local.", "", "" },
		{ "10-2-0-1.db.b.svc.cluster.local.",
		  "10-2-0-2.db.b.svc.cluster.local.",
		  "10-2-0-7.api.d.svc.cluster.local.", "" },
	};
	static const char *const addrs[] = { "1.0.2.10.in-addr.arpa",
		                             "2.0.2.10.in-addr.arpa",
		                             "7.0.2.10.in-addr.arpa",
		                             "8.0.2.10.in-addr.arpa" };
	static const size_t reused[] = { 1, 1, 0 };
	struct k8s_file *f[2] = { load(ns_b_yaml), load(d1) };
	struct snapshot *prev;
	struct snapshot *s;
	struct snapshot *full;
	struct snapshot_stats st;
	char x[DNAME_TEXT_MAX];
	char y[DNAME_TEXT_MAX];
	size_t i;
	size_t k;

	(void)state;
	prev = build_reuse(f, 2, NULL, 30);
	for (i = 0; i < SVCDNS_ARRAY_SIZE(ds); i++) {
		k8s_file_destroy(f[1]);
		f[1] = load(ds[i]);
		s = build_reuse(f, 2, prev, 30);
		full = build_reuse(f, 2, NULL, 30);
		snapshot_get_stats(s, &st);
		assert_int_equal(st.ns_reused, reused[i]);
		for (k = 0; k < SVCDNS_ARRAY_SIZE(addrs); k++) {
			ptr_of(s, addrs[k], x, sizeof(x));
			ptr_of(full, addrs[k], y, sizeof(y));
			assert_string_equal(x, y);
			if (k != 1 || i != 0) {
				assert_string_equal(x, want[i][k]);
			}
		}
		same_dump(full, s);
		snapshot_release(full);
		snapshot_release(prev);
		prev = s;
	}
	snapshot_release(prev);
	k8s_file_destroy(f[0]);
	k8s_file_destroy(f[1]);
}

/* A rebuild whose addresses are those of the previous snapshot (a Service
 * renamed, its ClusterIP kept) copies the PTR index: every address still
 * finds its new name. */
static void test_snapshot_reuse_ptr_index(void **state)
{
	static const char a1[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: web, namespace: a}\n"
		"spec: {clusterIP: 10.3.0.1, ports: [{port: 80}]}\n";
	static const char a2[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: www, namespace: a}\n"
		"spec: {clusterIP: 10.3.0.1, ports: [{port: 80}]}\n";
	static const char *const addrs[] = { "1.0.3.10.in-addr.arpa",
		                             "1.0.2.10.in-addr.arpa",
		                             "2.0.2.10.in-addr.arpa",
		                             "9.0.2.10.in-addr.arpa" };
	struct k8s_file *f[2] = { load(ns_b_yaml), load(a1) };
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *full;
	char x[DNAME_TEXT_MAX];
	char y[DNAME_TEXT_MAX];
	size_t i;

	(void)state;
	s1 = build_reuse(f, 2, NULL, 30);
	ptr_of(s1, addrs[0], x, sizeof(x));
	assert_string_equal(x, "web.a.svc.cluster.local.");
	k8s_file_destroy(f[1]);
	f[1] = load(a2);
	s2 = build_reuse(f, 2, s1, 30);
	full = build_reuse(f, 2, NULL, 30);
	ptr_of(s2, addrs[0], x, sizeof(x));
	assert_string_equal(x, "www.a.svc.cluster.local.");
	for (i = 0; i < SVCDNS_ARRAY_SIZE(addrs); i++) {
		ptr_of(s2, addrs[i], x, sizeof(x));
		ptr_of(full, addrs[i], y, sizeof(y));
		assert_string_equal(x, y);
	}
	ptr_of(s2, addrs[3], x, sizeof(x));
	assert_string_equal(x, "");
	same_dump(full, s2);
	snapshot_release(full);
	snapshot_release(s2);
	snapshot_release(s1);
	k8s_file_destroy(f[0]);
	k8s_file_destroy(f[1]);
}

/* A removed ClusterIP that hid an endpoint name of an unchanged namespace
 * (row 15): the endpoint's PTR comes back. */
static void test_snapshot_reuse_shadowed_ptr(void **state)
{
	static const char a[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: web, namespace: a}\n"
		"spec: {clusterIP: 10.2.0.1, ports: [{port: 80}]}\n";
	struct k8s_file *f[2] = { load(ns_b_yaml), load(a) };
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot *full;
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	size_t off;
	const struct snapshot_zone *z;
	const uint8_t *t;
	char text[DNAME_TEXT_MAX];

	(void)state;
	s1 = build_reuse(f, 2, NULL, 30);
	assert_int_equal(dname_from_text("1.0.2.10.in-addr.arpa", name,
	                                 sizeof(name), &len),
	                 0);
	z = snapshot_find_zone(s1, name, len, &off);
	assert_int_equal(snapshot_ptr_lookup(s1, z, name, len, &t), 1);
	assert_int_equal(dname_to_text(t, dname_len(t), text, sizeof(text)), 0);
	assert_string_equal(text, "web.a.svc.cluster.local.");
	s2 = build_reuse(f, 1, s1, 30);
	full = build_reuse(f, 1, NULL, 30);
	z = snapshot_find_zone(s2, name, len, &off);
	assert_int_equal(snapshot_ptr_lookup(s2, z, name, len, &t), 1);
	assert_int_equal(dname_to_text(t, dname_len(t), text, sizeof(text)), 0);
	assert_string_equal(text, "10-2-0-1.db.b.svc.cluster.local.");
	same_dump(full, s2);
	snapshot_release(full);
	snapshot_release(s2);
	snapshot_release(s1);
	k8s_file_destroy(f[0]);
	k8s_file_destroy(f[1]);
}

/* Blue/green namespaces are built every time (color files, guard). */
static void test_snapshot_reuse_bluegreen(void **state)
{
	static const char bg[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: web, namespace: shop, annotations: "
		"{svcdns.io/color-label: color}}\n"
		"spec: {clusterIP: None, selector: {app: web, color: blue}}\n"
		"---\nkind: Pod\napiVersion: v1\n"
		"metadata: {name: p1, namespace: shop, labels: "
		"{app: web, color: blue}}\n"
		"spec: {containers: [{name: c}]}\n"
		"status: {phase: Running, podIP: 10.3.0.1, conditions: "
		"[{type: Ready, status: 'True'}]}\n";
	struct k8s_file *f[2] = { load(bg), load(ns_d_yaml) };
	struct snapshot *s1;
	struct snapshot *s2;
	struct snapshot_stats st;

	(void)state;
	s1 = build_reuse(f, 2, NULL, 30);
	s2 = build_reuse(f, 2, s1, 30);
	snapshot_get_stats(s2, &st);
	assert_int_equal(st.ns_built, 1);
	assert_int_equal(st.ns_reused, 1);
	check_same(s1, s2);
	assert_true(exists(s2, "web.shop.svc.cluster.local"));
	assert_true(exists(s2, "blue.web.shop.svc.cluster.local"));
	snapshot_release(s1);
	snapshot_release(s2);
	k8s_file_destroy(f[0]);
	k8s_file_destroy(f[1]);
}

static bool pod_known(const struct snapshot *s, const char *text)
{
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	size_t off = 0;
	const struct snapshot_zone *z;
	struct k8s_ip ip;

	assert_int_equal(dname_from_text(text, name, sizeof(name), &len), 0);
	dname_lower(name, len);
	z = snapshot_find_zone(s, name, len, &off);
	assert_non_null(z);
	return snapshot_pod_answer(s, z, name, len, off, &ip);
}

/* Pods verified: the pod table is copied only while the pod files are the
 * same ones. */
static void test_snapshot_reuse_pods(void **state)
{
	static const char p1[] = "kind: Pod\napiVersion: v1\n"
				 "metadata: {name: p1, namespace: b}\n"
				 "spec: {containers: [{name: c}]}\n"
				 "status: {phase: Running, podIP: 10.4.0.1}\n";
	static const char p2[] = "kind: Pod\napiVersion: v1\n"
				 "metadata: {name: p1, namespace: b}\n"
				 "spec: {containers: [{name: c}]}\n"
				 "status: {phase: Running, podIP: 10.4.0.2}\n";
	struct k8s_file *f[3] = { load(ns_b_yaml), load(p1), load(ns_d_yaml) };
	struct snapshot *s1;
	struct snapshot *s2;

	(void)state;
	s1 = build_reuse(f, 3, NULL, 30);
	assert_true(pod_known(s1, "10-4-0-1.b.pod.cluster.local"));
	s2 = build_reuse(f, 3, s1, 30);
	assert_true(pod_known(s2, "10-4-0-1.b.pod.cluster.local"));
	assert_true(pod_known(s2, "10-4-0-1.b.pod.alt.test"));
	assert_false(pod_known(s2, "10-4-0-1.d.pod.cluster.local"));
	snapshot_release(s1);
	k8s_file_destroy(f[1]);
	f[1] = load(p2);
	s1 = build_reuse(f, 3, s2, 30);
	assert_false(pod_known(s1, "10-4-0-1.b.pod.cluster.local"));
	assert_true(pod_known(s1, "10-4-0-2.b.pod.cluster.local"));
	snapshot_release(s1);
	snapshot_release(s2);
	for (size_t i = 0; i < 3; i++) {
		k8s_file_destroy(f[i]);
	}
}

/* ---- Random rebuild chains against builds from scratch. ---- */

/* xorshift64*: the same chains on every run. */
static unsigned rnd_below(uint64_t *r, unsigned n)
{
	*r ^= *r >> 12;
	*r ^= *r << 25;
	*r ^= *r >> 27;
	return (unsigned)((*r * 0x2545f4914f6cdd1dull) >> 33) % n;
}

#define RND_CAP 16384

struct rnd_yaml {
	char y[RND_CAP];
	size_t n;
};

static void rnd_put(struct rnd_yaml *o, const char *fmt, ...)
	SVCDNS_PRINTF(2, 3);

static void rnd_put(struct rnd_yaml *o, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(o->y + o->n, RND_CAP - o->n, fmt, ap);
	va_end(ap);
	assert_true(w > 0 && (size_t)w < RND_CAP - o->n);
	o->n += (size_t)w;
}

/* One of few addresses, so that namespaces share them: a ClusterIP in one
 * and an endpoint in another (row 15), endpoints of several Services. */
static void rnd_addr(uint64_t *r, bool v6, char *out, size_t cap)
{
	unsigned a = 1 + rnd_below(r, 6);

	if (v6) {
		snprintf(out, cap, "'fd00::%u'", a);
	} else {
		snprintf(out, cap, "10.0.%u.%u", rnd_below(r, 2), a);
	}
}

/* A headless Service's EndpointSlice: up to four endpoints, some named,
 * some not ready. */
static void rnd_slice(uint64_t *r, struct rnd_yaml *o, unsigned ns,
                      unsigned svc, bool v6)
{
	unsigned n = rnd_below(r, 5);
	char a[32];

	rnd_put(o,
	        "---\nkind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
	        "metadata: {name: s%u-x, namespace: n%u, labels: "
	        "{kubernetes.io/service-name: s%u}}\n"
	        "addressType: IPv%c\nports: [{name: http, port: 8080}]\n"
	        "endpoints:\n",
	        svc, ns, svc, v6 ? '6' : '4');
	if (n == 0) {
		rnd_put(o, "  []\n");
	}
	while (n-- > 0) {
		rnd_addr(r, v6, a, sizeof(a));
		rnd_put(o, "- addresses: [%s]\n", a);
		if (rnd_below(r, 3) == 0) {
			rnd_put(o, "  hostname: h%u\n", rnd_below(r, 3));
		}
		if (rnd_below(r, 5) == 0) {
			rnd_put(o, "  conditions: {ready: false}\n");
		}
	}
}

/* Up to four Services of namespace n<ns> (s<base> to s<base + 3>), of
 * every kind (blue/green ones among them), and up to three pods, which
 * the selectors may pick. */
static void rnd_ns(uint64_t *r, struct rnd_yaml *o, unsigned ns, unsigned base)
{
	unsigned n = rnd_below(r, 5);
	unsigned used = 0;
	unsigned i;
	char a[32];

	for (i = 0; i < n; i++) {
		unsigned svc = base + rnd_below(r, 4);
		unsigned kind = rnd_below(r, 6);
		bool v6 = rnd_below(r, 4) == 0;

		if (used & (1u << (svc - base))) {
			continue;
		}
		used |= 1u << (svc - base);
		rnd_put(o,
		        "---\nkind: Service\napiVersion: v1\n"
		        "metadata: {name: s%u, namespace: n%u%s}\nspec: ",
		        svc, ns,
		        kind == 5 ? ", annotations: {svcdns.io/color-label: "
		                    "color}"
		                  : "");
		switch (kind) {
		case 0:
			rnd_addr(r, v6, a, sizeof(a));
			rnd_put(o,
			        "{clusterIP: %s, ports: [{name: http, "
			        "port: 80}]}\n",
			        a);
			break;
		case 1:
			rnd_put(o, "{clusterIP: None, ports: [{name: http, "
			           "port: 80}]}\n");
			rnd_slice(r, o, ns, svc, v6);
			break;
		case 2:
			rnd_put(o,
			        "{type: ExternalName, externalName: "
			        "s%u.n%u.svc.cluster.local}\n",
			        rnd_below(r, 8), rnd_below(r, 5));
			break;
		case 3:
			rnd_put(o,
			        "{clusterIP: None, publishNotReadyAddresses: "
			        "true}\n");
			rnd_slice(r, o, ns, svc, v6);
			break;
		case 4: /* endpoints from the pods */
			rnd_put(o, "{clusterIP: None, selector: {app: s%u}}\n",
			        svc);
			break;
		default: /* blue/green: built every time */
			rnd_put(o,
			        "{clusterIP: None, selector: {app: s%u, "
			        "color: %s}}\n",
			        svc, rnd_below(r, 2) ? "blue" : "green");
			break;
		}
	}
	for (i = rnd_below(r, 4); i > 0; i--) {
		rnd_addr(r, false, a, sizeof(a));
		rnd_put(o,
		        "---\nkind: Pod\napiVersion: v1\n"
		        "metadata: {name: p%u, namespace: n%u, labels: "
		        "{app: s%u, color: %s}}\n"
		        "spec: {containers: [{name: c}]}\n"
		        "status: {phase: Running, podIP: %s, conditions: "
		        "[{type: Ready, status: '%s'}]}\n",
		        base + i, ns, rnd_below(r, 8),
		        rnd_below(r, 2) ? "blue" : "green", a,
		        rnd_below(r, 4) ? "True" : "False");
	}
}

/* File k of the chain: namespace n<k>, and for k = 5 parts of n0 and n3
 * (namespaces in two files, a file with two namespaces). */
static struct k8s_file *rnd_file(uint64_t *r, unsigned k)
{
	struct rnd_yaml o;

	o.n = 0;
	rnd_put(&o,
	        "kind: Namespace\napiVersion: v1\n"
	        "metadata: {name: n%u}\n",
	        k % 5);
	if (k < 5) {
		rnd_ns(r, &o, k, 0);
	} else if (rnd_below(r, 2) == 0) {
		rnd_put(&o, "---\nkind: Service\napiVersion: v1\n"
		            "metadata: {name: s9, namespace: n0}\n"
		            "spec: {clusterIP: 10.0.1.1}\n");
		rnd_ns(r, &o, 3, 4);
	}
	return load(o.y);
}

/* Every owner name in a dump answers the same in both snapshots, and so
 * does each pod name the addresses can make. */
static void rnd_same(const struct snapshot *full, const struct snapshot *s,
                     const char *text)
{
	const char *line = text;
	char name[300] = "";
	char last[300] = "";
	unsigned ns;
	unsigned a;

	while (*line != '\0') {
		size_t len = strcspn(line, "\t\n");

		if (*line != ';' && len < sizeof(name)) { /* not a comment */
			memcpy(name, line, len);
			name[len] = '\0';
			if (strcmp(name, last) != 0) {
				same_responses(full, s, name);
				memcpy(last, name, len + 1);
			}
		}
		line += strcspn(line, "\n");
		line += *line == '\n';
	}
	for (ns = 0; ns < 5; ns++) {
		for (a = 0; a < 2 * 6; a++) { /* rnd_addr's IPv4 addresses */
			snprintf(name, sizeof(name),
			         "10-0-%u-%u.n%u.pod.cluster.local", a / 6,
			         1 + a % 6, ns);
			assert_true(pod_known(full, name) ==
			            pod_known(s, name));
		}
	}
}

/* A snapshot of a chain and its dump when it was built. */
struct rnd_snap {
	struct snapshot *s;
	char *text;
};

/* x still answers what it did when it was built; released. */
static void rnd_let_go(struct rnd_snap *x)
{
	if (x->s != NULL) {
		char *t = dump_text(x->s);

		same_text(x->text, t);
		free(t);
	}
	snapshot_release(x->s);
	free(x->text);
	x->s = NULL;
	x->text = NULL;
}

/* Chains of 25 rebuilds, each from the last (appending to its buffers,
 * taking namespaces and PTR entries over, copying past the garbage
 * limit, into a dead snapshot's memory), sometimes with the one before
 * still held or a second build from the same snapshot: every snapshot
 * answers as a build from scratch of the same files, and what an older
 * one answered does not change while later ones are built. With odd
 * seeds a namespace of 700 endpoints that never changes is there too:
 * the small ones alone leave too much garbage for a build to append.
 * 24 chains (about 2 s); SVCDNS_TEST_CHAINS=N runs N, for a longer
 * search. */
static void test_snapshot_reuse_random(void **state)
{
	const char *env = getenv("SVCDNS_TEST_CHAINS");
	unsigned chains = env != NULL ? (unsigned)strtoul(env, NULL, 10) : 24;
	size_t in_place = 0;
	size_t copied = 0;
	unsigned seed;

	(void)state;
	for (seed = 1; seed <= chains; seed++) {
		uint64_t r = 0x9e3779b97f4a7c15ull * seed;
		struct snapshot_slot slot;
		struct k8s_file *f[7];
		struct k8s_file *g[7];
		struct rnd_snap prev = { 0 };
		struct rnd_snap held = { 0 };
		unsigned step;
		size_t k;

		snapshot_slot_init(&slot);
		for (k = 0; k < 6; k++) {
			f[k] = rnd_file(&r, (unsigned)k);
		}
		f[6] = seed % 2 ? big_ns_of(9, 0, 1) : NULL;
		for (step = 0; step < 25; step++) {
			struct snapshot *s;
			struct snapshot *full;
			struct snapshot_stats st;
			char *ta;
			char *tb;
			size_t n = 0;
			unsigned change = rnd_below(&r, 3);

			while (change-- > 0) {
				k = rnd_below(&r, 6);
				k8s_file_destroy(f[k]);
				f[k] = rnd_file(&r, (unsigned)k);
			}
			for (k = 0; k < 6; k++) {
				if (rnd_below(&r, 8) != 0) {
					g[n++] = f[k];
				}
			}
			if (f[6] != NULL) {
				g[n++] = f[6];
			}
			if (prev.s != NULL && rnd_below(&r, 6) == 0) {
				/* A build from prev that is not published. */
				snapshot_release(
					build_recycle(g, n, prev.s, &slot));
			}
			s = build_recycle(g, n, prev.s, &slot);
			full = build_reuse(g, n, NULL, 30);
			ta = dump_text(full);
			tb = dump_text(s);
			same_text(ta, tb);
			rnd_same(full, s, ta);
			free(ta);
			snapshot_release(full);
			snapshot_get_stats(s, &st);
			in_place += st.ns_in_place;
			copied += st.ns_reused - st.ns_in_place;
			rnd_let_go(&held);
			if (prev.s != NULL && rnd_below(&r, 4) == 0) {
				held = prev; /* a worker still reads it */
			} else {
				rnd_let_go(&prev);
			}
			prev.s = s;
			prev.text = tb;
		}
		rnd_let_go(&held);
		rnd_let_go(&prev);
		snapshot_slot_fini(&slot);
		for (k = 0; k < 7; k++) {
			k8s_file_destroy(f[k]);
		}
	}
	/* Both ways of taking a namespace over were taken (about 10 times a
	 * chain each). */
	assert_true(in_place > 4 * (size_t)chains);
	assert_true(copied > 4 * (size_t)chains);
}

/* ---- The start-up cache. ---- */

static struct snapshot *save_load(const struct snapshot *s, uint64_t key,
                                  uint64_t read_key, uint32_t ttl, long flip_at,
                                  long truncate_to, int *rc)
{
	static const char *const zones[] = { "cluster.local", "alt.test" };
	struct snapshot_opts o = { 0 };
	struct snapshot *out = NULL;
	FILE *f = tmpfile();
	long size;

	assert_non_null(f);
	assert_int_equal(snapshot_save(s, key, f), 0);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	if (flip_at >= 0) {
		int c;

		assert_int_equal(
			fseek(f, flip_at < size ? flip_at : size - 1, SEEK_SET),
			0);
		c = fgetc(f);
		assert_int_equal(
			fseek(f, flip_at < size ? flip_at : size - 1, SEEK_SET),
			0);
		fputc(c ^ 0x40, f);
	}
	if (truncate_to >= 0) {
		assert_int_equal(ftruncate(fileno(f), truncate_to), 0);
	}
	rewind(f);
	o.zones = zones;
	o.n_zones = 2;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.ttl = ttl;
	*rc = snapshot_load(f, read_key, &o, &out);
	fclose(f);
	return out;
}

static void test_snapshot_save_load(void **state)
{
	static const char p1[] = "kind: Pod\napiVersion: v1\n"
				 "metadata: {name: p1, namespace: b}\n"
				 "spec: {containers: [{name: c}]}\n"
				 "status: {phase: Running, podIP: 10.4.0.1}\n";
	struct k8s_file *f[5] = { load(ns_a_yaml), load(ns_b_yaml),
		                  load(ns_c_yaml), load(ns_d_yaml), load(p1) };
	struct snapshot *s = build_reuse(f, 5, NULL, 30);
	struct snapshot *l;
	struct snapshot *r;
	struct snapshot_stats st;
	int rc;

	(void)state;
	l = save_load(s, 42, 42, 30, -1, -1, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(l);
	check_same(s, l);
	assert_true(exists(l, "5.0.1.10.in-addr.arpa"));
	assert_true(pod_known(l, "10-4-0-1.b.pod.cluster.local"));
	assert_false(pod_known(l, "10-4-0-2.b.pod.cluster.local"));
	assert_int_equal(snapshot_serial(l), snapshot_serial(s));
	/* A later build never copies from a loaded snapshot. */
	r = build_reuse(f, 5, l, 30);
	snapshot_get_stats(r, &st);
	assert_int_equal(st.ns_reused, 0);
	check_same(s, r);
	snapshot_release(r);
	snapshot_release(l);
	/* Another key or other options: stale. */
	assert_null(save_load(s, 42, 43, 30, -1, -1, &rc));
	assert_int_equal(rc, -ESTALE);
	assert_null(save_load(s, 42, 42, 60, -1, -1, &rc));
	assert_int_equal(rc, -ESTALE);
	/* Damage anywhere after the header, or a short file: refused. */
	for (long at = 400; at < 6000; at += 397) {
		assert_null(save_load(s, 42, 42, 30, at, -1, &rc));
		assert_int_equal(rc, -EINVAL);
	}
	assert_null(save_load(s, 42, 42, 30, -1, 1000, &rc));
	assert_int_equal(rc, -EINVAL);
	assert_null(save_load(s, 42, 42, 30, -1, 10, &rc));
	assert_int_equal(rc, -EINVAL);
	snapshot_release(s);
	for (size_t i = 0; i < 5; i++) {
		k8s_file_destroy(f[i]);
	}
}

/* Blue/green answers depend on the previous cutover: not saved. */
static void test_snapshot_save_bluegreen(void **state)
{
	static const char bg[] =
		"kind: Service\napiVersion: v1\n"
		"metadata: {name: web, namespace: shop, annotations: "
		"{svcdns.io/color-label: color}}\n"
		"spec: {clusterIP: None, selector: {app: web, color: blue}}\n";
	struct k8s_file *f = load(bg);
	struct snapshot *s = build_reuse(&f, 1, NULL, 30);
	FILE *out = tmpfile();

	(void)state;
	assert_non_null(out);
	assert_int_equal(snapshot_save(s, 1, out), -ENOTSUP);
	fclose(out);
	snapshot_release(s);
	k8s_file_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_build_zones),
		cmocka_unit_test(test_snapshot_prefetch),
		cmocka_unit_test(test_snapshot_build_bad_zone),
		cmocka_unit_test(test_snapshot_build_duplicate_service),
		cmocka_unit_test(test_snapshot_build_huge_service),
		cmocka_unit_test(test_snapshot_ptr_names),
		cmocka_unit_test(test_snapshot_slot_publish),
		cmocka_unit_test(test_snapshot_reuse_unchanged),
		cmocka_unit_test(test_snapshot_reuse_large),
		cmocka_unit_test(test_snapshot_recycle),
		cmocka_unit_test(test_snapshot_log),
		cmocka_unit_test(test_snapshot_no_reserve),
		cmocka_unit_test(test_snapshot_reuse_shadowed_ptr),
		cmocka_unit_test(test_snapshot_reuse_ptr_index),
		cmocka_unit_test(test_snapshot_reuse_ptr_merged),
		cmocka_unit_test(test_snapshot_reuse_bluegreen),
		cmocka_unit_test(test_snapshot_reuse_pods),
		cmocka_unit_test(test_snapshot_reuse_random),
		cmocka_unit_test(test_snapshot_save_load),
		cmocka_unit_test(test_snapshot_save_bluegreen),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
