/* The floor under a cold start: libyaml's own parse of the manifests.
 *
 *   yaml_floor DIR [ROUNDS]
 *
 * Reads every .yaml, .yml and .json file under DIR into memory, then runs
 * libyaml's event parser over all of them ROUNDS times (default 5) on one
 * thread, deleting each event unread: no walker, no objects, no snapshot.
 * Prints the median and the minimum time of a round and the octets, as
 * key=value pairs. svcdns parses the same files with the same parser
 * (spread over the CPUs), so its exec -> first answer without --cache
 * cannot be shorter than this time divided by the parsing threads. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <yaml.h>

#define FLOOR_ROUNDS_MAX 101

struct floor_file {
	unsigned char *p;
	size_t len;
};

struct floor_set {
	struct floor_file *f;
	size_t n;
	size_t cap;
	size_t octets;
};

static double floor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int floor_is_manifest(const char *name)
{
	static const char *const ext[] = { ".yaml", ".yml", ".json" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t el = strlen(ext[i]);

		if (len > el && strcmp(name + len - el, ext[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

static int floor_read(struct floor_set *s, const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct floor_file ff;
	long n;

	if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		perror(path);
		if (fp != NULL) {
			fclose(fp);
		}
		return -1;
	}
	ff.len = (size_t)n;
	ff.p = malloc(ff.len + 1);
	if (ff.p == NULL || fread(ff.p, 1, ff.len, fp) != ff.len) {
		perror(path);
		free(ff.p);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct floor_file *f = realloc(s->f, cap * sizeof(*f));

		if (f == NULL) {
			free(ff.p);
			return -1;
		}
		s->f = f;
		s->cap = cap;
	}
	s->f[s->n++] = ff;
	s->octets += ff.len;
	return 0;
}

static int floor_walk(struct floor_set *s, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.') {
			continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name) >= sizeof(path) ||
		    stat(path, &st) != 0) {
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = floor_walk(s, path);
		} else if (S_ISREG(st.st_mode) &&
		           floor_is_manifest(e->d_name)) {
			rc = floor_read(s, path);
		}
	}
	closedir(d);
	return rc;
}

/* One pass of libyaml over every file: the number of events, or -1. */
static long floor_parse_all(const struct floor_set *s)
{
	long events = 0;

	for (size_t i = 0; i < s->n; i++) {
		yaml_parser_t p;
		int done = 0;

		if (!yaml_parser_initialize(&p)) {
			return -1;
		}
		yaml_parser_set_input_string(&p, s->f[i].p, s->f[i].len);
		while (!done) {
			yaml_event_t ev;

			if (!yaml_parser_parse(&p, &ev)) {
				yaml_parser_delete(&p);
				return -1;
			}
			done = ev.type == YAML_STREAM_END_EVENT;
			yaml_event_delete(&ev);
			events++;
		}
		yaml_parser_delete(&p);
	}
	return events;
}

static int floor_cmp(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct floor_set s = { 0 };
	double ms[FLOOR_ROUNDS_MAX];
	int rounds = 5;
	long events = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: yaml_floor DIR [ROUNDS<=%d]\n",
		        FLOOR_ROUNDS_MAX);
		return 2;
	}
	if (argc == 3) {
		rounds = atoi(argv[2]);
		if (rounds < 1 || rounds > FLOOR_ROUNDS_MAX) {
			fprintf(stderr, "yaml_floor: bad ROUNDS\n");
			return 2;
		}
	}
	if (floor_walk(&s, argv[1]) != 0 || s.n == 0) {
		fprintf(stderr, "yaml_floor: no manifests read under %s\n",
		        argv[1]);
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		double t0 = floor_now_ms();

		events = floor_parse_all(&s);
		ms[r] = floor_now_ms() - t0;
		if (events < 0) {
			fprintf(stderr,
			        "yaml_floor: libyaml rejected a file\n");
			return 1;
		}
	}
	qsort(ms, (size_t)rounds, sizeof(ms[0]), floor_cmp);
	printf("yaml_floor_ms=%.1f yaml_floor_min_ms=%.1f files=%zu octets=%zu "
	       "events=%ld rounds=%d\n",
	       ms[rounds / 2], ms[0], s.n, s.octets, events, rounds);
	for (size_t i = 0; i < s.n; i++) {
		free(s.f[i].p);
	}
	free(s.f);
	return 0;
}
