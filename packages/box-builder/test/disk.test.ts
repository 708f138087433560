/**
 * The build's disk (N2): the box is made small by discarding, never by filling the disk with zeros; the qemu disk
 * passes the discards through; and preflight asks for what the build holds at its fullest.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildBox } from '../src/build.ts';
import { BUILD_DISK_CONTENT, buildPeakBytes } from '../src/preflight.ts';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const scripts = join(repo, 'images', 'scripts');
const work = mkdtempSync(join(tmpdir(), 'airy-disk-'));
const GiB = 2 ** 30;

/** Stand-ins that record `NAME ARGS` into `calls`; `fstrim` answers as `fstrimBody` says. */
function standIns(calls: string, fstrimBody: string): string {
  const bin = mkdtempSync(join(work, 'bin-'));
  for (const [tool, body] of Object.entries({ dd: 'exit 0', fstrim: fstrimBody, sync: 'exit 0', 'apt-get': 'exit 0' })) {
    writeFileSync(join(bin, tool), `#!/bin/bash\necho "${tool} $*" >> '${calls}'\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

function fakeRoot(name: string): string {
  const root = join(work, name);
  for (const dir of ['var/cache/apt/archives/partial', 'var/lib/apt/lists', 'var/log/journal', 'tmp/airy-payload', 'etc']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'var/cache/apt/archives/containerd_1.7_amd64.deb'), 'x'.repeat(1000));
  writeFileSync(join(root, 'var/cache/apt/archives/lock'), '');
  writeFileSync(join(root, 'var/cache/apt/pkgcache.bin'), 'x');
  writeFileSync(join(root, 'var/lib/apt/lists/archive.ubuntu.com_Packages'), 'x');
  writeFileSync(join(root, 'var/log/syslog'), 'a log line\n');
  writeFileSync(join(root, 'var/log/journal/system.journal'), 'journal');
  writeFileSync(join(root, 'tmp/airy-payload/airy.env'), 'X=1\n');
  writeFileSync(join(root, 'etc/hostname'), 'airy-core\n');
  return root;
}

function minimize(root: string, fstrimBody: string) {
  const calls = join(work, `${root.split('/').pop()}-calls`);
  const payload = join(work, 'payload');
  mkdirSync(join(payload, 'scripts'), { recursive: true });
  copyFileSync(join(scripts, 'lib.sh'), join(payload, 'scripts', 'lib.sh'));
  const bin = standIns(calls, fstrimBody);
  const out = spawnSync('bash', [join(scripts, 'minimize.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, AIRY_PAYLOAD: payload, AIRY_ROOT: root }, encoding: 'utf8' });
  return { ...out, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').map((l) => l.trim()) : [] };
}

test('the box is made small by discarding the free blocks, never by filling the disk with zeros', () => {
  const root = fakeRoot('root');
  const out = minimize(root, 'echo "/: 31.2 GiB (33500000000 bytes) trimmed"');
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.equal(out.calls, ['sync', `fstrim --verbose ${root}`], 'no dd, and fstrim on the root it was given');
  assert.match(out.stdout, /minimize: \/: 31\.2 GiB .* trimmed/);
  assert.equal(readdirSync(join(root, 'var/cache/apt/archives')).sort(), ['lock', 'partial'], 'the .deb files gone, apt’s lock kept');
  assert.not.ok(existsSync(join(root, 'var/cache/apt/pkgcache.bin')));
  assert.equal(readdirSync(join(root, 'var/lib/apt/lists')), []);
  assert.not.ok(existsSync(join(root, 'tmp/airy-payload')), 'the payload removed');
  assert.is(statSync(join(root, 'var/log/syslog')).size, 0, 'logs emptied, kept');
  assert.is(statSync(join(root, 'var/log/journal/system.journal')).size, 0);
  assert.is(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'airy-core\n', 'nothing else touched');
  // No build script fills the disk (comments aside): a zero-fill would grow the qcow2 to its virtual size.
  for (const file of readdirSync(scripts)) {
    const code = readFileSync(join(scripts, file), 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
    assert.not.match(code, /\/dev\/zero/, `${file} zero-fills`);
  }
});

test('a disk that does not pass discards: said in one line, and the build goes on', () => {
  const root = fakeRoot('no-discard');
  const out = minimize(root, 'echo "fstrim: /: the discard operation is not supported" >&2; exit 1');
  assert.is(out.status, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /minimize: fstrim could not discard the free blocks \(fstrim: \/: the discard operation is not supported\): the box keeps them and is larger/);
});

test('the build runs minimize.sh last, and its qemu disk turns discards and zeros into holes', () => {
  const build = readFileSync(join(repo, 'images', 'airy-core', 'build.pkr.hcl'), 'utf8');
  const listed = [...build.matchAll(/\$\{var\.scripts_dir\}\/([a-z-]+)\.sh/g)].map((m) => m[1]);
  assert.is(listed.at(-1), 'minimize', listed.join(' '));
  assert.is(listed.at(-2), 'cleanup');
  const sources = readFileSync(join(repo, 'images', 'airy-core', 'sources.pkr.hcl'), 'utf8');
  const qemu = sources.slice(sources.indexOf('source "qemu"')).split(/\n}\n/)[0] ?? '';
  assert.match(qemu, /^\s*disk_discard\s*= "unmap"$/m);
  assert.match(qemu, /^\s*disk_detect_zeroes\s*= "unmap"$/m);
});

test('preflight asks for the build’s peak: the provisioned disk beside its compacted copy, and room to spare', () => {
  assert.is(buildPeakBytes(false), 2 * BUILD_DISK_CONTENT.online + GiB);
  assert.is(buildPeakBytes(true), 2 * BUILD_DISK_CONTENT.offline + GiB);
  // The old ask (20 GiB) was below the two copies of an online build's disk.
  assert.ok(buildPeakBytes(false) > 20 * GiB);
});

test('airy-box build’s preflight asks for buildPeakBytes at --out', async () => {
  const out = join(work, 'out');
  const base = join(work, 'base.qcow2');
  writeFileSync(base, 'not really an image');
  const lines: string[] = [];
  await buildBox({
    provider: 'libvirt',
    architecture: 'amd64',
    version: '1.0.0',
    outDir: out,
    accelerator: 'tcg',
    baseImage: base,
    skipDownloads: false,
    restrictNetwork: false,
    cpus: 1,
    memory: 512,
    diskSize: '1024M',
    sshKey: join(work, 'no-such-key'),
    validateOnly: true,
    log: (line) => lines.push(line),
  }).catch(() => undefined);
  const disk = lines.find((l) => / disk: /.test(l)) ?? '';
  assert.match(disk, new RegExp(`${(buildPeakBytes(false) / GiB).toFixed(1)} GiB needed at the build's peak`), lines.join('\n'));
});

test.run();
