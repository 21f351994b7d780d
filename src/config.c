#include "svcdns/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "svcdns/k8s.h"

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

/* What an option takes. */
enum config_arg {
	CONFIG_ARG_NONE,     /* a mode: --check; command line only */
	CONFIG_ARG_REQUIRED, /* --ttl 5, --ttl=5; "ttl: 5" in a file */
	CONFIG_ARG_BOOL,     /* --log-queries[=BOOL]; "log-queries: true" */
};

/* How a YAML sequence is read for an option: not at all, one item after
 * the other (as a repeated option), or joined with commas (as a list). */
enum config_seq {
	CONFIG_SEQ_NO,
	CONFIG_SEQ_REPEAT,
	CONFIG_SEQ_JOIN,
};

struct config_opt {
	const char *name; /* without the leading "--" */
	enum config_arg arg;
	enum config_seq seq;
	bool cli_only; /* not a key of the configuration file */
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

/* Finds val among names[0..n) (exactly, case included): 0 and *out its
 * index; else the error "OPT: 'VAL' is not one of CHOICES". */
static int config_set_enum(struct config_state *st, const char *opt,
                           const char *const *names, size_t n,
                           const char *choices, const char *val, size_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(val, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return config_fail(st, "%s: '%s' is not one of %s", opt, val, choices);
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
	size_t i = 0;
	int err = config_set_enum(st, "--pods", config_pods_names,
	                          SVCDNS_ARRAY_SIZE(config_pods_names),
	                          "verified, insecure, disabled", val, &i);

	if (err == 0) {
		st->cfg->zones.pods = (enum config_pods_mode)i;
	}
	return err;
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

/* Parses one upstream: "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" (port
 * 53 when none is given). Returns 0, -ERANGE (bad port) or -EINVAL. */
static int config_server_parse(const char *text, struct config_listen *l)
{
	char buf[CONFIG_LISTEN_TEXT_MAX + 8];
	const char *colon = strchr(text, ':');
	size_t len = strlen(text);

	if (len == 0 || len >= CONFIG_LISTEN_TEXT_MAX) {
		return -EINVAL;
	}
	if (text[0] == '[' && text[len - 1] == ']') {
		snprintf(buf, sizeof(buf), "%s:53", text);
	} else if (text[0] != '[' && colon != NULL &&
	           strchr(colon + 1, ':') != NULL) {
		snprintf(buf, sizeof(buf), "[%s]:53", text); /* bare IPv6 */
	} else if (colon == NULL) {
		snprintf(buf, sizeof(buf), "%s:53", text);
	} else {
		snprintf(buf, sizeof(buf), "%s", text);
	}
	return config_listen_parse(buf, l);
}

/* Adds l to up->servers unless it is there already. Returns false when
 * the list is full. */
static bool config_server_add(struct config_upstream *up,
                              const struct config_listen *l)
{
	size_t i;

	for (i = 0; i < up->n_servers; i++) {
		if (strcmp(up->servers[i].text, l->text) == 0) {
			return true;
		}
	}
	if (up->n_servers == CONFIG_MAX_UPSTREAMS) {
		return false;
	}
	up->servers[up->n_servers++] = *l;
	return true;
}

static int config_set_upstream(struct config_state *st, const char *val)
{
	struct config_upstream *up = &st->cfg->upstream;
	char item[CONFIG_LISTEN_TEXT_MAX + 1];
	const char *p = val;
	size_t len;

	up->n_servers = 0;
	if (strcmp(val, "none") == 0) {
		up->mode = CONFIG_UPSTREAM_NONE;
		up->forward = false;
		return 0;
	}
	up->forward = true;
	if (strcmp(val, "resolv.conf") == 0 || val[0] == '/') {
		len = strlen(val);
		if (val[0] == '/' && len >= sizeof(up->resolv_conf)) {
			return config_fail(st,
			                   "--upstream: the path is too long");
		}
		memcpy(up->resolv_conf,
		       val[0] == '/' ? val : CONFIG_RESOLV_CONF,
		       (val[0] == '/' ? len : strlen(CONFIG_RESOLV_CONF)) + 1);
		up->mode = CONFIG_UPSTREAM_RESOLV_CONF;
		return 0;
	}
	up->mode = CONFIG_UPSTREAM_LIST;
	for (;;) {
		const char *comma = strchr(p, ',');
		struct config_listen l;

		len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0 || len >= sizeof(item)) {
			return config_fail(
				st,
				"--upstream: '%s' is not none, resolv.conf, a resolv.conf path or ADDR[:PORT],...",
				val);
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (config_server_parse(item, &l) != 0) {
			return config_fail(
				st,
				"--upstream: '%s' is not an address (ADDR, ADDR:PORT, [V6] or [V6]:PORT)",
				item);
		}
		if (l.wildcard) {
			return config_fail(
				st, "--upstream: '%s' is a wildcard address",
				item);
		}
		if (!config_server_add(up, &l)) {
			return config_fail(st, "--upstream: at most %d servers",
			                   CONFIG_MAX_UPSTREAMS);
		}
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	return 0;
}

static int config_set_upstream_timeout(struct config_state *st, const char *val)
{
	unsigned long v;
	int err =
		config_set_uint(st, "--upstream-timeout", val, 100, 60000, &v);

	if (err == 0) {
		st->cfg->upstream.timeout_ms = (unsigned)v;
	}
	return err;
}

static int config_set_upstream_inflight(struct config_state *st,
                                        const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--upstream-max-inflight", val, 1,
	                          CONFIG_INFLIGHT_MAX, &v);

	if (err == 0) {
		st->cfg->upstream.max_inflight = (unsigned)v;
	}
	return err;
}

static int config_set_cache_size(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--cache-size", val, 0,
	                          CONFIG_CACHE_SIZE_MAX, &v);

	if (err == 0) {
		st->cfg->upstream.cache_size = (unsigned)v;
	}
	return err;
}

static int config_set_cache_max_ttl(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--cache-max-ttl", val, 0, 604800, &v);

	if (err == 0) {
		st->cfg->upstream.cache_max_ttl = (unsigned)v;
	}
	return err;
}

/* Parses "ADDR/BITS" or "ADDR" (a host) into c, clearing host bits.
 * Returns 0 or -EINVAL. */
static int config_cidr_parse(const char *text, struct config_cidr *c)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long bits;
	unsigned max;
	unsigned i;

	if (hlen == 0 || hlen >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	bits = max;
	if (slash != NULL && config_parse_uint(slash + 1, 0, max, &bits) != 0) {
		return -EINVAL;
	}
	c->bits = (uint8_t)bits;
	for (i = 0; i < max / 8; i++) {
		if (i * 8 >= bits) {
			c->addr[i] = 0;
		} else if (i * 8 + 8 > bits) {
			c->addr[i] &= (uint8_t)(0xffu << (8 - (bits - i * 8)));
		}
	}
	return 0;
}

/* Parses "none" or "CIDR,CIDR,..." for option opt into acl[0..*n). */
static int config_cidr_list(struct config_state *st, const char *opt,
                            const char *val, struct config_cidr *acl, size_t *n)
{
	char item[INET6_ADDRSTRLEN + 8];
	const char *p = val;

	*n = 0;
	if (strcmp(val, "none") == 0) {
		return 0;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || len >= sizeof(item)) {
			return config_fail(
				st,
				"%s: '%s' is not none or CIDR,... (10.0.0.0/8, fd00::/8, 127.0.0.1)",
				opt, val);
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (*n == CONFIG_MAX_ACL) {
			return config_fail(st, "%s: at most %d prefixes", opt,
			                   CONFIG_MAX_ACL);
		}
		if (config_cidr_parse(item, &acl[*n]) != 0) {
			return config_fail(
				st, "%s: '%s' is not an address or ADDR/BITS",
				opt, item);
		}
		(*n)++;
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	return 0;
}

static int config_set_allow_recursion(struct config_state *st, const char *val)
{
	struct config_upstream *up = &st->cfg->upstream;

	return config_cidr_list(st, "--allow-recursion", val, up->allow,
	                        &up->n_allow);
}

static int config_set_rrl_exempt(struct config_state *st, const char *val)
{
	struct config_rrl *r = &st->cfg->server.rrl;

	return config_cidr_list(st, "--rrl-exempt", val, r->exempt,
	                        &r->n_exempt);
}

static int config_set_rrl_rate(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--rrl-rate", val, 0, CONFIG_RRL_RATE_MAX,
	                          &v);

	if (err == 0) {
		st->cfg->server.rrl.rate = (unsigned)v;
	}
	return err;
}

static int config_set_rrl_slip(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--rrl-slip", val, 0, CONFIG_RRL_SLIP_MAX,
	                          &v);

	if (err == 0) {
		st->cfg->server.rrl.slip = (unsigned)v;
	}
	return err;
}

static int config_set_rrl_table(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--rrl-table", val, CONFIG_RRL_TABLE_MIN,
	                          CONFIG_RRL_TABLE_MAX, &v);

	if (err == 0) {
		st->cfg->server.rrl.table = (size_t)v;
	}
	return err;
}

static int config_parse_bool(const char *val, bool *out);

static int config_set_rrl_log_only(struct config_state *st, const char *val)
{
	if (val == NULL) {
		st->cfg->server.rrl.log_only = true;
		return 0;
	}
	if (config_parse_bool(val, &st->cfg->server.rrl.log_only) != 0) {
		return config_fail(
			st, "--rrl-log-only: '%s' is not true or false", val);
	}
	return 0;
}

static int config_set_user(struct config_state *st, const char *val)
{
	if (val[0] == '\0' || strlen(val) >= sizeof(st->cfg->user) ||
	    strchr(val, ':') != NULL) {
		return config_fail(st, "--user: '%s' is not a user name", val);
	}
	strcpy(st->cfg->user, val);
	return 0;
}

static int config_set_fallthrough(struct config_state *st, const char *val)
{
	struct config_upstream *up = &st->cfg->upstream;
	char item[CONFIG_ZONE_TEXT_MAX + 2];
	const char *p = val;

	up->n_fallthrough = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *dst;

		if (up->n_fallthrough == CONFIG_MAX_ZONES) {
			return config_fail(st,
			                   "--fallthrough: at most %d zones",
			                   CONFIG_MAX_ZONES);
		}
		dst = up->fallthrough[up->n_fallthrough];
		if (len >= sizeof(item)) {
			len = sizeof(item) - 1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (config_zone_normalize(item, dst, CONFIG_ZONE_TEXT_MAX) !=
		    0) {
			return config_fail(
				st,
				"--fallthrough: '%s' is not a valid DNS name",
				item);
		}
		up->n_fallthrough++;
		if (comma == NULL) {
			break;
		}
		p = comma + 1;
	}
	return 0;
}

size_t config_upstream_from_resolv(struct config_upstream *up, const char *text,
                                   bool (*is_self)(const struct config_listen *,
                                                   void *),
                                   void *arg)
{
	const char *line = text;

	up->n_servers = 0;
	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[256];
		char *tok;
		char *save = NULL;
		struct config_listen l;

		if (len >= sizeof(buf)) {
			len = sizeof(buf) - 1;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end ? end + 1 : NULL;
		tok = strtok_r(buf, " \t\r", &save);
		if (tok == NULL || strcmp(tok, "nameserver") != 0) {
			continue;
		}
		tok = strtok_r(NULL, " \t\r#;", &save);
		/* glibc takes a bare address; "%iface" scopes are not for
		 * us, and ports cannot be written in resolv.conf. */
		if (tok == NULL || strchr(tok, '%') != NULL ||
		    strchr(tok, '[') != NULL) {
			continue;
		}
		if (config_server_parse(tok, &l) != 0 || l.wildcard) {
			continue;
		}
		if (is_self != NULL && is_self(&l, arg)) {
			continue;
		}
		if (!config_server_add(up, &l)) {
			break;
		}
	}
	return up->n_servers;
}

bool config_cidr_match(const struct config_cidr *acl, size_t n,
                       const struct sockaddr *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
		                            0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *a;
	int family = addr->sa_family;
	size_t i;

	if (family == AF_INET) {
		a = (const uint8_t *)&(
			    (const struct sockaddr_in *)(const void *)addr)
		            ->sin_addr;
	} else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)addr)
		            ->sin6_addr.s6_addr;
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			a += 12;
			family = AF_INET;
		}
	} else {
		return false;
	}
	for (i = 0; i < n; i++) {
		const struct config_cidr *c = &acl[i];
		unsigned full = c->bits / 8u;
		unsigned rest = c->bits % 8u;

		if (c->family != family) {
			continue;
		}
		if (memcmp(a, c->addr, full) != 0) {
			continue;
		}
		if (rest != 0 &&
		    ((a[full] ^ c->addr[full]) & (0xffu << (8 - rest))) != 0) {
			continue;
		}
		return true;
	}
	return false;
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

static int config_set_udp_rcvbuf(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--udp-rcvbuf", val, 0,
	                          CONFIG_UDP_RCVBUF_MAX, &v);

	if (err == 0) {
		st->cfg->server.udp_rcvbuf = (unsigned)v;
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

static const char *const config_udp_direct_names[] = {
	[CONFIG_UDP_DIRECT_AUTO] = "auto",
	[CONFIG_UDP_DIRECT_ON] = "on",
	[CONFIG_UDP_DIRECT_OFF] = "off",
};

static int config_set_udp_direct(struct config_state *st, const char *val)
{
	size_t i = 0;
	int err = config_set_enum(st, "--udp-direct", config_udp_direct_names,
	                          SVCDNS_ARRAY_SIZE(config_udp_direct_names),
	                          "auto, on, off", val, &i);

	if (err == 0) {
		st->cfg->server.udp_direct = (enum config_udp_direct)i;
	}
	return err;
}

static int config_set_lame_duck(struct config_state *st, const char *val)
{
	unsigned long v;
	int err = config_set_uint(st, "--lame-duck", val, 0, 60000, &v);

	if (err == 0) {
		st->cfg->server.lame_duck_ms = (unsigned)v;
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

static int config_set_http(struct config_state *st, const char *val)
{
	struct config_http *h = &st->cfg->http;
	int err;

	if (strcmp(val, "none") == 0) {
		h->enabled = false;
		return 0;
	}
	err = config_listen_parse(val, &h->listen);
	if (err == -ERANGE) {
		return config_fail(
			st, "--http: the port in '%s' is not in 1..65535", val);
	}
	if (err != 0) {
		return config_fail(
			st,
			"--http: '%s' is not none or ADDR:PORT (IPv6 in brackets as [::1]:9153)",
			val);
	}
	h->enabled = true;
	return 0;
}

static int config_set_file(struct config_state *st, const char *val)
{
	size_t len = strlen(val);

	if (len == 0 || len >= sizeof(st->cfg->file)) {
		return config_fail(st, "--config: '%s' is not a usable path",
		                   val);
	}
	memcpy(st->cfg->file, val, len + 1);
	return 0;
}

/* YAML 1.1 booleans, as Kubernetes and Ansible users write them. */
static int config_parse_bool(const char *val, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(val, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int config_set_log_queries(struct config_state *st, const char *val)
{
	if (val == NULL) {
		st->cfg->log_queries = true;
		return 0;
	}
	if (config_parse_bool(val, &st->cfg->log_queries) != 0) {
		return config_fail(
			st, "--log-queries: '%s' is not true or false", val);
	}
	return 0;
}

static int config_set_kubernetes(struct config_state *st, const char *val)
{
	if (val == NULL) {
		st->cfg->kube.enabled = true;
		return 0;
	}
	if (config_parse_bool(val, &st->cfg->kube.enabled) != 0) {
		return config_fail(
			st, "--kubernetes: '%s' is not true or false", val);
	}
	return 0;
}

static int config_set_kubeconfig(struct config_state *st, const char *val)
{
	if (val[0] == '\0' || strlen(val) >= sizeof(st->cfg->kube.kubeconfig)) {
		return config_fail(st, "--kubeconfig: '%s' is not a file name",
		                   val);
	}
	strcpy(st->cfg->kube.kubeconfig, val);
	st->cfg->kube.enabled = true;
	return 0;
}

/* --namespaces a,b,c: DNS labels, as namespace names are. */
static int config_set_namespaces(struct config_state *st, const char *val)
{
	struct config_kube *k = &st->cfg->kube;
	const char *p = val;

	k->n_namespaces = 0;
	if (strcmp(val, "all") == 0 || val[0] == '\0') {
		return 0;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *dst;

		if (k->n_namespaces == CONFIG_MAX_KUBE_NAMESPACES) {
			return config_fail(st, "--namespaces: more than %d",
			                   CONFIG_MAX_KUBE_NAMESPACES);
		}
		dst = k->namespaces[k->n_namespaces];
		if (len == 0 || len >= sizeof(k->namespaces[0])) {
			return config_fail(
				st,
				"--namespaces: '%.*s' is not a namespace name",
				(int)len, p);
		}
		memcpy(dst, p, len);
		dst[len] = '\0';
		if (!k8s_is_dns_label(dst)) {
			return config_fail(
				st,
				"--namespaces: '%s' is not a namespace name",
				dst);
		}
		k->n_namespaces++;
		if (comma == NULL) {
			return 0;
		}
		p = comma + 1;
	}
}

static int config_set_labels(struct config_state *st, const char *val)
{
	size_t i;

	if (strlen(val) >= sizeof(st->cfg->kube.labels)) {
		return config_fail(st, "--labels: longer than %d octets",
		                   CONFIG_KUBE_LABELS_MAX - 1);
	}
	/* Sent as labelSelector=...: the selector syntax only, nothing that
	 * would change the URL. */
	for (i = 0; val[i] != '\0'; i++) {
		unsigned char c = (unsigned char)val[i];

		if (!(isalnum(c) || strchr("-_./=!,() ", c) != NULL)) {
			return config_fail(
				st, "--labels: '%s' is not a label selector",
				val);
		}
	}
	strcpy(st->cfg->kube.labels, val);
	return 0;
}

static const char *const config_kube_pods_names[] = { "auto", "never",
	                                              "always" };

static int config_set_kube_pods(struct config_state *st, const char *val)
{
	size_t i = 0;
	int err = config_set_enum(st, "--kube-pods", config_kube_pods_names,
	                          SVCDNS_ARRAY_SIZE(config_kube_pods_names),
	                          "auto, never, always", val, &i);

	if (err == 0) {
		st->cfg->kube.pods = (enum config_kube_pods)i;
	}
	return err;
}

static int config_set_cache(struct config_state *st, const char *val)
{
	if (strcmp(val, "none") == 0) {
		st->cfg->cache[0] = '\0';
		return 0;
	}
	if (val[0] == '\0' || strlen(val) >= sizeof(st->cfg->cache)) {
		return config_fail(st, "--cache: '%s' is not a file name", val);
	}
	strcpy(st->cfg->cache, val);
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

#define REQ   CONFIG_ARG_REQUIRED
#define NO    CONFIG_SEQ_NO
#define CLI   true
#define FILE_ false

static const struct config_opt config_opts[] = {
	{ "zones", REQ, NO, FILE_, config_set_zones },
	{ "listen", REQ, CONFIG_SEQ_REPEAT, FILE_, config_set_listen },
	{ "domain", REQ, CONFIG_SEQ_REPEAT, FILE_, config_set_domain },
	{ "pods", REQ, NO, FILE_, config_set_pods },
	{ "ttl", REQ, NO, FILE_, config_set_ttl },
	{ "upstream", REQ, CONFIG_SEQ_JOIN, FILE_, config_set_upstream },
	{ "upstream-timeout", REQ, NO, FILE_, config_set_upstream_timeout },
	{ "upstream-max-inflight", REQ, NO, FILE_,
	  config_set_upstream_inflight },
	{ "allow-recursion", REQ, CONFIG_SEQ_JOIN, FILE_,
	  config_set_allow_recursion },
	{ "rrl-rate", REQ, NO, FILE_, config_set_rrl_rate },
	{ "rrl-slip", REQ, NO, FILE_, config_set_rrl_slip },
	{ "rrl-table", REQ, NO, FILE_, config_set_rrl_table },
	{ "rrl-exempt", REQ, CONFIG_SEQ_JOIN, FILE_, config_set_rrl_exempt },
	{ "rrl-log-only", CONFIG_ARG_BOOL, NO, FILE_, config_set_rrl_log_only },
	{ "user", REQ, NO, FILE_, config_set_user },
	{ "cache-size", REQ, NO, FILE_, config_set_cache_size },
	{ "cache-max-ttl", REQ, NO, FILE_, config_set_cache_max_ttl },
	{ "fallthrough", REQ, CONFIG_SEQ_JOIN, FILE_, config_set_fallthrough },
	{ "threads", REQ, NO, FILE_, config_set_threads },
	{ "tcp-idle-timeout", REQ, NO, FILE_, config_set_tcp_idle },
	{ "tcp-io-timeout", REQ, NO, FILE_, config_set_tcp_io },
	{ "tcp-max-conns", REQ, NO, FILE_, config_set_tcp_conns },
	{ "udp-rcvbuf", REQ, NO, FILE_, config_set_udp_rcvbuf },
	{ "udp-direct", REQ, NO, FILE_, config_set_udp_direct },
	{ "lame-duck", REQ, NO, FILE_, config_set_lame_duck },
	{ "settle-ms", REQ, NO, FILE_, config_set_settle },
	{ "cache", REQ, NO, FILE_, config_set_cache },
	{ "rescan-interval", REQ, NO, FILE_, config_set_rescan },
	{ "http", REQ, NO, FILE_, config_set_http },
	{ "log-level", REQ, NO, FILE_, config_set_log_level },
	{ "log-queries", CONFIG_ARG_BOOL, NO, FILE_, config_set_log_queries },
	{ "kubernetes", CONFIG_ARG_BOOL, NO, FILE_, config_set_kubernetes },
	{ "kubeconfig", REQ, NO, FILE_, config_set_kubeconfig },
	{ "namespaces", REQ, CONFIG_SEQ_JOIN, FILE_, config_set_namespaces },
	{ "labels", REQ, NO, FILE_, config_set_labels },
	{ "kube-pods", REQ, NO, FILE_, config_set_kube_pods },
	{ "config", REQ, NO, CLI, config_set_file },
	{ "check", CONFIG_ARG_NONE, NO, CLI, config_set_check },
	{ "dump", CONFIG_ARG_NONE, NO, CLI, config_set_dump },
	{ "help", CONFIG_ARG_NONE, NO, CLI, config_set_help },
	{ "version", CONFIG_ARG_NONE, NO, CLI, config_set_version },
};

#undef REQ
#undef NO
#undef CLI
#undef FILE_

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
	cfg->server.lame_duck_ms = CONFIG_DEFAULT_LAME_DUCK_MS;
	cfg->watch.rescan_ms = CONFIG_DEFAULT_RESCAN_MS;
	cfg->server.tcp_max_conns = CONFIG_DEFAULT_TCP_MAX_CONNS;
	cfg->server.udp_rcvbuf = CONFIG_DEFAULT_UDP_RCVBUF;
	cfg->server.udp_direct = CONFIG_UDP_DIRECT_AUTO;
	cfg->upstream.forward = true;
	cfg->upstream.mode = CONFIG_UPSTREAM_RESOLV_CONF;
	memcpy(cfg->upstream.resolv_conf, CONFIG_RESOLV_CONF,
	       sizeof(CONFIG_RESOLV_CONF));
	cfg->upstream.timeout_ms = CONFIG_DEFAULT_UPSTREAM_MS;
	cfg->upstream.max_inflight = CONFIG_DEFAULT_INFLIGHT;
	cfg->upstream.cache_size = CONFIG_DEFAULT_CACHE_SIZE;
	cfg->upstream.cache_max_ttl = CONFIG_DEFAULT_CACHE_MAX_TTL;
	cfg->server.rrl.rate = CONFIG_DEFAULT_RRL_RATE;
	cfg->server.rrl.slip = CONFIG_DEFAULT_RRL_SLIP;
	cfg->server.rrl.table = CONFIG_DEFAULT_RRL_TABLE;
	{
		struct config_state st = { .cfg = cfg };

		/* A constant that parses, as the listen default above. */
		err = config_set_allow_recursion(
			&st, CONFIG_DEFAULT_ALLOW_RECURSION);
		(void)err;
	}
	err = config_listen_parse(CONFIG_DEFAULT_HTTP, &cfg->http.listen);
	cfg->http.enabled = err == 0;
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
	if (opt->arg == CONFIG_ARG_REQUIRED && eq != NULL) {
		val = eq + 1;
	} else if (opt->arg == CONFIG_ARG_REQUIRED) {
		if (*i + 1 >= argc) {
			return config_fail(st, "--%s needs a value", opt->name);
		}
		val = argv[++*i];
	} else if (opt->arg == CONFIG_ARG_BOOL && eq != NULL) {
		/* Only the joined form: "--log-queries false" would make
		 * "false" a stray argument. */
		val = eq + 1;
	} else if (eq != NULL) {
		return config_fail(st, "--%s takes no value", opt->name);
	}
	return opt->set(st, val);
}

/* Applies argv[1..argc) on top of what cfg holds. */
static int config_apply_args(struct config *cfg, int argc, char *const argv[],
                             char *err, size_t err_cap)
{
	struct config_state st = {
		.cfg = cfg,
		.err = err,
		.err_cap = err_cap,
	};
	int i;
	int rc;

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

int config_parse(struct config *cfg, int argc, char *const argv[], char *err,
                 size_t err_cap)
{
	config_defaults(cfg);
	return config_apply_args(cfg, argc, argv, err, err_cap);
}

/* ---------------------- the configuration file ---------------------- */

/* What config_file_* carry along while reading one file. */
struct config_file_ctx {
	struct config_state st;
	const char *name; /* the file, for diagnostics */
	struct diag *d;
	yaml_document_t *doc;
	unsigned first_line[SVCDNS_ARRAY_SIZE(config_opts)]; /* 0: unseen */
};

static void config_file_error(struct config_file_ctx *fc, const yaml_node_t *at,
                              const char *fmt, ...) SVCDNS_PRINTF(3, 4);

static void config_file_error(struct config_file_ctx *fc, const yaml_node_t *at,
                              const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libyaml counts lines and columns from 0. */
	diag_add(fc->d, DIAG_ERROR, fc->name,
	         at ? (unsigned)at->start_mark.line + 1 : 0,
	         at ? (unsigned)at->start_mark.column + 1 : 0, "%s", msg);
}

/* Runs opt's handler on val; a failure becomes a diagnostic at node at,
 * worded for the file ("ttl: ..." rather than "--ttl: ..."). */
static void config_file_set(struct config_file_ctx *fc,
                            const struct config_opt *opt, const yaml_node_t *at,
                            const char *val)
{
	char buf[512];
	const char *msg = buf;

	fc->st.err = buf;
	fc->st.err_cap = sizeof(buf);
	buf[0] = '\0';
	if (opt->set(&fc->st, val) == 0) {
		return;
	}
	if (strncmp(msg, "--", 2) == 0) {
		msg += 2;
	}
	config_file_error(fc, at, "%s", msg);
}

static const char *config_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A scalar value that is YAML's null: "key:", "key: ~", "key: null". */
static bool config_is_null(const yaml_node_t *n)
{
	const char *v = config_scalar(n);

	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (v[0] == '\0' || strcmp(v, "~") == 0 ||
	        strcasecmp(v, "null") == 0);
}

/* Joins the scalars of sequence seq with commas into out (cap octets).
 * Returns 0, or -EINVAL after a diagnostic. */
static int config_file_join(struct config_file_ctx *fc,
                            const struct config_opt *opt, yaml_node_t *seq,
                            char *out, size_t cap)
{
	yaml_node_item_t *it;
	size_t len = 0;

	out[0] = '\0';
	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(fc->doc, *it);
		size_t l;

		if (n == NULL || n->type != YAML_SCALAR_NODE ||
		    config_is_null(n)) {
			config_file_error(fc, n ? n : seq,
			                  "%s: each item must be a plain value",
			                  opt->name);
			return -EINVAL;
		}
		l = strlen(config_scalar(n));
		if (len + l + 2 > cap) {
			config_file_error(fc, seq, "%s: the list is too long",
			                  opt->name);
			return -EINVAL;
		}
		if (len != 0) {
			out[len++] = ',';
		}
		memcpy(out + len, config_scalar(n), l + 1);
		len += l;
	}
	return 0;
}

/* Applies a sequence value: each item in turn (listen, domain), or all
 * of them joined with commas (upstream, allow-recursion, fallthrough). */
static void config_file_seq(struct config_file_ctx *fc,
                            const struct config_opt *opt, yaml_node_t *val)
{
	/* 8 upstreams, 32 prefixes or 8 zones fit easily. */
	char joined[4096];
	yaml_node_item_t *it;

	if (val->data.sequence.items.start == val->data.sequence.items.top) {
		config_file_error(fc, val, "%s: the list is empty", opt->name);
		return;
	}
	if (opt->seq == CONFIG_SEQ_JOIN) {
		if (config_file_join(fc, opt, val, joined, sizeof(joined)) ==
		    0) {
			config_file_set(fc, opt, val, joined);
		}
		return;
	}
	for (it = val->data.sequence.items.start;
	     it < val->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(fc->doc, *it);

		if (n == NULL || n->type != YAML_SCALAR_NODE ||
		    config_is_null(n)) {
			config_file_error(fc, n ? n : val,
			                  "%s: each item must be a plain value",
			                  opt->name);
			return;
		}
		config_file_set(fc, opt, n, config_scalar(n));
	}
}

/* Applies one "key: value" pair of the top-level mapping. */
static void config_file_pair(struct config_file_ctx *fc, yaml_node_t *key,
                             yaml_node_t *val)
{
	const struct config_opt *opt;
	const char *name;
	size_t idx;

	if (key == NULL || key->type != YAML_SCALAR_NODE) {
		config_file_error(fc, key, "a key must be an option name");
		return;
	}
	name = config_scalar(key);
	opt = config_find(name, strlen(name));
	if (opt == NULL) {
		config_file_error(fc, key, "unknown key '%s'", name);
		return;
	}
	if (opt->cli_only) {
		config_file_error(
			fc, key,
			"'%s' is a command-line option, not a configuration key",
			name);
		return;
	}
	idx = (size_t)(opt - config_opts);
	if (fc->first_line[idx] != 0) {
		config_file_error(fc, key,
		                  "'%s' is given twice (first at line %u)",
		                  name, fc->first_line[idx]);
		return;
	}
	fc->first_line[idx] = (unsigned)key->start_mark.line + 1;
	if (val == NULL) {
		config_file_error(fc, key, "%s: no value", name);
	} else if (val->type == YAML_SEQUENCE_NODE &&
	           opt->seq != CONFIG_SEQ_NO) {
		config_file_seq(fc, opt, val);
	} else if (val->type != YAML_SCALAR_NODE) {
		config_file_error(fc, val, "%s: expected %s", name,
		                  opt->seq != CONFIG_SEQ_NO
		                          ? "a value or a list"
		                          : "a single value");
	} else if (config_is_null(val)) {
		config_file_error(fc, val, "%s: no value", name);
	} else {
		config_file_set(fc, opt, val, config_scalar(val));
	}
}

/* Reports libyaml's own error (syntax) at the place it names. */
static void config_file_syntax(struct config_file_ctx *fc,
                               const yaml_parser_t *p)
{
	const yaml_mark_t *m = &p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR) {
		diag_add(fc->d, DIAG_ERROR, fc->name, 0, 0, "out of memory");
		return;
	}
	diag_add(fc->d, DIAG_ERROR, fc->name, (unsigned)m->line + 1,
	         (unsigned)m->column + 1, "%s%s%s",
	         p->problem ? p->problem : "cannot parse YAML",
	         p->context ? " " : "", p->context ? p->context : "");
}

/* Walks the one document of the file. */
static void config_file_doc(struct config_file_ctx *fc)
{
	yaml_node_t *root = yaml_document_get_root_node(fc->doc);
	yaml_node_pair_t *pr;

	if (root == NULL) {
		return; /* an empty file: nothing to set */
	}
	if (root->type == YAML_SCALAR_NODE && config_is_null(root)) {
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		config_file_error(
			fc, root,
			"expected a mapping of option names to values (zones: /etc/svcdns/zones)");
		return;
	}
	for (pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		config_file_pair(fc, yaml_document_get_node(fc->doc, pr->key),
		                 yaml_document_get_node(fc->doc, pr->value));
	}
}

int config_apply_file(struct config *cfg, const char *name, const char *text,
                      size_t len, struct diag *d)
{
	struct config_file_ctx fc;
	yaml_parser_t parser;
	yaml_document_t doc;
	unsigned before = d->errors;

	memset(&fc, 0, sizeof(fc));
	fc.st.cfg = cfg;
	fc.name = name;
	fc.d = d;
	fc.doc = &doc;
	if (!yaml_parser_initialize(&parser)) {
		diag_add(d, DIAG_ERROR, name, 0, 0, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		config_file_syntax(&fc, &parser);
	} else {
		config_file_doc(&fc);
		yaml_document_delete(&doc);
		/* One document: a second one would be silently ignored. */
		if (yaml_parser_load(&parser, &doc)) {
			yaml_node_t *root = yaml_document_get_root_node(&doc);

			if (root != NULL) {
				config_file_error(
					&fc, root,
					"a second YAML document: put every key in one");
			}
			yaml_document_delete(&doc);
		} else {
			config_file_syntax(&fc, &parser);
		}
	}
	yaml_parser_delete(&parser);
	return d->errors != before ? -EINVAL : 0;
}

int config_parse_with_file(struct config *cfg, int argc, char *const argv[],
                           const char *name, const char *text, size_t len,
                           struct diag *d, char *err, size_t err_cap)
{
	int rc;

	config_defaults(cfg);
	rc = config_apply_file(cfg, name, text, len, d);
	if (rc != 0) {
		if (err_cap > 0) {
			snprintf(err, err_cap, "%s: %u error(s)", name,
			         d->errors);
		}
		return rc;
	}
	return config_apply_args(cfg, argc, argv, err, err_cap);
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
	        "  --upstream WHERE       names outside the zones: resolv.conf (the\n"
	        "                         nameservers of " CONFIG_RESOLV_CONF
	        ", less our own\n"
	        "                         addresses), a resolv.conf path, ADDR[:PORT],...\n"
	        "                         or none (REFUSED) (default: resolv.conf)\n"
	        "  --upstream-timeout MS  SERVFAIL when the upstreams have not answered\n"
	        "                         within MS (default: %u)\n"
	        "  --upstream-max-inflight N  forwarded queries in flight per thread;\n"
	        "                         above it SERVFAIL at once (default: %u)\n"
	        "  --allow-recursion CIDR,...  clients that may use forwarding; others\n"
	        "                         get REFUSED (default: loopback, 10/8, 172.16/12,\n"
	        "                         192.168/16, fc00::/7; none = nobody)\n"
	        "  --cache-size N         forwarded answers cached per thread; 0 = no cache\n"
	        "                         (default: %u)\n"
	        "  --cache-max-ttl S      cap on cached TTLs (default: %u)\n"
	        "  --fallthrough ZONE,... forward NXDOMAIN in these zones upstream\n"
	        "  --threads N            worker threads, 1..%d (default: the number of CPUs)\n"
	        "  --tcp-idle-timeout MS  close a TCP connection after MS without a complete\n"
	        "                         query (default: %u)\n"
	        "  --tcp-io-timeout MS    close it when a message stays incomplete for MS\n"
	        "                         (default: %u)\n"
	        "  --tcp-max-conns N      TCP connections per thread; when full, the oldest\n"
	        "                         idle one is closed (default: %u)\n"
	        "  --udp-rcvbuf BYTES     receive buffer of each UDP socket, for bursts; set\n"
	        "                         past net.core.rmem_max when started as root\n"
	        "                         (default: %u; 0 = the kernel's default)\n"
	        "  --udp-direct WHEN      wait for UDP queries in recvmmsg rather than in\n"
	        "                         the event loop: auto (under a steady UDP load),\n"
	        "                         on or off (default: auto)\n"
	        "  --lame-duck MS         on SIGTERM, stop taking queries and answer those\n"
	        "                         already received for up to MS (default: " SVCDNS_STR(
			CONFIG_DEFAULT_LAME_DUCK_MS) ")\n"
	                                             "  --settle-ms MS         wait MS after the last change in the manifest\n"
	                                             "                         directory before publishing a reload (default: %u)\n"
	                                             "  --rescan-interval MS   rescan the directory every MS even without\n"
	                                             "                         events; 0 = never (default: %u)\n"
	                                             "  --cache FILE           keep the loaded zones in FILE and, while the\n"
	                                             "                         manifest directory is unchanged, answer from it\n"
	                                             "                         at start-up before parsing; none = off (default)\n"
	                                             "  --rrl-rate N           UDP responses a second per client /24 (/56) and\n"
	                                             "                         name before rate limiting; 0 = off (default: %u)\n"
	                                             "  --rrl-slip N           every Nth limited response is sent truncated\n"
	                                             "                         (TC=1), the others dropped; 0 = drop all (default: %u)\n"
	                                             "  --rrl-table N          rate-limit slots per thread (default: %u)\n"
	                                             "  --rrl-exempt CIDR,...  clients never rate limited besides loopback\n"
	                                             "  --rrl-log-only         count what would be limited, limit nothing\n"
	                                             "  --user NAME            after binding the sockets, run as NAME with no\n"
	                                             "                         capabilities (needed to run as root on a port\n"
	                                             "                         above 1023)\n"

	                                             "  --kubernetes           take the objects from the Kubernetes API server\n"
	                                             "                         (LIST and WATCH) instead of --zones; in-cluster\n"
	                                             "                         credentials unless --kubeconfig\n"
	                                             "  --kubeconfig FILE      the API server, CA and credentials from FILE\n"
	                                             "                         (its current context); implies --kubernetes\n"
	                                             "  --namespaces NS,...    serve only these namespaces (default: all)\n"
	                                             "  --labels SELECTOR      only Services and EndpointSlices matching this\n"
	                                             "                         label selector\n"
	                                             "  --kube-pods WHEN       watch Pods: auto (pods verified or a blue/green\n"
	                                             "                         Service), never or always (default: auto)\n"
	                                             "  --http ADDR:PORT       serve /health, /ready and /metrics (Prometheus) over\n"
	                                             "                         HTTP there; none = off (default: " CONFIG_DEFAULT_HTTP
	                                             ")\n"
	                                             "  --config FILE          read options from a YAML file, one key per option\n"
	                                             "                         (ttl: 30); the command line wins; SIGHUP re-reads it\n"
	                                             "  --check                load and check the manifests (and --config), print a\n"
	                                             "                         summary, exit (status 1 if there are errors)\n"
	                                             "  --dump                 print the zones as master files and exit\n"
	                                             "  --log-level LEVEL      error, warn, info or debug (default: info)\n"
	                                             "  --log-queries          log one line per query (debugging; costs speed)\n"
	                                             "  --version              print the versions and exit\n"
	                                             "  --help                 print this help and exit\n"
	                                             "\n"
	                                             "Every option also takes the form --opt=value.\n"
	                                             "Exit status: 0 ok, 1 error, 2 bad command line or configuration file.\n"
	                                             "Signals: SIGHUP reloads the manifests and the configuration file;\n"
	                                             "SIGUSR1 logs the counters; SIGINT and SIGTERM stop.\n",
	        CONFIG_MAX_ZONES, CONFIG_TTL_MAX, CONFIG_DEFAULT_TTL,
	        CONFIG_DEFAULT_UPSTREAM_MS, CONFIG_DEFAULT_INFLIGHT,
	        CONFIG_DEFAULT_CACHE_SIZE, CONFIG_DEFAULT_CACHE_MAX_TTL,
	        CONFIG_THREADS_MAX, CONFIG_DEFAULT_TCP_IDLE_MS,
	        CONFIG_DEFAULT_TCP_IO_MS, CONFIG_DEFAULT_TCP_MAX_CONNS,
	        CONFIG_DEFAULT_UDP_RCVBUF, CONFIG_DEFAULT_SETTLE_MS,
	        CONFIG_DEFAULT_RESCAN_MS, CONFIG_DEFAULT_RRL_RATE,
	        CONFIG_DEFAULT_RRL_SLIP, CONFIG_DEFAULT_RRL_TABLE);
}
