/* Bump allocator: many small allocations, one free. A snapshot and each
 * loaded manifest file live in their own arena. Not thread-safe: one owner
 * at a time. */
#ifndef SVCDNS_ARENA_H
#define SVCDNS_ARENA_H

#include <stddef.h>

#include "svcdns/common.h"

struct arena;

/* Creates an arena that grows in chunks of at least chunk_size octets
 * (0 picks a default). Returns NULL when out of memory. */
struct arena *arena_create(size_t chunk_size);

/* Frees the arena and everything allocated from it. NULL is a no-op. */
void arena_destroy(struct arena *a);

/* Forgets everything allocated from the arena but keeps its chunks, which
 * the next allocations fill again: memory written before, so no fresh
 * pages to fault in. The footprint and the limit still count them. */
void arena_reset(struct arena *a);

/* Returns size octets aligned to 8, or NULL when out of memory or when the
 * arena's limit (arena_set_limit) would be passed. Memory is not zeroed. */
void *arena_alloc(struct arena *a, size_t size);

/* As arena_alloc, zeroed, for n elements of size octets (overflow checked). */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/* Copies len octets (or a NUL-terminated string) into the arena. */
void *arena_memdup(struct arena *a, const void *p, size_t len);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Caps the total octets the arena may hold (0 = no cap). */
void arena_set_limit(struct arena *a, size_t limit);

/* Octets requested from the system so far (chunks), for memory accounting. */
size_t arena_footprint(const struct arena *a);

#endif
