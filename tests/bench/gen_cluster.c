/* Writes a synthetic Kubernetes cluster as manifests, the way `kubectl get
 * -o yaml` would print it, plus a dnsperf query file, for the benchmarks.
 *
 *   gen_cluster --out DIR [--services N] [--pods N] [--endpoints N]
 *               [--namespaces N] [--headless PCT] [--queries N] [--seed N]
 *               [--annotations N]
 *
 * Layout: DIR/zones/<ns>/services.yaml (Services), slices.yaml
 * (EndpointSlices), pods-K.yaml (Pods, 1,000 per file), and DIR/queries.txt
 * ("name A" lines in random order: 70 % headless services, 20 % ClusterIP
 * services, each picked uniformly among the services of its kind, and 10 %
 * names that do not exist, nx-N.<ns>). Services are headless with
 * probability PCT (default 70); each gets endpoints/services endpoints, each
 * a Pod of its namespace; the remaining Pods back no service. Addresses:
 * ClusterIPs from 10.96.0.0/12, Pods from 10.244.0.0/14. With
 * --annotations N (at most 4), each Pod also carries the first N of the
 * annotations a CNI plugin and `kubectl rollout restart` leave on real pods,
 * each value unique to the pod: Calico's containerID, podIP and podIPs, and
 * kubectl's restartedAt. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct gen {
	const char *out;
	unsigned services;
	unsigned pods;
	unsigned endpoints;
	unsigned namespaces;
	unsigned headless_pct;
	unsigned queries;
	unsigned annotations; /* per Pod, 0..4 */
	uint64_t rng;
};

static uint32_t gen_rand(struct gen *g)
{
	/* xorshift64*: reproducible for a given seed. */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 2685821657736338717ull) >> 32);
}

static FILE *gen_open(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "gen_cluster: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return f;
}

static void gen_pod_ip(unsigned n, char *out, size_t cap)
{
	snprintf(out, cap, "10.%u.%u.%u", 244 + (n >> 16) % 4, (n >> 8) & 255,
	         n & 255);
}

static void gen_cluster_ip(unsigned n, char *out, size_t cap)
{
	snprintf(out, cap, "10.%u.%u.%u", 96 + (n >> 16) % 16, (n >> 8) & 255,
	         n & 255);
}

static bool gen_is_headless(const struct gen *g, unsigned s)
{
	return (s * 37u) % 100u < g->headless_pct;
}

/* The first n of the annotations real pods carry (see the head). */
static void gen_write_pod_annotations(FILE *f, unsigned n, unsigned podno,
                                      const char *ip)
{
	if (n == 0) {
		return;
	}
	fprintf(f, "    annotations:\n");
	fprintf(f,
	        "      cni.projectcalico.org/containerID: %016x%016x%016x%016x\n",
	        podno * 2654435761u, podno ^ 0x5bd1e995u, podno * 40503u,
	        ~podno);
	if (n > 1) {
		fprintf(f, "      cni.projectcalico.org/podIP: %s/32\n", ip);
	}
	if (n > 2) {
		fprintf(f, "      cni.projectcalico.org/podIPs: %s/32\n", ip);
	}
	if (n > 3) {
		fprintf(f,
		        "      kubectl.kubernetes.io/restartedAt: \"2024-05-01T%02u:%02u:%02uZ\"\n",
		        podno / 3600 % 24, podno / 60 % 60, podno % 60);
	}
}

static void gen_write_pod(const struct gen *g, FILE *f, unsigned ns,
                          unsigned svc, unsigned idx, unsigned podno,
                          bool backs)
{
	char ip[32];

	gen_pod_ip(podno, ip, sizeof(ip));
	fprintf(f, "- apiVersion: v1\n"
	           "  kind: Pod\n"
	           "  metadata:\n");
	gen_write_pod_annotations(f, g->annotations, podno, ip);
	fprintf(f,
	        "    creationTimestamp: \"2024-05-01T00:00:00Z\"\n"
	        "    labels:\n"
	        "      app: %s%u\n"
	        "    name: pod-%u\n"
	        "    namespace: ns-%u\n"
	        "    resourceVersion: \"%u\"\n"
	        "    uid: 00000000-0000-4000-8000-%012u\n"
	        "  spec:\n"
	        "    containers:\n"
	        "    - image: registry.example.com/app:1\n"
	        "      name: app\n"
	        "      ports:\n"
	        "      - containerPort: 8080\n"
	        "        name: http\n"
	        "        protocol: TCP\n"
	        "  status:\n"
	        "    conditions:\n"
	        "    - status: \"True\"\n"
	        "      type: Ready\n"
	        "    phase: Running\n"
	        "    podIP: %s\n"
	        "    podIPs:\n"
	        "    - ip: %s\n",
	        backs ? "svc-" : "job-", backs ? svc : idx, podno, ns,
	        1000 + podno, podno, ip, ip);
}

static void gen_namespace(struct gen *g, unsigned ns, unsigned *podno)
{
	char dir[4096];
	char ip[32];
	char name[64];
	unsigned per_ns = g->services / g->namespaces;
	unsigned eps = g->services ? g->endpoints / g->services : 0;
	unsigned pods_ns = g->pods / g->namespaces;
	unsigned first = ns * per_ns;
	unsigned s;
	unsigned e;
	unsigned p = 0;
	FILE *svc;
	FILE *sl;
	FILE *pf = NULL;

	snprintf(dir, sizeof(dir), "%s/zones/ns-%u", g->out, ns);
	mkdir(dir, 0755);
	svc = gen_open(dir, "services.yaml");
	sl = gen_open(dir, "slices.yaml");
	fprintf(svc,
	        "apiVersion: v1\nkind: List\nitems:\n"
	        "- apiVersion: v1\n  kind: Namespace\n  metadata:\n"
	        "    name: ns-%u\n",
	        ns);
	fprintf(sl, "apiVersion: v1\nkind: List\nitems:\n");
	for (s = first; s < first + per_ns; s++) {
		bool hl = gen_is_headless(g, s);

		gen_cluster_ip(s + 1, ip, sizeof(ip));
		fprintf(svc,
		        "- apiVersion: v1\n"
		        "  kind: Service\n"
		        "  metadata:\n"
		        "    name: svc-%u\n"
		        "    namespace: ns-%u\n"
		        "  spec:\n"
		        "    clusterIP: %s\n"
		        "    ports:\n"
		        "    - name: http\n"
		        "      port: 80\n"
		        "      protocol: TCP\n"
		        "      targetPort: 8080\n"
		        "    selector:\n"
		        "      app: svc-%u\n"
		        "    type: ClusterIP\n",
		        s, ns, hl ? "None" : ip, s);
		if (eps == 0) {
			continue;
		}
		fprintf(sl, "- addressType: IPv4\n"
		            "  apiVersion: discovery.k8s.io/v1\n"
		            "  endpoints:\n");
		for (e = 0; e < eps; e++) {
			gen_pod_ip(*podno + e, ip, sizeof(ip));
			fprintf(sl,
			        "  - addresses:\n"
			        "    - %s\n"
			        "    conditions:\n"
			        "      ready: true\n"
			        "    targetRef:\n"
			        "      kind: Pod\n"
			        "      name: pod-%u\n"
			        "      namespace: ns-%u\n",
			        ip, *podno + e, ns);
		}
		fprintf(sl,
		        "  kind: EndpointSlice\n"
		        "  metadata:\n"
		        "    labels:\n"
		        "      kubernetes.io/service-name: svc-%u\n"
		        "    name: svc-%u-abcde\n"
		        "    namespace: ns-%u\n"
		        "  ports:\n"
		        "  - name: http\n"
		        "    port: 8080\n"
		        "    protocol: TCP\n",
		        s, s, ns);
		for (e = 0; e < eps; e++, p++) {
			if (p % 1000 == 0) {
				if (pf) {
					fclose(pf);
				}
				snprintf(name, sizeof(name), "pods-%u.yaml",
				         p / 1000);
				pf = gen_open(dir, name);
				fprintf(pf,
				        "apiVersion: v1\nkind: List\nitems:\n");
			}
			gen_write_pod(g, pf, ns, s, p, (*podno)++, true);
		}
	}
	for (; p < pods_ns; p++) {
		if (p % 1000 == 0) {
			if (pf) {
				fclose(pf);
			}
			snprintf(name, sizeof(name), "pods-%u.yaml", p / 1000);
			pf = gen_open(dir, name);
			fprintf(pf, "apiVersion: v1\nkind: List\nitems:\n");
		}
		gen_write_pod(g, pf, ns, 0, p, (*podno)++, false);
	}
	if (pf) {
		fclose(pf);
	}
	fclose(svc);
	fclose(sl);
}

static void gen_queries(struct gen *g)
{
	FILE *q = gen_open(g->out, "queries.txt");
	unsigned per_ns = g->services / g->namespaces;
	unsigned n = per_ns * g->namespaces; /* services written */
	unsigned *kind[2];
	unsigned count[2] = { 0, 0 };
	unsigned i;

	/* The services of each kind (0 ClusterIP, 1 headless), so that a
	 * query picks one uniformly among its kind. */
	kind[0] = calloc(n, sizeof(unsigned));
	kind[1] = calloc(n, sizeof(unsigned));
	if (kind[0] == NULL || kind[1] == NULL) {
		fprintf(stderr, "gen_cluster: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		bool hl = gen_is_headless(g, i);

		kind[hl][count[hl]++] = i;
	}
	for (i = 0; i < g->queries; i++) {
		unsigned r = gen_rand(g) % 100;
		unsigned k = r < 80 ? 1 : 0;
		unsigned s;

		if (r < 10) {
			s = gen_rand(g) % n;
			fprintf(q, "nx-%u.ns-%u.svc.cluster.local A\n", s,
			        s / per_ns);
			continue;
		}
		/* 70 % headless, 20 % ClusterIP (the other kind when a
		 * cluster has none of the wanted one). */
		if (count[k] == 0) {
			k = !k;
		}
		s = kind[k][gen_rand(g) % count[k]];
		fprintf(q, "svc-%u.ns-%u.svc.cluster.local A\n", s, s / per_ns);
	}
	free(kind[0]);
	free(kind[1]);
	fclose(q);
}

static unsigned gen_arg(const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n > 10000000) {
		fprintf(stderr, "gen_cluster: bad number %s\n", v);
		exit(2);
	}
	return (unsigned)n;
}

int main(int argc, char **argv)
{
	struct gen g = { .services = 2000,
		         .pods = 6000,
		         .endpoints = 6000,
		         .namespaces = 10,
		         .headless_pct = 70,
		         .queries = 100000,
		         .rng = 20240101 };
	char dir[4096];
	unsigned podno = 0;
	unsigned ns;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i];
		const char *v = argv[i + 1];

		if (strcmp(o, "--out") == 0) {
			g.out = v;
		} else if (strcmp(o, "--services") == 0) {
			g.services = gen_arg(v);
		} else if (strcmp(o, "--pods") == 0) {
			g.pods = gen_arg(v);
		} else if (strcmp(o, "--endpoints") == 0) {
			g.endpoints = gen_arg(v);
		} else if (strcmp(o, "--namespaces") == 0) {
			g.namespaces = gen_arg(v);
		} else if (strcmp(o, "--headless") == 0) {
			g.headless_pct = gen_arg(v);
		} else if (strcmp(o, "--queries") == 0) {
			g.queries = gen_arg(v);
		} else if (strcmp(o, "--annotations") == 0) {
			g.annotations = gen_arg(v);
		} else if (strcmp(o, "--seed") == 0) {
			g.rng = gen_arg(v) | 1u;
		} else {
			break;
		}
	}
	if (i != argc || g.out == NULL || g.namespaces == 0 ||
	    g.services < g.namespaces || g.endpoints > g.pods ||
	    g.headless_pct > 100 || g.annotations > 4) {
		fprintf(stderr,
		        "usage: gen_cluster --out DIR [--services N] [--pods N] [--endpoints N] [--namespaces N] [--headless PCT] [--queries N] [--seed N] [--annotations 0..4]\n"
		        "       (services >= namespaces, endpoints <= pods)\n");
		return 2;
	}
	mkdir(g.out, 0755);
	snprintf(dir, sizeof(dir), "%s/zones", g.out);
	mkdir(dir, 0755);
	for (ns = 0; ns < g.namespaces; ns++) {
		gen_namespace(&g, ns, &podno);
	}
	gen_queries(&g);
	printf("gen_cluster: out=%s namespaces=%u services=%u pods=%u endpoints=%u queries=%u\n",
	       g.out, g.namespaces, (g.services / g.namespaces) * g.namespaces,
	       podno,
	       (g.endpoints / g.services) * (g.services / g.namespaces) *
	               g.namespaces,
	       g.queries);
	return 0;
}
