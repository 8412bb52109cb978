# zfsinstall: `make help` lists the targets.
# Go: the go on PATH, else the official install at /usr/local/go (sudo's secure_path drops
# /usr/local/go/bin, so `sudo make demo` finds Go there). Recipes then get that directory on
# PATH too: scripts and tests run `go` themselves.
GO      ?= $(or $(shell command -v go 2>/dev/null),$(wildcard /usr/local/go/bin/go),go)
ifneq ($(dir $(GO)),./)
export PATH := $(patsubst %/,%,$(dir $(GO))):$(PATH)
endif
BIN     ?= bin/zfsinstall
# Debian packages the real package-manager test bed needs (see TESTBED notes in README).
DEB_PKGS = dnf dnf-plugins-core rpm createrepo-c gnupg busybox-static kmod binutils xz-utils rpm2cpio systemd \
	dkms dracut-core make gcc-12 openssl bash coreutils \
	linux-headers-6.1.0-47-amd64 linux-headers-6.1.0-50-amd64 linux-headers-6.1.0-57-amd64 \
	linux-headers-6.1.0-57-rt-amd64 linux-headers-6.1.0-57-cloud-amd64 linux-headers-6.12.107+deb12-amd64
# What the deploy tests run (deploy/): Debian's own packages, installed without recommends
# (a plain install of ansible-core pulls ~500 MB of collections, vagrant 400+ packages), and the
# tools `ansible-test sanity` and `ansible-test units` run the collection with (PyPI is out of
# reach: deploy/ansible/sanity_venvs.py gives ansible-test these instead).
DEPLOY_DEB_PKGS = ansible-core ansible-lint vagrant vagrant-libvirt shellcheck groff-base man-db curl \
	pylint python3-pycodestyle yamllint python3-voluptuous \
	python3-pytest python3-pytest-xdist python3-pytest-forked python3-pytest-mock python3-mock
# The version of zfsinstall comes from the VERSION file, and only from there; the commit it was
# built from comes from git when the tree is a git checkout (and `+dirty` marks uncommitted
# changes). Both reach the binary through -ldflags -X, whatever GOFLAGS says about -buildvcs.
VERSION := $(shell cat VERSION)
COMMIT  := $(shell git rev-parse HEAD 2>/dev/null)
COMMIT_TIME := $(shell git log -1 --format=%cI 2>/dev/null)
DIRTY   := $(shell git status --porcelain --untracked-files=no 2>/dev/null | head -c1)
# Every build target builds the same way: static (CGO_ENABLED=0: one binary runs on EL8's
# glibc 2.28 and in an install root without a C library), reproducible paths, stamped.
LDFLAGS = -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.commitTime=$(COMMIT_TIME) -X main.modified=$(if $(DIRTY),true,false)
GOBUILD = CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
RPM_RELEASE ?= 1
DIST ?= dist

.PHONY: help build test unit integration demo deps fmt vet bench bench-go clean rpm collection packer deploy-deps deploy-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/zfsinstall: static (CGO_ENABLED=0), version and commit stamped
	$(GOBUILD) -o $(BIN) ./cmd/zfsinstall

deps: ## install the Debian packages the test bed needs (as root, with apt-get; a no-op when present)
	@command -v dpkg >/dev/null || { echo "deps: not a Debian machine; install the equivalents of: $(DEB_PKGS)"; exit 0; }; \
	missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "deps: not root, not installing:$$missing (the real dnf/rpm integration tests will be skipped)"; \
	elif [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# -count=1: the integration tests judge real programs; never replay a cached result. testreport
# shows each package and slow test as it finishes, then what was skipped and why.
test: deps vet ## unit tests, golden plans, the real dnf/rpm integration tests and the deploy entry points, with progress and a summary of skips
	GO=$(GO) $(GO) run ./scripts/testreport -count=1 ./...

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

# make bench N=20 N_APPLY=4 (pairs per figure); BENCH_ARGS for more, e.g. "-beds small" (go run ./bench/cmd/zibench -h).
N ?= 20
N_APPLY ?= 4
bench: build ## zfsinstall beside its floors on the real test bed, small and real-size: plan, pre-flight, apply, dnf runs, memory (root; bench/README.md)
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) strace"
	$(GO) run ./bench/cmd/zibench -zfsinstall $(BIN) -go $(GO) -n $(N) -n-apply $(N_APPLY) $(BENCH_ARGS)

bench-go: ## Go micro-benchmarks (planning speed, kernel classification)
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: deps build ## build the test bed and show plan, apply, plan, verify on an ELRepo kernel-lt EL9 host
	./demo/demo.sh

clean: ## remove build output (bin, dist, build: Packer and its caches)
	rm -rf bin dist build

collection: ## build dist/zfsinstall-zfsinstall-VERSION.tar.gz, the Ansible collection (ansible-galaxy collection build)
	ansible-galaxy collection build --force deploy/ansible/collection --output-path $(DIST)

rpm: build ## build dist/zfsinstall-VERSION-RELEASE.ARCH.rpm with rpmbuild (the static bin/zfsinstall, man page, completion, recipes)
	GO=$(GO) deploy/rpm/build.sh $(DIST) $(VERSION) $(RPM_RELEASE) $(BIN)

deploy-deps: ## install what the deploy tests run (ansible-core, ansible-lint, vagrant, shellcheck, ...), without recommends
	@command -v dpkg >/dev/null || { echo "deploy-deps: not a Debian machine; install the equivalents of: $(DEPLOY_DEB_PKGS)"; exit 0; }; \
	missing=""; for p in $(DEPLOY_DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "deploy-deps: not root, not installing:$$missing (the deploy tests that need them will be skipped)"; \
	elif [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Packer 1.9.5 (the last MPL-2.0 release) and the plugins the templates need, built from the Go
# module proxy into build/packer with its caches there too (deploy/packer/build-packer.sh);
# Debian 12's packer 1.6.6 predates required_plugins. About 5 minutes and 4.5 GB on a fresh
# machine; the deploy tests use it from there.
PACKER_DIR = build/packer
packer: $(PACKER_DIR)/bin/packer ## build Packer 1.9.5 and its qemu and ansible plugins from the Go module proxy into build/packer
$(PACKER_DIR)/bin/packer: deploy/packer/build-packer.sh
	GO=$(GO) deploy/packer/build-packer.sh $(PACKER_DIR)

deploy-test: deps deploy-deps packer ## the deploy entry points (RPM, Ansible, Packer, kickstart, man page, completion) against the test bed
	$(GO) test -count=1 -v ./deploy/

FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## run every fuzz target in the module for FUZZTIME each (default 30s; CI: make fuzz FUZZTIME=5s)
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh
