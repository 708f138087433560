import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badInputTests, cliConventionTests, runBinAsync } from '../../../tools/testing/cli.ts';
import { startHostile } from '../../../tools/testing/hostile.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

cliConventionTests(packageDir, { typo: 'biuld', meant: 'build' });

badInputTests(packageDir, [
  [['build', '--box-version', '1.0'], /--box-version 1.0: not a semantic version/],
  [['build', '--box-version', '1.0.0', '--provider', 'hyperv'], /'hyperv' is invalid. Allowed choices are virtualbox, libvirt/],
  [['build', '--box-version', '1.0.0', '--restrict-network', '--out', '/tmp/airy-never'], /--restrict-network needs --skip-downloads: .* \[BUILD_OPTIONS_CONFLICT\]\n$/],
  [['build', '--box-version', '1.0.0', '--images', '/nonexistent', '--out', '/tmp/airy-never'], /the Packer templates are not in \/nonexistent \(missing airy-core\/\*\.pkr\.hcl, scripts\/, files\/\): pass --images.* \[BUILD_TEMPLATES_NOT_FOUND\]\n$/],
  [
    ['build', '--box-version', '1.0.0', '--registry-mirror', 'https://mirror.example.com:99999', '--out', '/tmp/airy-never'],
    /--registry-mirror https:\/\/mirror\.example\.com:99999: port 99999 is out of range: give one from 1 to 65535 \[BUILD_REGISTRY_MIRROR_INVALID\]\n$/,
  ],
  [['publish', '--from', '/nonexistent'], /cannot read \/nonexistent\/box.json: build first/],
  [['publish', '--to', 'ftp://x', '--from', '/nonexistent'], /--to ftp:\/\/x: use s3:\/\/bucket\/prefix or file:\/\/\/absolute\/folder \[STORE_URL_INVALID\]\n$/],
  [['catalog', 'list', '--from', 'file:///nonexistent-catalog'], /no catalog at file:\/\/\/nonexistent-catalog\/metadata.json/],
  [['catalog', 'promote', '--box-version', 'latest'], /--box-version latest: not a semantic version/],
]);

test('catalog list from a hostile server: a huge catalog is refused quickly, a password in the URL is never shown', async () => {
  const hostile = await startHostile({ body: Buffer.alloc(16), hugeBytes: 64 * 2 ** 20 });
  try {
    const huge = await runBinAsync(packageDir, ['catalog', 'list', '--from', `${hostile.url}/huge/metadata.json`]);
    assert.is(huge.status, 1, huge.stderr);
    assert.match(huge.stderr, /^airy-box: cannot read .*\/huge\/metadata\.json \(more than a catalog's 4194304 bytes\): check --from/);
    assert.is(huge.stderr.trimEnd().split('\n').length, 1);
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const secret = await runBinAsync(packageDir, ['catalog', 'list', '--from', `http://reader:s3cret-pw@127.0.0.1:${port}/metadata.json`]);
    assert.is(secret.status, 1, secret.stderr);
    assert.not.match(secret.stderr, /s3cret-pw/);
    assert.match(secret.stderr, new RegExp(`reader:\\*\\*\\*@127\\.0\\.0\\.1:${port}/metadata\\.json \\(ECONNREFUSED\\)`));
  } finally {
    await hostile.stop();
  }
});

test('catalog list: control characters in a catalog reach the terminal only as visible escapes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airy-box-evil-'));
  try {
    const evil = '\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x9b2J\x7f';
    const provider = { name: `libvirt${evil}`, url: 'https://boxes.test/a.box', checksum_type: 'sha256', checksum: 'a'.repeat(64), architecture: 'amd64' };
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify({ name: 'airy/core', versions: [{ version: '1.0.0', providers: [provider] }] }));
    const run = await runBinAsync(packageDir, ['catalog', 'list', '--from', pathToFileURL(dir).href]);
    assert.ok(run.status === 1 || run.status === 2, `${run.status} ${run.stderr}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
    assert.not.match(`${run.stdout}${run.stderr}`, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, JSON.stringify(run.stderr));
    assert.match(run.stderr, /libvirt\\x1b\]0;owned\\x07/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
