#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svcdns/config.h"
#include "svcdns/log.h"
#include "svcdns/privs.h"

/* ThreadSanitizer starts a thread of its own in a forked child, so
 * privs_drop (rightly) refuses there: the fork tests skip under TSan. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN true
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN true
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN false
#endif

/* ---- /proc/PID/status parsing ------------------------------------------ */

static const char status_text[] = "Name:\tsvcdns\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Uid:\t65534\t65534\t65534\t65534\n"
				  "Gid:\t65534\t65534\t65534\t65534\n"
				  "Threads:\t3\n"
				  "CapInh:\t0000000000000000\n"
				  "CapPrm:\t0000000000000000\n"
				  "CapEff:\t0000000000000000\n"
				  "CapBnd:\t000001ffffffffff\n"
				  "CapAmb:\t0000000000000000\n"
				  "NoNewPrivs:\t1\n";

static void test_privs_status_field_parses(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(privs_status_field(status_text, "CapEff", 16, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(privs_status_field(status_text, "CapBnd", 16, &v), 0);
	assert_int_equal(v, 0x1ffffffffffull);
	assert_int_equal(privs_status_field(status_text, "Uid", 10, &v), 0);
	assert_int_equal(v, 65534);
	assert_int_equal(privs_status_field(status_text, "Threads", 10, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(privs_status_field(status_text, "NoNewPrivs", 10, &v),
	                 0);
	assert_int_equal(v, 1);
	/* The first line's key, and a key that is a prefix of another. */
	assert_int_equal(privs_status_field(status_text, "Name", 10, &v),
	                 -EINVAL);
	assert_int_equal(privs_status_field(status_text, "Cap", 16, &v),
	                 -ENOENT);
	assert_int_equal(privs_status_field(status_text, "Seccomp", 10, &v),
	                 -ENOENT);
	assert_int_equal(privs_status_field("", "CapEff", 16, &v), -ENOENT);
}

static void test_privs_status_field_rejects_bad_values(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(privs_status_field("CapEff:\t-1\n", "CapEff", 16, &v),
	                 -EINVAL);
	assert_int_equal(
		privs_status_field("CapEff:\t0x10\n", "CapEff", 16, &v),
		-EINVAL);
	assert_int_equal(
		privs_status_field("CapEff:\t00zz\n", "CapEff", 16, &v),
		-EINVAL);
	assert_int_equal(privs_status_field("CapEff:\t\n", "CapEff", 16, &v),
	                 -EINVAL);
	assert_int_equal(privs_status_field("CapEff:\t1ffffffffffffffff\n",
	                                    "CapEff", 16, &v),
	                 -EINVAL);
	/* No newline at the end is fine. */
	assert_int_equal(privs_status_field("Threads:\t12", "Threads", 10, &v),
	                 0);
	assert_int_equal(v, 12);
}

static void test_privs_caps_effective_reads_proc(void **state)
{
	uint64_t caps = 12345;

	(void)state;
	assert_int_equal(privs_caps_effective(&caps), 0);
	if (geteuid() != 0) {
		/* An unprivileged test run has no effective capability. */
		assert_int_equal(caps, 0);
	}
}

/* ---- the root-on-a-high-port rule -------------------------------------- */

static void add_listen(struct config_server *srv, const char *ip, unsigned port)
{
	struct config_listen *l = &srv->listen[srv->n_listen++];

	memset(l, 0, sizeof(*l));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->addr;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&l->addr;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
}

static void test_privs_check_root_on_high_port(void **state)
{
	struct config_server srv;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	add_listen(&srv, "127.0.0.1", 5353);
	add_listen(&srv, "::1", 5353);
	/* Root, high ports only, no --user: refuse. */
	assert_true(privs_check_root_on_high_port(0, NULL, &srv, 1024));
	assert_true(privs_check_root_on_high_port(0, "", &srv, 1024));
	/* With --user, or not root: fine. */
	assert_false(privs_check_root_on_high_port(0, "nobody", &srv, 1024));
	assert_false(privs_check_root_on_high_port(1000, NULL, &srv, 1024));
	/* A privileged port among them: root was needed to bind it. */
	add_listen(&srv, "::1", 53);
	assert_false(privs_check_root_on_high_port(0, NULL, &srv, 1024));
	/* The sysctl moves the boundary (ip_unprivileged_port_start=0
	 * makes every port unprivileged). */
	assert_true(privs_check_root_on_high_port(0, NULL, &srv, 0));
	assert_true(privs_unprivileged_port_start() <= 65536);
}

/* ---- privs_drop, in a child (root only) -------------------------------- */

/* Runs fn in a child process and returns its exit status (fn's return
 * value), or -1 if it died. */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int child_drop_to_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");
	uint64_t caps = 1;

	if (pw == NULL) {
		return 10;
	}
	if (privs_drop("nobody") != 0) {
		return 11;
	}
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid) {
		return 12;
	}
	if (setuid(0) == 0 || setgid(0) == 0) {
		return 13;
	}
	if (getgroups(0, NULL) != 0) {
		return 14;
	}
	if (privs_caps_effective(&caps) != 0 || caps != 0) {
		return 15;
	}
	/* Dropping again as the user itself (or with NULL) is fine. */
	if (privs_drop("nobody") != 0 || privs_drop(NULL) != 0) {
		return 16;
	}
	/* Root is out of reach. */
	if (privs_drop("root") != -EPERM || getuid() == 0) {
		return 17;
	}
	return 0;
}

static int child_unknown_user(void)
{
	return privs_drop("svcdns-no-such-user-x") == -ENOENT ? 0 : 1;
}

static int child_root_user(void)
{
	uint64_t caps = 1;

	/* "--user root" as root: uid 0 stays, the capabilities go. */
	if (privs_drop("root") != 0 || geteuid() != 0) {
		return 1;
	}
	return privs_caps_effective(&caps) == 0 && caps == 0 ? 0 : 2;
}

static int child_caps_only(void)
{
	uint64_t caps = 1;

	/* Root keeps uid 0 but no capability. */
	if (privs_drop(NULL) != 0) {
		return 1;
	}
	if (privs_caps_effective(&caps) != 0 || caps != 0) {
		return 2;
	}
	return getuid() == 0 ? 0 : 3;
}

static void *blocked_thread(void *arg)
{
	pthread_mutex_t *mu = arg;

	pthread_mutex_lock(mu);
	pthread_mutex_unlock(mu);
	return NULL;
}

static int child_with_live_thread(void)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t;
	int err;

	pthread_mutex_lock(&mu);
	if (pthread_create(&t, NULL, blocked_thread, &mu) != 0) {
		return 1;
	}
	err = privs_drop("nobody");
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	return err == -EBUSY && geteuid() == 0 ? 0 : 2;
}

static void test_privs_drop_as_root(void **state)
{
	(void)state;
	if (geteuid() != 0 || UNDER_TSAN) {
		skip();
	}
	assert_int_equal(in_child(child_drop_to_nobody), 0);
	assert_int_equal(in_child(child_unknown_user), 0);
	assert_int_equal(in_child(child_root_user), 0);
	assert_int_equal(in_child(child_caps_only), 0);
	assert_int_equal(in_child(child_with_live_thread), 0);
}

static int child_not_root(void)
{
	/* Without root, another account is refused and NULL works. */
	if (privs_drop("root") != -EPERM) {
		return 1;
	}
	return privs_drop(NULL) == 0 ? 0 : 2;
}

static void test_privs_drop_not_root(void **state)
{
	(void)state;
	if (geteuid() == 0 || UNDER_TSAN) {
		skip();
	}
	assert_int_equal(in_child(child_not_root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_privs_status_field_parses),
		cmocka_unit_test(test_privs_status_field_rejects_bad_values),
		cmocka_unit_test(test_privs_caps_effective_reads_proc),
		cmocka_unit_test(test_privs_check_root_on_high_port),
		cmocka_unit_test(test_privs_drop_as_root),
		cmocka_unit_test(test_privs_drop_not_root),
	};

	log_set_level(LOG_LEVEL_ERR);
	return cmocka_run_group_tests_name("privs", tests, NULL, NULL);
}
