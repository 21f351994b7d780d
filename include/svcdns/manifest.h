/* Kubernetes manifests (YAML or JSON, read with libyaml) into k8s objects,
 * and the directory of them with the last good objects of every file.
 * Accepts single objects, multi-document files and kind: List (or any
 * *List) with items. Errors go to a diag as "file:line:col: error: ...";
 * a file with any error is rejected whole. */
#ifndef SVCDNS_MANIFEST_H
#define SVCDNS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "svcdns/common.h"
#include "svcdns/diag.h"
#include "svcdns/k8s.h"

struct arena;

/* Bounds that keep a hostile file from taking the process down. */
struct manifest_limits {
	size_t max_file_size; /* octets; larger files are errors (16 MiB) */
	size_t max_nodes;     /* YAML nodes visited per file, aliases counted
	                         each time they are followed (1,000,000) */
	unsigned max_depth;   /* nesting depth of collections (64) */
	size_t max_objects;   /* objects per file (200,000) */
};

void manifest_limits_default(struct manifest_limits *lim);

/* Parses buf (len octets, need not be NUL-terminated) as manifests named
 * display_path in diagnostics. On success returns 0 and *out owns the
 * objects (warnings, such as unknown kinds, may be in d). On any error
 * returns -EINVAL, *out is NULL, and d holds the errors. -ENOMEM on OOM.
 * lim NULL means manifest_limits_default(). Any thread; no shared state. */
SVCDNS_MUSTCHECK int manifest_load_buffer(const char *display_path,
                                          const char *buf, size_t len,
                                          const struct manifest_limits *lim,
                                          struct k8s_file **out,
                                          struct diag *d);

/* Reads path and parses it as manifest_load_buffer does. I/O errors are
 * returned as -errno with a diagnostic. */
SVCDNS_MUSTCHECK int manifest_load_file(const char *path,
                                        const char *display_path,
                                        const struct manifest_limits *lim,
                                        struct k8s_file **out, struct diag *d);

/* Reads path as a single YAML (or JSON) mapping of keys to scalar values,
 * such as a blue/green color file ("color: green"), into *out, whose
 * strings are allocated in arena a. Values keep their text (true, 3); null
 * is "". An empty file is an empty map. Anything else (a sequence, nested
 * values, a second document) is an error. Default limits apply. Returns 0,
 * -errno for I/O errors, -EINVAL for bad content or -ENOMEM, always with a
 * diagnostic in d under display_path (path when NULL); on error *out is
 * empty. Any thread. (Added for watch.c, which loads color files.) */
SVCDNS_MUSTCHECK int
manifest_load_values(const char *path, const char *display_path,
                     struct arena *a, struct k8s_labels *out, struct diag *d);

/* True for the names the directory scan loads: *.yaml, *.yml, *.json, not
 * starting with '.'. */
bool manifest_is_manifest_name(const char *name);

/* A manifest directory: for each file, the objects of its last good load.
 * Owned by one thread at a time. */
struct manifest_set;

struct manifest_scan_stats {
	unsigned files;   /* manifest files seen */
	unsigned loaded;  /* (re)parsed successfully this scan */
	unsigned failed;  /* failed this scan (last good kept) */
	unsigned broken;  /* after this scan: files whose last load failed */
	unsigned removed; /* gone since the last scan (objects dropped) */
	bool changed;     /* the set of good objects changed */
};

/* Creates an empty set for dir (copied). NULL on OOM. */
struct manifest_set *manifest_set_create(const char *dir,
                                         const struct manifest_limits *lim);
void manifest_set_destroy(struct manifest_set *s);

/* Walks the directory recursively (skipping dot-files and dot-directories,
 * such as Kubernetes' ..data, non-regular files and anything deeper than 16
 * levels) and reloads every file whose identity, size or mtime changed.
 * A file that fails keeps its last good objects; a file that is gone loses
 * its objects. Errors go to d. If the directory cannot be read, returns
 * -errno and keeps everything. force reloads every file. */
SVCDNS_MUSTCHECK int manifest_set_scan(struct manifest_set *s, bool force,
                                       struct diag *d,
                                       struct manifest_scan_stats *st);

/* The current good files, sorted by path; valid until the next scan. */
size_t manifest_set_files(const struct manifest_set *s,
                          const struct k8s_file *const **files);

/* The directories the last successful scan read: the root and every
 * subdirectory walked, sorted (not Kubernetes' ..data directories: a
 * ConfigMap update shows as a rename in the directory above them). For
 * fs-event watches, which are not recursive. Valid until the next scan.
 * (Added for watch.c.) */
size_t manifest_set_dirs(const struct manifest_set *s,
                         const char *const **dirs);

/* --- Kubernetes API responses (added for kube.c) ------------------------
 * The API server's JSON read with the same walkers as manifests, so an
 * object from the API and the same object in a file decode alike. */

/* One LIST response page: {"kind":"PodList","apiVersion":"v1",
 * "metadata":{"resourceVersion":"..","continue":".."},"items":[...]}. */
struct manifest_api_list {
	/* owns: the items that decoded cleanly, NULL on error. An item that
	 * fails svcdns' checks is skipped (its errors are in the diag, and
	 * skipped counts it) instead of rejecting the page: one odd object
	 * in the cluster must not hide all the others. */
	struct k8s_file *file;
	size_t skipped;
	char resource_version[128]; /* metadata.resourceVersion */
	char *cont; /* owns (malloc): metadata.continue, NULL when absent */
};

/* Decodes a LIST page named display_path in diagnostics. Returns 0 (out
 * filled, warnings and skipped items' errors in d), -EINVAL when the body
 * is not a list (bad JSON, not a *List, no resourceVersion, limits) with
 * the reason in d, or -ENOMEM. lim NULL: manifest_limits_default(). On
 * error out holds nothing to free. Any thread. */
SVCDNS_MUSTCHECK int manifest_api_decode_list(const char *display_path,
                                              const char *buf, size_t len,
                                              const struct manifest_limits *lim,
                                              struct manifest_api_list *out,
                                              struct diag *d);

/* Frees what manifest_api_decode_list() filled in; safe to call twice. */
void manifest_api_list_fini(struct manifest_api_list *l);

enum manifest_api_event_type {
	MANIFEST_API_ADDED,
	MANIFEST_API_MODIFIED,
	MANIFEST_API_DELETED,
	MANIFEST_API_BOOKMARK,
	MANIFEST_API_ERROR,
};

/* One watch event line: {"type":"ADDED","object":{...}}. */
struct manifest_api_event {
	enum manifest_api_event_type type;
	/* owns: ADDED, MODIFIED, DELETED: the object when it decoded
	 * cleanly (one object in one of the arrays), else NULL with the
	 * errors in the diag: the caller then drops the key (the object as
	 * the API has it now cannot be served). NULL for BOOKMARK, ERROR. */
	struct k8s_file *file;
	char kind[64];              /* object.kind ("" for ERROR) */
	char ns[64];                /* object.metadata.namespace ("" if none) */
	char name[254];             /* object.metadata.name */
	char resource_version[128]; /* object.metadata.resourceVersion */
	long code;                  /* ERROR: object.code (410: Gone), else 0 */
	char message[256];          /* ERROR: object.message, cut */
};

/* Decodes one watch event line. Returns 0 when it is an event (even if its
 * object was refused: file NULL), -EINVAL when it is not (bad JSON, an
 * unknown type, an object without kind or metadata.name, a field too long
 * for ev), with the reason in d, or -ENOMEM. Any thread. */
SVCDNS_MUSTCHECK int
manifest_api_decode_event(const char *display_path, const char *buf, size_t len,
                          const struct manifest_limits *lim,
                          struct manifest_api_event *ev, struct diag *d);

/* Frees ev->file; safe to call twice. */
void manifest_api_event_fini(struct manifest_api_event *ev);

#endif
