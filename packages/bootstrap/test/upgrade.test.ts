/**
 * `upgrade` when the new box cannot be had, run as a user would: the real CLI, a catalog on a loopback server, the
 * new box's URL on a loopback port nothing listens on, and a stand-in `vagrant` on PATH that keeps the VM's state
 * and the boxes in files and records every call. The old instance must be left as it was, and `start` must work.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initKeys, loadKeys, openStore, publishBox } from '@airy/box-builder';
import { addRelease, BOX_NAME, type BoxContentManifest, type CatalogProvider, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp, type TestHttp } from '../../../tools/testing/http.ts';
import { writeBox } from './helpers.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * A stand-in for vagrant: `status` answers the state in a file, `up`/`halt`/`destroy` change it, `box add` and
 * `box list` keep the boxes in a file, `ssh` answers yes (PostgreSQL is ready), `validate` passes. Every call is
 * appended to `calls`.
 */
function standIn(work: string): { bin: string; calls: () => string[] } {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  const calls = join(work, 'calls');
  const state = join(work, 'vm-state');
  const boxes = join(work, 'boxes');
  writeFileSync(state, 'not_created\n');
  writeFileSync(boxes, '');
  writeFileSync(
    join(bin, 'vagrant'),
    `#!/bin/sh
echo "$*" >> '${calls}'
case "$1" in
  --version) echo 'Vagrant 2.4.1' ;;
  plugin) echo 'vagrant-libvirt (0.12.2, global)' ;;
  status) echo "1700000000,default,state,$(cat '${state}')" ;;
  halt) echo poweroff > '${state}' ;;
  destroy) echo not_created > '${state}' ;;
  # the new box's VM does not come up while the file fail-up exists
  up) if [ -e '${work}/fail-up' ] && grep -q "box_version = '2.0.0'" Vagrantfile; then echo 'the 2.0.0 VM would not boot' >&2; exit 1; fi
      echo running > '${state}' ;;
  validate) ;;
  ssh) case "$3" in *pg_dump*) echo '-- the dump' ;; esac ;;
  box)
    case "$2" in
      list) while IFS=, read -r name version provider; do echo "1,,box-name,$name"; echo "1,,box-provider,$provider"; echo "1,,box-version,$version"; done < '${boxes}' ;;
      add)
        shift 2
        while [ $# -gt 0 ]; do case "$1" in --provider) provider=$2; shift ;; --box-version) version=$2; shift ;; esac; shift; done
        echo "${BOX_NAME},$version,$provider" >> '${boxes}'
        mkdir -p "$VAGRANT_HOME/boxes/${BOX_NAME.replaceAll('/', '-VAGRANTSLASH-')}" ;;
      remove) grep -v ",$5,$7$" '${boxes}' > '${boxes}.new'; mv '${boxes}.new' '${boxes}' ;;
      *) exit 1 ;;
    esac ;;
  *) exit 1 ;;
esac
`,
  );
  chmodSync(join(bin, 'vagrant'), 0o755);
  // No libvirt here: preflight fails on it, which --force passes over (as it does for this machine's size).
  writeFileSync(join(bin, 'virsh'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(bin, 'virsh'), 0o755);
  return { bin, calls: () => readFileSync(calls, 'utf8').split('\n').filter(Boolean) };
}

/** A loopback port nothing listens on: taken from the system, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * An instance of 1.0.0 made by the real default command through the stand-in, its VM running; then 2.0.0 is
 * published with the box `v2` names. Returns what a test needs to run the CLI and look at the result.
 */
async function madeInstance(work: string, http: TestHttp, v2: (v1: CatalogProvider) => CatalogProvider) {
  const vagrant = standIn(work);
  const env = { PATH: `${vagrant.bin}:${process.env.PATH}`, HOME: join(work, 'home'), VAGRANT_HOME: join(work, 'vagrant-home') };
  const dir = join(work, 'instance');
  const cache = join(work, 'cache');
  const size = 4096;
  const served = join(work, 'served');
  const sha256 = writeBox(join(served, 'box-1.box'), size);
  const v1: CatalogProvider = { name: 'libvirt', url: `${http.url}/box-1.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size };
  const catalog = addRelease(emptyCatalog(BOX_NAME), '1.0.0', v1).catalog;
  writeFileSync(join(served, 'metadata.json'), stringifyCatalog(catalog));
  // Unsigned, accepted once with --allow-unsigned: the instance remembers it, so upgrade needs no flag.
  const base = ['--catalog', `${http.url}/metadata.json`, '--allow-unsigned', '--dir', dir, '--cache', cache];
  const made = await runBinAsync(packageDir, [...base, '--no-private-network', '--cpus', '2', '--memory', '2048', '--force', '--yes', '--wait', '0'], { env });
  assert.is(made.status, 0, made.stderr);
  writeFileSync(join(served, 'metadata.json'), stringifyCatalog(addRelease(catalog, '2.0.0', v2(v1)).catalog));
  return {
    vagrant,
    env,
    dir,
    cache,
    oldBox: join(cache, 'boxes', `${sha256}.box`),
    instance: readFileSync(join(dir, 'instance.json'), 'utf8'),
    vagrantfile: readFileSync(join(dir, 'Vagrantfile'), 'utf8'),
    callsBefore: vagrant.calls().length,
  };
}

/** The one error line of a failed run, checked to be the only one and the last; no stack trace. */
function errorLine(stderr: string): string {
  const errors = stderr.split('\n').filter((l) => l.startsWith('airy-bootstrap:'));
  assert.is(errors.length, 1, stderr);
  assert.is(stderr.trimEnd().split('\n').at(-1), errors[0], 'the error line is the last');
  assert.not.match(stderr, /\n\s+at /);
  return errors[0] ?? '';
}

/** Runs `body` in a fresh folder with a loopback server for the catalog and boxes; removes both afterwards. */
async function withWork(body: (work: string, http: TestHttp) => Promise<void>): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'airy-upgrade-'));
  mkdirSync(join(work, 'served'));
  const http = await startHttp(join(work, 'served'));
  try {
    await body(work, http);
  } finally {
    await http.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

test('upgrade with the new box unreachable: one line, exit 1, instance.json and the Vagrantfile intact, no destroy, no dump; start still works', () =>
  withWork(async (work, http) => {
    const port = await closedPort();
    const it = await madeInstance(work, http, (v1) => ({ ...v1, url: `http://127.0.0.1:${port}/box-2.box`, checksum: 'a'.repeat(64) }));
    assert.match(it.instance, /"version": "1\.0\.0"/);

    const upgrade = await runBinAsync(packageDir, ['--retries', '1', 'upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 1, upgrade.stderr);
    assert.match(upgrade.stderr, /the database is carried over/, 'the stand-in VM runs and its PostgreSQL answers');
    assert.match(errorLine(upgrade.stderr), /^airy-bootstrap: getting the new box 2\.0\.0 failed: .+; nothing was changed: 1\.0\.0 is as it was, and airy-bootstrap start starts it \[UPGRADE_FAILED\]$/);

    assert.is(readFileSync(join(it.dir, 'instance.json'), 'utf8'), it.instance);
    assert.is(readFileSync(join(it.dir, 'Vagrantfile'), 'utf8'), it.vagrantfile);
    const during = it.vagrant.calls().slice(it.callsBefore);
    assert.not.ok(during.some((c) => c.startsWith('destroy')), during.join('\n'));
    assert.not.ok(during.some((c) => c.startsWith('box add') || c.startsWith('box remove')), during.join('\n'));
    assert.not.ok(during.some((c) => /pg_dump/.test(c)), 'nothing is dumped before the new box is here');

    // The old VM is still there, and starts.
    const stop = await runBinAsync(packageDir, ['stop', '--dir', it.dir], { env: it.env });
    assert.is(stop.status, 0, stop.stderr);
    const start = await runBinAsync(packageDir, ['start', '--dir', it.dir, '--wait', '0', '--force'], { env: it.env });
    assert.is(start.status, 0, start.stderr);
    assert.match(start.stdout, /Airy Core 1\.0\.0 is running/);
    assert.ok(it.vagrant.calls().at(-1)?.startsWith('up '), it.vagrant.calls().join('\n'));
    assert.is(readFileSync(join(it.dir, 'instance.json'), 'utf8'), it.instance);
  }));

test('upgrade with --wait 0 and a database: box add, dump, destroy, up in that order; the old box removed (not leaked); the dump kept 0600 and named', () =>
  withWork(async (work, http) => {
    const sha2 = writeBox(join(work, 'served', 'box-2.box'), 8192);
    const it = await madeInstance(work, http, (v1) => ({ ...v1, url: `${http.url}/box-2.box`, checksum: sha2, size: 8192 }));

    const upgrade = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 0, upgrade.stderr);
    assert.match(JSON.parse(readFileSync(join(it.dir, 'instance.json'), 'utf8')).version, /^2\.0\.0$/);
    // Made with --allow-unsigned: remembered (no flag here), and said on this run too.
    assert.match(upgrade.stderr, /notice: the catalog http:\/\/127\.0\.0\.1:\d+\/metadata\.json is read unverified \(this instance was made with --allow-unsigned\)/);
    assert.is(JSON.parse(readFileSync(join(it.dir, 'instance.json'), 'utf8')).allowUnsigned, true);
    const during = it.vagrant.calls().slice(it.callsBefore);
    const at = (pattern: RegExp) => during.findIndex((c) => pattern.test(c));
    const order = [/^box add .*--box-version 2\.0\.0/, /^ssh -c .*pg_dump/, /^destroy --force/, /^up /, /^box remove airy\/core --box-version 1\.0\.0/].map(at);
    assert.ok(order.every((i, n) => i >= 0 && (n === 0 || i > (order[n - 1] ?? 0))), during.join('\n'));
    assert.not.ok(existsSync(it.oldBox), 'the old box left the cache');
    const backup = join(it.dir, 'backups', 'postgres-1.0.0.sql');
    assert.is(readFileSync(backup, 'utf8'), '-- the dump\n');
    assert.is(statSync(backup).mode & 0o777, 0o600);
    assert.match(upgrade.stderr, new RegExp(`--wait 0\\), so the database was not restored; once it is ready, airy-bootstrap restore --from ${backup} --dir ${it.dir}`));
  }));

test('upgrade whose new VM does not start: the half-made VM destroyed, the old Vagrantfile and instance.json in place, start makes 1.0.0 again', () =>
  withWork(async (work, http) => {
    const sha2 = writeBox(join(work, 'served', 'box-2.box'), 8192);
    const it = await madeInstance(work, http, (v1) => ({ ...v1, url: `${http.url}/box-2.box`, checksum: sha2, size: 8192 }));
    writeFileSync(join(work, 'fail-up'), '');

    const upgrade = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 1, upgrade.stderr);
    assert.match(
      errorLine(upgrade.stderr),
      /^airy-bootstrap: the VM of 2\.0\.0 did not start: vagrant up failed: the 2\.0\.0 VM would not boot .*; the VM of 1\.0\.0 is gone, but the instance still names it: airy-bootstrap start makes it again \(new and empty\), then airy-bootstrap restore --from .*postgres-1\.0\.0\.sql --dir .*; or run airy-bootstrap upgrade again \[VAGRANT_UP_FAILED\]$/,
    );
    assert.is(readFileSync(join(it.dir, 'instance.json'), 'utf8'), it.instance);
    assert.is(readFileSync(join(it.dir, 'Vagrantfile'), 'utf8'), it.vagrantfile);
    const during = it.vagrant.calls().slice(it.callsBefore);
    assert.is(during.filter((c) => c.startsWith('destroy')).length, 2, 'the old VM, then the half-made new one');
    assert.ok(existsSync(it.oldBox), 'the old box stays: the instance still names it');

    const start = await runBinAsync(packageDir, ['start', '--dir', it.dir, '--wait', '0', '--force'], { env: it.env });
    assert.is(start.status, 0, start.stderr);
    assert.match(start.stdout, /Airy Core 1\.0\.0 is running/);

    // Upgraded again from the new, empty 1.0.0: the first dump (the data) is named and kept, not overwritten.
    rmSync(join(work, 'fail-up'));
    const first = join(it.dir, 'backups', 'postgres-1.0.0.sql');
    writeFileSync(first, '-- the data\n');
    const again = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(again.status, 0, again.stderr);
    assert.ok(again.stderr.includes(`an earlier upgrade's dump is in ${first}; restore it with: airy-bootstrap restore --from ${first}`), again.stderr);
    assert.is(readFileSync(first, 'utf8'), '-- the data\n');
    assert.ok(again.stderr.includes(`saved the database to ${join(it.dir, 'backups', 'postgres-1.0.0-2.sql')}`), again.stderr);
  }));

/** What a refused run must leave: instance.json and the Vagrantfile as they were, Vagrant's boxes and VM untouched. */
function assertNothingChanged(it: Awaited<ReturnType<typeof madeInstance>>) {
  assert.is(readFileSync(join(it.dir, 'instance.json'), 'utf8'), it.instance);
  assert.is(readFileSync(join(it.dir, 'Vagrantfile'), 'utf8'), it.vagrantfile);
  const during = it.vagrant.calls().slice(it.callsBefore);
  assert.not.ok(
    during.some((c) => /^(box add|box remove|destroy|up|halt)\b/.test(c) || /pg_dump/.test(c)),
    during.join('\n'),
  );
  assert.equal(readdirSync(join(it.cache, 'boxes')).filter((f) => f.endsWith('.box')), [basename(it.oldBox)], 'no new box in the cache');
}

test('the default command refuses an unsigned catalog by default: one line saying how to sign it, exit 1, nothing made', () =>
  withWork(async (work, http) => {
    const vagrant = standIn(work);
    const env = { PATH: `${vagrant.bin}:${process.env.PATH}`, HOME: join(work, 'home'), VAGRANT_HOME: join(work, 'vagrant-home') };
    const sha256 = writeBox(join(work, 'served', 'box-1.box'), 4096);
    const entry: CatalogProvider = { name: 'libvirt', url: `${http.url}/box-1.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size: 4096 };
    writeFileSync(join(work, 'served', 'metadata.json'), stringifyCatalog(addRelease(emptyCatalog(BOX_NAME), '1.0.0', entry).catalog));
    const dir = join(work, 'instance');
    const run = await runBinAsync(packageDir, ['--catalog', `${http.url}/metadata.json`, '--dir', dir, '--cache', join(work, 'cache'), '--force', '--yes', '--wait', '0'], { env });
    assert.is(run.status, 1, run.stderr);
    assert.match(
      errorLine(run.stderr),
      /^airy-bootstrap: refused \(TUF_UNSIGNED\): http:\/\/127\.0\.0\.1:\d+\/metadata\.json is not signed \(no tuf\/timestamp\.json\): sign it \(airy-box keys init, then airy-box publish --keys\) and pass --trusted-root DIR\/root\.json, or accept it unverified with --allow-unsigned$/,
    );
    assert.not.ok(existsSync(join(dir, 'instance.json')), 'no instance.json');
    assert.not.ok(existsSync(join(dir, 'Vagrantfile')), 'no Vagrantfile');
    assert.not.ok(existsSync(join(work, 'cache', 'boxes')) && readdirSync(join(work, 'cache', 'boxes')).length > 0, 'nothing downloaded');
    assert.not.ok(vagrant.calls().some((c) => /^(box add|up|destroy)\b/.test(c)), vagrant.calls().join('\n'));
  }));

test('upgrade of an instance that never said how to trust its catalog (made before signing) refuses the unsigned catalog; nothing changed', () =>
  withWork(async (work, http) => {
    const sha2 = writeBox(join(work, 'served', 'box-2.box'), 8192);
    const it = await madeInstance(work, http, (v1) => ({ ...v1, url: `${http.url}/box-2.box`, checksum: sha2, size: 8192 }));
    // As an older bootstrap wrote it: no trust remembered.
    const { allowUnsigned: _, ...older } = JSON.parse(it.instance);
    const state = `${JSON.stringify(older, null, 2)}\n`;
    writeFileSync(join(it.dir, 'instance.json'), state);
    const upgrade = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 1, upgrade.stderr);
    assert.match(errorLine(upgrade.stderr), /^airy-bootstrap: refused \(TUF_UNSIGNED\): .* or accept it unverified with --allow-unsigned$/);
    assertNothingChanged({ ...it, instance: state });
  }));

/** An instance of 1.0.0 from a signed catalog, made with --trusted-root; 2.0.0 is then published signed by `keys`. */
async function signedInstance(work: string, http: TestHttp) {
  const keys = join(work, 'keys');
  await initKeys(keys);
  const store = openStore(`file://${join(work, 'served')}`, { publicUrl: http.url });
  const publish = async (version: string, keysDir: string, size: number) => {
    const boxFile = join(work, `${version}.box`);
    const sha256 = writeBox(boxFile, size);
    const manifest = { name: BOX_NAME, version, provider: 'libvirt', architecture: 'amd64', size, sha256, createdAt: '2026-12-06T00:00:00Z', gitCommit: 'test', components: {}, images: [], manifestsHash: 'test', skipped: [] };
    await publishBox(store, { boxFile, manifest: manifest as unknown as BoxContentManifest, partSize: 5 * 2 ** 20, concurrency: 1, signing: await loadKeys(keysDir) });
    return sha256;
  };
  const vagrant = standIn(work);
  const env = { PATH: `${vagrant.bin}:${process.env.PATH}`, HOME: join(work, 'home'), VAGRANT_HOME: join(work, 'vagrant-home') };
  const dir = join(work, 'instance');
  const cache = join(work, 'cache');
  const sha1 = await publish('1.0.0', keys, 4096);
  const made = await runBinAsync(
    packageDir,
    ['--catalog', `${http.url}/metadata.json`, '--trusted-root', join(keys, 'root.json'), '--dir', dir, '--cache', cache, '--no-private-network', '--cpus', '2', '--memory', '2048', '--force', '--yes', '--wait', '0'],
    { env },
  );
  assert.is(made.status, 0, made.stderr);
  assert.match(made.stderr, /catalog verified \(TUF\): box 1\.0\.0 is a signed target/);
  return {
    keys,
    publish,
    vagrant,
    env,
    dir,
    cache,
    oldBox: join(cache, 'boxes', `${sha1}.box`),
    instance: readFileSync(join(dir, 'instance.json'), 'utf8'),
    vagrantfile: readFileSync(join(dir, 'Vagrantfile'), 'utf8'),
    callsBefore: vagrant.calls().length,
  };
}

test('an instance made with --trusted-root remembers its root: upgrade verifies against it with no flag', () =>
  withWork(async (work, http) => {
    const it = await signedInstance(work, http);
    assert.is(JSON.parse(it.instance).trustedRoot, readFileSync(join(it.keys, 'root.json'), 'utf8'), 'the root, as given');
    await it.publish('2.0.0', it.keys, 8192);
    const upgrade = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 0, upgrade.stderr);
    assert.match(upgrade.stderr, /catalog verified \(TUF\): box 2\.0\.0 is a signed target/);
    assert.not.match(upgrade.stderr, /notice: /);
    const now = JSON.parse(readFileSync(join(it.dir, 'instance.json'), 'utf8'));
    assert.is(now.version, '2.0.0');
    assert.is(now.trustedRoot, JSON.parse(it.instance).trustedRoot, 'still remembered');
  }));

test('upgrade refuses a catalog signed by another root than the instance remembers: one line, exit 1, nothing changed', () =>
  withWork(async (work, http) => {
    const it = await signedInstance(work, http);
    // The bucket's writer re-signs everything with keys of its own, and adds 2.0.0.
    const other = join(work, 'other-keys');
    await initKeys(other);
    rmSync(join(work, 'served', 'tuf'), { recursive: true });
    await it.publish('2.0.0', other, 8192);
    const upgrade = await runBinAsync(packageDir, ['upgrade', '--dir', it.dir, '--yes', '--wait', '0', '--force'], { env: it.env });
    assert.is(upgrade.status, 1, upgrade.stderr);
    assert.match(errorLine(upgrade.stderr), /^airy-bootstrap: refused \(TUF_BAD_SIGNATURE\): /);
    assertNothingChanged(it);
  }));

test.run();
