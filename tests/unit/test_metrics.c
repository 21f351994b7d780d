/* The Prometheus text writer. */
#include "unit.h"

#include <string.h>

#include "svcdns/metrics.h"

static void test_metrics_family_and_samples(void **state)
{
	struct metrics_buf b;

	(void)state;
	metrics_buf_init(&b);
	metrics_family(&b, "svcdns_dns_requests_total", "counter",
	               "DNS requests received.");
	metrics_u64(&b, "svcdns_dns_requests_total", "proto=\"udp\"", 42);
	metrics_u64(&b, "svcdns_up", NULL, 1);
	metrics_f64(&b, "svcdns_build_seconds", "", 0.25);
	assert_false(b.oom);
	assert_string_equal(
		b.p, "# HELP svcdns_dns_requests_total DNS requests received.\n"
		     "# TYPE svcdns_dns_requests_total counter\n"
		     "svcdns_dns_requests_total{proto=\"udp\"} 42\n"
		     "svcdns_up 1\n"
		     "svcdns_build_seconds 0.25\n");
	metrics_buf_fini(&b);
}

static void test_metrics_label_escapes(void **state)
{
	char l[128];

	(void)state;
	metrics_label(l, sizeof(l), false, "svc", "a\"b\\c\nd");
	assert_string_equal(l, "svc=\"a\\\"b\\\\c\\nd\"");
	metrics_label(l, sizeof(l), true, "color", "green");
	assert_string_equal(l, "svc=\"a\\\"b\\\\c\\nd\",color=\"green\"");
	/* Too small: cut, but always terminated. */
	metrics_label(l, 8, false, "key", "value");
	assert_true(strlen(l) < 8);
}

static void test_metrics_grows(void **state)
{
	struct metrics_buf b;
	int i;

	(void)state;
	metrics_buf_init(&b);
	for (i = 0; i < 10000; i++) {
		metrics_u64(&b, "svcdns_x_total", "i=\"1234567890\"",
		            (uint64_t)i);
	}
	assert_false(b.oom);
	assert_int_equal(strlen(b.p), b.len);
	assert_non_null(strstr(b.p, "svcdns_x_total{i=\"1234567890\"} 9999\n"));
	metrics_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_family_and_samples),
		cmocka_unit_test(test_metrics_label_escapes),
		cmocka_unit_test(test_metrics_grows),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
