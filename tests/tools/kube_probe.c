/* kube_probe: runs the Kubernetes watcher (kube.h) on its own loop and
 * writes what it holds, for tests and for looking at a real cluster.
 *
 *   kube_probe [--kubeconfig FILE] [--namespaces a,b] [--labels SEL]
 *              [--pods never|auto|always] [--dump FILE] [--stats FILE]
 *              [--exit-after-sync] [--duration-ms MS] [--watch-silent-s S]
 *
 * --dump FILE: after the first sync and after every change (coalesced for
 *   20 ms), FILE is rewritten (aside, then renamed) with one line per
 *   object, sorted:
 *     Namespace shop
 *     Service shop/web ips=10.96.0.1 selector=app=web,color=blue
 *     EndpointSlice shop/web-x svc=web eps=10.0.0.1,10.0.0.2!
 *     Pod shop/web-1 ips=10.244.1.1 ready=1 labels=app=web,color=blue
 *   ("!" marks a not-ready endpoint), taken from a frozen view
 *   (kube_objects_take), as a snapshot build would read it.
 * --stats FILE: rewritten with the same cadence: "synced=1 objects=N
 *   events=N relists=N bookmarks=N errors=N lists=N silent=N connected=N
 *   pages=N store_bytes=N rss_kb=N".
 * --watch-silent-s S: kube_opts.watch_silent_s (default 90).
 * --exit-after-sync: prints the stats line on stdout once synced, exits 0.
 * Runs until SIGTERM/SIGINT, or --duration-ms. Exit 1 if kube_create
 * fails. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "svcdns/k8s.h"
#include "svcdns/kube.h"
#include "svcdns/log.h"

struct probe {
	uv_loop_t *loop;
	struct kube *k;
	uv_timer_t settle;
	uv_timer_t duration;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	const char *dump;
	const char *stats;
	bool exit_after_sync;
	bool stopping;
};

static long probe_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL) {
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	return kb;
}

static void probe_labels(char *out, size_t cap, const struct k8s_labels *l)
{
	size_t o = 0;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < l->n && o < cap; i++) {
		int n = snprintf(out + o, cap - o, "%s%s=%s", i ? "," : "",
		                 l->items[i].key, l->items[i].value);

		if (n < 0) {
			break;
		}
		o += (size_t)n;
	}
}

static void probe_ips(char *out, size_t cap, const struct k8s_ip *ips, size_t n,
                      bool mark)
{
	size_t o = 0;
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && o + 50 < cap; i++) {
		char t[64];

		k8s_ip_to_text(&ips[i], t, sizeof(t));
		o += (size_t)snprintf(out + o, cap - o, "%s%s%s", i ? "," : "",
		                      t, mark ? "!" : "");
	}
}

struct lines {
	char **v;
	size_t n;
	size_t cap;
};

static void lines_add(struct lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL) {
			abort();
		}
	}
	l->v[l->n] = strdup(s);
	if (l->v[l->n] == NULL) {
		abort();
	}
	l->n++;
}

static int lines_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void probe_slice(struct lines *l, const struct k8s_slice *s)
{
	char buf[8192];
	size_t o;
	size_t i;

	o = (size_t)snprintf(buf, sizeof(buf),
	                     "EndpointSlice %s/%s svc=%s eps=", s->meta.ns,
	                     s->meta.name, s->service_name);
	for (i = 0; i < s->n_endpoints && o + 200 < sizeof(buf); i++) {
		char ips[160];

		probe_ips(ips, sizeof(ips), s->endpoints[i].addrs,
		          s->endpoints[i].n_addrs, !s->endpoints[i].ready);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		                      i ? "," : "", ips);
	}
	lines_add(l, buf);
}

static void probe_file(struct lines *l, const struct k8s_file *f)
{
	char buf[16384];
	char a[4096];
	char b[4096];
	size_t i;

	for (i = 0; i < f->n_namespaces; i++) {
		snprintf(buf, sizeof(buf), "Namespace %s",
		         f->namespaces[i].meta.name);
		lines_add(l, buf);
	}
	for (i = 0; i < f->n_services; i++) {
		const struct k8s_service *s = &f->services[i];

		probe_ips(a, sizeof(a), s->cluster_ips, s->n_cluster_ips,
		          false);
		probe_labels(b, sizeof(b), &s->selector);
		snprintf(buf, sizeof(buf), "Service %s/%s ips=%s selector=%s",
		         s->meta.ns, s->meta.name, a, b);
		lines_add(l, buf);
	}
	for (i = 0; i < f->n_slices; i++) {
		probe_slice(l, &f->slices[i]);
	}
	for (i = 0; i < f->n_pods; i++) {
		const struct k8s_pod *p = &f->pods[i];

		probe_ips(a, sizeof(a), p->ips, p->n_ips, false);
		probe_labels(b, sizeof(b), &p->meta.labels);
		snprintf(buf, sizeof(buf),
		         "Pod %s/%s ips=%s ready=%d labels=%s", p->meta.ns,
		         p->meta.name, a, p->ready, b);
		lines_add(l, buf);
	}
}

static void probe_write(const char *path, struct lines *l)
{
	char tmp[4096];
	FILE *f;
	size_t i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "kube_probe: %s: %s\n", tmp, strerror(errno));
		return;
	}
	for (i = 0; i < l->n; i++) {
		fprintf(f, "%s\n", l->v[i]);
	}
	fclose(f);
	rename(tmp, path);
}

static void probe_stats_line(struct probe *p, char *out, size_t cap)
{
	struct kube_stats st;

	kube_get_stats(p->k, &st);
	snprintf(
		out, cap,
		"synced=%d objects=%zu events=%llu relists=%llu bookmarks=%llu errors=%llu lists=%llu silent=%llu connected=%u pages=%zu store_bytes=%zu rss_kb=%ld",
		st.synced, st.objects, (unsigned long long)st.events,
		(unsigned long long)st.relists,
		(unsigned long long)st.bookmarks, (unsigned long long)st.errors,
		(unsigned long long)st.lists, (unsigned long long)st.silent,
		st.connected, st.pages, st.store_bytes, probe_rss_kb());
}

static void probe_stop(struct probe *p);

static void probe_settle_cb(uv_timer_t *t)
{
	struct probe *p = t->data;
	char line[512];

	if (p->stopping || !kube_synced(p->k)) {
		return;
	}
	if (p->exit_after_sync) {
		probe_stats_line(p, line, sizeof(line));
		printf("%s\n", line);
		fflush(stdout);
		probe_stop(p);
		return;
	}
	if (p->dump != NULL) {
		struct kube_objects *o = kube_objects_take(p->k);
		const struct k8s_file *const *files;
		struct lines l = { 0 };
		size_t n;
		size_t i;

		if (o == NULL) {
			return;
		}
		n = kube_objects_files(o, &files);
		for (i = 0; i < n; i++) {
			probe_file(&l, files[i]);
		}
		kube_objects_release(o);
		qsort(l.v, l.n, sizeof(*l.v), lines_cmp);
		probe_write(p->dump, &l);
		for (i = 0; i < l.n; i++) {
			free(l.v[i]);
		}
		free(l.v);
	}
	if (p->stats != NULL) {
		struct lines l = { 0 };

		probe_stats_line(p, line, sizeof(line));
		lines_add(&l, line);
		probe_write(p->stats, &l);
		free(l.v[0]);
		free(l.v);
	}
}

static void probe_on_change(void *ud)
{
	struct probe *p = ud;

	if (!uv_is_active((uv_handle_t *)&p->settle)) {
		uv_timer_start(&p->settle, probe_settle_cb, 20, 0);
	}
}

static void probe_stop(struct probe *p)
{
	if (p->stopping) {
		return;
	}
	p->stopping = true;
	kube_stop(p->k);
	uv_close((uv_handle_t *)&p->settle, NULL);
	uv_close((uv_handle_t *)&p->duration, NULL);
	uv_close((uv_handle_t *)&p->sigterm, NULL);
	uv_close((uv_handle_t *)&p->sigint, NULL);
}

static void probe_signal_cb(uv_signal_t *s, int signum)
{
	(void)signum;
	probe_stop(s->data);
}

static void probe_duration_cb(uv_timer_t *t)
{
	probe_stop(t->data);
}

static void probe_stats_tick(uv_timer_t *t)
{
	/* A change-less tick keeps --stats fresh (bookmarks, errors). */
	probe_settle_cb(t);
}

static enum kube_pods probe_pods(const char *s)
{
	if (strcmp(s, "always") == 0) {
		return KUBE_PODS_ALWAYS;
	}
	if (strcmp(s, "never") == 0) {
		return KUBE_PODS_NEVER;
	}
	return KUBE_PODS_AUTO;
}

int main(int argc, char **argv)
{
	struct probe p = { 0 };
	struct kube_opts o = { 0 };
	const char *nss[64];
	char *nsbuf = NULL;
	long duration = 0;
	uv_timer_t tick;
	int i;

	o.pods = KUBE_PODS_AUTO;
	o.print = true;
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--kubeconfig") == 0 && v) {
			o.kubeconfig = argv[++i];
		} else if (strcmp(argv[i], "--namespaces") == 0 && v) {
			char *save = NULL;
			char *tok;

			nsbuf = strdup(argv[++i]);
			for (tok = strtok_r(nsbuf, ",", &save);
			     tok != NULL && o.n_namespaces < 64;
			     tok = strtok_r(NULL, ",", &save)) {
				nss[o.n_namespaces++] = tok;
			}
			o.namespaces = nss;
		} else if (strcmp(argv[i], "--labels") == 0 && v) {
			o.labels = argv[++i];
		} else if (strcmp(argv[i], "--pods") == 0 && v) {
			o.pods = probe_pods(argv[++i]);
		} else if (strcmp(argv[i], "--dump") == 0 && v) {
			p.dump = argv[++i];
		} else if (strcmp(argv[i], "--stats") == 0 && v) {
			p.stats = argv[++i];
		} else if (strcmp(argv[i], "--duration-ms") == 0 && v) {
			duration = atol(argv[++i]);
		} else if (strcmp(argv[i], "--watch-silent-s") == 0 && v) {
			o.watch_silent_s = (unsigned)atoi(argv[++i]);
		} else if (strcmp(argv[i], "--exit-after-sync") == 0) {
			p.exit_after_sync = true;
		} else {
			fprintf(stderr,
			        "usage: kube_probe [--kubeconfig FILE] [--namespaces a,b] [--labels SEL] [--pods never|auto|always] [--dump FILE] [--stats FILE] [--exit-after-sync] [--duration-ms MS] [--watch-silent-s S]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	p.loop = uv_default_loop();
	p.k = kube_create(p.loop, &o, probe_on_change, &p);
	if (p.k == NULL) {
		free(nsbuf);
		return 1;
	}
	uv_timer_init(p.loop, &p.settle);
	uv_timer_init(p.loop, &p.duration);
	uv_timer_init(p.loop, &tick);
	p.settle.data = &p;
	p.duration.data = &p;
	tick.data = &p;
	uv_signal_init(p.loop, &p.sigterm);
	uv_signal_init(p.loop, &p.sigint);
	p.sigterm.data = &p;
	p.sigint.data = &p;
	uv_signal_start(&p.sigterm, probe_signal_cb, SIGTERM);
	uv_signal_start(&p.sigint, probe_signal_cb, SIGINT);
	if (duration > 0) {
		uv_timer_start(&p.duration, probe_duration_cb,
		               (uint64_t)duration, 0);
	}
	if (p.stats != NULL) {
		uv_timer_start(&tick, probe_stats_tick, 500, 500);
	}
	uv_unref((uv_handle_t *)&tick);
	if (kube_start(p.k) != 0) {
		return 1;
	}
	uv_run(p.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(p.loop, UV_RUN_DEFAULT);
	kube_destroy(p.k);
	free(nsbuf);
	return uv_loop_close(p.loop) == 0 ? 0 : 3;
}
