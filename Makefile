# redis-pubsub -- top-level Makefile.
#   make            build src/redis-pubsub-server (installs build packages if missing)
#   make run        build and run on redis-pubsub.conf in the foreground
#   make test       install test packages, build, run every suite, print totals
#   make test-unit  C unit tests only (always ASan+UBSan)
#   make bench      benchmark against redis-server, quick set, relay and
#                   channel-history scenarios included (utils/bench.sh, ~9 minutes)
#   make bench-full every benchmark scenario (~27 minutes)
#   make bench-relay the relay-mode scenarios alone (~1.5 minutes)
#   make bench-history the channel-history scenarios alone (~5 minutes)
#   make soak       10 minutes of mixed load with checks (utils/soak.sh);
#                   SOAK_SECONDS=600 to change, SERVER=/usr/bin/redis-server
#                   to run the same load against Redis
#   make clean
# Variables forwarded to src/: MALLOC=libc, SANITIZE=address|undefined,
# OPTIMIZATION=-O0, V=1, WERROR=no.

PREFIX ?= /usr/local
SRC_VARS := $(foreach v,MALLOC SANITIZE OPTIMIZATION V WERROR,$(if $($(v)),$(v)=$($(v))))

all: deps-build
	$(MAKE) -C src $(SRC_VARS)

deps-build:
	@sh deps/install.sh build

deps-test:
	@sh deps/install.sh test

run: all
	src/redis-pubsub-server redis-pubsub.conf

test: deps-test
	$(MAKE) -C src $(SRC_VARS)
	@sh tests/run-all.sh

test-unit: deps-test
	$(MAKE) -C tests/c
	cd . && tests/c/build/test_main

bench: all
	@sh deps/install.sh bench
	$(MAKE) -C utils
	utils/bench.sh --quick

bench-full: all
	@sh deps/install.sh bench
	$(MAKE) -C utils
	utils/bench.sh --full

bench-relay: all
	@sh deps/install.sh bench
	$(MAKE) -C utils
	utils/bench.sh --quick --relay

bench-history: all
	@sh deps/install.sh bench
	$(MAKE) -C utils
	utils/bench.sh --quick --history

SOAK_SECONDS ?= 600
soak: all
	@sh deps/install.sh soak
	$(MAKE) -C utils
	utils/soak.sh --seconds $(SOAK_SECONDS) $(if $(SERVER),--server $(SERVER))

# Replays every fuzz corpus and crash input (gcc only); make fuzz runs the
# libFuzzer targets for FUZZ_SECONDS each (needs clang).
fuzz-replay:
	$(MAKE) -s -C tests/fuzz replay

fuzz:
	@sh deps/install.sh fuzz
	$(MAKE) -C tests/fuzz fuzz

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 src/build/default/redis-pubsub-server $(DESTDIR)$(PREFIX)/bin/redis-pubsub-server

clean:
	$(MAKE) -C src clean
	$(MAKE) -C tests/c clean
	$(MAKE) -C tests/fuzz clean
	rm -rf tests/tmp

.PHONY: all deps-build deps-test run test test-unit bench bench-full bench-relay bench-history soak fuzz fuzz-replay install clean
