/**
 * Hostile servers, damaged files and bad paths, through the CLI as a user runs it: every case ends in one line
 * that says what went wrong, with its exit code, and changes nothing it should not.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHostile } from '../../../tools/testing/hostile.ts';
import { download, DownloadError } from '../src/download/index.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const body = randomBytes(256 * 1024);
const sha256 = createHash('sha256').update(body).digest('hex');
const hostile = await startHostile({ body, trickleMs: 100, hugeBytes: 64 * 2 ** 20 });
const host = new URL(hostile.url).host;
const work = mkdtempSync(join(tmpdir(), 'airy-hostile-'));
let n = 0;
const fresh = () => join(work, `run-${n++}`, 'box.box');

/** A catalog served by the hostile server whose one box is at `path` there (or at `url`). */
function catalogFor(path: string, url = `${hostile.url}${path}`, size = body.length): string {
  const name = `catalog-${n++}.json`;
  const entry = { name: 'libvirt', url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size } as const;
  hostile.documents.set(name, stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
  return `${hostile.url}/json/${name}`;
}

const downloadArgs = (catalog: string, out: string, extra: string[] = []) => [
  'download', '--catalog', catalog, '--allow-unsigned', '--out', out, '--provider', 'libvirt', '--architecture', 'amd64', '--retries', '2', ...extra,
];

/** The one error line; the notice that --allow-unsigned prints first (these catalogs are unsigned) is not counted. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('notice: the catalog '));
  assert.is(lines.length, 1, stderr);
  assert.not.match(stderr, /unexpected error|\n\s+at /);
  return lines[0] as string;
}

test('a server that trickles the body is cut by the low-speed limit, and the error names the host and the rate', async () => {
  const out = fresh();
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/trickle-body'), out, ['--speed-limit', '1024', '--speed-time', '2']));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), new RegExp(`failed 2 times \\(last: ${host} sent less than 1024 B/s for 2 s\\): check the network`));
  assert.not.ok(existsSync(out) || existsSync(`${out}.verified`));
});

test('a catalog whose server trickles its headers ends at the catalog deadline', async () => {
  const run = await runBinAsync(packageDir, downloadArgs(`${hostile.url}/trickle-headers/metadata.json`, fresh(), ['--catalog-timeout', '2']));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), new RegExp(`cannot read the box catalog .* \\(${host} took longer than 2 s\\)`));
});

test('a box server that trickles its headers ends at the header deadline', async () => {
  const error = await download({ url: `${hostile.url}/trickle-headers`, sha256, out: fresh(), headersTimeoutMs: 1000, attempts: 1 }).catch((e) => e);
  assert.instance(error, DownloadError);
  assert.match(error.message, new RegExp(`${host} sent no response headers within 1 s`));
});

test('a 206 for other bytes than asked is retried, then blamed on the server, not on the box', async () => {
  const out = fresh();
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/wrong-range'), out));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), new RegExp(`answered bytes 1-${body.length}/${body.length} for bytes 0-${body.length - 1}\\): the server does not serve this file correctly`));
  assert.not.match(run.stderr, /checksum/);
  assert.not.ok(existsSync(out));
});

test('a probe answered with the whole file (as s3rver does for bytes=0-0) still learns the size, and the box is verified', async () => {
  const out = fresh();
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/whole-probe'), out));
  assert.is(run.status, 0, run.stderr);
  assert.is(createHash('sha256').update(readFileSync(out)).digest('hex'), sha256);
});

test('a server that sends more than asked is cut before a byte lands past the range', async () => {
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/long-body'), fresh()));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), new RegExp(`${host} sent more than the ${body.length} bytes asked for`));
});

test('a Content-Length larger than the body is a short body, retried, and nothing is kept as verified', async () => {
  const out = fresh();
  // The length it announces is not the catalog's size: refused before a byte is written.
  const refused = await runBinAsync(packageDir, downloadArgs(catalogFor('/short-length'), out));
  assert.is(refused.status, 1, refused.stderr);
  assert.match(oneLine(refused.stderr), new RegExp(`is ${body.length + 1000} bytes, but the catalog says ${body.length}: nothing was written`));
  // A catalog that says the same length: the body is short, retried, then refused.
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/short-length', undefined, body.length + 1000), out));
  assert.is(run.status, 1, run.stderr);
  // Progress lines come first (one stream, no ranges); the error is the last line.
  assert.not.match(run.stderr, /unexpected error|\n\s+at /);
  assert.match(run.stderr.trimEnd().split('\n').at(-1) ?? '', /failed 2 times \(last: (connection closed mid-body|short body|ECONNRESET|aborted)/);
  assert.not.ok(existsSync(out) || existsSync(`${out}.verified`));
});

test('a server without ranges or Content-Length still gives a verified box', async () => {
  const out = fresh();
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/no-length'), out));
  assert.is(run.status, 0, run.stderr);
  assert.is(createHash('sha256').update(readFileSync(out)).digest('hex'), sha256);
  assert.not.match(run.stderr, /-\d+%/, 'no negative percentage');
});

test('a catalog far larger than any catalog is refused without reading it whole', async () => {
  const run = await runBinAsync(packageDir, downloadArgs(`${hostile.url}/huge/metadata.json`, fresh()));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), /more than a catalog's 4194304 bytes/);
});

test('a redirect to a file: URL is refused', async () => {
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('/redirect-file'), fresh()));
  assert.is(run.status, 1, run.stderr);
  assert.match(oneLine(run.stderr), new RegExp(`${host} redirected to a file: URL, which is refused`));
});

test('an http catalog may not name a file: box', async () => {
  const local = join(work, 'local.box');
  writeFileSync(local, body);
  const run = await runBinAsync(packageDir, downloadArgs(catalogFor('', `file://${local}`), fresh()));
  assert.is(run.status, 2, run.stderr);
  assert.match(oneLine(run.stderr), /names a file: box \(file:\/\/.*\); only a file: catalog may/);
});

/** A file: catalog in a folder of its own (or `dir`) whose one box is at `url`. */
function fileCatalog(url: string, dir = join(work, `file-catalog-${n++}`)): string {
  mkdirSync(dir, { recursive: true });
  const entry = { name: 'libvirt', url, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: body.length } as const;
  writeFileSync(join(dir, 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
  return `file://${join(dir, 'metadata.json')}`;
}

test('a file: catalog naming a FIFO, or a box on another host, ends in one line (it never waits for a writer)', async () => {
  const fifoDir = join(work, 'fifo-catalog');
  mkdirSync(fifoDir);
  const fifo = join(fifoDir, 'box-fifo.box');
  spawnSync('mkfifo', [fifo]);
  for (const [url, said, dir] of [
    [`file://${fifo}`, /is not a plain file \(a FIFO, a device or a folder\): the catalog must point at a box file/, fifoDir],
    ['file://fileserver/boxes/box.box', /a file: URL with a host \(fileserver\) names another machine: the catalog must say file:\/\/\/path/, undefined],
  ] as const) {
    const child = spawn(process.execPath, [join(packageDir, 'lib/cli.js'), ...downloadArgs(fileCatalog(url, dir), fresh())], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    // A watchdog, not a measure: a run blocked in open() is ended so that the test can say so.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const status = await new Promise((r) => child.on('close', r));
    clearTimeout(watchdog);
    assert.is(status, 1, `${url}: ${status === null ? 'hung, killed by the watchdog' : stderr}`);
    assert.match(oneLine(stderr), said);
  }
});

test('control characters from a catalog (its version, provider, box URL) reach the terminal only as visible escapes', async () => {
  // A title-setting OSC, an OSC 52 clipboard write, a C1 CSI and DEL, as a hostile catalog server would send them.
  const evil = '\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x9b2J\x7f';
  const entry = { name: 'libvirt', url: `${hostile.url}/gone/${evil}`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: body.length };
  const catalogs = {
    version: { name: BOX_NAME, versions: [{ version: `1.0.0${evil}`, providers: [entry] }] },
    provider: { name: BOX_NAME, versions: [{ version: '1.0.0', providers: [{ ...entry, name: `libvirt${evil}` }] }] },
    url: { name: BOX_NAME, versions: [{ version: '1.0.0', providers: [entry] }] },
  };
  for (const [what, catalog] of Object.entries(catalogs)) {
    hostile.documents.set(`evil-${what}.json`, JSON.stringify(catalog));
    const run = await runBinAsync(packageDir, downloadArgs(`${hostile.url}/json/evil-${what}.json`, fresh()));
    assert.ok(run.status === 1 || run.status === 2, `${what}: ${run.status} ${run.stderr}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
    assert.not.match(run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, `${what}: a control character reached stderr: ${JSON.stringify(run.stderr)}`);
    assert.match(oneLine(run.stderr), /\\x1b\]0;owned\\x07|%1B\]0;owned%07/, what);
  }
});

test('a file: catalog names boxes in its own folder only, unless AIRY_BOX_ANYWHERE=1 says otherwise', async () => {
  // A file elsewhere on the machine: reached by its path, by `..`, or by a link in the catalog's folder.
  const elsewhere = join(work, 'elsewhere.box');
  writeFileSync(elsewhere, body);
  const linkDir = join(work, 'linking-catalog');
  mkdirSync(linkDir);
  symlinkSync(elsewhere, join(linkDir, 'link.box'));
  const catalogs = [
    fileCatalog(`file://${elsewhere}`),
    fileCatalog(`file://${linkDir}/../elsewhere.box`, linkDir),
    fileCatalog(`file://${join(linkDir, 'link.box')}`, linkDir),
  ];
  for (const catalog of catalogs) {
    const run = await runBinAsync(packageDir, downloadArgs(catalog, fresh()));
    assert.is(run.status, 1, run.stderr);
    assert.match(oneLine(run.stderr), /is outside the catalog's folder \(.*\): put the box beside the catalog, or set AIRY_BOX_ANYWHERE=1 to allow it/);
    assert.not.match(run.stderr, new RegExp(sha256), 'the file’s hash is not printed');
  }
  const allowed = await runBinAsync(packageDir, downloadArgs(catalogs[0] as string, fresh()), { env: { AIRY_BOX_ANYWHERE: '1' } });
  assert.is(allowed.status, 0, allowed.stderr);
  // A box beside its catalog (below it, as every published catalog has them) is read.
  const besideDir = join(work, 'beside-catalog');
  mkdirSync(join(besideDir, 'boxes'), { recursive: true });
  writeFileSync(join(besideDir, 'boxes', 'box.box'), body);
  const inside = await runBinAsync(packageDir, downloadArgs(fileCatalog(`file://${join(besideDir, 'boxes', 'box.box')}`, besideDir), fresh()));
  assert.is(inside.status, 0, inside.stderr);
});

test('a password in a catalog URL never appears in the error', async () => {
  const run = await runBinAsync(packageDir, downloadArgs('http://reader:s3cret-pw@127.0.0.1:1/metadata.json', fresh()));
  assert.is(run.status, 1, run.stderr);
  assert.not.match(run.stderr, /s3cret-pw/);
  assert.match(oneLine(run.stderr), /reader:\*\*\*@127\.0\.0\.1:1/);
});

test('--out naming a folder, a FIFO or a symbolic link is refused before anything is fetched', async () => {
  const dir = join(work, 'special');
  mkdirSync(join(dir, 'a-folder'), { recursive: true });
  spawnSync('mkfifo', [join(dir, 'a-fifo')]);
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'keep me');
  symlinkSync(victim, join(dir, 'a-link'));
  symlinkSync(victim, join(dir, 'linked-part.box.part'));
  const catalog = catalogFor('/ok');
  hostile.requests.length = 0;
  for (const [name, kind] of [['a-folder', 'a folder'], ['a-fifo', 'a FIFO'], ['a-link', 'a symbolic link'], ['linked-part.box', 'a symbolic link']] as const) {
    const run = await runBinAsync(packageDir, downloadArgs(catalog, join(dir, name)));
    assert.is(run.status, 2, run.stderr);
    assert.match(oneLine(run.stderr), new RegExp(`is ${kind}: name a plain file`));
  }
  assert.equal(hostile.requests.filter((r) => r.includes('/ok')), [], 'nothing was fetched');
  assert.is(readFileSync(victim, 'utf8'), 'keep me');
});

test('damaged resume state and a deleted part file: the next run starts over and finishes', async () => {
  const out = fresh();
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(`${out}.download.json`, '{"url": "x", "done": [0, 1');
  const first = await download({ url: `${hostile.url}/ok`, sha256, out, attempts: 1 });
  assert.is(first.size, body.length);
  const again = fresh();
  mkdirSync(join(again, '..'), { recursive: true });
  // Looks resumable, but the part file it speaks of is gone.
  const blockSize = 8 * 2 ** 20;
  writeFileSync(`${again}.download.json`, JSON.stringify({ url: `${hostile.url}/ok`, size: body.length, sha256, validator: '"hostile"', blockSize, done: [0] }));
  const second = await download({ url: `${hostile.url}/ok`, sha256, out: again, attempts: 1 });
  assert.is(second.resumedBytes, 0);
  assert.is(createHash('sha256').update(readFileSync(again)).digest('hex'), sha256);
});

test('a damaged instance.json is one line naming the file; a hostile checksum in it builds no path', async () => {
  const dir = join(work, 'instance');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'instance.json'), '{"catalog": "x", "boxN');
  let run = await runBinAsync(packageDir, ['status', '--dir', dir]);
  assert.is(run.status, 2, run.stderr);
  assert.match(oneLine(run.stderr), /instance\.json is damaged \(not JSON\): run airy-bootstrap again/);
  const state = { catalog: 'file:///x/metadata.json', boxName: 'airy/core', version: '1.0.0', provider: 'libvirt', sha256: '../../../etc/passwd', cpus: 2, memoryMiB: 2048 };
  writeFileSync(join(dir, 'instance.json'), JSON.stringify(state));
  run = await runBinAsync(packageDir, ['destroy', '--prune', '--dir', dir]);
  assert.is(run.status, 2, run.stderr);
  assert.match(oneLine(run.stderr), /instance\.json is damaged \(sha256: must be a SHA-256 of 64 hex digits, got "\.\.\/\.\.\/\.\.\/etc\/passwd"\)/);
});

test('SIGTERM ends a download like Ctrl-C: one line, exit 143, the lock released, the part kept', async () => {
  const out = fresh();
  const child = spawn(process.execPath, [join(packageDir, 'bin/airy-bootstrap.js'), ...downloadArgs(catalogFor('/trickle-body'), out)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  for (let i = 0; i < 100 && !existsSync(`${out}.part`); i++) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('close', r));
  assert.is(code, 143, stderr);
  assert.match(stderr, /airy-bootstrap: terminated/);
  assert.not.ok(existsSync(`${out}.lock`), 'the lock is released');
  assert.ok(existsSync(`${out}.part`), 'the partial download is kept for a resume');
});

test.after(async () => {
  await hostile.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
