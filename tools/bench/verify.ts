#!/usr/bin/env tsx
/**
 * Benchmark: what verification (TUF, `--trusted-root`) adds to the start of `airy-bootstrap download` from a warm
 * cache (the box already verified at --out, the client's trusted metadata already in --cache), side by side with
 * the same run unverified (`--allow-unsigned`): a real signed catalog (keys init, publish --keys) served over HTTP
 * on loopback. Then where the added time goes, measured inside one plain `node` process: loading the verifier
 * (tuf-js and @tufjs/models), and one warm verification (the metadata refresh and the signed catalog and channel).
 * Run: `npx projen bench:verify`. Environment: BENCH_RUNS (15), BENCH_LIB (bootstrap's lib/ folder to measure). The goal is under 100 ms added.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initKeys, loadKeys, openStore, publishBox } from '@airy/box-builder';
import { BOX_NAME, type BoxContentManifest, CATALOG_FILE } from '@airy/box-catalog';
import { writeBox } from '../../packages/bootstrap/test/helpers.ts';
import { startHttp } from '../testing/http.ts';
import { measuredRun, printTable } from './table.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
// BENCH_LIB: another build of bootstrap's lib/ to measure (an older commit's, to compare).
const lib = process.env.BENCH_LIB ?? fileURLToPath(new URL('../../packages/bootstrap/lib', import.meta.url));
const cli = join(lib, 'cli.js');
const execFileAsync = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * A probe for plain node (no tsx loader, whose hooks would slow every import), run from the catalog's cold start:
 * what the unverified read loads and does first (bootstrap's catalog code, Node's fetch, the two documents), then
 * what verification adds on top (loading tuf-js and @tufjs/models, one verification), then a second verification in
 * the same process (the code warm: what is left is the work itself).
 */
const PROBE = `
const [url, root, cache] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const ms = {};
let t = performance.now();
const lap = (name) => { const now = performance.now(); ms[name] = now - t; t = now; };
const { loadCatalog } = await import(${JSON.stringify(join(lib, 'source.js'))});
lap('baseLoad');
await loadCatalog(url, {}, { kind: 'unsigned', origin: 'bench' });
lap('unverifiedRead');
const { verifiedCatalog } = await import(${JSON.stringify(join(lib, 'verify.js'))});
lap('verifierLoad');
const trust = { kind: 'root', origin: root, root: readFileSync(root, 'utf8'), cacheDir: cache };
await verifiedCatalog(url, {}, trust);
lap('verify');
await verifiedCatalog(url, {}, trust);
lap('verifyAgain');
console.log(JSON.stringify(ms));
`;

const work = mkdtempSync(join(tmpdir(), 'airy-bench-verify-'));
const [storeDir, keysDir, cache, out] = ['store', 'keys', 'cache', 'out'].map((d) => join(work, d)) as [string, string, string, string];
const http = await startHttp(storeDir);
try {
  await initKeys(keysDir);
  const store = openStore(`file://${storeDir}`, { publicUrl: http.url });
  const boxFile = join(work, 'box.box');
  const sha256 = writeBox(boxFile, 2 ** 20);
  const manifest = { name: BOX_NAME, version: '1.0.0', provider: 'libvirt', architecture: 'amd64', size: 2 ** 20, sha256, createdAt: new Date().toISOString(), gitCommit: 'bench', components: {}, images: [], manifestsHash: 'bench', skipped: [] };
  await publishBox(store, { boxFile, manifest: manifest as unknown as BoxContentManifest, partSize: 5 * 2 ** 20, concurrency: 1, signing: await loadKeys(keysDir) });
  const catalog = `${http.url}/${CATALOG_FILE}`;
  const root = join(keysDir, 'root.json');
  const base = ['download', '--catalog', catalog, '--provider', 'libvirt', '--architecture', 'amd64', '--cache', cache];
  const verified = [cli, ...base, '--trusted-root', root, '--out', join(out, 'verified.box')];
  const unverified = [cli, ...base, '--allow-unsigned', '--out', join(out, 'unverified.box')];
  // Warm: the boxes are downloaded and verified once, the trusted metadata is in the cache.
  for (const args of [verified, unverified]) {
    const run = await measuredRun(process.execPath, args);
    if (run.code !== 0) throw new Error(`airy-bootstrap download: ${run.err}`);
  }
  const times = { verified: [] as number[], unverified: [] as number[] };
  // Alternated, so that whatever else the machine does falls on both alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of [['verified', verified], ['unverified', unverified]] as const) {
      const run = await measuredRun(process.execPath, args);
      if (run.code !== 0 || !/already verified/.test(run.err)) throw new Error(`the ${name} run did not start from the warm cache: ${run.err}`);
      times[name].push(run.ms);
    }
  }
  const probeFile = join(work, 'probe.mjs');
  writeFileSync(probeFile, PROBE);
  type Probe = Record<'baseLoad' | 'unverifiedRead' | 'verifierLoad' | 'verify' | 'verifyAgain', number>;
  const probes: Probe[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Asynchronously: the catalog's server runs in this process.
    const { stdout } = await execFileAsync(process.execPath, [probeFile, catalog, root, cache], { encoding: 'utf8' });
    probes.push(JSON.parse(stdout));
  }
  const v = median(times.verified);
  const u = median(times.unverified);
  printTable(
    `airy-bootstrap download from a warm cache, a signed catalog over HTTP on loopback: median of ${RUNS}`,
    'unverified (--allow-unsigned)',
    [{ task: 'the whole run (start to "already verified")', ours: v, peer: u, unit: 'ms', lowerIsBetter: true }],
  );
  console.log(`\nadded by verification: ${(v - u).toFixed(0)} ms (goal: under 100 ms)`);
  const part = (name: keyof Probe) => median(probes.map((p) => p[name])).toFixed(1);
  console.log('\nwhere it goes, inside one node process from a cold start (median):\n');
  console.log('| part | ms |');
  console.log('|---|---|');
  console.log(`| bootstrap's catalog code loaded (both paths) | ${part('baseLoad')} |`);
  console.log(`| the unverified read: Node's fetch started, catalog and channel (both paths pay the fetch's start) | ${part('unverifiedRead')} |`);
  console.log(`| verification only: tuf-js and @tufjs/models loaded | ${part('verifierLoad')} |`);
  console.log(`| verification only: the refresh (root probe, timestamp) and the signed catalog and channel | ${part('verify')} |`);
  console.log(`| the same verification again in that process (the code warm) | ${part('verifyAgain')} |`);
} finally {
  await http.stop();
  rmSync(work, { recursive: true, force: true });
}
