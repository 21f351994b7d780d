#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "svcdns/arena.h"
#include "svcdns/manifest.h"

#define DATA "data/manifest/"

/* --- helpers ------------------------------------------------------------ */

/* Reads a whole file into a NUL-terminated malloc'd string ("" if it does
 * not exist). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL) {
		return strdup("");
	}
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* diag_print's output as a malloc'd string. */
static char *diag_text(const struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	diag_print(d, f);
	fclose(f);
	return text;
}

/* The fixture's .diag, beside it with the extension replaced. */
static char *expected_diag(const char *fixture)
{
	char path[256];
	const char *dot = strrchr(fixture, '.');

	snprintf(path, sizeof(path), "%.*s.diag", (int)(dot - fixture),
	         fixture);
	return slurp(path);
}

static struct k8s_file *load_ok(const char *path, struct diag *d)
{
	struct k8s_file *f = NULL;
	int rc;

	diag_init(d);
	rc = manifest_load_file(path, NULL, NULL, &f, d);
	if (rc != 0) {
		diag_print(d, stderr);
		fail_msg("%s: rc %d", path, rc);
	}
	assert_non_null(f);
	assert_int_equal(d->errors, 0);
	return f;
}

static int load_buf(const char *text, const struct manifest_limits *lim,
                    struct k8s_file **f, struct diag *d)
{
	diag_init(d);
	return manifest_load_buffer("buf.yaml", text, strlen(text), lim, f, d);
}

static const char *ip_text(const struct k8s_ip *ip, char *buf)
{
	k8s_ip_to_text(ip, buf, 64);
	return buf;
}

/* --- good fixtures ------------------------------------------------------ */

struct good_case {
	const char *file;
	size_t namespaces, services, slices, pods, unknown;
};

static const struct good_case good_cases[] = {
	{ DATA "good_kubectl_service.yaml", 0, 1, 0, 0, 0 },
	{ DATA "good_multidoc.yaml", 1, 1, 1, 1, 0 },
	{ DATA "good_list.yaml", 0, 1, 2, 0, 1 },
	{ DATA "good_kubectl_list.json", 0, 0, 2, 1, 0 },
	{ DATA "good_servicelist.json", 0, 3, 0, 0, 0 },
	{ DATA "good_unknown.yaml", 0, 1, 0, 0, 3 },
	{ DATA "good_edge.yaml", 0, 2, 2, 1, 0 },
};

/* Every good fixture loads; its warnings are exactly its .diag (none when
 * there is no .diag). */
static void test_manifest_load_good_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(good_cases); i++) {
		const struct good_case *c = &good_cases[i];
		struct diag d;
		struct k8s_file *f = load_ok(c->file, &d);
		char *want = expected_diag(c->file);
		char *got = diag_text(&d);

		assert_string_equal(got, want);
		assert_string_equal(f->path, c->file);
		assert_int_equal(f->n_namespaces, c->namespaces);
		assert_int_equal(f->n_services, c->services);
		assert_int_equal(f->n_slices, c->slices);
		assert_int_equal(f->n_pods, c->pods);
		assert_int_equal(f->n_unknown, c->unknown);
		free(want);
		free(got);
		k8s_file_destroy(f);
		diag_fini(&d);
	}
}

static void test_manifest_load_kubectl_service(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_kubectl_service.yaml", &d);
	const struct k8s_service *s = &f->services[0];
	char ip[64];

	(void)state;
	assert_string_equal(s->meta.name, "web");
	assert_string_equal(s->meta.ns, "shop");
	assert_int_equal(s->meta.origin.line, 1);
	assert_int_equal(s->meta.origin.col, 1);
	assert_string_equal(s->meta.origin.file, f->path);
	assert_false(s->meta.deleting);
	/* A plain 2 in labels keeps its text. */
	assert_string_equal(k8s_labels_get(&s->meta.labels, "version"), "2");
	assert_string_equal(
		k8s_labels_get(&s->meta.annotations, "prometheus.io/scrape"),
		"true");
	assert_int_equal(s->type, K8S_SVC_CLUSTER_IP);
	assert_false(s->headless);
	assert_int_equal(s->n_cluster_ips, 2);
	assert_string_equal(ip_text(&s->cluster_ips[0], ip), "10.96.12.34");
	assert_string_equal(ip_text(&s->cluster_ips[1], ip),
	                    "fd00:10:96::1234");
	assert_null(s->external_name);
	assert_int_equal(s->n_ports, 4);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].proto, K8S_PROTO_TCP);
	assert_int_equal(s->ports[0].port, 80);
	assert_int_equal(s->ports[0].target_port, 8080);
	assert_null(s->ports[0].target_name);
	assert_string_equal(s->ports[1].target_name, "metrics");
	assert_int_equal(s->ports[1].target_port, 0);
	/* A quoted "5353" targetPort is read as a number (lenient). */
	assert_int_equal(s->ports[2].proto, K8S_PROTO_UDP);
	assert_int_equal(s->ports[2].target_port, 5353);
	assert_null(s->ports[2].target_name);
	/* Unnamed, no targetPort: same as port. */
	assert_string_equal(s->ports[3].name, "");
	assert_int_equal(s->ports[3].target_port, 8443);
	assert_true(s->has_selector);
	assert_int_equal(s->selector.n, 2);
	assert_string_equal(k8s_labels_get(&s->selector, "color"), "blue");
	assert_false(s->publish_not_ready);
	k8s_file_destroy(f);
	diag_fini(&d);
}

static void test_manifest_load_multidoc(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_multidoc.yaml", &d);
	const struct k8s_service *svc = &f->services[0];
	const struct k8s_slice *sl = &f->slices[0];
	const struct k8s_pod *pod = &f->pods[0];
	char ip[64];

	(void)state;
	assert_string_equal(f->namespaces[0].meta.name, "data");
	assert_string_equal(f->namespaces[0].meta.ns, "");
	assert_int_equal(f->namespaces[0].meta.origin.line, 3);
	assert_true(svc->headless);
	assert_int_equal(svc->n_cluster_ips, 0);
	assert_true(svc->publish_not_ready); /* "True" */
	assert_string_equal(sl->service_name, "db");
	assert_false(sl->legacy);
	assert_int_equal(sl->address_type, 4);
	assert_int_equal(sl->n_endpoints, 3);
	assert_string_equal(ip_text(&sl->endpoints[0].addrs[0], ip),
	                    "10.244.1.10");
	assert_string_equal(sl->endpoints[0].hostname, "db-0");
	assert_true(sl->endpoints[0].ready);
	assert_string_equal(sl->endpoints[0].target_kind, "Pod");
	assert_string_equal(sl->endpoints[0].target_name, "db-0");
	assert_string_equal(sl->endpoints[0].target_ns, "data");
	assert_false(sl->endpoints[1].ready);
	assert_null(sl->endpoints[1].target_kind);
	/* conditions absent: ready (nil means ready). */
	assert_true(sl->endpoints[2].ready);
	assert_null(sl->endpoints[2].hostname);
	assert_int_equal(sl->n_ports, 1);
	assert_string_equal(sl->ports[0].name, "pg");
	assert_int_equal(sl->ports[0].port, 5432);
	assert_string_equal(pod->hostname, "db-0");
	assert_string_equal(pod->subdomain, "db");
	assert_int_equal(pod->phase, K8S_POD_RUNNING);
	assert_true(pod->ready);
	assert_int_equal(pod->n_ips, 1);
	assert_string_equal(ip_text(&pod->ips[0], ip), "10.244.1.10");
	/* Ports of every container, in order. */
	assert_int_equal(pod->n_ports, 2);
	assert_string_equal(pod->ports[0].name, "pg");
	assert_int_equal(pod->ports[1].port, 9187);
	assert_string_equal(pod->ports[1].name, "");
	k8s_file_destroy(f);
	diag_fini(&d);
}

static void test_manifest_load_list_null_endpoints(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_list.yaml", &d);

	(void)state;
	assert_string_equal(f->slices[0].meta.name, "api-x7k2p");
	assert_string_equal(f->slices[0].endpoints[0].target_name,
	                    "api-7d4b9c-abcde");
	/* endpoints: null and ports: null are empty. */
	assert_string_equal(f->slices[1].meta.name, "api-v6q9z");
	assert_int_equal(f->slices[1].address_type, 6);
	assert_int_equal(f->slices[1].n_endpoints, 0);
	assert_int_equal(f->slices[1].n_ports, 0);
	k8s_file_destroy(f);
	diag_fini(&d);
}

/* Only a Service's annotations are kept (svcdns.io/... are read from
 * them); those of the other kinds are never read, not even checked. */
static void test_manifest_annotations_services_only(void **state)
{
	static const char text[] =
		"apiVersion: v1\n"
		"kind: Namespace\n"
		"metadata: {name: shop, annotations: {owner: team-a}}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata:\n"
		"  name: web\n"
		"  namespace: shop\n"
		"  annotations: {svcdns.io/color-label: color}\n"
		"spec: {clusterIP: None, selector: {app: web}}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata:\n"
		"  name: web-1\n"
		"  namespace: shop\n"
		"  labels: {app: web}\n"
		"  annotations:\n"
		"    cni.projectcalico.org/podIP: 10.244.1.5/32\n"
		"    kubectl.kubernetes.io/restartedAt: \"2024-05-01T00:00:00Z\"\n"
		"spec: {containers: [{name: web, image: web}]}\n"
		"status: {phase: Running, podIP: 10.244.1.5}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata: {name: web-2, namespace: shop, annotations: [not, a, map]}\n"
		"spec: {containers: [{name: web, image: web}]}\n"
		"status: {phase: Running, podIP: 10.244.1.6}\n"
		"---\n"
		"apiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata:\n"
		"  name: web-abc\n"
		"  namespace: shop\n"
		"  labels: {kubernetes.io/service-name: web}\n"
		"  annotations: {endpoints.kubernetes.io/last-change-trigger-time: x}\n"
		"addressType: IPv4\n"
		"endpoints: [{addresses: [10.244.1.5]}]\n";
	struct k8s_file *f = NULL;
	struct diag d;

	(void)state;
	assert_int_equal(load_buf(text, NULL, &f, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(f->n_services, 1);
	assert_int_equal(f->n_pods, 2);
	assert_string_equal(k8s_labels_get(&f->services[0].meta.annotations,
	                                   "svcdns.io/color-label"),
	                    "color");
	assert_int_equal(f->namespaces[0].meta.annotations.n, 0);
	assert_int_equal(f->pods[0].meta.annotations.n, 0);
	assert_int_equal(f->pods[1].meta.annotations.n, 0);
	assert_int_equal(f->slices[0].meta.annotations.n, 0);
	/* The labels of the same objects are kept. */
	assert_string_equal(k8s_labels_get(&f->pods[0].meta.labels, "app"),
	                    "web");
	k8s_file_destroy(f);
	diag_fini(&d);
}

/* core/v1 Endpoints: one legacy slice per family of a subset. */
static void test_manifest_load_legacy_endpoints(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_kubectl_list.json", &d);
	const struct k8s_slice *v4 = &f->slices[0];
	const struct k8s_slice *v6 = &f->slices[1];
	const struct k8s_pod *pod = &f->pods[0];
	char ip[64];

	(void)state;
	assert_true(v4->legacy);
	assert_string_equal(v4->service_name, "legacy");
	assert_string_equal(v4->meta.name, "legacy");
	assert_string_equal(v4->meta.ns, "old");
	assert_int_equal(v4->address_type, 4);
	assert_int_equal(v4->n_endpoints, 2);
	assert_string_equal(ip_text(&v4->endpoints[0].addrs[0], ip),
	                    "10.244.7.1");
	assert_true(v4->endpoints[0].ready);
	assert_string_equal(v4->endpoints[0].hostname, "legacy-0");
	assert_string_equal(v4->endpoints[0].target_kind, "Pod");
	/* notReadyAddresses come after addresses, not ready. */
	assert_string_equal(ip_text(&v4->endpoints[1].addrs[0], ip),
	                    "10.244.7.3");
	assert_false(v4->endpoints[1].ready);
	assert_int_equal(v4->n_ports, 1);
	assert_int_equal(v4->ports[0].port, 8080);
	assert_true(v6->legacy);
	assert_int_equal(v6->address_type, 6);
	assert_int_equal(v6->n_endpoints, 1);
	assert_string_equal(ip_text(&v6->endpoints[0].addrs[0], ip),
	                    "fd00:10:244:7::2");
	assert_int_equal(v6->n_ports, 1);
	/* The pod is terminating and not ready, with two IPs. */
	assert_true(pod->meta.deleting);
	assert_false(pod->ready);
	assert_int_equal(pod->n_ips, 2);
	assert_string_equal(ip_text(&pod->ips[1], ip), "fd00:10:244:7::1");
	k8s_file_destroy(f);
	diag_fini(&d);
}

/* A typed list from the API: items without kind or apiVersion. */
static void test_manifest_load_typed_list(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_servicelist.json", &d);

	(void)state;
	assert_string_equal(f->services[0].meta.name, "kube-dns");
	assert_string_equal(f->services[0].meta.ns, "kube-system");
	assert_int_equal(f->services[0].ports[0].proto, K8S_PROTO_UDP);
	assert_int_equal(f->services[1].type, K8S_SVC_EXTERNAL_NAME);
	/* The trailing dot is stripped. */
	assert_string_equal(f->services[1].external_name, "search.example.com");
	/* The legacy annotation. */
	assert_true(f->services[1].publish_not_ready);
	assert_false(f->services[1].has_selector);
	/* No namespace: "default". */
	assert_string_equal(f->services[2].meta.ns, "default");
	assert_int_equal(f->services[2].ports[0].target_port, 6443);
	k8s_file_destroy(f);
	diag_fini(&d);
}

static void test_manifest_load_edge_cases(void **state)
{
	struct diag d;
	struct k8s_file *f = load_ok(DATA "good_edge.yaml", &d);
	const struct k8s_service *edge = &f->services[0];
	const struct k8s_service *hl = &f->services[1];
	const struct k8s_slice *v6 = &f->slices[0];
	char ip[64];

	(void)state;
	assert_int_equal(edge->type, K8S_SVC_NODE_PORT);
	/* "" entries are ignored; clusterIPs wins over clusterIP. */
	assert_int_equal(edge->n_cluster_ips, 2);
	assert_string_equal(ip_text(&edge->cluster_ips[0], ip), "fd00::10");
	/* externalName only counts for type ExternalName. */
	assert_null(edge->external_name);
	assert_string_equal(k8s_labels_get(&edge->meta.labels, "enabled"),
	                    "true");
	assert_string_equal(k8s_labels_get(&edge->meta.labels, "empty"), "");
	assert_string_equal(k8s_labels_get(&edge->meta.labels, "nothing"), "");
	assert_string_equal(k8s_labels_get(&edge->meta.labels, "quoted"),
	                    "yes");
	/* selector: *common shares the labels node. */
	assert_int_equal(edge->selector.n, 5);
	/* targetPort 0 and "" mean the port itself; "+80" is 80. */
	assert_int_equal(edge->ports[0].port, 80);
	assert_int_equal(edge->ports[0].target_port, 80);
	assert_int_equal(edge->ports[1].target_port, 81);
	assert_int_equal(edge->ports[2].target_port, 8082);
	/* "no" is false, but the annotation says true. */
	assert_true(edge->publish_not_ready);
	assert_true(hl->headless);
	assert_int_equal(hl->n_cluster_ips, 0);
	assert_int_equal(hl->type, K8S_SVC_LOAD_BALANCER);
	assert_false(hl->has_selector); /* selector: {} */
	/* v1beta1, upper-case IPv6 text, ready: null and ~ mean ready. */
	assert_int_equal(v6->address_type, 6);
	assert_string_equal(ip_text(&v6->endpoints[0].addrs[0], ip), "fd00::1");
	assert_true(v6->endpoints[0].ready);
	assert_true(v6->endpoints[1].ready);
	/* A port without a number is left out. */
	assert_int_equal(v6->n_ports, 2);
	assert_string_equal(v6->ports[1].name, "");
	/* FQDN slices are kept, without endpoints. */
	assert_int_equal(f->slices[1].address_type, 0);
	assert_int_equal(f->slices[1].n_endpoints, 0);
	assert_int_equal(f->pods[0].phase, K8S_POD_PENDING);
	assert_int_equal(f->pods[0].n_ips, 0);
	k8s_file_destroy(f);
	diag_fini(&d);
}

/* --- bad fixtures ------------------------------------------------------- */

static const char *const bad_cases[] = {
	DATA "bad_port_range.yaml",
	DATA "bad_missing_name.yaml",
	DATA "bad_cluster_ip.yaml",
	DATA "bad_names.yaml",
	DATA "bad_syntax.yaml",
	DATA "bad_syntax_flow.json",
	DATA "bad_scalars.yaml",
	DATA "bad_alias_bomb.yaml",
	DATA "bad_alias_objects.yaml",
	DATA "bad_deep_flow.yaml",
	DATA "bad_deep_block.yaml",
	DATA "bad_deep_alias.yaml",
	DATA "bad_alias_recursive.yaml",
	DATA "bad_alias_unknown.yaml",
	DATA "bad_duplicate_key.yaml",
	DATA "bad_utf8.yaml",
	DATA "bad_not_object.yaml",
	DATA "bad_nul.json",
	DATA "bad_slice.yaml",
	DATA "bad_externalname.yaml",
	DATA "bad_pod.yaml",
	DATA "bad_endpoints.yaml",
	DATA "bad_many_errors.yaml",
};

/* Every bad fixture is rejected whole, with exactly its .diag. */
static void test_manifest_load_bad_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(bad_cases); i++) {
		struct k8s_file *f = (struct k8s_file *)1;
		char *want = expected_diag(bad_cases[i]);
		char *got;
		struct diag d;
		int rc;

		diag_init(&d);
		rc = manifest_load_file(bad_cases[i], NULL, NULL, &f, &d);
		got = diag_text(&d);
		if (rc != -EINVAL || strcmp(got, want) != 0) {
			fail_msg("%s: rc %d, diagnostics:\n%s\nwant:\n%s",
			         bad_cases[i], rc, got, want);
		}
		assert_null(f);
		assert_true(d.errors > 0);
		assert_true(want[0] != '\0');
		free(want);
		free(got);
		diag_fini(&d);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hostile files fail fast (generous bound: valgrind and sanitizers). */
static void test_manifest_load_bombs_fast(void **state)
{
	static const char *const files[] = {
		DATA "bad_alias_bomb.yaml",
		DATA "bad_alias_objects.yaml",
		DATA "bad_deep_flow.yaml",
	};
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(files); i++) {
		struct k8s_file *f;
		double t0 = now_s();
		struct diag d;

		diag_init(&d);
		assert_int_equal(
			manifest_load_file(files[i], NULL, NULL, &f, &d),
			-EINVAL);
		assert_int_equal(d.errors, 1);
		assert_true(now_s() - t0 < 5.0);
		diag_fini(&d);
	}
}

/* A flat sequence of 100,000 scalars is refused at the node limit, not
 * after building it all. */
static void test_manifest_load_node_limit(void **state)
{
	struct manifest_limits lim;
	size_t n = 100000;
	char *text = malloc(n * 2 + 8);
	struct k8s_file *f;
	struct diag d;
	size_t i;

	(void)state;
	assert_non_null(text);
	text[0] = '[';
	for (i = 0; i < n; i++) {
		text[1 + 2 * i] = 'x';
		text[2 + 2 * i] = ',';
	}
	strcpy(text + 2 * n, "]");
	manifest_limits_default(&lim);
	lim.max_nodes = 1000;
	assert_int_equal(load_buf(text, &lim, &f, &d), -EINVAL);
	assert_null(f);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.head->msg, "more than 1000 YAML nodes"));
	assert_int_equal(d.head->line, 1);
	assert_int_equal(d.head->col, 2 * 999 + 2); /* the 1000th x */
	diag_fini(&d);
	free(text);
}

static void test_manifest_load_limits(void **state)
{
	static const char two[] =
		"apiVersion: v1\n"
		"kind: List\n"
		"items:\n"
		"- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
		"- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n"
		"- {apiVersion: v1, kind: Namespace, metadata: {name: c}}\n";
	struct manifest_limits lim;
	struct k8s_file *f;
	struct diag d;

	(void)state;
	manifest_limits_default(&lim);
	assert_int_equal(lim.max_file_size, 16 * 1024 * 1024);
	assert_int_equal(lim.max_nodes, 1000000);
	assert_int_equal(lim.max_depth, 64);
	assert_int_equal(lim.max_objects, 200000);

	lim.max_objects = 3;
	assert_int_equal(load_buf(two, &lim, &f, &d), 0);
	assert_int_equal(f->n_namespaces, 3);
	k8s_file_destroy(f);
	diag_fini(&d);
	lim.max_objects = 2;
	assert_int_equal(load_buf(two, &lim, &f, &d), -EINVAL);
	assert_null(f);
	assert_string_equal(d.head->msg, "more than 2 objects in one file");
	assert_int_equal(d.head->line, 6);
	diag_fini(&d);

	/* Depth: root 1, items 2, each item 3, its metadata 4. */
	manifest_limits_default(&lim);
	lim.max_depth = 4;
	assert_int_equal(load_buf(two, &lim, &f, &d), 0);
	k8s_file_destroy(f);
	diag_fini(&d);
	lim.max_depth = 3;
	assert_int_equal(load_buf(two, &lim, &f, &d), -EINVAL);
	assert_string_equal(d.head->msg, "nesting deeper than 3 levels");
	assert_int_equal(d.head->line, 4);
	assert_int_equal(d.head->col, 47); /* the first {name: a} */
	diag_fini(&d);

	manifest_limits_default(&lim);
	lim.max_file_size = sizeof(two) - 2;
	assert_int_equal(load_buf(two, &lim, &f, &d), -EINVAL);
	assert_null(f);
	assert_int_equal(d.head->line, 0);
	assert_non_null(strstr(d.head->msg, "file too large"));
	diag_fini(&d);
}

static void test_manifest_load_empty_inputs(void **state)
{
	static const char *const texts[] = {
		"",
		"\n\n",
		"# only a comment\n",
		"---\n",
		"---\n---\n...\n",
		"~\n",
		"null\n",
		"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}",
		"apiVersion: v1\nkind: List\nitems: null\n",
	};
	struct k8s_file *f;
	struct diag d;
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(texts); i++) {
		if (load_buf(texts[i], NULL, &f, &d) != 0) {
			diag_print(&d, stderr);
			fail_msg("text %zu did not load", i);
		}
		assert_int_equal(f->n_services + f->n_slices + f->n_pods +
		                         f->n_namespaces + f->n_unknown,
		                 0);
		assert_int_equal(d.errors + d.warnings, 0);
		k8s_file_destroy(f);
		diag_fini(&d);
	}
	diag_init(&d);
	assert_int_equal(manifest_load_buffer("x", NULL, 0, NULL, &f, &d), 0);
	k8s_file_destroy(f);
	diag_fini(&d);
}

/* The buffer need not be NUL-terminated: only len octets are read. */
static void test_manifest_load_buffer_not_terminated(void **state)
{
	static const char text[] = "apiVersion: v1\nkind: Namespace\n"
				   "metadata: {name: abc}\nXXXX";
	struct k8s_file *f;
	struct diag d;
	char *copy = malloc(sizeof(text) - 5);

	(void)state;
	assert_non_null(copy);
	memcpy(copy, text, sizeof(text) - 5); /* without "XXXX" and NUL */
	diag_init(&d);
	assert_int_equal(
		manifest_load_buffer("x", copy, sizeof(text) - 5, NULL, &f, &d),
		0);
	assert_string_equal(f->namespaces[0].meta.name, "abc");
	k8s_file_destroy(f);
	diag_fini(&d);
	free(copy);
}

/* Objects outlive the buffer they were read from. */
static void test_manifest_load_buffer_copies(void **state)
{
	char *text = strdup("apiVersion: v1\nkind: Service\nmetadata:\n"
	                    "  name: web\n  labels: {app: web}\n"
	                    "spec: {ports: [{name: http, port: 80}]}\n");
	struct k8s_file *f;
	struct diag d;

	(void)state;
	assert_non_null(text);
	assert_int_equal(load_buf(text, NULL, &f, &d), 0);
	memset(text, 'x', strlen(text));
	free(text);
	assert_string_equal(f->services[0].meta.name, "web");
	assert_string_equal(f->services[0].ports[0].name, "http");
	assert_string_equal(k8s_labels_get(&f->services[0].meta.labels, "app"),
	                    "web");
	k8s_file_destroy(f);
	diag_fini(&d);
}

static void test_manifest_load_booleans(void **state)
{
	static const struct {
		const char *value;
		int rc;
		bool publish;
	} cases[] = {
		{ "true", 0, true },
		{ "True", 0, true },
		{ "TRUE", 0, true },
		{ "yes", 0, true },
		{ "on", 0, true },
		{ "false", 0, false },
		{ "False", 0, false },
		{ "no", 0, false },
		{ "OFF", 0, false },
		{ "~", 0, false },
		{ "tRUE", -EINVAL, false },
		{ "1", -EINVAL, false },
		{ "\"true\"", -EINVAL, false },
		{ "[true]", -EINVAL, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(cases); i++) {
		char text[200];
		struct k8s_file *f;
		struct diag d;

		snprintf(text, sizeof(text),
		         "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
		         "spec: {publishNotReadyAddresses: %s}\n",
		         cases[i].value);
		if (load_buf(text, NULL, &f, &d) != cases[i].rc) {
			fail_msg("publishNotReadyAddresses: %s",
			         cases[i].value);
		}
		if (cases[i].rc == 0) {
			assert_int_equal(f->services[0].publish_not_ready,
			                 cases[i].publish);
			k8s_file_destroy(f);
		}
		diag_fini(&d);
	}
}

static void test_manifest_load_target_ports(void **state)
{
	static const struct {
		const char *value;
		int rc;
		uint16_t port;
		const char *name;
	} cases[] = {
		{ "8080", 0, 8080, NULL },
		{ "\"8080\"", 0, 8080, NULL }, /* lenient */
		{ "'65535'", 0, 65535, NULL },
		{ "http", 0, 0, "http" },
		{ "\"http-alt\"", 0, 0, "http-alt" },
		{ "80abc", 0, 0, "80abc" }, /* a valid IANA name */
		{ "0", 0, 80, NULL },
		{ "\"\"", 0, 80, NULL },
		{ "null", 0, 80, NULL },
		{ "\"0\"", -EINVAL, 0, NULL },
		{ "\"65536\"", -EINVAL, 0, NULL },
		{ "65536", -EINVAL, 0, NULL },
		{ "-1", -EINVAL, 0, NULL },
		{ "HTTP", -EINVAL, 0, NULL },
		{ "a-very-long-port-name", -EINVAL, 0, NULL },
		{ "-http", -EINVAL, 0, NULL },
		{ "ht--tp", -EINVAL, 0, NULL },
		{ "123", 0, 123, NULL },
		{ "{}", -EINVAL, 0, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(cases); i++) {
		char text[200];
		struct k8s_file *f;
		struct diag d;

		snprintf(text, sizeof(text),
		         "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
		         "spec: {ports: [{port: 80, targetPort: %s}]}\n",
		         cases[i].value);
		if (load_buf(text, NULL, &f, &d) != cases[i].rc) {
			diag_print(&d, stderr);
			fail_msg("targetPort: %s", cases[i].value);
		}
		if (cases[i].rc == 0) {
			const struct k8s_service_port *p =
				&f->services[0].ports[0];

			assert_int_equal(p->target_port, cases[i].port);
			if (cases[i].name == NULL) {
				assert_null(p->target_name);
			} else {
				assert_string_equal(p->target_name,
				                    cases[i].name);
			}
			k8s_file_destroy(f);
		}
		diag_fini(&d);
	}
}

static void test_manifest_load_slice_without_service_name(void **state)
{
	static const char text[] = "apiVersion: discovery.k8s.io/v1\n"
				   "kind: EndpointSlice\n"
				   "metadata: {name: orphan, namespace: x}\n"
				   "addressType: IPv4\n"
				   "endpoints: [{addresses: [10.0.0.1]}]\n";
	struct k8s_file *f;
	struct diag d;

	(void)state;
	/* A warning, not an error: the file loads without the slice. */
	assert_int_equal(load_buf(text, NULL, &f, &d), 0);
	assert_int_equal(f->n_slices, 0);
	assert_int_equal(f->n_unknown, 0);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.head->severity, DIAG_WARNING);
	assert_string_equal(
		d.head->msg,
		"EndpointSlice x/orphan has no kubernetes.io/service-name label, skipped");
	k8s_file_destroy(f);
	diag_fini(&d);
}

static void test_manifest_load_file_errors(void **state)
{
	struct k8s_file *f;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(manifest_load_file(DATA "no-such-file.yaml",
	                                    "shown.yaml", NULL, &f, &d),
	                 -ENOENT);
	assert_null(f);
	assert_string_equal(d.head->file, "shown.yaml");
	assert_string_equal(d.head->msg,
	                    "cannot open: No such file or directory");
	diag_fini(&d);
	diag_init(&d);
	assert_int_equal(manifest_load_file(DATA, NULL, NULL, &f, &d), -EINVAL);
	assert_string_equal(d.head->msg, "not a regular file");
	diag_fini(&d);
}

static void test_manifest_is_manifest_name_table(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "web.yaml", true },   { "web.yml", true },
		{ "web.json", true },   { "a.b.yaml", true },
		{ ".web.yaml", false }, { "..data", false },
		{ ".yaml", false },     { "yaml", false },
		{ "web.yaml~", false }, { "web.yaml.swp", false },
		{ "web.YAML", false },  { "web.txt", false },
		{ "web", false },       { "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(cases); i++) {
		if (manifest_is_manifest_name(cases[i].name) != cases[i].ok) {
			fail_msg("manifest_is_manifest_name(\"%s\")",
			         cases[i].name);
		}
	}
}

/* --- manifest_set ------------------------------------------------------- */

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void make_link(const char *dir, const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void remove_tree(const char *path)
{
	struct stat st;
	DIR *dp;
	struct dirent *de;

	if (lstat(path, &st) != 0) {
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	dp = opendir(path);
	assert_non_null(dp);
	while ((de = readdir(dp)) != NULL) {
		char sub[1024];

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		remove_tree(sub);
	}
	closedir(dp);
	rmdir(path);
}

static char *namespace_doc(const char *name)
{
	char *text = malloc(128);

	assert_non_null(text);
	snprintf(text, 128,
	         "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n",
	         name);
	return text;
}

static void put_ns(const char *dir, const char *rel, const char *name)
{
	char *text = namespace_doc(name);

	write_file(dir, rel, text);
	free(text);
}

/* The names of the namespaces in the set's files, in file order, joined
 * with spaces, so that a whole state can be compared at once. */
static void set_names(const struct manifest_set *s, char *out, size_t cap)
{
	const struct k8s_file *const *files;
	size_t n = manifest_set_files(s, &files);
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < files[i]->n_namespaces; j++) {
			size_t len = strlen(out);

			snprintf(out + len, cap - len, "%s%s", len ? " " : "",
			         files[i]->namespaces[j].meta.name);
		}
	}
}

static void scan(struct manifest_set *s, bool force,
                 struct manifest_scan_stats *st, struct diag *d)
{
	diag_init(d);
	assert_int_equal(manifest_set_scan(s, force, d, st), 0);
}

struct set_fixture {
	char dir[64];
	struct manifest_set *s;
};

static int set_setup(void **state)
{
	struct set_fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/svcdns-manifest-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->s = manifest_set_create(fx->dir, NULL);
	assert_non_null(fx->s);
	*state = fx;
	return 0;
}

static int set_teardown(void **state)
{
	struct set_fixture *fx = *state;

	manifest_set_destroy(fx->s);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

static void test_manifest_set_scan_lifecycle(void **state)
{
	struct set_fixture *fx = *state;
	const struct k8s_file *const *files;
	struct manifest_scan_stats st;
	char names[256];
	char path[512];
	struct diag d;

	/* Add: two files (one in a subdirectory); dot-files and other
	 * names are not read. */
	put_ns(fx->dir, "b.yaml", "bee");
	make_dir(fx->dir, "sub");
	put_ns(fx->dir, "sub/a.json", "ay");
	put_ns(fx->dir, ".hidden.yaml", "hidden");
	put_ns(fx->dir, "notes.txt", "notes");
	make_dir(fx->dir, ".git");
	put_ns(fx->dir, ".git/c.yaml", "git");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.removed, 0);
	assert_true(st.changed);
	assert_int_equal(d.errors + d.warnings, 0);
	diag_fini(&d);
	assert_int_equal(manifest_set_files(fx->s, &files), 2);
	/* Sorted by path: "<dir>/b.yaml" < "<dir>/sub/a.json". */
	snprintf(path, sizeof(path), "%s/b.yaml", fx->dir);
	assert_string_equal(files[0]->path, path);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "bee ay");

	/* Nothing changed: nothing is read. */
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.loaded, 0);
	assert_false(st.changed);
	diag_fini(&d);

	/* Modify. */
	put_ns(fx->dir, "b.yaml", "bee-two");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.loaded, 1);
	assert_true(st.changed);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "bee-two ay");

	/* Break it: the last good objects stay, the error is reported. */
	write_file(fx->dir, "b.yaml",
	           "apiVersion: v1\nkind: Namespace\n"
	           "metadata:\n  name: Bad_Name\n");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.loaded, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.broken, 1);
	assert_false(st.changed);
	assert_int_equal(d.errors, 1);
	snprintf(path, sizeof(path), "%s/b.yaml", fx->dir);
	assert_string_equal(d.head->file, path);
	assert_int_equal(d.head->line, 4);
	assert_int_equal(d.head->col, 9);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "bee-two ay");

	/* A broken file is not read again until it changes (still broken)... */
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.broken, 1);
	assert_int_equal(d.errors, 0);
	diag_fini(&d);
	/* ...unless forced, which rereads everything. */
	scan(fx->s, true, &st, &d);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.loaded, 1);
	diag_fini(&d);

	/* Fix it again. */
	put_ns(fx->dir, "b.yaml", "bee-three");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.broken, 0);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "bee-three ay");

	/* Delete. */
	snprintf(path, sizeof(path), "%s/sub/a.json", fx->dir);
	assert_int_equal(unlink(path), 0);
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.removed, 1);
	assert_true(st.changed);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "bee-three");
}

/* More than a MiB of files: parsed on several threads, taken over in path
 * order, each file's diagnostics in that order too. */
static void test_manifest_set_scan_parallel(void **state)
{
	struct set_fixture *fx = *state;
	const struct k8s_file *const *files;
	struct manifest_scan_stats st;
	struct diag d;
	char rel[32];
	char want[512] = "";
	char names[512];
	const struct diag_entry *e;
	size_t i;
	size_t k;

	for (i = 0; i < 12; i++) {
		/* ~120 KiB each: a namespace and a comment to pad it. */
		size_t len = 64;
		char *big = malloc(len + 130000);

		assert_non_null(big);
		snprintf(rel, sizeof(rel), "f%02zu.yaml", i);
		snprintf(
			big, len + 130000,
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n%02zu\n",
			i);
		for (k = strlen(big); k + 80 < 120000; k += 64) {
			big[k] = '#';
			memset(big + k + 1, 'x', 62);
			big[k + 63] = '\n';
			big[k + 64] = '\0';
		}
		if (i == 3 || i == 9) {
			/* Broken: an error each, reported in path order. */
			snprintf(
				big, len + 130000,
				"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad%02zu\n",
				i);
		} else {
			snprintf(want + strlen(want),
			         sizeof(want) - strlen(want), "%sn%02zu",
			         want[0] ? " " : "", i);
		}
		write_file(fx->dir, rel, big);
		free(big);
	}
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 12);
	assert_int_equal(st.loaded, 10);
	assert_int_equal(st.failed, 2);
	assert_int_equal(d.errors, 2);
	e = d.head;
	assert_non_null(e);
	assert_non_null(strstr(e->file, "f03.yaml"));
	assert_non_null(e->next);
	assert_non_null(strstr(e->next->file, "f09.yaml"));
	diag_fini(&d);
	assert_int_equal(manifest_set_files(fx->s, &files), 10);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, want);
}

/* A file that never loaded is listed nowhere and its removal changes
 * nothing. */
static void test_manifest_set_scan_never_good(void **state)
{
	struct set_fixture *fx = *state;
	const struct k8s_file *const *files;
	struct manifest_scan_stats st;
	char path[512];
	struct diag d;

	write_file(fx->dir, "bad.yaml", "kind: [\n");
	put_ns(fx->dir, "good.yaml", "good");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(d.errors, 1);
	diag_fini(&d);
	assert_int_equal(manifest_set_files(fx->s, &files), 1);
	snprintf(path, sizeof(path), "%s/bad.yaml", fx->dir);
	assert_int_equal(unlink(path), 0);
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.removed, 1);
	assert_false(st.changed);
	diag_fini(&d);
}

/* A Kubernetes ConfigMap volume: web.yaml -> ..data/web.yaml, ..data ->
 * ..<timestamp>; an update writes a new timestamp directory and swaps the
 * ..data link with a rename. */
static void test_manifest_set_scan_configmap_layout(void **state)
{
	struct set_fixture *fx = *state;
	const struct k8s_file *const *files;
	struct manifest_scan_stats st;
	char names[256];
	char from[512];
	char to[512];
	struct diag d;

	make_dir(fx->dir, "..2024_01_01_00_00_00.1");
	put_ns(fx->dir, "..2024_01_01_00_00_00.1/web.yaml", "first");
	make_link(fx->dir, "..2024_01_01_00_00_00.1", "..data");
	make_link(fx->dir, "..data/web.yaml", "web.yaml");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(d.errors + d.warnings, 0);
	diag_fini(&d);
	assert_int_equal(manifest_set_files(fx->s, &files), 1);
	snprintf(to, sizeof(to), "%s/web.yaml", fx->dir);
	assert_string_equal(files[0]->path, to);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "first");

	/* The kubelet's update: same size, new inode behind the link. */
	make_dir(fx->dir, "..2024_01_02_00_00_00.2");
	put_ns(fx->dir, "..2024_01_02_00_00_00.2/web.yaml", "secnd");
	make_link(fx->dir, "..2024_01_02_00_00_00.2", "..data_tmp");
	snprintf(from, sizeof(from), "%s/..data_tmp", fx->dir);
	snprintf(to, sizeof(to), "%s/..data", fx->dir);
	assert_int_equal(rename(from, to), 0);
	snprintf(from, sizeof(from), "%s/..2024_01_01_00_00_00.1", fx->dir);
	remove_tree(from);
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.loaded, 1);
	assert_true(st.changed);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "secnd");
}

/* Symlinks to outside the directory, dangling links, links to
 * directories, FIFOs and deep trees are all skipped. */
static void test_manifest_set_scan_skips(void **state)
{
	struct set_fixture *fx = *state;
	struct manifest_scan_stats st;
	char outside[64];
	char target[128];
	char rel[256];
	char path[512];
	char names[256];
	struct diag d;
	size_t len = 0;
	int i;

	strcpy(outside, "/tmp/svcdns-outside-XXXXXX");
	assert_non_null(mkdtemp(outside));
	put_ns(outside, "x.yaml", "outside");
	snprintf(target, sizeof(target), "%s/x.yaml", outside);
	make_link(fx->dir, target, "out.yaml");
	make_link(fx->dir, "nowhere.yaml", "dangling.yaml");
	make_dir(fx->dir, "d");
	make_link(fx->dir, "d", "dirlink.yaml");
	snprintf(path, sizeof(path), "%s/fifo.yaml", fx->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* 16 levels of subdirectories are read, the 17th is not. */
	for (i = 1; i <= 17; i++) {
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "%s%d",
		                        i > 1 ? "/" : "", i);
		make_dir(fx->dir, rel);
		snprintf(path, sizeof(path), "%s/n.yaml", rel);
		snprintf(target, sizeof(target), "level%d", i);
		put_ns(fx->dir, path, target);
	}
	put_ns(fx->dir, "ok.yaml", "ok");
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 17);
	assert_int_equal(st.failed, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 2); /* outside link, 17th level */
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_null(strstr(names, "outside"));
	assert_null(strstr(names, "level17"));
	assert_non_null(strstr(names, "level16"));
	remove_tree(outside);
}

/* If the directory cannot be read, the scan fails and keeps everything. */
static void test_manifest_set_scan_dir_gone(void **state)
{
	struct set_fixture *fx = *state;
	struct manifest_scan_stats st;
	char moved[128];
	char names[256];
	struct diag d;

	put_ns(fx->dir, "a.yaml", "keep");
	scan(fx->s, false, &st, &d);
	diag_fini(&d);
	snprintf(moved, sizeof(moved), "%s.moved", fx->dir);
	assert_int_equal(rename(fx->dir, moved), 0);
	diag_init(&d);
	assert_int_equal(manifest_set_scan(fx->s, false, &d, &st), -ENOENT);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "keep");
	assert_int_equal(rename(moved, fx->dir), 0);
	scan(fx->s, false, &st, &d);
	assert_int_equal(st.loaded, 0);
	assert_int_equal(st.removed, 0);
	diag_fini(&d);
	set_names(fx->s, names, sizeof(names));
	assert_string_equal(names, "keep");
}

static void test_manifest_set_dirs_walked(void **state)
{
	struct set_fixture *fx = *state;
	struct manifest_scan_stats st;
	const char *const *dirs;
	char want[512];
	struct diag d;

	make_dir(fx->dir, "b");
	make_dir(fx->dir, "a");
	make_dir(fx->dir, "a/x");
	make_dir(fx->dir, "..data");
	put_ns(fx->dir, "a/x/n.yaml", "n");
	assert_int_equal(manifest_set_dirs(fx->s, &dirs), 0);
	scan(fx->s, false, &st, &d);
	diag_fini(&d);
	assert_int_equal(manifest_set_dirs(fx->s, &dirs), 4);
	assert_string_equal(dirs[0], fx->dir);
	snprintf(want, sizeof(want), "%s/a", fx->dir);
	assert_string_equal(dirs[1], want);
	snprintf(want, sizeof(want), "%s/a/x", fx->dir);
	assert_string_equal(dirs[2], want);
	snprintf(want, sizeof(want), "%s/b", fx->dir);
	assert_string_equal(dirs[3], want);
	snprintf(want, sizeof(want), "%s/b", fx->dir);
	assert_int_equal(rmdir(want), 0);
	scan(fx->s, false, &st, &d);
	diag_fini(&d);
	assert_int_equal(manifest_set_dirs(fx->s, &dirs), 3);
}

static void test_manifest_load_values_file(void **state)
{
	struct set_fixture *fx = *state;
	struct arena *a = arena_create(0);
	struct k8s_labels v;
	char path[512];
	struct diag d;

	assert_non_null(a);
	write_file(fx->dir, "color.yaml",
	           "# written by the playbook\ncolor: green\nweb: blue\n"
	           "since: 2024\nempty:\n");
	snprintf(path, sizeof(path), "%s/color.yaml", fx->dir);
	diag_init(&d);
	assert_int_equal(manifest_load_values(path, "color.yaml", a, &v, &d),
	                 0);
	assert_int_equal(d.errors + d.warnings, 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(k8s_labels_get(&v, "color"), "green");
	assert_string_equal(k8s_labels_get(&v, "web"), "blue");
	assert_string_equal(k8s_labels_get(&v, "since"), "2024");
	assert_string_equal(k8s_labels_get(&v, "empty"), "");
	diag_fini(&d);

	/* JSON, and an empty file. */
	write_file(fx->dir, "color.json", "{\"color\": \"blue\"}");
	snprintf(path, sizeof(path), "%s/color.json", fx->dir);
	diag_init(&d);
	assert_int_equal(manifest_load_values(path, NULL, a, &v, &d), 0);
	assert_string_equal(k8s_labels_get(&v, "color"), "blue");
	diag_fini(&d);
	write_file(fx->dir, "empty.yaml", "");
	snprintf(path, sizeof(path), "%s/empty.yaml", fx->dir);
	diag_init(&d);
	assert_int_equal(manifest_load_values(path, NULL, a, &v, &d), 0);
	assert_int_equal(v.n, 0);
	diag_fini(&d);
	arena_destroy(a);
}

static void test_manifest_load_values_errors(void **state)
{
	static const struct {
		const char *text;
		const char *diag;
	} cases[] = {
		{ "- green\n",
		  "c.yaml:1:1: error: expected a mapping, found a sequence\n" },
		{ "color: {a: b}\n",
		  "c.yaml:1:8: error: color: expected a string, found a mapping\n" },
		{ "color: green\n---\ncolor: blue\n",
		  "c.yaml:3:1: error: more than one document\n" },
		{ "color: green\ncolor: blue\n",
		  "c.yaml:2:1: error: duplicate key \"color\"\n" },
		/* More keys than are compared pair by pair: sorted instead. */
		{ "k0: v\n"
		  "k1: v\n"
		  "k2: v\n"
		  "k3: v\n"
		  "k4: v\n"
		  "k5: v\n"
		  "k6: v\n"
		  "k7: v\n"
		  "k8: v\n"
		  "k9: v\n"
		  "k10: v\n"
		  "k11: v\n"
		  "k12: v\n"
		  "k13: v\n"
		  "k14: v\n"
		  "k15: v\n"
		  "k16: v\n"
		  "k17: v\n"
		  "k18: v\n"
		  "k19: v\n"
		  "k3: again\n",
		  "c.yaml:21:1: error: duplicate key \"k3\"\n" },
		{ "a: 1\nb: 2\na: 3\nc: 4\nb: 5\n",
		  "c.yaml:3:1: error: duplicate key \"a\"\n"
		  "c.yaml:5:1: error: duplicate key \"b\"\n" },
		{ "color: [\n",
		  "c.yaml:2:1: error: did not find expected node content while parsing a flow node\n" },
	};
	struct set_fixture *fx = *state;
	struct arena *a = arena_create(0);
	char path[512];
	size_t i;

	assert_non_null(a);
	snprintf(path, sizeof(path), "%s/c.yaml", fx->dir);
	for (i = 0; i < SVCDNS_ARRAY_SIZE(cases); i++) {
		struct k8s_labels v;
		struct diag d;
		char *got;

		write_file(fx->dir, "c.yaml", cases[i].text);
		diag_init(&d);
		assert_int_equal(
			manifest_load_values(path, "c.yaml", a, &v, &d),
			-EINVAL);
		assert_int_equal(v.n, 0);
		got = diag_text(&d);
		assert_string_equal(got, cases[i].diag);
		free(got);
		diag_fini(&d);
	}
	{
		struct k8s_labels v;
		struct diag d;

		diag_init(&d);
		assert_int_equal(manifest_load_values("/nonexistent/c.yaml",
		                                      NULL, a, &v, &d),
		                 -ENOENT);
		assert_int_equal(d.errors, 1);
		diag_fini(&d);
	}
	arena_destroy(a);
}

/* An empty directory: no files, no error (and no array to sort). */
static void test_manifest_set_scan_empty(void **state)
{
	struct set_fixture *fx = *state;
	const struct k8s_file *const *files;
	struct manifest_scan_stats st;
	struct diag d;

	scan(fx->s, false, &st, &d);
	assert_int_equal(st.files, 0);
	assert_int_equal(d.errors, 0);
	assert_int_equal(manifest_set_files(fx->s, &files), 0);
	diag_fini(&d);
}

static void test_manifest_set_scan_missing_root(void **state)
{
	struct manifest_set *s =
		manifest_set_create("/nonexistent/svcdns", NULL);
	const struct k8s_file *const *files;
	struct diag d;

	(void)state;
	assert_non_null(s);
	diag_init(&d);
	assert_int_equal(manifest_set_scan(s, false, &d, NULL), -ENOENT);
	assert_int_equal(manifest_set_files(s, &files), 0);
	diag_fini(&d);
	manifest_set_destroy(s);
	manifest_set_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_load_good_table),
		cmocka_unit_test(test_manifest_load_kubectl_service),
		cmocka_unit_test(test_manifest_load_multidoc),
		cmocka_unit_test(test_manifest_annotations_services_only),
		cmocka_unit_test(test_manifest_load_list_null_endpoints),
		cmocka_unit_test(test_manifest_load_legacy_endpoints),
		cmocka_unit_test(test_manifest_load_typed_list),
		cmocka_unit_test(test_manifest_load_edge_cases),
		cmocka_unit_test(test_manifest_load_bad_table),
		cmocka_unit_test(test_manifest_load_bombs_fast),
		cmocka_unit_test(test_manifest_load_node_limit),
		cmocka_unit_test(test_manifest_load_limits),
		cmocka_unit_test(test_manifest_load_empty_inputs),
		cmocka_unit_test(test_manifest_load_buffer_not_terminated),
		cmocka_unit_test(test_manifest_load_buffer_copies),
		cmocka_unit_test(test_manifest_load_booleans),
		cmocka_unit_test(test_manifest_load_target_ports),
		cmocka_unit_test(test_manifest_load_slice_without_service_name),
		cmocka_unit_test(test_manifest_load_file_errors),
		cmocka_unit_test(test_manifest_is_manifest_name_table),
		cmocka_unit_test_setup_teardown(
			test_manifest_set_scan_lifecycle, set_setup,
			set_teardown),
		cmocka_unit_test_setup_teardown(
			test_manifest_set_scan_never_good, set_setup,
			set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_set_scan_empty,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(
			test_manifest_set_scan_configmap_layout, set_setup,
			set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_set_scan_parallel,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_set_scan_skips,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_set_scan_dir_gone,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_set_dirs_walked,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(test_manifest_load_values_file,
		                                set_setup, set_teardown),
		cmocka_unit_test_setup_teardown(
			test_manifest_load_values_errors, set_setup,
			set_teardown),
		cmocka_unit_test(test_manifest_set_scan_missing_root),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
