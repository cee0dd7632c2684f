// Package e2e holds the end-to-end tests: the built manager binary runs as a
// process against a real control plane (test/cluster: etcd, kube-apiserver,
// kube-controller-manager), and the tests read the results back with the real
// kubectl. The tests carry the e2e build tag:
//
//	go test -tags e2e ./test/e2e/ -v -timeout 20m
package e2e
