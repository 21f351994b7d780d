#include "svcdns/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* What the parser remembers between options. */
struct config_state {
	struct config *cfg;
	bool listen_given; /* the first --listen replaces the default */
	bool domain_given; /* the first --domain replaces the default */
	bool check;
	bool dump;
	char *err; /* borrowed: the caller's buffer */
	size_t err_cap;
};

/* A handler applies one option's value (NULL for options without one).
 * Returns 0 or -EINVAL after writing the message with config_fail. */
typedef int (*config_set_fn)(struct config_state *st, const char *val);

struct config_opt {
	const char *name; /* without the leading "--" */
	bool has_arg;
	config_set_fn set;
};

static int config_fail(struct config_state *st, const char *fmt, ...)
	SVCDNS_PRINTF(2, 3);

static int config_fail(struct config_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->err_cap > 0) {
		va_start(ap, fmt);
		vsnprintf(st->err, st->err_cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Parses a whole decimal number in min..max. Only digits: no sign, no
 * space, no "0x" (strtoul would take all three). Returns 0 or -EINVAL. */
static int config_parse_uint(const char *text, unsigned long min,
                             unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p = text;

	if (*p == '\0') {
		return -EINVAL;
	}
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		unsigned long d = (unsigned long)(*p - '0');

		/* Stop before v*10 + d can exceed max, so nothing overflows
		 * even with a thousand digits. */
		if (d > max || v > (max - d) / 10) {
			return -EINVAL;
		}
		v = v * 10 + d;
	}
	if (v < min) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int config_set_uint(struct config_state *st, const char *opt,
                           const char *val, unsigned long min,
                           unsigned long max, unsigned long *out)
{
	if (config_parse_uint(val, min, max, out) != 0) {
		return config_fail(st, "%s: '%s' is not a number in %lu..%lu",
		                   opt, val, min, max);
	}
	return 0;
}

static int config_set_zones(struct config_state *st, const char *val)
{
	size_t len = strlen(val);

	if (len == 0) {
		return config_fail(st, "--zones: the directory name is empty");
	}
	if (len >= sizeof(st->cfg->zones.dir)) {
		return config_fail(
			st, "--zones: the path is longer than %zu characters",
			sizeof(st->cfg->zones.dir) - 1);
	}
	memcpy(st->cfg->zones.dir, val, len + 1);
	return 0;
}

/* Checks one label of a zone name: 1..63 letters, digits and hyphens, not
 * starting or ending with a hyphen (RFC 1123 2.1, as Kubernetes requires of
 * its cluster domain). */
static bool config_label_ok(const char *label, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-') {
		return false;
	}
	for (i = 0; i < len; i++) {
		char c = label[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-')) {
			return false;
		}
	}
	return true;
}

/* Lower-cases text into out (cap octets), strips one trailing dot and
 * validates the result as a host name. Returns 0 or -EINVAL. */
static int config_zone_normalize(const char *text, char *out, size_t cap)
{
	size_t len = strlen(text);
	size_t i;
	size_t start = 0;

	if (len > 0 && text[len - 1] == '.') {
		len--;
	}
	/* 253 characters of text is 255 octets in wire form (RFC 1035
	 * 3.1): each dot becomes a length octet, plus the first and root. */
	if (len == 0 || len >= cap || len > 253) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = text[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	for (i = 0; i <= len; i++) {
		if (i == len || out[i] == '.') {
			if (!config_label_ok(out + start, i - start)) {
				return -EINVAL;
			}
			start = i + 1;
		}
	}
	return 0;
}

/* True if a equals b or lies below it, by whole labels. */
static bool config_zone_within(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);

	if (la < lb || strcmp(a + (la - lb), b) != 0) {
		return false;
	}
	return la == lb || a[la - lb - 1] == '.';
}

static int config_set_domain(struct config_state *st, const char *val)
{
	struct config_zones *z = &st->cfg->zones;
	char name[CONFIG_ZONE_TEXT_MAX];
	size_t i;

	if (config_zone_normalize(val, name, sizeof(name)) != 0) {
		return config_fail(
			st,
			"--domain: '%s' is not a valid DNS name (labels of 1..63 letters, digits or '-', at most 253 characters)",
			val);
	}
	if (!st->domain_given) {
		st->domain_given = true;
		z->n_names = 0;
	}
	for (i = 0; i < z->n_names; i++) {
		/* Nested zones would make "which zone answers" depend on
		 * the order of the options; refuse them outright. */
		if (config_zone_within(name, z->names[i]) ||
		    config_zone_within(z->names[i], name)) {
			return config_fail(st, "--domain: '%s' overlaps '%s'",
			                   name, z->names[i]);
		}
	}
	if (z->n_names == CONFIG_MAX_ZONES) {
		return config_fail(st, "--domain: at most %d zones",
		                   CONFIG_MAX_ZONES);
	}
	memcpy(z->names[z->n_names++], name, strlen(name) + 1);
	return 0;
}

/* Formats l->addr as "a.b.c.d:port" or "[v6]:port" into l->text. */
static void config_listen_format(struct config_listen *l)
{
	char host[INET6_ADDRSTRLEN];

	if (l->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&l->addr;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(l->text, sizeof(l->text), "[%s]:%u", host,
		         (unsigned)ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)&l->addr;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(l->text, sizeof(l->text), "%s:%u", host,
		         (unsigned)ntohs(s4->sin_port));
	}
}

/* Parses "a.b.c.d:port" or "[v6]:port" into l. Returns 0 or -EINVAL. */
static int config_listen_parse(const char *text, struct config_listen *l)
{
	char host[INET6_ADDRSTRLEN];
	const char *hstart = text;
	const char *hend;
	size_t hlen;
	unsigned long p;
	bool v6 = text[0] == '[';

	if (v6) {
		hstart = text + 1;
		hend = strchr(text, ']');
		if (hend == NULL || hend[1] != ':') {
			return -EINVAL;
		}
	} else {
		hend = strrchr(text, ':');
		if (hend == NULL) {
			return -EINVAL;
		}
	}
	hlen = (size_t)(hend - hstart);
	if (hlen == 0 || hlen >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	if (config_parse_uint(hend + (v6 ? 2 : 1), 1, 65535, &p) != 0) {
		return -ERANGE;
	}
	memset(l, 0, sizeof(*l));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->addr;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
			return -EINVAL;
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		l->addr_len = sizeof(*s6);
		l->wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&l->addr;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			return -EINVAL;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		l->addr_len = sizeof(*s4);
		l->wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	config_listen_format(l);
	return 0;
}

static int config_set_listen(struct config_state *st, const char *val)
{
	struct config_server *srv = &st->cfg->server;
	struct config_listen l;
	size_t i;
	int err = config_listen_parse(val, &l);

	if (err == -ERANGE) {
		return config_fail(
			st, "--listen: the port in '%s' is not in 1..65535",
			val);
	}
	if (err != 0) {
		return config_fail(
			st,
			"--listen: '%s' is not ADDR:PORT (an IPv4 address, or IPv6 in brackets as [::1]:5353)",
			val);
	}
	if (!st->listen_given) {
		st->listen_given = true;
		srv->n_listen = 0;
	}
	for (i = 0; i < srv->n_listen; i++) {
		if (strcmp(srv->listen[i].text, l.text) == 0) {
			return config_fail(st, "--listen: %s is given twice",
			                   l.text);
		}
	}
	if (srv->n_listen == CONFIG_MAX_LISTEN) {
		return config_fail(st, "--listen: at most %d addresses",
		                   CONFIG_MAX_LISTEN);
	}
	srv->listen[srv->n_listen++] = l;
	return 0;
}

static const char *const config_pods_names[] = {
	[CONFIG_PODS_DISABLED] = "disabled",
	[CONFIG_PODS_INSECURE] = "insecure",
	[CONFIG_PODS_VERIFIED] = "verified",
};

const char *config_pods_name(enum config_pods_mode mode)
{
	if ((size_t)mode >= SVCDNS_ARRAY_SIZE(config_pods_names)) {
		return "?";
	}
	return config_pods_names[mode];
}

static int config_set_pods(struct config_state *st, const char *val)
{
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(config_pods_names); i++) {
		if (strcmp(val, config_pods_names[i]) == 0) {
			st->cfg->zones.pods = (enum config_pods_mode)i;
			return 0;
		}
	}
	return config_fail(
		st, "--pods: '%s' is not one of verified, insecure, disabled",
		val);
}

static int config_set_ttl(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--ttl", val, 0, CONFIG_TTL_MAX, &v);

	if (err == 0) {
		st->cfg->zones.ttl = (uint32_t)v;
	}
	return err;
}

static int config_set_upstream(struct config_state *st, const char *val)
{
	if (strcmp(val, "none") != 0) {
		return config_fail(
			st,
			"--upstream: forwarding to '%s' is not supported in this version; use none",
			val);
	}
	st->cfg->upstream.forward = false;
	return 0;
}

static int config_set_threads(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--threads", val, 1, CONFIG_THREADS_MAX,
	                          &v);

	if (err == 0) {
		st->cfg->server.threads = (unsigned)v;
	}
	return err;
}

static int config_set_tcp_idle(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--tcp-idle-timeout", val, 1,
	                          CONFIG_TIMEOUT_MS_MAX, &v);

	if (err == 0) {
		st->cfg->server.tcp_idle_timeout_ms = (unsigned)v;
	}
	return err;
}

static int config_set_tcp_io(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--tcp-io-timeout", val, 1,
	                          CONFIG_TIMEOUT_MS_MAX, &v);

	if (err == 0) {
		st->cfg->server.tcp_io_timeout_ms = (unsigned)v;
	}
	return err;
}

static int config_set_tcp_conns(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--tcp-max-conns", val, 1,
	                          CONFIG_TCP_CONNS_MAX, &v);

	if (err == 0) {
		st->cfg->server.tcp_max_conns = (unsigned)v;
	}
	return err;
}

static int config_set_settle(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--settle-ms", val, 0, 60000, &v);

	if (err == 0) {
		st->cfg->watch.settle_ms = (unsigned)v;
	}
	return err;
}

static int config_set_rescan(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--rescan-interval", val, 0,
	                          CONFIG_TIMEOUT_MS_MAX, &v);

	if (err == 0) {
		st->cfg->watch.rescan_ms = (unsigned)v;
	}
	return err;
}

static int config_set_log_level(struct config_state *st, const char *val)
{
	if (log_level_parse(val, &st->cfg->log_level) != 0) {
		return config_fail(
			st,
			"--log-level: '%s' is not one of error, warn, info, debug",
			val);
	}
	return 0;
}

static int config_set_check(struct config_state *st, const char *val)
{
	(void)val;
	st->check = true;
	return 0;
}

static int config_set_dump(struct config_state *st, const char *val)
{
	(void)val;
	st->dump = true;
	return 0;
}

static int config_set_help(struct config_state *st, const char *val)
{
	(void)val;
	st->cfg->mode = CONFIG_MODE_HELP;
	return 0;
}

static int config_set_version(struct config_state *st, const char *val)
{
	(void)val;
	st->cfg->mode = CONFIG_MODE_VERSION;
	return 0;
}

static const struct config_opt config_opts[] = {
	{ "zones", true, config_set_zones },
	{ "listen", true, config_set_listen },
	{ "domain", true, config_set_domain },
	{ "pods", true, config_set_pods },
	{ "ttl", true, config_set_ttl },
	{ "upstream", true, config_set_upstream },
	{ "threads", true, config_set_threads },
	{ "tcp-idle-timeout", true, config_set_tcp_idle },
	{ "tcp-io-timeout", true, config_set_tcp_io },
	{ "tcp-max-conns", true, config_set_tcp_conns },
	{ "settle-ms", true, config_set_settle },
	{ "rescan-interval", true, config_set_rescan },
	{ "log-level", true, config_set_log_level },
	{ "check", false, config_set_check },
	{ "dump", false, config_set_dump },
	{ "help", false, config_set_help },
	{ "version", false, config_set_version },
};

/* Finds the option named name[0..len) (exactly: no abbreviations, so that
 * adding an option never changes what an existing command line means). */
static const struct config_opt *config_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(config_opts); i++) {
		const char *n = config_opts[i].name;

		if (strlen(n) == len && memcmp(n, name, len) == 0) {
			return &config_opts[i];
		}
	}
	return NULL;
}

static unsigned config_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1) {
		return 1;
	}
	if (n > CONFIG_THREADS_MAX) {
		return CONFIG_THREADS_MAX;
	}
	return (unsigned)n;
}

void config_defaults(struct config *cfg)
{
	int err;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = CONFIG_MODE_SERVE;
	memcpy(cfg->zones.dir, CONFIG_DEFAULT_ZONES_DIR,
	       sizeof(CONFIG_DEFAULT_ZONES_DIR));
	memcpy(cfg->zones.names[0], CONFIG_DEFAULT_DOMAIN,
	       sizeof(CONFIG_DEFAULT_DOMAIN));
	cfg->zones.n_names = 1;
	cfg->zones.pods = CONFIG_PODS_VERIFIED;
	cfg->zones.ttl = CONFIG_DEFAULT_TTL;
	err = config_listen_parse(CONFIG_DEFAULT_LISTEN,
	                          &cfg->server.listen[0]);
	/* A constant that parses: failing here is a bug in this file. */
	cfg->server.n_listen = err == 0 ? 1 : 0;
	cfg->server.threads = config_default_threads();
	cfg->server.tcp_idle_timeout_ms = CONFIG_DEFAULT_TCP_IDLE_MS;
	cfg->server.tcp_io_timeout_ms = CONFIG_DEFAULT_TCP_IO_MS;
	cfg->watch.settle_ms = CONFIG_DEFAULT_SETTLE_MS;
	cfg->watch.rescan_ms = CONFIG_DEFAULT_RESCAN_MS;
	cfg->server.tcp_max_conns = CONFIG_DEFAULT_TCP_MAX_CONNS;
	cfg->upstream.forward = false;
	cfg->log_level = LOG_LEVEL_INFO;
}

/* Applies argv[*i] (and its value, which may be argv[*i + 1]). Returns 0
 * or -EINVAL. */
static int config_one(struct config_state *st, int argc, char *const argv[],
                      int *i)
{
	const char *arg = argv[*i];
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const struct config_opt *opt = config_find(name, len);
	const char *val = NULL;

	if (opt == NULL) {
		return config_fail(st, "unknown option '--%.*s' (try --help)",
		                   (int)len, name);
	}
	if (opt->has_arg && eq != NULL) {
		val = eq + 1;
	} else if (opt->has_arg) {
		if (*i + 1 >= argc) {
			return config_fail(st, "--%s needs a value", opt->name);
		}
		val = argv[++*i];
	} else if (eq != NULL) {
		return config_fail(st, "--%s takes no value", opt->name);
	}
	return opt->set(st, val);
}

int config_parse(struct config *cfg, int argc, char *const argv[], char *err,
                 size_t err_cap)
{
	struct config_state st = {
		.cfg = cfg,
		.err = err,
		.err_cap = err_cap,
	};
	int i;
	int rc;

	config_defaults(cfg);
	if (err_cap > 0) {
		err[0] = '\0';
	}
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "--") == 0) {
			if (i + 1 < argc) {
				return config_fail(&st,
				                   "unexpected argument '%s'",
				                   argv[i + 1]);
			}
			break;
		}
		if (strcmp(arg, "-h") == 0) {
			cfg->mode = CONFIG_MODE_HELP;
			return 0;
		}
		if (strncmp(arg, "--", 2) != 0) {
			if (arg[0] == '-' && arg[1] != '\0') {
				return config_fail(
					&st, "unknown option '%s' (try --help)",
					arg);
			}
			return config_fail(&st, "unexpected argument '%s'",
			                   arg);
		}
		rc = config_one(&st, argc, argv, &i);
		if (rc != 0) {
			return rc;
		}
		if (cfg->mode == CONFIG_MODE_HELP ||
		    cfg->mode == CONFIG_MODE_VERSION) {
			return 0;
		}
	}
	if (st.check && st.dump) {
		return config_fail(
			&st, "--check and --dump cannot be used together");
	}
	if (st.check) {
		cfg->mode = CONFIG_MODE_CHECK;
	} else if (st.dump) {
		cfg->mode = CONFIG_MODE_DUMP;
	}
	return 0;
}

void config_print_usage(FILE *out)
{
	fprintf(out,
	        "Usage: svcdns [OPTION]...\n"
	        "Serve Kubernetes cluster DNS from the manifests in a directory.\n"
	        "\n"
	        "  --zones DIR            manifest directory (default: " CONFIG_DEFAULT_ZONES_DIR
	        ")\n"
	        "  --listen ADDR:PORT     UDP and TCP address; repeatable, IPv6 as [::1]:5353\n"
	        "                         (default: " CONFIG_DEFAULT_LISTEN
	        ")\n"
	        "  --domain ZONE          cluster domain; repeatable, the first is primary\n"
	        "                         (default: " CONFIG_DEFAULT_DOMAIN
	        ", at most %d)\n"
	        "  --pods MODE            pod A records: verified, insecure or disabled\n"
	        "                         (default: verified)\n"
	        "  --ttl SECONDS          TTL of the records, 0..%d (default: %d)\n"
	        "  --upstream none        names outside the zones get REFUSED (the only\n"
	        "                         choice in this version)\n"
	        "  --threads N            worker threads, 1..%d (default: the number of CPUs)\n"
	        "  --tcp-idle-timeout MS  close a TCP connection after MS without a complete\n"
	        "                         query (default: %u)\n"
	        "  --tcp-io-timeout MS    close it when a message stays incomplete for MS\n"
	        "                         (default: %u)\n"
	        "  --tcp-max-conns N      TCP connections per thread; when full, the oldest\n"
	        "                         idle one is closed (default: %u)\n"
	        "  --settle-ms MS         wait MS after the last change in the manifest\n"
	        "                         directory before reloading (default: %u)\n"
	        "  --rescan-interval MS   rescan the directory every MS even without\n"
	        "                         events; 0 = never (default: %u)\n"
	        "  --check                load and check the manifests, print a summary, exit\n"
	        "                         (status 1 if there are errors)\n"
	        "  --dump                 print the zones as master files and exit\n"
	        "  --log-level LEVEL      error, warn, info or debug (default: info)\n"
	        "  --version              print the versions and exit\n"
	        "  --help                 print this help and exit\n"
	        "\n"
	        "Every option also takes the form --opt=value.\n"
	        "Exit status: 0 ok, 1 error, 2 bad command line.\n"
	        "Signals: SIGHUP reloads the manifests; SIGINT and SIGTERM stop.\n",
	        CONFIG_MAX_ZONES, CONFIG_TTL_MAX, CONFIG_DEFAULT_TTL,
	        CONFIG_THREADS_MAX, CONFIG_DEFAULT_TCP_IDLE_MS,
	        CONFIG_DEFAULT_TCP_IO_MS, CONFIG_DEFAULT_TCP_MAX_CONNS,
	        CONFIG_DEFAULT_SETTLE_MS, CONFIG_DEFAULT_RESCAN_MS);
}
