# zfsinstall: `make help` lists the targets.
GO      ?= go
BIN     ?= bin/zfsinstall
# Debian packages the real package-manager test bed needs (see TESTBED notes in README).
DEB_PKGS = dnf dnf-plugins-core rpm createrepo-c gnupg busybox-static kmod binutils xz-utils rpm2cpio systemd

.PHONY: help build test unit integration demo deps fmt vet bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/zfsinstall
	$(GO) build -o $(BIN) ./cmd/zfsinstall

deps: ## install the Debian packages the test bed needs (as root, with apt-get; a no-op when present)
	@command -v dpkg >/dev/null || { echo "deps: not a Debian machine; install the equivalents of: $(DEB_PKGS)"; exit 0; }; \
	missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "deps: not root, not installing:$$missing (the real dnf/rpm integration tests will be skipped)"; \
	elif [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: deps vet ## unit tests, golden plans and the real dnf/rpm integration tests
	$(GO) test -count=1 ./...  # -count=1: the integration tests judge real programs; never replay a cached result

unit: ## unit tests only (no dnf/rpm needed)
	$(GO) test -short ./...

integration: ## only the real dnf/rpm integration tests
	$(GO) test -run Integration -v ./...

STATICCHECK_VERSION = v0.8.2

vet: ## gofmt, go mod tidy -diff, go vet and staticcheck
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum need: go mod tidy"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	@test -x bin/staticcheck || GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	bin/staticcheck ./...

bench: ## benchmarks (planning speed, kernel classification)
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: deps build ## build the test bed and show plan, apply, plan, verify on an ELRepo kernel-lt EL9 host
	./demo/demo.sh

clean: ## remove build output
	rm -rf bin

FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## run every fuzz target in the module for FUZZTIME each (default 30s; CI: make fuzz FUZZTIME=5s)
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh
