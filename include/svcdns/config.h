/* The command line and the configuration file (--config, YAML, a key per
 * option), parsed into plain option structs, one per area: main hands each
 * module its own (&cfg->server, &cfg->zones...), and no module reads global
 * configuration. Core layer: no libuv, no c-ares; nothing here touches the
 * network or the file system (main reads the file and passes its text). */
#ifndef SVCDNS_CONFIG_H
#define SVCDNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "svcdns/common.h"
#include "svcdns/diag.h"
#include "svcdns/log.h"

#define CONFIG_MAX_LISTEN 16
/* Equal to SNAPSHOT_MAX_ZONES (main checks it at compile time; config sits
 * below snapshot in the layering, so it cannot include snapshot.h). */
#define CONFIG_MAX_ZONES 8
/* A zone in text: at most 253 characters without the trailing dot (255
 * octets in wire form), plus the NUL. */
#define CONFIG_ZONE_TEXT_MAX 254
#define CONFIG_PATH_MAX      4096
/* "[" + 45 (INET6_ADDRSTRLEN - 1) + "]:" + 5 + NUL */
#define CONFIG_LISTEN_TEXT_MAX 56
#define CONFIG_THREADS_MAX     64
#define CONFIG_TTL_MAX         3600
#define CONFIG_TIMEOUT_MS_MAX  3600000u
#define CONFIG_TCP_CONNS_MAX   65536u
#define CONFIG_MAX_UPSTREAMS   8
#define CONFIG_MAX_ACL         32
#define CONFIG_INFLIGHT_MAX    50000u /* below the 65536 query IDs */
#define CONFIG_CACHE_SIZE_MAX  10000000u
#define CONFIG_RESOLV_CONF     "/etc/resolv.conf"
/* A configuration file larger than this is refused (main reads it). */
#define CONFIG_FILE_MAX (1024 * 1024)

/* Default values, also printed by config_print_usage. */
#define CONFIG_DEFAULT_ZONES_DIR     "zones"
#define CONFIG_DEFAULT_LISTEN        "127.0.0.1:5353"
#define CONFIG_DEFAULT_DOMAIN        "cluster.local"
#define CONFIG_DEFAULT_TTL           5
#define CONFIG_DEFAULT_TCP_IDLE_MS   10000u
#define CONFIG_DEFAULT_TCP_IO_MS     2000u
#define CONFIG_DEFAULT_TCP_MAX_CONNS 1024u
#define CONFIG_DEFAULT_UDP_RCVBUF    1048576u
#define CONFIG_UDP_RCVBUF_MAX        (256u * 1024u * 1024u)
#define CONFIG_DEFAULT_SETTLE_MS     20u
#define CONFIG_DEFAULT_LAME_DUCK_MS  2500
#define CONFIG_DEFAULT_RESCAN_MS     10000u
#define CONFIG_DEFAULT_UPSTREAM_MS   2000u
#define CONFIG_DEFAULT_INFLIGHT      1000u
#define CONFIG_DEFAULT_CACHE_SIZE    10000u
#define CONFIG_DEFAULT_CACHE_MAX_TTL 3600u
/* CoreDNS's prometheus plugin listens on 9153 too. */
#define CONFIG_DEFAULT_HTTP "127.0.0.1:9153"
/* RFC 1918 and RFC 4193 ranges plus loopback (RELIABILITY.md 4). */
#define CONFIG_DEFAULT_ALLOW_RECURSION \
	"127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

/* What main should do once the command line is parsed. */
enum config_mode {
	CONFIG_MODE_SERVE,   /* run the daemon */
	CONFIG_MODE_CHECK,   /* --check: validate the manifests and exit */
	CONFIG_MODE_DUMP,    /* --dump: print the zones and exit */
	CONFIG_MODE_HELP,    /* --help: print usage to stdout, exit 0 */
	CONFIG_MODE_VERSION, /* --version: print versions, exit 0 */
};

/* Pod A records (<a-b-c-d>.<ns>.pod.<zone>), as in kube-dns/CoreDNS. */
enum config_pods_mode {
	CONFIG_PODS_DISABLED,
	CONFIG_PODS_INSECURE,
	CONFIG_PODS_VERIFIED,
};

/* What gets served: the manifest directory and the zones built from it. */
struct config_zones {
	char dir[CONFIG_PATH_MAX];
	/* Lower-case, no trailing dot, validated; names[0] is primary. */
	char names[CONFIG_MAX_ZONES][CONFIG_ZONE_TEXT_MAX];
	size_t n_names;
	enum config_pods_mode pods;
	uint32_t ttl; /* 0..CONFIG_TTL_MAX */
};

/* One UDP+TCP listen address. */
struct config_listen {
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
	socklen_t addr_len;
	char text[CONFIG_LISTEN_TEXT_MAX]; /* "127.0.0.1:53", "[::1]:53" */
	bool wildcard;                     /* 0.0.0.0 or :: */
};

/* An address prefix (the recursion ACL, RRL exemptions). */
struct config_cidr {
	uint8_t family;   /* AF_INET or AF_INET6 */
	uint8_t bits;     /* 0..32 or 0..128 */
	uint8_t addr[16]; /* network byte order, host bits zero */
};

/* Response rate limiting of UDP answers (rrl.h); rate 0 turns it off.
 * The bounds are rrl.h's (main checks that they agree). */
#define CONFIG_DEFAULT_RRL_RATE  200u
#define CONFIG_DEFAULT_RRL_SLIP  2u
#define CONFIG_DEFAULT_RRL_TABLE 65536u
#define CONFIG_RRL_RATE_MAX      1000000u
#define CONFIG_RRL_SLIP_MAX      10u
#define CONFIG_RRL_TABLE_MIN     64u
#define CONFIG_RRL_TABLE_MAX     (16u * 1024u * 1024u)
struct config_rrl {
	unsigned rate; /* responses a second per source prefix and name */
	unsigned slip; /* every slip-th limited response goes out TC=1 */
	size_t table;  /* slots per worker */
	bool log_only; /* count, never limit */
	struct config_cidr exempt[CONFIG_MAX_ACL]; /* besides loopback */
	size_t n_exempt;
};

/* How a worker waits for UDP queries (--udp-direct; server.c, "Direct
 * UDP mode"). */
enum config_udp_direct {
	CONFIG_UDP_DIRECT_AUTO, /* in recvmmsg under a steady UDP load */
	CONFIG_UDP_DIRECT_ON,   /* in recvmmsg whenever it can */
	CONFIG_UDP_DIRECT_OFF,  /* always in the event loop */
};

/* Options for server.c. */
struct config_server {
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	unsigned threads;             /* 1..CONFIG_THREADS_MAX */
	unsigned tcp_idle_timeout_ms; /* no complete query for this: close */
	unsigned tcp_io_timeout_ms;   /* a message incomplete for this: close */
	unsigned tcp_max_conns; /* per worker; the oldest idle is evicted */
	unsigned udp_rcvbuf;    /* octets per UDP socket; 0 = the kernel's */
	unsigned lame_duck_ms;  /* on SIGTERM, answer what is owed this long */
	enum config_udp_direct udp_direct;
	struct config_rrl rrl;
};

/* Following the manifest directory while serving (watch.c). */
struct config_watch {
	unsigned settle_ms; /* quiet time after a change before reloading */
	unsigned rescan_ms; /* periodic full rescan; 0 = none */
};

/* Where names outside the zones go. */
enum config_upstream_mode {
	CONFIG_UPSTREAM_NONE,        /* REFUSED */
	CONFIG_UPSTREAM_RESOLV_CONF, /* the nameservers of resolv_conf */
	CONFIG_UPSTREAM_LIST,        /* servers[] as given */
};

/* Forwarding (forward.c) and who may use it (server.c). */
struct config_upstream {
	/* mode != NONE. For RESOLV_CONF, main reads the file and fills
	 * servers[] (config itself touches no file). */
	bool forward;
	enum config_upstream_mode mode;
	char resolv_conf[CONFIG_PATH_MAX];
	struct config_listen servers[CONFIG_MAX_UPSTREAMS]; /* port set */
	size_t n_servers;
	unsigned timeout_ms;   /* SERVFAIL after this: the whole budget */
	unsigned max_inflight; /* per worker; above it SERVFAIL at once */
	struct config_cidr allow[CONFIG_MAX_ACL]; /* --allow-recursion */
	size_t n_allow;
	unsigned cache_size;    /* entries per worker; 0 = no cache */
	unsigned cache_max_ttl; /* seconds */
	/* --fallthrough: NXDOMAIN in these zones is forwarded. Lower-case,
	 * no trailing dot, validated like --domain. */
	char fallthrough[CONFIG_MAX_ZONES][CONFIG_ZONE_TEXT_MAX];
	size_t n_fallthrough;
};

#define CONFIG_USER_MAX 64

#define CONFIG_MAX_KUBE_NAMESPACES 64
#define CONFIG_KUBE_LABELS_MAX     512

/* When the Pods are watched (--kube-pods). */
enum config_kube_pods {
	CONFIG_KUBE_PODS_AUTO,   /* pods verified, or a blue/green Service */
	CONFIG_KUBE_PODS_NEVER,  /* never (pod names NXDOMAIN when verified) */
	CONFIG_KUBE_PODS_ALWAYS, /* always */
};

/* --kubernetes: the objects come from the API server (kube.c) instead of
 * the manifest directory. */
struct config_kube {
	bool enabled;
	char kubeconfig[CONFIG_PATH_MAX]; /* "" = in-cluster */
	/* --namespaces: only these (DNS labels); none = all. */
	char namespaces[CONFIG_MAX_KUBE_NAMESPACES][64];
	size_t n_namespaces;
	char labels[CONFIG_KUBE_LABELS_MAX]; /* "" = none */
	enum config_kube_pods pods;
};

/* The operations endpoint (http.c): /health, /ready, /metrics. */
struct config_http {
	bool enabled; /* false: --http none */
	struct config_listen listen;
};

struct config {
	enum config_mode mode;
	struct config_zones zones;
	struct config_server server;
	struct config_watch watch;
	struct config_upstream upstream;
	/* --user: drop to this user once the sockets are bound; "" = stay. */
	char user[CONFIG_USER_MAX];
	struct config_http http;
	struct config_kube kube;
	/* --cache FILE: the start-up cache (snapshot_save); "" = none. */
	char cache[CONFIG_PATH_MAX];
	enum log_level log_level;
	bool log_queries;           /* --log-queries: one line per query */
	char file[CONFIG_PATH_MAX]; /* --config FILE; "" when none */
};

/* Fills cfg with the defaults: zones "zones", listen 127.0.0.1:5353,
 * domain cluster.local, pods verified, ttl 5, upstream resolv.conf
 * (/etc/resolv.conf), timeout 2000 ms, 1000 forwards in flight per worker,
 * recursion for loopback and the private ranges, a cache of 10000
 * entries per worker with TTLs capped at 3600 s, threads = online
 * CPUs (clamped to 1..CONFIG_THREADS_MAX), the TCP defaults above, http on
 * 127.0.0.1:9153, log level info without the query log, no configuration
 * file, mode serve. Any thread. */
void config_defaults(struct config *cfg);

/* Parses argv[1..argc) into cfg (config_defaults first). Options are long
 * ones, as "--opt value" or "--opt=value"; "-h" means --help; "--" ends the
 * options (nothing may follow it). A repeated --listen or --domain adds to
 * the list, and the first one given replaces the default. --help and
 * --version stop parsing at once and set cfg->mode.
 *
 * Returns 0, or -EINVAL for a bad option or value, with one line (no
 * "svcdns: " prefix, no newline) in err[0..err_cap) saying what is wrong;
 * main prints it and exits 2. Does not print, does not keep pointers into
 * argv. Not thread-safe only in that cfg and err are written. */
SVCDNS_MUSTCHECK int config_parse(struct config *cfg, int argc,
                                  char *const argv[], char *err,
                                  size_t err_cap);

/* Applies the configuration file named name, whose text is text[0..len)
 * (need not be NUL-terminated), on top of what cfg holds. The file is one
 * YAML mapping whose keys are the long options without "--" (zones, listen,
 * ttl, log-queries...; not check, dump, help, version or config) and whose
 * values are what the option takes. listen and domain also take a list of
 * values; upstream, allow-recursion and fallthrough a list that stands for
 * their comma-separated form; log-queries a boolean. Every problem (syntax,
 * unknown or repeated key, bad value) goes to d as "name:line:col: error:
 * ..." and reading goes on, so one run shows them all. Returns 0, or
 * -EINVAL when any error was added (cfg is then partly written), -ENOMEM.
 * Main thread (libyaml is reentrant; nothing global is touched). */
SVCDNS_MUSTCHECK int config_apply_file(struct config *cfg, const char *name,
                                       const char *text, size_t len,
                                       struct diag *d);

/* config_parse with a configuration file: the defaults, then the file
 * (config_apply_file), then argv, so that the command line wins; a list
 * option given on the command line replaces the file's list. Returns 0;
 * -EINVAL with the file's errors in d and a summary in err; or -EINVAL
 * with err as config_parse writes it for a bad command line. */
SVCDNS_MUSTCHECK int config_parse_with_file(struct config *cfg, int argc,
                                            char *const argv[],
                                            const char *name, const char *text,
                                            size_t len, struct diag *d,
                                            char *err, size_t err_cap);

/* Writes the --help text to out. */
void config_print_usage(FILE *out);

/* Reads the nameserver lines of a resolv.conf text (glibc's format:
 * "nameserver ADDR", comments with '#' or ';') into up->servers, port 53,
 * skipping any address for which is_self(addr, arg) is true (svcdns's
 * own listen addresses) and duplicates, at most CONFIG_MAX_UPSTREAMS.
 * is_self may be NULL. Returns the number of servers kept. Pure: the
 * caller reads the file. */
size_t config_upstream_from_resolv(struct config_upstream *up, const char *text,
                                   bool (*is_self)(const struct config_listen *,
                                                   void *),
                                   void *arg);

/* True if addr (AF_INET or AF_INET6; a v4-mapped v6 address counts as
 * v4) is inside one of the n prefixes of acl. Any thread; no allocation. */
bool config_cidr_match(const struct config_cidr *acl, size_t n,
                       const struct sockaddr *addr);

/* "verified", "insecure" or "disabled". */
const char *config_pods_name(enum config_pods_mode mode);

#endif
