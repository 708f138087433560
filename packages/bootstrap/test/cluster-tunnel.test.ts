/**
 * The in-cluster tunnel's token hand-over: checked before use, carried on stdin into a root-only file, never on a
 * command line or in a message. The VM side of the command runs here in a real shell, with `sudo` and `systemctl`
 * stood in by scripts that record what they were asked.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { BOX_FACTS } from '../src/box-facts.ts';
import { handOverCommand, handOverToken, tunnelToken } from '../src/cluster-tunnel.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = '2abcDEF_ghi-0123456789jklmnopQRSTUV';
const work = mkdtempSync(join(tmpdir(), 'airy-cluster-tunnel-'));

test('the token comes from NGROK_AUTHTOKEN, checked; a bad one is refused without being shown', () => {
  assert.is(tunnelToken({ NGROK_AUTHTOKEN: ` ${TOKEN}\n` }), TOKEN);
  assert.throws(() => tunnelToken({}), /set NGROK_AUTHTOKEN/);
  const hostile = "abc'; reboot; echo 'xxxxxxxxxxxxxxxxxxxxxxxx";
  try {
    tunnelToken({ NGROK_AUTHTOKEN: hostile });
    assert.unreachable('a token with shell syntax is refused');
  } catch (e) {
    assert.match(String(e), /does not look like an ngrok authtoken/);
    assert.not.match(String(e), /reboot/);
  }
});

test('the VM command writes stdin to a 0600 file in a 0700 folder and applies only the tunnel (no restart of provisioning); the token is not in it', () => {
  const bin = join(work, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  const calls = join(work, 'systemctl.calls');
  writeFileSync(join(bin, 'sudo'), '#!/bin/sh\nexec "$@"\n');
  // Provisioning finished (active) or still running (activating: is-active fails).
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> '${calls}'\n[ "$AIRY_STATE" = active ]\n`);
  const provisioning = join(bin, 'provisioning.sh');
  writeFileSync(provisioning, `#!/bin/sh\necho "provisioning.sh $*" >> '${calls}'\n`);
  for (const tool of ['sudo', 'systemctl', 'provisioning.sh']) chmodSync(join(bin, tool), 0o755);
  const file = join(work, 'etc-airy', 'ngrok-authtoken');
  const command = handOverCommand(file, provisioning);
  assert.not.ok(command.includes(TOKEN));
  const handOver = (state: string) => {
    rmSync(calls, { force: true });
    const run = spawnSync('bash', ['-c', command], { input: TOKEN, env: { ...process.env, AIRY_STATE: state, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    return readFileSync(calls, 'utf8');
  };
  assert.is(handOver('active'), 'systemctl is-active --quiet airy-core.service\nprovisioning.sh tunnel\n');
  assert.is(readFileSync(file, 'utf8'), TOKEN);
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(statSync(join(work, 'etc-airy')).mode & 0o777, 0o700);
  assert.not.ok(existsSync(`${file}.part`));
  // Still provisioning: its own last step applies the tunnel from the file; nothing is restarted either way.
  assert.is(handOver('activating'), 'systemctl is-active --quiet airy-core.service\n');
  assert.is(readFileSync(file, 'utf8'), TOKEN);
  assert.throws(() => handOverCommand('/etc/airy/$(reboot)'), /unsafe path/);
  assert.is(handOverCommand().includes(BOX_FACTS.ngrok.tokenFile), true, 'the box’s file, from its facts');
});

test('hand-over: the token travels in a 0600 file, removed afterwards; a failure names ssh’s reason, redacted', async () => {
  const dir = mkdtempSync(join(work, 'instance-'));
  let seen: { command: string; content: string; mode: number } | undefined;
  await handOverToken(dir, TOKEN, async (_dir, command, files) => {
    seen = { command, content: readFileSync(files.input, 'utf8'), mode: statSync(files.input).mode & 0o777 };
    return { ok: true, reason: '' };
  });
  assert.equal(seen, { command: handOverCommand(), content: TOKEN, mode: 0o600 });
  assert.equal(readdirSync(dir), [], 'nothing left beside the instance');
  try {
    await handOverToken(dir, TOKEN, async () => ({ ok: false, reason: `cat: write error near ${TOKEN}` }));
    assert.unreachable('a failed copy is an error');
  } catch (e) {
    assert.match(String(e), /could not hand the ngrok authtoken to the VM: cat: write error near \*\*\*/);
    assert.not.match(String(e), TOKEN);
  }
  assert.equal(readdirSync(dir), [], 'nothing left after a failure either');
});

test('cluster-tunnel: no token, or no instance, is one line with exit 2; the token is never printed', () => {
  const empty = mkdtempSync(join(work, 'none-'));
  const env = { ...process.env, NGROK_AUTHTOKEN: '' };
  const noToken = runBin(packageDir, ['cluster-tunnel', '--dir', empty], { env });
  assert.is(noToken.status, 2, noToken.stderr);
  assert.match(noToken.stderr, /set NGROK_AUTHTOKEN/);
  assert.is(noToken.stderr.trim().split('\n').length, 1);
  const noInstance = runBin(packageDir, ['cluster-tunnel', '--dir', empty], { env: { ...process.env, NGROK_AUTHTOKEN: TOKEN } });
  assert.is(noInstance.status, 2, noInstance.stderr);
  assert.match(noInstance.stderr, /no Airy Core instance in/);
  assert.not.ok((noInstance.stdout + noInstance.stderr).includes(TOKEN));
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
