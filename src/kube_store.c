#include "svcdns/kube_store.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcdns/arena.h"

/* How the store is laid out
 * -------------------------
 *  kind ── table: key (ns/name) → (page, index), open addressing
 *       └─ pages ── kver: a k8s_file whose array holds the objects
 *                   └─ kblob: the arena with their strings and arrays
 *
 * A page is the store's; its current kver is shared with the views taken
 * while it was current (refs counts them, plus one for the page). Writing
 * a shared kver first copies its array into a new kver (the blob is shared
 * by reference). The blob is append-only, so views may read old objects
 * while new ones are appended. Memory per object is the k8s struct in the
 * page's array, its strings (names, IPs) and, shared by the objects of a
 * page, the label sets, ports and namespace strings they have in common
 * (interned while the page is filled). */

#define KPAGE_OPEN_MAX   256   /* objects an open page takes */
#define KBLOB_OPEN_CHUNK 16384 /* arena chunk of an open page */
#define KSCRATCH_CHUNK   65536 /* arena chunk of the sizing pass */
#define KCOMPACT_MIN     16    /* pages smaller than this stay */
/* Room for any one object struct. */
#define KOBJ_MAX                                                 \
	(sizeof(struct k8s_service) + sizeof(struct k8s_slice) + \
	 sizeof(struct k8s_pod) + sizeof(struct k8s_namespace))

struct kblob {
	struct arena *a; /* owns */
	unsigned refs;   /* kvers using it */
};

struct kver {
	struct k8s_file f; /* the array is f.<kind>s, owned (malloc) */
	unsigned refs;     /* the page while current, plus views */
	size_t cap;        /* array capacity, elements */
	enum kube_kind kind;
	struct kblob *blob; /* a reference */
};

struct kintern_slot {
	const void *p; /* blob */
	size_t len;
	size_t hash;
};

/* Shared values of one page while it is filled. */
struct kintern {
	struct kintern_slot *slots; /* owns */
	size_t cap;                 /* power of 2, or 0 */
	size_t n;
};

struct kpage {
	struct kver *cur;   /* a reference */
	struct kblob *blob; /* a reference */
	struct kintern *in; /* owns; open pages only */
	size_t added;       /* objects ever placed in the page */
	size_t pos;         /* index in the kind's pages */
	bool open;
};

struct kslot {
	struct kpage *page; /* NULL: empty */
	uint32_t idx;
	uint32_t hash;
};

struct kkind {
	struct kslot *tab; /* owns; cap slots */
	size_t cap;        /* power of 2, or 0 */
	size_t n;
	struct kpage **pages; /* owns */
	size_t n_pages;
	size_t cap_pages;
	struct kpage *open; /* one of pages, or NULL */
};

struct kube_store {
	struct kkind kinds[KUBE_KIND_N];
	struct kkind relist[KUBE_KIND_N]; /* pending re-lists */
	bool relisting[KUBE_KIND_N];
	bool (*keep)(enum kube_kind kind, const struct k8s_meta *meta,
	             void *ud);
	void *ud;
	size_t compactions;
};

struct kube_view {
	struct kver **vers; /* owns the references */
	const struct k8s_file **files;
	size_t n;
};

static const char *const kind_resources[KUBE_KIND_N] = {
	[KUBE_KIND_NAMESPACE] = "namespaces",
	[KUBE_KIND_SERVICE] = "services",
	[KUBE_KIND_SLICE] = "endpointslices",
	[KUBE_KIND_POD] = "pods",
};

static const char *const kind_paths[KUBE_KIND_N] = {
	[KUBE_KIND_NAMESPACE] = "api:namespaces",
	[KUBE_KIND_SERVICE] = "api:services",
	[KUBE_KIND_SLICE] = "api:endpointslices",
	[KUBE_KIND_POD] = "api:pods",
};

static const char *const kind_names[KUBE_KIND_N] = {
	[KUBE_KIND_NAMESPACE] = "Namespace",
	[KUBE_KIND_SERVICE] = "Service",
	[KUBE_KIND_SLICE] = "EndpointSlice",
	[KUBE_KIND_POD] = "Pod",
};

static const size_t kind_sizes[KUBE_KIND_N] = {
	[KUBE_KIND_NAMESPACE] = sizeof(struct k8s_namespace),
	[KUBE_KIND_SERVICE] = sizeof(struct k8s_service),
	[KUBE_KIND_SLICE] = sizeof(struct k8s_slice),
	[KUBE_KIND_POD] = sizeof(struct k8s_pod),
};

const char *kube_kind_resource(enum kube_kind kind)
{
	return kind_resources[kind];
}

bool kube_kind_parse(const char *kind, enum kube_kind *out)
{
	size_t i;

	for (i = 0; i < KUBE_KIND_N; i++) {
		if (strcmp(kind, kind_names[i]) == 0) {
			*out = (enum kube_kind)i;
			return true;
		}
	}
	return false;
}

/* --- arrays of a file, by kind ------------------------------------------ */

/* The array field and count of f for kind. */
static void **farr(struct k8s_file *f, enum kube_kind kind, size_t **n)
{
	switch (kind) {
	case KUBE_KIND_NAMESPACE:
		*n = &f->n_namespaces;
		return (void **)&f->namespaces;
	case KUBE_KIND_SERVICE:
		*n = &f->n_services;
		return (void **)&f->services;
	case KUBE_KIND_SLICE:
		*n = &f->n_slices;
		return (void **)&f->slices;
	case KUBE_KIND_POD:
	default:
		*n = &f->n_pods;
		return (void **)&f->pods;
	}
}

static const void *farr_const(const struct k8s_file *f, enum kube_kind kind,
                              size_t *n)
{
	switch (kind) {
	case KUBE_KIND_NAMESPACE:
		*n = f->n_namespaces;
		return f->namespaces;
	case KUBE_KIND_SERVICE:
		*n = f->n_services;
		return f->services;
	case KUBE_KIND_SLICE:
		*n = f->n_slices;
		return f->slices;
	case KUBE_KIND_POD:
	default:
		*n = f->n_pods;
		return f->pods;
	}
}

static size_t kver_n(struct kver *v)
{
	size_t *n;

	farr(&v->f, v->kind, &n);
	return *n;
}

static char *kver_at(struct kver *v, size_t i)
{
	size_t *n;
	void **arr = farr(&v->f, v->kind, &n);

	return (char *)*arr + i * kind_sizes[v->kind];
}

static struct k8s_meta *kver_meta(struct kver *v, size_t i)
{
	/* Every k8s object struct starts with its k8s_meta. */
	return (struct k8s_meta *)(void *)kver_at(v, i);
}

/* --- blobs, versions, pages --------------------------------------------- */

static void kblob_put(struct kblob *b)
{
	if (b != NULL && --b->refs == 0) {
		arena_destroy(b->a);
		free(b);
	}
}

static struct kblob *kblob_create(size_t chunk)
{
	struct kblob *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		return NULL;
	}
	b->a = arena_create(chunk);
	if (b->a == NULL) {
		free(b);
		return NULL;
	}
	b->refs = 1;
	return b;
}

static void kver_put(struct kver *v)
{
	size_t *n;

	if (v == NULL || --v->refs != 0) {
		return;
	}
	free(*farr(&v->f, v->kind, &n));
	kblob_put(v->blob);
	free(v);
}

/* A new version of kind with room for cap objects, copying n objects from
 * src (may be NULL). The blob reference is taken. */
static struct kver *kver_create(enum kube_kind kind, struct kblob *blob,
                                const void *src, size_t n, size_t cap)
{
	struct kver *v = calloc(1, sizeof(*v));
	void **arr;
	size_t *pn;

	if (v == NULL) {
		return NULL;
	}
	arr = farr(&v->f, kind, &pn);
	*arr = calloc(cap ? cap : 1, kind_sizes[kind]);
	if (*arr == NULL) {
		free(v);
		return NULL;
	}
	if (n != 0) {
		memcpy(*arr, src, n * kind_sizes[kind]);
	}
	*pn = n;
	v->cap = cap ? cap : 1;
	v->kind = kind;
	v->refs = 1;
	v->f.path = kind_paths[kind];
	v->f.id = k8s_file_next_id();
	v->blob = blob;
	blob->refs++;
	return v;
}

/* Makes p's version writable: a version shared with a view is replaced
 * by a copy (with room for one more). A new id either way: the content is
 * about to change. Returns 0 or -ENOMEM. */
static int kpage_own(struct kpage *p)
{
	struct kver *v = p->cur;
	struct kver *c;
	size_t n;

	if (v->refs == 1) {
		v->f.id = k8s_file_next_id();
		return 0;
	}
	n = kver_n(v);
	c = kver_create(v->kind, p->blob, kver_at(v, 0), n, n + 1);
	if (c == NULL) {
		return -ENOMEM;
	}
	kver_put(v);
	p->cur = c;
	return 0;
}

static void kintern_free(struct kintern *in)
{
	if (in != NULL) {
		free(in->slots);
		free(in);
	}
}

static void kpage_free(struct kpage *p)
{
	kver_put(p->cur);
	kblob_put(p->blob);
	kintern_free(p->in);
	free(p);
}

static struct kpage *kpage_create(enum kube_kind kind, struct kblob *blob,
                                  size_t cap)
{
	struct kpage *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	p->cur = kver_create(kind, blob, NULL, 0, cap);
	if (p->cur == NULL) {
		free(p);
		return NULL;
	}
	p->blob = blob;
	blob->refs++;
	return p;
}

static int kkind_add_page(struct kkind *k, struct kpage *p)
{
	if (k->n_pages == k->cap_pages) {
		size_t cap = k->cap_pages ? k->cap_pages * 2 : 16;
		struct kpage **pages = realloc(k->pages, cap * sizeof(*pages));

		if (pages == NULL) {
			return -ENOMEM;
		}
		k->pages = pages;
		k->cap_pages = cap;
	}
	p->pos = k->n_pages;
	k->pages[k->n_pages++] = p;
	return 0;
}

static void kkind_drop_page(struct kkind *k, struct kpage *p)
{
	struct kpage *last = k->pages[k->n_pages - 1];

	k->pages[p->pos] = last;
	last->pos = p->pos;
	k->n_pages--;
	if (k->open == p) {
		k->open = NULL;
	}
	kpage_free(p);
}

static void kkind_fini(struct kkind *k)
{
	size_t i;

	for (i = 0; i < k->n_pages; i++) {
		kpage_free(k->pages[i]);
	}
	free(k->pages);
	free(k->tab);
	memset(k, 0, sizeof(*k));
}

/* --- interning and copying ---------------------------------------------- */

static size_t khash_bytes(size_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h = (h ^ b[i]) * 1099511628211u;
	}
	return h;
}

static int kintern_grow(struct kintern *in)
{
	size_t cap = in->cap ? in->cap * 2 : 64;
	struct kintern_slot *slots = calloc(cap, sizeof(*slots));
	size_t i;

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < in->cap; i++) {
		struct kintern_slot *e = &in->slots[i];
		size_t j;

		if (e->p == NULL) {
			continue;
		}
		j = e->hash & (cap - 1);
		while (slots[j].p != NULL) {
			j = (j + 1) & (cap - 1);
		}
		slots[j] = *e;
	}
	free(in->slots);
	in->slots = slots;
	in->cap = cap;
	return 0;
}

/* One copy of objects into a blob. used counts what the arena hands out
 * (rounded as arena_alloc rounds), so that a first pass into a scratch
 * arena gives the exact size of the page's arena for the second. */
struct kcopy {
	struct arena *a;
	struct kintern *in; /* NULL: nothing shared */
	size_t used;
	int err;
	const char *origin; /* the object's meta.origin.file, or NULL */
	enum kube_kind kind;
};

static void *kc_alloc(struct kcopy *c, size_t size)
{
	size_t rounded = (size + 7) & ~(size_t)7;
	void *p;

	if (c->err != 0) {
		return NULL;
	}
	p = arena_alloc(c->a, size);
	if (p == NULL) {
		c->err = -ENOMEM;
		return NULL;
	}
	c->used += rounded ? rounded : 8;
	return p;
}

/* Copies len octets into the blob, or returns the copy made earlier in
 * this page. NULL for len 0 or after an error. */
static const void *kc_dup(struct kcopy *c, const void *p, size_t len)
{
	struct kintern *in = c->in;
	size_t h;
	size_t j;
	void *copy;

	if (len == 0 || c->err != 0) {
		return NULL;
	}
	if (in == NULL) {
		copy = kc_alloc(c, len);
		if (copy != NULL) {
			memcpy(copy, p, len);
		}
		return copy;
	}
	if (in->n * 2 >= in->cap && kintern_grow(in) != 0) {
		c->err = -ENOMEM;
		return NULL;
	}
	h = khash_bytes(14695981039346656037u, p, len);
	for (j = h & (in->cap - 1); in->slots[j].p != NULL;
	     j = (j + 1) & (in->cap - 1)) {
		const struct kintern_slot *e = &in->slots[j];

		if (e->hash == h && e->len == len &&
		    memcmp(e->p, p, len) == 0) {
			return e->p;
		}
	}
	copy = kc_alloc(c, len);
	if (copy == NULL) {
		return NULL;
	}
	memcpy(copy, p, len);
	in->slots[j].p = copy;
	in->slots[j].len = len;
	in->slots[j].hash = h;
	in->n++;
	return copy;
}

static const char *kc_str(struct kcopy *c, const char *s)
{
	if (s == NULL) {
		return NULL;
	}
	return c->err == 0 ? kc_dup(c, s, strlen(s) + 1) : "";
}

/* Copies an array whose elements were rebuilt in tmp (zeroed padding, so
 * equal arrays compare equal). tmp is freed. */
static const void *kc_array(struct kcopy *c, void *tmp, size_t n, size_t size)
{
	const void *p = kc_dup(c, tmp, n * size);

	free(tmp);
	return p;
}

static void *kc_tmp(struct kcopy *c, size_t n, size_t size)
{
	void *tmp;

	if (n == 0 || c->err != 0) {
		return NULL;
	}
	tmp = calloc(n, size);
	if (tmp == NULL) {
		c->err = -ENOMEM;
	}
	return tmp;
}

static void kc_labels(struct kcopy *c, const struct k8s_labels *src,
                      struct k8s_labels *dst)
{
	struct k8s_label *tmp = kc_tmp(c, src->n, sizeof(*tmp));
	size_t i;

	dst->items = NULL;
	dst->n = 0;
	if (tmp == NULL) {
		return;
	}
	for (i = 0; i < src->n; i++) {
		tmp[i].key = kc_str(c, src->items[i].key);
		tmp[i].value = kc_str(c, src->items[i].value);
	}
	dst->items = kc_array(c, tmp, src->n, sizeof(*tmp));
	dst->n = c->err == 0 ? src->n : 0;
}

static void kc_meta(struct kcopy *c, const struct k8s_meta *src,
                    struct k8s_meta *dst, bool annotations)
{
	dst->name = kc_str(c, src->name);
	dst->ns = kc_str(c, src->ns);
	kc_labels(c, &src->labels, &dst->labels);
	if (annotations) {
		kc_labels(c, &src->annotations, &dst->annotations);
	}
	dst->deleting = src->deleting;
	if (c->origin != NULL) {
		dst->origin.file = c->origin;
	} else {
		char buf[400];

		snprintf(buf, sizeof(buf), "%s/%s%s%s", kind_paths[c->kind],
		         src->ns, src->ns[0] != '\0' ? "/" : "", src->name);
		dst->origin.file = kc_str(c, buf);
	}
}

static const struct k8s_ip *kc_ips(struct kcopy *c, const struct k8s_ip *ips,
                                   size_t n)
{
	/* k8s_ip has no padding: 1 + 16 octets. */
	return kc_dup(c, ips, n * sizeof(*ips));
}

static void kc_service(struct kcopy *c, const struct k8s_service *s,
                       struct k8s_service *d)
{
	struct k8s_service_port *ports = kc_tmp(c, s->n_ports, sizeof(*ports));
	size_t i;

	kc_meta(c, &s->meta, &d->meta, true);
	d->type = s->type;
	d->headless = s->headless;
	d->cluster_ips = kc_ips(c, s->cluster_ips, s->n_cluster_ips);
	d->n_cluster_ips = s->n_cluster_ips;
	d->external_name = kc_str(c, s->external_name);
	for (i = 0; ports != NULL && i < s->n_ports; i++) {
		ports[i].name = kc_str(c, s->ports[i].name);
		ports[i].proto = s->ports[i].proto;
		ports[i].port = s->ports[i].port;
		ports[i].target_port = s->ports[i].target_port;
		ports[i].target_name = kc_str(c, s->ports[i].target_name);
	}
	d->ports =
		ports ? kc_array(c, ports, s->n_ports, sizeof(*ports)) : NULL;
	d->n_ports = s->n_ports;
	d->has_selector = s->has_selector;
	kc_labels(c, &s->selector, &d->selector);
	d->publish_not_ready = s->publish_not_ready;
}

static void kc_slice(struct kcopy *c, const struct k8s_slice *s,
                     struct k8s_slice *d)
{
	struct k8s_endpoint *eps = kc_tmp(c, s->n_endpoints, sizeof(*eps));
	struct k8s_endpoint_port *ports = kc_tmp(c, s->n_ports, sizeof(*ports));
	size_t i;

	kc_meta(c, &s->meta, &d->meta, true);
	d->service_name = kc_str(c, s->service_name);
	d->legacy = s->legacy;
	d->address_type = s->address_type;
	for (i = 0; eps != NULL && i < s->n_endpoints; i++) {
		const struct k8s_endpoint *e = &s->endpoints[i];

		eps[i].addrs = kc_ips(c, e->addrs, e->n_addrs);
		eps[i].n_addrs = e->n_addrs;
		eps[i].hostname = kc_str(c, e->hostname);
		eps[i].ready = e->ready;
		eps[i].target_kind = kc_str(c, e->target_kind);
		eps[i].target_name = kc_str(c, e->target_name);
		eps[i].target_ns = kc_str(c, e->target_ns);
	}
	for (i = 0; ports != NULL && i < s->n_ports; i++) {
		ports[i].name = kc_str(c, s->ports[i].name);
		ports[i].proto = s->ports[i].proto;
		ports[i].port = s->ports[i].port;
	}
	d->endpoints =
		eps ? kc_array(c, eps, s->n_endpoints, sizeof(*eps)) : NULL;
	d->n_endpoints = s->n_endpoints;
	d->ports =
		ports ? kc_array(c, ports, s->n_ports, sizeof(*ports)) : NULL;
	d->n_ports = s->n_ports;
}

static void kc_pod(struct kcopy *c, const struct k8s_pod *s, struct k8s_pod *d)
{
	struct k8s_container_port *ports =
		kc_tmp(c, s->n_ports, sizeof(*ports));
	size_t i;

	kc_meta(c, &s->meta, &d->meta, false);
	d->hostname = kc_str(c, s->hostname);
	d->subdomain = kc_str(c, s->subdomain);
	d->phase = s->phase;
	d->ready = s->ready;
	d->ips = kc_ips(c, s->ips, s->n_ips);
	d->n_ips = s->n_ips;
	for (i = 0; ports != NULL && i < s->n_ports; i++) {
		ports[i].name = kc_str(c, s->ports[i].name);
		ports[i].proto = s->ports[i].proto;
		ports[i].port = s->ports[i].port;
	}
	d->ports =
		ports ? kc_array(c, ports, s->n_ports, sizeof(*ports)) : NULL;
	d->n_ports = s->n_ports;
}

/* Copies one object of c->kind from src into dst (zeroed by the caller).
 * Returns c->err. */
static int kc_object(struct kcopy *c, const void *src, void *dst)
{
	c->origin = c->kind == KUBE_KIND_POD ? kind_paths[KUBE_KIND_POD] : NULL;
	switch (c->kind) {
	case KUBE_KIND_NAMESPACE: {
		const struct k8s_namespace *s = src;
		struct k8s_namespace *d = dst;

		kc_meta(c, &s->meta, &d->meta, true);
		break;
	}
	case KUBE_KIND_SERVICE:
		kc_service(c, src, dst);
		break;
	case KUBE_KIND_SLICE:
		kc_slice(c, src, dst);
		break;
	case KUBE_KIND_POD:
		kc_pod(c, src, dst);
		break;
	default:
		break;
	}
	return c->err;
}

/* --- the key table ------------------------------------------------------- */

static uint32_t kkey_hash(const char *ns, const char *name)
{
	size_t h = khash_bytes(14695981039346656037u, ns, strlen(ns) + 1);

	h = khash_bytes(h, name, strlen(name));
	return (uint32_t)(h ^ (h >> 32));
}

static bool kslot_is(const struct kslot *e, uint32_t h, const char *ns,
                     const char *name)
{
	const struct k8s_meta *m;

	if (e->hash != h) {
		return false;
	}
	m = kver_meta(e->page->cur, e->idx);
	return strcmp(m->name, name) == 0 && strcmp(m->ns, ns) == 0;
}

/* The slot of ns/name, or NULL. */
static struct kslot *kkind_find(const struct kkind *k, const char *ns,
                                const char *name)
{
	uint32_t h = kkey_hash(ns, name);
	size_t j;

	if (k->cap == 0) {
		return NULL;
	}
	for (j = h & (k->cap - 1); k->tab[j].page != NULL;
	     j = (j + 1) & (k->cap - 1)) {
		if (kslot_is(&k->tab[j], h, ns, name)) {
			return &k->tab[j];
		}
	}
	return NULL;
}

static int kkind_grow(struct kkind *k)
{
	size_t cap = k->cap ? k->cap * 2 : 64;
	struct kslot *tab = calloc(cap, sizeof(*tab));
	size_t i;

	if (tab == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < k->cap; i++) {
		size_t j;

		if (k->tab[i].page == NULL) {
			continue;
		}
		j = k->tab[i].hash & (cap - 1);
		while (tab[j].page != NULL) {
			j = (j + 1) & (cap - 1);
		}
		tab[j] = k->tab[i];
	}
	free(k->tab);
	k->tab = tab;
	k->cap = cap;
	return 0;
}

/* True when one more key would load the table past 3/4 (linear probing
 * stays short up to there; at 150,000 Pods the table is 4 MiB). */
static bool kkind_full(const struct kkind *k)
{
	return (k->n + 1) * 4 > k->cap * 3;
}

/* Inserts a slot for an object known to be absent; room was made. */
static void kkind_insert(struct kkind *k, struct kpage *p, size_t idx)
{
	const struct k8s_meta *m = kver_meta(p->cur, idx);
	uint32_t h = kkey_hash(m->ns, m->name);
	size_t j = h & (k->cap - 1);

	while (k->tab[j].page != NULL) {
		j = (j + 1) & (k->cap - 1);
	}
	k->tab[j].page = p;
	k->tab[j].idx = (uint32_t)idx;
	k->tab[j].hash = h;
	k->n++;
}

/* Removes slot e, shifting the probe chain back (no tombstones). */
static void kkind_erase(struct kkind *k, struct kslot *e)
{
	size_t i = (size_t)(e - k->tab);
	size_t j = i;

	k->tab[i].page = NULL;
	k->n--;
	for (;;) {
		size_t home;

		j = (j + 1) & (k->cap - 1);
		if (k->tab[j].page == NULL) {
			return;
		}
		home = k->tab[j].hash & (k->cap - 1);
		/* Leave j where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j)
		           : (i < home || home <= j)) {
			continue;
		}
		k->tab[i] = k->tab[j];
		k->tab[j].page = NULL;
		i = j;
	}
}

/* --- changes ------------------------------------------------------------ */

/* Takes the object at slot e out of its page (the last object moves into
 * its place). The page is freed when it is empty and not open. Returns 0
 * or -ENOMEM (nothing changed). */
static int kkind_remove(struct kkind *k, struct kslot *e, bool *dropped)
{
	struct kpage *p = e->page;
	size_t idx = e->idx;
	size_t last;
	size_t *pn;

	*dropped = false;
	if (kpage_own(p) != 0) {
		return -ENOMEM;
	}
	kkind_erase(k, e);
	farr(&p->cur->f, p->cur->kind, &pn);
	last = *pn - 1;
	if (idx != last) {
		const struct k8s_meta *m = kver_meta(p->cur, last);
		struct kslot *moved = kkind_find(k, m->ns, m->name);

		assert(moved != NULL && moved->page == p);
		memcpy(kver_at(p->cur, idx), kver_at(p->cur, last),
		       kind_sizes[p->cur->kind]);
		moved->idx = (uint32_t)idx;
	}
	(*pn)--;
	if (*pn == 0 && !p->open) {
		kkind_drop_page(k, p);
		*dropped = true;
	}
	return 0;
}

/* Starts a new open page for kind. */
static struct kpage *kkind_open(struct kkind *k, enum kube_kind kind)
{
	struct kblob *b = kblob_create(KBLOB_OPEN_CHUNK);
	struct kpage *p;

	if (b == NULL) {
		return NULL;
	}
	p = kpage_create(kind, b, 16);
	kblob_put(b);
	if (p == NULL) {
		return NULL;
	}
	p->in = calloc(1, sizeof(*p->in));
	if (p->in == NULL || kkind_add_page(k, p) != 0) {
		kpage_free(p);
		return NULL;
	}
	p->open = true;
	if (k->open != NULL) {
		struct kpage *old = k->open;

		old->open = false;
		kintern_free(old->in);
		old->in = NULL;
		if (kver_n(old->cur) == 0) {
			kkind_drop_page(k, old);
		}
	}
	k->open = p;
	return p;
}

/* Makes room in p's array for one more object. */
static int kpage_reserve(struct kpage *p)
{
	struct kver *v = p->cur;
	size_t n = kver_n(v);
	size_t *pn;
	void **arr;
	void *grown;

	if (kpage_own(p) != 0) {
		return -ENOMEM;
	}
	v = p->cur;
	if (n < v->cap) {
		return 0;
	}
	arr = farr(&v->f, v->kind, &pn);
	grown = realloc(*arr, v->cap * 2 * kind_sizes[v->kind]);
	if (grown == NULL) {
		return -ENOMEM;
	}
	*arr = grown;
	v->cap *= 2;
	return 0;
}

/* Copies obj (of kind) into the open page and indexes it; obj's key must
 * be absent. Returns 0 or -ENOMEM. */
static int kkind_append(struct kkind *k, enum kube_kind kind, const void *obj)
{
	struct kpage *p = k->open;
	struct kcopy c;
	size_t *pn;
	char *dst;

	if (p == NULL || p->added >= KPAGE_OPEN_MAX) {
		p = kkind_open(k, kind);
		if (p == NULL) {
			return -ENOMEM;
		}
	}
	if (kkind_full(k) && kkind_grow(k) != 0) {
		return -ENOMEM;
	}
	if (kpage_reserve(p) != 0) {
		return -ENOMEM;
	}
	memset(&c, 0, sizeof(c));
	c.a = p->blob->a;
	c.in = p->in;
	c.kind = kind;
	farr(&p->cur->f, kind, &pn);
	dst = kver_at(p->cur, *pn);
	memset(dst, 0, kind_sizes[kind]);
	if (kc_object(&c, obj, dst) != 0) {
		return c.err; /* the arena keeps what was copied: garbage */
	}
	(*pn)++;
	p->added++;
	kkind_insert(k, p, *pn - 1);
	return 0;
}

/* A page that lost half its objects moves the rest to the open page, so
 * that the garbage in blobs stays below about half of what they hold. An
 * object that cannot be moved for want of memory is dropped (logged by
 * the caller's next OOM). */
static void kkind_maybe_compact(struct kube_store *s, struct kkind *k,
                                enum kube_kind kind, struct kpage *p)
{
	size_t n = kver_n(p->cur);
	bool dropped = false;
	struct kblob *b;

	if (p->open || p->added < KCOMPACT_MIN || n * 2 > p->added) {
		return;
	}
	s->compactions++;
	/* The objects' strings are in p's blob, which must outlive the
	 * copy even when p goes away with its last object. */
	b = p->blob;
	b->refs++;
	while (!dropped && n > 0) {
		char obj[KOBJ_MAX];
		const struct k8s_meta *m = kver_meta(p->cur, n - 1);
		struct kslot *e = kkind_find(k, m->ns, m->name);

		memcpy(obj, kver_at(p->cur, n - 1), kind_sizes[kind]);
		if (e == NULL || kkind_remove(k, e, &dropped) != 0 ||
		    kkind_append(k, kind, obj) != 0) {
			break;
		}
		n--;
	}
	kblob_put(b);
}

/* --- public ------------------------------------------------------------- */

struct kube_store *kube_store_create(bool (*keep)(enum kube_kind kind,
                                                  const struct k8s_meta *meta,
                                                  void *ud),
                                     void *ud)
{
	struct kube_store *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->keep = keep;
	s->ud = ud;
	return s;
}

void kube_store_destroy(struct kube_store *s)
{
	size_t i;

	if (s == NULL) {
		return;
	}
	for (i = 0; i < KUBE_KIND_N; i++) {
		kkind_fini(&s->kinds[i]);
		kkind_fini(&s->relist[i]);
	}
	free(s);
}

static bool kstore_keeps(const struct kube_store *s, enum kube_kind kind,
                         const struct k8s_meta *m)
{
	return s->keep == NULL || s->keep(kind, m, s->ud);
}

/* Puts one object into k: replaces the key's old version. */
static int kkind_put(struct kube_store *s, struct kkind *k, enum kube_kind kind,
                     const void *obj)
{
	const struct k8s_meta *m = obj;
	struct kslot *e = kkind_find(k, m->ns, m->name);
	bool dropped = false;
	struct kpage *old = NULL;

	if (e != NULL) {
		old = e->page;
		if (kkind_remove(k, e, &dropped) != 0) {
			return -ENOMEM;
		}
		if (!dropped) {
			kkind_maybe_compact(s, k, kind, old);
		}
	}
	return kkind_append(k, kind, obj);
}

int kube_store_put(struct kube_store *s, const struct k8s_file *f,
                   bool *changed)
{
	size_t kind;

	if (changed != NULL) {
		*changed = false;
	}
	for (kind = 0; kind < KUBE_KIND_N; kind++) {
		size_t n;
		const char *arr = farr_const(f, (enum kube_kind)kind, &n);
		size_t i;

		for (i = 0; i < n; i++) {
			const void *obj = arr + i * kind_sizes[kind];
			int err;

			if (!kstore_keeps(s, (enum kube_kind)kind, obj)) {
				continue;
			}
			err = kkind_put(s, &s->kinds[kind],
			                (enum kube_kind)kind, obj);
			if (err != 0) {
				return err;
			}
			if (changed != NULL) {
				*changed = true;
			}
		}
	}
	return 0;
}

bool kube_store_delete(struct kube_store *s, enum kube_kind kind,
                       const char *ns, const char *name)
{
	struct kkind *k = &s->kinds[kind];
	struct kslot *e = kkind_find(k, ns, name);
	bool dropped = false;
	struct kpage *p;

	if (e == NULL) {
		return false;
	}
	p = e->page;
	if (kkind_remove(k, e, &dropped) != 0) {
		return false;
	}
	if (!dropped) {
		kkind_maybe_compact(s, k, kind, p);
	}
	return true;
}

void kube_store_relist_begin(struct kube_store *s, enum kube_kind kind)
{
	kkind_fini(&s->relist[kind]);
	s->relisting[kind] = true;
}

/* Copies the kept objects of src (n of kind) with one kcopy; dst NULL
 * only counts (the sizing pass). Returns c->err. */
static int krelist_copy(struct kube_store *s, struct kcopy *c,
                        enum kube_kind kind, const char *src, size_t n,
                        char *dst, size_t *kept)
{
	size_t size = kind_sizes[kind];
	char tmp[KOBJ_MAX] = { 0 };
	size_t i;

	*kept = 0;
	for (i = 0; i < n && c->err == 0; i++) {
		const void *obj = src + i * size;
		char *to = dst != NULL ? dst + *kept * size : tmp;

		if (!kstore_keeps(s, kind, obj)) {
			continue;
		}
		memset(to, 0, size);
		kc_object(c, obj, to);
		(*kept)++;
	}
	return c->err;
}

/* Packs the kept objects of a page into a new page of exactly the size
 * they need: a sizing pass into a scratch arena, then the real copy. */
static struct kpage *krelist_pack(struct kube_store *s, enum kube_kind kind,
                                  const char *src, size_t n)
{
	struct kintern in = { 0 };
	struct kcopy c = { 0 };
	struct kblob *b;
	struct kpage *p = NULL;
	size_t kept;
	size_t *pn;

	c.a = arena_create(KSCRATCH_CHUNK);
	c.in = &in;
	c.kind = kind;
	if (c.a == NULL) {
		return NULL;
	}
	krelist_copy(s, &c, kind, src, n, NULL, &kept);
	arena_destroy(c.a);
	free(in.slots);
	if (c.err != 0 || kept == 0) {
		return NULL;
	}
	b = kblob_create(c.used ? c.used : 8);
	if (b == NULL) {
		return NULL;
	}
	p = kpage_create(kind, b, kept);
	kblob_put(b);
	if (p == NULL) {
		return NULL;
	}
	memset(&in, 0, sizeof(in));
	memset(&c, 0, sizeof(c));
	c.a = b->a;
	c.in = &in;
	c.kind = kind;
	krelist_copy(s, &c, kind, src, n, kver_at(p->cur, 0), &kept);
	free(in.slots);
	if (c.err != 0) {
		kpage_free(p);
		return NULL;
	}
	farr(&p->cur->f, kind, &pn);
	*pn = kept;
	p->added = kept;
	return p;
}

int kube_store_relist_add(struct kube_store *s, enum kube_kind kind,
                          const struct k8s_file *page)
{
	struct kkind *k = &s->relist[kind];
	size_t n;
	const char *src = farr_const(page, kind, &n);
	struct kpage *p;
	size_t i;

	if (n == 0) {
		return 0;
	}
	p = krelist_pack(s, kind, src, n);
	if (p == NULL) {
		/* Nothing kept is not an error; tell it from OOM. */
		for (i = 0; i < n; i++) {
			if (kstore_keeps(
				    s, kind,
				    (const void *)(src +
			                           i * kind_sizes[kind]))) {
				return -ENOMEM;
			}
		}
		return 0;
	}
	if (kkind_add_page(k, p) != 0) {
		kpage_free(p);
		return -ENOMEM;
	}
	i = 0;
	while (i < kver_n(p->cur)) {
		const struct k8s_meta *m = kver_meta(p->cur, i);
		struct kslot *e = kkind_find(k, m->ns, m->name);
		bool dropped;

		if (e != NULL && e->page == p) {
			/* Twice in one page (the API server does not do
			 * this): the first stays. Nothing after i is
			 * indexed yet, so the last object may move. */
			size_t *pn;

			farr(&p->cur->f, kind, &pn);
			memcpy(kver_at(p->cur, i), kver_at(p->cur, *pn - 1),
			       kind_sizes[kind]);
			(*pn)--;
			continue;
		}
		if (e != NULL && kkind_remove(k, e, &dropped) != 0) {
			return -ENOMEM;
		}
		if (kkind_full(k) && kkind_grow(k) != 0) {
			return -ENOMEM;
		}
		kkind_insert(k, p, i);
		i++;
	}
	return 0;
}

void kube_store_relist_commit(struct kube_store *s, enum kube_kind kind)
{
	if (!s->relisting[kind]) {
		return;
	}
	kkind_fini(&s->kinds[kind]);
	s->kinds[kind] = s->relist[kind];
	memset(&s->relist[kind], 0, sizeof(s->relist[kind]));
	s->relisting[kind] = false;
}

void kube_store_relist_abort(struct kube_store *s, enum kube_kind kind)
{
	kkind_fini(&s->relist[kind]);
	s->relisting[kind] = false;
}

size_t kube_store_count(const struct kube_store *s, enum kube_kind kind)
{
	return s->kinds[kind].n;
}

const struct k8s_meta *kube_store_get(const struct kube_store *s,
                                      enum kube_kind kind, const char *ns,
                                      const char *name)
{
	const struct kslot *e = kkind_find(&s->kinds[kind], ns, name);

	return e != NULL ? kver_meta(e->page->cur, e->idx) : NULL;
}

void kube_store_get_stats(const struct kube_store *s,
                          struct kube_store_stats *st)
{
	size_t i;
	size_t j;

	memset(st, 0, sizeof(*st));
	st->compactions = s->compactions;
	for (i = 0; i < KUBE_KIND_N; i++) {
		const struct kkind *k = &s->kinds[i];

		st->objects += k->n;
		st->pages += k->n_pages;
		st->bytes += k->cap * sizeof(*k->tab) +
		             k->cap_pages * sizeof(*k->pages);
		for (j = 0; j < k->n_pages; j++) {
			const struct kpage *p = k->pages[j];

			st->bytes += sizeof(*p) + sizeof(*p->cur) +
			             p->cur->cap * kind_sizes[i] +
			             arena_footprint(p->blob->a);
			if (p->in != NULL) {
				st->bytes += p->in->cap * sizeof(*p->in->slots);
			}
		}
	}
}

struct kube_view *kube_store_view(struct kube_store *s)
{
	struct kube_view *v = calloc(1, sizeof(*v));
	size_t total = 0;
	size_t i;
	size_t j;

	if (v == NULL) {
		return NULL;
	}
	for (i = 0; i < KUBE_KIND_N; i++) {
		total += s->kinds[i].n_pages;
	}
	v->vers = calloc(total + 1, sizeof(*v->vers));
	v->files = calloc(total + 1, sizeof(*v->files));
	if (v->vers == NULL || v->files == NULL) {
		kube_view_release(v);
		return NULL;
	}
	for (i = 0; i < KUBE_KIND_N; i++) {
		const struct kkind *k = &s->kinds[i];

		for (j = 0; j < k->n_pages; j++) {
			struct kver *cur = k->pages[j]->cur;

			if (kver_n(cur) == 0) {
				continue;
			}
			cur->refs++;
			v->vers[v->n] = cur;
			v->files[v->n] = &cur->f;
			v->n++;
		}
	}
	return v;
}

size_t kube_view_files(const struct kube_view *v,
                       const struct k8s_file *const **files)
{
	*files = v->files;
	return v->n;
}

void kube_view_release(struct kube_view *v)
{
	size_t i;

	if (v == NULL) {
		return;
	}
	for (i = 0; i < v->n; i++) {
		kver_put(v->vers[i]);
	}
	free(v->vers);
	free(v->files);
	free(v);
}
