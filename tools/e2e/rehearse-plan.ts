/**
 * The pure half of rehearse.ts: what it needs on the host, how it makes a throwaway cluster that takes the box's
 * platform as is (the box's Kubernetes version and NodePort range), and what it finds wrong with a cluster before
 * applying anything, each in words a user can act on.
 */
import { type BoxFacts, BOX_PLATFORM_OPTIONS, boxImages, COMPONENT_VERSIONS, imageArchitectures, nodeBudget } from '@airy/manifests';
import type { Tool } from './host.ts';

/** The clusters rehearse.ts can make. */
export type ClusterKind = 'kind' | 'k3d';

/** What rehearse.ts runs: kubectl, the box's istioctl, bash and openssl (provisioning.sh), and the cluster's maker. */
export function rehearseTools(create?: ClusterKind): Tool[] {
  return [
    { commands: ['kubectl'], install: 'install kubectl (kubernetes.io/docs/tasks/tools)' },
    { commands: ['istioctl'], install: `istioctl ${COMPONENT_VERSIONS.istio}, from istio.io/latest/docs/setup/getting-started` },
    { commands: ['bash'], install: 'install bash' },
    { commands: ['openssl'], install: 'apt-get install openssl' },
    ...(create === 'kind' ? [{ commands: ['kind'], install: 'install kind (kind.sigs.k8s.io)' }, { commands: ['docker'], install: 'install Docker' }] : []),
    ...(create === 'k3d' ? [{ commands: ['k3d'], install: 'install k3d (k3d.io)' }, { commands: ['docker'], install: 'install Docker' }] : []),
  ];
}

/**
 * The command that makes a throwaway cluster `name` as the box's: its Kubernetes version and the apiserver's
 * NodePort range (the box's gateway has NodePorts 80 and 443). `config` is kind's file, written beside the run.
 */
export function createCluster(kind: ClusterKind, name: string, facts: BoxFacts): { argv: string[]; config?: string } {
  const version = COMPONENT_VERSIONS.kubernetes.startsWith('v') ? COMPONENT_VERSIONS.kubernetes : `v${COMPONENT_VERSIONS.kubernetes}`;
  if (kind === 'kind') {
    const config = [
      'kind: Cluster',
      'apiVersion: kind.x-k8s.io/v1alpha4',
      'kubeadmConfigPatches:',
      '  - |',
      '    kind: ClusterConfiguration',
      '    apiServer:',
      '      extraArgs:',
      `        service-node-port-range: "${facts.ports.nodePortRange}"`,
      '',
    ].join('\n');
    return { argv: ['kind', 'create', 'cluster', '--name', name, '--image', `kindest/node:${version}`, '--wait', '5m', '--config', 'CONFIG'], config };
  }
  // k3s's Traefik would hold the node's ports 80 and 443 through its service load balancer: off, as the box has none.
  return {
    argv: ['k3d', 'cluster', 'create', name, '--image', `rancher/k3s:${version}-k3s1`, '--wait',
      '--k3s-arg', `--service-node-port-range=${facts.ports.nodePortRange}@server:0`, '--k3s-arg', '--disable=traefik@server:0'],
  };
}

/** The command that removes it again. */
export function deleteCluster(kind: ClusterKind, name: string): string[] {
  return kind === 'kind' ? ['kind', 'delete', 'cluster', '--name', name] : ['k3d', 'cluster', 'delete', name];
}

/** What rehearse.ts reads from the cluster before it applies anything. */
export interface ClusterView {
  /** `kubectl get nodes -o json`'s items. */
  readonly nodes: readonly { readonly status?: { readonly allocatable?: Record<string, string>; readonly nodeInfo?: { readonly architecture?: string } } }[];
  /** `kubectl get storageclass -o json`'s items. */
  readonly storageClasses: readonly { readonly metadata?: { readonly name?: string; readonly annotations?: Record<string, string> } }[];
  /** The error of a server-side dry run of a Service with NodePort 80, or undefined when it was accepted. */
  readonly nodePort80Error?: string;
}

const cpuMilli = (q = '0') => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
function memoryBytes(q = '0'): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(q);
  if (!m) return 0;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * What keeps the box's platform from running on this cluster as it runs in the box, one phrase each: nodes of an
 * architecture the release's images lack, no default StorageClass for the volumes' claims, a NodePort range
 * without the gateway's 80, and less CPU or memory than the platform requests. Pure.
 */
export function clusterProblems(view: ClusterView, facts: BoxFacts): string[] {
  const problems: string[] = [];
  if (view.nodes.length === 0) return ['the cluster has no nodes'];
  const architectures = [...new Set(view.nodes.map((n) => n.status?.nodeInfo?.architecture ?? 'unknown'))];
  const images = boxImages();
  const lacking = images.filter((image) => !architectures.some((a) => imageArchitectures(image).includes(a as never)));
  if (lacking.length > 0) problems.push(`its nodes are ${architectures.join(', ')}, and ${lacking.length} images of the release have no such build (${lacking.slice(0, 2).join(', ')}…): use an amd64 machine`);
  const isDefault = (a?: Record<string, string>) => a?.['storageclass.kubernetes.io/is-default-class'] === 'true' || a?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
  if (!view.storageClasses.some((c) => isDefault(c.metadata?.annotations))) {
    problems.push('it has no default StorageClass for the platform’s volume claims (kind and k3d come with one)');
  }
  if (view.nodePort80Error !== undefined) {
    problems.push(`it refuses NodePort 80 (${view.nodePort80Error.split('\n')[0]?.trim()}): the box's gateway needs the apiserver's --service-node-port-range=${facts.ports.nodePortRange}; make one with --create kind or --create k3d`);
  }
  const budget = nodeBudget(BOX_PLATFORM_OPTIONS, facts.vm);
  const cpu = view.nodes.reduce((sum, n) => sum + cpuMilli(n.status?.allocatable?.cpu), 0);
  const memory = view.nodes.reduce((sum, n) => sum + memoryBytes(n.status?.allocatable?.memory), 0);
  const need = budget.requests.total;
  if (cpu < need.cpuMillicores || memory < need.memoryBytes) {
    problems.push(
      `its nodes offer ${cpu}m CPU and ${Math.floor(memory / 2 ** 20)} MiB, the platform requests ${need.cpuMillicores}m and ${Math.ceil(need.memoryBytes / 2 ** 20)} MiB: use a larger machine`,
    );
  }
  return problems;
}

/** The local port of `kubectl port-forward`'s first "Forwarding from 127.0.0.1:PORT -> …" line, if any. */
export function forwardedPort(output: string): number | undefined {
  const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** The stand-in for `minikube` that provisioning.sh meets: the cluster is already up, so `status` says so. */
export const MINIKUBE_STAND_IN = '#!/bin/sh\n# rehearse.ts: the cluster is the throwaway one, already running.\n[ "$1" = status ] && exit 0\necho "minikube (rehearse stand-in): $* is not run here" >&2\nexit 0\n';
