import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitCode, REASONS, redact } from '@airy/cli-kit';
import { classify, TunnelError } from '../src/errors.ts';
import type { TunnelStatus } from '@airy/cli-kit';
import { type Clock, supervise, type TunnelDriver } from '../src/supervisor.ts';

/** The exit code the registry gives an error's reason. */
const exitOf = (e: TunnelError) => REASONS.find((r) => r.id === e.reason)?.exitCode;

const TOKEN = 'tok_live_0123456789abcdef';

/** A clock that never waits: it records each sleep and moves time forward. */
function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    random: () => 1,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

/** A driver scripted step by step: 'ok' opens (then drops after `dropAfter` ticks unless aborted), or throws. */
function scriptedDriver(script: (string | Error)[], controller: AbortController) {
  const opened: string[] = [];
  let closed = 0;
  const driver: TunnelDriver = {
    async open({ onDrop, forwardTo }) {
      const step = script.shift();
      if (step === undefined) {
        controller.abort();
        return { url: 'https://last.ngrok.app', close: async () => void closed++ };
      }
      if (step instanceof Error) throw step;
      opened.push(forwardTo);
      if (step.startsWith('drop:')) setTimeout(() => onDrop(step.slice(5)), 0);
      return { url: `https://${opened.length}.ngrok.app`, close: async () => void closed++ };
    },
  };
  return { driver, opened, closed: () => closed };
}

const options = { token: TOKEN, forwardTo: 'http://127.0.0.1:1', backoffBaseMs: 500, backoffCapMs: 8000 };

test('a dropped session reconnects with exponential backoff, reset after each success', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  const { driver } = scriptedDriver(['drop:session closed', new Error('failed to establish tcp connection'), new Error('failed to establish tcp connection'), 'drop:heartbeat timeout'], controller);
  const states: TunnelStatus[] = [];
  const final = await supervise(driver, clock, { ...options, onStatus: (s) => states.push(s) }, controller.signal);
  // After the first drop: 500; two failed dials: 1000, 2000; success resets; the next drop: 500 again.
  assert.equal(clock.sleeps, [500, 1000, 2000, 500]);
  assert.is(final.state, 'stopped');
  assert.is(final.reconnects, 4);
  assert.equal(
    [...new Set(states.map((s) => s.state))],
    ['connecting', 'online', 'reconnecting', 'stopped'],
  );
});

test('backoff is capped and jittered', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  const failures = Array.from({ length: 9 }, () => new Error('failed to establish tcp connection'));
  const { driver } = scriptedDriver(['drop:x', ...failures], controller);
  await supervise(driver, clock, { ...options, initialAttempts: 1 }, controller.signal);
  assert.ok(clock.sleeps.every((ms) => ms <= 8000));
  assert.is(clock.sleeps.at(-1), 8000, 'capped');
  const jittered = fakeClock();
  jittered.random = () => 0.25;
  const c2 = new AbortController();
  await supervise(scriptedDriver(['drop:x'], c2).driver, jittered, options, c2.signal);
  assert.equal(jittered.sleeps, [125], 'full jitter: a random share of the step');
});

test('a rejected token is final: TUNNEL_REJECTED_TOKEN (exit 11), no retry', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  const { driver } = scriptedDriver([new Error('ERR_NGROK_105: The authentication you specified does not look like a proper credential')], controller);
  await supervise(driver, clock, options, controller.signal).then(
    () => assert.unreachable('should fail'),
    (e: TunnelError) => {
      assert.is(e.reason, 'TUNNEL_REJECTED_TOKEN');
      assert.is(exitOf(e), ExitCode.tunnelRejectedToken);
      assert.equal(clock.sleeps, []);
    },
  );
});

test('a first connection that keeps failing gives up after its attempts: no network, TUNNEL_NO_NETWORK (exit 12)', async () => {
  const controller = new AbortController();
  const clock = fakeClock();
  const { driver } = scriptedDriver(Array.from({ length: 10 }, () => new Error('failed to connect session: failed to establish tcp connection')), controller);
  await supervise(driver, clock, { ...options, initialAttempts: 3 }, controller.signal).then(
    () => assert.unreachable('should fail'),
    (e: TunnelError) => {
      assert.is(e.reason, 'TUNNEL_NO_NETWORK');
      assert.is(exitOf(e), ExitCode.tunnelNoNetwork);
      assert.is(clock.sleeps.length, 2);
    },
  );
});

test('the token never reaches the status, whatever the SDK says', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  const { driver } = scriptedDriver([`drop:remote closed session for authtoken ${TOKEN}`], controller);
  await supervise(driver, fakeClock(), { ...options, onStatus: (s) => seen.push(JSON.stringify(s)) }, controller.signal);
  assert.ok(seen.length > 0);
  assert.not.ok(seen.some((s) => s.includes(TOKEN)));
});

test('errors are classified, each with its own reason and, by the registry, its own exit code', () => {
  const cases: [string, string, number][] = [
    ['ERR_NGROK_105 invalid authtoken', 'TUNNEL_REJECTED_TOKEN', ExitCode.tunnelRejectedToken],
    ['ERR_NGROK_108: Your account is limited to 1 simultaneous ngrok agent sessions.', 'TUNNEL_SESSION_LIMIT', ExitCode.tunnelSessionLimit],
    ['failed to establish tcp connection', 'TUNNEL_NO_NETWORK', ExitCode.tunnelNoNetwork],
    ['something else', 'TUNNEL_FAILED', ExitCode.failed],
  ];
  for (const [message, reason, code] of cases) {
    const e = classify(new Error(message), TOKEN);
    assert.is(e.reason, reason, message);
    assert.is(exitOf(e), code, message);
    // The library names a reason only: the exit code is the CLI's, from the registry.
    assert.not.ok('exitCode' in e, message);
  }
  assert.is(redact(`a ${TOKEN} b ${TOKEN}`, [TOKEN]), 'a *** b ***');
  assert.ok(classify(new Error(`bad token ${TOKEN}`), TOKEN) instanceof TunnelError);
  assert.not.match(classify(new Error(`bad token ${TOKEN}`), TOKEN).message, TOKEN);
});

test.run();
