/* Replays fuzz corpora without libFuzzer (as Knot's tests-fuzz/main.c):
 * runs LLVMFuzzerTestOneInput on every regular file named on the command
 * line or found directly inside a directory named there. Link it with one
 * fuzz_<target>.c and the code under test:
 *
 *   gcc -std=c11 -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *	tests/fuzz/replay.c tests/fuzz/fuzz_wire.c src/wire.c src/dname.c \
 *	-o replay_wire
 *   ./replay_wire tests/fuzz/corpus/wire
 *
 * Exits 0 after printing how many inputs ran. A failing input aborts
 * inside the target; the SIGABRT handler then prints its path. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far above libFuzzer's default -max_len. */
#define REPLAY_MAX_INPUT (1024 * 1024)

/* The input being run, named by the SIGABRT handler when a check fails. */
static const char *replay_current;

static void replay_on_abort(int sig)
{
	const char *p = replay_current;

	(void)sig;
	if (p != NULL) {
		/* write() only: this runs in a signal handler. */
		(void)!write(2, "replay: failing input: ", 23);
		(void)!write(2, p, strlen(p));
		(void)!write(2, "\n", 1);
	}
	/* SA_RESETHAND restored the default action; abort() raises again. */
}

/* Reads and runs one file. Returns 1 if it ran, 0 if skipped, -1 on error. */
static int replay_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;
	size_t n;
	int ret = -1;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		return 0;
	}
	if (st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: larger than %d octets\n", path,
		        REPLAY_MAX_INPUT);
		return -1;
	}
	/* +1: malloc(0) may return NULL, and an empty input is valid. */
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		return -1;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out_free_buf;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f) || n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out_close;
	}
	replay_current = path;
	(void)LLVMFuzzerTestOneInput(buf, n);
	replay_current = NULL;
	ret = 1;
out_close:
	fclose(f);
out_free_buf:
	free(buf);
	return ret;
}

/* Runs every regular file directly inside dir. Returns the number run, or
 * -1 on error. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long count = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		int r;

		if (e->d_name[0] == '.') {
			continue; /* ".", ".." and hidden files */
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name) >= sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir,
			        e->d_name);
			count = -1;
			break;
		}
		r = replay_file(path);
		if (r < 0) {
			count = -1;
			break;
		}
		count += r;
	}
	closedir(d);
	return count;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long total = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = replay_on_abort;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGABRT, &sa, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			        strerror(errno));
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? replay_dir(argv[i])
		                        : replay_file(argv[i]);
		if (n < 0) {
			return 1;
		}
		total += n;
	}
	printf("replay: %ld inputs ok\n", total);
	return 0;
}
