/**
 * The README's path to a production cluster, as far as it runs without one: its render command as written, what
 * `kubectl apply -k` would read, and what its ApplySet prune needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const block = /<!-- production-path -->\n```sh\n([\s\S]*?)```\n<!-- \/production-path -->/.exec(readme)?.[1] ?? '';
/** The block's commands, continuation lines joined, comments left out. */
const commands = block
  .replaceAll('\\\n', ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectl) console.log('skip: kubectl is not installed here; the kustomize checks of the production path are skipped');
const work = mkdtempSync(join(tmpdir(), 'airy-production-path-'));

/** `npx airy-manifests ARGS` of the README, run with this package's bin in `work`. */
function renderAsWritten(extra: string[] = []) {
  const render = commands.find((c) => c.startsWith('npx airy-manifests render'));
  assert.ok(render, 'the README renders with npx airy-manifests');
  const args = (render as string).replace(/^npx airy-manifests /, '').split(/\s+/);
  return runBin(packageDir, [...args, ...extra], { cwd: work });
}

function kustomize(): { kind: string; metadata: { name: string; namespace?: string } }[] {
  const run = spawnSync('kubectl', ['kustomize', join(work, 'deploy')], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  return parseAllDocuments(run.stdout).map((d) => d.toJSON());
}

test('the README block holds the whole path: render, Istio, certificate, apply server-side with prune, rollout', () => {
  for (const step of [
    /^npx airy-manifests render --profile production --host \S+ --tls-secret \S+ .*--out deploy$/,
    /^istioctl install -y -f deploy\/istio-operator\.yaml$/,
    /^kubectl -n istio-system create secret tls /,
    /^KUBECTL_APPLYSET=true kubectl apply --server-side -n airy -k deploy --prune --applyset=\S+$/,
    /^kubectl -n airy rollout status statefulset\/kafka/,
    /^kubectl -n airy wait --for=condition=Available deployment --all/,
  ]) {
    assert.ok(commands.some((c) => step.test(c)), String(step));
  }
});

test('step 1 as written renders HTTPS for the host, the IstioOperator beside, and validates', () => {
  const run = renderAsWritten();
  assert.is(run.status, 0, run.stderr);
  const deploy = join(work, 'deploy');
  assert.ok(existsSync(join(deploy, 'istio-operator.yaml')), 'step 2 has its file');
  const ingress = readFileSync(join(deploy, 'ingress.yaml'), 'utf8');
  assert.match(ingress, 'credentialName: airy-core-tls');
  assert.match(ingress, 'httpsRedirect: true');
  assert.match(ingress, '- airy.example.com');
  const validate = runBin(packageDir, ['validate', deploy]);
  assert.is(validate.status, 0, validate.stdout + validate.stderr);
});

(kubectl ? test : test.skip)('step 5 reads a kustomization whose objects an ApplySet with its parent in airy may hold', () => {
  const objects = kustomize();
  assert.ok(objects.length > 30, `${objects.length} objects`);
  for (const o of objects) {
    const ok = o.metadata.namespace === 'airy' || (o.kind === 'Namespace' && o.metadata.name === 'airy');
    assert.ok(ok, `${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`);
  }
});

(kubectl ? test : test.skip)('a KRaft → ZooKeeper → KRaft switch leaves no ZooKeeper object for apply to keep (so prune removes it)', () => {
  const zk = renderAsWritten(['--kafka-mode', 'zookeeper']);
  assert.is(zk.status, 0, zk.stderr);
  assert.ok(kustomize().some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'zookeeper'), 'the switch renders ZooKeeper');
  const back = renderAsWritten(['--kafka-mode', 'kraft']);
  assert.is(back.status, 0, back.stderr);
  assert.not.ok(existsSync(join(work, 'deploy', 'zookeeper.yaml')), 'the earlier render’s file is gone');
  assert.not.ok(kustomize().some((o) => o.metadata.name.startsWith('zookeeper')), 'nothing of ZooKeeper is applied any more');
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
