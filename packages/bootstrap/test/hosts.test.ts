/**
 * The hosts-file line: added once between our markers, every other line kept (CRLF too), taken out on destroy; and
 * never written without consent. Effects run on a temporary hosts file (AIRY_HOSTS_FILE / `file`).
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

test('lossless: a file it cannot read is never written, and the line to add is shown', async () => {
  // A folder where the file should be: reading fails (EISDIR), as a permission error would.
  const unreadable = join(work, 'unreadable');
  mkdirSync(unreadable);
  const lines: string[] = [];
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: (l) => lines.push(l), file: unreadable }), 'manual');
  assert.ok(statSync(unreadable).isDirectory(), 'nothing replaced it');
  assert.match(lines.join('\n'), /could not be read \(EISDIR\), so it was not changed; add "192\.168\.56\.10 airy\.core" to it yourself/);
  const missing = join(work, 'no-such-hosts');
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: () => undefined, file: missing }), 'manual');
  assert.not.ok(existsSync(missing), 'no hosts file of ours alone, without localhost');
});

test('lossless: an orphan begin marker (its end line deleted) or a block with lines of yours is left alone by destroy', async () => {
  const file = join(work, 'hosts-orphan');
  const orphan = `127.0.0.1 localhost\n# >>> airy-core (airy-bootstrap): remove with airy-bootstrap destroy\n192.168.56.10 airy.core\n10.0.0.5 nas.home\n::1 localhost\n`;
  const inside = `127.0.0.1 localhost\n# >>> airy-core (airy-bootstrap): remove with airy-bootstrap destroy\n192.168.56.10 airy.core\n10.0.0.5 nas.home\n# <<< airy-core\n`;
  for (const text of [orphan, inside]) {
    writeFileSync(file, text);
    const lines: string[] = [];
    await removeHostsEntry({ log: (l) => lines.push(l), file });
    assert.is(readFileSync(file, 'utf8'), text, 'every line kept');
    assert.match(lines.join('\n'), /was not changed|was edited, so it was not changed/);
    assert.is(withoutHostsEntry(text), text);
    assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: () => undefined, file }), 'present');
  }
  // An orphan marker and no entry: not added on top of it either.
  const damaged = '127.0.0.1 localhost\n# >>> airy-core (airy-bootstrap): remove with airy-bootstrap destroy\n';
  writeFileSync(file, damaged);
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: () => undefined, file }), 'manual');
  assert.is(readFileSync(file, 'utf8'), damaged);
});

test('lossless: CRLF, mixed endings and bytes that are not UTF-8 come back byte for byte; the write is a whole new file', async () => {
  const file = join(work, 'hosts-bytes');
  const original = Buffer.concat([
    Buffer.from('127.0.0.1 localhost\r\n# caf'),
    Buffer.from([0xe9, 0xff]),
    Buffer.from(' mixed endings\n10.0.0.5 nas.home\r\n'),
  ]);
  writeFileSync(file, original, { mode: 0o644 });
  const before = statSync(file).ino;
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: () => undefined, file }), 'added');
  const added = readFileSync(file);
  assert.ok(added.subarray(0, original.length).equals(original), 'every byte before our block is kept');
  assert.match(added.subarray(original.length).toString('latin1'), /^# >>> airy-core[^\n]*\r\n192\.168\.56\.10 airy\.core\r\n# <<< airy-core\r\n$/);
  assert.is.not(statSync(file).ino, before, 'replaced by rename, not rewritten in place');
  assert.is(statSync(file).mode & 0o777, 0o644, 'its mode kept');
  await removeHostsEntry({ log: () => undefined, file });
  assert.ok(readFileSync(file).equals(original), 'destroy leaves the original bytes');
  assert.equal(readdirSync(work).filter((f) => f.includes('.airy-')), [], 'no temporary file left');
});

test('a symbolic link (as NixOS makes /etc/hosts) stays a link and its target is not written: one line says where to add it', async () => {
  const target = join(work, 'nix-store-hosts');
  writeFileSync(target, ORIGINAL);
  const file = join(work, 'hosts-link');
  symlinkSync(target, file);
  const lines: string[] = [];
  assert.is(await ensureHostsEntry('192.168.56.10', 'airy.core', { yes: true, log: (l) => lines.push(l), file }), 'manual');
  assert.ok(lstatSync(file).isSymbolicLink(), 'still a link');
  assert.is(readlinkSync(file), target);
  assert.is(readFileSync(target, 'utf8'), ORIGINAL);
  assert.is(lines.length, 1);
  assert.match(lines[0] ?? '', /hosts-link is a symbolic link to .*nix-store-hosts, so it was not changed; add "192\.168\.56\.10 airy\.core" where it is made \(NixOS: networking\.hosts/);
  // A block of ours that got there anyway is not removed through the link either.
  writeFileSync(target, withHostsEntry(ORIGINAL, '192.168.56.10', 'airy.core'));
  const removal: string[] = [];
  await removeHostsEntry({ log: (l) => removal.push(l), file });
  assert.ok(lstatSync(file).isSymbolicLink());
  assert.match(removal.join('\n'), /is a symbolic link to .*: remove the airy-core lines where it is made/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
