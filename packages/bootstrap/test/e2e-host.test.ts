/**
 * The online end to end's checks of the host (tools/e2e/host.ts), before an hour's build starts: the tools it runs
 * (kubectl among them), the VM sized by this package's own preflight, and a work folder on disk.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { missingLine, missingTools, ONLINE_TOOLS, onlineWorkDir, sizeVm, TMPFS_MAGIC, workDirProblem } from '../../../tools/e2e/host.ts';
import { BOX_FACTS } from '../src/box-facts.ts';
import { type HostView, preflight } from '../src/preflight.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const box = { cpus: BOX_FACTS.vm.cpus, memoryMiB: BOX_FACTS.vm.memoryMiB };
/** Bootstrap's real preflight for a libvirt VM on a Linux host of `cpus` and `memoryMiB`. */
const hostOf = (cpus: number, memoryMiB: number) => (vmCpus: number, vmMemoryMiB: number) => {
  const host: HostView = { platform: 'linux', arch: 'x64', cpus, memoryBytes: memoryMiB * MiB, freeBytes: 500 * GiB, kvm: true, vagrantPlugins: [], hyperV: false };
  return preflight(host, { provider: 'libvirt', cpus: vmCpus, memoryMiB: vmMemoryMiB });
};
const sizeChecksPass = (check: ReturnType<typeof hostOf>, cpus: number, memoryMiB: number) =>
  check(cpus, memoryMiB).filter((c) => ['vm cpus', 'vm memory', 'host cpus', 'host memory'].includes(c.name) && !c.ok);

test('the tools: kubectl on the host is checked up front, and what is missing is named in one line', () => {
  assert.ok(ONLINE_TOOLS.some((t) => t.commands.includes('kubectl')), 'kubectl is needed by the last step');
  for (const tool of ['packer', 'qemu-img', 'vagrant', 'virsh']) assert.ok(ONLINE_TOOLS.some((t) => t.commands.includes(tool)), tool);
  const have = new Set(['packer', 'qemu-system-x86_64', 'qemu-img', 'mkisofs', 'vagrant', 'virsh']);
  const missing = missingTools(ONLINE_TOOLS, (c) => have.has(c));
  assert.equal(missing.map((t) => t.commands[0]), ['kubectl'], 'mkisofs stands in for xorriso');
  const line = missingLine(missingTools(ONLINE_TOOLS, (c) => c === 'packer'));
  assert.not.match(line, /\n/);
  assert.match(line, /^missing qemu-system-x86_64 \(apt-get install qemu-system-x86\), qemu-img \(apt-get install qemu-utils\), xorriso or mkisofs \(apt-get install xorriso\), vagrant .*, kubectl \(install kubectl/);
  assert.equal(missingTools(ONLINE_TOOLS, () => true), []);
});

test('a host as large as the box’s default plus its own reserve gets the default VM', () => {
  const big = hostOf(16, 32768);
  assert.equal(sizeVm(box, big), box);
});

test('a smaller host gets the largest VM bootstrap’s preflight lets it run, which passes that preflight', () => {
  // The laptop: 4 cores. The VM is sized to what the host leaves, not the default that needs more.
  assert.equal(sizeVm(box, hostOf(4, 16384)), { cpus: box.cpus - 1, memoryMiB: box.memoryMiB });
  for (const [cpus, memoryMiB] of [[4, 16384], [8, 9216], [4, 9216]] as const) {
    const check = hostOf(cpus, memoryMiB);
    assert.ok(sizeChecksPass(check, box.cpus, box.memoryMiB).length > 0, `the default VM does not fit ${cpus}/${memoryMiB}`);
    const vm = sizeVm(box, check);
    if ('problem' in vm) {
      // Then no VM holding the platform fits: the line names the host it needs.
      assert.match(vm.problem, /the platform needs a host of/);
      continue;
    }
    assert.equal(sizeChecksPass(check, vm.cpus, vm.memoryMiB), [], `${cpus}/${memoryMiB}: ${JSON.stringify(vm)}`);
    assert.ok(vm.cpus <= box.cpus && vm.memoryMiB <= box.memoryMiB);
    // The largest: one more CPU or one more step of memory fails the host's check.
    if (vm.cpus < box.cpus) assert.ok(check(vm.cpus + 1, vm.memoryMiB).some((c) => c.name === 'host cpus' && !c.ok));
    if (vm.memoryMiB < box.memoryMiB) assert.ok(check(vm.cpus, vm.memoryMiB + 256).some((c) => c.name === 'host memory' && !c.ok));
  }
});

test('a host too small for any VM that holds the platform: one line naming the host it needs', () => {
  const vm = sizeVm(box, hostOf(2, 4096));
  assert.ok('problem' in vm, JSON.stringify(vm));
  const problem = 'problem' in vm ? vm.problem : '';
  assert.not.match(problem, /\n/);
  assert.match(problem, /host cpus: 2 CPUs.*the platform needs a host of \d+ CPUs or more/);
  assert.match(problem, /host memory: 4096 MiB.*the platform needs a host of \d+ MiB or more/);
});

test('the work folder: on disk by default, a tmpfs or a small disk refused in one line', () => {
  assert.is(onlineWorkDir({}), '/var/tmp/airy-e2e');
  assert.not.match(onlineWorkDir({}), /^\/tmp\//);
  assert.is(onlineWorkDir({ E2E_DIR: '/data/e2e' }), '/data/e2e');
  const ext4 = 0xef53;
  assert.is(workDirProblem('/var/tmp/airy-e2e', { type: ext4, freeBytes: 100 * GiB }, 21 * GiB), undefined);
  assert.match(workDirProblem('/tmp/e2e', { type: TMPFS_MAGIC, freeBytes: 100 * GiB }, 21 * GiB) ?? '', /^\/tmp\/e2e is on a tmpfs \(memory, not disk\): set E2E_DIR to a folder on disk with 21 GiB free$/);
  assert.match(workDirProblem('/d', { type: ext4, freeBytes: 10 * GiB }, 21 * GiB) ?? '', /^\/d has 10\.0 GiB free, the run needs 21 GiB: free some, or set E2E_DIR to a larger disk$/);
});

test.run();
