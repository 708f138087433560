#!/usr/bin/env tsx
/**
 * Benchmark: what verification (TUF, `--trusted-root`) adds to the start of `airy-bootstrap download` from a warm
 * cache (the box already verified at --out, the client's trusted metadata already in --cache), side by side with
 * the same run unverified (`--allow-unsigned`): a real signed catalog (keys init, publish --keys) served over HTTP
 * on loopback. Then where the added time goes, measured inside one plain `node` process: loading the verifier
 * (tuf-js and @tufjs/models), and one warm verification (the metadata refresh and the signed catalog and channel).
 * Run: `npx projen bench:verify`. Environment: BENCH_RUNS (15). The goal is under 100 ms added.
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
const cli = fileURLToPath(new URL('../../packages/bootstrap/lib/cli.js', import.meta.url));
const verifyModule = fileURLToPath(new URL('../../packages/bootstrap/lib/verify.js', import.meta.url));
const execFileAsync = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** A probe for plain node (no tsx loader, whose hooks would slow every import): import, then verify twice. */
const PROBE = `
const [url, root, cache] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
let t = performance.now();
const { verifiedCatalog } = await import(${JSON.stringify(verifyModule)});
const importMs = performance.now() - t;
const trust = { kind: 'root', origin: root, root: readFileSync(root, 'utf8'), cacheDir: cache };
t = performance.now();
await verifiedCatalog(url, {}, trust);
const firstMs = performance.now() - t;
t = performance.now();
await verifiedCatalog(url, {}, trust);
const againMs = performance.now() - t;
console.log(JSON.stringify({ importMs, firstMs, againMs }));
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
  const probes: { importMs: number; firstMs: number; againMs: number }[] = [];
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
  console.log('\nwhere it goes, inside one node process (median):\n');
  console.log('| part | ms |');
  console.log('|---|---|');
  console.log(`| load the verifier (verify.js: tuf-js, @tufjs/models) | ${median(probes.map((p) => p.importMs)).toFixed(1)} |`);
  console.log(`| first verification (refresh from the cache, the signed catalog and channel) | ${median(probes.map((p) => p.firstMs)).toFixed(1)} |`);
  console.log(`| a second one in the same process (the code warm) | ${median(probes.map((p) => p.againMs)).toFixed(1)} |`);
} finally {
  await http.stop();
  rmSync(work, { recursive: true, force: true });
}
