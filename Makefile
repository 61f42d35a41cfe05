# forkpool: the two commands a fresh machine needs are `make run` and `make test`.
SWIFT ?= swift
PYTHON ?= python3
CONFIGURATION ?= debug

.PHONY: run test build deps bench clean check-ipc

# Installs what the build and the tests need when it is missing.
deps:
	@bash .ci/install-deps

build: deps
	$(SWIFT) build -c $(CONFIGURATION)

# Builds every target (the tests drive the forkpool-harness executable), runs
# every test, then fails if any System V object or zombie was left behind.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@bash .ci/check-leftovers

run: build
	@echo "forkpool serve arrives with the HTTP service (issue 3); the engine is built and tested by 'make test'." >&2
	@exit 1

bench: deps
	$(SWIFT) build -c release --product forkpool-bench
	$$($(SWIFT) build -c release --show-bin-path)/forkpool-bench

clean:
	rm -rf .build
