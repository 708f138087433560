/**
 * The store is not trusted by publish: release records are checked with the catalog's own rules, a channel
 * pointer to a version the catalog lacks is moved, every S3 call has a deadline and the stop signal, and the file
 * store follows no links. Through the CLI, against files in temp folders and servers on loopback.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOG_FILE, channelKey, parseChannel, releaseKeys } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { packageJson, runBinAsync } from '../../../tools/testing/cli.ts';
import { S3RVER_CREDENTIALS } from '../../../tools/testing/s3.ts';
import { FileStore, parseLockHolder, StoreLinkError, staleLockReason } from '../src/file-store.ts';
import { S3Store, StoreDeadlineError, s3Client } from '../src/s3-store.ts';
import { fakeBuild } from './helpers.ts';

const packageDir = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'airy-store-trust-'));
const sha = 'a'.repeat(64);
const record = (over: Record<string, unknown> = {}, provider: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: '9.9.9',
    publishedAt: '2026-01-01T00:00:00Z',
    provider: {
      name: 'libvirt',
      url: 'https://boxes.example.com/9.9.9.box',
      checksum_type: 'sha256',
      checksum: sha,
      architecture: 'amd64',
      size: 1,
      ...provider,
    },
    ...over,
  });

async function publishedStore(name: string) {
  const root = join(work, name);
  const built = await fakeBuild('1.0.0');
  const first = await runBinAsync(packageDir, ['publish', '--from', built.dir, '--to', pathToFileURL(root).href]);
  assert.is(first.status, 0, first.stderr);
  return { root, built };
}

test('a hostile or damaged release record in the store is refused in one line, and the catalog stays as it was', async () => {
  const cases: [string, string, RegExp][] = [
    ['javascript URL', record({}, { url: 'javascript:alert(1)' }), /provider\.url: must be an http/],
    ['md5', record({}, { checksum_type: 'md5' }), /provider\.checksum_type: must be sha256/],
    ['sparc', record({}, { architecture: 'sparc' }), /provider\.architecture: unknown architecture/],
    ['not a version', record({ version: 'latest' }), /version: must be a semantic version/],
    ['in the wrong place', record({ version: '9.9.8' }), /belongs in releases\/9\.9\.8\/libvirt-amd64\.json/],
  ];
  for (const [name, text, why] of cases) {
    const { root } = await publishedStore(`records-${name.replaceAll(' ', '-')}`);
    const before = readFileSync(join(root, CATALOG_FILE), 'utf8');
    mkdirSync(join(root, 'releases/9.9.9'), { recursive: true });
    writeFileSync(join(root, 'releases/9.9.9/libvirt-amd64.json'), text);
    const next = await fakeBuild('1.0.1');
    const out = await runBinAsync(packageDir, ['publish', '--from', next.dir, '--to', pathToFileURL(root).href]);
    assert.is(out.status, 2, `${name}: ${out.stderr}`);
    const line = out.stderr.trim().split('\n').at(-1) ?? '';
    assert.match(line, /releases\/9\.9\.9\/libvirt-amd64\.json/, name);
    assert.match(line, why, name);
    assert.not.match(out.stderr, /\n\s+at /);
    assert.is(readFileSync(join(root, CATALOG_FILE), 'utf8'), before, `${name}: the catalog changed`);
  }
});

test("a channel pointer to a version the catalog does not have is moved, not reported as the channel's version", async () => {
  const { root } = await publishedStore('pointer');
  writeFileSync(join(root, channelKey('latest')), JSON.stringify({ channel: 'latest', version: '9.9.9', updatedAt: '2026-01-01T00:00:00Z' }));
  const next = await fakeBuild('1.0.1');
  const out = await runBinAsync(packageDir, ['publish', '--from', next.dir, '--to', pathToFileURL(root).href]);
  assert.is(out.status, 0, out.stderr);
  assert.match(out.stderr, /channel latest → 1\.0\.1/);
  assert.is(parseChannel(readFileSync(join(root, channelKey('latest')), 'utf8'), 'latest').version, '1.0.1');
});

test('the file store follows no links under its root: a linked folder is refused in one line, nothing is written through it', async () => {
  const { root } = await publishedStore('links');
  const elsewhere = join(work, 'elsewhere');
  mkdirSync(elsewhere);
  rmSync(join(root, 'boxes'), { recursive: true, force: true });
  symlinkSync(elsewhere, join(root, 'boxes'));
  const next = await fakeBuild('1.0.1');
  const out = await runBinAsync(packageDir, ['publish', '--from', next.dir, '--to', pathToFileURL(root).href]);
  assert.is(out.status, 2, out.stderr);
  assert.match(out.stderr.trim().split('\n').at(-1) ?? '', /holds a symbolic link at boxes: the store follows no links/);
  assert.equal(readdirSync(elsewhere), [], 'nothing was written through the link');
  const store = new FileStore(root);
  await store.get('boxes/1.0.0/x').then(
    () => assert.unreachable(),
    (e: unknown) => assert.ok(e instanceof StoreLinkError),
  );
});

test("the file store writes nothing through a link at a box's .sha256 name: refused in one line, the file it names untouched", async () => {
  const { root } = await publishedStore('sha-link');
  const victim = join(work, 'sha-link-victim.txt');
  writeFileSync(victim, 'precious\n');
  const next = await fakeBuild('1.0.1');
  const box = releaseKeys('1.0.1', 'libvirt', 'amd64').box;
  mkdirSync(join(root, box, '..'), { recursive: true });
  symlinkSync(victim, join(root, `${box}.sha256`));
  const out = await runBinAsync(packageDir, ['publish', '--from', next.dir, '--to', pathToFileURL(root).href]);
  assert.is(out.status, 2, out.stderr);
  assert.match(out.stderr.trim().split('\n').at(-1) ?? '', new RegExp(`holds a symbolic link at ${box.replaceAll('.', '\\.')}\\.sha256: the store follows no links`));
  assert.is(readFileSync(victim, 'utf8'), 'precious\n', 'nothing was written through the link');
  assert.not.ok(existsSync(join(root, box)), 'the box was not put in place');
  // head reads the checksum beside a box: a link there is refused too, not read.
  const store = new FileStore(root);
  writeFileSync(join(root, box), 'box');
  await store.head(box).then(
    () => assert.unreachable('head read through the link'),
    (e: unknown) => assert.ok(e instanceof StoreLinkError, String(e)),
  );
});

test('a stale metadata.json.lock (its publisher killed while holding it) is taken over and said so; a live one is named as it is', async () => {
  const { root } = await publishedStore('stale-lock');
  const lock = join(root, `${CATALOG_FILE}.lock`);
  const publish = async (version: string) => runBinAsync(packageDir, ['publish', '--from', (await fakeBuild(version)).dir, '--to', pathToFileURL(root).href]);
  const versions = () => (JSON.parse(readFileSync(join(root, CATALOG_FILE), 'utf8')) as { versions: { version: string }[] }).versions.map((v) => v.version);

  // As an earlier version's killed publisher left it: empty, ten minutes old.
  writeFileSync(lock, '');
  const old = new Date(Date.now() - 10 * 60_000);
  utimesSync(lock, old, old);
  const emptyOld = await publish('1.0.1');
  assert.is(emptyOld.status, 0, emptyOld.stderr);
  assert.match(emptyOld.stderr, /took over file:\/\/.*\/metadata\.json\.lock, held by a publisher that did not say who it is for \d+ s: it is \d+ s old/);
  assert.ok(versions().includes('1.0.1'), 'the catalog holds the new version');
  assert.not.ok(existsSync(lock), 'no lock is left behind');

  // Naming a process of this host that has exited: taken over at once, however fresh.
  const gone = spawnSync('true').pid;
  writeFileSync(lock, JSON.stringify({ pid: gone, host: hostname() }));
  const deadHolder = await publish('1.0.2');
  assert.is(deadHolder.status, 0, deadHolder.stderr);
  assert.match(deadHolder.stderr, new RegExp(`took over .*metadata\\.json\\.lock, held by process ${gone} on host .* its holder, process ${gone} on this host, is gone`));
  assert.ok(versions().includes('1.0.2'));

  // A live holder, fresh: not taken; the failure says who holds it and what to do, in one line.
  const holder = spawn('sleep', ['60']);
  try {
    const held = JSON.stringify({ pid: holder.pid, host: hostname() });
    writeFileSync(lock, held);
    const live = await publish('1.0.3');
    assert.is(live.status, 1, live.stderr);
    const line = live.stderr.trim().split('\n').at(-1) ?? '';
    assert.match(line, new RegExp(`metadata\\.json\\.lock is held by process ${holder.pid} on host ${hostname().replaceAll('.', '\\.')} for \\d+ s: another publish is writing metadata\\.json; wait for it, or, if no publisher runs, remove that file`));
    assert.not.match(live.stderr, /kept changing|\n\s+at /);
    assert.is(readFileSync(lock, 'utf8'), held, 'the live lock is left as it was');
    assert.not.ok(versions().includes('1.0.3'));
  } finally {
    holder.kill();
  }
});

test('staleLockReason: a holder of this host by its PID, any other and an unnamed one by age', () => {
  const here = { host: 'a', isAlive: (pid: number) => pid === 1, staleMs: 30_000 };
  assert.is(staleLockReason({ holder: { pid: 1, host: 'a' }, ageMs: 1000 }, here), undefined);
  assert.match(staleLockReason({ holder: { pid: 2, host: 'a' }, ageMs: 1000 }, here) ?? '', /process 2 on this host, is gone/);
  assert.is(staleLockReason({ holder: { pid: 2, host: 'b' }, ageMs: 1000 }, here), undefined, 'a PID of another host says nothing here');
  assert.match(staleLockReason({ holder: { pid: 2, host: 'b' }, ageMs: 31_000 }, here) ?? '', /31 s old/);
  assert.is(staleLockReason({ ageMs: 1000 }, here), undefined);
  assert.match(staleLockReason({ ageMs: 60_000 }, here) ?? '', /60 s old/);
  assert.equal(parseLockHolder('{"pid":7,"host":"h","nonce":"x"}'), { pid: 7, host: 'h' });
  assert.is(parseLockHolder(''), undefined);
  assert.is(parseLockHolder('{"pid":"7"}'), undefined);
});

/** An S3 endpoint that accepts every request and answers one byte a second, forever. */
async function tricklingStore(): Promise<{ endpoint: string; nextRequest: Promise<void>; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let arrived = () => {};
  const state = {
    nextRequest: new Promise<void>((r) => (arrived = r)),
  };
  const server: Server = createServer((req, res) => {
    const resolve = arrived;
    state.nextRequest = new Promise<void>((r) => (arrived = r));
    resolve();
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': '100000' });
    const timer = setInterval(() => res.write(' '), 1000);
    timers.add(timer);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get nextRequest() {
      return state.nextRequest;
    },
    stop: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test('a store that trickles: each call ends at its deadline, and SIGTERM ends publish with 143', async () => {
  const store = await tricklingStore();
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  try {
    const settings = { endpoint: store.endpoint, region: 'us-east-1' };
    const client = s3Client(settings);
    client.config.credentials = async () => ({ accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey });
    const s3 = new S3Store(client, { bucket: 'boxes', prefix: 'airy' }, settings, { deadlineMs: 1500 });
    // The store never finishes an answer: only the deadline can end the call, and the error says it did.
    await s3.get(CATALOG_FILE).then(
      () => assert.unreachable(),
      (e: unknown) => assert.ok(e instanceof StoreDeadlineError, String(e)),
    );

    const built = await fakeBuild('1.0.0');
    const [bin] = Object.values(packageJson(packageDir).bin);
    const child = spawn(
      process.execPath,
      [join(packageDir, bin as string), 'publish', '--from', built.dir, '--to', 's3://boxes/airy', '--endpoint', store.endpoint],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Signal only once publish is talking to the store (its handlers are set by then), not after a guessed delay:
    // under load a fixed wait could signal a process still loading its modules.
    await store.nextRequest;
    child.kill('SIGTERM');
    // A watchdog, not a timing claim: a publish that ignored SIGTERM would otherwise hang the suite.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exited;
    clearTimeout(watchdog);
    assert.is(code, 143, stderr);
    assert.match(stderr, /terminated: the publish stopped/);
  } finally {
    await store.stop();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
