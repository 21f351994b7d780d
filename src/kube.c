#include "svcdns/kube.h"

/* Plain prototypes: the calls below go through kc's pointers. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "svcdns/bluegreen.h"
#include "svcdns/diag.h"
#include "svcdns/kube_lines.h"
#include "svcdns/kube_store.h"
#include "svcdns/kubeconfig.h"
#include "svcdns/log.h"
#include "svcdns/manifest.h"

/* libcurl is loaded with dlopen() by the first kube_create(): a svcdns that
 * serves a directory never maps it, nor the dozen libraries it brings
 * (TLS, Kerberos, LDAP, SSH...: about 5 MB of resident memory). Its ABI
 * (libcurl.so.4) has been stable since 2006. The calls keep their names
 * through the macros below. */
static struct {
	void *lib;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free_)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode (*multi_cleanup)(CURLM *);
} kc;

/* curl.h makes these four function-like macros checking the argument
 * count; the calls here always pass three. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#undef curl_share_setopt
#define curl_global_init         (*kc.global_init)
#define curl_easy_init           (*kc.easy_init)
#define curl_easy_setopt         (*kc.easy_setopt)
#define curl_easy_getinfo        (*kc.easy_getinfo)
#define curl_easy_cleanup        (*kc.easy_cleanup)
#define curl_easy_strerror       (*kc.easy_strerror)
#define curl_easy_escape         (*kc.easy_escape)
#define curl_free                (*kc.free_)
#define curl_slist_append        (*kc.slist_append)
#define curl_slist_free_all      (*kc.slist_free_all)
#define curl_multi_init          (*kc.multi_init)
#define curl_multi_setopt        (*kc.multi_setopt)
#define curl_multi_add_handle    (*kc.multi_add_handle)
#define curl_multi_remove_handle (*kc.multi_remove_handle)
#define curl_multi_socket_action (*kc.multi_socket_action)
#define curl_multi_info_read     (*kc.multi_info_read)
#define curl_multi_assign        (*kc.multi_assign)
#define curl_multi_cleanup       (*kc.multi_cleanup)

/* Loads libcurl (once; main loop). Returns false, with the reason logged,
 * when it is not installed or lacks a function. */
static bool kc_load(void)
{
	/* Each name beside the pointer it fills. */
#define KC_SYM(field)                              \
	{                                          \
		"curl_" #field, (void **)&kc.field \
	}
	const struct {
		const char *name;
		void **slot;
	} syms[] = {
		KC_SYM(global_init),
		KC_SYM(easy_init),
		KC_SYM(easy_setopt),
		KC_SYM(easy_getinfo),
		KC_SYM(easy_cleanup),
		KC_SYM(easy_strerror),
		KC_SYM(easy_escape),
		{ "curl_free", (void **)&kc.free_ },
		KC_SYM(slist_append),
		KC_SYM(slist_free_all),
		KC_SYM(multi_init),
		KC_SYM(multi_setopt),
		KC_SYM(multi_add_handle),
		KC_SYM(multi_remove_handle),
		KC_SYM(multi_socket_action),
		KC_SYM(multi_info_read),
		KC_SYM(multi_assign),
		KC_SYM(multi_cleanup),
	};
#undef KC_SYM
	size_t i;

	if (kc.lib != NULL) {
		return true;
	}
	kc.lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (kc.lib == NULL) {
		log_err("kube: --kubernetes needs libcurl (Debian: libcurl4): %s",
		        dlerror());
		return false;
	}
	for (i = 0; i < SVCDNS_ARRAY_SIZE(syms); i++) {
		/* POSIX: a data pointer from dlsym converts to a function
		 * pointer; memcpy keeps -Wpedantic quiet about it. */
		void *f = dlsym(kc.lib, syms[i].name);

		if (f == NULL) {
			log_err("kube: libcurl lacks %s", syms[i].name);
			dlclose(kc.lib);
			kc.lib = NULL;
			return false;
		}
		memcpy(syms[i].slot, &f, sizeof(f));
	}
	return true;
}

/* How the transfers run
 * ---------------------
 * libcurl's multi interface does the HTTP and TLS; it never blocks: it
 * tells us which sockets to watch (socket callback → a uv_poll_t each)
 * and when to call it back (timer callback → one uv_timer_t), and we call
 * curl_multi_socket_action() when libuv says a socket is ready or the
 * timer fires. Finished transfers are picked up after each such call
 * (curl_multi_info_read), never inside curl's callbacks, which is also
 * where a handle is re-armed for its next request: the same easy handle,
 * so the same connection, for every LIST page and WATCH of a resource.
 *
 * Bodies: a LIST page is collected (at most KUBE_LIST_MAX) and decoded
 * whole; a WATCH body is cut into lines (kube_lines) and each line is
 * decoded and applied as it arrives. */

#define KUBE_PAGE_LIMIT     500
#define KUBE_LIST_MAX       (256u * 1024 * 1024)
#define KUBE_LINE_MAX       (16u * 1024 * 1024)
#define KUBE_WATCH_SECONDS  300 /* +- 20 %, so replicas do not align */
#define KUBE_BACKOFF_MIN_MS 200
#define KUBE_BACKOFF_MAX_MS 30000
#define KUBE_HEALTHY_MS     30000 /* a watch up this long resets back-off */
#define KUBE_TOKEN_MS       60000 /* re-read of a token file */
#define KUBE_CONNECT_MS     10000
/* The API server sends a BOOKMARK on an idle watch about every minute
 * (its watch cache's bookmark frequency): a stream silent for longer is
 * dead, or held by a proxy that lost the server. Resuming costs one
 * request (no LIST), so a server that sends no bookmarks only sees its
 * idle watches re-opened this often. */
#define KUBE_WATCH_SILENT_S 90

enum kres_state {
	KRES_OFF,
	KRES_LISTING,
	KRES_WATCHING,
	KRES_BACKOFF,
};

struct kbuf {
	char *p; /* owns */
	size_t len;
	size_t cap;
};

/* One watched resource type. */
struct kres {
	struct kube *k;
	enum kube_kind kind;
	enum kres_state state;
	CURL *easy;    /* owns: one connection per resource */
	bool in_multi; /* added to the multi handle */
	bool active;   /* started */
	bool synced;   /* first LIST completed */
	bool relist;   /* the stream asked for a re-list (410, bad line) */
	bool listed_once;
	bool stream_ok;   /* the watch answered 200 */
	char rv[128];     /* last resourceVersion seen */
	char *cont;       /* owns: continue token of the LIST in progress */
	struct kbuf body; /* LIST page, or a watch's error body */
	struct kube_lines lines;
	uv_timer_t backoff; /* re-arms the transfer */
	unsigned backoff_ms;
	uint64_t watch_start_ms;
	struct curl_slist *headers; /* owns */
	char url[2048];
};

/* A socket curl asked us to watch. */
struct ksock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct kube *k;
	struct ksock *next; /* the kube's list */
	struct ksock *prev;
};

struct kube {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t curl_timer;
	uv_timer_t token_timer;
	unsigned open_handles; /* libuv handles not yet closed */
	struct ksock *socks;   /* watched sockets */
	bool stopping;
	struct kres res[KUBE_KIND_N];
	struct kube_store *store;
	struct kubeconfig cfg;
	char *token;       /* owns: the bearer token in use */
	char **namespaces; /* owns */
	size_t n_namespaces;
	char *labels; /* owns: escaped for the URL, or NULL */
	enum kube_pods pods;
	bool print;
	unsigned silent_s; /* see KUBE_WATCH_SILENT_S */
	bool synced;
	bool dirty; /* objects changed since on_change was last called */
	void (*on_change)(void *ud);
	void *ud;
	uint64_t rand;
	struct kube_stats st;
	char describe[512];
};

struct kube_objects {
	struct kube_view *view; /* owns */
};

/* --- small things -------------------------------------------------------- */

static void kube_diag(const struct kube *k, struct diag *d)
{
	if (k == NULL || !k->print) {
		diag_log(d);
	} else {
		diag_print(d, stderr);
	}
}

/* +-20 % of ms, from a xorshift generator (no need for good randomness,
 * only for replicas not to retry in step). */
static uint64_t kube_jitter(struct kube *k, uint64_t ms)
{
	uint64_t x = k->rand;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	k->rand = x;
	return ms * (80 + x % 41) / 100;
}

static void kbuf_reset(struct kbuf *b)
{
	b->len = 0;
	if (b->cap > 1024 * 1024) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

static int kbuf_append(struct kbuf *b, const char *data, size_t n, size_t max)
{
	if (n > max - b->len) {
		return -EMSGSIZE;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (p == NULL) {
			return -ENOMEM;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void kube_notify(struct kube *k)
{
	if (k->dirty && !k->stopping) {
		k->dirty = false;
		k->on_change(k->ud);
	}
}

/* --- the store's namespace filter ---------------------------------------- */

static bool kube_keep(enum kube_kind kind, const struct k8s_meta *m, void *ud)
{
	const struct kube *k = ud;
	const char *ns = kind == KUBE_KIND_NAMESPACE ? m->name : m->ns;
	size_t i;

	if (k->n_namespaces == 0) {
		return true;
	}
	for (i = 0; i < k->n_namespaces; i++) {
		if (strcmp(ns, k->namespaces[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* --- requests ------------------------------------------------------------ */

static void kres_start_list(struct kres *r);
static void kres_start_watch(struct kres *r);
static void kres_activate(struct kres *r);

static const char *kres_path(enum kube_kind kind)
{
	switch (kind) {
	case KUBE_KIND_SLICE:
		return "/apis/discovery.k8s.io/v1/endpointslices";
	case KUBE_KIND_NAMESPACE:
		return "/api/v1/namespaces";
	case KUBE_KIND_SERVICE:
		return "/api/v1/services";
	case KUBE_KIND_POD:
	default:
		return "/api/v1/pods";
	}
}

static bool kres_labelled(const struct kres *r)
{
	return r->kind == KUBE_KIND_SERVICE || r->kind == KUBE_KIND_SLICE;
}

static size_t kres_body_cb(char *data, size_t size, size_t nmemb, void *ud);
static size_t kres_header_cb(char *data, size_t size, size_t nmemb, void *ud);

/* Sets the options shared by every request of r (TLS, token, callbacks)
 * and adds the handle to the multi. Returns 0 or -ENOMEM. */
static int kres_submit(struct kres *r)
{
	struct kube *k = r->k;
	const struct kubeconfig *c = &k->cfg;
	struct curl_slist *h = NULL;
	CURL *e = r->easy;

	curl_slist_free_all(r->headers);
	r->headers = NULL;
	h = curl_slist_append(h, "Accept: application/json");
	if (h != NULL && k->token != NULL) {
		size_t n = strlen(k->token) + 32;
		char *auth = malloc(n);

		if (auth != NULL) {
			snprintf(auth, n, "Authorization: Bearer %s", k->token);
			h = curl_slist_append(h, auth);
			/* The token is a secret: no copy left behind. */
			memset(auth, 0, n);
			free(auth);
		}
	}
	if (h == NULL) {
		return -ENOMEM;
	}
	r->headers = h;
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kres_body_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, kres_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)KUBE_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->ca_data != NULL) {
		struct curl_blob blob = { c->ca_data, c->ca_len,
			                  CURL_BLOB_NOCOPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	} else if (c->ca_file != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	}
	if (c->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cert_data != NULL) {
		struct curl_blob blob = { c->cert_data, c->cert_len,
			                  CURL_BLOB_NOCOPY };

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_data != NULL) {
		struct curl_blob blob = { c->key_data, c->key_len,
			                  CURL_BLOB_NOCOPY };

		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (c->key_file != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	}
	kbuf_reset(&r->body);
	kube_lines_reset(&r->lines);
	r->stream_ok = false;
	if (curl_multi_add_handle(k->multi, e) != CURLM_OK) {
		return -ENOMEM;
	}
	r->in_multi = true;
	return 0;
}

/* Appends "&labelSelector=..." when r takes the selector. */
static void kres_url(struct kres *r, const char *query)
{
	const struct kube *k = r->k;
	bool sel = kres_labelled(r) && k->labels != NULL;

	snprintf(r->url, sizeof(r->url), "%s%s?%s%s%s", k->cfg.server,
	         kres_path(r->kind), query, sel ? "&labelSelector=" : "",
	         sel ? k->labels : "");
}

static void kres_retry_cb(uv_timer_t *t);

/* Waits the back-off, then resumes: a watch from r->rv, or a LIST. */
static void kres_backoff(struct kres *r)
{
	struct kube *k = r->k;
	uint64_t ms;

	if (r->backoff_ms == 0) {
		r->backoff_ms = KUBE_BACKOFF_MIN_MS;
	}
	ms = kube_jitter(k, r->backoff_ms);
	r->backoff_ms = r->backoff_ms * 2 > KUBE_BACKOFF_MAX_MS
	                        ? KUBE_BACKOFF_MAX_MS
	                        : r->backoff_ms * 2;
	r->state = KRES_BACKOFF;
	uv_timer_start(&r->backoff, kres_retry_cb, ms, 0);
}

static void kres_retry_cb(uv_timer_t *t)
{
	struct kres *r = SVCDNS_CONTAINER_OF(t, struct kres, backoff);

	if (r->k->stopping) {
		return;
	}
	if (r->relist || r->rv[0] == '\0') {
		kres_start_list(r);
	} else {
		kres_start_watch(r);
	}
}

static void kres_fail(struct kres *r, const char *what)
{
	struct kube *k = r->k;

	k->st.errors++;
	log_warn("kube: %s %s failed: %s; retrying after back-off",
	         kube_kind_resource(r->kind),
	         r->state == KRES_LISTING ? "list" : "watch", what);
	if (r->state == KRES_LISTING) {
		kube_store_relist_abort(k->store, r->kind);
		free(r->cont);
		r->cont = NULL;
	}
	kres_backoff(r);
}

static void kres_start_list(struct kres *r)
{
	char query[1536];
	char *cont = NULL;

	if (r->cont == NULL) {
		/* A new LIST (not the next page): a fresh pending set. */
		kube_store_relist_begin(r->k->store, r->kind);
		if (r->listed_once) {
			r->k->st.relists++;
		}
		r->listed_once = true;
	} else {
		cont = curl_easy_escape(r->easy, r->cont, 0);
	}
	r->relist = false;
	r->state = KRES_LISTING;
	snprintf(query, sizeof(query), "limit=%d%s%s", KUBE_PAGE_LIMIT,
	         cont ? "&continue=" : "", cont ? cont : "");
	curl_free(cont);
	kres_url(r, query);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, 0L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME, 60L);
	if (kres_submit(r) != 0) {
		kres_fail(r, "out of memory");
	}
}

static void kres_start_watch(struct kres *r)
{
	struct kube *k = r->k;
	char query[512];
	long secs = (long)kube_jitter(k, KUBE_WATCH_SECONDS);
	char *rv = curl_easy_escape(r->easy, r->rv, 0);

	r->state = KRES_WATCHING;
	snprintf(
		query, sizeof(query),
		"watch=1&allowWatchBookmarks=true&timeoutSeconds=%ld&resourceVersion=%s",
		secs, rv ? rv : "");
	curl_free(rv);
	kres_url(r, query);
	/* The server ends a healthy stream at timeoutSeconds; one that
	 * brings nothing (not even a bookmark) for k->silent_s is given up
	 * earlier (kres_done), and one that trickles, at the time limit. */
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (secs + 30) * 1000L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME, (long)k->silent_s);
	r->watch_start_ms = uv_now(k->loop);
	if (kres_submit(r) != 0) {
		kres_fail(r, "out of memory");
	}
}

/* --- applying what arrives ----------------------------------------------- */

/* Pods are needed once a Service is blue/green (AUTO). */
static void kube_check_bluegreen(struct kube *k, const struct k8s_file *f)
{
	size_t i;

	if (k->pods != KUBE_PODS_AUTO || k->res[KUBE_KIND_POD].active) {
		return;
	}
	for (i = 0; i < f->n_services; i++) {
		if (k8s_labels_get(&f->services[i].meta.annotations,
		                   BLUEGREEN_ANNOT_LABEL) != NULL) {
			log_info(
				"kube: blue/green service %s/%s seen, watching pods",
				f->services[i].meta.ns,
				f->services[i].meta.name);
			kres_activate(&k->res[KUBE_KIND_POD]);
			return;
		}
	}
}

static bool kube_all_synced(const struct kube *k)
{
	size_t i;

	for (i = 0; i < KUBE_KIND_N; i++) {
		if (k->res[i].active && !k->res[i].synced) {
			return false;
		}
	}
	return true;
}

/* A LIST page arrived whole. */
static void kres_list_done(struct kres *r)
{
	struct kube *k = r->k;
	struct manifest_api_list l;
	struct manifest_limits lim;
	struct diag d;
	char path[64];
	int err;

	manifest_limits_default(&lim);
	lim.max_file_size = KUBE_LIST_MAX;
	lim.max_nodes = 64u * 1000 * 1000;
	lim.max_objects = 1000000;
	snprintf(path, sizeof(path), "api:%s", kube_kind_resource(r->kind));
	diag_init(&d);
	err = manifest_api_decode_list(path, r->body.p ? r->body.p : "",
	                               r->body.len, &lim, &l, &d);
	kube_diag(k, &d);
	diag_fini(&d);
	k->st.lists++;
	if (err != 0) {
		kres_fail(r, err == -ENOMEM ? "out of memory"
		                            : "the response is not a list");
		return;
	}
	k->st.errors += l.skipped;
	kube_check_bluegreen(k, l.file);
	if (kube_store_relist_add(k->store, r->kind, l.file) != 0) {
		manifest_api_list_fini(&l);
		kres_fail(r, "out of memory");
		return;
	}
	free(r->cont);
	r->cont = l.cont;
	l.cont = NULL;
	if (r->cont != NULL) {
		manifest_api_list_fini(&l);
		kres_start_list(r); /* the next page */
		return;
	}
	kube_store_relist_commit(k->store, r->kind);
	snprintf(r->rv, sizeof(r->rv), "%s", l.resource_version);
	manifest_api_list_fini(&l);
	r->backoff_ms = 0;
	k->dirty = true;
	if (!r->synced) {
		r->synced = true;
		log_info("kube: %s listed objects=%zu rv=%s",
		         kube_kind_resource(r->kind),
		         kube_store_count(k->store, r->kind), r->rv);
	}
	if (!k->synced && kube_all_synced(k)) {
		k->synced = true;
		log_info("kube: synced objects=%zu",
		         kube_store_count(k->store, KUBE_KIND_NAMESPACE) +
		                 kube_store_count(k->store, KUBE_KIND_SERVICE) +
		                 kube_store_count(k->store, KUBE_KIND_SLICE) +
		                 kube_store_count(k->store, KUBE_KIND_POD));
	}
	kres_start_watch(r);
}

static void kres_apply(struct kres *r, struct manifest_api_event *ev)
{
	struct kube *k = r->k;
	enum kube_kind kind;
	bool changed = false;

	if (!kube_kind_parse(ev->kind, &kind) || kind != r->kind) {
		return; /* not ours: ignored */
	}
	if (ev->type != MANIFEST_API_DELETED && ev->file != NULL) {
		kube_check_bluegreen(k, ev->file);
		if (kube_store_put(k->store, ev->file, &changed) != 0) {
			/* Out of memory: the old version would be stale;
			 * re-list when memory allows. */
			r->relist = true;
			k->st.errors++;
			return;
		}
		if (!changed) {
			/* Filtered out, or moved out of our namespaces. */
			changed = kube_store_delete(k->store, kind, ev->ns,
			                            ev->name);
		}
	} else {
		if (ev->type != MANIFEST_API_DELETED) {
			k->st.errors++; /* refused: its errors are logged */
		}
		changed = kube_store_delete(
			k->store, kind,
			ev->ns[0] || kind == KUBE_KIND_NAMESPACE ? ev->ns
								 : "default",
			ev->name);
	}
	k->st.events++;
	k->dirty = k->dirty || changed;
}

/* One line of a watch stream. Returns 0, or 1 to stop the stream. */
static int kres_line(void *ud, const char *line, size_t len)
{
	struct kres *r = ud;
	struct kube *k = r->k;
	struct manifest_api_event ev;
	struct diag d;
	char path[64];
	int err;

	snprintf(path, sizeof(path), "api:%s(watch)",
	         kube_kind_resource(r->kind));
	diag_init(&d);
	err = manifest_api_decode_event(path, line, len, NULL, &ev, &d);
	kube_diag(k, &d);
	diag_fini(&d);
	if (err != 0) {
		log_warn(
			"kube: %s watch: a line that is not an event; re-listing",
			kube_kind_resource(r->kind));
		r->relist = true;
		return 1;
	}
	if (ev.type == MANIFEST_API_ERROR) {
		if (ev.code == 410) {
			log_info("kube: %s watch: 410 Gone (%s); re-listing",
			         kube_kind_resource(r->kind), ev.message);
			r->relist = true;
		} else {
			log_warn("kube: %s watch: error event code=%ld: %s",
			         kube_kind_resource(r->kind), ev.code,
			         ev.message);
		}
		return 1;
	}
	if (ev.resource_version[0] != '\0') {
		memcpy(r->rv, ev.resource_version, sizeof(r->rv));
	}
	if (ev.type == MANIFEST_API_BOOKMARK) {
		k->st.bookmarks++;
	} else {
		kres_apply(r, &ev);
	}
	manifest_api_event_fini(&ev);
	return 0;
}

/* The end of a 200 response's headers opens a watch stream: counted as
 * connected before the first event (a quiet resource sends none). */
static size_t kres_header_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct kres *r = ud;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->state == KRES_WATCHING && status == 200 && !r->stream_ok &&
	    (n == 2 && data[0] == '\r')) {
		r->stream_ok = true;
		r->k->st.connected++;
	}
	return n;
}

static size_t kres_body_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct kres *r = ud;
	size_t n = size * nmemb;
	long status = 0;
	int err;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->state == KRES_LISTING || status != 200) {
		/* A LIST page, or an error body (kept for the log). */
		err = kbuf_append(&r->body, data, n,
		                  status == 200 ? KUBE_LIST_MAX : 65536);
		return err == 0 || status != 200 ? n : 0;
	}
	if (!r->stream_ok) {
		r->stream_ok = true;
		r->k->st.connected++;
	}
	err = kube_lines_feed(&r->lines, data, n, kres_line, r);
	if (err == -EMSGSIZE) {
		log_warn(
			"kube: %s watch: an event longer than %u octets; re-listing",
			kube_kind_resource(r->kind), KUBE_LINE_MAX);
		r->relist = true;
	}
	return err == 0 ? n : 0; /* 0 makes curl end the transfer */
}

/* The status message of an error body, for the log. */
static void kres_error_text(struct kres *r, long status, CURLcode rc, char *out,
                            size_t cap)
{
	if (rc != CURLE_OK && status == 0) {
		snprintf(out, cap, "%s", curl_easy_strerror(rc));
		return;
	}
	snprintf(out, cap, "HTTP %ld %.200s", status,
	         r->body.p ? r->body.p : "");
	for (size_t i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20) {
			out[i] = ' ';
		}
	}
}

/* A transfer of r ended (curl's result rc). */
static void kres_done(struct kres *r, CURLcode rc)
{
	struct kube *k = r->k;
	long status = 0;
	char why[300];

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(k->multi, r->easy);
	r->in_multi = false;
	if (r->stream_ok) {
		k->st.connected--;
		r->stream_ok = false;
	}
	if (k->stopping) {
		return;
	}
	if (status == 410 || (r->relist && r->state == KRES_WATCHING)) {
		/* Gone: the resourceVersion (or the continue token) is too
		 * old. Re-list at once; a loop of these still backs off. */
		if (status == 410) {
			log_info("kube: %s: 410 Gone; re-listing",
			         kube_kind_resource(r->kind));
		}
		if (r->state == KRES_LISTING) {
			kube_store_relist_abort(k->store, r->kind);
			free(r->cont);
			r->cont = NULL;
		}
		r->relist = true;
		r->rv[0] = '\0';
		if (r->backoff_ms > KUBE_BACKOFF_MIN_MS) {
			kres_backoff(r);
		} else {
			r->backoff_ms = KUBE_BACKOFF_MIN_MS * 2;
			kres_start_list(r);
		}
		return;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT && r->state == KRES_WATCHING &&
	    status == 200) {
		/* Silent (or past the time limit): resume from the last
		 * resourceVersion on a new connection, as after the
		 * server's own end of the watch. Not an error. */
		k->st.silent++;
		log_info("kube: %s watch: nothing received for %u s (or "
		         "past its time limit); resuming on a new connection",
		         kube_kind_resource(r->kind), k->silent_s);
		r->backoff_ms = 0;
		kres_backoff(r);
		return;
	}
	if (rc != CURLE_OK || status != 200) {
		kres_error_text(r, status, rc, why, sizeof(why));
		kres_fail(r, why);
		return;
	}
	if (r->state == KRES_LISTING) {
		kres_list_done(r);
		return;
	}
	/* The server ended the watch (timeoutSeconds): resume. */
	if (uv_now(k->loop) - r->watch_start_ms >= KUBE_HEALTHY_MS) {
		r->backoff_ms = 0;
		kres_start_watch(r);
	} else {
		kres_backoff(r); /* ends too soon: do not spin */
	}
}

/* --- libcurl on libuv ---------------------------------------------------- */

static void kube_check_done(struct kube *k)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(k->multi, &left)) != NULL) {
		struct kres *r = NULL;

		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		if (r != NULL) {
			kres_done(r, msg->data.result);
		}
	}
	kube_notify(k);
}

static void kube_poll_cb(uv_poll_t *p, int status, int events)
{
	struct ksock *s = SVCDNS_CONTAINER_OF(p, struct ksock, poll);
	struct kube *k = s->k;
	int flags = 0;
	int running;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	}
	if (events & UV_READABLE) {
		flags |= CURL_CSELECT_IN;
	}
	if (events & UV_WRITABLE) {
		flags |= CURL_CSELECT_OUT;
	}
	curl_multi_socket_action(k->multi, s->fd, flags, &running);
	kube_check_done(k);
}

static void kube_sock_closed(uv_handle_t *h)
{
	struct ksock *s = SVCDNS_CONTAINER_OF(h, struct ksock, poll);

	s->k->open_handles--;
	free(s);
}

static void kube_sock_close(struct kube *k, struct ksock *s)
{
	if (s->prev != NULL) {
		s->prev->next = s->next;
	} else {
		k->socks = s->next;
	}
	if (s->next != NULL) {
		s->next->prev = s->prev;
	}
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, kube_sock_closed);
}

static int kube_socket_cb(CURL *e, curl_socket_t fd, int what, void *ud,
                          void *sockp)
{
	struct kube *k = ud;
	struct ksock *s = sockp;
	int events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			kube_sock_close(k, s);
			curl_multi_assign(k->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			return -1;
		}
		s->k = k;
		s->fd = fd;
		if (uv_poll_init_socket(k->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		k->open_handles++;
		s->next = k->socks;
		if (s->next != NULL) {
			s->next->prev = s;
		}
		k->socks = s;
		curl_multi_assign(k->multi, fd, s);
	}
	if (what & CURL_POLL_IN) {
		events |= UV_READABLE;
	}
	if (what & CURL_POLL_OUT) {
		events |= UV_WRITABLE;
	}
	uv_poll_start(&s->poll, events, kube_poll_cb);
	return 0;
}

static void kube_curl_timer_cb(uv_timer_t *t)
{
	struct kube *k = SVCDNS_CONTAINER_OF(t, struct kube, curl_timer);
	int running;

	curl_multi_socket_action(k->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	kube_check_done(k);
}

static int kube_timer_cb(CURLM *m, long ms, void *ud)
{
	struct kube *k = ud;

	(void)m;
	if (ms < 0) {
		uv_timer_stop(&k->curl_timer);
	} else {
		uv_timer_start(&k->curl_timer, kube_curl_timer_cb, (uint64_t)ms,
		               0);
	}
	return 0;
}

/* --- the token ----------------------------------------------------------- */

static void kube_token_cb(uv_timer_t *t)
{
	struct kube *k = SVCDNS_CONTAINER_OF(t, struct kube, token_timer);
	char *token;
	int err = kubeconfig_read_token(k->cfg.token_file, &token);

	/* Blocking file I/O on the loop, once a minute, of a small file on
	 * a tmpfs (the projected token): cheap, and simpler than a thread. */
	if (err != 0) {
		log_warn(
			"kube: cannot re-read the token %s: %s; keeping the old one",
			k->cfg.token_file, strerror(-err));
		return;
	}
	if (k->token != NULL) {
		memset(k->token, 0, strlen(k->token));
	}
	free(k->token);
	k->token = token; /* used from the next request on */
}

/* --- public -------------------------------------------------------------- */

static int kube_copy_opts(struct kube *k, const struct kube_opts *o)
{
	size_t i;

	k->pods = o->pods;
	k->print = o->print;
	k->silent_s =
		o->watch_silent_s ? o->watch_silent_s : KUBE_WATCH_SILENT_S;
	if (o->n_namespaces != 0) {
		k->namespaces = calloc(o->n_namespaces, sizeof(char *));
		if (k->namespaces == NULL) {
			return -ENOMEM;
		}
		for (i = 0; i < o->n_namespaces; i++) {
			k->namespaces[i] = strdup(o->namespaces[i]);
			if (k->namespaces[i] == NULL) {
				return -ENOMEM;
			}
			k->n_namespaces++;
		}
	}
	if (o->labels != NULL && o->labels[0] != '\0') {
		char *esc = curl_easy_escape(NULL, o->labels, 0);

		if (esc == NULL) {
			return -ENOMEM;
		}
		k->labels = strdup(esc);
		curl_free(esc);
		if (k->labels == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int kube_load_config(struct kube *k, const struct kube_opts *o)
{
	struct diag d;
	int err;

	diag_init(&d);
	if (o->kubeconfig != NULL) {
		err = kubeconfig_load(o->kubeconfig, &k->cfg, &d);
	} else {
		err = kubeconfig_in_cluster(o->sa_dir, NULL, NULL, &k->cfg, &d);
	}
	kube_diag(k, &d);
	diag_fini(&d);
	if (err != 0) {
		return err;
	}
	if (strncmp(k->cfg.server, "https://", 8) != 0 &&
	    strncmp(k->cfg.server, "http://", 7) != 0) {
		log_err("kube: server %s: not an http(s) URL", k->cfg.server);
		return -EINVAL;
	}
	if (k->cfg.insecure) {
		log_warn(
			"kube: insecure-skip-tls-verify: the API server's certificate is NOT checked");
	}
	if (k->cfg.token != NULL) {
		k->token = strdup(k->cfg.token);
		if (k->token == NULL) {
			return -ENOMEM;
		}
	} else if (k->cfg.token_file != NULL) {
		err = kubeconfig_read_token(k->cfg.token_file, &k->token);
		if (err != 0) {
			log_err("kube: cannot read the token %s: %s",
			        k->cfg.token_file, strerror(-err));
			return err;
		}
	}
	snprintf(k->describe, sizeof(k->describe), "server=%s context=%s",
	         k->cfg.server, k->cfg.context ? k->cfg.context : "-");
	return 0;
}

static int kube_init_res(struct kube *k)
{
	size_t i;

	for (i = 0; i < KUBE_KIND_N; i++) {
		struct kres *r = &k->res[i];

		r->kind = (enum kube_kind)i;
		kube_lines_init(&r->lines, KUBE_LINE_MAX);
		uv_timer_init(k->loop, &r->backoff);
		k->open_handles++;
		r->k = k; /* the timer is to be closed */
		r->easy = curl_easy_init();
		if (r->easy == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

struct kube *kube_create(struct uv_loop_s *loop, const struct kube_opts *o,
                         void (*on_change)(void *ud), void *ud)
{
	struct kube *k;

	if (!kc_load()) {
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_err("kube: curl_global_init failed");
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		log_err("kube: out of memory");
		return NULL;
	}
	k->loop = loop;
	k->on_change = on_change;
	k->ud = ud;
	k->rand = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
	          (uint64_t)(uintptr_t)k;
	k->rand = k->rand ? k->rand : 1;
	uv_timer_init(loop, &k->curl_timer);
	uv_timer_init(loop, &k->token_timer);
	k->open_handles = 2;
	k->store = kube_store_create(kube_keep, k);
	k->multi = curl_multi_init();
	if (k->store == NULL || k->multi == NULL || kube_copy_opts(k, o) != 0 ||
	    kube_init_res(k) != 0) {
		log_err("kube: out of memory");
		goto out_fail;
	}
	if (kube_load_config(k, o) != 0) {
		goto out_fail;
	}
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETFUNCTION, kube_socket_cb);
	curl_multi_setopt(k->multi, CURLMOPT_SOCKETDATA, k);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERFUNCTION, kube_timer_cb);
	curl_multi_setopt(k->multi, CURLMOPT_TIMERDATA, k);
	return k;

out_fail:
	/* The timers were initialised: they must be closed by a loop run
	 * before the memory goes. */
	kube_stop(k);
	uv_run(loop, UV_RUN_NOWAIT);
	kube_destroy(k);
	return NULL;
}

static void kres_activate(struct kres *r)
{
	if (r->active) {
		return;
	}
	r->active = true;
	r->k->st.resources++;
	kres_start_list(r);
}

int kube_start(struct kube *k)
{
	log_info("kube: watching %s namespaces=%zu labels=%s pods=%s",
	         k->describe, k->n_namespaces, k->labels ? k->labels : "-",
	         k->pods == KUBE_PODS_ALWAYS ? "always"
	         : k->pods == KUBE_PODS_AUTO ? "auto"
	                                     : "never");
	kres_activate(&k->res[KUBE_KIND_NAMESPACE]);
	kres_activate(&k->res[KUBE_KIND_SERVICE]);
	kres_activate(&k->res[KUBE_KIND_SLICE]);
	if (k->pods == KUBE_PODS_ALWAYS) {
		kres_activate(&k->res[KUBE_KIND_POD]);
	}
	if (k->cfg.token_file != NULL && k->cfg.token == NULL) {
		uv_timer_start(&k->token_timer, kube_token_cb, KUBE_TOKEN_MS,
		               KUBE_TOKEN_MS);
	}
	return 0;
}

bool kube_synced(const struct kube *k)
{
	return k->synced;
}

struct kube_objects *kube_objects_take(struct kube *k)
{
	struct kube_objects *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		return NULL;
	}
	o->view = kube_store_view(k->store);
	if (o->view == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

size_t kube_objects_files(const struct kube_objects *o,
                          const struct k8s_file *const **files)
{
	return kube_view_files(o->view, files);
}

void kube_objects_release(struct kube_objects *o)
{
	if (o != NULL) {
		kube_view_release(o->view);
		free(o);
	}
}

static void kube_handle_closed(uv_handle_t *h)
{
	struct kube *k = h->data;

	k->open_handles--;
}

void kube_stop(struct kube *k)
{
	size_t i;

	if (k->stopping) {
		return;
	}
	k->stopping = true;
	for (i = 0; i < KUBE_KIND_N; i++) {
		struct kres *r = &k->res[i];

		if (r->in_multi) {
			curl_multi_remove_handle(k->multi, r->easy);
			r->in_multi = false;
		}
		if (r->k != NULL) {
			uv_timer_stop(&r->backoff);
		}
	}
	/* Closes the connections; curl reports each socket removed, which
	 * closes its poll handle. */
	if (k->multi != NULL) {
		for (i = 0; i < KUBE_KIND_N; i++) {
			if (k->res[i].easy != NULL) {
				curl_easy_cleanup(k->res[i].easy);
				k->res[i].easy = NULL;
			}
		}
		curl_multi_cleanup(k->multi);
		k->multi = NULL;
	}
	while (k->socks != NULL) {
		kube_sock_close(k, k->socks);
	}
	k->curl_timer.data = k;
	k->token_timer.data = k;
	uv_close((uv_handle_t *)&k->curl_timer, kube_handle_closed);
	uv_close((uv_handle_t *)&k->token_timer, kube_handle_closed);
	for (i = 0; i < KUBE_KIND_N; i++) {
		if (k->res[i].k != NULL) {
			k->res[i].backoff.data = k;
			uv_close((uv_handle_t *)&k->res[i].backoff,
			         kube_handle_closed);
		}
	}
}

void kube_destroy(struct kube *k)
{
	size_t i;

	if (k == NULL) {
		return;
	}
	if (k->open_handles != 0) {
		log_err("kube: destroyed with %u handles open (a bug)",
		        k->open_handles);
		return; /* leak rather than free memory libuv still uses */
	}
	for (i = 0; i < KUBE_KIND_N; i++) {
		struct kres *r = &k->res[i];

		if (r->easy != NULL) {
			curl_easy_cleanup(r->easy);
		}
		curl_slist_free_all(r->headers);
		free(r->cont);
		free(r->body.p);
		kube_lines_fini(&r->lines);
	}
	kube_store_destroy(k->store);
	for (i = 0; i < k->n_namespaces; i++) {
		free(k->namespaces[i]);
	}
	free(k->namespaces);
	free(k->labels);
	if (k->token != NULL) {
		memset(k->token, 0, strlen(k->token));
	}
	free(k->token);
	kubeconfig_fini(&k->cfg);
	free(k);
}

void kube_get_stats(const struct kube *k, struct kube_stats *st)
{
	struct kube_store_stats ss;

	*st = k->st;
	st->synced = k->synced;
	kube_store_get_stats(k->store, &ss);
	st->objects = ss.objects;
	st->pages = ss.pages;
	st->store_bytes = ss.bytes;
	st->compactions = ss.compactions;
}

const char *kube_describe(const struct kube *k)
{
	return k->describe;
}
