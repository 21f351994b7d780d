# svcdns — plain GNU make. `make run` and `make test` install what is missing
# (Debian 12, apt-get) first; see README.md.

CORE  := arena log diag metrics sdnotify dname wire qlog cache config k8s selector manifest bluegreen snapshot answer rrl privs dirstamp kube_lines kube_store kubeconfig
IO    := forward server watch http ops kube main
comma := ,
# SAN=address,undefined | SAN=thread; packaging may set WERROR= .
SAN   ?=
BUILD := build$(if $(SAN),/san-$(subst $(comma),+,$(SAN)))
WERROR ?= -Werror
WARN  := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
         -Wmissing-prototypes -Wold-style-definition -Wformat=2 -Wvla \
         -Wcast-qual -Wpointer-arith -Wwrite-strings -Wundef \
         -Wimplicit-fallthrough=5 -Wduplicated-cond -Wduplicated-branches \
         -Wlogical-op -Wnull-dereference
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
          -fstack-clash-protection -fcf-protection -fPIE
HARDEN_LD := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
CFLAGS   ?= -O2 -g
SANFLAGS := $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer)
PKGS     := libuv libcares yaml-0.1 libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ALL_CFLAGS   = -std=c11 $(WARN) -fno-common -MMD -MP $(HARDEN) $(SANFLAGS) \
               $(PKG_CFLAGS) $(CFLAGS)
ALL_CPPFLAGS = -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(CPPFLAGS)
ALL_LDFLAGS  = $(HARDEN_LD) $(SANFLAGS) $(LDFLAGS)
LIBS_CORE = -lyaml -lpthread
LIBS_IO   = $(shell pkg-config --libs libuv libcares 2>/dev/null) -lyaml -lpthread -ldl

PREFIX ?= /usr/local
DESTDIR ?=

CORE_OBJS := $(CORE:%=$(BUILD)/src/%.o)
IO_OBJS   := $(IO:%=$(BUILD)/src/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%)
FUZZ_SECONDS ?= 60

# Debian packages the build, the tests and `make run` need.
DEPS := gcc make pkg-config libuv1-dev libc-ares-dev libyaml-dev \
        libcmocka-dev dnsutils knot-dnsutils bind9-utils iproute2 procps \
        bind9-host nsd unbound dnsmasq-base libcurl4-openssl-dev openssl \
        python3 curl

.PHONY: all run test check unit integration deps clean install format \
        deb deb-deps check-packaging \
        format-check lint tools check-headers fuzz fuzz-replay unit-bins \
        bench bench-bins

all: $(BUILD)/svcdns

$(BUILD)/src/wire.o $(BUILD)/src/dname.o: ALL_CFLAGS += -Wconversion -Wsign-conversion

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/svcdns: $(CORE_OBJS) $(IO_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_IO)

# Unit tests link the core objects without libuv or c-ares: a stray uv_* or
# ares_* call in the core fails to link (the layering check).
$(BUILD)/tests/unit/%: tests/unit/%.c $(CORE_OBJS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-format-truncation \
		$(ALL_LDFLAGS) -o $@ $< $(CORE_OBJS) $(LIBS_CORE) -lcmocka

$(BUILD)/tests/tools/%: tests/tools/%.c $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(CORE_OBJS) $(LIBS_IO)

# kube_probe drives the Kubernetes watcher (an IO module) on its own loop.
$(BUILD)/tests/tools/kube_probe: tests/tools/kube_probe.c $(CORE_OBJS) $(BUILD)/src/kube.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(CORE_OBJS) $(BUILD)/src/kube.o $(LIBS_IO)

tools: $(TOOL_BINS)

# Corpus replay with the normal compiler (make test runs it), and the real
# fuzzers with clang's libFuzzer (make fuzz FUZZ_SECONDS=N).
$(BUILD)/tests/fuzz/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Itests/fuzz $(ALL_CFLAGS) -Wno-missing-prototypes \
		$(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c tests/fuzz/fuzz_$*.c \
		$(CORE_OBJS) $(LIBS_CORE)

fuzz-replay: $(FUZZ_REPLAY)
	@tests/fuzz/replay.sh $(BUILD)

fuzz: deps
	@command -v clang >/dev/null || { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get install -y -qq clang libclang-rt-14-dev; }
	@mkdir -p build/fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
			-Iinclude -Itests/fuzz -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
			-o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
			$(CORE:%=src/%.c) -lyaml -lpthread || exit 1; \
		mkdir -p build/fuzz/corpus-$$t && \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-artifact_prefix=build/fuzz/$$t- build/fuzz/corpus-$$t \
			tests/fuzz/corpus/$$t || exit 1; \
	done

# Installs missing Debian packages (needs root or sudo); a no-op when all
# are present.
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$(echo $$missing | sed 's/^/ /')"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: deps
	$(MAKE) all
	$(BUILD)/svcdns --zones zones --listen 127.0.0.1:5353 --upstream none \
		--user "$$(id -un)"

unit: $(UNIT_BINS)
	@tests/run_unit.sh $(BUILD)

integration: all tools
	@tests/integration/run.sh $(BUILD)

# Every test: unit tests plain and under ASan+UBSan, then the integration
# tests against the real daemon. Ends with "N passed, M failed, K skipped".
test: deps
	@$(MAKE) --no-print-directory unit-bins
	@$(MAKE) --no-print-directory SAN=address,undefined CFLAGS="-O1 -g" unit-bins
	@tests/run_all.sh

unit-bins: $(UNIT_BINS) all tools $(FUZZ_REPLAY)

# `make test`, then the headers compile alone and the TSan build of the unit
# tests and the threaded integration cases (check-tsan).
check: test
	@$(MAKE) --no-print-directory check-headers lint check-tsan check-asan

check-headers:
	@for h in include/svcdns/*.h; do \
		echo "#include \"$${h#include/}\"" | $(CC) $(ALL_CPPFLAGS) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -x c -fsyntax-only - || exit 1; \
	done; echo "check-headers: ok"

# The daemon, svcdns(8), the systemd unit (its ExecStart= pointed at
# $(PREFIX)/sbin) and /etc/default/svcdns (kept when it already exists: it
# is the administrator's). The Debian package sets UNITDIR=/lib/systemd/system.
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: all
	install -D -m 0755 $(BUILD)/svcdns $(DESTDIR)$(PREFIX)/sbin/svcdns
	install -D -m 0644 packaging/svcdns.8 $(DESTDIR)$(PREFIX)/share/man/man8/svcdns.8
	@mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/svcdns|$(PREFIX)/sbin/svcdns|' packaging/svcdns.service \
		>$(DESTDIR)$(UNITDIR)/svcdns.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/svcdns.service
	[ -e $(DESTDIR)/etc/default/svcdns ] || \
		install -D -m 0644 packaging/default $(DESTDIR)/etc/default/svcdns

format:
	clang-format -i $$(git ls-files 'src/*.c' 'include/*.h' 'tests/*.c' 'tests/*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.c' 'include/*.h' 'tests/*.c' 'tests/*.h')

lint:
	@$(MAKE) --no-print-directory DEPS=cppcheck deps
	cppcheck --quiet --enable=warning,portability --error-exitcode=1 -Iinclude src
	@! grep -l -E '#include <(uv|ares)\.h>' $(CORE:%=src/%.c) include/svcdns/*.h

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Benchmarks (not part of make test): tests/bench/run.sh prints the
# figures; see README "Performance".
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/tests/bench/%)

$(BUILD)/tests/bench/%: tests/bench/%.c $(CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes $(ALL_LDFLAGS) \
		-o $@ $< $(CORE_OBJS) $(LIBS_CORE)

bench-bins: all tools $(BENCH_BINS)

bench: deps
	@$(MAKE) --no-print-directory bench-bins
	@tests/bench/run.sh $(BUILD)

# Packaging (packaging/, tests/packaging/). Not part of `make test`:
# building the .deb with dpkg-buildpackage and running lintian take minutes.
# `make deb` builds build/deb/svcdns_VERSION_ARCH.deb in a copy of the tree
# under build/deb/ (the tree is not written), from the working tree, or
# from a commit with `make deb DEB_REF=v0.1.0`; `make check-packaging` runs
# tests/packaging/run.sh (unit hardening score, man page, .deb with lintian
# and a trial install, container and Kubernetes manifests).
DEB_REF ?=
DEB_DEPS := gcc make pkg-config libuv1-dev libc-ares-dev libyaml-dev \
            libcmocka-dev dpkg-dev debhelper fakeroot libcurl4-openssl-dev

deb-deps:
	@missing=$$(for p in $(DEB_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deb-deps: installing$$(echo $$missing | sed 's/^/ /')"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deb: deb-deps
	@DEB_REF=$(DEB_REF) packaging/build-deb.sh build/deb

check-packaging: deps deb-deps
	@$(MAKE) --no-print-directory all
	@tests/packaging/run.sh

# Hardening checks (not part of `make test`; see tests/soak/run.sh).
# `make soak`: the long load and fault tests (L3 reload storm, L20 the same
# on ::1, L21 soak,
# L10 a million names, L11 fd exhaustion, L19 signals); SOAK_MINUTES and
# the other knobs are read from the environment.
# `make check-tsan`: every unit test and the integration cases that drive
# the worker threads, against the SAN=thread build (TSAN_CASES).
# `make check-valgrind`: the optimised daemon under valgrind through a
# short load, a reload and SIGTERM: 0 errors, nothing lost.
TSAN_CASES ?= 100-pipelined-tcp 135-reload 136-startup-cache 150-watch \
              160-cutover 200-forward 301-tcp-session 302-tcp-many \
              303-lame-duck 401-http 420-rrl 500-udp-batch 501-udp-sendqueue \
              506-udp-direct
TSAN_SUPP := $(CURDIR)/tests/soak/tsan.supp

.PHONY: soak check-tsan check-asan check-valgrind

soak: deps
	@$(MAKE) --no-print-directory all tools
	@tests/soak/run.sh $(BUILD)

check-tsan: deps
	@$(MAKE) --no-print-directory SAN=thread CFLAGS="-O1 -g" unit-bins
	@export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(TSAN_SUPP)"; \
	tests/run_unit.sh build/san-thread && \
	SVCDNS_TEST_TIMEOUT_MULTIPLIER=$${SVCDNS_TEST_TIMEOUT_MULTIPLIER:-3} \
		tests/integration/run.sh build/san-thread $(TSAN_CASES)

# Every integration case against the daemon built with ASan+UBSan (make
# test runs them against the plain build; its sanitizer build covers the
# unit tests): what only the daemon's own paths reach, such as an emptied
# manifest directory, is checked too.
check-asan: deps
	@$(MAKE) --no-print-directory SAN=address,undefined CFLAGS="-O1 -g" all tools
	@export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"; \
	SVCDNS_TEST_TIMEOUT_MULTIPLIER=$${SVCDNS_TEST_TIMEOUT_MULTIPLIER:-3} \
		tests/integration/run.sh build/san-address+undefined

check-valgrind: deps
	@command -v valgrind >/dev/null || { sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get install -y -qq valgrind; }
	@$(MAKE) --no-print-directory all tools
	@tests/soak/valgrind.sh build
