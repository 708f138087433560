import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startPaced } from '../../../tools/testing/paced.ts';
import { download } from '../src/download/index.ts';
import { DEFAULT_PARALLELISM, ParallelismController, type ParallelismDecision } from '../src/download/parallelism.ts';

const MiB = 2 ** 20;
const work = mkdtempSync(join(tmpdir(), 'airy-parallel-'));
let n = 0;
const out = () => join(work, `box-${n++}.box`);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Drives the controller with a link whose throughput is `rate(connections)`, one second per sample. */
function drive(rate: (connections: number) => number) {
  const controller = new ParallelismController();
  const decisions: ParallelismDecision[] = [];
  let bytes = 0;
  for (let second = 0; second < 12; second++) {
    const d = controller.sample(second * 1000, bytes);
    if (d) decisions.push(d);
    bytes += rate(controller.target);
  }
  return { controller, decisions };
}

test('the controller doubles while throughput rises, up to the cap, and backs off when a doubling gains too little', () => {
  const perConnection = drive((c) => c * 6 * MiB);
  assert.is(perConnection.controller.target, DEFAULT_PARALLELISM.max);
  assert.ok(perConnection.controller.isSettled);
  assert.equal(perConnection.decisions.map((d) => d.target), [16, 32, 32]);

  const totalCap = drive((c) => Math.min(c * 12, 48) * MiB);
  assert.is(totalCap.controller.target, 8, 'a full link gets no more connections');
  assert.match(totalCap.decisions.at(-1)?.reason ?? '', /16 connections gave 48\.0 MiB\/s, 0% over 8 .*back to 8/);

  const pinned = new ParallelismController(DEFAULT_PARALLELISM, 5);
  assert.is(pinned.sample(0, 0), undefined);
  assert.is(pinned.sample(5000, 10 * MiB), undefined);
  assert.is(pinned.target, 5);
});

// Short windows, so a test download of a few MiB sees several decisions.
const quick = { ...DEFAULT_PARALLELISM, windowMs: 700 };

test('on a link capped per connection, connections are added', async () => {
  const body = randomBytes(40 * MiB);
  const server = await startPaced(body, { perConnection: 1 * MiB });
  try {
    const path = out();
    const result = await download({ url: server.url, sha256: sha(body), out: path, blockSize: MiB, parallelism: quick });
    assert.ok((result.connections?.final ?? 0) >= 16, `final ${result.connections?.final}`);
    assert.ok(server.peakConcurrent() >= 16, `peak ${server.peakConcurrent()}`);
    assert.is(sha(readFileSync(path)), sha(body));
  } finally {
    await server.stop();
  }
});

test('on a link with one total cap, no connections are added for nothing', async () => {
  const body = randomBytes(16 * MiB);
  const server = await startPaced(body, { perConnection: 2 * MiB, total: 4 * MiB });
  try {
    const decisions: ParallelismDecision[] = [];
    const result = await download({ url: server.url, sha256: sha(body), out: out(), blockSize: MiB, parallelism: quick, onParallelism: (d) => decisions.push(d) });
    assert.is(result.connections?.final, DEFAULT_PARALLELISM.start, decisions.map((d) => d.reason).join('\n'));
    assert.ok(server.peakConcurrent() <= 2 * DEFAULT_PARALLELISM.start);
  } finally {
    await server.stop();
  }
});

test('at the tail, a connection far slower than the others hands its range over to a new one', async () => {
  const body = randomBytes(16 * MiB);
  const slowStart = 8 * MiB;
  const server = await startPaced(body, { perConnection: 8 * MiB, slow: (start) => (start === slowStart ? 128 * 1024 : undefined) });
  try {
    const path = out();
    const result = await download({ url: server.url, sha256: sha(body), out: path, blockSize: 8 * MiB, connections: 2 });
    assert.ok((result.connections?.handedOver ?? 0) >= 1);
    const slowHeader = `bytes=${slowStart}-${16 * MiB - 1}`;
    assert.ok((server.sent.get(slowHeader) ?? 0) < 8 * MiB, 'the slow connection did not have to deliver its whole range');
    assert.ok(server.ranges.some((r) => Number(/^bytes=(\d+)-/.exec(r)?.[1]) > slowStart), 'a new connection took over the rest');
    assert.is(sha(readFileSync(path)), sha(body));
  } finally {
    await server.stop();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
