import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tinyLibvirtBox, vagrantReady } from '../../../tools/testing/vagrant.ts';
import { boxAdd, boxList, vagrant } from '../src/vagrant.ts';
import { renderVagrantfile } from '../src/vagrantfile.ts';

const { ready, reason } = vagrantReady();
if (!ready) console.log(`skip: ${reason}; the real vagrant checks are skipped`);
const root = mkdtempSync(join(tmpdir(), 'airy-bootstrap-vagrant-'));
process.env.VAGRANT_HOME = join(root, 'vagrant-home');

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
  writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile({ boxName: 'airy/core', boxVersion: '1.0.0', provider: 'libvirt', cpus: 4, memoryMiB: 8192 }).replace('config.vm.box_version = "1.0.0"', 'config.vm.box_version = 1.0.0.0'));
  assert.is.not((await vagrant(['validate'], dir)).code, 0);
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

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
