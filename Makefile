# deskctl — build, test and ship. `make help` lists the targets.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO      ?= go
BIN     := bin
BUILD   := build
DESKCTL := $(BIN)/deskctl

# Installation layout (GNU conventions): make install DESTDIR=/tmp/pkg prefix=/usr
prefix  ?= /usr/local
DESTDIR ?=
bindir      := $(prefix)/bin
datadir     := $(prefix)/share
mandir      := $(datadir)/man

# CI may check out the tree as another user than the one running make; git
# refuses such a repository unless it is named safe.
GIT := git -c safe.directory='$(CURDIR)'

# Version stamped into the binary; a checkout without tags or git gives "dev".
VERSION ?= $(shell $(GIT) describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell $(GIT) rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell $(GIT) log -1 --format=%cI 2>/dev/null)
VERSION_PKG := github.com/deskctl/deskctl/internal/cli
LDFLAGS := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT) -X $(VERSION_PKG).date=$(DATE)

# Man pages carry a month in their header; take it from the last commit so
# regenerating them gives the same bytes.
export SOURCE_DATE_EPOCH ?= $(shell $(GIT) log -1 --format=%ct 2>/dev/null)

# Pinned tools, installed into bin/ on first use with the local Go toolchain.
GOLANGCI_LINT_VERSION := v2.15.0
GORELEASER_VERSION    := v2.16.0
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GORELEASER    := $(BIN)/goreleaser-$(GORELEASER_VERSION)

.PHONY: help build test bench lint completions manpages docs-cli check-generated demo install release-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# Built as released (.goreleaser.yaml): static, without cgo. With cgo the
# binary would load the C library at every start (docs/benchmarks.md).
build: ## build bin/deskctl
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DESKCTL) ./cmd/deskctl

# The race detector runs over the packages with goroutines and shared state,
# and the cli tests that run writers, serve and mail side by side (-short
# scales the stress run down; the kill tests stop one process and are left
# out). It needs cgo, so a C compiler.
RACE_PKGS := ./internal/store/... ./internal/web/... ./internal/mail/... ./internal/app/...
RACE_CLI  := ^Test(StressConcurrent|Concurrent|Approval)

test: ## run every test (what CI runs): the whole suite, then the race detector
	$(GO) test -count=1 -timeout 45m ./...
	CGO_ENABLED=1 $(GO) test -race -short -count=1 -timeout 20m $(RACE_PKGS)
	CGO_ENABLED=1 $(GO) test -race -short -count=1 -timeout 20m -run '$(RACE_CLI)' ./internal/cli

bench: ## run the Go benchmarks, then the whole-process timings against the floor and OPA (docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/devgen/cmd/deskctl-bench -dir /tmp/deskctl-bench -runs 30 -import

lint: $(GOLANGCI_LINT) ## run golangci-lint with .golangci.yml
	$(GOLANGCI_LINT) run ./...

# go install names the binary after the package; the versioned name makes a
# version bump install the new tool.
$(GOLANGCI_LINT):
	GOBIN='$(CURDIR)/$@.d' $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $@.d/golangci-lint $@ && rmdir $@.d

$(GORELEASER):
	GOBIN='$(CURDIR)/$@.d' $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
	mv $@.d/goreleaser $@ && rmdir $@.d

completions: build ## write completions/deskctl.{bash,zsh,fish,ps1}
	mkdir -p completions
	$(DESKCTL) completion bash > completions/deskctl.bash
	$(DESKCTL) completion zsh > completions/deskctl.zsh
	$(DESKCTL) completion fish > completions/deskctl.fish
	$(DESKCTL) completion powershell > completions/deskctl.ps1

manpages: ## write the man pages (commands in section 1, help topics in 7) into build/man
	rm -rf $(BUILD)/man
	$(GO) run ./internal/devgen/cmd/deskctl-docs man $(BUILD)/man

docs-cli: ## regenerate the markdown command reference in docs/cli
	mkdir -p docs/cli
	rm -f docs/cli/deskctl*.md
	$(GO) run ./internal/devgen/cmd/deskctl-docs markdown docs/cli

check-generated: completions docs-cli ## fail when committed completions, docs/cli or go.mod/go.sum are stale
	@$(GIT) rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "check-generated: needs a git checkout to compare against" >&2; exit 1; }
	@if [ -n "$$($(GIT) status --porcelain -- completions docs/cli)" ]; then \
		echo "check-generated: completions/ or docs/cli/ differ from the command tree." >&2; \
		echo "Run 'make completions docs-cli' and commit the result. Differences:" >&2; \
		$(GIT) status --short -- completions docs/cli >&2; \
		exit 1; \
	fi
	@echo "completions/ and docs/cli/ are up to date"
	@$(GO) mod tidy -diff >/dev/null || { echo "check-generated: go.mod or go.sum is not tidy; run 'go mod tidy' and commit" >&2; $(GO) mod tidy -diff >&2; exit 1; }
	@echo "go.mod and go.sum are tidy"

# The tour starts with its own first line: the build (module downloads
# included) says nothing unless it fails, and then shows everything it said.
DEMO_HELPER := $(BIN)/deskctl-demo

demo: ## build quietly, then tour deskctl (serve and the approval page too) against a fresh database
	@log=$$(mktemp) && trap 'rm -f "$$log"' EXIT && \
	{ CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DESKCTL) ./cmd/deskctl && \
	  $(GO) build -o $(DEMO_HELPER) ./internal/devgen/cmd/deskctl-demo; } >"$$log" 2>&1 || \
	{ cat "$$log" >&2; echo "make demo: the build failed (output above)" >&2; exit 1; }
	@bash testdata/demo.sh $(DESKCTL) $(DEMO_HELPER)

install: build manpages ## install binary, completions, man pages under $(DESTDIR)$(prefix)
	install -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(mandir)/man1' '$(DESTDIR)$(mandir)/man7' \
		'$(DESTDIR)$(datadir)/bash-completion/completions' \
		'$(DESTDIR)$(datadir)/zsh/site-functions' \
		'$(DESTDIR)$(datadir)/fish/vendor_completions.d'
	install -m 0755 $(DESKCTL) '$(DESTDIR)$(bindir)/deskctl'
	$(DESKCTL) completion bash > '$(DESTDIR)$(datadir)/bash-completion/completions/deskctl'
	$(DESKCTL) completion zsh > '$(DESTDIR)$(datadir)/zsh/site-functions/_deskctl'
	$(DESKCTL) completion fish > '$(DESTDIR)$(datadir)/fish/vendor_completions.d/deskctl.fish'
	install -m 0644 $(BUILD)/man/*.1 '$(DESTDIR)$(mandir)/man1/'
	install -m 0644 $(BUILD)/man/*.7 '$(DESTDIR)$(mandir)/man7/'

release-check: $(GORELEASER) ## validate .goreleaser.yaml and build a snapshot release into dist/
	$(GORELEASER) check
	$(GORELEASER) release --snapshot --clean --skip=publish

clean: ## remove build output
	rm -rf $(BIN) $(BUILD) dist
