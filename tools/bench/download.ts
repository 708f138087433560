#!/usr/bin/env tsx
/**
 * Benchmark: download a 1 GiB box from a local S3-compatible server (s3rver), airy-bootstrap's downloader side by
 * side with `curl` (one stream, as Vagrant does) and `aws s3 cp`, on loopback and on an emulated WAN link: a
 * network namespace made here, `tc netem` delay on its loopback, with server and clients inside it. Where the
 * kernel has no netem (or there is no root), the WAN link is the user-space relay of wan-relay.ts instead, and the
 * output says so. Also the cached re-run and the downloader's peak RSS. Then the emulated links (see `links`):
 * a paced range server with a per-connection cap and an optional total cap, against aria2c -x8/-x16 and curl.
 * Run: `npx projen bench:download` (`-- --links-only` for the links alone).
 * Environment: BENCH_SIZE_MIB (1024), BENCH_LINK_MIB (256), BENCH_RUNS (3), BENCH_DELAY_MS (50).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { createReadStream } from 'node:fs';
import { writeBox } from '../../packages/bootstrap/test/helpers.ts';
import { S3RVER_CREDENTIALS, startS3 } from '../testing/s3.ts';
import { tinyBoxCatalog, vagrantReady } from '../testing/vagrant.ts';
import { measuredRun as timed, printTable, type Row } from './table.ts';
import { startPaced } from '../testing/paced.ts';
import { kernelWindow } from './wan-relay.ts';
import { createHash, randomBytes } from 'node:crypto';

const MiB = 2 ** 20;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 50);
const here = fileURLToPath(import.meta.url);
const cli = fileURLToPath(new URL('../../packages/bootstrap/lib/cli.js', import.meta.url));
const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const relayScript = fileURLToPath(new URL('./wan-relay.ts', import.meta.url));

/** Starts wan-relay.ts in its own process (its own event loop) in front of `port`; returns its port and a stop. */
async function startRelayProcess(port: number): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', relayScript, '--target', `127.0.0.1:${port}`, '--delay', String(DELAY)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { port: (JSON.parse(line.toString()) as { port: number }).port, stop: () => child.kill() };
}

/**
 * Measures every tool on whatever network this process is in (through the relay with `relay`); prints one JSON
 * line of results.
 */
async function measure(label: string, relay: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airy-bench-download-'));
  const s3 = await startS3();
  const link = relay ? await startRelayProcess(Number(new URL(s3.endpoint).port)) : undefined;
  const endpoint = link ? `http://127.0.0.1:${link.port}` : s3.endpoint;
  try {
    const box = join(dir, 'source.box');
    const sha256 = writeBox(box, SIZE);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'box.box', Body: createReadStream(box), ContentLength: SIZE }));
    rmSync(box);
    const url = `${endpoint}/${s3.bucket}/box.box`;
    writeFileSync(
      join(dir, 'metadata.json'),
      stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', { name: 'libvirt', url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: SIZE }).catalog),
    );
    const catalog = `file://${join(dir, 'metadata.json')}`;
    const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
    const ours: number[] = [];
    const curl: number[] = [];
    const awsCli: number[] = [];
    let rss = 0;
    for (let i = 0; i < RUNS; i++) {
      const out = join(dir, `ours-${i}.box`);
      const a = await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--allow-unsigned', '--out', out]);
      if (a.code !== 0) throw new Error(`airy-bootstrap download: ${a.err}`);
      ours.push(SIZE / MiB / (a.ms / 1000));
      rss = Math.max(rss, a.rssMiB);
      rmSync(out, { force: true });
      const b = await timed('curl', ['-sf', '-o', join(dir, 'curl.box'), url]);
      if (b.code !== 0) throw new Error(`curl: ${b.err}`);
      curl.push(SIZE / MiB / (b.ms / 1000));
      rmSync(join(dir, 'curl.box'), { force: true });
      const c = await timed(aws, ['s3', 'cp', '--only-show-errors', '--endpoint-url', endpoint, `s3://${s3.bucket}/box.box`, join(dir, 'aws.box')], env);
      if (c.code !== 0) throw new Error(`aws s3 cp: ${c.err}`);
      awsCli.push(SIZE / MiB / (c.ms / 1000));
      rmSync(join(dir, 'aws.box'), { force: true });
      process.stderr.write(`${label} run ${i + 1}/${RUNS}: ours ${ours.at(-1)?.toFixed(0)}, curl ${curl.at(-1)?.toFixed(0)}, aws ${awsCli.at(-1)?.toFixed(0)} MiB/s\n`);
    }
    // The cached re-run: the verified file is found, nothing is fetched.
    const cachedOut = join(dir, 'cached.box');
    await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--allow-unsigned', '--out', cachedOut]);
    const cached = await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--allow-unsigned', '--out', cachedOut]);
    console.log(JSON.stringify({ label, ours: median(ours), curl: median(curl), aws: median(awsCli), rss, cachedMs: cached.ms }));
  } finally {
    link?.stop();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The cached re-run of the default command: the box is verified in the cache and added to Vagrant, and the run
 * goes through preflight, the catalog, the cache, Vagrant's box list and the Vagrantfile up to `vagrant up`. A
 * `vagrant` first on PATH passes every command to the real one, except `up`: it notes the time and stops there.
 * Returns the median milliseconds from starting the command to reaching `vagrant up`, or why it was not measured.
 */
function defaultCommandRerun(): { ms: number } | { skipped: string } {
  const ready = vagrantReady();
  if (!ready.ready) return { skipped: ready.reason };
  const real = spawnSync('sh', ['-c', 'command -v vagrant'], { encoding: 'utf8' }).stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), 'airy-bench-rerun-'));
  try {
    const catalog = tinyBoxCatalog(join(dir, 'catalog'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'vagrant'), `#!/bin/sh
if [ "$1" = up ]; then date +%s%3N > "$AIRY_BENCH_UP_MARK"; exit 1; fi
exec ${real} "$@"
`);
    chmodSync(join(bin, 'vagrant'), 0o755);
    const mark = join(dir, 'up-reached');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, VAGRANT_HOME: join(dir, 'vagrant-home'), VAGRANT_CHECKPOINT_DISABLE: '1', AIRY_BENCH_UP_MARK: mark };
    const args = [cli, '--catalog', catalog.url, '--allow-unsigned', '--dir', join(dir, 'instance'), '--cache', join(dir, 'cache'), '--provider', 'libvirt', '--force', '--wait', '0'];
    const times: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      rmSync(mark, { force: true });
      const started = Date.now();
      spawnSync(process.execPath, args, { env, stdio: 'ignore' });
      if (!existsSync(mark)) return { skipped: 'the default command did not reach vagrant up' };
      if (i > 0) times.push(Number(readFileSync(mark, 'utf8')) - started); // the first run downloads and adds the box
    }
    return { ms: median(times) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The emulated links of the issue: a per-connection cap, with or without a total cap. Rates in MiB/s. */
const LINKS = [
  { label: '16 MiB/s per connection, no total cap', perConnection: 16 },
  { label: '48 MiB/s in total, 12 per connection', perConnection: 12, total: 48 },
  { label: '6 MiB/s per connection, no total cap', perConnection: 6 },
] as const;

/**
 * Each link emulated by the paced range server on loopback: ours (adaptive), aria2c -x8 -s8 and -x16 -s16 (the
 * best-known parallel downloader, given the same SHA-256 to verify as ours; its unverified figures are shown too)
 * and curl (one stream, as Vagrant does), medians of RUNS. Returns whether the goals were met: at least the best
 * aria2c on every link, and 95% of a total cap.
 */
async function links(): Promise<boolean> {
  const size = Number(process.env.BENCH_LINK_MIB ?? 256) * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'airy-bench-links-'));
  const body = randomBytes(size);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const rows: Row[] = [];
  const notes: string[] = [];
  let met = true;
  let rss = 0;
  try {
    for (const link of LINKS) {
      const server = await startPaced(body, {
        perConnection: link.perConnection * MiB,
        ...('total' in link ? { total: link.total * MiB } : {}),
      });
      const catalog = join(dir, 'metadata.json');
      const entry = { name: 'libvirt', url: server.url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size } as const;
      writeFileSync(catalog, stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
      // aria2c verifies the same SHA-256 as ours (--checksum), so both do the same job; unverified figures are kept too.
      const speeds: Record<string, number[]> = { ours: [], 'aria2c -x8': [], 'aria2c -x16': [], 'aria2c -x8 unverified': [], 'aria2c -x16 unverified': [], curl: [] };
      try {
        for (let i = 0; i < RUNS; i++) {
          const out = join(dir, 'ours.box');
          const a = await timed(process.execPath, [cli, 'download', '--catalog', `file://${catalog}`, '--allow-unsigned', '--out', out, '--provider', 'libvirt', '--architecture', 'amd64']);
          if (a.code !== 0) throw new Error(`airy-bootstrap download: ${a.err}`);
          speeds.ours?.push(size / MiB / (a.ms / 1000));
          rss = Math.max(rss, a.rssMiB);
          for (const f of [out, `${out}.verified`]) rmSync(f, { force: true });
          for (const n of [8, 16]) {
            for (const verified of [true, false]) {
              const check = verified ? [`--checksum=sha-256=${sha256}`] : [];
              const b = await timed('aria2c', [`-x${n}`, `-s${n}`, '-q', '--file-allocation=none', '--allow-overwrite=true', '--auto-file-renaming=false', ...check, '-d', dir, '-o', 'aria.box', server.url]);
              if (b.code !== 0) throw new Error(`aria2c: ${b.err}`);
              speeds[`aria2c -x${n}${verified ? '' : ' unverified'}`]?.push(size / MiB / (b.ms / 1000));
              rmSync(join(dir, 'aria.box'), { force: true });
            }
          }
          const c = await timed('curl', ['-sf', '-o', join(dir, 'curl.box'), server.url]);
          if (c.code !== 0) throw new Error(`curl: ${c.err}`);
          speeds.curl?.push(size / MiB / (c.ms / 1000));
          rmSync(join(dir, 'curl.box'), { force: true });
          process.stderr.write(`${link.label} run ${i + 1}/${RUNS}: ${Object.entries(speeds).map(([k, v]) => `${k} ${v.at(-1)?.toFixed(0)}`).join(', ')} MiB/s\n`);
        }
      } finally {
        await server.stop();
      }
      const m = Object.fromEntries(Object.entries(speeds).map(([k, v]) => [k, median(v)])) as Record<string, number>;
      const ours = m.ours as number;
      const best = Math.max(m['aria2c -x8'] as number, m['aria2c -x16'] as number);
      const cap = 'total' in link ? link.total : undefined;
      const bestPlain = Math.max(m['aria2c -x8 unverified'] as number, m['aria2c -x16 unverified'] as number);
      rows.push({ task: `${link.label}: vs the best aria2c (verifying the SHA-256 too)`, ours, peer: best, unit: 'MiB/s', lowerIsBetter: false });
      rows.push({ task: `${link.label}: vs the best aria2c, unverified`, ours, peer: bestPlain, unit: 'MiB/s', lowerIsBetter: false });
      rows.push({ task: `${link.label}: vs curl (one stream)`, ours, peer: m.curl, unit: 'MiB/s', lowerIsBetter: false });
      notes.push(
        `${link.label}: ours ${ours.toFixed(1)}, aria2c -x8 ${m['aria2c -x8']?.toFixed(1)} (unverified ${m['aria2c -x8 unverified']?.toFixed(1)}), ` +
          `-x16 ${m['aria2c -x16']?.toFixed(1)} (unverified ${m['aria2c -x16 unverified']?.toFixed(1)}), curl ${m.curl?.toFixed(1)} MiB/s` +
          `${cap ? `; ${((ours / cap) * 100).toFixed(0)}% of the ${cap} MiB/s cap` : ''}`,
      );
      if (ours < best || (cap !== undefined && ours < 0.95 * cap)) met = false;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(`emulated links: a ${size / MiB} MiB box from a paced range server on loopback, median of ${RUNS}`, 'peer', rows);
  for (const n of notes) console.log(`- ${n}`);
  console.log(`peak RSS of our downloader on these links: ${rss.toFixed(0)} MiB`);
  console.log(`goal: at least the best aria2c (both verifying) on every link, and 95% of a total cap: ${met ? 'met' : 'MISSED'}`);
  return met && rss * 1.048576 < 150;
}

interface Result {
  label: string;
  ours: number;
  curl: number;
  aws: number;
  rss: number;
  cachedMs: number;
}

if (process.argv.includes('--links-only')) {
  process.exitCode = (await links()) ? 0 : 1;
} else if (process.argv.includes('--rerun-only')) {
  console.log(JSON.stringify(defaultCommandRerun()));
} else if (process.argv.includes('--inside')) {
  await measure(process.argv[process.argv.indexOf('--inside') + 1] ?? 'inside', process.argv.includes('--relay'));
} else {
  const run = (prefix: string[], label: string, relay = false): Result => {
    const args = [...prefix.slice(1), process.execPath, '--import', 'tsx', here, '--inside', label, ...(relay ? ['--relay'] : [])];
    const out = spawnSync(prefix[0] ?? process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 10 * MiB,
    });
    const line = out.stdout.trim().split('\n').at(-1) ?? '';
    if (out.status !== 0 || !line.startsWith('{')) throw new Error(`${label} measurement failed (exit ${out.status})`);
    return JSON.parse(line) as Result;
  };
  const results: Result[] = [run(['env'], 'loopback')];
  const ns = `airy-bench-${process.pid}`;
  let netem = false;
  if (spawnSync('ip', ['netns', 'add', ns]).status === 0) {
    try {
      spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const added = spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', `${DELAY}ms`], { encoding: 'utf8' });
      netem = added.status === 0;
      if (netem) results.push(run(['ip', 'netns', 'exec', ns], `WAN (${DELAY} ms, tc netem)`));
      else console.log(`note: tc netem is not available here (${added.stderr.trim()}): the WAN link is the user-space relay (tools/bench/wan-relay.ts)`);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  } else {
    console.log('note: no network namespace without root: the WAN link is the user-space relay (tools/bench/wan-relay.ts)');
  }
  if (!netem) {
    const window = kernelWindow();
    results.push(run(['env'], `WAN (${DELAY} ms, relay, window ≤ ${window / MiB} MiB)`, true));
  }
  const rows: Row[] = results.flatMap((r) => [
    { task: `${r.label}: vs curl (one stream)`, ours: r.ours, peer: r.curl, unit: 'MiB/s', lowerIsBetter: false },
    { task: `${r.label}: vs aws s3 cp`, ours: r.ours, peer: r.aws, unit: 'MiB/s', lowerIsBetter: false },
  ]);
  printTable(`download of a ${SIZE / MiB} MiB box from a local s3rver, median of ${RUNS}`, 'peer', rows);
  const loop = results[0] as Result;
  const wan = results[1];
  const rerun = defaultCommandRerun();
  console.log(`\ncached download (verified file found, nothing fetched): ${loop.cachedMs.toFixed(0)} ms; peak RSS of the downloader: ${Math.max(...results.map((r) => r.rss)).toFixed(0)} MiB`);
  console.log(`cached re-run of the default command, until vagrant up starts: ${'ms' in rerun ? `${rerun.ms.toFixed(0)} ms` : `not measured (${rerun.skipped})`}`);
  console.log('goals:');
  console.log(`  at least as fast as aws s3 cp on both links: ${results.every((r) => r.ours >= r.aws) ? 'met' : 'MISSED'}`);
  console.log(`  at least 3× one stream on the WAN link: ${wan ? (wan.ours >= 3 * wan.curl ? 'met' : 'MISSED') : 'not measured'}`);
  console.log(`  cached re-run reaches vagrant up in under 2 s: ${'ms' in rerun ? (rerun.ms < 2000 ? 'met' : 'MISSED') : 'not measured'}`);
  console.log(`  peak RSS under 150 MB: ${Math.max(...results.map((r) => r.rss)) * 1.048576 < 150 ? 'met' : 'MISSED'}`);
  await links();
}
