#include "svcdns/kube_lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void kube_lines_init(struct kube_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

void kube_lines_fini(struct kube_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

void kube_lines_reset(struct kube_lines *l)
{
	l->len = 0;
	/* A buffer grown for one huge line is not kept for the next
	 * response: most lines are a few KiB. */
	if (l->cap > 65536) {
		free(l->buf);
		l->buf = NULL;
		l->cap = 0;
	}
}

size_t kube_lines_pending(const struct kube_lines *l)
{
	return l->len;
}

static int kl_emit(const char *line, size_t len, kube_lines_fn fn, void *ud)
{
	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	return len == 0 ? 0 : fn(ud, line, len);
}

static int kl_append(struct kube_lines *l, const char *data, size_t n)
{
	if (n > l->max - l->len) {
		kube_lines_reset(l);
		return -EMSGSIZE;
	}
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		char *buf;

		while (cap < l->len + n) {
			cap *= 2;
		}
		if (cap > l->max) {
			cap = l->max;
		}
		buf = realloc(l->buf, cap);
		if (buf == NULL) {
			return -ENOMEM;
		}
		l->buf = buf;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	return 0;
}

int kube_lines_feed(struct kube_lines *l, const char *data, size_t n,
                    kube_lines_fn fn, void *ud)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - data) : n;
		int err;

		if (nl == NULL) {
			return kl_append(l, data, n);
		}
		if (l->len == 0) {
			/* The common case: a whole line in this chunk, read
			 * in place. */
			if (take > l->max) {
				return -EMSGSIZE;
			}
			err = kl_emit(data, take, fn, ud);
		} else {
			err = kl_append(l, data, take);
			if (err == 0) {
				err = kl_emit(l->buf, l->len, fn, ud);
				l->len = 0;
			}
		}
		if (err != 0) {
			return err;
		}
		data += take + 1;
		n -= take + 1;
	}
	return 0;
}
