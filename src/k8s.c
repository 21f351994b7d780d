#include "svcdns/k8s.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "svcdns/arena.h"

static _Atomic uint64_t k8s_file_ids;

uint64_t k8s_file_next_id(void)
{
	return atomic_fetch_add_explicit(&k8s_file_ids, 1,
	                                 memory_order_relaxed) +
	       1;
}

void k8s_file_destroy(struct k8s_file *f)
{
	if (f == NULL) {
		return;
	}
	/* The file struct itself lives in its arena (manifest.c puts it
	 * there), so this one call frees everything. */
	arena_destroy(f->arena);
}

int k8s_ip_parse(const char *text, struct k8s_ip *out)
{
	struct k8s_ip ip;

	if (text == NULL || out == NULL) {
		return -EINVAL;
	}
	memset(&ip, 0, sizeof(ip));
	/* inet_pton must consume the whole string, so "10.0.0.1 ", "1.2.3"
	 * and "fe80::1%eth0" all fail; glibc's AF_INET form also rejects
	 * leading zeros ("010.0.0.1"), which some parsers read as octal. */
	if (strchr(text, ':') != NULL) {
		if (inet_pton(AF_INET6, text, ip.addr) != 1) {
			return -EINVAL;
		}
		ip.family = 6;
	} else {
		if (inet_pton(AF_INET, text, ip.addr) != 1) {
			return -EINVAL;
		}
		ip.family = 4;
	}
	*out = ip;
	return 0;
}

static size_t k8s_ip_len(const struct k8s_ip *ip)
{
	return ip->family == 4 ? 4 : 16;
}

int k8s_ip_cmp(const struct k8s_ip *a, const struct k8s_ip *b)
{
	if (a->family != b->family) {
		return a->family < b->family ? -1 : 1;
	}
	return memcmp(a->addr, b->addr, k8s_ip_len(a));
}

void k8s_ip_to_text(const struct k8s_ip *ip, char *out, size_t cap)
{
	int af;

	if (cap == 0) {
		return;
	}
	out[0] = '\0';
	if (ip->family != 4 && ip->family != 6) {
		return;
	}
	af = ip->family == 4 ? AF_INET : AF_INET6;
	/* glibc's inet_ntop writes the RFC 5952 form for v6 (lower case,
	 * longest zero run compressed, v4-mapped as ::ffff:a.b.c.d). */
	if (cap > (size_t)INET6_ADDRSTRLEN) {
		cap = INET6_ADDRSTRLEN;
	}
	if (inet_ntop(af, ip->addr, out, (socklen_t)cap) == NULL) {
		out[0] = '\0';
	}
}

static bool k8s_is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool k8s_is_dns_label(const char *text)
{
	size_t len;
	size_t i;

	if (text == NULL) {
		return false;
	}
	len = strlen(text);
	/* RFC 1123 section 2.1 as Kubernetes applies it (IsDNS1123Label). */
	if (len == 0 || len > 63) {
		return false;
	}
	if (!k8s_is_alnum_lower(text[0]) ||
	    !k8s_is_alnum_lower(text[len - 1])) {
		return false;
	}
	for (i = 1; i + 1 < len; i++) {
		if (!k8s_is_alnum_lower(text[i]) && text[i] != '-') {
			return false;
		}
	}
	return true;
}

const char *k8s_labels_get(const struct k8s_labels *labels, const char *key)
{
	size_t i;

	if (labels == NULL || key == NULL) {
		return NULL;
	}
	for (i = 0; i < labels->n; i++) {
		if (strcmp(labels->items[i].key, key) == 0) {
			return labels->items[i].value;
		}
	}
	return NULL;
}
