/**
 * A catalog behind a password (`--catalog http://user:password@…`): the password is sent, never stored (instance.json,
 * Vagrant's metadata_url) and never printed; a later run finds it in AIRY_BOX_CATALOG again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { startHttp } from '../../../tools/testing/http.ts';
import { tinyLibvirtBox, vagrantReady } from '../../../tools/testing/vagrant.ts';
import type { HostView } from '../src/preflight.ts';
import { CatalogUnreachableError, loadCatalog, withCatalogCredentials } from '../src/source.ts';
import { fetchBox, type UpOptions } from '../src/up.ts';
import { boxAdd } from '../src/vagrant.ts';

const root = mkdtempSync(join(tmpdir(), 'airy-credentials-'));
const served = join(root, 'served');
mkdirSync(served);
const body = randomBytes(64 * 1024);
const sha256 = createHash('sha256').update(body).digest('hex');
writeFileSync(join(served, 'box.box'), body);
const http = await startHttp(served);
const entry = { name: 'libvirt', url: `${http.url}/box.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: body.length } as const;
writeFileSync(join(served, 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
// The catalog answers only with the right user name and password, as a private one would.
const authorization = `Basic ${Buffer.from('reader:s3cret-pw').toString('base64')}`;
http.fault = (req, res) => {
  if (!req.url?.endsWith('.json') || req.headers.authorization === authorization) return undefined;
  res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="boxes"' }).end();
  return 'handled';
};
const plain = `${http.url}/metadata.json`;
const secret = plain.replace('http://', 'http://reader:s3cret-pw@');

const host: HostView = {
  platform: 'linux',
  arch: 'x64',
  cpus: 64,
  memoryBytes: 2 ** 40,
  freeBytes: 2 ** 40,
  kvm: true,
  vagrantPlugins: ['vagrant-libvirt'],
  hyperV: false,
  vagrantVersion: '2.3.4',
  virshVersion: '9.0.0',
};

// These catalogs are unsigned: credentials, not trust, are what is tested.
const unsigned = { kind: 'unsigned', origin: 'the test' } as const;

test('the box fetched from a catalog with a password: the instance state keeps the URL without it, and no line shows it', async () => {
  const lines: string[] = [];
  const options: UpOptions = {
    catalog: secret,
    version: 'latest',
    dir: join(root, 'instance'),
    cacheDir: join(root, 'cache'),
    cpus: 4,
    memoryMiB: 8192,
    privateNetwork: false,
    delta: false,
    force: true,
    yes: true,
    waitSeconds: 0,
    log: (line) => lines.push(line),
    ensureVagrant: async () => undefined,
    ensureProvider: async (h) => h,
    trust: unsigned,
  };
  const box = await fetchBox(options, { catalog: loadCatalog(secret, {}, unsigned), host, provider: 'libvirt' });
  assert.is(box.state.catalog, plain);
  assert.is(box.state.sha256, sha256);
  assert.not.match(lines.join('\n'), /s3cret-pw/);
});

test('AIRY_BOX_CATALOG gives the stored catalog its password back, for that catalog only', async () => {
  const env = { AIRY_BOX_CATALOG: secret };
  assert.is(withCatalogCredentials(plain, env), secret);
  assert.is(withCatalogCredentials(plain.replace('/metadata.json', ''), { AIRY_BOX_CATALOG: secret.replace('/metadata.json', '') }), secret);
  assert.is(withCatalogCredentials('http://other.test/metadata.json', env), 'http://other.test/metadata.json', 'another host gets nothing');
  assert.is(withCatalogCredentials(plain, { AIRY_BOX_CATALOG: plain }), plain);
  assert.is(withCatalogCredentials(plain, {}), plain);
  const refused = await loadCatalog(plain, {}, unsigned).catch((e) => e);
  assert.instance(refused, CatalogUnreachableError, 'the catalog really needs the password');
  process.env.AIRY_BOX_CATALOG = secret;
  try {
    assert.is((await loadCatalog(plain, {}, unsigned)).catalog.name, BOX_NAME);
  } finally {
    delete process.env.AIRY_BOX_CATALOG;
  }
});

const { ready, reason } = vagrantReady();
if (!ready) console.log(`skip: ${reason}; the metadata_url check with the real vagrant is skipped`);
(ready ? test : test.skip)("Vagrant's metadata_url names the catalog without its user name and password", async () => {
  // Every test file runs in one process: put back what another file set, never leave Vagrant's real home in force.
  const before = process.env.VAGRANT_HOME;
  process.env.VAGRANT_HOME = join(root, 'vagrant-home');
  try {
    const file = join(root, 'verified.box');
    const bytes = tinyLibvirtBox(root);
    writeFileSync(file, bytes);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const added = await boxAdd(file, { name: 'airy/private', version: '1.0.0', provider: 'libvirt', sha256: digest, catalogUrl: secret }, root);
    assert.is(added.code, 0, added.tail.join('\n'));
    const metadataUrl = join(root, 'vagrant-home', 'boxes', 'airy-VAGRANTSLASH-private', 'metadata_url');
    assert.ok(existsSync(metadataUrl));
    assert.is(readFileSync(metadataUrl, 'utf8'), plain);
  } finally {
    if (before === undefined) delete process.env.VAGRANT_HOME;
    else process.env.VAGRANT_HOME = before;
  }
});

test.after(async () => {
  await http.stop();
  rmSync(root, { recursive: true, force: true });
});

test.run();
