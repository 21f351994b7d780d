/* Least privilege: the uid change, capabilities, no_new_privs. See
 * privs.h. */
#include "svcdns/privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "svcdns/log.h"

/* /proc/self/status is about 1.5 KiB. */
#define PRIVS_STATUS_MAX 16384
/* Capability numbers fit 64 bits (cap_last_cap is 40 on Linux 6.x). */
#define PRIVS_CAP_MAX 64

/* The value of one digit in base (10 or 16), or -1. */
static int privs_digit(char c, int base)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (base == 16 && c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (base == 16 && c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Parses the digits at v up to a blank, a newline or the end; no sign,
 * no "0x" (strtoull would take both). */
static int privs_parse_u64(const char *v, int base, uint64_t *out)
{
	uint64_t n = 0;
	const char *p = v;

	for (; *p != '\0' && *p != '\n' && *p != ' ' && *p != '\t'; p++) {
		int d = privs_digit(*p, base);

		if (d < 0 || n > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
			return -EINVAL;
		}
		n = n * (uint64_t)base + (uint64_t)d;
	}
	if (p == v) {
		return -EINVAL;
	}
	*out = n;
	return 0;
}

int privs_status_field(const char *text, const char *key, int base,
                       uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			const char *v = p + klen + 1;

			while (*v == ' ' || *v == '\t') {
				v++;
			}
			return privs_parse_u64(v, base, out);
		}
		p = strchr(p, '\n');
		if (p != NULL) {
			p++;
		}
	}
	return -ENOENT;
}

/* Reads a small /proc file into buf (cap octets, NUL-terminated).
 * Returns 0 or a negative errno. */
static int privs_read_file(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0) {
		return -errno;
	}
	while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			err = -errno;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return err;
}

/* One field of /proc/self/status. */
static int privs_self_status(const char *key, int base, uint64_t *out)
{
	char *buf = malloc(PRIVS_STATUS_MAX);
	int err;

	if (buf == NULL) {
		return -ENOMEM;
	}
	err = privs_read_file("/proc/self/status", buf, PRIVS_STATUS_MAX);
	if (err == 0) {
		err = privs_status_field(buf, key, base, out);
	}
	free(buf);
	return err;
}

int privs_caps_effective(uint64_t *caps)
{
	return privs_self_status("CapEff", 16, caps);
}

unsigned privs_unprivileged_port_start(void)
{
	char buf[32];
	char *end;
	unsigned long v;

	if (privs_read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	                    buf, sizeof(buf)) != 0) {
		return 1024;
	}
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno != 0 || end == buf || v > 65536) {
		return 1024;
	}
	return (unsigned)v;
}

bool privs_check_root_on_high_port(uid_t euid, const char *user,
                                   const struct config_server *srv,
                                   unsigned unpriv_start)
{
	size_t i;

	if (euid != 0 || (user != NULL && user[0] != '\0')) {
		return false;
	}
	for (i = 0; i < srv->n_listen; i++) {
		const struct sockaddr_storage *a = &srv->listen[i].addr;
		unsigned port = 0;

		if (a->ss_family == AF_INET) {
			port = ntohs(
				((const struct sockaddr_in *)(const void *)a)
					->sin_port);
		} else if (a->ss_family == AF_INET6) {
			port = ntohs(
				((const struct sockaddr_in6 *)(const void *)a)
					->sin6_port);
		}
		if (port < unpriv_start) {
			return false; /* root was needed to bind this one */
		}
	}
	return true;
}

/* ---- Capabilities ------------------------------------------------------ */

/* Empties the bounding set, so that no execve can bring a capability
 * back. Needs CAP_SETPCAP; without it (the systemd path) a refusal is
 * not an error when may_fail: no_new_privs and an empty permitted set
 * make the bounding set moot. */
static int privs_drop_bounding(bool may_fail)
{
	uint64_t eff = 0;
	int cap;

	/* Without CAP_SETPCAP every drop fails: do not even try (a seccomp
	 * audit, or the unit test, would see EPERM). */
	if (may_fail && privs_caps_effective(&eff) == 0 &&
	    !(eff & (1ull << CAP_SETPCAP))) {
		log_debug("privs: bounding set kept (no CAP_SETPCAP)");
		return 0;
	}
	for (cap = 0; cap < PRIVS_CAP_MAX; cap++) {
		int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

		if (in < 0) {
			break; /* EINVAL: past the last capability */
		}
		if (in == 0) {
			continue;
		}
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) != 0) {
			int err = -errno;

			if (may_fail && err == -EPERM) {
				log_debug(
					"privs: bounding set kept (no CAP_SETPCAP)");
				return 0;
			}
			log_err("privs: prctl(PR_CAPBSET_DROP, %d): %s", cap,
			        strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Empties the ambient set (Linux 4.3; EINVAL before it means there is
 * none to clear). */
static int privs_clear_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL) {
		int err = -errno;

		log_err("privs: prctl(PR_CAP_AMBIENT_CLEAR_ALL): %s",
		        strerror(-err));
		return err;
	}
	return 0;
}

/* Empties the effective, permitted and inheritable sets of this thread
 * with the raw capset(2) (version 3: two 32-bit words per set). */
static int privs_capset_empty(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0; /* this thread */
	if (syscall(SYS_capset, &hdr, data) != 0) {
		int err = -errno;

		log_err("privs: capset: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* Drops the capabilities the uid change leaves (all of them for a
 * non-root start), forbids gaining any by execve, and checks CapEff. */
static int privs_finish(void)
{
	uint64_t eff = UINT64_MAX;
	int err = privs_capset_empty();

	if (err != 0) {
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		err = -errno;
		log_err("privs: prctl(PR_SET_NO_NEW_PRIVS): %s",
		        strerror(-err));
		return err;
	}
	err = privs_caps_effective(&eff);
	if (err != 0 || eff != 0) {
		log_err("privs: capabilities still effective after dropping: CapEff=%016llx (%s)",
		        (unsigned long long)eff,
		        err ? strerror(-err) : "not empty");
		return err ? err : -EPERM;
	}
	return 0;
}

/* ---- The uid change ---------------------------------------------------- */

/* Root -> uid/gid for good: supplementary groups, gid, then uid (the
 * order matters: after setuid we could no longer change groups). */
static int privs_become(const char *user, uid_t uid, gid_t gid)
{
	int err;

	/* Capabilities must not survive the uid change. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
		err = -errno;
		log_err("privs: prctl(PR_SET_KEEPCAPS, 0): %s", strerror(-err));
		return err;
	}
	if (setgroups(0, NULL) != 0) {
		err = -errno;
		log_err("privs: setgroups(0): %s", strerror(-err));
		return err;
	}
	/* As root, setgid and setuid set the real, effective and saved ids
	 * together: nothing is left to switch back to. */
	if (setgid(gid) != 0) {
		err = -errno;
		log_err("privs: setgid(%u) for user=%s: %s", (unsigned)gid,
		        user, strerror(-err));
		return err;
	}
	if (setuid(uid) != 0) {
		err = -errno;
		log_err("privs: setuid(%u) for user=%s: %s", (unsigned)uid,
		        user, strerror(-err));
		return err;
	}
	/* The proof: root must be out of reach now. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		log_err("privs: setuid(0) still succeeds after dropping to user=%s; refusing to run",
		        user);
		return -EPERM;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		log_err("privs: ids after dropping to user=%s are uid=%u euid=%u gid=%u egid=%u",
		        user, (unsigned)getuid(), (unsigned)geteuid(),
		        (unsigned)getgid(), (unsigned)getegid());
		return -EPERM;
	}
	return 0;
}

/* Looks user up. Returns 0 with its ids, -ENOENT, or an errno. */
static int privs_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	int e;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		/* getpwnam(3): 0, ENOENT, ESRCH, EBADF or EPERM all mean
		 * "no such name". */
		e = errno;
		if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF ||
		    e == EPERM) {
			log_err("privs: no user %s", user);
			return -ENOENT;
		}
		log_err("privs: looking up user %s: %s", user, strerror(e));
		return -e;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privs_drop(const char *user)
{
	uint64_t threads = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	bool root = geteuid() == 0;
	int err;

	if (user != NULL && user[0] == '\0') {
		user = NULL;
	}
	if (privs_self_status("Threads", 10, &threads) == 0 && threads > 1) {
		log_err("privs: %llu threads already run: capabilities are per thread, drop them before starting any",
		        (unsigned long long)threads);
		return -EBUSY;
	}
	if (user != NULL) {
		err = privs_lookup(user, &uid, &gid);
		if (err != 0) {
			return err;
		}
		if (uid == 0 && !root) {
			log_err("privs: cannot become user=%s (uid 0): not started as root",
			        user);
			return -EPERM;
		}
		if (uid == 0) {
			/* An explicit "stay root" (the test harness, a
			 * container that maps root away): capabilities go,
			 * uid 0 stays. */
			log_warn(
				"privs: user=%s has uid 0: staying root with no capabilities",
				user);
			user = NULL;
		} else if (!root && uid != getuid()) {
			log_err("privs: cannot become user=%s: not started as root (uid=%u)",
			        user, (unsigned)getuid());
			return -EPERM;
		}
		if (!root) {
			user = NULL; /* already that user */
		}
	}
	err = privs_drop_bounding(!root);
	if (err == 0) {
		err = privs_clear_ambient();
	}
	if (err == 0 && user != NULL) {
		err = privs_become(user, uid, gid);
	}
	if (err == 0) {
		err = privs_finish();
	}
	if (err != 0) {
		return err;
	}
	log_info(
		"privs: dropped user=%s uid=%u gid=%u capabilities=none no_new_privs=1",
		user ? user : "-", (unsigned)getuid(), (unsigned)getgid());
	return 0;
}
