#include "svcdns/selector.h"

#include <errno.h>
#include <string.h>

#include "svcdns/arena.h"

enum selector_op {
	SELECTOR_IN,         /* key=v, key==v, key in (v, ...) */
	SELECTOR_NOT_IN,     /* key!=v, key notin (v, ...) */
	SELECTOR_EXISTS,     /* key */
	SELECTOR_NOT_EXISTS, /* !key */
};

struct selector_req {
	const char *key; /* arena */
	enum selector_op op;
	const char *const *values; /* arena; n_values entries */
	size_t n_values;
};

struct selector {
	const struct selector_req *reqs; /* arena; all must match */
	size_t n;
};

bool selector_matches(const struct k8s_labels *sel,
                      const struct k8s_labels *labels)
{
	return selector_matches_with(sel, labels, NULL, NULL);
}

/* The override key is required even when sel does not name it: a color
 * bound to a service must narrow its endpoints to that color, whatever the
 * Service's own selector says. */
bool selector_matches_with(const struct k8s_labels *sel,
                           const struct k8s_labels *labels,
                           const char *override_key, const char *override_value)
{
	size_t i;

	for (i = 0; sel != NULL && i < sel->n; i++) {
		const char *want = sel->items[i].value;
		const char *have;

		if (override_key != NULL &&
		    strcmp(sel->items[i].key, override_key) == 0) {
			continue;
		}
		have = k8s_labels_get(labels, sel->items[i].key);
		if (have == NULL || strcmp(have, want) != 0) {
			return false;
		}
	}
	if (override_key != NULL) {
		const char *have = k8s_labels_get(labels, override_key);

		if (have == NULL || override_value == NULL ||
		    strcmp(have, override_value) != 0) {
			return false;
		}
	}
	return true;
}

/* --- text form -----------------------------------------------------------
 * The grammar of k8s.io/apimachinery labels.Parse, without the numeric
 * operators (gt, lt), which no DNS filter needs:
 *
 *   selector    = [ requirement *( "," requirement ) ]
 *   requirement = [ "!" ] key
 *               / key ( "=" / "==" / "!=" ) value
 *               / key ( "in" / "notin" ) "(" value *( "," value ) ")"
 *
 * Keys are qualified names ([dns-subdomain "/"] name), values label values
 * (possibly empty). Blanks may separate tokens. */

struct selector_lex {
	const char *text;
	size_t pos;
	size_t errpos;
};

static bool selector_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool selector_is_special(char c)
{
	return c == '\0' || c == '!' || c == '=' || c == '(' || c == ')' ||
	       c == ',' || c == '<' || c == '>' || selector_is_blank(c);
}

static bool selector_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static void selector_skip_blanks(struct selector_lex *lx)
{
	while (selector_is_blank(lx->text[lx->pos])) {
		lx->pos++;
	}
}

/* Reads an identifier (key, value or keyword); *len may be 0. */
static const char *selector_word(struct selector_lex *lx, size_t *len)
{
	const char *start = lx->text + lx->pos;

	while (!selector_is_special(lx->text[lx->pos])) {
		lx->pos++;
	}
	*len = (size_t)(lx->text + lx->pos - start);
	return start;
}

/* A label name or value body: 1..63 of [A-Za-z0-9-_.], alphanumeric at
 * both ends (IsQualifiedName's name part, IsValidLabelValue). */
static bool selector_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63) {
		return false;
	}
	if (!selector_is_alnum(s[0]) || !selector_is_alnum(s[len - 1])) {
		return false;
	}
	for (i = 0; i < len; i++) {
		if (!selector_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.') {
			return false;
		}
	}
	return true;
}

/* A DNS-1123 subdomain: dot-separated labels of [a-z0-9-], each
 * alphanumeric at both ends, at most 253 octets in all. */
static bool selector_subdomain_ok(const char *s, size_t len)
{
	size_t i;
	size_t label = 0;

	if (len == 0 || len > 253) {
		return false;
	}
	for (i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-' || label > 63) {
				return false;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           (c == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool selector_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);

	if (slash == NULL) {
		return selector_name_ok(s, len);
	}
	return selector_subdomain_ok(s, (size_t)(slash - s)) &&
	       selector_name_ok(slash + 1, len - (size_t)(slash - s) - 1);
}

static bool selector_value_ok(const char *s, size_t len)
{
	return len == 0 || selector_name_ok(s, len);
}

static int selector_fail(struct selector_lex *lx, size_t pos)
{
	lx->errpos = pos;
	return -EINVAL;
}

/* Reads one value into vals[*n]. */
static int selector_value(struct selector_lex *lx, struct arena *a,
                          const char **vals, size_t *n)
{
	size_t start;
	size_t len;
	const char *v;

	selector_skip_blanks(lx);
	start = lx->pos;
	v = selector_word(lx, &len);
	if (!selector_value_ok(v, len)) {
		return selector_fail(lx, start);
	}
	vals[*n] = arena_strndup(a, v, len);
	if (vals[*n] == NULL) {
		return -ENOMEM;
	}
	(*n)++;
	selector_skip_blanks(lx);
	return 0;
}

/* Parses "(v1, v2, ...)" after in/notin. "()" and empty items stand for
 * the empty value, as in labels.Parse. */
static int selector_set(struct selector_lex *lx, struct arena *a,
                        const char **vals, size_t *n)
{
	int err;

	selector_skip_blanks(lx);
	if (lx->text[lx->pos] != '(') {
		return selector_fail(lx, lx->pos);
	}
	lx->pos++;
	for (;;) {
		err = selector_value(lx, a, vals, n);
		if (err != 0) {
			return err;
		}
		if (lx->text[lx->pos] == ')') {
			lx->pos++;
			return 0;
		}
		if (lx->text[lx->pos] != ',') {
			return selector_fail(lx, lx->pos);
		}
		lx->pos++;
	}
}

/* Parses what follows a key: nothing, an operator and a value, or a set.
 * vals has room for every value the text could hold. */
static int selector_operator(struct selector_lex *lx, struct arena *a,
                             struct selector_req *r, const char **vals)
{
	const char *c = lx->text + lx->pos;
	const char *word;
	size_t start = lx->pos;
	size_t len;

	r->values = vals;
	if (*c == '\0' || *c == ',') {
		r->op = SELECTOR_EXISTS;
		return 0;
	}
	if (c[0] == '=' || (c[0] == '!' && c[1] == '=')) {
		r->op = c[0] == '=' ? SELECTOR_IN : SELECTOR_NOT_IN;
		lx->pos += (c[0] == '!' || c[1] == '=') ? 2 : 1;
		return selector_value(lx, a, vals, &r->n_values);
	}
	word = selector_word(lx, &len);
	if (len == 2 && memcmp(word, "in", 2) == 0) {
		r->op = SELECTOR_IN;
	} else if (len == 5 && memcmp(word, "notin", 5) == 0) {
		r->op = SELECTOR_NOT_IN;
	} else {
		return selector_fail(lx, start);
	}
	return selector_set(lx, a, vals, &r->n_values);
}

static int selector_requirement(struct selector_lex *lx, struct arena *a,
                                struct selector_req *r, const char **vals)
{
	bool negated = false;
	const char *key;
	size_t start;
	size_t len;

	selector_skip_blanks(lx);
	if (lx->text[lx->pos] == '!') {
		negated = true;
		lx->pos++;
		selector_skip_blanks(lx);
	}
	start = lx->pos;
	key = selector_word(lx, &len);
	if (!selector_key_ok(key, len)) {
		return selector_fail(lx, start);
	}
	r->key = arena_strndup(a, key, len);
	if (r->key == NULL) {
		return -ENOMEM;
	}
	selector_skip_blanks(lx);
	if (negated) {
		r->op = SELECTOR_NOT_EXISTS;
		return 0;
	}
	return selector_operator(lx, a, r, vals);
}

int selector_parse(const char *text, struct arena *a, struct selector **out,
                   size_t *errpos)
{
	struct selector_lex lx = { .text = text };
	struct selector_req *reqs;
	struct selector *s;
	const char **vals;
	size_t commas = 0;
	size_t n = 0;
	size_t i;
	int err;

	*out = NULL;
	*errpos = 0;
	/* Every requirement and every value is followed by a comma or the
	 * end, so commas + 1 bounds both counts. */
	for (i = 0; text[i] != '\0'; i++) {
		commas += text[i] == ',';
	}
	s = arena_calloc(a, 1, sizeof(*s));
	reqs = arena_calloc(a, commas + 1, sizeof(*reqs));
	vals = arena_calloc(a, commas + 1, sizeof(*vals));
	if (s == NULL || reqs == NULL || vals == NULL) {
		return -ENOMEM;
	}
	selector_skip_blanks(&lx);
	/* The empty selector selects everything (labels.Everything()). */
	while (text[lx.pos] != '\0') {
		err = selector_requirement(&lx, a, &reqs[n], vals);
		if (err != 0) {
			*errpos = lx.errpos;
			return err;
		}
		vals += reqs[n].n_values;
		n++;
		if (text[lx.pos] == ',') {
			lx.pos++;
			/* A trailing comma needs a requirement after it. */
			selector_skip_blanks(&lx);
			if (text[lx.pos] == '\0') {
				*errpos = lx.pos;
				return -EINVAL;
			}
		} else if (text[lx.pos] != '\0') {
			*errpos = lx.pos;
			return -EINVAL;
		}
	}
	s->reqs = reqs;
	s->n = n;
	*out = s;
	return 0;
}

static bool selector_req_matches(const struct selector_req *r,
                                 const struct k8s_labels *labels)
{
	const char *have = k8s_labels_get(labels, r->key);
	bool in_set = false;
	size_t i;

	if (r->op == SELECTOR_EXISTS) {
		return have != NULL;
	}
	if (r->op == SELECTOR_NOT_EXISTS) {
		return have == NULL;
	}
	for (i = 0; have != NULL && i < r->n_values; i++) {
		if (strcmp(have, r->values[i]) == 0) {
			in_set = true;
		}
	}
	/* As in Kubernetes, != and notin also match when the key is
	 * absent. */
	return r->op == SELECTOR_IN ? in_set : !in_set;
}

bool selector_eval(const struct selector *s, const struct k8s_labels *labels)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!selector_req_matches(&s->reqs[i], labels)) {
			return false;
		}
	}
	return true;
}
