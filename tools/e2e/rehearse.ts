#!/usr/bin/env tsx
/**
 * The platform half of the online first boot, rehearsed in minutes on a throwaway cluster instead of after an
 * hour's box build: on a machine with the internet and any disposable Kubernetes (kind, k3d), it applies the box's
 * rendered platform with the real release images exactly as the box does (images/scripts/provisioning.sh itself:
 * the Secret, `istioctl install` of the box's IstioOperator, then each tier in kustomization order with the
 * lifecycle's waits and the topics Job), polls bootstrap's own readiness probes, and sends `POST /client.config`
 * through the Istio gateway, which must answer 200.
 *
 *   tsx tools/e2e/rehearse.ts --create kind          make a cluster as the box's (Kubernetes version, NodePort range),
 *                                                    rehearse, delete it (--keep keeps it)
 *   tsx tools/e2e/rehearse.ts --kubeconfig FILE      a throwaway cluster of your own (KUBECONFIG by default)
 *   options: --dir DIR (default /var/tmp/airy-rehearse), --timeout MINUTES (readiness, default 30)
 *
 * What the box has and a cluster may not is checked first, in one line with exit 3: the tools, a reachable
 * cluster, the internet, amd64 nodes, a default StorageClass, NodePort 80 allowed, room for the platform's
 * requests. Exit 0 passed, 1 failed (the log folder is named), 2 bad usage, 3 cannot run here, 130 interrupted.
 * Only minikube is stood in for (its cluster is this one). What it does not rehearse: the VM, Minikube's none
 * driver, the box's pre-pulled images (the cluster pulls them), the host's port forwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { platformProbes, type ProbeRunner, waitReady } from '@airy/bootstrap';
import { INGRESS_GATEWAY, onStopSignal, writeFileAtomic } from '@airy/cli-kit';
import { boxFacts, boxFactsEnv, boxFiles } from '@airy/manifests';
import { $, minimist } from 'zx';
import { expectApi, request } from './api.ts';
import { missingLine, missingTools, onPath } from './host.ts';
import { type ClusterKind, type ClusterView, clusterProblems, createCluster, deleteCluster, forwardedPort, MINIKUBE_STAND_IN, rehearseTools } from './rehearse-plan.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const facts = boxFacts();
const started = Date.now();
const say = (line: string) => process.stderr.write(`rehearse: ${line}\n`);
const stop = (code: number, line: string): never => {
  say(line);
  process.exit(code);
};

const args = minimist(process.argv.slice(2), { string: ['kubeconfig', 'create', 'dir', 'timeout'], boolean: ['keep', 'help'] });
if (args.help) {
  process.stdout.write('usage: tsx tools/e2e/rehearse.ts [--create kind|k3d [--keep]] [--kubeconfig FILE] [--dir DIR] [--timeout MINUTES]\n');
  process.exit(0);
}
const unknown = Object.keys(args).filter((k) => !['_', 'kubeconfig', 'create', 'dir', 'timeout', 'keep', 'help'].includes(k));
if (unknown.length > 0 || args._.length > 0) stop(2, `unknown argument ${unknown[0] ? `--${unknown[0]}` : args._[0]}: see --help`);
if (args.create !== undefined && !['kind', 'k3d'].includes(args.create)) stop(2, `--create ${args.create}: give kind or k3d`);
if (args.create && args.kubeconfig) stop(2, '--create and --kubeconfig exclude each other: the cluster is either made here or yours');
const timeoutMin = args.timeout === undefined ? 30 : Number(args.timeout);
if (!Number.isFinite(timeoutMin) || timeoutMin <= 0) stop(2, `--timeout ${args.timeout}: give a number of minutes above 0`);
const create = args.create as ClusterKind | undefined;
const dir = resolve(args.dir || '/var/tmp/airy-rehearse');
const clusterName = 'airy-rehearse';

// Up front, one line and exit 3: what this machine lacks to rehearse at all.
const problems: string[] = [];
const missing = missingTools(rehearseTools(create), onPath);
if (missing.length > 0) problems.push(missingLine(missing));
const kubeconfig = create ? join(dir, 'kubeconfig') : resolve(args.kubeconfig || process.env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config'));
const kubectl = (argv: string[]) => $({ nothrow: true, quiet: true, env: { ...process.env, KUBECONFIG: kubeconfig } })`kubectl ${argv}`;
if (!create && onPath('kubectl')) {
  if (!existsSync(kubeconfig)) {
    problems.push(`no cluster: no kubeconfig at ${kubeconfig} (pass --kubeconfig FILE of a throwaway kind or k3d cluster, or --create kind)`);
  } else {
    const ready = await kubectl(['--request-timeout=10s', 'get', '--raw', '/readyz']);
    const why = ready.stderr.trim().split('\n').at(-1) ?? '';
    if (ready.exitCode !== 0) problems.push(`no cluster: kubectl cannot reach the cluster of ${kubeconfig} (${why.slice(0, 200)})`);
  }
}
if (problems.length > 0) stop(3, `not run: ${problems.join('; ')}`);
// The cluster pulls the release's images (ghcr.io, Docker Hub, quay.io) and istioctl Istio's: without the internet
// nothing would start.
const online = await request('https://ghcr.io/v2/').then(
  () => undefined,
  (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
);
if (online !== undefined) stop(3, `not run: no internet (ghcr.io, where the release's images are, does not answer: ${online})`);

mkdirSync(join(dir, 'logs'), { recursive: true });
const logs = join(dir, 'logs');
let forward: ChildProcess | undefined;
let made = false;
async function teardown(): Promise<void> {
  forward?.kill();
  if (made && !args.keep) {
    await $({ nothrow: true, quiet: true })`${deleteCluster(create as ClusterKind, clusterName)} >> ${join(logs, 'delete.log')} 2>&1`;
    say(`the ${create} cluster ${clusterName} is deleted`);
  } else if (made) {
    say(`the ${create} cluster ${clusterName} is kept (--keep): KUBECONFIG=${kubeconfig}`);
  }
}
onStopSignal(() => {
  void teardown().finally(() => stop(130, 'interrupted: the port-forward stopped, the cluster made here deleted'));
});

async function step<T>(name: string, work: (log: string) => Promise<T>): Promise<T> {
  say(`${name}… (${Math.round((Date.now() - started) / 1000)} s in)`);
  const log = join(logs, `${name.replaceAll(' ', '-')}.log`);
  try {
    return await work(log);
  } catch (error) {
    throw new Error(`${name}: ${(error as Error).message} (log: ${log})`);
  }
}

let failed: string | undefined;
try {
  if (create) {
    await step(`create a ${create} cluster`, async (log) => {
      const { argv, config } = createCluster(create, clusterName, facts);
      const configFile = join(dir, `${create}.yaml`);
      if (config) writeFileSync(configFile, config);
      const run = await $({ nothrow: true, quiet: true })`${argv.map((a) => (a === 'CONFIG' ? configFile : a))} >> ${log} 2>&1`;
      if (run.exitCode !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed`);
      made = true;
      const got = create === 'kind' ? await $({ quiet: true })`kind get kubeconfig --name ${clusterName}` : await $({ quiet: true })`k3d kubeconfig get ${clusterName}`;
      // The admin's client key: private.
      await writeFileAtomic(kubeconfig, got.stdout, { mode: 0o600 });
    });
  }
  await step('check the cluster', async () => {
    const json = async (argv: string[]) => {
      const out = await kubectl([...argv, '-o', 'json']);
      if (out.exitCode !== 0) throw new Error(`kubectl ${argv.join(' ')}: ${out.stderr.trim().split('\n').at(-1)}`);
      return (JSON.parse(out.stdout).items ?? []) as never[];
    };
    const probe = await kubectl(['-n', 'default', 'create', 'service', 'nodeport', 'airy-rehearse-nodeport-check', '--tcp=80:80', '--node-port=80', '--dry-run=server', '-o', 'name']);
    const view: ClusterView = { nodes: await json(['get', 'nodes']), storageClasses: await json(['get', 'storageclass']), ...(probe.exitCode === 0 ? {} : { nodePort80Error: probe.stderr.trim() || 'refused' }) };
    const found = clusterProblems(view, facts);
    if (found.length > 0) {
      await teardown();
      stop(3, `not run: this cluster cannot take the box's platform as is: ${found.join('; ')}`);
    }
  });

  // The box's own files, as the build installs them: the rendered platform, the facts, the lifecycle script.
  const work = join(dir, 'box');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'deployments'), { recursive: true });
  mkdirSync(join(work, 'bin'));
  for (const [name, text] of boxFiles()) writeFileSync(join(work, 'deployments', name), text);
  const lifecycle = join(work, 'airy-lifecycle');
  copyFileSync(join(repo, 'images', 'scripts', 'lifecycle.sh'), lifecycle);
  chmodSync(lifecycle, 0o755);
  writeFileSync(join(work, 'airy.env'), boxFactsEnv({ ...facts, lifecycle, ngrok: { ...facts.ngrok, tokenFile: join(work, 'no-ngrok-token') } }));
  writeFileSync(join(work, 'bin', 'minikube'), MINIKUBE_STAND_IN, { mode: 0o755 });
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    PATH: `${join(work, 'bin')}:${process.env.PATH}`,
    AIRY_FACTS: join(work, 'airy.env'),
    AIRY_DEPLOYMENTS: join(work, 'deployments'),
    AIRY_USER: 'airy-rehearse-no-such-user',
  };

  await step('provisioning.sh (istioctl install, then each tier in order)', async (log) => {
    const run = await $({ nothrow: true, quiet: true, env })`bash ${join(repo, 'images', 'scripts', 'provisioning.sh')} >> ${log} 2>&1`;
    if (run.exitCode !== 0) throw new Error(`provisioning.sh exited ${run.exitCode}`);
  });

  const port = await step('port-forward to the Istio gateway', async (log) => {
    const child = spawn('kubectl', ['-n', INGRESS_GATEWAY.namespace, 'port-forward', `svc/${INGRESS_GATEWAY.service}`, `0:${INGRESS_GATEWAY.httpPort}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    forward = child;
    let seen = '';
    return new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error('kubectl port-forward named no port within 60 s')), 60_000);
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        writeFileSync(log, seen);
        const found = forwardedPort(seen);
        if (found !== undefined) {
          clearTimeout(timer);
          resolvePort(found);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`kubectl port-forward ended (exit ${code})`)));
    });
  });
  const ingressUrl = `http://127.0.0.1:${port}/`;

  await step('bootstrap’s readiness', async () => {
    const runner: ProbeRunner = {
      exec: async (command) => {
        const out = await $({ nothrow: true, quiet: true, env })`bash -c ${command}`;
        return { ok: out.exitCode === 0, stdout: out.stdout, stderr: out.stderr };
      },
      http: ({ url, host, method, body }) =>
        request(url, { host, method, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } }).then(
          (r) => r.status,
          () => undefined,
        ),
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
    const probes = platformProbes({ namespace: facts.namespace, database: facts.postgres.database, ingressUrl, host: facts.host });
    const result = await waitReady(probes, runner, {
      timeoutMs: timeoutMin * 60_000,
      intervalMs: 10_000,
      onChange: (s) => say(`  ${s.name}: ${s.ready ? 'ready' : s.detail} (${Math.round((Date.now() - started) / 1000)} s in)`),
    });
    if (!result.ready) throw new Error(`not ready after ${timeoutMin} min: ${result.states.filter((s) => !s.ready).map((s) => `${s.name} (${s.detail})`).join(', ')}`);
  });

  await step('a request through the gateway to the API', (log) => expectApi(ingressUrl, log));
} catch (error) {
  failed = (error as Error).message;
} finally {
  await teardown();
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
if (failed) stop(1, `failed after ${minutes} min: ${failed}`);
say(`passed after ${minutes} min: the box's platform, applied as the box applies it, answered POST ${facts.apps.api.path} with ${facts.apps.api.status}`);
