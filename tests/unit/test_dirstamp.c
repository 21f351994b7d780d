/* dirstamp: the fingerprint of a directory tree changes with any change
 * under it, and only then. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "svcdns/dirstamp.h"

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static uint64_t stamp(void)
{
	uint64_t h = 0;

	assert_int_equal(dirstamp(root, &h), 0);
	return h;
}

static void at(char *out, const char *rel)
{
	snprintf(out, PATH_MAX, "%s/%s", root, rel);
}

static void test_dirstamp_changes(void **state)
{
	char a[PATH_MAX];
	char b[PATH_MAX];
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	uint64_t h0;
	uint64_t h;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/svcdns-dirstamp.XXXXXX");
	assert_non_null(mkdtemp(root));
	at(a, "sub");
	assert_int_equal(mkdir(a, 0755), 0);
	put("a.yaml", "kind: Namespace\n");
	put("sub/b.yaml", "x: 1\n");
	h0 = stamp();
	assert_true(h0 != 0);
	/* Unchanged: the same. */
	assert_true(stamp() == h0);
	/* A file's contents (size) change. */
	put("sub/b.yaml", "x: 12\n");
	h = stamp();
	assert_true(h != h0);
	h0 = h;
	/* Only its modification time. */
	at(a, "sub/b.yaml");
	assert_int_equal(utimes(a, tv), 0);
	h = stamp();
	assert_true(h != h0);
	h0 = h;
	/* A new file, a hidden one included. */
	put(".hidden", "");
	h = stamp();
	assert_true(h != h0);
	h0 = h;
	/* A rename. */
	at(a, "a.yaml");
	at(b, "c.yaml");
	assert_int_equal(rename(a, b), 0);
	h = stamp();
	assert_true(h != h0);
	h0 = h;
	/* A ConfigMap's ..data link moved to a new directory. */
	at(a, "..v1");
	assert_int_equal(mkdir(a, 0755), 0);
	at(a, "..v2");
	assert_int_equal(mkdir(a, 0755), 0);
	put("..v1/d.yaml", "d: 1\n");
	put("..v2/d.yaml", "d: 1\n");
	at(a, "..data");
	assert_int_equal(symlink("..v1", a), 0);
	h0 = stamp();
	assert_int_equal(unlink(a), 0);
	assert_int_equal(symlink("..v2", a), 0);
	h = stamp();
	assert_true(h != h0);
	/* A link loop does not hang or fail. */
	at(a, "sub/up");
	assert_int_equal(symlink("..", a), 0);
	h0 = stamp();
	assert_true(stamp() == h0);
	/* An empty directory has a stamp (and no array to sort). */
	at(a, "void");
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(dirstamp(a, &h), 0);
	/* A missing directory is an error. */
	at(a, "nope");
	assert_int_equal(dirstamp(a, &h), -ENOENT);
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirstamp_changes),
	};

	return cmocka_run_group_tests_name("dirstamp", tests, NULL, NULL);
}
