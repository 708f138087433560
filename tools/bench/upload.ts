#!/usr/bin/env tsx
/**
 * Benchmark: upload a box to a local S3-compatible server (s3rver, started here), `airy-box publish` side by side
 * with `aws s3 cp`, median of RUNS each. Then the peak RSS of `airy-box publish` for a 2 GiB box.
 * Goals: at least as fast as aws-cli; peak RSS under 200 MB. Run: `npx projen bench:upload`.
 * Environment: BENCH_SIZE_MIB (default 1024), BENCH_RUNS (default 3), BENCH_RSS_SIZE_MIB (default 2048).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boxFileName, stringifyContentManifest } from '@airy/box-catalog';
import { hashFile } from '../../packages/box-builder/src/hash.ts';
import { S3RVER_CREDENTIALS, startS3 } from '../testing/s3.ts';
import { measuredRun as run, printTable } from './table.ts';

const MiB = 2 ** 20;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
const RSS_SIZE = Number(process.env.BENCH_RSS_SIZE_MIB ?? 2048) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const cli = fileURLToPath(new URL('../../packages/box-builder/lib/cli.js', import.meta.url));
const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

/** A built box of `size` bytes (random, so nothing compresses) and its box.json, as `airy-box build` leaves them. */
async function makeBox(dir: string, version: string, size: number): Promise<string> {
  const file = join(dir, boxFileName(version, 'libvirt'));
  const fd = openSync(file, 'w');
  const chunk = randomBytes(16 * MiB);
  for (let written = 0; written < size; written += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, size - written));
  closeSync(fd);
  const { sha256 } = await hashFile(file);
  const manifest = {
    ...{ name: 'airy/core', version, provider: 'libvirt' as const, architecture: 'amd64' as const, size, sha256 },
    ...{ createdAt: new Date().toISOString(), gitCommit: 'bench', components: {}, images: [], manifestsHash: '', skipped: [] },
  } as const;
  writeFileSync(join(dir, 'box.json'), stringifyContentManifest(manifest));
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const s3 = await startS3({ conditional: true });
const dir = mkdtempSync(join(tmpdir(), 'airy-bench-upload-'));
const env = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
try {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const version = `1.0.${i}`;
    const from = mkdtempSync(join(dir, 'box-'));
    const file = await makeBox(from, version, SIZE);
    const a = await run(process.execPath, [cli, 'publish', '--from', from, '--to', `s3://${s3.bucket}/ours`, '--endpoint', s3.endpoint], env);
    if (a.code !== 0) throw new Error(`airy-box publish failed: ${a.err}`);
    const b = await run(aws, ['s3', 'cp', '--only-show-errors', '--endpoint-url', s3.endpoint, file, `s3://${s3.bucket}/aws/${version}.box`], env);
    if (b.code !== 0) throw new Error(`aws s3 cp failed: ${b.err}`);
    ours.push(SIZE / MiB / (a.ms / 1000));
    theirs.push(SIZE / MiB / (b.ms / 1000));
    rmSync(from, { recursive: true, force: true });
    console.log(`run ${i + 1}/${RUNS}: airy-box ${ours.at(-1)?.toFixed(0)} MiB/s, aws s3 cp ${theirs.at(-1)?.toFixed(0)} MiB/s`);
  }

  // Peak RSS on a larger box: the upload reads part by part, so memory must not follow the size.
  const from = mkdtempSync(join(dir, 'box-'));
  const file = await makeBox(from, '2.0.0', RSS_SIZE);
  const big = await run(process.execPath, [cli, 'publish', '--from', from, '--to', `s3://${s3.bucket}/rss`, '--endpoint', s3.endpoint], env);
  if (big.code !== 0) throw new Error(`airy-box publish failed: ${big.err}`);
  const awsBig = await run(aws, ['s3', 'cp', '--only-show-errors', '--endpoint-url', s3.endpoint, file, `s3://${s3.bucket}/aws/big.box`], env);

  printTable(`upload to a local s3rver, ${SIZE / MiB} MiB box, median of ${RUNS} (airy-box: 16 MiB parts × 4; aws: its defaults)`, 'aws s3 cp', [
    { task: `throughput, ${SIZE / MiB} MiB`, ours: median(ours), peer: median(theirs), unit: 'MiB/s', lowerIsBetter: false },
    { task: `peak RSS, ${RSS_SIZE / MiB} MiB box`, ours: big.rssMiB, peer: awsBig.rssMiB, unit: 'MiB', lowerIsBetter: true },
  ]);
  console.log(`\ngoals: at least as fast as aws s3 cp: ${median(ours) >= median(theirs) ? 'met' : 'MISSED'}; peak RSS under 200 MB: ${big.rssMiB * 1.048576 < 200 ? 'met' : 'MISSED'}`);
  console.log('note: s3rver is the bottleneck on loopback (it writes every part to disk), so both tools meet the same ceiling.');
} finally {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
}
