import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp, type TestHttp } from '../../../tools/testing/http.ts';
import { ChecksumError, DiskFullError, download, DownloadError, SizeMismatchError } from '../src/download/index.ts';
import { LockedError } from '@airy/cli-kit';
import { servedBox } from './helpers.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;
const SIZE = 256 * MiB;
const CHUNK = 8 * MiB;

let http: TestHttp;
const served = servedBox(SIZE, () => http.url);
http = await startHttp(served.root);
served.writeCatalog();
const url = () => `${http.url}/boxes/box.box`;
const work = mkdtempSync(join(tmpdir(), 'airy-download-'));
const fresh = (name: string) => join(work, name, 'box.box');
const rangesOf = (requests: string[]) => requests.filter((r) => r.includes('/boxes/box.box') && /bytes=\d+-\d+$/.test(r)).map((r) => r.split(' ').at(-1) as string);

test.before.each(() => {
  http.requests.length = 0;
  http.fault = undefined;
  http.noRanges = false;
});

test('a parallel ranged download is verified, and a re-run uses the verified file', async () => {
  const out = fresh('basic');
  const result = await download({ url: url(), sha256: served.sha256, out, connections: 8, blockSize: CHUNK });
  assert.is(result.size, SIZE);
  assert.ok(result.ranged);
  assert.not.ok(result.cached);
  // One request per chunk and the probe, plus a request per tail handed over from a slower connection.
  assert.is(rangesOf(http.requests).length, SIZE / CHUNK + 1 + (result.connections?.handedOver ?? 0), 'nothing fetched twice');
  assert.ok(existsSync(`${out}.verified`));
  assert.not.ok(existsSync(`${out}.part`) || existsSync(`${out}.download.json`));

  http.requests.length = 0;
  const again = await download({ url: url(), sha256: served.sha256, out });
  assert.ok(again.cached);
  assert.equal(http.requests, [], 'nothing was fetched again');
});

test('killed mid-download and restarted: it resumes, completed ranges are not fetched again', async () => {
  const out = fresh('resume');
  const child = spawn(process.execPath, [join(packageDir, 'lib/cli.js'), 'download', '--catalog', `${http.url}/metadata.json`, '--allow-unsigned', '--out', out, '--connections', '2'], {
    stdio: 'ignore',
  });
  const statePath = `${out}.download.json`;
  let before: number[] = [];
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 20));
    try {
      before = (JSON.parse(readFileSync(statePath, 'utf8')) as { done: number[] }).done;
    } catch {
      // not written yet
    }
    if (before.length >= 4) break;
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  assert.ok(before.length >= 4 && before.length < SIZE / CHUNK, `killed mid-way (${before.length} chunks done)`);
  const done = (JSON.parse(readFileSync(statePath, 'utf8')) as { done: number[] }).done;

  http.requests.length = 0;
  const run = await runBinAsync(packageDir, ['download', '--catalog', `${http.url}/metadata.json`, '--allow-unsigned', '--out', out]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /resuming: /);
  const fetched = rangesOf(http.requests)
    .filter((r) => r !== 'bytes=0-0') // the probe
    .map((r) => Number(/^bytes=(\d+)-/.exec(r)?.[1]));
  for (const index of done) {
    const inside = fetched.filter((start) => start >= index * CHUNK && start < (index + 1) * CHUNK);
    assert.equal(inside, [], `chunk ${index} was fetched again`);
  }
  const missing = SIZE / CHUNK - done.length;
  const chunkStarts = fetched.filter((start) => start % CHUNK === 0 && start > 0);
  assert.ok(chunkStarts.length <= missing, 'each missing chunk fetched once (plus handed-over tails inside them)');
  assert.ok(existsSync(`${out}.verified`));
});

test('500s and connection resets are retried', async () => {
  const out = fresh('faults');
  let failures = 0;
  http.fault = (req, res) => {
    if (!req.headers.range || req.headers.range === 'bytes=0-0' || failures >= 12) return undefined;
    failures++;
    if (failures % 2) {
      res.writeHead(500).end('injected');
    } else {
      res.writeHead(206, { 'Content-Length': CHUNK });
      res.write(Buffer.alloc(1024));
      setTimeout(() => res.socket?.destroy(), 5);
    }
    return 'handled';
  };
  const result = await download({ url: url(), sha256: served.sha256, out, connections: 4, blockSize: CHUNK });
  assert.is(failures, 12);
  assert.is(result.size, SIZE);
});

test('a piece cut mid-way keeps what came: a retry, and a later run, fetch only the rest of it', async () => {
  const box = readFileSync(served.boxPath);
  const at = 2 * CHUNK;
  /** The server cuts the piece at `at` after 3 MiB, `times` times. */
  const cut = (times: number) => {
    let left = times;
    http.fault = (req, res) => {
      if (req.headers.range !== `bytes=${at}-${at + CHUNK - 1}` || left <= 0) return undefined;
      left--;
      res.writeHead(206, { 'Content-Length': CHUNK, 'Content-Range': `bytes ${at}-${at + CHUNK - 1}/${SIZE}` });
      res.write(box.subarray(at, at + 3 * MiB), () => setTimeout(() => res.socket?.destroy(), 50));
      return 'handled';
    };
  };
  const startsInside = () => rangesOf(http.requests).map((r) => Number(/^bytes=(\d+)-/.exec(r)?.[1])).filter((start) => start >= at && start < at + CHUNK);

  // Within a run: the retry asks for the rest of the piece.
  cut(1);
  const retried = await download({ url: url(), sha256: served.sha256, out: fresh('cut-retry'), connections: 1, blockSize: CHUNK });
  assert.is(retried.size, SIZE);
  const [first, again] = startsInside();
  assert.is(first, at);
  assert.ok(again !== undefined && again > at, `the retry asked for bytes from ${again}, not from the piece's start`);

  // Across runs: the written bytes are in the state, and the next run fetches the rest of the piece only.
  http.requests.length = 0;
  cut(1);
  const out = fresh('cut-resume');
  const failed = await download({ url: url(), sha256: served.sha256, out, connections: 1, blockSize: CHUNK, attempts: 1 }).catch((e: unknown) => e);
  assert.ok(failed instanceof DownloadError, String(failed));
  const state = JSON.parse(readFileSync(`${out}.download.json`, 'utf8')) as { done: number[]; partial: [number, number][] };
  assert.equal(state.done, [0, 1]);
  const kept = (state.partial[0]?.[1] ?? -1) - at + 1;
  assert.ok(state.partial.length === 1 && state.partial[0]?.[0] === at && kept > 0 && kept <= 3 * MiB, JSON.stringify(state.partial));
  http.requests.length = 0;
  const resumed = await download({ url: url(), sha256: served.sha256, out, connections: 1, blockSize: CHUNK });
  assert.is(resumed.resumedBytes, at + kept);
  assert.equal(startsInside(), [at + kept]);
});

test('a box whose size is not the catalog’s is refused before a byte is written', async () => {
  const out = fresh('size');
  for (const size of [SIZE - 1, SIZE + 1]) {
    const refused = await download({ url: url(), sha256: served.sha256, out, size }).catch((e: unknown) => e);
    assert.ok(refused instanceof SizeMismatchError, String(refused));
    assert.match((refused as Error).message, new RegExp(`is ${SIZE} bytes, but the catalog says ${size}: nothing was written`));
    assert.not.ok(existsSync(`${out}.part`) || existsSync(out), 'nothing written');
  }
  // A server that says no length is held to the catalog's as it streams.
  http.noRanges = true;
  http.fault = (_, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(Buffer.alloc(4 * MiB));
    return 'handled';
  };
  const streamed = await download({ url: url(), sha256: served.sha256, out, size: MiB, attempts: 1 }).catch((e: unknown) => e);
  assert.ok(streamed instanceof DownloadError, String(streamed));
  assert.match((streamed as Error).message, /sent more than the 1048576 bytes asked for/);
});

test('a corrupted byte is a checksum error, and nothing is marked verified', async () => {
  const out = fresh('corrupt');
  const original = readFileSync(served.boxPath).subarray(1000, 1001);
  const fd = readFileSync(served.boxPath);
  fd[1000] = (original[0] ?? 0) ^ 0xff;
  writeFileSync(served.boxPath, fd);
  try {
    await download({ url: url(), sha256: served.sha256, out, blockSize: CHUNK }).then(
      () => assert.unreachable('should fail'),
      (e: Error) => {
        assert.ok(e instanceof ChecksumError);
        assert.match(e.message, /downloaded with sha256 [0-9a-f]{64}, but the catalog says/);
      },
    );
    for (const leftover of [out, `${out}.part`, `${out}.verified`]) assert.not.ok(existsSync(leftover), leftover);
  } finally {
    fd[1000] = original[0] ?? 0;
    writeFileSync(served.boxPath, fd);
  }
});

test('a server without ranges: one stream', async () => {
  const out = fresh('noranges');
  http.noRanges = true;
  const result = await download({ url: url(), sha256: served.sha256, out, blockSize: CHUNK });
  assert.not.ok(result.ranged);
  assert.is(rangesOf(http.requests).length, 1, 'only the probe asked for a range');
  assert.ok(existsSync(`${out}.verified`));
});

test('a 404 is final, with a clear message', async () => {
  await download({ url: `${http.url}/boxes/missing.box`, sha256: served.sha256, out: fresh('404') }).then(
    () => assert.unreachable('should fail'),
    (e: Error) => {
      assert.ok(e instanceof DownloadError);
      assert.match(e.message, /not found \(HTTP 404\)/);
    },
  );
});

const tmpfs = join(work, 'small-disk');
spawnSync('mkdir', ['-p', tmpfs]);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', tmpfs]).status === 0;
if (!mounted) console.log('skip: cannot mount a small tmpfs here (needs root); the disk-full check is skipped');
(mounted ? test : test.skip)('a disk that fills up gives a clear error, with the size and the option, run after run', async () => {
  // The second run meets a disk the first one filled: the same line.
  for (const [size, folderOption] of [[undefined, '--cache'], [undefined, '--out'], [SIZE, '--out']] as const) {
    await download({ url: url(), sha256: served.sha256, out: join(tmpfs, 'box.box'), blockSize: CHUNK, folderOption, ...(size ? { size } : {}) }).then(
      () => assert.unreachable('should fail'),
      (e: Error) => {
        assert.ok(e instanceof DiskFullError, e.message);
        assert.match(e.message, new RegExp(`^no space left in .*small-disk \\(the box needs 256\\.0 MiB\\): free some disk, or choose another folder with ${folderOption}$`));
      },
    );
  }
});

test('two concurrent runs on one file: the second is refused by the lock', async () => {
  const out = fresh('lock');
  const first = download({ url: url(), sha256: served.sha256, out, blockSize: CHUNK });
  await new Promise((r) => setTimeout(r, 50));
  await download({ url: url(), sha256: served.sha256, out }).then(
    () => assert.unreachable('the second run should be refused'),
    (e: Error) => {
      assert.ok(e instanceof LockedError);
      assert.match(e.message, /locked by process \d+/);
    },
  );
  assert.is((await first).size, SIZE);
});

test('CLI: a wrong checksum in the catalog exits 1 with one line', async () => {
  served.writeCatalog('0'.repeat(64));
  try {
    const out = fresh('cli-bad');
    const run = await runBinAsync(packageDir, ['download', '--catalog', `${http.url}/metadata.json`, '--allow-unsigned', '--out', out]);
    assert.is(run.status, 1);
    assert.match(run.stderr, /airy-bootstrap: .*but the catalog says 0{64}/);
    assert.not.ok(existsSync(out));
  } finally {
    served.writeCatalog();
  }
});

test.after(async () => {
  await http.stop();
  if (mounted) spawnSync('umount', [tmpfs]);
  rmSync(work, { recursive: true, force: true });
  rmSync(served.root, { recursive: true, force: true });
});

test.run();
