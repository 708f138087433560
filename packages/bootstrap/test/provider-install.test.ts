/**
 * Installing the provider: the plans per OS, and `ensureProvider` running a real plan's commands through `sh` on
 * this machine with `sudo`, `apt-get`, `vagrant`, `virsh` and `usermod` stood in by scripts that record what they
 * are asked (a real install would change this machine; see the README for why no chroot run is here). Preflight is
 * asked again afterwards and must pass.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AiryError, REASONS } from '@airy/cli-kit';
import { gatherHost } from '../src/host.ts';
import type { HostView } from '../src/preflight.ts';
import { preflight } from '../src/preflight.ts';
import { ensureProvider, type OsInfo, providerPlan } from '../src/vagrant-install.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-provider-'));
const bin = join(work, 'bin');
const calls = join(work, 'calls');
mkdirSync(bin);
const stub = (name: string, body = '') => {
  writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${calls}'\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};
// sudo runs what it is given (the stubs below), as a user would after typing a password.
stub('sudo', 'exec "$@"');
stub('apt-get');
stub('usermod');
// Before the install: no virsh, no plugin. The install's `vagrant plugin install` makes the plugin appear.
stub('vagrant', `case "$1 $2" in "plugin install") touch '${work}/plugin';; "plugin list") [ -e '${work}/plugin' ] && echo 'vagrant-libvirt (0.12.2, global)';; "--version ") echo 'Vagrant 2.4.1';; esac; [ "$1" = --version ] && echo 'Vagrant 2.4.1'; exit 0`);
const PATH = process.env.PATH;

const debian: OsInfo = { platform: 'linux', ids: ['debian'], codename: 'bookworm', hasBrew: false };

test('plans: VirtualBox on macOS and Windows, libvirt with the plugin on Linux, manual elsewhere', () => {
  assert.equal(providerPlan({ platform: 'darwin', ids: [], hasBrew: true }, 'virtualbox'), { commands: ['brew install --cask virtualbox'] });
  assert.match(JSON.stringify(providerPlan({ platform: 'win32', ids: [], hasBrew: false }, 'virtualbox')), /winget install --id Oracle\.VirtualBox/);
  assert.match(JSON.stringify(providerPlan({ platform: 'darwin', ids: [], hasBrew: false }, 'virtualbox')), /manual.*7\.1/);
  assert.ok('manual' in providerPlan(debian, 'virtualbox'));
  assert.ok('manual' in providerPlan({ platform: 'darwin', ids: [], hasBrew: true }, 'libvirt'));
  const apt = providerPlan(debian, 'libvirt') as { commands: string[] };
  assert.match(apt.commands[1] ?? '', /apt-get install -y libvirt-daemon-system .*libvirt-dev/);
  assert.is(apt.commands.at(-2), 'vagrant plugin install vagrant-libvirt');
  assert.match(JSON.stringify(providerPlan({ platform: 'linux', ids: ['fedora'], hasBrew: false }, 'libvirt')), /dnf install -y @virtualization/);
  assert.ok('manual' in providerPlan({ platform: 'linux', ids: ['arch'], hasBrew: false }, 'libvirt'));
});

test('preflight: a missing provider it can install does not stop bootstrap; one it cannot does', () => {
  const host: HostView = {
    platform: 'linux', arch: 'x64', cpus: 8, memoryBytes: 32 * 2 ** 30, freeBytes: 100 * 2 ** 30,
    vagrantVersion: undefined, vboxmanageVersion: undefined, virshVersion: undefined, kvm: true, vagrantPlugins: [], hyperV: false,
  };
  const libvirt = preflight(host, { provider: 'libvirt', cpus: 4, memoryMiB: 8192 }).find((c) => c.name === 'hypervisor');
  assert.equal([libvirt?.ok, libvirt?.installable], [false, true]);
  assert.match(libvirt?.detail ?? '', /the vagrant-libvirt plugin/, 'checked even before Vagrant is installed');
  const noKvm = preflight({ ...host, kvm: false }, { provider: 'libvirt', cpus: 4, memoryMiB: 8192 }).find((c) => c.name === 'hypervisor');
  assert.equal([noKvm?.ok, noKvm?.installable], [false, false]);
  const mac = preflight({ ...host, platform: 'darwin' }, { provider: 'virtualbox', cpus: 4, memoryMiB: 8192 }).find((c) => c.name === 'hypervisor');
  assert.equal([mac?.code, mac?.installable], ['PROVIDER_VIRTUALBOX_NOT_FOUND', true]);
});

test('ensureProvider runs the plan in order, looks again, and passes; shown before it runs', async () => {
  process.env.PATH = `${bin}:${PATH}`;
  stub('virsh', `[ -e '${work}/plugin' ] && echo 10.0.0 || exit 1`);
  rmSync(calls, { force: true });
  const lines: string[] = [];
  const host: HostView = {
    platform: 'linux', arch: 'x64', cpus: 8, memoryBytes: 32 * 2 ** 30, freeBytes: 100 * 2 ** 30,
    vagrantVersion: '2.4.1', vboxmanageVersion: undefined, virshVersion: undefined, kvm: true, vagrantPlugins: [], hyperV: false,
  };
  try {
    const after = await ensureProvider(host, {
      provider: 'libvirt',
      yes: true,
      log: (l) => lines.push(l),
      cacheDir: work,
      // The machine looked at for real (the stubs answer), but for /dev/kvm, which this test cannot make.
      gather: async (dir) => ({ ...(await gatherHost(dir)), kvm: true }),
    });
    assert.equal(after.vagrantPlugins, ['vagrant-libvirt']);
    assert.is(after.virshVersion, '10.0.0');
  } finally {
    process.env.PATH = PATH;
  }
  const ran = readFileSync(calls, 'utf8').split('\n').filter((l) => /^(apt-get|vagrant plugin install|usermod)/.test(l));
  assert.equal(ran.map((l) => l.split(' ').slice(0, 2).join(' ')), ['apt-get update', 'apt-get install', 'vagrant plugin', 'usermod -aG']);
  assert.match(lines[0] ?? '', /libvirt for Vagrant is not ready \(missing: libvirt \(virsh\), the vagrant-libvirt plugin\)/);
  assert.ok(lines.indexOf('  vagrant plugin install vagrant-libvirt') > 0, 'the commands are shown');
  assert.match(lines.at(-1) ?? '', /^installed: libvirt 10\.0\.0, KVM$/);
});

test('ensureProvider: a plan that ran but did not help is PROVIDER_LIBVIRT_NOT_USABLE (exit 3) naming what is still missing', async () => {
  process.env.PATH = `${bin}:${PATH}`;
  stub('virsh', 'exit 1');
  rmSync(join(work, 'plugin'), { force: true });
  const host: HostView = {
    platform: 'linux', arch: 'x64', cpus: 8, memoryBytes: 32 * 2 ** 30, freeBytes: 100 * 2 ** 30,
    vagrantVersion: '2.4.1', vboxmanageVersion: undefined, virshVersion: undefined, kvm: true, vagrantPlugins: [], hyperV: false,
  };
  try {
    await ensureProvider(host, { provider: 'libvirt', yes: true, log: () => undefined, cacheDir: work, gather: async (dir) => ({ ...(await gatherHost(dir)), kvm: true }) });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /the libvirt install ran, but preflight still fails: missing: libvirt \(virsh\)/);
    // The library names the reason; the registry, not the library, makes it exit 3.
    assert.ok(e instanceof AiryError, String(e));
    assert.is(e.reason, 'PROVIDER_LIBVIRT_NOT_USABLE');
    assert.not.ok('exitCode' in e);
    assert.is(REASONS.find((r) => r.id === e.reason)?.exitCode, 3);
  } finally {
    process.env.PATH = PATH;
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
