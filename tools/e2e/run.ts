#!/usr/bin/env tsx
/**
 * End to end with the real tools, offline: a debootstrapped base image → the README's quick start, its commands read
 * from README.md with the e2e's offline flags added: the real `airy-box build` (Packer's qemu builder under TCG,
 * downloads skipped, no network), `airy-box publish` to a file catalog, and (with --vm) `airy-bootstrap` from it →
 * `airy-box publish` to s3rver on loopback →
 * `airy-bootstrap download` (verified) → the real `vagrant box add` → the box's disk opened and checked: the
 * manifests, the provisioning unit, and the content manifest against the catalog entry. With --vm (inside the
 * network namespace ci.sh makes, with its own libvirtd): `airy-bootstrap` boots the box with vagrant-libvirt,
 * checks over OpenSSH with the config `vagrant ssh-config` gives, `status --json`, and `destroy --prune` leaving no
 * domain, volume or box.
 * Each step is a named function below, run in order by the step runner (steps.ts), which ends with a summary table.
 *
 * Usage: tools/e2e/ci.sh (as root); this script alone: tsx tools/e2e/run.ts [--base-only | --vm] [--keep].
 * Logs: $E2E_DIR (default /tmp/airy-e2e)/logs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog, parseContentManifest } from '@airy/box-catalog';
import { boxFacts } from '@airy/manifests';
import { $, argv } from 'zx';
import { S3RVER_CREDENTIALS, startS3 } from '../testing/s3.ts';
import { bootstrapCli, bootstrapStatus, boxCli, buildBox, destroyInstance, expectVerified, publishBox, quickStart, repo, runLogged, words } from './common.ts';
import { type Step, StepRunner } from './steps.ts';

/** Every readiness probe bootstrap runs, by name: the platform's parts, the app tier and the API. */
const PROBES = ['kafka', 'schema-registry', 'postgres', 'ingress', 'apps', 'api'];
const dir = process.env.E2E_DIR ?? '/tmp/airy-e2e';
const logs = join(dir, 'logs');
mkdirSync(logs, { recursive: true });
/** The known change between the two boxes the upgrade goes through. */
const CHANGE_BYTES = 4 * 2 ** 20;
$.quiet = true;
const runner = new StepRunner({ label: 'e2e', logs });

const version = '0.0.1';
const nextVersion = '0.0.2';
const baseScript = join(repo, 'tools/e2e/base-image.sh');
const base = join(dir, 'cache', `base-${createHash('sha256').update(readFileSync(baseScript)).digest('hex').slice(0, 16)}.qcow2`);
/** The first box, in the README's default folder; the upgrade target beside it. */
const out = join(repo, 'packages/box-builder/dist');
const nextOut = join(dir, 'build-next');
const downloaded = join(dir, 'download', 'box.box');
const buildArgs = (v: string) => [
  '--provider', 'libvirt', '--box-version', v,
  '--base-image', base, '--skip-downloads', '--restrict-network', '--accelerator', 'tcg', '--cpus', '2', '--memory', '2048', '--disk-size', '3G',
];
/** The s3rver the catalog is published to (set by publishToS3). */
let s3: Awaited<ReturnType<typeof startS3>> | undefined;
const s3env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
const catalogUrl = () => {
  if (!s3) throw new Error('no catalog on s3rver: the publish step did not run');
  return `${s3.endpoint}/${s3.bucket}/e2e/metadata.json`;
};
/** The README's keys (out/keys, made by its `keys init` line) sign both catalogs; every read verifies against their root. */
const keys = join(repo, 'out/keys');
/** Verification's flags for the downloads, its trusted metadata in the e2e's folder, not in root's ~/.airy/cache. */
const trusted = () => ['--trusted-root', join(keys, 'root.json'), '--cache', join(dir, 'download-tuf')];
const publishToS3Bucket = (log: string, from: string) => {
  if (!s3) throw new Error('no s3rver: the publish step did not run');
  return publishBox(log, from, `s3://${s3.bucket}/e2e`, ['--endpoint', s3.endpoint, '--keys', keys], s3env);
};

// The base image needs Debian's packages: ci.sh makes it outside the network namespace (--base-only) first.
async function baseImage(log: string) {
  if (existsSync(base)) return;
  mkdirSync(join(dir, 'cache'), { recursive: true });
  await runLogged(log, ['bash', baseScript, base]);
}

/** The first box through the README's command, into its default folder. */
async function boxBuild(log: string) {
  rmSync(out, { recursive: true, force: true });
  await buildBox(log, buildArgs(version));
}

/**
 * With --vm: the first box and the upgrade target, built beside each other (both are emulated VMs that wait on each
 * other's CPU less than on their own); the second by airy-box itself once the first has passed Nx's compile (two
 * Nx runs would compile at once). Each build has its own log; their times are noted under the summary.
 */
async function boxBuilds() {
  const firstLog = runner.logOf(`box build ${version}`);
  const nextLog = runner.logOf(`box build ${nextVersion}`);
  for (const log of [firstLog, nextLog]) writeFileSync(log, '');
  const timed = async (name: string, work: Promise<void>) => {
    const started = Date.now();
    await work;
    runner.figure(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s (the two builds overlap)`);
  };
  const first = timed(`box build ${version}`, boxBuild(firstLog));
  let firstError: unknown;
  const firstSettled = first.then(
    () => true,
    (error: unknown) => {
      firstError = error;
      return true;
    },
  );
  for (;;) {
    if (readFileSync(firstLog, 'utf8').includes('phase: build starts')) break;
    if (await Promise.race([firstSettled, new Promise((r) => setTimeout(() => r(false), 2000))])) break;
  }
  if (firstError) throw new Error(`box build ${version}: ${(firstError as Error).message} (log: ${firstLog})`);
  rmSync(nextOut, { recursive: true, force: true });
  // The upgrade target differs from the first box by a change of known size: CHANGE_BYTES of random data written
  // into the disk at the end of cleanup.sh (before minimize.sh discards the free blocks), from a copy of images/.
  // Appended, not put at a marker: a marker that moves would leave the boxes alike and the delta's figure meaningless.
  const nextImages = join(dir, 'images-next');
  rmSync(nextImages, { recursive: true, force: true });
  cpSync(join(repo, 'images'), nextImages, { recursive: true });
  const cleanup = join(nextImages, 'scripts/cleanup.sh');
  writeFileSync(cleanup, `${readFileSync(cleanup, 'utf8').trimEnd()}\nhead -c ${CHANGE_BYTES} /dev/urandom > "$root/var/lib/airy-e2e-change.bin" # the e2e's known change\n`);
  const next = timed(
    `box build ${nextVersion}`,
    runLogged(nextLog, ['node', boxCli, 'build', ...buildArgs(nextVersion), '--out', nextOut, '--images', nextImages]),
  );
  const [a, b] = await Promise.allSettled([first, next]);
  if (a.status === 'rejected') throw new Error(`box build ${version}: ${(a.reason as Error).message} (log: ${firstLog})`);
  if (b.status === 'rejected') throw new Error(`box build ${nextVersion}: ${(b.reason as Error).message} (log: ${nextLog})`);
}

async function keysInit(log: string) {
  rmSync(keys, { recursive: true, force: true });
  await runLogged(log, ['bash', '-c', quickStart().keys]);
}

async function publishToS3(log: string) {
  s3 = await startS3({ conditional: true });
  const started = s3;
  runner.onCleanup('stop s3rver', () => started.stop());
  await publishToS3Bucket(log, out);
}

/** The README's folder catalog, which the quick start boots from. */
async function publishToFolder(log: string, from = out) {
  if (from === out) rmSync(join(repo, 'out/boxes'), { recursive: true, force: true });
  await runLogged(log, ['bash', '-c', `${quickStart().publish} --from ${words([from])}`]);
}

async function bootstrapDownload(log: string) {
  rmSync(join(dir, 'download'), { recursive: true, force: true });
  await runLogged(log, ['node', bootstrapCli, 'download', '--catalog', catalogUrl(), ...trusted(), '--box-version', version, '--provider', 'libvirt', '--out', downloaded]);
  expectVerified(log);
}

async function vagrantBoxAdd(log: string) {
  const home = join(dir, 'vagrant-home');
  rmSync(home, { recursive: true, force: true });
  await runLogged(log, ['vagrant', 'box', 'add', '--provider', 'libvirt', catalogUrl()], { VAGRANT_HOME: home, VAGRANT_CHECKPOINT_DISABLE: '1' });
}

async function boxContents(log: string) {
  const catalog = parseCatalog(await (await fetch(catalogUrl())).text(), catalogUrl());
  const entry = catalog.versions.find((v) => v.version === version)?.providers[0];
  const manifest = parseContentManifest(readFileSync(join(out, 'box.json'), 'utf8'), 'box.json');
  if (entry?.checksum !== manifest.sha256) throw new Error('the catalog entry does not match box.json');
  const unpacked = join(dir, 'unpacked');
  rmSync(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked);
  await runLogged(log, ['tar', '-xzf', downloaded, '-C', unpacked]);
  await runLogged(log, ['qemu-img', 'convert', '-O', 'raw', join(unpacked, 'box.img'), join(unpacked, 'disk.raw')]);
  const loop = (await $`losetup -f --show -P ${join(unpacked, 'disk.raw')}`).stdout.trim();
  const mnt = join(unpacked, 'mnt');
  try {
    await $`partx -a ${loop}`.nothrow();
    mkdirSync(mnt);
    await $`mount -o ro ${loop}p1 ${mnt}`;
    const inside = parseContentManifest(readFileSync(join(mnt, 'opt/airy/box.json'), 'utf8'), 'box.json in the box');
    if (inside.manifestsHash !== manifest.manifestsHash || inside.version !== version) throw new Error('the content manifest in the box differs');
    for (const file of ['opt/airy/deployments/kustomization.yaml', 'opt/airy/deployments/kafka.yaml', 'etc/systemd/system/airy-core.service', 'usr/local/bin/provisioning.sh', 'usr/local/bin/airy-lifecycle']) {
      if (!existsSync(join(mnt, file))) throw new Error(`${file} is missing in the box`);
    }
    // A symlink to an absolute path inside the box: look at the link itself.
    const wants = join(mnt, 'etc/systemd/system/multi-user.target.wants/airy-core.service');
    if (!lstatSync(wants, { throwIfNoEntry: false })?.isSymbolicLink()) throw new Error('airy-core.service is not enabled');
    // The first boot on a new machine: cloud-init made the vagrant user from the build's seed (the base image
    // has none), and nothing of the build VM's identity or network is left for the box to trip on.
    if (!existsSync(join(mnt, 'home/vagrant/.ssh/authorized_keys'))) throw new Error('cloud-init did not make the vagrant user from the seed');
    for (const f of readdirSync(join(mnt, 'etc/netplan'))) {
      if (/macaddress|set-name/i.test(readFileSync(join(mnt, 'etc/netplan', f), 'utf8'))) throw new Error(`/etc/netplan/${f} matches the build VM's MAC`);
    }
    // DHCP on the first NIC only, written at each boot by airy-first-nic (enabled), and no netplan in /etc for any.
    if (!existsSync(join(mnt, 'usr/local/bin/airy-first-nic'))) throw new Error('the box has no airy-first-nic');
    if (!lstatSync(join(mnt, 'etc/systemd/system/multi-user.target.wants/airy-first-nic.service'), { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new Error('airy-first-nic.service is not enabled');
    }
    for (const f of readdirSync(join(mnt, 'etc/netplan'))) {
      if (/dhcp4:\s*(true|yes)/.test(readFileSync(join(mnt, 'etc/netplan', f), 'utf8'))) throw new Error(`/etc/netplan/${f} takes DHCP on some NIC`);
    }
    if (statSync(join(mnt, 'etc/machine-id')).size !== 0) throw new Error('/etc/machine-id is not empty: every VM of the box would share it');
    // Each VM makes its own SSH host keys at first boot (and the boot's vagrant ssh proves sshd had them).
    if (readdirSync(join(mnt, 'etc/ssh')).some((f) => f.startsWith('ssh_host_'))) throw new Error('the box holds the build’s SSH host keys');
    if (existsSync(join(mnt, 'var/lib/cloud/instance'))) throw new Error("cloud-init's instance state of the build is still there");
    const hostname = boxFacts().vmHostname;
    if (!new RegExp(`^127\\.0\\.1\\.1\\s+${hostname}$`, 'm').test(readFileSync(join(mnt, 'etc/hosts'), 'utf8'))) throw new Error(`/etc/hosts does not name ${hostname}`);
    const volumes = boxFacts().volumes;
    const unit = `${volumes.provisioner.slice(1).replaceAll('-', '\\x2d').replaceAll('/', '-')}.mount`;
    if (!lstatSync(join(mnt, 'etc/systemd/system/multi-user.target.wants', unit), { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new Error(`the volumes' bind mount ${unit} is not enabled`);
    }
  } finally {
    // Released here, not at the end: a later step that fails must not leave the disk attached.
    await $`umount ${mnt}`.nothrow();
    await $`losetup -d ${loop}`.nothrow();
  }
}

// The VM's steps run inside the network namespace that ci.sh made, with its own libvirtd: the box booted the way
// users do it.
const instance = join(dir, 'instance');
const vmEnv = { VAGRANT_HOME: join(dir, 'vagrant-home-vm'), VAGRANT_CHECKPOINT_DISABLE: '1' };
const common = ['--dir', instance, '--cache', join(dir, 'cache-vm')];
const inVm = { cwd: instance, env: { ...process.env, ...vmEnv } };
// The e2e's own looks into the VM go over OpenSSH with the config Vagrant gives (one `vagrant ssh-config` per VM
// it makes: not Vagrant's start-up per command); `vmChanged()` after a restart or an upgrade (a new address).
let sshConfig: string | undefined;
const vmChanged = () => {
  sshConfig = undefined;
};
async function ssh(log: string, command: string): Promise<string> {
  if (!sshConfig) {
    const config = join(dir, 'ssh-config');
    writeFileSync(config, (await $(inVm)`vagrant ssh-config 2>>${log}`).stdout);
    sshConfig = config;
  }
  return (await $`ssh -F ${sshConfig} -o LogLevel=ERROR default ${command} 2>>${log}`).stdout.trim();
}
const status = (log: string) => bootstrapStatus(instance, log, vmEnv);

/**
 * The README's command, on the folder catalog, with the e2e's flags: no KVM here, the private network as users have
 * it (its NIC must take no lease and no default route), the host's /etc/hosts left alone, a smaller VM, and no wait
 * for a platform this offline box does not have.
 */
async function bootstrapUp(log: string) {
  rmSync(instance, { recursive: true, force: true });
  rmSync(vmEnv.VAGRANT_HOME, { recursive: true, force: true });
  const upFlags = ['--box-version', version, '--libvirt-driver', 'qemu', '--no-hosts', '--cpus', '2', '--memory', '2048', '--force', '--yes', '--wait', '0', ...common];
  await runLogged(log, ['bash', '-c', `${quickStart().bootstrap} ${words(upFlags)}`], vmEnv);
  expectVerified(log);
}

async function checksInVm(log: string) {
  await ssh(log, 'test -f /opt/airy/deployments/kustomization.yaml && test -f /opt/airy/deployments/kafka.yaml');
  // The minimal base has no D-Bus for systemctl to ask: the unit's wants-link is what "enabled" means.
  await ssh(log, 'test -f /etc/systemd/system/airy-core.service && test -L /etc/systemd/system/multi-user.target.wants/airy-core.service && test -x /usr/local/bin/provisioning.sh');
  const inside = parseContentManifest(await ssh(log, 'cat /opt/airy/box.json'), 'box.json in the VM');
  const manifest = parseContentManifest(readFileSync(join(out, 'box.json'), 'utf8'), 'box.json');
  if (inside.manifestsHash !== manifest.manifestsHash) throw new Error('the VM holds other manifests than the catalog entry says');
}

/** What backup, restore and the upgrade's carry-over use: a file into a command in the VM, a command's output into a file. */
async function streamsThroughVagrantSsh() {
  process.env.VAGRANT_HOME = vmEnv.VAGRANT_HOME;
  const { sshStream } = await import(join(repo, 'packages/bootstrap/lib/vagrant.js'));
  const sent = join(dir, 'stream-in.bin');
  const back = join(dir, 'stream-out.bin');
  writeFileSync(sent, randomBytes(8 * 2 ** 20));
  const put = await sshStream(instance, 'cat > /tmp/stream.bin', { input: sent });
  const got = await sshStream(instance, 'cat /tmp/stream.bin', { output: back });
  if (!put.ok || !got.ok || !readFileSync(sent).equals(readFileSync(back))) throw new Error(`8 MiB did not come back unchanged: ${put.reason} ${got.reason}`);
  if ((statSync(back).mode & 0o777) !== 0o600) throw new Error('the output file is not private (0600)');
  const failed = await sshStream(instance, 'echo half; echo "pg_dump: error: no such database" >&2; exit 3', { output: join(dir, 'stream-failed.bin') });
  if (failed.ok || failed.reason !== 'pg_dump: error: no such database') throw new Error(`a failing command: ${JSON.stringify(failed)}`);
  if (existsSync(join(dir, 'stream-failed.bin')) || existsSync(join(dir, 'stream-failed.bin.part'))) throw new Error('a failed stream left a file');
}

/**
 * The hand-over a user's --in-cluster-tunnel makes: the token on stdin into a root-only file, provisioning restarted
 * (the offline box has no Kubernetes to make the Secret in; the file is what the box reads).
 */
async function inClusterTunnelToken(log: string) {
  const token = `e2e_${randomBytes(16).toString('hex')}`;
  await runLogged(log, ['node', bootstrapCli, 'cluster-tunnel', '--dir', instance], { ...vmEnv, NGROK_AUTHTOKEN: token });
  const tokenFile = boxFacts().ngrok.tokenFile;
  const mode = await ssh(log, `sudo stat -c %a ${tokenFile} && sudo stat -c %a /etc/airy`);
  if (mode !== '600\n700') throw new Error(`the token file and folder are ${mode.replace('\n', ' and ')}, not 600 and 700`);
  if ((await ssh(log, `sudo cat ${tokenFile}`)) !== token) throw new Error('the token in the VM is not the one handed over');
  if (readFileSync(log, 'utf8').includes(token)) throw new Error('the token appears in airy-bootstrap’s output');
  if (readdirSync(instance).some((f) => f.startsWith('.ngrok-token-'))) throw new Error('the token was left beside the instance');
}

/** This box has no Kubernetes (built with --skip-downloads): the command must say so in one line, write nothing. */
async function kubeconfigOfAnOfflineBox(log: string) {
  const said = await $({ ...inVm, nothrow: true })`node ${bootstrapCli} kubeconfig --dir ${instance} 2>${log}`;
  const err = readFileSync(log, 'utf8').trim();
  if (said.exitCode !== 1 || !/could not read the cluster's kubeconfig in the VM/.test(err) || err.split('\n').length !== 1) {
    throw new Error(`kubeconfig on a box without Kubernetes: exit ${said.exitCode}, ${err}`);
  }
  if (existsSync(join(instance, 'kube.conf'))) throw new Error('a kube.conf was written');
}

async function networkAndVolumesAtFirstBoot(log: string) {
  // vagrant up got an address for a NIC whose MAC the build never saw; the box's own machine-id is new.
  const mac = await ssh(log, "cat /sys/class/net/$(ip -o route show default | awk '{print $5}')/address");
  if (/^52:54:00:12:34:56$/i.test(mac)) throw new Error('the VM has the build VM’s MAC: the test would prove nothing');
  if ((await ssh(log, 'cat /etc/machine-id')).length !== 32) throw new Error('the VM did not get a machine-id of its own');
  // As on the Ubuntu cloud image, a boot without a seed has cloud-init disabled by ds-identify: nothing but the
  // box's own netplan gave this NIC its address (with cloud-init running, its fallback would have, hiding the bug).
  if ((await ssh(log, 'test -e /run/cloud-init/enabled && echo enabled || echo disabled')) !== 'disabled') {
    throw new Error('cloud-init ran at a boot without a seed: the base image does not behave like the cloud image');
  }
  // The network came online by the box's rule (any one NIC with an IPv4 address), not by wait-online's timeout,
  // and the platform's unit, ordered after it, has run: with every NIC optional it would still be waiting here.
  for (const unit of ['systemd-networkd-wait-online.service', 'airy-core.service']) {
    const state = await ssh(log, `sudo systemctl show -p ActiveState -p Result ${unit}`);
    if (!state.includes('ActiveState=active') || !state.includes('Result=success')) throw new Error(`${unit} after boot: ${state.replaceAll('\n', ', ')}`);
  }
  // One default route, on the management NIC (the one airy-first-nic gave DHCP, by this boot's MAC), and the
  // node address Minikube's none driver would take (the first default route's NIC's IPv4 address, the rule
  // provisioning.sh names to it) is that NIC's; the private network's NIC has its static address and no lease.
  const defaults = (await ssh(log, "awk 'NR > 1 && $2 == \"00000000\" { print $1 }' /proc/net/route")).split('\n').filter(Boolean);
  const firstNicMac = /macaddress: "([0-9a-f:]+)"/.exec(await ssh(log, 'sudo cat /run/netplan/01-airy-first-nic.yaml'))?.[1];
  const routeMac = defaults[0] ? await ssh(log, `cat /sys/class/net/${defaults[0]}/address`) : '';
  if (defaults.length !== 1 || !firstNicMac || routeMac !== firstNicMac) {
    throw new Error(`default routes ${defaults.join(', ') || 'none'} (MAC ${routeMac}); the first NIC's MAC ${firstNicMac ?? 'unknown'}`);
  }
  const nodeAddress = await ssh(log, `ip -4 -o addr show dev ${defaults[0]} scope global | awk '{ sub(/\\/.*/, "", $4); print $4; exit }'`);
  const privateNic = await ssh(log, "ip -4 -o addr show scope global | awk '$4 ~ /^192\\.168\\.56\\./ { print $2, $0 }'");
  if (!nodeAddress || nodeAddress.startsWith('192.168.56.')) throw new Error(`the node address would be ${nodeAddress || 'none'}, not the management NIC's`);
  if (!privateNic || privateNic.includes(' dynamic ') || privateNic.startsWith(`${defaults[0]} `)) throw new Error(`the private network's NIC: ${privateNic || 'no address'}`);
  writeFileSync(log, `node address ${nodeAddress} on ${defaults[0]}; private NIC ${privateNic.split(' ')[0]}\n`, { flag: 'a' });
  const { persistent, provisioner } = boxFacts().volumes;
  const mount = await ssh(log, `findmnt -n -o SOURCE,TARGET ${provisioner}`);
  if (!mount.includes(`[${persistent}]`) || !mount.endsWith(provisioner)) throw new Error(`${provisioner} is not the disk's ${persistent}: ${mount}`);
}

async function stopAndStart(log: string) {
  await ssh(log, 'touch /home/vagrant/kept-across-stop');
  // A PersistentVolume's file, and one in /tmp beside it: the boot empties /tmp (as on Ubuntu), not the volumes.
  const { provisioner } = boxFacts().volumes;
  await ssh(log, `sudo sh -c 'echo kept > ${provisioner}/e2e-volume && touch /tmp/e2e-plain-tmp'`);
  await runLogged(log, ['node', bootstrapCli, 'stop', '--dir', instance], vmEnv);
  // The Vagrantfile's trigger ran the box's ordered stop before the halt (this box runs no platform).
  if (!readFileSync(log, 'utf8').includes('[airy] stop: no platform is running')) throw new Error('the halt did not run airy-lifecycle stop first');
  const stopped = await status(log);
  if (stopped.vm !== 'shutoff') throw new Error(`after stop, airy-bootstrap status says the VM is ${stopped.vm}`);
  // start waits for the platform; this offline box has none, so the wait runs out and names every component
  // (15 seconds: a round of every probe, then the deadline).
  const start = await $({ ...inVm, nothrow: true })`node ${bootstrapCli} start --dir ${instance} --force --wait 15s >>${log} 2>&1`;
  vmChanged();
  const said = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('not ready after 15 s')).join('\n');
  if (start.exitCode !== 1 || !PROBES.every((c) => said.includes(c))) {
    throw new Error(`start should fail (exit 1) naming each component not ready; exit ${start.exitCode}: ${said}`);
  }
  const started = await status(log);
  if (started.vm !== 'running') throw new Error(`after start, airy-bootstrap status says the VM is ${started.vm}`);
  if (started.components.map((c) => c.name).join() !== PROBES.join() || started.components.some((c) => c.ready || !c.detail)) {
    throw new Error(`status should list ${PROBES.join(', ')}, none ready, each with why: ${JSON.stringify(started.components)}`);
  }
  await ssh(log, 'test -f /home/vagrant/kept-across-stop');
  if ((await ssh(log, `cat ${provisioner}/e2e-volume`)) !== 'kept') throw new Error('a PersistentVolume’s file did not survive stop and start');
  if ((await ssh(log, 'test -e /tmp/e2e-plain-tmp && echo there || echo gone')) !== 'gone') throw new Error('/tmp was not emptied at boot: the volume test would prove nothing');
}

/**
 * The delta over HTTP: 0.0.2 from s3rver into the folder that holds 0.0.1 (the first download), fetching only the
 * chunks 0.0.1 does not have; the same download() the upgrade runs with the cache as its seed.
 */
/** Bytes of a figure as formatBytes prints it (`1.5 MiB`). */
function bytesOf(figure: string): number {
  const [value, unit] = figure.split(' ');
  const power = ['B', 'KiB', 'MiB', 'GiB', 'TiB'].indexOf(unit ?? '');
  if (power < 0) throw new Error(`not a size: ${figure}`);
  return Number(value) * 1024 ** power;
}

async function deltaDownload(log: string) {
  const target = join(dir, 'download', `box-${nextVersion}.box`);
  await runLogged(log, ['node', bootstrapCli, 'download', '--catalog', catalogUrl(), ...trusted(), '--box-version', nextVersion, '--provider', 'libvirt', '--out', target]);
  expectVerified(log);
  const said = readFileSync(log, 'utf8');
  const m = /delta: fetched ([\d.]+ \S+) of ([\d.]+ \S+);/.exec(said);
  if (!m) throw new Error(`the download of ${nextVersion} did not use the delta: ${said.split('\n').filter((l) => l.startsWith('delta')).join(' | ')}`);
  // Random data does not compress and no older box holds it: a delta that fetched less did not see the change.
  if (bytesOf(m[1] as string) < CHANGE_BYTES) throw new Error(`the delta fetched ${m[1]}, less than the ${CHANGE_BYTES / 2 ** 20} MiB change: the two boxes do not differ by it`);
  const manifest = parseContentManifest(readFileSync(join(nextOut, 'box.json'), 'utf8'), 'box.json');
  if (createHash('sha256').update(readFileSync(target)).digest('hex') !== manifest.sha256) throw new Error('the delta gave another file');
  runner.figure(`delta download ${version} → ${nextVersion}: fetched ${m[1]} of ${m[2]} (the change: ${CHANGE_BYTES / 2 ** 20} MiB of random data)`);
}

async function upgrade(log: string) {
  // No flag: the instance verifies against the root it was made with.
  await runLogged(log, ['node', bootstrapCli, 'upgrade', '--dir', instance, '--yes', '--force', '--wait', '0'], vmEnv);
  expectVerified(log);
  vmChanged();
  // The new box came as a delta: from the old box in the cache, only the chunks it lacks (the folder catalog's
  // box is read where it lies, as from a team's share).
  const delta = /delta: fetched ([\d.]+ \S+) of ([\d.]+ \S+);/.exec(readFileSync(log, 'utf8'));
  if (!delta) throw new Error(`the upgrade did not download a delta: ${readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('delta')).join(' | ') || 'nothing said'}`);
  if (bytesOf(delta[1] as string) < CHANGE_BYTES) throw new Error(`the upgrade's delta read ${delta[1]}, less than the ${CHANGE_BYTES / 2 ** 20} MiB change`);
  runner.figure(`upgrade ${version} → ${nextVersion}: read ${delta[1]} of ${delta[2]} from the catalog; the rest came from the old box in the cache`);
  // This box has no platform, so there is no database to carry over, and the upgrade says so before it starts.
  if (!readFileSync(log, 'utf8').includes('the database cannot be carried over: PostgreSQL is not ready')) throw new Error('upgrade did not say the database is not carried over');
  const inside = parseContentManifest(await ssh(log, 'cat /opt/airy/box.json'), 'box.json in the VM');
  if (inside.version !== nextVersion) throw new Error(`after upgrade the VM runs box ${inside.version}`);
  // The new box is the one with the known change in it.
  const changed = (await ssh(log, 'stat -c %s /var/lib/airy-e2e-change.bin')).trim();
  if (changed !== String(CHANGE_BYTES)) throw new Error(`after upgrade the VM's /var/lib/airy-e2e-change.bin is ${changed || 'missing'}, not ${CHANGE_BYTES} bytes`);
  if ((await status(log)).version !== nextVersion) throw new Error('airy-bootstrap status does not say the new version');
  const boxes = (await $(inVm)`vagrant box list`).stdout;
  if (!boxes.includes(nextVersion) || boxes.includes(version)) throw new Error(`vagrant box list after upgrade: ${boxes}`);
  const volumes = (await $`virsh -c qemu:///system vol-list default`.nothrow()).stdout;
  if (volumes.includes(`_${version}_`)) throw new Error(`the old box's libvirt volume stays: ${volumes}`);
  const cached = readdirSync(join(dir, 'cache-vm', 'boxes')).filter((f) => f.endsWith('.box'));
  if (cached.length !== 1) throw new Error(`the cache should hold the new box only: ${cached.join(', ')}`);
  const again = await $(inVm)`node ${bootstrapCli} upgrade --dir ${instance} --yes 2>&1`;
  if (!again.stdout.includes(`already on the newest version, ${nextVersion}`)) throw new Error(`a second upgrade says: ${again.stdout}`);
}

async function statusAndDestroy(log: string) {
  const now = await status(log);
  if (now.vm !== 'running') throw new Error(`airy-bootstrap status says the VM is ${now.vm}`);
  await destroyInstance(instance, log, common.slice(2), vmEnv);
  const domains = (await $`virsh -c qemu:///system list --all --name`).stdout.trim();
  const volumes = (await $`virsh -c qemu:///system vol-list default`.nothrow()).stdout.split('\n').slice(2).join('\n');
  const boxes = (await $({ env: { ...process.env, ...vmEnv } })`vagrant box list`).stdout;
  if (domains) throw new Error(`domains left behind: ${domains}`);
  if (/airy/.test(volumes)) throw new Error(`volumes left behind: ${volumes}`);
  if (/airy\/core/.test(boxes)) throw new Error('the box is still in Vagrant');
}

const vm = Boolean(argv.vm);
/** Why the VM's steps do not run in this run (ci.sh says why it left --vm out). */
const noVm = vm ? undefined : 'run without --vm (see what ci.sh printed)';
const steps: Step[] = argv['base-only']
  ? [{ name: 'base image', run: baseImage }]
  : [
      { name: 'base image', run: baseImage },
      vm ? { name: `box builds ${version} and ${nextVersion}`, run: boxBuilds } : { name: `box build ${version}`, run: boxBuild },
      { name: 'keys init', run: keysInit },
      { name: 'publish', run: publishToS3 },
      { name: 'publish to a folder', run: (log) => publishToFolder(log) },
      { name: 'bootstrap download', run: bootstrapDownload },
      { name: 'vagrant box add', run: vagrantBoxAdd },
      { name: 'box contents', run: boxContents },
      { name: 'bootstrap up', run: bootstrapUp, skip: noVm },
      { name: 'checks in the VM', run: checksInVm, skip: noVm },
      { name: 'streams through vagrant ssh', run: streamsThroughVagrantSsh, skip: noVm },
      { name: 'in-cluster tunnel token', run: inClusterTunnelToken, skip: noVm },
      { name: 'kubeconfig of an offline box', run: kubeconfigOfAnOfflineBox, skip: noVm },
      { name: 'network and volumes at first boot', run: networkAndVolumesAtFirstBoot, skip: noVm },
      { name: 'stop and start', run: stopAndStart, skip: noVm },
      { name: `publish ${nextVersion} to the folder`, run: (log) => publishToFolder(log, nextOut), skip: noVm },
      { name: `publish ${nextVersion}`, run: (log) => publishToS3Bucket(log, nextOut), skip: noVm },
      { name: 'delta download', run: deltaDownload, skip: noVm },
      { name: 'upgrade', run: upgrade, skip: noVm },
      { name: 'status and destroy', run: statusAndDestroy, skip: noVm },
    ];
if (!argv.keep && !argv['base-only']) {
  // The boxes the README's commands left in the workspace (hundreds of MiB each) go with the rest.
  runner.onCleanup('remove the boxes', async () => {
    for (const left of [join(dir, 'unpacked'), out, join(repo, 'out/boxes')]) rmSync(left, { recursive: true, force: true });
  });
}
await runner.run(steps);
process.exitCode = (await runner.finish()) ? 0 : 1;
