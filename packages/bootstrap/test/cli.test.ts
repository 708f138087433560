import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badInputTests, cliConventionTests, runBin } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

cliConventionTests(packageDir, { typo: 'stauts', meant: 'status' });

badInputTests(packageDir, [
  [['--cpus', 'four'], /--cpus four: must be a whole number/],
  [['--box-version', 'newest'], /--box-version newest: use latest or a version/],
  [['--provider', 'hyperv'], /'hyperv' is invalid/],
  [['download', '--catalog', 'file:///x/metadata.json'], /required option '--out <file>'/],
  [['status', '--dir', '/nonexistent-airy'], /no Airy Core instance in \/nonexistent-airy: run airy-bootstrap first/],
  [['backup', '--dir', '/nonexistent-airy'], /required option '--out <file>'/],
  [['backup', '--dir', '/nonexistent-airy', '--out', '/tmp/airy-never.sql'], /no Airy Core instance in \/nonexistent-airy/],
  [['restore', '--dir', '/nonexistent-airy', '--from', '/nonexistent-airy/dump.sql'], /\/nonexistent-airy\/dump\.sql: no such backup file/],
  [['start', '--wait', 'soon'], /--wait soon: must be a whole number/],
]);

test('an unreachable catalog exits 1 with one line that says what to check', async () => {
  // A port that was just free: nothing listens there.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  const run = runBin(packageDir, ['download', '--catalog', `http://127.0.0.1:${port}/metadata.json`, '--out', '/tmp/airy-never.box']);
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, new RegExp(`^airy-bootstrap: cannot read the box catalog http://127.0.0.1:${port}/metadata.json \\(ECONNREFUSED\\): check the URL`));
  assert.is(run.stderr.trimEnd().split('\n').length, 1);
});

test('doctor prints a report with every check and the pinned versions', () => {
  const run = runBin(packageDir, ['doctor', '--dir', '/nonexistent-airy']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^## airy-bootstrap doctor\n/);
  assert.match(run.stdout, /node: v\d+/);
  assert.match(run.stdout, /platform: confluentPlatform 7\.9\.1/);
  for (const check of ['os', 'architecture', 'vm cpus', 'vm memory', 'host cpus', 'host memory', 'hypervisor']) {
    assert.match(run.stdout, new RegExp(`^(ok  |FAIL) ${check}: `, 'm'));
  }
});

test('infrastructure/scripts/bootstrap.sh: without Node it says how to get it, exit 3', () => {
  const script = fileURLToPath(new URL('../../../infrastructure/scripts/bootstrap.sh', import.meta.url));
  const run = spawnSync('/bin/bash', [script, '--help'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.is(run.status, 3);
  assert.match(run.stderr, /^bootstrap: Node.js 20 or newer is needed: install it/);
});

test.run();
