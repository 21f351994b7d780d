#include "svcdns/dname.h"

#include <errno.h>
#include <string.h>

/* A well-formed name's length octets are at most 63 (0x3f), below 'A'
 * (0x41), so lower-casing or comparing a whole wire name octet by octet
 * never touches a length octet. The functions below rely on that. */
static uint8_t lower_octet(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') {
		return (uint8_t)(c + ('a' - 'A'));
	}
	return c;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Reads one octet of presentation text at text[*i] into *c, decoding "\X"
 * (X not a digit: X itself) and "\DDD" (exactly three decimal digits, at
 * most 255), and advances *i. Returns 0 or -EINVAL for a bad escape. */
static int text_octet(const char *text, size_t text_len, size_t *i, uint8_t *c)
{
	uint8_t ch = (uint8_t)text[*i];
	unsigned v = 0;

	if (ch != '\\') {
		*c = ch;
		*i += 1;
		return 0;
	}
	if (text_len - *i < 2) {
		return -EINVAL;
	}
	ch = (uint8_t)text[*i + 1];
	if (!is_digit(ch)) {
		*c = ch;
		*i += 2;
		return 0;
	}
	if (text_len - *i < 4) {
		return -EINVAL;
	}
	for (size_t k = 1; k <= 3; k++) {
		uint8_t d = (uint8_t)text[*i + k];

		if (!is_digit(d)) {
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(d - '0');
	}
	if (v > 255) {
		return -EINVAL;
	}
	*c = (uint8_t)v;
	*i += 4;
	return 0;
}

/* Converts text into buf (DNAME_MAXLEN octets). The name is built in full
 * before anything is copied out, so an invalid name is always -EINVAL,
 * whatever the caller's cap. */
static int text_to_wire(const char *text, size_t text_len, uint8_t *buf,
                        size_t *len)
{
	size_t pos = 0;
	size_t i = 0;

	if (text_len == 0 || (text_len == 1 && text[0] == '.')) {
		buf[0] = 0;
		*len = 1;
		return 0;
	}
	while (i < text_len) {
		size_t lab = pos;
		size_t n = 0;

		/* Keep the last octet for the root label: at most 255. */
		if (pos >= DNAME_MAXLEN - 1) {
			return -EINVAL;
		}
		pos++;
		while (i < text_len && text[i] != '.') {
			uint8_t c = 0;
			int err = text_octet(text, text_len, &i, &c);

			if (err != 0) {
				return err;
			}
			if (n == DNAME_MAXLABEL || pos >= DNAME_MAXLEN - 1) {
				return -EINVAL;
			}
			buf[pos++] = c;
			n++;
		}
		if (n == 0) {
			return -EINVAL; /* "a..b", ".a": empty label */
		}
		buf[lab] = (uint8_t)n;
		if (i < text_len) {
			i++; /* the dot; a trailing one ends the loop */
		}
	}
	buf[pos++] = 0;
	*len = pos;
	return 0;
}

int dname_from_text_n(const char *text, size_t text_len, uint8_t *out,
                      size_t cap, size_t *len)
{
	uint8_t buf[DNAME_MAXLEN];
	size_t n = 0;
	int err;

	if (text == NULL && text_len != 0) {
		return -EINVAL;
	}
	err = text_to_wire(text, text_len, buf, &n);
	if (err != 0) {
		return err;
	}
	if (n > cap) {
		return -EMSGSIZE;
	}
	memcpy(out, buf, n);
	*len = n;
	return 0;
}

int dname_from_text(const char *text, uint8_t *out, size_t cap, size_t *len)
{
	if (text == NULL) {
		return -EINVAL;
	}
	return dname_from_text_n(text, strlen(text), out, cap, len);
}

/* Bounded text writer for dname_to_text; the first overflow latches. */
struct text_out {
	char *buf;
	size_t cap;
	size_t pos;
	bool full;
};

static void text_put(struct text_out *t, char c)
{
	/* Always keep one octet for the terminating NUL. */
	if (t->full || t->cap - t->pos < 2) {
		t->full = true;
		return;
	}
	t->buf[t->pos++] = c;
}

static void text_put_octet(struct text_out *t, uint8_t c)
{
	if (c == '.' || c == '\\' || c == '"') {
		text_put(t, '\\');
		text_put(t, (char)c);
	} else if (c < 0x21 || c > 0x7e) {
		text_put(t, '\\');
		text_put(t, (char)('0' + c / 100));
		text_put(t, (char)('0' + c / 10 % 10));
		text_put(t, (char)('0' + c % 10));
	} else {
		text_put(t, (char)c);
	}
}

int dname_to_text(const uint8_t *name, size_t len, char *out, size_t cap)
{
	struct text_out t = { .buf = out, .cap = cap, .pos = 0, .full = false };
	size_t nlen = 0;
	size_t pos = 0;

	if (name == NULL || dname_check(name, len, &nlen) != 0 || nlen != len) {
		return -EINVAL;
	}
	if (out == NULL || cap == 0) {
		return -EMSGSIZE;
	}
	if (name[0] == 0) {
		text_put(&t, '.');
	}
	while (name[pos] != 0) {
		size_t n = name[pos++];

		for (size_t k = 0; k < n; k++) {
			text_put_octet(&t, name[pos++]);
		}
		text_put(&t, '.');
	}
	if (t.full) {
		out[0] = '\0';
		return -EMSGSIZE;
	}
	out[t.pos] = '\0';
	return 0;
}

int dname_check(const uint8_t *name, size_t max, size_t *len)
{
	size_t pos = 0;

	if (name == NULL) {
		return -EBADMSG;
	}
	for (;;) {
		uint8_t n;

		if (pos >= max) {
			return -EBADMSG; /* no root label within max */
		}
		n = name[pos];
		if (n == 0) {
			break;
		}
		/* Also rejects pointers (0xc0) and the 0x40/0x80 label
		 * types: this is the uncompressed form. */
		if (n > DNAME_MAXLABEL) {
			return -EBADMSG;
		}
		pos += 1 + (size_t)n;
		/* The root octet still has to fit: at most 255 in all. */
		if (pos >= DNAME_MAXLEN) {
			return -EBADMSG;
		}
	}
	*len = pos + 1;
	return 0;
}

size_t dname_len(const uint8_t *name)
{
	size_t pos = 0;

	/* The bound only keeps a broken caller from running away. */
	while (pos < DNAME_MAXLEN && name[pos] != 0) {
		pos += 1 + (size_t)name[pos];
	}
	return pos + 1;
}

void dname_lower(uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		name[i] = lower_octet(name[i]);
	}
}

void dname_copy_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		dst[i] = lower_octet(src[i]);
	}
}

/* Case-insensitive comparison of n octets of two wire names. */
static bool equal_ci(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lower_octet(a[i]) != lower_octet(b[i])) {
			return false;
		}
	}
	return true;
}

bool dname_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && equal_ci(a, b, alen);
}

unsigned dname_label_count(const uint8_t *name, size_t len)
{
	unsigned count = 0;
	size_t pos = 0;

	while (pos < len && name[pos] != 0) {
		pos += 1 + (size_t)name[pos];
		count++;
	}
	return count;
}

unsigned dname_label_offsets(const uint8_t *name, size_t len, uint8_t *off,
                             unsigned max)
{
	unsigned count = 0;
	size_t pos = 0;

	/* pos < len <= 255 for a well-formed name, so it fits an octet. */
	while (pos < len && pos < DNAME_MAXLEN && name[pos] != 0) {
		if (count < max) {
			off[count] = (uint8_t)pos;
		}
		pos += 1 + (size_t)name[pos];
		count++;
	}
	return count;
}

bool dname_in_zone(const uint8_t *name, size_t len, const uint8_t *zone,
                   size_t zlen, size_t *suffix_off)
{
	unsigned nl = dname_label_count(name, len);
	unsigned zl = dname_label_count(zone, zlen);
	size_t pos = 0;

	if (zl > nl) {
		return false;
	}
	/* Skip whole labels, so that "xcluster.local" can never match the
	 * zone "cluster.local" part-way through a label. */
	for (unsigned i = 0; i < nl - zl; i++) {
		pos += 1 + (size_t)name[pos];
	}
	if (pos > len || len - pos != zlen ||
	    !equal_ci(name + pos, zone, zlen)) {
		return false;
	}
	if (suffix_off != NULL) {
		*suffix_off = pos;
	}
	return true;
}

uint32_t dname_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a 32 offset basis */

	for (size_t i = 0; i < len; i++) {
		h ^= lower_octet(name[i]);
		h *= 16777619u;
	}
	return h;
}
