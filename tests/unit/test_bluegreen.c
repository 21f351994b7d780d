/* Blue/green: the decision rules, the state, and what a snapshot serves for
 * a blue/green service as the selector, the color file and readiness
 * change. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/bluegreen.h"
#include "svcdns/dname.h"
#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"

static void test_bluegreen_decide(void **state)
{
	struct bluegreen_config cfg = { .label = "color", .min_ready = 2 };
	struct bluegreen_decision d;

	(void)state;
	/* First sight: whatever is desired. */
	bluegreen_decide(&cfg, "blue", 0, NULL, 0, &d);
	assert_string_equal(d.served, "blue");
	assert_false(d.cutover);
	assert_false(d.held);
	/* Same color: no event. */
	bluegreen_decide(&cfg, "blue", 3, "blue", 3, &d);
	assert_string_equal(d.served, "blue");
	assert_false(d.cutover);
	/* Enough ready: cut over. */
	bluegreen_decide(&cfg, "green", 2, "blue", 3, &d);
	assert_string_equal(d.served, "green");
	assert_true(d.cutover);
	assert_false(d.held);
	/* Not enough ready while the old still answers: held. */
	bluegreen_decide(&cfg, "green", 1, "blue", 3, &d);
	assert_string_equal(d.served, "blue");
	assert_true(d.held);
	assert_false(d.cutover);
	assert_int_equal(d.ready_served, 3);
	/* Nothing left to protect: follow the data. */
	bluegreen_decide(&cfg, "green", 1, "blue", 0, &d);
	assert_string_equal(d.served, "green");
	assert_true(d.cutover);
	/* Unknown desired color keeps what is served. */
	bluegreen_decide(&cfg, NULL, 0, "blue", 3, &d);
	assert_string_equal(d.served, "blue");
	assert_false(d.cutover);
}

static void test_bluegreen_state(void **state)
{
	struct bluegreen_state *st = bluegreen_state_create();
	char ns[32];
	int i;

	(void)state;
	assert_non_null(st);
	assert_null(bluegreen_state_get(st, "a", "b"));
	assert_int_equal(bluegreen_state_set(st, "a", "b", "blue"), 0);
	assert_int_equal(bluegreen_state_set(st, "a", "b", "green"), 0);
	assert_string_equal(bluegreen_state_get(st, "a", "b"), "green");
	/* "a/b" must not collide with "a/" + "b" spellings. */
	assert_null(bluegreen_state_get(st, "a/b", ""));
	for (i = 0; i < 100; i++) {
		snprintf(ns, sizeof(ns), "ns%d", i);
		assert_int_equal(bluegreen_state_set(st, ns, "svc", "blue"), 0);
	}
	assert_int_equal(bluegreen_state_count(st), 101);
	assert_string_equal(bluegreen_state_get(st, "ns77", "svc"), "blue");
	assert_string_equal(bluegreen_state_get(st, "a", "b"), "green");
	bluegreen_state_destroy(st);
}

/* ---- snapshots of a blue/green service ---- */

static const char pods_fmt[] =
	"kind: Pod\napiVersion: v1\n"
	"metadata: {name: web-%s-%d, namespace: shop, labels: {app: web, color: %s}}\n"
	"spec: {containers: [{name: c, image: x}]}\n"
	"status: {phase: Running, podIP: %s, conditions: [{type: Ready, status: '%s'}]}\n"
	"---\n";

struct bg {
	char yaml[8192];
	size_t len;
	struct bluegreen_state *prev;
	struct snapshot *snap;
	struct k8s_file *file;
};

static void bg_service(struct bg *g, const char *selector_color,
                       const char *extra_annotations)
{
	g->len += (size_t)snprintf(
		g->yaml + g->len, sizeof(g->yaml) - g->len,
		"kind: Service\napiVersion: v1\n"
		"metadata:\n  name: web\n  namespace: shop\n"
		"  annotations: {svcdns.io/color-label: color%s}\n"
		"spec:\n  clusterIP: None\n"
		"  selector: {app: web, color: %s}\n"
		"  ports: [{name: http, port: 80}]\n---\n",
		extra_annotations, selector_color);
}

static void bg_pod(struct bg *g, const char *color, int i, const char *ip,
                   bool ready)
{
	g->len += (size_t)snprintf(g->yaml + g->len, sizeof(g->yaml) - g->len,
	                           pods_fmt, color, i, color, ip,
	                           ready ? "True" : "False");
}

/* Builds a snapshot from g->yaml with g->prev as the previous state; the
 * new state replaces g->prev. */
static void bg_build(struct bg *g, const struct bluegreen_colors *colors)
{
	static const char *const zones[] = { "cluster.local" };
	struct manifest_limits lim;
	struct snapshot_opts o = { 0 };
	struct bluegreen_state *next = bluegreen_state_create();
	struct diag d;
	const struct k8s_file *files[1];

	manifest_limits_default(&lim);
	diag_init(&d);
	snapshot_release(g->snap);
	k8s_file_destroy(g->file);
	g->file = NULL;
	if (manifest_load_buffer("bg.yaml", g->yaml, g->len, &lim, &g->file,
	                         &d) != 0) {
		diag_print(&d, stderr);
		fail();
	}
	files[0] = g->file;
	o.zones = zones;
	o.n_zones = 1;
	o.ttl = 5;
	o.pods = SNAPSHOT_PODS_VERIFIED;
	o.colors = colors;
	o.bg_prev = g->prev;
	o.bg_next = next;
	g->snap = snapshot_build(files, 1, &o, 1, &d);
	assert_non_null(g->snap);
	diag_fini(&d);
	bluegreen_state_destroy(g->prev);
	g->prev = next;
	g->len = 0;
}

/* The addresses answered for name, as "a,b,c" in snapshot order, or
 * "NX" when the name does not exist. */
static const char *bg_addrs(struct bg *g, const char *text)
{
	static char out[256];
	uint8_t name[DNAME_MAXLEN];
	size_t len;
	const struct snapshot_node *n;
	struct snapshot_resp view;
	const struct snapshot_resp *r;
	uint16_t i;
	size_t o = 0;

	assert_int_equal(dname_from_text(text, name, sizeof(name), &len), 0);
	n = snapshot_lookup(g->snap, name, len);
	if (n == NULL) {
		return "NX";
	}
	r = snapshot_node_resp(g->snap, n, 1, &view) ? &view : NULL;
	out[0] = '\0';
	for (i = 0; r != NULL && i < r->ancount; i++) {
		const uint8_t *a = r->body + (size_t)i * 16 + 12;

		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u.%u.%u.%u",
		                      i ? "," : "", a[0], a[1], a[2], a[3]);
	}
	return out;
}

static const struct snapshot_bluegreen *bg_info(struct bg *g)
{
	const struct snapshot_bluegreen *v;

	assert_int_equal(snapshot_bluegreen(g->snap, &v), 1);
	return v;
}

static void bg_free(struct bg *g)
{
	snapshot_release(g->snap);
	k8s_file_destroy(g->file);
	bluegreen_state_destroy(g->prev);
	free(g);
}

static void test_bluegreen_selector_flip(void **state)
{
	struct bg *g = calloc(1, sizeof(*g));

	(void)state;
	bg_service(g, "blue", "");
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "blue", 1, "10.0.1.2", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_pod(g, "green", 1, "10.0.2.2", false);
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.1.1,10.0.1.2");
	/* Preview names: the ready endpoints of each color. */
	assert_string_equal(bg_addrs(g, "green.web.shop.svc.cluster.local"),
	                    "10.0.2.1");
	assert_string_equal(bg_addrs(g, "blue.web.shop.svc.cluster.local"),
	                    "10.0.1.1,10.0.1.2");
	assert_string_equal(bg_info(g)->served, "blue");
	assert_false(bg_info(g)->cutover);

	/* The Service is re-pointed to green: one atomic switch. */
	bg_service(g, "green", "");
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "blue", 1, "10.0.1.2", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_pod(g, "green", 1, "10.0.2.2", true);
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.2.1,10.0.2.2");
	assert_true(bg_info(g)->cutover);
	assert_string_equal(bg_info(g)->previous, "blue");
	/* PTRs follow the served color too. */
	{
		uint8_t name[DNAME_MAXLEN];
		size_t len;
		size_t off;
		const uint8_t *t;
		const struct snapshot_zone *z;

		assert_int_equal(dname_from_text("1.2.0.10.in-addr.arpa", name,
		                                 sizeof(name), &len),
		                 0);
		z = snapshot_find_zone(g->snap, name, len, &off);
		assert_int_equal(snapshot_ptr_lookup(g->snap, z, name, len, &t),
		                 1);
		assert_int_equal(dname_from_text("1.1.0.10.in-addr.arpa", name,
		                                 sizeof(name), &len),
		                 0);
		assert_int_equal(snapshot_ptr_lookup(g->snap, z, name, len, &t),
		                 0);
	}
	bg_free(g);
}

static void test_bluegreen_guard_holds(void **state)
{
	struct bg *g = calloc(1, sizeof(*g));

	(void)state;
	bg_service(g, "blue", ", svcdns.io/min-ready: '2'");
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "blue", 1, "10.0.1.2", true);
	bg_build(g, NULL);
	/* Re-pointed to green while only one green pod is ready: held. */
	bg_service(g, "green", ", svcdns.io/min-ready: '2'");
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "blue", 1, "10.0.1.2", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_pod(g, "green", 1, "10.0.2.2", false);
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.1.1,10.0.1.2");
	assert_true(bg_info(g)->held);
	assert_string_equal(bg_info(g)->desired, "green");
	assert_int_equal(bg_info(g)->ready_desired, 1);
	/* The second green pod turns ready: the cut over happens now. */
	bg_service(g, "green", ", svcdns.io/min-ready: '2'");
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "blue", 1, "10.0.1.2", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_pod(g, "green", 1, "10.0.2.2", true);
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.2.1,10.0.2.2");
	assert_true(bg_info(g)->cutover);
	assert_false(bg_info(g)->held);
	/* Green is deleted and re-created (the idle color of the next
	 * round): blue is not affected, green previews vanish. */
	bg_service(g, "green", ", svcdns.io/min-ready: '2'");
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_pod(g, "green", 1, "10.0.2.2", true);
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "blue.web.shop.svc.cluster.local"),
	                    "NX");
	bg_free(g);
}

static void test_bluegreen_color_file(void **state)
{
	static const struct k8s_label green[] = { { "color", "green" } };
	static const struct k8s_label other[] = { { "active", "blue" } };
	struct bluegreen_color_file files[] = {
		{ "/etc/svcdns/web-color.yaml", { green, 1 } },
	};
	struct bluegreen_colors colors = { files, 1 };
	struct bg *g = calloc(1, sizeof(*g));
	const char *annot =
		", svcdns.io/color-file: /etc/svcdns/web-color.yaml";

	(void)state;
	/* The selector says blue, the color file says green: the file wins
	 * (it is what the playbook flips). */
	bg_service(g, "blue", annot);
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_build(g, &colors);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.2.1");
	/* A file without the key: the selector's color, with a warning. */
	files[0].values.items = other;
	bg_service(g, "blue", annot);
	bg_pod(g, "blue", 0, "10.0.1.1", true);
	bg_pod(g, "green", 0, "10.0.2.1", true);
	bg_build(g, &colors);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.1.1");
	bg_free(g);
}

/* Without Pods loaded a blue/green service follows its slices. */
static void test_bluegreen_slices(void **state)
{
	struct bg *g = calloc(1, sizeof(*g));

	(void)state;
	bg_service(g, "blue", "");
	g->len += (size_t)snprintf(
		g->yaml + g->len, sizeof(g->yaml) - g->len,
		"kind: EndpointSlice\napiVersion: discovery.k8s.io/v1\n"
		"metadata: {name: web-x, namespace: shop, labels: "
		"{kubernetes.io/service-name: web}}\n"
		"addressType: IPv4\nendpoints: [{addresses: [10.0.3.1]}]\n");
	bg_build(g, NULL);
	assert_string_equal(bg_addrs(g, "web.shop.svc.cluster.local"),
	                    "10.0.3.1");
	assert_true(bg_info(g)->from_slices);
	bg_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bluegreen_decide),
		cmocka_unit_test(test_bluegreen_state),
		cmocka_unit_test(test_bluegreen_selector_flip),
		cmocka_unit_test(test_bluegreen_guard_holds),
		cmocka_unit_test(test_bluegreen_color_file),
		cmocka_unit_test(test_bluegreen_slices),
	};

	return cmocka_run_group_tests_name("bluegreen", tests, NULL, NULL);
}
