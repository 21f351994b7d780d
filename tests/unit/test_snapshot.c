/* Snapshot building, lookup and publishing. The DNS rules themselves are
 * checked through answer_query in test_answer.c. */
#include "unit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
	assert_true(exists(s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"));
	assert_false(exists(s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"));
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
	assert_int_equal(dname_from_text("x.example.internal", name,
					 sizeof(name), &len),
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
	static const char other[] =
		"kind: Service\napiVersion: v1\n"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_build_zones),
		cmocka_unit_test(test_snapshot_build_bad_zone),
		cmocka_unit_test(test_snapshot_build_duplicate_service),
		cmocka_unit_test(test_snapshot_build_huge_service),
		cmocka_unit_test(test_snapshot_ptr_names),
		cmocka_unit_test(test_snapshot_slot_publish),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
