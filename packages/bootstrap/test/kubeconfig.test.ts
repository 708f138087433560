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
import { shellQuote } from '@airy/cli-kit';
import { HOST_API_SERVER, hostKubeconfig, KubeconfigError, VM_KUBECONFIG_COMMAND, writeKubeconfig } from '../src/kubeconfig.ts';

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
const pem = (kind: string) => `-----BEGIN ${kind}-----\nZmFrZQ==\n-----END ${kind}-----\n`;
writeFileSync(join(work, 'ca.crt'), pem('CERTIFICATE'));
writeFileSync(join(work, 'client.crt'), pem('CERTIFICATE'));
writeFileSync(join(work, 'client.key'), pem('RSA PRIVATE KEY'));
writeFileSync(join(work, 'vm.conf'), vmConfig);

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectl) console.log('skip: kubectl is not installed here; the checks with the real kubectl are skipped');
/** What the VM's kubectl prints for a config: the command bootstrap runs in the VM. */
const flatten = (file: string) => spawnSync('kubectl', ['--kubeconfig', file, ...VM_KUBECONFIG_COMMAND.split(' ').slice(1)], { encoding: 'utf8' }).stdout;
const flattened = kubectl ? flatten(join(work, 'vm.conf')) : '';

// biome-ignore lint/suspicious/noExplicitAny: tests build hostile configs freely.
type Any = any;
/** A good answer, as the VM's kubectl prints it for Minikube's config (with Minikube's extensions). */
const good = (): Any => ({
  kind: 'Config',
  apiVersion: 'v1',
  preferences: {},
  clusters: [{ name: 'minikube', cluster: { server: 'https://10.0.2.15:8443', 'certificate-authority-data': b64(pem('CERTIFICATE')), extensions: [{ name: 'cluster_info', extension: { provider: 'minikube.sigs.k8s.io' } }] } }],
  users: [{ name: 'minikube', user: { 'client-certificate-data': b64(pem('CERTIFICATE')), 'client-key-data': b64(pem('RSA PRIVATE KEY')) } }],
  contexts: [{ name: 'minikube', context: { cluster: 'minikube', user: 'minikube', namespace: 'default' } }],
  'current-context': 'minikube',
});

(kubectl ? test : test.skip)('what kubectl prints in the VM becomes a kubeconfig that kubectl reads with the host’s server', () => {
  const text = hostKubeconfig(flattened);
  const file = join(work, 'host.conf');
  writeFileSync(file, text);
  const server = spawnSync('kubectl', ['--kubeconfig', file, 'config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}'], { encoding: 'utf8' });
  assert.is(server.stdout, HOST_API_SERVER);
  assert.is(HOST_API_SERVER, 'https://127.0.0.1:16443');
  const key = spawnSync('kubectl', ['--kubeconfig', file, 'config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.client-key-data}'], { encoding: 'utf8' });
  assert.is(key.stdout, b64(readFileSync(join(work, 'client.key'), 'utf8')), 'the client key is inlined, unchanged');
  const context = spawnSync('kubectl', ['--kubeconfig', file, 'config', 'current-context'], { encoding: 'utf8' });
  assert.is(context.stdout.trim(), 'airy-core');
});

test('a hostile VM kubeconfig never gets kubectl on the host to run a command, read a host file or go elsewhere', () => {
  // What a VM with root could answer: anything, so each case is the answer itself (kubectl's --flatten would even
  // inline a path's file, in the VM).
  const marker = join(work, 'ran');
  const secret = join(work, 'host-secret');
  writeFileSync(secret, 'a host file');
  const hostile = (change: (c: Any) => void) => {
    const c = good();
    change(c);
    return JSON.stringify(c);
  };
  const cases: [string, string, RegExp][] = [
    ['exec', hostile((c) => Object.assign(c.users[0].user, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `touch ${marker}`] } })), /user holds "exec"/],
    ['auth-provider', hostile((c) => Object.assign(c.users[0].user, { 'auth-provider': { name: 'oidc', config: { 'cmd-path': '/bin/sh' } } })), /"auth-provider"/],
    ['tokenFile', hostile((c) => Object.assign(c.users[0].user, { tokenFile: secret })), /"tokenFile"/],
    ['token', hostile((c) => Object.assign(c.users[0].user, { token: 'abc' })), /"token"/],
    ['client-key path', hostile((c) => { delete c.users[0].user['client-key-data']; c.users[0].user['client-key'] = secret; }), /"client-key"/],
    ['certificate-authority path', hostile((c) => { c.clusters[0].cluster['certificate-authority'] = secret; }), /"certificate-authority"/],
    ['proxy-url', hostile((c) => { c.clusters[0].cluster['proxy-url'] = 'http://127.0.0.1:9'; }), /"proxy-url"/],
    ['insecure-skip-tls-verify', hostile((c) => { c.clusters[0].cluster['insecure-skip-tls-verify'] = true; }), /"insecure-skip-tls-verify"/],
    ['tls-server-name', hostile((c) => { c.clusters[0].cluster['tls-server-name'] = 'evil'; }), /"tls-server-name"/],
    ['two clusters', JSON.stringify({ ...good(), clusters: [...good().clusters, { name: 'evil', cluster: { server: 'https://evil:1' } }] }), /names 2 clusters/],
    ['two users', JSON.stringify({ ...good(), users: [...good().users, { name: 'b', user: {} }] }), /names 2 users/],
    ['context elsewhere', JSON.stringify({ ...good(), contexts: [{ name: 'minikube', context: { cluster: 'other', user: 'minikube' } }] }), /another cluster or user/],
    ['current-context', JSON.stringify({ ...good(), 'current-context': 'evil' }), /current-context/],
    ['http server', JSON.stringify({ ...good(), clusters: [{ name: 'minikube', cluster: { ...good().clusters[0].cluster, server: 'http://10.0.2.15:8443' } }] }), /not https/],
    ['not PEM', JSON.stringify({ ...good(), users: [{ name: 'minikube', user: { 'client-certificate-data': b64('x'), 'client-key-data': b64(pem('RSA PRIVATE KEY')) } }] }), /not a PEM/],
    ['YAML, not JSON', '<html>login</html>', /did not answer with a kubeconfig/],
    ['huge', JSON.stringify({ ...good(), extensions: [{ name: 'x', extension: 'y'.repeat(300_000) }] }), /more than a kubeconfig/],
  ];
  for (const [name, text, why] of cases) {
    let message = '';
    try {
      hostKubeconfig(text);
    } catch (e) {
      assert.ok(e instanceof KubeconfigError, name);
      message = (e as Error).message;
    }
    assert.match(message, why, `${name}: ${message}`);
    assert.not.match(message, /\n/);
  }
  // The good config of the same shape passes, and what it makes carries none of Minikube's extensions.
  const made = JSON.parse(hostKubeconfig(JSON.stringify(good())));
  assert.equal(Object.keys(made.clusters[0].cluster).sort(), ['certificate-authority-data', 'server']);
  assert.equal(Object.keys(made.users[0].user).sort(), ['client-certificate-data', 'client-key-data']);
  assert.not.ok(existsSync(marker), 'nothing ran');
});

test('written 0600 into the instance folder; a hostile answer or a VM without Kubernetes writes nothing and says so in one line', async () => {
  const dir = mkdtempSync(join(work, 'instance-'));
  let asked = '';
  const file = await writeKubeconfig(dir, async (_dir, command) => {
    asked = command;
    return { ok: true, stdout: JSON.stringify(good()), stderr: '' };
  });
  assert.is(asked, 'kubectl config view --flatten --minify -o json');
  assert.is(file, join(dir, 'kube.conf'));
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(JSON.parse(readFileSync(file, 'utf8')).clusters[0].cluster.server, HOST_API_SERVER);
  const hostile = mkdtempSync(join(work, 'instance-'));
  const evil = good();
  evil.users[0].user.exec = { command: '/bin/sh' };
  try {
    await writeKubeconfig(hostile, async () => ({ ok: true, stdout: JSON.stringify(evil), stderr: '' }));
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /user holds "exec", which the host does not take: nothing was written/);
  }
  assert.not.ok(existsSync(join(hostile, 'kube.conf')));
  const empty = mkdtempSync(join(work, 'instance-'));
  try {
    await writeKubeconfig(empty, async () => ({ ok: false, stdout: '', stderr: 'bash: line 1: kubectl: command not found\nConnection to 127.0.0.1 closed.\n' }));
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /could not read the cluster's kubeconfig in the VM \(bash: line 1: kubectl: command not found\): is the platform running\?/);
  }
  assert.not.ok(existsSync(join(empty, 'kube.conf')));
});

test('the export line is quoted for the shell: a folder name with shell syntax runs nothing under eval', () => {
  const marker = join(work, 'pwned');
  const dir = `${work}/a $(touch ${marker}) 'b'; touch ${marker}`;
  const line = `export KUBECONFIG=${shellQuote(join(dir, 'kube.conf'))}`;
  const out = spawnSync('bash', ['-c', `eval "$(printf '%s' "$1")"; printf '%s' "$KUBECONFIG"`, 'x', line], { encoding: 'utf8' });
  assert.is(out.status, 0, out.stderr);
  assert.is(out.stdout, join(dir, 'kube.conf'));
  assert.not.ok(existsSync(marker));
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
