import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock, isAlive, LockedError } from '../src/index.ts';
import { lockOwners, ownerAlive, ownerEntry, type ProcessProbe, parseOwnerEntry, systemProbe } from '../src/lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-lock-'));
const repo = fileURLToPath(new URL('../../..', import.meta.url));
/** A worker run by node itself with tsx's loader (tsx's own launcher is a second process, which SIGKILL would miss). */
const run = (...args: string[]) =>
  spawn(process.execPath, ['--import', 'tsx', worker, ...args], {
    cwd: repo,
    timeout: 120_000,
  });

/**
 * A real process using the lock. `hammer LOCK MARKER N`: takes and releases the lock N times, and while holding it
 * creates MARKER exclusively, so a second holder at the same time is counted as an overlap. `hold LOCK`: takes it
 * and waits to be killed. `racer`: for each line `take LOCK` on stdin tries once and says took or locked; `release`
 * releases.
 */
const worker = join(dir, 'worker.mts');
writeFileSync(
  worker,
  `import { open, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { acquireLock, LockedError } from ${JSON.stringify(join(repo, 'packages/cli-kit/src/index.ts'))};
const [mode, lock, marker, n] = process.argv.slice(2);
const pause = () => new Promise((r) => setImmediate(r));
if (mode === 'hammer') {
  let takes = 0, overlaps = 0, refusals = 0;
  while (takes < Number(n)) {
    let release;
    try { release = await acquireLock(lock); } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      refusals++;
      await pause();
      continue;
    }
    takes++;
    let mine = false;
    try { await (await open(marker, 'wx')).close(); mine = true; } catch (e) { if (e.code !== 'EEXIST') throw e; overlaps++; }
    await pause();
    if (mine) await rm(marker);
    await release();
    await pause();
  }
  console.log(JSON.stringify({ takes, overlaps, refusals }));
} else if (mode === 'hold') {
  await acquireLock(lock);
  console.log('held');
  setInterval(() => {}, 1000);
} else {
  let release;
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, path] = line.split(' ');
    if (verb === 'take') {
      try { release = await acquireLock(path); console.log('took'); } catch (e) { console.log(e instanceof LockedError ? 'locked' : 'error ' + e.message); }
    } else { await release?.(); release = undefined; console.log('released'); }
  }
}
`,
);

test('several real processes taking and releasing one lock never hold it at once', async () => {
  const lock = join(dir, 'hammer.lock');
  const marker = join(dir, 'hammer.holder');
  const [workers, takes] = [4, 150];
  const runs = await Promise.all(
    Array.from(
      { length: workers },
      () =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = run('hammer', lock, marker, String(takes));
          let [stdout, stderr] = ['', ''];
          child.stdout.on('data', (d: Buffer) => {
            stdout += d;
          });
          child.stderr.on('data', (d: Buffer) => {
            stderr += d;
          });
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        }),
    ),
  );
  let overlaps = 0;
  for (const run of runs) {
    assert.is(run.status, 0, run.stderr);
    const counts = JSON.parse(run.stdout) as {
      takes: number;
      overlaps: number;
    };
    assert.is(counts.takes, takes);
    overlaps += counts.overlaps;
  }
  assert.is(overlaps, 0, `${overlaps} takes of ${workers * takes} found another holder`);
  assert.not.ok(existsSync(lock), 'released');
  assert.equal(
    readdirSync(dir).filter((n) => n.includes('hammer.lock')),
    [],
    'nothing staged is left behind',
  );
});

/** A real holder of `lock`, killed (SIGKILL: no exit hook runs) once it holds it, as a crashed run. */
async function crashWhileHolding(lock: string): Promise<void> {
  const child = run('hold', lock);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  assert.is((await lines.next()).value, 'held');
  const closed = new Promise((r) => child.on('close', r));
  child.kill('SIGKILL');
  await closed;
}

/** A long-lived racer process, answering one line per command. */
function racer(): {
  send: (line: string) => Promise<string>;
  child: ChildProcess;
} {
  const child = run('racer');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    send: async (line) => {
      child.stdin.write(`${line}\n`);
      return String((await lines.next()).value);
    },
  };
}

test('a stale lock (its holder killed) is taken over by exactly one of two racers, every time', async () => {
  const racers = [racer(), racer()];
  try {
    for (let trial = 0; trial < 12; trial++) {
      const lock = join(dir, `stale-${trial}.lock`);
      await crashWhileHolding(lock);
      assert.ok(existsSync(lock), 'the killed holder left its lock behind');
      const answers = await Promise.all(racers.map((r) => r.send(`take ${lock}`)));
      assert.equal([...answers].sort(), ['locked', 'took'], `trial ${trial}: ${answers.join(', ')}`);
      await racers[answers.indexOf('took')]?.send('release');
      assert.not.ok(existsSync(lock));
    }
  } finally {
    for (const r of racers) r.child.kill();
  }
});

test('an owner is alive only with its PID, its start time and its boot; an empty entry name is no owner', () => {
  const probe = (over: Partial<ProcessProbe> = {}): ProcessProbe => ({
    boot: 'b00f',
    isAlive: () => true,
    startOf: () => '42',
    ...over,
  });
  const owner = { pid: 7, start: '42', boot: 'b00f', nonce: 'ab' };
  assert.equal(parseOwnerEntry(ownerEntry(owner)), owner);
  assert.ok(ownerAlive(owner, probe()));
  assert.not.ok(ownerAlive(owner, probe({ startOf: () => '43' })), 'the PID was reused by a later process');
  assert.not.ok(ownerAlive(owner, probe({ boot: 'other' })), 'a lock from before a reboot');
  assert.not.ok(ownerAlive(owner, probe({ isAlive: () => false })));
  assert.ok(ownerAlive({ pid: 7, nonce: 'ab' }, probe()), 'where start and boot are unknown, the PID decides');
  assert.is(parseOwnerEntry('owner.'), undefined);
  assert.is(parseOwnerEntry('owner.12.-.-.'), undefined);
});

test('the lock: refused to a second holder naming the live PID, released without leaking exit hooks', async () => {
  const path = join(dir, 'x.lock');
  const before = process.listenerCount('exit');
  const release = await acquireLock(path);
  assert.is(lockOwners(path)[0]?.pid, process.pid);
  await acquireLock(path).then(
    () => assert.unreachable('a second holder got the lock'),
    (e) => {
      assert.instance(e, LockedError);
      assert.is((e as LockedError).pid, process.pid);
    },
  );
  await release();
  assert.not.ok(existsSync(path));
  assert.is(process.listenerCount('exit'), before);
});

const start = systemProbe.startOf(process.pid);
if (start === undefined) console.log('skip: no /proc here, so a start time cannot be read: the reused-PID test is skipped');
(start === undefined ? test.skip : test)('a lock naming this very PID but another start time (a reused PID) is stale and taken over', async () => {
  const path = join(dir, 'reused.lock');
  mkdirSync(
    join(
      path,
      ownerEntry({
        pid: process.pid,
        start: String(Number(start) + 1),
        boot: systemProbe.boot,
        nonce: 'aa',
      }),
    ),
    { recursive: true },
  );
  const release = await acquireLock(path);
  assert.equal(
    lockOwners(path).map((o) => o.pid),
    [process.pid],
  );
  await release();
});

test('what a run that died while taking the lock left staged beside it is removed by the next taker', async () => {
  const path = join(dir, 'staged.lock');
  const gone = spawnSync(process.execPath, ['-e', '']).pid as number; // a process that has ended
  const left = join(dir, `.staged.lock.${ownerEntry({ pid: gone, nonce: 'cc' })}`);
  const live = join(dir, `.staged.lock.${ownerEntry({ pid: process.pid, start: systemProbe.startOf(process.pid), boot: systemProbe.boot, nonce: 'dd' })}`);
  assert.not.ok(isAlive(gone));
  mkdirSync(left);
  mkdirSync(live);
  const release = await acquireLock(path);
  await release();
  assert.not.ok(existsSync(left), "a dead run's is removed");
  assert.ok(existsSync(live), "a live run's is kept");
  rmSync(live, { recursive: true });
});

test('a lock file of the earlier version: refused while its PID runs, taken over when it is gone', async () => {
  const path = join(dir, 'legacy.lock');
  writeFileSync(path, `${process.pid}\n`);
  await acquireLock(path).then(
    () => assert.unreachable('taken from a live owner'),
    (e) => assert.instance(e, LockedError),
  );
  const gone = spawnSync(process.execPath, ['-e', '']).pid as number; // a process that has ended
  writeFileSync(path, `${gone}\n`);
  assert.not.ok(isAlive(gone));
  const release = await acquireLock(path);
  await release();
  assert.not.ok(existsSync(path));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
