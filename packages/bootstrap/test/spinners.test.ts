/** The wait as a user sees it: which component it is on, for how long, and the default that covers a first boot. */
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { type ProbeState, WAIT_DEFAULTS } from '../src/readiness.ts';
import { startSpinners, waitingLine } from '../src/spinners.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const NAMES = ['kafka', 'schema-registry', 'postgres', 'ingress', 'apps', 'api'];
const state = (name: string, ready: boolean, detail = ready ? 'ready' : 'waiting'): ProbeState => ({ name, ready, detail });

test('wait: the line names the first component not ready, how long it has been waited for, and the whole wait', () => {
  const states = NAMES.map((n, i) => state(n, i < 1));
  const at = { started: 0, headSince: 165_000, now: 245_000, timeoutMs: 30 * 60_000 };
  assert.is(waitingLine(states, at), 'waiting for schema-registry (1 min 20 s; 4 min 5 s of 30 min in all)');
  assert.is(waitingLine(states, { ...at, timeoutMs: undefined }), 'waiting for schema-registry (1 min 20 s; 4 min 5 s in all)');
  assert.is(waitingLine(NAMES.map((n) => state(n, true)), { ...at, now: 723_000 }), 'all ready after 12 min 3 s');
});

test('wait: without a TTY, each change is a line saying who the wait is on now and since when', () => {
  let clock = 1_000_000;
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
  const spinners = startSpinners(NAMES, stream, { now: () => clock, timeoutMs: 30 * 60_000 });
  clock += 30_000;
  spinners.update(state('postgres', true));
  clock += 60_000;
  spinners.update(state('kafka', true));
  clock += 45_000;
  spinners.update(state('schema-registry', false, 'HTTP 503'));
  spinners.stop();
  assert.equal(lines, [
    'ready: postgres is ready; waiting for kafka (30 s; 30 s of 30 min in all)\n',
    'ready: kafka is ready; waiting for schema-registry (0 s; 1 min 30 s of 30 min in all)\n',
    'ready: schema-registry not yet (HTTP 503); waiting for schema-registry (45 s; 2 min 15 s of 30 min in all)\n',
  ]);
});

test('wait: a first boot (the default command, upgrade) waits long enough for one; start waits for a later boot', () => {
  // A first boot is estimated at 12 to 18 minutes on 4 vCPUs: the default leaves half as much again.
  assert.ok(WAIT_DEFAULTS.firstBoot >= 18 * 60 * 1.5, `${WAIT_DEFAULTS.firstBoot} s`);
  assert.ok(WAIT_DEFAULTS.boot < WAIT_DEFAULTS.firstBoot);
  const help = (args: string[]) => runBin(packageDir, [...args, '--help']).stdout.replace(/\s+/g, ' ');
  assert.match(help([]), /--wait <time> how long to wait for the platform to be ready: .*\(default: 30m\)/);
  assert.match(help(['upgrade']), /--wait <time> .*\(default: 30m\)/);
  assert.match(help(['start']), /--wait <time> .*\(default: 20m\)/);
});

test.run();
