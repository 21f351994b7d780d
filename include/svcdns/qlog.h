/* The query log (--log-queries): one info line per query, written by the
 * worker that answered it, for debugging and audits. It is off by default
 * and never on the query path otherwise: a worker checks qlog_enabled()
 * (one relaxed atomic load) and calls qlog_query() only when it is true.
 * Also the DNS names of RCODEs and types, for the logs and the metrics.
 * Core layer: no libuv, no c-ares. */
#ifndef SVCDNS_QLOG_H
#define SVCDNS_QLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "svcdns/common.h"

/* Turns the query log on or off (main: start-up and SIGHUP). Any thread. */
void qlog_set_enabled(bool on);

/* True while the query log is on. Any thread; one relaxed load. */
bool qlog_enabled(void);

/* Logs one query at info level as
 *   query: client=ADDR#PORT proto=udp|tcp id=N name=NAME. type=T
 *   class=C flags=rd,cd rcode=R answers=N size=N dur_us=N
 * from the request bytes req[0..req_len) (untrusted: read with wire_rd,
 * the name escaped, so a hostile name cannot forge a log line) and the
 * response resp[0..resp_len), or resp NULL for a query that got no
 * response (rcode=none). dur_us UINT64_MAX leaves dur_us out. Any thread;
 * no allocation; one write() (log.h). */
void qlog_query(const struct sockaddr *peer, bool tcp, const uint8_t *req,
                size_t req_len, const uint8_t *resp, size_t resp_len,
                uint64_t dur_us);

/* "NOERROR", "FORMERR", ... "BADVERS" (RFC 6895 2.3), or NULL for a
 * value without a mnemonic. */
const char *qlog_rcode_name(unsigned rcode);

/* Writes the mnemonic of type ("A", "SRV") or "TYPE<n>" (RFC 3597 5)
 * into out (cap octets, at least 12). Returns out. */
char *qlog_type_name(uint16_t type, char *out, size_t cap);

#endif
