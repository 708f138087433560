/**
 * The VM cluster's kubeconfig on the host. The VM is not trusted by the host (a box is trusted only through the
 * catalog's checksum, and anything with root in the VM could answer): its kubeconfig is read as JSON (`kubectl
 * config view --flatten --minify -o json`), and the host's file is built anew from known fields only: one cluster
 * with inlined CA data and our server on 127.0.0.1 (the API port the Vagrantfile forwards), one user with an
 * inlined client certificate and key, one context. Anything that would make kubectl on the host run a command
 * (`exec`, `auth-provider`), read a host file (`tokenFile`, certificate paths), go elsewhere (`proxy-url`, another
 * cluster) or skip TLS checks is refused in one line. Written 0600 into the instance folder: it holds a client key.
 */
import { AiryError, writeFileAtomic } from '@airy/cli-kit';
import { BOX_FACTS } from './box-facts.js';
import { instanceFiles } from './paths.js';

/** Where kubectl on the host reaches the VM's apiserver. */
export const HOST_API_SERVER = `https://127.0.0.1:${BOX_FACTS.ports.apiServer.host}`;

/** The names of the cluster, user and context in the host's kubeconfig. */
export const KUBECONFIG_NAME = 'airy-core';

/** The most a kubeconfig of one cluster with inlined certificates is read up to. */
const MAX_KUBECONFIG_BYTES = 256 * 1024;
const MAX_PEM_BYTES = 64 * 1024;

/** What the VM answered is not a kubeconfig this can use. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the VM's answer is untyped until checked field by field.
type Any = any;

/** The fields each part may hold; anything else is refused (`extensions` are Minikube's metadata, dropped). */
const ALLOWED = {
  config: ['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context', 'preferences', 'extensions'],
  cluster: ['server', 'certificate-authority-data', 'extensions'],
  user: ['client-certificate-data', 'client-key-data'],
  context: ['cluster', 'user', 'namespace', 'extensions'],
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKnown(what: string, value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!isObject(value)) throw new KubeconfigError(`the VM's kubeconfig has no ${what}`);
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new KubeconfigError(`the VM's kubeconfig ${what} holds ${unknown.map((k) => `"${k}"`).join(', ')}, which the host does not take`);
  return value;
}

function exactlyOne(config: Record<string, unknown>, list: 'clusters' | 'users' | 'contexts'): Any {
  const items = config[list];
  if (!Array.isArray(items) || items.length !== 1) {
    throw new KubeconfigError(`the VM's kubeconfig names ${Array.isArray(items) ? items.length : 0} ${list}, not one`);
  }
  const item = items[0];
  if (!isObject(item) || typeof item.name !== 'string') throw new KubeconfigError(`the VM's kubeconfig has a ${list.slice(0, -1)} without a name`);
  const unknown = Object.keys(item).filter((k) => k !== 'name' && k !== list.slice(0, -1));
  if (unknown.length > 0) throw new KubeconfigError(`the VM's kubeconfig ${list.slice(0, -1)} holds ${unknown.map((k) => `"${k}"`).join(', ')}`);
  return item;
}

/** Inlined PEM data: base64 of a PEM block of the expected kind, bounded. Returns the base64 text. */
function pemData(what: string, value: unknown, kind: RegExp): string {
  if (typeof value !== 'string' || value.length === 0) throw new KubeconfigError(`the VM's kubeconfig does not inline its ${what}`);
  if (value.length > (MAX_PEM_BYTES * 4) / 3 + 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    throw new KubeconfigError(`the VM's kubeconfig ${what} is not base64 of a PEM block`);
  }
  const pem = Buffer.from(value, 'base64').toString('latin1');
  if (!kind.test(pem)) throw new KubeconfigError(`the VM's kubeconfig ${what} is not a PEM ${what}`);
  return value;
}

/**
 * The host's kubeconfig, built from the VM's answer: checked, never copied. Pure. Throws {@link KubeconfigError}
 * naming the first thing it will not take.
 */
export function hostKubeconfig(text: string, server: string = HOST_API_SERVER): string {
  if (Buffer.byteLength(text) > MAX_KUBECONFIG_BYTES) throw new KubeconfigError('the VM answered with more than a kubeconfig of one cluster');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KubeconfigError('the VM did not answer with a kubeconfig');
  }
  if (!isObject(parsed) || parsed.kind !== 'Config' || parsed.apiVersion !== 'v1') throw new KubeconfigError('the VM did not answer with a kubeconfig');
  const config = onlyKnown('file', parsed, ALLOWED.config);
  if (config.preferences !== undefined && !(isObject(config.preferences) && Object.keys(config.preferences).length === 0)) {
    throw new KubeconfigError("the VM's kubeconfig sets preferences, which the host does not take");
  }
  const cluster = exactlyOne(config, 'clusters');
  const user = exactlyOne(config, 'users');
  const context = exactlyOne(config, 'contexts');
  const c = onlyKnown('cluster', cluster.cluster, ALLOWED.cluster);
  const u = onlyKnown('user', user.user, ALLOWED.user);
  const x = onlyKnown('context', context.context, ALLOWED.context);
  if (typeof c.server !== 'string' || !c.server.startsWith('https://')) throw new KubeconfigError('the VM’s kubeconfig server is not https');
  if (x.cluster !== cluster.name || x.user !== user.name) throw new KubeconfigError("the VM's kubeconfig context names another cluster or user");
  if (config['current-context'] !== undefined && config['current-context'] !== context.name) {
    throw new KubeconfigError("the VM's kubeconfig current-context is not its one context");
  }
  const ca = pemData('certificate authority', c['certificate-authority-data'], /^-----BEGIN CERTIFICATE-----\n/);
  const cert = pemData('client certificate', u['client-certificate-data'], /^-----BEGIN CERTIFICATE-----\n/);
  const key = pemData('client key', u['client-key-data'], /^-----BEGIN (RSA |EC )?PRIVATE KEY-----\n/);
  const name = KUBECONFIG_NAME;
  const host = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': ca } }],
    users: [{ name, user: { 'client-certificate-data': cert, 'client-key-data': key } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: BOX_FACTS.namespace } }],
    'current-context': name,
    preferences: {},
  };
  return `${JSON.stringify(host, null, 2)}\n`;
}

/** The command that prints the VM's kubeconfig, certificates inlined, as JSON. */
export const VM_KUBECONFIG_COMMAND = 'kubectl config view --flatten --minify -o json';

/** How a command runs in the VM (`sshExec`). */
export type VmExec = (dir: string, command: string) => Promise<{ ok: boolean; stdout: string; stderr: string }>;

/** Writes the host kubeconfig of the instance in `dir` and returns its path. Throws {@link AiryError}: KUBECONFIG_UNREADABLE, KUBECONFIG_INVALID. */
export async function writeKubeconfig(dir: string, exec: VmExec): Promise<string> {
  const out = await exec(dir, VM_KUBECONFIG_COMMAND);
  if (!out.ok) {
    // ssh's own goodbye is not a reason.
    const reason = out.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Connection to .* closed\.$/.test(l)).at(-1) ?? 'kubectl failed';
    throw new AiryError('KUBECONFIG_UNREADABLE', `could not read the cluster's kubeconfig in the VM (${reason.slice(0, 200)}): is the platform running? (airy-bootstrap status)`);
  }
  let text: string;
  try {
    text = hostKubeconfig(out.stdout);
  } catch (error) {
    if (error instanceof KubeconfigError) throw new AiryError('KUBECONFIG_INVALID', `${error.message}: nothing was written (the box's Kubernetes may not be running: airy-bootstrap status)`);
    throw error;
  }
  const file = instanceFiles(dir).kubeconfig;
  await writeFileAtomic(file, text, { mode: 0o600 });
  return file;
}
