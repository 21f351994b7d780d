/* Watching a Kubernetes API server: LIST then WATCH of Namespaces,
 * Services, EndpointSlices and (when needed) Pods, over HTTPS with the
 * cluster's CA and a bearer token, with libcurl's multi interface driven
 * by the libuv loop (uv_poll_t per socket, one uv_timer_t for curl's
 * timeouts). One easy handle, so one connection, per resource type.
 *
 * Per resource: LIST pages of 500 (limit/continue) into a pending set that
 * replaces the resource's objects at once when the last page is in; then
 * WATCH from the list's resourceVersion with bookmarks. A 410 Gone (status
 * or ERROR event), an event line over 16 MiB or one that is not an event
 * re-lists; any other failure (connection refused or dropped, 5xx, 403)
 * waits a back-off (200 ms doubling to 30 s, +-20 % jitter) and resumes the
 * watch from the last resourceVersion seen. A watch that ends cleanly (the
 * server's timeoutSeconds) is resumed at once.
 *
 * Objects are kept in a kube_store (kube_store.h: packed pages, copy-on-
 * write views). Main loop only, except reading a kube_objects' files.
 *
 * Additions to the agreed API: kube_opts.sa_dir (tests), kube_stats.lists,
 * .pages, .store_bytes, .resources, .compactions, and kube_describe(). */
#ifndef SVCDNS_KUBE_H
#define SVCDNS_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"
#include "svcdns/k8s.h"

struct uv_loop_s;
struct kube;
struct kube_objects;

enum kube_pods {
	KUBE_PODS_NEVER,
	/* Watch Pods once a blue/green Service (annotation
	 * svcdns.io/color-label) is seen. When one is in the first LIST of
	 * Services, kube_synced() waits for the Pods too; one that appears
	 * later starts the Pods watch then. */
	KUBE_PODS_AUTO,
	KUBE_PODS_ALWAYS,
};

struct kube_opts {
	const char *kubeconfig; /* NULL: in-cluster config */
	/* Only these namespaces (a client-side filter: one connection per
	 * resource type whatever the number); n 0 = all. */
	const char *const *namespaces;
	size_t n_namespaces;
	/* A label selector for Services and EndpointSlices (labelSelector=
	 * on the server), NULL = none. */
	const char *labels;
	enum kube_pods pods;
	bool print; /* diagnostics to stderr, else the log (see log.h) */
	/* In-cluster only: the service account directory, NULL for
	 * KUBECONFIG_SA_DIR. (Addition, for tests.) */
	const char *sa_dir;
	/* A watch that receives nothing for this long is dropped and
	 * resumed from its resourceVersion (a half-open connection, a
	 * wedged proxy); 0 = KUBE_WATCH_SILENT_S. (For tests.) */
	unsigned watch_silent_s;
};

/* Reads the kubeconfig (or the in-cluster files) and prepares the
 * transfers; nothing is sent yet. on_change(ud) is called on the main
 * loop whenever the set of objects changed (callers coalesce). Returns
 * NULL on OOM or bad configuration, with the reason logged. Calls
 * curl_global_init(): call it before starting threads. Main loop. */
struct kube *kube_create(struct uv_loop_s *loop, const struct kube_opts *o,
                         void (*on_change)(void *ud), void *ud);

/* Starts LIST+WATCH of every needed resource. Returns 0 or a negative
 * errno (libuv's or -ENOMEM). Main loop. */
SVCDNS_MUSTCHECK int kube_start(struct kube *k);

/* True once every watched resource has completed its first LIST; stays
 * true after. Main loop. */
bool kube_synced(const struct kube *k);

/* The current objects, frozen for one snapshot build: the files stay valid
 * and unchanged until release, while events keep arriving (copy-on-write).
 * take and release on the main loop; reading the files from another
 * thread in between is safe. take returns NULL on OOM. */
struct kube_objects *kube_objects_take(struct kube *k);
size_t kube_objects_files(const struct kube_objects *o,
                          const struct k8s_file *const **files);
void kube_objects_release(struct kube_objects *o);

/* Stops every transfer and closes the libuv handles; kube_destroy() once
 * the loop has run the close callbacks. on_change is not called after.
 * Main loop. */
void kube_stop(struct kube *k);
void kube_destroy(struct kube *k);

struct kube_stats {
	uint64_t events;    /* ADDED, MODIFIED, DELETED applied */
	uint64_t relists;   /* LISTs after the first, per resource */
	uint64_t errors;    /* failed transfers and refused objects */
	uint64_t bookmarks; /* BOOKMARK events */
	uint64_t lists;     /* LIST pages fetched */
	uint64_t silent;    /* watches dropped after a silence */
	unsigned connected; /* resources with a watch stream open now */
	unsigned resources; /* resources watched */
	bool synced;
	size_t objects;     /* in the store */
	size_t pages;       /* store pages (files of a snapshot build) */
	size_t store_bytes; /* the store's memory */
	size_t compactions; /* store pages compacted */
};

void kube_get_stats(const struct kube *k, struct kube_stats *st);

/* The API server's URL and the context, for the start-up log line. */
const char *kube_describe(const struct kube *k);

#endif
