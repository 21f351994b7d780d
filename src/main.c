/* svcdns: parse the command line, load the manifest directory, build the
 * first snapshot, then --check, --dump, or serve until SIGINT/SIGTERM, with
 * SIGHUP reloading. The main loop owns the signals and the reload; the
 * workers (server.c) own the sockets. */
#include "svcdns/answer.h"
#include "svcdns/config.h"
#include "svcdns/diag.h"
#include "svcdns/forward.h"
#include "svcdns/k8s.h"
#include "svcdns/log.h"
#include "svcdns/manifest.h"
#include "svcdns/privs.h"
#include "svcdns/server.h"
#include "svcdns/snapshot.h"
#include "svcdns/watch.h"
#include "svcdns/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
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

struct main_ctx {
	struct config cfg;
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
};

static void main_print_version(void)
{
	printf("svcdns %s\n", SVCDNS_VERSION);
	printf("libuv %s\n", uv_version_string());
	printf("c-ares %s\n", ares_version(NULL));
	printf("libyaml %s\n", yaml_get_version_string());
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
	printf("check: %s dir=%s files=%u failed=%u objects=%zu errors=%u warnings=%u\n",
	       ok ? "ok" : "failed", m->cfg.zones.dir, st.files,
	       st.failed_files, st.objects, m->load_errors, m->load_warnings);
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

static void main_log_stats(const struct server *srv, const char *what);

static void main_signal_cb(uv_signal_t *h, int signum)
{
	struct main_ctx *m = h->data;

	if (signum == SIGUSR1) {
		main_log_stats(m->srv, "stats");
		return;
	}
	if (signum == SIGHUP) {
		log_info("main: SIGHUP, reloading dir=%s", m->cfg.zones.dir);
		watch_trigger(m->watch, true);
		return;
	}
	log_info("main: %s, stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	watch_stop(m->watch);
	/* With the signal handles closed the main loop has nothing left
	 * and uv_run returns; a second signal gets the default action. */
	uv_close((uv_handle_t *)&m->sig_int, NULL);
	uv_close((uv_handle_t *)&m->sig_term, NULL);
	uv_close((uv_handle_t *)&m->sig_hup, NULL);
	uv_close((uv_handle_t *)&m->sig_usr1, NULL);
}

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

static int main_serve(struct main_ctx *m)
{
	char zones[CONFIG_MAX_ZONES * CONFIG_ZONE_TEXT_MAX];
	char listen[CONFIG_MAX_LISTEN * CONFIG_LISTEN_TEXT_MAX];
	struct snapshot *snap = NULL;
	struct snapshot_stats ss;
	struct watch_stats ws;
	int err;
	int code = MAIN_EXIT_ERROR;

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
	if (main_load(m, &snap) != 0) {
		return MAIN_EXIT_ERROR;
	}
	snapshot_get_stats(snap, &ss);
	if (main_signals(m) != 0) {
		snapshot_release(snap);
		goto out_close;
	}
	main_check_fd_limit(&m->cfg.server);
	err = watch_start(m->watch, snap);
	if (err == 0) {
		err = server_create(&m->cfg.server, &m->aopts, &m->cfg.upstream,
		                    &m->slot, &m->srv);
	}
	/* The sockets are bound: give up root and every capability before
	 * any worker thread exists (capabilities are per thread). */
	if (err == 0) {
		err = privs_drop(m->cfg.user[0] ? m->cfg.user : NULL);
		if (err != 0) {
			log_err("main: cannot drop privileges; stopping");
		}
	}
	if (err == 0) {
		err = server_start(m->srv);
	}
	if (err != 0) {
		log_err("main: cannot start serving: %s", uv_strerror(err));
		goto out_close;
	}
	watch_get_stats(m->watch, &ws);
	main_describe(&m->cfg, zones, sizeof(zones), listen, sizeof(listen));
	log_info(
		"main: serving zones=%s listen=%s threads=%u files=%u objects=%zu gen=%" PRIu64
		" serial=%" PRIu32 " build_ms=%.1f",
		zones, listen, server_threads(m->srv), ws.files, ws.objects,
		snapshot_slot_generation(&m->slot), snapshot_serial(snap),
		(double)ss.build_us / 1000.0);
	log_info("main: ready");
	uv_run(&m->loop, UV_RUN_DEFAULT);
	server_stop(m->srv);
	main_log_stats(m->srv, "stopped");
	code = MAIN_EXIT_OK;
out_close:
	server_destroy(m->srv);
	m->srv = NULL;
	/* On the error paths the signal handles are still open. */
	if (uv_is_active((uv_handle_t *)&m->sig_int) &&
	    !uv_is_closing((uv_handle_t *)&m->sig_int)) {
		uv_close((uv_handle_t *)&m->sig_int, NULL);
		uv_close((uv_handle_t *)&m->sig_term, NULL);
		uv_close((uv_handle_t *)&m->sig_hup, NULL);
		uv_close((uv_handle_t *)&m->sig_usr1, NULL);
	}
	return code;
}

int main(int argc, char **argv)
{
	static struct main_ctx m;
	struct watch_opts wo;
	char err[512];
	int code;

	if (config_parse(&m.cfg, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "svcdns: %s\n", err);
		return 2;
	}
	if (m.cfg.mode == CONFIG_MODE_HELP) {
		config_print_usage(stdout);
		return main_close_stdout(MAIN_EXIT_OK);
	}
	if (m.cfg.mode == CONFIG_MODE_VERSION) {
		main_print_version();
		return main_close_stdout(MAIN_EXIT_OK);
	}
	log_set_level(m.cfg.log_level);
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
	wo.settle_ms = m.cfg.watch.settle_ms;
	wo.rescan_ms = m.cfg.watch.rescan_ms;
	/* Start-up problems go to stderr as file:line:col lines; later ones
	 * to the log. */
	wo.print = true;
	m.watch = watch_create(&m.loop, &wo, &m.sopts, &m.slot);
	if (m.watch == NULL) {
		log_err("main: out of memory");
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
