import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG_FILE } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHttp } from '../../../tools/testing/http.ts';
import { runVagrant, tinyLibvirtBox, vagrantReady } from '../../../tools/testing/vagrant.ts';
import { FileStore } from '../src/file-store.ts';
import { publishBox } from '../src/publish.ts';
import { fakeBuild } from './helpers.ts';

const { ready, reason } = vagrantReady();
if (!ready) console.log(`skip: ${reason}; the vagrant box add checks are skipped`);
const vagrant = runVagrant;

async function publishTiny(root: string, catalogDir: string, publicUrl?: string) {
  const built = await fakeBuild('1.0.0', { content: tinyLibvirtBox(root) });
  await publishBox(new FileStore(catalogDir, publicUrl), { boxFile: built.boxFile, manifest: built.manifest, partSize: 2 ** 20, concurrency: 1 });
  rmSync(built.dir, { recursive: true, force: true });
}

(ready ? test : test.skip)('vagrant box add accepts a published catalog over file:// and registers name and version', async () => {
  const root = mkdtempSync(join(tmpdir(), 'airy-vagrant-'));
  try {
    const catalog = join(root, 'catalog');
    await publishTiny(root, catalog);
    const home = join(root, 'home');
    const add = await vagrant(home, ['box', 'add', '--provider', 'libvirt', `file://${catalog}/${CATALOG_FILE}`]);
    assert.is(add.status, 0, add.output);
    const list = await vagrant(home, ['box', 'list']);
    assert.match(list.output, /airy\/core\s+\(libvirt, 1\.0\.0/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

(ready ? test : test.skip)('vagrant box add over http://127.0.0.1, and refuses a wrong checksum', async () => {
  const root = mkdtempSync(join(tmpdir(), 'airy-vagrant-'));
  const catalog = join(root, 'catalog');
  const http = await startHttp(catalog);
  try {
    await publishTiny(root, catalog, http.url);
    const add = await vagrant(join(root, 'home'), ['box', 'add', '--provider', 'libvirt', `${http.url}/${CATALOG_FILE}`]);
    assert.is(add.status, 0, add.output);
    assert.ok(http.requests.some((r) => r.includes('/boxes/1.0.0/airy-core-1.0.0-libvirt.box')), 'the box came over HTTP');

    const text = readFileSync(join(catalog, CATALOG_FILE), 'utf8');
    writeFileSync(join(catalog, CATALOG_FILE), text.replace(/"checksum": "[0-9a-f]{64}"/, `"checksum": "${'0'.repeat(64)}"`));
    const bad = await vagrant(join(root, 'home2'), ['box', 'add', '--provider', 'libvirt', `${http.url}/${CATALOG_FILE}`]);
    assert.is.not(bad.status, 0);
    assert.match(bad.output, /checksum/i);
    const list = await vagrant(join(root, 'home2'), ['box', 'list']);
    assert.not.match(list.output, /airy\/core/);
  } finally {
    await http.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
