/* A fingerprint of a directory tree's state, for the start-up cache: the
 * cache is used only when nothing under the manifest directory changed
 * since it was written. */
#ifndef SVCDNS_DIRSTAMP_H
#define SVCDNS_DIRSTAMP_H

#include <stdint.h>

#include "svcdns/common.h"

/* Hashes every entry under dir, in name order: its name, type, size,
 * inode, modification and change times, and for a symbolic link its
 * target and what it points at (followed into directories, as the
 * manifest scan follows a ConfigMap's ..data link). Any change below dir
 * changes *out. Returns 0, -errno when dir cannot be read, or -E2BIG past
 * DIRSTAMP_MAX_ENTRIES entries or DIRSTAMP_MAX_DEPTH levels. Any thread. */
#define DIRSTAMP_MAX_ENTRIES 1000000
#define DIRSTAMP_MAX_DEPTH   32
SVCDNS_MUSTCHECK int dirstamp(const char *dir, uint64_t *out);

#endif
