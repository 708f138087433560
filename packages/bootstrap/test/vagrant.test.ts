import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addRelease, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { tinyLibvirtBox, vagrantReady } from '../../../tools/testing/vagrant.ts';
import { boxAdd, boxList, installVagrantfile, vagrant } from '../src/vagrant.ts';
import { renderVagrantfile } from '../src/vagrantfile.ts';

const { ready, reason } = vagrantReady();
if (!ready) console.log(`skip: ${reason}; the real vagrant checks are skipped`);
const root = mkdtempSync(join(tmpdir(), 'airy-bootstrap-vagrant-'));
// Set when this file's tests start, not when it loads: uvu loads every file of the package before running any, and
// another file's test may change it in between. Never the user's own ~/.vagrant.d.
test.before(() => {
  process.env.VAGRANT_HOME = join(root, 'vagrant-home');
});

for (const provider of ['libvirt', 'virtualbox'] as const) {
  (ready ? test : test.skip)(`vagrant validate accepts the generated Vagrantfile (${provider})`, async () => {
    const dir = mkdtempSync(join(root, `instance-${provider}-`));
    writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider, cpus: 4, memoryMiB: 8192 }));
    const run = await vagrant(['validate'], dir);
    assert.is(run.code, 0, run.tail.join('\n'));
  });
}

(ready ? test : test.skip)('vagrant validate rejects a broken Vagrantfile (the check is real)', async () => {
  const dir = mkdtempSync(join(root, 'broken-'));
  writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 }).replace("config.vm.box_version = '1.0.0'", 'config.vm.box_version = 1.0.0.0'));
  assert.is.not((await vagrant(['validate'], dir)).code, 0);
});

(ready ? test : test.skip)('a Vagrantfile is put in place only once validated; an unchanged one is not validated again', async () => {
  const dir = mkdtempSync(join(root, 'install-'));
  const good = renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 });
  assert.equal(await installVagrantfile(dir, good), { ok: true, changed: true });
  assert.equal(await installVagrantfile(dir, good), { ok: true, changed: false });
  const broken = await installVagrantfile(dir, good.replace("config.vm.box_version = '1.0.0'", 'config.vm.box_version = 1.0.0.0'));
  assert.is(broken.ok, false);
  assert.ok(!broken.ok && broken.reason.length > 0);
  assert.is(readFileSync(join(dir, 'Vagrantfile'), 'utf8'), good, 'the validated Vagrantfile stays');
  assert.not.ok(existsSync(join(dir, 'Vagrantfile.new')));
});

(ready ? test : test.skip)('a verified box file is added under the catalog name and version; a wrong checksum is refused', async () => {
  const file = join(root, 'verified.box');
  const bytes = tinyLibvirtBox(root);
  writeFileSync(file, bytes);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const added = await boxAdd(file, { name: 'airy/core', version: '1.0.0', provider: 'libvirt', sha256 }, root);
  assert.is(added.code, 0, added.tail.join('\n'));
  assert.equal(await boxList(root), [{ name: 'airy/core', provider: 'libvirt', version: '1.0.0' }]);

  const refused = await boxAdd(file, { name: 'airy/core', version: '1.0.1', provider: 'libvirt', sha256: '0'.repeat(64) }, root);
  assert.is.not(refused.code, 0);
  assert.equal((await boxList(root)).map((b) => b.version), ['1.0.0']);
});

(ready ? test : test.skip)('after the add, vagrant box outdated follows the real catalog', async () => {
  const bytes = tinyLibvirtBox(root);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = join(root, 'outdated.box');
  writeFileSync(file, bytes);
  const provider = () => ({ name: 'libvirt' as const, url: `file://${file}`, checksum_type: 'sha256' as const, checksum: sha256, architecture: 'amd64' as const });
  let catalog = addRelease(emptyCatalog('airy/outdated'), '1.0.0', provider()).catalog;
  catalog = addRelease(catalog, '1.1.0', provider()).catalog;
  const catalogPath = join(root, 'outdated-metadata.json');
  writeFileSync(catalogPath, stringifyCatalog(catalog));
  const added = await boxAdd(file, { name: 'airy/outdated', version: '1.0.0', provider: 'libvirt', sha256, catalogUrl: `file://${catalogPath}` }, root);
  assert.is(added.code, 0, added.tail.join('\n'));
  const outdated = await vagrant(['box', 'outdated', '--global'], root);
  assert.match(outdated.tail.join('\n'), /airy\/outdated.*outdated.*1\.1\.0/i);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
