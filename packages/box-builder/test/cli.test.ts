import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliConventionTests, runBin } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

cliConventionTests(packageDir);

for (const [args, pattern] of [
  [['build', '--version', '1.0'], /--version 1.0: not a semantic version/],
  [['build', '--version', '1.0.0', '--provider', 'hyperv'], /'hyperv' is invalid. Allowed choices are virtualbox, libvirt/],
  [['build', '--version', '1.0.0', '--restrict-network', '--out', '/tmp/airy-never'], /--restrict-network needs --skip-downloads/],
  [['publish', '--from', '/nonexistent'], /cannot read \/nonexistent\/box.json: build first/],
  [['publish', '--to', 'ftp://x', '--from', '/nonexistent'], /cannot read/],
  [['catalog', 'list', '--from', 'file:///nonexistent-catalog'], /no catalog at file:\/\/\/nonexistent-catalog\/metadata.json/],
  [['catalog', 'promote', '--version', 'latest'], /--version latest: not a semantic version/],
] as const) {
  test(`bad input exits 2 with one line: ${args.join(' ')}`, () => {
    const run = runBin(packageDir, [...args]);
    assert.is(run.status, 2, run.stderr);
    assert.is(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  });
}

test.run();
