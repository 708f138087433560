/**
 * tools/e2e/rehearse.ts, the platform half of the online first boot on a throwaway cluster: what it makes the cluster
 * with, what it refuses a cluster for, and (here, with no cluster and no internet) its one line and exit 3.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boxFacts, COMPONENT_VERSIONS } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clusterProblems, createCluster, deleteCluster, forwardedPort, MINIKUBE_STAND_IN, rehearseTools } from '../../../tools/e2e/rehearse-plan.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const facts = boxFacts();
const work = mkdtempSync(join(tmpdir(), 'airy-rehearse-test-'));

test('a cluster made for the rehearsal is the box’s: its Kubernetes version and NodePort range', () => {
  const kind = createCluster('kind', 'airy-rehearse', facts);
  assert.ok(kind.argv.includes(`kindest/node:${COMPONENT_VERSIONS.kubernetes}`), kind.argv.join(' '));
  assert.match(kind.config ?? '', new RegExp(`service-node-port-range: "${facts.ports.nodePortRange}"`));
  const k3d = createCluster('k3d', 'airy-rehearse', facts);
  assert.ok(k3d.argv.includes(`rancher/k3s:${COMPONENT_VERSIONS.kubernetes}-k3s1`), k3d.argv.join(' '));
  assert.ok(k3d.argv.includes(`--service-node-port-range=${facts.ports.nodePortRange}@server:0`));
  assert.ok(k3d.argv.includes('--disable=traefik@server:0'), 'Traefik would hold ports 80 and 443');
  assert.equal(deleteCluster('kind', 'x'), ['kind', 'delete', 'cluster', '--name', 'x']);
  assert.equal(deleteCluster('k3d', 'x'), ['k3d', 'cluster', 'delete', 'x']);
});

test('the tools: istioctl at the box’s version, and the cluster maker only when it makes one', () => {
  const names = (create?: 'kind' | 'k3d') => rehearseTools(create).flatMap((t) => t.commands);
  assert.equal(names(), ['kubectl', 'istioctl', 'bash', 'openssl']);
  assert.match(rehearseTools().find((t) => t.commands.includes('istioctl'))?.install ?? '', new RegExp(COMPONENT_VERSIONS.istio.replaceAll('.', '\\.')));
  assert.equal(names('kind').slice(4), ['kind', 'docker']);
  assert.equal(names('k3d').slice(4), ['k3d', 'docker']);
});

const node = (architecture: string, cpu = '16', memory = '64Gi') => ({ status: { allocatable: { cpu, memory }, nodeInfo: { architecture } } });
const standard = { metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } };

test('a cluster that takes the platform as is: no problem', () => {
  assert.equal(clusterProblems({ nodes: [node('amd64')], storageClasses: [standard] }, facts), []);
});

test('what keeps a cluster from taking the platform as the box runs it, one phrase each', () => {
  const problems = clusterProblems(
    { nodes: [node('arm64', '500m', '1Gi')], storageClasses: [{ metadata: { name: 'slow' } }], nodePort80Error: 'The Service "x" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767' },
    facts,
  );
  assert.is(problems.length, 4, problems.join('\n'));
  assert.match(problems[0] ?? '', /^its nodes are arm64, and \d+ images of the release have no such build .*: use an amd64 machine$/);
  assert.match(problems[1] ?? '', /no default StorageClass/);
  assert.match(problems[2] ?? '', new RegExp(`refuses NodePort 80 \\(.*30000-32767\\): the box's gateway needs the apiserver's --service-node-port-range=${facts.ports.nodePortRange}; make one with --create kind`));
  assert.match(problems[3] ?? '', /^its nodes offer 500m CPU and 1024 MiB, the platform requests \d+m and \d+ MiB: use a larger machine$/);
  assert.equal(clusterProblems({ nodes: [], storageClasses: [] }, facts), ['the cluster has no nodes']);
});

test('the port kubectl port-forward chose, read from its output', () => {
  assert.is(forwardedPort('Forwarding from 127.0.0.1:41233 -> 8080\nForwarding from [::1]:41233 -> 8080\n'), 41233);
  assert.is(forwardedPort('error: unable to forward'), undefined);
});

test('the minikube stand-in says the cluster is up, and runs nothing', () => {
  const file = join(work, 'minikube');
  writeFileSync(file, MINIKUBE_STAND_IN);
  chmodSync(file, 0o755);
  assert.is(spawnSync(file, ['status']).status, 0);
  const start = spawnSync(file, ['start', '--driver=none'], { encoding: 'utf8' });
  assert.is(start.status, 0);
  assert.match(start.stderr, /is not run here/);
});

/** rehearse.ts run as a user runs it, with only the given tools (and sh and bash, which run it) on the PATH. */
function rehearse(args: string[], tools: Record<string, string>) {
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const [tool, body] of Object.entries({ sh: 'exec /bin/sh "$@"', bash: 'exec /bin/bash "$@"', ...tools })) {
    writeFileSync(join(bin, tool), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'tools', 'e2e', 'rehearse.ts'), ...args], {
    cwd: repo,
    env: { PATH: `${bin}:${dirname(process.execPath)}`, HOME: work, KUBECONFIG: '' },
    encoding: 'utf8',
  });
}

test('here it cannot run: one line saying why (the tools, no cluster), exit 3, before touching any network', () => {
  const run = rehearse(['--dir', join(work, 'run')], {});
  assert.is(run.status, 3, run.stderr);
  assert.is(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^rehearse: not run: missing kubectl .*, istioctl \(istioctl \S+, from .*\)/);
});

test('no cluster behind the kubeconfig: one line, exit 3', () => {
  const kubeconfig = join(work, 'kubeconfig');
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
  const run = rehearse(['--kubeconfig', kubeconfig], {
    kubectl: 'echo "The connection to the server localhost:8080 was refused - did you specify the right host or port?" >&2; exit 1',
    istioctl: 'exit 0',
    openssl: 'exit 0',
  });
  assert.is(run.status, 3, run.stderr);
  assert.is(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`^rehearse: not run: no cluster: kubectl cannot reach the cluster of ${kubeconfig} \\(The connection to the server localhost:8080 was refused`));
});

test('bad usage: one line, exit 2', () => {
  const run = rehearse(['--create', 'minikube'], {});
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /^rehearse: --create minikube: give kind or k3d\n$/);
});

test.run();
