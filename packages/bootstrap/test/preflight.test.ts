import { BOX_PLATFORM_OPTIONS, platformResources } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { doctorReport } from '../src/manage.ts';
import { defaultProvider, type HostView, preflight, type PreflightInput } from '../src/preflight.ts';

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

test('preflight advice a user can follow: a smaller VM only when one that holds the platform fits, else the size needed', () => {
  const fix = (h: Partial<HostView>, i: Partial<PreflightInput> = {}, name = 'host cpus') =>
    preflight({ ...host, ...h }, { ...input, ...i }).find((c) => c.name === name && !c.ok)?.fix;
  // The platform's node needs 3 CPUs (2490m with the OS's share) and the host keeps 1.
  assert.is(fix({ cpus: 4 }, { cpus: 4 }), 'pass --cpus 3');
  assert.is(fix({ cpus: 6 }, { cpus: 6 }), 'pass --cpus 3 to 5');
  assert.is(fix({ cpus: 2 }), 'this machine is too small: the platform needs a host of 4 CPUs or more (a VM of 3 and 1 for the host)');
  assert.match(fix({ memoryBytes: 8 * GiB }, {}, 'host memory') ?? '', /^close other programs, or pass --memory \d+ to 6144$/);
  assert.match(fix({ memoryBytes: 4 * GiB }, {}, 'host memory') ?? '', /^this machine is too small: the platform needs a host of \d+ MiB or more/);
  // One budget, in the numbers `airy-manifests resources` prints: the pods' requests, then the OS's share.
  const vm = preflight(host, input).find((c) => c.name === 'vm cpus');
  assert.match(vm?.detail ?? '', /^4 \(the pods request \d+m and the OS keeps 500m: 3 CPUs\)$/);
});

test('doctor: the report lists tools, versions and every check with its code', () => {
  const report = doctorReport({ ...host, cpus: 2 }, preflight({ ...host, cpus: 2 }, input), { provider: 'libvirt', node: 'v20.0.0' });
  assert.match(report, /vagrant: 2\.4\.1 \(plugins: vagrant-libvirt\)/);
  assert.match(report, /FAIL host cpus: .* \[RSRC_INSUFFICIENT_CORES\] this machine is too small: the platform needs a host of 4 CPUs or more/);
  assert.match(report, /platform: .*istio 1\.24\.3/);
});

test.run();
