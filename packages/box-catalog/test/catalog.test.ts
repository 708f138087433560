import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRelease, BOX_NAME, CatalogError, type CatalogProvider, catalogBase, emptyCatalog, ImmutableVersionError, parseCatalog, parseChannel, parseContentManifest, isReleaseRecordKey, PROVIDERS, releaseKeys, stringifyCatalog } from '../src/index.ts';
import { resolveRelease } from '../src/catalog.ts';

const sha = (c: string) => c.repeat(64);
const file = (name: 'libvirt' | 'virtualbox', checksum: string, architecture: 'amd64' | 'arm64' = 'amd64'): CatalogProvider => ({
  name,
  url: `https://example.test/${name}.box`,
  checksum_type: 'sha256',
  checksum,
  architecture,
  size: 1024,
});

test('adding releases keeps versions newest first and survives a round trip through JSON', () => {
  let c = emptyCatalog(BOX_NAME);
  for (const v of ['1.0.0', '1.10.0', '1.2.0']) c = addRelease(c, v, file('libvirt', sha('a'))).catalog;
  c = addRelease(c, '1.2.0', file('virtualbox', sha('b'))).catalog;
  assert.equal(c.versions.map((v) => v.version), ['1.10.0', '1.2.0', '1.0.0']);
  assert.equal(c.versions[1]?.providers.map((p) => p.name), ['libvirt', 'virtualbox']);
  assert.equal(parseCatalog(stringifyCatalog(c), 'metadata.json'), c);
});

test('versions are immutable: the same file again is a no-op, other content is refused', () => {
  const c = addRelease(emptyCatalog(BOX_NAME), '1.0.0', file('libvirt', sha('a'))).catalog;
  assert.ok(addRelease(c, '1.0.0', file('libvirt', sha('a'))).unchanged);
  assert.throws(() => addRelease(c, '1.0.0', file('libvirt', sha('b'))), (e: Error) => e instanceof ImmutableVersionError);
  // Another architecture of the same version is a new file, not a change.
  assert.not.ok(addRelease(c, '1.0.0', file('libvirt', sha('b'), 'arm64')).unchanged);
  assert.throws(() => addRelease(c, 'v1', file('libvirt', sha('a'))), /not a semantic version/);
});

test('malformed catalogs are refused with the source and the field', () => {
  const cases: [string, RegExp][] = [
    ['{not json', /^m.json: not valid JSON/],
    ['[]', /^m.json: must be a JSON object/],
    ['{"versions": []}', /^m.json: name: must be a box name org\/name/],
    [`{"name":"airy/#{system('id')}","versions":[]}`, /^m.json: name: must be a box name org\/name/],
    ['{"name":"airy core","versions":[]}', /^m.json: name: must be a box name/],
    ['{"name":"x/y","versions":[null]}', /versions\[0\]: must be an object/],
    ['{"name":"x/y","versions":[{"version":"1.0.0","providers":[null]}]}', /versions\[0\].providers\[0\]: must be an object/],
    [
      `{"name":"x/y","versions":[{"version":"1.0.0","providers":[{"name":"libvirt","url":"ftp://h/b.box","checksum_type":"sha256","checksum":"${sha('a')}"}]}]}`,
      /providers\[0\].url: must be an https, http, file URL/,
    ],
    [
      `{"name":"x/y","versions":[{"version":"1.0.0","providers":[{"name":"libvirt","url":"not a url","checksum_type":"sha256","checksum":"${sha('a')}"}]}]}`,
      /providers\[0\].url: must be an https, http, file URL/,
    ],
    ['{"name":"x/y","versions":[{"version":"one","providers":[]}]}', /versions\[0\].version: "one" is not a semantic version/],
    [
      `{"name":"x/y","versions":[{"version":"1.0.0","providers":[{"name":"docker","url":"u","checksum_type":"sha256","checksum":"${sha('a')}"}]}]}`,
      /versions\[0\].providers\[0\].name: unknown provider "docker"/,
    ],
    [
      '{"name":"x/y","versions":[{"version":"1.0.0","providers":[{"name":"libvirt","url":"https://h/b.box","checksum_type":"md5","checksum":"abc"}]}]}',
      /checksum_type: must be sha256/,
    ],
    ['{"name":"x/y","versions":[{"version":"1.0.0","providers":[]},{"version":"1.0.0","providers":[]}]}', /1.0.0 is listed twice/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => parseCatalog(text, 'm.json'), (e: Error) => e instanceof CatalogError && pattern.test(e.message), text);
  }
});

test('resolving: an exact version, a channel pointer (rollback), or the newest for the provider', () => {
  let c = emptyCatalog(BOX_NAME);
  c = addRelease(c, '1.0.0', file('libvirt', sha('a'))).catalog;
  c = addRelease(c, '1.0.0', file('virtualbox', sha('b'))).catalog;
  c = addRelease(c, '2.0.0', file('virtualbox', sha('c'))).catalog;
  assert.is(resolveRelease(c, { channel: 'latest' }, 'virtualbox', 'amd64').version.version, '2.0.0');
  assert.is(resolveRelease(c, { channel: 'latest' }, 'libvirt', 'amd64').version.version, '1.0.0', 'newest that has libvirt');
  const pointer = { channel: 'latest', version: '1.0.0', updatedAt: '2026-01-01T00:00:00Z' };
  assert.is(resolveRelease(c, { channel: 'latest' }, 'virtualbox', 'amd64', pointer).file.checksum, sha('b'));
  assert.throws(() => resolveRelease(c, { version: '3.0.0' }, 'libvirt', 'amd64'), /has no version 3.0.0 \(published: 2.0.0, 1.0.0\)/);
  assert.throws(() => resolveRelease(c, { version: '2.0.0' }, 'libvirt', 'amd64'), /has no box for libvirt on amd64 \(it has: virtualbox\/amd64\)/);
  assert.throws(() => resolveRelease(c, { channel: 'latest' }, 'libvirt', 'arm64'), /no version for libvirt on arm64/);
});

test('channel pointers and content manifests are checked', () => {
  assert.is(parseChannel('{"channel":"latest","version":"1.2.3","updatedAt":"x"}', 'c').version, '1.2.3');
  assert.throws(() => parseChannel('{"channel":"latest","version":"latest"}', 'c'), /c: version: must be a semantic version/);
  const manifest = {
    name: BOX_NAME,
    version: '1.0.0',
    provider: 'libvirt',
    architecture: 'amd64',
    createdAt: 'now',
    gitCommit: 'abc',
    components: {},
    images: [],
    manifestsHash: 'h',
  };
  assert.equal(parseContentManifest(JSON.stringify(manifest), 'box.json').skipped, []);
  assert.throws(() => parseContentManifest(JSON.stringify({ ...manifest, provider: 'hyperv' }), 'box.json'), /box.json: provider/);
});

test('layout: keys of a release and the base of a catalog URL', () => {
  assert.equal(releaseKeys('1.2.3', 'libvirt', 'amd64'), {
    box: 'boxes/1.2.3/airy-core-1.2.3-libvirt.box',
    contentManifest: 'boxes/1.2.3/libvirt-amd64.box.json',
    record: 'releases/1.2.3/libvirt-amd64.json',
    chunks: 'boxes/1.2.3/airy-core-1.2.3-libvirt.box.chunks.json',
  });
  // A store's listing is untrusted: only keys we would write are read (and so ever printed).
  for (const v of ['1.2.3', '2.0.0-rc.1+build.7']) for (const p of PROVIDERS) assert.ok(isReleaseRecordKey(releaseKeys(v, p, 'arm64').record), v);
  for (const key of ['releases/1.2.3/libvirt-amd64.json.tmp', 'releases/1.2.3/\u001b[2Jlibvirt-amd64.json', 'releases/../x-y.json', 'releases/1.2.3/a/b-c.json']) {
    assert.not.ok(isReleaseRecordKey(key), key);
  }
  assert.is(catalogBase('https://h/airy/metadata.json'), 'https://h/airy');
  assert.is(catalogBase('file:///srv/boxes/'), 'file:///srv/boxes');
});

test.run();
