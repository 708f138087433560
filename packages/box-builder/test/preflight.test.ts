import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { varFile } from '../src/packer.ts';
import { type BuildPlanInput, chooseAccelerator, type HostFacts, packerNeedsPlugins, phaseOf, preflight } from '../src/preflight.ts';

const GiB = 2 ** 30;
const good: HostFacts = {
  packerVersion: '1.6.6',
  qemu: 'QEMU emulator version 7.2.0',
  qemuImg: true,
  kvmUsable: true,
  freeBytes: 50 * GiB,
  sshKey: '/keys/vagrant',
  hostArchitecture: 'amd64',
};
const input: BuildPlanInput = { provider: 'libvirt', accelerator: 'auto', architecture: 'amd64', requiredFreeBytes: 20 * GiB };
const failing = (facts: HostFacts, i = input) => preflight(facts, i).filter((c) => !c.ok);

test('a ready machine passes every check', () => {
  assert.equal(failing(good), []);
});

test('each missing piece fails with one fix', () => {
  const cases: [Partial<HostFacts>, string, RegExp][] = [
    [{ packerVersion: undefined }, 'packer', /apt-get install packer/],
    [{ packerVersion: '1.5.4' }, 'packer', /1.6.6 or newer/],
    [{ qemu: undefined }, 'qemu', /apt-get install qemu-system-x86 qemu-utils/],
    [{ kvmUsable: false }, 'acceleration', /--accelerator tcg/],
    [{ freeBytes: 2 * GiB }, 'disk', /free some disk/],
    [{ sshKey: undefined }, 'ssh key', /--ssh-key/],
  ];
  for (const [change, name, fix] of cases) {
    const fails = failing({ ...good, ...change });
    assert.is(fails.length, 1, name);
    assert.is(fails[0]?.name, name);
    assert.match(fails[0]?.fix ?? '', fix);
  }
  assert.equal(failing({ ...good, kvmUsable: false }, { ...input, accelerator: 'tcg' }), [], 'TCG asked for explicitly');
  assert.is(failing({ ...good }, { ...input, provider: 'virtualbox' })[0]?.name, 'virtualbox');
});

test('arm64: its qemu and UEFI firmware are checked; on an amd64 machine it is emulated, never KVM', () => {
  const arm = { ...input, architecture: 'arm64' } as const;
  const withFirmware = { ...good, firmware: '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd' };
  assert.equal(failing(withFirmware, arm), []);
  assert.is(preflight(withFirmware, arm).find((c) => c.name === 'acceleration')?.detail, 'TCG emulation of arm64 (slow: KVM runs only amd64 guests)');
  assert.is(chooseAccelerator(withFirmware, 'auto', 'arm64'), 'tcg');
  const noFirmware = failing(good, arm);
  assert.equal(noFirmware.map((c) => [c.name, c.fix]), [['firmware', 'apt-get install qemu-efi-aarch64']]);
  const noQemu = failing({ ...withFirmware, qemu: undefined }, arm);
  assert.match(noQemu[0]?.fix ?? '', /apt-get install qemu-system-arm qemu-efi-aarch64 qemu-utils/);
  assert.match(noQemu[0]?.detail ?? '', /qemu-system-aarch64/);
  const kvm = failing(withFirmware, { ...arm, accelerator: 'kvm' });
  assert.is(kvm[0]?.name, 'acceleration');
  assert.match(kvm[0]?.detail ?? '', /KVM runs only amd64 guests, this box is arm64/);
  // On an Apple Silicon or arm64 Linux machine, arm64 is native.
  assert.is(chooseAccelerator({ ...withFirmware, hostArchitecture: 'arm64' }, 'auto', 'arm64'), 'kvm');
});

test('Packer generations and accelerators', () => {
  assert.not.ok(packerNeedsPlugins('1.6.6'));
  assert.ok(packerNeedsPlugins('1.7.0'));
  assert.ok(packerNeedsPlugins('1.11.2'));
  assert.ok(packerNeedsPlugins('2.0.0'));
  assert.is(chooseAccelerator(good, 'auto'), 'kvm');
  assert.is(chooseAccelerator({ ...good, kvmUsable: false }, 'tcg'), 'tcg');
});

test('phases are read from Packer output lines', () => {
  assert.is(phaseOf('==> qemu.airy-core: Starting VM, booting disk image...'), 'boot');
  assert.is(phaseOf('==> qemu.airy-core: Provisioning with shell script: /x/base.sh'), 'provision');
  assert.is(phaseOf('==> qemu.airy-core: Gracefully halting virtual machine...'), 'export');
  assert.is(phaseOf('==> qemu.airy-core: Running post-processor: vagrant'), 'package');
  assert.is(phaseOf('    qemu.airy-core: [airy] base: packages installed'), undefined);
});

test('the variable file quotes strings and keeps numbers and booleans', () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template syntax, on purpose
  assert.equal(JSON.parse(varFile({ a: 'x "y" ${z}', b: 4, c: true })), { a: 'x "y" ${z}', b: 4, c: true });
});

test.run();
