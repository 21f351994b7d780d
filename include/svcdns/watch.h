/* Following the manifest directory while serving: libuv fs events on every
 * directory of the tree (and on the directories of blue/green color files)
 * arm a settle timer; the whole directory state is loaded and built into
 * ONE new snapshot on the libuv thread pool, and published with one
 * pointer swap back on the main loop once the settle time is over with no
 * further change. The build may start before that (an early build, after
 * a quarter of the settle time); a change after its scan began drops it.
 * A periodic rescan catches what events miss (inotify overflow, remounts).
 * Main loop only. */
#ifndef SVCDNS_WATCH_H
#define SVCDNS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"
#include "svcdns/manifest.h"
#include "svcdns/snapshot.h"

struct uv_loop_s;
struct kube;
struct kube_opts;

struct watch_opts {
	const char *dir;    /* borrowed: the manifest directory */
	unsigned settle_ms; /* quiet time after the last event */
	unsigned rescan_ms; /* periodic rescan, 0 = none */
	bool print;         /* diagnostics to stderr instead of the log */
	/* --kubernetes: the objects come from the API server (kube.h)
	 * instead of dir (unused then); borrowed during watch_create. The
	 * first snapshot is built once every resource is listed (the first
	 * full sync): start with watch_start_kube, not watch_load_now. */
	const struct kube_opts *kube;
	/* Kube mode: called on the main loop when the first snapshot is
	 * published. */
	void (*on_first)(void *ud);
	/* Called on the main loop when a reload asked with watch_trigger(w,
	 * true) has finished; published: a new snapshot is served. */
	void (*on_forced)(void *ud, bool published);
	/* Directory mode, optional: called on the pool before each reload's
	 * scan, to take a key of the state the scan is about to read (0 on
	 * success). Not for the first load (watch_load_now). */
	int (*stamp)(void *ud, uint64_t *key);
	/* Directory mode: a reload's snapshot is served. stamped: stamp
	 * succeeded for its scan, key its result; clean: every file loaded,
	 * so that the snapshot holds no last good data of a broken file
	 * (what a fresh start would not serve). */
	void (*on_published)(void *ud, bool stamped, uint64_t key, bool clean);
	void *ud;
};

/* Objects loaded, by kind (watch_stats.kinds). */
enum watch_kind {
	WATCH_KIND_NAMESPACE,
	WATCH_KIND_SERVICE,
	WATCH_KIND_ENDPOINTSLICE,
	WATCH_KIND_ENDPOINTS, /* core/v1 Endpoints, counted per subset */
	WATCH_KIND_POD,
	WATCH_KIND_OTHER, /* other kinds, skipped */
	WATCH_KIND_COUNT,
};

/* What the reloads did, for logs and metrics. Main loop only. */
struct watch_stats {
	uint64_t reloads;          /* snapshots published */
	uint64_t reload_failures;  /* files that failed to load, summed */
	uint64_t scans;            /* directory scans */
	uint64_t early_builds;     /* snapshots published from a build started
	                              before the settle time was over (watch.c,
	                              watch_early_cb) */
	uint64_t early_dropped;    /* such builds dropped: changed again */
	uint64_t cutovers;         /* blue/green color changes served */
	uint64_t held;             /* builds in which a cutover was held */
	uint64_t last_reload_unix; /* time of the last publish */
	uint64_t last_build_us;
	unsigned files;
	unsigned failed_files; /* files whose last load failed */
	size_t objects;
	size_t kinds[WATCH_KIND_COUNT]; /* of the last build */
	bool dir_missing; /* the directory is unreadable or empty */
};

/* Cutovers served per blue/green service since start-up. */
struct watch_cutover {
	char *ns;   /* owns */
	char *name; /* owns */
	uint64_t count;
};

/* Services beyond this many are counted in watch_stats.cutovers only. */
#define WATCH_MAX_CUTOVER_SVCS 4096

struct watch;

/* Creates the watcher of dir. sopts is copied (its pointers must stay
 * valid); snapshots are published into slot. Returns NULL on OOM, or
 * when opts->kube is set and kube_create fails (it logs why). */
struct watch *watch_create(struct uv_loop_s *loop,
                           const struct watch_opts *opts,
                           const struct snapshot_opts *sopts,
                           struct snapshot_slot *slot);

/* Loads the directory and builds a snapshot now, on the calling thread
 * (start-up, --check, --dump). On success returns 0 and *out owns a new
 * snapshot (not published). Returns -errno if the directory cannot be
 * read, -ENOMEM if the build fails. Diagnostics are printed (opts.print)
 * or logged; *errors and *warnings get their counts. */
SVCDNS_MUSTCHECK int watch_load_now(struct watch *w, struct snapshot **out,
                                    unsigned *errors, unsigned *warnings);

/* Publishes s (the first snapshot, from watch_load_now) and starts the fs
 * events and timers. Returns 0 or a libuv error. */
SVCDNS_MUSTCHECK int watch_start(struct watch *w, struct snapshot *s);

/* Kube mode: starts the LIST+WATCH; snapshots are published from the
 * first full sync on (opts.on_first then). Returns 0 or an error. */
SVCDNS_MUSTCHECK int watch_start_kube(struct watch *w);

/* The API watcher in kube mode, else NULL. */
const struct kube *watch_kube(const struct watch *w);

/* Asks for a reload now (SIGHUP: force re-parses every file). Reloads
 * requested while one runs are coalesced into one more. Returns false
 * when none will run (stopping, out of memory, kube mode before the
 * first sync): then on_forced will not be called for it. */
bool watch_trigger(struct watch *w, bool force);

/* Stops the timers and fs events; a reload in flight completes (its result
 * is dropped). Call watch_destroy after the loop has run the closes. */
void watch_stop(struct watch *w);
void watch_destroy(struct watch *w);

void watch_get_stats(const struct watch *w, struct watch_stats *st);

/* The per-service cutover counters (*out valid until the next reload is
 * taken over on the main loop). Main loop only. */
size_t watch_cutovers(const struct watch *w, const struct watch_cutover **out);

#endif
