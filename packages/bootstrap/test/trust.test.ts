/**
 * The signed catalog, as bootstrap meets it: real catalogs published and signed by box-builder, served over HTTP on
 * loopback (and as a file: catalog), verified by `airy-bootstrap download --trusted-root`. Every refusal is one
 * line with its reason code, exit code 1 (2 for a root that is not one), and nothing at --out.
 */
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initKeys, loadKeys, type ObjectStore, openStore, publishBox, resignTimestamp, rotateRoot } from '@airy/box-builder';
import { BOX_NAME, type BoxContentManifest, CATALOG_FILE, parseCatalog, releaseKeys, stringifyCatalog } from '@airy/box-catalog';
import { Metadata, MetadataKind, Signature, type Timestamp } from '@tufjs/models';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { committedRoot, publicRootModule } from '../../../tools/public-root.ts';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp, type TestHttp } from '../../../tools/testing/http.ts';
import { DEFAULT_CATALOG } from '../src/paths.ts';
import { PUBLIC_ROOT } from '../src/public-root.ts';
import { loadCatalog, trustFor } from '../src/source.ts';
import { chooseTrust, isVerified } from '../src/trust.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const sha = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A signed catalog in a folder, served over HTTP; its keys; a cache and an output folder for bootstrap. */
interface Repo {
  readonly storeDir: string;
  readonly keysDir: string;
  readonly cache: string;
  readonly outDir: string;
  readonly http?: TestHttp;
  readonly catalogUrl: string;
  readonly store: ObjectStore;
  publish(version: string, options?: { now?: Date; bytes?: number }): Promise<{ box: Buffer }>;
  download(args?: string[]): Promise<{ status: number | null; stdout: string; stderr: string }>;
  cleanup(): Promise<void>;
}

function manifestOf(version: string, box: Buffer): BoxContentManifest {
  return {
    name: BOX_NAME,
    version,
    provider: 'libvirt',
    architecture: 'amd64',
    size: box.length,
    sha256: sha(box),
    createdAt: '2026-12-06T00:00:00Z',
    gitCommit: 'test',
    components: {},
    images: [],
    manifestsHash: 'test',
    skipped: [],
  } as unknown as BoxContentManifest;
}

async function signedRepo(options: { file?: boolean } = {}): Promise<Repo> {
  const [storeDir, keysDir, cache, outDir, work] = ['store', 'keys', 'cache', 'out', 'work'].map((p) => temp(`airy-trust-${p}-`)) as [string, string, string, string, string];
  const http = options.file ? undefined : await startHttp(storeDir);
  const store = openStore(`file://${storeDir}`, http ? { publicUrl: http.url } : {});
  await initKeys(keysDir);
  const catalogUrl = http ? `${http.url}/${CATALOG_FILE}` : `file://${storeDir}/${CATALOG_FILE}`;
  return {
    storeDir,
    keysDir,
    cache,
    outDir,
    ...(http ? { http } : {}),
    catalogUrl,
    store,
    async publish(version, o = {}) {
      const box = randomBytes(o.bytes ?? 96 * 1024);
      const boxFile = join(work, `${version}.box`);
      writeFileSync(boxFile, box);
      await publishBox(store, { boxFile, manifest: manifestOf(version, box), partSize: 5 * 2 ** 20, concurrency: 1, signing: await loadKeys(keysDir), ...(o.now ? { now: o.now } : {}) });
      return { box };
    },
    download: (args = []) =>
      runBinAsync(packageDir, ['download', '--catalog', catalogUrl, '--out', join(outDir, 'box.box'), '--cache', cache, '--retries', '1', ...args]),
    async cleanup() {
      await http?.stop();
      for (const d of [storeDir, keysDir, cache, outDir, work]) rmSync(d, { recursive: true, force: true });
    },
  };
}

const trusted = (repo: Repo, root = join(repo.keysDir, 'root.json')) => ['--trusted-root', root];

/** A refusal: exit 1 (unless said), one line naming `reason`, and nothing at --out. */
function assertRefused(repo: Repo, run: { status: number | null; stderr: string }, reason: string, status = 1) {
  assert.is(run.status, status, run.stderr);
  // Progress and the verified catalog's line are not refusals: the refusal is the one line left.
  const lines = run.stderr.trim().split('\n').filter((l) => !/^(catalog verified|download \d)/.test(l));
  assert.is(lines.length, 1, run.stderr);
  assert.match(lines[0] ?? '', new RegExp(`refused \\(${reason}\\): `));
  assert.equal(readdirSync(repo.outDir), [], 'nothing at --out');
}

/** Replaces the box of `version` in the bucket and rewrites every unsigned checksum to match (catalog, record, .sha256). */
function swapBox(repo: Repo, version: string, evil: Buffer) {
  const keys = releaseKeys(version, 'libvirt', 'amd64');
  writeFileSync(join(repo.storeDir, keys.box), evil);
  writeFileSync(join(repo.storeDir, `${keys.box}.sha256`), `${sha(evil)}\n`);
  const recordFile = join(repo.storeDir, keys.record);
  const record = JSON.parse(readFileSync(recordFile, 'utf8'));
  record.provider.checksum = sha(evil);
  record.provider.size = evil.length;
  writeFileSync(recordFile, JSON.stringify(record));
  const catalogFile = join(repo.storeDir, CATALOG_FILE);
  const catalog = parseCatalog(readFileSync(catalogFile, 'utf8'), 'c');
  for (const v of catalog.versions) for (const p of v.providers) if (v.version === version) Object.assign(p, { checksum: sha(evil), size: evil.length });
  writeFileSync(catalogFile, stringifyCatalog(catalog));
}

test('a signed catalog over HTTP verifies; the box is downloaded as a signed target', async () => {
  const repo = await signedRepo();
  try {
    const { box } = await repo.publish('1.0.0');
    const run = await repo.download(trusted(repo));
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, /catalog verified \(TUF\): box 1\.0\.0 is a signed target/);
    assert.ok(readFileSync(join(repo.outDir, 'box.box')).equals(box));
    // The client's trusted metadata is kept in the cache (rollback protection across runs).
    const [dir] = readdirSync(join(repo.cache, 'tuf'));
    assert.equal(readdirSync(join(repo.cache, 'tuf', dir ?? '')).sort(), ['root.json', 'snapshot.json', 'targets', 'targets.json', 'timestamp.json']);
  } finally {
    await repo.cleanup();
  }
});

test('a warm start reads the signed catalog and channel from the cache: only the root probe and the timestamp are fetched', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    assert.is((await repo.download(trusted(repo))).status, 0);
    const http = repo.http as TestHttp;
    http.requests.length = 0;
    const warm = await repo.download(trusted(repo));
    assert.is(warm.status, 0, warm.stderr);
    assert.match(warm.stderr, /already verified/);
    assert.equal(http.requests, ['GET /tuf/2.root.json', 'GET /tuf/timestamp.json']);
    // A kept copy that no longer matches its signed hash is not used: it is fetched again, and verified.
    const [dir] = readdirSync(join(repo.cache, 'tuf'));
    const targets = join(repo.cache, 'tuf', dir ?? '', 'targets');
    const copy = readdirSync(targets).find((f) => f.endsWith(`.${CATALOG_FILE}`)) ?? '';
    writeFileSync(join(targets, copy), '{"name": "airy/core", "versions": []}');
    http.requests.length = 0;
    const again = await repo.download(trusted(repo));
    assert.is(again.status, 0, again.stderr);
    assert.ok(http.requests.some((r) => r.includes(`.${CATALOG_FILE}`)), http.requests.join('\n'));
  } finally {
    await repo.cleanup();
  }
});

test('a box swapped in the bucket with every unsigned checksum rewritten: accepted unverified, refused verified', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const evil = randomBytes(96 * 1024);
    swapBox(repo, '1.0.0', evil);
    // What happens without verification (--allow-unsigned; the default before signing): the swapped box is taken.
    const unverified = await repo.download(['--allow-unsigned']);
    assert.is(unverified.status, 0, unverified.stderr);
    assert.ok(readFileSync(join(repo.outDir, 'box.box')).equals(evil), 'the unverified path takes the attacker’s box');
    rmSync(join(repo.outDir, 'box.box'));
    for (const f of readdirSync(repo.outDir)) rmSync(join(repo.outDir, f), { force: true, recursive: true });
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_TARGET_MISMATCH');
  } finally {
    await repo.cleanup();
  }
});

test('a box of another length than signed is refused', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0', { bytes: 64 * 1024 });
    swapBox(repo, '1.0.0', randomBytes(80 * 1024));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_TARGET_MISMATCH');
  } finally {
    await repo.cleanup();
  }
});

test('the signed copy of the catalog edited in the bucket is refused (its hash is signed)', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const dir = join(repo.storeDir, 'tuf', 'targets');
    const copy = readdirSync(dir).find((f) => f.endsWith(`.${CATALOG_FILE}`)) ?? '';
    writeFileSync(join(dir, copy), readFileSync(join(dir, copy), 'utf8').replace('"versions"', '"versions" '));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_TARGET_MISMATCH');
  } finally {
    await repo.cleanup();
  }
});

test('signed metadata edited without its key is refused', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const file = join(repo.storeDir, 'tuf', 'timestamp.json');
    const edited = JSON.parse(readFileSync(file, 'utf8'));
    edited.signed.expires = '2099-01-01T00:00:00Z';
    writeFileSync(file, JSON.stringify(edited));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_BAD_SIGNATURE');
  } finally {
    await repo.cleanup();
  }
});

/** Rewrites tuf/timestamp.json with the signatures `sign` gives (none: below threshold; another key: unknown). */
function resignTimestampWith(repo: Repo, keyFile: string | undefined) {
  const file = join(repo.storeDir, 'tuf', 'timestamp.json');
  const metadata = Metadata.fromJSON(MetadataKind.Timestamp, JSON.parse(readFileSync(file, 'utf8'))) as Metadata<Timestamp>;
  metadata.signatures = {};
  if (keyFile) {
    const key = createPrivateKey(readFileSync(keyFile, 'utf8'));
    metadata.sign((data) => new Signature({ keyID: 'f'.repeat(64), sig: sign(null, data, key).toString('hex') }));
  }
  writeFileSync(file, JSON.stringify(metadata.toJSON()));
}

test('a signature below the threshold is refused', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    resignTimestampWith(repo, undefined);
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_BAD_SIGNATURE');
  } finally {
    await repo.cleanup();
  }
});

test('a signature by a key the root does not name is refused', async () => {
  const repo = await signedRepo();
  const other = temp('airy-trust-other-');
  try {
    await repo.publish('1.0.0');
    await initKeys(other);
    resignTimestampWith(repo, join(other, 'private', 'timestamp.pem'));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_BAD_SIGNATURE');
  } finally {
    rmSync(other, { recursive: true, force: true });
    await repo.cleanup();
  }
});

test('a root of other keys is refused; a file that is no root is bad input (2)', async () => {
  const repo = await signedRepo();
  const other = temp('airy-trust-other-');
  try {
    await repo.publish('1.0.0');
    await initKeys(other);
    assertRefused(repo, await repo.download(trusted(repo, join(other, 'root.json'))), 'TUF_BAD_SIGNATURE');
    writeFileSync(join(other, 'not-a-root.json'), '{"signed": {}}');
    assertRefused(repo, await repo.download(trusted(repo, join(other, 'not-a-root.json'))), 'TUF_ROOT_INVALID', 2);
  } finally {
    rmSync(other, { recursive: true, force: true });
    await repo.cleanup();
  }
});

test('an unsigned catalog is refused: by default (saying how to sign it), and with a trusted root; --allow-unsigned reads it, saying so', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    rmSync(join(repo.storeDir, 'tuf'), { recursive: true });
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_UNSIGNED');
    const byDefault = await repo.download();
    assertRefused(repo, byDefault, 'TUF_UNSIGNED');
    assert.match(byDefault.stderr, /is not signed \(no tuf\/timestamp\.json\): sign it \(airy-box keys init, then airy-box publish --keys\) and pass --trusted-root DIR\/root\.json, or accept it unverified with --allow-unsigned\n$/);
    // Accepted only when asked, and said on every run (a second run, from the cache, too).
    for (const run of [await repo.download(['--allow-unsigned']), await repo.download(['--allow-unsigned'])]) {
      assert.is(run.status, 0, run.stderr);
      assert.match(run.stderr, /^notice: the catalog http:\/\/127\.0\.0\.1:\d+\/metadata\.json is read unverified \(--allow-unsigned\): whoever can write it can run code on this machine/);
    }
  } finally {
    await repo.cleanup();
  }
});

test('AIRY_ALLOW_UNSIGNED=1 accepts an unsigned catalog as --allow-unsigned does; a value of no meaning, or both ways at once, is bad input (2)', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    rmSync(join(repo.storeDir, 'tuf'), { recursive: true });
    const args = ['download', '--catalog', repo.catalogUrl, '--out', join(repo.outDir, 'box.box'), '--cache', repo.cache];
    const allowed = await runBinAsync(packageDir, args, { env: { AIRY_ALLOW_UNSIGNED: '1' } });
    assert.is(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stderr, /read unverified \(AIRY_ALLOW_UNSIGNED\)/);
    rmSync(join(repo.outDir, 'box.box'));
    for (const f of readdirSync(repo.outDir)) rmSync(join(repo.outDir, f), { force: true, recursive: true });
    const yes = await runBinAsync(packageDir, args, { env: { AIRY_ALLOW_UNSIGNED: 'yes' } });
    assert.is(yes.status, 2, yes.stderr);
    assert.match(yes.stderr, /^airy-bootstrap: AIRY_ALLOW_UNSIGNED=yes: use 1 to accept an unsigned catalog, or unset it \[TRUST_OPTIONS_INVALID\]\n$/);
    const both = await repo.download([...trusted(repo), '--allow-unsigned']);
    assert.is(both.status, 2, both.stderr);
    assert.match(both.stderr, /^airy-bootstrap: --trusted-root and --allow-unsigned contradict each other: pass one \[TRUST_OPTIONS_INVALID\]\n$/);
    assert.equal(readdirSync(repo.outDir), []);
  } finally {
    await repo.cleanup();
  }
});

test('a signed catalog with no root given is refused (TUF_NO_ROOT, exit 2): no trust on first use', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    assertRefused(repo, await repo.download(), 'TUF_NO_ROOT', 2);
  } finally {
    await repo.cleanup();
  }
});

if (PUBLIC_ROOT !== undefined) console.log('skip: this build has a public root compiled in, so the public catalog is not refused for want of one');
(PUBLIC_ROOT === undefined ? test : test.skip)('the public catalog, in a build with no public root compiled in, is refused at once, saying what to pass (TUF_NO_PUBLIC_ROOT, exit 2)', async () => {
  const out = temp('airy-trust-public-');
  try {
    // No network is needed to refuse: the public catalog's URL is never read.
    const run = await runBinAsync(packageDir, ['download', '--catalog', DEFAULT_CATALOG, '--out', join(out, 'box.box'), '--cache', out]);
    assert.is(run.status, 2, run.stderr);
    assert.match(run.stderr, /^airy-bootstrap: refused \(TUF_NO_PUBLIC_ROOT\): this build of @airy\/bootstrap has no public catalog root compiled in: pass --trusted-root FILE \(the publisher's root\.json\), or accept the catalog unverified with --allow-unsigned\n$/);
    assert.equal(readdirSync(out), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the public root compiled in verifies the public catalog with no flag (the catalog and root injected through chooseTrust's inputs)", async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const root = readFileSync(join(repo.keysDir, 'root.json'), 'utf8');
    const inputs = { env: {}, catalog: repo.catalogUrl, publicCatalog: repo.catalogUrl };
    // Without a compiled-in root: refused, without a read.
    assert.equal(chooseTrust({ ...inputs, publicRoot: undefined }), { kind: 'none', publicCatalog: true });
    const choice = chooseTrust({ ...inputs, publicRoot: root });
    assert.equal(choice, { kind: 'root', origin: "the public catalog's root compiled into @airy/bootstrap", root });
    const loaded = await loadCatalog(repo.catalogUrl, {}, await trustFor(choice, repo.cache));
    assert.ok(isVerified(loaded), 'read through TUF');
    assert.is(loaded.latest?.version, '1.0.0');
    // Another catalog is not trusted by the public root.
    assert.equal(chooseTrust({ ...inputs, catalog: 'https://boxes.example/metadata.json', publicRoot: root }), { kind: 'none', publicCatalog: false });
    // A flag, then the environment, then the instance's memory come before it.
    assert.equal(chooseTrust({ ...inputs, publicRoot: root, allowUnsigned: true }), { kind: 'unsigned', origin: '--allow-unsigned' });
    assert.equal(chooseTrust({ ...inputs, publicRoot: root, env: { AIRY_TRUSTED_ROOT: '/r.json' } }), { kind: 'file', path: '/r.json' });
    assert.equal(chooseTrust({ ...inputs, publicRoot: root, remembered: { catalog: repo.catalogUrl, allowUnsigned: true } }).kind, 'unsigned');
  } finally {
    await repo.cleanup();
  }
});

test('the compiled-in public root is infrastructure/catalog/root.json as generated (else: npx projen public-root), and a committed root is compiled in byte for byte', async () => {
  assert.is(readFileSync(new URL('../src/public-root.ts', import.meta.url), 'utf8'), publicRootModule(committedRoot()));
  const keys = temp('airy-trust-public-keys-');
  try {
    await initKeys(keys);
    const root = readFileSync(join(keys, 'root.json'), 'utf8');
    const module = join(keys, 'public-root.ts');
    writeFileSync(module, publicRootModule(root));
    const { PUBLIC_ROOT: compiled } = await import(pathToFileURL(module).href);
    assert.is(compiled, root);
  } finally {
    rmSync(keys, { recursive: true, force: true });
  }
});

test('rollback: older metadata replayed after newer was seen is refused, across runs', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const old = readFileSync(join(repo.storeDir, 'tuf', 'timestamp.json'));
    await repo.publish('1.1.0');
    const seen = await repo.download(trusted(repo));
    assert.is(seen.status, 0, seen.stderr);
    rmSync(repo.outDir, { recursive: true });
    mkdirSync(repo.outDir);
    // The bucket serves the first timestamp again: validly signed, but older than what this machine has seen.
    writeFileSync(join(repo.storeDir, 'tuf', 'timestamp.json'), old);
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_ROLLBACK');
  } finally {
    await repo.cleanup();
  }
});

test('expired metadata (a freeze) is refused', async () => {
  const repo = await signedRepo();
  try {
    // Signed three days ago: the timestamp (valid two days) has expired.
    await repo.publish('1.0.0', { now: new Date(Date.now() - 3 * 86_400_000) });
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_EXPIRED');
    // The timestamp job re-signs it, and the catalog verifies again.
    await resignTimestamp(repo.store, await loadKeys(repo.keysDir));
    assert.is((await repo.download(trusted(repo))).status, 0);
  } finally {
    await repo.cleanup();
  }
});

test('a valid root rotation is followed; the cached root moves on', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    const v1 = join(repo.cache, 'root-v1.json');
    copyFileSync(join(repo.keysDir, 'root.json'), v1);
    assert.is((await repo.download(trusted(repo, v1))).status, 0);
    rmSync(join(repo.outDir, 'box.box'));
    // New root and timestamp keys; the timestamp job uploads root 2 and signs with the new key.
    await rotateRoot(repo.keysDir, { roles: ['timestamp'] });
    await resignTimestamp(repo.store, await loadKeys(repo.keysDir));
    const run = await repo.download(trusted(repo, v1));
    assert.is(run.status, 0, run.stderr);
    const [dir] = readdirSync(join(repo.cache, 'tuf'));
    assert.is(JSON.parse(readFileSync(join(repo.cache, 'tuf', dir ?? '', 'root.json'), 'utf8')).signed.version, 2);
  } finally {
    await repo.cleanup();
  }
});

test('a forged root rotation (version 2 signed by other keys) is refused', async () => {
  const repo = await signedRepo();
  const other = temp('airy-trust-other-');
  try {
    await repo.publish('1.0.0');
    await initKeys(other);
    await rotateRoot(other);
    copyFileSync(join(other, 'roots', '2.root.json'), join(repo.storeDir, 'tuf', '2.root.json'));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_BAD_SIGNATURE');
  } finally {
    rmSync(other, { recursive: true, force: true });
    await repo.cleanup();
  }
});

test('a file: catalog verifies, and refuses a swapped box', async () => {
  const repo = await signedRepo({ file: true });
  try {
    const { box } = await repo.publish('1.0.0');
    const run = await repo.download(trusted(repo));
    assert.is(run.status, 0, run.stderr);
    assert.ok(readFileSync(join(repo.outDir, 'box.box')).equals(box));
    for (const f of readdirSync(repo.outDir)) rmSync(join(repo.outDir, f), { force: true, recursive: true });
    swapBox(repo, '1.0.0', randomBytes(96 * 1024));
    assertRefused(repo, await repo.download(trusted(repo)), 'TUF_TARGET_MISMATCH');
    assert.ok(existsSync(join(repo.storeDir, 'tuf', 'timestamp.json')));
  } finally {
    await repo.cleanup();
  }
});

test('a chunk index that differs from its signed hash is not used for a delta; the whole box is fetched and verified', async () => {
  const repo = await signedRepo();
  try {
    await repo.publish('1.0.0');
    // An older box beside --out: the delta's seed.
    const first = await runBinAsync(packageDir, ['download', '--catalog', repo.catalogUrl, '--out', join(repo.outDir, 'old.box'), '--cache', repo.cache, ...trusted(repo)]);
    assert.is(first.status, 0, first.stderr);
    const { box } = await repo.publish('1.1.0');
    const index = join(repo.storeDir, releaseKeys('1.1.0', 'libvirt', 'amd64').chunks);
    writeFileSync(index, `${readFileSync(index, 'utf8').trimEnd()} \n`);
    const run = await repo.download([...trusted(repo), '--box-version', '1.1.0']);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, /delta: not used \(the chunk index differs from its signed length and hash\)/);
    assert.ok(readFileSync(join(repo.outDir, 'box.box')).equals(box));
  } finally {
    await repo.cleanup();
  }
});

test('AIRY_TRUSTED_ROOT turns verification on as --trusted-root does', async () => {
  const repo = await signedRepo();
  const other = temp('airy-trust-other-');
  try {
    await repo.publish('1.0.0');
    await initKeys(other);
    const run = await runBinAsync(packageDir, ['download', '--catalog', repo.catalogUrl, '--out', join(repo.outDir, 'box.box'), '--cache', repo.cache], {
      env: { AIRY_TRUSTED_ROOT: join(other, 'root.json') },
    });
    assertRefused(repo, run, 'TUF_BAD_SIGNATURE');
  } finally {
    rmSync(other, { recursive: true, force: true });
    await repo.cleanup();
  }
});

test.run();
