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
 */
import { mkdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { cpus as hostCpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { preflight } from '@airy/bootstrap';
import { buildPeakBytes } from '@airy/box-builder';
import { boxFacts, PORT_CHAIN } from '@airy/manifests';
import { $ } from 'zx';
import { expectApi, request } from './api.ts';
import { missingLine, missingTools, ONLINE_TOOLS, onlineWorkDir, onPath, sizeVm, workDirProblem } from './host.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
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
const bootstrap = join(repo, 'packages/bootstrap/lib/cli.js');
const instance = join(dir, 'instance');
const version = '0.0.1';
const started = Date.now();
/** How long the first boot may take until every tier answers (kubeadm init, Istio, the platform, the apps' stores). */
const READY_DEADLINE_MIN = 40;

async function step(name: string, work: (log: string) => Promise<void>): Promise<void> {
  const log = join(logs, `${name.replaceAll(' ', '-')}.log`);
  process.stderr.write(`e2e online: ${name}… (${Math.round((Date.now() - started) / 60_000)} min in)\n`);
  try {
    await work(log);
  } catch (error) {
    const tail = readFileSync(log, { encoding: 'utf8', flag: 'a+' }).trimEnd().split('\n').slice(-20).join('\n');
    process.stderr.write(`e2e online: step "${name}" failed: ${(error as Error).message}\n${tail}\nfull logs: ${logs}\n`);
    throw error;
  }
}

const run = (log: string, command: string[], env: NodeJS.ProcessEnv = {}) =>
  $({ env: { ...process.env, ...env } })`${command} >> ${log} 2>&1`.then(
    () => undefined,
    () => {
      throw new Error(`${command.slice(0, 3).join(' ')} failed`);
    },
  );

let failed = false;
try {
  const out = join(dir, 'build');
  rmSync(out, { recursive: true, force: true });
  await step('box build (every download)', (log) =>
    run(log, ['npx', 'nx', 'run', 'box-builder:build', '--skip-nx-cache', '--outputStyle=static', '--', '--provider', 'libvirt', '--box-version', version, '--out', out]),
  );
  const store = join(dir, 'catalog');
  rmSync(store, { recursive: true, force: true });
  // Signed, as users' catalogs are: bootstrap verifies it against the root the keys made.
  const keys = join(dir, 'keys');
  rmSync(keys, { recursive: true, force: true });
  await step('publish to a file catalog, signed', async (log) => {
    await run(log, ['node', join(repo, 'packages/box-builder/lib/cli.js'), 'keys', 'init', keys]);
    await run(log, ['node', join(repo, 'packages/box-builder/lib/cli.js'), 'publish', '--from', out, '--to', pathToFileURL(store).href, '--keys', keys]);
  });
  rmSync(instance, { recursive: true, force: true });
  let upAt = 0;
  await step('bootstrap up', (log) => {
    upAt = Date.now();
    return run(log, [
      'node', bootstrap, '--catalog', pathToFileURL(join(store, 'metadata.json')).href, '--trusted-root', join(keys, 'root.json'), '--box-version', version, '--provider', 'libvirt',
      '--dir', instance, '--cache', join(dir, 'cache'), '--yes', '--wait', '0', '--cpus', String(cpus), '--memory', String(memoryMiB),
    ]);
  });
  await step('each tier ready', async (log) => {
    // Polls bootstrap's own readiness (Kafka, Schema Registry, PostgreSQL, ingress, the app tier, the API) and
    // notes when each first answered, in seconds from vagrant up; at the deadline it names what is not ready.
    const deadline = Date.now() + READY_DEADLINE_MIN * 60_000;
    const readyAt = new Map<string, number>();
    let last: { name: string; ready: boolean; detail: string }[] = [];
    while (Date.now() < deadline) {
      const out = await $({ nothrow: true })`node ${bootstrap} status --json --dir ${instance} 2>>${log}`;
      last = (JSON.parse(out.stdout || '{}').components ?? []) as typeof last;
      for (const c of last) if (c.ready && !readyAt.has(c.name)) readyAt.set(c.name, Math.round((Date.now() - upAt) / 1000));
      if (last.length > 0 && last.every((c) => c.ready)) break;
      await new Promise((r) => setTimeout(r, 10_000));
    }
    process.stderr.write(`\n| tier | seconds from vagrant up |\n|---|---|\n${last.map((c) => `| ${c.name} | ${readyAt.get(c.name) ?? 'not ready'} |`).join('\n')}\n\n`);
    const pending = last.filter((c) => !c.ready);
    if (last.length === 0 || pending.length > 0) {
      throw new Error(`not ready after ${READY_DEADLINE_MIN} min: ${pending.map((c) => `${c.name} (${c.detail})`).join(', ') || 'status said nothing'}`);
    }
  });
  // api-admin's /client.config, through 127.0.0.1:8080 → the VM's port 80 → the gateway → the route → the app.
  await step('a request through the ingress to the API', (log) => expectApi(`http://127.0.0.1:${PORT_CHAIN.http.host}`, log));
  await step('kubeconfig on the host', async (log) => {
    const out = await $({ nothrow: true })`node ${bootstrap} kubeconfig --dir ${instance} 2>>${log}`;
    if (out.exitCode !== 0) throw new Error('airy-bootstrap kubeconfig failed');
    // The line is quoted for the shell; the shell reads it back.
    const file = (await $`bash -c ${`${out.stdout.trim()}; printf %s "$KUBECONFIG"`}`).stdout;
    const nodes = await $({ nothrow: true })`kubectl --kubeconfig ${file} get nodes -o name 2>>${log}`;
    if (nodes.exitCode !== 0 || !nodes.stdout.includes('node/')) throw new Error('kubectl on the host with the written kubeconfig does not see the node');
  });
  if (process.env.NGROK_AUTHTOKEN) {
    await step('a webhook through the in-cluster tunnel', async (log) => {
      await run(log, ['node', bootstrap, 'cluster-tunnel', '--dir', instance]);
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
    });
  } else {
    process.stderr.write('e2e online: the tunnel step did not run: NGROK_AUTHTOKEN is not set\n');
  }
} catch {
  failed = true;
} finally {
  await $({ nothrow: true })`node ${bootstrap} destroy --prune --dir ${instance} >> ${join(logs, 'destroy.log')} 2>&1`;
}
process.stderr.write(`e2e online: ${failed ? 'failed' : 'passed'} after ${Math.round((Date.now() - started) / 60_000)} min\n`);
process.exit(failed ? 1 : 0);
