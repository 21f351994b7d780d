/* Prometheus text exposition format 0.0.4, written into a growable buffer:
 * families (# HELP, # TYPE) and samples with optional labels. The values
 * themselves live where they are counted (per-worker counters in server.c,
 * the watch's stats...) and are summed by whoever renders. Any thread; a
 * buffer belongs to one thread at a time. */
#ifndef SVCDNS_METRICS_H
#define SVCDNS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"

struct metrics_buf {
	char *p; /* owns; NUL-terminated while not oom */
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed: the text is incomplete */
};

void metrics_buf_init(struct metrics_buf *b);
void metrics_buf_fini(struct metrics_buf *b);

/* Writes "# HELP name help" and "# TYPE name type" (type: counter, gauge,
 * histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type,
                    const char *help);

/* One sample: name{labels} value. labels is NULL or the inside of the
 * braces, already formatted (use metrics_label to escape values). */
void metrics_u64(struct metrics_buf *b, const char *name, const char *labels,
                 uint64_t value);
void metrics_f64(struct metrics_buf *b, const char *name, const char *labels,
                 double value);

/* Formats key="value" into out (cap octets), escaping \, " and newline in
 * value as the format requires; appends to what out holds when append is
 * true (with a comma). Returns out. */
char *metrics_label(char *out, size_t cap, bool append, const char *key,
                    const char *value);

/* Appends printf-style text as is. */
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	SVCDNS_PRINTF(2, 3);

#endif
