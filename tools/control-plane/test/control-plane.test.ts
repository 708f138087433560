/**
 * up.sh and down.sh as a user runs them: bad input and a second start refused in one line, the versions the box
 * runs, the kubeconfig private, and down.sh stopping exactly what up.sh started, leaving no process behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENT_VERSIONS, KUBERNETES_IMAGES } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, type ClusterState, isRunning } from '../cluster.ts';
import { repo, timeEach } from './harness.ts';

timeEach(test);
const script = (name: string) => join(repo, 'tools', 'control-plane', name);
const run = (name: string, args: string[]) => spawnSync('bash', [script(name), ...args], { encoding: 'utf8' });

test('bad input: one line each, exit 2, nothing started', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-cp-bad-'));
  try {
    for (const [args, said] of [
      [[], /give exactly one folder/],
      [[dir, '--nodes', '0'], /--nodes 0: give a whole number from 1 to 50/],
      [[dir, '--cpu', 'lots'], /--cpu lots: give a CPU quantity/],
      [[dir, '--memory', '8 GB'], /--memory 8 GB: give a memory quantity/],
      [[dir, '--system-reserved', 'cpu=9,memory=1Gi'], /leaves nothing of a node/],
      [[dir, '--service-node-port-range', '80-99999'], /give LOW-HIGH within 1-65535/],
      [[dir, '--colour'], /Unknown option '--colour'/],
    ] as const) {
      const r = run('up.sh', [...args]);
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.is(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', said);
    }
    const down = run('down.sh', [dir]);
    assert.is(down.status, 2);
    assert.match(down.stderr, /no control plane was started in/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the programs are the box's versions: Kubernetes, etcd as kubeadm's image of it", () => {
  const version = spawnSync(join(BIN, 'kube-apiserver'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.is(version, `Kubernetes ${COMPONENT_VERSIONS.kubernetes}`);
  const kubectl = JSON.parse(spawnSync(join(BIN, 'kubectl'), ['version', '--client', '-o', 'json'], { encoding: 'utf8' }).stdout);
  assert.is(kubectl.clientVersion.gitVersion, COMPONENT_VERSIONS.kubernetes);
  const etcd = spawnSync(join(BIN, 'etcd'), ['--version'], { encoding: 'utf8' }).stdout;
  const image = KUBERNETES_IMAGES.find((i: string) => i.includes('/etcd:')) ?? '';
  assert.ok(image, 'the box pre-pulls an etcd image');
  assert.match(etcd, `etcd Version: ${/:(\d+\.\d+\.\d+)/.exec(image)?.[1]}`);
});

test('up.sh leaves it running with a private kubeconfig; a second up is refused; down.sh stops exactly what up started', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-cp-up-'));
  try {
    const up = run('up.sh', [dir, '--nodes', '2', '--cpu', '2', '--memory', '4Gi']);
    assert.is(up.status, 0, up.stderr);
    assert.is(up.stdout.trim(), join(dir, 'kubeconfig'));
    assert.is(statSync(join(dir, 'kubeconfig')).mode & 0o777, 0o600, 'the kubeconfig holds a client key');
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ClusterState;
    assert.equal(
      state.processes.map((p) => p.name),
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'],
    );
    assert.ok(state.processes.every(isRunning), 'all still run after up.sh exited');
    const nodes = spawnSync(join(BIN, 'kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'nodes', '-o', 'json'], { encoding: 'utf8' });
    const items = JSON.parse(nodes.stdout).items as { status: { capacity: { cpu: string; memory: string } } }[];
    assert.is(items.length, 2);
    assert.equal(
      items.map((n) => [n.status.capacity.cpu, n.status.capacity.memory]),
      [
        ['2', '4Gi'],
        ['2', '4Gi'],
      ],
    );
    const again = run('up.sh', [dir]);
    assert.is(again.status, 2);
    assert.match(again.stderr, /a control plane is already running in .*: stop it with bash tools\/control-plane\/down\.sh/);
    const down = run('down.sh', [dir]);
    assert.is(down.status, 0, down.stderr);
    assert.match(down.stderr, /stopped kwok, kube-scheduler, kube-controller-manager, kube-apiserver, etcd/);
    assert.ok(state.processes.every((p) => !isRunning(p)), 'no process of it is left');
  } finally {
    run('down.sh', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
