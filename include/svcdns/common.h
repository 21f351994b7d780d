/* Project-wide helpers shared by every module. */
#ifndef SVCDNS_COMMON_H
#define SVCDNS_COMMON_H

#include <stddef.h>

#define SVCDNS_VERSION "0.1.0"

/* Public functions that return an error code must have it checked. */
#define SVCDNS_MUSTCHECK __attribute__((warn_unused_result))

/* Marks an intended switch fallthrough (-Wimplicit-fallthrough=5). */
#define SVCDNS_FALLTHROUGH __attribute__((fallthrough))

#define SVCDNS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* The text of a macro's value (for usage texts). */
#define SVCDNS_STR_(x) #x
#define SVCDNS_STR(x)  SVCDNS_STR_(x)

#define SVCDNS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SVCDNS_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
