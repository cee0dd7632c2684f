# kubeposture Makefile. `make help` lists the targets.
#
# Every tool is pinned and installed from the Go module proxy into ./bin under a
# versioned name, so bumping a version installs the new one next to the old.
# The Kubernetes control plane that envtest, the e2e tests and the demo run
# against is built from Go modules by hack/controlplane.sh (cached in bin/k8s/).
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# kustomize v5.8.3 needs go >= 1.27 (its go.mod); v5.8.2 is the newest that builds with Go 1.26.
KUSTOMIZE_VERSION ?= v5.8.2
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)

# hack/controlplane.sh builds the control plane if it is missing and prints the
# directory holding kube-apiserver, etcd and kubectl (envtest's KUBEBUILDER_ASSETS).
CONTROLPLANE ?= hack/controlplane.sh
# The Kubernetes version the control plane is built at: v1.N.P for k8s.io/api v0.N.P.
# Recursive (=) so that go is only asked when a target needs it.
K8S_VERSION = v1.$(patsubst v0.%,%,$(shell go list -m -f '{{.Version}}' k8s.io/api))
K8S_BIN = $(LOCALBIN)/k8s/$(K8S_VERSION)
# kubectl for install/deploy: the one on PATH, else the one built with the control plane.
KUBECTL ?= $(or $(shell command -v kubectl 2>/dev/null),$(K8S_BIN)/kubectl)

# controller-gen reads markers from these directories (those that exist). Not
# paths="./...": controller-gen follows nested Go modules, and bin/k8s/ holds
# hack/controlplane.sh's helper module, which is not ours to load.
MARKER_DIRS ?= api cmd controllers internal
empty :=
space := $(empty) $(empty)
CONTROLLER_GEN_PATHS = $(subst $(space),;,$(strip $(foreach d,$(MARKER_DIRS),$(if $(wildcard $(d)/.),./$(d)/...))))

E2E_TIMEOUT ?= 30m
# Extra flags for go test, e.g. GO_TEST_FLAGS='-run TestFoo -count=1'.
GO_TEST_FLAGS ?=

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

.PHONY: versions
versions: ## Print the pinned tool versions.
	@echo "controller-gen $(CONTROLLER_TOOLS_VERSION)"
	@echo "golangci-lint  $(GOLANGCI_LINT_VERSION)"
	@echo "kustomize      $(KUSTOMIZE_VERSION)"
	@echo "kubernetes     $(K8S_VERSION) (control plane, from go.mod's k8s.io/api)"
	@echo "helm           $(HELM_VERSION)"

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and the manager ClusterRole from markers.
	$(CONTROLLER_GEN) rbac:roleName=kubeposture-manager crd paths="$(CONTROLLER_GEN_PATHS)" output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: docs
docs: ## Generate docs/checks.md from the check registry.
	go run ./hack/checkdocs -o docs/checks.md

.PHONY: fmt
fmt: ## Run go fmt on the code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet on the code.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (config: .golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes (imports, formatting, ...).
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: test
test: manifests generate vet controlplane ## Run unit and envtest tests against the control plane from hack/controlplane.sh.
	KUBEBUILDER_ASSETS="$$($(CONTROLPLANE))" go test ./... $(GO_TEST_FLAGS)

.PHONY: test-e2e
test-e2e: manifests generate controlplane ## Run the end-to-end tests (build tag e2e) against a real control plane.
	KUBEBUILDER_ASSETS="$$($(CONTROLPLANE))" go test -tags e2e ./test/e2e/... -v -timeout $(E2E_TIMEOUT) $(GO_TEST_FLAGS)

.PHONY: verify
verify: generate manifests ## Fail if regenerating code, CRDs, RBAC (or docs) changes or adds any file.
	@# The docs target is optional: run it only if some Makefile defines it.
	@if $(MAKE) --no-print-directory -n docs >/dev/null 2>&1; then $(MAKE) --no-print-directory docs; fi
	@if ! git diff --exit-code -- api config docs; then \
		echo "verify: generated files are out of date: run 'make generate manifests' and commit the result" >&2; \
		exit 1; \
	fi
	@untracked=$$(git status --porcelain --untracked-files=all -- api config docs); \
	if [[ -n "$$untracked" ]]; then \
		echo "$$untracked" >&2; \
		echo "verify: files above are new or changed but not committed (generated files must be committed)" >&2; \
		exit 1; \
	fi
	@# The Helm chart's copies of config/ (CRDs, RBAC rules, alert rules).
	@$(MAKE) --no-print-directory verify-chart

##@ Build

.PHONY: build
build: generate ## Build the manager binary into bin/manager.
	go build -o $(LOCALBIN)/manager ./cmd/manager

.PHONY: build-cli
build-cli: ## Build the CLI into bin/kubeposture.
	go build -o bin/kubeposture ./cmd/kubeposture

.PHONY: scan-self
scan-self: build-cli kustomize ## Scan the operator's own manifests (config/default): no critical or high finding, nothing against PSS restricted.
	$(KUSTOMIZE) build config/default | bin/kubeposture scan -f - --severity-threshold high
	$(KUSTOMIZE) build config/default | bin/kubeposture scan -f - --framework pss-restricted --severity-threshold low
	@# The same bar for the Helm chart, rendered with each values set.
	@$(MAKE) --no-print-directory scan-chart

.PHONY: run
run: manifests generate ## Run the manager from source against the cluster of the current kubeconfig.
	go run ./cmd/manager

.PHONY: controlplane
controlplane: ## Build kube-apiserver, kube-controller-manager, etcd and kubectl into bin/k8s/ (cached).
	@$(CONTROLPLANE) >/dev/null

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: kustomize ## Remove the CRDs (and so every ClusterScan and report) from the cluster. IGNORE_NOT_FOUND=true to ignore missing ones.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(IGNORE_NOT_FOUND) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy CRDs, RBAC and the manager (config/default) to the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove everything that deploy created. IGNORE_NOT_FOUND=true to ignore missing objects.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(IGNORE_NOT_FOUND) -f -

.PHONY: demo
demo: manifests controlplane ## Run the demo (go run ./hack/demo) against a throwaway control plane.
	KUBEBUILDER_ASSETS="$$($(CONTROLPLANE))" go run ./hack/demo

IGNORE_NOT_FOUND ?= false

##@ Performance

# Cluster sizes, in Pods, that `make bench` measures (an idle baseline is measured first).
BENCH_SIZES ?= 1000,10000
# Where bench.json, logs and the manager and CLI binaries go.
BENCH_OUT ?= $(LOCALBIN)/bench
# Extra flags for the harness, e.g. BENCH_FLAGS='-engine=false -manager-env GOMEMLIMIT=120MiB'.
BENCH_FLAGS ?=

.PHONY: bench
bench: manifests controlplane ## Measure scan cost at BENCH_SIZES Pods: LIST floor, operator, CLI, engine (docs/performance.md).
	KUBEBUILDER_ASSETS="$$($(CONTROLPLANE))" go run ./test/bench -sizes $(BENCH_SIZES) -out $(BENCH_OUT) $(BENCH_FLAGS)

##@ Tools

.PHONY: tools
tools: controller-gen golangci-lint kustomize helm ## Install every pinned tool into ./bin.

.PHONY: promtool
promtool: ## Install promtool (Debian's prometheus package) for the alert rule tests, if missing.
	hack/install-promtool.sh

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into ./bin.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$@,sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into ./bin.
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into ./bin.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$@,sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

# go-install-tool installs package $(2) at version $(3) as the file $(1).
# go install writes into a private directory first so that a half-written or
# unversioned binary never appears in ./bin, then the binary is moved into place.
define go-install-tool
@set -e; \
tmp=$$(mktemp -d "$(LOCALBIN)/.install.XXXXXX"); \
trap 'rm -rf "$$tmp"' EXIT; \
echo "Installing $(2)@$(3) as $(1)"; \
GOBIN="$$tmp" go install $(2)@$(3); \
mv "$$tmp"/* "$(1)"
endef

##@ Helm chart
#
# charts/kubeposture shares its CRDs, its Roles' rules and its alert rules with
# config/: hack/chart-sync.sh copies them into the chart (crds/, files/), and
# verify-chart (run by verify) fails when the committed copies differ. helm is
# built from the Go module proxy like every other tool.

HELM_VERSION ?= v4.3.1
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CHART ?= charts/kubeposture
CHART_RELEASE ?= kubeposture
CHART_NAMESPACE ?= kubeposture-system
# Render the Prometheus Operator objects too, as where its CRDs are installed.
HELM_TEMPLATE_FLAGS ?= --include-crds --api-versions monitoring.coreos.com/v1/ServiceMonitor --api-versions monitoring.coreos.com/v1/PrometheusRule
# The values sets the chart is linted, rendered and scanned with: the defaults
# (no file) and every ci/*-values.yaml.
CHART_VALUES = $(sort $(wildcard $(CHART)/ci/*-values.yaml))
# Values sets that grant the manager access kubeposture's own checks rightly
# report (Secrets): scan-chart holds them to the Pod Security bar only.
CHART_VALUES_RISKY = $(CHART)/ci/secret-metadata-values.yaml

.PHONY: chart-sync
chart-sync: manifests ## Copy the CRDs, Role rules and alert rules from config/ into the Helm chart.
	hack/chart-sync.sh

.PHONY: verify-chart
verify-chart: chart-sync ## Fail if the chart's copies of config/ (CRDs, RBAC, alerts) are out of date or not committed.
	@if ! git diff --exit-code -- $(CHART); then \
		echo "verify-chart: $(CHART) is out of date with config/: run 'make chart-sync' and commit the result" >&2; \
		exit 1; \
	fi
	@untracked=$$(git status --porcelain --untracked-files=all -- $(CHART)); \
	if [[ -n "$$untracked" ]]; then \
		echo "$$untracked" >&2; \
		echo "verify-chart: files above are new or changed but not committed" >&2; \
		exit 1; \
	fi

.PHONY: helm-lint
helm-lint: helm ## helm lint --strict and helm template the chart with the default values and each ci/*-values.yaml.
	@for values in "" $(CHART_VALUES); do \
		echo "helm lint --strict $(CHART) $${values:+-f $$values}"; \
		$(HELM) lint --strict $(CHART) $${values:+-f "$$values"}; \
		$(HELM) template $(CHART_RELEASE) $(CHART) --namespace $(CHART_NAMESPACE) $(HELM_TEMPLATE_FLAGS) $${values:+-f "$$values"} >/dev/null; \
	done

.PHONY: scan-chart
scan-chart: build-cli helm ## Scan the rendered chart like scan-self scans config/default: no critical or high finding, nothing against PSS restricted.
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for values in "" $(CHART_VALUES); do \
		echo "helm template $(CHART) $${values:+-f $$values} | kubeposture scan -f -"; \
		$(HELM) template $(CHART_RELEASE) $(CHART) --namespace $(CHART_NAMESPACE) $(HELM_TEMPLATE_FLAGS) $${values:+-f "$$values"} >"$$tmp/chart.yaml"; \
		case " $(CHART_VALUES_RISKY) " in \
		*" $$values "*) ;; \
		*) bin/kubeposture scan -f - --severity-threshold high <"$$tmp/chart.yaml";; \
		esac; \
		bin/kubeposture scan -f - --framework pss-restricted --severity-threshold low <"$$tmp/chart.yaml"; \
	done

.PHONY: helm-test
helm-test: helm controlplane ## Test the chart against a real control plane: helm install, PSS admission, the manager scanning with the chart's RBAC, upgrade, uninstall.
	HELM="$(HELM)" KUBEBUILDER_ASSETS="$$($(CONTROLPLANE))" go test -tags e2e ./hack/charttest/ -v -timeout $(E2E_TIMEOUT) $(GO_TEST_FLAGS)

.PHONY: helm
helm: $(HELM) ## Install helm into ./bin.
$(HELM): | $(LOCALBIN)
	$(call go-install-tool,$@,helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))
