/**
 * The signed catalog's publishing side: keys, signing on publish (the TUF order, all or nothing), the timestamp
 * job and root rotation, each checked with @tufjs/models' own verification of what was written.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOG_FILE, channelKey, parseChannel, releaseKeys } from '@airy/box-catalog';
import { Metadata, MetadataKind, type Root, type Snapshot, type Targets, type Timestamp } from '@tufjs/models';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { FileStore } from '../src/file-store.ts';
import { publishBox } from '../src/publish.ts';
import { documentCopyKey, initKeys, loadKeys, resignTimestamp, type SigningError } from '../src/signing.ts';
import type { ObjectStore, WriteCondition } from '../src/store.ts';
import { fakeBuild } from './helpers.ts';

const packageDir = new URL('..', import.meta.url).pathname;
const part = { partSize: 5 * 2 ** 20, concurrency: 2 };
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const sha = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');

async function metadataOf(store: ObjectStore) {
  const read = async (key: string) => JSON.parse((await store.get(`tuf/${key}`))?.body ?? 'null');
  const timestamp = Metadata.fromJSON(MetadataKind.Timestamp, await read('timestamp.json')) as Metadata<Timestamp>;
  const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, await read(`${timestamp.signed.snapshotMeta.version}.snapshot.json`)) as Metadata<Snapshot>;
  const targets = Metadata.fromJSON(MetadataKind.Targets, await read(`${snapshot.signed.meta['targets.json']?.version}.targets.json`)) as Metadata<Targets>;
  return { timestamp, snapshot, targets };
}

const rootOf = (file: string) => Metadata.fromJSON(MetadataKind.Root, JSON.parse(readFileSync(file, 'utf8'))) as Metadata<Root>;

type Built = Awaited<ReturnType<typeof fakeBuild>>;

async function publishSigned(store: ObjectStore, keysDir: string, version: string, given?: Built) {
  const built = given ?? (await fakeBuild(version));
  try {
    const result = await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, ...part, signing: await loadKeys(keysDir) });
    return { result, manifest: built.manifest };
  } finally {
    if (!given) rmSync(built.dir, { recursive: true, force: true });
  }
}

/** Runs a test with new keys (made by keys init) and an empty file store, both removed after it. */
async function withSignedStore(run: (s: { keysDir: string; storeDir: string; store: FileStore }) => Promise<void>) {
  const keysDir = temp('airy-keys-');
  const storeDir = temp('airy-store-');
  try {
    await initKeys(keysDir);
    await run({ keysDir, storeDir, store: new FileStore(storeDir) });
  } finally {
    rmSync(keysDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  }
}

test('keys init: four roles, private keys 0600 in a 0700 folder, a root signed by its own keys; never overwritten', async () => {
  const dir = temp('airy-keys-');
  try {
    const root = await initKeys(dir, { rootKeys: 3, rootThreshold: 2 });
    const files = readdirSync(join(dir, 'private')).sort();
    assert.equal(files, ['root-v1-1.pem', 'root-v1-2.pem', 'root-v1-3.pem', 'snapshot.pem', 'targets.pem', 'timestamp.pem']);
    for (const f of files) assert.is(statSync(join(dir, 'private', f)).mode & 0o777, 0o600, f);
    assert.is(statSync(join(dir, 'private')).mode & 0o777, 0o700);
    const onDisk = rootOf(join(dir, 'root.json'));
    assert.is(onDisk.signed.roles.root?.threshold, 2);
    assert.is(onDisk.signed.roles.root?.keyIDs.length, 3);
    assert.ok(onDisk.signed.consistentSnapshot);
    // The root vouches for itself (as a client checks the root it is given): no throw.
    onDisk.verifyDelegate('root', onDisk);
    assert.is(root.signed.version, 1);
    // The private keys never reach the public root.
    for (const f of files) assert.not.ok(readFileSync(join(dir, 'root.json'), 'utf8').includes(readFileSync(join(dir, 'private', f), 'utf8').split('\n')[1] ?? 'x'));
    await initKeys(dir).then(
      () => assert.unreachable('a second init must refuse'),
      (e: SigningError) => assert.is(e.reason, 'KEYS_EXIST'),
    );
    await initKeys(temp('airy-keys-'), { rootKeys: 1, rootThreshold: 2 }).then(
      () => assert.unreachable('a threshold above the keys must refuse'),
      (e: SigningError) => assert.is(e.reason, 'KEYS_INVALID'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('publish --keys: the catalog, box, chunk index and channel are signed targets; the chain verifies', async () => {
  await withSignedStore(async ({ keysDir, store }) => {
    const { result, manifest } = await publishSigned(store, keysDir, '1.0.0');
    assert.equal(result.signed, { targetsVersion: 1, snapshotVersion: 1, timestampVersion: 1, changed: true });
    const root = rootOf(join(keysDir, 'root.json'));
    assert.is((await store.get('tuf/1.root.json'))?.body, readFileSync(join(keysDir, 'root.json'), 'utf8'));
    const { timestamp, snapshot, targets } = await metadataOf(store);
    root.verifyDelegate('timestamp', timestamp);
    root.verifyDelegate('snapshot', snapshot);
    root.verifyDelegate('targets', targets);
    const keys = releaseKeys('1.0.0', 'libvirt', 'amd64');
    const box = targets.signed.targets[keys.box];
    assert.is(box?.length, manifest.size);
    assert.is(box?.hashes.sha256, manifest.sha256);
    const index = (await store.get(keys.chunks))?.body ?? '';
    assert.is(targets.signed.targets[keys.chunks]?.hashes.sha256, sha(index));
    // The catalog's signed copy, content-addressed, is the catalog as written.
    const catalog = targets.signed.targets[CATALOG_FILE];
    const copy = await store.get(documentCopyKey(CATALOG_FILE, catalog?.hashes.sha256 ?? ''));
    assert.is(copy?.body, (await store.get(CATALOG_FILE))?.body);
    assert.ok(targets.signed.targets[channelKey('latest')]);

    // A second release keeps the first's entries and moves every version on by one.
    const second = await publishSigned(store, keysDir, '1.1.0');
    assert.equal(second.result.signed, { targetsVersion: 2, snapshotVersion: 2, timestampVersion: 2, changed: true });
    const after = await metadataOf(store);
    assert.ok(after.targets.signed.targets[keys.box]?.equals(box as never));
    assert.ok(after.targets.signed.targets[releaseKeys('1.1.0', 'libvirt', 'amd64').box]);
  });
});

test('publish refuses to carry forward signed metadata edited in the store without its key', async () => {
  await withSignedStore(async ({ keysDir, storeDir, store }) => {
    await publishSigned(store, keysDir, '1.0.0');
    // Someone with the bucket adds a box to the signed targets, keeping the (now wrong) signature.
    const file = join(storeDir, 'tuf', '1.targets.json');
    const edited = JSON.parse(readFileSync(file, 'utf8'));
    edited.signed.targets['boxes/9.9.9/evil.box'] = { length: 1, hashes: { sha256: sha('x') } };
    writeFileSync(file, JSON.stringify(edited));
    const stampBefore = readFileSync(join(storeDir, 'tuf', 'timestamp.json'), 'utf8');
    await publishSigned(store, keysDir, '1.1.0').then(
      () => assert.unreachable('must refuse'),
      (e: SigningError) => {
        assert.is(e.reason, 'STORE_TAMPERED');
        assert.match(e.message, /1\.targets\.json/);
      },
    );
    assert.is(readFileSync(join(storeDir, 'tuf', 'timestamp.json'), 'utf8'), stampBefore, 'the timestamp in force is unchanged');
  });
});

/** A store whose timestamp write fails once: the signing is interrupted at its last step. */
class FailingTimestamp extends FileStore {
  failures = 1;
  override async put(key: string, body: string, condition?: WriteCondition): Promise<void> {
    if (key === 'tuf/timestamp.json' && this.failures-- > 0) throw new Error('the store went away');
    return super.put(key, body, condition);
  }
}

test('a publish interrupted before its timestamp leaves the last good metadata in force; the next one goes past it', async () => {
  const keysDir = temp('airy-keys-');
  const storeDir = temp('airy-store-');
  try {
    await initKeys(keysDir);
    await publishSigned(new FileStore(storeDir), keysDir, '1.0.0');
    const store = new FailingTimestamp(storeDir);
    const before = await metadataOf(store);
    const built = await fakeBuild('1.1.0');
    await publishSigned(store, keysDir, '1.1.0', built).then(
      () => assert.unreachable('the timestamp write fails'),
      (e: Error) => assert.match(e.message, /went away/),
    );
    const now = await metadataOf(store);
    assert.is(now.timestamp.signed.version, before.timestamp.signed.version, 'the old timestamp is in force');
    assert.not.ok(now.targets.signed.targets[releaseKeys('1.1.0', 'libvirt', 'amd64').box], 'clients see nothing of 1.1.0');
    // The orphan 2.targets.json / 2.snapshot.json are skipped, not waited on.
    const again = await publishSigned(store, keysDir, '1.1.0', built);
    rmSync(built.dir, { recursive: true, force: true });
    assert.not.ok(again.result.uploaded, 'the box was there: it is signed from the local file');
    assert.ok((again.result.signed?.targetsVersion ?? 0) > 2 && (again.result.signed?.snapshotVersion ?? 0) > 2, JSON.stringify(again.result.signed));
    assert.is(again.result.signed?.timestampVersion, 2);
    assert.is((await metadataOf(store)).targets.signed.targets[releaseKeys('1.1.0', 'libvirt', 'amd64').box]?.hashes.sha256, built.manifest.sha256);
  } finally {
    rmSync(keysDir, { recursive: true, force: true });
    rmSync(storeDir, { recursive: true, force: true });
  }
});

test('airy-box timestamp re-signs only the timestamp; it needs only the timestamp key', async () => {
  await withSignedStore(async ({ keysDir, storeDir, store }) => {
    const refused = runBin(packageDir, ['timestamp', '--keys', keysDir, '--to', `file://${storeDir}`]);
    assert.is(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /STORE_UNSIGNED: .*publish with --keys first/);
    await publishSigned(store, keysDir, '1.0.0');
    const before = await metadataOf(store);
    // The scheduled job's folder: the root and the timestamp key only.
    for (const f of ['targets.pem', 'snapshot.pem', 'root-v1-1.pem']) rmSync(join(keysDir, 'private', f));
    const run = runBin(packageDir, ['timestamp', '--keys', keysDir, '--to', `file://${storeDir}`]);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, /timestamp version 2 signed, valid until/);
    const after = await metadataOf(store);
    assert.is(after.timestamp.signed.version, 2);
    assert.is(after.snapshot.signed.version, before.snapshot.signed.version);
    assert.ok(after.timestamp.signed.expires > before.timestamp.signed.expires || after.timestamp.signed.expires === before.timestamp.signed.expires);
    rootOf(join(keysDir, 'root.json')).verifyDelegate('timestamp', after.timestamp);
    // Without the targets key a publish refuses before uploading anything.
    const built = await fakeBuild('1.1.0');
    const publish = runBin(packageDir, ['publish', '--from', built.dir, '--to', `file://${storeDir}`, '--keys', keysDir]);
    rmSync(built.dir, { recursive: true, force: true });
    assert.is(publish.status, 2, publish.stderr);
    assert.match(publish.stderr, /KEYS_MISSING: .* holds 0 of the 1 targets key/);
    assert.not.ok(await store.head(releaseKeys('1.1.0', 'libvirt', 'amd64').box), 'nothing uploaded');
  });
});

test('catalog promote --keys signs the moved channel (a rollback verifies); missing keys or an unsigned box move nothing', async () => {
  await withSignedStore(async ({ keysDir, storeDir, store }) => {
    await publishSigned(store, keysDir, '1.0.0');
    await publishSigned(store, keysDir, '1.1.0');
    const latest = channelKey('latest');
    const signedPointer = async () => {
      const { targets } = await metadataOf(store);
      const entry = targets.signed.targets[latest];
      const copy = await store.get(documentCopyKey(latest, entry?.hashes.sha256 ?? ''));
      return { targets, version: JSON.parse(copy?.body ?? '{}').version as string | undefined };
    };
    assert.is((await signedPointer()).version, '1.1.0');
    const promote = (keys: string[]) => runBin(packageDir, ['catalog', 'promote', '--box-version', '1.0.0', '--to', `file://${storeDir}`, ...keys]);

    // Without the snapshot key: refused before the pointer moves.
    const partial = temp('airy-keys-partial-');
    try {
      cpSync(keysDir, partial, { recursive: true });
      rmSync(join(partial, 'private', 'snapshot.pem'));
      const refused = promote(['--keys', partial]);
      assert.is(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /KEYS_MISSING: /);
      assert.is(parseChannel((await store.get(latest))?.body ?? '', 'latest').version, '1.1.0', 'the pointer did not move');
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }

    // The rollback, signed: the signed copy of the pointer says 1.0.0, and the chain verifies under the root.
    const run = promote(['--keys', keysDir]);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, /channel latest → 1\.0\.0 \(signed: targets version 3\)/);
    const after = await signedPointer();
    assert.is(after.version, '1.0.0');
    const { timestamp, snapshot } = await metadataOf(store);
    const root = rootOf(join(keysDir, 'root.json'));
    root.verifyDelegate('targets', after.targets);
    root.verifyDelegate('snapshot', snapshot);
    root.verifyDelegate('timestamp', timestamp);
    assert.is(snapshot.signed.meta['targets.json']?.version, after.targets.signed.version);

    // A version whose box is not a signed target (published without --keys) is not promoted with them.
    const built = await fakeBuild('1.2.0');
    try {
      await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, ...part, channel: 'beta' });
    } finally {
      rmSync(built.dir, { recursive: true, force: true });
    }
    const unsigned = runBin(packageDir, ['catalog', 'promote', '--box-version', '1.2.0', '--to', `file://${storeDir}`, '--keys', keysDir]);
    assert.is(unsigned.status, 1, unsigned.stderr);
    assert.match(unsigned.stderr, /TARGET_UNSIGNED: .*1\.2\.0.* is not among the signed targets: publish 1\.2\.0 with --keys first; the channel was not moved/);
    assert.is(parseChannel((await store.get(latest))?.body ?? '', 'latest').version, '1.0.0');
  });
});

test('keys rotate-root: version 2 signed by the old root keys and the new ones; the old keys retired; publish uploads it', async () => {
  await withSignedStore(async ({ keysDir, store }) => {
    await publishSigned(store, keysDir, '1.0.0');
    const v1 = rootOf(join(keysDir, 'root.json'));
    const run = runBin(packageDir, ['keys', 'rotate-root', keysDir, '--roles', 'timestamp']);
    assert.is(run.status, 0, run.stderr);
    const v2 = rootOf(join(keysDir, 'root.json'));
    assert.is(v2.signed.version, 2);
    // What a client holding v1 checks, then v2 on its own.
    v1.verifyDelegate('root', v2);
    v2.verifyDelegate('root', v2);
    assert.not.equal(v2.signed.roles.root?.keyIDs, v1.signed.roles.root?.keyIDs);
    assert.not.equal(v2.signed.roles.timestamp?.keyIDs, v1.signed.roles.timestamp?.keyIDs);
    assert.equal(v2.signed.roles.targets?.keyIDs, v1.signed.roles.targets?.keyIDs);
    assert.equal(readdirSync(join(keysDir, 'private', 'retired')).sort(), ['root-v1-1.pem', 'timestamp.pem']);
    for (const f of readdirSync(join(keysDir, 'private')).filter((n) => n.endsWith('.pem'))) {
      assert.is(statSync(join(keysDir, 'private', f)).mode & 0o777, 0o600, f);
    }
    // The old timestamp (signed by the retired key) is still accepted as ours; the new one is signed by the new key.
    await resignTimestamp(store, await loadKeys(keysDir));
    assert.is((await store.get('tuf/2.root.json'))?.body, readFileSync(join(keysDir, 'root.json'), 'utf8'));
    v2.verifyDelegate('timestamp', (await metadataOf(store)).timestamp);
    // A rotation without the root keys is refused.
    rmSync(join(keysDir, 'private'), { recursive: true });
    const refused = runBin(packageDir, ['keys', 'rotate-root', keysDir]);
    assert.is(refused.status, 2);
    assert.match(refused.stderr, /KEYS_MISSING: .*holds 0 of the 1 root key/);
  });
});

test('keys of another catalog are refused by a store that holds another root', async () => {
  const [a, b, storeDir] = [temp('airy-keys-'), temp('airy-keys-'), temp('airy-store-')];
  try {
    await initKeys(a);
    await initKeys(b);
    const store = new FileStore(storeDir);
    await publishSigned(store, a, '1.0.0');
    await publishSigned(store, b, '1.1.0').then(
      () => assert.unreachable('must refuse'),
      (e: SigningError) => assert.is(e.reason, 'ROOT_CONFLICT'),
    );
  } finally {
    for (const d of [a, b, storeDir]) rmSync(d, { recursive: true, force: true });
  }
});

test('keys init on the command line: flags, one line per refusal', () => {
  const dir = temp('airy-keys-');
  try {
    const made = runBin(packageDir, ['keys', 'init', dir, '--root-keys', '2', '--root-threshold', '2', '--timestamp-expires', '1']);
    assert.is(made.status, 0, made.stderr);
    assert.is(made.stdout.trim(), join(dir, 'root.json'));
    const root = rootOf(join(dir, 'root.json'));
    assert.is(root.signed.roles.root?.threshold, 2);
    assert.is((JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as { expiresDays: { timestamp: number } }).expiresDays.timestamp, 1);
    const again = runBin(packageDir, ['keys', 'init', dir]);
    assert.is(again.status, 2);
    assert.is(again.stderr.trim().split('\n').length, 1, again.stderr);
    assert.match(again.stderr, /KEYS_EXIST/);
    const bad = runBin(packageDir, ['keys', 'init', temp('airy-keys-'), '--root-expires', '-3']);
    assert.is(bad.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a keys folder's policy.json is checked, not believed: a damaged one is one line naming the key (KEYS_INVALID)", async () => {
  const dir = temp('airy-keys-');
  try {
    await initKeys(dir, {});
    const policy = join(dir, 'policy.json');
    for (const [text, said] of [
      ['{"expiresDays": {"root": 365, "targets": "soon", "snapshot": 7, "timestamp": 1}}', /policy\.json: expiresDays\.targets: must be a number above 0 and at most 36500, got "soon"/],
      ['{"expiresDays": {"root": 365, "targets": 90, "snapshot": 7}}', /policy\.json: expiresDays\.timestamp: is missing/],
      ['{"expiresDays": ', /policy\.json: not JSON/],
    ] as const) {
      writeFileSync(policy, text);
      const error = await loadKeys(dir).then(
        () => undefined,
        (e: unknown) => e as SigningError,
      );
      assert.is(error?.reason, 'KEYS_INVALID', String(error));
      assert.match(error?.message ?? '', said);
    }
    // Through the CLI: one line, exit 2, no stack trace.
    const cli = runBin(packageDir, ['timestamp', '--keys', dir, '--to', pathToFileURL(temp('airy-store-')).href]);
    assert.is(cli.status, 2, cli.stderr);
    assert.is(cli.stderr.trim().split('\n').length, 1, cli.stderr);
    assert.match(cli.stderr, /KEYS_INVALID/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
