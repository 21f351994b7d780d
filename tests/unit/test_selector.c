#include "unit.h"

#include <errno.h>
#include <string.h>

#include "svcdns/arena.h"
#include "svcdns/selector.h"

static const struct k8s_label pod_items[] = {
	{ "app", "web" },    { "tier", "frontend" },
	{ "color", "blue" }, { "app.kubernetes.io/version", "1.2" },
	{ "empty", "" },
};

static const struct k8s_labels pod = { pod_items,
	                               SVCDNS_ARRAY_SIZE(pod_items) };

static void test_selector_matches_subset(void **state)
{
	static const struct k8s_label s1[] = { { "app", "web" } };
	static const struct k8s_label s2[] = { { "app", "web" },
		                               { "color", "blue" } };
	static const struct k8s_label s3[] = { { "app", "web" },
		                               { "color", "green" } };
	static const struct k8s_label s4[] = { { "missing", "x" } };
	static const struct k8s_label s5[] = { { "empty", "" } };
	static const struct k8s_label s6[] = { { "app", "Web" } };
	const struct k8s_labels sel1 = { s1, 1 };
	const struct k8s_labels sel2 = { s2, 2 };
	const struct k8s_labels sel3 = { s3, 2 };
	const struct k8s_labels sel4 = { s4, 1 };
	const struct k8s_labels sel5 = { s5, 1 };
	const struct k8s_labels sel6 = { s6, 1 };

	(void)state;
	assert_true(selector_matches(&sel1, &pod));
	assert_true(selector_matches(&sel2, &pod));
	assert_false(selector_matches(&sel3, &pod));
	assert_false(selector_matches(&sel4, &pod));
	assert_true(selector_matches(&sel5, &pod));
	assert_false(selector_matches(&sel6, &pod)); /* values are exact */
}

static void test_selector_matches_empty(void **state)
{
	const struct k8s_labels none = { NULL, 0 };

	(void)state;
	/* An empty selector matches everything, even an unlabelled pod. */
	assert_true(selector_matches(&none, &pod));
	assert_true(selector_matches(&none, &none));
}

static void test_selector_matches_with_override(void **state)
{
	static const struct k8s_label s[] = { { "app", "web" },
		                              { "color", "green" } };
	static const struct k8s_label plain[] = { { "app", "web" } };
	const struct k8s_labels sel = { s, 2 };
	const struct k8s_labels sel_plain = { plain, 1 };

	(void)state;
	/* The selector says green; the bound color says blue: blue wins. */
	assert_false(selector_matches(&sel, &pod));
	assert_true(selector_matches_with(&sel, &pod, "color", "blue"));
	assert_false(selector_matches_with(&sel, &pod, "color", "green"));
	/* Other keys still apply. */
	assert_false(selector_matches_with(&sel, &pod, "app", "web"));
	/* The override is required even when the selector lacks its key. */
	assert_true(selector_matches_with(&sel_plain, &pod, "color", "blue"));
	assert_false(selector_matches_with(&sel_plain, &pod, "color", "red"));
	assert_false(selector_matches_with(&sel_plain, &pod, "stage", "x"));
	/* No override: plain matching. */
	assert_true(selector_matches_with(&sel_plain, &pod, NULL, NULL));
}

struct parse_case {
	const char *text;
	int rc;
	size_t errpos; /* when rc != 0 */
	bool matches;  /* selector_eval against pod, when rc == 0 */
};

static const struct parse_case parse_cases[] = {
	{ "", 0, 0, true },
	{ "   ", 0, 0, true },
	{ "app=web", 0, 0, true },
	{ "app==web", 0, 0, true },
	{ "app = web", 0, 0, true },
	{ "app=db", 0, 0, false },
	{ "app!=db", 0, 0, true },
	{ "app!=web", 0, 0, false },
	{ "nokey!=x", 0, 0, true }, /* != matches an absent key */
	{ "app=web,tier=frontend", 0, 0, true },
	{ "app=web, tier=backend", 0, 0, false },
	{ "color in (blue,green)", 0, 0, true },
	{ "color in (green, red)", 0, 0, false },
	{ "color notin (green,red)", 0, 0, true },
	{ "color notin (blue)", 0, 0, false },
	{ "nokey notin (a)", 0, 0, true },
	{ "nokey in (a)", 0, 0, false },
	{ "empty in ()", 0, 0, true }, /* () is the set {""} */
	{ "empty=", 0, 0, true },
	{ "tier in (a,)", 0, 0, false },
	{ "empty in (a,)", 0, 0, true },
	{ "app", 0, 0, true },
	{ "nokey", 0, 0, false },
	{ "!nokey", 0, 0, true },
	{ "! app", 0, 0, false },
	{ "app.kubernetes.io/version=1.2", 0, 0, true },
	{ "app=web,color in (blue),!legacy,tier", 0, 0, true },
	{ "  app = web ,  !legacy  ", 0, 0, true },
	/* Errors, with the offset of the problem. */
	{ ",", -EINVAL, 0, false },
	{ "app=web,", -EINVAL, 8, false },
	{ "app=web,,x", -EINVAL, 8, false },
	{ "=web", -EINVAL, 0, false },
	{ "app=we b", -EINVAL, 7, false },
	{ "app>1", -EINVAL, 3, false },
	{ "app in web", -EINVAL, 7, false },
	{ "app in (web", -EINVAL, 11, false },
	{ "app in (a b)", -EINVAL, 10, false },
	{ "app within (a)", -EINVAL, 4, false },
	{ "!app=web", -EINVAL, 4, false },
	{ "-app=web", -EINVAL, 0, false },
	{ "app=-web", -EINVAL, 4, false },
	{ "App_1.x=Web_1.X", 0, 0, false },
	{ "Bad.Prefix/app=web", -EINVAL, 0, false },
	{ "/app=web", -EINVAL, 0, false },
	{ "example.com/=web", -EINVAL, 0, false },
	{ "app=web)", -EINVAL, 7, false },
};

static void test_selector_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct arena *a = arena_create(0);
		struct selector *s = (struct selector *)1;
		size_t errpos = 999;
		int rc;

		assert_non_null(a);
		rc = selector_parse(c->text, a, &s, &errpos);
		if (rc != c->rc) {
			fail_msg("selector_parse(\"%s\") = %d, want %d",
			         c->text, rc, c->rc);
		}
		if (rc != 0) {
			assert_null(s);
			if (errpos != c->errpos) {
				fail_msg(
					"selector_parse(\"%s\"): errpos %zu, want %zu",
					c->text, errpos, c->errpos);
			}
		} else if (selector_eval(s, &pod) != c->matches) {
			fail_msg("selector_eval(\"%s\") != %d", c->text,
			         c->matches);
		}
		arena_destroy(a);
	}
}

static void test_selector_parse_label_limits(void **state)
{
	struct arena *a = arena_create(0);
	struct selector *s;
	char text[400];
	size_t errpos;

	(void)state;
	assert_non_null(a);
	/* A name part of 63 passes, 64 fails. */
	memset(text, 'k', 63);
	strcpy(text + 63, "=v");
	assert_int_equal(selector_parse(text, a, &s, &errpos), 0);
	memset(text, 'k', 64);
	strcpy(text + 64, "=v");
	assert_int_equal(selector_parse(text, a, &s, &errpos), -EINVAL);
	assert_int_equal(errpos, 0);
	/* So does a value. */
	strcpy(text, "k=");
	memset(text + 2, 'v', 64);
	text[66] = '\0';
	assert_int_equal(selector_parse(text, a, &s, &errpos), -EINVAL);
	assert_int_equal(errpos, 2);
	text[65] = '\0';
	assert_int_equal(selector_parse(text, a, &s, &errpos), 0);
	/* A prefix is a DNS subdomain of at most 253 octets. */
	memset(text, 'p', 254);
	strcpy(text + 254, "/k=v");
	assert_int_equal(selector_parse(text, a, &s, &errpos), -EINVAL);
	arena_destroy(a);
}

static void test_selector_eval_many_values(void **state)
{
	static const char text[] = "color in (a,b,c,d,e,f,g,h,blue),"
				   "tier notin (x,y,z),app=web,!gone";
	static const struct k8s_label other_items[] = { { "color", "h" },
		                                        { "tier", "x" },
		                                        { "app", "web" } };
	const struct k8s_labels other = { other_items, 3 };
	struct arena *a = arena_create(0);
	struct selector *s;
	size_t errpos;

	(void)state;
	assert_non_null(a);
	assert_int_equal(selector_parse(text, a, &s, &errpos), 0);
	assert_true(selector_eval(s, &pod));
	assert_false(selector_eval(s, &other)); /* tier x is excluded */
	arena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selector_matches_subset),
		cmocka_unit_test(test_selector_matches_empty),
		cmocka_unit_test(test_selector_matches_with_override),
		cmocka_unit_test(test_selector_parse_table),
		cmocka_unit_test(test_selector_parse_label_limits),
		cmocka_unit_test(test_selector_eval_many_values),
	};

	return cmocka_run_group_tests_name("selector", tests, NULL, NULL);
}
