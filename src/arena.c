#include "svcdns/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_DEFAULT_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	size_t used;
	/* Payload follows; aligned by the allocation itself. */
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
	struct arena_chunk *spare; /* emptied by arena_reset, for reuse */
	size_t chunk_size;
	size_t footprint;
	size_t limit;
};

struct arena *arena_create(size_t chunk_size)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		return NULL;
	}
	a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
	return a;
}

void arena_destroy(struct arena *a)
{
	struct arena_chunk *c;

	if (a == NULL) {
		return;
	}
	arena_reset(a);
	c = a->spare;
	while (c != NULL) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	free(a);
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;

	while (c != NULL) {
		struct arena_chunk *next = c->next;

		c->used = 0;
		c->next = a->spare;
		a->spare = c;
		c = next;
	}
	a->head = NULL;
}

/* The smallest emptied chunk of at least need octets, unlinked, or NULL:
 * a small request must not take the chunk a large one will want. */
static struct arena_chunk *arena_take_spare(struct arena *a, size_t need)
{
	struct arena_chunk **best = NULL;
	struct arena_chunk **pp;

	for (pp = &a->spare; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->size >= need &&
		    (best == NULL || (*pp)->size < (*best)->size)) {
			best = pp;
		}
	}
	if (best != NULL) {
		struct arena_chunk *c = *best;

		*best = c->next;
		return c;
	}
	return NULL;
}

static struct arena_chunk *arena_grow(struct arena *a, size_t need)
{
	size_t size = need > a->chunk_size ? need : a->chunk_size;
	struct arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c)) {
		return NULL;
	}
	c = arena_take_spare(a, need);
	if (c == NULL) {
		if (a->limit != 0 && a->footprint + size > a->limit) {
			return NULL;
		}
		c = malloc(sizeof(*c) + size);
		if (c == NULL) {
			return NULL;
		}
		c->size = size;
		a->footprint += size;
	}
	c->used = 0;
	/* A large request gets its own chunk behind the head, so the head's
	 * free space stays usable for small ones. */
	if (need > a->chunk_size && a->head != NULL) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t rounded;
	void *p;

	if (size > SIZE_MAX - 8) {
		return NULL;
	}
	rounded = (size + 7) & ~(size_t)7;
	if (rounded == 0) {
		rounded = 8;
	}
	if (c == NULL || c->size - c->used < rounded) {
		c = arena_grow(a, rounded);
		if (c == NULL) {
			return NULL;
		}
	}
	p = (char *)c->data + c->used;
	c->used += rounded;
	return p;
}

void *arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		return NULL;
	}
	p = arena_alloc(a, n * size);
	if (p != NULL) {
		memset(p, 0, n * size);
	}
	return p;
}

void *arena_memdup(struct arena *a, const void *src, size_t len)
{
	void *p = arena_alloc(a, len);

	if (p != NULL && len != 0) {
		memcpy(p, src, len);
	}
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_set_limit(struct arena *a, size_t limit)
{
	a->limit = limit;
}

size_t arena_footprint(const struct arena *a)
{
	return a->footprint;
}
