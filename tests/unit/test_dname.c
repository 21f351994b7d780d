#include "unit.h"

#include "svcdns/dname.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A wire name written as a C string literal; the implicit NUL is not part
 * of it, so every literal spells its root label as \000. Octal escapes are
 * used because they stop after three digits (hex escapes do not). */
#define W(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* Builds text with the given label lengths ('a'... per label), joined by
 * dots, into buf. */
static void make_text(char *buf, size_t cap, const unsigned *sizes,
                      size_t count, bool trailing_dot)
{
	size_t pos = 0;

	for (size_t i = 0; i < count; i++) {
		for (unsigned k = 0; k < sizes[i]; k++) {
			assert_true(pos + 2 < cap);
			buf[pos++] = (char)('a' + (i % 26));
		}
		if (i + 1 < count || trailing_dot) {
			buf[pos++] = '.';
		}
	}
	buf[pos] = '\0';
}

/* Builds a wire name with the given label lengths. */
static size_t make_wire(uint8_t *buf, size_t cap, const unsigned *sizes,
                        size_t count)
{
	size_t pos = 0;

	for (size_t i = 0; i < count; i++) {
		assert_true(pos + 1 + sizes[i] < cap);
		buf[pos++] = (uint8_t)sizes[i];
		memset(buf + pos, 'a' + (int)(i % 26), sizes[i]);
		pos += sizes[i];
	}
	assert_true(pos < cap);
	buf[pos++] = 0;
	return pos;
}

/* --- dname_from_text ---------------------------------------------------- */

struct text_case {
	const char *text;
	int err;
	const uint8_t *wire;
	size_t wire_len;
};

static const struct text_case text_cases[] = {
	{ "web.shop.svc.cluster.local", 0,
	  W("\003web\004shop\003svc\007cluster\005local\000") },
	{ "web.shop.svc.cluster.local.", 0,
	  W("\003web\004shop\003svc\007cluster\005local\000") },
	{ ".", 0, W("\000") },
	{ "", 0, W("\000") },
	{ "WeB", 0, W("\003WeB\000") },
	{ "a\\.b.c", 0, W("\003a.b\001c\000") },
	{ "\\065bc", 0, W("\003Abc\000") },
	{ "a\\\\b", 0, W("\003a\\b\000") },
	{ "\\000x", 0, W("\002\000x\000") },
	{ "a\\ b", 0, W("\003a b\000") },
	{ "\\255.", 0, W("\001\377\000") },
	{ "\\046", 0, W("\001.\000") },
	{ "\\256", -EINVAL, NULL, 0 },
	{ "\\25", -EINVAL, NULL, 0 },
	{ "\\25x", -EINVAL, NULL, 0 },
	{ "\\2a5", -EINVAL, NULL, 0 },
	{ "abc\\", -EINVAL, NULL, 0 },
	{ "a..b", -EINVAL, NULL, 0 },
	{ ".a", -EINVAL, NULL, 0 },
	{ "..", -EINVAL, NULL, 0 },
	{ "a..", -EINVAL, NULL, 0 },
};

static void test_dname_from_text_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(text_cases); i++) {
		const struct text_case *c = &text_cases[i];
		uint8_t out[DNAME_MAXLEN];
		size_t len = 0;
		int err = dname_from_text(c->text, out, sizeof(out), &len);

		print_message("case %zu: \"%s\"\n", i, c->text);
		assert_int_equal(err, c->err);
		if (c->err == 0) {
			assert_int_equal(len, c->wire_len);
			assert_memory_equal(out, c->wire, len);
		}
	}
}

/* Knot-style edge table: label 63 passes, 64 fails; 127 labels pass, 128
 * fail; 255 octets pass, 256 fail. */
static void run_size_case(const unsigned *sizes, size_t count, int want,
                          size_t want_len)
{
	char text[1024];
	uint8_t out[DNAME_MAXLEN];
	uint8_t wire[1024];
	size_t len = 0;
	size_t wlen;

	for (int dot = 0; dot <= 1; dot++) {
		make_text(text, sizeof(text), sizes, count, dot != 0);
		assert_int_equal(dname_from_text(text, out, sizeof(out), &len),
		                 want);
		if (want == 0) {
			assert_int_equal(len, want_len);
		}
	}
	/* dname_check agrees on the same name in wire form. */
	wlen = make_wire(wire, sizeof(wire), sizes, count);
	assert_int_equal(dname_check(wire, wlen, &len),
	                 want == 0 ? 0 : -EBADMSG);
	if (want == 0) {
		assert_int_equal(len, want_len);
		assert_int_equal(dname_len(wire), want_len);
		assert_int_equal(dname_label_count(wire, wlen), count);
	}
}

static void test_dname_from_text_limits(void **state)
{
	unsigned sizes[130];

	(void)state;
	sizes[0] = 63;
	run_size_case(sizes, 1, 0, 65);
	sizes[0] = 64;
	run_size_case(sizes, 1, -EINVAL, 0);
	sizes[0] = 3;
	sizes[1] = 64;
	sizes[2] = 5;
	run_size_case(sizes, 3, -EINVAL, 0);

	for (size_t i = 0; i < 130; i++) {
		sizes[i] = 1;
	}
	run_size_case(sizes, 127, 0, 255);
	run_size_case(sizes, 128, -EINVAL, 0);

	sizes[0] = 63;
	sizes[1] = 63;
	sizes[2] = 63;
	sizes[3] = 61;
	run_size_case(sizes, 4, 0, 255);
	sizes[3] = 62;
	run_size_case(sizes, 4, -EINVAL, 0);
	/* N03: 5 labels of 63. */
	sizes[3] = 63;
	sizes[4] = 63;
	run_size_case(sizes, 5, -EINVAL, 0);
}

static void test_dname_from_text_escaped_label_63(void **state)
{
	char text[512];
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;
	size_t pos = 0;

	(void)state;
	/* 63 octets spelled as \DDD count as 63, not 252. */
	for (int i = 0; i < 63; i++) {
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
		                        "\\%03d", 200 + (i % 50));
	}
	assert_int_equal(dname_from_text(text, out, sizeof(out), &len), 0);
	assert_int_equal(len, 65);
	assert_int_equal(out[0], 63);
	assert_int_equal(out[1], 200);
	snprintf(text + pos, sizeof(text) - pos, "\\.");
	assert_int_equal(dname_from_text(text, out, sizeof(out), &len),
	                 -EINVAL);
}

static void test_dname_from_text_cap(void **state)
{
	uint8_t out[8];
	size_t len = 0;

	(void)state;
	assert_int_equal(dname_from_text("web", out, 4, &len), -EMSGSIZE);
	assert_int_equal(dname_from_text("web", out, 5, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(dname_from_text(".", out, 0, &len), -EMSGSIZE);
	/* A bad name is -EINVAL whatever the cap. */
	assert_int_equal(dname_from_text("a..b", out, 1, &len), -EINVAL);
	assert_int_equal(dname_from_text(NULL, out, sizeof(out), &len),
	                 -EINVAL);
}

static void test_dname_from_text_n_not_terminated(void **state)
{
	static const char text[] = { 'w', 'e', 'b', '.', 's',
		                     'v', 'c', 'X', 'Y', 'Z' };
	static const char nul[] = { 'a', '\0', 'b' };
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;

	(void)state;
	assert_int_equal(dname_from_text_n(text, 7, out, sizeof(out), &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(out, "\003web\003svc\000", 9);
	/* A raw NUL is just an octet here (RFC 2181 11). */
	assert_int_equal(dname_from_text_n(nul, 3, out, sizeof(out), &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "\003a\000b\000", 5);
	assert_int_equal(dname_from_text_n(NULL, 0, out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(dname_from_text_n(NULL, 3, out, sizeof(out), &len),
	                 -EINVAL);
}

/* --- dname_to_text ------------------------------------------------------ */

struct wire_case {
	const uint8_t *wire;
	size_t wire_len;
	int err;
	const char *text;
};

static const struct wire_case wire_cases[] = {
	{ W("\000"), 0, "." },
	{ W("\003web\003svc\000"), 0, "web.svc." },
	{ W("\003WeB\000"), 0, "WeB." },
	{ W("\003a.b\000"), 0, "a\\.b." },
	{ W("\003a\\b\000"), 0, "a\\\\b." },
	{ W("\001\"\000"), 0, "\\\"." },
	{ W("\002\000 \000"), 0, "\\000\\032." },
	{ W("\002\177\377\000"), 0, "\\127\\255." },
	{ W("\002!~\000"), 0, "!~." },
	{ W("\003ab"), -EINVAL, NULL },          /* no root */
	{ W("\003abc\000\000"), -EINVAL, NULL }, /* len past the name */
	{ W("\300\014"), -EINVAL, NULL },        /* a pointer */
	{ W("\100a\000"), -EINVAL, NULL },       /* 0x40 label type */
	{ W(""), -EINVAL, NULL },
};

static void test_dname_to_text_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(wire_cases); i++) {
		const struct wire_case *c = &wire_cases[i];
		char text[DNAME_TEXT_MAX];

		print_message("case %zu\n", i);
		assert_int_equal(
			dname_to_text(c->wire, c->wire_len, text, sizeof(text)),
			c->err);
		if (c->err == 0) {
			assert_string_equal(text, c->text);
		}
	}
}

/* Every name round-trips: wire -> text -> wire is the identity, escapes
 * (\. and \DDD) included. */
static void test_dname_text_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(wire_cases); i++) {
		const struct wire_case *c = &wire_cases[i];
		char text[DNAME_TEXT_MAX];
		uint8_t back[DNAME_MAXLEN];
		size_t len = 0;

		if (c->err != 0) {
			continue;
		}
		assert_int_equal(
			dname_to_text(c->wire, c->wire_len, text, sizeof(text)),
			0);
		assert_int_equal(
			dname_from_text(text, back, sizeof(back), &len), 0);
		assert_int_equal(len, c->wire_len);
		assert_memory_equal(back, c->wire, len);
	}
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(text_cases); i++) {
		const struct text_case *c = &text_cases[i];
		char text[DNAME_TEXT_MAX];
		uint8_t back[DNAME_MAXLEN];
		size_t len = 0;

		if (c->err != 0) {
			continue;
		}
		assert_int_equal(
			dname_to_text(c->wire, c->wire_len, text, sizeof(text)),
			0);
		assert_int_equal(
			dname_from_text(text, back, sizeof(back), &len), 0);
		assert_int_equal(len, c->wire_len);
		assert_memory_equal(back, c->wire, len);
	}
}

/* The worst case (255 octets, every one escaped as \DDD) fits in
 * DNAME_TEXT_MAX, and round-trips. */
static void test_dname_to_text_worst_case(void **state)
{
	static const unsigned sizes[] = { 63, 63, 63, 61 };
	uint8_t wire[DNAME_MAXLEN];
	uint8_t back[DNAME_MAXLEN];
	char text[DNAME_TEXT_MAX];
	size_t len = 0;
	size_t wlen = make_wire(wire, sizeof(wire), sizes, 4);
	size_t pos = 0;

	(void)state;
	assert_int_equal(wlen, 255);
	while (wire[pos] != 0) {
		memset(wire + pos + 1, 0xff, wire[pos]);
		pos += 1 + (size_t)wire[pos];
	}
	assert_int_equal(dname_to_text(wire, wlen, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), 250 * 4 + 4);
	assert_int_equal(dname_from_text(text, back, sizeof(back), &len), 0);
	assert_int_equal(len, wlen);
	assert_memory_equal(back, wire, wlen);
}

static void test_dname_to_text_cap(void **state)
{
	char text[16];

	(void)state;
	/* "web.svc." needs 9 with the NUL. */
	assert_int_equal(dname_to_text(W("\003web\003svc\000"), text, 8),
	                 -EMSGSIZE);
	assert_string_equal(text, "");
	assert_int_equal(dname_to_text(W("\003web\003svc\000"), text, 9), 0);
	assert_string_equal(text, "web.svc.");
	assert_int_equal(dname_to_text(W("\000"), text, 1), -EMSGSIZE);
	assert_int_equal(dname_to_text(W("\000"), text, 2), 0);
	assert_int_equal(dname_to_text(W("\000"), text, 0), -EMSGSIZE);
}

/* --- dname_check, dname_len -------------------------------------------- */

struct check_case {
	const uint8_t *wire;
	size_t max;
	int err;
	size_t len;
};

static const struct check_case check_cases[] = {
	{ (const uint8_t *)"\000", 1, 0, 1 },
	{ (const uint8_t *)"\003web\000", 5, 0, 5 },
	{ (const uint8_t *)"\003web\000", 4, -EBADMSG, 0 },
	{ (const uint8_t *)"\003web\000garbage", 12, 0, 5 },
	{ (const uint8_t *)"\100a\000", 3, -EBADMSG, 0 },
	{ (const uint8_t *)"\200a\000", 3, -EBADMSG, 0 },
	{ (const uint8_t *)"\300\014", 2, -EBADMSG, 0 },
	{ (const uint8_t *)"\003ab", 3, -EBADMSG, 0 },
	{ (const uint8_t *)"\000", 0, -EBADMSG, 0 },
};

static void test_dname_check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		size_t len = 0;

		print_message("case %zu\n", i);
		assert_int_equal(dname_check(c->wire, c->max, &len), c->err);
		if (c->err == 0) {
			assert_int_equal(len, c->len);
			assert_int_equal(dname_len(c->wire), c->len);
		}
	}
}

static void test_dname_check_null(void **state)
{
	size_t len = 0;

	(void)state;
	assert_int_equal(dname_check(NULL, 5, &len), -EBADMSG);
}

/* --- case, equality, labels, zones, hash -------------------------------- */

static void test_dname_lower(void **state)
{
	uint8_t name[] = "\003WeB\001Z\003a-Q\000";
	uint8_t copy[sizeof(name)];

	(void)state;
	dname_copy_lower(copy, name, sizeof(name) - 1);
	assert_memory_equal(copy, "\003web\001z\003a-q\000", sizeof(name) - 1);
	assert_memory_equal(name, "\003WeB\001Z\003a-Q\000", sizeof(name) - 1);
	dname_lower(name, sizeof(name) - 1);
	assert_memory_equal(name, "\003web\001z\003a-q\000", sizeof(name) - 1);
}

struct equal_case {
	const char *a;
	size_t alen;
	const char *b;
	size_t blen;
	bool equal;
};

#define E2(a, b) a, sizeof(a) - 1, b, sizeof(b) - 1

static const struct equal_case equal_cases[] = {
	{ E2("\003web\003svc\000", "\003WEB\003Svc\000"), true },
	{ E2("\000", "\000"), true },
	{ E2("\003abc\000", "\003abd\000"), false },
	{ E2("\003abc\000", "\004abcd\000"), false },
	{ E2("\001a\000", "\000"), false },
	{ E2("\003a.b\000", "\001a\001b\000"), false },
	{ E2("\001[\000", "\001{\000"), false }, /* only A-Z fold */
	{ E2("\001@\000", "\001`\000"), false },
};

static void test_dname_equal_and_hash(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(equal_cases); i++) {
		const struct equal_case *c = &equal_cases[i];
		const uint8_t *a = (const uint8_t *)c->a;
		const uint8_t *b = (const uint8_t *)c->b;

		print_message("case %zu\n", i);
		assert_int_equal(dname_equal(a, c->alen, b, c->blen), c->equal);
		assert_int_equal(dname_equal(b, c->blen, a, c->alen), c->equal);
		if (c->equal) {
			assert_int_equal(dname_hash(a, c->alen),
			                 dname_hash(b, c->blen));
		} else {
			/* Not guaranteed by FNV in general, but true for
			 * these inputs; guards against a constant hash. */
			assert_int_not_equal(dname_hash(a, c->alen),
			                     dname_hash(b, c->blen));
		}
	}
}

static void test_dname_labels(void **state)
{
	uint8_t off[4] = { 0xee, 0xee, 0xee, 0xee };

	(void)state;
	assert_int_equal(dname_label_count(W("\000")), 0);
	assert_int_equal(dname_label_count(W("\003web\004shop\003svc\000")), 3);
	assert_int_equal(dname_label_count(W("\003a.b\000")), 1);
	assert_int_equal(
		dname_label_offsets(W("\003web\004shop\003svc\000"), off, 4),
		3);
	assert_int_equal(off[0], 0);
	assert_int_equal(off[1], 4);
	assert_int_equal(off[2], 9);
	assert_int_equal(off[3], 0xee);
	memset(off, 0xee, sizeof(off));
	assert_int_equal(
		dname_label_offsets(W("\003web\004shop\003svc\000"), off, 2),
		3);
	assert_int_equal(off[1], 4);
	assert_int_equal(off[2], 0xee);
	assert_int_equal(dname_label_offsets(W("\000"), off, 4), 0);
}

struct zone_case {
	const char *name;
	const char *zone;
	bool in;
	size_t off;
};

static const struct zone_case zone_cases[] = {
	{ "web.cluster.local", "cluster.local", true, 4 },
	{ "cluster.local", "cluster.local", true, 0 },
	{ "a.b.web.cluster.local", "cluster.local", true, 8 },
	{ "WEB.Cluster.LOCAL", "cluster.local", true, 4 },
	{ "web.cluster.local", "CLUSTER.local.", true, 4 },
	{ "xcluster.local", "cluster.local", false, 0 },
	{ "web.xcluster.local", "cluster.local", false, 0 },
	{ "cluster.local", "web.cluster.local", false, 0 },
	{ "local", "cluster.local", false, 0 },
	{ "web.cluster.local.x", "cluster.local", false, 0 },
	{ "web.cluster\\.local", "cluster.local", false, 0 },
	{ "web.cluster.local", ".", true, 18 },
	{ ".", ".", true, 0 },
	{ ".", "local", false, 0 },
};

static void test_dname_in_zone_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SVCDNS_ARRAY_SIZE(zone_cases); i++) {
		const struct zone_case *c = &zone_cases[i];
		uint8_t name[DNAME_MAXLEN];
		uint8_t zone[DNAME_MAXLEN];
		size_t nlen = 0;
		size_t zlen = 0;
		size_t off = 999;

		print_message("case %zu: %s in %s\n", i, c->name, c->zone);
		assert_int_equal(
			dname_from_text(c->name, name, sizeof(name), &nlen), 0);
		assert_int_equal(
			dname_from_text(c->zone, zone, sizeof(zone), &zlen), 0);
		assert_int_equal(dname_in_zone(name, nlen, zone, zlen, &off),
		                 c->in);
		if (c->in) {
			assert_int_equal(off, c->off);
		} else {
			assert_int_equal(off, 999);
		}
		assert_int_equal(dname_in_zone(name, nlen, zone, zlen, NULL),
		                 c->in);
	}
}

static void test_dname_hash_case_insensitive(void **state)
{
	uint8_t a[DNAME_MAXLEN];
	uint8_t b[DNAME_MAXLEN];
	size_t alen = 0;
	size_t blen = 0;

	(void)state;
	assert_int_equal(dname_from_text("WeB.ShOp.SvC.ClUsTeR.LoCaL", a,
	                                 sizeof(a), &alen),
	                 0);
	assert_int_equal(dname_from_text("web.shop.svc.cluster.local", b,
	                                 sizeof(b), &blen),
	                 0);
	assert_int_equal(dname_hash(a, alen), dname_hash(b, blen));
	assert_true(dname_equal(a, alen, b, blen));
	/* FNV-1a 32 of the empty input is its offset basis. */
	assert_int_equal(dname_hash(a, 0), 2166136261u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dname_from_text_table),
		cmocka_unit_test(test_dname_from_text_limits),
		cmocka_unit_test(test_dname_from_text_escaped_label_63),
		cmocka_unit_test(test_dname_from_text_cap),
		cmocka_unit_test(test_dname_from_text_n_not_terminated),
		cmocka_unit_test(test_dname_to_text_table),
		cmocka_unit_test(test_dname_text_round_trip),
		cmocka_unit_test(test_dname_to_text_worst_case),
		cmocka_unit_test(test_dname_to_text_cap),
		cmocka_unit_test(test_dname_check_table),
		cmocka_unit_test(test_dname_check_null),
		cmocka_unit_test(test_dname_lower),
		cmocka_unit_test(test_dname_equal_and_hash),
		cmocka_unit_test(test_dname_labels),
		cmocka_unit_test(test_dname_in_zone_table),
		cmocka_unit_test(test_dname_hash_case_insensitive),
	};

	return cmocka_run_group_tests_name("dname", tests, NULL, NULL);
}
