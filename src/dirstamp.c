#include "svcdns/dirstamp.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dstamp {
	uint64_t h;
	size_t entries;
	/* The directories being walked, against symbolic link loops. */
	dev_t dev[DIRSTAMP_MAX_DEPTH + 1];
	ino_t ino[DIRSTAMP_MAX_DEPTH + 1];
	unsigned depth;
};

static void ds_mix(struct dstamp *d, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		d->h = (d->h ^ b[i]) * 0x100000001b3ull;
	}
	d->h ^= d->h >> 31;
}

static void ds_mix_stat(struct dstamp *d, const struct stat *st)
{
	uint64_t v[9] = {
		(uint64_t)st->st_dev,         (uint64_t)st->st_ino,
		(uint64_t)st->st_mode,        (uint64_t)st->st_size,
		(uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
		(uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
		(uint64_t)st->st_nlink,
	};

	ds_mix(d, v, sizeof(v));
}

static int ds_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ds_walk(struct dstamp *d, char *path, size_t len);

/* One entry of the directory at path[0..len): path is extended in place. */
static int ds_entry(struct dstamp *d, char *path, size_t len, const char *name)
{
	size_t nl = strlen(name);
	struct stat st;
	struct stat lst;
	unsigned i;
	int err;

	if (len + 1 + nl + 1 > PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (++d->entries > DIRSTAMP_MAX_ENTRIES) {
		return -E2BIG;
	}
	path[len] = '/';
	memcpy(path + len + 1, name, nl + 1);
	ds_mix(d, name, nl + 1);
	if (lstat(path, &lst) != 0) {
		ds_mix(d, "?", 1); /* gone meanwhile: still a state */
		return 0;
	}
	ds_mix_stat(d, &lst);
	if (S_ISLNK(lst.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target));

		if (n > 0) {
			ds_mix(d, target, (size_t)n);
		}
		if (stat(path, &st) != 0) {
			ds_mix(d, "!", 1); /* dangling */
			return 0;
		}
		ds_mix_stat(d, &st);
	} else {
		st = lst;
	}
	if (!S_ISDIR(st.st_mode)) {
		return 0;
	}
	for (i = 0; i <= d->depth; i++) {
		if (d->dev[i] == st.st_dev && d->ino[i] == st.st_ino) {
			ds_mix(d, "@", 1); /* a loop back up: not followed */
			return 0;
		}
	}
	if (d->depth == DIRSTAMP_MAX_DEPTH) {
		return -E2BIG;
	}
	d->depth++;
	d->dev[d->depth] = st.st_dev;
	d->ino[d->depth] = st.st_ino;
	err = ds_walk(d, path, len + 1 + nl);
	d->depth--;
	return err;
}

static int ds_walk(struct dstamp *d, char *path, size_t len)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	size_t i;
	int err = 0;

	if (dir == NULL) {
		return -errno;
	}
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			char **v = realloc(names, c * sizeof(*v));

			if (v == NULL) {
				err = -ENOMEM;
				break;
			}
			names = v;
			cap = c;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (err == 0) {
		if (n > 1) { /* an empty directory has no array */
			qsort(names, n, sizeof(*names), ds_cmp);
		}
		ds_mix(d, "{", 1);
		for (i = 0; i < n && err == 0; i++) {
			err = ds_entry(d, path, len, names[i]);
		}
		ds_mix(d, "}", 1);
		path[len] = '\0';
	}
	for (i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
	return err;
}

int dirstamp(const char *dir, uint64_t *out)
{
	struct dstamp d;
	struct stat st;
	char path[PATH_MAX];
	size_t len = strlen(dir);
	int err;

	*out = 0;
	if (len == 0 || len >= sizeof(path)) {
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st) != 0) {
		return -errno;
	}
	memset(&d, 0, sizeof(d));
	d.h = 0xcbf29ce484222325ull;
	d.dev[0] = st.st_dev;
	d.ino[0] = st.st_ino;
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/') {
		path[--len] = '\0';
	}
	ds_mix_stat(&d, &st);
	err = ds_walk(&d, path, len);
	if (err == 0) {
		*out = d.h;
	}
	return err;
}
