/**
 * The chain of ports from a laptop to an app in the box: host port (Vagrant's forward on 127.0.0.1) → the VM's
 * port → the ingress gateway's NodePort → its Service port, which the Gateway listens on → the VirtualService's
 * route → the app's Service port → the container's port. One home for the numbers; the Vagrantfile, the
 * provisioning scripts (the NodePort range), the IstioOperator and bootstrap's URLs derive from it.
 *
 * The box runs Minikube with the `none` driver: Kubernetes runs on the VM itself, so a NodePort is a port of the
 * VM and the VM port equals the NodePort by construction (see images/README.md). The numbers only: the walk of a
 * request through a rendered platform is `ingress-walk.ts` (the components import these, so this file imports
 * none of them).
 */
/** The ports of the local box, per scheme. */
export const PORT_CHAIN = {
  http: { host: 8080, vm: 80, nodePort: 80 },
  https: { host: 8443, vm: 443, nodePort: 443 },
} as const;

/**
 * The Kubernetes API of the box: Minikube's apiserver port on the VM, forwarded to this port on the host's
 * 127.0.0.1 (an address its certificate names), so `kubectl` on the laptop reaches it with or without the private
 * network.
 */
export const API_SERVER_PORTS = { host: 16443, vm: 8443 } as const;

/**
 * The ports the VM itself listens on with Minikube's `none` driver: sshd, etcd, the apiserver, the kubelet,
 * kube-proxy, the controller manager and the scheduler. A NodePort on one of them would be taken over by
 * kube-proxy for traffic from outside the VM.
 */
export const VM_OWN_PORTS: readonly number[] = [22, 2379, 2380, API_SERVER_PORTS.vm, 10249, 10250, 10256, 10257, 10259];

/**
 * The apiserver's NodePort range: from the gateway's ports 80 and 443, up to just below the lowest of the VM's
 * own ports above them (2379, etcd). Kubernetes allocates a NodePort nobody pinned (a user's Service) anywhere in
 * the range, so a range up to 32767 could hand out 8443 or 10250.
 */
export const NODE_PORT_RANGE = (() => {
  const low = Math.min(PORT_CHAIN.http.nodePort, PORT_CHAIN.https.nodePort);
  const high = Math.min(...VM_OWN_PORTS.filter((p) => p > low)) - 1;
  return `${low}-${high}`;
})();
