/* The query log and the names of DNS codes. See qlog.h. */
#include "svcdns/qlog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "svcdns/dname.h"
#include "svcdns/log.h"
#include "svcdns/wire.h"

static atomic_bool qlog_on;

void qlog_set_enabled(bool on)
{
	atomic_store_explicit(&qlog_on, on, memory_order_relaxed);
}

bool qlog_enabled(void)
{
	return atomic_load_explicit(&qlog_on, memory_order_relaxed);
}

const char *qlog_rcode_name(unsigned rcode)
{
	/* RFC 1035 4.1.1, RFC 2136 2.2, RFC 6891 9. */
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
		"NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode < SVCDNS_ARRAY_SIZE(names)) {
		return names[rcode];
	}
	return rcode == DNS_RCODE_BADVERS ? "BADVERS" : NULL;
}

char *qlog_type_name(uint16_t type, char *out, size_t cap)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ DNS_TYPE_A, "A" },         { DNS_TYPE_NS, "NS" },
		{ DNS_TYPE_CNAME, "CNAME" }, { DNS_TYPE_SOA, "SOA" },
		{ DNS_TYPE_PTR, "PTR" },     { DNS_TYPE_HINFO, "HINFO" },
		{ DNS_TYPE_MX, "MX" },       { DNS_TYPE_TXT, "TXT" },
		{ DNS_TYPE_AAAA, "AAAA" },   { DNS_TYPE_SRV, "SRV" },
		{ DNS_TYPE_OPT, "OPT" },     { DNS_TYPE_RRSIG, "RRSIG" },
		{ DNS_TYPE_TKEY, "TKEY" },   { DNS_TYPE_TSIG, "TSIG" },
		{ DNS_TYPE_IXFR, "IXFR" },   { DNS_TYPE_AXFR, "AXFR" },
		{ DNS_TYPE_MAILB, "MAILB" }, { DNS_TYPE_MAILA, "MAILA" },
		{ DNS_TYPE_ANY, "ANY" },
	};
	size_t i;

	for (i = 0; i < SVCDNS_ARRAY_SIZE(names); i++) {
		if (names[i].type == type) {
			snprintf(out, cap, "%s", names[i].name);
			return out;
		}
	}
	snprintf(out, cap, "TYPE%u", (unsigned)type);
	return out;
}

/* "ADDR#PORT" (the dig and BIND spelling: no brackets for IPv6). */
static void qlog_peer(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, cap, "%s#%u", host, port);
}

/* The question of req as "name=... type=... class=...", or with "-" for
 * what cannot be read. */
static void qlog_question(const uint8_t *req, size_t len, char *out, size_t cap)
{
	uint8_t name[DNAME_MAXLEN];
	char text[DNAME_TEXT_MAX];
	char type[16];
	struct wire_rd rd;
	size_t nlen = 0;
	uint16_t qd;
	uint16_t qtype;
	uint16_t qclass;

	wire_rd_init(&rd, req, len);
	wire_rd_bytes(&rd, NULL, 4);
	qd = wire_rd_u16(&rd);
	wire_rd_bytes(&rd, NULL, 6);
	if (qd == 0 || rd.err != 0) {
		snprintf(out, cap, "name=- type=- class=-");
		return;
	}
	wire_rd_name(&rd, name, &nlen, false);
	qtype = wire_rd_u16(&rd);
	qclass = wire_rd_u16(&rd);
	if (rd.err != 0 || dname_to_text(name, nlen, text, sizeof(text)) != 0) {
		snprintf(out, cap, "name=- type=- class=-");
		return;
	}
	if (qclass == 1) {
		snprintf(out, cap, "name=%s type=%s class=IN", text,
		         qlog_type_name(qtype, type, sizeof(type)));
	} else {
		snprintf(out, cap, "name=%s type=%s class=CLASS%u", text,
		         qlog_type_name(qtype, type, sizeof(type)),
		         (unsigned)qclass);
	}
}

/* The request flags a client sets: "rd", "cd", "rd,cd" or "-". */
static const char *qlog_flags(const uint8_t *req, size_t len)
{
	uint16_t f;
	bool rd;
	bool cd;

	if (len < WIRE_HEADER_LEN) {
		return "-";
	}
	f = (uint16_t)(req[2] << 8 | req[3]);
	rd = (f & WIRE_FLAG_RD) != 0;
	cd = (f & WIRE_FLAG_CD) != 0;
	if (rd && cd) {
		return "rd,cd";
	}
	return rd ? "rd" : cd ? "cd" : "-";
}

void qlog_query(const struct sockaddr *peer, bool tcp, const uint8_t *req,
                size_t req_len, const uint8_t *resp, size_t resp_len,
                uint64_t dur_us)
{
	char client[INET6_ADDRSTRLEN + 8];
	char question[DNAME_TEXT_MAX + 64];
	char rcode[16] = "none";
	char dur[32] = "";
	unsigned answers = 0;
	unsigned id = req_len >= 2 ? (unsigned)(req[0] << 8 | req[1]) : 0;

	qlog_peer(peer, client, sizeof(client));
	qlog_question(req, req_len, question, sizeof(question));
	if (resp != NULL && resp_len >= WIRE_HEADER_LEN) {
		unsigned rc = resp[3] & WIRE_RCODE_MASK;
		const char *n = qlog_rcode_name(rc);

		if (n != NULL) {
			snprintf(rcode, sizeof(rcode), "%s", n);
		} else {
			snprintf(rcode, sizeof(rcode), "RCODE%u", rc);
		}
		answers = (unsigned)(resp[6] << 8 | resp[7]);
	}
	if (dur_us != UINT64_MAX) {
		snprintf(dur, sizeof(dur), " dur_us=%llu",
		         (unsigned long long)dur_us);
	}
	log_info(
		"query: client=%s proto=%s id=%u %s flags=%s rcode=%s answers=%u size=%zu%s",
		client, tcp ? "tcp" : "udp", id, question,
		qlog_flags(req, req_len), rcode, answers,
		resp != NULL ? resp_len : 0, dur);
}
