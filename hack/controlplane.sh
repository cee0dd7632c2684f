#!/usr/bin/env bash
# Builds a real Kubernetes control plane (kube-apiserver, kube-controller-manager,
# kubectl, etcd) from Go modules into bin/k8s/<version>/, at the Kubernetes
# version that go.mod pins for k8s.io/api. Cached: a second run is a no-op until
# the pinned version changes. Prints the directory to use as KUBEBUILDER_ASSETS.
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod replaces
# every k8s.io/* staging module with ./staging/src/... . We build it from a
# helper module whose go.mod maps each of those to its published v0.X.Y.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

api_version=$(go list -m -f '{{.Version}}' k8s.io/api)   # v0.37.2
minor_patch=${api_version#v0.}                             # 37.2
k8s_version="v1.${minor_patch}"
out="$root/bin/k8s/${k8s_version}"
bins=(kube-apiserver kube-controller-manager kubectl etcd)

have_all=1
for b in "${bins[@]}"; do [[ -x "$out/$b" ]] || have_all=0; done
if [[ $have_all == 1 ]]; then
  echo "$out"
  exit 0
fi

log() { echo "controlplane: $*" >&2; }
mkdir -p "$out"
src="$root/bin/k8s/src-${k8s_version}"
rm -rf "$src"
mkdir -p "$src/etcd"

log "resolving k8s.io/kubernetes@${k8s_version}"
kmod=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${k8s_version}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
[[ -f "$kmod" ]] || { log "could not download k8s.io/kubernetes@${k8s_version}"; exit 1; }

{
  echo "module kubeposture.local/controlplane"
  echo
  echo "go $(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')"
  echo
  echo "require k8s.io/kubernetes ${k8s_version}"
  echo
  echo "replace ("
  # Every staging module named in kubernetes' own replace block, at its published version.
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/[a-z0-9-]*$#\t\1 => \1 '"${api_version}"'#p' "$kmod"
  echo ")"
} > "$src/go.mod"

cat > "$src/etcd/main.go" <<'GO'
// Command etcd is upstream etcd's server entry point, built from its Go module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor_patch%%.*} -X k8s.io/component-base/version.gitTreeState=clean"
cd "$src"
export GOFLAGS=-mod=mod
for b in kube-apiserver kube-controller-manager kubectl; do
  [[ -x "$out/$b" ]] && continue
  note=""
  [[ $b == kube-apiserver ]] && note=" (the first build takes several minutes)"
  log "building $b ${k8s_version}${note}"
  go build -trimpath -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$out/$b.tmp" "$out/$b"
done
if [[ ! -x "$out/etcd" ]]; then
  log "building etcd"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" ./etcd
  mv "$out/etcd.tmp" "$out/etcd"
fi
echo "$out"
