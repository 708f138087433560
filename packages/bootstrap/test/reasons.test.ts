/**
 * Library code names a reason, never an exit code: each failure moved off CliError, reached through the seams its
 * module already has (an injected ssh, an environment, a folder), throws an AiryError with its reason, and the
 * registry, not the library, gives the exit code the CLI uses.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AiryError, REASONS, type ReasonId } from '@airy/cli-kit';
import { expectReason } from '../../../tools/testing/reasons.ts';
import { handOverToken, tunnelToken } from '../src/cluster-tunnel.ts';
import { requireInstance } from '../src/instance.ts';
import { writeKubeconfig } from '../src/kubeconfig.ts';
import { backup, restore, stop } from '../src/manage.ts';
import type { InstanceState } from '../src/instance.ts';
import type { PreflightCheck } from '../src/preflight.ts';
import type { TrustReason } from '../src/trust.ts';
import { addBox, bootVm, installVm, type UpOptions } from '../src/up.ts';
import { ensureVagrant } from '../src/vagrant-install.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-reasons-'));

const reasonOf = expectReason;

test('cluster-tunnel: a missing or malformed token is a reason of its own (exit 2 by the registry); a failed hand-over too (exit 1)', async () => {
  assert.is(await reasonOf(() => tunnelToken({}), 'CLUSTER_TUNNEL_TOKEN_MISSING'), 2);
  assert.is(await reasonOf(() => tunnelToken({ NGROK_AUTHTOKEN: 'a b' }), 'CLUSTER_TUNNEL_TOKEN_INVALID'), 2);
  const dir = mkdtempSync(join(work, 'instance-'));
  assert.is(await reasonOf(() => handOverToken(dir, 'x'.repeat(24), async () => ({ ok: false, reason: 'ssh: connect refused' })), 'CLUSTER_TUNNEL_HANDOVER_FAILED'), 1);
});

test('kubeconfig: unreadable in the VM, or not usable on the host: each its reason (exit 1)', async () => {
  const dir = mkdtempSync(join(work, 'instance-'));
  assert.is(await reasonOf(() => writeKubeconfig(dir, async () => ({ ok: false, stdout: '', stderr: 'kubectl: not found' })), 'KUBECONFIG_UNREADABLE'), 1);
  assert.is(await reasonOf(() => writeKubeconfig(dir, async () => ({ ok: true, stdout: '{"kind":"Config"}', stderr: '' })), 'KUBECONFIG_INVALID'), 1);
});

test('instance and restore: no instance, no backup file: usage reasons (exit 2)', async () => {
  assert.is(await reasonOf(() => requireInstance(join(work, 'none')), 'INSTANCE_NOT_FOUND'), 2);
  assert.is(await reasonOf(() => restore(join(work, 'none'), join(work, 'no-such.sql')), 'BACKUP_NOT_FOUND'), 2);
});

(process.stdin.isTTY || process.platform !== 'linux' ? test.skip : test)(
  'vagrant-install: without Vagrant and without a terminal to ask, ANSWER_NEEDED (exit 2) before anything runs',
  async () => {
    const host = { platform: 'linux', arch: 'x64', cpus: 4, memoryBytes: 2 ** 34, freeBytes: 2 ** 40, vagrantVersion: undefined } as unknown as Parameters<typeof ensureVagrant>[0];
    const lines: string[] = [];
    // A distribution the plan has commands for asks first; one it has none for says how to install (VAGRANT_NOT_INSTALLED).
    const error = await ensureVagrant(host, false, (l) => lines.push(l)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof AiryError, String(error));
    assert.ok(['ANSWER_NEEDED', 'VAGRANT_NOT_INSTALLED'].includes(error.reason), error.reason);
    assert.not.ok('exitCode' in error);
  },
);
if (process.stdin.isTTY || process.platform !== 'linux') console.log('skip: vagrant-install reasons need Linux and no terminal on stdin (it would ask)');

/**
 * An instance folder and a stand-in `vagrant` first on PATH: `status` answers the state in a file, and a command
 * whose `fail-<command>` file exists fails, as the real one would, with a line on stderr.
 */
function standIn(vm: string, failing: readonly string[]): { dir: string; state: InstanceState; restorePath: () => void } {
  const root = mkdtempSync(join(work, 'vagrant-'));
  const bin = join(root, 'bin');
  const dir = join(root, 'instance');
  mkdirSync(bin);
  mkdirSync(dir);
  for (const f of failing) writeFileSync(join(root, `fail-${f}`), '');
  writeFileSync(
    join(bin, 'vagrant'),
    `#!/bin/sh
[ -e "${root}/fail-$1" ] && { echo "vagrant $1: it failed here" >&2; exit 1; }
case "$1" in
  status) echo "1700000000,default,state,${vm}" ;;
esac
exit 0
`,
  );
  chmodSync(join(bin, 'vagrant'), 0o755);
  const state: InstanceState = { catalog: 'file:///catalog/metadata.json', boxName: 'airy/core', version: '1.0.0', sha256: 'a'.repeat(64), provider: 'libvirt', cpus: 2, memoryMiB: 2048, privateNetwork: false };
  writeFileSync(join(dir, 'instance.json'), `${JSON.stringify(state)}\n`);
  // Vagrant's home is never the user's own: a box add that got far would write there.
  const { PATH, VAGRANT_HOME } = process.env;
  process.env.PATH = `${bin}:${PATH}`;
  process.env.VAGRANT_HOME = join(root, 'vagrant-home');
  const restorePath = () => {
    process.env.PATH = PATH;
    if (VAGRANT_HOME === undefined) delete process.env.VAGRANT_HOME;
    else process.env.VAGRANT_HOME = VAGRANT_HOME;
  };
  return { dir, state, restorePath };
}

test('manage: a VM that is not running, a dump or a restore that fails, a vagrant command that fails: each its reason (exit 1)', async () => {
  const off = standIn('poweroff', []);
  try {
    assert.is(await reasonOf(() => backup(off.dir, join(work, 'dump.sql')), 'VM_NOT_RUNNING'), 1);
  } finally {
    off.restorePath();
  }
  const sshFails = standIn('running', ['ssh', 'halt']);
  try {
    assert.is(await reasonOf(() => backup(sshFails.dir, join(work, 'dump.sql')), 'BACKUP_FAILED'), 1);
    const dump = join(work, 'a-dump.sql');
    writeFileSync(dump, '-- a dump\n');
    assert.is(await reasonOf(() => restore(sshFails.dir, dump), 'RESTORE_FAILED'), 1);
    assert.is(await reasonOf(() => stop(sshFails.dir, () => undefined), 'VAGRANT_FAILED'), 1);
  } finally {
    sshFails.restorePath();
  }
});

test('up: box add, validate and up that fail: VAGRANT_BOX_ADD_FAILED, VAGRANTFILE_INVALID, VAGRANT_UP_FAILED (exit 1)', async () => {
  const it = standIn('not_created', ['box', 'validate', 'up']);
  try {
    const options = { dir: it.dir, log: () => undefined, hosts: false, yes: true } as unknown as UpOptions;
    const box = join(work, 'a.box');
    writeFileSync(box, 'box');
    assert.is(await reasonOf(() => addBox(options, { state: it.state, path: box, architecture: 'amd64' }), 'VAGRANT_BOX_ADD_FAILED'), 1);
    assert.is(await reasonOf(() => installVm(it.dir, it.state), 'VAGRANTFILE_INVALID'), 1);
    assert.is(await reasonOf(() => bootVm(options, it.state), 'VAGRANT_UP_FAILED'), 1);
  } finally {
    it.restorePath();
  }
});

test('every preflight code and every TUF reason is a registered reason', () => {
  // Checked by the compiler: a code or a TrustReason outside the registry fails here at type-check time.
  const codes: ReasonId[] = ['RSRC_INSUFFICIENT_VM_CPUS'] satisfies NonNullable<PreflightCheck['code']>[];
  const tuf: readonly TrustReason[] = ['TUF_ROOT_INVALID', 'TUF_UNSIGNED', 'TUF_BAD_SIGNATURE', 'TUF_ROLLBACK', 'TUF_EXPIRED', 'TUF_TARGET_MISMATCH', 'TUF_NOT_SIGNED', 'TUF_UNREACHABLE'];
  const ids = new Set<string>(REASONS.map((r) => r.id));
  for (const id of [...codes, ...tuf] satisfies ReasonId[]) assert.ok(ids.has(id), id);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
