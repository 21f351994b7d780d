#include "unit.h"

#include <errno.h>
#include <string.h>

#include "svcdns/arena.h"
#include "svcdns/k8s.h"

struct ip_case {
	const char *text;
	int rc;
	uint8_t family;
	const char *canonical; /* k8s_ip_to_text of the parsed address */
};

static const struct ip_case ip_cases[] = {
	{ "10.0.0.1", 0, 4, "10.0.0.1" },
	{ "0.0.0.0", 0, 4, "0.0.0.0" },
	{ "255.255.255.255", 0, 4, "255.255.255.255" },
	{ "::", 0, 6, "::" },
	{ "::1", 0, 6, "::1" },
	{ "fd00:10:96::1234", 0, 6, "fd00:10:96::1234" },
	/* RFC 5952: lower case, leading zeros dropped, the longest run of
	 * zero groups compressed (the first of equal runs), a single zero
	 * group not compressed. */
	{ "2001:DB8:0:0:0:0:0:1", 0, 6, "2001:db8::1" },
	{ "2001:0db8:0000:0000:0001:0000:0000:0001", 0, 6,
	  "2001:db8::1:0:0:1" },
	{ "2001:db8:0:1:1:1:1:1", 0, 6, "2001:db8:0:1:1:1:1:1" },
	{ "::ffff:10.1.2.3", 0, 6, "::ffff:10.1.2.3" },
	{ "", -EINVAL, 0, NULL },
	{ "10.0.0", -EINVAL, 0, NULL },
	{ "10.0.0.1.2", -EINVAL, 0, NULL },
	{ "10.0.0.256", -EINVAL, 0, NULL },
	{ "10.0.0.300", -EINVAL, 0, NULL },
	{ "010.0.0.1", -EINVAL, 0, NULL },
	{ " 10.0.0.1", -EINVAL, 0, NULL },
	{ "10.0.0.1 ", -EINVAL, 0, NULL },
	{ "10.0.0.1/24", -EINVAL, 0, NULL },
	{ "0x0a.0.0.1", -EINVAL, 0, NULL },
	{ "fe80::1%eth0", -EINVAL, 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", -EINVAL, 0, NULL },
	{ "::1::", -EINVAL, 0, NULL },
	{ "fd00::g", -EINVAL, 0, NULL },
	{ "None", -EINVAL, 0, NULL },
};

static void test_k8s_ip_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(ip_cases); i++) {
		const struct ip_case *c = &ip_cases[i];
		struct k8s_ip ip;
		char text[64];

		memset(&ip, 0xaa, sizeof(ip));
		if (k8s_ip_parse(c->text, &ip) != c->rc) {
			fail_msg("k8s_ip_parse(\"%s\") != %d", c->text, c->rc);
		}
		if (c->rc != 0) {
			continue;
		}
		assert_int_equal(ip.family, c->family);
		k8s_ip_to_text(&ip, text, sizeof(text));
		assert_string_equal(text, c->canonical);
	}
}

static void test_k8s_ip_parse_null(void **state)
{
	struct k8s_ip ip;

	(void)state;
	assert_int_equal(k8s_ip_parse(NULL, &ip), -EINVAL);
}

static void test_k8s_ip_parse_octets(void **state)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
		                        0,    0,    0,    0,    0, 0, 0, 1 };
	struct k8s_ip ip;

	(void)state;
	assert_int_equal(k8s_ip_parse("192.0.2.33", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.addr[0], 192);
	assert_int_equal(ip.addr[1], 0);
	assert_int_equal(ip.addr[2], 2);
	assert_int_equal(ip.addr[3], 33);
	assert_int_equal(k8s_ip_parse("2001:db8::1", &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_memory_equal(ip.addr, v6, 16);
}

static void test_k8s_ip_cmp_order(void **state)
{
	struct k8s_ip a;
	struct k8s_ip b;
	struct k8s_ip c;
	struct k8s_ip d;

	(void)state;
	assert_int_equal(k8s_ip_parse("10.0.0.1", &a), 0);
	assert_int_equal(k8s_ip_parse("10.0.0.2", &b), 0);
	assert_int_equal(k8s_ip_parse("::1", &c), 0);
	assert_int_equal(k8s_ip_parse("0:0:0:0:0:0:0:1", &d), 0);
	assert_true(k8s_ip_cmp(&a, &b) < 0);
	assert_true(k8s_ip_cmp(&b, &a) > 0);
	assert_int_equal(k8s_ip_cmp(&a, &a), 0);
	/* Family first: every v4 address sorts before every v6 one. */
	assert_true(k8s_ip_cmp(&b, &c) < 0);
	assert_true(k8s_ip_cmp(&c, &a) > 0);
	/* Different spellings, same address. */
	assert_int_equal(k8s_ip_cmp(&c, &d), 0);
}

static void test_k8s_ip_cmp_ignores_unused_octets(void **state)
{
	struct k8s_ip a;
	struct k8s_ip b;

	(void)state;
	assert_int_equal(k8s_ip_parse("10.0.0.1", &a), 0);
	b = a;
	b.addr[7] = 0x55; /* beyond the 4 octets of a v4 address */
	assert_int_equal(k8s_ip_cmp(&a, &b), 0);
}

static void test_k8s_ip_to_text_small_buffer(void **state)
{
	struct k8s_ip ip;
	char out[8];
	char big[46];

	(void)state;
	assert_int_equal(k8s_ip_parse("2001:db8::1:2:3", &ip), 0);
	memset(out, 'x', sizeof(out));
	k8s_ip_to_text(&ip, out, sizeof(out));
	assert_string_equal(out, ""); /* never a cut address */
	k8s_ip_to_text(&ip, big, sizeof(big));
	assert_string_equal(big, "2001:db8::1:2:3");
	ip.family = 5;
	k8s_ip_to_text(&ip, big, sizeof(big));
	assert_string_equal(big, "");
	k8s_ip_to_text(&ip, big, 0); /* writes nothing, does not crash */
}

static void test_k8s_is_dns_label_table(void **state)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
		{ "a", true },    { "web", true },  { "web-1", true },
		{ "0", true },    { "1web", true }, /* DNS-1123 allows a leading
		                                       digit */
		{ "a--b", true }, { "", false },    { "-a", false },
		{ "a-", false },  { "Web", false }, { "web_1", false },
		{ "a.b", false }, { "a b", false }, { "caf\xc3\xa9", false },
	};
	char label[80];
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(cases); i++) {
		if (k8s_is_dns_label(cases[i].text) != cases[i].ok) {
			fail_msg("k8s_is_dns_label(\"%s\") != %d",
			         cases[i].text, cases[i].ok);
		}
	}
	assert_false(k8s_is_dns_label(NULL));
	/* 63 octets pass, 64 fail. */
	memset(label, 'a', sizeof(label));
	label[63] = '\0';
	assert_true(k8s_is_dns_label(label));
	label[63] = 'a';
	label[64] = '\0';
	assert_false(k8s_is_dns_label(label));
}

static void test_k8s_labels_get_lookup(void **state)
{
	static const struct k8s_label items[] = {
		{ "app", "web" },
		{ "tier", "" },
		{ "kubernetes.io/service-name", "web" },
	};
	const struct k8s_labels labels = { items, SVCDNS_ARRAY_SIZE(items) };
	const struct k8s_labels empty = { NULL, 0 };

	(void)state;
	assert_string_equal(k8s_labels_get(&labels, "app"), "web");
	assert_string_equal(k8s_labels_get(&labels, "tier"), "");
	assert_string_equal(
		k8s_labels_get(&labels, "kubernetes.io/service-name"), "web");
	assert_null(k8s_labels_get(&labels, "App"));
	assert_null(k8s_labels_get(&labels, "ap"));
	assert_null(k8s_labels_get(&empty, "app"));
	assert_null(k8s_labels_get(NULL, "app"));
	assert_null(k8s_labels_get(&labels, NULL));
}

static void test_k8s_file_destroy_null(void **state)
{
	struct arena *a = arena_create(0);
	struct k8s_file *f;

	(void)state;
	k8s_file_destroy(NULL);
	/* The file lives in its own arena (as manifest.c builds it). */
	assert_non_null(a);
	f = arena_calloc(a, 1, sizeof(*f));
	assert_non_null(f);
	f->arena = a;
	k8s_file_destroy(f); /* the leak checker proves it is all gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_ip_parse_table),
		cmocka_unit_test(test_k8s_ip_parse_null),
		cmocka_unit_test(test_k8s_ip_parse_octets),
		cmocka_unit_test(test_k8s_ip_cmp_order),
		cmocka_unit_test(test_k8s_ip_cmp_ignores_unused_octets),
		cmocka_unit_test(test_k8s_ip_to_text_small_buffer),
		cmocka_unit_test(test_k8s_is_dns_label_table),
		cmocka_unit_test(test_k8s_labels_get_lookup),
		cmocka_unit_test(test_k8s_file_destroy_null),
	};

	return cmocka_run_group_tests_name("k8s", tests, NULL, NULL);
}
