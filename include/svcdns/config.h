/* The command line, parsed into plain option structs, one per area: main
 * hands each module its own (&cfg->server, &cfg->zones...), and no module
 * reads global configuration. Core layer: no libuv, no c-ares; nothing here
 * touches the network or the file system. */
#ifndef SVCDNS_CONFIG_H
#define SVCDNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "svcdns/common.h"
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

/* Default values, also printed by config_print_usage. */
#define CONFIG_DEFAULT_ZONES_DIR     "zones"
#define CONFIG_DEFAULT_LISTEN        "127.0.0.1:5353"
#define CONFIG_DEFAULT_DOMAIN        "cluster.local"
#define CONFIG_DEFAULT_TTL           5
#define CONFIG_DEFAULT_TCP_IDLE_MS   10000u
#define CONFIG_DEFAULT_TCP_IO_MS     2000u
#define CONFIG_DEFAULT_TCP_MAX_CONNS 1024u
#define CONFIG_DEFAULT_SETTLE_MS     20u
#define CONFIG_DEFAULT_RESCAN_MS     10000u

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

/* Options for server.c. */
struct config_server {
	struct config_listen listen[CONFIG_MAX_LISTEN];
	size_t n_listen;
	unsigned threads;             /* 1..CONFIG_THREADS_MAX */
	unsigned tcp_idle_timeout_ms; /* no complete query for this: close */
	unsigned tcp_io_timeout_ms;   /* a message incomplete for this: close */
	unsigned tcp_max_conns; /* per worker; the oldest idle is evicted */
};

/* Following the manifest directory while serving (watch.c). */
struct config_watch {
	unsigned settle_ms; /* quiet time after a change before reloading */
	unsigned rescan_ms; /* periodic full rescan; 0 = none */
};

/* Names outside the zones. Only "none" exists for now: they get REFUSED. */
struct config_upstream {
	bool forward; /* always false in this version */
};

struct config {
	enum config_mode mode;
	struct config_zones zones;
	struct config_server server;
	struct config_watch watch;
	struct config_upstream upstream;
	enum log_level log_level;
};

/* Fills cfg with the defaults: zones "zones", listen 127.0.0.1:5353,
 * domain cluster.local, pods verified, ttl 5, no upstream, threads = online
 * CPUs (clamped to 1..CONFIG_THREADS_MAX), the TCP defaults above, log level
 * info, mode serve. Any thread. */
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

/* Writes the --help text to out. */
void config_print_usage(FILE *out);

/* "verified", "insecure" or "disabled". */
const char *config_pods_name(enum config_pods_mode mode);

#endif
