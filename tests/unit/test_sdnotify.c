/* The sd_notify datagram protocol, against sockets made here. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "svcdns/sdnotify.h"

/* A datagram socket bound to name (a path, or "@..." abstract). */
static int listener(const char *name)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	                  strlen(name));
	if (name[0] == '@') {
		a.sun_path[0] = '\0';
	} else {
		len++;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_sdnotify_path_and_abstract(void **state)
{
	char path[64];
	char abstract[64];
	struct sdnotify n;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/svcdns-sdnotify-%d.sock",
	         (int)getpid());
	unlink(path);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_open(&n), 0);
	assert_true(sdnotify_enabled(&n));
	assert_int_equal(sdnotify_send(&n, "READY=1\nSTATUS=serving"), 0);
	expect_datagram(fd, "READY=1\nSTATUS=serving");
	sdnotify_close(&n);
	sdnotify_close(&n);
	close(fd);
	unlink(path);

	snprintf(abstract, sizeof(abstract), "@svcdns-test-%d", (int)getpid());
	fd = listener(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	assert_int_equal(sdnotify_open(&n), 0);
	assert_int_equal(sdnotify_send(&n, "WATCHDOG=1"), 0);
	expect_datagram(fd, "WATCHDOG=1");
	sdnotify_close(&n);
	close(fd);
	/* Nobody listening: an error to log, never a hang. */
	setenv("NOTIFY_SOCKET", abstract, 1);
	assert_int_equal(sdnotify_open(&n), 0);
	assert_int_equal(sdnotify_send(&n, "STOPPING=1"), -ECONNREFUSED);
	sdnotify_close(&n);
}

static void test_sdnotify_off(void **state)
{
	struct sdnotify n;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_open(&n), -ENOENT);
	assert_false(sdnotify_enabled(&n));
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sdnotify_open(&n), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(sdnotify_open(&n), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_sdnotify_watchdog(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "20000000", 1);
	assert_int_equal(sdnotify_watchdog_usec(), 20000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_usec(), 20000000);
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "20s", 1);
	assert_int_equal(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sdnotify_path_and_abstract),
		cmocka_unit_test(test_sdnotify_off),
		cmocka_unit_test(test_sdnotify_watchdog),
	};

	return cmocka_run_group_tests_name("sdnotify", tests, NULL, NULL);
}
