/* Splits a watch response body into its lines: the API server writes one
 * JSON event per line, and the body arrives in chunks cut anywhere. A line
 * longer than the limit is an error (the caller drops the stream and
 * re-lists), so a server that never sends a newline cannot make us buffer
 * without bound. Plain data; any thread, one owner. */
#ifndef SVCDNS_KUBE_LINES_H
#define SVCDNS_KUBE_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "svcdns/common.h"

struct kube_lines {
	char *buf; /* owns (malloc): the start of an unfinished line */
	size_t len;
	size_t cap;
	size_t max; /* longest line accepted, octets */
};

/* Called per complete line, without its "\n" (nor a "\r" before it); never
 * for empty lines. The text is not NUL-terminated and is valid only during
 * the call. A non-zero return stops the feed and is returned by it. */
typedef int (*kube_lines_fn)(void *ud, const char *line, size_t len);

void kube_lines_init(struct kube_lines *l, size_t max);
void kube_lines_fini(struct kube_lines *l);

/* Forgets an unfinished line (a new response starts). */
void kube_lines_reset(struct kube_lines *l);

/* Feeds n octets. Returns 0, -EMSGSIZE when a line passes max (the
 * partial line is dropped), -ENOMEM, or fn's first non-zero return. */
SVCDNS_MUSTCHECK int kube_lines_feed(struct kube_lines *l, const char *data,
                                     size_t n, kube_lines_fn fn, void *ud);

/* Octets of an unfinished line held. */
size_t kube_lines_pending(const struct kube_lines *l);

#endif
