# forkpool: on a fresh machine, `make run` starts the service and `make test` runs every test.
SWIFT ?= swift
PYTHON ?= python3
BIN_DEBUG = .build/debug
BIN_RELEASE = .build/release

.PHONY: run test build deps bench profile chaos fuzz container-test screenshot clean

# Installs what is missing: libmicrohttpd-dev and friends through apt-get, Python test tools through pip.
deps:
	@bash .ci/install-deps

build: deps
	$(SWIFT) build

# Starts the service on port 8080 (flags: FORKPOOL_* environment variables or ARGS="--workers 8").
run: deps
	$(SWIFT) build -c release --product forkpool
	$(BIN_RELEASE)/forkpool serve $(ARGS)

# Every test: Swift unit and harness tests, the HTTP integration suite against the
# real binary, schemathesis against openapi.yaml, then a check that no System V
# object or zombie was left behind.
test: deps
	@mkdir -p .build && bash .ci/check-leftovers snapshot .build/ipc-before-tests
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	FORKPOOL_BIN=$(BIN_DEBUG)/forkpool $(PYTHON) -m pytest -q Tests/integration
	bash Tests/api/run_schemathesis.sh $(BIN_DEBUG)/forkpool
	$(PYTHON) Tests/chaos/chaos.py --bin $(BIN_DEBUG)/forkpool --seconds 20
	$(PYTHON) Tests/fuzz/fuzz_http.py --bin $(BIN_DEBUG)/forkpool
	@bash .ci/check-leftovers compare .build/ipc-before-tests

# The long chaos run: five minutes of SIGKILLs against a release build.
chaos: deps
	$(SWIFT) build -c release --product forkpool
	$(PYTHON) Tests/chaos/chaos.py --bin $(BIN_RELEASE)/forkpool --seconds $${CHAOS_SECONDS:-300}

fuzz: deps
	$(SWIFT) build --product forkpool
	$(PYTHON) Tests/fuzz/fuzz_http.py --bin $(BIN_DEBUG)/forkpool

# The Dockerfile's runtime stage, proven without Docker: a debootstrap root with
# only the runtime packages, the binary run in it under fresh namespaces, a smoke test.
container-test: deps
	bash Tests/container/rootfs_smoke.sh

# Screenshots of the status page with headless Chromium, in .build/screenshots.
screenshot: build
	bash Tests/ops/screenshot_status_page.sh $(BIN_DEBUG)/forkpool

# forkpool against its references in one run, one table with ratios (bench/run.sh; about 5 minutes).
bench: deps
	bash bench/run.sh

# Where the time goes in the rows compared with C: per-fork CPU and faults, system calls and
# CPU per poll, perf profiles (bench/profile.sh; needs perf and strace; run make bench first).
profile:
	bash bench/profile.sh

clean:
	rm -rf .build
