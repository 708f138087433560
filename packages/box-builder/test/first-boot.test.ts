/**
 * What the box's first boot depends on, run for real: the box's own scripts in bash, with the programs that
 * cannot run here (cloud-init, Minikube, crictl) stood in by scripts that record what they are asked, and
 * netplan itself (Debian's netplan.io) reading what cleanup leaves. The offline e2e boots the same scripts in a VM.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boxFacts, boxFactsEnv } from '@airy/manifests';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRegistryMirror } from '../src/build.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const scripts = join(repo, 'images', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'airy-first-boot-'));
const calls = join(work, 'calls');
const facts = boxFacts();
// The payload as Packer uploads it: scripts/ and airy.env under AIRY_PAYLOAD.
const payload = join(work, 'payload');
mkdirSync(join(payload, 'scripts'), { recursive: true });
copyFileSync(join(scripts, 'lib.sh'), join(payload, 'scripts', 'lib.sh'));
copyFileSync(join(scripts, 'first-nic.sh'), join(payload, 'scripts', 'first-nic.sh'));
mkdirSync(join(payload, 'files'));
copyFileSync(join(repo, 'images', 'files', 'airy-first-nic.service'), join(payload, 'files', 'airy-first-nic.service'));
copyFileSync(join(repo, 'images', 'files', 'airy-ssh-host-keys.service'), join(payload, 'files', 'airy-ssh-host-keys.service'));
writeFileSync(join(payload, 'airy.env'), boxFactsEnv(facts));

/** A folder of stand-ins: each records `NAME $*` (and the env vars named) and then runs its body. */
function standIns(tools: Record<string, string>, record: string[] = []): string {
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const [tool, body] of Object.entries(tools)) {
    const env = record.map((v) => ` ${v}=\${${v}-unset}`).join('');
    writeFileSync(join(bin, tool), `#!/bin/bash\necho "${tool} $*${env}" >> '${calls}'\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}
const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
const run = (script: string, args: string[], env: NodeJS.ProcessEnv) => {
  rmSync(calls, { force: true });
  return spawnSync('bash', [join(scripts, script), ...args], { env, encoding: 'utf8' });
};

// What cloud-init 22.4's netplan renderer writes for its fallback config on the build VM (Ubuntu's and the
// offline base image's): the first NIC, matched by the build VM's MAC and renamed.
const CLOUD_INIT_NETPLAN = `# This file is generated from information provided by the datasource.  Changes
# to it will not persist across an instance reboot.  To disable cloud-init's
# network configuration capabilities, write a file
# /etc/cloud/cloud.cfg.d/99-disable-network-config.cfg with the following:
# network: {config: disabled}
network:
    ethernets:
        ens3:
            dhcp4: true
            match:
                macaddress: 52:54:00:12:34:56
            set-name: ens3
    version: 2
`;

test('cleanup: cloud-init is reset, the MAC-pinned netplan replaced by the first-NIC unit, and never written again', () => {
  const root = join(work, 'root');
  mkdirSync(join(root, 'etc/netplan'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dbus'), { recursive: true });
  writeFileSync(join(root, 'etc/netplan/50-cloud-init.yaml'), CLOUD_INIT_NETPLAN);
  writeFileSync(join(root, 'etc/netplan/60-pinned.yaml'), 'network:\n  version: 2\n  ethernets:\n    lan:\n      match: {macaddress: "52:54:00:aa:bb:cc"}\n');
  writeFileSync(join(root, 'etc/netplan/70-keep.yaml'), 'network:\n  version: 2\n  ethernets:\n    ens9:\n      addresses: [192.168.56.10/24]\n');
  writeFileSync(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n# 127.0.1.1 airy-core (a comment is no entry)\n');
  writeFileSync(join(root, 'var/lib/dbus/machine-id'), '0123456789abcdef0123456789abcdef\n');
  const bin = standIns({ 'cloud-init': 'exit 0' });
  const out = run('cleanup.sh', [], { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root });
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.equal(recorded(), ['cloud-init clean --logs --machine-id']);
  const left = readdirSync(join(root, 'etc/netplan')).sort();
  // No netplan in /etc takes DHCP on any NIC: the first NIC's is written at each boot (below).
  assert.equal(left, ['70-keep.yaml']);
  assert.is(readFileSync(join(root, 'usr/local/bin/airy-first-nic'), 'utf8'), readFileSync(join(scripts, 'first-nic.sh'), 'utf8'));
  assert.is(statSync(join(root, 'usr/local/bin/airy-first-nic')).mode & 0o777, 0o755);
  const unit = readFileSync(join(root, 'etc/systemd/system/airy-first-nic.service'), 'utf8');
  assert.match(unit, /^Before=systemd-networkd\.service /m, 'it runs before networkd reads its files');
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/airy-first-nic$/m);
  assert.match(unit, /^WantedBy=multi-user\.target$/m);
  assert.is(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/airy-first-nic.service')), '/etc/systemd/system/airy-first-nic.service', 'enabled');
  assert.is(readFileSync(join(root, 'etc/machine-id'), 'utf8'), '', 'an empty machine-id: a new one at the next boot');
  assert.match(readFileSync(join(root, 'etc/cloud/cloud.cfg.d/99-airy-network.cfg'), 'utf8'), /^network: \{config: disabled\}$/m);
  assert.match(out.stdout, /removing 50-cloud-init\.yaml/);
  // The VM's own name resolves from /etc/hosts (no DNS wait for sudo, no rename by Vagrant), once however often
  // cleanup runs.
  const hosts = () => readFileSync(join(root, 'etc/hosts'), 'utf8');
  assert.is(hosts(), `127.0.0.1\tlocalhost\n# 127.0.1.1 airy-core (a comment is no entry)\n127.0.1.1\t${facts.vmHostname}\n`);
  assert.is(run('cleanup.sh', [], { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root }).status, 0);
  assert.is(hosts().split('\n').filter((l) => l.endsWith(`\t${facts.vmHostname}`)).length, 1);
});

test('cleanup: the build’s SSH host keys are removed, and each VM makes its own before sshd starts', () => {
  const root = join(work, 'ssh-root');
  mkdirSync(join(root, 'etc/ssh'), { recursive: true });
  mkdirSync(join(root, 'etc/netplan'), { recursive: true });
  for (const type of ['rsa', 'ecdsa', 'ed25519']) {
    writeFileSync(join(root, `etc/ssh/ssh_host_${type}_key`), 'the build’s', { mode: 0o600 });
    writeFileSync(join(root, `etc/ssh/ssh_host_${type}_key.pub`), 'the build’s');
  }
  writeFileSync(join(root, 'etc/ssh/sshd_config'), '# kept\n');
  writeFileSync(join(root, 'etc/hosts'), '');
  const bin = standIns({ 'cloud-init': 'exit 0' });
  const out = run('cleanup.sh', [], { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root });
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.equal(readdirSync(join(root, 'etc/ssh')), ['sshd_config']);
  const unit = readFileSync(join(root, 'etc/systemd/system/airy-ssh-host-keys.service'), 'utf8');
  assert.match(unit, /^Before=ssh\.service ssh\.socket sshd\.service /m);
  assert.match(unit, /^DefaultDependencies=no$/m, 'the default After=basic.target would make a cycle with ssh.socket');
  assert.is(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/airy-ssh-host-keys.service')), '/etc/systemd/system/airy-ssh-host-keys.service');
});

const sshKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
if (!sshKeygen) console.log('skip: ssh-keygen is not installed (openssh-client); the host keys made at first boot are not generated here');
(sshKeygen ? test : test.skip)('first boot: the host-key unit’s own command, run by the real ssh-keygen, makes a key of each default type, private ones 0600', () => {
  const root = join(work, 'ssh-root');
  const unit = readFileSync(join(root, 'etc/systemd/system/airy-ssh-host-keys.service'), 'utf8');
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit);
  assert.ok(exec, 'an ExecStart');
  const keygen = spawnSync('ssh-keygen', [...(exec?.[2] ?? '').split(' '), '-f', root], { encoding: 'utf8' });
  assert.is(keygen.status, 0, keygen.stderr);
  const made = readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_')).sort();
  assert.ok(made.includes('ssh_host_ed25519_key') && made.includes('ssh_host_ed25519_key.pub'), made.join(' '));
  assert.is(statSync(join(root, 'etc/ssh/ssh_host_ed25519_key')).mode & 0o777, 0o600);
  assert.is.not(readFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8'), 'the build’s');
});

/** The wait-online drop-in cleanup writes: its program and flags. */
function waitOnlineCommand(): { binary: string; flags: string[] } {
  const dropIn = readFileSync(join(work, 'root/etc/systemd/system/systemd-networkd-wait-online.service.d/99-airy-any-nic.conf'), 'utf8');
  const exec = dropIn.split('\n').filter((l) => l.startsWith('ExecStart='));
  assert.equal(exec[0], 'ExecStart=', 'the unit’s own ExecStart is reset first');
  const [binary, ...flags] = (exec[1] ?? '').slice('ExecStart='.length).split(' ');
  return { binary: binary as string, flags };
}

test('cleanup: the network is online once any one NIC has an IPv4 address', () => {
  const { binary, flags } = waitOnlineCommand();
  assert.is(binary, WAIT_ONLINE);
  assert.equal(flags, ['--any', '--ipv4']);
});

// Debian 12's systemd 252, the offline base image's (Ubuntu 24.04's 255 knows the flags too).
const WAIT_ONLINE = '/usr/lib/systemd/systemd-networkd-wait-online';
if (!existsSync(WAIT_ONLINE)) console.log(`skip: ${WAIT_ONLINE} is not on this machine (systemd-networkd); wait-online's flags are not checked against it`);
(existsSync(WAIT_ONLINE) ? test : test.skip)('cleanup: wait-online’s flags are ones this systemd’s wait-online takes', () => {
  const { binary, flags } = waitOnlineCommand();
  const help = spawnSync(binary, ['--help'], { encoding: 'utf8' }).stdout;
  for (const flag of flags) assert.match(help, new RegExp(`\\s${flag}\\s`), flag);
});

/**
 * A /sys/class/net as the kernel shows it: each NIC's `device` a link into /sys/devices (its PCI slot), its MAC in
 * `address`; loopback and virtual links have no `device`. The names sort the other way round from the slots
 * (ens10 < ens3), as they would with a tenth slot: only the device path says which NIC is first.
 */
function fakeSysfs(dir: string, nics: Array<{ name: string; slot?: string; mac: string }>): string {
  const net = join(dir, 'class/net');
  mkdirSync(net, { recursive: true });
  for (const nic of nics) {
    mkdirSync(join(net, nic.name));
    writeFileSync(join(net, nic.name, 'address'), `${nic.mac}\n`);
    if (nic.slot) {
      const device = join(dir, 'devices/pci0000:00', `0000:00:${nic.slot}.0`, 'virtio');
      mkdirSync(device, { recursive: true });
      symlinkSync(device, join(net, nic.name, 'device'));
    }
  }
  return net;
}
const VM_NICS = [
  { name: 'lo', mac: '00:00:00:00:00:00' },
  { name: 'ens10', slot: '0a', mac: '52:54:00:00:00:0a' },
  { name: 'ens3', slot: '03', mac: '52:54:00:00:00:03' },
  { name: 'eth-veth0', mac: '52:54:00:00:00:ff' },
];

test('first NIC: DHCP on the NIC with the lowest PCI slot only, matched by this boot’s MAC; every NIC only when none is found', () => {
  const root = join(work, 'first-nic-root');
  const bin = standIns({ netplan: 'exit 0' });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_ROOT: root, AIRY_SYS_NET: fakeSysfs(join(work, 'sys'), VM_NICS) };
  const out = run('first-nic.sh', [], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /first NIC: ens3 \(52:54:00:00:00:03\) takes DHCP/);
  const file = join(root, 'run/netplan/01-airy-first-nic.yaml');
  const yaml = readFileSync(file, 'utf8');
  assert.match(yaml, /macaddress: "52:54:00:00:00:03"/);
  assert.not.match(yaml, /00:0a|name:/, 'the second NIC is matched by nothing');
  assert.is(statSync(file).mode & 0o777, 0o600, 'netplan wants its files private');
  assert.equal(recorded(), [`netplan generate --root-dir ${root}`], 'rendered again for networkd, which starts after it');

  // A VM whose NICs it cannot see: DHCP on every NIC rather than none (the VM stays reachable), said in the log.
  const none = run('first-nic.sh', [], { ...env, AIRY_SYS_NET: fakeSysfs(join(work, 'sys-empty'), [{ name: 'lo', mac: '00:00:00:00:00:00' }]) });
  assert.is(none.status, 0, none.stderr);
  assert.match(none.stdout, /none found .*DHCP on every NIC/);
  assert.match(readFileSync(file, 'utf8'), /name: "en\*"/);
});

const netplan = spawnSync('netplan', ['--help'], { encoding: 'utf8' }).status === 0;
(netplan ? test : test.skip)('first NIC: netplan itself renders one networkd file with DHCP, for the first NIC’s MAC; Vagrant’s static address stays first', () => {
  // The root cleanup left (its 70-keep.yaml stands for the 50-vagrant.yaml Vagrant writes for a private network).
  const root = join(work, 'root');
  const out = run('first-nic.sh', [], { ...process.env, AIRY_ROOT: root, AIRY_SYS_NET: fakeSysfs(join(work, 'sys-render'), VM_NICS) });
  assert.is(out.status, 0, out.stdout + out.stderr);
  const dir = join(root, 'run/systemd/network');
  const files = readdirSync(dir).sort();
  const dhcp = files.filter((f) => /^DHCP=(ipv4|yes)$/m.test(readFileSync(join(dir, f), 'utf8')));
  assert.equal(dhcp, ['10-netplan-airy-first-nic.network'], files.join(' '));
  const first = readFileSync(join(dir, dhcp[0] as string), 'utf8');
  // netplan 0.106 (Debian 12) renders the match as PermanentMACAddress=.
  assert.match(first, /\[Match\]\n(Permanent)?MACAddress=52:54:00:00:00:03\n/);
  assert.not.match(first, /^Name=/m, 'matched by the MAC alone, whatever the NIC is called');
  // It counts for network-online (not optional: RequiredForOnline=no leaves wait-online nothing to wait for).
  assert.not.match(first, /RequiredForOnline=no/);
  // A static address Vagrant writes by interface name has its own file, and no DHCP.
  assert.ok(files.includes('10-netplan-ens9.network'), files.join(' '));
  // No udev rename rule for the build VM's NIC survives.
  const udev = join(root, 'run/udev/rules.d');
  assert.ok(!existsSync(udev) || readdirSync(udev).every((f) => !readFileSync(join(udev, f), 'utf8').includes('52:54:00:12:34:56')));
});
if (!netplan) console.log('skip: netplan is not installed (bash tools/setup.sh installs netplan.io); the networkd render of the first NIC is skipped');

test('images: the build never starts Kubernetes; it caches Minikube’s binaries in the box’s one Minikube home and pulls with retries', () => {
  const list = join(work, 'images.txt');
  writeFileSync(list, 'docker.io/library/busybox:1.37.0\nregistry.k8s.io/pause:3.10\n');
  const held = JSON.stringify({ images: [{ repoTags: ['docker.io/library/busybox:1.37.0'] }, { repoTags: ['registry.k8s.io/pause:3.10'] }] });
  const failures = join(work, 'failures');
  writeFileSync(failures, '2');
  const bin = standIns(
    {
      minikube: 'exit 0',
      // busybox fails twice (a registry hiccup), then is pulled.
      crictl: `if [ "$1" = images ]; then echo '${held}'; exit 0; fi
if [ "$2" = docker.io/library/busybox:1.37.0 ] && [ "$(cat '${failures}')" -gt 0 ]; then echo $(( $(cat '${failures}') - 1 )) > '${failures}'; exit 1; fi
exit 0`,
      sleep: 'exit 0',
    },
    ['MINIKUBE_HOME'],
  );
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_IMAGES: list, AIRY_SKIP_DOWNLOADS: 'false', HOME: '/home/vagrant', AIRY_ROOT: join(work, 'root') };
  const out = run('images.sh', [], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  const minikube = recorded().filter((c) => c.startsWith('minikube'));
  assert.equal(minikube, [
    `minikube start --download-only --driver=none --container-runtime=containerd --kubernetes-version=${facts.componentVersions.kubernetes} MINIKUBE_HOME=${facts.minikubeHome}`,
  ]);
  const pulls = recorded().filter((c) => c.startsWith('crictl pull')).map((c) => c.split(' ')[2]);
  assert.equal(pulls, ['docker.io/library/busybox:1.37.0', 'docker.io/library/busybox:1.37.0', 'docker.io/library/busybox:1.37.0', 'registry.k8s.io/pause:3.10']);
  // Backoff: 5 s, then 10 s.
  assert.equal(recorded().filter((c) => c.startsWith('sleep')).map((c) => c.split(' ')[1]), ['5', '10']);

  // A store that lacks an image fails the build, naming it.
  writeFileSync(list, 'docker.io/library/busybox:1.37.0\ndocker.io/library/postgres:16.4\n');
  const lacking = run('images.sh', [], env);
  assert.is(lacking.status, 1);
  assert.match(lacking.stdout, /the store lacks: docker\.io\/library\/postgres:16\.4/);
});

// /proc/net/route as the kernel writes it (tab-separated, addresses in little-endian hex).
const ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
const DEFAULT_VIA_ENS3 = 'ens3\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n';
// A default route first in the table on a NIC with no IPv4 address: the rule skips it, as ChooseHostInterface does.
const DEFAULT_VIA_BARE = 'ens10\t00000000\t0138A8C0\t0003\t0\t0\t50\t00000000\t0\t0\t0\n';
const LINK_ROUTE = 'ens3\t0002000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n';
// `ip -4 -o addr show dev NIC scope global`: ens3 has the management NIC's lease, nothing else has an address.
const IP_STAND_IN = `[ "$6" = ens3 ] && echo '2: ens3    inet 10.0.2.15/24 metric 100 brd 10.0.2.255 scope global dynamic ens3\\       valid_lft 86313sec'; exit 0`;
let routeFiles = 0;
function routesFile(text: string): string {
  const file = join(work, `route-${routeFiles++}`);
  writeFileSync(file, text);
  return file;
}
/** Facts whose lifecycle is the box's own script, at a path the tests can run. */
function factsWithLifecycle(extra: Partial<typeof facts> = {}): string {
  const lifecycle = join(work, 'airy-lifecycle');
  copyFileSync(join(scripts, 'lifecycle.sh'), lifecycle);
  chmodSync(lifecycle, 0o755);
  const file = join(work, `airy-${routeFiles++}.env`);
  writeFileSync(file, boxFactsEnv({ ...facts, lifecycle, ...extra }));
  return file;
}

test('provisioning: the first minikube start waits for the default route and names its NIC’s address to the kubelet and the certificates', () => {
  // No default route at first; it comes while the script waits (the stand-in sleep adds it), behind one on a NIC
  // without an address.
  const routes = routesFile(ROUTE_HEADER + LINK_ROUTE);
  const bin = standIns({
    minikube: '[ "$1" = status ] && exit 1; exit 0',
    kubectl: 'exit 0',
    ip: IP_STAND_IN,
    sleep: `printf '%s%s' '${DEFAULT_VIA_BARE}' '${DEFAULT_VIA_ENS3}' >> '${routes}'`,
  });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_FACTS: factsWithLifecycle(), AIRY_USER: 'airy-no-such-user', KUBECONFIG: join(work, 'kc'), AIRY_ROUTES: routes };
  const out = run('provisioning.sh', ['start'], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.equal(recorded().filter((c) => c.startsWith('sleep')), ['sleep 2'], 'it waited once, then found the route');
  assert.match(out.stdout, /node address 10\.0\.2\.15 on ens3, the NIC of the default route/);
  const start = recorded().find((c) => c.startsWith('minikube start')) ?? '';
  assert.match(start, / --apiserver-ips=10\.0\.2\.15 --extra-config=kubelet\.node-ip=10\.0\.2\.15 /);

  // A VM that never gets a default route: no cluster made on a wrong address; one line, and the unit tries again.
  const never = run('provisioning.sh', ['start'], { ...env, AIRY_ROUTES: routesFile(ROUTE_HEADER + LINK_ROUTE), AIRY_ROUTE_WAIT: '6', PATH: `${standIns({ minikube: '[ "$1" = status ] && exit 1; exit 0', ip: IP_STAND_IN, sleep: 'exit 0' })}:${process.env.PATH}` });
  assert.is(never.status, 1);
  assert.match(never.stdout, /no default route with an IPv4 address after 6s/);
  assert.equal(recorded().filter((c) => c.startsWith('sleep')).length, 3);
  assert.not.ok(recorded().some((c) => c.startsWith('minikube start')), 'minikube never started');
});

test('images: a registry’s rate limit (429) is waited out longer, by its Retry-After when the error names one; then a long backoff', () => {
  const list = join(work, 'images-429.txt');
  writeFileSync(list, 'docker.io/library/postgres:16.4\n');
  const held = JSON.stringify({ images: [{ repoTags: ['docker.io/library/postgres:16.4'] }] });
  const failures = join(work, 'failures-429');
  writeFileSync(failures, '0');
  // Three 429s (the first naming a Retry-After, as a mirror may), a plain hiccup, then the pull goes through.
  const bin = standIns({
    minikube: 'exit 0',
    sleep: 'exit 0',
    crictl: `if [ "$1" = images ]; then echo '${held}'; exit 0; fi
n=$(cat '${failures}'); echo $((n + 1)) > '${failures}'
case $n in
  0) echo 'E1206 pulling image: failed to copy: unexpected status from GET request: 429 Too Many Requests, Retry-After: 30' >&2; exit 1 ;;
  1|2) echo 'toomanyrequests: You have reached your unauthenticated pull rate limit.' >&2; exit 1 ;;
  3) echo 'connection reset by peer' >&2; exit 1 ;;
esac
exit 0`,
  });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_IMAGES: list, AIRY_SKIP_DOWNLOADS: 'false', AIRY_ROOT: join(work, 'root') };
  const out = run('images.sh', [], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.equal(recorded().filter((c) => c.startsWith('sleep')).map((c) => c.split(' ')[1]), ['30', '60', '120', '5']);
  assert.match(out.stdout, /the registry's rate limit \(429\); again in 30s \(attempt 1 of 8\)/);

  // Rate-limited for good: eight attempts (about an hour), then one line naming the way out.
  writeFileSync(failures, '1');
  const limited = standIns({ minikube: 'exit 0', sleep: 'exit 0', crictl: `echo 'toomanyrequests: rate limit' >&2; exit 1` });
  const out2 = run('images.sh', [], { ...env, PATH: `${limited}:${process.env.PATH}` });
  assert.is(out2.status, 1);
  const waits = recorded().filter((c) => c.startsWith('sleep')).map((c) => Number(c.split(' ')[1]));
  assert.equal(waits, [60, 120, 240, 480, 960, 960, 960]);
  assert.match(out2.stdout, /gave up on docker\.io\/library\/postgres:16\.4 after 8 rate-limited attempts: give airy-box build --registry-mirror/);
});

test('provisioning: Minikube has the same home whoever runs it (the unit at boot has no HOME, a user’s sudo keeps theirs)', () => {
  const bin = standIns({ minikube: '[ "$1" = status ] && exit 1; exit 0', kubectl: 'exit 0', istioctl: 'exit 0', openssl: 'echo x', ip: IP_STAND_IN }, ['MINIKUBE_HOME']);
  const factsFile = join(work, 'airy-with-lifecycle.env');
  const lifecycle = join(work, 'airy-lifecycle');
  copyFileSync(join(scripts, 'lifecycle.sh'), lifecycle);
  chmodSync(lifecycle, 0o755);
  writeFileSync(factsFile, boxFactsEnv({ ...facts, lifecycle }));
  const homes: string[] = [];
  for (const home of [undefined, '/home/vagrant']) {
    const { HOME: _home, ...rest } = process.env;
    const env = { ...rest, ...(home ? { HOME: home } : {}), PATH: `${bin}:${process.env.PATH}`, AIRY_FACTS: factsFile, AIRY_USER: 'airy-no-such-user', KUBECONFIG: join(work, 'kc'), AIRY_ROUTES: routesFile(ROUTE_HEADER + DEFAULT_VIA_ENS3) };
    const out = run('provisioning.sh', ['start'], env);
    assert.is(out.status, 0, out.stdout + out.stderr);
    const start = recorded().find((c) => c.startsWith('minikube start'));
    assert.ok(start, 'minikube start is run when no cluster answers');
    homes.push(/MINIKUBE_HOME=(\S+)/.exec(start as string)?.[1] ?? '');
  }
  assert.equal(homes, [facts.minikubeHome, facts.minikubeHome]);
});

test('provisioning: a rotated ngrok token replaces the one in the Secret (applied, not only created when absent)', () => {
  // kubectl says yes to everything, so the Secret "exists" already: the old script kept the old token then.
  const bin = standIns({
    minikube: 'exit 0',
    kubectl: 'cat >/dev/null 2>&1 || true; exit 0',
    istioctl: 'exit 0',
    openssl: 'echo x',
  });
  const token = join(work, 'ngrok-authtoken');
  writeFileSync(token, 'rotated-token', { mode: 0o600 });
  const lifecycle = join(work, 'airy-lifecycle');
  copyFileSync(join(scripts, 'lifecycle.sh'), lifecycle);
  chmodSync(lifecycle, 0o755);
  const factsFile = join(work, 'airy-with-token.env');
  writeFileSync(
    factsFile,
    boxFactsEnv({
      ...facts,
      lifecycle,
      ngrok: { ...facts.ngrok, tokenFile: token },
    }),
  );
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    AIRY_FACTS: factsFile,
    AIRY_DEPLOYMENTS: join(repo, 'infrastructure', 'deployments'),
    AIRY_USER: 'airy-no-such-user',
    KUBECONFIG: join(work, 'kc'),
  };
  const out = run('provisioning.sh', [], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  const calls = recorded();
  const create = calls.findIndex((c) =>
    c.startsWith(
      `kubectl -n ${facts.namespace} create secret generic ${facts.ngrok.secret} --from-file=${facts.ngrok.tokenKey}=${token} --dry-run=client -o yaml`,
    ),
  );
  assert.ok(create >= 0, calls.join('\n'));
  // The two sides of the pipe start together, so their records come in either order.
  assert.ok(calls.includes('kubectl apply -f -'), 'the Secret is applied from the dry run');
  assert.not.ok(
    calls.some((c) => c.includes(`get secret ${facts.ngrok.secret}`)),
    'whether it exists decides nothing',
  );
  assert.not.ok(out.stdout.includes('rotated-token') || calls.some((c) => c.includes('rotated-token')), 'the token is never on a command line');
});

test('provisioning: a run killed inside istioctl install is repaired by the next (Istio judged by its gateway), and a failing apply is retried', () => {
  // A cluster as a folder of facts: the namespace, the Secret (and how often it was made), Istio's namespace, the
  // gateway's readiness. The first run is killed (the whole process group) half way through istioctl install,
  // after istio-system exists and before the gateway is ready.
  const state = mkdtempSync(join(work, 'cluster-'));
  const deployments = join(repo, 'infrastructure', 'deployments');
  const bin = standIns({
    minikube: 'exit 0',
    openssl: 'echo x',
    sleep: 'exit 0',
    istioctl: `touch '${state}/istio-system'; if [ -e '${state}/kill' ]; then rm '${state}/kill'; kill -KILL 0; fi; touch '${state}/gateway'`,
    kubectl: `s='${state}'
case "$*" in
  *"apply -f ${deployments}/namespace.yaml") touch "$s/namespace" ;;
  *"get secret ${facts.postgres.secret}") [ -e "$s/secret" ] || exit 1 ;;
  *"create secret generic ${facts.postgres.secret} "*) [ -e "$s/secret" ] && exit 1; touch "$s/secret"; echo made >> "$s/secrets-made" ;;
  *"rollout status deployment/istio-ingressgateway"*) [ -e "$s/gateway" ] || exit 1 ;;
  *"apply -f ${deployments}/postgres.yaml")
    # A transient failure (the apiserver busy at boot), twice.
    n=$(cat "$s/postgres-failures" 2>/dev/null || echo 2)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$s/postgres-failures"; echo 'the server is currently unable to handle the request' >&2; exit 1; fi ;;
esac
exit 0`,
  });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_FACTS: factsWithLifecycle(), AIRY_DEPLOYMENTS: deployments, AIRY_USER: 'airy-no-such-user', KUBECONFIG: join(work, 'kc') };
  writeFileSync(join(state, 'kill'), '');
  rmSync(calls, { force: true });
  // setsid: the killed process group is the script's own, not this test's.
  const killed = spawnSync('setsid', ['bash', join(scripts, 'provisioning.sh')], { env, encoding: 'utf8' });
  assert.is(killed.signal ?? killed.status, 'SIGKILL', killed.stdout + killed.stderr);
  assert.ok(existsSync(join(state, 'istio-system')) && !existsSync(join(state, 'gateway')), 'a half-finished Istio: its namespace, no gateway');

  const again = run('provisioning.sh', [], env);
  assert.is(again.status, 0, again.stdout + again.stderr);
  const seen = recorded();
  assert.ok(seen.some((c) => c.startsWith('istioctl install -y --readiness-timeout=10m')), 'istio-system existing is not Istio installed');
  assert.ok(existsSync(join(state, 'gateway')));
  assert.match(again.stdout, /Airy Core manifests applied/);
  // Every file of the kustomization applied, postgres.yaml after two failures.
  const kustomized = readFileSync(join(deployments, 'kustomization.yaml'), 'utf8').match(/^ {2}- (.*\.yaml)$/gm)?.map((l) => l.slice(4)) ?? [];
  for (const file of kustomized) assert.ok(seen.includes(`kubectl apply -f ${deployments}/${file}`), file);
  assert.is(seen.filter((c) => c === `kubectl apply -f ${deployments}/postgres.yaml`).length, 3);
  assert.match(again.stdout, /attempt 2 of 5 failed: kubectl apply -f .*postgres\.yaml/);
  // The Secret (a random password) was made once over both runs.
  assert.is(readFileSync(join(state, 'secrets-made'), 'utf8'), 'made\n');

  // A third run, with everything in place, installs nothing again.
  const steady = run('provisioning.sh', [], env);
  assert.is(steady.status, 0, steady.stderr);
  assert.not.ok(recorded().some((c) => c.startsWith('istioctl')), 'a ready gateway: Istio left alone');
  assert.match(steady.stdout, /Istio: istio-ingressgateway is ready/);
});

/** "10m", "120", "30s", "100min" as seconds. */
function seconds(value: string): number {
  const m = /^(\d+)(s|m|min|h)?$/.exec(value.trim());
  if (!m) throw new Error(`not a duration: ${value}`);
  return Number(m[1]) * ({ s: 1, m: 60, min: 60, h: 3600 }[m[2] ?? 's'] as number);
}
test('airy-core.service: restarted on failure without a start limit, and its TimeoutStartSec above the sum of provisioning’s waits', () => {
  const unit = readFileSync(join(repo, 'images', 'files', 'airy-core.service'), 'utf8');
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^StartLimitIntervalSec=0$/m, 'never given up for good');
  const provisioning = readFileSync(join(scripts, 'provisioning.sh'), 'utf8');
  const lifecycle = readFileSync(join(scripts, 'lifecycle.sh'), 'utf8');
  const lib = readFileSync(join(scripts, 'lib.sh'), 'utf8');
  const fact = (text: string, re: RegExp) => {
    const m = re.exec(text);
    if (!m?.[1]) throw new Error(`${re} not found`);
    return m[1];
  };
  // retry N: the sleeps between N attempts, 5 s doubling.
  const firstDelay = Number(fact(lib, /delay=\$\{AIRY_RETRY_DELAY:-(\d+)\}/));
  const backoff = (attempts: number) => Array.from({ length: attempts - 1 }, (_, i) => firstDelay * 2 ** i).reduce((a, b) => a + b, 0);
  const files = (readFileSync(join(repo, 'infrastructure', 'deployments', 'kustomization.yaml'), 'utf8').match(/^ {2}- .*\.yaml$/gm) ?? []).length;
  const tiers = boxFactsEnv(facts);
  const tierLines = /AIRY_TIERS='([^']*)'/.exec(tiers)?.[1]?.split(';') ?? [];
  const waitedWorkloads = tierLines.slice(0, -1).reduce((n, tier) => n + tier.split(',').length, 0);
  const jobs = (/AIRY_JOBS='([^']*)'/.exec(tiers)?.[1] ?? '').split(',').filter(Boolean).length;
  const startTimeout = seconds(fact(lifecycle, /start_timeout=\$\{AIRY_START_TIMEOUT:-(\w+)\}/));
  const sum =
    seconds(fact(provisioning, /route_wait=\$\{AIRY_ROUTE_WAIT:-(\w+)\}/)) +
    seconds(fact(provisioning, /minikube_timeout=\$\{AIRY_MINIKUBE_TIMEOUT:-(\w+)\}/)) +
    10 + // the gateway's readiness check
    seconds(fact(provisioning, /istio_timeout=\$\{AIRY_ISTIO_TIMEOUT:-(\w+)\}/)) +
    backoff(5) + // the namespace
    files * (backoff(3) + backoff(5)) + // before-apply and apply, each retried
    (waitedWorkloads + jobs) * startTimeout + // after-apply: each rollout and Job of the tiers before the apps
    2 * backoff(3); // the tunnel's Secret and file
  const timeout = seconds(fact(unit, /^TimeoutStartSec=(\w+)$/m));
  assert.ok(waitedWorkloads >= 3 && jobs >= 1, `${waitedWorkloads} workloads, ${jobs} jobs`);
  assert.ok(timeout > sum, `TimeoutStartSec ${timeout}s, waits ${sum}s`);
});

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
(analyze ? test : test.skip)('airy-core.service: this systemd reads it without a complaint (Type=oneshot with Restart=on-failure)', () => {
  const dir = mkdtempSync(join(work, 'unit-'));
  const unit = readFileSync(join(repo, 'images', 'files', 'airy-core.service'), 'utf8').replace('/usr/local/bin/provisioning.sh', '/bin/true');
  writeFileSync(join(dir, 'airy-core.service'), unit);
  const out = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'airy-core.service')], { encoding: 'utf8' });
  assert.is(out.status, 0, out.stderr);
  assert.is(out.stderr.trim(), '', out.stderr);
});
if (!analyze) console.log('skip: systemd-analyze is not installed; the unit is not read by systemd');

test('provisioning tunnel: only the tunnel’s Secret and file are applied (the hand-over re-runs nothing else); no token, one line and exit 2', () => {
  const bin = standIns({ minikube: 'exit 0', kubectl: 'cat >/dev/null 2>&1 || true; exit 0', istioctl: 'exit 0' });
  const token = join(work, 'tunnel-token');
  writeFileSync(token, 'a-token', { mode: 0o600 });
  const deployments = join(repo, 'infrastructure', 'deployments');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_FACTS: factsWithLifecycle({ ngrok: { ...facts.ngrok, tokenFile: token } }), AIRY_DEPLOYMENTS: deployments, KUBECONFIG: join(work, 'kc') };
  const out = run('provisioning.sh', ['tunnel'], env);
  assert.is(out.status, 0, out.stdout + out.stderr);
  const seen = recorded().filter((c) => !c.startsWith('minikube status'));
  assert.equal(seen.filter((c) => c.startsWith('kubectl apply')), ['kubectl apply -f -', `kubectl apply -f ${deployments}/optional-ngrok.yaml`]);
  assert.not.ok(seen.some((c) => c.startsWith('minikube start') || c.startsWith('istioctl') || c.includes(' job ')), seen.join('\n'));
  rmSync(token);
  const none = run('provisioning.sh', ['tunnel'], env);
  assert.is(none.status, 2);
  assert.match(none.stdout, /no ngrok authtoken in .*: hand one over first/);
});

test('updates: the build waits for cloud-init, then apt-daily, unattended-upgrades and snapd are off for good; containerd and runc held', () => {
  const root = join(work, 'updates-root');
  // An Ubuntu cloud image's units (this systemd lists each one it has).
  const units = ['apt-daily.timer', 'apt-daily-upgrade.timer', 'apt-daily.service', 'apt-daily-upgrade.service', 'unattended-upgrades.service', 'snapd.service', 'snapd.socket'];
  const bin = standIns({
    'cloud-init': 'exit 0',
    systemctl: `if [ "$1" = list-unit-files ]; then case " ${units.join(' ')} " in *" $2 "*) echo "$2 enabled enabled" ;; esac; fi; exit 0`,
  });
  const out = run('updates.sh', [], { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root });
  assert.is(out.status, 0, out.stdout + out.stderr);
  const acts = recorded().filter((c) => !c.startsWith('systemctl list-unit-files') && !c.startsWith('systemctl is-enabled'));
  assert.equal(acts, [
    'cloud-init status --wait',
    'systemctl disable --now apt-daily.timer',
    'systemctl disable --now apt-daily-upgrade.timer',
    'systemctl disable --now apt-daily.service',
    'systemctl disable --now apt-daily-upgrade.service',
    'systemctl disable --now unattended-upgrades.service',
    'systemctl mask --now snapd.service',
    'systemctl mask --now snapd.socket',
  ]);
  const apt = readFileSync(join(root, 'etc/apt/apt.conf.d/99-airy-no-background-updates'), 'utf8');
  for (const line of ['APT::Periodic::Enable "0";', 'APT::Periodic::Unattended-Upgrade "0";', 'DPkg::Lock::Timeout "600";']) assert.ok(apt.includes(line), line);
  // Before anything is installed: the first script of the build.
  const build = readFileSync(join(repo, 'images', 'airy-core', 'build.pkr.hcl'), 'utf8');
  assert.match(build, /scripts = \[\s*"\$\{var\.scripts_dir\}\/updates\.sh",\s*"\$\{var\.scripts_dir\}\/base\.sh"/);
  // containerd and runc held right after they are installed (read, not run: the script installs into this machine).
  const runtime = readFileSync(join(scripts, 'container-runtime.sh'), 'utf8');
  const install = runtime.indexOf('apt-get install -y -qq --no-install-recommends containerd');
  const hold = runtime.indexOf('apt-mark hold containerd runc');
  assert.ok(install > 0 && hold > install && hold < runtime.indexOf('containerd config default'), 'held before it is configured');
  // A cloud-init that ends with errors (status 2) does not stop the build; the offline base has none of the units.
  const quiet = run('updates.sh', [], { ...process.env, PATH: `${standIns({ 'cloud-init': 'exit 2', systemctl: 'exit 0' })}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root });
  assert.is(quiet.status, 0, quiet.stderr);
  assert.equal(recorded().filter((c) => !c.startsWith('systemctl list-unit-files') && !c.startsWith('systemctl is-enabled')), ['cloud-init status --wait']);
});

test('updates: no wait for a cloud-init stage the image masks (the offline base image), and a wait that hangs is bounded', () => {
  const root = join(work, 'updates-masked');
  const masked = standIns({
    'cloud-init': 'exit 0',
    systemctl: '[ "$1" = is-enabled ] && [ "$2" = cloud-final.service ] && { echo masked; exit 1; }; exit 0',
  });
  const skipped = run('updates.sh', [], { ...process.env, PATH: `${masked}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root });
  assert.is(skipped.status, 0, skipped.stdout + skipped.stderr);
  assert.not.ok(recorded().some((c) => c.startsWith('cloud-init')), 'cloud-init status --wait would never return');
  assert.match(skipped.stdout, /cloud-init's final stage is masked in this image: not waiting for it/);
  // A cloud-init whose stages never finish: the build goes on after the bound, saying so.
  const hanging = standIns({ 'cloud-init': 'exec sleep 30', systemctl: 'exit 0' });
  const bounded = run('updates.sh', [], { ...process.env, PATH: `${hanging}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root, AIRY_CLOUD_INIT_WAIT: '1' });
  assert.is(bounded.status, 0, bounded.stdout + bounded.stderr);
  assert.match(bounded.stdout, /cloud-init status --wait exited 124 \(124: still running after 1s\); going on/);
});

test('registry mirror: only a plain http(s) URL gets to containerd, and its hosts.toml is TOML containerd reads', () => {
  for (const good of ['https://mirror.gcr.io', 'http://10.0.0.5:5000', 'https://registry.example.com/v2/proxy']) assert.ok(isRegistryMirror(good), good);
  for (const bad of ['ftp://x', 'https://user:pw@mirror', 'https://m"]\n[x', 'https://m/$(id)', 'mirror.example.com', 'https://', 'https://a b', 'https://m:0', 'https://m:65536', 'https://m:99999/v2']) {
    assert.not.ok(isRegistryMirror(bad), bad);
  }
  const dir = join(work, 'certs.d');
  const out = spawnSync('bash', ['-c', `. '${join(scripts, 'lib.sh')}' && write_registry_mirror '${dir}' https://mirror.example.com:5000`], { encoding: 'utf8' });
  assert.is(out.status, 0, out.stderr);
  const parsed = spawnSync('python3', ['-c', 'import json,sys,tomllib; print(json.dumps(tomllib.load(open(sys.argv[1],"rb"))))', join(dir, 'docker.io/hosts.toml')], { encoding: 'utf8' });
  assert.is(parsed.status, 0, parsed.stderr);
  assert.equal(JSON.parse(parsed.stdout), { server: 'https://registry-1.docker.io', host: { 'https://mirror.example.com:5000': { capabilities: ['pull', 'resolve'] } } });
  const hostile = spawnSync('bash', ['-c', `. '${join(scripts, 'lib.sh')}' && write_registry_mirror '${dir}' 'https://m"]'`], { encoding: 'utf8' });
  assert.is(hostile.status, 2);
});

const canLoop = process.getuid?.() === 0 && existsSync('/dev/loop-control') && ['growpart', 'resize2fs', 'sfdisk', 'losetup'].every((t) => spawnSync('which', [t]).status === 0);
if (!canLoop) console.log('skip: growroot on a loop device needs root, loop devices, growpart (cloud-guest-utils), resize2fs and sfdisk');
(canLoop ? test : test.skip)('growroot: a disk bigger than the box’s gets its root partition and filesystem grown at boot, and a second run changes nothing', () => {
  // A 64 MiB partition with ext4 on a disk later grown to 160 MiB, as a VirtualBox or libvirt resize leaves it.
  const disk = join(work, 'disk.raw');
  const sh = (command: string) => spawnSync('bash', ['-c', command], { encoding: 'utf8' });
  assert.is(sh(`truncate -s 80M '${disk}' && echo 'size=64M, type=83' | sfdisk -q '${disk}' && truncate -s 160M '${disk}'`).status, 0);
  const loop = sh(`losetup -f --show -P '${disk}'`).stdout.trim();
  try {
    sh(`partx -a ${loop} 2>/dev/null`);
    const part = `${loop}p1`;
    assert.is(sh(`mkfs.ext4 -q ${part}`).status, 0);
    const blocks = () => Number(sh(`dumpe2fs -h ${part} 2>/dev/null | awk -F: '/^Block count/ {print $2}'`).stdout.trim());
    const before = blocks();
    const grown = spawnSync('bash', [join(scripts, 'growroot.sh'), part], { encoding: 'utf8' });
    assert.is(grown.status, 0, grown.stdout + grown.stderr);
    assert.match(grown.stdout, /grown to the end of/);
    assert.ok(blocks() > before * 2, `the filesystem grew from ${before} blocks to ${blocks()}`);
    const again = spawnSync('bash', [join(scripts, 'growroot.sh'), part], { encoding: 'utf8' });
    assert.is(again.status, 0, again.stderr);
    assert.match(again.stdout, /already fills/);
  } finally {
    sh(`losetup -d ${loop}`);
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
