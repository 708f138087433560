/**
 * A control plane of Kubernetes' own components on loopback: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler built from their Go modules (build.sh), with kwok as the kubelet's stand-in for the simulated
 * nodes. `up` starts it in a folder and returns once the API server is ready and the nodes are Ready; it keeps
 * running after the caller exits (each program in its own session); `down` stops exactly what `up` started.
 * No container runs: pods are scheduled by the real scheduler and marked running and ready by kwok.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);
const here = fileURLToPath(new URL('.', import.meta.url));

/** Where build.sh puts the programs. */
export const BIN = process.env.AIRY_CONTROL_PLANE_BIN ?? join(here, 'bin');

/** What is wrong with the input or the machine: one line for the user, and the exit code it means. */
export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3,
  ) {
    super(message);
  }
}

/** The simulated nodes: how many, and each one's capacity and what its kubelet reserves. */
export interface ClusterOptions {
  readonly nodes: number;
  /** Each node's CPU capacity, a Kubernetes quantity (`4`, `3500m`). */
  readonly cpu: string;
  /** Each node's memory capacity, a Kubernetes quantity (`8Gi`, `8192Mi`). */
  readonly memory: string;
  /** The kubelet's `--system-reserved` (`cpu=500m,memory=1024Mi`): allocatable is capacity less this. */
  readonly systemReserved?: string;
  /** Node name prefix: `airy-node-1`, `airy-node-2`, … */
  readonly namePrefix?: string;
  /** The API server's `--service-node-port-range` (the box's allows 80 and 443). @default Kubernetes' 30000-32767 */
  readonly serviceNodePortRange?: string;
}

export const DEFAULT_OPTIONS: ClusterOptions = { nodes: 1, cpu: '4', memory: '8Gi' };

/** One program `up` started: enough to stop exactly it, and never another that took its PID since. */
interface Started {
  readonly name: string;
  readonly pid: number;
  /** Its start time in clock ticks since boot (/proc/PID/stat, field 22). */
  readonly startTicks: string;
}

/** What `up` leaves in DIR/state.json for `down`. */
export interface ClusterState {
  readonly kubeconfig: string;
  readonly server: string;
  readonly processes: Started[];
  readonly nodes: string[];
}

const QUANTITY = /^(\d+(\.\d+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1e3, Ki: 1024, M: 1e6, Mi: 2 ** 20, G: 1e9, Gi: 2 ** 30, T: 1e12, Ti: 2 ** 40 };

/** A CPU quantity in millicores; undefined when it is not one. */
export function milliCpu(value: string): number | undefined {
  const m = QUANTITY.exec(value);
  if (!m || (m[3] && m[3] !== 'm')) return undefined;
  return m[3] === 'm' ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}

/** A memory quantity in bytes; undefined when it is not one. */
export function memoryBytes(value: string): number | undefined {
  const m = QUANTITY.exec(value);
  if (!m || m[3] === 'm') return undefined;
  return Math.round(Number(m[1]) * (MEMORY_UNITS[m[3] ?? ''] ?? Number.NaN));
}

/** Bytes as Kubernetes would print them: in Mi or Ki when whole, else plain. */
function binaryQuantity(bytes: number): string {
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}Mi`;
  return bytes % 1024 === 0 ? `${bytes / 1024}Ki` : String(bytes);
}

/** `cpu=500m,memory=1024Mi` as millicores and bytes; throws a usage error naming what is wrong. */
export function parseReserved(value: string): { cpu: number; memory: number } {
  const out = { cpu: 0, memory: 0 };
  for (const part of value.split(',')) {
    const [key, amount = ''] = part.split('=');
    const parsed = key === 'cpu' ? milliCpu(amount) : key === 'memory' ? memoryBytes(amount) : undefined;
    if (parsed === undefined) throw new ControlPlaneError(`--system-reserved ${value}: expected cpu=QUANTITY,memory=QUANTITY (e.g. cpu=500m,memory=1024Mi)`, 2);
    out[key as 'cpu' | 'memory'] = parsed;
  }
  return out;
}

/** Checks the options as a user gave them: one line naming the bad one. */
export function checkOptions(options: ClusterOptions): void {
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > 50) {
    throw new ControlPlaneError(`--nodes ${options.nodes}: give a whole number from 1 to 50`, 2);
  }
  if (!milliCpu(options.cpu)) throw new ControlPlaneError(`--cpu ${options.cpu}: give a CPU quantity such as 4 or 3500m`, 2);
  if (!memoryBytes(options.memory)) throw new ControlPlaneError(`--memory ${options.memory}: give a memory quantity such as 8Gi or 8192Mi`, 2);
  if (options.serviceNodePortRange !== undefined) {
    const [low, high] = options.serviceNodePortRange.split('-').map(Number);
    if (!/^\d+-\d+$/.test(options.serviceNodePortRange) || !low || !high || low > high || high > 65535) {
      throw new ControlPlaneError(`--service-node-port-range ${options.serviceNodePortRange}: give LOW-HIGH within 1-65535 (e.g. 80-32767)`, 2);
    }
  }
  if (options.systemReserved !== undefined) {
    const reserved = parseReserved(options.systemReserved);
    if (reserved.cpu >= (milliCpu(options.cpu) ?? 0) || reserved.memory >= (memoryBytes(options.memory) ?? 0)) {
      throw new ControlPlaneError(`--system-reserved ${options.systemReserved} leaves nothing of a node of ${options.cpu} CPU and ${options.memory}`, 2);
    }
  }
}

/** The Node objects to register: capacity as given, allocatable as the kubelet computes it (less system-reserved). */
export function nodeObjects(options: ClusterOptions): object[] {
  const reserved = options.systemReserved ? parseReserved(options.systemReserved) : { cpu: 0, memory: 0 };
  const cpu = milliCpu(options.cpu) ?? 0;
  const memory = memoryBytes(options.memory) ?? 0;
  const prefix = options.namePrefix ?? 'airy-node';
  return Array.from({ length: options.nodes }, (_, i) => {
    const name = `${prefix}-${i + 1}`;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        // kwok manages only the nodes it is told to (see `up`'s flags).
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': 'kwok',
          'topology.kubernetes.io/zone': `zone-${(i % 3) + 1}`,
        },
      },
      spec: {},
      status: {
        capacity: { cpu: options.cpu, memory: options.memory, pods: '110' },
        allocatable: { cpu: `${cpu - reserved.cpu}m`, memory: binaryQuantity(memory - reserved.memory), pods: '110' },
      },
    };
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** The start time of PID in clock ticks, or undefined when no such process runs. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when the process `up` started is still the one at that PID. */
export function isRunning(p: Started): boolean {
  return startTicks(p.pid) === p.startTicks;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await execFile('openssl', args, { cwd }).catch((e: { stderr?: string }) => {
    throw new ControlPlaneError(`openssl ${args[0]} failed: ${String(e.stderr ?? e).trim().split('\n')[0]}`, 1);
  });
}

/** A CA, the API server's serving certificate, a client certificate per component, and the service-account keys. */
async function makePki(pki: string): Promise<void> {
  await mkdir(pki, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=airy-control-plane-ca'], pki);
  const sign = async (name: string, subject: string, extensions: string) => {
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], pki);
    await writeFile(join(pki, `${name}.ext`), extensions);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', `${name}.crt`, '-extfile', `${name}.ext`], pki);
  };
  await sign(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n',
  );
  const client = 'extendedKeyUsage=clientAuth\n';
  await sign('admin', '/O=system:masters/CN=airy-admin', client);
  await sign('controller-manager', '/CN=system:kube-controller-manager', client);
  await sign('scheduler', '/CN=system:kube-scheduler', client);
  // kwok writes the status of nodes and of every pod on them: as a kubelet's identity cannot (NodeRestriction).
  await sign('kwok', '/O=system:masters/CN=kwok', client);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], pki);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], pki);
}

async function kubeconfig(file: string, server: string, pki: string, user: string): Promise<void> {
  const b64 = async (f: string) => (await readFile(join(pki, f))).toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'airy-control-plane', cluster: { server, 'certificate-authority-data': await b64('ca.crt') } }],
    users: [{ name: user, user: { 'client-certificate-data': await b64(`${user}.crt`), 'client-key-data': await b64(`${user}.key`) } }],
    contexts: [{ name: 'airy-control-plane', context: { cluster: 'airy-control-plane', user } }],
    'current-context': 'airy-control-plane',
  };
  // It holds a client key: the owner's alone.
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** GET `path` over TLS on a loopback port; the status and body, or undefined when nothing answers. */
function httpsGet(port: number, path: string, tls: RequestOptions): Promise<{ status: number; body: string } | undefined> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000, ...tls }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => done(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * The kubectl that build.sh made, with `env` (its KUBECONFIG, or `--kubeconfig` among the args) and `input` on stdin.
 * Rejects with kubectl's last line of stderr.
 */
export async function runKubectl(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  const child = spawn(join(BIN, 'kubectl'), args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err += c;
  });
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new ControlPlaneError(`kubectl ${args.join(' ')}: ${err.trim().split('\n').at(-1) ?? `exit ${code}`}`, 1);
  return out;
}

/** kubectl with the admin kubeconfig of the control plane in `dir`. */
export const kubectl = (dir: string, args: string[], input?: string) => runKubectl(['--kubeconfig', join(dir, 'kubeconfig'), ...args], { input });

const PROGRAMS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'kubectl'] as const;

/** Runs build.sh when a program is missing (it builds only what changed). */
export async function ensureBuilt(log: (line: string) => void): Promise<void> {
  if (PROGRAMS.every((p) => existsSync(join(BIN, p)))) return;
  log('control-plane: building the programs first (bash tools/control-plane/build.sh)');
  const child = spawn('bash', [join(here, 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new ControlPlaneError(`the build failed (exit ${code}): see the lines above`, code === 3 ? 3 : 1);
}

async function readState(dir: string): Promise<ClusterState | undefined> {
  const text = await readFile(join(dir, 'state.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const state = JSON.parse(text) as ClusterState;
    if (!Array.isArray(state.processes)) throw new Error('no processes');
    return state;
  } catch {
    throw new ControlPlaneError(`${join(dir, 'state.json')} is not a control plane's state: remove the folder, or give another`, 2);
  }
}

/**
 * Starts the control plane in `dir` (made if missing; refused if a control plane of it still runs). Returns its
 * state once /readyz answers ok, the controllers serve and every node is Ready. On failure it stops what it started.
 */
export async function up(dirArg: string, options: ClusterOptions = DEFAULT_OPTIONS, log: (line: string) => void = () => undefined): Promise<ClusterState> {
  checkOptions(options);
  const dir = resolve(dirArg);
  const missing = ['openssl'].filter((t) => !(process.env.PATH ?? '').split(':').some((p) => existsSync(join(p, t))));
  if (missing.length > 0) throw new ControlPlaneError(`${missing.join(', ')} is not installed: apt-get install openssl`, 3);
  await ensureBuilt(log);
  const before = await readState(dir);
  if (before?.processes.some(isRunning)) throw new ControlPlaneError(`a control plane is already running in ${dir}: stop it with bash tools/control-plane/down.sh ${dir}`, 2);
  await mkdir(join(dir, 'logs'), { recursive: true });
  await rm(join(dir, 'etcd'), { recursive: true, force: true });
  const pki = join(dir, 'pki');
  await rm(pki, { recursive: true, force: true });
  const started: Started[] = [];
  const state = (server = '', nodes: string[] = []): ClusterState => ({ kubeconfig: join(dir, 'kubeconfig'), server, processes: started, nodes });
  const save = (s: ClusterState) => writeFile(join(dir, 'state.json'), `${JSON.stringify(s, null, 2)}\n`);
  const start = async (name: string, args: string[]) => {
    const logFile = openSync(join(dir, 'logs', `${name}.log`), 'w');
    // Its own session: it outlives `up`, and a Ctrl-C at the caller's terminal does not reach it.
    const child = spawn(join(BIN, name), args, { detached: true, stdio: ['ignore', logFile, logFile] });
    closeSync(logFile);
    child.unref();
    if (!child.pid) throw new ControlPlaneError(`${name} did not start`, 1);
    // The stat file appears with the process: wait for it to name the start time.
    let ticks: string | undefined;
    for (let i = 0; i < 50 && !ticks; i++) {
      ticks = startTicks(child.pid);
      if (!ticks) await sleep(10);
    }
    started.push({ name, pid: child.pid, startTicks: ticks ?? '' });
    await save(state());
  };
  const waitFor = async (what: string, logName: string, seconds: number, check: () => Promise<boolean>) => {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const dead = started.find((p) => !isRunning(p));
      if (dead) throw new ControlPlaneError(`${dead.name} exited while waiting for ${what}: see ${join(dir, 'logs', `${dead.name}.log`)}`, 1);
      if (await check()) return;
      await sleep(250);
    }
    throw new ControlPlaneError(`${what} not ready after ${seconds} s: see ${join(dir, 'logs', `${logName}.log`)}`, 1);
  };
  try {
    log('control-plane: certificates and service-account keys');
    await makePki(pki);
    const p = (f: string) => join(pki, f);
    const [etcdClient, etcdPeer, apiPort, cmPort, schedPort, kwokPort] = await Promise.all(Array.from({ length: 6 }, freePort));
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    log(`control-plane: etcd on ${etcdUrl}`);
    await start('etcd', [
      '--name=airy',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=airy=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls=',
      // A test cluster: its data is thrown away, so it need not survive a power cut.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd', 'etcd', 60, async () => {
      const r = await fetch(`${etcdUrl}/health`).catch(() => undefined);
      return r?.ok === true;
    });
    const server = `https://127.0.0.1:${apiPort}`;
    log(`control-plane: kube-apiserver on ${server}`);
    await start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      // No kubelet serves an Endpoints address for the API itself here (loopback is refused as one).
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/12',
      ...(options.serviceNodePortRange ? [`--service-node-port-range=${options.serviceNodePortRange}`] : []),
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      `--client-ca-file=${p('ca.crt')}`,
      `--tls-cert-file=${p('apiserver.crt')}`,
      `--tls-private-key-file=${p('apiserver.key')}`,
      `--cert-dir=${pki}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${p('sa.pub')}`,
      `--service-account-signing-key-file=${p('sa.key')}`,
      '--profiling=false',
    ]);
    const admin = { ca: readFileSync(p('ca.crt')), cert: readFileSync(p('admin.crt')), key: readFileSync(p('admin.key')) };
    await waitFor('kube-apiserver /readyz', 'kube-apiserver', 120, async () => (await httpsGet(apiPort, '/readyz', admin))?.status === 200);
    for (const user of ['admin', 'controller-manager', 'scheduler', 'kwok']) {
      await kubeconfig(join(dir, user === 'admin' ? 'kubeconfig' : `${user}.kubeconfig`), server, pki, user);
    }
    const kc = (user: string) => join(dir, `${user}.kubeconfig`);
    log('control-plane: kube-controller-manager, kube-scheduler, kwok');
    // What the controller manager and the scheduler share: their own identity, on loopback, a port and certificate
    // folder of their own, no leader election (one of each).
    const served = (user: string, port: number) => [
      `--kubeconfig=${kc(user)}`,
      `--authentication-kubeconfig=${kc(user)}`,
      `--authorization-kubeconfig=${kc(user)}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(pki, `${user}-serving`)}`,
      '--leader-elect=false',
      '--profiling=false',
    ];
    await start('kube-controller-manager', [
      ...served('controller-manager', cmPort),
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${p('sa.key')}`,
      `--root-ca-file=${p('ca.crt')}`,
      `--cluster-signing-cert-file=${p('ca.crt')}`,
      `--cluster-signing-key-file=${p('ca.key')}`,
    ]);
    await start('kube-scheduler', served('scheduler', schedPort));
    await start('kwok', [
      `--kubeconfig=${kc('kwok')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${kwokPort}`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.1',
      // Its heartbeat: a Lease per node renewed well within the node controller's grace period (40 s), else the
      // controller finds the node NotReady after 40 s and marks every pod on it not ready.
      '--node-lease-duration-seconds=40',
    ]);
    // Their serving certificates are their own, self-signed: /healthz answering ok is what is asked of them here.
    const healthy = (port: number) => async () => (await httpsGet(port, '/healthz', { rejectUnauthorized: false }))?.status === 200;
    await waitFor('kube-controller-manager', 'kube-controller-manager', 60, healthy(cmPort));
    await waitFor('kube-scheduler', 'kube-scheduler', 60, healthy(schedPort));
    const nodes = nodeObjects(options);
    log(`control-plane: registering ${nodes.length} simulated node(s), ${options.cpu} CPU and ${options.memory} each`);
    await kubectl(dir, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodes }));
    const names = nodes.map((n) => (n as { metadata: { name: string } }).metadata.name);
    await waitFor('the simulated nodes', 'kwok', 60, async () => {
      const out = await kubectl(dir, ['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']).catch(() => '');
      return out.split('\n').filter((s) => s === 'True').length === names.length;
    });
    // The controllers work once the service-account controller has made the default namespace's account.
    await waitFor('the controllers (the default service account)', 'kube-controller-manager', 60, async () =>
      kubectl(dir, ['get', 'serviceaccount', 'default', '-o', 'name']).then(
        () => true,
        () => false,
      ),
    );
    const done = state(server, names);
    await save(done);
    return done;
  } catch (e) {
    await stop(started);
    throw e instanceof ControlPlaneError ? e : new ControlPlaneError(`control plane did not start: ${(e as Error).message}`, 1);
  }
}

async function stop(processes: readonly Started[]): Promise<string[]> {
  const stopped: string[] = [];
  // The reverse of the start order: the API server's clients before it, etcd last.
  for (const p of [...processes].reverse()) {
    if (!isRunning(p)) continue;
    process.kill(p.pid, 'SIGTERM');
    for (let i = 0; i < 100 && isRunning(p); i++) await sleep(100);
    if (isRunning(p)) process.kill(p.pid, 'SIGKILL');
    stopped.push(p.name);
  }
  return stopped;
}

/** Stops exactly the programs `up` started in `dir` (each checked by PID and start time). Returns their names. */
export async function down(dirArg: string): Promise<string[]> {
  const dir = resolve(dirArg);
  const state = await readState(dir);
  if (!state) throw new ControlPlaneError(`no control plane was started in ${dir} (no state.json)`, 2);
  const stopped = await stop(state.processes);
  await rm(join(dir, 'state.json'), { force: true });
  return stopped;
}
