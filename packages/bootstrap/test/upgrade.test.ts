/**
 * `upgrade` when the new box cannot be had, run as a user would: the real CLI, a catalog on a loopback server, the
 * new box's URL on a loopback port nothing listens on, and a stand-in `vagrant` on PATH that keeps the VM's state
 * and the boxes in files and records every call. The old instance must be left as it was, and `start` must work.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addRelease, BOX_NAME, emptyCatalog, stringifyCatalog } from '@airy/box-catalog';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../../../tools/testing/cli.ts';
import { startHttp } from '../../../tools/testing/http.ts';
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
  up) echo running > '${state}' ;;
  halt) echo poweroff > '${state}' ;;
  destroy) echo not_created > '${state}' ;;
  validate|ssh) ;;
  box)
    case "$2" in
      list) while IFS=, read -r name version provider; do echo "1,,box-name,$name"; echo "1,,box-provider,$provider"; echo "1,,box-version,$version"; done < '${boxes}' ;;
      add)
        shift 2
        while [ $# -gt 0 ]; do case "$1" in --provider) provider=$2; shift ;; --box-version) version=$2; shift ;; esac; shift; done
        echo "${BOX_NAME},$version,$provider" >> '${boxes}'
        mkdir -p "$VAGRANT_HOME/boxes/${BOX_NAME.replaceAll('/', '-VAGRANTSLASH-')}" ;;
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

test('upgrade with the new box unreachable: one line, exit 1, instance.json and the Vagrantfile intact, no destroy, no dump; start still works', async () => {
  const work = mkdtempSync(join(tmpdir(), 'airy-upgrade-'));
  const served = join(work, 'served');
  mkdirSync(served);
  const http = await startHttp(served);
  try {
    const vagrant = standIn(work);
    const env = { PATH: `${vagrant.bin}:${process.env.PATH}`, HOME: join(work, 'home'), VAGRANT_HOME: join(work, 'vagrant-home') };
    const dir = join(work, 'instance');
    const size = 4096;
    const sha256 = writeBox(join(served, 'box-1.box'), size);
    const v1 = { name: 'libvirt', url: `${http.url}/box-1.box`, checksum_type: 'sha256', checksum: sha256, architecture: 'amd64', size } as const;
    const catalog = addRelease(emptyCatalog(BOX_NAME), '1.0.0', v1).catalog;
    writeFileSync(join(served, 'metadata.json'), stringifyCatalog(catalog));
    const base = ['--catalog', `${http.url}/metadata.json`, '--dir', dir, '--cache', join(work, 'cache')];

    const made = await runBinAsync(packageDir, [...base, '--no-private-network', '--cpus', '2', '--memory', '2048', '--force', '--yes', '--wait', '0'], { env });
    assert.is(made.status, 0, made.stderr);
    const instance = readFileSync(join(dir, 'instance.json'), 'utf8');
    const vagrantfile = readFileSync(join(dir, 'Vagrantfile'), 'utf8');
    assert.match(instance, /"version": "1\.0\.0"/);

    // 2.0.0 is published, but its box's server is unreachable.
    const v2 = { ...v1, url: `http://127.0.0.1:${await closedPort()}/box-2.box`, checksum: 'a'.repeat(64) };
    writeFileSync(join(served, 'metadata.json'), stringifyCatalog(addRelease(catalog, '2.0.0', v2).catalog));
    const callsBefore = vagrant.calls().length;

    const upgrade = await runBinAsync(packageDir, ['--retries', '1', 'upgrade', '--dir', dir, '--yes', '--wait', '0', '--force'], { env });
    assert.is(upgrade.status, 1, upgrade.stderr);
    assert.match(upgrade.stderr, /the database is carried over/, 'the stand-in VM runs and its PostgreSQL answers');
    const errors = upgrade.stderr.split('\n').filter((l) => l.startsWith('airy-bootstrap:'));
    assert.is(errors.length, 1, upgrade.stderr);
    assert.is(upgrade.stderr.trimEnd().split('\n').at(-1), errors[0], 'the error line is the last');
    assert.match(errors[0] ?? '', /^airy-bootstrap: getting the new box 2\.0\.0 failed: .+; nothing was changed: 1\.0\.0 is as it was, and airy-bootstrap start starts it$/);
    assert.not.match(upgrade.stderr, /\n\s+at /);

    assert.is(readFileSync(join(dir, 'instance.json'), 'utf8'), instance);
    assert.is(readFileSync(join(dir, 'Vagrantfile'), 'utf8'), vagrantfile);
    const during = vagrant.calls().slice(callsBefore);
    assert.not.ok(during.some((c) => c.startsWith('destroy')), during.join('\n'));
    assert.not.ok(during.some((c) => c.startsWith('box add') || c.startsWith('box remove')), during.join('\n'));
    assert.not.ok(during.some((c) => /pg_dump/.test(c)), 'nothing is dumped before the new box is here');

    // The old VM is still there, and starts.
    const stop = await runBinAsync(packageDir, ['stop', '--dir', dir], { env });
    assert.is(stop.status, 0, stop.stderr);
    const start = await runBinAsync(packageDir, ['start', '--dir', dir, '--wait', '0', '--force'], { env });
    assert.is(start.status, 0, start.stderr);
    assert.match(start.stdout, /Airy Core 1\.0\.0 is running/);
    assert.ok(vagrant.calls().at(-1)?.startsWith('up '), vagrant.calls().join('\n'));
    assert.is(readFileSync(join(dir, 'instance.json'), 'utf8'), instance);
  } finally {
    await http.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
