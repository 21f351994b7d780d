#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "svcdns/config.h"

#define MAX_ARGS 40

static struct config cfg;
static char err[256];

/* Parses a NULL-terminated list of arguments (argv[0] is added). */
static int parse(const char *first, ...)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	va_list ap;
	const char *a;

	/* config_parse takes char *const argv[] (as main has it) but never
	 * writes through it: casting away const on literals is safe here. */
	argv[argc++] = (char *)(uintptr_t) "svcdns";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)(uintptr_t)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 'x', sizeof(err));
	return config_parse(&cfg, argc, argv, err, sizeof(err));
}

/* Expects the arguments to fail with exactly message msg. */
#define assert_parse_error(msg, ...)                                 \
	do {                                                         \
		assert_int_equal(parse(__VA_ARGS__, NULL), -EINVAL); \
		assert_string_equal(err, msg);                       \
	} while (0)

static unsigned cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1) {
		return 1;
	}
	return n > CONFIG_THREADS_MAX ? CONFIG_THREADS_MAX : (unsigned)n;
}

static void assert_listen(const struct config_listen *l, int family,
                          const char *host, unsigned port, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(l->addr.ss_family, family);
	assert_string_equal(l->text, text);
	if (family == AF_INET) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)&l->addr;

		assert_int_equal(l->addr_len, sizeof(*s4));
		assert_int_equal(ntohs(s4->sin_port), port);
		assert_non_null(
			inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf)));
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)&l->addr;

		assert_int_equal(l->addr_len, sizeof(*s6));
		assert_int_equal(ntohs(s6->sin6_port), port);
		assert_non_null(
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf)));
	}
	assert_string_equal(buf, host);
}

static void test_config_parse_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.mode, CONFIG_MODE_SERVE);
	assert_string_equal(cfg.zones.dir, "zones");
	assert_int_equal(cfg.zones.n_names, 1);
	assert_string_equal(cfg.zones.names[0], "cluster.local");
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_VERIFIED);
	assert_int_equal(cfg.zones.ttl, 5);
	assert_int_equal(cfg.server.n_listen, 1);
	assert_listen(&cfg.server.listen[0], AF_INET, "127.0.0.1", 5353,
	              "127.0.0.1:5353");
	assert_false(cfg.server.listen[0].wildcard);
	assert_int_equal(cfg.server.threads, cpus());
	assert_int_equal(cfg.server.tcp_idle_timeout_ms, 10000);
	assert_int_equal(cfg.server.tcp_io_timeout_ms, 2000);
	assert_int_equal(cfg.server.tcp_max_conns, 1024);
	assert_int_equal(cfg.server.udp_rcvbuf, 1048576);
	assert_int_equal(cfg.server.udp_direct, CONFIG_UDP_DIRECT_AUTO);
	assert_true(cfg.upstream.forward);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_RESOLV_CONF);
	assert_string_equal(cfg.upstream.resolv_conf, "/etc/resolv.conf");
	assert_int_equal(cfg.upstream.timeout_ms, 2000);
	assert_int_equal(cfg.upstream.max_inflight, 1000);
	assert_int_equal(cfg.upstream.cache_size, 10000);
	assert_int_equal(cfg.upstream.cache_max_ttl, 3600);
	assert_int_equal(cfg.upstream.n_allow, 6);
	assert_int_equal(cfg.upstream.n_fallthrough, 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
}

static void test_config_defaults_equal_parse(void **state)
{
	struct config d;

	(void)state;
	config_defaults(&d);
	assert_int_equal(parse(NULL), 0);
	assert_memory_equal(&d, &cfg, sizeof(d));
}

/* Every option with a value, in both spellings. */
static void test_config_parse_both_forms(void **state)
{
	static const struct {
		const char *name;
		const char *value;
	} opts[] = {
		{ "--zones", "/etc/svcdns/zones" },
		{ "--listen", "10.0.0.1:53" },
		{ "--domain", "example.org" },
		{ "--pods", "insecure" },
		{ "--ttl", "30" },
		{ "--upstream", "none" },
		{ "--threads", "3" },
		{ "--tcp-idle-timeout", "5000" },
		{ "--tcp-io-timeout", "500" },
		{ "--tcp-max-conns", "64" },
		{ "--udp-rcvbuf", "8388608" },
		{ "--udp-direct", "off" },
		{ "--log-level", "debug" },
	};
	struct config sep;
	char joined[SVCDNS_ARRAY_SIZE(opts)][64];
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(opts); i++) {
		assert_int_equal(parse(opts[i].name, opts[i].value, NULL), 0);
		sep = cfg;
		snprintf(joined[i], sizeof(joined[i]), "%s=%s", opts[i].name,
		         opts[i].value);
		assert_int_equal(parse(joined[i], NULL), 0);
		assert_memory_equal(&sep, &cfg, sizeof(sep));
	}
}

static void test_config_parse_each_option(void **state)
{
	(void)state;
	assert_int_equal(parse("--zones", "/srv/z", "--listen", "10.1.2.3:53",
	                       "--domain", "Example.ORG.", "--pods", "disabled",
	                       "--ttl", "0", "--upstream", "none", "--threads",
	                       "64", "--tcp-idle-timeout", "1",
	                       "--tcp-io-timeout", "3600000", "--tcp-max-conns",
	                       "65536", "--udp-rcvbuf", "0", "--log-level",
	                       "warn", NULL),
	                 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_SERVE);
	assert_string_equal(cfg.zones.dir, "/srv/z");
	assert_int_equal(cfg.zones.n_names, 1);
	assert_string_equal(cfg.zones.names[0], "example.org");
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_DISABLED);
	assert_int_equal(cfg.zones.ttl, 0);
	assert_int_equal(cfg.server.n_listen, 1);
	assert_listen(&cfg.server.listen[0], AF_INET, "10.1.2.3", 53,
	              "10.1.2.3:53");
	assert_int_equal(cfg.server.threads, 64);
	assert_int_equal(cfg.server.tcp_idle_timeout_ms, 1);
	assert_int_equal(cfg.server.tcp_io_timeout_ms, 3600000);
	assert_int_equal(cfg.server.tcp_max_conns, 65536);
	assert_int_equal(cfg.server.udp_rcvbuf, 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_WARN);
}

static void test_config_parse_udp_direct(void **state)
{
	(void)state;
	assert_int_equal(parse("--udp-direct", "on", NULL), 0);
	assert_int_equal(cfg.server.udp_direct, CONFIG_UDP_DIRECT_ON);
	assert_int_equal(parse("--udp-direct=off", NULL), 0);
	assert_int_equal(cfg.server.udp_direct, CONFIG_UDP_DIRECT_OFF);
	assert_int_equal(parse("--udp-direct", "auto", NULL), 0);
	assert_int_equal(cfg.server.udp_direct, CONFIG_UDP_DIRECT_AUTO);
	assert_parse_error("--udp-direct: 'always' is not one of auto, on, off",
	                   "--udp-direct", "always");
	assert_parse_error("--udp-direct: '' is not one of auto, on, off",
	                   "--udp-direct=");
}

static void test_config_parse_pods_modes(void **state)
{
	(void)state;
	assert_int_equal(parse("--pods", "verified", NULL), 0);
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_VERIFIED);
	assert_int_equal(parse("--pods=insecure", NULL), 0);
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_INSECURE);
	assert_int_equal(parse("--pods", "disabled", NULL), 0);
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_DISABLED);
	assert_string_equal(config_pods_name(CONFIG_PODS_INSECURE), "insecure");
	assert_parse_error(
		"--pods: 'Verified' is not one of verified, insecure, disabled",
		"--pods", "Verified");
	assert_parse_error(
		"--pods: '' is not one of verified, insecure, disabled",
		"--pods=");
}

static void test_config_parse_log_levels(void **state)
{
	(void)state;
	assert_int_equal(parse("--log-level", "error", NULL), 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_ERR);
	assert_int_equal(parse("--log-level=debug", NULL), 0);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_parse_error(
		"--log-level: 'loud' is not one of error, warn, info, debug",
		"--log-level", "loud");
}

static void test_config_parse_listen_ipv6(void **state)
{
	(void)state;
	assert_int_equal(parse("--listen", "[::1]:5353", NULL), 0);
	assert_int_equal(cfg.server.n_listen, 1);
	assert_listen(&cfg.server.listen[0], AF_INET6, "::1", 5353,
	              "[::1]:5353");
	/* The text is canonical (RFC 5952), whatever was typed. */
	assert_int_equal(parse("--listen=[FD00:0:0:0::0001]:53", NULL), 0);
	assert_listen(&cfg.server.listen[0], AF_INET6, "fd00::1", 53,
	              "[fd00::1]:53");
	assert_false(cfg.server.listen[0].wildcard);
	assert_int_equal(parse("--listen", "[::]:53", NULL), 0);
	assert_true(cfg.server.listen[0].wildcard);
}

static void test_config_parse_listen_repeat(void **state)
{
	(void)state;
	/* The first --listen replaces the default; later ones add. */
	assert_int_equal(parse("--listen", "127.0.0.1:15353", "--listen",
	                       "[::1]:15353", "--listen=0.0.0.0:53", NULL),
	                 0);
	assert_int_equal(cfg.server.n_listen, 3);
	assert_listen(&cfg.server.listen[0], AF_INET, "127.0.0.1", 15353,
	              "127.0.0.1:15353");
	assert_listen(&cfg.server.listen[1], AF_INET6, "::1", 15353,
	              "[::1]:15353");
	assert_listen(&cfg.server.listen[2], AF_INET, "0.0.0.0", 53,
	              "0.0.0.0:53");
	assert_false(cfg.server.listen[0].wildcard);
	assert_true(cfg.server.listen[2].wildcard);
}

static void test_config_parse_listen_bad(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1", "::1:53",         "[::1]53",
		"[::1]",     "[::1:53",        "localhost:53",
		":53",       "[]:53",          "1.2.3.4.5:53",
		"1.2.3:53",  "[127.0.0.1]:53", "[fe80::1%lo]:53",
		"",
	};
	static const char *const bad_port[] = {
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:",
		"127.0.0.1:5x",
		"[::1]:",
		"127.0.0.1:+53",
		"127.0.0.1: 53",
		"127.0.0.1:99999999999999999999999",
	};
	char want[256];
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(bad); i++) {
		snprintf(
			want, sizeof(want),
			"--listen: '%s' is not ADDR:PORT (an IPv4 address, or IPv6 in brackets as [::1]:5353)",
			bad[i]);
		assert_int_equal(parse("--listen", bad[i], NULL), -EINVAL);
		assert_string_equal(err, want);
	}
	for (i = 0; i < SVCDNS_ARRAY_SIZE(bad_port); i++) {
		snprintf(want, sizeof(want),
		         "--listen: the port in '%s' is not in 1..65535",
		         bad_port[i]);
		assert_int_equal(parse("--listen", bad_port[i], NULL), -EINVAL);
		assert_string_equal(err, want);
	}
	assert_int_equal(parse("--listen", "127.0.0.1:65535", NULL), 0);
	assert_parse_error("--listen: 127.0.0.1:53 is given twice", "--listen",
	                   "127.0.0.1:53", "--listen", "127.0.0.1:053");
	assert_parse_error("--listen: [::1]:53 is given twice", "--listen",
	                   "[::1]:53", "--listen", "[0::1]:53");
}

static void test_config_parse_listen_max(void **state)
{
	char addrs[CONFIG_MAX_LISTEN + 1][32];
	char *argv[2 * (CONFIG_MAX_LISTEN + 1) + 1];
	int argc = 0;
	int i;

	(void)state;
	argv[argc++] = (char *)(uintptr_t) "svcdns";
	for (i = 0; i < CONFIG_MAX_LISTEN; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.%d:53", i + 1);
		argv[argc++] = (char *)(uintptr_t) "--listen";
		argv[argc++] = addrs[i];
	}
	assert_int_equal(config_parse(&cfg, argc, argv, err, sizeof(err)), 0);
	assert_int_equal(cfg.server.n_listen, CONFIG_MAX_LISTEN);
	snprintf(addrs[i], sizeof(addrs[i]), "127.0.1.1:53");
	argv[argc++] = (char *)(uintptr_t) "--listen";
	argv[argc++] = addrs[i];
	assert_int_equal(config_parse(&cfg, argc, argv, err, sizeof(err)),
	                 -EINVAL);
	assert_string_equal(err, "--listen: at most 16 addresses");
}

static void test_config_parse_domain(void **state)
{
	(void)state;
	assert_int_equal(parse("--domain", "Cluster.Local.", NULL), 0);
	assert_int_equal(cfg.zones.n_names, 1);
	assert_string_equal(cfg.zones.names[0], "cluster.local");
	/* The first --domain replaces the default; the first is primary. */
	assert_int_equal(parse("--domain", "corp.example", "--domain=k8s.local",
	                       "--domain", "a-b.c0", NULL),
	                 0);
	assert_int_equal(cfg.zones.n_names, 3);
	assert_string_equal(cfg.zones.names[0], "corp.example");
	assert_string_equal(cfg.zones.names[1], "k8s.local");
	assert_string_equal(cfg.zones.names[2], "a-b.c0");
	/* A single label is a valid zone. */
	assert_int_equal(parse("--domain", "local", NULL), 0);
	assert_string_equal(cfg.zones.names[0], "local");
}

static void test_config_parse_domain_bad(void **state)
{
	static const char *const bad[] = {
		"",      ".",           "..",       "a..b",      ".a",
		"a.b..", "-a.local",    "a-.local", "a_b.local", "a b",
		"a/b",   "caf\xc3\xa9", "a\\.b",    "*.local",
	};
	char label64[70];
	char long_name[300];
	char want[512];
	size_t i;

	(void)state;
	for (i = 0; i < SVCDNS_ARRAY_SIZE(bad); i++) {
		snprintf(
			want, sizeof(want),
			"--domain: '%s' is not a valid DNS name (labels of 1..63 letters, digits or '-', at most 253 characters)",
			bad[i]);
		assert_int_equal(parse("--domain", bad[i], NULL), -EINVAL);
		assert_string_equal(err, want);
	}
	/* Label 63 passes, 64 fails. */
	memset(label64, 'a', 63);
	strcpy(label64 + 63, ".x");
	assert_int_equal(parse("--domain", label64, NULL), 0);
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".x");
	assert_int_equal(parse("--domain", label64, NULL), -EINVAL);
	/* 253 characters pass (255 octets in wire form), 254 fail; a
	 * trailing dot does not count. */
	for (i = 0; i < 253; i++) {
		long_name[i] = (i % 2 == 0) ? 'a' : '.';
	}
	long_name[253] = '\0';
	assert_int_equal(parse("--domain", long_name, NULL), 0);
	long_name[253] = '.';
	long_name[254] = '\0';
	assert_int_equal(parse("--domain", long_name, NULL), 0);
	long_name[253] = 'b';
	long_name[254] = '\0';
	assert_int_equal(parse("--domain", long_name, NULL), -EINVAL);
}

static void test_config_parse_domain_overlap(void **state)
{
	(void)state;
	assert_parse_error("--domain: 'cluster.local' overlaps 'cluster.local'",
	                   "--domain", "cluster.local", "--domain",
	                   "CLUSTER.local.");
	assert_parse_error(
		"--domain: 'svc.cluster.local' overlaps 'cluster.local'",
		"--domain", "cluster.local", "--domain", "svc.cluster.local");
	assert_parse_error(
		"--domain: 'cluster.local' overlaps 'a.cluster.local'",
		"--domain", "a.cluster.local", "--domain", "cluster.local");
	/* By whole labels: xcluster.local is not inside cluster.local. */
	assert_int_equal(parse("--domain", "cluster.local", "--domain",
	                       "xcluster.local", NULL),
	                 0);
	assert_int_equal(cfg.zones.n_names, 2);
}

static void test_config_parse_domain_max(void **state)
{
	(void)state;
	assert_int_equal(parse("--domain", "a1", "--domain", "a2", "--domain",
	                       "a3", "--domain", "a4", "--domain", "a5",
	                       "--domain", "a6", "--domain", "a7", "--domain",
	                       "a8", NULL),
	                 0);
	assert_int_equal(cfg.zones.n_names, CONFIG_MAX_ZONES);
	assert_parse_error("--domain: at most 8 zones", "--domain", "a1",
	                   "--domain", "a2", "--domain", "a3", "--domain", "a4",
	                   "--domain", "a5", "--domain", "a6", "--domain", "a7",
	                   "--domain", "a8", "--domain", "a9");
}

static void test_config_parse_numbers(void **state)
{
	(void)state;
	assert_int_equal(parse("--ttl", "3600", NULL), 0);
	assert_int_equal(cfg.zones.ttl, 3600);
	assert_parse_error("--ttl: '3601' is not a number in 0..3600", "--ttl",
	                   "3601");
	assert_parse_error("--ttl: '-1' is not a number in 0..3600", "--ttl",
	                   "-1");
	assert_parse_error("--ttl: '' is not a number in 0..3600", "--ttl=");
	assert_parse_error("--ttl: '5s' is not a number in 0..3600", "--ttl",
	                   "5s");
	assert_parse_error("--ttl: ' 5' is not a number in 0..3600", "--ttl",
	                   " 5");
	assert_parse_error("--ttl: '0x10' is not a number in 0..3600", "--ttl",
	                   "0x10");
	assert_parse_error(
		"--ttl: '18446744073709551621' is not a number in 0..3600",
		"--ttl", "18446744073709551621");
	assert_int_equal(parse("--ttl", "0005", NULL), 0);
	assert_int_equal(cfg.zones.ttl, 5);

	assert_int_equal(parse("--threads", "1", NULL), 0);
	assert_int_equal(cfg.server.threads, 1);
	assert_parse_error("--threads: '0' is not a number in 1..64",
	                   "--threads", "0");
	assert_parse_error("--threads: '65' is not a number in 1..64",
	                   "--threads=65");

	assert_parse_error(
		"--tcp-idle-timeout: '0' is not a number in 1..3600000",
		"--tcp-idle-timeout", "0");
	assert_parse_error(
		"--tcp-io-timeout: '3600001' is not a number in 1..3600000",
		"--tcp-io-timeout", "3600001");
	assert_parse_error("--tcp-max-conns: '0' is not a number in 1..65536",
	                   "--tcp-max-conns", "0");
	assert_parse_error(
		"--tcp-max-conns: 'many' is not a number in 1..65536",
		"--tcp-max-conns=many");
	assert_parse_error(
		"--udp-rcvbuf: '268435457' is not a number in 0..268435456",
		"--udp-rcvbuf", "268435457");
	assert_parse_error("--udp-rcvbuf: '1M' is not a number in 0..268435456",
	                   "--udp-rcvbuf=1M");
}

static void test_config_parse_upstream(void **state)
{
	(void)state;
	assert_int_equal(parse("--upstream", "none", NULL), 0);
	assert_false(cfg.upstream.forward);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_NONE);
	assert_int_equal(parse("--upstream", "resolv.conf", NULL), 0);
	assert_true(cfg.upstream.forward);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_RESOLV_CONF);
	assert_string_equal(cfg.upstream.resolv_conf, "/etc/resolv.conf");
	assert_int_equal(parse("--upstream=/run/r.conf", NULL), 0);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_RESOLV_CONF);
	assert_string_equal(cfg.upstream.resolv_conf, "/run/r.conf");
	assert_int_equal(parse("--upstream",
	                       "8.8.8.8,10.0.0.1:5353,[fd00::1]:54,::1,[::2]",
	                       NULL),
	                 0);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_LIST);
	assert_int_equal(cfg.upstream.n_servers, 5);
	assert_string_equal(cfg.upstream.servers[0].text, "8.8.8.8:53");
	assert_string_equal(cfg.upstream.servers[1].text, "10.0.0.1:5353");
	assert_string_equal(cfg.upstream.servers[2].text, "[fd00::1]:54");
	assert_string_equal(cfg.upstream.servers[3].text, "[::1]:53");
	assert_string_equal(cfg.upstream.servers[4].text, "[::2]:53");
	/* Duplicates collapse. */
	assert_int_equal(parse("--upstream", "1.1.1.1,1.1.1.1:53", NULL), 0);
	assert_int_equal(cfg.upstream.n_servers, 1);
	assert_parse_error(
		"--upstream: 'x.y' is not an address (ADDR, ADDR:PORT, [V6] or [V6]:PORT)",
		"--upstream", "x.y");
	assert_parse_error(
		"--upstream: '1.2.3.4:0' is not an address (ADDR, ADDR:PORT, [V6] or [V6]:PORT)",
		"--upstream", "1.2.3.4:0");
	assert_parse_error("--upstream: '0.0.0.0:53' is a wildcard address",
	                   "--upstream", "0.0.0.0:53");
	assert_parse_error(
		"--upstream: '1.1.1.1,' is not none, resolv.conf, a resolv.conf path or ADDR[:PORT],...",
		"--upstream", "1.1.1.1,");
	assert_parse_error(
		"--upstream: at most 8 servers", "--upstream",
		"1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9");
}

static void test_config_parse_forward_numbers(void **state)
{
	(void)state;
	assert_int_equal(parse("--upstream-timeout", "500",
	                       "--upstream-max-inflight", "7", "--cache-size",
	                       "0", "--cache-max-ttl", "60", NULL),
	                 0);
	assert_int_equal(cfg.upstream.timeout_ms, 500);
	assert_int_equal(cfg.upstream.max_inflight, 7);
	assert_int_equal(cfg.upstream.cache_size, 0);
	assert_int_equal(cfg.upstream.cache_max_ttl, 60);
	assert_parse_error(
		"--upstream-timeout: '99' is not a number in 100..60000",
		"--upstream-timeout", "99");
	assert_parse_error(
		"--upstream-max-inflight: '0' is not a number in 1..50000",
		"--upstream-max-inflight", "0");
	assert_parse_error("--cache-size: '-1' is not a number in 0..10000000",
	                   "--cache-size", "-1");
}

static void test_config_parse_allow_recursion(void **state)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	(void)state;
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	s4.sin_family = AF_INET;
	s6.sin6_family = AF_INET6;
	/* The defaults: loopback and the private ranges. */
	assert_int_equal(parse(NULL), 0);
	inet_pton(AF_INET, "172.31.255.1", &s4.sin_addr);
	assert_true(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                              (struct sockaddr *)&s4));
	inet_pton(AF_INET, "172.32.0.1", &s4.sin_addr);
	assert_false(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                               (struct sockaddr *)&s4));
	inet_pton(AF_INET6, "fd12::1", &s6.sin6_addr);
	assert_true(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                              (struct sockaddr *)&s6));
	inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
	assert_false(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                               (struct sockaddr *)&s6));
	/* A v4-mapped address counts as IPv4. */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
	assert_true(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                              (struct sockaddr *)&s6));
	assert_int_equal(
		parse("--allow-recursion", "127.0.0.1,10.9.8.0/23", NULL), 0);
	assert_int_equal(cfg.upstream.n_allow, 2);
	inet_pton(AF_INET, "127.0.0.2", &s4.sin_addr);
	assert_false(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                               (struct sockaddr *)&s4));
	inet_pton(AF_INET, "10.9.9.255", &s4.sin_addr);
	assert_true(config_cidr_match(cfg.upstream.allow, cfg.upstream.n_allow,
	                              (struct sockaddr *)&s4));
	assert_int_equal(parse("--allow-recursion", "none", NULL), 0);
	assert_int_equal(cfg.upstream.n_allow, 0);
	assert_parse_error(
		"--allow-recursion: '10.0.0.0/33' is not an address or ADDR/BITS",
		"--allow-recursion", "10.0.0.0/33");
	assert_parse_error(
		"--allow-recursion: '' is not none or CIDR,... (10.0.0.0/8, fd00::/8, 127.0.0.1)",
		"--allow-recursion", "");
}

static void test_config_parse_fallthrough(void **state)
{
	(void)state;
	assert_int_equal(
		parse("--fallthrough", "Cluster.Local.,example.org", NULL), 0);
	assert_int_equal(cfg.upstream.n_fallthrough, 2);
	assert_string_equal(cfg.upstream.fallthrough[0], "cluster.local");
	assert_string_equal(cfg.upstream.fallthrough[1], "example.org");
	assert_parse_error("--fallthrough: 'a..b' is not a valid DNS name",
	                   "--fallthrough", "a..b");
}

static bool self_is_1(const struct config_listen *l, void *arg)
{
	(void)arg;
	return strcmp(l->text, "10.0.0.1:53") == 0;
}

static void test_config_upstream_from_resolv(void **state)
{
	static const char text[] =
		"# written by hand\n"
		"search default.svc.cluster.local svc.cluster.local\n"
		"nameserver 10.0.0.1\n"
		"nameserver\t192.0.2.53 # a comment\n"
		"nameserver fe80::1%eth0\n"
		"nameserver 2001:db8::53\n"
		"nameserver 192.0.2.53\n"
		"nameserver bogus\n"
		"options ndots:5\n";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_upstream_from_resolv(&cfg.upstream, text,
	                                             self_is_1, NULL),
	                 2);
	assert_string_equal(cfg.upstream.servers[0].text, "192.0.2.53:53");
	assert_string_equal(cfg.upstream.servers[1].text, "[2001:db8::53]:53");
	assert_int_equal(
		config_upstream_from_resolv(&cfg.upstream, "", NULL, NULL), 0);
}

static void test_config_parse_zones(void **state)
{
	char big[CONFIG_PATH_MAX + 8];

	(void)state;
	assert_int_equal(parse("--zones=a dir/with=equals", NULL), 0);
	assert_string_equal(cfg.zones.dir, "a dir/with=equals");
	assert_parse_error("--zones: the directory name is empty", "--zones",
	                   "");
	memset(big, 'd', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_parse_error("--zones: the path is longer than 4095 characters",
	                   "--zones", big);
	big[CONFIG_PATH_MAX - 1] = '\0';
	assert_int_equal(parse("--zones", big, NULL), 0);
}

static void test_config_parse_modes(void **state)
{
	(void)state;
	assert_int_equal(parse("--check", NULL), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_CHECK);
	assert_int_equal(parse("--dump", "--ttl", "7", NULL), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_DUMP);
	assert_int_equal(cfg.zones.ttl, 7);
	assert_parse_error("--check and --dump cannot be used together",
	                   "--dump", "--check");
	/* --help and --version win at once, even over later mistakes. */
	assert_int_equal(parse("--help", "--bogus", NULL), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_HELP);
	assert_int_equal(parse("-h", NULL), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_HELP);
	assert_int_equal(parse("--check", "--version", NULL), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_VERSION);
	/* ...but not over earlier ones. */
	assert_parse_error("--ttl: 'x' is not a number in 0..3600", "--ttl",
	                   "x", "--help");
}

static void test_config_parse_bad_usage(void **state)
{
	(void)state;
	assert_parse_error("unknown option '--bogus' (try --help)", "--bogus");
	assert_parse_error("unknown option '--bogus' (try --help)",
	                   "--bogus=1");
	/* No abbreviations, unlike getopt_long. */
	assert_parse_error("unknown option '--zone' (try --help)", "--zone",
	                   "x");
	assert_parse_error("unknown option '-v' (try --help)", "-v");
	assert_parse_error("unknown option '---ttl' (try --help)", "---ttl",
	                   "5");
	assert_parse_error("unexpected argument 'zones'", "zones");
	assert_parse_error("unexpected argument '-'", "-");
	assert_parse_error("unexpected argument 'x'", "--", "x");
	assert_int_equal(parse("--ttl", "9", "--", NULL), 0);
	assert_parse_error("--ttl needs a value", "--ttl");
	assert_parse_error("--listen needs a value", "--check", "--listen");
	assert_parse_error("--check takes no value", "--check=yes");
	assert_parse_error("--help takes no value", "--help=1");
	/* A value that looks like an option is still the value. */
	assert_parse_error("--zones: the directory name is empty", "--zones=");
	assert_int_equal(parse("--zones", "--check", NULL), 0);
	assert_string_equal(cfg.zones.dir, "--check");
	assert_int_equal(cfg.mode, CONFIG_MODE_SERVE);
}

static void test_config_parse_error_truncated(void **state)
{
	char small[16];
	char *argv[] = { (char *)(uintptr_t) "svcdns",
		         (char *)(uintptr_t) "--bogus-option-name", NULL };

	(void)state;
	assert_int_equal(config_parse(&cfg, 2, argv, small, sizeof(small)),
	                 -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(config_parse(&cfg, 2, argv, NULL, 0), -EINVAL);
}

static void test_config_print_usage(void **state)
{
	char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	static const char *const names[] = {
		"--zones",
		"--listen",
		"--domain",
		"--pods",
		"--ttl",
		"--upstream",
		"--upstream-timeout",
		"--upstream-max-inflight",
		"--allow-recursion",
		"--cache-size",
		"--cache-max-ttl",
		"--fallthrough",
		"--threads",
		"--tcp-idle-timeout",
		"--tcp-io-timeout",
		"--tcp-max-conns",
		"--udp-rcvbuf",
		"--udp-direct",
		"--settle-ms",
		"--rescan-interval",
		"--cache",
		"--http",
		"--kubernetes",
		"--kubeconfig",
		"--namespaces",
		"--labels",
		"--kube-pods",
		"--config",
		"--log-queries",
		"--check",
		"--dump",
		"--log-level",
		"--version",
		"--help",
	};
	size_t i;

	(void)state;
	assert_non_null(f);
	config_print_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "Usage: svcdns"));
	for (i = 0; i < SVCDNS_ARRAY_SIZE(names); i++) {
		assert_non_null(strstr(buf, names[i]));
	}
}

static void test_config_parse_http(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_true(cfg.http.enabled);
	assert_listen(&cfg.http.listen, AF_INET, "127.0.0.1", 9153,
	              "127.0.0.1:9153");
	assert_int_equal(parse("--http", "none", NULL), 0);
	assert_false(cfg.http.enabled);
	assert_int_equal(parse("--http", "none", "--http=[::1]:8080", NULL), 0);
	assert_true(cfg.http.enabled);
	assert_listen(&cfg.http.listen, AF_INET6, "::1", 8080, "[::1]:8080");
	assert_parse_error(
		"--http: 'localhost:80' is not none or ADDR:PORT (IPv6 in brackets as [::1]:9153)",
		"--http", "localhost:80");
	assert_parse_error(
		"--http: the port in '127.0.0.1:0' is not in 1..65535",
		"--http", "127.0.0.1:0");
}

static void test_config_parse_log_queries(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_false(cfg.log_queries);
	assert_int_equal(parse("--log-queries", NULL), 0);
	assert_true(cfg.log_queries);
	assert_int_equal(parse("--log-queries", "--log-queries=no", NULL), 0);
	assert_false(cfg.log_queries);
	assert_int_equal(parse("--log-queries=TRUE", NULL), 0);
	assert_true(cfg.log_queries);
	assert_parse_error("--log-queries: 'maybe' is not true or false",
	                   "--log-queries=maybe");
	/* The value must be joined: a separate word is a stray argument. */
	assert_parse_error("unexpected argument 'false'", "--log-queries",
	                   "false");
}

static void test_config_parse_kube(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_false(cfg.kube.enabled);
	assert_int_equal(cfg.kube.pods, CONFIG_KUBE_PODS_AUTO);
	assert_int_equal(parse("--kubernetes", NULL), 0);
	assert_true(cfg.kube.enabled);
	assert_string_equal(cfg.kube.kubeconfig, "");
	assert_int_equal(parse("--kubeconfig", "/etc/k.yaml", "--namespaces",
	                       "default,kube-system", "--labels",
	                       "app in (web, api),tier!=db", "--kube-pods",
	                       "never", NULL),
	                 0);
	assert_true(cfg.kube.enabled);
	assert_string_equal(cfg.kube.kubeconfig, "/etc/k.yaml");
	assert_int_equal(cfg.kube.n_namespaces, 2);
	assert_string_equal(cfg.kube.namespaces[1], "kube-system");
	assert_string_equal(cfg.kube.labels, "app in (web, api),tier!=db");
	assert_int_equal(cfg.kube.pods, CONFIG_KUBE_PODS_NEVER);
	assert_int_equal(
		parse("--namespaces", "a", "--namespaces", "all", NULL), 0);
	assert_int_equal(cfg.kube.n_namespaces, 0);
	assert_parse_error("--namespaces: 'Bad_NS' is not a namespace name",
	                   "--namespaces", "a,Bad_NS");
	assert_parse_error("--namespaces: '' is not a namespace name",
	                   "--namespaces", "a,,b");
	assert_parse_error("--labels: 'app=web&x=1' is not a label selector",
	                   "--labels", "app=web&x=1");
	assert_parse_error(
		"--kube-pods: 'sometimes' is not one of auto, never, always",
		"--kube-pods", "sometimes");
	assert_parse_error("--kubernetes: 'maybe' is not true or false",
	                   "--kubernetes=maybe");
}

static void test_config_parse_cache(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_string_equal(cfg.cache, "");
	assert_int_equal(parse("--cache", "/var/cache/svcdns/snapshot", NULL),
	                 0);
	assert_string_equal(cfg.cache, "/var/cache/svcdns/snapshot");
	assert_int_equal(parse("--cache=/x", "--cache", "none", NULL), 0);
	assert_string_equal(cfg.cache, "");
	assert_parse_error("--cache: '' is not a file name", "--cache=");
}

/* Applies text as the file "svcdns.yaml" on top of argv (NULL-terminated);
 * the diagnostics land in diags, one "line:col: message" per line. */
static struct diag fdiag;
static char diags[2048];

static int parse_file(const char *text, ...)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	va_list ap;
	const char *a;
	const struct diag_entry *e;
	size_t off = 0;
	int rc;

	argv[argc++] = (char *)(uintptr_t) "svcdns";
	va_start(ap, text);
	for (a = va_arg(ap, const char *); a != NULL;
	     a = va_arg(ap, const char *)) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)(uintptr_t)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	diag_fini(&fdiag);
	diag_init(&fdiag);
	rc = config_parse_with_file(&cfg, argc, argv, "svcdns.yaml", text,
	                            strlen(text), &fdiag, err, sizeof(err));
	diags[0] = '\0';
	for (e = fdiag.head; e != NULL && off < sizeof(diags); e = e->next) {
		assert_string_equal(e->file, "svcdns.yaml");
		off += (size_t)snprintf(diags + off, sizeof(diags) - off,
		                        "%u:%u: %s\n", e->line, e->col, e->msg);
	}
	return rc;
}

static void test_config_file_every_key(void **state)
{
	static const char text[] = "# every configuration key\n"
				   "zones: /srv/zones\n"
				   "listen: [\"127.0.0.2:53\", \"[::1]:53\"]\n"
				   "domain:\n"
				   "  - cluster.local\n"
				   "  - k8s.example\n"
				   "pods: insecure\n"
				   "ttl: 30\n"
				   "upstream: [10.0.0.2, \"[fd00::1]:5300\"]\n"
				   "upstream-timeout: 1500\n"
				   "upstream-max-inflight: 50\n"
				   "allow-recursion: [10.0.0.0/8, fd00::/8]\n"
				   "cache-size: 0\n"
				   "cache-max-ttl: 60\n"
				   "fallthrough: example.org\n"
				   "threads: 3\n"
				   "tcp-idle-timeout: 5000\n"
				   "tcp-io-timeout: 500\n"
				   "tcp-max-conns: 64\n"
				   "udp-rcvbuf: 4194304\n"
				   "udp-direct: \"off\"\n"
				   "settle-ms: 100\n"
				   "rescan-interval: 0\n"
				   "http: \"[::1]:9154\"\n"
				   "log-level: debug\n"
				   "log-queries: yes\n"
				   "kubernetes: true\n"
				   "kubeconfig: /etc/svcdns/kubeconfig\n"
				   "namespaces: [default, shop]\n"
				   "labels: \"app=web\"\n"
				   "kube-pods: always\n";

	(void)state;
	assert_int_equal(parse_file(text, NULL), 0);
	assert_string_equal(diags, "");
	assert_string_equal(cfg.zones.dir, "/srv/zones");
	assert_int_equal(cfg.server.n_listen, 2);
	assert_string_equal(cfg.server.listen[1].text, "[::1]:53");
	assert_int_equal(cfg.zones.n_names, 2);
	assert_string_equal(cfg.zones.names[1], "k8s.example");
	assert_int_equal(cfg.zones.pods, CONFIG_PODS_INSECURE);
	assert_int_equal(cfg.zones.ttl, 30);
	assert_int_equal(cfg.upstream.mode, CONFIG_UPSTREAM_LIST);
	assert_int_equal(cfg.upstream.n_servers, 2);
	assert_string_equal(cfg.upstream.servers[0].text, "10.0.0.2:53");
	assert_string_equal(cfg.upstream.servers[1].text, "[fd00::1]:5300");
	assert_int_equal(cfg.upstream.timeout_ms, 1500);
	assert_int_equal(cfg.upstream.max_inflight, 50);
	assert_int_equal(cfg.upstream.n_allow, 2);
	assert_int_equal(cfg.upstream.cache_size, 0);
	assert_int_equal(cfg.upstream.cache_max_ttl, 60);
	assert_int_equal(cfg.upstream.n_fallthrough, 1);
	assert_int_equal(cfg.server.threads, 3);
	assert_int_equal(cfg.server.tcp_idle_timeout_ms, 5000);
	assert_int_equal(cfg.server.tcp_io_timeout_ms, 500);
	assert_int_equal(cfg.server.tcp_max_conns, 64);
	assert_int_equal(cfg.server.udp_rcvbuf, 4194304);
	assert_int_equal(cfg.server.udp_direct, CONFIG_UDP_DIRECT_OFF);
	assert_int_equal(cfg.watch.settle_ms, 100);
	assert_int_equal(cfg.watch.rescan_ms, 0);
	assert_true(cfg.http.enabled);
	assert_string_equal(cfg.http.listen.text, "[::1]:9154");
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_true(cfg.log_queries);
	assert_true(cfg.kube.enabled);
	assert_string_equal(cfg.kube.kubeconfig, "/etc/svcdns/kubeconfig");
	assert_int_equal(cfg.kube.n_namespaces, 2);
	assert_string_equal(cfg.kube.namespaces[1], "shop");
	assert_string_equal(cfg.kube.labels, "app=web");
	assert_int_equal(cfg.kube.pods, CONFIG_KUBE_PODS_ALWAYS);
}

static void test_config_file_command_line_wins(void **state)
{
	static const char text[] = "ttl: 30\n"
				   "listen: [127.0.0.2:53, 127.0.0.3:53]\n"
				   "domain: k8s.example\n"
				   "log-queries: true\n"
				   "http: none\n";

	(void)state;
	assert_int_equal(parse_file(text, "--ttl", "10", "--listen",
	                            "127.0.0.9:5353", "--log-queries=false",
	                            "--config", "svcdns.yaml", "--check", NULL),
	                 0);
	assert_int_equal(cfg.zones.ttl, 10);
	/* A list on the command line replaces the file's. */
	assert_int_equal(cfg.server.n_listen, 1);
	assert_string_equal(cfg.server.listen[0].text, "127.0.0.9:5353");
	assert_string_equal(cfg.zones.names[0], "k8s.example");
	assert_false(cfg.log_queries);
	assert_false(cfg.http.enabled);
	assert_string_equal(cfg.file, "svcdns.yaml");
	assert_int_equal(cfg.mode, CONFIG_MODE_CHECK);
	/* A bad command line is still reported as one. */
	assert_int_equal(parse_file(text, "--ttl", "x", NULL), -EINVAL);
	assert_string_equal(err, "--ttl: 'x' is not a number in 0..3600");
	assert_string_equal(diags, "");
}

static void test_config_file_empty(void **state)
{
	struct config d;

	(void)state;
	config_defaults(&d);
	assert_int_equal(parse_file("", NULL), 0);
	assert_memory_equal(&d, &cfg, sizeof(d));
	assert_int_equal(parse_file("# nothing yet\n---\n", NULL), 0);
	assert_memory_equal(&d, &cfg, sizeof(d));
}

/* Every error is reported, each at its place, and reading goes on. */
static void test_config_file_errors(void **state)
{
	static const char text[] = "zones: /srv/zones\n"                /* 1 */
				   "ttl: 9999\n"                        /* 2 */
				   "colour: blue\n"                     /* 3 */
				   "listen: [127.0.0.1:53, nowhere]\n"  /* 4 */
				   "ttl: 5\n"                           /* 5 */
				   "check: true\n"                      /* 6 */
				   "pods: {mode: verified}\n"           /* 7 */
				   "threads: [1, 2]\n"                  /* 8 */
				   "domain: []\n"                       /* 9 */
				   "log-queries: sometimes\n"           /* 10 */
				   "zones:\n"                           /* 11 */
				   "upstream: [10.0.0.1, [10.0.0.2]]\n" /* 12 */
				   "cache-size:\n";                     /* 13 */

	(void)state;
	assert_int_equal(parse_file(text, NULL), -EINVAL);
	assert_string_equal(err, "svcdns.yaml: 12 error(s)");
	assert_string_equal(
		diags,
		"2:6: ttl: '9999' is not a number in 0..3600\n"
		"3:1: unknown key 'colour'\n"
		"4:24: listen: 'nowhere' is not ADDR:PORT (an IPv4 address, or IPv6 in brackets as [::1]:5353)\n"
		"5:1: 'ttl' is given twice (first at line 2)\n"
		"6:1: 'check' is a command-line option, not a configuration key\n"
		"7:7: pods: expected a single value\n"
		"8:10: threads: expected a single value\n"
		"9:9: domain: the list is empty\n"
		"10:14: log-queries: 'sometimes' is not true or false\n"
		"11:1: 'zones' is given twice (first at line 1)\n"
		"12:22: upstream: each item must be a plain value\n"
		"13:12: cache-size: no value\n");
}

static void test_config_file_syntax(void **state)
{
	(void)state;
	assert_int_equal(parse_file("ttl: 5\nlisten: [127.0.0.1:53\n", NULL),
	                 -EINVAL);
	assert_non_null(strstr(diags, "3:1: did not find expected ',' or ']'"));
	assert_int_equal(parse_file("- ttl: 5\n", NULL), -EINVAL);
	assert_string_equal(
		diags,
		"1:1: expected a mapping of option names to values (zones: /etc/svcdns/zones)\n");
	assert_int_equal(parse_file("ttl: 5\n---\nttl: 6\n", NULL), -EINVAL);
	assert_string_equal(
		diags, "3:1: a second YAML document: put every key in one\n");
	assert_int_equal(parse_file("ttl: 5\n\tpods: x\n", NULL), -EINVAL);
	assert_int_equal(fdiag.errors, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_parse_defaults),
		cmocka_unit_test(test_config_defaults_equal_parse),
		cmocka_unit_test(test_config_parse_both_forms),
		cmocka_unit_test(test_config_parse_each_option),
		cmocka_unit_test(test_config_parse_udp_direct),
		cmocka_unit_test(test_config_parse_pods_modes),
		cmocka_unit_test(test_config_parse_log_levels),
		cmocka_unit_test(test_config_parse_listen_ipv6),
		cmocka_unit_test(test_config_parse_listen_repeat),
		cmocka_unit_test(test_config_parse_listen_bad),
		cmocka_unit_test(test_config_parse_listen_max),
		cmocka_unit_test(test_config_parse_domain),
		cmocka_unit_test(test_config_parse_domain_bad),
		cmocka_unit_test(test_config_parse_domain_overlap),
		cmocka_unit_test(test_config_parse_domain_max),
		cmocka_unit_test(test_config_parse_numbers),
		cmocka_unit_test(test_config_parse_upstream),
		cmocka_unit_test(test_config_parse_forward_numbers),
		cmocka_unit_test(test_config_parse_allow_recursion),
		cmocka_unit_test(test_config_parse_fallthrough),
		cmocka_unit_test(test_config_upstream_from_resolv),
		cmocka_unit_test(test_config_parse_zones),
		cmocka_unit_test(test_config_parse_modes),
		cmocka_unit_test(test_config_parse_bad_usage),
		cmocka_unit_test(test_config_parse_error_truncated),
		cmocka_unit_test(test_config_print_usage),
		cmocka_unit_test(test_config_parse_http),
		cmocka_unit_test(test_config_parse_log_queries),
		cmocka_unit_test(test_config_parse_kube),
		cmocka_unit_test(test_config_parse_cache),
		cmocka_unit_test(test_config_file_every_key),
		cmocka_unit_test(test_config_file_command_line_wins),
		cmocka_unit_test(test_config_file_empty),
		cmocka_unit_test(test_config_file_errors),
		cmocka_unit_test(test_config_file_syntax),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
