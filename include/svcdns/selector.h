/* Kubernetes label selectors: the map form of Service.spec.selector, and
 * the text form used by filters ("app=web,tier!=db,env in (a,b),!legacy,
 * release"). */
#ifndef SVCDNS_SELECTOR_H
#define SVCDNS_SELECTOR_H

#include <stdbool.h>

#include "svcdns/common.h"
#include "svcdns/k8s.h"

struct arena;

/* True when every key of sel is in labels with the same value. An empty
 * selector matches everything. */
bool selector_matches(const struct k8s_labels *sel,
                      const struct k8s_labels *labels);

/* As selector_matches, but the key override_key (when not NULL) must have
 * override_value instead of sel's value (used for blue/green colors). The
 * override is required even when sel does not name override_key. */
bool selector_matches_with(const struct k8s_labels *sel,
                           const struct k8s_labels *labels,
                           const char *override_key,
                           const char *override_value);

struct selector;

/* Parses the text form into an object in arena a. Returns 0, or -EINVAL
 * with *errpos set to the 0-based offset of the problem. */
SVCDNS_MUSTCHECK int selector_parse(const char *text, struct arena *a,
                                    struct selector **out, size_t *errpos);

bool selector_eval(const struct selector *s, const struct k8s_labels *labels);

#endif
