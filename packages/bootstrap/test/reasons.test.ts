/**
 * Library code names a reason, never an exit code: each failure moved off CliError, reached through the seams its
 * module already has (an injected ssh, an environment, a folder), throws an AiryError with its reason, and the
 * registry, not the library, gives the exit code the CLI uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AiryError, REASONS, type ReasonId } from '@airy/cli-kit';
import { handOverToken, tunnelToken } from '../src/cluster-tunnel.ts';
import { requireInstance } from '../src/instance.ts';
import { writeKubeconfig } from '../src/kubeconfig.ts';
import { restore } from '../src/manage.ts';
import type { PreflightCheck } from '../src/preflight.ts';
import type { TrustReason } from '../src/trust.ts';
import { ensureVagrant } from '../src/vagrant-install.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-reasons-'));

/** What `run` threw, checked to be an AiryError of `reason` that carries no exit code; returns the exit code the registry gives it. */
async function reasonOf(run: () => unknown, reason: ReasonId): Promise<number | undefined> {
  const error = await (async () => run())().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof AiryError, `expected an AiryError, got ${String(error)}`);
  assert.is(error.reason, reason, error.message);
  assert.not.ok('exitCode' in error, 'a library error carries no exit code');
  return REASONS.find((r) => r.id === reason)?.exitCode;
}

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

test('every preflight code and every TUF reason is a registered reason', () => {
  // Checked by the compiler: a code or a TrustReason outside the registry fails here at type-check time.
  const codes: ReasonId[] = ['RSRC_INSUFFICIENT_VM_CPUS'] satisfies NonNullable<PreflightCheck['code']>[];
  const tuf: readonly TrustReason[] = ['TUF_ROOT_INVALID', 'TUF_UNSIGNED', 'TUF_BAD_SIGNATURE', 'TUF_ROLLBACK', 'TUF_EXPIRED', 'TUF_TARGET_MISMATCH', 'TUF_NOT_SIGNED', 'TUF_UNREACHABLE'];
  const ids = new Set<string>(REASONS.map((r) => r.id));
  for (const id of [...codes, ...tuf] satisfies ReasonId[]) assert.ok(ids.has(id), id);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
