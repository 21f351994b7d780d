#include "svcdns/bluegreen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bluegreen_config_of(const struct k8s_service *s,
                         struct bluegreen_config *cfg, struct diag *d)
{
	const struct k8s_labels *an = &s->meta.annotations;
	const char *min;

	memset(cfg, 0, sizeof(*cfg));
	cfg->label = k8s_labels_get(an, BLUEGREEN_ANNOT_LABEL);
	if (cfg->label == NULL || cfg->label[0] == '\0') {
		return false;
	}
	cfg->file = k8s_labels_get(an, BLUEGREEN_ANNOT_FILE);
	if (cfg->file != NULL && cfg->file[0] == '\0') {
		cfg->file = NULL;
	}
	cfg->file_key = k8s_labels_get(an, BLUEGREEN_ANNOT_KEY);
	if (cfg->file_key == NULL || cfg->file_key[0] == '\0') {
		cfg->file_key = cfg->label;
	}
	cfg->min_ready = 1;
	min = k8s_labels_get(an, BLUEGREEN_ANNOT_MIN_READY);
	if (min != NULL) {
		char *end = NULL;
		unsigned long v;

		errno = 0;
		v = strtoul(min, &end, 10);
		if (errno != 0 || end == min || *end != '\0' || v > 100000 ||
		    min[0] == '-') {
			if (d == NULL) {
				return true;
			}
			diag_add(
				d, DIAG_WARNING, s->meta.origin.file,
				s->meta.origin.line, s->meta.origin.col,
				"metadata.annotations[%s]: \"%s\" is not a count; using 1",
				BLUEGREEN_ANNOT_MIN_READY, min);
		} else {
			cfg->min_ready = (unsigned)v;
		}
	}
	return true;
}

const char *bluegreen_colors_get(const struct bluegreen_colors *colors,
                                 const char *path, const char *key)
{
	size_t i;

	if (colors == NULL || path == NULL) {
		return NULL;
	}
	for (i = 0; i < colors->n; i++) {
		if (strcmp(colors->files[i].path, path) == 0) {
			return k8s_labels_get(&colors->files[i].values, key);
		}
	}
	return NULL;
}

/* A small open-addressing map "ns/name" -> color; blue/green services are
 * few (tens), so it only grows. */
struct bluegreen_entry {
	char *key;   /* owns: "ns/name" */
	char *color; /* owns */
};

struct bluegreen_state {
	struct bluegreen_entry *v;
	size_t cap; /* power of two */
	size_t n;
};

struct bluegreen_state *bluegreen_state_create(void)
{
	struct bluegreen_state *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		return NULL;
	}
	st->cap = 16;
	st->v = calloc(st->cap, sizeof(*st->v));
	if (st->v == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void bluegreen_state_destroy(struct bluegreen_state *st)
{
	size_t i;

	if (st == NULL) {
		return;
	}
	for (i = 0; i < st->cap; i++) {
		free(st->v[i].key);
		free(st->v[i].color);
	}
	free(st->v);
	free(st);
}

static size_t bg_hash(const char *ns, const char *name)
{
	size_t h = 2166136261u;
	const char *p;

	for (p = ns; *p; p++) {
		h = (h ^ (unsigned char)*p) * 16777619u;
	}
	h = (h ^ '/') * 16777619u;
	for (p = name; *p; p++) {
		h = (h ^ (unsigned char)*p) * 16777619u;
	}
	return h;
}

static bool bg_key_is(const char *key, const char *ns, const char *name)
{
	size_t l = strlen(ns);

	return strncmp(key, ns, l) == 0 && key[l] == '/' &&
	       strcmp(key + l + 1, name) == 0;
}

static struct bluegreen_entry *bg_slot(const struct bluegreen_state *st,
                                       const char *ns, const char *name)
{
	size_t j = bg_hash(ns, name) & (st->cap - 1);

	while (st->v[j].key != NULL && !bg_key_is(st->v[j].key, ns, name)) {
		j = (j + 1) & (st->cap - 1);
	}
	return &st->v[j];
}

const char *bluegreen_state_get(const struct bluegreen_state *st,
                                const char *ns, const char *name)
{
	if (st == NULL) {
		return NULL;
	}
	return bg_slot(st, ns, name)->color;
}

static int bg_grow(struct bluegreen_state *st)
{
	struct bluegreen_state bigger = { 0 };
	size_t i;

	bigger.cap = st->cap * 2;
	bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
	if (bigger.v == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < st->cap; i++) {
		if (st->v[i].key != NULL) {
			size_t j = 2166136261u;
			const char *p;

			/* Same hash as bg_hash over "ns/name". */
			for (p = st->v[i].key; *p; p++) {
				j = (j ^ (unsigned char)*p) * 16777619u;
			}
			j &= bigger.cap - 1;
			while (bigger.v[j].key != NULL) {
				j = (j + 1) & (bigger.cap - 1);
			}
			bigger.v[j] = st->v[i];
		}
	}
	free(st->v);
	st->v = bigger.v;
	st->cap = bigger.cap;
	return 0;
}

int bluegreen_state_set(struct bluegreen_state *st, const char *ns,
                        const char *name, const char *color)
{
	struct bluegreen_entry *e;
	char *c;

	if ((st->n + 1) * 2 > st->cap && bg_grow(st) != 0) {
		return -ENOMEM;
	}
	e = bg_slot(st, ns, name);
	c = strdup(color);
	if (c == NULL) {
		return -ENOMEM;
	}
	if (e->key == NULL) {
		size_t len = strlen(ns) + strlen(name) + 2;

		e->key = malloc(len);
		if (e->key == NULL) {
			free(c);
			return -ENOMEM;
		}
		snprintf(e->key, len, "%s/%s", ns, name);
		st->n++;
	}
	free(e->color);
	e->color = c;
	return 0;
}

size_t bluegreen_state_count(const struct bluegreen_state *st)
{
	return st ? st->n : 0;
}

void bluegreen_decide(const struct bluegreen_config *cfg, const char *desired,
                      unsigned ready_desired, const char *previous,
                      unsigned ready_previous, struct bluegreen_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->desired = desired;
	out->previous = previous;
	if (desired == NULL) {
		out->served = previous;
		out->ready_served = ready_previous;
		return;
	}
	if (previous == NULL || strcmp(desired, previous) == 0 ||
	    ready_desired >= cfg->min_ready || ready_previous == 0) {
		out->served = desired;
		out->ready_served = ready_desired;
		out->ready_desired = ready_desired;
		out->cutover =
			previous != NULL && strcmp(desired, previous) != 0;
		return;
	}
	/* The guard: the new color is not ready enough and the old one still
	 * answers. Keep the old until the new catches up. */
	out->served = previous;
	out->ready_served = ready_previous;
	out->ready_desired = ready_desired;
	out->held = true;
}
