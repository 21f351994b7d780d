/* The objects svcdns watches on the Kubernetes API server, kept in memory
 * for snapshot builds (kube.c feeds it, from the main loop).
 *
 * Every object is copied out of the decoded response into the store's own
 * memory: objects of a LIST page are packed into one "page" (an array of
 * k8s structs plus one arena sized to their exact need, with strings,
 * label sets and port lists shared within the page), and objects from
 * watch events are appended to an open page that takes up to 256 of them.
 * A changed or deleted object leaves its page; a page that lost half of
 * what it held is compacted (its live objects move to the open page).
 *
 * Views: kube_store_view() freezes the current objects as k8s_files (one
 * per page) that stay valid and unchanged until kube_view_release(), while
 * the store keeps changing: a page shared with a view is copied before it
 * is written (copy-on-write of the page's array; the arena is shared and
 * only appended to). Every change of a page's array gives it a new
 * k8s_file id.
 *
 * Differences from objects loaded from files: meta.origin is
 * "api:<resource>/<ns>/<name>" with line and column 0 (just "api:pods" for
 * Pods, to save memory), and Pods keep no annotations (nothing reads
 * them). Not thread-safe: one thread (the main loop) calls everything
 * here; views may be read from any thread in between. */
#ifndef SVCDNS_KUBE_STORE_H
#define SVCDNS_KUBE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "svcdns/common.h"
#include "svcdns/k8s.h"

enum kube_kind {
	KUBE_KIND_NAMESPACE,
	KUBE_KIND_SERVICE,
	KUBE_KIND_SLICE,
	KUBE_KIND_POD,
	KUBE_KIND_N,
};

/* The API resource name of a kind ("pods"). */
const char *kube_kind_resource(enum kube_kind kind);

/* The kind of an object's "kind" field ("Pod"); false when not watched. */
bool kube_kind_parse(const char *kind, enum kube_kind *out);

struct kube_store;
struct kube_view;

/* keep(meta, ud) decides which objects are stored (the namespace filter);
 * NULL keeps everything. NULL on OOM. */
struct kube_store *kube_store_create(bool (*keep)(enum kube_kind kind,
                                                  const struct k8s_meta *meta,
                                                  void *ud),
                                     void *ud);

/* Frees the store. Views taken from it stay valid until released. */
void kube_store_destroy(struct kube_store *s);

/* Adds or replaces every object of f (a watch event's file) by key
 * kind/namespace/name. Returns 0 or -ENOMEM (the store is then unchanged
 * for the object that failed). *changed (may be NULL) is set when
 * something was stored. */
SVCDNS_MUSTCHECK int kube_store_put(struct kube_store *s,
                                    const struct k8s_file *f, bool *changed);

/* Removes kind/ns/name. Returns true when it was there. */
bool kube_store_delete(struct kube_store *s, enum kube_kind kind,
                       const char *ns, const char *name);

/* A re-list: begin, add every page, then commit, which replaces all the
 * objects of that kind at once, or abort. A second begin aborts the first.
 * Pages are packed (see above). add returns 0 or -ENOMEM (then abort). */
void kube_store_relist_begin(struct kube_store *s, enum kube_kind kind);
SVCDNS_MUSTCHECK int kube_store_relist_add(struct kube_store *s,
                                           enum kube_kind kind,
                                           const struct k8s_file *page);
void kube_store_relist_commit(struct kube_store *s, enum kube_kind kind);
void kube_store_relist_abort(struct kube_store *s, enum kube_kind kind);

/* Objects of kind in the store (not in a pending re-list). */
size_t kube_store_count(const struct kube_store *s, enum kube_kind kind);

/* Looks kind/ns/name up; NULL when absent. The object is valid until the
 * next change of the store (for tests and diagnostics). */
const struct k8s_meta *kube_store_get(const struct kube_store *s,
                                      enum kube_kind kind, const char *ns,
                                      const char *name);

struct kube_store_stats {
	size_t objects;     /* every kind */
	size_t pages;       /* every kind */
	size_t bytes;       /* arenas, arrays and tables */
	size_t compactions; /* pages compacted so far */
};

void kube_store_get_stats(const struct kube_store *s,
                          struct kube_store_stats *st);

/* Freezes the current objects. NULL on OOM. */
struct kube_view *kube_store_view(struct kube_store *s);

/* The view's files (each holds objects of one kind), valid until
 * release. Any thread, while the view is held. */
size_t kube_view_files(const struct kube_view *v,
                       const struct k8s_file *const **files);

/* Releases a view (the thread that owns the store). NULL is a no-op. */
void kube_view_release(struct kube_view *v);

#endif
