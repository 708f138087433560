#!/usr/bin/env tsx
/**
 * Benchmark: an upgrade that downloads only what changed. Two consecutive boxes, made as the box build makes them (a
 * qcow2 disk from `qemu-img convert`, Vagrant's tar, the resynchronising gzip of src/box-file.ts), the second with a
 * known part of the disk's content replaced (2%, 5%, 20%, and 100%: unrelated boxes). On the emulated link of
 * bench:download (48 MiB/s in total, 12 per connection, paced on loopback), side by side, from an older box here:
 * our delta (`airy-bootstrap download`, the chunk index beside the box, the older box's kept beside it as its own
 * download keeps it), a whole download (`--no-delta`), zsync
 * (`zsyncmake` on the new box, `zsync -i old`) and casync (`casync make`, `casync extract --seed old`), each over
 * the same server. Printed: bytes transferred, seconds, and the new box's size; and the first download's size
 * against gzip -6 (what Packer wrote before).
 *
 * Goals (the issue's): at 5% changed ours transfers at most 8% of the box and no more than zsync, and finishes before
 * both peers; at 100% no slower than a whole download; the first download no bigger than gzip -6's.
 *
 * Usage: npx projen bench:delta   (BENCH_DISK_MIB: the disk's size, default 256; BENCH_RUNS: runs of each tool, the
 * median reported, default 3; BENCH_BOXES=OLD.box:NEW.box adds
 * a row for two real boxes, e.g. the e2e's 0.0.1 and 0.0.2 kept with `tsx tools/e2e/run.ts --keep`)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRelease, BOX_NAME, chunkIndexName, emptyCatalog, indexFile, stringifyCatalog, stringifyChunkIndex } from '@airy/box-catalog';
import { resyncBox } from '../../packages/box-builder/src/box-file.ts';
import { startPaced } from '../testing/paced.ts';
import { measuredRun, printTable, type Row } from './table.ts';

const MiB = 2 ** 20;
const DISK = Number(process.env.BENCH_DISK_MIB ?? 256) * MiB;
const LINK = { perConnection: 12 * MiB, total: 48 * MiB };
const cli = fileURLToPath(new URL('../../packages/bootstrap/lib/cli.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-bench-delta-'));

/** A disk's content, the same for every run: OS-like text (compressible), with incompressible image layers. */
function disk(seed: string): Buffer {
  const out = Buffer.alloc(DISK);
  for (let at = 0, n = 0; at < DISK; n++) {
    const h = createHash('sha256').update(`${seed}:${n}`).digest();
    // One block in eight is random (a compressed image layer); the rest lines of text.
    at += n % 8 === 0 ? h.copy(out, at) + h.copy(out, at + 32) : out.write(`usr/lib/file-${n} ${h.toString('hex', 0, 12)} ${'a'.repeat(n % 48)}\n`, at);
  }
  return out;
}

/** Replaces `share` of the disk, in one place (as a new image layer is), with other content. */
function changed(base: Buffer, share: number, seed: string): Buffer {
  if (share >= 1) return disk(seed);
  const out = Buffer.from(base);
  const length = Math.round(DISK * share);
  disk(seed).copy(out, Math.round(DISK * 0.4), 0, length);
  return out;
}

/** A box as the build makes it: qcow2 from the raw disk, the tar, then the resynchronising gzip. */
async function box(name: string, raw: Buffer): Promise<string> {
  const dir = join(root, `${name}-src`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'disk.raw'), raw);
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, 'disk.raw'), join(dir, 'box.img')]);
  rmSync(join(dir, 'disk.raw'));
  writeFileSync(join(dir, 'metadata.json'), '{"provider":"libvirt","format":"qcow2","virtual_size":1}\n');
  writeFileSync(join(dir, 'Vagrantfile'), 'Vagrant.configure("2") { |c| }\n');
  const out = join(root, `${name}.box`);
  execFileSync('tar', ['-cf', out, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', dir, 'Vagrantfile', 'box.img', 'metadata.json']);
  rmSync(dir, { recursive: true, force: true });
  await resyncBox(out);
  return out;
}

interface Measured {
  readonly bytes: number;
  readonly seconds: number;
}

/** Runs of each tool; the median is reported (the machine's noise is a tenth of a second). */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/**
 * One tool's runs, each against a fresh server and from a fresh folder (`prepare`): the bytes it made the server
 * send and its wall time, of the run with the median time.
 */
async function measure(
  folder: string,
  prepare: () => string,
  run: (url: string, dir: string) => Promise<{ code: number | null; err: string; ms: number }>,
  check: (dir: string) => boolean,
): Promise<Measured> {
  const runs: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = prepare();
    // The boxes just written are on disk first: a run must not pay for the one before it.
    execFileSync('sync');
    const server = await startPaced({ folder }, LINK);
    try {
      const r = await run(server.url, dir);
      if (r.code !== 0) throw new Error(r.err.trim().split('\n').slice(-3).join(' | '));
      if (!check(dir)) throw new Error('the result is not the new box');
      runs.push({ bytes: server.bytesSent(), seconds: r.ms / 1000 });
    } finally {
      await server.stop();
    }
  }
  return runs.sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)] as Measured;
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

try {
  const base = disk('base');
  const oldBox = await box('old', base);
  // What Packer wrote before: its gzip level 6 of the same tar, approximated by gzip -6 of our tar's content.
  const plainGzip = execFileSync('sh', ['-c', `gzip -dc '${oldBox}' | gzip -6 | wc -c`], { encoding: 'utf8' }).trim();
  const rows: Row[] = [];
  const lines: string[] = [];
  let met = true;
  const [realOld, realNew] = (process.env.BENCH_BOXES ?? '').split(':');
  const cases: { share: number; label: string; make: () => Promise<string>; old: string }[] = [0.02, 0.05, 0.2, 1].map((share) => ({
    share,
    label: share >= 1 ? '100% (unrelated boxes)' : `${share * 100}% changed`,
    make: () => box(`new-${share}`, changed(base, share, `change-${share}`)),
    old: oldBox,
  }));
  if (realOld && realNew) cases.push({ share: -1, label: `two real boxes (${realNew.split('/').at(-1)} from ${realOld.split('/').at(-1)})`, make: async () => realNew, old: realOld });
  for (const { share, label, make, old } of cases) {
    process.stderr.write(`bench:delta: ${label}…\n`);
    const www = join(root, `www-${share}`);
    mkdirSync(www, { recursive: true });
    const newBox = await make();
    const name = 'airy-core-2.0.0-libvirt.box';
    const served = join(www, name);
    execFileSync('cp', [newBox, served]);
    const size = statSync(served).size;
    const sha256 = sha256Of(served);
    writeFileSync(join(www, chunkIndexName(name)), stringifyChunkIndex(await indexFile(served)));
    const oldIndex = stringifyChunkIndex(await indexFile(old));
    execFileSync('zsyncmake', ['-Z', '-u', name, '-o', join(www, `${name}.zsync`), served], { cwd: www, stdio: 'ignore' });
    execFileSync('casync', ['make', `--store=${join(www, 'store.castr')}`, join(www, `${name}.caibx`), served], { stdio: 'ignore' });
    // A catalog per server URL: written when the server's port is known.
    const catalogFor = (url: string, dir: string) => {
      const entry = { name: 'libvirt', url: `${url}/${name}`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size, chunks_url: `${url}/${chunkIndexName(name)}` } as const;
      const file = join(dir, 'metadata.json');
      writeFileSync(file, stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '2.0.0', entry).catalog));
      return `file://${file}`;
    };
    /** A folder holding the older box, as bootstrap's cache or the folder of --out does. */
    const here = (tool: string) => {
      const dir = join(root, `${tool}-${share}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      execFileSync('cp', [old, join(dir, 'old.box')]);
      // Ours: the older box's index beside it, as its download kept it (a box that came otherwise is cut anew).
      if (tool === 'ours') writeFileSync(chunkIndexName(join(dir, 'old.box')), oldIndex);
      return dir;
    };
    const result: Record<string, Measured> = {};
    for (const [tool, args] of [['ours', []], ['whole download', ['--no-delta']]] as const) {
      result[tool] = await measure(
        www,
        () => here(tool.replace(' ', '-')),
        (url, dir) => measuredRun(process.execPath, [cli, 'download', '--catalog', catalogFor(url, dir), '--allow-unsigned', '--provider', 'libvirt', '--architecture', 'amd64', '--out', join(dir, 'new.box'), ...args]),
        (dir) => sha256Of(join(dir, 'new.box')) === sha256,
      );
    }
    result.zsync = await measure(
      www,
      () => here('zsync'),
      (url, dir) => measuredRun('zsync', ['-q', '-i', join(dir, 'old.box'), '-o', join(dir, 'new.box'), `${url}/${name}.zsync`]),
      (dir) => sha256Of(join(dir, 'new.box')) === sha256,
    );
    result.casync = await measure(
      www,
      () => here('casync'),
      (url, dir) => measuredRun('casync', ['extract', `--store=${url}/store.castr`, `--seed=${join(dir, 'old.box')}`, `${url}/${name}.caibx`, join(dir, 'new.box')]),
      (dir) => sha256Of(join(dir, 'new.box')) === sha256,
    );
    const ours = result.ours as Measured;
    const [whole, zsync, casync] = [result['whole download'], result.zsync, result.casync] as Measured[];
    const pct = (b: number) => `${((100 * b) / size).toFixed(1)}%`;
    lines.push(
      `| ${label} | ${(size / MiB).toFixed(1)} MiB | ${(ours.bytes / MiB).toFixed(1)} MiB (${pct(ours.bytes)}), ${ours.seconds.toFixed(1)} s | ` +
        `${((whole?.bytes ?? 0) / MiB).toFixed(1)} MiB, ${whole?.seconds.toFixed(1)} s | ${((zsync?.bytes ?? 0) / MiB).toFixed(1)} MiB (${pct(zsync?.bytes ?? 0)}), ${zsync?.seconds.toFixed(1)} s | ` +
        `${((casync?.bytes ?? 0) / MiB).toFixed(1)} MiB (${pct(casync?.bytes ?? 0)}), ${casync?.seconds.toFixed(1)} s |`,
    );
    rows.push({ task: `${label}: seconds, vs zsync`, ours: ours.seconds, peer: zsync?.seconds, unit: 's', lowerIsBetter: true });
    rows.push({ task: `${label}: seconds, vs casync`, ours: ours.seconds, peer: casync?.seconds, unit: 's', lowerIsBetter: true });
    rows.push({ task: `${label}: MiB transferred, vs zsync`, ours: ours.bytes / MiB, peer: (zsync?.bytes ?? 0) / MiB, unit: 'MiB', lowerIsBetter: true });
    if (share === 0.05 && (ours.bytes > 0.08 * size || ours.bytes > (zsync?.bytes ?? 0) || ours.seconds > Math.min(zsync?.seconds ?? 0, casync?.seconds ?? 0))) met = false;
    if (share >= 1 && ours.seconds > (whole?.seconds ?? 0) * 1.05) met = false;
    rmSync(www, { recursive: true, force: true });
  }
  printTable(`delta upgrade: a ${DISK / MiB} MiB disk's box, 48 MiB/s in total and 12 per connection, paced on loopback`, 'peer', rows);
  console.log('\n| change | new box | ours (delta) | whole download | zsync | casync |\n|---|---|---|---|---|---|');
  for (const l of lines) console.log(l);
  const first = statSync(oldBox).size;
  const firstMet = first <= Number(plainGzip);
  console.log(`\nfirst download: ${(first / MiB).toFixed(1)} MiB, gzip -6 of the same tar ${(Number(plainGzip) / MiB).toFixed(1)} MiB: ${firstMet ? 'no bigger' : 'BIGGER'}`);
  console.log(`goals (5%: at most 8% of the box, no more than zsync, faster than both peers; 100%: no slower than a whole download; first download no bigger): ${met && firstMet ? 'met' : 'NOT met'}`);
  process.exitCode = met && firstMet ? 0 : 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
