/* The manifest directory, followed while serving. See watch.h.
 *
 * Threads: everything here runs on the main loop except watch_job_work,
 * which runs on the libuv thread pool. At most one job exists at a time,
 * and while it runs the main loop does not touch what the job reads (the
 * manifest set, the blue/green state and the color files of the published
 * snapshot); the job's results are taken over in watch_job_done, on the
 * main loop. */
#include "svcdns/watch.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "svcdns/arena.h"
#include "svcdns/bluegreen.h"
#include "svcdns/kube.h"
#include "svcdns/log.h"

/* Events that keep coming cannot postpone a reload for longer than this
 * many settle periods. */
#define WATCH_MAX_SETTLE_FACTOR 10
/* A file still open for writing holds a reload back at most this long. */
#define WATCH_MAX_WRITE_HOLD_MS 5000
/* Files tracked as being written (modified, not yet closed). */
#define WATCH_MAX_WRITERS 256
/* "cannot load" while the directory stays missing: once, then this often. */
#define WATCH_ALARM_EVERY_MS 60000
/* A replaced snapshot's memory is kept for the next build to write into
 * (snapshot_opts.recycle) until this long after the last publish; checked
 * this often, since a worker with no queries lets go of it only later. */
#define WATCH_KEEP_DEAD_MS 10000
/* An early build (watch_early_cb) starts after this fraction of the settle
 * time without changes: 5 ms of the default 20. */
#define WATCH_EARLY_DIVISOR 4

/* The inotify events that can change what the directory holds. IN_MODIFY
 * without a later IN_CLOSE_WRITE means a writer is still at work: libuv's
 * fs events cannot tell those apart, so svcdns reads inotify itself. */
#define WATCH_MASK                                                        \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | \
	 IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

struct watch_dir {
	int wd;
	char *path; /* owns */
};

/* A file being written: its directory's watch and its name. */
struct watch_writer {
	int wd;
	char name[256];
};

/* The contents of the color files bound to blue/green services. */
struct watch_colors {
	struct arena *arena; /* owns everything below */
	struct bluegreen_color_file *files;
	size_t n;
	char **dirs; /* their directories, to watch */
	size_t n_dirs;
	struct bluegreen_colors view;
};

struct watch_job {
	uv_work_t req;
	struct watch *w;
	struct kube_objects *objs; /* kube mode: the objects, frozen */
	bool force;
	uint64_t seen_ms; /* first change this job answers, monotonic */
	bool early;       /* started before the settle time was over */
	uint64_t seq;     /* watch.change_seq when it started */
	bool dirty;       /* build even if the scan finds nothing new */
	bool stamped;     /* opts.stamp succeeded before the scan */
	uint64_t stamp_key;
	/* Results, written by the pool thread. */
	int err;
	bool emptied;
	bool built;
	struct diag diag;
	struct manifest_scan_stats st;
	struct snapshot *snap;
	struct bluegreen_state *bg_next;
	struct watch_colors colors;
	uint32_t serial;
	size_t objects;
	size_t kinds[WATCH_KIND_COUNT];
	unsigned files;
	char **dirs; /* directories to watch, sorted */
	size_t n_dirs;
};

struct watch {
	uv_loop_t *loop;
	struct watch_opts opts;
	char *dir; /* owns */
	struct snapshot_opts sopts;
	struct snapshot_slot *slot;
	struct manifest_set *set;   /* NULL in kube mode */
	struct kube *kube;          /* kube mode: owns */
	bool kube_published;        /* the first full sync is served */
	struct bluegreen_state *bg; /* of the published snapshot */
	struct watch_colors colors; /* of the published snapshot */
	uv_timer_t settle;
	uv_timer_t early; /* starts a build before the settle time is over */
	uv_timer_t rescan;
	uv_timer_t trim; /* frees the slot's dead snapshots */
	uint64_t last_publish_ms;
	int ifd; /* inotify, -1 when not started */
	uv_poll_t ipoll;
	struct watch_writer writers[WATCH_MAX_WRITERS];
	unsigned n_writers;
	uint64_t last_alarm_ms;
	struct watch_dir **dirs; /* sorted by path */
	size_t n_dirs;
	char **initial_dirs; /* from watch_load_now, for watch_start */
	size_t n_initial_dirs;
	struct watch_job *job; /* in flight, or NULL */
	bool pending;
	bool pending_force;
	uint64_t first_event_ms; /* 0: no change waiting */
	uint64_t change_seq;     /* changes seen so far */
	/* An early build that finished before the settle time was over: it
	 * is published when the settle timer fires, dropped on any change. */
	struct watch_job *ready;
	/* An early build was dropped since the last publish. Its scan took
	 * in changes that are not served and that the manifest set does not
	 * report again, so the next job builds anyway (job.dirty); and no
	 * early build starts until that publish. */
	bool dropped;
	bool started;
	bool stopping;
	uint32_t serial;
	unsigned good_files; /* files in the published snapshot */
	unsigned closing;    /* handles whose close_cb has not run */
	struct watch_stats stats;
	struct watch_cutover *cutovers; /* owns; per service, for metrics */
	size_t n_cutovers;
};

static uint64_t watch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t watch_next_serial(uint32_t prev)
{
	uint32_t now = (uint32_t)time(NULL);

	/* Strictly increasing, even if the clock steps back or two reloads
	 * fall in the same second. */
	return now > prev ? now : prev + 1;
}

static void watch_colors_fini(struct watch_colors *c)
{
	size_t i;

	for (i = 0; i < c->n_dirs; i++) {
		free(c->dirs[i]);
	}
	free(c->dirs);
	arena_destroy(c->arena);
	memset(c, 0, sizeof(*c));
}

static void watch_free_dirs(char **dirs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(dirs[i]);
	}
	free(dirs);
}

/* ------------------------- the pool thread ------------------------- */

/* Resolves a color file path: relative paths are relative to the
 * manifest directory. Returns a malloc'ed path or NULL. */
static char *watch_resolve(const char *dir, const char *path)
{
	size_t len;
	char *out;

	if (path[0] == '/') {
		return strdup(path);
	}
	len = strlen(dir) + strlen(path) + 2;
	out = malloc(len);
	if (out != NULL) {
		snprintf(out, len, "%s/%s", dir, path);
	}
	return out;
}

static bool watch_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

/* Appends a copy of s unless present. false on OOM. */
static bool watch_add_str(char ***v, size_t *n, const char *s)
{
	char **nv;
	char *copy;

	if (watch_has(*v, *n, s)) {
		return true;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		return false;
	}
	*v = nv;
	copy = strdup(s);
	if (copy == NULL) {
		return false;
	}
	nv[(*n)++] = copy;
	return true;
}

/* Loads every color file named by a blue/green service of files. A file
 * that cannot be read is reported and left out (the service then follows
 * its selector). */
static int watch_load_colors(struct watch *w, const struct k8s_file *const *f,
                             size_t n, struct watch_colors *c, struct diag *d)
{
	size_t cap = 0;
	size_t i;
	size_t k;

	c->arena = arena_create(4096);
	if (c->arena == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < f[i]->n_services; k++) {
			const struct k8s_service *s = &f[i]->services[k];
			struct bluegreen_config cfg;
			struct bluegreen_color_file *cf;
			char *path;
			char *slash;
			size_t j;

			if (!bluegreen_config_of(s, &cfg, NULL) ||
			    cfg.file == NULL) {
				continue;
			}
			for (j = 0; j < c->n; j++) {
				if (strcmp(c->files[j].path, cfg.file) == 0) {
					break;
				}
			}
			if (j < c->n) {
				continue;
			}
			if (c->n == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				void *nv = arena_calloc(c->arena, ncap,
				                        sizeof(*c->files));

				if (nv == NULL) {
					return -ENOMEM;
				}
				if (c->n) {
					memcpy(nv, c->files,
					       c->n * sizeof(*c->files));
				}
				c->files = nv;
				cap = ncap;
			}
			path = watch_resolve(w->dir, cfg.file);
			if (path == NULL) {
				return -ENOMEM;
			}
			cf = &c->files[c->n];
			cf->path = arena_strdup(c->arena, cfg.file);
			if (cf->path == NULL ||
			    manifest_load_values(path, cfg.file, c->arena,
			                         &cf->values, d) != 0) {
				memset(&cf->values, 0, sizeof(cf->values));
			}
			c->n++;
			slash = strrchr(path, '/');
			if (slash != NULL) {
				*slash = '\0';
			}
			if (!watch_add_str(&c->dirs, &c->n_dirs,
			                   slash ? path : ".")) {
				free(path);
				return -ENOMEM;
			}
			free(path);
		}
	}
	c->view.files = c->files;
	c->view.n = c->n;
	return 0;
}

static bool watch_colors_equal(const struct watch_colors *a,
                               const struct watch_colors *b)
{
	size_t i;
	size_t k;

	if (a->n != b->n) {
		return false;
	}
	for (i = 0; i < a->n; i++) {
		const struct k8s_labels *x = &a->files[i].values;
		const struct k8s_labels *y = &b->files[i].values;

		if (strcmp(a->files[i].path, b->files[i].path) != 0 ||
		    x->n != y->n) {
			return false;
		}
		for (k = 0; k < x->n; k++) {
			if (strcmp(x->items[k].key, y->items[k].key) != 0 ||
			    strcmp(x->items[k].value, y->items[k].value) != 0) {
				return false;
			}
		}
	}
	return true;
}

static int watch_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories to watch: those the scan walked and those holding color
 * files, sorted. */
static int watch_collect_dirs(struct watch *w, struct watch_job *job)
{
	const char *const *dirs = NULL;
	size_t n = w->set != NULL ? manifest_set_dirs(w->set, &dirs) : 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!watch_add_str(&job->dirs, &job->n_dirs, dirs[i])) {
			return -ENOMEM;
		}
	}
	for (i = 0; i < job->colors.n_dirs; i++) {
		if (!watch_add_str(&job->dirs, &job->n_dirs,
		                   job->colors.dirs[i])) {
			return -ENOMEM;
		}
	}
	if (job->n_dirs > 1) {
		qsort(job->dirs, job->n_dirs, sizeof(*job->dirs),
		      watch_cmp_str);
	}
	return 0;
}

/* A directory's identity and times, to see whether it changed while it
 * was being scanned. */
struct watch_stamp {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct timespec ctime;
};

static void watch_stamp_dirs(const struct watch *w, struct watch_stamp *v,
                             size_t n, const char *const *dirs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct stat st;

		memset(&v[i], 0, sizeof(v[i]));
		if (stat(dirs[i], &st) == 0) {
			v[i].dev = st.st_dev;
			v[i].ino = st.st_ino;
			v[i].mtime = st.st_mtim;
			v[i].ctime = st.st_ctim;
		}
	}
	(void)w;
}

/* Scans the directory; if a directory entry changed while the scan ran
 * (a ConfigMap's ..data swap between two files' reads), scans again, so
 * that the files come from one state of the directory. At most three
 * tries; the watch sees the change anyway and reloads after it. */
static int watch_scan_settled(struct watch *w, struct watch_job *job)
{
	char *paths[64];
	struct watch_stamp before[64];
	struct watch_stamp after[64];
	struct manifest_scan_stats st;
	size_t n = 0;
	size_t i;
	int err = 0;
	int tries;

	memset(&job->st, 0, sizeof(job->st));
	for (tries = 0; tries < 3; tries++) {
		const char *const *dirs = NULL;
		size_t nd = manifest_set_dirs(w->set, &dirs);

		/* Copies: the set's list changes with the scan. */
		for (i = 0; i < n; i++) {
			free(paths[i]);
		}
		for (n = 0; n < nd && n < 64; n++) {
			paths[n] = strdup(dirs[n]);
			if (paths[n] == NULL) {
				break;
			}
		}
		watch_stamp_dirs(w, before, n, (const char *const *)paths);
		err = manifest_set_scan(w->set, job->force, &job->diag, &st);
		if (err < 0) {
			break;
		}
		job->st.files = st.files;
		job->st.loaded += st.loaded;
		job->st.failed = st.failed;
		job->st.broken = st.broken;
		job->st.removed += st.removed;
		job->st.changed |= st.changed;
		watch_stamp_dirs(w, after, n, (const char *const *)paths);
		if (memcmp(before, after, n * sizeof(before[0])) == 0) {
			break;
		}
		log_debug(
			"watch: dir=%s changed during the scan; scanning again",
			w->dir);
	}
	for (i = 0; i < n; i++) {
		free(paths[i]);
	}
	return err;
}

/* Scan, color files, build: the whole directory state becomes one
 * snapshot. Runs on the pool (or on the main thread for the first load). */
static void watch_run_job(struct watch *w, struct watch_job *job)
{
	const struct k8s_file *const *files = NULL;
	struct snapshot_opts o = w->sopts;
	struct snapshot *prev;
	size_t n;
	size_t i;
	bool colors_changed;

	if (job->objs != NULL) {
		/* Kube mode: every job follows a change of the objects (or a
		 * color file, or SIGHUP). */
		n = kube_objects_files(job->objs, &files);
		memset(&job->st, 0, sizeof(job->st));
		job->st.files = (unsigned)n;
		job->st.changed = true;
	} else {
		job->err = watch_scan_settled(w, job);
		if (job->err < 0) {
			return;
		}
		n = manifest_set_files(w->set, &files);
	}
	job->files = (unsigned)n;
	job->err = watch_load_colors(w, files, n, &job->colors, &job->diag);
	if (job->err == 0) {
		job->err = watch_collect_dirs(w, job);
	}
	if (job->err < 0) {
		return;
	}
	colors_changed = !watch_colors_equal(&w->colors, &job->colors);
	if (!job->st.changed && !colors_changed && !job->force && !job->dirty &&
	    w->good_files != 0) {
		return; /* nothing new to serve */
	}
	/* An unmounted volume or a wiped directory is far more likely than a
	 * cluster with no objects: keep serving what we have (RELIABILITY
	 * L5/L6). */
	if (job->st.files == 0 && w->good_files != 0 && job->objs == NULL) {
		job->emptied = true;
		return;
	}
	job->bg_next = bluegreen_state_create();
	if (job->bg_next == NULL) {
		job->err = -ENOMEM;
		return;
	}
	o.colors = &job->colors.view;
	o.bg_prev = w->bg;
	o.bg_next = job->bg_next;
	job->serial = watch_next_serial(w->serial);
	/* Namespaces whose files did not change are copied from what is
	 * served now; SIGHUP builds everything again. */
	prev = job->force ? NULL : snapshot_slot_acquire(w->slot);
	o.reuse = prev;
	job->snap = snapshot_build(files, n, &o, job->serial, &job->diag);
	if (prev != NULL) {
		snapshot_release(prev);
	}
	if (job->snap == NULL) {
		job->err = -ENOMEM;
		return;
	}
	for (i = 0; i < n; i++) {
		const struct k8s_file *f = files[i];
		size_t k;

		job->objects += f->n_namespaces + f->n_services + f->n_slices +
		                f->n_pods;
		job->kinds[WATCH_KIND_NAMESPACE] += f->n_namespaces;
		job->kinds[WATCH_KIND_SERVICE] += f->n_services;
		job->kinds[WATCH_KIND_POD] += f->n_pods;
		job->kinds[WATCH_KIND_OTHER] += f->n_unknown;
		for (k = 0; k < f->n_slices; k++) {
			job->kinds[f->slices[k].legacy
			                   ? WATCH_KIND_ENDPOINTS
			                   : WATCH_KIND_ENDPOINTSLICE]++;
		}
	}
	job->built = true;
}

static void watch_job_work(uv_work_t *req)
{
	struct watch_job *job = SVCDNS_CONTAINER_OF(req, struct watch_job, req);
	struct watch *w = job->w;

	if (job->objs == NULL && w->opts.stamp != NULL) {
		job->stamped = w->opts.stamp(w->opts.ud, &job->stamp_key) == 0;
	}
	watch_run_job(w, job);
}

/* -------------------------- the main loop -------------------------- */

static struct watch_job *watch_job_new(struct watch *w, bool force,
                                       uint64_t seen_ms)
{
	struct watch_job *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		return NULL;
	}
	job->w = w;
	job->force = force;
	job->seen_ms = seen_ms;
	diag_init(&job->diag);
	return job;
}

static void watch_job_free(struct watch_job *job)
{
	if (job->objs != NULL) {
		kube_objects_release(job->objs);
	}
	diag_fini(&job->diag);
	snapshot_release(job->snap);
	bluegreen_state_destroy(job->bg_next);
	watch_colors_fini(&job->colors);
	watch_free_dirs(job->dirs, job->n_dirs);
	free(job);
}

/* Makes the set of watched directories equal to dirs (sorted). Returns
 * true if a directory was added: files created in it before its watch
 * existed are then found by one more scan. */
static bool watch_sync_dirs(struct watch *w, char **dirs, size_t n)
{
	struct watch_dir **nd = calloc(n + 1, sizeof(*nd));
	size_t i = 0;
	size_t j = 0;
	size_t k = 0;
	bool added = false;

	if (nd == NULL) {
		log_warn("watch: out of memory updating directory watches");
		return false;
	}
	while (i < w->n_dirs || j < n) {
		int c = i == w->n_dirs ? 1
		        : j == n       ? -1
		                       : strcmp(w->dirs[i]->path, dirs[j]);

		if (c < 0) {
			if (w->ifd >= 0) {
				inotify_rm_watch(w->ifd, w->dirs[i]->wd);
			}
			free(w->dirs[i]->path);
			free(w->dirs[i]);
			i++;
		} else if (c == 0) {
			nd[k++] = w->dirs[i];
			i++;
			j++;
		} else {
			struct watch_dir *d = calloc(1, sizeof(*d));

			if (d == NULL || (d->path = strdup(dirs[j])) == NULL) {
				free(d);
				j++;
				continue;
			}
			d->wd = inotify_add_watch(w->ifd, d->path,
			                          WATCH_MASK | IN_ONLYDIR);
			if (d->wd < 0) {
				log_warn("watch: cannot watch dir=%s err=%s",
				         d->path, strerror(errno));
				free(d->path);
				free(d);
			} else {
				nd[k++] = d;
				added = true;
			}
			j++;
		}
	}
	free(w->dirs);
	w->dirs = nd;
	w->n_dirs = k;
	return added;
}

static bool watch_start_job(struct watch *w, bool force, uint64_t seen_ms);
static void watch_start_pending(struct watch *w, uint64_t now);
static void watch_note_change(struct watch *w, uint64_t now);
static bool watch_alarm_due(struct watch *w, uint64_t now);

/* Counts one cutover of service ns/name, for the metrics. The table only
 * grows (a counter never goes back), up to WATCH_MAX_CUTOVER_SVCS
 * services; the rest are counted in w->stats.cutovers only. */
static void watch_count_cutover(struct watch *w, const char *ns,
                                const char *name)
{
	struct watch_cutover *v;
	struct watch_cutover *c;
	size_t i;

	for (i = 0; i < w->n_cutovers; i++) {
		c = &w->cutovers[i];
		if (strcmp(c->ns, ns) == 0 && strcmp(c->name, name) == 0) {
			c->count++;
			return;
		}
	}
	if (w->n_cutovers == WATCH_MAX_CUTOVER_SVCS) {
		return;
	}
	v = realloc(w->cutovers, (w->n_cutovers + 1) * sizeof(*v));
	if (v == NULL) {
		return;
	}
	w->cutovers = v;
	c = &v[w->n_cutovers];
	c->ns = strdup(ns);
	c->name = strdup(name);
	c->count = 1;
	if (c->ns == NULL || c->name == NULL) {
		free(c->ns);
		free(c->name);
		return;
	}
	w->n_cutovers++;
}

size_t watch_cutovers(const struct watch *w, const struct watch_cutover **out)
{
	*out = w->cutovers;
	return w->n_cutovers;
}

static void watch_log_bluegreen(struct watch *w, uint64_t lag_ms)
{
	const struct snapshot_bluegreen *bg;
	struct snapshot *s = snapshot_slot_acquire(w->slot);
	size_t n;
	size_t i;
	bool held = false;

	if (s == NULL) {
		return;
	}
	n = snapshot_bluegreen(s, &bg);
	for (i = 0; i < n; i++) {
		if (bg[i].cutover) {
			w->stats.cutovers++;
			watch_count_cutover(w, bg[i].ns, bg[i].name);
			log_info(
				"bluegreen: cutover svc=%s/%s %s->%s ready=%u min_ready=%u lag_ms=%" PRIu64,
				bg[i].ns, bg[i].name,
				bg[i].previous ? bg[i].previous : "-",
				bg[i].served ? bg[i].served : "-",
				bg[i].ready_served, bg[i].min_ready, lag_ms);
		}
		if (bg[i].held) {
			held = true;
			log_warn(
				"bluegreen: cutover held svc=%s/%s serving=%s desired=%s ready=%u min_ready=%u",
				bg[i].ns, bg[i].name,
				bg[i].served ? bg[i].served : "-",
				bg[i].desired ? bg[i].desired : "-",
				bg[i].ready_desired, bg[i].min_ready);
		}
	}
	w->stats.held += held;
	snapshot_release(s);
}

/* Frees the replaced snapshots once reloads have been quiet for a while:
 * until then the next build writes into their memory. */
static void watch_trim_cb(uv_timer_t *t)
{
	struct watch *w = t->data;
	size_t bytes;

	if (w->job != NULL ||
	    watch_now_ms() - w->last_publish_ms < WATCH_KEEP_DEAD_MS) {
		return;
	}
	bytes = snapshot_slot_trim(w->slot);
	if (bytes != 0) {
		malloc_trim(0);
		log_debug("watch: freed the replaced snapshots kib=%zu",
		          bytes / 1024);
	}
}

/* Publishes s, the new current snapshot (the slot takes the reference). */
static void watch_publish(struct watch *w, struct snapshot *s)
{
	snapshot_slot_publish(w->slot, s);
	w->last_publish_ms = watch_now_ms();
	uv_timer_start(&w->trim, watch_trim_cb, WATCH_KEEP_DEAD_MS,
	               WATCH_KEEP_DEAD_MS);
}

/* What a finished job's scan found, whether its build is published or
 * not: the diagnostics (a file that failed is not parsed again until it
 * changes, so they are logged now or never), the failure counts, the
 * directory's state and the directories to watch. */
static void watch_job_scanned(struct watch *w, struct watch_job *job,
                              uint64_t now)
{
	w->stats.scans++;
	diag_log(&job->diag);
	w->stats.reload_failures += job->st.failed;
	w->stats.failed_files = job->st.broken;
	if (job->err < 0) {
		if (watch_alarm_due(w, now)) {
			log_err("watch: cannot load dir=%s err=%s; still serving the last good data gen=%" PRIu64,
			        w->dir, strerror(-job->err),
			        snapshot_slot_generation(w->slot));
		} else {
			log_debug("watch: scan failed again dir=%s err=%s",
			          w->dir, strerror(-job->err));
		}
		w->stats.dir_missing = true;
		/* Re-created directories need new watches: drop them all and
		 * let the next good scan set them up again. */
		watch_sync_dirs(w, NULL, 0);
	} else {
		if (job->emptied && watch_alarm_due(w, now)) {
			log_err("watch: dir=%s has no manifests any more (unmounted?); still serving the last good data gen=%" PRIu64,
			        w->dir, snapshot_slot_generation(w->slot));
		}
		if (!job->emptied && w->stats.dir_missing) {
			log_info("watch: dir=%s is back", w->dir);
			w->last_alarm_ms = 0;
		}
		w->stats.dir_missing = job->emptied;
		if (watch_sync_dirs(w, job->dirs, job->n_dirs) && w->started) {
			/* A new directory: what was created in it before its
			 * watch existed is found by one more scan. */
			watch_note_change(w, now);
		}
	}
}

/* Takes over a finished job's build: publish, log, callbacks; then frees
 * the job and starts the reload that waited for it, if any. */
static void watch_job_take(struct watch *w, struct watch_job *job, uint64_t now)
{
	if (job->built) {
		struct snapshot_stats ss;

		snapshot_get_stats(job->snap, &ss);
		watch_publish(w, job->snap);
		job->snap = NULL;
		w->serial = job->serial;
		bluegreen_state_destroy(w->bg);
		w->bg = job->bg_next;
		job->bg_next = NULL;
		watch_colors_fini(&w->colors);
		w->colors = job->colors;
		memset(&job->colors, 0, sizeof(job->colors));
		w->good_files = job->files;
		w->stats.reloads++;
		w->stats.last_reload_unix = (uint64_t)time(NULL);
		w->stats.last_build_us = ss.build_us;
		w->stats.files = job->files;
		w->stats.objects = job->objects;
		memcpy(w->stats.kinds, job->kinds, sizeof(w->stats.kinds));
		w->dropped = false;
		w->stats.early_builds += job->early;
		log_info(
			"watch: reload ok gen=%" PRIu64
			" files=%u loaded=%u failed=%u removed=%u objects=%zu serial=%" PRIu32
			" build_ms=%.1f lag_ms=%" PRIu64 " early=%d",
			snapshot_slot_generation(w->slot), job->st.files,
			job->st.loaded, job->st.failed, job->st.removed,
			job->objects, job->serial, (double)ss.build_us / 1000.0,
			now - job->seen_ms, job->early ? 1 : 0);
		watch_log_bluegreen(w, now - job->seen_ms);
		if (job->objs == NULL && w->opts.on_published != NULL) {
			w->opts.on_published(w->opts.ud, job->stamped,
			                     job->stamp_key,
			                     job->st.broken == 0);
		}
		if (w->kube != NULL && !w->kube_published) {
			w->kube_published = true;
			if (w->opts.on_first != NULL) {
				w->opts.on_first(w->opts.ud);
			}
		}
		/* The build's scratch (parser arenas) was freed into the
		 * heap: hand it back to the kernel, or RSS keeps the peak of
		 * the largest reload. The replaced snapshot waits in the slot
		 * for watch_trim_cb. */
		malloc_trim(0);
	} else if (job->err == 0 && job->force) {
		log_info(
			"watch: reload unchanged files=%u failed=%u gen=%" PRIu64,
			job->st.files, job->st.failed,
			snapshot_slot_generation(w->slot));
	}
	if (job->force && w->opts.on_forced != NULL) {
		w->opts.on_forced(w->opts.ud, job->built);
	}
	watch_job_free(job);
	watch_start_pending(w, now);
}

/* Drops an early build: the directory changed after its scan started,
 * or a reload was asked for. No early build then until the next publish,
 * so that a burst of changes costs at most one build more. */
static void watch_drop_early(struct watch *w, struct watch_job *job)
{
	log_debug("watch: early build dropped: changed again");
	w->stats.early_dropped++;
	w->dropped = true;
	watch_job_free(job);
}

/* Drops the early build that waits for the settle time, if any. */
static void watch_drop_ready(struct watch *w)
{
	if (w->ready != NULL) {
		watch_drop_early(w, w->ready);
		w->ready = NULL;
	}
}

static void watch_job_done(uv_work_t *req, int status)
{
	struct watch_job *job = SVCDNS_CONTAINER_OF(req, struct watch_job, req);
	struct watch *w = job->w;
	uint64_t now = watch_now_ms();
	bool stale;
	bool wait;

	(void)status;
	w->job = NULL;
	if (w->stopping) {
		watch_job_free(job);
		return;
	}
	/* An early build is stale if a change came after its scan started
	 * or a reload was asked for meanwhile; it waits if the settle time
	 * is not over. Both known before watch_job_scanned, which notes a
	 * change itself when it finds a new directory. */
	stale = job->early && (job->seq != w->change_seq || w->pending);
	wait = job->early && uv_is_active((uv_handle_t *)&w->settle);
	watch_job_scanned(w, job, now);
	if (!stale && wait && job->seq != w->change_seq) {
		stale = true; /* a new directory: scanned again after settle */
	}
	if (stale) {
		watch_drop_early(w, job);
		watch_start_pending(w, now);
		return;
	}
	if (wait) {
		/* Published when the settle time is over (watch_settle_cb),
		 * if nothing changes until then. */
		if (job->built) {
			log_debug(
				"watch: early build ready; published when the settle time is over");
		}
		w->ready = job;
		return;
	}
	watch_job_take(w, job, now);
}

/* Starts the reload asked for while a job was in flight. */
static void watch_start_pending(struct watch *w, uint64_t now)
{
	if (w->pending) {
		bool force = w->pending_force;

		w->pending = false;
		w->pending_force = false;
		watch_start_job(w, force,
		                w->first_event_ms ? w->first_event_ms : now);
		w->first_event_ms = 0;
	}
}

/* Queues a new job on the pool (none may be in flight). Returns false
 * if it cannot be started. */
static bool watch_queue_job(struct watch *w, bool force, bool early,
                            uint64_t seen_ms)
{
	struct watch_job *job;
	int err;

	if (w->kube != NULL && !kube_synced(w->kube)) {
		return false; /* the first full sync starts the first build */
	}
	job = watch_job_new(w, force, seen_ms);
	if (job == NULL) {
		log_err("watch: out of memory; reload skipped");
		return false;
	}
	job->early = early;
	job->seq = w->change_seq;
	job->dirty = w->dropped;
	if (w->kube != NULL) {
		job->objs = kube_objects_take(w->kube);
		if (job->objs == NULL) {
			log_err("watch: out of memory; reload skipped");
			watch_job_free(job);
			return false;
		}
	}
	w->job = job;
	err = uv_queue_work(w->loop, &job->req, watch_job_work, watch_job_done);
	if (err != 0) {
		log_err("watch: cannot queue the reload: %s", uv_strerror(err));
		w->job = NULL;
		watch_job_free(job);
		return false;
	}
	return true;
}

static bool watch_start_job(struct watch *w, bool force, uint64_t seen_ms)
{
	if (w->stopping) {
		return false;
	}
	/* This reload supersedes an early build that waits. */
	watch_drop_ready(w);
	if (w->job != NULL) {
		/* Coalesce: one more reload after the one in flight. */
		w->pending = true;
		w->pending_force |= force;
		if (w->first_event_ms == 0) {
			w->first_event_ms = seen_ms;
		}
		return true;
	}
	return watch_queue_job(w, force, false, seen_ms);
}

/* The directory has been quiet for a fraction of the settle time: start
 * the build now, on the pool, so that it is done (or nearly) when the
 * settle time is over. It is published only then, and only if nothing
 * changed after its scan started (watch_job_done, watch_settle_cb): what
 * is served is the same as if the build had started after the settle
 * time, but the build's time overlaps the settle time instead of adding
 * to it. Not while a job runs or a file is being written. */
static void watch_early_cb(uv_timer_t *t)
{
	struct watch *w = t->data;

	if (w->stopping || w->job != NULL || w->ready != NULL ||
	    w->n_writers != 0 || w->dropped ||
	    !uv_is_active((uv_handle_t *)&w->settle)) {
		return;
	}
	(void)watch_queue_job(w, false, true,
	                      w->first_event_ms ? w->first_event_ms
	                                        : watch_now_ms());
}

static void watch_settle_cb(uv_timer_t *t)
{
	struct watch *w = t->data;
	uint64_t now = watch_now_ms();
	uint64_t seen = w->first_event_ms ? w->first_event_ms : now;

	/* A file still open for writing (modified, not closed) would be read
	 * half written: wait for its writer, within a bound (RELIABILITY L6:
	 * a truncated file can still be valid YAML). */
	if (w->n_writers != 0 && now - seen < WATCH_MAX_WRITE_HOLD_MS) {
		log_debug("watch: waiting for writers=%u file=%s", w->n_writers,
		          w->writers[0].name);
		uv_timer_start(&w->settle, watch_settle_cb,
		               w->opts.settle_ms ? w->opts.settle_ms : 10, 0);
		return;
	}
	if (w->n_writers != 0) {
		log_warn(
			"watch: %u files still open for writing after %u ms; reloading anyway (write files aside and rename them into place)",
			w->n_writers, WATCH_MAX_WRITE_HOLD_MS);
		w->n_writers = 0;
	}
	w->first_event_ms = 0;
	if (w->ready != NULL) {
		/* The early build saw the directory as it is now. */
		struct watch_job *job = w->ready;

		w->ready = NULL;
		watch_job_take(w, job, now);
		return;
	}
	if (w->job != NULL && w->job->early && w->job->seq == w->change_seq) {
		return; /* the early build in flight is published when done */
	}
	watch_start_job(w, false, seen);
}

/* A change was seen: (re)arm the settle timer. Debounce: the reload runs
 * settle_ms after the last change, but a steady stream of changes cannot
 * hold it back more than WATCH_MAX_SETTLE_FACTOR settle periods. An early
 * build waiting for the settle time is stale now; the next may start
 * after a quarter of the settle time without changes (watch_early_cb). */
static void watch_note_change(struct watch *w, uint64_t now)
{
	uint64_t max = (uint64_t)w->opts.settle_ms * WATCH_MAX_SETTLE_FACTOR;
	unsigned early = w->opts.settle_ms / WATCH_EARLY_DIVISOR;

	if (w->stopping) {
		return;
	}
	w->change_seq++;
	watch_drop_ready(w);
	if (w->first_event_ms == 0) {
		w->first_event_ms = now;
	} else if (now - w->first_event_ms >= max &&
	           uv_is_active((uv_handle_t *)&w->settle)) {
		return;
	}
	uv_timer_start(&w->settle, watch_settle_cb, w->opts.settle_ms, 0);
	if (early != 0 && !w->dropped) {
		uv_timer_start(&w->early, watch_early_cb, early, 0);
	}
}

static bool watch_alarm_due(struct watch *w, uint64_t now)
{
	if (w->last_alarm_ms != 0 &&
	    now - w->last_alarm_ms < WATCH_ALARM_EVERY_MS) {
		return false;
	}
	w->last_alarm_ms = now;
	return true;
}

/* Tracks files between IN_MODIFY and IN_CLOSE_WRITE. */
static void watch_track_writer(struct watch *w, int wd, const char *name,
                               bool writing)
{
	unsigned i;

	for (i = 0; i < w->n_writers; i++) {
		if (w->writers[i].wd == wd &&
		    strcmp(w->writers[i].name, name) == 0) {
			break;
		}
	}
	if (!writing) {
		if (i < w->n_writers) {
			w->writers[i] = w->writers[--w->n_writers];
		}
		return;
	}
	if (i == w->n_writers && w->n_writers < WATCH_MAX_WRITERS &&
	    strlen(name) < sizeof(w->writers[0].name)) {
		w->writers[i].wd = wd;
		strcpy(w->writers[i].name, name);
		w->n_writers++;
	}
}

static const char *watch_dir_of(const struct watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->n_dirs; i++) {
		if (w->dirs[i]->wd == wd) {
			return w->dirs[i]->path;
		}
	}
	return "?";
}

static void watch_inotify_cb(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	/* Aligned as inotify_event requires (inotify(7)). */
	char buf[16384]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	(void)events;
	if (status < 0) {
		log_warn("watch: inotify error: %s", uv_strerror(status));
		return;
	}
	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		ssize_t off = 0;

		if (n <= 0) {
			break; /* EAGAIN: drained */
		}
		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			const struct inotify_event *ev =
				(const struct inotify_event
			                 *)(const void *)(buf + off);
			const char *name = ev->len ? ev->name : "";

			off += (ssize_t)(sizeof(*ev) + ev->len);
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: a full scan finds what
				 * changed (stat identities). */
				log_warn(
					"watch: inotify queue overflow; rescanning dir=%s",
					w->dir);
				w->n_writers = 0;
				changed = true;
				continue;
			}
			if (ev->mask & IN_IGNORED) {
				continue;
			}
			log_debug("watch: event dir=%s name=%s mask=0x%x",
			          watch_dir_of(w, ev->wd), name,
			          (unsigned)ev->mask);
			if (ev->mask & IN_MODIFY) {
				watch_track_writer(w, ev->wd, name, true);
			}
			if (ev->mask &
			    (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) {
				watch_track_writer(w, ev->wd, name, false);
			}
			changed = true;
		}
	}
	if (changed) {
		watch_note_change(w, watch_now_ms());
	}
}

static void watch_rescan_cb(uv_timer_t *t)
{
	struct watch *w = t->data;

	/* Through the settle path, like an event: a rescan must not read a
	 * file in the middle of a burst of writes either. */
	watch_note_change(w, watch_now_ms());
}

/* The API objects changed: build after the settle time; the first full
 * sync at once. */
static void watch_kube_changed(void *ud)
{
	struct watch *w = ud;

	if (w->stopping || !kube_synced(w->kube)) {
		return;
	}
	if (!w->kube_published && w->job == NULL) {
		watch_start_job(w, false, watch_now_ms());
		return;
	}
	watch_note_change(w, watch_now_ms());
}

struct watch *watch_create(uv_loop_t *loop, const struct watch_opts *opts,
                           const struct snapshot_opts *sopts,
                           struct snapshot_slot *slot)
{
	struct watch *w = calloc(1, sizeof(*w));
	struct manifest_limits lim;

	if (w == NULL) {
		return NULL;
	}
	w->loop = loop;
	w->ifd = -1;
	w->opts = *opts;
	w->sopts = *sopts;
	w->sopts.recycle = slot;
	w->slot = slot;
	w->dir = strdup(opts->dir != NULL ? opts->dir : ".");
	manifest_limits_default(&lim);
	if (opts->kube != NULL) {
		/* The directory only anchors relative color-file paths. */
		w->kube = kube_create(loop, opts->kube, watch_kube_changed, w);
		w->opts.rescan_ms = 0; /* watch, never poll */
	} else {
		w->set = w->dir ? manifest_set_create(w->dir, &lim) : NULL;
	}
	w->bg = bluegreen_state_create();
	if (w->dir == NULL || (w->set == NULL && w->kube == NULL) ||
	    w->bg == NULL) {
		watch_destroy(w);
		return NULL;
	}
	w->opts.kube = NULL;
	w->opts.dir = w->dir;
	uv_timer_init(loop, &w->settle);
	uv_timer_init(loop, &w->early);
	uv_timer_init(loop, &w->rescan);
	uv_timer_init(loop, &w->trim);
	w->settle.data = w;
	w->early.data = w;
	w->rescan.data = w;
	w->trim.data = w;
	return w;
}

int watch_load_now(struct watch *w, struct snapshot **out, unsigned *errors,
                   unsigned *warnings)
{
	struct watch_job *job = watch_job_new(w, true, watch_now_ms());
	int err;

	*out = NULL;
	*errors = 0;
	*warnings = 0;
	if (job == NULL) {
		return -ENOMEM;
	}
	watch_run_job(w, job);
	if (w->opts.print) {
		diag_print(&job->diag, stderr);
	} else {
		diag_log(&job->diag);
	}
	*errors = job->diag.errors;
	*warnings = job->diag.warnings;
	err = job->err;
	w->stats.scans++;
	w->stats.files = job->files;
	w->stats.failed_files = job->st.broken;
	w->stats.objects = job->objects;
	memcpy(w->stats.kinds, job->kinds, sizeof(w->stats.kinds));
	if (err == 0 && job->built) {
		*out = job->snap;
		job->snap = NULL;
		w->serial = job->serial;
		bluegreen_state_destroy(w->bg);
		w->bg = job->bg_next;
		job->bg_next = NULL;
		watch_colors_fini(&w->colors);
		w->colors = job->colors;
		memset(&job->colors, 0, sizeof(job->colors));
		w->good_files = job->files;
		/* The directories to watch, for watch_start. */
		watch_free_dirs(w->initial_dirs, w->n_initial_dirs);
		w->initial_dirs = job->dirs;
		w->n_initial_dirs = job->n_dirs;
		job->dirs = NULL;
		job->n_dirs = 0;
	} else if (err == 0) {
		err = -ENOMEM;
	}
	watch_job_free(job);
	return err;
}

/* inotify on the directories found so far (initial_dirs). */
static int watch_start_inotify(struct watch *w)
{
	int err;

	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0) {
		err = -errno;
		log_err("watch: inotify: %s; the directory is only rescanned every %u ms",
		        strerror(-err), w->opts.rescan_ms);
	} else {
		err = uv_poll_init(w->loop, &w->ipoll, w->ifd);
		if (err == 0) {
			w->ipoll.data = w;
			err = uv_poll_start(&w->ipoll, UV_READABLE,
			                    watch_inotify_cb);
		}
		if (err != 0) {
			close(w->ifd);
			w->ifd = -1;
			return err;
		}
		watch_sync_dirs(w, w->initial_dirs, w->n_initial_dirs);
	}
	watch_free_dirs(w->initial_dirs, w->n_initial_dirs);
	w->initial_dirs = NULL;
	w->n_initial_dirs = 0;
	return 0;
}

int watch_start(struct watch *w, struct snapshot *s)
{
	int err;

	watch_publish(w, s);
	w->stats.reloads++;
	w->stats.last_reload_unix = (uint64_t)time(NULL);
	err = watch_start_inotify(w);
	if (err != 0) {
		return err;
	}
	if (w->opts.rescan_ms != 0) {
		err = uv_timer_start(&w->rescan, watch_rescan_cb,
		                     w->opts.rescan_ms, w->opts.rescan_ms);
	}
	w->started = true;
	return err;
}

int watch_start_kube(struct watch *w)
{
	int err = watch_start_inotify(w);

	if (err == 0) {
		err = kube_start(w->kube);
	}
	w->started = err == 0;
	return err;
}

const struct kube *watch_kube(const struct watch *w)
{
	return w->kube;
}

bool watch_trigger(struct watch *w, bool force)
{
	uint64_t seen = w->first_event_ms ? w->first_event_ms : watch_now_ms();

	if (force) {
		/* SIGHUP: now, not after the settle time. */
		uv_timer_stop(&w->settle);
		w->first_event_ms = 0;
	}
	return watch_start_job(w, force, seen);
}

static void watch_timer_closed(uv_handle_t *h)
{
	struct watch *w = h->data;

	w->closing--;
}

static void watch_poll_closed(uv_handle_t *h)
{
	struct watch *w = h->data;

	close(w->ifd);
	w->ifd = -1;
	w->closing--;
}

void watch_stop(struct watch *w)
{
	if (w->stopping) {
		return;
	}
	w->stopping = true;
	if (w->kube != NULL) {
		kube_stop(w->kube);
	}
	watch_sync_dirs(w, NULL, 0);
	if (w->ready != NULL) {
		watch_job_free(w->ready);
		w->ready = NULL;
	}
	w->closing += 4;
	uv_close((uv_handle_t *)&w->settle, watch_timer_closed);
	uv_close((uv_handle_t *)&w->early, watch_timer_closed);
	uv_close((uv_handle_t *)&w->rescan, watch_timer_closed);
	uv_close((uv_handle_t *)&w->trim, watch_timer_closed);
	if (w->ifd >= 0) {
		w->closing++;
		uv_close((uv_handle_t *)&w->ipoll, watch_poll_closed);
	}
}

void watch_destroy(struct watch *w)
{
	size_t i;

	if (w == NULL) {
		return;
	}
	for (i = 0; i < w->n_dirs; i++) {
		free(w->dirs[i]->path);
		free(w->dirs[i]);
	}
	manifest_set_destroy(w->set);
	kube_destroy(w->kube);
	bluegreen_state_destroy(w->bg);
	watch_colors_fini(&w->colors);
	watch_free_dirs(w->initial_dirs, w->n_initial_dirs);
	for (i = 0; i < w->n_cutovers; i++) {
		free(w->cutovers[i].ns);
		free(w->cutovers[i].name);
	}
	free(w->cutovers);
	free(w->dirs);
	free(w->dir);
	free(w);
}

void watch_get_stats(const struct watch *w, struct watch_stats *st)
{
	*st = w->stats;
}
