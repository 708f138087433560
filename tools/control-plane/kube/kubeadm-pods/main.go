// Command kubeadm-pods prints, as one Kubernetes List in JSON, what kubeadm itself puts on a control-plane node at
// this module's Kubernetes version: its static pods (kube-apiserver, kube-controller-manager, kube-scheduler, etcd)
// and the CoreDNS addon (its Deployment, ConfigMap, Service and RBAC), made by kubeadm's own code with its defaults. The cluster tests place them on the
// box's simulated node, so the scheduler counts Kubernetes' own requests as a real node's would.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/kubernetes/cmd/kubeadm/app/phases/addons/dns"
	"k8s.io/kubernetes/cmd/kubeadm/app/phases/controlplane"
	etcdphase "k8s.io/kubernetes/cmd/kubeadm/app/phases/etcd"
	configutil "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
	"sigs.k8s.io/yaml"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kubeadm-pods: %v\n", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	cfg, err := configutil.DefaultedStaticInitConfiguration()
	if err != nil {
		return err
	}
	items := []any{}
	for _, pod := range controlplane.GetStaticPodSpecs(&cfg.ClusterConfiguration, &cfg.LocalAPIEndpoint, nil) {
		items = append(items, pod)
	}
	items = append(items, etcdphase.GetEtcdPodSpec(&cfg.ClusterConfiguration, &cfg.LocalAPIEndpoint, cfg.NodeRegistration.Name, nil))
	// The addon's objects as `kubeadm init phase addon coredns --print-manifest` prints them.
	var manifests bytes.Buffer
	if err := dns.EnsureDNSAddon(&cfg.ClusterConfiguration, nil, "", &manifests, true); err != nil {
		return err
	}
	// It writes "---" straight before each object, not on a line of its own: split there.
	for _, part := range strings.Split(manifests.String(), "---") {
		var object map[string]any
		if err := yaml.Unmarshal([]byte(part), &object); err != nil {
			return fmt.Errorf("kubeadm's CoreDNS manifests: %w", err)
		}
		if object != nil {
			items = append(items, object)
		}
	}
	return json.NewEncoder(out).Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}
