import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG_FILE, channelKey, ImmutableVersionError, indexFile, parseCatalog, parseChannel, parseChunkIndex } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, runBinAsync } from '../../../tools/testing/cli.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from '../../../tools/testing/s3.ts';
import { FileStore } from '../src/file-store.ts';
import { publishBox } from '../src/publish.ts';
import { S3Store } from '../src/s3-store.ts';
import type { ObjectStore } from '../src/store.ts';
import { fakeBuild } from './helpers.ts';

const packageDir = new URL('..', import.meta.url).pathname;
const MiB = 2 ** 20;
const part = { partSize: 5 * MiB, concurrency: 3 };

function s3Store(s3: TestS3, prefix = 'airy'): S3Store {
  return new S3Store(s3.client, { bucket: s3.bucket, prefix }, { endpoint: s3.endpoint });
}

async function catalogOf(store: ObjectStore) {
  const text = await store.get(CATALOG_FILE);
  return text ? parseCatalog(text.body, CATALOG_FILE) : undefined;
}

async function publish(store: ObjectStore, version: string, bytes = 12 * MiB) {
  const built = await fakeBuild(version, { bytes });
  try {
    return await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, ...part });
  } finally {
    rmSync(built.dir, { recursive: true, force: true });
  }
}

test('publish to S3: multipart upload, verified object, catalog entry, channel', async () => {
  const s3 = await startS3({ conditional: true });
  try {
    const store = s3Store(s3);
    const built = await fakeBuild('1.0.0', { bytes: 12 * MiB });
    const result = await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, ...part });
    assert.ok(result.uploaded);
    assert.is(result.catalogUrl, `${s3.endpoint}/${s3.bucket}/airy/metadata.json`);
    assert.ok(s3.requests.some((r) => r.includes('uploads')), 'a multipart upload was used');
    const catalog = await catalogOf(store);
    const entry = catalog?.versions[0]?.providers[0];
    assert.is(entry?.checksum, built.manifest.sha256);
    assert.is(entry?.size, 12 * MiB);
    // The catalog's URL serves the very bytes that were built.
    const body = Buffer.from(await (await fetch(entry?.url ?? '')).arrayBuffer());
    assert.ok(body.equals(readFileSync(built.boxFile)));
    assert.is(parseChannel((await store.get(channelKey('latest')))?.body ?? '', 'c').version, '1.0.0');
    assert.equal(s3.openUploads(), []);
    // The chunk index beside the box, named by the entry: of these very bytes, cut as the downloader cuts.
    assert.match(entry?.chunks_url ?? '', /\/boxes\/1\.0\.0\/airy-core-1\.0\.0-libvirt\.box\.chunks\.json$/);
    const index = parseChunkIndex(await (await fetch(entry?.chunks_url ?? '')).text(), 'index', { size: 12 * MiB, sha256: built.manifest.sha256 ?? '' });
    assert.equal(index, await indexFile(built.boxFile));

    // Publishing the same box again uploads nothing and changes nothing.
    const again = await publishBox(store, { boxFile: built.boxFile, manifest: built.manifest, ...part });
    assert.not.ok(again.uploaded);
    rmSync(built.dir, { recursive: true, force: true });
  } finally {
    await s3.stop();
  }
});

for (const conditional of [true, false]) {
  test(`two concurrent publishes of different versions both survive (conditional writes: ${conditional})`, async () => {
    const s3 = await startS3({ conditional });
    try {
      const store = s3Store(s3);
      await Promise.all([publish(store, '1.1.0', 6 * MiB), publish(store, '1.2.0', 6 * MiB), publish(store, '1.3.0', 6 * MiB)]);
      const catalog = await catalogOf(store);
      assert.equal(catalog?.versions.map((v) => v.version), ['1.3.0', '1.2.0', '1.1.0']);
      assert.is(parseChannel((await store.get(channelKey('latest')))?.body ?? '', 'c').version, '1.3.0');
    } finally {
      await s3.stop();
    }
  });
}

test('re-publishing a version with other content is refused before any upload', async () => {
  const s3 = await startS3({ conditional: true });
  try {
    const store = s3Store(s3);
    await publish(store, '2.0.0', 6 * MiB);
    const before = await store.get(CATALOG_FILE);
    const uploadsBefore = s3.requests.filter((r) => r.includes('uploadId')).length;
    await publish(store, '2.0.0', 6 * MiB).then(
      () => assert.unreachable('should refuse'),
      (e: Error) => assert.ok(e instanceof ImmutableVersionError, e.message),
    );
    assert.is(s3.requests.filter((r) => r.includes('uploadId')).length, uploadsBefore, 'nothing uploaded');
    assert.is((await store.get(CATALOG_FILE))?.body, before?.body, 'catalog unchanged');
  } finally {
    await s3.stop();
  }
});

test('a failure mid-upload aborts the multipart upload and leaves the catalog untouched', async () => {
  const s3 = await startS3({ conditional: true, failPartsFrom: 3 });
  try {
    const store = s3Store(s3);
    await store.put(CATALOG_FILE, '{"name":"airy/core","versions":[]}\n');
    const before = await store.get(CATALOG_FILE);
    await publish(store, '3.0.0', 16 * MiB).then(
      () => assert.unreachable('the upload should fail'),
      (e: Error) => assert.ok(e, 'rejected'),
    );
    assert.ok(s3.requests.some((r) => r.startsWith('DELETE') && r.includes('uploadId')), 'AbortMultipartUpload was sent');
    assert.equal(s3.openUploads(), [], 'no orphan parts');
    assert.is((await store.get(CATALOG_FILE))?.body, before?.body, 'catalog unchanged');
    assert.is(await store.head('boxes/3.0.0/airy-core-3.0.0-libvirt.box'), undefined, 'no box object');
    assert.equal(await store.list('releases/'), [], 'no release record');
  } finally {
    await s3.stop();
  }
});

test('an interrupted upload (Ctrl-C) is aborted the same way', async () => {
  const s3 = await startS3({ conditional: true });
  try {
    const store = s3Store(s3);
    const built = await fakeBuild('4.0.0', { bytes: 24 * MiB });
    const controller = new AbortController();
    await publishBox(store, {
      boxFile: built.boxFile,
      manifest: built.manifest,
      partSize: 5 * MiB,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (sent) => {
        if (sent >= 5 * MiB) controller.abort();
      },
    }).then(
      () => assert.unreachable('should be aborted'),
      (e: Error) => assert.ok(e),
    );
    assert.equal(s3.openUploads(), []);
    assert.is(await catalogOf(store), undefined);
    rmSync(built.dir, { recursive: true, force: true });
  } finally {
    await s3.stop();
  }
});

test('file:// catalogs: publish, concurrent publishes, refused re-publish', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-catalog-'));
  try {
    const store = new FileStore(dir);
    await Promise.all([publish(store, '1.0.0', MiB), publish(store, '1.0.1', MiB)]);
    const catalog = await catalogOf(store);
    assert.equal(catalog?.versions.map((v) => v.version), ['1.0.1', '1.0.0']);
    assert.match(catalog?.versions[0]?.providers[0]?.url ?? '', /^file:\/\/.*\/boxes\/1.0.1\/airy-core-1.0.1-libvirt.box$/);
    await publish(store, '1.0.0', MiB).then(
      () => assert.unreachable('should refuse'),
      (e: Error) => assert.ok(e instanceof ImmutableVersionError),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI publish to S3 and catalog list; credentials never appear in the output', async () => {
  const s3 = await startS3({ conditional: true });
  const built = await fakeBuild('5.0.0', { bytes: 2 * MiB });
  try {
    const env = { AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
    const run = await runBinAsync(packageDir, ['publish', '--from', built.dir, '--to', `s3://${s3.bucket}/cli`, '--endpoint', s3.endpoint], { env });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.stdout.trim(), `${s3.endpoint}/${s3.bucket}/cli/metadata.json`);
    assert.match(run.stderr, /published 5.0.0 \(libvirt\).*channel latest → 5.0.0/);
    const list = await runBinAsync(packageDir, ['catalog', 'list', '--from', `s3://${s3.bucket}/cli`, '--endpoint', s3.endpoint], { env });
    assert.is(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`5.0.0 \\(latest\\)\\tlibvirt/amd64\\t2.0 MiB\\tsha256:${built.manifest.sha256}`));

    // An unreachable store: one line, exit 1, and the secret key nowhere.
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCY-SECRET';
    const down = await runBinAsync(packageDir, ['publish', '--from', built.dir, '--to', 's3://airy-boxes/x', '--endpoint', 'http://127.0.0.1:9'], {
      env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: secret, AWS_REGION: 'us-east-1' },
    });
    assert.is(down.status, 1, down.stderr);
    assert.match(down.stderr, /cannot reach the store \(ECONNREFUSED\)/);
    assert.not.ok((down.stdout + down.stderr).includes(secret));
    assert.not.ok((run.stdout + run.stderr + list.stdout + list.stderr).includes(S3RVER_CREDENTIALS.secretAccessKey));
  } finally {
    rmSync(built.dir, { recursive: true, force: true });
    await s3.stop();
  }
});

test('CLI bad input exits 2 with one line: malformed catalog, corrupt box', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-bad-'));
  const built = await fakeBuild('6.0.0');
  try {
    writeFileSync(join(dir, 'metadata.json'), '{"name":"airy/core","versions":[{"version":"x"}]}');
    const bad = runBin(packageDir, ['catalog', 'list', '--from', `file://${dir}`]);
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /^airy-box: malformed catalog: .*versions\[0\].version: "x" is not a semantic version \[CATALOG_MALFORMED\]\n$/);
    writeFileSync(built.boxFile, 'tampered');
    const corrupt = runBin(packageDir, ['publish', '--from', built.dir, '--to', `file://${dir}/out`]);
    assert.is(corrupt.status, 2);
    assert.match(corrupt.stderr, /does not match box.json .* rebuild it\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(built.dir, { recursive: true, force: true });
  }
});

test.run();
