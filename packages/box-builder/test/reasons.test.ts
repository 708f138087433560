/**
 * The build and the store locations name a reason, never an exit code: each failure moved off CliError throws an
 * AiryError with its reason, and the registry, not the library, gives the exit code `airy-box` uses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AiryError, REASONS, type ReasonId } from '@airy/cli-kit';
import { expectReason } from '../../../tools/testing/reasons.ts';
import { type BuildOptions, buildBox } from '../src/build.ts';
import { openReader, openStore } from '../src/sources.ts';

const work = mkdtempSync(join(tmpdir(), 'airy-box-reasons-'));

const reasonOf = expectReason;

/** Options that get past every check before the host's preflight: a build that goes nowhere. */
const options = (over: Partial<BuildOptions> = {}): BuildOptions & { validateOnly: true } => ({
  provider: 'libvirt',
  architecture: 'amd64',
  version: '1.0.0',
  outDir: join(work, 'out'),
  accelerator: 'tcg',
  skipDownloads: true,
  restrictNetwork: false,
  cpus: 1,
  memory: 512,
  diskSize: '1024M',
  sshKey: join(work, 'no-such-key'),
  log: () => undefined,
  ...over,
  validateOnly: true,
});

test('build: options that do not go together, templates not found, a bad mirror: usage reasons (exit 2)', async () => {
  assert.is(await reasonOf(() => buildBox(options({ restrictNetwork: true, skipDownloads: false })), 'BUILD_OPTIONS_CONFLICT'), 2);
  assert.is(await reasonOf(() => buildBox(options({ restrictNetwork: true, architecture: 'arm64' })), 'BUILD_OPTIONS_CONFLICT'), 2);
  assert.is(await reasonOf(() => buildBox(options({ imagesDir: join(work, 'none') })), 'BUILD_TEMPLATES_NOT_FOUND'), 2);
  assert.is(await reasonOf(() => buildBox(options({ registryMirror: 'ftp://mirror' })), 'BUILD_REGISTRY_MIRROR_INVALID'), 2);
});

test('build: a remote base image without its checksum, or a local one that cannot be read: BUILD_BASE_IMAGE_INVALID (exit 2)', async () => {
  assert.is(await reasonOf(() => buildBox(options({ baseImage: 'https://images.invalid/base.qcow2' })), 'BUILD_BASE_IMAGE_INVALID'), 2);
  assert.is(await reasonOf(() => buildBox(options({ baseImage: join(work, 'no-such.qcow2') })), 'BUILD_BASE_IMAGE_INVALID'), 2);
});

/**
 * Runs a build that stops at the host's preflight or at the ssh key after it, and checks the reason is the one the
 * host's preflight lines call for (the host decides whether Packer and the disk pass).
 */
async function stopsAt(sshKey: string, afterPreflight: ReasonId): Promise<void> {
  const base = join(work, 'base.qcow2');
  writeFileSync(base, 'not really an image');
  const lines: string[] = [];
  const error = await buildBox(options({ baseImage: base, sshKey, log: (l) => lines.push(l) })).then(
    () => undefined,
    (e: unknown) => e,
  );
  const expected: ReasonId = lines.some((l) => l.startsWith('preflight: FAIL')) ? 'PREFLIGHT_FAILED' : afterPreflight;
  assert.ok(error instanceof AiryError, String(error));
  assert.is(error.reason, expected, lines.join('\n'));
  assert.not.ok('exitCode' in error);
}

test('build: a failed preflight is PREFLIGHT_FAILED (exit 3); past it, a missing .pub is BUILD_SSH_KEY_MISSING (exit 3)', async () => {
  await stopsAt(join(work, 'no-such-key'), 'BUILD_SSH_KEY_MISSING');
  assert.is(REASONS.find((r) => r.id === 'PREFLIGHT_FAILED')?.exitCode, 3);
  assert.is(REASONS.find((r) => r.id === 'BUILD_SSH_KEY_MISSING')?.exitCode, 3);
});

test('build: past preflight, a .pub that is not one key line is BUILD_SSH_KEY_INVALID (exit 2)', async () => {
  const key = join(work, 'key');
  writeFileSync(key, 'private');
  writeFileSync(`${key}.pub`, 'not a public key\nsecond line\n');
  await stopsAt(key, 'BUILD_SSH_KEY_INVALID');
  assert.is(REASONS.find((r) => r.id === 'BUILD_SSH_KEY_INVALID')?.exitCode, 2);
});

test('store locations: an unknown scheme for --to or --from is STORE_URL_INVALID (exit 2)', async () => {
  assert.is(await reasonOf(() => openStore('ftp://x', {}), 'STORE_URL_INVALID'), 2);
  assert.is(await reasonOf(() => openReader('ftp://x/metadata.json', {}), 'STORE_URL_INVALID'), 2);
});

test.after(() => rmSync(work, { recursive: true, force: true }));
test.run();
