/* The Kubernetes object model svcdns reads: Namespace, Service,
 * EndpointSlice (discovery.k8s.io/v1), Endpoints (v1) and Pod, reduced to the
 * fields cluster DNS needs. Objects are plain data in the arena of the file
 * they were loaded from (struct k8s_file); every string and array field is
 * "arena (file)". Strings are NUL-terminated, never NULL unless said. */
#ifndef SVCDNS_K8S_H
#define SVCDNS_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svcdns/common.h"

struct arena;

/* An IP address: family 4 or 6, octets in network order (v4 uses 0..3). */
struct k8s_ip {
	uint8_t family;
	uint8_t addr[16];
};

struct k8s_label {
	const char *key;
	const char *value;
};

struct k8s_labels {
	const struct k8s_label *items;
	size_t n;
};

/* Where an object came from, for diagnostics. */
struct k8s_origin {
	const char *file;
	unsigned line; /* 1-based position of the object's mapping */
	unsigned col;
};

struct k8s_meta {
	const char *name;
	/* "default" when metadata.namespace is absent; "" for Namespace
	 * objects, which are not namespaced. */
	const char *ns;
	struct k8s_labels labels;
	struct k8s_labels annotations;
	bool deleting; /* metadata.deletionTimestamp is set */
	struct k8s_origin origin;
};

enum k8s_proto {
	K8S_PROTO_TCP,
	K8S_PROTO_UDP,
	K8S_PROTO_SCTP,
};

enum k8s_service_type {
	K8S_SVC_CLUSTER_IP,
	K8S_SVC_NODE_PORT,
	K8S_SVC_LOAD_BALANCER,
	K8S_SVC_EXTERNAL_NAME,
};

struct k8s_service_port {
	const char *name; /* "" when unnamed */
	enum k8s_proto proto;
	uint16_t port;
	/* spec.ports[].targetPort: a number (target_name NULL) or a container
	 * port name; absent means the same as port. */
	uint16_t target_port;
	const char *target_name;
};

struct k8s_service {
	struct k8s_meta meta;
	enum k8s_service_type type;
	/* clusterIP "None": headless. */
	bool headless;
	/* spec.clusterIPs (or spec.clusterIP when clusterIPs is absent),
	 * without "None" and empty entries. */
	const struct k8s_ip *cluster_ips;
	size_t n_cluster_ips;
	const char *external_name; /* ExternalName only, else NULL */
	const struct k8s_service_port *ports;
	size_t n_ports;
	bool has_selector; /* spec.selector present and non-empty */
	struct k8s_labels selector;
	/* spec.publishNotReadyAddresses, or the legacy annotation
	 * service.alpha.kubernetes.io/tolerate-unready-endpoints: "true". */
	bool publish_not_ready;
};

struct k8s_endpoint {
	const struct k8s_ip *addrs;
	size_t n_addrs;
	const char *hostname; /* NULL when absent */
	/* conditions.ready true or absent; for core/v1 Endpoints: true for
	 * subsets[].addresses, false for notReadyAddresses. */
	bool ready;
	const char *target_kind; /* targetRef.kind, NULL when absent */
	const char *target_name; /* targetRef.name */
	const char *target_ns;   /* targetRef.namespace */
};

struct k8s_endpoint_port {
	const char *name; /* "" when unnamed */
	enum k8s_proto proto;
	uint16_t port;
};

/* An EndpointSlice, or one subset of a core/v1 Endpoints object (then
 * legacy is true and service_name is the Endpoints' metadata.name). A
 * subset that mixes IPv4 and IPv6 addresses becomes two legacy slices, one
 * per family, sharing the subset's ports. Slice ports without a port
 * number ("all ports") are left out. */
struct k8s_slice {
	struct k8s_meta meta;
	const char *service_name; /* label kubernetes.io/service-name */
	bool legacy;
	/* addressType: 4, 6, or 0 for FQDN (such slices are ignored). */
	uint8_t address_type;
	const struct k8s_endpoint *endpoints;
	size_t n_endpoints;
	const struct k8s_endpoint_port *ports;
	size_t n_ports;
};

enum k8s_pod_phase {
	K8S_POD_PENDING,
	K8S_POD_RUNNING,
	K8S_POD_SUCCEEDED,
	K8S_POD_FAILED,
	K8S_POD_UNKNOWN,
};

struct k8s_container_port {
	const char *name; /* "" when unnamed */
	enum k8s_proto proto;
	uint16_t port; /* containerPort */
};

struct k8s_pod {
	struct k8s_meta meta;
	const char *hostname;  /* spec.hostname, NULL when absent */
	const char *subdomain; /* spec.subdomain, NULL when absent */
	enum k8s_pod_phase phase;
	bool ready; /* status.conditions type Ready status "True" */
	/* status.podIPs (or status.podIP when podIPs is absent); ips[0] is
	 * status.podIP when set. */
	const struct k8s_ip *ips;
	size_t n_ips;
	const struct k8s_container_port *ports; /* of every container */
	size_t n_ports;
};

struct k8s_namespace {
	struct k8s_meta meta;
};

/* Every object loaded from one manifest file. Owns its arena. */
struct k8s_file {
	struct arena *arena; /* owns */
	const char *path;    /* arena */
	/* Unique in the process (k8s_file_next_id): a file that is loaded
	 * again gets a new id, so snapshot builds can tell unchanged files
	 * from new ones even when the allocator reuses an address. */
	uint64_t id;
	struct k8s_namespace *namespaces;
	size_t n_namespaces;
	struct k8s_service *services;
	size_t n_services;
	struct k8s_slice *slices;
	size_t n_slices;
	struct k8s_pod *pods;
	size_t n_pods;
	size_t n_unknown; /* objects of other kinds, skipped */
};

/* A new k8s_file id (never 0). Any thread. */
uint64_t k8s_file_next_id(void);

/* Frees the file's arena and the file itself. NULL is a no-op. */
void k8s_file_destroy(struct k8s_file *f);

/* Parses an IP address in text form (v4 dotted quad, v6 RFC 4291 text).
 * Returns 0 or -EINVAL. */
SVCDNS_MUSTCHECK int k8s_ip_parse(const char *text, struct k8s_ip *out);

/* Compares two addresses (family first, then octets): <0, 0, >0. */
int k8s_ip_cmp(const struct k8s_ip *a, const struct k8s_ip *b);

/* Writes the canonical text form (RFC 5952 for v6) to out (>= 46 octets). */
void k8s_ip_to_text(const struct k8s_ip *ip, char *out, size_t cap);

/* True if text is a DNS-1123 label: 1..63 of [a-z0-9-], starting and
 * ending with an alphanumeric. */
bool k8s_is_dns_label(const char *text);

/* Looks a key up in labels; NULL when absent. */
const char *k8s_labels_get(const struct k8s_labels *labels, const char *key);

#endif
