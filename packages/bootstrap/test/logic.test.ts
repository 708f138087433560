import { BOX_PLATFORM_OPTIONS, platformResources } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { doctorReport } from '../src/manage.ts';
import { welcomeText } from '../src/up.ts';
import { defaultProvider, type HostView, preflight, type PreflightInput } from '../src/preflight.ts';
import { backoffMs } from '@airy/cli-kit';
import { canResume, planChunks, remaining } from '../src/ranges.ts';
import { platformProbes, type Probe, type ProbeRunner, runProbe, waitReady } from '../src/readiness.ts';
import { installPlan, parseOsRelease } from '../src/vagrant-install.ts';
import { renderVagrantfile } from '../src/vagrantfile.ts';

const GiB = 2 ** 30;
const host: HostView = {
  platform: 'linux',
  arch: 'x64',
  cpus: 8,
  memoryBytes: 32 * GiB,
  freeBytes: 100 * GiB,
  vagrantVersion: '2.4.1',
  virshVersion: '9.0.0',
  kvm: true,
  vagrantPlugins: ['vagrant-libvirt'],
  hyperV: false,
};
const input: PreflightInput = { provider: 'libvirt', cpus: 4, memoryMiB: 8192, boxSize: 2 * GiB, boxArchitecture: 'amd64', resources: platformResources(BOX_PLATFORM_OPTIONS) };
const failures = (h: Partial<HostView>, i: Partial<PreflightInput> = {}) =>
  preflight({ ...host, ...h }, { ...input, ...i })
    .filter((c) => !c.ok)
    .map((c) => c.code);

test('preflight: a ready machine passes; each shortfall has its own code', () => {
  assert.equal(failures({}), []);
  assert.equal(failures({ cpus: 4 }), ['RSRC_INSUFFICIENT_CORES']);
  assert.equal(failures({ memoryBytes: 8 * GiB }), ['RSRC_INSUFFICIENT_MEMORY']);
  assert.equal(failures({ freeBytes: 4 * GiB }), ['RSRC_INSUFFICIENT_STORAGE'], '2.5 × 2 GiB is needed');
  assert.equal(failures({ arch: 'ia32' }), ['HOST_UNSUPPORTED_ARCH']);
  assert.equal(failures({ arch: 'arm64' }), ['BOX_ARCH_MISMATCH'], 'an amd64 box is refused on arm64 before downloading');
  assert.equal(failures({ platform: 'aix' as NodeJS.Platform }), ['HOST_UNSUPPORTED_OS', 'PROVIDER_LIBVIRT_NOT_USABLE']);
  assert.equal(failures({ kvm: false }), ['PROVIDER_LIBVIRT_NOT_USABLE']);
  assert.equal(failures({ vagrantPlugins: [] }), ['PROVIDER_LIBVIRT_NOT_USABLE']);
  assert.equal(failures({}, { cpus: 1 }), ['RSRC_INSUFFICIENT_VM_CPUS']);
  assert.equal(failures({}, { memoryMiB: 2048 }), ['RSRC_INSUFFICIENT_VM_MEMORY']);
  assert.equal(failures({ platform: 'win32', hyperV: true, vboxmanageVersion: '7.0.14' }, { provider: 'virtualbox' }), ['HOST_HYPERV_CONFLICT']);
  assert.equal(failures({}, { provider: 'virtualbox' }), ['PROVIDER_VIRTUALBOX_NOT_FOUND']);
  assert.is(defaultProvider(host), 'libvirt');
  assert.is(defaultProvider({ ...host, vboxmanageVersion: '7.0.14' }), 'virtualbox');
});

test('doctor: the report lists tools, versions and every check with its code', () => {
  const report = doctorReport({ ...host, cpus: 2 }, preflight({ ...host, cpus: 2 }, input), { provider: 'libvirt', node: 'v20.0.0' });
  assert.match(report, /vagrant: 2\.4\.1 \(plugins: vagrant-libvirt\)/);
  assert.match(report, /FAIL host cpus: .* \[RSRC_INSUFFICIENT_CORES\] pass a smaller --cpus/);
  assert.match(report, /platform: .*istio 1\.24\.3/);
});

test('Vagrant install plans per platform', () => {
  const ubuntu = parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n');
  assert.equal(ubuntu, { ids: ['ubuntu', 'debian'], codename: 'noble' });
  const apt = installPlan({ platform: 'linux', ...ubuntu, hasBrew: false });
  assert.ok('commands' in apt);
  if ('commands' in apt) {
    assert.match(apt.commands[0] ?? '', /gpg --dearmor/);
    assert.match(apt.commands[1] ?? '', /signed-by=.* noble main/);
    assert.is(apt.commands.at(-1), 'sudo apt-get install -y vagrant');
  }
  const fedora = installPlan({ platform: 'linux', ...parseOsRelease('ID=fedora\nVERSION_CODENAME=""\n'), hasBrew: false });
  assert.ok('commands' in fedora && fedora.commands.at(-1) === 'sudo dnf install -y vagrant');
  const mac = installPlan({ platform: 'darwin', ids: [], hasBrew: true });
  assert.ok('commands' in mac && mac.commands.at(-1)?.includes('hashicorp-vagrant'));
  assert.ok('manual' in installPlan({ platform: 'darwin', ids: [], hasBrew: false }));
  const win = installPlan({ platform: 'win32', ids: [], hasBrew: false });
  assert.ok('commands' in win && win.commands[0]?.startsWith('winget install --id Hashicorp.Vagrant'));
  assert.ok('manual' in installPlan({ platform: 'linux', ids: ['arch'], hasBrew: false }));
});

test('ranges: chunks, resume validity, what is left, backoff', () => {
  const chunks = planChunks(20, 8);
  assert.equal(chunks.map((c) => [c.start, c.end]), [[0, 7], [8, 15], [16, 19]]);
  assert.equal(remaining(chunks, [0, 2]).map((c) => c.index), [1]);
  const wanted = { url: 'u', size: 20, sha256: 's', validator: 'e1', chunkSize: 8 };
  assert.ok(canResume({ ...wanted, done: [0] }, wanted));
  assert.not.ok(canResume({ ...wanted, validator: 'e2', done: [0] }, wanted), 'a changed file starts over');
  assert.not.ok(canResume(undefined, wanted));
  assert.is(backoffMs(3, 250, 10_000, () => 1), 2000);
  assert.is(backoffMs(10, 250, 10_000, () => 1), 10_000);
});

test('readiness: polls until every component is ready, or names what is not', async () => {
  let clock = 0;
  const readyAt: Record<string, number> = { kafka: 30_000, 'schema-registry': 50_000, postgres: 10_000 };
  const runner = (ingressUp: boolean): ProbeRunner => ({
    exec: async (command) => {
      const name = Object.keys(readyAt).find((n) => command.includes(n === 'kafka' ? 'kafka-broker-api-versions' : n)) ?? '';
      const ok = clock >= (readyAt[name] ?? Number.POSITIVE_INFINITY);
      return { ok, stdout: ok ? (name === 'schema-registry' ? '200' : 'accepting connections') : 'error: pod not ready' };
    },
    http: async () => (ingressUp ? 404 : undefined),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  const probes = platformProbes({ namespace: 'airy', database: 'airy_core', ingressUrl: 'http://x/', host: 'airy.core' });
  assert.equal(probes.map((p) => p.name), ['kafka', 'schema-registry', 'postgres', 'ingress']);
  const seen: string[] = [];
  const ok = await waitReady(probes, runner(true), { timeoutMs: 120_000, intervalMs: 5000, onChange: (s) => s.ready && seen.push(s.name) });
  assert.ok(ok.ready);
  assert.equal(seen, ['ingress', 'postgres', 'kafka', 'schema-registry']);
  clock = 0;
  const late = await waitReady(probes, runner(false), { timeoutMs: 40_000, intervalMs: 5000 });
  assert.not.ok(late.ready);
  assert.equal(late.states.filter((s) => !s.ready).map((s) => s.name), ['schema-registry', 'ingress']);
  // With nothing on stdout, the reason is the command's last line on stderr.
  const failing: ProbeRunner = { ...runner(false), exec: async () => ({ ok: false, stdout: '', stderr: 'Warning: x\nerror: pod airy/postgres-0 not found\n' }) };
  assert.is((await runProbe(probes[2] as Probe, failing)).detail, 'error: pod airy/postgres-0 not found');
});

test('the Vagrantfile sets box, version, size, provider, network and ports', () => {
  const text = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'libvirt', cpus: 6, memoryMiB: 10240, libvirtDriver: 'qemu' });
  for (const line of [
    "config.vm.box = 'airy/core'",
    "config.vm.box_version = '1.2.0'",
    `config.vm.network "private_network", ip: '192.168.56.10'`,
    'config.vm.network "forwarded_port", guest: 80, host: 8080, host_ip: "127.0.0.1"',
    "lv.driver = 'qemu'",
    'lv.cpus = 6',
    'lv.memory = 10240',
  ]) {
    assert.ok(text.includes(line), line);
  }
  const vbox = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'virtualbox', cpus: 4, memoryMiB: 8192, privateNetwork: false });
  assert.ok(vbox.includes('vb.memory = 8192'));
  assert.not.ok(vbox.includes('private_network'));
});

test('the welcome names the public webhook URLs while the tunnel is online, else the local ones', () => {
  const state = { catalog: 'file:///c', boxName: 'airy/core', version: '1.2.0', provider: 'libvirt', sha256: 'x', cpus: 4, memoryMiB: 8192, privateNetwork: true } as const;
  const tunnel = {
    state: 'online',
    url: 'https://abc.ngrok.app',
    startedAt: 1,
    reconnects: 0,
    pid: 1,
    target: 'http://127.0.0.1:8080',
    webhooks: { facebook: 'https://abc.ngrok.app/facebook', google: 'https://abc.ngrok.app/google', twilio: 'https://abc.ngrok.app/twilio' },
  } as const;
  const online = welcomeText(state, '/home/u/.airy/core', tunnel);
  assert.match(online, /^Airy Core 1\.2\.0 is running \(libvirt, 4 CPUs, 8192 MiB\)\./);
  assert.match(online, /webhook {3}facebook: https:\/\/abc\.ngrok\.app\/facebook \(public, through airy-tunnel\)/);
  assert.match(online, /kubectl -n airy get pods/);
  for (const gone of [undefined, { ...tunnel, state: 'stopped' } as const]) {
    const local = welcomeText(state, '/home/u/.airy/core', gone);
    assert.match(local, /webhook {3}twilio: http:\/\/airy\.core\/twilio \(make it public with airy-tunnel start\)/);
    assert.not.match(local, /ngrok/);
  }
});

test.run();
