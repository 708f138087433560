#!/usr/bin/env tsx
/**
 * Benchmark: download a 1 GiB box from a local S3-compatible server (s3rver), airy-bootstrap's downloader side by
 * side with `curl` (one stream, as Vagrant does) and `aws s3 cp`, on loopback and on an emulated WAN link: a
 * network namespace made here, `tc netem` delay on its loopback, with server and clients inside it. Also the cached
 * re-run and the downloader's peak RSS. Run: `npx projen bench:download` (the WAN part needs root; skipped
 * otherwise, with a note). Environment: BENCH_SIZE_MIB (1024), BENCH_RUNS (3), BENCH_DELAY_MS (50).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { createReadStream } from 'node:fs';
import { writeBox } from '../../packages/bootstrap/test/helpers.ts';
import { S3RVER_CREDENTIALS, startS3 } from '../testing/s3.ts';
import { measuredRun as timed, printTable, type Row } from './table.ts';

const MiB = 2 ** 20;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 50);
const here = fileURLToPath(import.meta.url);
const cli = fileURLToPath(new URL('../../packages/bootstrap/lib/cli.js', import.meta.url));
const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Measures every tool on whatever network this process is in; prints one JSON line of results. */
async function measure(label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airy-bench-download-'));
  const s3 = await startS3();
  try {
    const box = join(dir, 'source.box');
    const sha256 = writeBox(box, SIZE);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'box.box', Body: createReadStream(box), ContentLength: SIZE }));
    rmSync(box);
    const url = `${s3.endpoint}/${s3.bucket}/box.box`;
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
      const a = await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--out', out]);
      if (a.code !== 0) throw new Error(`airy-bootstrap download: ${a.err}`);
      ours.push(SIZE / MiB / (a.ms / 1000));
      rss = Math.max(rss, a.rssMiB);
      rmSync(out, { force: true });
      const b = await timed('curl', ['-sf', '-o', join(dir, 'curl.box'), url]);
      if (b.code !== 0) throw new Error(`curl: ${b.err}`);
      curl.push(SIZE / MiB / (b.ms / 1000));
      rmSync(join(dir, 'curl.box'), { force: true });
      const c = await timed(aws, ['s3', 'cp', '--only-show-errors', '--endpoint-url', s3.endpoint, `s3://${s3.bucket}/box.box`, join(dir, 'aws.box')], env);
      if (c.code !== 0) throw new Error(`aws s3 cp: ${c.err}`);
      awsCli.push(SIZE / MiB / (c.ms / 1000));
      rmSync(join(dir, 'aws.box'), { force: true });
      process.stderr.write(`${label} run ${i + 1}/${RUNS}: ours ${ours.at(-1)?.toFixed(0)}, curl ${curl.at(-1)?.toFixed(0)}, aws ${awsCli.at(-1)?.toFixed(0)} MiB/s\n`);
    }
    // The cached re-run: the verified file is found, nothing is fetched.
    const cachedOut = join(dir, 'cached.box');
    await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--out', cachedOut]);
    const cached = await timed(process.execPath, [cli, 'download', '--catalog', catalog, '--out', cachedOut]);
    console.log(JSON.stringify({ label, ours: median(ours), curl: median(curl), aws: median(awsCli), rss, cachedMs: cached.ms }));
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Result {
  label: string;
  ours: number;
  curl: number;
  aws: number;
  rss: number;
  cachedMs: number;
}

if (process.argv.includes('--inside')) {
  await measure(process.argv[process.argv.indexOf('--inside') + 1] ?? 'inside');
} else {
  const run = (prefix: string[], label: string): Result => {
    const out = spawnSync(prefix[0] ?? process.execPath, [...prefix.slice(1), process.execPath, '--import', 'tsx', here, '--inside', label], {
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
  const made = spawnSync('ip', ['netns', 'add', ns]).status === 0;
  if (made) {
    try {
      spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const netem = spawnSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', `${DELAY}ms`]);
      if (netem.status !== 0) console.log(`note: tc netem failed (${netem.stderr}); the WAN row is left out`);
      else results.push(run(['ip', 'netns', 'exec', ns], `WAN (${DELAY} ms netem)`));
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  } else {
    console.log('note: cannot create a network namespace here (needs root); the WAN row is left out');
  }
  const rows: Row[] = results.flatMap((r) => [
    { task: `${r.label}: vs curl (one stream)`, ours: r.ours, peer: r.curl, unit: 'MiB/s', lowerIsBetter: false },
    { task: `${r.label}: vs aws s3 cp`, ours: r.ours, peer: r.aws, unit: 'MiB/s', lowerIsBetter: false },
  ]);
  printTable(`download of a ${SIZE / MiB} MiB box from a local s3rver, median of ${RUNS}`, 'peer', rows);
  const loop = results[0] as Result;
  const wan = results[1];
  console.log(`\ncached re-run (verified file found, nothing fetched): ${loop.cachedMs.toFixed(0)} ms; peak RSS of the downloader: ${Math.max(...results.map((r) => r.rss)).toFixed(0)} MiB`);
  console.log('goals:');
  console.log(`  at least as fast as aws s3 cp on both links: ${results.every((r) => r.ours >= r.aws) ? 'met' : 'MISSED'}`);
  console.log(`  at least 3× one stream on the WAN link: ${wan ? (wan.ours >= 3 * wan.curl ? 'met' : 'MISSED') : 'not measured'}`);
  console.log(`  cached re-run under 2 s: ${loop.cachedMs < 2000 ? 'met' : 'MISSED'} (the download step; the default command adds vagrant box list)`);
  console.log(`  peak RSS under 150 MB: ${Math.max(...results.map((r) => r.rss)) * 1.048576 < 150 ? 'met' : 'MISSED'}`);
}
