#include "svcdns/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_buf_init(struct metrics_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void metrics_buf_fini(struct metrics_buf *b)
{
	free(b->p);
	metrics_buf_init(b);
}

static void metrics_vprintf(struct metrics_buf *b, const char *fmt, va_list ap)
{
	for (;;) {
		va_list aq;
		size_t room = b->cap - b->len;
		int n;

		if (b->oom) {
			return;
		}
		va_copy(aq, ap);
		n = b->p ? vsnprintf(b->p + b->len, room, fmt, aq) : -1;
		va_end(aq);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *p;

			while (n >= 0 && cap - b->len <= (size_t)n) {
				cap *= 2;
			}
			p = realloc(b->p, cap);
			if (p == NULL) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	metrics_vprintf(b, fmt, ap);
	va_end(ap);
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type,
                    const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	               type);
}

void metrics_u64(struct metrics_buf *b, const char *name, const char *labels,
                 uint64_t value)
{
	if (labels != NULL && labels[0] != '\0') {
		metrics_printf(b, "%s{%s} %llu\n", name, labels,
		               (unsigned long long)value);
	} else {
		metrics_printf(b, "%s %llu\n", name, (unsigned long long)value);
	}
}

void metrics_f64(struct metrics_buf *b, const char *name, const char *labels,
                 double value)
{
	if (labels != NULL && labels[0] != '\0') {
		metrics_printf(b, "%s{%s} %.9g\n", name, labels, value);
	} else {
		metrics_printf(b, "%s %.9g\n", name, value);
	}
}

char *metrics_label(char *out, size_t cap, bool append, const char *key,
                    const char *value)
{
	size_t n = append ? strlen(out) : 0;
	const char *v;
	int w;

	if (cap == 0) {
		return out;
	}
	w = snprintf(out + n, cap - n, "%s%s=\"", append && n ? "," : "", key);
	if (w < 0 || (size_t)w >= cap - n) {
		out[n] = '\0';
		return out;
	}
	n += (size_t)w;
	for (v = value; *v != '\0' && n + 3 < cap; v++) {
		/* The exposition format escapes exactly these three. */
		if (*v == '\\' || *v == '"') {
			out[n++] = '\\';
			out[n++] = *v;
		} else if (*v == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *v;
		}
	}
	if (n + 2 <= cap) {
		out[n++] = '"';
	}
	out[n < cap ? n : cap - 1] = '\0';
	return out;
}
