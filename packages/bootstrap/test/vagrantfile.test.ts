import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { runVagrant, vagrantReady } from '../../../tools/testing/vagrant.ts';
import { BOX_FACTS } from '../src/box-facts.ts';
import { PRIVATE_NETWORK_NAME, renderVagrantfile, rubyString, VagrantfileValueError, vagrantUpEnv } from '../src/vagrantfile.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-vagrantfile-'));
const pwned = join(root, 'pwned');
const { ready, reason } = vagrantReady();
const rubyReady = spawnSync('ruby', ['--version']).status === 0;
if (!ready) console.log(`skip: ${reason}; the vagrant validate checks of hostile values are skipped`);
if (!rubyReady) console.log('skip: ruby is not installed; the Ruby literal round trip is skipped');

// Every way a string could end a Ruby literal early or interpolate.
const hostile = [
  `airy/#{system('touch ${pwned}')}`,
  `x"; system("touch ${pwned}"); "`,
  `x'; system('touch ${pwned}'); '`,
  `\\'; system('touch ${pwned}'); #`,
  `back\\slash\\`,
  `#{%x(touch ${pwned})}`,
  'line\nbreak',
  '',
];

(rubyReady ? test : test.skip)('a Ruby literal reads back as exactly the string, and runs nothing', () => {
  for (const value of hostile) {
    const file = join(root, 'literal.rb');
    writeFileSync(file, rubyString(value));
    const read = spawnSync('ruby', ['-e', 'print(eval(File.read(ARGV[0])))', file], { encoding: 'utf8' });
    assert.is(read.status, 0, read.stderr);
    assert.is(read.stdout, value);
    assert.not.ok(existsSync(pwned), `${JSON.stringify(value)} ran code`);
  }
});

test('a box name or version that is not what it must be never reaches a Vagrantfile', () => {
  const base = { boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 2, memoryMiB: 2048 } as const;
  const bad = [
    { ...base, boxName: `airy/#{system('touch ${pwned}')}` },
    { ...base, boxName: 'airy core' },
    { ...base, boxName: 'airy' },
    { ...base, boxVersion: '1.0.0"; system("id"); "' },
    { ...base, ip: '10.0.0.1"; system("id")' },
    { ...base, cpus: Number.NaN },
    { ...base, ports: { http: 70000, https: 8443 } },
  ];
  for (const options of bad) assert.throws(() => renderVagrantfile(options), (e: unknown) => e instanceof VagrantfileValueError);
  assert.match(renderVagrantfile(base), /config\.vm\.box = 'airy\/core'/);
});

test('every halt first stops the platform tier by tier in the VM, and a failure there does not block the halt', () => {
  const text = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 2, memoryMiB: 2048 });
  const trigger = / {2}config\.trigger\.before :halt do \|t\|\n([\s\S]*?)\n {2}end\n/.exec(text)?.[1] ?? '';
  assert.match(trigger, "t.run_remote = { inline: 'sudo /usr/local/bin/airy-lifecycle stop' }");
  assert.match(trigger, 't.on_error = :continue');
  // The ports forwarded are the port chain's: host 8080/8443 to the VM's 80/443.
  assert.match(text, 'forwarded_port", guest: 80, host: 8080, host_ip: "127.0.0.1"');
  assert.match(text, 'forwarded_port", guest: 443, host: 8443, host_ip: "127.0.0.1"');
});

test('VirtualBox: the primary disk grown to the box’s size by Vagrant’s disks feature, which vagrant up gets enabled', () => {
  const vbox = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'virtualbox', cpus: 4, memoryMiB: 8192 });
  assert.match(vbox, `config.vm.disk :disk, size: "${BOX_FACTS.vm.diskMiB}MB", primary: true`);
  assert.not.match(renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 }), 'config.vm.disk');
  assert.equal(vagrantUpEnv('virtualbox', undefined), { VAGRANT_EXPERIMENTAL: 'disks' });
  // A UART for ttyS0 (Ubuntu's cloud images log there; without one VirtualBox boots them very slowly), to the null device.
  assert.match(vbox, '    vb.customize ["modifyvm", :id, "--uart1", "0x3F8", "4", "--uartmode1", "file", File::NULL]');
  assert.equal(vagrantUpEnv('virtualbox', 'typed_triggers, disks'), { VAGRANT_EXPERIMENTAL: 'typed_triggers,disks' }, 'the user’s own flags kept, once');
  assert.equal(vagrantUpEnv('libvirt', 'x'), {});
});

(ready ? test : test.skip)('VirtualBox: Vagrant itself, with the disks feature on, validates the disk line (it checks the size; a bad one fails)', async () => {
  const dir = mkdtempSync(join(root, 'vbox-disk-'));
  const vbox = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'virtualbox', cpus: 4, memoryMiB: 8192 });
  writeFileSync(join(dir, 'Vagrantfile'), vbox);
  const good = await runVagrant(join(root, 'home'), ['validate'], dir, vagrantUpEnv('virtualbox', undefined));
  assert.is(good.status, 0, good.output);
  writeFileSync(join(dir, 'Vagrantfile'), vbox.replace(`size: "${BOX_FACTS.vm.diskMiB}MB"`, 'size: "forty"'));
  const bad = await runVagrant(join(root, 'home'), ['validate'], dir, vagrantUpEnv('virtualbox', undefined));
  assert.is.not(bad.status, 0, 'the feature is on: Vagrant reads the disk config');
  assert.match(bad.output, /size/);
});

(ready ? test : test.skip)('vagrant validate reads a hostile string written as a literal as plain text, and runs nothing', async () => {
  const dir = mkdtempSync(join(root, 'literal-'));
  const good = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 2, memoryMiB: 2048 });
  // The checks refuse such a name; this puts it in by hand to prove the literal itself is inert.
  writeFileSync(join(dir, 'Vagrantfile'), good.replace("config.vm.box = 'airy/core'", `config.vm.box = ${rubyString(hostile[0] ?? '')}`));
  const run = await runVagrant(join(root, 'home'), ['validate'], dir);
  assert.is(run.status, 0, run.output);
  assert.not.ok(existsSync(pwned), 'vagrant validate ran code from the box name');
});

(ready ? test : test.skip)('a catalog whose box name holds Ruby code is refused before anything is written or run', async () => {
  const catalog = join(root, 'metadata.json');
  const name = `airy/#{system('touch ${pwned}')}`;
  const provider = { name: 'libvirt', url: `file://${root}/box.box`, checksum_type: 'sha256', checksum: 'a'.repeat(64), architecture: 'amd64' };
  writeFileSync(catalog, JSON.stringify({ name, versions: [{ version: '1.0.0', providers: [provider] }] }));
  const instance = join(root, 'instance');
  const env = { VAGRANT_HOME: join(root, 'home') };
  const cache = join(root, 'cache');
  for (const args of [['--force', '--yes', '--wait', '0', '--dir', instance, '--cache', cache], ['download', '--out', join(root, 'box.box')]]) {
    // Unsigned, accepted: the catalog's content is what is tested.
    const run = await runBinAsync(packageDir, [...args, '--catalog', `file://${catalog}`, '--allow-unsigned'], { env });
    assert.is(run.status, 2, run.stderr);
    assert.match(run.stderr, /the box catalog is malformed: .*metadata\.json: name: must be a box name org\/name/);
    // One error line (the default command's preflight lines, progress, and the unsigned notice may come before it).
    assert.is(run.stderr.trim().split('\n').filter((l) => !l.startsWith('preflight: ') && !l.startsWith('notice: the catalog ')).length, 1, run.stderr);
  }
  assert.not.ok(existsSync(join(instance, 'Vagrantfile')));
  assert.not.ok(existsSync(pwned));
});

test('libvirt: the private network has no DHCP and a name of the box’s own (its NIC never takes a lease and a default route)', () => {
  const text = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 });
  const line = text.split('\n').find((l) => l.includes('"private_network"')) ?? '';
  assert.is(line, `  config.vm.network "private_network", ip: '192.168.56.10', libvirt__dhcp_enabled: false, libvirt__network_name: '${PRIVATE_NETWORK_NAME}'`);
  // VirtualBox's host-only network has no such options; the box's netplan takes DHCP on the first NIC only anyway.
  const vbox = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'virtualbox', cpus: 4, memoryMiB: 8192 });
  assert.not.match(vbox, 'libvirt__');
});

(ready ? test : test.skip)('libvirt: Vagrant itself validates the Vagrantfile with the private network’s options', async () => {
  const dir = mkdtempSync(join(root, 'private-net-'));
  writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.2.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 }));
  const run = await runVagrant(join(root, 'home'), ['validate'], dir);
  assert.is(run.status, 0, run.output);
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

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
