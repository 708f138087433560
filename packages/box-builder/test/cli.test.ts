import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import { badInputTests, cliConventionTests } from '../../../tools/testing/cli.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

cliConventionTests(packageDir);

badInputTests(packageDir, [
  [['build', '--version', '1.0'], /--version 1.0: not a semantic version/],
  [['build', '--version', '1.0.0', '--provider', 'hyperv'], /'hyperv' is invalid. Allowed choices are virtualbox, libvirt/],
  [['build', '--version', '1.0.0', '--restrict-network', '--out', '/tmp/airy-never'], /--restrict-network needs --skip-downloads/],
  [['build', '--version', '1.0.0', '--images', '/nonexistent', '--out', '/tmp/airy-never'], /the Packer templates are not in \/nonexistent \(missing airy-core\/\*\.pkr\.hcl, scripts\/, files\/\): pass --images/],
  [['publish', '--from', '/nonexistent'], /cannot read \/nonexistent\/box.json: build first/],
  [['publish', '--to', 'ftp://x', '--from', '/nonexistent'], /cannot read/],
  [['catalog', 'list', '--from', 'file:///nonexistent-catalog'], /no catalog at file:\/\/\/nonexistent-catalog\/metadata.json/],
  [['catalog', 'promote', '--version', 'latest'], /--version latest: not a semantic version/],
]);

test.run();
