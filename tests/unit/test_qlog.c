/* The query log line and the names of DNS codes. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "svcdns/log.h"
#include "svcdns/qlog.h"

/* Runs qlog_query with stderr sent to a file; returns the line, without
 * its time and level. */
static const char *logged(const struct sockaddr *peer, bool tcp,
                          const uint8_t *req, size_t req_len,
                          const uint8_t *resp, size_t resp_len, uint64_t dur)
{
	static char line[2048];
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;
	char *msg;

	assert_non_null(f);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	qlog_query(peer, tcp, req, req_len, resp, resp_len, dur);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	msg = strstr(line, " info ");
	assert_non_null(msg);
	return msg + 6;
}

static void test_qlog_query_line(void **state)
{
	/* ID 0x1234, RD, one question: CaRt.shop. SRV IN */
	static const uint8_t req[] = { 0x12, 0x34, 0x01, 0x00, 0,   1,   0,
		                       0,    0,    0,    0,    0,   4,   'C',
		                       'a',  'R',  't',  4,    's', 'h', 'o',
		                       'p',  0,    0,    33,   0,   1 };
	/* A response header: QR AA, NXDOMAIN, 2 answers (only read). */
	static const uint8_t resp[] = { 0x12, 0x34, 0x84, 0x03, 0, 1,
		                        0,    2,    0,    0,    0, 0 };
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	(void)state;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	assert_string_equal(
		logged((const struct sockaddr *)&s4, false, req, sizeof(req),
	               resp, sizeof(resp), 17),
		"query: client=127.0.0.1#40000 proto=udp id=4660 name=CaRt.shop. type=SRV class=IN flags=rd rcode=NXDOMAIN answers=2 size=12 dur_us=17\n");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(53);
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	assert_string_equal(
		logged((const struct sockaddr *)&s6, true, req, sizeof(req),
	               NULL, 0, UINT64_MAX),
		"query: client=::1#53 proto=tcp id=4660 name=CaRt.shop. type=SRV class=IN flags=rd rcode=none answers=0 size=0\n");
}

/* Hostile bytes: a name with a newline and a space cannot forge a line;
 * a cut question is "-". */
static void test_qlog_query_hostile(void **state)
{
	static const uint8_t req[] = { 0, 1, 0x00, 0x10, 0,   1, 0, 0, 0, 0, 0,
		                       0, 3, 'a',  '\n', ' ', 0, 0, 1, 0, 3 };
	const char *l;

	(void)state;
	l = logged(NULL, false, req, sizeof(req), NULL, 0, UINT64_MAX);
	assert_string_equal(
		l,
		"query: client=?#0 proto=udp id=1 name=a\\010\\032. type=A class=CLASS3 flags=cd rcode=none answers=0 size=0\n");
	l = logged(NULL, false, req, 14, NULL, 0, UINT64_MAX);
	assert_non_null(strstr(l, " name=- type=- class=- "));
	l = logged(NULL, false, req, 1, NULL, 0, UINT64_MAX);
	assert_non_null(strstr(l, " id=0 name=- type=- class=- flags=- "));
}

static void test_qlog_names(void **state)
{
	char b[16];

	(void)state;
	assert_string_equal(qlog_rcode_name(0), "NOERROR");
	assert_string_equal(qlog_rcode_name(3), "NXDOMAIN");
	assert_string_equal(qlog_rcode_name(10), "NOTZONE");
	assert_null(qlog_rcode_name(11));
	assert_string_equal(qlog_rcode_name(16), "BADVERS");
	assert_string_equal(qlog_type_name(33, b, sizeof(b)), "SRV");
	assert_string_equal(qlog_type_name(65, b, sizeof(b)), "TYPE65");
	assert_string_equal(qlog_type_name(255, b, sizeof(b)), "ANY");
}

static void test_qlog_enabled(void **state)
{
	(void)state;
	assert_false(qlog_enabled());
	qlog_set_enabled(true);
	assert_true(qlog_enabled());
	qlog_set_enabled(false);
	assert_false(qlog_enabled());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qlog_query_line),
		cmocka_unit_test(test_qlog_query_hostile),
		cmocka_unit_test(test_qlog_names),
		cmocka_unit_test(test_qlog_enabled),
	};

	return cmocka_run_group_tests_name("qlog", tests, NULL, NULL);
}
