#include "svcdns/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define KUBECONFIG_MAX_SIZE  (1024 * 1024)
#define KUBECONFIG_MAX_TOKEN (64 * 1024)

void kubeconfig_fini(struct kubeconfig *c)
{
	free(c->context);
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free(c->key_data);
	memset(c, 0, sizeof(*c));
}

static int kc_b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		return ch - 'A';
	}
	if (ch >= 'a' && ch <= 'z') {
		return ch - 'a' + 26;
	}
	if (ch >= '0' && ch <= '9') {
		return ch - '0' + 52;
	}
	if (ch == '+') {
		return 62;
	}
	if (ch == '/') {
		return 63;
	}
	return -1;
}

int kubeconfig_base64_decode(const char *in, unsigned char **out, size_t *len)
{
	size_t n = strlen(in);
	unsigned char *buf = malloc(n / 4 * 3 + 4);
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	bool pad = false;
	size_t i;

	*out = NULL;
	*len = 0;
	if (buf == NULL) {
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		int v;

		if (in[i] == ' ' || in[i] == '\n' || in[i] == '\r' ||
		    in[i] == '\t') {
			continue;
		}
		if (in[i] == '=') {
			pad = true;
			continue;
		}
		v = kc_b64_value((unsigned char)in[i]);
		if (v < 0 || pad) { /* a bad character, or data after '=' */
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits >= 6) { /* a lone sixth of a group */
		free(buf);
		return -EINVAL;
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

static int kc_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	size_t got = 0;
	int err;

	*out = NULL;
	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int kubeconfig_read_token(const char *path, char **out)
{
	size_t len;
	char *buf;
	size_t start = 0;
	int err = kc_read_file(path, KUBECONFIG_MAX_TOKEN, &buf, &len);

	*out = NULL;
	if (err != 0) {
		return err;
	}
	while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL) {
		buf[--len] = '\0';
	}
	while (start < len && strchr(" \t\r\n", buf[start]) != NULL) {
		start++;
	}
	if (start == len || strlen(buf) != len) {
		free(buf);
		return -EINVAL;
	}
	memmove(buf, buf + start, len - start + 1);
	*out = buf;
	return 0;
}

/* --- the YAML document -------------------------------------------------- */

struct kc_load {
	yaml_document_t doc;
	const char *path;
	char *dir; /* owns: the file's directory, for relative names */
	struct diag *d;
	struct kubeconfig *c;
	int err;
};

static void kc_error(struct kc_load *l, const yaml_node_t *at, int err,
                     const char *fmt, ...) SVCDNS_PRINTF(4, 5);

static void kc_error(struct kc_load *l, const yaml_node_t *at, int err,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (l->err != 0) {
		return;
	}
	l->err = err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(l->d, DIAG_ERROR, l->path,
	         at ? (unsigned)at->start_mark.line + 1 : 0,
	         at ? (unsigned)at->start_mark.column + 1 : 0, "%s", msg);
}

/* The value of key in mapping node, or NULL. */
static yaml_node_t *kc_get(struct kc_load *l, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE) {
		return NULL;
	}
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)k->data.scalar.value, key) == 0) {
			return yaml_document_get_node(&l->doc, p->value);
		}
	}
	return NULL;
}

/* A scalar's text, or NULL (absent, empty or not a scalar). */
static const char *kc_str(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.length == 0 ||
	    strlen((const char *)n->data.scalar.value) !=
	            n->data.scalar.length) {
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* The entry of the named list (clusters, users, contexts) called name:
 * its inner mapping (entry.cluster and so on). */
static yaml_node_t *kc_entry(struct kc_load *l, const char *list,
                             const char *inner, const char *name)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	yaml_node_t *seq = kc_get(l, root, list);
	yaml_node_item_t *it;

	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE) {
		return NULL;
	}
	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		const char *n = kc_str(kc_get(l, e, "name"));

		if (n != NULL && strcmp(n, name) == 0) {
			return kc_get(l, e, inner);
		}
	}
	return NULL;
}

static char *kc_dup(struct kc_load *l, const char *s)
{
	char *p = s ? strdup(s) : NULL;

	if (s != NULL && p == NULL && l->err == 0) {
		l->err = -ENOMEM;
	}
	return p;
}

/* A file name from the kubeconfig, relative to its directory. */
static char *kc_path(struct kc_load *l, const char *name)
{
	char *p;
	size_t n;

	if (name == NULL) {
		return NULL;
	}
	if (name[0] == '/') {
		return kc_dup(l, name);
	}
	n = strlen(l->dir) + strlen(name) + 2;
	p = malloc(n);
	if (p == NULL) {
		l->err = l->err ? l->err : -ENOMEM;
		return NULL;
	}
	snprintf(p, n, "%s/%s", l->dir, name);
	return p;
}

static void kc_data(struct kc_load *l, yaml_node_t *map, const char *key,
                    unsigned char **out, size_t *len)
{
	yaml_node_t *n = kc_get(l, map, key);
	const char *s = kc_str(n);
	int err;

	if (s == NULL || l->err != 0) {
		return;
	}
	err = kubeconfig_base64_decode(s, out, len);
	if (err == -EINVAL) {
		kc_error(l, n, err, "%s: not base64", key);
	} else if (err != 0) {
		l->err = err;
	}
}

static void kc_cluster(struct kc_load *l, yaml_node_t *cl, const char *name)
{
	struct kubeconfig *c = l->c;
	const char *server = kc_str(kc_get(l, cl, "server"));
	const char *insecure =
		kc_str(kc_get(l, cl, "insecure-skip-tls-verify"));
	size_t n;

	if (server == NULL) {
		kc_error(l, cl, -EINVAL, "cluster \"%s\" has no server", name);
		return;
	}
	c->server = kc_dup(l, server);
	n = c->server ? strlen(c->server) : 0;
	while (n > 0 && c->server[n - 1] == '/') {
		c->server[--n] = '\0';
	}
	c->ca_file = kc_path(l, kc_str(kc_get(l, cl, "certificate-authority")));
	kc_data(l, cl, "certificate-authority-data", &c->ca_data, &c->ca_len);
	c->insecure = insecure != NULL && strcmp(insecure, "true") == 0;
}

static void kc_user(struct kc_load *l, yaml_node_t *u, const char *name)
{
	struct kubeconfig *c = l->c;

	if (kc_get(l, u, "exec") != NULL ||
	    kc_get(l, u, "auth-provider") != NULL) {
		kc_error(
			l, u, -EINVAL,
			"user \"%s\": exec and auth-provider credentials are not supported; use a token, a tokenFile or a client certificate",
			name);
		return;
	}
	c->token = kc_dup(l, kc_str(kc_get(l, u, "token")));
	c->token_file = kc_path(l, kc_str(kc_get(l, u, "tokenFile")));
	c->cert_file = kc_path(l, kc_str(kc_get(l, u, "client-certificate")));
	c->key_file = kc_path(l, kc_str(kc_get(l, u, "client-key")));
	kc_data(l, u, "client-certificate-data", &c->cert_data, &c->cert_len);
	kc_data(l, u, "client-key-data", &c->key_data, &c->key_len);
}

static void kc_walk(struct kc_load *l)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	const char *cur = kc_str(kc_get(l, root, "current-context"));
	yaml_node_t *ctx;
	yaml_node_t *cl;
	yaml_node_t *u;
	const char *cname;
	const char *uname;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		kc_error(l, root, -EINVAL, "not a kubeconfig (a mapping)");
		return;
	}
	if (cur == NULL) {
		kc_error(l, root, -EINVAL, "no current-context");
		return;
	}
	ctx = kc_entry(l, "contexts", "context", cur);
	cname = kc_str(kc_get(l, ctx, "cluster"));
	uname = kc_str(kc_get(l, ctx, "user"));
	if (ctx == NULL || cname == NULL) {
		kc_error(l, ctx ? ctx : root, -EINVAL,
		         "context \"%s\" not found or without a cluster", cur);
		return;
	}
	l->c->context = kc_dup(l, cur);
	cl = kc_entry(l, "clusters", "cluster", cname);
	if (cl == NULL) {
		kc_error(l, ctx, -EINVAL, "cluster \"%s\" not found", cname);
		return;
	}
	kc_cluster(l, cl, cname);
	if (uname == NULL) {
		return; /* anonymous */
	}
	u = kc_entry(l, "users", "user", uname);
	if (u == NULL) {
		kc_error(l, ctx, -EINVAL, "user \"%s\" not found", uname);
		return;
	}
	kc_user(l, u, uname);
}

static char *kc_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		return strdup(".");
	}
	if (slash == path) {
		return strdup("/");
	}
	return strndup(path, (size_t)(slash - path));
}

int kubeconfig_load(const char *path, struct kubeconfig *c, struct diag *d)
{
	struct kc_load l;
	yaml_parser_t parser;
	char *buf;
	size_t len;
	int err;

	memset(c, 0, sizeof(*c));
	memset(&l, 0, sizeof(l));
	err = kc_read_file(path, KUBECONFIG_MAX_SIZE, &buf, &len);
	if (err != 0) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read: %s",
		         strerror(-err));
		return err;
	}
	l.path = path;
	l.d = d;
	l.c = c;
	l.dir = kc_dirname(path);
	if (l.dir == NULL || !yaml_parser_initialize(&parser)) {
		free(l.dir);
		free(buf);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* yaml_parser_load does not expand aliases, and the walk above
	 * follows a fixed path, so an alias bomb costs nothing here. */
	if (!yaml_parser_load(&parser, &l.doc)) {
		diag_add(d, DIAG_ERROR, path,
		         (unsigned)parser.problem_mark.line + 1,
		         (unsigned)parser.problem_mark.column + 1, "%s",
		         parser.problem ? parser.problem : "syntax error");
		err = -EINVAL;
	} else {
		kc_walk(&l);
		err = l.err;
		yaml_document_delete(&l.doc);
	}
	yaml_parser_delete(&parser);
	free(buf);
	free(l.dir);
	if (err != 0) {
		kubeconfig_fini(c);
	}
	return err;
}

int kubeconfig_in_cluster(const char *sa_dir, const char *host,
                          const char *port, struct kubeconfig *c,
                          struct diag *d)
{
	char path[4096];
	size_t n;

	memset(c, 0, sizeof(*c));
	if (sa_dir == NULL) {
		sa_dir = KUBECONFIG_SA_DIR;
	}
	host = host ? host : getenv("KUBERNETES_SERVICE_HOST");
	port = port ? port : getenv("KUBERNETES_SERVICE_PORT");
	if (host == NULL || host[0] == '\0' || port == NULL ||
	    port[0] == '\0') {
		diag_add(
			d, DIAG_ERROR, "in-cluster", 0, 0,
			"KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: not in a pod; use --kubeconfig");
		return -ENOENT;
	}
	n = strlen(host) + strlen(port) + 16;
	c->server = malloc(n);
	c->context = strdup("in-cluster");
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	c->token_file = strdup(path);
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	c->ca_file = strdup(path);
	if (c->server == NULL || c->context == NULL || c->token_file == NULL ||
	    c->ca_file == NULL) {
		kubeconfig_fini(c);
		return -ENOMEM;
	}
	snprintf(c->server, n,
	         strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
	         port);
	if (access(c->token_file, R_OK) != 0) {
		diag_add(d, DIAG_ERROR, c->token_file, 0, 0,
		         "cannot read the service account token: %s",
		         strerror(errno));
		kubeconfig_fini(c);
		return -ENOENT;
	}
	return 0;
}
