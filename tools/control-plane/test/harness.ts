/**
 * What the cluster tests share: a control plane per test file (up.ts's own code), the real kubectl built beside it,
 * and stand-ins for what cannot run here, each named as what it is:
 * - `minikube` (its cluster is this control plane: `status` answers running),
 * - `istioctl install` (applies Istio's real CRDs and makes istiod and the ingress gateway as the IstioOperator sizes
 *   them; Istio's own charts cannot be had here),
 * - minikube's storage-provisioner (binds each pending claim to a hostPath volume, as it does),
 * and Kubernetes' own pods on the box's node, made by kubeadm's code (bin/kubeadm-pods).
 */
import { execFile as execFileCb } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BIN, type ClusterOptions, down, runKubectl, up } from '../cluster.ts';

const execFile = promisify(execFileCb);
export const repo = fileURLToPath(new URL('../../..', import.meta.url));
const standInSources = fileURLToPath(new URL('.', import.meta.url));

/** A Kubernetes object as kubectl prints it (the fields the tests read). */
export interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; creationTimestamp?: string; labels?: Record<string, string>; managedFields?: unknown[] };
  // biome-ignore lint/suspicious/noExplicitAny: the rest is whatever the kind has.
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  status?: any;
}

export interface TestCluster {
  readonly dir: string;
  readonly kubeconfig: string;
  /** PATH and KUBECONFIG for a script: the stand-ins first, then the real kubectl. */
  readonly env: NodeJS.ProcessEnv;
  /** kubectl ARGS; rejects with kubectl's last line of stderr. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** `kubectl get ARGS -o json`'s items. */
  items(args: string[]): Promise<Obj[]>;
  /** Runs a command with `env`; resolves to its exit code and output (never rejects). */
  run(command: string, args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Starts a control plane in a new temporary folder, with the stand-ins beside it. */
export async function startCluster(name: string, options: ClusterOptions): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), `airy-cluster-${name}-`));
  const state = await up(dir, options);
  const standIns = join(dir, 'stand-ins');
  mkdirSync(standIns);
  const tsx = join(repo, 'node_modules', '.bin', 'tsx');
  const scripts: Record<string, string> = {
    // The cluster is up: `minikube status` says so, anything else it is asked is not needed here.
    minikube: '[ "$1" = status ] && exit 0\necho "minikube stand-in: $* is not run here" >&2\nexit 0',
    istioctl: `exec '${tsx}' '${join(standInSources, 'istioctl.ts')}' "$@"`,
  };
  for (const [tool, body] of Object.entries(scripts)) {
    writeFileSync(join(standIns, tool), `#!/bin/bash\n# A stand-in for ${tool}: see tools/control-plane/test/harness.ts.\n${body}\n`);
    chmodSync(join(standIns, tool), 0o755);
  }
  const env = { ...process.env, PATH: `${standIns}:${BIN}:${process.env.PATH}`, KUBECONFIG: state.kubeconfig, AIRY_CONTROL_PLANE_BIN: BIN };
  const kubectl = (args: string[], input?: string) => runKubectl(args, { env, input });
  const provisioner = storageProvisioner(kubectl);
  return {
    dir,
    kubeconfig: state.kubeconfig,
    env,
    kubectl,
    items: async (args) => (JSON.parse(await kubectl(['get', ...args, '-o', 'json'])) as { items: Obj[] }).items,
    run: async (command, args, extraEnv = {}) =>
      execFile(command, args, { env: { ...env, ...extraEnv }, maxBuffer: 64 * 2 ** 20 }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      ),
    stop: async () => {
      provisioner.stop();
      await down(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A stand-in for minikube's storage-provisioner (k8s.io/minikube-hostpath): the default StorageClass `standard`,
 * and a hostPath PersistentVolume of the asked size bound to each pending claim of it. Polls every half second.
 */
function storageProvisioner(kubectl: (args: string[], input?: string) => Promise<string>): { stop(): void } {
  let stopped = false;
  const loop = async () => {
    await kubectl(['apply', '-f', '-'], JSON.stringify(STANDARD_STORAGE_CLASS)).catch(() => undefined);
    while (!stopped) {
      const list = await kubectl(['get', 'pvc', '-A', '-o', 'json']).catch(() => '{"items":[]}');
      for (const claim of (JSON.parse(list) as { items: Obj[] }).items) {
        if (claim.status?.phase !== 'Pending' || (claim.spec?.storageClassName ?? 'standard') !== 'standard') continue;
        const name = `pvc-${claim.metadata.namespace}-${claim.metadata.name}`.slice(0, 63);
        const volume = {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': 'k8s.io/minikube-hostpath' } },
          spec: {
            capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
            accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Delete',
            storageClassName: 'standard',
            claimRef: { namespace: claim.metadata.namespace, name: claim.metadata.name },
            hostPath: { path: `/tmp/hostpath-provisioner/${claim.metadata.namespace}/${claim.metadata.name}` },
          },
        };
        await kubectl(['apply', '-f', '-'], JSON.stringify(volume)).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  void loop();
  return {
    stop: () => {
      stopped = true;
    },
  };
}

const STANDARD_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'k8s.io/minikube-hostpath',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
};

/**
 * Kubernetes' own pods of the box's node, made by kubeadm's code: the static pods (as mirror pods, bound to the
 * node) and the CoreDNS addon, its Deployment at one replica as Minikube scales it on a single control plane.
 */
export async function kubeSystemPods(cluster: TestCluster, node: string): Promise<void> {
  const { stdout } = await execFile(join(BIN, 'kubeadm-pods'));
  const list = JSON.parse(stdout) as { items: Obj[] };
  for (const item of list.items) {
    if (item.kind === 'Deployment') item.spec.replicas = 1;
    if (item.kind !== 'Pod') continue;
    item.metadata.name = `${item.metadata.name}-${node}`;
    item.spec.nodeName = node;
  }
  await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(list));
}

/** Pods not yet scheduled, with the scheduler's reason: what a user would be told. */
export async function unschedulable(cluster: TestCluster, namespace: string): Promise<{ pod: string; why: string }[]> {
  const pods = await cluster.items(['pods', '-n', namespace]);
  return pods
    .filter((p) => !p.spec?.nodeName)
    .map((p) => ({
      pod: p.metadata.name,
      why: (p.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled')?.message ?? 'not scheduled yet',
    }));
}

/** Polls `check` every half second until it is true or `seconds` pass; false then. */
export async function eventually(seconds: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** A temporary folder under the cluster's, for a render or a script's files. */
export function scratch(cluster: TestCluster, name: string): string {
  const dir = join(cluster.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Prints each test's wall time after it (where a suite's minutes go). */
export function timeEach(suite: { before: { each(fn: () => void): void }; after: { each(fn: () => void): void } }): void {
  let started = 0;
  suite.before.each(() => {
    started = Date.now();
  });
  suite.after.each(() => {
    console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
}
