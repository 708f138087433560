#!/usr/bin/env tsx
/**
 * The online end to end, for a machine with the internet, root and libvirt (`AIRY_E2E_ONLINE=1 bash tools/e2e/ci.sh`):
 * the real box from the Ubuntu cloud image with every download (Minikube, Kubernetes, Istio, crictl, every image),
 * published to a file catalog, booted by `airy-bootstrap` with the system's libvirt, readiness waited for, then a
 * request through the ingress to the API. With NGROK_AUTHTOKEN set, the in-cluster tunnel is started and a request
 * through ngrok's public URL must reach the Istio gateway. The VM is destroyed at the end, pass or fail.
 * Before anything starts it checks the host (host.ts): every tool it runs, the VM sized to the host (bootstrap's
 * own preflight: `--cpus`/`--memory` up to the box's default), and its folder (E2E_DIR, default /var/tmp/airy-e2e)
 * on disk with room for the build's peak; a problem is one line and exit 3.
 * The steps are named functions run by the step runner (steps.ts); the build, the publish, the status and the
 * destroy are the offline e2e's own (common.ts).
 */
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { cpus as hostCpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { preflight } from '@airy/bootstrap';
import { buildPeakBytes } from '@airy/box-builder';
import { boxFacts, PORT_CHAIN } from '@airy/manifests';
import { $ } from 'zx';
import { expectApi, request } from './api.ts';
import { bootstrapCli, bootstrapStatus, boxCli, buildBox, destroyInstance, expectVerified, type InstanceStatus, publishBox, runLogged } from './common.ts';
import { missingLine, missingTools, ONLINE_TOOLS, onlineWorkDir, onPath, sizeVm, workDirProblem } from './host.ts';
import { StepRunner } from './steps.ts';

const dir = join(onlineWorkDir(process.env), 'online');
const facts = boxFacts();

// Up front, in one line and exit 3 (a preflight failed): every tool on the host, a VM this host can run, and a
// work folder on disk with room for the build's peak; never after an hour's build.
const problems: string[] = [];
const missing = missingTools(ONLINE_TOOLS, onPath);
if (missing.length > 0) problems.push(missingLine(missing));
const vm = sizeVm(facts.vm, (cpus, memoryMiB) =>
  preflight(
    { platform: 'linux', arch: process.arch, cpus: hostCpus().length, memoryBytes: totalmem(), freeBytes: Number.MAX_SAFE_INTEGER, kvm: true, vagrantPlugins: [], hyperV: false },
    { provider: 'libvirt', cpus, memoryMiB },
  ),
);
if ('problem' in vm) problems.push(`this host is too small: ${vm.problem}`);
mkdirSync(dir, { recursive: true });
const fs = statfsSync(dir);
const diskProblem = workDirProblem(dir, { type: fs.type, freeBytes: fs.bavail * fs.bsize }, buildPeakBytes(false));
if (diskProblem) problems.push(diskProblem);
if (problems.length > 0) {
  process.stderr.write(`e2e online: not run: ${problems.join('; ')}\n`);
  process.exit(3);
}
const { cpus, memoryMiB } = vm as { cpus: number; memoryMiB: number };
process.stderr.write(`e2e online: a VM of ${cpus} CPUs and ${memoryMiB} MiB (this host: ${hostCpus().length} CPUs, ${Math.floor(totalmem() / 2 ** 20)} MiB); work folder ${dir}\n`);
const logs = join(dir, 'logs');
mkdirSync(logs, { recursive: true });
$.quiet = true;
const runner = new StepRunner({ label: 'e2e online', logs, tailLines: 20 });
const instance = join(dir, 'instance');
const version = '0.0.1';
/** The box the gate builds (the release workflow publishes this folder once the e2e passed). */
const out = join(dir, 'build');
const store = join(dir, 'catalog');
/** How long the first boot may take until every tier answers (kubeadm init, Istio, the platform, the apps' stores). */
const READY_DEADLINE_MIN = 40;
/** When `vagrant up` began: each tier's readiness is timed from it. */
let upAt = 0;

/** The real box, every download, through the README's build command. */
async function boxBuildEveryDownload(log: string) {
  rmSync(out, { recursive: true, force: true });
  await buildBox(log, ['--provider', 'libvirt', '--box-version', version, '--out', out]);
}

/** Signed, as users' catalogs are: bootstrap verifies it against the root the keys made. */
const keys = join(dir, 'keys');

async function publishToAFileCatalog(log: string) {
  rmSync(store, { recursive: true, force: true });
  rmSync(keys, { recursive: true, force: true });
  await runLogged(log, ['node', boxCli, 'keys', 'init', keys]);
  await publishBox(log, out, pathToFileURL(store).href, ['--keys', keys]);
}

async function bootstrapUp(log: string) {
  rmSync(instance, { recursive: true, force: true });
  upAt = Date.now();
  // From here on, the VM goes at the end, pass or fail.
  runner.onCleanup('destroy the VM', () => destroyInstance(instance, join(logs, 'destroy.log')));
  await runLogged(log, [
    'node', bootstrapCli, '--catalog', pathToFileURL(join(store, 'metadata.json')).href, '--trusted-root', join(keys, 'root.json'), '--box-version', version, '--provider', 'libvirt',
    '--dir', instance, '--cache', join(dir, 'cache'), '--yes', '--wait', '0', '--cpus', String(cpus), '--memory', String(memoryMiB),
  ]);
  expectVerified(log);
}

/**
 * Polls bootstrap's own readiness (Kafka, Schema Registry, PostgreSQL, ingress, the app tier, the API) and notes
 * when each first answered, in seconds from vagrant up; at the deadline it names what is not ready.
 */
async function eachTierReady(log: string) {
  const deadline = Date.now() + READY_DEADLINE_MIN * 60_000;
  const readyAt = new Map<string, number>();
  let last: InstanceStatus['components'] = [];
  while (Date.now() < deadline) {
    // While the VM boots, status may fail: asked again.
    last = (await bootstrapStatus(instance, log).catch(() => undefined))?.components ?? [];
    for (const c of last) if (c.ready && !readyAt.has(c.name)) readyAt.set(c.name, Math.round((Date.now() - upAt) / 1000));
    if (last.length > 0 && last.every((c) => c.ready)) break;
    await new Promise((r) => setTimeout(r, 10_000));
  }
  runner.figure(`\n| tier | seconds from vagrant up |\n|---|---|\n${last.map((c) => `| ${c.name} | ${readyAt.get(c.name) ?? 'not ready'} |`).join('\n')}`);
  const pending = last.filter((c) => !c.ready);
  if (last.length === 0 || pending.length > 0) {
    throw new Error(`not ready after ${READY_DEADLINE_MIN} min: ${pending.map((c) => `${c.name} (${c.detail})`).join(', ') || 'status said nothing'}`);
  }
}

/** api-admin's /client.config, through 127.0.0.1:8080 → the VM's port 80 → the gateway → the route → the app. */
const requestThroughTheIngress = (log: string) => expectApi(`http://127.0.0.1:${PORT_CHAIN.http.host}`, log);

async function kubeconfigOnTheHost(log: string) {
  const said = await $({ nothrow: true })`node ${bootstrapCli} kubeconfig --dir ${instance} 2>>${log}`;
  if (said.exitCode !== 0) throw new Error('airy-bootstrap kubeconfig failed');
  // The line is quoted for the shell; the shell reads it back.
  const file = (await $`bash -c ${`${said.stdout.trim()}; printf %s "$KUBECONFIG"`}`).stdout;
  const nodes = await $({ nothrow: true })`kubectl --kubeconfig ${file} get nodes -o name 2>>${log}`;
  if (nodes.exitCode !== 0 || !nodes.stdout.includes('node/')) throw new Error('kubectl on the host with the written kubeconfig does not see the node');
}

async function webhookThroughTheInClusterTunnel(log: string) {
  await runLogged(log, ['node', bootstrapCli, 'cluster-tunnel', '--dir', instance]);
  const inVm = $({ cwd: instance, nothrow: true });
  let publicUrl = '';
  for (let i = 0; i < 60 && !publicUrl; i++) {
    const api = await inVm`vagrant ssh -c ${`kubectl -n ${facts.namespace} exec deploy/ngrok -- wget -qO- http://127.0.0.1:4040/api/tunnels`}`;
    publicUrl = (JSON.parse(api.stdout || '{}').tunnels?.[0]?.public_url as string | undefined) ?? '';
    if (!publicUrl) await new Promise((r) => setTimeout(r, 5000));
  }
  if (!publicUrl) throw new Error('the ngrok agent published no URL within 5 minutes');
  const res = await request(`${publicUrl}${facts.webhooks[0]?.path ?? '/facebook'}`, { method: 'POST', body: '{}' });
  await $`echo ${JSON.stringify({ publicUrl, ...res })} >> ${log}`;
  // No source runs by default, so the gateway itself answers: the point is that ngrok reached it.
  if (res.server !== 'istio-envoy') throw new Error(`the webhook did not reach the Istio gateway (server: ${res.server}, status ${res.status})`);
}

await runner.run([
  { name: 'box build (every download)', run: boxBuildEveryDownload },
  { name: 'publish to a file catalog, signed', run: publishToAFileCatalog },
  { name: 'bootstrap up', run: bootstrapUp },
  { name: 'each tier ready', run: eachTierReady },
  { name: 'a request through the ingress to the API', run: requestThroughTheIngress },
  { name: 'kubeconfig on the host', run: kubeconfigOnTheHost },
  {
    name: 'a webhook through the in-cluster tunnel',
    run: webhookThroughTheInClusterTunnel,
    skip: process.env.NGROK_AUTHTOKEN ? undefined : 'NGROK_AUTHTOKEN is not set',
  },
]);
process.exit((await runner.finish()) ? 0 : 1);
