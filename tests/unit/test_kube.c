/* The Kubernetes watcher's core: API JSON decoding (manifest.c), event
 * lines cut across chunks (kube_lines), the store (kube_store) and the
 * kubeconfig reader. The HTTP side is covered by the 5xx integration
 * cases against tests/tools/fakeapi.py. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svcdns/kube_lines.h"
#include "svcdns/kube_store.h"
#include "svcdns/kubeconfig.h"
#include "svcdns/manifest.h"

/* --- decoding ------------------------------------------------------------ */

static const char pod_list[] =
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
	"{\"resourceVersion\":\"1234\",\"continue\":\"abc\"},\"items\":["
	"{\"metadata\":{\"name\":\"a\",\"namespace\":\"shop\",\"labels\":"
	"{\"app\":\"web\"}},\"spec\":{},\"status\":{\"podIP\":\"10.0.0.1\",\"conditions\":"
	"[{\"type\":\"Ready\",\"status\":\"True\"}]}},"
	"{\"metadata\":{\"name\":\"BAD NAME\",\"namespace\":\"shop\"}},"
	"{\"metadata\":{\"name\":\"b\",\"namespace\":\"shop\"},"
	"\"spec\":{},\"status\":"
	"{\"podIP\":\"10.0.0.2\"}}]}";

static void test_decode_list_skips_bad_items(void **state)
{
	struct manifest_api_list l;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(manifest_api_decode_list("api:pods", pod_list,
	                                          strlen(pod_list), NULL, &l,
	                                          &d),
	                 0);
	assert_non_null(l.file);
	assert_int_equal(l.file->n_pods, 2);
	assert_int_equal(l.skipped, 1);
	assert_true(d.errors >= 1);
	assert_string_equal(l.resource_version, "1234");
	assert_string_equal(l.cont, "abc");
	assert_string_equal(l.file->pods[0].meta.name, "a");
	assert_true(l.file->pods[0].ready);
	assert_string_equal(l.file->pods[1].meta.name, "b");
	manifest_api_list_fini(&l);
	manifest_api_list_fini(&l);
	diag_fini(&d);
}

static void test_decode_list_refuses_non_list(void **state)
{
	static const char *const bad[] = {
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
		"{\"resourceVersion\":\"1\"}}",
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}",
		"{\"kind\":\"PodList\",",
		"[]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct manifest_api_list l;
		struct diag d;

		diag_init(&d);
		assert_int_equal(manifest_api_decode_list("x", bad[i],
		                                          strlen(bad[i]), NULL,
		                                          &l, &d),
		                 -EINVAL);
		assert_null(l.file);
		assert_null(l.cont);
		assert_true(d.errors >= 1);
		diag_fini(&d);
	}
}

static int decode(const char *line, struct manifest_api_event *ev)
{
	struct diag d;
	int err;

	diag_init(&d);
	err = manifest_api_decode_event("w", line, strlen(line), NULL, ev, &d);
	diag_fini(&d);
	return err;
}

static void test_decode_events(void **state)
{
	struct manifest_api_event ev;

	(void)state;
	assert_int_equal(
		decode("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Service\","
	               "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web\","
	               "\"namespace\":\"shop\",\"resourceVersion\":\"7\"},"
	               "\"spec\":{\"clusterIP\":\"10.96.0.1\"}}}",
	               &ev),
		0);
	assert_int_equal(ev.type, MANIFEST_API_ADDED);
	assert_non_null(ev.file);
	assert_int_equal(ev.file->n_services, 1);
	assert_string_equal(ev.kind, "Service");
	assert_string_equal(ev.ns, "shop");
	assert_string_equal(ev.name, "web");
	assert_string_equal(ev.resource_version, "7");
	manifest_api_event_fini(&ev);

	/* A refused object still names its key. */
	assert_int_equal(
		decode("{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Service\","
	               "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web\","
	               "\"namespace\":\"shop\",\"resourceVersion\":\"8\"},"
	               "\"spec\":{\"clusterIP\":\"not-an-ip\"}}}",
	               &ev),
		0);
	assert_null(ev.file);
	assert_string_equal(ev.name, "web");
	assert_string_equal(ev.resource_version, "8");

	assert_int_equal(decode("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
	                        "\"Pod\",\"metadata\":{\"resourceVersion\":"
	                        "\"99\"}}}",
	                        &ev),
	                 0);
	assert_int_equal(ev.type, MANIFEST_API_BOOKMARK);
	assert_null(ev.file);
	assert_string_equal(ev.resource_version, "99");

	assert_int_equal(decode("{\"type\":\"ERROR\",\"object\":{\"kind\":"
	                        "\"Status\",\"code\":410,\"message\":\"too "
	                        "old\"}}",
	                        &ev),
	                 0);
	assert_int_equal(ev.type, MANIFEST_API_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.message, "too old");

	assert_int_equal(decode("{\"type\":\"FOO\",\"object\":{}}", &ev),
	                 -EINVAL);
	assert_int_equal(decode("{\"type\":\"ADDED\"}", &ev), -EINVAL);
	assert_int_equal(decode("{\"type\":\"DELETED\",\"object\":{\"kind\":"
	                        "\"Pod\",\"metadata\":{}}}",
	                        &ev),
	                 -EINVAL);
	assert_int_equal(decode("not json {", &ev), -EINVAL);
}

/* --- lines --------------------------------------------------------------- */

struct got {
	char lines[8][64];
	size_t n;
};

static int got_line(void *ud, const char *line, size_t len)
{
	struct got *g = ud;

	assert_true(g->n < 8 && len < 64);
	memcpy(g->lines[g->n], line, len);
	g->lines[g->n][len] = '\0';
	g->n++;
	return 0;
}

static void test_lines_across_chunks(void **state)
{
	static const char body[] = "{\"a\":1}\n{\"b\":22}\r\n\n{\"c\":333}\n";
	size_t cut;

	(void)state;
	/* Every way of cutting the body in two, and byte by byte. */
	for (cut = 0; cut <= sizeof(body) - 1; cut++) {
		struct kube_lines l;
		struct got g = { .n = 0 };

		kube_lines_init(&l, 64);
		assert_int_equal(kube_lines_feed(&l, body, cut, got_line, &g),
		                 0);
		assert_int_equal(kube_lines_feed(&l, body + cut,
		                                 sizeof(body) - 1 - cut,
		                                 got_line, &g),
		                 0);
		assert_int_equal(g.n, 3);
		assert_string_equal(g.lines[0], "{\"a\":1}");
		assert_string_equal(g.lines[1], "{\"b\":22}");
		assert_string_equal(g.lines[2], "{\"c\":333}");
		assert_int_equal(kube_lines_pending(&l), 0);
		kube_lines_fini(&l);
	}
	{
		struct kube_lines l;
		struct got g = { .n = 0 };
		size_t i;

		kube_lines_init(&l, 64);
		for (i = 0; i < sizeof(body) - 1; i++) {
			assert_int_equal(
				kube_lines_feed(&l, body + i, 1, got_line, &g),
				0);
		}
		assert_int_equal(g.n, 3);
		kube_lines_fini(&l);
	}
}

static void test_lines_too_long(void **state)
{
	struct kube_lines l;
	struct got g = { .n = 0 };
	char big[40];

	(void)state;
	memset(big, 'x', sizeof(big));
	kube_lines_init(&l, 32);
	/* Over the limit in pieces, and in one piece with its newline. */
	assert_int_equal(kube_lines_feed(&l, big, 20, got_line, &g), 0);
	assert_int_equal(kube_lines_feed(&l, big, 20, got_line, &g), -EMSGSIZE);
	kube_lines_reset(&l);
	big[39] = '\n';
	assert_int_equal(kube_lines_feed(&l, big, 40, got_line, &g), -EMSGSIZE);
	assert_int_equal(g.n, 0);
	kube_lines_reset(&l);
	assert_int_equal(kube_lines_feed(&l, "ok\n", 3, got_line, &g), 0);
	assert_int_equal(g.n, 1);
	kube_lines_fini(&l);
}

/* --- the store ----------------------------------------------------------- */

static struct k8s_file *pods_file(const char *names, const char *ip)
{
	char buf[8192];
	size_t o = 0;
	char copy[512];
	char *save = NULL;
	char *n;
	struct manifest_api_list l;
	struct diag d;
	int i = 0;

	snprintf(copy, sizeof(copy), "%s", names);
	o += (size_t)snprintf(buf, sizeof(buf),
	                      "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
	                      "\"metadata\":{\"resourceVersion\":\"1\"},"
	                      "\"items\":[");
	for (n = strtok_r(copy, ",", &save); n != NULL;
	     n = strtok_r(NULL, ",", &save), i++) {
		o += (size_t)snprintf(
			buf + o, sizeof(buf) - o,
			"%s{\"metadata\":{\"name\":\"%s\","
			"\"namespace\":\"ns\",\"labels\":{\"app\":"
			"\"web\"}},\"spec\":{},\"status\":"
			"{\"podIP\":\"%s\"}}",
			i ? "," : "", n, ip);
	}
	snprintf(buf + o, sizeof(buf) - o, "]}");
	diag_init(&d);
	assert_int_equal(
		manifest_api_decode_list("t", buf, strlen(buf), NULL, &l, &d),
		0);
	diag_fini(&d);
	free(l.cont);
	return l.file;
}

/* "name=ip" per pod of the view, sorted, into out. */
static void view_text(struct kube_view *v, char *out, size_t cap)
{
	const struct k8s_file *const *files;
	size_t n = kube_view_files(v, &files);
	char items[64][48];
	size_t k = 0;
	size_t i;
	size_t j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < files[i]->n_pods && k < 64; j++) {
			char ip[64];

			k8s_ip_to_text(&files[i]->pods[j].ips[0], ip,
			               sizeof(ip));
			snprintf(items[k++], sizeof(items[0]), "%s=%s",
			         files[i]->pods[j].meta.name, ip);
		}
	}
	qsort(items, k, sizeof(items[0]),
	      (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (i = 0; i < k; i++) {
		strncat(out, items[i], cap - strlen(out) - 2);
		strncat(out, " ", cap - strlen(out) - 1);
	}
}

static void test_store_put_delete_relist(void **state)
{
	struct kube_store *s = kube_store_create(NULL, NULL);
	struct k8s_file *page = pods_file("a,b,c", "10.0.0.1");
	struct k8s_file *ev = pods_file("b", "10.0.0.2");
	struct k8s_file *ev2 = pods_file("d", "10.0.0.4");
	struct k8s_file *re = pods_file("a,e", "10.0.0.9");
	struct kube_view *v;
	bool changed;
	char text[1024];

	(void)state;
	kube_store_relist_begin(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_relist_add(s, KUBE_KIND_POD, page), 0);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 0);
	kube_store_relist_commit(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 3);

	assert_int_equal(kube_store_put(s, ev, &changed), 0); /* modify */
	assert_true(changed);
	assert_int_equal(kube_store_put(s, ev2, &changed), 0); /* add */
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 4);
	assert_true(kube_store_delete(s, KUBE_KIND_POD, "ns", "a"));
	assert_false(kube_store_delete(s, KUBE_KIND_POD, "ns", "a"));
	assert_false(kube_store_delete(s, KUBE_KIND_POD, "other", "b"));
	assert_non_null(kube_store_get(s, KUBE_KIND_POD, "ns", "b"));
	assert_null(kube_store_get(s, KUBE_KIND_POD, "ns", "a"));
	v = kube_store_view(s);
	view_text(v, text, sizeof(text));
	assert_string_equal(text, "b=10.0.0.2 c=10.0.0.1 d=10.0.0.4 ");
	kube_view_release(v);

	/* A re-list replaces everything of the kind at once. */
	kube_store_relist_begin(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_relist_add(s, KUBE_KIND_POD, re), 0);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 3);
	kube_store_relist_commit(s, KUBE_KIND_POD);
	v = kube_store_view(s);
	view_text(v, text, sizeof(text));
	assert_string_equal(text, "a=10.0.0.9 e=10.0.0.9 ");
	kube_view_release(v);

	/* An aborted re-list changes nothing. */
	kube_store_relist_begin(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_relist_add(s, KUBE_KIND_POD, page), 0);
	kube_store_relist_abort(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 2);

	kube_store_destroy(s);
	k8s_file_destroy(page);
	k8s_file_destroy(ev);
	k8s_file_destroy(ev2);
	k8s_file_destroy(re);
}

static void test_store_view_frozen(void **state)
{
	struct kube_store *s = kube_store_create(NULL, NULL);
	struct k8s_file *page = pods_file("a,b,c,d,e,f", "10.0.0.1");
	struct k8s_file *ev = pods_file("c", "10.0.0.3");
	struct kube_view *v1;
	struct kube_view *v2;
	char text[1024];
	char before[1024];
	size_t i;

	(void)state;
	kube_store_relist_begin(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_relist_add(s, KUBE_KIND_POD, page), 0);
	kube_store_relist_commit(s, KUBE_KIND_POD);
	v1 = kube_store_view(s);
	view_text(v1, before, sizeof(before));
	/* Changes after the view: modify, delete, and many adds (new open
	 * pages), then a re-list that frees every page of the store. */
	assert_int_equal(kube_store_put(s, ev, NULL), 0);
	assert_true(kube_store_delete(s, KUBE_KIND_POD, "ns", "a"));
	assert_true(kube_store_delete(s, KUBE_KIND_POD, "ns", "f"));
	v2 = kube_store_view(s);
	for (i = 0; i < 600; i++) {
		char name[32];
		struct k8s_file *f;

		snprintf(name, sizeof(name), "p%zu", i);
		f = pods_file(name, "10.0.1.1");
		assert_int_equal(kube_store_put(s, f, NULL), 0);
		k8s_file_destroy(f);
	}
	kube_store_relist_begin(s, KUBE_KIND_POD);
	kube_store_relist_commit(s, KUBE_KIND_POD);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 0);
	view_text(v1, text, sizeof(text));
	assert_string_equal(text, before);
	view_text(v2, text, sizeof(text));
	assert_string_equal(text, "b=10.0.0.1 c=10.0.0.3 d=10.0.0.1 "
	                          "e=10.0.0.1 ");
	kube_view_release(v1);
	kube_store_destroy(s); /* v2 outlives the store */
	view_text(v2, text, sizeof(text));
	assert_string_equal(text, "b=10.0.0.1 c=10.0.0.3 d=10.0.0.1 "
	                          "e=10.0.0.1 ");
	kube_view_release(v2);
	k8s_file_destroy(page);
	k8s_file_destroy(ev);
}

static void test_store_churn_compacts(void **state)
{
	struct kube_store *s = kube_store_create(NULL, NULL);
	struct kube_store_stats st;
	size_t round;
	size_t i;

	(void)state;
	/* 300 pods, each modified 20 times: garbage must not pile up. */
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 300; i++) {
			char name[32];
			char ip[32];
			struct k8s_file *f;

			snprintf(name, sizeof(name), "pod-%zu", i);
			snprintf(ip, sizeof(ip), "10.1.%zu.%zu", round,
			         i % 250);
			f = pods_file(name, ip);
			assert_int_equal(kube_store_put(s, f, NULL), 0);
			k8s_file_destroy(f);
		}
	}
	kube_store_get_stats(s, &st);
	assert_int_equal(st.objects, 300);
	assert_true(st.compactions > 0);
	assert_true(st.pages <= 6);
	assert_true(st.bytes < 300 * 1024);
	for (i = 0; i < 300; i++) {
		char name[32];

		snprintf(name, sizeof(name), "pod-%zu", i);
		assert_non_null(kube_store_get(s, KUBE_KIND_POD, "ns", name));
	}
	kube_store_destroy(s);
}

static bool keep_ns(enum kube_kind kind, const struct k8s_meta *m, void *ud)
{
	(void)ud;
	return strcmp(kind == KUBE_KIND_NAMESPACE ? m->name : m->ns, "ns") == 0;
}

static void test_store_filter(void **state)
{
	struct kube_store *s = kube_store_create(keep_ns, NULL);
	static const char other[] =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
		"\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\","
		"\"namespace\":\"other\"},\"spec\":{}}}";
	struct manifest_api_event ev;
	struct k8s_file *page = pods_file("a", "10.0.0.1");
	bool changed = true;

	(void)state;
	assert_int_equal(decode(other, &ev), 0);
	assert_int_equal(kube_store_put(s, ev.file, &changed), 0);
	assert_false(changed);
	assert_int_equal(kube_store_put(s, page, &changed), 0);
	assert_true(changed);
	assert_int_equal(kube_store_count(s, KUBE_KIND_POD), 1);
	manifest_api_event_fini(&ev);
	k8s_file_destroy(page);
	kube_store_destroy(s);
}

/* --- kubeconfig ---------------------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int kc_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_kube.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int kc_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_kubeconfig_load(void **state)
{
	struct kubeconfig c;
	struct diag d;
	char path[256];

	(void)state;
	/* "aGVsbG8=" is "hello". */
	write_file("kc",
	           "apiVersion: v1\n"
	           "kind: Config\n"
	           "current-context: b\n"
	           "contexts:\n"
	           "- name: a\n"
	           "  context: {cluster: one, user: u1}\n"
	           "- name: b\n"
	           "  context: {cluster: two, user: u2}\n"
	           "clusters:\n"
	           "- name: one\n"
	           "  cluster: {server: https://one:6443}\n"
	           "- name: two\n"
	           "  cluster:\n"
	           "    server: https://10.0.0.1:6443/\n"
	           "    certificate-authority: ca.crt\n"
	           "    certificate-authority-data: aGVsbG8=\n"
	           "users:\n"
	           "- name: u1\n"
	           "  user: {token: one}\n"
	           "- name: u2\n"
	           "  user: {tokenFile: /var/tok, client-key-data: aGVsbG8}\n");
	snprintf(path, sizeof(path), "%s/kc", tmpdir);
	diag_init(&d);
	assert_int_equal(kubeconfig_load(path, &c, &d), 0);
	assert_string_equal(c.context, "b");
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_non_null(c.ca_file);
	assert_true(strstr(c.ca_file, "/ca.crt") != NULL);
	assert_true(strncmp(c.ca_file, tmpdir, strlen(tmpdir)) == 0);
	assert_int_equal(c.ca_len, 5);
	assert_memory_equal(c.ca_data, "hello", 5);
	assert_null(c.token);
	assert_string_equal(c.token_file, "/var/tok");
	assert_int_equal(c.key_len, 5);
	assert_false(c.insecure);
	kubeconfig_fini(&c);
	diag_fini(&d);
}

static void test_kubeconfig_errors(void **state)
{
	static const char *const bad[] = {
		"kind: Config\n",
		"current-context: x\ncontexts: []\n",
		"current-context: a\ncontexts:\n- name: a\n  context: {cluster: "
		"c}\nclusters: []\n",
		"current-context: a\ncontexts:\n- name: a\n  context: {cluster: "
		"c, user: u}\nclusters:\n- name: c\n  cluster: {server: "
		"https://x}\nusers:\n- name: u\n  user: {exec: {command: "
		"aws}}\n",
		"current-context: a\ncontexts:\n- name: a\n  context: {cluster: "
		"c}\nclusters:\n- name: c\n  cluster: {server: https://x, "
		"certificate-authority-data: \"!!!\"}\n",
		"[unclosed\n",
	};
	char path[256];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad", tmpdir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kubeconfig c;
		struct diag d;

		write_file("bad", bad[i]);
		diag_init(&d);
		assert_int_equal(kubeconfig_load(path, &c, &d), -EINVAL);
		assert_true(d.errors >= 1);
		assert_null(c.server);
		diag_fini(&d);
	}
}

static void test_kubeconfig_in_cluster(void **state)
{
	struct kubeconfig c;
	struct diag d;
	char *tok;

	(void)state;
	write_file("token", "  tok-123\n");
	diag_init(&d);
	assert_int_equal(
		kubeconfig_in_cluster(tmpdir, "fd00::1", "443", &c, &d), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_int_equal(kubeconfig_read_token(c.token_file, &tok), 0);
	assert_string_equal(tok, "tok-123");
	free(tok);
	kubeconfig_fini(&c);
	assert_int_equal(
		kubeconfig_in_cluster("/nonexistent", "h", "1", &c, &d),
		-ENOENT);
	diag_fini(&d);
}

static void test_base64(void **state)
{
	unsigned char *out;
	size_t len;

	(void)state;
	assert_int_equal(kubeconfig_base64_decode("TWFu\nTWE=", &out, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "ManMa", 5);
	free(out);
	assert_int_equal(kubeconfig_base64_decode("", &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(kubeconfig_base64_decode("TW=F", &out, &len), -EINVAL);
	assert_int_equal(kubeconfig_base64_decode("T", &out, &len), -EINVAL);
	assert_int_equal(kubeconfig_base64_decode("T$==", &out, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_list_skips_bad_items),
		cmocka_unit_test(test_decode_list_refuses_non_list),
		cmocka_unit_test(test_decode_events),
		cmocka_unit_test(test_lines_across_chunks),
		cmocka_unit_test(test_lines_too_long),
		cmocka_unit_test(test_store_put_delete_relist),
		cmocka_unit_test(test_store_view_frozen),
		cmocka_unit_test(test_store_churn_compacts),
		cmocka_unit_test(test_store_filter),
		cmocka_unit_test(test_kubeconfig_load),
		cmocka_unit_test(test_kubeconfig_errors),
		cmocka_unit_test(test_kubeconfig_in_cluster),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests_name("kube", tests, kc_setup,
	                                   kc_teardown);
}
