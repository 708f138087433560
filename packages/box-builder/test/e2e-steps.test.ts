/**
 * The end to ends' step runner (tools/e2e/steps.ts), without a VM: the order, a failing step stopping the run and the
 * cleanups running anyway, skip reasons, and the summary.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { elapsed, logName, StepRunner, summaryTable } from '../../../tools/e2e/steps.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-e2e-steps-'));

/** A runner on a clock the steps move (each step takes `seconds`), printing into `lines`. */
function fixture() {
  let clock = 1_000_000;
  const lines: string[] = [];
  const logs = mkdtempSync(join(work, 'logs-'));
  const runner = new StepRunner({ label: 'e2e', logs, write: (t) => lines.push(t), now: () => clock, tailLines: 2 });
  const order: string[] = [];
  const step = (name: string, seconds: number, fail?: string) => ({
    name,
    run: async (log: string) => {
      order.push(name);
      clock += seconds * 1000;
      writeFileSync(log, `${name}: line 1\n${name}: line 2\n${name}: line 3\n`);
      if (fail) throw new Error(`${fail}\nmore detail that stays in the log`);
    },
  });
  return { runner, lines, order, step, logs };
}

test('steps run in order, each announced with the time since the run began, and timed', async () => {
  const { runner, lines, order, step } = fixture();
  assert.is(await runner.run([step('base image', 3), step('box build', 65), step('publish', 2)]), true);
  assert.equal(order, ['base image', 'box build', 'publish']);
  assert.equal(lines, ['e2e: base image… (0 s in)\n', 'e2e: box build… (3 s in)\n', 'e2e: publish… (1 min 8 s in)\n']);
  assert.equal(
    runner.records.map((r) => [r.name, r.result, r.seconds]),
    [['base image', 'passed', 3], ['box build', 'passed', 65], ['publish', 'passed', 2]],
  );
  assert.is(await runner.finish(), true);
  assert.match(lines.at(-1) ?? '', /^e2e: passed after 1 min 10 s\n$/);
});

test('a failing step stops the run: the rest is not run, the cleanups run (last first), the log tail is shown', async () => {
  const { runner, lines, order, step, logs } = fixture();
  const cleaned: string[] = [];
  runner.onCleanup('stop s3rver', async () => void cleaned.push('s3rver'));
  runner.onCleanup('destroy the VM', async () => void cleaned.push('vm'));
  assert.is(await runner.run([step('publish', 1), step('bootstrap up', 2, 'vagrant up failed'), step('checks in the VM', 1)]), false);
  // A later phase does not start either.
  assert.is(await runner.run([step('upgrade', 1)]), false);
  assert.equal(order, ['publish', 'bootstrap up']);
  assert.equal(runner.records.map((r) => r.result), ['passed', 'failed', 'not run', 'not run']);
  const failure = lines.find((l) => l.includes('failed:')) ?? '';
  assert.is(failure, `e2e: step "bootstrap up" failed: vagrant up failed\nbootstrap up: line 2\nbootstrap up: line 3\nfull logs: ${logs}\n`);
  assert.equal(cleaned, []);
  assert.is(await runner.finish(), false);
  assert.equal(cleaned, ['vm', 's3rver']);
  const summary = lines.find((l) => l.includes('| step |')) ?? '';
  assert.match(summary, /\| bootstrap up \| failed: vagrant up failed \| 2\.0 \|/);
  assert.match(summary, /\| checks in the VM \| not run \| \|/);
  assert.match(lines.at(-1) ?? '', /^e2e: failed after /);
});

test('a step that throws before writing its log still reports, and its log starts empty each run', async () => {
  const { runner, lines, logs } = fixture();
  writeFileSync(join(logs, logName('box contents')), 'an old run’s output\n');
  await runner.run([{ name: 'box contents', run: async () => Promise.reject(new Error('the catalog entry does not match box.json')) }]);
  assert.is(readFileSync(join(logs, 'box-contents.log'), 'utf8'), '');
  assert.is(lines.at(-1), `e2e: step "box contents" failed: the catalog entry does not match box.json\nfull logs: ${logs}\n`);
});

test('a skipped step says why, is counted as skipped, and does not fail the run', async () => {
  const { runner, lines, order, step } = fixture();
  await runner.run([step('box contents', 1), { ...step('bootstrap up', 1), skip: 'run without --vm' }, step('last', 1)]);
  assert.equal(order, ['box contents', 'last']);
  assert.ok(lines.includes('e2e: bootstrap up: skipped: run without --vm\n'));
  assert.is(await runner.finish(), true);
  assert.match(lines.join(''), /\| bootstrap up \| skipped: run without --vm \| \|/);
  assert.match(lines.join(''), /\| total \(wall\) \| passed: 2 passed, 0 failed, 1 skipped, 0 not run \| 2\.0 \|/);
});

test('a failing cleanup fails the run, and the other cleanups still run', async () => {
  const { runner, lines, step } = fixture();
  const cleaned: string[] = [];
  runner.onCleanup('remove the boxes', async () => void cleaned.push('boxes'));
  runner.onCleanup('destroy the VM', async () => {
    throw new Error('virsh: domain busy');
  });
  await runner.run([step('only', 1)]);
  assert.is(await runner.finish(), false);
  assert.equal(cleaned, ['boxes']);
  assert.ok(lines.includes('e2e: cleanup "destroy the VM" failed: virsh: domain busy\n'));
  assert.match(lines.join(''), /\| cleanup: destroy the VM \| failed: virsh: domain busy \| \|/);
});

test('the summary: a row per step, the wall time, the figures under it', () => {
  const table = summaryTable(
    [
      { name: 'box build 0.0.1', result: 'passed', seconds: 95.25 },
      { name: 'tunnel', result: 'skipped', detail: 'NGROK_AUTHTOKEN is not set' },
      { name: 'a | b', result: 'failed', seconds: 1, detail: 'x | y' },
    ],
    120,
    ['delta download 0.0.1 → 0.0.2: fetched 5 MiB of 250 MiB'],
  );
  assert.is(
    table,
    [
      '| step | result | seconds |',
      '|---|---|---|',
      '| box build 0.0.1 | passed | 95.3 |',
      '| tunnel | skipped: NGROK_AUTHTOKEN is not set | |',
      '| a \\| b | failed: x \\| y | 1.0 |',
      '| total (wall) | failed: 1 passed, 1 failed, 1 skipped, 0 not run | 120.0 |',
      'delta download 0.0.1 → 0.0.2: fetched 5 MiB of 250 MiB',
    ].join('\n'),
  );
  assert.is(elapsed(59.4), '59 s');
  assert.is(elapsed(3600), '60 min 0 s');
  assert.is(logName('publish 0.0.2 to the folder'), 'publish-0.0.2-to-the-folder.log');
  assert.is(logName('box build (every download)'), 'box-build-every-download.log');
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
