/**
 * The host kubeconfig: what the VM's kubectl prints (made here by the real kubectl from a Minikube-shaped config),
 * checked and pointed at the forwarded API port, written 0600; a VM without Kubernetes is one clear line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { HOST_API_SERVER, hostKubeconfig, KubeconfigError, writeKubeconfig } from '../src/kubeconfig.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'airy-kubeconfig-'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** A config as Minikube writes it in the VM: certificates as files. */
const vmConfig = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ${join(work, 'ca.crt')}
    server: https://10.0.2.15:8443
  name: minikube
contexts:
- context:
    cluster: minikube
    namespace: default
    user: minikube
  name: minikube
current-context: minikube
users:
- name: minikube
  user:
    client-certificate: ${join(work, 'client.crt')}
    client-key: ${join(work, 'client.key')}
`;
for (const f of ['ca.crt', 'client.crt', 'client.key']) writeFileSync(join(work, f), `-----BEGIN ${f}-----\nZmFrZQ==\n-----END ${f}-----\n`);
writeFileSync(join(work, 'vm.conf'), vmConfig);

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectl) console.log('skip: kubectl is not installed here; the checks with the real kubectl are skipped');
const flattened = kubectl
  ? spawnSync('kubectl', ['--kubeconfig', join(work, 'vm.conf'), 'config', 'view', '--flatten', '--minify'], { encoding: 'utf8' }).stdout
  : '';

(kubectl ? test : test.skip)('what kubectl prints in the VM becomes a kubeconfig that kubectl reads with the host’s server', () => {
  const text = hostKubeconfig(flattened);
  const file = join(work, 'host.conf');
  writeFileSync(file, text);
  const server = spawnSync('kubectl', ['--kubeconfig', file, 'config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}'], { encoding: 'utf8' });
  assert.is(server.stdout, HOST_API_SERVER);
  assert.is(HOST_API_SERVER, 'https://127.0.0.1:16443');
  const key = spawnSync('kubectl', ['--kubeconfig', file, 'config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.client-key-data}'], { encoding: 'utf8' });
  assert.is(key.stdout, b64(readFileSync(join(work, 'client.key'), 'utf8')), 'the client key is inlined, unchanged');
});

test('a VM answer that is not one usable kubeconfig is refused, naming why', () => {
  const good = `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${b64('ca')}\n    server: https://10.0.2.15:8443\nusers:\n- user:\n    client-key-data: ${b64('k')}\n`;
  assert.match(hostKubeconfig(good), `server: ${HOST_API_SERVER}`);
  const cases: [string, RegExp][] = [
    ['<html>login</html>', /did not answer with a kubeconfig/],
    [good.replace('clusters:\n', `clusters:\n- cluster:\n    server: https://evil:1\n`), /names 2 servers/],
    [good.replace('https://10.0.2.15', 'http://10.0.2.15'), /not https/],
    [good.replace(/client-key-data: \S+/, 'client-key: /root/.minikube/client.key'), /does not inline/],
  ];
  for (const [text, why] of cases) assert.throws(() => hostKubeconfig(text), (e: unknown) => e instanceof KubeconfigError && why.test((e as Error).message));
});

test('written 0600 into the instance folder; a VM without Kubernetes writes nothing and says so in one line', async () => {
  const dir = mkdtempSync(join(work, 'instance-'));
  const good = `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${b64('ca')}\n    server: https://10.0.2.15:8443\nusers:\n- user:\n    client-key-data: ${b64('k')}\n`;
  const file = await writeKubeconfig(dir, async () => ({ ok: true, stdout: good, stderr: '' }));
  assert.is(file, join(dir, 'kube.conf'));
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), `server: ${HOST_API_SERVER}`);
  const empty = mkdtempSync(join(work, 'instance-'));
  try {
    await writeKubeconfig(empty, async () => ({ ok: false, stdout: '', stderr: 'bash: line 1: kubectl: command not found\nConnection to 127.0.0.1 closed.\n' }));
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /could not read the cluster's kubeconfig in the VM \(bash: line 1: kubectl: command not found\): is the platform running\?/);
  }
  assert.not.ok(existsSync(join(empty, 'kube.conf')));
});

test('kubeconfig without an instance is one line, exit 2', () => {
  const run = runBin(packageDir, ['kubeconfig', '--dir', join(work, 'nothing-here')]);
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /no Airy Core instance in/);
  assert.is(run.stdout, '');
  const damaged = mkdtempSync(join(work, 'damaged-'));
  writeFileSync(join(damaged, 'instance.json'), '{ not json');
  const bad = runBin(packageDir, ['kubeconfig', '--dir', damaged]);
  assert.is(bad.status, 2, bad.stderr);
  assert.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /instance\.json/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
