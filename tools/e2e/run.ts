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
 * A table of timings ends it.
 *
 * Usage: tools/e2e/ci.sh (as root); this script alone: tsx tools/e2e/run.ts [--base-only | --vm] [--keep].
 * Logs: $E2E_DIR (default /tmp/airy-e2e)/logs.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCatalog, parseContentManifest } from '@airy/box-catalog';
import { boxFacts } from '@airy/manifests';
import { $, argv } from 'zx';
import { S3RVER_CREDENTIALS, startS3 } from '../testing/s3.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** Every readiness probe bootstrap runs, by name: the platform's parts, the app tier and the API. */
const PROBES = ['kafka', 'schema-registry', 'postgres', 'ingress', 'apps', 'api'];
const dir = process.env.E2E_DIR ?? '/tmp/airy-e2e';
const logs = join(dir, 'logs');
mkdirSync(logs, { recursive: true });
const timings: [string, number][] = [];
/** Figures printed after the table (the delta's bytes). */
const figures: string[] = [];
/** The known change between the two boxes the upgrade goes through. */
const CHANGE_BYTES = 4 * 2 ** 20;
const cleanups: (() => Promise<unknown>)[] = [];
const startedAt = Date.now();
$.quiet = true;

/** Runs one step, timing it; on failure prints the step, the tail of its log and where the logs are. */
async function step<T>(name: string, work: (log: string) => Promise<T>): Promise<T> {
  const log = join(logs, `${name.replaceAll(' ', '-')}.log`);
  const started = Date.now();
  process.stderr.write(`e2e: ${name}…\n`);
  try {
    const result = await work(log);
    timings.push([name, (Date.now() - started) / 1000]);
    return result;
  } catch (error) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-15).join('\n') : '';
    process.stderr.write(`e2e: step "${name}" failed: ${(error as Error).message.split('\n')[0]}\n${tail}\nfull logs: ${logs}\n`);
    throw error;
  }
}

/**
 * The README's quick start as the e2e runs it: its three `npx` commands (build, publish to a folder, bootstrap),
 * found by what they start with, so the README cannot drift from what works.
 */
function quickStart(): { build: string; keys: string; publish: string; bootstrap: string } {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /<!-- quick-start -->\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no quick start after <!-- quick-start -->');
  const line = (start: string) => {
    const found = block.split('\n').find((l) => l.startsWith(start));
    if (!found) throw new Error(`the README's quick start has no line starting with ${start}`);
    return found;
  };
  return { build: line('npx nx run box-builder:build'), keys: line('npx airy-box keys init '), publish: line('npx airy-box publish '), bootstrap: line('npx airy-bootstrap ') };
}

/** Shell words, single-quoted (paths and flags of the e2e's own). */
const words = (args: readonly string[]) => args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');

/**
 * Runs a command with its output into `log`, each line stamped with the seconds since it started (`[  12.3] …`), so
 * that a slow step shows where its time went.
 */
const run = (log: string, command: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<void>((resolve, reject) => {
    const out = createWriteStream(log);
    const started = Date.now();
    const child = spawn(command[0] as string, command.slice(1), { env: { ...process.env, ...env }, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}] `;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (rest + text).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) out.write(`${stamp()}${line}\n`);
      });
      stream.on('end', () => rest && out.write(`${stamp()}${rest}\n`));
    }
    child.on('error', reject);
    child.on('close', (code) => out.end(() => (code === 0 ? resolve() : reject(new Error(`${command.slice(0, 3).join(' ')} failed`)))));
  });

try {
  const script = join(repo, 'tools/e2e/base-image.sh');
  const key = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  const base = join(dir, 'cache', `base-${key}.qcow2`);
  await step('base image', async (log) => {
    if (existsSync(base)) return;
    mkdirSync(join(dir, 'cache'), { recursive: true });
    await run(log, ['bash', script, base]);
  });

  // The base image needs Debian's packages: ci.sh makes it outside the network namespace (--base-only) first.
  if (argv['base-only']) process.exit(0);

  const readme = quickStart();
  const buildArgs = (version: string) => [
    '--provider', 'libvirt', '--box-version', version,
    '--base-image', base, '--skip-downloads', '--restrict-network', '--accelerator', 'tcg', '--cpus', '2', '--memory', '2048', '--disk-size', '3G',
  ];
  // The first box through the README's command (`nx run box-builder:build`, the design card's entry point) into
  // its default folder, not cached (NX_SKIP_NX_CACHE: the box is no output to keep in Nx's cache).
  const out = join(repo, 'packages/box-builder/dist');
  const buildBox = (version: string) => {
    rmSync(out, { recursive: true, force: true });
    return step(`box build ${version}`, (log) => run(log, ['bash', '-c', `${readme.build} --outputStyle=static -- ${words(buildArgs(version))}`], { NX_SKIP_NX_CACHE: 'true' }));
  };
  const version = '0.0.1';
  const nextOut = join(dir, 'build-next');
  const nextVersion = '0.0.2';
  const first = buildBox(version);
  if (argv.vm) {
    // The upgrade target, built beside the first (both are emulated VMs that wait on each other's CPU less than on
    // their own), by airy-box itself once the first has passed Nx's compile: two Nx runs would compile at once.
    const firstLog = join(logs, `box-build-${version}.log`);
    const compiled = async () => {
      for (;;) {
        if (existsSync(firstLog) && readFileSync(firstLog, 'utf8').includes('phase: build starts')) return;
        if (await Promise.race([first.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 2000))])) return;
      }
    };
    await compiled();
    rmSync(nextOut, { recursive: true, force: true });
    // The upgrade target differs from the first box by a change of known size: CHANGE_BYTES of random data written
    // into the disk by the last provisioning script (before the free space is zeroed), from a copy of images/.
    const nextImages = join(dir, 'images-next');
    rmSync(nextImages, { recursive: true, force: true });
    cpSync(join(repo, 'images'), nextImages, { recursive: true });
    const cleanup = join(nextImages, 'scripts/cleanup.sh');
    writeFileSync(
      cleanup,
      readFileSync(cleanup, 'utf8').replace('# Zero the free space;', `head -c ${CHANGE_BYTES} /dev/urandom > /var/lib/airy-e2e-change.bin # the e2e's known change\n# Zero the free space;`),
    );
    const next = step(`box build ${nextVersion} (beside ${version})`, (log) =>
      run(log, ['node', join(repo, 'packages/box-builder/lib/cli.js'), 'build', ...buildArgs(nextVersion), '--out', nextOut, '--images', nextImages]),
    );
    await Promise.all([first, next]);
  } else await first;

  const s3 = await startS3({ conditional: true });
  cleanups.push(() => s3.stop());
  const s3env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
  const catalogUrl = `${s3.endpoint}/${s3.bucket}/e2e/metadata.json`;
  // The README's keys (out/keys) sign both catalogs; every read below verifies against their root.
  rmSync(join(repo, 'out/keys'), { recursive: true, force: true });
  await step('keys init', (log) => run(log, ['bash', '-c', readme.keys]));
  // The downloads' trusted metadata in the e2e's folder, not in root's own ~/.airy/cache.
  const trusted = ['--trusted-root', join(repo, 'out/keys/root.json'), '--cache', join(dir, 'download-tuf')];
  const publish = (from: string, name: string) =>
    step(name, (log) =>
      run(
        log,
        ['node', join(repo, 'packages/box-builder/lib/cli.js'), 'publish', '--from', from, '--to', `s3://${s3.bucket}/e2e`, '--endpoint', s3.endpoint, '--keys', join(repo, 'out/keys')],
        s3env,
      ),
    );
  /** Fails the step unless its log shows the catalog read through TUF. */
  const verified = (log: string) => {
    if (!readFileSync(log, 'utf8').includes('catalog verified (TUF)')) throw new Error('the catalog was not verified (no "catalog verified (TUF)" line)');
  };
  await publish(out, 'publish');
  // The README's folder catalog, which the quick start boots from.
  rmSync(join(repo, 'out/boxes'), { recursive: true, force: true });
  const publishToFolder = (from: string, name: string) => step(name, (log) => run(log, ['bash', '-c', `${readme.publish} --from ${words([from])}`]));
  await publishToFolder(out, 'publish to a folder');

  const downloaded = join(dir, 'download', 'box.box');
  rmSync(join(dir, 'download'), { recursive: true, force: true });
  await step('bootstrap download', async (log) => {
    await run(log, ['node', join(repo, 'packages/bootstrap/lib/cli.js'), 'download', '--catalog', catalogUrl, ...trusted, '--box-version', version, '--provider', 'libvirt', '--out', downloaded]);
    verified(log);
  });

  const home = join(dir, 'vagrant-home');
  rmSync(home, { recursive: true, force: true });
  await step('vagrant box add', (log) => run(log, ['vagrant', 'box', 'add', '--provider', 'libvirt', catalogUrl], { VAGRANT_HOME: home, VAGRANT_CHECKPOINT_DISABLE: '1' }));

  await step('box contents', async (log) => {
    const catalog = parseCatalog(await (await fetch(catalogUrl)).text(), catalogUrl);
    const entry = catalog.versions.find((v) => v.version === version)?.providers[0];
    const manifest = parseContentManifest(readFileSync(join(out, 'box.json'), 'utf8'), 'box.json');
    if (entry?.checksum !== manifest.sha256) throw new Error('the catalog entry does not match box.json');
    const unpacked = join(dir, 'unpacked');
    rmSync(unpacked, { recursive: true, force: true });
    mkdirSync(unpacked);
    await run(log, ['tar', '-xzf', downloaded, '-C', unpacked]);
    await run(log, ['qemu-img', 'convert', '-O', 'raw', join(unpacked, 'box.img'), join(unpacked, 'disk.raw')]);
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
  });

  if (argv.vm) {
    // Inside the network namespace that ci.sh made, with its own libvirtd: boot the box the way users do.
    const bootstrap = join(repo, 'packages/bootstrap/lib/cli.js');
    const instance = join(dir, 'instance');
    const vmEnv = { VAGRANT_HOME: join(dir, 'vagrant-home-vm'), VAGRANT_CHECKPOINT_DISABLE: '1' };
    rmSync(instance, { recursive: true, force: true });
    rmSync(vmEnv.VAGRANT_HOME, { recursive: true, force: true });
    const common = ['--dir', instance, '--cache', join(dir, 'cache-vm')];
    // The README's command, on the folder catalog, with the e2e's flags: no KVM here, the private network as users
    // have it (its NIC must take no lease and no default route), the host's /etc/hosts left alone, a smaller VM,
    // and no wait for a platform this offline box does not have.
    const upFlags = ['--box-version', version, '--libvirt-driver', 'qemu', '--no-hosts', '--cpus', '2', '--memory', '2048', '--force', '--yes', '--wait', '0', ...common];
    await step('bootstrap up', async (log) => {
      await run(log, ['bash', '-c', `${readme.bootstrap} ${words(upFlags)}`], vmEnv);
      verified(log);
    });
    const inVm = { cwd: instance, env: { ...process.env, ...vmEnv } };
    // The e2e's own looks into the VM go over OpenSSH with the config Vagrant gives (one `vagrant ssh-config` per VM
    // it makes: not Vagrant's start-up per command); `vmChanged()` after a restart or an upgrade (a new address).
    let sshConfig: string | undefined;
    const vmChanged = () => {
      sshConfig = undefined;
    };
    const ssh = async (log: string, command: string) => {
      if (!sshConfig) {
        const config = join(dir, 'ssh-config');
        writeFileSync(config, (await $(inVm)`vagrant ssh-config 2>>${log}`).stdout);
        sshConfig = config;
      }
      return (await $`ssh -F ${sshConfig} -o LogLevel=ERROR default ${command} 2>>${log}`).stdout.trim();
    };
    const status = async (log: string) =>
      JSON.parse((await $(inVm)`node ${bootstrap} status --json --dir ${instance} 2>>${log}`).stdout) as {
        vm: string;
        version: string;
        components: { name: string; ready: boolean; detail: string }[];
      };
    await step('checks in the VM', async (log) => {
      await ssh(log, 'test -f /opt/airy/deployments/kustomization.yaml && test -f /opt/airy/deployments/kafka.yaml');
      // The minimal base has no D-Bus for systemctl to ask: the unit's wants-link is what "enabled" means.
      await ssh(log, 'test -f /etc/systemd/system/airy-core.service && test -L /etc/systemd/system/multi-user.target.wants/airy-core.service && test -x /usr/local/bin/provisioning.sh');
      const inside = parseContentManifest(await ssh(log, 'cat /opt/airy/box.json'), 'box.json in the VM');
      const manifest = parseContentManifest(readFileSync(join(out, 'box.json'), 'utf8'), 'box.json');
      if (inside.manifestsHash !== manifest.manifestsHash) throw new Error('the VM holds other manifests than the catalog entry says');
    });
    await step('streams through vagrant ssh', async () => {
      // What backup, restore and the upgrade's carry-over use: a file into a command in the VM, a command's output into a file.
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
    });
    await step('in-cluster tunnel token', async (log) => {
      // The hand-over a user's --in-cluster-tunnel makes: the token on stdin into a root-only file, provisioning
      // restarted (the offline box has no Kubernetes to make the Secret in; the file is what the box reads).
      const token = `e2e_${randomBytes(16).toString('hex')}`;
      await run(log, ['node', bootstrap, 'cluster-tunnel', '--dir', instance], { ...vmEnv, NGROK_AUTHTOKEN: token });
      const tokenFile = boxFacts().ngrok.tokenFile;
      const mode = await ssh(log, `sudo stat -c %a ${tokenFile} && sudo stat -c %a /etc/airy`);
      if (mode !== '600\n700') throw new Error(`the token file and folder are ${mode.replace('\n', ' and ')}, not 600 and 700`);
      if ((await ssh(log, `sudo cat ${tokenFile}`)) !== token) throw new Error('the token in the VM is not the one handed over');
      if (readFileSync(log, 'utf8').includes(token)) throw new Error('the token appears in airy-bootstrap’s output');
      if (readdirSync(instance).some((f) => f.startsWith('.ngrok-token-'))) throw new Error('the token was left beside the instance');
    });
    await step('kubeconfig of an offline box', async (log) => {
      // This box has no Kubernetes (built with --skip-downloads): the command must say so in one line, write nothing.
      const out = await $({ ...inVm, nothrow: true })`node ${bootstrap} kubeconfig --dir ${instance} 2>${log}`;
      const err = readFileSync(log, 'utf8').trim();
      if (out.exitCode !== 1 || !/could not read the cluster's kubeconfig in the VM/.test(err) || err.split('\n').length !== 1) {
        throw new Error(`kubeconfig on a box without Kubernetes: exit ${out.exitCode}, ${err}`);
      }
      if (existsSync(join(instance, 'kube.conf'))) throw new Error('a kube.conf was written');
    });
    await step('network and volumes at first boot', async (log) => {
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
    });
    await step('stop and start', async (log) => {
      await ssh(log, 'touch /home/vagrant/kept-across-stop');
      // A PersistentVolume's file, and one in /tmp beside it: the boot empties /tmp (as on Ubuntu), not the volumes.
      const { provisioner } = boxFacts().volumes;
      await ssh(log, `sudo sh -c 'echo kept > ${provisioner}/e2e-volume && touch /tmp/e2e-plain-tmp'`);
      await run(log, ['node', bootstrap, 'stop', '--dir', instance], vmEnv);
      // The Vagrantfile's trigger ran the box's ordered stop before the halt (this box runs no platform).
      if (!readFileSync(log, 'utf8').includes('[airy] stop: no platform is running')) throw new Error('the halt did not run airy-lifecycle stop first');
      const stopped = await status(log);
      if (stopped.vm !== 'shutoff') throw new Error(`after stop, airy-bootstrap status says the VM is ${stopped.vm}`);
      // start waits for the platform; this offline box has none, so the wait runs out and names every component
      // (15 seconds: a round of every probe, then the deadline).
      const start = await $({ ...inVm, nothrow: true })`node ${bootstrap} start --dir ${instance} --force --wait 15s >>${log} 2>&1`;
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
    });
    await publishToFolder(nextOut, `publish ${nextVersion} to the folder`);
    // The delta over HTTP: 0.0.2 from s3rver into the folder that holds 0.0.1 (the first download), fetching only
    // the chunks 0.0.1 does not have; the same download() the upgrade below runs with the cache as its seed.
    await publish(nextOut, `publish ${nextVersion}`);
    await step('delta download', async (log) => {
      const target = join(dir, 'download', `box-${nextVersion}.box`);
      await run(log, ['node', bootstrap, 'download', '--catalog', catalogUrl, ...trusted, '--box-version', nextVersion, '--provider', 'libvirt', '--out', target]);
      verified(log);
      const said = readFileSync(log, 'utf8');
      const m = /delta: fetched ([\d.]+ \S+) of ([\d.]+ \S+);/.exec(said);
      if (!m) throw new Error(`the download of ${nextVersion} did not use the delta: ${said.split('\n').filter((l) => l.startsWith('delta')).join(' | ')}`);
      const manifest = parseContentManifest(readFileSync(join(nextOut, 'box.json'), 'utf8'), 'box.json');
      if (createHash('sha256').update(readFileSync(target)).digest('hex') !== manifest.sha256) throw new Error('the delta gave another file');
      figures.push(`delta download ${version} → ${nextVersion}: fetched ${m[1]} of ${m[2]} (the change: ${CHANGE_BYTES / 2 ** 20} MiB of random data)`);
    });
    await step('upgrade', async (log) => {
      // No flag: the instance verifies against the root it was made with.
      await run(log, ['node', bootstrap, 'upgrade', '--dir', instance, '--yes', '--force', '--wait', '0'], vmEnv);
      verified(log);
      vmChanged();
      // The new box came as a delta: from the old box in the cache, only the chunks it lacks (the folder catalog's
      // box is read where it lies, as from a team's share).
      const delta = /delta: fetched ([\d.]+ \S+) of ([\d.]+ \S+);/.exec(readFileSync(log, 'utf8'));
      if (!delta) throw new Error(`the upgrade did not download a delta: ${readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('delta')).join(' | ') || 'nothing said'}`);
      figures.push(`upgrade ${version} → ${nextVersion}: read ${delta[1]} of ${delta[2]} from the catalog; the rest came from the old box in the cache`);
      // This box has no platform, so there is no database to carry over, and the upgrade says so before it starts.
      if (!readFileSync(log, 'utf8').includes('the database cannot be carried over: PostgreSQL is not ready')) throw new Error('upgrade did not say the database is not carried over');
      const inside = parseContentManifest(await ssh(log, 'cat /opt/airy/box.json'), 'box.json in the VM');
      if (inside.version !== nextVersion) throw new Error(`after upgrade the VM runs box ${inside.version}`);
      if ((await status(log)).version !== nextVersion) throw new Error('airy-bootstrap status does not say the new version');
      const boxes = (await $(inVm)`vagrant box list`).stdout;
      if (!boxes.includes(nextVersion) || boxes.includes(version)) throw new Error(`vagrant box list after upgrade: ${boxes}`);
      const volumes = (await $`virsh -c qemu:///system vol-list default`.nothrow()).stdout;
      if (volumes.includes(`_${version}_`)) throw new Error(`the old box's libvirt volume stays: ${volumes}`);
      const cached = readdirSync(join(dir, 'cache-vm', 'boxes')).filter((f) => f.endsWith('.box'));
      if (cached.length !== 1) throw new Error(`the cache should hold the new box only: ${cached.join(', ')}`);
      const again = await $(inVm)`node ${bootstrap} upgrade --dir ${instance} --yes 2>&1`;
      if (!again.stdout.includes(`already on the newest version, ${nextVersion}`)) throw new Error(`a second upgrade says: ${again.stdout}`);
    });
    await step('status and destroy', async (log) => {
      const now = await status(log);
      if (now.vm !== 'running') throw new Error(`airy-bootstrap status says the VM is ${now.vm}`);
      await run(log, ['node', bootstrap, 'destroy', '--prune', ...common], vmEnv);
      const domains = (await $`virsh -c qemu:///system list --all --name`).stdout.trim();
      const volumes = (await $`virsh -c qemu:///system vol-list default`.nothrow()).stdout.split('\n').slice(2).join('\n');
      const boxes = (await $({ env: { ...process.env, ...vmEnv } })`vagrant box list`).stdout;
      if (domains) throw new Error(`domains left behind: ${domains}`);
      if (/airy/.test(volumes)) throw new Error(`volumes left behind: ${volumes}`);
      if (/airy\/core/.test(boxes)) throw new Error('the box is still in Vagrant');
    });
  }
} catch {
  process.exitCode = 1;
} finally {
  for (const c of cleanups) await c().catch(() => undefined);
  if (!argv.keep) {
    // The boxes the README's commands left in the workspace (hundreds of MiB each) go with the rest.
    for (const left of [join(dir, 'unpacked'), join(repo, 'packages/box-builder/dist'), join(repo, 'out/boxes')]) rmSync(left, { recursive: true, force: true });
  }
  console.log('\n| step | seconds |\n|---|---|');
  for (const [name, s] of timings) console.log(`| ${name} | ${s.toFixed(1)} |`);
  // Wall time, not the sum: the two box builds overlap.
  console.log(`| total (wall) | ${((Date.now() - startedAt) / 1000).toFixed(1)} |`);
  for (const f of figures) console.log(f);
}
