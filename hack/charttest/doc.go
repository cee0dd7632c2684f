// Package charttest tests the Helm chart in charts/kubeposture: rendered
// with helm, it must grant exactly the RBAC rules of config/rbac, run the
// manager as hardened as config/manager, validate values as the CRD does,
// and, installed with helm on a real control plane (test/cluster), pass Pod
// Security admission and let the manager scan with nothing missing. The tests
// carry the e2e build tag and need the helm binary:
//
//	HELM=bin/helm-v4.3.1 go test -tags e2e ./hack/charttest/ -v
//
// `make helm-test` runs them.
package charttest
