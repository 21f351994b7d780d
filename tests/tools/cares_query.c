/* cares_query: a DNS test client that resolves through c-ares 1.18's own
 * reply parsers, so the integration tests see svcdns the way a real c-ares
 * application (Node.js, curl, gRPC) does.
 *
 *   cares_query [--tcp] [--edns SIZE|--no-edns] [--timeout MS] [--tries N]
 *               SERVER PORT NAME TYPE [NAME TYPE]...
 *
 * TYPE is A, AAAA, SRV, PTR, TXT, CNAME, NS or SOA. For each query it prints
 * one line per record, sorted, in a fixed form:
 *
 *   A 10.244.1.5
 *   AAAA fd00:10:96::30
 *   SRV 0 33 8080 10-244-1-5.cart.shop.svc.cluster.local
 *   PTR frontend.shop.svc.cluster.local
 *   TXT "1.1.0"
 *   CNAME frontend.shop.svc.cluster.local
 *   NS ns.dns.cluster.local
 *   SOA ns.dns.cluster.local hostmaster.cluster.local 1715678000 7200 1800
 * 86400 5
 *
 * CNAME lines are printed for every query type whose answer section holds
 * CNAMEs (A on an ExternalName service prints the CNAME and the chased A).
 * A failed query prints "ERROR <c-ares status>", such as "ERROR ENOTFOUND"
 * (NXDOMAIN) or "ERROR ENODATA" (NOERROR without records of the type).
 * With several NAME TYPE pairs each result is preceded by "; NAME TYPE".
 *
 * Exit status: 0 if every query got records, 1 if any failed, 2 on a usage
 * error or when c-ares cannot be set up.
 *
 * Only c-ares and libc are used, with a select() loop, as c-ares' own
 * adig does. Every channel option the tests depend on (timeout, tries,
 * flags, EDNS size) is set explicitly: c-ares defaults (5 s, 4 tries,
 * resolv.conf "options") would make a failing test hang for a minute. */

/* c-ares 1.18's ares.h uses fd_set but includes only <sys/types.h>, which
 * does not declare it under -D_POSIX_C_SOURCE=200809L: include it first. */
#include <sys/select.h>

#include <ares.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

/* Record types and class (RFC 1035 3.2.2, RFC 3596, RFC 2782). */
enum {
	QTYPE_A = 1,
	QTYPE_NS = 2,
	QTYPE_CNAME = 5,
	QTYPE_SOA = 6,
	QTYPE_PTR = 12,
	QTYPE_TXT = 16,
	QTYPE_AAAA = 28,
	QTYPE_SRV = 33,
	QCLASS_IN = 1,
};

#define DNS_HEADER_LEN 12
#define MAX_LINES      4096 /* records printed per query; more is an error */
#define MAX_QUERIES    64   /* NAME TYPE pairs per run */
#define MAX_ADDRTTLS   1024 /* A/AAAA records parsed per answer */
#define WALL_LIMIT_S   120  /* hard stop for the select loop */

struct qtype_name {
	const char *name;
	int type;
};

static const struct qtype_name qtypes[] = {
	{ "A", QTYPE_A },     { "AAAA", QTYPE_AAAA }, { "SRV", QTYPE_SRV },
	{ "PTR", QTYPE_PTR }, { "TXT", QTYPE_TXT },   { "CNAME", QTYPE_CNAME },
	{ "NS", QTYPE_NS },   { "SOA", QTYPE_SOA },
};

struct status_name {
	int status;
	const char *name;
};

/* ares_strerror() gives prose; the tests compare the symbolic names. */
static const struct status_name status_names[] = {
	{ ARES_SUCCESS, "SUCCESS" },
	{ ARES_ENODATA, "ENODATA" },
	{ ARES_EFORMERR, "EFORMERR" },
	{ ARES_ESERVFAIL, "ESERVFAIL" },
	{ ARES_ENOTFOUND, "ENOTFOUND" },
	{ ARES_ENOTIMP, "ENOTIMP" },
	{ ARES_EREFUSED, "EREFUSED" },
	{ ARES_EBADQUERY, "EBADQUERY" },
	{ ARES_EBADNAME, "EBADNAME" },
	{ ARES_EBADFAMILY, "EBADFAMILY" },
	{ ARES_EBADRESP, "EBADRESP" },
	{ ARES_ECONNREFUSED, "ECONNREFUSED" },
	{ ARES_ETIMEOUT, "ETIMEOUT" },
	{ ARES_EOF, "EOF" },
	{ ARES_EFILE, "EFILE" },
	{ ARES_ENOMEM, "ENOMEM" },
	{ ARES_EDESTRUCTION, "EDESTRUCTION" },
	{ ARES_EBADSTR, "EBADSTR" },
	{ ARES_EBADFLAGS, "EBADFLAGS" },
	{ ARES_ENONAME, "ENONAME" },
	{ ARES_EBADHINTS, "EBADHINTS" },
	{ ARES_ENOTINITIALIZED, "ENOTINITIALIZED" },
	{ ARES_ECANCELLED, "ECANCELLED" },
};

/* One query and what came back. lines[] own their strings. */
struct query {
	const char *name; /* borrowed from argv */
	const char *type_text;
	int type;
	bool done;
	int status; /* ARES_* of the query, or of the parser */
	char *lines[MAX_LINES];
	size_t n_lines;
};

struct opts {
	bool tcp;
	int edns; /* advertised UDP size; 0 = no OPT record */
	int timeout_ms;
	int tries;
	const char *server;
	const char *port;
};

static const char *status_name(int status)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (status_names[i].status == status) {
			return status_names[i].name;
		}
	}
	return "EUNKNOWN";
}

static int qtype_parse(const char *text)
{
	size_t i;

	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++) {
		if (strcasecmp(qtypes[i].name, text) == 0) {
			return qtypes[i].type;
		}
	}
	return -1;
}

/* Appends one formatted line to q. Returns false when out of room or
 * memory (the query then fails with ENOMEM). */
static bool add_line(struct query *q, const char *prefix, const char *text)
{
	size_t len = strlen(prefix) + 1 + strlen(text) + 1;
	char *line;

	if (q->n_lines == MAX_LINES) {
		return false;
	}
	line = malloc(len);
	if (line == NULL) {
		return false;
	}
	snprintf(line, len, "%s %s", prefix, text);
	q->lines[q->n_lines++] = line;
	return true;
}

static int line_cmp(const void *a, const void *b)
{
	const char *const *la = a;
	const char *const *lb = b;

	return strcmp(*la, *lb);
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Walks the answer section with ares_expand_name() and adds a "CNAME
 * target" line for every CNAME record. c-ares' typed parsers follow CNAMEs
 * silently; the tests want to see them. Returns an ARES_* status. */
static int add_cnames(struct query *q, const unsigned char *abuf, int alen)
{
	const unsigned char *p = abuf + DNS_HEADER_LEN;
	const unsigned char *end = abuf + alen;
	unsigned qd;
	unsigned an;
	unsigned i;

	if (alen < DNS_HEADER_LEN) {
		return ARES_EBADRESP;
	}
	qd = rd16(abuf + 4);
	an = rd16(abuf + 6);
	for (i = 0; i < qd + an; i++) {
		char *name = NULL;
		long len = 0;
		uint16_t type;
		uint16_t rdlen;
		int st = ares_expand_name(p, abuf, alen, &name, &len);

		if (st != ARES_SUCCESS) {
			return st;
		}
		ares_free_string(name);
		p += len;
		if (i < qd) { /* question: QTYPE, QCLASS */
			if (end - p < 4) {
				return ARES_EBADRESP;
			}
			p += 4;
			continue;
		}
		if (end - p < 10) { /* TYPE CLASS TTL RDLENGTH */
			return ARES_EBADRESP;
		}
		type = rd16(p);
		rdlen = rd16(p + 8);
		p += 10;
		if (end - p < rdlen) {
			return ARES_EBADRESP;
		}
		if (type == QTYPE_CNAME) {
			char *target = NULL;
			bool ok;

			st = ares_expand_name(p, abuf, alen, &target, &len);
			if (st != ARES_SUCCESS) {
				return st;
			}
			ok = add_line(q, "CNAME", target);
			ares_free_string(target);
			if (!ok) {
				return ARES_ENOMEM;
			}
		}
		p += rdlen;
	}
	return ARES_SUCCESS;
}

static int parse_addrs(struct query *q, const unsigned char *abuf, int alen)
{
	char text[INET6_ADDRSTRLEN];
	int n = MAX_ADDRTTLS;
	int st;
	int i;

	if (q->type == QTYPE_A) {
		struct ares_addrttl *ttls = calloc(MAX_ADDRTTLS, sizeof(*ttls));

		if (ttls == NULL) {
			return ARES_ENOMEM;
		}
		st = ares_parse_a_reply(abuf, alen, NULL, ttls, &n);
		for (i = 0; st == ARES_SUCCESS && i < n; i++) {
			inet_ntop(AF_INET, &ttls[i].ipaddr, text, sizeof(text));
			if (!add_line(q, "A", text)) {
				st = ARES_ENOMEM;
			}
		}
		free(ttls);
	} else {
		struct ares_addr6ttl *ttls =
			calloc(MAX_ADDRTTLS, sizeof(*ttls));

		if (ttls == NULL) {
			return ARES_ENOMEM;
		}
		st = ares_parse_aaaa_reply(abuf, alen, NULL, ttls, &n);
		for (i = 0; st == ARES_SUCCESS && i < n; i++) {
			inet_ntop(AF_INET6, &ttls[i].ip6addr, text,
			          sizeof(text));
			if (!add_line(q, "AAAA", text)) {
				st = ARES_ENOMEM;
			}
		}
		free(ttls);
	}
	return st;
}

static int parse_srv(struct query *q, const unsigned char *abuf, int alen)
{
	struct ares_srv_reply *srv = NULL;
	struct ares_srv_reply *s;
	char text[300];
	int st = ares_parse_srv_reply(abuf, alen, &srv);

	for (s = srv; st == ARES_SUCCESS && s != NULL; s = s->next) {
		snprintf(text, sizeof(text), "%u %u %u %s", s->priority,
		         s->weight, s->port, s->host);
		if (!add_line(q, "SRV", text)) {
			st = ARES_ENOMEM;
		}
	}
	ares_free_data(srv);
	return st;
}

/* PTR and NS replies come back as a hostent whose aliases are the names. */
static int add_hostent_names(struct query *q, const char *prefix,
                             const struct hostent *h)
{
	size_t i;

	if (h->h_aliases == NULL || h->h_aliases[0] == NULL) {
		return add_line(q, prefix, h->h_name) ? ARES_SUCCESS
		                                      : ARES_ENOMEM;
	}
	for (i = 0; h->h_aliases[i] != NULL; i++) {
		if (!add_line(q, prefix, h->h_aliases[i])) {
			return ARES_ENOMEM;
		}
	}
	return ARES_SUCCESS;
}

static int parse_ptr(struct query *q, const unsigned char *abuf, int alen)
{
	/* The address is only copied into the hostent; c-ares releases
	 * before 1.19 copy it unconditionally, so give them a real one. */
	static const unsigned char dummy[4];
	struct hostent *h = NULL;
	int st = ares_parse_ptr_reply(abuf, alen, dummy, sizeof(dummy), AF_INET,
	                              &h);

	if (st == ARES_SUCCESS) {
		st = add_hostent_names(q, "PTR", h);
	}
	if (h != NULL) {
		ares_free_hostent(h);
	}
	return st;
}

static int parse_ns(struct query *q, const unsigned char *abuf, int alen)
{
	struct hostent *h = NULL;
	int st = ares_parse_ns_reply(abuf, alen, &h);

	if (st == ARES_SUCCESS) {
		st = add_hostent_names(q, "NS", h);
	}
	if (h != NULL) {
		ares_free_hostent(h);
	}
	return st;
}

/* Appends one character-string in presentation form (RFC 1035 5.1): quotes
 * and backslashes escaped, anything unprintable as \DDD. */
static size_t txt_quote(char *out, size_t cap, size_t pos,
                        const unsigned char *s, size_t len)
{
	size_t i;

	pos += (size_t)snprintf(out + pos, cap - pos, "%s\"",
	                        pos > 0 ? " " : "");
	for (i = 0; i < len && pos + 6 < cap; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)s[i];
		} else if (s[i] < 0x20 || s[i] > 0x7e) {
			pos += (size_t)snprintf(out + pos, cap - pos, "\\%03u",
			                        s[i]);
		} else {
			out[pos++] = (char)s[i];
		}
	}
	if (pos + 2 <= cap) {
		out[pos++] = '"';
		out[pos] = '\0';
	}
	return pos;
}

static int parse_txt(struct query *q, const unsigned char *abuf, int alen)
{
	struct ares_txt_ext *txt = NULL;
	struct ares_txt_ext *t;
	char text[4 * 256 + 64];
	size_t pos = 0;
	int st = ares_parse_txt_reply_ext(abuf, alen, &txt);

	text[0] = '\0';
	for (t = txt; st == ARES_SUCCESS && t != NULL; t = t->next) {
		/* A record may hold several strings; record_start marks the
		 * first string of each record. */
		if (t->record_start && pos > 0) {
			if (!add_line(q, "TXT", text)) {
				st = ARES_ENOMEM;
			}
			pos = 0;
		}
		pos = txt_quote(text, sizeof(text), pos, t->txt, t->length);
	}
	if (st == ARES_SUCCESS && pos > 0 && !add_line(q, "TXT", text)) {
		st = ARES_ENOMEM;
	}
	ares_free_data(txt);
	return st;
}

static int parse_soa(struct query *q, const unsigned char *abuf, int alen)
{
	struct ares_soa_reply *soa = NULL;
	char text[600];
	int st = ares_parse_soa_reply(abuf, alen, &soa);

	if (st == ARES_SUCCESS) {
		snprintf(text, sizeof(text), "%s %s %u %u %u %u %u",
		         soa->nsname, soa->hostmaster, soa->serial,
		         soa->refresh, soa->retry, soa->expire, soa->minttl);
		if (!add_line(q, "SOA", text)) {
			st = ARES_ENOMEM;
		}
	}
	ares_free_data(soa);
	return st;
}

static int parse_reply(struct query *q, const unsigned char *abuf, int alen)
{
	size_t cnames;
	int st = add_cnames(q, abuf, alen);

	if (st != ARES_SUCCESS) {
		return st;
	}
	cnames = q->n_lines;
	switch (q->type) {
	case QTYPE_A:
	case QTYPE_AAAA:
		st = parse_addrs(q, abuf, alen);
		break;
	case QTYPE_SRV:
		st = parse_srv(q, abuf, alen);
		break;
	case QTYPE_PTR:
		st = parse_ptr(q, abuf, alen);
		break;
	case QTYPE_TXT:
		st = parse_txt(q, abuf, alen);
		break;
	case QTYPE_NS:
		st = parse_ns(q, abuf, alen);
		break;
	case QTYPE_SOA:
		st = parse_soa(q, abuf, alen);
		break;
	default: /* CNAME: add_cnames() did the work */
		st = cnames > 0 ? ARES_SUCCESS : ARES_ENODATA;
		break;
	}
	/* A CNAME alone (an ExternalName outside the zone, no upstream) is an
	 * answer: the typed parser finds no record of its own type. */
	if (st == ARES_ENODATA && cnames > 0) {
		st = ARES_SUCCESS;
	}
	return st;
}

/* ares_callback: may run inside ares_query() (c-ares 1.18 reports some
 * errors synchronously), so q is fully set up before the call. */
static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf,
                     int alen)
{
	struct query *q = arg;

	(void)timeouts;
	q->done = true;
	q->status = status;
	if (status == ARES_SUCCESS) {
		q->status = parse_reply(q, abuf, alen);
	}
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: cares_query [--tcp] [--edns SIZE|--no-edns] [--timeout MS] [--tries N] SERVER PORT NAME TYPE [NAME TYPE]...\n"
	        "TYPE: A AAAA SRV PTR TXT CNAME NS SOA\n");
}

static bool parse_int(const char *text, long lo, long hi, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
		return false;
	}
	*out = (int)v;
	return true;
}

/* Parses the options; returns the index of SERVER in argv, or -1. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int i;

	o->tcp = false;
	o->edns = 1232;
	o->timeout_ms = 2000;
	o->tries = 2;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--tcp") == 0) {
			o->tcp = true;
		} else if (strcmp(argv[i], "--no-edns") == 0) {
			o->edns = 0;
		} else if (strcmp(argv[i], "--edns") == 0 && i + 1 < argc) {
			if (!parse_int(argv[++i], 512, 65535, &o->edns)) {
				return -1;
			}
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (!parse_int(argv[++i], 1, 600000, &o->timeout_ms)) {
				return -1;
			}
		} else if (strcmp(argv[i], "--tries") == 0 && i + 1 < argc) {
			if (!parse_int(argv[++i], 1, 10, &o->tries)) {
				return -1;
			}
		} else {
			return -1;
		}
	}
	/* SERVER PORT and at least one NAME TYPE pair. */
	if (argc - i < 4 || (argc - i) % 2 != 0) {
		return -1;
	}
	o->server = argv[i];
	o->port = argv[i + 1];
	return i;
}

static int channel_create(const struct opts *o, ares_channel *ch)
{
	struct ares_options ao;
	char csv[300];
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	int st;
	int port;

	if (!parse_int(o->port, 1, 65535, &port)) {
		return ARES_EBADSTR;
	}
	memset(&ao, 0, sizeof(ao));
	/* ARES_FLAG_NORECURSE stays off: the queries carry RD=1, as an
	 * application's would. NOCHECKRESP stays off too, so REFUSED and
	 * SERVFAIL come back as c-ares reports them to applications. */
	ao.flags = ARES_FLAG_NOSEARCH;
	if (o->tcp) {
		ao.flags |= ARES_FLAG_USEVC;
	}
	if (o->edns > 0) {
		ao.flags |= ARES_FLAG_EDNS;
		ao.ednspsz = o->edns;
		mask |= ARES_OPT_EDNSPSZ;
	}
	ao.timeout = o->timeout_ms;
	ao.tries = o->tries;
	st = ares_init_options(ch, &ao, mask);
	if (st != ARES_SUCCESS) {
		return st;
	}
	if (strchr(o->server, ':') != NULL) {
		snprintf(csv, sizeof(csv), "[%s]:%d", o->server, port);
	} else {
		snprintf(csv, sizeof(csv), "%s:%d", o->server, port);
	}
	st = ares_set_servers_ports_csv(*ch, csv);
	if (st != ARES_SUCCESS) {
		ares_destroy(*ch);
	}
	return st;
}

/* Drives the channel until every query has completed; c-ares' own timeout
 * and tries bound it, WALL_LIMIT_S is a last resort. */
static void run_loop(ares_channel ch)
{
	time_t start = time(NULL);

	for (;;) {
		struct timeval maxtv = { 1, 0 };
		struct timeval tv;
		struct timeval *tvp;
		fd_set rfds;
		fd_set wfds;
		int nfds;

		FD_ZERO(&rfds);
		FD_ZERO(&wfds);
		nfds = ares_fds(ch, &rfds, &wfds);
		if (nfds == 0) {
			break;
		}
		if (time(NULL) - start > WALL_LIMIT_S) {
			ares_cancel(ch);
			break;
		}
		tvp = ares_timeout(ch, &maxtv, &tv);
		if (select(nfds, &rfds, &wfds, NULL, tvp) < 0 &&
		    errno != EINTR) {
			ares_cancel(ch);
			break;
		}
		ares_process(ch, &rfds, &wfds);
	}
}

static int print_results(struct query *qs, size_t n)
{
	int rc = 0;
	size_t i;
	size_t j;

	for (i = 0; i < n; i++) {
		struct query *q = &qs[i];

		if (n > 1) {
			printf("; %s %s\n", q->name, q->type_text);
		}
		if (!q->done) {
			q->status = ARES_ETIMEOUT;
		}
		if (q->status != ARES_SUCCESS) {
			printf("ERROR %s\n", status_name(q->status));
			rc = 1;
		} else {
			qsort(q->lines, q->n_lines, sizeof(q->lines[0]),
			      line_cmp);
			for (j = 0; j < q->n_lines; j++) {
				printf("%s\n", q->lines[j]);
			}
		}
		for (j = 0; j < q->n_lines; j++) {
			free(q->lines[j]);
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	static struct query qs[MAX_QUERIES];
	struct opts o;
	ares_channel ch;
	size_t n = 0;
	int first = parse_opts(argc, argv, &o);
	int st;
	int i;
	int rc;

	if (first < 0 || (size_t)(argc - first - 2) / 2 > MAX_QUERIES) {
		usage();
		return 2;
	}
	for (i = first + 2; i + 1 < argc; i += 2) {
		qs[n].name = argv[i];
		qs[n].type_text = argv[i + 1];
		qs[n].type = qtype_parse(argv[i + 1]);
		if (qs[n].type < 0) {
			fprintf(stderr, "cares_query: unknown type %s\n",
			        argv[i + 1]);
			usage();
			return 2;
		}
		n++;
	}
	st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st != ARES_SUCCESS) {
		fprintf(stderr, "cares_query: ares_library_init: %s\n",
		        ares_strerror(st));
		return 2;
	}
	st = channel_create(&o, &ch);
	if (st != ARES_SUCCESS) {
		fprintf(stderr, "cares_query: channel: %s\n",
		        ares_strerror(st));
		ares_library_cleanup();
		return 2;
	}
	for (i = 0; (size_t)i < n; i++) {
		ares_query(ch, qs[i].name, QCLASS_IN, qs[i].type, query_cb,
		           &qs[i]);
	}
	run_loop(ch);
	ares_destroy(ch); /* completes anything left with EDESTRUCTION */
	ares_library_cleanup();
	rc = print_results(qs, n);
	return rc;
}
