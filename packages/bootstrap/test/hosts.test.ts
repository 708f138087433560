/**
 * The hosts-file line: added once between our markers, every other line kept (CRLF too), taken out on destroy; and
 * never written without consent. Effects run on a temporary hosts file (AIRY_HOSTS_FILE / `file`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensureHostsEntry, hasHostsEntry, hostsFile, removeHostsEntry, withHostsEntry, withoutHostsEntry } from '../src/hosts.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-hosts-'));
const ORIGINAL = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n# my own comment\n10.0.0.5 nas.home\n';

test('added once between markers, replaced not repeated, removed leaving the file as it was', () => {
  const once = withHostsEntry(ORIGINAL, '192.168.56.10', 'airy.core');
  assert.ok(once.startsWith(ORIGINAL));
  assert.ok(hasHostsEntry(once, '192.168.56.10', 'airy.core'));
  const twice = withHostsEntry(once, '192.168.56.11', 'airy.core');
  assert.is(twice.match(/airy\.core/g)?.length, 1, 'one line, the newest address');
  assert.ok(hasHostsEntry(twice, '192.168.56.11', 'airy.core'));
  assert.is(withoutHostsEntry(twice), ORIGINAL);
  assert.is(withoutHostsEntry(ORIGINAL), ORIGINAL, 'no block: unchanged');
  // A file without a final newline, and a Windows one.
  assert.is(withoutHostsEntry(withHostsEntry('127.0.0.1 localhost', '192.168.56.10', 'airy.core')), '127.0.0.1 localhost\n');
  const crlf = ORIGINAL.replaceAll('\n', '\r\n');
  const added = withHostsEntry(crlf, '192.168.56.10', 'airy.core');
  assert.not.match(added.replaceAll('\r\n', ''), /\n/);
  assert.is(withoutHostsEntry(added), crlf);
});

test('a line of your own counts; comments do not; values are checked before they are written', () => {
  assert.ok(hasHostsEntry('192.168.56.10   airy.core other.name # mine\n', '192.168.56.10', 'airy.core'));
  assert.not.ok(hasHostsEntry('# 192.168.56.10 airy.core\n', '192.168.56.10', 'airy.core'));
  assert.not.ok(hasHostsEntry('192.168.56.1 airy.core\n', '192.168.56.10', 'airy.core'));
  assert.throws(() => withHostsEntry('', '192.168.56.10\n0.0.0.0', 'airy.core'), /not a hosts entry/);
  assert.throws(() => withHostsEntry('', '192.168.56.10', 'airy.core evil.example'), /not a hosts entry/);
  assert.is(hostsFile('linux', {}), '/etc/hosts');
  assert.is(hostsFile('win32', { SystemRoot: 'C:\\Windows' }), 'C:\\Windows\\System32\\drivers\\etc\\hosts');
  assert.is(hostsFile('linux', { AIRY_HOSTS_FILE: '/tmp/h' }), '/tmp/h');
});

test('ensure: with consent (--yes) it is added once; without a terminal to ask on nothing is written, the line is shown', async () => {
  const file = join(work, 'hosts');
  writeFileSync(file, ORIGINAL);
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log, file }), 'added');
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log, file }), 'present');
  assert.is(readFileSync(file, 'utf8').match(/airy\.core/g)?.length, 1);
  await removeHostsEntry({ log, file });
  assert.is(readFileSync(file, 'utf8'), ORIGINAL);

  // Tests run without a TTY: asking is impossible, so nothing changes and the user is told what to add.
  lines.length = 0;
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: false, log, file }), 'manual');
  assert.is(readFileSync(file, 'utf8'), ORIGINAL);
  assert.match(lines.join('\n'), /add "192\.168\.56\.10 airy\.core" to .*hosts yourself/);
  // Nothing of ours: remove leaves the file alone and says nothing.
  lines.length = 0;
  await removeHostsEntry({ log, file });
  assert.equal(lines, []);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
