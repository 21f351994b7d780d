/* Blue/green services: which color a service serves now, and the
 * readiness guard that keeps a cutover from ever answering empty.
 *
 * A Service is blue/green when annotated svcdns.io/color-label: <key>. Its
 * desired color is selector[<key>] (the Kubernetes way) or, with
 * svcdns.io/color-file: <path> (and svcdns.io/color-key, default <key>), the
 * value of that key in a watched YAML file (the playbook's way). A cutover
 * to a color with fewer than svcdns.io/min-ready (default 1) ready
 * endpoints is held: the previous color keeps being served. Pure logic; the
 * state between two snapshots is kept by the caller. */
#ifndef SVCDNS_BLUEGREEN_H
#define SVCDNS_BLUEGREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "svcdns/common.h"
#include "svcdns/diag.h"
#include "svcdns/k8s.h"

#define BLUEGREEN_ANNOT_LABEL     "svcdns.io/color-label"
#define BLUEGREEN_ANNOT_FILE      "svcdns.io/color-file"
#define BLUEGREEN_ANNOT_KEY       "svcdns.io/color-key"
#define BLUEGREEN_ANNOT_MIN_READY "svcdns.io/min-ready"
#define BLUEGREEN_MAX_COLORS      8 /* distinct colors tracked per service */

struct bluegreen_config {
	const char *label;    /* borrowed (the service): selector key */
	const char *file;     /* borrowed: color file as written, or NULL */
	const char *file_key; /* borrowed: key in the color file */
	unsigned min_ready;
};

/* True when s is a blue/green service; fills *cfg. A bad min-ready value
 * is reported to d (when not NULL) as a warning and the default used. */
bool bluegreen_config_of(const struct k8s_service *s,
                         struct bluegreen_config *cfg, struct diag *d);

/* The contents of the color files, loaded by the caller: for each path (as
 * resolved by the caller) its top-level key: value pairs. */
struct bluegreen_color_file {
	const char *path;         /* borrowed */
	struct k8s_labels values; /* borrowed */
};

struct bluegreen_colors {
	const struct bluegreen_color_file *files; /* borrowed */
	size_t n;
};

/* The value of key in the color file path, or NULL. colors may be NULL. */
const char *bluegreen_colors_get(const struct bluegreen_colors *colors,
                                 const char *path, const char *key);

/* What every blue/green service served in one snapshot. Owned by one
 * thread at a time. */
struct bluegreen_state;

struct bluegreen_state *bluegreen_state_create(void);
void bluegreen_state_destroy(struct bluegreen_state *st);
/* The color served for ns/name, or NULL. */
const char *bluegreen_state_get(const struct bluegreen_state *st,
                                const char *ns, const char *name);
/* Records the color served for ns/name (copied). 0 or -ENOMEM. */
SVCDNS_MUSTCHECK int bluegreen_state_set(struct bluegreen_state *st,
                                         const char *ns, const char *name,
                                         const char *color);
size_t bluegreen_state_count(const struct bluegreen_state *st);

struct bluegreen_decision {
	const char *desired;  /* what the data asks for; NULL if unknown */
	const char *served;   /* what to serve now; NULL if nothing known */
	const char *previous; /* served by the previous snapshot, or NULL */
	unsigned ready_desired;
	unsigned ready_served;
	bool held;    /* desired != served because of the readiness guard */
	bool cutover; /* served != previous (and previous known) */
};

/* Decides what to serve. ready_desired and ready_previous are the ready
 * endpoint counts of the desired and of the previous color. Rules: no
 * previous -> desired; desired == previous -> it; desired has at least
 * min_ready ready endpoints -> desired (a cutover); else, if the previous
 * color still has ready endpoints -> previous (held); else desired (there
 * is nothing to protect). An unknown desired color keeps the previous. */
void bluegreen_decide(const struct bluegreen_config *cfg, const char *desired,
                      unsigned ready_desired, const char *previous,
                      unsigned ready_previous, struct bluegreen_decision *out);

#endif
