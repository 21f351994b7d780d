/* svcdns: parse the command line (and the --config file), then --check or
 * --dump the manifest directory, or serve until SIGINT/SIGTERM.
 *
 * Serving starts the workers and the HTTP endpoint first and loads the
 * first snapshot on the thread pool: until it is published the workers
 * answer SERVFAIL and GET /ready says 503; then systemd hears READY=1.
 * SIGHUP re-reads the configuration file (what can change live) and every
 * manifest. The main loop owns the signals, the reloads, the HTTP endpoint
 * and the systemd notifications; the workers (server.c) own the DNS
 * sockets. */
#include "svcdns/answer.h"
#include "svcdns/config.h"
#include "svcdns/diag.h"
#include "svcdns/dirstamp.h"
#include "svcdns/forward.h"
#include "svcdns/http.h"
#include "svcdns/k8s.h"
#include "svcdns/kube.h"
#include "svcdns/log.h"
#include "svcdns/manifest.h"
#include "svcdns/ops.h"
#include "svcdns/privs.h"
#include "svcdns/qlog.h"
#include "svcdns/sdnotify.h"
#include "svcdns/server.h"
#include "svcdns/snapshot.h"
#include "svcdns/watch.h"
#include "svcdns/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <malloc.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* c-ares 1.18's ares.h uses fd_set but includes only <sys/types.h>, which
 * does not define it under -D_POSIX_C_SOURCE=200809L: <sys/select.h>
 * must come first. */
#include <sys/select.h>
/* clang-format off */
#include <ares.h>
/* clang-format on */
#include <uv.h>
#include <yaml.h>

_Static_assert(CONFIG_MAX_ZONES == SNAPSHOT_MAX_ZONES,
               "config and snapshot agree on the number of zones");

#define MAIN_EXIT_OK    0
#define MAIN_EXIT_ERROR 1
#define MAIN_EXIT_USAGE 2

/* The HTTP endpoint's connection cap: operators and probes only. */
#define MAIN_HTTP_MAX_CONNS 64

struct main_ctx {
	struct config cfg;
	/* The configuration as parsed, before main_upstreams filled in
	 * resolv.conf's servers: what a SIGHUP re-read is compared with. */
	struct config parsed;
	struct config next; /* scratch for a SIGHUP re-read */
	int argc;
	char **argv;         /* borrowed: main's */
	struct watch *watch; /* owns */
	struct snapshot_opts sopts;
	const char *zones[CONFIG_MAX_ZONES]; /* borrowed: cfg.zones.names */
	struct k8s_ip ns_addrs[CONFIG_MAX_LISTEN];
	struct answer_opts aopts;
	struct snapshot_slot slot;
	struct server *srv; /* owns */
	uv_loop_t loop;
	uv_signal_t sig_int;
	uv_signal_t sig_term;
	uv_signal_t sig_hup;
	uv_signal_t sig_usr1;
	bool loop_init;
	unsigned load_errors;
	unsigned load_warnings;
	struct http *http; /* owns; NULL with --http none */
	struct sdnotify notify;
	uv_timer_t watchdog;
	bool watchdog_on;
	uv_work_t first_load; /* the first snapshot, on the thread pool */
	struct snapshot *first_snap;
	int first_err;
	bool loading; /* first_load runs: the watch is the pool's */
	/* --cache: copies for the pool thread; "" = none. */
	char cache_path[CONFIG_PATH_MAX];
	char cache_dir[CONFIG_PATH_MAX];
	bool cache_served; /* the start-up cache is published */
	bool cache_keyed;  /* cache_key holds the state the load saw */
	uint64_t cache_key;
	int cache_err; /* of writing it after the first load */
	uint64_t cache_load_us;
	uv_work_t cache_save; /* writes the first load's snapshot */
	struct snapshot *cache_snap;
	/* Reloads rewrite the cache (main_cache_reloaded): the key of the
	 * latest cacheable snapshot served, written when the timer fires. */
	uv_timer_t cache_timer;
	bool cache_timer_on;
	bool cache_pending;
	uint64_t cache_pending_key;
	bool cache_bg_said; /* the blue/green "no cache" line was logged */
	bool ready;         /* the first snapshot is published */
	bool stopping;      /* SIGTERM/SIGINT or a fatal start-up error */
	bool hup_pending;   /* SIGHUP while loading */
	bool stalled;       /* a worker's loop is stuck (main_workers_live) */
	int code;           /* the exit status once stopped */
	uint64_t start_unix;
};

static void main_print_version(void)
{
	printf("svcdns %s\n", SVCDNS_VERSION);
	printf("libuv %s\n", uv_version_string());
	printf("c-ares %s\n", ares_version(NULL));
	printf("libyaml %s\n", yaml_get_version_string());
	printf("glibc %s\n", gnu_get_libc_version());
}

/* Flushes stdout and reports a failed write (a full disk, a closed pipe)
 * as an error instead of a silent success. */
static int main_close_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "svcdns: error writing to stdout: %s\n",
		        strerror(errno));
		return MAIN_EXIT_ERROR;
	}
	return code;
}

static enum snapshot_pods_mode main_pods(enum config_pods_mode mode)
{
	switch (mode) {
	case CONFIG_PODS_DISABLED:
		return SNAPSHOT_PODS_DISABLED;
	case CONFIG_PODS_INSECURE:
		return SNAPSHOT_PODS_INSECURE;
	case CONFIG_PODS_VERIFIED:
	default:
		return SNAPSHOT_PODS_VERIFIED;
	}
}

/* The listen addresses that can be named: ns.dns.<zone> gets every
 * non-wildcard one, each address once. */
static size_t main_ns_addrs(const struct config_server *srv, struct k8s_ip *out)
{
	size_t n = 0;
	size_t i;
	size_t k;

	for (i = 0; i < srv->n_listen; i++) {
		const struct config_listen *l = &srv->listen[i];
		struct k8s_ip ip;

		if (l->wildcard) {
			continue;
		}
		memset(&ip, 0, sizeof(ip));
		if (l->addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 =
				(const struct sockaddr_in6 *)&l->addr;

			ip.family = 6;
			memcpy(ip.addr, &s6->sin6_addr, 16);
		} else {
			const struct sockaddr_in *s4 =
				(const struct sockaddr_in *)&l->addr;

			ip.family = 4;
			memcpy(ip.addr, &s4->sin_addr, 4);
		}
		for (k = 0; k < n; k++) {
			if (k8s_ip_cmp(&out[k], &ip) == 0) {
				break;
			}
		}
		if (k == n) {
			out[n++] = ip;
		}
	}
	return n;
}

/* Fills the per-module options from the command line. */
static void main_prepare(struct main_ctx *m)
{
	size_t i;

	for (i = 0; i < m->cfg.zones.n_names; i++) {
		m->zones[i] = m->cfg.zones.names[i];
	}
	m->sopts.zones = m->zones;
	m->sopts.n_zones = m->cfg.zones.n_names;
	m->sopts.pods = main_pods(m->cfg.zones.pods);
	m->sopts.ttl = m->cfg.zones.ttl;
	m->sopts.ns_addrs = m->ns_addrs;
	m->sopts.n_ns_addrs = main_ns_addrs(&m->cfg.server, m->ns_addrs);
	/* Per client, server.c turns forwarding (and RA) on for those in
	 * the recursion ACL; the base options have it off. */
	m->aopts.forward = false;
	m->aopts.max_udp = WIRE_EDNS_ADVERTISE;
	for (i = 0;
	     i < m->cfg.upstream.n_fallthrough && i < ANSWER_MAX_FALLTHROUGH;
	     i++) {
		size_t len = 0;

		if (dname_from_text(m->cfg.upstream.fallthrough[i],
		                    m->aopts.fallthrough[i], DNAME_MAXLEN,
		                    &len) == 0) {
			m->aopts.fallthrough_len[i] = (uint8_t)len;
			m->aopts.n_fallthrough++;
		}
	}
	/* Fixed order keeps answers reproducible (tests diff them); rotation
	 * can become an option. */
	m->aopts.rotate = false;
}

/* True if a is an address of this host: loopback, or on an interface. */
static bool main_addr_is_local(const struct sockaddr_storage *a)
{
	struct ifaddrs *ifs;
	struct ifaddrs *i;
	bool found = false;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;

		if ((ntohl(s4->sin_addr.s_addr) >> 24) == 127) {
			return true;
		}
	} else if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
			return true;
		}
	}
	if (getifaddrs(&ifs) != 0) {
		return false;
	}
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa == NULL || sa->sa_family != a->ss_family) {
			continue;
		}
		if (sa->sa_family == AF_INET) {
			found = memcmp(&((const struct sockaddr_in
			                          *)(const void *)sa)
			                        ->sin_addr,
			               &((const struct sockaddr_in *)a)
			                        ->sin_addr,
			               4) == 0;
		} else {
			found = memcmp(&((const struct sockaddr_in6
			                          *)(const void *)sa)
			                        ->sin6_addr,
			               &((const struct sockaddr_in6 *)a)
			                        ->sin6_addr,
			               16) == 0;
		}
	}
	freeifaddrs(ifs);
	return found;
}

/* True if the upstream u is svcdns itself: one of our listen addresses,
 * or a local address on the port of a wildcard listener (U11, L14). */
static bool main_is_self(const struct config_listen *u, void *arg)
{
	const struct config_server *srv = arg;
	size_t i;

	for (i = 0; i < srv->n_listen; i++) {
		const struct config_listen *l = &srv->listen[i];
		uint16_t lp;
		uint16_t up;

		if (l->addr.ss_family != u->addr.ss_family) {
			continue;
		}
		if (l->addr.ss_family == AF_INET) {
			lp = ((const struct sockaddr_in *)&l->addr)->sin_port;
			up = ((const struct sockaddr_in *)&u->addr)->sin_port;
		} else {
			lp = ((const struct sockaddr_in6 *)&l->addr)->sin6_port;
			up = ((const struct sockaddr_in6 *)&u->addr)->sin6_port;
		}
		if (lp != up) {
			continue;
		}
		if (strcmp(l->text, u->text) == 0 ||
		    (l->wildcard && main_addr_is_local(&u->addr))) {
			return true;
		}
	}
	return false;
}

/* Reads the resolv.conf file into up->servers (ours left out). Returns 0
 * or a negative errno. The file is small: at most 64 KiB is read. */
static int main_read_resolv(struct config *cfg)
{
	static char text[64 * 1024];
	struct config_upstream *up = &cfg->upstream;
	ssize_t n;
	size_t len = 0;
	int fd = open(up->resolv_conf, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	while (len < sizeof(text) - 1 &&
	       (n = read(fd, text + len, sizeof(text) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	config_upstream_from_resolv(up, text, main_is_self, &cfg->server);
	return 0;
}

/* Settles where forwarded queries go. A configured upstream that is svcdns
 * itself is refused (a forwarding loop); resolv.conf's nameservers that
 * are svcdns are skipped, and with none left forwarding is off. Returns 0
 * or -ELOOP / an errno from reading resolv.conf. */
static int main_upstreams(struct config *cfg)
{
	struct config_upstream *up = &cfg->upstream;
	char list[CONFIG_MAX_UPSTREAMS * CONFIG_LISTEN_TEXT_MAX];
	size_t off = 0;
	size_t i;
	int err;

	if (up->mode == CONFIG_UPSTREAM_NONE) {
		log_info(
			"main: forwarding off (--upstream none): names outside the zones get REFUSED");
		return 0;
	}
	if (up->mode == CONFIG_UPSTREAM_RESOLV_CONF) {
		err = main_read_resolv(cfg);
		if (err != 0) {
			log_err("main: cannot read %s: %s (use --upstream ADDR or --upstream none)",
			        up->resolv_conf, strerror(-err));
			return err;
		}
		if (up->n_servers == 0) {
			log_warn(
				"main: no nameserver in %s other than svcdns itself: forwarding off",
				up->resolv_conf);
			up->forward = false;
			return 0;
		}
	}
	for (i = 0; i < up->n_servers; i++) {
		if (main_is_self(&up->servers[i], &cfg->server)) {
			log_err("main: forwarding loop: upstream %s is svcdns itself; refusing to start (choose another --upstream)",
			        up->servers[i].text);
			return -ELOOP;
		}
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		                        i ? "," : "", up->servers[i].text);
		if (off >= sizeof(list)) {
			off = sizeof(list) - 1;
		}
	}
	log_info(
		"main: forwarding upstreams=%s timeout_ms=%u max_inflight=%u cache_size=%u cache_max_ttl=%u acl_prefixes=%zu",
		off ? list : "-", up->timeout_ms, up->max_inflight,
		up->cache_size, up->cache_max_ttl, up->n_allow);
	return 0;
}

/* Loads the directory and builds the first snapshot on this thread. */
static int main_load(struct main_ctx *m, struct snapshot **snap)
{
	int err = watch_load_now(m->watch, snap, &m->load_errors,
	                         &m->load_warnings);

	if (err == -ENOMEM) {
		log_err("main: building the snapshot failed dir=%s",
		        m->cfg.zones.dir);
	} else if (err < 0) {
		log_err("main: cannot read zones directory dir=%s err=%s",
		        m->cfg.zones.dir, strerror(-err));
	}
	return err;
}

static int main_check(struct main_ctx *m)
{
	struct snapshot *snap = NULL;
	struct watch_stats st;
	int err = main_load(m, &snap);
	bool ok = err == 0 && m->load_errors == 0;

	watch_get_stats(m->watch, &st);
	printf("check: %s dir=%s files=%u failed=%u objects=%zu errors=%u warnings=%u%s%s\n",
	       ok ? "ok" : "failed", m->cfg.zones.dir, st.files,
	       st.failed_files, st.objects, m->load_errors, m->load_warnings,
	       m->cfg.file[0] ? " config=" : "", m->cfg.file);
	snapshot_release(snap);
	return main_close_stdout(ok ? MAIN_EXIT_OK : MAIN_EXIT_ERROR);
}

static int main_dump(struct main_ctx *m)
{
	struct snapshot *snap = NULL;
	int err = main_load(m, &snap);

	if (err != 0) {
		return MAIN_EXIT_ERROR;
	}
	err = snapshot_dump(snap, stdout);
	snapshot_release(snap);
	if (err != 0) {
		fprintf(stderr, "svcdns: --dump failed: %s\n", strerror(-err));
		return MAIN_EXIT_ERROR;
	}
	return main_close_stdout(MAIN_EXIT_OK);
}

static void main_signal_cb(uv_signal_t *h, int signum);

static int main_signals(struct main_ctx *m)
{
	uv_signal_t *const hs[] = { &m->sig_int, &m->sig_term, &m->sig_hup,
		                    &m->sig_usr1 };
	static const int nums[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	struct sigaction sa;
	size_t i;
	int err = 0;

	/* A client that resets its TCP connection must not kill us with
	 * SIGPIPE on the next write (libuv does not ignore it). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	for (i = 0; i < SVCDNS_ARRAY_SIZE(hs); i++) {
		uv_signal_init(&m->loop, hs[i]);
		hs[i]->data = m;
	}
	for (i = 0; i < SVCDNS_ARRAY_SIZE(hs) && err == 0; i++) {
		err = uv_signal_start(hs[i], main_signal_cb, nums[i]);
	}
	if (err != 0) {
		log_err("main: cannot handle signals: %s", uv_strerror(err));
	}
	return err;
}

/* Each worker may hold tcp_max_conns connections plus two sockets per
 * listen address: raise the soft descriptor limit toward that, or warn. */
static void main_check_fd_limit(const struct config_server *srv)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)srv->threads *
	                      (srv->tcp_max_conns + 2 * srv->n_listen) +
	              64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) {
		return;
	}
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
		rl.rlim_cur = need;
	} else {
		rl.rlim_cur = rl.rlim_max;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= need) {
		return;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	log_warn(
		"main: open file limit=%llu is below the %llu that threads=%u x tcp-max-conns=%u may need; raise it (ulimit -n) or lower --tcp-max-conns",
		(unsigned long long)rl.rlim_cur, (unsigned long long)need,
		srv->threads, srv->tcp_max_conns);
}

/* Logs every non-zero counter of the workers and their forwarders, by
 * name, after "main: WHAT". */
static void main_log_stats(const struct server *srv, const char *what)
{
	struct server_stats st;
	char line[2560];
	size_t off = 0;
	size_t i;

	if (srv == NULL) {
		return;
	}
	server_get_stats(srv, &st);
	line[0] = '\0';
	for (i = 0; i < SERVER_STAT_COUNT && off < sizeof(line); i++) {
		if (st.v[i] != 0) {
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			                        " %s=%" PRIu64,
			                        server_stat_name(i), st.v[i]);
		}
	}
	for (i = 0; i < FORWARD_STAT_COUNT && off < sizeof(line); i++) {
		if (st.fwd[i] != 0) {
			off += (size_t)snprintf(
				line + off, sizeof(line) - off, " %s=%" PRIu64,
				forward_stat_name(i), st.fwd[i]);
		}
	}
	log_info("main: %s%s", what, line);
}

/* Writes "a,b,c" of the zones and listen addresses for the start line. */
static void main_describe(const struct config *cfg, char *zones, size_t zcap,
                          char *listen, size_t lcap)
{
	size_t i;
	size_t off = 0;

	zones[0] = '\0';
	for (i = 0; i < cfg->zones.n_names && off < zcap; i++) {
		off += (size_t)snprintf(zones + off, zcap - off, "%s%s",
		                        i ? "," : "", cfg->zones.names[i]);
	}
	off = 0;
	listen[0] = '\0';
	for (i = 0; i < cfg->server.n_listen && off < lcap; i++) {
		off += (size_t)snprintf(listen + off, lcap - off, "%s%s",
		                        i ? "," : "",
		                        cfg->server.listen[i].text);
	}
}

/* ---------------------- the configuration file ---------------------- */

/* Reads the file path into a malloc'ed buffer (*text, *len). Returns 0 or
 * -errno (-EFBIG above CONFIG_FILE_MAX). */
static int main_read_file(const char *path, char **text, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*text = NULL;
	*len = 0;
	if (fd < 0) {
		return -errno;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while ((r = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n)) > 0) {
		n += (size_t)r;
		if (n == CONFIG_FILE_MAX + 1) {
			break;
		}
	}
	if (r < 0) {
		err = -errno;
	} else if (n > CONFIG_FILE_MAX) {
		err = -EFBIG;
	}
	close(fd);
	if (err != 0) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* Parses the command line over the configuration file cfg->file into out.
 * Returns 0, or -EINVAL / -errno with the problems in d (the file's) or in
 * err (the command line's, or why the file cannot be read). */
static int main_parse_file(const struct main_ctx *m, struct config *out,
                           struct diag *d, char *err, size_t cap)
{
	char path[CONFIG_PATH_MAX];
	char *text;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s", m->cfg.file);
	rc = main_read_file(path, &text, &len);
	if (rc != 0) {
		snprintf(err, cap, "--config: cannot read %.300s: %s", path,
		         rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc));
		return rc;
	}
	rc = config_parse_with_file(out, m->argc, m->argv, path, text, len, d,
	                            err, cap);
	free(text);
	return rc;
}

/* At start-up: cfg from the defaults, the file and argv. Returns 0 or the
 * exit status (problems printed to stderr; --check also prints its
 * summary line and exits 1, as it does for bad manifests). */
static int main_startup_config(struct main_ctx *m)
{
	struct diag d;
	char err[512];
	bool check = m->cfg.mode == CONFIG_MODE_CHECK;
	int rc;

	diag_init(&d);
	rc = main_parse_file(m, &m->next, &d, err, sizeof(err));
	if (rc == 0) {
		m->cfg = m->next;
	} else {
		diag_print(&d, stderr);
		fprintf(stderr, "svcdns: %s\n", err);
		if (check) {
			printf("check: failed config=%s errors=%u\n",
			       m->cfg.file, d.errors ? d.errors : 1);
		}
	}
	diag_fini(&d);
	if (rc == 0) {
		return 0;
	}
	return check ? main_close_stdout(MAIN_EXIT_ERROR) : MAIN_EXIT_USAGE;
}

/* One setting of the configuration: its key and where it sits. */
struct main_setting {
	const char *key;
	size_t off;
	size_t len;
};

#define MAIN_SET(key, field)                                   \
	{                                                      \
		key, offsetof(struct config, field),           \
			sizeof(((struct config *)NULL)->field) \
	}

/* The settings a running svcdns cannot change: a new value is logged and
 * waits for a restart. (log-level and log-queries apply at once.) */
static const struct main_setting main_restart_settings[] = {
	MAIN_SET("zones", zones.dir),
	MAIN_SET("domain", zones.names),
	MAIN_SET("domain", zones.n_names),
	MAIN_SET("pods", zones.pods),
	MAIN_SET("ttl", zones.ttl),
	MAIN_SET("listen", server.listen),
	MAIN_SET("listen", server.n_listen),
	MAIN_SET("threads", server.threads),
	MAIN_SET("tcp-idle-timeout", server.tcp_idle_timeout_ms),
	MAIN_SET("tcp-io-timeout", server.tcp_io_timeout_ms),
	MAIN_SET("tcp-max-conns", server.tcp_max_conns),
	MAIN_SET("udp-rcvbuf", server.udp_rcvbuf),
	MAIN_SET("udp-direct", server.udp_direct),
	MAIN_SET("settle-ms", watch.settle_ms),
	MAIN_SET("rescan-interval", watch.rescan_ms),
	MAIN_SET("upstream", upstream.mode),
	MAIN_SET("upstream", upstream.resolv_conf),
	MAIN_SET("upstream", upstream.servers),
	MAIN_SET("upstream", upstream.n_servers),
	MAIN_SET("upstream-timeout", upstream.timeout_ms),
	MAIN_SET("upstream-max-inflight", upstream.max_inflight),
	MAIN_SET("allow-recursion", upstream.allow),
	MAIN_SET("allow-recursion", upstream.n_allow),
	MAIN_SET("cache-size", upstream.cache_size),
	MAIN_SET("cache-max-ttl", upstream.cache_max_ttl),
	MAIN_SET("fallthrough", upstream.fallthrough),
	MAIN_SET("fallthrough", upstream.n_fallthrough),
	MAIN_SET("http", http),
	MAIN_SET("kubernetes", kube),
	MAIN_SET("cache", cache),
};

/* Logs each setting of next that differs from what runs and needs a
 * restart (each key once). Both configs come from config_defaults, which
 * zeroes the whole struct, so comparing bytes is exact. */
static void main_log_restart_needed(const struct config *run,
                                    const struct config *next)
{
	const char *last = "";
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(main_restart_settings); i++) {
		const struct main_setting *s = &main_restart_settings[i];

		if (strcmp(s->key, last) == 0) {
			continue;
		}
		if (memcmp((const char *)run + s->off,
		           (const char *)next + s->off, s->len) != 0) {
			log_warn(
				"main: config %s changed in %s; restart svcdns to apply it",
				s->key, run->file);
			last = s->key;
		}
	}
}

/* SIGHUP: re-reads the configuration file. log-level and log-queries apply
 * now; other changes are logged as needing a restart. A file with errors
 * changes nothing. */
static void main_reload_config(struct main_ctx *m)
{
	struct diag d;
	char err[512];

	diag_init(&d);
	if (main_parse_file(m, &m->next, &d, err, sizeof(err)) != 0) {
		diag_log(&d);
		log_err("main: config reload failed file=%s: %s; the running configuration stays",
		        m->cfg.file, err);
		diag_fini(&d);
		return;
	}
	diag_fini(&d);
	if (m->next.log_level != m->parsed.log_level) {
		log_info("main: config log-level changed level=%d",
		         (int)m->next.log_level);
		log_set_level(m->next.log_level);
		m->parsed.log_level = m->next.log_level;
		m->cfg.log_level = m->next.log_level;
	}
	if (m->next.log_queries != m->parsed.log_queries) {
		log_info("main: config log-queries=%s",
		         m->next.log_queries ? "on" : "off");
		qlog_set_enabled(m->next.log_queries);
		m->parsed.log_queries = m->next.log_queries;
		m->cfg.log_queries = m->next.log_queries;
	}
	main_log_restart_needed(&m->parsed, &m->next);
	log_info("main: config reloaded file=%s", m->cfg.file);
}

/* ------------------------------ serving ------------------------------ */

static void main_notify(struct main_ctx *m, const char *msg)
{
	int err = sdnotify_send(&m->notify, msg);

	if (err != 0) {
		log_warn("main: systemd notification failed msg=%.*s err=%s",
		         (int)strcspn(msg, "\n"), msg, strerror(-err));
	}
}

/* A worker whose loop has not stamped its liveness for this long is
 * stalled (SERVER_BEAT_MS is 1 s). */
#define MAIN_STALL_MS 5000

/* True when every worker is live; logs a stall once when it starts. */
static bool main_workers_live(struct main_ctx *m)
{
	uint64_t age = 0;
	int id = server_stalled(m->srv, MAIN_STALL_MS, &age);

	if (id < 0) {
		if (m->stalled) {
			log_info("main: the workers are live again");
		}
		m->stalled = false;
		return true;
	}
	if (!m->stalled) {
		log_err("main: worker=%d has not run its loop for %" PRIu64
		        " ms: /health says 503 and systemd's watchdog is no longer fed",
		        id, age);
	}
	m->stalled = true;
	return false;
}

static void main_watchdog_cb(uv_timer_t *t)
{
	struct main_ctx *m = t->data;

	/* The main loop runs (this callback proves it) and so do the workers
	 * (their stamps): otherwise WatchdogSec= later, systemd restarts. */
	if (main_workers_live(m)) {
		main_notify(m, "WATCHDOG=1");
	}
}

static bool main_health_cb(void *arg)
{
	return main_workers_live(arg);
}

/* Starts the WATCHDOG=1 keep-alive at half the interval systemd asks for
 * (sd_watchdog_enabled(3)). */
static void main_watchdog_start(struct main_ctx *m)
{
	uint64_t usec = sdnotify_watchdog_usec();
	uint64_t ms = usec / 2000;

	if (usec == 0 || !sdnotify_enabled(&m->notify)) {
		return;
	}
	if (ms == 0) {
		ms = 1;
	}
	uv_timer_init(&m->loop, &m->watchdog);
	m->watchdog.data = m;
	uv_timer_start(&m->watchdog, main_watchdog_cb, ms, ms);
	m->watchdog_on = true;
	log_info("main: systemd watchdog interval_ms=%" PRIu64
	         " ping_ms=%" PRIu64,
	         usec / 1000, ms);
}

static bool main_ready_cb(void *arg)
{
	const struct main_ctx *m = arg;

	return m->ready;
}

static void main_metrics_cb(void *arg, struct metrics_buf *out)
{
	struct main_ctx *m = arg;
	struct ops_sources src = {
		.srv = m->srv,
		.watch = m->loading ? NULL : m->watch,
		.slot = &m->slot,
		.ready = m->ready,
		.start_unix = m->start_unix,
	};

	ops_render_metrics(&src, out);
}

/* Opens the HTTP endpoint (unless --http none). Returns 0 or an error. */
static int main_http(struct main_ctx *m)
{
	const struct config_http *c = &m->cfg.http;
	struct http_opts o;
	int err;

	if (!c->enabled) {
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.addr = (const struct sockaddr *)&c->listen.addr;
	o.max_conns = MAIN_HTTP_MAX_CONNS;
	o.read_timeout_ms = m->cfg.server.tcp_io_timeout_ms;
	o.write_timeout_ms = m->cfg.server.tcp_idle_timeout_ms;
	o.metrics = main_metrics_cb;
	o.ready = main_ready_cb;
	o.health = main_health_cb;
	o.arg = m;
	err = http_create(&m->loop, &o, &m->http);
	if (err != 0) {
		log_err("main: cannot serve HTTP on %s: %s (choose another --http, or --http none)",
		        c->listen.text, uv_strerror(err));
	}
	return err;
}

/* Stops the main loop's work: signals, watchdog, HTTP, the watch (later,
 * if the first load still runs). uv_run then returns. Idempotent. */
static void main_shutdown(struct main_ctx *m, int code)
{
	uv_signal_t *const hs[] = { &m->sig_int, &m->sig_term, &m->sig_hup,
		                    &m->sig_usr1 };
	size_t i;

	if (m->stopping) {
		return;
	}
	m->stopping = true;
	m->code = code;
	main_notify(m, "STOPPING=1");
	for (i = 0; i < SVCDNS_ARRAY_SIZE(hs); i++) {
		if (uv_is_active((uv_handle_t *)hs[i]) &&
		    !uv_is_closing((uv_handle_t *)hs[i])) {
			uv_close((uv_handle_t *)hs[i], NULL);
		}
	}
	if (m->watchdog_on) {
		uv_close((uv_handle_t *)&m->watchdog, NULL);
		m->watchdog_on = false;
	}
	if (m->cache_timer_on) {
		uv_close((uv_handle_t *)&m->cache_timer, NULL);
		m->cache_timer_on = false;
	}
	http_close(m->http);
	m->http = NULL;
	if (!m->loading) {
		watch_stop(m->watch);
	}
}

/* SIGHUP: RELOADING=1, the configuration file, every manifest, READY=1.
 * The manifests are re-read on the thread pool; READY=1 says the reload
 * is under way and svcdns serves meanwhile (the old data until the new
 * snapshot is published). */
static void main_hup(struct main_ctx *m)
{
	char msg[96];
	struct timespec ts;

	if (m->loading) {
		log_info(
			"main: SIGHUP during the first load; reloading after it");
		m->hup_pending = true;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: what systemd 253 and later want with RELOADING=1
	 * (older ones ignore it). */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	         (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	main_notify(m, msg);
	if (m->cfg.file[0] != '\0') {
		main_reload_config(m);
	}
	log_info("main: SIGHUP, reloading dir=%s", m->cfg.zones.dir);
	/* READY=1 once the reload is served (main_reloaded), so that
	 * `systemctl reload` returns when the new data is. */
	if (!watch_trigger(m->watch, true)) {
		main_notify(m, "READY=1\nSTATUS=serving; nothing reloaded");
	}
}

/* A SIGHUP's reload is done. */
static void main_reloaded(void *ud, bool published)
{
	struct main_ctx *m = ud;

	main_notify(
		m,
		published
			? "READY=1\nSTATUS=serving; reloaded"
			: "READY=1\nSTATUS=serving; reload found nothing new to serve");
}

static void main_signal_cb(uv_signal_t *h, int signum)
{
	struct main_ctx *m = h->data;

	if (signum == SIGUSR1) {
		main_log_stats(m->srv, "stats");
		return;
	}
	if (signum == SIGHUP) {
		main_hup(m);
		return;
	}
	log_info("main: %s, stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	/* With every handle closed the main loop has nothing left and uv_run
	 * returns; a second signal gets the default action. */
	main_shutdown(m, MAIN_EXIT_OK);
}

/* The start-up cache's key: the state of everything under the manifest
 * directory, and the directory's name. */
static int main_cache_key(const char *dir, uint64_t *key)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;
	int err = dirstamp(dir, key);

	for (i = 0; dir[i] != '\0'; i++) {
		h = (h ^ (uint8_t)dir[i]) * 0x100000001b3ull;
	}
	*key ^= h;
	return err;
}

/* Saves s as the start-up cache: written aside, then renamed into place,
 * so that a reader sees the old file or the new one. */
static int main_cache_write(const struct main_ctx *m, const struct snapshot *s,
                            uint64_t key)
{
	char tmp[CONFIG_PATH_MAX + 32];
	FILE *f;
	int err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", m->cache_path,
	                     (long)getpid()) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	f = fopen(tmp, "wb");
	if (f == NULL) {
		return -errno;
	}
	err = snapshot_save(s, key, f);
	if (fclose(f) != 0 && err == 0) {
		err = -EIO;
	}
	if (err == 0 && rename(tmp, m->cache_path) != 0) {
		err = -errno;
	}
	if (err != 0) {
		unlink(tmp);
	}
	return err;
}

/* The first load runs here, on the thread pool: the main loop does not
 * touch the watch until main_first_load_done. With --cache, the
 * directory's state is taken before the load: a change made during it
 * leaves a cache that the next start finds stale, never one that claims
 * newer files than it holds. */
static void main_first_load_work(uv_work_t *req)
{
	struct main_ctx *m = req->data;

	m->cache_keyed = m->cache_path[0] != '\0' &&
	                 main_cache_key(m->cache_dir, &m->cache_key) == 0;
	m->first_err = watch_load_now(m->watch, &m->first_snap, &m->load_errors,
	                              &m->load_warnings);
}

/* After the first publish, on the pool: the snapshot into the cache. */
static void main_cache_save_work(uv_work_t *req)
{
	struct main_ctx *m = req->data;

	m->cache_err = main_cache_write(m, m->cache_snap, m->cache_key);
}

static void main_cache_save_done(uv_work_t *req, int status)
{
	struct main_ctx *m = req->data;

	(void)status;
	snapshot_release(m->cache_snap);
	m->cache_snap = NULL;
	if (m->cache_err == -ENOTSUP) {
		if (!m->cache_bg_said) {
			log_info(
				"main: no start-up cache with blue/green Services (their answers follow the cutover state)");
			m->cache_bg_said = true;
		}
	} else if (m->cache_err != 0) {
		log_warn("main: cannot write the start-up cache file=%s: %s",
		         m->cache_path, strerror(-m->cache_err));
	} else {
		log_debug("main: start-up cache written file=%s",
		          m->cache_path);
	}
}

/* Queues the cache write of what is now served. */
static void main_cache_save(struct main_ctx *m)
{
	if (!m->cache_keyed) {
		return;
	}
	m->cache_snap = snapshot_slot_acquire(&m->slot);
	m->cache_save.data = m;
	if (m->cache_snap == NULL ||
	    uv_queue_work(&m->loop, &m->cache_save, main_cache_save_work,
	                  main_cache_save_done) != 0) {
		snapshot_release(m->cache_snap);
		m->cache_snap = NULL;
	}
}

/* A reload is served: the cache is rewritten MAIN_CACHE_REWRITE_MS later
 * with whatever is served then (one write for a burst of reloads), so
 * that the next start finds a cache that matches the directory. Not for
 * a snapshot that keeps the last good data of a broken file (a fresh
 * start would not serve it), nor one whose scan has no key: then the
 * cache on disk stays as it was, and the next start finds it stale. */
#define MAIN_CACHE_REWRITE_MS 2000

static void main_cache_timer_cb(uv_timer_t *t)
{
	struct main_ctx *m = t->data;

	if (!m->cache_pending || m->stopping) {
		return;
	}
	if (m->cache_snap != NULL) { /* a write is running: after it */
		uv_timer_start(&m->cache_timer, main_cache_timer_cb,
		               MAIN_CACHE_REWRITE_MS, 0);
		return;
	}
	m->cache_pending = false;
	m->cache_key = m->cache_pending_key;
	m->cache_keyed = true;
	log_debug("main: rewriting the start-up cache after a reload");
	main_cache_save(m);
}

static void main_cache_reloaded(void *ud, bool stamped, uint64_t key,
                                bool clean)
{
	struct main_ctx *m = ud;

	if (m->cache_path[0] == '\0') {
		return;
	}
	m->cache_pending = stamped && clean;
	m->cache_pending_key = key;
	if (!clean) {
		log_info(
			"main: start-up cache not rewritten: a manifest failed to load, and a new start would not serve its last good data");
	}
	if (!m->cache_pending || m->stopping) {
		return;
	}
	if (!m->cache_timer_on) {
		uv_timer_init(&m->loop, &m->cache_timer);
		m->cache_timer.data = m;
		m->cache_timer_on = true;
	}
	if (!uv_is_active((uv_handle_t *)&m->cache_timer)) {
		uv_timer_start(&m->cache_timer, main_cache_timer_cb,
		               MAIN_CACHE_REWRITE_MS, 0);
	}
}

/* Runs on the pool before a reload's scan (watch_opts.stamp): reads only
 * cache_path and cache_dir, set before the first load is queued (reloads
 * come after it). */
static int main_cache_stamp(void *ud, uint64_t *key)
{
	const struct main_ctx *m = ud;

	if (m->cache_path[0] == '\0') {
		return -ENOENT; /* no --cache: no key needed */
	}
	return main_cache_key(m->cache_dir, key);
}

static uint64_t main_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --cache at start-up: when the manifest directory is as the cache says,
 * publish the cached snapshot now; the first load replaces it. */
static void main_cache_serve(struct main_ctx *m)
{
	uint64_t t0 = main_now_us();
	struct snapshot *s = NULL;
	struct snapshot_stats ss;
	uint64_t key;
	FILE *f;
	int err = main_cache_key(m->cache_dir, &key);

	if (err != 0) {
		return; /* the load reports the directory's problems */
	}
	f = fopen(m->cache_path, "rb");
	if (f == NULL) {
		if (errno == ENOENT) {
			log_info("main: no start-up cache yet file=%s",
			         m->cache_path);
		} else {
			log_warn(
				"main: cannot read the start-up cache file=%s: %s",
				m->cache_path, strerror(errno));
		}
		return;
	}
	err = snapshot_load(f, key, &m->sopts, &s);
	fclose(f);
	if (err == -ESTALE) {
		log_info(
			"main: start-up cache file=%s is stale (the manifests or the options changed); not used",
			m->cache_path);
		return;
	}
	if (err != 0) {
		log_warn("main: start-up cache file=%s not used: %s",
		         m->cache_path,
		         err == -EINVAL ? "damaged" : strerror(-err));
		return;
	}
	snapshot_get_stats(s, &ss);
	snapshot_slot_publish(&m->slot, s);
	m->cache_served = true;
	m->ready = true;
	m->cache_load_us = main_now_us() - t0;
	log_info(
		"main: serving the start-up cache file=%s names=%zu services=%zu load_ms=%.1f while loading dir=%s",
		m->cache_path, ss.names, ss.services,
		(double)m->cache_load_us / 1000.0, m->cfg.zones.dir);
	main_notify(
		m,
		"READY=1\nSTATUS=serving the start-up cache; loading the manifests");
}

/* Logs the start line and tells systemd. */
static void main_announce(struct main_ctx *m)
{
	char zones[CONFIG_MAX_ZONES * CONFIG_ZONE_TEXT_MAX];
	char listen[CONFIG_MAX_LISTEN * CONFIG_LISTEN_TEXT_MAX];
	char status[160];
	struct snapshot *snap = snapshot_slot_acquire(&m->slot);
	struct snapshot_stats ss;
	struct watch_stats ws;

	snapshot_get_stats(snap, &ss);
	watch_get_stats(m->watch, &ws);
	main_describe(&m->cfg, zones, sizeof(zones), listen, sizeof(listen));
	log_info(
		"main: serving zones=%s listen=%s threads=%u files=%u objects=%zu gen=%" PRIu64
		" serial=%" PRIu32 " build_ms=%.1f http=%s",
		zones, listen, server_threads(m->srv), ws.files, ws.objects,
		snapshot_slot_generation(&m->slot), snapshot_serial(snap),
		(double)ss.build_us / 1000.0,
		m->http != NULL ? m->cfg.http.listen.text : "none");
	log_info("main: ready");
	snprintf(status, sizeof(status),
	         "READY=1\nSTATUS=serving %u files, %zu objects", ws.files,
	         ws.objects);
	main_notify(m, status);
	snapshot_release(snap);
}

/* Back on the main loop: publish the first snapshot (the workers leave
 * SERVFAIL behind, /ready turns 200), start following the directory. */
static void main_first_load_done(uv_work_t *req, int status)
{
	struct main_ctx *m = req->data;
	int err = m->first_err;

	(void)status;
	m->loading = false;
	if (m->stopping) {
		snapshot_release(m->first_snap);
		m->first_snap = NULL;
		watch_stop(m->watch);
		return;
	}
	if (err == -ENOMEM) {
		log_err("main: building the snapshot failed dir=%s",
		        m->cfg.zones.dir);
	} else if (err < 0) {
		log_err("main: cannot read zones directory dir=%s err=%s",
		        m->cfg.zones.dir, strerror(-err));
	}
	if (err == 0) {
		err = watch_start(m->watch, m->first_snap);
		m->first_snap = NULL;
		if (err != 0) {
			log_err("main: cannot follow dir=%s: %s",
			        m->cfg.zones.dir, uv_strerror(err));
		}
	}
	if (err != 0) {
		main_shutdown(m, MAIN_EXIT_ERROR);
		return;
	}
	m->ready = true;
	main_cache_save(m);
	if (m->cache_served) {
		log_info(
			"main: the manifests are loaded; they replace the start-up cache");
	}
	/* The parser's scratch was freed into the pool thread's heap: give
	 * it back to the kernel (as each reload does). */
	malloc_trim(0);
	main_announce(m);
	if (m->hup_pending) {
		m->hup_pending = false;
		main_hup(m);
	}
}

/* Kube mode: the first full sync is published. */
static void main_kube_first(void *ud)
{
	struct main_ctx *m = ud;

	if (m->stopping) {
		return;
	}
	m->ready = true;
	main_announce(m);
}

/* Workers, HTTP, then the first load on the pool. Returns 0 or an error
 * (logged). */
static int main_start(struct main_ctx *m)
{
	int err;

	main_check_fd_limit(&m->cfg.server);
	err = server_create(&m->cfg.server, &m->aopts, &m->cfg.upstream,
	                    &m->slot, &m->srv);
	if (err != 0) {
		log_err("main: cannot start serving: %s", uv_strerror(err));
		return err;
	}
	err = main_http(m);
	if (err != 0) {
		return err;
	}
	/* Every socket is bound: give up root and every capability before
	 * any worker thread exists (capabilities are per thread; the first
	 * load below runs after the drop). */
	err = privs_drop(m->cfg.user[0] ? m->cfg.user : NULL);
	if (err != 0) {
		log_err("main: cannot drop privileges; stopping");
		return err;
	}
	err = server_start(m->srv);
	if (err != 0) {
		log_err("main: cannot start serving: %s", uv_strerror(err));
		return err;
	}
	main_watchdog_start(m);
	if (m->cfg.kube.enabled) {
		if (m->cfg.cache[0] != '\0') {
			log_warn(
				"main: --cache %s is not used with --kubernetes: each start lists the objects from the API server",
				m->cfg.cache);
		}
		/* The first full sync publishes the first snapshot; until
		 * then SERVFAIL and /ready 503 (main_kube_first). */
		err = watch_start_kube(m->watch);
		if (err != 0) {
			log_err("main: cannot watch the API server: %s",
			        err == -ENOMEM ? "out of memory"
			                       : uv_strerror(err));
		}
		return err;
	}
	if (m->cfg.cache[0] != '\0') {
		memcpy(m->cache_path, m->cfg.cache, sizeof(m->cache_path));
		memcpy(m->cache_dir, m->cfg.zones.dir, sizeof(m->cache_dir));
		main_cache_serve(m);
	}
	m->first_load.data = m;
	m->loading = true;
	err = uv_queue_work(&m->loop, &m->first_load, main_first_load_work,
	                    main_first_load_done);
	if (err != 0) {
		m->loading = false;
		log_err("main: cannot start loading: %s", uv_strerror(err));
	}
	return err;
}

static int main_serve(struct main_ctx *m)
{
	int err;

	if (main_upstreams(&m->cfg) != 0) {
		return MAIN_EXIT_ERROR;
	}
	/* Root buys nothing on a port above 1023 but risk (RELIABILITY.md
	 * 4): refuse unless --user says who to become (--user root: stay
	 * root on purpose, without capabilities). */
	if (privs_check_root_on_high_port(geteuid(), m->cfg.user,
	                                  &m->cfg.server,
	                                  privs_unprivileged_port_start())) {
		log_err("main: refusing to run as root on unprivileged ports; use --user NAME (--user root to stay root without capabilities)");
		return MAIN_EXIT_ERROR;
	}
	err = sdnotify_open(&m->notify);
	if (err != 0 && err != -ENOENT) {
		log_warn(
			"main: NOTIFY_SOCKET unusable: %s; no systemd notifications",
			strerror(-err));
	}
	if (main_signals(m) != 0) {
		return MAIN_EXIT_ERROR;
	}
	m->code = MAIN_EXIT_OK;
	if (main_start(m) != 0) {
		main_shutdown(m, MAIN_EXIT_ERROR);
	}
	uv_run(&m->loop, UV_RUN_DEFAULT);
	server_stop(m->srv);
	main_log_stats(m->srv, "stopped");
	server_destroy(m->srv);
	m->srv = NULL;
	sdnotify_close(&m->notify);
	return m->code;
}

/* --kubernetes and friends into kube_opts (pointers into m->cfg). */
static void main_kube_opts(struct main_ctx *m, struct kube_opts *ko,
                           const char **kns)
{
	const struct config_kube *k = &m->cfg.kube;
	size_t i;

	memset(ko, 0, sizeof(*ko));
	ko->kubeconfig = k->kubeconfig[0] ? k->kubeconfig : NULL;
	for (i = 0; i < k->n_namespaces; i++) {
		kns[i] = k->namespaces[i];
	}
	ko->namespaces = kns;
	ko->n_namespaces = k->n_namespaces;
	ko->labels = k->labels[0] ? k->labels : NULL;
	switch (k->pods) {
	case CONFIG_KUBE_PODS_NEVER:
		ko->pods = KUBE_PODS_NEVER;
		break;
	case CONFIG_KUBE_PODS_ALWAYS:
		ko->pods = KUBE_PODS_ALWAYS;
		break;
	case CONFIG_KUBE_PODS_AUTO:
	default:
		/* Pods verified needs every pod; otherwise only blue/green
		 * Services (their endpoints and previews) do. */
		ko->pods = m->cfg.zones.pods == CONFIG_PODS_VERIFIED
		                   ? KUBE_PODS_ALWAYS
		                   : KUBE_PODS_AUTO;
		break;
	}
	ko->print = true;
}

int main(int argc, char **argv)
{
	static struct main_ctx m;
	struct watch_opts wo;
	struct kube_opts ko;
	const char *kns[CONFIG_MAX_KUBE_NAMESPACES];
	char err[512];
	int code;

	/* glibc raises the mmap threshold after each large free (up to 32
	 * MiB), after which a reload's big scratch blocks come from the heap
	 * and stay there for good. A fixed threshold keeps blocks of 128 KiB
	 * and more in their own mappings, returned to the kernel on free. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* A load allocates and frees millions of small blocks: without
	 * slack each heap is trimmed and grown again over and over (page
	 * faults: a third of a 150k-pod parse). Reloads end in malloc_trim,
	 * which gives the slack back. */
	mallopt(M_TOP_PAD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	m.argc = argc;
	m.argv = argv;
	m.start_unix = (uint64_t)time(NULL);
	if (config_parse(&m.cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "svcdns: %s\n", err);
		return MAIN_EXIT_USAGE;
	}
	if (m.cfg.mode == CONFIG_MODE_HELP) {
		config_print_usage(stdout);
		return main_close_stdout(MAIN_EXIT_OK);
	}
	if (m.cfg.mode == CONFIG_MODE_VERSION) {
		main_print_version();
		return main_close_stdout(MAIN_EXIT_OK);
	}
	if (m.cfg.file[0] != '\0') {
		code = main_startup_config(&m);
		if (code != 0) {
			return code;
		}
	}
	m.parsed = m.cfg;
	log_detect_journal();
	log_set_level(m.cfg.log_level);
	qlog_set_enabled(m.cfg.log_queries);
	/* Before any thread starts (STYLE.md 3.15). */
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		log_err("main: ares_library_init failed");
		return MAIN_EXIT_ERROR;
	}
	main_prepare(&m);
	if (uv_loop_init(&m.loop) != 0) {
		log_err("main: cannot create the event loop");
		return MAIN_EXIT_ERROR;
	}
	snapshot_slot_init(&m.slot);
	memset(&wo, 0, sizeof(wo));
	wo.dir = m.cfg.zones.dir;
	wo.on_forced = main_reloaded;
	wo.stamp = main_cache_stamp;
	wo.on_published = main_cache_reloaded;
	wo.ud = &m;
	if (m.cfg.kube.enabled) {
		if (m.cfg.mode == CONFIG_MODE_CHECK ||
		    m.cfg.mode == CONFIG_MODE_DUMP) {
			fprintf(stderr,
			        "svcdns: --check and --dump read the manifest directory (--zones), not the API server\n");
			return MAIN_EXIT_USAGE;
		}
		main_kube_opts(&m, &ko, kns);
		wo.kube = &ko;
		wo.on_first = main_kube_first;
	}
	wo.settle_ms = m.cfg.watch.settle_ms;
	wo.rescan_ms = m.cfg.watch.rescan_ms;
	/* Start-up problems go to stderr as file:line:col lines; later ones
	 * to the log. */
	wo.print = true;
	m.watch = watch_create(&m.loop, &wo, &m.sopts, &m.slot);
	if (m.watch == NULL) {
		/* With --kubernetes, kube_create has logged why. */
		log_err(wo.kube != NULL
		                ? "main: cannot start the API server watch"
		                : "main: out of memory");
		code = MAIN_EXIT_ERROR;
	} else if (m.cfg.mode == CONFIG_MODE_CHECK) {
		code = main_check(&m);
	} else if (m.cfg.mode == CONFIG_MODE_DUMP) {
		code = main_dump(&m);
	} else {
		code = main_serve(&m);
	}
	if (m.watch != NULL) {
		watch_stop(m.watch);
	}
	uv_run(&m.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&m.loop) != 0) {
		log_err("main: the main loop still has handles at exit");
	}
	watch_destroy(m.watch);
	snapshot_slot_fini(&m.slot);
	ares_library_cleanup();
	return code;
}
