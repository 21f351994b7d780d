/* Fuzz target for manifest.c: any bytes, loaded as one file with the
 * default limits. The loader must never crash, leak, hang or allocate
 * without bound, whatever the YAML or JSON says, and what it accepts must
 * hold the invariants the snapshot builder relies on. A failed check
 * aborts, so libFuzzer saves the input. Seeds: the unit-test fixtures.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude \
 *	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE tests/fuzz/fuzz_manifest.c \
 *	src/manifest.c src/k8s.c src/selector.c src/arena.c src/diag.c \
 *	src/log.c -lyaml -o fuzz_manifest
 *   ./fuzz_manifest -rss_limit_mb=2048 tests/fuzz/corpus/manifest */
#include "fuzz.h"

#include "svcdns/log.h"
#include "svcdns/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static void check_meta(const struct k8s_meta *m)
{
	CHECK(m->name != NULL && m->name[0] != '\0');
	CHECK(m->ns != NULL);
	CHECK(m->labels.n == 0 || m->labels.items != NULL);
	CHECK(m->origin.line >= 1 && m->origin.col >= 1);
}

static void check_services(const struct k8s_file *f)
{
	size_t i;
	size_t j;

	for (i = 0; i < f->n_services; i++) {
		const struct k8s_service *s = &f->services[i];

		check_meta(&s->meta);
		CHECK(k8s_is_dns_label(s->meta.name));
		CHECK(k8s_is_dns_label(s->meta.ns));
		CHECK((s->type == K8S_SVC_EXTERNAL_NAME) ==
		      (s->external_name != NULL));
		for (j = 0; j < s->n_cluster_ips; j++) {
			CHECK(s->cluster_ips[j].family == 4 ||
			      s->cluster_ips[j].family == 6);
		}
		for (j = 0; j < s->n_ports; j++) {
			CHECK(s->ports[j].port != 0);
			CHECK(s->ports[j].name != NULL);
			CHECK((s->ports[j].target_name == NULL) ==
			      (s->ports[j].target_port != 0));
		}
	}
}

static void check_slices(const struct k8s_file *f)
{
	size_t i;
	size_t j;
	size_t k;

	for (i = 0; i < f->n_slices; i++) {
		const struct k8s_slice *s = &f->slices[i];

		check_meta(&s->meta);
		CHECK(s->service_name != NULL && s->service_name[0] != '\0');
		CHECK(s->address_type == 0 || s->address_type == 4 ||
		      s->address_type == 6);
		for (j = 0; j < s->n_endpoints; j++) {
			const struct k8s_endpoint *e = &s->endpoints[j];

			for (k = 0; k < e->n_addrs; k++) {
				CHECK(e->addrs[k].family == s->address_type);
			}
			CHECK(e->hostname == NULL ||
			      k8s_is_dns_label(e->hostname));
		}
		for (j = 0; j < s->n_ports; j++) {
			CHECK(s->ports[j].port != 0);
		}
	}
}

static void check_pods(const struct k8s_file *f)
{
	size_t i;
	size_t j;

	for (i = 0; i < f->n_pods; i++) {
		const struct k8s_pod *p = &f->pods[i];

		check_meta(&p->meta);
		for (j = 0; j < p->n_ips; j++) {
			CHECK(p->ips[j].family == 4 || p->ips[j].family == 6);
		}
		for (j = 0; j < p->n_ports; j++) {
			CHECK(p->ports[j].port != 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest_limits lim;
	struct k8s_file *f = NULL;
	struct diag d;
	int rc;

	log_set_level(LOG_LEVEL_ERR);
	manifest_limits_default(&lim);
	diag_init(&d);
	rc = manifest_load_buffer("fuzz.yaml", (const char *)data, size, &lim,
	                          &f, &d);
	if (rc == 0) {
		CHECK(f != NULL);
		CHECK(d.errors == 0);
		check_services(f);
		check_slices(f);
		check_pods(f);
		k8s_file_destroy(f);
	} else {
		CHECK(f == NULL);
		CHECK(rc == -EINVAL || rc == -ENOMEM);
		CHECK(rc != -EINVAL || d.errors > 0);
	}
	diag_fini(&d);
	return 0;
}
