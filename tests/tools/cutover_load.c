/* cutover_load: a load client that checks the blue/green cutover guarantee.
 * It queries one name at a fixed rate over UDP while a command flips the
 * active color N times; every answer must be all-old or all-new, never
 * mixed, empty, an error, or missing.
 *
 *   cutover_load --server ADDR --port PORT --name NAME [--type A|AAAA]
 *                --rate QPS --blue IP[,IP...] --green IP[,IP...]
 *                [--flips N --flip-cmd 'CMD %s'] [--interval-ms MS]
 *                [--start blue|green] [--duration-ms MS] [--timeout-ms MS]
 *                [--settle-ms MS] [--flip-timeout-ms MS] [--tcp-fraction 0]
 *                [--allow-tc] [--verbose]
 *
 * Timeline (CLOCK_MONOTONIC, t0 = start):
 *   flip k (1..N) starts at t0 + settle + (k-1)*interval, or when flip k-1's
 *   command exits if that is later; it runs `/bin/sh -c CMD` with every "%s"
 *   in CMD replaced by the target color, "green" and "blue" alternately,
 *   starting from the opposite of --start. Sending stops settle-ms after the
 *   last command exits (without flips: after --duration-ms, by default twice
 *   --settle-ms); then the tool waits up to --timeout-ms for stragglers.
 *   A command still running after --flip-timeout-ms (default 10000) is
 *   killed with its process group and counts as flip_failed. The command's
 *   stdout goes to our stderr, so stdout holds only the summary line.
 *
 * Counters (one line on stdout, key=value):
 *   blue, green  every A/AAAA record of the answer section in that set
 *                (CNAMEs and other types are ignored);
 *   mixed        addresses from both sets, or one in neither;
 *   empty        NOERROR without A/AAAA records, or NXDOMAIN;
 *   error        any other rcode (the OPT's extended bits included), an
 *                opcode other than QUERY, or a malformed message;
 *   truncated    TC=1 (a failure unless --allow-tc);
 *   timeout      no answer within --timeout-ms;
 *   stray        a datagram from another address or port, too short, with
 *                QR=0, an unknown ID, or the wrong question (the query stays
 *                in flight);
 *   send_errors  a query sendto() refused (its answer cannot be checked);
 *   regressions  an answer of the color not in force: before flip 1, any
 *                answer that is not --start's color; after flip k to C was
 *                first seen at F with lag L, an old-color answer received
 *                before flip k+1 to a query sent after F + max(L, 0);
 *   flip_failed  a command that exited non-zero, died, could not start or
 *                was killed;
 *   flip_unseen  a flip whose command succeeded but whose color was not
 *                seen, before the next flip started, in an answer to a query
 *                sent after the flip started;
 *   lag_ms_*     per flip whose command succeeded, from the command's
 *                exit to the receipt of that first new-color answer (0 if
 *                it came before the exit was seen); "na" when none was seen.
 *
 * On stderr: each failed, killed or unseen flip, and with --verbose each
 * mixed, empty, error, truncated, timed-out or regressing answer (time, ID,
 * rcode, addresses), at most DETAIL_LINES lines of each kind.
 *
 * Exit status: 0 if mixed, empty, error, truncated (unless --allow-tc),
 * timeout, send_errors, regressions, flip_failed and flip_unseen are all 0;
 * 1 otherwise, or when interrupted by SIGINT/SIGTERM; 2 on a usage error or
 * when the socket cannot be set up.
 *
 * Pacing: query i is due at t0 + i/rate; a poll() loop with millisecond
 * timeouts sends what is due, at most PACE_BURST per turn of the loop, so a
 * late loop catches up without a large burst. IDs come from a keyed
 * permutation of the query sequence number, so an ID comes back only every
 * 65536 queries; rate * timeout is capped so that this is always after the
 * earlier query timed out. Only the given server address is ever sent to. */

#include "svcdns/dname.h"
#include "svcdns/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "cutover_load"

#define NS_PER_MS        1000000ull
#define NS_PER_S         1000000000ull
#define MAX_RATE         50000u
#define MAX_FLIPS        100000u
#define MAX_SET_ADDRS    64u
#define MAX_ARG_LEN      4096u
#define MAX_MS           3600000ul /* 1 h: any one time option */
#define MAX_TIMEOUT_MS   60000ul
#define MAX_INFLIGHT     60000ull /* rate * timeout; IDs recur every 65536 */
#define ID_SPACE         65536u
#define PACE_BURST       10u  /* sends per turn of the loop at most */
#define RECV_BURST       256u /* datagrams read per turn at most */
#define DETAIL_LINES     20u  /* --verbose answer lines; as many for flips */
#define SHOW_ADDRS       4u   /* addresses printed per detail line */
#define RCVBUF_BYTES     (1 << 20)
#define FLIP_TIMEOUT_MS  10000ul
#define DEFAULT_INTERVAL 500ul
#define DEFAULT_SETTLE   500ul
#define DEFAULT_TIMEOUT  1000ul

enum color {
	COLOR_BLUE,
	COLOR_GREEN,
	COLOR_NONE, /* an address in neither set */
};

enum verdict {
	VERDICT_BLUE,
	VERDICT_GREEN,
	VERDICT_MIXED,
	VERDICT_EMPTY,
	VERDICT_ERROR,
	VERDICT_TRUNCATED,
	VERDICT_COUNT,
};

static const char *const verdict_names[] = {
	"blue", "green", "mixed", "empty", "error", "truncated",
};

static const char *const color_names[] = { "blue", "green" };

/* An IPv4 (4 octets used) or IPv6 address. */
struct cl_addr {
	int family;
	uint8_t bytes[16];
};

struct addr_set {
	unsigned n;
	struct cl_addr addrs[MAX_SET_ADDRS];
};

/* The command line, checked. Strings are borrowed from argv. */
struct opts {
	struct sockaddr_storage server;
	socklen_t server_len;
	const char *name_text;
	uint8_t qname[DNAME_MAXLEN];
	size_t qname_len;
	uint16_t qtype;
	unsigned long rate;
	struct addr_set sets[2]; /* indexed by enum color */
	unsigned long flips;
	unsigned long interval_ms;
	unsigned long settle_ms;
	unsigned long timeout_ms;
	unsigned long flip_timeout_ms;
	unsigned long duration_ms;
	bool duration_set;
	const char *flip_cmd;
	int start; /* enum color */
	bool allow_tc;
	bool verbose;
};

/* One in-flight query, indexed by its DNS ID. */
struct slot {
	uint64_t sent_ns;
	uint64_t seq;
	unsigned long epoch; /* flips started when it was sent */
	bool inflight;
};

/* Flip k (flips[0] stands for the state before the first flip). */
struct flip {
	uint64_t start_ns;
	uint64_t exit_ns;
	uint64_t first_ns; /* receipt of the first answer of color */
	int color;         /* the color it turns to */
	bool exited;
	bool failed;
	bool seen;
};

struct counters {
	uint64_t sent;
	uint64_t answered;
	uint64_t verdicts[VERDICT_COUNT];
	uint64_t timeout;
	uint64_t stray;
	uint64_t send_errors;
	uint64_t regressions;
	unsigned long flips;
	unsigned long flip_failed;
	unsigned long flip_unseen;
};

struct run {
	const struct opts *o;
	int sock;
	uint8_t query[512];
	size_t query_len;
	char *cmds[2];      /* owns: flip-cmd expanded per color */
	struct slot *slots; /* owns: ID_SPACE entries */
	struct flip *flips; /* owns: o->flips + 1 entries */
	uint16_t id_key[4]; /* the ID permutation: two odd factors, two keys */
	uint64_t t0;
	uint64_t stop_ns;    /* no query is due at or after it */
	uint64_t next_seq;   /* the next query to send */
	uint64_t expire_seq; /* the oldest query that may be in flight */
	uint64_t inflight;
	unsigned long epoch; /* flips started */
	pid_t child;         /* the running flip command, or -1 */
	unsigned answer_lines;
	unsigned flip_lines;
	uint64_t lines_dropped;
	struct counters c;
	uint8_t buf[65536];
};

static volatile sig_atomic_t got_chld;
static volatile sig_atomic_t got_stop;
static int sig_wfd = -1;

/* --- small helpers ----------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Milliseconds since t0 (signed: lags may be negative). */
static double ms_since(uint64_t t0, uint64_t t)
{
	return (double)((int64_t)t - (int64_t)t0) / (double)NS_PER_MS;
}

/* Parses a decimal integer in [min, max], all of s, no sign or spaces.
 * Returns 0 or -EINVAL. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9') {
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_addr(const char *s, struct cl_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static bool addr_equal(const struct cl_addr *a, const struct cl_addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static bool set_has(const struct addr_set *s, const struct cl_addr *a)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (addr_equal(&s->addrs[i], a)) {
			return true;
		}
	}
	return false;
}

/* Parses "IP[,IP...]" into s. Returns 0 or -EINVAL (an empty item, a bad
 * address, more than MAX_SET_ADDRS, or a list longer than MAX_ARG_LEN). */
static int parse_set(const char *text, struct addr_set *s)
{
	char item[INET6_ADDRSTRLEN];
	size_t len = strlen(text);
	size_t i = 0;

	s->n = 0;
	if (len == 0 || len > MAX_ARG_LEN) {
		return -EINVAL;
	}
	while (i <= len) {
		size_t n = strcspn(text + i, ",");

		if (n == 0 || n >= sizeof(item) || s->n == MAX_SET_ADDRS) {
			return -EINVAL;
		}
		memcpy(item, text + i, n);
		item[n] = '\0';
		if (parse_addr(item, &s->addrs[s->n]) != 0) {
			return -EINVAL;
		}
		s->n++;
		i += n + 1;
	}
	return 0;
}

/* Parses a numeric IPv4 or IPv6 server address (no name lookup). */
static int parse_server(const char *text, unsigned long port, struct opts *o)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&o->server;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&o->server;
	struct cl_addr a;

	if (parse_addr(text, &a) != 0) {
		return -EINVAL;
	}
	memset(&o->server, 0, sizeof(o->server));
	if (a.family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		memcpy(&sin->sin_addr, a.bytes, 4);
		o->server_len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		memcpy(&sin6->sin6_addr, a.bytes, 16);
		o->server_len = sizeof(*sin6);
	}
	return 0;
}

/* True if from is the server's address and port. */
static bool from_server(const struct opts *o,
                        const struct sockaddr_storage *from, socklen_t from_len)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&o->server;
	const struct sockaddr_in *b = (const struct sockaddr_in *)from;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&o->server;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)from;

	if (from_len < o->server_len ||
	    from->ss_family != o->server.ss_family) {
		return false;
	}
	if (from->ss_family == AF_INET) {
		return a->sin_port == b->sin_port &&
		       a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	return a6->sin6_port == b6->sin6_port &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* --- command line ------------------------------------------------------ */

enum {
	OPT_SERVER = 256,
	OPT_PORT,
	OPT_NAME,
	OPT_TYPE,
	OPT_RATE,
	OPT_BLUE,
	OPT_GREEN,
	OPT_FLIPS,
	OPT_INTERVAL,
	OPT_FLIP_CMD,
	OPT_START,
	OPT_DURATION,
	OPT_TIMEOUT,
	OPT_SETTLE,
	OPT_FLIP_TIMEOUT,
	OPT_TCP_FRACTION,
	OPT_ALLOW_TC,
	OPT_VERBOSE,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "blue", required_argument, NULL, OPT_BLUE },
	{ "green", required_argument, NULL, OPT_GREEN },
	{ "flips", required_argument, NULL, OPT_FLIPS },
	{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
	{ "flip-cmd", required_argument, NULL, OPT_FLIP_CMD },
	{ "start", required_argument, NULL, OPT_START },
	{ "duration-ms", required_argument, NULL, OPT_DURATION },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "settle-ms", required_argument, NULL, OPT_SETTLE },
	{ "flip-timeout-ms", required_argument, NULL, OPT_FLIP_TIMEOUT },
	{ "tcp-fraction", required_argument, NULL, OPT_TCP_FRACTION },
	{ "allow-tc", no_argument, NULL, OPT_ALLOW_TC },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s --server ADDR --port PORT --name NAME [--type A|AAAA]\n",
	        PROG);
	fprintf(f, "       --rate QPS --blue IP[,IP...] --green IP[,IP...]\n");
	fprintf(f,
	        "       [--flips N --flip-cmd 'CMD %%s'] [--interval-ms MS] [--start blue|green]\n");
	fprintf(f,
	        "       [--duration-ms MS] [--timeout-ms MS] [--settle-ms MS]\n");
	fprintf(f,
	        "       [--flip-timeout-ms MS] [--tcp-fraction 0] [--allow-tc] [--verbose]\n");
}

/* State of the parse that is not part of opts. */
struct parse_state {
	const char *server;
	const char *port;
	bool have_rate;
	bool have_set[2];
};

/* Stores one numeric option. Returns 0 or -EINVAL. */
static int opt_number(int c, const char *arg, struct opts *o)
{
	switch (c) {
	case OPT_RATE:
		return parse_ulong(arg, 1, MAX_RATE, &o->rate);
	case OPT_FLIPS:
		return parse_ulong(arg, 0, MAX_FLIPS, &o->flips);
	case OPT_INTERVAL:
		return parse_ulong(arg, 1, MAX_MS, &o->interval_ms);
	case OPT_DURATION:
		o->duration_set = true;
		return parse_ulong(arg, 1, MAX_MS, &o->duration_ms);
	case OPT_TIMEOUT:
		return parse_ulong(arg, 1, MAX_TIMEOUT_MS, &o->timeout_ms);
	case OPT_SETTLE:
		return parse_ulong(arg, 0, MAX_MS, &o->settle_ms);
	case OPT_FLIP_TIMEOUT:
		return parse_ulong(arg, 1, MAX_MS, &o->flip_timeout_ms);
	default:
		return -EINVAL;
	}
}

/* Stores one option that is not a plain number. Returns 0 or -EINVAL. */
static int opt_text(int c, const char *arg, struct opts *o,
                    struct parse_state *ps)
{
	char *end = NULL;

	switch (c) {
	case OPT_SERVER:
		ps->server = arg;
		return 0;
	case OPT_PORT:
		ps->port = arg;
		return 0;
	case OPT_NAME:
		o->name_text = arg;
		return dname_from_text(arg, o->qname, sizeof(o->qname),
		                       &o->qname_len);
	case OPT_TYPE:
		if (strcasecmp(arg, "A") == 0) {
			o->qtype = DNS_TYPE_A;
		} else if (strcasecmp(arg, "AAAA") == 0) {
			o->qtype = DNS_TYPE_AAAA;
		} else {
			return -EINVAL;
		}
		return 0;
	case OPT_BLUE:
	case OPT_GREEN:
		ps->have_set[c == OPT_GREEN] = true;
		return parse_set(arg, &o->sets[c == OPT_GREEN]);
	case OPT_FLIP_CMD:
		o->flip_cmd = arg;
		return strlen(arg) <= MAX_ARG_LEN ? 0 : -EINVAL;
	case OPT_START:
		if (strcmp(arg, "blue") != 0 && strcmp(arg, "green") != 0) {
			return -EINVAL;
		}
		o->start = strcmp(arg, "green") == 0 ? COLOR_GREEN : COLOR_BLUE;
		return 0;
	case OPT_TCP_FRACTION:
		/* TCP is not implemented: only "no TCP" is accepted. */
		return strtod(arg, &end) == 0.0 && end != arg && *end == '\0'
		               ? 0
		               : -EINVAL;
	default:
		return opt_number(c, arg, o);
	}
}

/* Checks the options against each other. Returns NULL or a message. */
static const char *opts_check(struct opts *o, const struct parse_state *ps)
{
	unsigned long port = 0;

	if (ps->server == NULL || ps->port == NULL || o->name_text == NULL ||
	    !ps->have_set[0] || !ps->have_set[1] || o->rate == 0) {
		return "--server, --port, --name, --rate, --blue and --green are required";
	}
	if (parse_ulong(ps->port, 1, 65535, &port) != 0) {
		return "--port: not in 1..65535";
	}
	if (parse_server(ps->server, port, o) != 0) {
		return "--server: not a numeric IPv4 or IPv6 address";
	}
	for (unsigned i = 0; i < o->sets[0].n; i++) {
		if (set_has(&o->sets[1], &o->sets[0].addrs[i])) {
			return "--blue and --green share an address";
		}
	}
	if (o->flips > 0 &&
	    (o->flip_cmd == NULL || strstr(o->flip_cmd, "%s") == NULL)) {
		return "--flips needs a --flip-cmd containing %s";
	}
	if (o->flips > 0 && o->duration_set) {
		return "--duration-ms is for runs without --flips";
	}
	if (!o->duration_set) {
		o->duration_ms = 2 * o->settle_ms;
	}
	if (o->flips == 0 && o->duration_ms == 0) {
		return "nothing to send: --duration-ms or --settle-ms is 0";
	}
	if ((unsigned long long)o->rate * o->timeout_ms > MAX_INFLIGHT * 1000) {
		return "--rate times --timeout-ms exceeds 60000 queries in flight";
	}
	return NULL;
}

static void opts_init(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->qtype = DNS_TYPE_A;
	o->interval_ms = DEFAULT_INTERVAL;
	o->settle_ms = DEFAULT_SETTLE;
	o->timeout_ms = DEFAULT_TIMEOUT;
	o->flip_timeout_ms = FLIP_TIMEOUT_MS;
	o->start = COLOR_BLUE;
}

/* Fills o from argv. Returns 0, 1 for --help, or -EINVAL after printing
 * what is wrong. */
static int opts_parse(int argc, char **argv, struct opts *o)
{
	struct parse_state ps = { .server = NULL };
	const char *msg;
	int c;

	opts_init(o);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == OPT_HELP) {
			return 1;
		}
		if (c == OPT_ALLOW_TC || c == OPT_VERBOSE) {
			o->allow_tc |= c == OPT_ALLOW_TC;
			o->verbose |= c == OPT_VERBOSE;
			continue;
		}
		if (c == '?' || opt_text(c, optarg, o, &ps) != 0) {
			if (c != '?') {
				fprintf(stderr,
				        "%s: bad value for --%s: '%s'\n", PROG,
				        long_opts[c - OPT_SERVER].name, optarg);
			}
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", PROG,
		        argv[optind]);
		return -EINVAL;
	}
	msg = opts_check(o, &ps);
	if (msg != NULL) {
		fprintf(stderr, "%s: %s\n", PROG, msg);
		return -EINVAL;
	}
	return 0;
}

/* --- setup ------------------------------------------------------------- */

static void on_signal(int sig)
{
	int saved = errno;
	uint8_t b = 0;
	ssize_t n;

	if (sig == SIGCHLD) {
		got_chld = 1;
	} else {
		got_stop = 1;
	}
	/* Wakes poll() even if the signal came just before it was called. */
	n = write(sig_wfd, &b, 1);
	(void)n;
	errno = saved;
}

static int set_flags(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		return -errno;
	}
	return 0;
}

/* Installs the handlers and the self-pipe they write to. Returns the read
 * end, or a negative errno. */
static int signals_init(void)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM };
	struct sigaction sa;
	int p[2];

	if (pipe(p) != 0) {
		return -errno;
	}
	if (set_flags(p[0]) != 0 || set_flags(p[1]) != 0) {
		return -EIO;
	}
	sig_wfd = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* SA_RESTART keeps sendto/recvfrom from failing with EINTR; poll()
	 * returns EINTR regardless, which is what wakes the loop. */
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(sigs); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0) {
			return -errno;
		}
	}
	return p[0];
}

static int socket_open(const struct opts *o)
{
	int rcvbuf = RCVBUF_BYTES;
	int fd = socket(o->server.ss_family,
	                SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	/* Best effort: a bigger buffer only avoids drops on a slow turn. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

/* The query: RD=0, one question, our OPT (RFC 6891, size 1232). The ID is
 * patched in per send. */
static int query_build(struct run *r)
{
	struct wire_wr w;

	wire_wr_init(&w, r->query, sizeof(r->query));
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 1);
	wire_wr_bytes(&w, r->o->qname, r->o->qname_len);
	wire_wr_u16(&w, r->o->qtype);
	wire_wr_u16(&w, DNS_CLASS_IN);
	wire_wr_opt(&w, WIRE_EDNS_ADVERTISE, 0, false);
	r->query_len = w.pos;
	return w.err;
}

/* Returns tmpl with every "%s" replaced by word (malloc'd), or NULL. */
static char *cmd_expand(const char *tmpl, const char *word)
{
	size_t wlen = strlen(word);
	size_t n = strlen(tmpl) + 1;
	const char *p = tmpl;
	char *out;
	char *q;

	while ((p = strstr(p, "%s")) != NULL) {
		n += wlen;
		p += 2;
	}
	out = malloc(n);
	if (out == NULL) {
		return NULL;
	}
	for (p = tmpl, q = out; *p != '\0';) {
		if (p[0] == '%' && p[1] == 's') {
			memcpy(q, word, wlen);
			q += wlen;
			p += 2;
		} else {
			*q++ = *p++;
		}
	}
	*q = '\0';
	return out;
}

/* Seeds the ID permutation from /dev/urandom. Returns 0 or -errno. */
static int id_seed(struct run *r)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		return -errno;
	}
	n = read(fd, r->id_key, sizeof(r->id_key));
	close(fd);
	if (n != (ssize_t)sizeof(r->id_key)) {
		return -EIO;
	}
	r->id_key[0] |= 1; /* odd factors: multiplication mod 2^16 is a */
	r->id_key[1] |= 1; /* bijection, as are the xors and xorshifts   */
	return 0;
}

/* The ID of query seq: a keyed bijection of its low 16 bits, so the 65536
 * queries of any window of 65536 consecutive ones have distinct IDs. */
static uint16_t id_of(const struct run *r, uint64_t seq)
{
	uint32_t x = (uint16_t)seq;

	x = (x * r->id_key[0]) & 0xffffu;
	x ^= r->id_key[2];
	x ^= x >> 7;
	x = (x * r->id_key[1]) & 0xffffu;
	x ^= r->id_key[3];
	x ^= x >> 9;
	return (uint16_t)x;
}

/* Sets up everything but the clock. Returns 0 or a negative errno. */
static int run_init(struct run *r, const struct opts *o)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->child = -1;
	r->sock = -1;
	r->slots = calloc(ID_SPACE, sizeof(*r->slots));
	r->flips = calloc(o->flips + 1, sizeof(*r->flips));
	if (r->slots == NULL || r->flips == NULL) {
		return -ENOMEM;
	}
	if (o->flips > 0) {
		for (int i = 0; i < 2; i++) {
			r->cmds[i] = cmd_expand(o->flip_cmd, color_names[i]);
			if (r->cmds[i] == NULL) {
				return -ENOMEM;
			}
		}
	}
	/* Flip k turns to the opposite of --start when k is odd. */
	for (unsigned long k = 0; k <= o->flips; k++) {
		r->flips[k].color = (int)((unsigned long)o->start ^ (k & 1));
	}
	if (query_build(r) != 0) {
		return -EMSGSIZE;
	}
	r->sock = socket_open(o);
	if (r->sock < 0) {
		return r->sock;
	}
	return id_seed(r);
}

static void run_fini(struct run *r)
{
	if (r->sock >= 0) {
		close(r->sock);
	}
	free(r->cmds[0]);
	free(r->cmds[1]);
	free(r->slots);
	free(r->flips);
}

/* --- details on stderr ------------------------------------------------- */

static const char *rcode_name(unsigned rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
		"NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode < SVCDNS_ARRAY_SIZE(names)) {
		return names[rcode];
	}
	return rcode == DNS_RCODE_BADVERS ? "BADVERS" : "RCODE?";
}

/* True if one more detail line may be printed from the given budget
 * (answers and flips have one each); counts the ones dropped. */
static bool detail_ok(struct run *r, unsigned *budget)
{
	if (*budget >= DETAIL_LINES) {
		r->lines_dropped++;
		return false;
	}
	(*budget)++;
	return true;
}

/* --- answers ----------------------------------------------------------- */

/* What an answer held. */
struct reply {
	uint16_t flags;
	unsigned rcode;       /* with the OPT's extended bits */
	unsigned naddr;       /* A/AAAA records in the answer section */
	unsigned by_color[3]; /* indexed by enum color */
	struct cl_addr shown[SHOW_ADDRS];
	bool malformed;
};

/* One resource record, rdata borrowed from the packet. */
struct rr {
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
	bool root_owner;
};

/* Reads one record; compression is allowed in owner names (RFC 1035
 * 4.1.4), with wire_rd_name's backwards-only rule. Returns false on a
 * malformed or cut record (the error latches in rd). */
static bool rr_read(struct wire_rd *rd, struct rr *rr)
{
	uint8_t owner[DNAME_MAXLEN];
	size_t olen = 0;

	wire_rd_name(rd, owner, &olen, true);
	rr->type = wire_rd_u16(rd);
	rr->rclass = wire_rd_u16(rd);
	rr->ttl = wire_rd_u32(rd);
	rr->rdlen = wire_rd_u16(rd);
	if (rd->err != 0) {
		return false;
	}
	rr->root_owner = olen == 1;
	rr->rdata = rd->pkt + rd->pos;
	wire_rd_bytes(rd, NULL, rr->rdlen);
	return rd->err == 0;
}

/* Notes an answer-section record. A/AAAA of class IN must have a 4- or
 * 16-octet RDATA; anything else (CNAME, RRSIG...) is ignored. */
static bool note_answer(const struct opts *o, const struct rr *rr,
                        struct reply *rp)
{
	struct cl_addr a;
	size_t need = rr->type == DNS_TYPE_A ? 4 : 16;
	int color;

	if ((rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA) ||
	    rr->rclass != DNS_CLASS_IN) {
		return true;
	}
	if (rr->rdlen != need) {
		return false;
	}
	memset(&a, 0, sizeof(a));
	a.family = need == 4 ? AF_INET : AF_INET6;
	memcpy(a.bytes, rr->rdata, need);
	color = set_has(&o->sets[COLOR_BLUE], &a)    ? COLOR_BLUE
	        : set_has(&o->sets[COLOR_GREEN], &a) ? COLOR_GREEN
	                                             : COLOR_NONE;
	rp->by_color[color]++;
	if (rp->naddr < SHOW_ADDRS) {
		rp->shown[rp->naddr] = a;
	}
	rp->naddr++;
	return true;
}

/* Reads the answer, authority and additional sections. The rcode gets the
 * extended bits of an OPT (RFC 6891 6.1.3); a second OPT, an OPT with
 * another owner than the root, or octets after the last record make the
 * message malformed. Returns false if it is malformed. */
static bool sections_read(const struct opts *o, struct wire_rd *rd,
                          const uint16_t counts[3], struct reply *rp)
{
	bool opt_seen = false;
	struct rr rr;

	for (int s = 0; s < 3; s++) {
		/* Each record consumes at least 11 octets or latches an
		 * error, so a forged count cannot make this loop long. */
		for (unsigned i = 0; i < counts[s]; i++) {
			if (!rr_read(rd, &rr)) {
				return false;
			}
			if (s == 0 && !note_answer(o, &rr, rp)) {
				return false;
			}
			if (s == 2 && rr.type == DNS_TYPE_OPT) {
				if (opt_seen || !rr.root_owner) {
					return false;
				}
				opt_seen = true;
				rp->rcode |= (rr.ttl >> 24) << 4;
			}
		}
	}
	return wire_rd_left(rd) == 0;
}

/* Reads the header and checks that the message answers our question.
 * Leaves rd just past the question. Returns false for a stray. */
static bool header_match(const struct opts *o, struct wire_rd *rd,
                         uint16_t *flags, uint16_t counts[3])
{
	uint8_t qname[DNAME_MAXLEN];
	size_t qlen = 0;
	uint16_t qdcount;
	uint16_t qtype;
	uint16_t qclass;

	(void)wire_rd_u16(rd); /* ID: the caller matched it */
	*flags = wire_rd_u16(rd);
	qdcount = wire_rd_u16(rd);
	for (int s = 0; s < 3; s++) {
		counts[s] = wire_rd_u16(rd);
	}
	/* The QNAME cannot be compressed: only the header precedes it. */
	wire_rd_name(rd, qname, &qlen, false);
	qtype = wire_rd_u16(rd);
	qclass = wire_rd_u16(rd);
	return rd->err == 0 && (*flags & WIRE_FLAG_QR) != 0 && qdcount == 1 &&
	       qtype == o->qtype && qclass == DNS_CLASS_IN &&
	       dname_equal(qname, qlen, o->qname, o->qname_len);
}

/* Classifies a matched answer (see the top of the file). */
static enum verdict classify(const struct opts *o, struct wire_rd *rd,
                             const uint16_t counts[3], struct reply *rp)
{
	unsigned opcode = (rp->flags & WIRE_OPCODE_MASK) >> WIRE_OPCODE_SHIFT;

	rp->rcode = rp->flags & WIRE_RCODE_MASK;
	if (opcode != 0) {
		rp->malformed = true;
		return VERDICT_ERROR;
	}
	if ((rp->flags & WIRE_FLAG_TC) != 0) {
		return VERDICT_TRUNCATED; /* may be cut anywhere: not read */
	}
	if (!sections_read(o, rd, counts, rp)) {
		rp->malformed = true;
		return VERDICT_ERROR;
	}
	if (rp->rcode == DNS_RCODE_NXDOMAIN) {
		return VERDICT_EMPTY;
	}
	if (rp->rcode != DNS_RCODE_NOERROR) {
		return VERDICT_ERROR;
	}
	if (rp->naddr == 0) {
		return VERDICT_EMPTY;
	}
	if (rp->by_color[COLOR_NONE] != 0 ||
	    (rp->by_color[COLOR_BLUE] != 0 && rp->by_color[COLOR_GREEN] != 0)) {
		return VERDICT_MIXED;
	}
	return rp->by_color[COLOR_BLUE] != 0 ? VERDICT_BLUE : VERDICT_GREEN;
}

/* Prints one answer's details on stderr (--verbose, budget permitting). */
static void detail_answer(struct run *r, uint64_t now, uint16_t id,
                          const struct slot *s, const char *what,
                          const struct reply *rp)
{
	char text[SHOW_ADDRS * (INET6_ADDRSTRLEN + 1) + 32] = "";
	char one[INET6_ADDRSTRLEN];
	size_t len = 0;

	if (!r->o->verbose || !detail_ok(r, &r->answer_lines)) {
		return;
	}
	for (unsigned i = 0; rp != NULL && i < rp->naddr; i++) {
		if (i == SHOW_ADDRS) {
			snprintf(text + len, sizeof(text) - len, ",+%u",
			         rp->naddr - SHOW_ADDRS);
			break;
		}
		inet_ntop(rp->shown[i].family, rp->shown[i].bytes, one,
		          sizeof(one));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
		                        i > 0 ? "," : "", one);
	}
	fprintf(stderr,
	        "%s: %s t_ms=%.3f sent_ms=%.3f id=%u epoch=%lu rcode=%s%s%s addrs=%s\n",
	        PROG, what, ms_since(r->t0, now), ms_since(r->t0, s->sent_ns),
	        id, s->epoch, rp != NULL ? rcode_name(rp->rcode) : "-",
	        rp != NULL && (rp->flags & WIRE_FLAG_TC) != 0 ? " tc=1" : "",
	        rp != NULL && rp->malformed ? " malformed=1" : "",
	        len > 0 ? text : "-");
}

/* The flip's lag: from its command's exit to the first new-color answer;
 * 0 if that answer came first. Old-color answers to queries sent up to one
 * lag after the first new-color answer are tolerated (workers switch at
 * slightly different times). */
static uint64_t lag_ns(const struct flip *f)
{
	if (f->exited && f->first_ns > f->exit_ns) {
		return f->first_ns - f->exit_ns;
	}
	return 0;
}

/* Tracks the flips with a blue or green answer to query s. An answer to a
 * query sent before the latest flip started says nothing about it. */
static void track_color(struct run *r, const struct slot *s, uint16_t id,
                        int color, uint64_t now, const struct reply *rp)
{
	struct flip *f = &r->flips[s->epoch];

	if (s->epoch != r->epoch) {
		return;
	}
	if (color == f->color) {
		if (!f->seen) {
			f->seen = true;
			f->first_ns = now;
		}
		return;
	}
	if (s->epoch == 0 ||
	    (f->seen && s->sent_ns > f->first_ns + lag_ns(f))) {
		r->c.regressions++;
		detail_answer(r, now, id, s, "regression", rp);
	}
}

/* Handles one datagram from the server's address. */
static void answer_handle(struct run *r, const uint8_t *pkt, size_t len,
                          uint64_t now)
{
	struct reply rp = { .flags = 0 };
	struct wire_rd rd;
	uint16_t counts[3] = { 0, 0, 0 };
	struct slot *s;
	uint16_t id;
	enum verdict v;

	if (len < WIRE_HEADER_LEN) {
		r->c.stray++;
		return;
	}
	id = wire_get_u16(pkt);
	s = &r->slots[id];
	wire_rd_init(&rd, pkt, len);
	if (!s->inflight || !header_match(r->o, &rd, &rp.flags, counts)) {
		r->c.stray++;
		return;
	}
	s->inflight = false;
	r->inflight--;
	r->c.answered++;
	v = classify(r->o, &rd, counts, &rp);
	r->c.verdicts[v]++;
	if (v == VERDICT_BLUE || v == VERDICT_GREEN) {
		track_color(r, s, id,
		            v == VERDICT_BLUE ? COLOR_BLUE : COLOR_GREEN, now,
		            &rp);
	} else if (v != VERDICT_TRUNCATED || !r->o->allow_tc) {
		detail_answer(r, now, id, s, verdict_names[v], &rp);
	}
}

/* Reads what has arrived, up to RECV_BURST datagrams. */
static void recv_some(struct run *r)
{
	for (unsigned i = 0; i < RECV_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(r->sock, r->buf, sizeof(r->buf), 0,
		                     (struct sockaddr *)&from, &from_len);

		if (n < 0) {
			return; /* EAGAIN, or an error: poll() will tell */
		}
		if (!from_server(r->o, &from, from_len)) {
			r->c.stray++;
			continue;
		}
		answer_handle(r, r->buf, (size_t)n, now_ns());
	}
}

/* --- sending and timeouts ---------------------------------------------- */

static uint64_t due_ns(const struct run *r, uint64_t seq)
{
	return r->t0 + seq * NS_PER_S / r->o->rate;
}

static bool sending_done(const struct run *r)
{
	return due_ns(r, r->next_seq) >= r->stop_ns;
}

/* Counts a timeout for slot s. */
static void slot_expire(struct run *r, struct slot *s, uint64_t now)
{
	s->inflight = false;
	r->inflight--;
	r->c.timeout++;
	detail_answer(r, now, id_of(r, s->seq), s, "timeout", NULL);
}

/* Expires queries older than the timeout. Queries expire in the order they
 * were sent, so this walks the sequence from the oldest one still possibly
 * in flight and stops at the first that is in flight and young. */
static void expire_old(struct run *r, uint64_t now)
{
	uint64_t timeout = r->o->timeout_ms * NS_PER_MS;

	while (r->expire_seq < r->next_seq) {
		struct slot *s = &r->slots[id_of(r, r->expire_seq)];

		if (s->inflight && s->seq == r->expire_seq) {
			if (now < s->sent_ns + timeout) {
				return;
			}
			slot_expire(r, s, now);
		}
		r->expire_seq++;
	}
}

/* Sends the queries that are due, at most PACE_BURST of them. */
static void send_due(struct run *r, uint64_t now)
{
	for (unsigned i = 0; i < PACE_BURST; i++) {
		uint64_t seq = r->next_seq;
		uint16_t id = id_of(r, seq);
		struct slot *s = &r->slots[id];
		ssize_t n;

		if (sending_done(r) || due_ns(r, seq) > now) {
			return;
		}
		/* The rate * timeout cap makes this unreachable: the query
		 * that had this ID 65536 queries ago has expired. */
		if (s->inflight) {
			slot_expire(r, s, now);
		}
		wire_put_u16(r->query, id);
		n = sendto(r->sock, r->query, r->query_len, 0,
		           (const struct sockaddr *)&r->o->server,
		           r->o->server_len);
		r->next_seq++;
		if (n != (ssize_t)r->query_len) {
			r->c.send_errors++;
			continue;
		}
		*s = (struct slot){ .sent_ns = now_ns(),
			            .seq = seq,
			            .epoch = r->epoch,
			            .inflight = true };
		r->inflight++;
		r->c.sent++;
	}
}

/* --- flips ------------------------------------------------------------- */

/* In the child: runs cmd with stdin from /dev/null and stdout on our
 * stderr (our stdout carries only the summary), in its own process group
 * so that a timeout can kill whatever it started. Only async-signal-safe
 * calls between fork() and exec. */
_Noreturn static void child_exec(const char *cmd)
{
	int fd = open("/dev/null", O_RDONLY);

	(void)setpgid(0, 0);
	if (fd > STDIN_FILENO) {
		(void)dup2(fd, STDIN_FILENO);
		close(fd);
	}
	(void)dup2(STDERR_FILENO, STDOUT_FILENO);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static void detail_flip(struct run *r, unsigned long k, const char *what)
{
	const struct flip *f = &r->flips[k];

	if (!detail_ok(r, &r->flip_lines)) {
		return;
	}
	fprintf(stderr, "%s: flip %lu to %s %s start_ms=%.3f exit_ms=%.3f\n",
	        PROG, k, color_names[f->color], what,
	        ms_since(r->t0, f->start_ns),
	        f->exited ? ms_since(r->t0, f->exit_ns) : -1.0);
}

/* Closes the books on flip k once no later answer can count for it. */
static void flip_finish(struct run *r, unsigned long k)
{
	const struct flip *f = &r->flips[k];

	if (k > 0 && f->exited && !f->failed && !f->seen) {
		r->c.flip_unseen++;
		detail_flip(r, k, "unseen");
	}
}

/* Starts flip epoch + 1. A fork failure counts as a failed flip. */
static void flip_start(struct run *r, uint64_t now)
{
	unsigned long k = r->epoch + 1;
	struct flip *f = &r->flips[k];
	pid_t pid;

	flip_finish(r, r->epoch);
	r->epoch = k;
	r->c.flips++;
	f->start_ns = now;
	pid = fork();
	if (pid == 0) {
		child_exec(r->cmds[f->color]);
	}
	if (pid < 0) {
		f->exited = true;
		f->failed = true;
		f->exit_ns = now;
		r->c.flip_failed++;
		detail_flip(r, k, "fork-failed");
		return;
	}
	/* Also here, so that kill(-pid) works whichever side runs first. */
	(void)setpgid(pid, pid);
	r->child = pid;
}

/* Reaps the flip command if it has exited. */
static void flip_reap(struct run *r, uint64_t now)
{
	struct flip *f = &r->flips[r->epoch];
	int status = 0;

	if (r->child < 0 || waitpid(r->child, &status, WNOHANG) != r->child) {
		return;
	}
	r->child = -1;
	f->exited = true;
	f->exit_ns = now;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		f->failed = true;
		r->c.flip_failed++;
		detail_flip(r, r->epoch, "failed");
	}
	if (r->epoch == r->o->flips) {
		r->stop_ns = now + r->o->settle_ms * NS_PER_MS;
	}
}

/* Kills the flip command's process group (SIGKILL) and waits for it. */
static void flip_kill(struct run *r)
{
	int status = 0;

	if (r->child < 0) {
		return;
	}
	if (kill(-r->child, SIGKILL) != 0) {
		(void)kill(r->child, SIGKILL);
	}
	(void)waitpid(r->child, &status, 0);
	r->child = -1;
}

static uint64_t flip_due(const struct run *r)
{
	return r->t0 +
	       (r->o->settle_ms + r->epoch * r->o->interval_ms) * NS_PER_MS;
}

static uint64_t flip_deadline(const struct run *r)
{
	return r->flips[r->epoch].start_ns + r->o->flip_timeout_ms * NS_PER_MS;
}

/* Starts the next flip when it is due and the previous command has exited;
 * kills a command that outlived --flip-timeout-ms. */
static void flips_step(struct run *r, uint64_t now)
{
	if (got_chld) {
		got_chld = 0; /* cleared first: a later SIGCHLD sets it again */
		flip_reap(r, now);
	}
	if (r->child >= 0 && now >= flip_deadline(r)) {
		detail_flip(r, r->epoch, "timed-out");
		flip_kill(r);
		r->flips[r->epoch].exited = true;
		r->flips[r->epoch].failed = true;
		r->flips[r->epoch].exit_ns = now;
		r->c.flip_failed++;
		if (r->epoch == r->o->flips) {
			r->stop_ns = now + r->o->settle_ms * NS_PER_MS;
		}
	}
	if (r->child < 0 && r->epoch < r->o->flips && now >= flip_due(r)) {
		flip_start(r, now);
	}
}

/* --- the loop ---------------------------------------------------------- */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The next moment the loop has something to do (UINT64_MAX: none). */
static uint64_t next_deadline(const struct run *r)
{
	uint64_t t = UINT64_MAX;

	if (!sending_done(r)) {
		t = min_u64(t, due_ns(r, r->next_seq));
	}
	if (r->expire_seq < r->next_seq) {
		const struct slot *s = &r->slots[id_of(r, r->expire_seq)];

		t = min_u64(t, s->sent_ns + r->o->timeout_ms * NS_PER_MS);
	}
	if (r->child >= 0) {
		t = min_u64(t, flip_deadline(r));
	} else if (r->epoch < r->o->flips) {
		t = min_u64(t, flip_due(r));
	}
	return t;
}

/* Waits for a datagram, a signal or the next deadline. poll() counts in
 * milliseconds: round up, so that a wait never ends early and spins. */
static void wait_events(struct run *r, int sig_rfd)
{
	struct pollfd fds[2] = {
		{ .fd = r->sock, .events = POLLIN },
		{ .fd = sig_rfd, .events = POLLIN },
	};
	uint64_t t = next_deadline(r);
	uint64_t now = now_ns();
	int ms = 1000;
	uint8_t drain[64];

	if (t <= now) {
		ms = 0;
	} else if (t - now < 1000 * NS_PER_MS) {
		ms = (int)((t - now + NS_PER_MS - 1) / NS_PER_MS);
	}
	if (poll(fds, 2, ms) > 0 && (fds[1].revents & POLLIN) != 0) {
		while (read(sig_rfd, drain, sizeof(drain)) > 0) {
		}
	}
}

/* Runs the test until every query is answered or timed out, or until
 * SIGINT/SIGTERM. Returns false if interrupted. */
static bool run_loop(struct run *r, int sig_rfd)
{
	struct timespec wall;

	r->t0 = now_ns();
	/* t0 on the wall clock, to match the times on stderr with a
	 * server's log. */
	(void)clock_gettime(CLOCK_REALTIME, &wall);
	fprintf(stderr, "%s: t0 unix=%lld.%06ld\n", PROG,
	        (long long)wall.tv_sec, wall.tv_nsec / 1000);
	r->stop_ns = r->o->flips > 0 ? UINT64_MAX
	                             : r->t0 + r->o->duration_ms * NS_PER_MS;
	r->flips[0].seen = true;
	for (;;) {
		uint64_t now = now_ns();

		if (got_stop) {
			flip_kill(r);
			r->stop_ns = min_u64(r->stop_ns, now);
			return false;
		}
		flips_step(r, now);
		expire_old(r, now);
		send_due(r, now);
		recv_some(r);
		if (sending_done(r) && r->inflight == 0 && r->child < 0) {
			break;
		}
		wait_events(r, sig_rfd);
	}
	flip_finish(r, r->epoch);
	return true;
}

/* --- summary ----------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void fmt_ms(char *out, size_t cap, int64_t ns, bool have)
{
	if (!have) {
		snprintf(out, cap, "na");
		return;
	}
	snprintf(out, cap, "%.1f", (double)ns / (double)NS_PER_MS);
}

/* Formats median, p99 (nearest rank) and max of the lags of the flips
 * whose command succeeded and whose color was seen. */
static void lag_stats(const struct run *r, char out[3][32])
{
	int64_t *lags = calloc(r->o->flips + 1, sizeof(*lags));
	size_t n = 0;
	int64_t med = 0;

	for (unsigned long k = 1; lags != NULL && k <= r->epoch; k++) {
		const struct flip *f = &r->flips[k];

		if (f->seen && f->exited && !f->failed) {
			lags[n++] = (int64_t)lag_ns(f);
		}
	}
	if (n > 0) {
		qsort(lags, n, sizeof(*lags), cmp_i64);
		med = n % 2 ? lags[n / 2] : (lags[n / 2 - 1] + lags[n / 2]) / 2;
	}
	fmt_ms(out[0], 32, med, n > 0);
	fmt_ms(out[1], 32, n > 0 ? lags[(99 * n + 99) / 100 - 1] : 0, n > 0);
	fmt_ms(out[2], 32, n > 0 ? lags[n - 1] : 0, n > 0);
	free(lags);
}

/* Prints the summary line; returns true if the run passed. */
static bool summary(const struct run *r)
{
	const struct counters *c = &r->c;
	uint64_t span = r->stop_ns - r->t0; /* the sending phase */
	double qps = span > 0
	                     ? (double)c->sent * (double)NS_PER_S / (double)span
	                     : 0.0;
	uint64_t tc = r->o->allow_tc ? 0 : c->verdicts[VERDICT_TRUNCATED];
	char lag[3][32];

	lag_stats(r, lag);
	if (r->lines_dropped > 0) {
		fprintf(stderr, "%s: %" PRIu64 " more detail lines not shown\n",
		        PROG, r->lines_dropped);
	}
	printf("%s: sent=%" PRIu64 " answered=%" PRIu64 " blue=%" PRIu64
	       " green=%" PRIu64 " mixed=%" PRIu64 " empty=%" PRIu64
	       " error=%" PRIu64 " truncated=%" PRIu64 " timeout=%" PRIu64
	       " stray=%" PRIu64 " send_errors=%" PRIu64 " regressions=%" PRIu64
	       " flips=%lu flip_failed=%lu flip_unseen=%lu qps=%.1f lag_ms_median=%s lag_ms_p99=%s lag_ms_max=%s\n",
	       PROG, c->sent, c->answered, c->verdicts[VERDICT_BLUE],
	       c->verdicts[VERDICT_GREEN], c->verdicts[VERDICT_MIXED],
	       c->verdicts[VERDICT_EMPTY], c->verdicts[VERDICT_ERROR],
	       c->verdicts[VERDICT_TRUNCATED], c->timeout, c->stray,
	       c->send_errors, c->regressions, c->flips, c->flip_failed,
	       c->flip_unseen, qps, lag[0], lag[1], lag[2]);
	fflush(stdout);
	return c->verdicts[VERDICT_MIXED] == 0 &&
	       c->verdicts[VERDICT_EMPTY] == 0 &&
	       c->verdicts[VERDICT_ERROR] == 0 && tc == 0 && c->timeout == 0 &&
	       c->send_errors == 0 && c->regressions == 0 &&
	       c->flip_failed == 0 && c->flip_unseen == 0;
}

int main(int argc, char **argv)
{
	static struct run run; /* 64 KiB receive buffer: not on the stack */
	struct opts o;
	int sig_rfd;
	int err;
	bool done;
	bool ok;

	err = opts_parse(argc, argv, &o);
	if (err != 0) {
		usage(err > 0 ? stdout : stderr);
		return err > 0 ? 0 : 2;
	}
	err = run_init(&run, &o);
	sig_rfd = err == 0 ? signals_init() : err;
	if (sig_rfd < 0) {
		fprintf(stderr, "%s: setup failed: %s\n", PROG,
		        strerror(-sig_rfd));
		run_fini(&run);
		return 2;
	}
	done = run_loop(&run, sig_rfd);
	if (!done) {
		fprintf(stderr, "%s: interrupted\n", PROG);
	}
	ok = summary(&run) && done;
	run_fini(&run);
	return ok ? 0 : 1;
}
