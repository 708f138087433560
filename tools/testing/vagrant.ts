/** Vagrant for tests: whether it is usable here, a tiny but well-formed libvirt box, and a non-blocking runner. */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';

const env = (home: string) => ({ ...process.env, VAGRANT_HOME: home, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_DEFAULT_PROVIDER: 'libvirt' });

/** Vagrant with vagrant-libvirt and qemu-img are installed; otherwise a reason to print. */
export function vagrantReady(): { ready: boolean; reason: string } {
  if (spawnSync('vagrant', ['--version']).status !== 0) return { ready: false, reason: 'vagrant is not installed' };
  const plugins = spawnSync('vagrant', ['plugin', 'list'], { encoding: 'utf8', env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' } });
  if (!/vagrant-libvirt/.test(plugins.stdout)) return { ready: false, reason: 'the vagrant-libvirt plugin is not installed' };
  if (spawnSync('qemu-img', ['--version']).status !== 0) return { ready: false, reason: 'qemu-img is not installed' };
  return { ready: true, reason: '' };
}

/** A tiny but well-formed libvirt box: metadata.json, Vagrantfile and a qcow2 disk, gzipped. */
export function tinyLibvirtBox(dir: string): Buffer {
  const src = join(dir, 'box-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'metadata.json'), '{"provider":"libvirt","format":"qcow2","virtual_size":1}\n');
  writeFileSync(join(src, 'Vagrantfile'), 'Vagrant.configure("2") do |config|\n  config.vm.provider :libvirt do |l|\n    l.driver = "qemu"\n  end\nend\n');
  if (spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(src, 'box.img'), '16M']).status !== 0) throw new Error('qemu-img failed');
  const tarball = join(dir, 'tiny.box');
  if (spawnSync('tar', ['-czf', tarball, '-C', src, 'metadata.json', 'Vagrantfile', 'box.img']).status !== 0) throw new Error('tar failed');
  return readFileSync(tarball);
}

/**
 * A one-version (1.0.0) catalog of {@link tinyLibvirtBox} in `dir`: box.box and metadata.json. Returns the
 * catalog's file:// URL and the box's sha256.
 */
export function tinyBoxCatalog(dir: string): { url: string; sha256: string } {
  mkdirSync(dir, { recursive: true });
  const box = tinyLibvirtBox(dir);
  writeFileSync(join(dir, 'box.box'), box);
  const sha256 = createHash('sha256').update(box).digest('hex');
  const entry = { name: 'libvirt', url: `file://${dir}/box.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: box.length } as const;
  writeFileSync(join(dir, 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
  return { url: `file://${dir}/metadata.json`, sha256 };
}

/** Runs vagrant with an isolated VAGRANT_HOME, without blocking the event loop (servers may live in this process). */
export function runVagrant(home: string, args: string[], cwd?: string, extraEnv: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
  const child = spawn('vagrant', args, { env: { ...env(home), ...extraEnv }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output })));
}
