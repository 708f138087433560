#!/usr/bin/env bash
# Builds the control plane's programs with `go build` from the Go modules beside this script, into
# tools/control-plane/bin (or $AIRY_CONTROL_PLANE_BIN):
#   kube/   kube-apiserver, kube-controller-manager, kube-scheduler and kubectl, from k8s.io/kubernetes at the box's
#           Kubernetes version (each staging module replaced by its published v0.N.x), and kubeadm-pods, which prints
#           the pods kubeadm's own code puts on a control-plane node
#   etcd/   etcd, from go.etcd.io/etcd/server/v3 at the etcd of kubeadm's images for that version
#   kwok/   kwok, the kubelet's stand-in: it keeps simulated nodes and the pods on them Ready (no container runs)
#   istio/  not built: Istio's CustomResourceDefinitions, from its API module, copied to bin/istio-crds.yaml
# A second run builds nothing when the modules' files and the Go version are unchanged (a stamp of both); a changed module
# rebuilds from Go's caches in seconds. Prints one line per module; a missing Go is one line and exit 3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${AIRY_CONTROL_PLANE_BIN:-$here/bin}
command -v go >/dev/null 2>&1 || {
  echo "control-plane: Go is not installed: install the Go toolchain (go 1.22 or newer) to build the control plane" >&2
  exit 3
}
# The modules' own go.sum are the record of what is built: nothing may change them here.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly" CGO_ENABLED=0
mkdir -p "$bin"

# What a release build stamps into Kubernetes' programs (its /version and `--version`), from the module's version:
# without it they call themselves v0.0.0-master, which clients that check versions misread.
kubernetes=$(cd "$here/kube" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=${kubernetes#v1.}
minor=${minor%%.*}
declare -A ldflags=(
  [kube]="-X k8s.io/component-base/version.gitVersion=$kubernetes -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=$kubernetes -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
)

# module-dir name=package...: each package's program built as bin/name.
build() {
  local module=$1
  shift
  local stamp="$bin/.$module.stamp" want item missing=0 names=()
  # The Go version and every file of the module (go.mod, go.sum, its own source): any change rebuilds.
  want=$( (go version; echo "${ldflags[$module]:-}"; find "$here/$module" -type f -print0 | sort -z | xargs -0 cat) | sha256sum | cut -d' ' -f1)
  for item in "$@"; do
    names+=("${item%%=*}")
    [ -x "$bin/${item%%=*}" ] || missing=1
  done
  if [ "$missing" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "control-plane: $module: up to date (${names[*]})" >&2
    return
  fi
  local start=$SECONDS
  echo "control-plane: $module: building ${names[*]} (the first build takes minutes; Go's caches make the next take seconds)" >&2
  for item in "$@"; do
    (cd "$here/$module" && go build -trimpath -ldflags "${ldflags[$module]:-}" -o "$bin/${item%%=*}" "${item#*=}")
  done
  echo "$want" >"$stamp"
  echo "control-plane: $module: built in $((SECONDS - start)) s" >&2
}

build kube kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler kubectl=k8s.io/kubernetes/cmd/kubectl kubeadm-pods=./kubeadm-pods
build etcd etcd=go.etcd.io/etcd/server/v3
build kwok kwok=sigs.k8s.io/kwok/cmd/kwok
# Downloaded (verified against the module's go.sum), not built.
crds=$(cd "$here/istio" && go mod download -json istio.io/api | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
install -m 0644 "$crds/kubernetes/customresourcedefinitions.gen.yaml" "$bin/istio-crds.yaml"
