import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CatalogFetchError, displayUrl, fetchCatalogDocument } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'airy-catalog-fetch-'));
const seen: { url?: string; auth?: string }[] = [];
const server = createServer((req, res) => {
  seen.push({ url: req.url, auth: req.headers.authorization });
  if (req.url === '/metadata.json') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"name":"a/b"}');
  if (req.url === '/big.json') return void res.writeHead(200).end(Buffer.alloc(2048, 32));
  if (req.url === '/slow.json') return void setTimeout(() => res.writeHead(200).end('{}'), 3000).unref();
  if (req.url === '/broken.json') return void res.writeHead(500).end();
  res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const fails = async (promise: Promise<unknown>, reason: RegExp) => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.instance(error, CatalogFetchError);
  assert.match((error as CatalogFetchError).reason, reason);
};

test('a catalog over http: its text; a 404 is undefined; other statuses, sizes and deadlines are errors', async () => {
  assert.is(await fetchCatalogDocument(`${base}/metadata.json`), '{"name":"a/b"}');
  assert.is(await fetchCatalogDocument(`${base}/channels/latest.json`), undefined);
  await fails(fetchCatalogDocument(`${base}/broken.json`), /^HTTP 500$/);
  await fails(fetchCatalogDocument(`${base}/big.json`, { maxBytes: 1024 }), /more than a catalog's 1024 bytes/);
  await fails(fetchCatalogDocument(`${base}/slow.json`, { timeoutMs: 500 }), /took longer than 0\.5 s/);
  await fails(fetchCatalogDocument('ftp://example.test/metadata.json'), /use https:\/\/, http:\/\/ or file:\/\//);
});

test('credentials in the URL travel as Basic authentication and are never shown', async () => {
  seen.length = 0;
  assert.is(await fetchCatalogDocument(`http://reader:p%40ss@${base.slice(7)}/metadata.json`), '{"name":"a/b"}');
  assert.is(seen[0]?.auth, `Basic ${Buffer.from('reader:p@ss').toString('base64')}`);
  assert.is(displayUrl('https://reader:secret@example.test/m.json'), 'https://reader:***@example.test/m.json');
});

test('a local catalog: its text; missing is undefined; a FIFO or a huge file is refused unread', async () => {
  writeFileSync(join(dir, 'metadata.json'), '{}');
  assert.is(await fetchCatalogDocument(`file://${dir}/metadata.json`), '{}');
  assert.is(await fetchCatalogDocument(`file://${dir}/none.json`), undefined);
  spawnSync('mkfifo', [join(dir, 'fifo.json')]);
  await fails(fetchCatalogDocument(`file://${dir}/fifo.json`), /not a plain file/);
  writeFileSync(join(dir, 'big.json'), Buffer.alloc(2048));
  await fails(fetchCatalogDocument(`file://${dir}/big.json`, { maxBytes: 1024 }), /2048 bytes, more than a catalog's 1024/);
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test.run();
