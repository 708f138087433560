#!/usr/bin/env tsx
/**
 * Benchmark: what a resume costs. A box served by the paced range server (4 MiB/s per connection, so that many
 * connections are in flight at the kill), downloaded with 16 connections, killed (SIGKILL: no chance to save
 * anything at the end) once the server has sent 40% of it, then run again to the end. Reported: the bytes the
 * server sent over both runs, over the box's size (1.00× is a resume that loses nothing), the median of the runs.
 * Peer: aria2c with the same 16 connections, resuming from its control file (`-c`, saved every second, its most
 * often), against the same server.
 *
 * Goal (the issue's): at most about 1.1× the file, whatever the connection count.
 *
 * Usage: npx projen bench:resume   (BENCH_SIZE_MIB: the box, default 256; BENCH_RUNS: runs of each tool, default 3;
 * BENCH_CONNECTIONS: default 16)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { startPaced } from '../testing/paced.ts';
import { printTable, type Row } from './table.ts';

const MiB = 2 ** 20;
const SIZE = Number(process.env.BENCH_SIZE_MIB ?? 256) * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** aria2c takes at most 16 connections to one server. */
const PEER_CONNECTIONS = Math.min(16, CONNECTIONS);
const KILL_AT = 0.4;
const LINK = { perConnection: 4 * MiB };
const cli = fileURLToPath(new URL('../../packages/bootstrap/lib/cli.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'airy-bench-resume-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const body = randomBytes(SIZE);
const sha256 = createHash('sha256').update(body).digest('hex');

/** Runs a command to its end, or until `killWhen` says so (then SIGKILL); its exit code and stderr's tail. */
function run(command: string, args: string[], killWhen?: () => boolean): Promise<{ code: number | null; err: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-2000);
  });
  const timer = killWhen
    ? setInterval(() => {
        if (killWhen()) child.kill('SIGKILL');
      }, 10)
    : undefined;
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, err });
    }),
  );
}

/** One tool: killed at 40%, run again; the bytes sent over both runs, over the size. */
async function measure(tool: string, command: (url: string, dir: string) => [string, string[]], result: (dir: string) => string): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = join(root, `${tool}-${i}`);
    mkdirSync(dir, { recursive: true });
    const server = await startPaced(body, LINK);
    try {
      const [cmd, args] = command(server.url, dir);
      const first = await run(cmd, args, () => server.bytesSent() >= KILL_AT * SIZE);
      if (first.code === 0) throw new Error(`${tool} finished before the kill: make BENCH_SIZE_MIB larger`);
      const second = await run(cmd, args);
      if (second.code !== 0) throw new Error(`${tool}: ${second.err.trim().split('\n').slice(-3).join(' | ')}`);
      if (createHash('sha256').update(readFileSync(result(dir))).digest('hex') !== sha256) throw new Error(`${tool}: the result is not the box`);
      ratios.push(server.bytesSent() / SIZE);
      process.stderr.write(`bench:resume: ${tool} run ${i + 1}: ${(server.bytesSent() / SIZE).toFixed(3)}×\n`);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return median(ratios);
}

try {
  const ours = await measure(
    'ours',
    (url, dir) => {
      const entry = { name: 'libvirt', url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: SIZE } as const;
      writeFileSync(join(dir, 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
      const args = ['download', '--catalog', `file://${join(dir, 'metadata.json')}`, '--allow-unsigned', '--provider', 'libvirt', '--architecture', 'amd64'];
      return [process.execPath, [cli, ...args, '--out', join(dir, 'box.box'), '--connections', String(CONNECTIONS)]];
    },
    (dir) => join(dir, 'box.box'),
  );
  const aria2 = await measure(
    'aria2c',
    (url, dir) => [
      'aria2c',
      ['--no-conf', '-c', `-x${PEER_CONNECTIONS}`, `-s${PEER_CONNECTIONS}`, '-k1M', '--auto-save-interval=1', '--file-allocation=none', '--summary-interval=0', '--console-log-level=warn', '-d', dir, '-o', 'box.box', url],
    ],
    (dir) => join(dir, 'box.box'),
  );
  const rows: Row[] = [{ task: `killed at ${KILL_AT * 100}% with ${CONNECTIONS} connections${PEER_CONNECTIONS < CONNECTIONS ? ` (aria2c: ${PEER_CONNECTIONS}, its most)` : ''}, then resumed: bytes fetched / box size`, ours, peer: aria2, unit: '×', lowerIsBetter: true }];
  printTable(`resume: a ${SIZE / MiB} MiB box, ${LINK.perConnection / MiB} MiB/s per connection, paced on loopback; median of ${RUNS}`, 'aria2c -c', rows);
  console.log(`\ngoal (at most about 1.1× the box): ${ours <= 1.1 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
