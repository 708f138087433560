import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { privateCacheDir } from '../src/compile-cache.ts';

const bin = fileURLToPath(new URL('../bin/airy-manifests.js', import.meta.url));
const uid = process.getuid?.();
const posix = uid !== undefined;
if (!posix) console.log('skip: the compile cache folder checks need user ids (POSIX)');

function withBase(work: (base: string) => void): void {
  const base = mkdtempSync(join(tmpdir(), 'airy-compile-cache-'));
  try {
    work(base);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

(posix ? test : test.skip)('the cache folder is made 0700 and used again', () => {
  withBase((base) => {
    const dir = privateCacheDir(base, uid);
    assert.is(dir, join(base, `airy-manifests-compile-cache-${uid}`));
    assert.is(statSync(dir as string).mode & 0o777, 0o700);
    assert.is(privateCacheDir(base, uid), dir);
  });
});

(posix ? test : test.skip)('a folder others can write, one of another owner, or a link there is not used', () => {
  withBase((base) => {
    const dir = join(base, `airy-manifests-compile-cache-${uid}`);
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    assert.is(privateCacheDir(base, uid), undefined, 'writable by others');
    chmodSync(dir, 0o700);
    assert.is(privateCacheDir(base, (uid as number) + 1), undefined, 'owned by another user');
    rmSync(dir, { recursive: true });
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, dir);
    assert.is(privateCacheDir(base, uid), undefined, 'a symbolic link');
  });
});

const cacheable = posix && 'enableCompileCache' in nodeModule;
if (posix && !cacheable) console.log(`skip: Node ${process.version} has no module.enableCompileCache (22.1+)`);

(cacheable ? test : test.skip)('the bin keeps compiled code in the private folder, and not when Node is told not to', () => {
  withBase((base) => {
    const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _disable, ...inherited } = process.env;
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env: { ...inherited, TMPDIR: base, ...env } });
    const off = run({ NODE_DISABLE_COMPILE_CACHE: '1' });
    assert.is(off.status, 0, off.stderr);
    assert.equal(readdirSync(base), [], 'nothing kept when disabled');
    const on = run({});
    assert.is(on.status, 0, on.stderr);
    const dir = join(base, `airy-manifests-compile-cache-${uid}`);
    assert.ok(readdirSync(dir).length > 0, 'compiled code kept');
  });
});

test.run();
