import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { tinyBoxCatalog, vagrantReady } from '../../../tools/testing/vagrant.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const { ready, reason } = vagrantReady();
// With libvirtd running, `vagrant up` would really try to boot the tiny box; this test wants the failure instead.
const libvirtUp = spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { stdio: 'ignore' }).status === 0;
const runnable = ready && !libvirtUp;
if (!runnable) console.log(`skip: ${ready ? 'libvirtd is running here' : reason}; the default-command walk-through is skipped`);

(runnable ? test : test.skip)('the default command walks catalog → download → box add → Vagrantfile → vagrant up, and reports why up failed; start remakes it the same way; destroy --prune cleans up', async () => {
  const root = mkdtempSync(join(tmpdir(), 'airy-up-'));
  try {
    const { url: catalogUrl, sha256 } = tinyBoxCatalog(join(root, 'catalog'));
    const env = { VAGRANT_HOME: join(root, 'vagrant-home') };
    const args = ['--dir', join(root, 'instance'), '--cache', join(root, 'cache')];

    const made = ['--libvirt-driver', 'qemu', '--no-private-network', '--cpus', '2', '--memory', '3072'];
    const up = await runBinAsync(packageDir, ['--catalog', catalogUrl, '--allow-unsigned', ...args, ...made, '--force', '--wait', '1'], { env });
    assert.is(up.status, 1, up.stderr);
    assert.match(up.stderr, /preflight: ok {3}architecture: amd64/);
    assert.match(up.stderr, /box 1\.0\.0: downloaded and verified/);
    assert.match(up.stderr, /Successfully added box 'airy\/core' \(v1\.0\.0\) for 'libvirt'/);
    assert.match(up.stderr, /airy-bootstrap: vagrant up failed: .*libvirt.* \[VAGRANT_UP_FAILED\]\n/i, 'the reason comes from vagrant; the line ends in its reason id');
    const vagrantfile = readFileSync(join(root, 'instance', 'Vagrantfile'), 'utf8');
    assert.match(vagrantfile, /config\.vm\.box_version = '1\.0\.0'/);
    assert.ok(existsSync(join(root, 'cache', 'boxes', `${sha256}.box.verified`)));

    // start, with none of the flags: the instance is made again as it was (driver, network, size, cache).
    const start = await runBinAsync(packageDir, ['start', '--dir', join(root, 'instance'), '--force', '--wait', '0'], { env });
    assert.is(start.status, 1, start.stderr);
    assert.match(start.stderr, /box 1\.0\.0: verified copy in the cache/);
    assert.match(start.stderr, /vagrant up failed/);
    assert.is(readFileSync(join(root, 'instance', 'Vagrantfile'), 'utf8'), vagrantfile);
    assert.match(vagrantfile, /lv\.driver = 'qemu'/);
    assert.not.match(vagrantfile, /private_network/);
    assert.match(vagrantfile, /lv\.memory = 3072/);

    const status = await runBinAsync(packageDir, ['status', '--json', '--dir', join(root, 'instance')], { env });
    assert.is(JSON.parse(status.stdout).vm, 'not_created');

    // No --cache: destroy --prune finds the cache the instance was made from.
    const destroy = await runBinAsync(packageDir, ['destroy', '--prune', '--dir', join(root, 'instance')], { env });
    assert.is(destroy.status, 0, destroy.stderr);
    assert.equal(readdirSync(join(root, 'cache', 'boxes')), []);
    const list = spawnSync('vagrant', ['box', 'list'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.not.match(list.stdout, /airy\/core/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
