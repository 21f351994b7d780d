#include "svcdns/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yaml.h>

#include "svcdns/arena.h"
#include "svcdns/log.h"

/* How this file reads YAML
 * ------------------------
 * libyaml's event parser feeds a small tree builder of our own (struct
 * ynode) instead of yaml_parser_load(). Building it ourselves lets us stop
 * at the first sign of a hostile file, before memory or time is spent:
 *
 *  - depth: a collection deeper than lim->max_depth ends the parse at once
 *    (libyaml itself does not limit nesting, and 100,000 open '[' cost it
 *    seconds of scanning), and so does an alias whose target would reach
 *    past that depth where the alias sits;
 *  - size: every node counts 1 and every alias counts the full size of
 *    the node it names ("expanded" below), so a billion-laughs file is
 *    refused while it is read, after at most lim->max_nodes units, without
 *    ever being expanded. The walk that turns the tree into objects looks
 *    at each node at most once per expanded occurrence (each mapping's keys
 *    are scanned once, in map_fields()), so this bound is also the bound on
 *    the walk;
 *  - aliases share the node they name, and an alias to a collection that
 *    is still open (a recursive structure) is an error.
 *
 * The walk is schema-directed: only the fields svcdns uses are read, so a
 * status block or managedFields costs a scan of its keys and nothing more.
 * Errors are collected with the field path ("spec.ports[1].port") and the
 * node's position; a file with any error is rejected whole. */

#define MANIFEST_MAX_SCAN_DEPTH 16
#define MANIFEST_PATH_CAP       256
#define MANIFEST_QUOTE_CAP      96

enum ytype {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
	YNODE_ALIAS,
};

/* 48 octets: a 150,000-pod manifest set is some 13 million nodes, and the
 * walk reads them back, so the tree is kept small. What only an open
 * collection needs (its parent, its last child) lives on ytree's stack. */
struct ynode {
	struct ynode *next; /* next sibling */
	union {
		struct ynode *first;        /* collection: children; a map
		                             * alternates key, value */
		const char *text;           /* scalar: NUL-terminated copy */
		const struct ynode *target; /* alias: the anchored node */
	};
	union {
		size_t len; /* scalar: length, NULs included */
		size_t n;   /* collection: number of children */
	};
	size_t expanded; /* nodes with aliases expanded (saturated) */
	unsigned line;   /* 1-based */
	unsigned col;
	unsigned height; /* collection levels, this one included */
	uint8_t type;    /* enum ytype */
	bool plain;      /* scalar: may be null, a boolean or an integer */
	bool complete;   /* collection: end event seen */
};

/* An open collection: the node and its last child so far. */
struct yopen {
	struct ynode *node;
	struct ynode *last;
};

struct yanchor {
	struct yanchor *next;
	const char *name;
	struct ynode *node;
};

/* One document's tree; everything in it lives in arena a. */
struct ytree {
	struct arena *a;
	struct ynode *root;
	struct yopen *open; /* owns (malloc): the open collections,
	                     * outermost first */
	unsigned depth;     /* open collections */
	unsigned open_cap;
	struct yanchor **buckets; /* owns (malloc); chained hash of anchors */
	size_t n_buckets;
	size_t n_anchors;
};

/* A growable array of objects of one kind, copied into the file arena at
 * the end of a successful load. */
struct mvec {
	void *items; /* owns (malloc) */
	size_t n;
	size_t cap;
};

/* Short strings repeat from object to object (namespaces, label keys and
 * values, port names): each distinct one is copied into the file's arena
 * once, and equal label sets share one array. At 150,000 pods that is
 * about a fifth of the objects' memory. */
#define MINTERN_MAX_LEN 64

struct mintern {
	uint32_t hash;
	uint32_t n;    /* label sets: items */
	const void *p; /* NULL: empty slot */
};

struct mintab {
	struct mintern *slots; /* owns (malloc) */
	size_t mask;
	size_t n;
};

/* The state of one manifest_load_buffer() call. */
struct mload {
	const char *file; /* display path */
	const char *buf;
	size_t len;
	const struct manifest_limits *lim;
	struct diag *d;
	struct k8s_file *f;
	unsigned errors;
	int fatal;       /* latched: parsing stops (-EINVAL or -ENOMEM) */
	size_t expanded; /* nodes read, aliases expanded */
	size_t objects;
	struct mvec namespaces;
	struct mvec services;
	struct mvec slices;
	struct mvec pods;
	struct k8s_labels *values; /* manifest_load_values(): the map read */
	bool values_seen;
	char item_kind[64]; /* kind of a typed list's items ("Service") */
	char path[MANIFEST_PATH_CAP];
	size_t plen;
	struct mintab strs;     /* interned strings */
	struct mintab lsets;    /* interned label sets */
	struct k8s_label *lbuf; /* owns (malloc): a label set being read */
	size_t lbuf_cap;
};

void manifest_limits_default(struct manifest_limits *lim)
{
	lim->max_file_size = 16u * 1024 * 1024;
	lim->max_nodes = 1000000;
	lim->max_depth = 64;
	lim->max_objects = 200000;
}

bool manifest_is_manifest_name(const char *name)
{
	static const char *const exts[] = { ".yaml", ".yml", ".json" };
	size_t len = strlen(name);
	size_t i;

	if (name[0] == '.') {
		return false;
	}
	for (i = 0; i < SVCDNS_ARRAY_SIZE(exts); i++) {
		size_t el = strlen(exts[i]);

		if (len > el && strcmp(name + len - el, exts[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* --- diagnostics -------------------------------------------------------- */

/* Writes s as a quoted, escaped string, cut after about 64 characters, so
 * that hostile text cannot forge diagnostic lines or flood the log. */
static const char *mquote(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	size_t i;

	out[o++] = '"';
	for (i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static void mload_vdiag(struct mload *m, enum diag_severity sev, unsigned line,
                        unsigned col, const char *fmt, va_list ap)
	SVCDNS_PRINTF(5, 0);

static void mload_vdiag(struct mload *m, enum diag_severity sev, unsigned line,
                        unsigned col, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sev == DIAG_ERROR) {
		m->errors++;
	}
	diag_add(m->d, sev, m->file, line, col, "%s", msg);
}

/* An error that ends the load (syntax, limits, memory). Only the first is
 * reported; later ones are consequences. */
static void mload_fatal(struct mload *m, int err, unsigned line, unsigned col,
                        const char *fmt, ...) SVCDNS_PRINTF(5, 6);

static void mload_fatal(struct mload *m, int err, unsigned line, unsigned col,
                        const char *fmt, ...)
{
	va_list ap;

	if (m->fatal != 0) {
		return;
	}
	m->fatal = err;
	va_start(ap, fmt);
	mload_vdiag(m, DIAG_ERROR, line, col, fmt, ap);
	va_end(ap);
}

/* An error at a node, without a field path (duplicate keys and such). */
static void mload_error_at(struct mload *m, const struct ynode *at,
                           const char *fmt, ...) SVCDNS_PRINTF(3, 4);

static void mload_error_at(struct mload *m, const struct ynode *at,
                           const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mload_vdiag(m, DIAG_ERROR, at->line, at->col, fmt, ap);
	va_end(ap);
}

static void mload_nomem(struct mload *m)
{
	mload_fatal(m, -ENOMEM, 0, 0, "out of memory");
}

/* --- the YAML tree ------------------------------------------------------ */

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t anchor_hash(const char *s)
{
	size_t h = 2166136261u;

	while (*s != '\0') {
		h = (h ^ (unsigned char)*s++) * 16777619u;
	}
	return h;
}

static struct yanchor *anchor_find(const struct ytree *t, const char *name)
{
	struct yanchor *e;

	if (t->n_buckets == 0) {
		return NULL;
	}
	e = t->buckets[anchor_hash(name) & (t->n_buckets - 1)];
	while (e != NULL && strcmp(e->name, name) != 0) {
		e = e->next;
	}
	return e;
}

/* Doubles the bucket array when the chains get longer than one on average,
 * so that a file of many anchors and aliases stays linear. */
static int anchor_grow(struct ytree *t)
{
	size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
	struct yanchor **b = calloc(n, sizeof(*b));
	size_t i;

	if (b == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < t->n_buckets; i++) {
		struct yanchor *e = t->buckets[i];

		while (e != NULL) {
			struct yanchor *next = e->next;
			size_t h = anchor_hash(e->name) & (n - 1);

			e->next = b[h];
			b[h] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
	return 0;
}

/* Binds name to node; a later anchor of the same name replaces the
 * earlier one for the aliases that follow it (YAML 1.1 section 3.2.2.2). */
static int anchor_put(struct ytree *t, const char *name, struct ynode *node)
{
	struct yanchor *e = anchor_find(t, name);
	size_t h;

	if (e != NULL) {
		e->node = node;
		return 0;
	}
	if (t->n_anchors >= t->n_buckets && anchor_grow(t) != 0) {
		return -ENOMEM;
	}
	e = arena_alloc(t->a, sizeof(*e));
	if (e == NULL) {
		return -ENOMEM;
	}
	e->name = arena_strdup(t->a, name);
	if (e->name == NULL) {
		return -ENOMEM;
	}
	e->node = node;
	h = anchor_hash(name) & (t->n_buckets - 1);
	e->next = t->buckets[h];
	t->buckets[h] = e;
	t->n_anchors++;
	return 0;
}

static void ytree_fini(struct ytree *t)
{
	free(t->open);
	free(t->buckets);
	arena_destroy(t->a);
	memset(t, 0, sizeof(*t));
}

/* Counts weight expanded nodes against the file's budget. */
static bool ytree_charge(struct mload *m, size_t weight, unsigned line,
                         unsigned col)
{
	m->expanded = sat_add(m->expanded, weight);
	if (m->expanded > m->lim->max_nodes) {
		mload_fatal(
			m, -EINVAL, line, col,
			"more than %zu YAML nodes (an alias counts as all the nodes it repeats)",
			m->lim->max_nodes);
		return false;
	}
	return true;
}

/* Adds a node at the current position: as the root, or as the next child
 * of the innermost open collection. */
static struct ynode *ytree_add(struct mload *m, struct ytree *t,
                               enum ytype type, const yaml_event_t *ev)
{
	struct ynode *n = arena_alloc(t->a, sizeof(*n));

	if (n == NULL) {
		mload_nomem(m);
		return NULL;
	}
	*n = (struct ynode){
		.type = (uint8_t)type,
		.line = (unsigned)ev->start_mark.line + 1,
		.col = (unsigned)ev->start_mark.column + 1,
		.expanded = 1,
	};
	if (t->depth == 0) {
		t->root = n;
	} else {
		struct yopen *o = &t->open[t->depth - 1];

		if (o->last != NULL) {
			o->last->next = n;
		} else {
			o->node->first = n;
		}
		o->last = n;
		o->node->n++;
	}
	return n;
}

/* A finished child (scalar, alias or closed collection) adds its size and
 * height to the collection that holds it. */
static void ytree_count(struct ytree *t, const struct ynode *c)
{
	struct ynode *p;

	if (t->depth == 0) {
		return;
	}
	p = t->open[t->depth - 1].node;
	p->expanded = sat_add(p->expanded, c->expanded);
	if (c->height + 1 > p->height) {
		p->height = c->height + 1;
	}
}

static bool ytree_anchor(struct mload *m, struct ytree *t, struct ynode *n,
                         const yaml_char_t *anchor)
{
	if (anchor != NULL && anchor_put(t, (const char *)anchor, n) != 0) {
		mload_nomem(m);
		return false;
	}
	return true;
}

static const char *const ytag_str = "tag:yaml.org,2002:str";

/* Plain scalars may resolve to null, booleans and integers; quoted ones
 * (and "!!str") are strings, so "80" is not the number 80. An explicit
 * "!!int", "!!bool" or "!!null" tag makes even a quoted scalar resolvable. */
static bool ytree_scalar_plain(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag != NULL) {
		if (strcmp(tag, ytag_str) == 0) {
			return false;
		}
		if (strcmp(tag, "tag:yaml.org,2002:int") == 0 ||
		    strcmp(tag, "tag:yaml.org,2002:bool") == 0 ||
		    strcmp(tag, "tag:yaml.org,2002:null") == 0) {
			return true;
		}
	}
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static void ytree_scalar(struct mload *m, struct ytree *t,
                         const yaml_event_t *ev)
{
	struct ynode *n;

	if (!ytree_charge(m, 1, (unsigned)ev->start_mark.line + 1,
	                  (unsigned)ev->start_mark.column + 1)) {
		return;
	}
	n = ytree_add(m, t, YNODE_SCALAR, ev);
	if (n == NULL) {
		return;
	}
	n->len = ev->data.scalar.length;
	n->text = arena_strndup(t->a, (const char *)ev->data.scalar.value,
	                        n->len);
	if (n->text == NULL) {
		mload_nomem(m);
		return;
	}
	n->plain = ytree_scalar_plain(ev);
	n->complete = true;
	ytree_count(t, n);
	ytree_anchor(m, t, n, ev->data.scalar.anchor);
}

static void ytree_start(struct mload *m, struct ytree *t, enum ytype type,
                        const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;
	const yaml_char_t *anchor = type == YNODE_MAP
	                                    ? ev->data.mapping_start.anchor
	                                    : ev->data.sequence_start.anchor;
	struct ynode *n;

	if (t->depth >= m->lim->max_depth) {
		mload_fatal(m, -EINVAL, line, col,
		            "nesting deeper than %u levels", m->lim->max_depth);
		return;
	}
	if (!ytree_charge(m, 1, line, col)) {
		return;
	}
	if (t->depth == t->open_cap) {
		unsigned cap = t->open_cap ? t->open_cap * 2 : 16;
		struct yopen *o = realloc(t->open, cap * sizeof(*o));

		if (o == NULL) {
			mload_nomem(m);
			return;
		}
		t->open = o;
		t->open_cap = cap;
	}
	n = ytree_add(m, t, type, ev);
	if (n == NULL) {
		return;
	}
	n->height = 1;
	t->open[t->depth].node = n;
	t->open[t->depth].last = NULL;
	t->depth++;
	ytree_anchor(m, t, n, anchor);
}

static void ytree_alias(struct mload *m, struct ytree *t,
                        const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	unsigned line = (unsigned)ev->start_mark.line + 1;
	unsigned col = (unsigned)ev->start_mark.column + 1;
	struct yanchor *e = anchor_find(t, name);
	char q[MANIFEST_QUOTE_CAP];
	struct ynode *n;

	if (e == NULL) {
		mload_fatal(m, -EINVAL, line, col, "unknown anchor %s",
		            mquote(name, strlen(name), q, sizeof(q)));
		return;
	}
	if (!e->node->complete) {
		mload_fatal(m, -EINVAL, line, col,
		            "alias %s refers to a collection that contains it",
		            mquote(name, strlen(name), q, sizeof(q)));
		return;
	}
	if (t->depth + e->node->height > m->lim->max_depth) {
		mload_fatal(m, -EINVAL, line, col,
		            "nesting deeper than %u levels (through an alias)",
		            m->lim->max_depth);
		return;
	}
	if (!ytree_charge(m, e->node->expanded, line, col)) {
		return;
	}
	n = ytree_add(m, t, YNODE_ALIAS, ev);
	if (n == NULL) {
		return;
	}
	n->target = e->node;
	n->expanded = e->node->expanded;
	n->height = e->node->height;
	n->complete = true;
	ytree_count(t, n);
}

static const struct ynode *yderef(const struct ynode *n)
{
	return n != NULL && n->type == YNODE_ALIAS ? n->target : n;
}

struct ykey {
	const struct ynode *at;  /* where the key is written */
	const struct ynode *key; /* the scalar (alias resolved) */
};

static int ykey_cmp(const void *pa, const void *pb)
{
	const struct ykey *a = pa;
	const struct ykey *b = pb;
	size_t len = a->key->len < b->key->len ? a->key->len : b->key->len;
	int c = memcmp(a->key->text, b->key->text, len);

	if (c != 0) {
		return c;
	}
	if (a->key->len != b->key->len) {
		return a->key->len < b->key->len ? -1 : 1;
	}
	if (a->at->line != b->at->line) {
		return a->at->line < b->at->line ? -1 : 1;
	}
	return a->at->col < b->at->col ? -1 : (a->at->col > b->at->col);
}

/* True when map plainly has neither duplicate nor merge keys: the common
 * small mapping, checked pair by pair without allocating. False sends it
 * to ytree_check_keys(), which also reports what it finds. */
#define YTREE_KEYS_PAIRWISE 16

static bool ytree_keys_plain(const struct ynode *map)
{
	const struct ynode *k;

	if (map->n > 2 * YTREE_KEYS_PAIRWISE) {
		return false;
	}
	for (k = map->first; k != NULL && k->next != NULL; k = k->next->next) {
		const struct ynode *key = yderef(k);
		const struct ynode *j;

		if (key->type != YNODE_SCALAR) {
			continue;
		}
		if (key->plain && key->text[0] == '<') {
			return false;
		}
		for (j = map->first; j != k; j = j->next->next) {
			const struct ynode *other = yderef(j);

			if (other != NULL && other->type == YNODE_SCALAR &&
			    other->len == key->len &&
			    memcmp(other->text, key->text, key->len) == 0) {
				return false;
			}
		}
	}
	return true;
}

/* Rejects duplicate keys (YAML requires unique keys, and Kubernetes'
 * strict decoding refuses them) and merge keys, which libyaml does not
 * apply: silently ignoring "<<: *defaults" would drop fields. Sorting
 * keeps this O(n log n) for huge mappings. */
static void ytree_check_keys(struct mload *m, const struct ynode *map)
{
	struct ykey *keys;
	char q[MANIFEST_QUOTE_CAP];
	const struct ynode *k;
	size_t n = 0;
	size_t i;

	if (ytree_keys_plain(map)) {
		return;
	}
	keys = calloc(map->n / 2 + 1, sizeof(*keys));
	if (keys == NULL) {
		mload_nomem(m);
		return;
	}
	for (k = map->first; k != NULL && k->next != NULL; k = k->next->next) {
		const struct ynode *key = yderef(k);

		if (key->type != YNODE_SCALAR) {
			continue;
		}
		if (key->plain && strcmp(key->text, "<<") == 0) {
			mload_error_at(m, k,
			               "merge keys (<<) are not supported");
		}
		keys[n].at = k;
		keys[n].key = key;
		n++;
	}
	qsort(keys, n, sizeof(*keys), ykey_cmp);
	for (i = 1; i < n; i++) {
		if (keys[i].key->len == keys[i - 1].key->len &&
		    memcmp(keys[i].key->text, keys[i - 1].key->text,
		           keys[i].key->len) == 0) {
			mload_error_at(m, keys[i].at, "duplicate key %s",
			               mquote(keys[i].key->text,
			                      keys[i].key->len, q, sizeof(q)));
		}
	}
	free(keys);
}

static void ytree_end(struct mload *m, struct ytree *t)
{
	struct ynode *n;

	if (t->depth == 0) {
		return;
	}
	n = t->open[t->depth - 1].node;
	n->complete = true;
	t->depth--;
	ytree_count(t, n);
	if (n->type == YNODE_MAP) {
		ytree_check_keys(m, n);
	}
}

/* Converts a byte offset into a 1-based line and column (in characters,
 * as libyaml counts them), for reader errors, which carry only an offset. */
static void mload_offset_pos(const struct mload *m, size_t off, unsigned *line,
                             unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < m->len; i++) {
		unsigned char c = (unsigned char)m->buf[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static void mload_syntax(struct mload *m, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	unsigned line = (unsigned)p->problem_mark.line + 1;
	unsigned col = (unsigned)p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR) {
		mload_nomem(m);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		mload_offset_pos(m, p->problem_offset, &line, &col);
		if (p->problem_value != -1) {
			mload_fatal(m, -EINVAL, line, col, "%s (#%X)", problem,
			            (unsigned)p->problem_value);
			return;
		}
	}
	if (p->context != NULL) {
		mload_fatal(m, -EINVAL, line, col, "%s %s", problem,
		            p->context);
	} else {
		mload_fatal(m, -EINVAL, line, col, "%s", problem);
	}
}

/* Reads the next document into t. Returns 1 when one was read, 0 at the
 * end of the stream, or -1 after a fatal error (reported). */
static int ytree_build(struct mload *m, yaml_parser_t *p, struct ytree *t)
{
	yaml_event_t ev;
	int rc = -2;

	while (rc == -2) {
		if (!yaml_parser_parse(p, &ev)) {
			mload_syntax(m, p);
			return -1;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			rc = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			rc = 1;
			break;
		case YAML_SCALAR_EVENT:
			ytree_scalar(m, t, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ytree_start(m, t, YNODE_SEQ, &ev);
			break;
		case YAML_MAPPING_START_EVENT:
			ytree_start(m, t, YNODE_MAP, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			ytree_end(m, t);
			break;
		case YAML_ALIAS_EVENT:
			ytree_alias(m, t, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (m->fatal != 0) {
			return -1;
		}
	}
	return rc;
}

/* --- walking the tree: paths, errors, scalars --------------------------- */

/* Appends ".name" (or "[i]", or name at the start) to the error path;
 * a path too long for m->path is cut there. Runs for every field the
 * walker visits: plain copies, no printf. */
static size_t w_push(struct mload *m, const char *name)
{
	size_t old = m->plen;
	size_t room = sizeof(m->path) - 1 - m->plen;
	size_t len = strlen(name);
	char *p = m->path + m->plen;

	if (m->plen != 0 && name[0] != '[') {
		if (room == 0) {
			return old;
		}
		*p++ = '.';
		room--;
		m->plen++;
	}
	if (len > room) {
		len = room;
	}
	memcpy(p, name, len);
	p[len] = '\0';
	m->plen += len;
	return old;
}

static size_t w_push_index(struct mload *m, size_t i)
{
	char idx[32];
	char *p = idx + sizeof(idx);

	*--p = '\0';
	*--p = ']';
	do {
		*--p = (char)('0' + i % 10);
		i /= 10;
	} while (i != 0);
	*--p = '[';
	return w_push(m, p);
}

static void w_pop(struct mload *m, size_t old)
{
	m->plen = old;
	m->path[old] = '\0';
}

static void w_vdiag(struct mload *m, enum diag_severity sev,
                    const struct ynode *at, const char *leaf, const char *fmt,
                    va_list ap) SVCDNS_PRINTF(5, 0);

/* Reports "<path>[.leaf]: <msg>" at node at. Silent once the load has
 * failed fatally: what follows would only be noise. */
static void w_vdiag(struct mload *m, enum diag_severity sev,
                    const struct ynode *at, const char *leaf, const char *fmt,
                    va_list ap)
{
	const char *dot = "";
	char line[1024];
	char msg[384];
	size_t i;

	if (m->fatal != 0) {
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (leaf == NULL) {
		leaf = "";
	}
	if (m->plen != 0 && leaf[0] != '\0' && leaf[0] != '[') {
		dot = ".";
	}
	if (sev == DIAG_ERROR) {
		m->errors++;
	}
	if (m->plen == 0 && leaf[0] == '\0') {
		snprintf(line, sizeof(line), "%s", msg);
	} else {
		snprintf(line, sizeof(line), "%s%s%s: %s", m->path, dot, leaf,
		         msg);
	}
	/* Keys in the path come from the file unquoted: keep control
	 * characters out of the log. */
	for (i = 0; line[i] != '\0'; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			line[i] = '?';
		}
	}
	diag_add(m->d, sev, m->file, at->line, at->col, "%s", line);
}

static void w_err(struct mload *m, const struct ynode *at, const char *leaf,
                  const char *fmt, ...) SVCDNS_PRINTF(4, 5);

static void w_err(struct mload *m, const struct ynode *at, const char *leaf,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	w_vdiag(m, DIAG_ERROR, at, leaf, fmt, ap);
	va_end(ap);
}

static void w_warn(struct mload *m, const struct ynode *at, const char *leaf,
                   const char *fmt, ...) SVCDNS_PRINTF(4, 5);

static void w_warn(struct mload *m, const struct ynode *at, const char *leaf,
                   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	w_vdiag(m, DIAG_WARNING, at, leaf, fmt, ap);
	va_end(ap);
}

static void w_missing(struct mload *m, const struct ynode *map,
                      const char *leaf)
{
	w_err(m, map, leaf, "missing");
}

static const char *ytype_name(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_SEQ:
		return "a sequence";
	case YNODE_MAP:
		return "a mapping";
	default:
		return "a scalar";
	}
}

/* YAML 1.1 null: absent, "~", "null" in three spellings, or empty (as C
 * strings: a "!!null" tag can make a quoted scalar with a NUL plain). */
static bool ynode_is_null(const struct ynode *n)
{
	const char *t;

	n = yderef(n);
	if (n == NULL) {
		return true;
	}
	if (n->type != YNODE_SCALAR || !n->plain) {
		return false;
	}
	t = n->text;
	if (t[0] == '\0' || (t[0] == '~' && t[1] == '\0')) {
		return true;
	}
	return n->len >= 4 && (t[0] == 'n' || t[0] == 'N') &&
	       (strcmp(t, "null") == 0 || strcmp(t, "Null") == 0 ||
	        strcmp(t, "NULL") == 0);
}

/* Looks up the values of the keys in names (NULL when absent). Each key
 * of map is read once, whatever the number of names: see the note on
 * "expanded" at the top of the file. Duplicates were refused while the
 * tree was built. */
static void map_fields(const struct ynode *map, const char *const *names,
                       size_t n_names, const struct ynode **out)
{
	const struct ynode *k;
	size_t i;

	for (i = 0; i < n_names; i++) {
		out[i] = NULL;
	}
	for (k = map->first; k != NULL && k->next != NULL; k = k->next->next) {
		const struct ynode *key = yderef(k);

		if (key->type != YNODE_SCALAR) {
			continue;
		}
		for (i = 0; i < n_names; i++) {
			/* The first octet rules out most names at once. */
			if (names[i][0] == key->text[0] &&
			    strlen(names[i]) == key->len &&
			    memcmp(names[i], key->text, key->len) == 0) {
				out[i] = k->next;
				break;
			}
		}
	}
}

/* Reads a string field. Returns 1 with *out set (tree memory: copy what
 * must outlive the document), 0 when absent or null, -1 on error. */
static int w_str(struct mload *m, const struct ynode *v, const char *leaf,
                 const char **out)
{
	const struct ynode *n = yderef(v);
	char q[MANIFEST_QUOTE_CAP];

	*out = NULL;
	if (ynode_is_null(n)) {
		return 0;
	}
	if (n->type != YNODE_SCALAR) {
		w_err(m, v, leaf, "expected a string, found %s", ytype_name(n));
		return -1;
	}
	/* "\0" in a double-quoted scalar would cut our C strings short. */
	if (strlen(n->text) != n->len) {
		w_err(m, v, leaf, "%s contains a NUL character",
		      mquote(n->text, n->len, q, sizeof(q)));
		return -1;
	}
	*out = n->text;
	return 1;
}

static uint32_t mintern_hash(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h = (h ^ b[i]) * 16777619u;
	}
	return h;
}

/* The slot of (h, p, len) in t: a match, or the empty slot to fill. eq
 * compares an entry's bytes with p. Grows t first (at half full); NULL
 * when that fails (then nothing is shared). */
static struct mintern *
mintab_find(struct mintab *t, uint32_t h, const void *p, size_t n,
            bool (*eq)(const struct mintern *, const void *, size_t))
{
	size_t j;

	if (t->n * 2 >= t->mask) {
		size_t cap = t->slots ? (t->mask + 1) * 2 : 256;
		struct mintern *v = calloc(cap, sizeof(*v));

		if (v == NULL) {
			return NULL;
		}
		for (j = 0; t->slots != NULL && j <= t->mask; j++) {
			size_t k;

			if (t->slots[j].p == NULL) {
				continue;
			}
			for (k = t->slots[j].hash & (cap - 1); v[k].p != NULL;
			     k = (k + 1) & (cap - 1)) {
			}
			v[k] = t->slots[j];
		}
		free(t->slots);
		t->slots = v;
		t->mask = cap - 1;
	}
	for (j = h & t->mask; t->slots[j].p != NULL; j = (j + 1) & t->mask) {
		if (t->slots[j].hash == h && eq(&t->slots[j], p, n)) {
			break;
		}
	}
	return &t->slots[j];
}

static bool mintern_str_eq(const struct mintern *e, const void *p, size_t n)
{
	return e->n == n && memcmp(e->p, p, n) == 0;
}

static bool mintern_lset_eq(const struct mintern *e, const void *p, size_t n)
{
	return e->n == n && memcmp(e->p, p, n * sizeof(struct k8s_label)) == 0;
}

/* Copies a string into the file's arena (once per distinct short
 * string). */
static const char *w_keep(struct mload *m, const char *s)
{
	struct mintern *e = NULL;
	size_t len;
	uint32_t h = 0;
	char *copy;

	if (s == NULL) {
		return NULL;
	}
	len = strlen(s);
	if (len <= MINTERN_MAX_LEN) {
		h = mintern_hash(s, len);
		e = mintab_find(&m->strs, h, s, len, mintern_str_eq);
		if (e != NULL && e->p != NULL) {
			return e->p;
		}
	}
	copy = arena_strndup(m->f->arena, s, len);
	if (copy == NULL) {
		mload_nomem(m);
		return "";
	}
	if (e != NULL) {
		e->hash = h;
		e->n = (uint32_t)len;
		e->p = copy;
		m->strs.n++;
	}
	return copy;
}

/* As w_str, and copies the value into the file's arena. */
static int w_str_keep(struct mload *m, const struct ynode *v, const char *leaf,
                      const char **out)
{
	int rc = w_str(m, v, leaf, out);

	if (rc == 1) {
		*out = w_keep(m, *out);
	}
	return rc;
}

enum mint_result {
	MINT_OK,
	MINT_BAD,
	MINT_OCTAL,
	MINT_RANGE,
};

/* Decimal integers only, consumed in full. A leading zero ("010") is
 * refused: YAML 1.1 (and so kubectl) reads it as octal. */
static enum mint_result mint_parse(const char *s, long *out)
{
	const char *digits = s + (s[0] == '+' || s[0] == '-');
	char *end;
	size_t i;

	if (digits[0] == '\0') {
		return MINT_BAD;
	}
	for (i = 0; digits[i] != '\0'; i++) {
		if (digits[i] < '0' || digits[i] > '9') {
			return MINT_BAD;
		}
	}
	if (digits[0] == '0' && digits[1] != '\0') {
		return MINT_OCTAL;
	}
	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno == ERANGE || *end != '\0') {
		return MINT_RANGE;
	}
	return MINT_OK;
}

/* Reads an integer field in lo..hi. Returns 1 with *out set, 0 when absent
 * or null, -1 on error. */
static int w_int(struct mload *m, const struct ynode *v, const char *leaf,
                 long lo, long hi, long *out)
{
	const struct ynode *n = yderef(v);
	char q[MANIFEST_QUOTE_CAP];

	if (ynode_is_null(n)) {
		return 0;
	}
	if (n->type != YNODE_SCALAR) {
		w_err(m, v, leaf, "expected an integer, found %s",
		      ytype_name(n));
		return -1;
	}
	mquote(n->text, n->len, q, sizeof(q));
	if (!n->plain) {
		w_err(m, v, leaf, "%s is a string, expected an integer", q);
		return -1;
	}
	switch (mint_parse(n->text, out)) {
	case MINT_OK:
		if (*out >= lo && *out <= hi) {
			return 1;
		}
		break;
	case MINT_RANGE:
		break;
	case MINT_OCTAL:
		w_err(m, v, leaf, "%s has a leading zero (octal in YAML 1.1)",
		      q);
		return -1;
	case MINT_BAD:
		w_err(m, v, leaf, "%s is not an integer", q);
		return -1;
	}
	w_err(m, v, leaf, "%s not in %ld..%ld", n->text, lo, hi);
	return -1;
}

/* Reads a boolean field: the YAML 1.1 spellings that kubectl's decoder
 * (go-yaml v2) accepts, unquoted. Returns 1, 0 (absent or null), -1. */
static int w_bool(struct mload *m, const struct ynode *v, const char *leaf,
                  bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
		                           "Yes",  "YES",  "on",   "On",
		                           "ON",   "y",    "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
		                          "No",    "NO",    "off",   "Off",
		                          "OFF",   "n",     "N" };
	const struct ynode *n = yderef(v);
	char q[MANIFEST_QUOTE_CAP];
	size_t i;

	if (ynode_is_null(n)) {
		return 0;
	}
	if (n->type != YNODE_SCALAR) {
		w_err(m, v, leaf, "expected a boolean, found %s",
		      ytype_name(n));
		return -1;
	}
	mquote(n->text, n->len, q, sizeof(q));
	if (!n->plain) {
		w_err(m, v, leaf, "%s is a string, expected a boolean", q);
		return -1;
	}
	for (i = 0; i < SVCDNS_ARRAY_SIZE(yes); i++) {
		if (strcmp(n->text, yes[i]) == 0) {
			*out = true;
			return 1;
		}
		if (strcmp(n->text, no[i]) == 0) {
			*out = false;
			return 1;
		}
	}
	w_err(m, v, leaf, "%s is not a boolean", q);
	return -1;
}

/* Resolves a collection field of the given type. Returns 1 with *out set,
 * 0 when absent or null (so "endpoints: null" is empty), -1 on error. */
static int w_coll(struct mload *m, const struct ynode *v, const char *leaf,
                  enum ytype type, const struct ynode **out)
{
	const struct ynode *n = yderef(v);

	*out = NULL;
	if (ynode_is_null(n)) {
		return 0;
	}
	if (n->type != type) {
		w_err(m, v, leaf, "expected %s, found %s",
		      type == YNODE_MAP ? "a mapping" : "a sequence",
		      ytype_name(n));
		return -1;
	}
	*out = n;
	return 1;
}

/* Reads an IP address field; "" counts as absent. Returns 1, 0, -1. */
static int w_ip(struct mload *m, const struct ynode *v, const char *leaf,
                struct k8s_ip *out)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;
	int rc = w_str(m, v, leaf, &s);

	if (rc != 1 || s[0] == '\0') {
		return rc < 0 ? -1 : 0;
	}
	if (k8s_ip_parse(s, out) != 0) {
		w_err(m, v, leaf, "%s is not an IP address",
		      mquote(s, strlen(s), q, sizeof(q)));
		return -1;
	}
	return 1;
}

/* Reads a protocol; absent means TCP. Kubernetes spells them in capitals
 * only. */
static void w_proto(struct mload *m, const struct ynode *v, const char *leaf,
                    enum k8s_proto *out)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;

	*out = K8S_PROTO_TCP;
	if (w_str(m, v, leaf, &s) != 1) {
		return;
	}
	if (strcmp(s, "TCP") == 0) {
		*out = K8S_PROTO_TCP;
	} else if (strcmp(s, "UDP") == 0) {
		*out = K8S_PROTO_UDP;
	} else if (strcmp(s, "SCTP") == 0) {
		*out = K8S_PROTO_SCTP;
	} else {
		w_err(m, v, leaf, "%s is not TCP, UDP or SCTP",
		      mquote(s, strlen(s), q, sizeof(q)));
	}
}

/* Reads a string field that must be one of names[0..n), an enum's values
 * in order. Returns the index; -1 when the field is absent or empty (no
 * error) or not in the list (the error "<text> is not <what>"). */
static int w_enum(struct mload *m, const struct ynode *v, const char *leaf,
                  const char *const *names, size_t n, const char *what)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;
	size_t i;

	if (w_str(m, v, leaf, &s) != 1 || s[0] == '\0') {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			return (int)i;
		}
	}
	w_err(m, v, leaf, "%s is not %s", mquote(s, strlen(s), q, sizeof(q)),
	      what);
	return -1;
}

/* Reads a label-style field (a DNS label when set; "" or null is absent)
 * and copies it. */
static const char *w_label_keep(struct mload *m, const struct ynode *v,
                                const char *leaf)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;

	if (w_str(m, v, leaf, &s) != 1 || s[0] == '\0') {
		return NULL;
	}
	if (!k8s_is_dns_label(s)) {
		w_err(m, v, leaf, "%s is not a DNS label",
		      mquote(s, strlen(s), q, sizeof(q)));
		return NULL;
	}
	return w_keep(m, s);
}

/* Reads a port name: "" when absent or null, else a DNS label. */
static const char *w_port_name(struct mload *m, const struct ynode *v)
{
	const char *s = w_label_keep(m, v, "name");

	return s != NULL ? s : "";
}

/* Reads a map of strings (labels, annotations, a selector). Values may be
 * plain scalars such as true or 8080: their text is kept; null is "". */
static void w_labels(struct mload *m, const struct ynode *v, const char *leaf,
                     struct k8s_labels *out)
{
	const struct ynode *map;
	struct k8s_label *items;
	const struct ynode *k;
	size_t old;
	size_t n = 0;

	out->items = NULL;
	out->n = 0;
	if (w_coll(m, v, leaf, YNODE_MAP, &map) != 1 || map->n == 0) {
		return;
	}
	/* Read into m->lbuf; kept in the arena once per distinct set. */
	if (map->n / 2 > m->lbuf_cap) {
		struct k8s_label *nb =
			realloc(m->lbuf, (map->n / 2) * sizeof(*nb));

		if (nb == NULL) {
			mload_nomem(m);
			return;
		}
		m->lbuf = nb;
		m->lbuf_cap = map->n / 2;
	}
	items = m->lbuf;
	old = w_push(m, leaf);
	for (k = map->first; k != NULL && k->next != NULL; k = k->next->next) {
		const char *key;
		const char *val;
		int rc = w_str(m, k, NULL, &key);

		if (rc == 0) {
			w_err(m, k, NULL, "null key");
		}
		if (rc != 1) {
			continue;
		}
		if (w_str(m, k->next, key, &val) < 0) {
			continue;
		}
		items[n].key = w_keep(m, key);
		items[n].value = w_keep(m, val != NULL ? val : "");
		n++;
	}
	w_pop(m, old);
	if (n == 0) {
		return;
	}
	{
		uint32_t h = mintern_hash(items, n * sizeof(*items));
		struct mintern *e =
			mintab_find(&m->lsets, h, items, n, mintern_lset_eq);
		struct k8s_label *copy;

		if (e != NULL && e->p != NULL) {
			out->items = e->p;
			out->n = n;
			return;
		}
		copy = arena_memdup(m->f->arena, items, n * sizeof(*items));
		if (copy == NULL) {
			mload_nomem(m);
			return;
		}
		if (e != NULL) {
			e->hash = h;
			e->n = (uint32_t)n;
			e->p = copy;
			m->lsets.n++;
		}
		out->items = copy;
		out->n = n;
	}
}

/* --- walking the tree: objects ------------------------------------------ */

static void *mvec_push(struct mload *m, struct mvec *v, size_t size)
{
	void *slot;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *items;

		if (cap > SIZE_MAX / size) {
			mload_nomem(m);
			return NULL;
		}
		items = realloc(v->items, cap * size);
		if (items == NULL) {
			mload_nomem(m);
			return NULL;
		}
		v->items = items;
		v->cap = cap;
	}
	slot = (char *)v->items + v->n * size;
	v->n++;
	return slot;
}

static const char *idx_leaf(char *buf, size_t cap, size_t i)
{
	snprintf(buf, cap, "[%zu]", i);
	return buf;
}

/* A DNS-1123 subdomain (object names): dot-separated DNS labels, at most
 * 253 octets. */
static bool is_dns_subdomain(const char *s)
{
	char label[64];
	size_t len = strlen(s);
	size_t start = 0;

	if (len == 0 || len > 253) {
		return false;
	}
	while (start <= len) {
		const char *dot = strchr(s + start, '.');
		size_t end = dot != NULL ? (size_t)(dot - s) : len;

		if (end - start >= sizeof(label)) {
			return false;
		}
		memcpy(label, s + start, end - start);
		label[end - start] = '\0';
		if (!k8s_is_dns_label(label)) {
			return false;
		}
		start = end + 1;
	}
	return true;
}

/* An ExternalName target, trailing dot already removed: labels of 1..63
 * letters, digits, '-' or '_', at most 253 octets. Case is kept. */
static bool is_dns_name(const char *s)
{
	size_t len = strlen(s);
	size_t label = 0;
	size_t i;

	if (len == 0 || len > 253) {
		return false;
	}
	for (i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63) {
				return false;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-' || c == '_') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/* IANA_SVC_NAME as Kubernetes checks it (IsValidPortName): 1..15 of
 * [a-z0-9-], at least one letter, no hyphen at either end or twice. */
static bool is_port_name(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;
	size_t i;

	if (len == 0 || len > 15 || s[0] == '-' || s[len - 1] == '-') {
		return false;
	}
	for (i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z') {
			letter = true;
		} else if (s[i] == '-') {
			if (s[i + 1] == '-') {
				return false;
			}
		} else if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return letter;
}

enum mname_rule {
	MNAME_LABEL,      /* Namespace: DNS-1123 label */
	MNAME_LABEL_1035, /* Service: DNS-1035 label (starts with a letter) */
	MNAME_SUBDOMAIN,  /* everything else: DNS-1123 subdomain */
};

static void w_object_name(struct mload *m, const struct ynode *v,
                          enum mname_rule rule, const char *name)
{
	char q[MANIFEST_QUOTE_CAP];

	mquote(name, strlen(name), q, sizeof(q));
	switch (rule) {
	case MNAME_LABEL:
		if (!k8s_is_dns_label(name)) {
			w_err(m, v, "name", "%s is not a DNS label", q);
		}
		break;
	case MNAME_LABEL_1035:
		if (!k8s_is_dns_label(name)) {
			w_err(m, v, "name", "%s is not a DNS label", q);
		} else if (name[0] < 'a' || name[0] > 'z') {
			w_err(m, v, "name",
			      "%s is not a DNS-1035 label (must start with a letter)",
			      q);
		}
		break;
	case MNAME_SUBDOMAIN:
		if (!is_dns_subdomain(name)) {
			w_err(m, v, "name", "%s is not a DNS subdomain", q);
		}
		break;
	}
}

enum {
	OF_APIVERSION,
	OF_KIND,
	OF_METADATA,
	OF_SPEC,
	OF_STATUS,
	OF_ITEMS,
	OF_SUBSETS,
	OF_ADDRESSTYPE,
	OF_ENDPOINTS,
	OF_PORTS,
	OF_N,
};

static const char *const obj_fields[OF_N] = {
	[OF_APIVERSION] = "apiVersion", [OF_KIND] = "kind",
	[OF_METADATA] = "metadata",     [OF_SPEC] = "spec",
	[OF_STATUS] = "status",         [OF_ITEMS] = "items",
	[OF_SUBSETS] = "subsets",       [OF_ADDRESSTYPE] = "addressType",
	[OF_ENDPOINTS] = "endpoints",   [OF_PORTS] = "ports",
};

enum {
	MF_NAME,
	MF_NAMESPACE,
	MF_LABELS,
	MF_ANNOTATIONS,
	MF_DELETION,
	MF_N,
};

static const char *const meta_fields[MF_N] = {
	[MF_NAME] = "name",
	[MF_NAMESPACE] = "namespace",
	[MF_LABELS] = "labels",
	[MF_ANNOTATIONS] = "annotations",
	[MF_DELETION] = "deletionTimestamp",
};

/* How walk_meta reads an object's metadata. */
enum meta_kind {
	META_CLUSTER,    /* a Namespace: not namespaced, ns "" */
	META_NAMESPACED, /* Pods, EndpointSlices, Endpoints */
	/* Services: their annotations too. Those of the other kinds are
	 * never used (svcdns.io/... are Service annotations), and a Pod's,
	 * unlike its labels, are mostly unique (CNI addresses, container
	 * IDs, restart times): 143 bytes a pod with four such ones, kept
	 * for nothing. The API watcher leaves them out too (kube_store.c). */
	META_SERVICE,
};

/* Reads metadata. */
static void walk_meta(struct mload *m, const struct ynode *obj,
                      const struct ynode *const *f, enum mname_rule rule,
                      enum meta_kind kind, struct k8s_meta *meta)
{
	bool namespaced = kind != META_CLUSTER;
	const struct ynode *mf[MF_N];
	const struct ynode *md;
	const char *s;
	size_t old;
	int rc;

	meta->name = "";
	meta->ns = namespaced ? "default" : "";
	meta->origin.file = m->f->path;
	meta->origin.line = obj->line;
	meta->origin.col = obj->col;
	rc = w_coll(m, f[OF_METADATA], "metadata", YNODE_MAP, &md);
	if (rc == 0) {
		w_missing(m, obj, "metadata");
	}
	if (rc != 1) {
		return;
	}
	map_fields(md, meta_fields, MF_N, mf);
	old = w_push(m, "metadata");
	rc = w_str(m, mf[MF_NAME], "name", &s);
	if (rc == 0 || (rc == 1 && s[0] == '\0')) {
		w_missing(m, md, "name");
	} else if (rc == 1) {
		w_object_name(m, mf[MF_NAME], rule, s);
		meta->name = w_keep(m, s);
	}
	if (namespaced) {
		s = w_label_keep(m, mf[MF_NAMESPACE], "namespace");
		if (s != NULL) {
			meta->ns = s;
		}
	}
	w_labels(m, mf[MF_LABELS], "labels", &meta->labels);
	if (kind == META_SERVICE) {
		w_labels(m, mf[MF_ANNOTATIONS], "annotations",
		         &meta->annotations);
	}
	meta->deleting = !ynode_is_null(mf[MF_DELETION]);
	w_pop(m, old);
}

static void walk_namespace(struct mload *m, const struct ynode *obj,
                           const struct ynode *const *f)
{
	struct k8s_namespace ns;
	struct k8s_namespace *slot;

	memset(&ns, 0, sizeof(ns));
	walk_meta(m, obj, f, MNAME_LABEL, META_CLUSTER, &ns.meta);
	slot = mvec_push(m, &m->namespaces, sizeof(*slot));
	if (slot != NULL) {
		*slot = ns;
	}
}

/* --- Service ------------------------------------------------------------ */

enum {
	SF_TYPE,
	SF_CLUSTER_IP,
	SF_CLUSTER_IPS,
	SF_EXTERNAL_NAME,
	SF_PORTS,
	SF_SELECTOR,
	SF_PUBLISH,
	SF_N,
};

static const char *const svc_fields[SF_N] = {
	[SF_TYPE] = "type",
	[SF_CLUSTER_IP] = "clusterIP",
	[SF_CLUSTER_IPS] = "clusterIPs",
	[SF_EXTERNAL_NAME] = "externalName",
	[SF_PORTS] = "ports",
	[SF_SELECTOR] = "selector",
	[SF_PUBLISH] = "publishNotReadyAddresses",
};

static void svc_type(struct mload *m, const struct ynode *v,
                     enum k8s_service_type *out)
{
	static const char *const names[] = {
		[K8S_SVC_CLUSTER_IP] = "ClusterIP",
		[K8S_SVC_NODE_PORT] = "NodePort",
		[K8S_SVC_LOAD_BALANCER] = "LoadBalancer",
		[K8S_SVC_EXTERNAL_NAME] = "ExternalName",
	};
	int i = w_enum(m, v, "type", names, SVCDNS_ARRAY_SIZE(names),
	               "a Service type");

	*out = i < 0 ? K8S_SVC_CLUSTER_IP : (enum k8s_service_type)i;
}

/* One spec.clusterIP(s) entry: 1 for an address, 0 for "" (ignored),
 * 2 for "None", -1 on error. */
static int svc_ip_entry(struct mload *m, const struct ynode *v,
                        const char *leaf, struct k8s_ip *ip)
{
	const char *s;
	int rc = w_str(m, v, leaf, &s);

	if (rc != 1 || s[0] == '\0') {
		return rc == 1 ? 0 : rc;
	}
	if (strcmp(s, "None") == 0) {
		return 2;
	}
	return w_ip(m, v, leaf, ip);
}

static void svc_ips_differ(struct mload *m, const struct ynode *v,
                           const char *leaf, const struct ynode *one)
{
	char q1[MANIFEST_QUOTE_CAP];
	char q2[MANIFEST_QUOTE_CAP];
	const struct ynode *a = yderef(v);
	const struct ynode *b = yderef(one);

	if (a == NULL || b == NULL) {
		return;
	}
	w_err(m, v, leaf, "%s differs from spec.clusterIP %s",
	      mquote(a->text, a->len, q1, sizeof(q1)),
	      mquote(b->text, b->len, q2, sizeof(q2)));
}

/* spec.clusterIPs wins over spec.clusterIP; Kubernetes keeps
 * clusterIPs[0] equal to clusterIP, and a file where they differ is
 * refused rather than guessed at. */
static void svc_cluster_ips(struct mload *m, const struct ynode *const *sf,
                            struct k8s_service *svc)
{
	struct k8s_ip one;
	int one_rc = svc_ip_entry(m, sf[SF_CLUSTER_IP], "clusterIP", &one);
	const struct ynode *seq = NULL;
	const struct ynode *it;
	struct k8s_ip *ips;
	char leaf[32];
	size_t old;
	size_t i = 0;

	svc->headless = one_rc == 2;
	if (w_coll(m, sf[SF_CLUSTER_IPS], "clusterIPs", YNODE_SEQ, &seq) != 1 ||
	    seq->n == 0) {
		if (one_rc == 1) {
			svc->cluster_ips =
				arena_memdup(m->f->arena, &one, sizeof(one));
			svc->n_cluster_ips = 1;
		}
		return;
	}
	ips = arena_calloc(m->f->arena, seq->n, sizeof(*ips));
	if (ips == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "clusterIPs");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		int rc = svc_ip_entry(m, it, idx_leaf(leaf, sizeof(leaf), i),
		                      &ips[svc->n_cluster_ips]);

		if (i == 0 && one_rc > 0 &&
		    (rc != one_rc ||
		     (rc == 1 && k8s_ip_cmp(&ips[0], &one) != 0))) {
			svc_ips_differ(m, it, leaf, sf[SF_CLUSTER_IP]);
		}
		if (rc == 2) {
			svc->headless = true;
		} else if (rc == 1) {
			svc->n_cluster_ips++;
		}
	}
	w_pop(m, old);
	svc->cluster_ips = ips;
}

static void svc_external_name(struct mload *m, const struct ynode *spec,
                              const struct ynode *v, struct k8s_service *svc)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;
	size_t len;
	char *copy;
	int rc = w_str(m, v, "externalName", &s);

	if (rc == 0 || (rc == 1 && s[0] == '\0')) {
		w_missing(m, spec, "externalName");
	}
	if (rc != 1 || s[0] == '\0') {
		return;
	}
	/* The trailing dot is optional in the object (CLUSTER-DNS row 18). */
	len = strlen(s);
	if (s[len - 1] == '.') {
		len--;
	}
	copy = arena_strndup(m->f->arena, s, len);
	if (copy == NULL) {
		mload_nomem(m);
		return;
	}
	if (!is_dns_name(copy)) {
		w_err(m, v, "externalName", "%s is not a DNS name",
		      mquote(s, strlen(s), q, sizeof(q)));
		return;
	}
	svc->external_name = copy;
}

/* spec.ports[].targetPort: a number, or a container port name. A quoted
 * string of digits ("8080") is a string in YAML, and the API server would
 * refuse it as a port name; we are lenient and read it as the number the
 * author meant. 0 or "" mean "same as port", as in Kubernetes' defaulting. */
static void svc_target_port(struct mload *m, const struct ynode *v,
                            struct k8s_service_port *p)
{
	const struct ynode *n = yderef(v);
	char q[MANIFEST_QUOTE_CAP];
	const char *s;
	long num;

	p->target_port = p->port;
	p->target_name = NULL;
	if (ynode_is_null(n)) {
		return;
	}
	if (n->type == YNODE_SCALAR && n->plain &&
	    mint_parse(n->text, &num) != MINT_BAD) {
		if (w_int(m, v, "targetPort", 0, 65535, &num) == 1 &&
		    num != 0) {
			p->target_port = (uint16_t)num;
		}
		return;
	}
	if (w_str(m, v, "targetPort", &s) != 1 || s[0] == '\0') {
		return;
	}
	if (strspn(s, "0123456789") == strlen(s)) {
		errno = 0;
		num = strtol(s, NULL, 10);
		if (errno == ERANGE || num < 1 || num > 65535 ||
		    strlen(s) > 5) {
			w_err(m, v, "targetPort", "%s not in 1..65535", s);
			return;
		}
		p->target_port = (uint16_t)num;
		return;
	}
	if (!is_port_name(s)) {
		w_err(m, v, "targetPort",
		      "%s is not a port number or an IANA port name",
		      mquote(s, strlen(s), q, sizeof(q)));
		return;
	}
	p->target_port = 0;
	p->target_name = w_keep(m, s);
}

enum {
	PF_NAME,
	PF_PROTOCOL,
	PF_PORT,
	PF_TARGET_PORT,
	PF_CONTAINER_PORT,
	PF_N,
};

static const char *const port_fields[PF_N] = {
	[PF_NAME] = "name",
	[PF_PROTOCOL] = "protocol",
	[PF_PORT] = "port",
	[PF_TARGET_PORT] = "targetPort",
	[PF_CONTAINER_PORT] = "containerPort",
};

/* Resolves a sequence entry that must be a mapping; the path already ends
 * in "[i]". Returns NULL after reporting anything else. */
static const struct ynode *w_entry_map(struct mload *m, const struct ynode *v)
{
	const struct ynode *map;
	int rc = w_coll(m, v, NULL, YNODE_MAP, &map);

	if (rc == 0) {
		w_err(m, v, NULL, "expected a mapping, found null");
	}
	return rc == 1 ? map : NULL;
}

/* Reads a port number field in 1..65535 into *out. Returns 1, 0 (absent),
 * -1. */
static int w_port(struct mload *m, const struct ynode *v, const char *leaf,
                  uint16_t *out)
{
	long num;
	int rc = w_int(m, v, leaf, 1, 65535, &num);

	if (rc == 1) {
		*out = (uint16_t)num;
	}
	return rc;
}

static bool svc_port(struct mload *m, const struct ynode *v,
                     struct k8s_service_port *p)
{
	const struct ynode *pf[PF_N];
	const struct ynode *map = w_entry_map(m, v);

	if (map == NULL) {
		return false;
	}
	map_fields(map, port_fields, PF_N, pf);
	p->name = w_port_name(m, pf[PF_NAME]);
	w_proto(m, pf[PF_PROTOCOL], "protocol", &p->proto);
	if (w_port(m, pf[PF_PORT], "port", &p->port) == 0) {
		w_missing(m, map, "port");
	}
	svc_target_port(m, pf[PF_TARGET_PORT], p);
	return true;
}

static void svc_ports(struct mload *m, const struct ynode *v,
                      struct k8s_service *svc)
{
	struct k8s_service_port *ports;
	const struct ynode *seq;
	const struct ynode *it;
	size_t old;
	size_t i = 0;

	if (w_coll(m, v, "ports", YNODE_SEQ, &seq) != 1 || seq->n == 0) {
		return;
	}
	ports = arena_calloc(m->f->arena, seq->n, sizeof(*ports));
	if (ports == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "ports");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);

		if (svc_port(m, it, &ports[svc->n_ports])) {
			svc->n_ports++;
		}
		w_pop(m, o);
	}
	w_pop(m, old);
	svc->ports = ports;
}

/* The legacy annotation is compared as Go's strconv.ParseBool reads it,
 * which is what kube-dns did. */
static bool svc_tolerates_unready(const struct k8s_service *svc)
{
	static const char *const yes[] = {
		"1", "t", "T", "true", "TRUE", "True"
	};
	const char *v = k8s_labels_get(
		&svc->meta.annotations,
		"service.alpha.kubernetes.io/tolerate-unready-endpoints");
	size_t i;

	for (i = 0; v != NULL && i < SVCDNS_ARRAY_SIZE(yes); i++) {
		if (strcmp(v, yes[i]) == 0) {
			return true;
		}
	}
	return false;
}

static void walk_service(struct mload *m, const struct ynode *obj,
                         const struct ynode *const *f)
{
	const struct ynode *sf[SF_N];
	struct k8s_service *slot;
	struct k8s_service svc;
	const struct ynode *spec;
	bool publish = false;
	size_t old;
	int rc;

	memset(&svc, 0, sizeof(svc));
	walk_meta(m, obj, f, MNAME_LABEL_1035, META_SERVICE, &svc.meta);
	rc = w_coll(m, f[OF_SPEC], "spec", YNODE_MAP, &spec);
	if (rc == 0) {
		w_missing(m, obj, "spec");
	}
	if (rc != 1) {
		return;
	}
	map_fields(spec, svc_fields, SF_N, sf);
	old = w_push(m, "spec");
	svc_type(m, sf[SF_TYPE], &svc.type);
	svc_cluster_ips(m, sf, &svc);
	if (svc.type == K8S_SVC_EXTERNAL_NAME) {
		svc_external_name(m, spec, sf[SF_EXTERNAL_NAME], &svc);
	}
	svc_ports(m, sf[SF_PORTS], &svc);
	w_labels(m, sf[SF_SELECTOR], "selector", &svc.selector);
	svc.has_selector = svc.selector.n > 0;
	if (w_bool(m, sf[SF_PUBLISH], "publishNotReadyAddresses", &publish) !=
	            1 ||
	    !publish) {
		publish = svc_tolerates_unready(&svc);
	}
	svc.publish_not_ready = publish;
	w_pop(m, old);
	slot = mvec_push(m, &m->services, sizeof(*slot));
	if (slot != NULL) {
		*slot = svc;
	}
}

/* --- EndpointSlice and Endpoints ---------------------------------------- */

enum {
	EF_ADDRESSES,
	EF_CONDITIONS,
	EF_HOSTNAME,
	EF_TARGET_REF,
	EF_IP,
	EF_N,
};

static const char *const ep_fields[EF_N] = {
	[EF_ADDRESSES] = "addresses",
	[EF_CONDITIONS] = "conditions",
	[EF_HOSTNAME] = "hostname",
	[EF_TARGET_REF] = "targetRef",
	[EF_IP] = "ip",
};

static void w_target_ref(struct mload *m, const struct ynode *v,
                         struct k8s_endpoint *ep)
{
	static const char *const names[] = { "kind", "name", "namespace" };
	const struct ynode *tf[3];
	const struct ynode *map;
	size_t old;

	if (w_coll(m, v, "targetRef", YNODE_MAP, &map) != 1) {
		return;
	}
	map_fields(map, names, 3, tf);
	old = w_push(m, "targetRef");
	(void)w_str_keep(m, tf[0], "kind", &ep->target_kind);
	(void)w_str_keep(m, tf[1], "name", &ep->target_name);
	(void)w_str_keep(m, tf[2], "namespace", &ep->target_ns);
	w_pop(m, old);
}

/* endpoints[i].addresses of a slice whose addressType is IPv<family>. */
static void slice_addrs(struct mload *m, const struct ynode *v, uint8_t family,
                        struct k8s_endpoint *ep)
{
	char q[MANIFEST_QUOTE_CAP];
	const struct ynode *seq;
	const struct ynode *it;
	struct k8s_ip *ips;
	char leaf[32];
	size_t old;
	size_t i = 0;

	if (w_coll(m, v, "addresses", YNODE_SEQ, &seq) != 1 || seq->n == 0) {
		return;
	}
	ips = arena_calloc(m->f->arena, seq->n, sizeof(*ips));
	if (ips == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "addresses");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		struct k8s_ip *ip = &ips[ep->n_addrs];
		int rc = w_ip(m, it, idx_leaf(leaf, sizeof(leaf), i), ip);

		if (rc == 0) {
			w_err(m, it, leaf, "empty address");
		} else if (rc == 1 && ip->family != family) {
			w_err(m, it, leaf, "%s is not an IPv%u address",
			      mquote(yderef(it)->text, yderef(it)->len, q,
			             sizeof(q)),
			      (unsigned)family);
		} else if (rc == 1) {
			ep->n_addrs++;
		}
	}
	w_pop(m, old);
	ep->addrs = ips;
}

/* conditions.ready: absent or null means ready (nil = unknown = ready,
 * CLUSTER-DNS row 26); serving and terminating are not read. */
static bool slice_ready(struct mload *m, const struct ynode *v)
{
	static const char *const names[] = { "ready" };
	const struct ynode *map;
	const struct ynode *ready;
	bool value = true;
	size_t old;

	if (w_coll(m, v, "conditions", YNODE_MAP, &map) != 1) {
		return true;
	}
	map_fields(map, names, 1, &ready);
	old = w_push(m, "conditions");
	(void)w_bool(m, ready, "ready", &value);
	w_pop(m, old);
	return value;
}

static bool slice_endpoint(struct mload *m, const struct ynode *v,
                           uint8_t family, struct k8s_endpoint *ep)
{
	const struct ynode *ef[EF_N];
	const struct ynode *map = w_entry_map(m, v);

	if (map == NULL) {
		return false;
	}
	map_fields(map, ep_fields, EF_N, ef);
	slice_addrs(m, ef[EF_ADDRESSES], family, ep);
	ep->ready = slice_ready(m, ef[EF_CONDITIONS]);
	ep->hostname = w_label_keep(m, ef[EF_HOSTNAME], "hostname");
	w_target_ref(m, ef[EF_TARGET_REF], ep);
	return true;
}

static void slice_endpoints(struct mload *m, const struct ynode *v,
                            struct k8s_slice *sl)
{
	struct k8s_endpoint *eps;
	const struct ynode *seq;
	const struct ynode *it;
	size_t old;
	size_t i = 0;

	if (w_coll(m, v, "endpoints", YNODE_SEQ, &seq) != 1 || seq->n == 0) {
		return;
	}
	eps = arena_calloc(m->f->arena, seq->n, sizeof(*eps));
	if (eps == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "endpoints");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);

		if (slice_endpoint(m, it, sl->address_type,
		                   &eps[sl->n_endpoints])) {
			sl->n_endpoints++;
		}
		w_pop(m, o);
	}
	w_pop(m, old);
	sl->endpoints = eps;
}

/* One ports[] entry of a slice or of an Endpoints subset. A slice port
 * without a number means "all ports" in Kubernetes; it can name no SRV
 * target, so it is left out. Endpoints ports must have one. */
static bool ep_port(struct mload *m, const struct ynode *v, bool required,
                    struct k8s_endpoint_port *p)
{
	const struct ynode *pf[PF_N];
	const struct ynode *map = w_entry_map(m, v);
	int rc;

	if (map == NULL) {
		return false;
	}
	map_fields(map, port_fields, PF_N, pf);
	p->name = w_port_name(m, pf[PF_NAME]);
	w_proto(m, pf[PF_PROTOCOL], "protocol", &p->proto);
	rc = w_port(m, pf[PF_PORT], "port", &p->port);
	if (rc == 0 && required) {
		w_missing(m, map, "port");
	}
	return rc == 1;
}

static void ep_ports(struct mload *m, const struct ynode *v, bool required,
                     const struct k8s_endpoint_port **out, size_t *n_out)
{
	struct k8s_endpoint_port *ports;
	const struct ynode *seq;
	const struct ynode *it;
	size_t old;
	size_t i = 0;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (w_coll(m, v, "ports", YNODE_SEQ, &seq) != 1 || seq->n == 0) {
		return;
	}
	ports = arena_calloc(m->f->arena, seq->n, sizeof(*ports));
	if (ports == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "ports");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);

		if (ep_port(m, it, required, &ports[n])) {
			n++;
		}
		w_pop(m, o);
	}
	w_pop(m, old);
	*out = ports;
	*n_out = n;
}

static uint8_t slice_address_type(struct mload *m, const struct ynode *obj,
                                  const struct ynode *v, bool *ok)
{
	char q[MANIFEST_QUOTE_CAP];
	const char *s;
	int rc = w_str(m, v, "addressType", &s);

	*ok = false;
	if (rc == 0) {
		w_missing(m, obj, "addressType");
	}
	if (rc != 1) {
		return 0;
	}
	*ok = true;
	if (strcmp(s, "IPv4") == 0) {
		return 4;
	}
	if (strcmp(s, "IPv6") == 0) {
		return 6;
	}
	if (strcmp(s, "FQDN") != 0) {
		*ok = false;
		w_err(m, v, "addressType", "%s is not IPv4, IPv6 or FQDN",
		      mquote(s, strlen(s), q, sizeof(q)));
	}
	return 0;
}

static void walk_slice(struct mload *m, const struct ynode *obj,
                       const struct ynode *const *f)
{
	struct k8s_slice *slot;
	struct k8s_slice sl;
	const char *svc;
	bool type_ok;

	memset(&sl, 0, sizeof(sl));
	walk_meta(m, obj, f, MNAME_SUBDOMAIN, META_NAMESPACED, &sl.meta);
	sl.address_type =
		slice_address_type(m, obj, f[OF_ADDRESSTYPE], &type_ok);
	/* FQDN slices carry names, not addresses; svcdns ignores them. */
	if (type_ok && sl.address_type != 0) {
		slice_endpoints(m, f[OF_ENDPOINTS], &sl);
	}
	ep_ports(m, f[OF_PORTS], false, &sl.ports, &sl.n_ports);
	svc = k8s_labels_get(&sl.meta.labels, "kubernetes.io/service-name");
	if (svc == NULL || svc[0] == '\0') {
		w_warn(m, obj, NULL,
		       "EndpointSlice %s/%s has no kubernetes.io/service-name label, skipped",
		       sl.meta.ns, sl.meta.name);
		return;
	}
	sl.service_name = svc;
	slot = mvec_push(m, &m->slices, sizeof(*slot));
	if (slot != NULL) {
		*slot = sl;
	}
}

/* subsets[i].addresses or .notReadyAddresses of a core/v1 Endpoints. */
static size_t legacy_addrs(struct mload *m, const struct ynode *seq,
                           const char *leaf, bool ready,
                           struct k8s_endpoint *out)
{
	const struct ynode *ef[EF_N];
	const struct ynode *it;
	size_t old;
	size_t i = 0;
	size_t n = 0;

	if (seq == NULL) {
		return 0;
	}
	old = w_push(m, leaf);
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);
		const struct ynode *map = w_entry_map(m, it);
		struct k8s_ip *ip = arena_calloc(m->f->arena, 1, sizeof(*ip));
		int rc;

		memset(&out[n], 0, sizeof(out[n]));
		if (ip == NULL) {
			mload_nomem(m);
		}
		if (map == NULL || ip == NULL) {
			w_pop(m, o);
			continue;
		}
		map_fields(map, ep_fields, EF_N, ef);
		rc = w_ip(m, ef[EF_IP], "ip", ip);
		if (rc == 0) {
			w_missing(m, map, "ip");
		}
		out[n].addrs = ip;
		out[n].n_addrs = 1;
		out[n].ready = ready;
		out[n].hostname = w_label_keep(m, ef[EF_HOSTNAME], "hostname");
		w_target_ref(m, ef[EF_TARGET_REF], &out[n]);
		n += rc == 1;
		w_pop(m, o);
	}
	w_pop(m, old);
	return n;
}

/* Emits the endpoints of one family as a legacy slice. */
static void legacy_slice(struct mload *m, const struct k8s_meta *meta,
                         const struct k8s_endpoint *all, size_t n_all,
                         uint8_t family, const struct k8s_slice *proto)
{
	struct k8s_endpoint *eps;
	struct k8s_slice *slot;
	size_t n = 0;
	size_t i;

	for (i = 0; i < n_all; i++) {
		n += all[i].addrs[0].family == family;
	}
	if (n == 0) {
		return;
	}
	eps = arena_calloc(m->f->arena, n, sizeof(*eps));
	slot = mvec_push(m, &m->slices, sizeof(*slot));
	if (eps == NULL || slot == NULL) {
		mload_nomem(m);
		return;
	}
	*slot = *proto;
	slot->meta = *meta;
	slot->address_type = family;
	slot->endpoints = eps;
	slot->n_endpoints = n;
	for (i = 0, n = 0; i < n_all; i++) {
		if (all[i].addrs[0].family == family) {
			eps[n++] = all[i];
		}
	}
}

/* One subset becomes one legacy slice per address family present: a
 * slice has a single addressType, and a subset may mix v4 and v6
 * addresses (dual-stack Endpoints written by hand). Both slices share the
 * subset's ports. A subset without addresses yields nothing. */
static void legacy_subset(struct mload *m, const struct ynode *v,
                          const struct k8s_meta *meta)
{
	static const char *const names[] = { "addresses", "notReadyAddresses",
		                             "ports" };
	const struct ynode *map = w_entry_map(m, v);
	const struct ynode *sf[3];
	const struct ynode *ready = NULL;
	const struct ynode *unready = NULL;
	struct k8s_endpoint *all;
	struct k8s_slice proto;
	size_t n;

	if (map == NULL) {
		return;
	}
	map_fields(map, names, 3, sf);
	(void)w_coll(m, sf[0], "addresses", YNODE_SEQ, &ready);
	(void)w_coll(m, sf[1], "notReadyAddresses", YNODE_SEQ, &unready);
	memset(&proto, 0, sizeof(proto));
	proto.service_name = meta->name;
	proto.legacy = true;
	ep_ports(m, sf[2], true, &proto.ports, &proto.n_ports);
	n = (ready ? ready->n : 0) + (unready ? unready->n : 0);
	if (n == 0) {
		return;
	}
	all = arena_calloc(m->f->arena, n, sizeof(*all));
	if (all == NULL) {
		mload_nomem(m);
		return;
	}
	n = legacy_addrs(m, ready, "addresses", true, all);
	n += legacy_addrs(m, unready, "notReadyAddresses", false, all + n);
	legacy_slice(m, meta, all, n, 4, &proto);
	legacy_slice(m, meta, all, n, 6, &proto);
}

static void walk_endpoints(struct mload *m, const struct ynode *obj,
                           const struct ynode *const *f)
{
	const struct ynode *seq;
	const struct ynode *it;
	struct k8s_meta meta;
	size_t old;
	size_t i = 0;

	memset(&meta, 0, sizeof(meta));
	walk_meta(m, obj, f, MNAME_SUBDOMAIN, META_NAMESPACED, &meta);
	if (w_coll(m, f[OF_SUBSETS], "subsets", YNODE_SEQ, &seq) != 1) {
		return;
	}
	old = w_push(m, "subsets");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);

		legacy_subset(m, it, &meta);
		w_pop(m, o);
	}
	w_pop(m, old);
}

/* --- Pod ---------------------------------------------------------------- */

static void pod_container_ports(struct mload *m, const struct ynode *v,
                                struct mvec *out)
{
	static const char *const names[] = { "ports" };
	const struct ynode *map = w_entry_map(m, v);
	const struct ynode *ports;
	const struct ynode *seq;
	const struct ynode *it;
	size_t old;
	size_t i = 0;

	if (map == NULL) {
		return;
	}
	map_fields(map, names, 1, &ports);
	if (w_coll(m, ports, "ports", YNODE_SEQ, &seq) != 1) {
		return;
	}
	old = w_push(m, "ports");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);
		const struct ynode *pm = w_entry_map(m, it);
		const struct ynode *pf[PF_N];
		struct k8s_container_port p;
		struct k8s_container_port *slot;

		memset(&p, 0, sizeof(p));
		if (pm != NULL) {
			map_fields(pm, port_fields, PF_N, pf);
			p.name = w_port_name(m, pf[PF_NAME]);
			w_proto(m, pf[PF_PROTOCOL], "protocol", &p.proto);
			if (w_port(m, pf[PF_CONTAINER_PORT], "containerPort",
			           &p.port) == 0) {
				w_missing(m, pm, "containerPort");
			}
			slot = mvec_push(m, out, sizeof(*slot));
			if (slot != NULL) {
				*slot = p;
			}
		}
		w_pop(m, o);
	}
	w_pop(m, old);
}

static void pod_spec(struct mload *m, const struct ynode *spec,
                     struct k8s_pod *pod)
{
	static const char *const names[] = { "hostname", "subdomain",
		                             "containers" };
	struct mvec ports = { 0 };
	const struct ynode *sf[3];
	const struct ynode *seq;
	const struct ynode *it;
	size_t old;
	size_t i = 0;

	map_fields(spec, names, 3, sf);
	old = w_push(m, "spec");
	pod->hostname = w_label_keep(m, sf[0], "hostname");
	pod->subdomain = w_label_keep(m, sf[1], "subdomain");
	if (w_coll(m, sf[2], "containers", YNODE_SEQ, &seq) == 1) {
		size_t o = w_push(m, "containers");

		for (it = seq->first; it != NULL; it = it->next, i++) {
			size_t oi = w_push_index(m, i);

			pod_container_ports(m, it, &ports);
			w_pop(m, oi);
		}
		w_pop(m, o);
	}
	w_pop(m, old);
	if (ports.n != 0) {
		pod->ports = arena_memdup(m->f->arena, ports.items,
		                          ports.n * sizeof(*pod->ports));
		pod->n_ports = ports.n;
		if (pod->ports == NULL) {
			mload_nomem(m);
		}
	}
	free(ports.items);
}

static void pod_phase(struct mload *m, const struct ynode *v,
                      enum k8s_pod_phase *out)
{
	static const char *const names[] = {
		[K8S_POD_PENDING] = "Pending",
		[K8S_POD_RUNNING] = "Running",
		[K8S_POD_SUCCEEDED] = "Succeeded",
		[K8S_POD_FAILED] = "Failed",
		[K8S_POD_UNKNOWN] = "Unknown",
	};
	/* A pod written by hand has no status: Kubernetes starts every pod
	 * as Pending. */
	int i = w_enum(m, v, "phase", names, SVCDNS_ARRAY_SIZE(names),
	               "a pod phase");

	*out = i < 0 ? K8S_POD_PENDING : (enum k8s_pod_phase)i;
}

/* status.conditions: ready when the entry of type Ready has status
 * "True" (kubectl quotes it; a plain True reads the same). */
static bool pod_ready(struct mload *m, const struct ynode *v)
{
	static const char *const names[] = { "type", "status" };
	const struct ynode *seq;
	const struct ynode *it;
	bool ready = false;
	size_t old;
	size_t i = 0;

	if (w_coll(m, v, "conditions", YNODE_SEQ, &seq) != 1) {
		return false;
	}
	old = w_push(m, "conditions");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);
		const struct ynode *map = w_entry_map(m, it);
		const struct ynode *cf[2];
		const char *type;
		const char *status;

		if (map != NULL) {
			map_fields(map, names, 2, cf);
			if (w_str(m, cf[0], "type", &type) == 1 &&
			    w_str(m, cf[1], "status", &status) == 1 &&
			    strcmp(type, "Ready") == 0) {
				ready = strcmp(status, "True") == 0;
			}
		}
		w_pop(m, o);
	}
	w_pop(m, old);
	return ready;
}

static void pod_ips_differ(struct mload *m, const struct ynode *v,
                           const struct ynode *one)
{
	char q1[MANIFEST_QUOTE_CAP];
	char q2[MANIFEST_QUOTE_CAP];
	const struct ynode *a = yderef(v);
	const struct ynode *b = yderef(one);

	if (a == NULL || b == NULL) {
		return;
	}
	w_err(m, v, "ip", "%s differs from status.podIP %s",
	      mquote(a->text, a->len, q1, sizeof(q1)),
	      mquote(b->text, b->len, q2, sizeof(q2)));
}

/* status.podIPs, or status.podIP alone; podIPs[0] must be podIP. */
static void pod_ips(struct mload *m, const struct ynode *v_ip,
                    const struct ynode *v_ips, struct k8s_pod *pod)
{
	static const char *const names[] = { "ip" };
	struct k8s_ip one;
	int one_rc = w_ip(m, v_ip, "podIP", &one);
	const struct ynode *seq;
	const struct ynode *it;
	struct k8s_ip *ips;
	size_t old;
	size_t i = 0;

	if (w_coll(m, v_ips, "podIPs", YNODE_SEQ, &seq) != 1 || seq->n == 0) {
		if (one_rc == 1) {
			pod->ips = arena_memdup(m->f->arena, &one, sizeof(one));
			pod->n_ips = pod->ips != NULL;
		}
		return;
	}
	ips = arena_calloc(m->f->arena, seq->n, sizeof(*ips));
	if (ips == NULL) {
		mload_nomem(m);
		return;
	}
	old = w_push(m, "podIPs");
	for (it = seq->first; it != NULL; it = it->next, i++) {
		size_t o = w_push_index(m, i);
		const struct ynode *map = w_entry_map(m, it);
		const struct ynode *ip = it;
		int rc = 0;

		if (map != NULL) {
			map_fields(map, names, 1, &ip);
			rc = w_ip(m, ip, "ip", &ips[pod->n_ips]);
			if (rc == 0) {
				w_missing(m, map, "ip");
			}
		}
		if (rc == 1 && pod->n_ips == 0 && one_rc == 1 &&
		    k8s_ip_cmp(&ips[0], &one) != 0) {
			pod_ips_differ(m, ip, v_ip);
		}
		pod->n_ips += rc == 1;
		w_pop(m, o);
	}
	w_pop(m, old);
	pod->ips = ips;
}

static void walk_pod(struct mload *m, const struct ynode *obj,
                     const struct ynode *const *f)
{
	static const char *const names[] = { "phase", "conditions", "podIP",
		                             "podIPs" };
	const struct ynode *st[4];
	const struct ynode *spec;
	const struct ynode *status;
	struct k8s_pod *slot;
	struct k8s_pod pod;
	size_t old;
	int rc;

	memset(&pod, 0, sizeof(pod));
	walk_meta(m, obj, f, MNAME_SUBDOMAIN, META_NAMESPACED, &pod.meta);
	rc = w_coll(m, f[OF_SPEC], "spec", YNODE_MAP, &spec);
	if (rc == 0) {
		w_missing(m, obj, "spec");
	} else if (rc == 1) {
		pod_spec(m, spec, &pod);
	}
	pod.phase = K8S_POD_PENDING;
	if (w_coll(m, f[OF_STATUS], "status", YNODE_MAP, &status) == 1) {
		map_fields(status, names, 4, st);
		old = w_push(m, "status");
		pod_phase(m, st[0], &pod.phase);
		pod.ready = pod_ready(m, st[1]);
		pod_ips(m, st[2], st[3], &pod);
		w_pop(m, old);
	}
	slot = mvec_push(m, &m->pods, sizeof(*slot));
	if (slot != NULL) {
		*slot = pod;
	}
}

/* --- objects, lists, documents ------------------------------------------ */

static bool kind_is_list(const char *kind)
{
	size_t len = strlen(kind);

	return len >= 4 && strcmp(kind + len - 4, "List") == 0;
}

static bool api_is(const char *api, const char *want)
{
	return strcmp(api, want) == 0;
}

static void walk_object(struct mload *m, const struct ynode *obj,
                        const char *inh_api, const char *inh_kind,
                        bool in_list);

/* kind: List (or a typed list such as ServiceList) with items. Items of
 * a typed list may leave out kind and apiVersion, as the API server's own
 * list responses do; they are taken from the list. */
static void walk_list(struct mload *m, const struct ynode *const *f,
                      const char *api, const char *kind)
{
	const char *item_kind = NULL;
	size_t klen = strlen(kind) - 4;
	const struct ynode *seq;
	const struct ynode *it;
	size_t i = 0;

	if (klen > 0 && klen < sizeof(m->item_kind)) {
		memcpy(m->item_kind, kind, klen);
		m->item_kind[klen] = '\0';
		item_kind = m->item_kind;
	}
	if (w_coll(m, f[OF_ITEMS], "items", YNODE_SEQ, &seq) != 1) {
		return;
	}
	for (it = seq->first; it != NULL && m->fatal == 0; it = it->next, i++) {
		const struct ynode *item = yderef(it);

		if (item->type != YNODE_MAP) {
			size_t old = w_push(m, "items");
			size_t o = w_push_index(m, i);

			w_err(m, it, NULL, "expected a mapping, found %s",
			      ynode_is_null(item) ? "null" : ytype_name(item));
			w_pop(m, o);
			w_pop(m, old);
			continue;
		}
		walk_object(m, item, api, item_kind, true);
	}
}

static void walk_kind(struct mload *m, const struct ynode *obj,
                      const struct ynode *const *f, const char *api,
                      const char *kind)
{
	char qa[MANIFEST_QUOTE_CAP];
	char qk[MANIFEST_QUOTE_CAP];

	if (api_is(api, "v1") && strcmp(kind, "Service") == 0) {
		walk_service(m, obj, f);
	} else if (api_is(api, "v1") && strcmp(kind, "Endpoints") == 0) {
		walk_endpoints(m, obj, f);
	} else if (api_is(api, "v1") && strcmp(kind, "Pod") == 0) {
		walk_pod(m, obj, f);
	} else if (api_is(api, "v1") && strcmp(kind, "Namespace") == 0) {
		walk_namespace(m, obj, f);
	} else if ((api_is(api, "discovery.k8s.io/v1") ||
	            api_is(api, "discovery.k8s.io/v1beta1")) &&
	           strcmp(kind, "EndpointSlice") == 0) {
		/* v1beta1 differs only in fields svcdns does not read
		 * (topology instead of nodeName and zone). */
		walk_slice(m, obj, f);
	} else {
		/* Also catches look-alikes such as Knative's Service
		 * (serving.knative.dev/v1), which is not a core Service. */
		m->f->n_unknown++;
		w_warn(m, obj, NULL,
		       "kind %s (apiVersion %s) is not used, skipped",
		       mquote(kind, strlen(kind), qk, sizeof(qk)),
		       mquote(api, strlen(api), qa, sizeof(qa)));
	}
}

/* Reads apiVersion or kind: absent, null or "" take the list's value
 * (inherited, may be NULL), else they are missing. */
static const char *w_type_str(struct mload *m, const struct ynode *obj,
                              const struct ynode *v, const char *leaf,
                              const char *inherited)
{
	const char *s;
	int rc = w_str(m, v, leaf, &s);

	if (rc < 0) {
		return NULL;
	}
	if (rc == 1 && s[0] != '\0') {
		return s;
	}
	if (inherited == NULL) {
		w_missing(m, obj, leaf);
	}
	return inherited;
}

static void walk_object(struct mload *m, const struct ynode *obj,
                        const char *inh_api, const char *inh_kind, bool in_list)
{
	const struct ynode *f[OF_N];
	const char *api;
	const char *kind;

	map_fields(obj, obj_fields, OF_N, f);
	api = w_type_str(m, obj, f[OF_APIVERSION], "apiVersion", inh_api);
	kind = w_type_str(m, obj, f[OF_KIND], "kind", inh_kind);
	if (api == NULL || kind == NULL) {
		return;
	}
	if (kind_is_list(kind)) {
		if (in_list) {
			m->f->n_unknown++;
			w_warn(m, obj, NULL, "a list inside a list, skipped");
			return;
		}
		walk_list(m, f, api, kind);
		return;
	}
	if (++m->objects > m->lim->max_objects) {
		mload_fatal(m, -EINVAL, obj->line, obj->col,
		            "more than %zu objects in one file",
		            m->lim->max_objects);
		return;
	}
	walk_kind(m, obj, f, api, kind);
}

static void walk_document(struct mload *m, const struct ynode *root)
{
	/* "---" followed by nothing, or a file of comments: nothing. */
	if (root == NULL || ynode_is_null(root)) {
		return;
	}
	if (m->values != NULL) {
		/* A values file (manifest_load_values) is one mapping. */
		if (m->values_seen) {
			mload_error_at(m, root, "more than one document");
			return;
		}
		m->values_seen = true;
		w_labels(m, root, "", m->values);
		return;
	}
	if (root->type != YNODE_MAP) {
		mload_error_at(
			m, root,
			"expected a mapping (a Kubernetes object), found %s",
			ytype_name(root));
		return;
	}
	walk_object(m, root, NULL, NULL, false);
}

/* --- loading ------------------------------------------------------------ */

static void mload_parse(struct mload *m, yaml_parser_t *p)
{
	int rc = 1;

	while (rc == 1) {
		struct ytree t;

		memset(&t, 0, sizeof(t));
		t.a = arena_create(0);
		if (t.a == NULL) {
			mload_nomem(m);
			return;
		}
		rc = ytree_build(m, p, &t);
		if (rc == 1) {
			walk_document(m, t.root);
		}
		ytree_fini(&t);
	}
}

static void *mvec_to_arena(struct mload *m, const struct mvec *v, size_t size)
{
	void *p;

	if (v->n == 0) {
		return NULL;
	}
	p = arena_memdup(m->f->arena, v->items, v->n * size);
	if (p == NULL) {
		mload_nomem(m);
	}
	return p;
}

static void mload_finish(struct mload *m)
{
	struct k8s_file *f = m->f;

	f->namespaces =
		mvec_to_arena(m, &m->namespaces, sizeof(*f->namespaces));
	f->n_namespaces = m->namespaces.n;
	f->services = mvec_to_arena(m, &m->services, sizeof(*f->services));
	f->n_services = m->services.n;
	f->slices = mvec_to_arena(m, &m->slices, sizeof(*f->slices));
	f->n_slices = m->slices.n;
	f->pods = mvec_to_arena(m, &m->pods, sizeof(*f->pods));
	f->n_pods = m->pods.n;
}

static void mload_free_vecs(struct mload *m)
{
	free(m->strs.slots);
	free(m->lsets.slots);
	free(m->lbuf);
	m->strs.slots = NULL;
	m->lsets.slots = NULL;
	m->lbuf = NULL;
	free(m->namespaces.items);
	free(m->services.items);
	free(m->slices.items);
	free(m->pods.items);
}

/* The file's arena holds the k8s_file itself, so k8s_file_destroy() is
 * one arena_destroy(). Small files get small chunks: a directory of many
 * small manifests should not cost 64 KiB each. */
static struct k8s_file *mload_file_create(const char *path, size_t len)
{
	size_t chunk = len < 4096 ? 4096 : (len > 65536 ? 65536 : len);
	struct arena *a = arena_create(chunk);
	struct k8s_file *f;

	if (a == NULL) {
		return NULL;
	}
	f = arena_calloc(a, 1, sizeof(*f));
	if (f == NULL) {
		arena_destroy(a);
		return NULL;
	}
	f->arena = a;
	f->id = k8s_file_next_id();
	f->path = arena_strdup(a, path);
	if (f->path == NULL) {
		arena_destroy(a);
		return NULL;
	}
	return f;
}

static void mload_init(struct mload *m, const char *display_path,
                       const char *buf, size_t len,
                       const struct manifest_limits *lim, struct diag *d)
{
	memset(m, 0, sizeof(*m));
	m->file = display_path != NULL ? display_path : "-";
	m->buf = buf != NULL ? buf : "";
	m->len = buf != NULL ? len : 0;
	m->lim = lim;
	m->d = d;
}

/* Parses m->buf into m->f (created here). Returns 0, -EINVAL or -ENOMEM;
 * on error the caller destroys m->f (may be NULL). */
static int mload_run(struct mload *m)
{
	yaml_parser_t parser;

	if (m->len > m->lim->max_file_size) {
		diag_add(m->d, DIAG_ERROR, m->file, 0, 0,
		         "file too large (%zu octets, limit %zu)", m->len,
		         m->lim->max_file_size);
		return -EINVAL;
	}
	m->f = mload_file_create(m->file, m->len);
	if (m->f == NULL) {
		diag_add(m->d, DIAG_ERROR, m->file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (!yaml_parser_initialize(&parser)) {
		mload_nomem(m);
	} else {
		yaml_parser_set_input_string(
			&parser, (const unsigned char *)m->buf, m->len);
		mload_parse(m, &parser);
		yaml_parser_delete(&parser);
	}
	if (m->errors == 0 && m->fatal == 0) {
		mload_finish(m);
	}
	mload_free_vecs(m);
	if (m->fatal == -ENOMEM) {
		return -ENOMEM;
	}
	return m->errors != 0 || m->fatal != 0 ? -EINVAL : 0;
}

int manifest_load_buffer(const char *display_path, const char *buf, size_t len,
                         const struct manifest_limits *lim,
                         struct k8s_file **out, struct diag *d)
{
	struct manifest_limits deflim;
	struct mload m;
	int err;

	*out = NULL;
	if (lim == NULL) {
		manifest_limits_default(&deflim);
		lim = &deflim;
	}
	mload_init(&m, display_path, buf, len, lim, d);
	err = mload_run(&m);
	if (err != 0) {
		k8s_file_destroy(m.f);
		return err;
	}
	*out = m.f;
	return 0;
}

static void mstrerror(int err, char *buf, size_t cap)
{
	/* XSI strerror_r (we build without _GNU_SOURCE): thread-safe. */
	if (strerror_r(err, buf, cap) != 0) {
		snprintf(buf, cap, "error %d", err);
	}
}

/* Reads the whole of fd, which holds a regular file of about size octets,
 * into a malloc'd buffer; stops once more than max octets were read. */
static int mread_all(int fd, size_t size, size_t max, char **out, size_t *len)
{
	size_t cap = (size < max ? size : max) + 1;
	char *buf = malloc(cap);
	size_t n = 0;

	if (buf == NULL) {
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *bigger;

			if (cap > max) {
				break; /* grew past the limit: caller says so */
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			bigger = realloc(buf, cap);
			if (bigger == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Reads the regular file path (at most max octets) into a malloc'd
 * buffer. Problems are reported to d under the name show. Returns 0,
 * -errno, or -EINVAL (not a regular file, too large). */
static int mread_file(const char *path, const char *show, size_t max,
                      char **buf, size_t *len, struct diag *d)
{
	char ebuf[128];
	struct stat st;
	int err;
	int fd;

	/* O_NONBLOCK: a FIFO swapped in after the directory scan must not
	 * hang the loader; it is refused by the S_ISREG check below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		mstrerror(-err, ebuf, sizeof(ebuf));
		diag_add(d, DIAG_ERROR, show, 0, 0, "cannot open: %s", ebuf);
		return err;
	}
	if (fstat(fd, &st) != 0) {
		err = -errno;
		mstrerror(-err, ebuf, sizeof(ebuf));
		diag_add(d, DIAG_ERROR, show, 0, 0, "cannot stat: %s", ebuf);
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		diag_add(d, DIAG_ERROR, show, 0, 0, "not a regular file");
		goto out_close;
	}
	if ((uintmax_t)st.st_size > max) {
		err = -EINVAL;
		diag_add(d, DIAG_ERROR, show, 0, 0,
		         "file too large (%jd octets, limit %zu)",
		         (intmax_t)st.st_size, max);
		goto out_close;
	}
	err = mread_all(fd, (size_t)st.st_size, max, buf, len);
	if (err != 0) {
		mstrerror(-err, ebuf, sizeof(ebuf));
		diag_add(d, DIAG_ERROR, show, 0, 0, "cannot read: %s", ebuf);
	}
out_close:
	close(fd);
	return err;
}

int manifest_load_file(const char *path, const char *display_path,
                       const struct manifest_limits *lim, struct k8s_file **out,
                       struct diag *d)
{
	struct manifest_limits deflim;
	const char *show = display_path != NULL ? display_path : path;
	char *buf;
	size_t len;
	int err;

	*out = NULL;
	if (lim == NULL) {
		manifest_limits_default(&deflim);
		lim = &deflim;
	}
	err = mread_file(path, show, lim->max_file_size, &buf, &len, d);
	if (err != 0) {
		return err;
	}
	err = manifest_load_buffer(show, buf, len, lim, out, d);
	free(buf);
	return err;
}

static int mlabels_copy(struct arena *a, const struct k8s_labels *src,
                        struct k8s_labels *dst)
{
	struct k8s_label *items;
	size_t i;

	if (src->n == 0) {
		return 0;
	}
	items = arena_calloc(a, src->n, sizeof(*items));
	if (items == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < src->n; i++) {
		items[i].key = arena_strdup(a, src->items[i].key);
		items[i].value = arena_strdup(a, src->items[i].value);
		if (items[i].key == NULL || items[i].value == NULL) {
			return -ENOMEM;
		}
	}
	dst->items = items;
	dst->n = src->n;
	return 0;
}

int manifest_load_values(const char *path, const char *display_path,
                         struct arena *a, struct k8s_labels *out,
                         struct diag *d)
{
	const char *show = display_path != NULL ? display_path : path;
	struct manifest_limits lim;
	struct k8s_labels tmp = { NULL, 0 };
	struct mload m;
	char *buf;
	size_t len;
	int err;

	out->items = NULL;
	out->n = 0;
	manifest_limits_default(&lim);
	err = mread_file(path, show, lim.max_file_size, &buf, &len, d);
	if (err != 0) {
		return err;
	}
	mload_init(&m, show, buf, len, &lim, d);
	m.values = &tmp;
	err = mload_run(&m);
	free(buf);
	if (err == 0) {
		err = mlabels_copy(a, &tmp, out);
	}
	if (err == -ENOMEM) {
		diag_add(d, DIAG_ERROR, show, 0, 0, "out of memory");
	}
	k8s_file_destroy(m.f);
	return err;
}

/* --- the manifest directory --------------------------------------------- */

/* What a file looked like when it was last loaded: any change reloads. */
struct mstamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
};

struct mset_file {
	char *path;            /* owns: dir "/" relative path */
	struct k8s_file *file; /* owns: last good load, NULL if none */
	struct mstamp stamp;
	bool broken; /* the last load of this file failed */
};

struct manifest_set {
	char *dir; /* owns */
	struct manifest_limits lim;
	struct mset_file *files; /* owns; sorted by path */
	size_t n_files;
	const struct k8s_file **good; /* owns the array; sorted by path */
	size_t n_good;
	char **dirs; /* owns: directories the last good scan read, sorted */
	size_t n_dirs;
};

/* One scan's findings, before anything in the set changes. */
struct mscan_entry {
	char *path; /* owns until handed to the set */
	struct mstamp stamp;
};

struct mscan {
	struct diag *d;
	char *root_real; /* owns: realpath of the directory */
	struct mscan_entry *v;
	size_t n;
	size_t cap;
	char **unreadable; /* owns: subdirectories that failed */
	size_t n_unreadable;
	char **dirs; /* owns: directories read */
	size_t n_dirs;
	size_t cap_dirs;
};

static void mstamp_from(struct mstamp *s, const struct stat *st)
{
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
	s->ctime = st->st_ctim;
}

static bool mstamp_equal(const struct mstamp *a, const struct mstamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

struct manifest_set *manifest_set_create(const char *dir,
                                         const struct manifest_limits *lim)
{
	struct manifest_set *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		free(s);
		return NULL;
	}
	if (lim != NULL) {
		s->lim = *lim;
	} else {
		manifest_limits_default(&s->lim);
	}
	return s;
}

static void mstrv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

void manifest_set_destroy(struct manifest_set *s)
{
	size_t i;

	if (s == NULL) {
		return;
	}
	for (i = 0; i < s->n_files; i++) {
		free(s->files[i].path);
		k8s_file_destroy(s->files[i].file);
	}
	free(s->files);
	free(s->good);
	mstrv_free(s->dirs, s->n_dirs);
	free(s->dir);
	free(s);
}

size_t manifest_set_files(const struct manifest_set *s,
                          const struct k8s_file *const **files)
{
	*files = s->good;
	return s->n_good;
}

size_t manifest_set_dirs(const struct manifest_set *s, const char *const **dirs)
{
	/* The cast only adds const: char ** does not convert to
	 * const char *const * implicitly in C. */
	*dirs = (const char *const *)s->dirs;
	return s->n_dirs;
}

static char *mpath_join(const char *dir, const char *name)
{
	size_t a = strlen(dir);
	size_t b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p != NULL) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

static void mscan_fini(struct mscan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		free(sc->v[i].path);
	}
	mstrv_free(sc->unreadable, sc->n_unreadable);
	mstrv_free(sc->dirs, sc->n_dirs);
	free(sc->v);
	free(sc->root_real);
}

static int mscan_add_dir(struct mscan *sc, const char *dir)
{
	char *copy = strdup(dir);

	if (copy == NULL) {
		return -ENOMEM;
	}
	if (sc->n_dirs == sc->cap_dirs) {
		size_t cap = sc->cap_dirs ? sc->cap_dirs * 2 : 8;
		char **v = realloc(sc->dirs, cap * sizeof(*v));

		if (v == NULL) {
			free(copy);
			return -ENOMEM;
		}
		sc->dirs = v;
		sc->cap_dirs = cap;
	}
	sc->dirs[sc->n_dirs++] = copy;
	return 0;
}

static int mstr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Takes ownership of path. */
static int mscan_add(struct mscan *sc, char *path, const struct stat *st)
{
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 32;
		struct mscan_entry *v = realloc(sc->v, cap * sizeof(*v));

		if (v == NULL) {
			free(path);
			return -ENOMEM;
		}
		sc->v = v;
		sc->cap = cap;
	}
	sc->v[sc->n].path = path;
	mstamp_from(&sc->v[sc->n].stamp, st);
	sc->n++;
	return 0;
}

/* Remembers a subdirectory that could not be read: the files known under
 * it keep their objects rather than vanish on a transient error. Takes
 * ownership of path. */
static int mscan_unreadable(struct mscan *sc, char *path, int err)
{
	char **v = realloc(sc->unreadable, (sc->n_unreadable + 1) * sizeof(*v));
	char ebuf[128];

	if (v == NULL) {
		free(path);
		return -ENOMEM;
	}
	mstrerror(-err, ebuf, sizeof(ebuf));
	diag_add(sc->d, DIAG_ERROR, path, 0, 0, "cannot read directory: %s",
	         ebuf);
	sc->unreadable = v;
	sc->unreadable[sc->n_unreadable++] = path;
	return 0;
}

static bool mscan_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/* A symlink is followed only to a regular file inside the directory, as
 * Kubernetes' ConfigMap layout needs (web.yaml -> ..data/web.yaml,
 * ..data -> ..2024_01_01_00_00_00.1); RELIABILITY.md section 4. */
static bool mscan_link_ok(struct mscan *sc, const char *path)
{
	char *real = realpath(path, NULL);
	bool ok = real != NULL && sc->root_real != NULL &&
	          mscan_under(real, sc->root_real);

	if (real != NULL && !ok) {
		diag_add(
			sc->d, DIAG_WARNING, path, 0, 0,
			"symlink leads outside the manifest directory, skipped");
	}
	free(real);
	return ok;
}

static int mscan_dir(struct mscan *sc, const char *dir, unsigned depth);

/* Looks at one directory entry; takes ownership of path. */
static int mscan_entry(struct mscan *sc, char *path, const char *name,
                       unsigned depth)
{
	struct stat st;
	int err;

	if (lstat(path, &st) != 0) {
		free(path); /* gone since readdir */
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth + 1 > MANIFEST_MAX_SCAN_DEPTH) {
			diag_add(sc->d, DIAG_WARNING, path, 0, 0,
			         "more than %d directory levels, skipped",
			         MANIFEST_MAX_SCAN_DEPTH);
			free(path);
			return 0;
		}
		err = mscan_dir(sc, path, depth + 1);
		if (err == -ENOMEM) {
			free(path);
			return err;
		}
		if (err != 0) {
			return mscan_unreadable(sc, path, err);
		}
		free(path);
		return 0;
	}
	if (!manifest_is_manifest_name(name)) {
		free(path);
		return 0;
	}
	if (S_ISLNK(st.st_mode) &&
	    (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	     !mscan_link_ok(sc, path))) {
		free(path);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		free(path);
		return 0;
	}
	return mscan_add(sc, path, &st);
}

/* Collects the manifest files under dir. Returns 0, or -errno when dir
 * itself cannot be read (or -ENOMEM). */
static int mscan_dir(struct mscan *sc, const char *dir, unsigned depth)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int err;

	if (dp == NULL) {
		return -errno;
	}
	err = mscan_add_dir(sc, dir);
	while (err == 0) {
		char *path;

		errno = 0;
		de = readdir(dp);
		if (de == NULL) {
			err = errno != 0 ? -errno : 0;
			break;
		}
		/* ".", "..", dot-files, and Kubernetes' ..data and
		 * ..<timestamp> directories. */
		if (de->d_name[0] == '.') {
			continue;
		}
		path = mpath_join(dir, de->d_name);
		if (path == NULL) {
			err = -ENOMEM;
			break;
		}
		err = mscan_entry(sc, path, de->d_name, depth);
		if (err != 0) {
			break;
		}
	}
	closedir(dp);
	return err;
}

static int mscan_cmp(const void *pa, const void *pb)
{
	const struct mscan_entry *a = pa;
	const struct mscan_entry *b = pb;

	return strcmp(a->path, b->path);
}

static bool mscan_is_unreadable(const struct mscan *sc, const char *path)
{
	size_t i;

	for (i = 0; i < sc->n_unreadable; i++) {
		if (mscan_under(path, sc->unreadable[i])) {
			return true;
		}
	}
	return false;
}

/* A file to (re)load: parsed on a loader thread, applied in order. */
struct mset_job {
	struct mset_file *slot;
	const struct mstamp *stamp;
	struct k8s_file *f; /* the result */
	struct diag fd;     /* its diagnostics */
	int err;
};

/* Parsing dominates a big (re)load (libyaml reads ~40 MB/s): files are
 * parsed on up to this many threads when there is enough to share. */
#define MSET_LOAD_THREADS_MAX     4
#define MSET_LOAD_PARALLEL_OCTETS (1024 * 1024)

struct mset_loader {
	const struct manifest_set *s;
	struct mset_job **order; /* largest file first: the threads finish
	                            together */
	size_t n;
	_Atomic size_t next;
};

static void mset_run_one(const struct manifest_set *s, struct mset_job *j)
{
	diag_init(&j->fd);
	j->err = manifest_load_file(j->slot->path, j->slot->path, &s->lim,
	                            &j->f, &j->fd);
}

static void mset_run_jobs(struct mset_loader *l)
{
	size_t i;

	while ((i = atomic_fetch_add(&l->next, 1)) < l->n) {
		mset_run_one(l->s, l->order[i]);
	}
}

static void *mset_loader_main(void *arg)
{
	mset_run_jobs(arg);
	return NULL;
}

/* Parses the jobs' files: on this thread, or on several when they add up
 * to more than MSET_LOAD_PARALLEL_OCTETS (any thread that cannot be
 * started leaves its share to the others). */
/* The CPUs this process may run on (a taskset or a cgroup cpuset): more
 * parsing threads than that only add contention. */
static long mset_cpus(void)
{
	/* The raw call: glibc's wrapper needs _GNU_SOURCE, which would also
	 * switch strerror_r to its GNU form. */
	unsigned long mask[16];
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
	long cpus = 0;
	long i;

	if (n <= 0) {
		return sysconf(_SC_NPROCESSORS_ONLN);
	}
	for (i = 0; i < n / (long)sizeof(mask[0]); i++) {
		cpus += __builtin_popcountl(mask[i]);
	}
	return cpus > 0 ? cpus : 1;
}

static int mset_job_size_cmp(const void *a, const void *b)
{
	off_t x = (*(struct mset_job *const *)a)->stamp->size;
	off_t y = (*(struct mset_job *const *)b)->stamp->size;

	return (x < y) - (x > y);
}

static void mset_load_all(const struct manifest_set *s, struct mset_job *jobs,
                          size_t n)
{
	struct mset_loader l = { .s = s, .n = n };
	pthread_t th[MSET_LOAD_THREADS_MAX];
	size_t started = 0;
	size_t want = 1;
	off_t octets = 0;
	long cpus = mset_cpus();
	size_t i;

	atomic_init(&l.next, 0);
	l.order = malloc((n + 1) * sizeof(*l.order));
	if (l.order == NULL) {
		for (i = 0; i < n; i++) { /* one at a time, in order */
			mset_run_one(s, &jobs[i]);
		}
		return;
	}
	for (i = 0; i < n; i++) {
		l.order[i] = &jobs[i];
		octets += jobs[i].stamp->size;
	}
	if (octets >= MSET_LOAD_PARALLEL_OCTETS && n > 1 && cpus > 1) {
		want = (size_t)cpus < MSET_LOAD_THREADS_MAX
		               ? (size_t)cpus
		               : MSET_LOAD_THREADS_MAX;
		want = want < n ? want : n;
	}
	if (want > 1) {
		qsort(l.order, n, sizeof(*l.order), mset_job_size_cmp);
	}
	while (started + 1 < want &&
	       pthread_create(&th[started], NULL, mset_loader_main, &l) == 0) {
		started++;
	}
	mset_run_jobs(&l);
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
	}
	free(l.order);
}

/* Takes over one parsed file. A failure keeps the last good objects; the
 * stamp is still recorded, so that a broken file is not parsed again (and
 * reported again) until it changes, except after running out of memory.
 * Each file has had a diag of its own: it reports up to DIAG_MAX_KEPT
 * entries, however many came before it. */
static void mset_apply(struct mset_job *j, struct diag *d,
                       struct manifest_scan_stats *st)
{
	struct mset_file *slot = j->slot;

	diag_move(d, &j->fd);
	if (j->err == 0) {
		struct k8s_file *f = j->f;

		k8s_file_destroy(slot->file);
		slot->file = f;
		slot->broken = false;
		st->loaded++;
		st->changed = true;
		log_debug(
			"manifest: loaded file=%s services=%zu slices=%zu pods=%zu namespaces=%zu unknown=%zu",
			slot->path, f->n_services, f->n_slices, f->n_pods,
			f->n_namespaces, f->n_unknown);
	} else {
		slot->broken = true;
		st->failed++;
	}
	if (j->err != -ENOMEM) {
		slot->stamp = *j->stamp;
	}
}

/* Merges the sorted scan into the sorted set. out has room for both; jobs
 * gets the files to (re)load (room for sc->n). */
static size_t mset_merge(struct manifest_set *s, struct mscan *sc, bool force,
                         struct mset_file *out, struct mset_job *jobs,
                         size_t *n_jobs, struct manifest_scan_stats *st)
{
	size_t i = 0;
	size_t j = 0;
	size_t n = 0;

	*n_jobs = 0;
	while (i < s->n_files || j < sc->n) {
		int c = i == s->n_files ? 1
		        : j == sc->n    ? -1
		                     : strcmp(s->files[i].path, sc->v[j].path);

		if (c < 0 && mscan_is_unreadable(sc, s->files[i].path)) {
			out[n++] = s->files[i++];
		} else if (c < 0) {
			st->removed++;
			st->changed = st->changed || s->files[i].file != NULL;
			free(s->files[i].path);
			k8s_file_destroy(s->files[i].file);
			i++;
		} else if (c == 0) {
			out[n] = s->files[i++];
			if (force ||
			    !mstamp_equal(&out[n].stamp, &sc->v[j].stamp)) {
				jobs[*n_jobs].slot = &out[n];
				jobs[(*n_jobs)++].stamp = &sc->v[j].stamp;
			}
			n++;
			j++;
		} else {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].path = sc->v[j].path;
			sc->v[j].path = NULL;
			jobs[*n_jobs].slot = &out[n];
			jobs[(*n_jobs)++].stamp = &sc->v[j].stamp;
			n++;
			j++;
		}
	}
	return n;
}

int manifest_set_scan(struct manifest_set *s, bool force, struct diag *d,
                      struct manifest_scan_stats *st)
{
	struct manifest_scan_stats local;
	const struct k8s_file **good;
	struct mset_file *files;
	struct mset_job *jobs;
	struct mscan sc;
	size_t n;
	size_t n_jobs;
	size_t i;
	int err;

	if (st == NULL) {
		st = &local;
	}
	memset(st, 0, sizeof(*st));
	memset(&sc, 0, sizeof(sc));
	sc.d = d;
	sc.root_real = realpath(s->dir, NULL);
	/* Everything that can fail happens before the set is touched: if
	 * the directory cannot be read, the last good objects all stay. */
	err = mscan_dir(&sc, s->dir, 0);
	if (err != 0) {
		goto out_fini;
	}
	if (sc.n > 1) {
		/* An empty directory has no array at all (qsort wants one). */
		qsort(sc.v, sc.n, sizeof(*sc.v), mscan_cmp);
	}
	files = calloc(s->n_files + sc.n + 1, sizeof(*files));
	good = calloc(s->n_files + sc.n + 1, sizeof(*good));
	jobs = calloc(sc.n + 1, sizeof(*jobs));
	if (files == NULL || good == NULL || jobs == NULL) {
		free(files);
		free(good);
		free(jobs);
		err = -ENOMEM;
		goto out_fini;
	}
	st->files = (unsigned)sc.n;
	n = mset_merge(s, &sc, force, files, jobs, &n_jobs, st);
	mset_load_all(s, jobs, n_jobs);
	for (i = 0; i < n_jobs; i++) {
		mset_apply(&jobs[i], d, st);
	}
	free(jobs);
	free(s->files);
	free(s->good);
	s->files = files;
	s->n_files = n;
	s->good = good;
	s->n_good = 0;
	st->broken = 0;
	for (i = 0; i < n; i++) {
		if (files[i].file != NULL) {
			good[s->n_good++] = files[i].file;
		}
		st->broken += files[i].broken;
	}
	if (sc.n_dirs > 1) {
		qsort(sc.dirs, sc.n_dirs, sizeof(*sc.dirs), mstr_cmp);
	}
	mstrv_free(s->dirs, s->n_dirs);
	s->dirs = sc.dirs;
	s->n_dirs = sc.n_dirs;
	sc.dirs = NULL;
	sc.n_dirs = 0;
out_fini:
	mscan_fini(&sc);
	return err;
}

/* --- Kubernetes API responses ------------------------------------------- */

/* Copies a scalar into out (cap octets, NUL included). Returns 1 when
 * copied, 0 when absent or null, -1 when not a string or too long. No
 * diagnostic: the callers say what the field was for. */
static int api_copy(const struct ynode *v, char *out, size_t cap)
{
	const struct ynode *n = yderef(v);

	out[0] = '\0';
	if (ynode_is_null(n)) {
		return 0;
	}
	if (n->type != YNODE_SCALAR || n->len >= cap ||
	    strlen(n->text) != n->len) {
		return -1;
	}
	memcpy(out, n->text, n->len + 1);
	return 1;
}

enum {
	AF_KIND,
	AF_APIVERSION,
	AF_METADATA,
	AF_ITEMS,
	AF_TYPE,
	AF_OBJECT,
	AF_CODE,
	AF_MESSAGE,
	AF_N,
};

static const char *const api_fields[AF_N] = {
	[AF_KIND] = "kind",         [AF_APIVERSION] = "apiVersion",
	[AF_METADATA] = "metadata", [AF_ITEMS] = "items",
	[AF_TYPE] = "type",         [AF_OBJECT] = "object",
	[AF_CODE] = "code",         [AF_MESSAGE] = "message",
};

enum {
	AM_RV,
	AM_CONTINUE,
	AM_NAME,
	AM_NAMESPACE,
	AM_N,
};

static const char *const api_meta_fields[AM_N] = {
	[AM_RV] = "resourceVersion",
	[AM_CONTINUE] = "continue",
	[AM_NAME] = "name",
	[AM_NAMESPACE] = "namespace",
};

/* The metadata mapping of obj, its fields in mf; false when absent. */
static bool api_meta(const struct ynode *obj, const struct ynode **mf)
{
	const struct ynode *f[AF_N];
	const struct ynode *md;

	map_fields(obj, api_fields, AF_N, f);
	md = yderef(f[AF_METADATA]);
	if (md == NULL || md->type != YNODE_MAP) {
		return false;
	}
	map_fields(md, api_meta_fields, AM_N, mf);
	return true;
}

/* Parses the one JSON document of m->buf into t (root NULL when empty).
 * Returns 0 or the latched fatal error. */
static int api_tree(struct mload *m, yaml_parser_t *p, struct ytree *t)
{
	memset(t, 0, sizeof(*t));
	t->a = arena_create(0);
	if (t->a == NULL) {
		mload_nomem(m);
		return m->fatal;
	}
	if (ytree_build(m, p, t) < 0) {
		return m->fatal;
	}
	if (t->root == NULL || yderef(t->root)->type != YNODE_MAP) {
		mload_fatal(m, -EINVAL, 1, 1, "expected a JSON object");
	}
	return m->fatal;
}

/* Walks the items of a list page one at a time: an item with errors is
 * dropped from the arrays (its diagnostics stay) and counted. */
static void api_walk_items(struct mload *m, const struct ynode *seq,
                           const char *api, const char *item_kind,
                           size_t *skipped)
{
	const struct ynode *it;
	size_t i = 0;

	for (it = seq->first; it != NULL && m->fatal == 0; it = it->next, i++) {
		const struct ynode *item = yderef(it);
		unsigned errors = m->errors;
		size_t n[4] = { m->namespaces.n, m->services.n, m->slices.n,
			        m->pods.n };
		size_t old = w_push(m, "items");
		size_t o = w_push_index(m, i);

		if (item->type != YNODE_MAP) {
			w_err(m, it, NULL, "expected a mapping, found %s",
			      ytype_name(item));
		} else {
			walk_object(m, item, api, item_kind, true);
		}
		w_pop(m, o);
		w_pop(m, old);
		if (m->errors != errors) {
			m->namespaces.n = n[0];
			m->services.n = n[1];
			m->slices.n = n[2];
			m->pods.n = n[3];
			m->errors = errors;
			(*skipped)++;
		}
	}
}

static void api_list(struct mload *m, const struct ynode *root,
                     struct manifest_api_list *out)
{
	const struct ynode *f[AF_N];
	const struct ynode *mf[AM_N];
	char api[128];
	char kind[64];
	const struct ynode *seq;
	size_t klen;

	map_fields(root, api_fields, AF_N, f);
	if (api_copy(f[AF_KIND], kind, sizeof(kind)) != 1 ||
	    !kind_is_list(kind) ||
	    api_copy(f[AF_APIVERSION], api, sizeof(api)) != 1) {
		mload_fatal(
			m, -EINVAL, root->line, root->col,
			"not a Kubernetes list (kind *List and apiVersion)");
		return;
	}
	if (!api_meta(root, mf) ||
	    api_copy(mf[AM_RV], out->resource_version,
	             sizeof(out->resource_version)) != 1) {
		mload_fatal(m, -EINVAL, root->line, root->col,
		            "list without metadata.resourceVersion");
		return;
	}
	seq = yderef(f[AF_ITEMS]);
	if (mf[AM_CONTINUE] != NULL && !ynode_is_null(mf[AM_CONTINUE])) {
		const struct ynode *c = yderef(mf[AM_CONTINUE]);

		if (c->type != YNODE_SCALAR || strlen(c->text) != c->len) {
			mload_fatal(m, -EINVAL, c->line, c->col,
			            "metadata.continue: not a string");
			return;
		}
		if (c->len != 0) {
			out->cont = strdup(c->text);
			if (out->cont == NULL) {
				mload_nomem(m);
				return;
			}
		}
	}
	if (ynode_is_null(seq)) {
		return; /* "items": null is an empty list */
	}
	if (seq->type != YNODE_SEQ) {
		mload_fatal(m, -EINVAL, seq->line, seq->col,
		            "items: expected a sequence");
		return;
	}
	klen = strlen(kind) - 4;
	memcpy(m->item_kind, kind, klen);
	m->item_kind[klen] = '\0';
	api_walk_items(m, seq, api, m->item_kind, &out->skipped);
}

/* Sets up the parser on m->buf and runs fn on the document's root. */
static int api_run(struct mload *m,
                   void (*fn)(struct mload *m, const struct ynode *root,
                              void *arg),
                   void *arg)
{
	yaml_parser_t parser;
	struct ytree t;

	if (m->len > m->lim->max_file_size) {
		diag_add(m->d, DIAG_ERROR, m->file, 0, 0,
		         "response too large (%zu octets, limit %zu)", m->len,
		         m->lim->max_file_size);
		return -EINVAL;
	}
	m->f = mload_file_create(m->file, m->len);
	if (m->f == NULL) {
		diag_add(m->d, DIAG_ERROR, m->file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	memset(&t, 0, sizeof(t));
	if (!yaml_parser_initialize(&parser)) {
		mload_nomem(m);
	} else {
		yaml_parser_set_input_string(
			&parser, (const unsigned char *)m->buf, m->len);
		if (api_tree(m, &parser, &t) == 0) {
			fn(m, yderef(t.root), arg);
		}
		yaml_parser_delete(&parser);
	}
	ytree_fini(&t);
	if (m->fatal == 0) {
		mload_finish(m);
	}
	mload_free_vecs(m);
	return m->fatal;
}

static void api_list_fn(struct mload *m, const struct ynode *root, void *arg)
{
	api_list(m, root, arg);
}

int manifest_api_decode_list(const char *display_path, const char *buf,
                             size_t len, const struct manifest_limits *lim,
                             struct manifest_api_list *out, struct diag *d)
{
	struct manifest_limits deflim;
	struct mload m;
	int err;

	memset(out, 0, sizeof(*out));
	if (lim == NULL) {
		manifest_limits_default(&deflim);
		lim = &deflim;
	}
	mload_init(&m, display_path, buf, len, lim, d);
	err = api_run(&m, api_list_fn, out);
	if (err != 0) {
		k8s_file_destroy(m.f);
		manifest_api_list_fini(out);
		return err;
	}
	out->file = m.f;
	return 0;
}

void manifest_api_list_fini(struct manifest_api_list *l)
{
	k8s_file_destroy(l->file);
	l->file = NULL;
	free(l->cont);
	l->cont = NULL;
}

static bool api_event_type(const char *s, enum manifest_api_event_type *out)
{
	static const char *const names[] = {
		[MANIFEST_API_ADDED] = "ADDED",
		[MANIFEST_API_MODIFIED] = "MODIFIED",
		[MANIFEST_API_DELETED] = "DELETED",
		[MANIFEST_API_BOOKMARK] = "BOOKMARK",
		[MANIFEST_API_ERROR] = "ERROR",
	};
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum manifest_api_event_type)i;
			return true;
		}
	}
	return false;
}

/* ERROR events carry a Status: {"kind":"Status","code":410,...}. */
static void api_event_status(struct mload *m, const struct ynode *obj,
                             struct manifest_api_event *ev)
{
	const struct ynode *f[AF_N];
	const struct ynode *msg;
	long code = 0;

	map_fields(obj, api_fields, AF_N, f);
	if (w_int(m, f[AF_CODE], "object.code", 0, 999, &code) == 1) {
		ev->code = code;
	}
	msg = yderef(f[AF_MESSAGE]);
	if (msg != NULL && msg->type == YNODE_SCALAR) {
		snprintf(ev->message, sizeof(ev->message), "%s", msg->text);
	}
	m->errors = 0; /* a Status with odd fields is still an ERROR */
}

static void api_event(struct mload *m, const struct ynode *root,
                      struct manifest_api_event *ev)
{
	const struct ynode *f[AF_N];
	const struct ynode *mf[AM_N];
	const struct ynode *obj;
	char type[16];

	map_fields(root, api_fields, AF_N, f);
	obj = yderef(f[AF_OBJECT]);
	if (api_copy(f[AF_TYPE], type, sizeof(type)) != 1 ||
	    !api_event_type(type, &ev->type) || obj == NULL ||
	    obj->type != YNODE_MAP) {
		mload_fatal(m, -EINVAL, root->line, root->col,
		            "not a watch event (type and object)");
		return;
	}
	if (ev->type == MANIFEST_API_ERROR) {
		api_event_status(m, obj, ev);
		return;
	}
	if (!api_meta(obj, mf) || api_copy(mf[AM_RV], ev->resource_version,
	                                   sizeof(ev->resource_version)) < 0) {
		mload_fatal(m, -EINVAL, obj->line, obj->col,
		            "object.metadata.resourceVersion: not a string");
		return;
	}
	if (ev->type == MANIFEST_API_BOOKMARK) {
		return;
	}
	if (api_copy(mf[AM_NAMESPACE], ev->ns, sizeof(ev->ns)) < 0 ||
	    api_copy(mf[AM_NAME], ev->name, sizeof(ev->name)) != 1) {
		mload_fatal(m, -EINVAL, obj->line, obj->col,
		            "object without a usable metadata.name");
		return;
	}
	map_fields(obj, api_fields, AF_N, f);
	if (api_copy(f[AF_KIND], ev->kind, sizeof(ev->kind)) != 1) {
		mload_fatal(m, -EINVAL, obj->line, obj->col,
		            "object without kind");
		return;
	}
	w_push(m, "object");
	walk_object(m, obj, NULL, NULL, true);
}

static void api_event_fn(struct mload *m, const struct ynode *root, void *arg)
{
	api_event(m, root, arg);
}

int manifest_api_decode_event(const char *display_path, const char *buf,
                              size_t len, const struct manifest_limits *lim,
                              struct manifest_api_event *ev, struct diag *d)
{
	struct manifest_limits deflim;
	struct mload m;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (lim == NULL) {
		manifest_limits_default(&deflim);
		lim = &deflim;
	}
	mload_init(&m, display_path, buf, len, lim, d);
	err = api_run(&m, api_event_fn, ev);
	if (err != 0) {
		k8s_file_destroy(m.f);
		memset(ev, 0, sizeof(*ev));
		return err;
	}
	if (m.errors != 0 || ev->type == MANIFEST_API_BOOKMARK ||
	    ev->type == MANIFEST_API_ERROR) {
		k8s_file_destroy(m.f);
		return 0;
	}
	ev->file = m.f;
	return 0;
}

void manifest_api_event_fini(struct manifest_api_event *ev)
{
	k8s_file_destroy(ev->file);
	ev->file = NULL;
}
