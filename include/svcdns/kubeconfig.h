/* Where the API server is and how to authenticate to it: from a kubeconfig
 * file (current-context -> context -> cluster + user), or in-cluster (the
 * service account's token and CA, KUBERNETES_SERVICE_HOST/PORT). Read with
 * libyaml; no I/O beyond the files named. Any thread. */
#ifndef SVCDNS_KUBECONFIG_H
#define SVCDNS_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "svcdns/common.h"
#include "svcdns/diag.h"

/* The service account directory of a pod. */
#define KUBECONFIG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kubeconfig {
	char *context; /* owns: the context used ("in-cluster") */
	char *server;  /* owns: "https://host:port", no trailing '/' */
	/* The cluster's CA: a PEM file, or PEM data (certificate-authority-
	 * data, base64-decoded), or neither (the system's CAs). */
	char *ca_file;          /* owns */
	unsigned char *ca_data; /* owns */
	size_t ca_len;
	bool insecure; /* insecure-skip-tls-verify: true */
	/* The bearer token, or the file it is read from (and re-read: the
	 * kubelet rotates projected tokens). */
	char *token;      /* owns */
	char *token_file; /* owns */
	/* A client certificate and key (PEM), as files or decoded data. */
	char *cert_file;          /* owns */
	char *key_file;           /* owns */
	unsigned char *cert_data; /* owns */
	size_t cert_len;
	unsigned char *key_data; /* owns */
	size_t key_len;
};

/* Reads the kubeconfig at path. Relative file names in it are relative to
 * its directory, as kubectl reads them. Returns 0, -errno for I/O errors,
 * -EINVAL for a file svcdns cannot use (no current context, a missing
 * cluster or user, an exec or auth-provider user, bad base64), each with
 * a diagnostic in d, or -ENOMEM. On error *c is empty. */
SVCDNS_MUSTCHECK int kubeconfig_load(const char *path, struct kubeconfig *c,
                                     struct diag *d);

/* The in-cluster configuration: https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), sa_dir/ca.crt and
 * sa_dir/token (sa_dir NULL: KUBECONFIG_SA_DIR). host and port NULL read
 * the environment. Returns 0, or -ENOENT / -EINVAL with a diagnostic, or
 * -ENOMEM. */
SVCDNS_MUSTCHECK int kubeconfig_in_cluster(const char *sa_dir, const char *host,
                                           const char *port,
                                           struct kubeconfig *c,
                                           struct diag *d);

void kubeconfig_fini(struct kubeconfig *c);

/* Reads a token file (at most 64 KiB, surrounding white space removed)
 * into *out (malloc). Returns 0, -errno, -EINVAL (empty) or -ENOMEM. */
SVCDNS_MUSTCHECK int kubeconfig_read_token(const char *path, char **out);

/* Decodes standard base64 (RFC 4648 section 4; white space ignored, '='
 * padding optional) into *out (malloc, NUL-terminated, *len without the
 * NUL). Returns 0, -EINVAL or -ENOMEM. */
SVCDNS_MUSTCHECK int kubeconfig_base64_decode(const char *in,
                                              unsigned char **out, size_t *len);

#endif
