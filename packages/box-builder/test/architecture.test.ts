import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { existsSync } from 'node:fs';
import { AIRY_CORE_RELEASE, boxImages, imageArchitectures } from '@airy/manifests';
import { defaultBaseImage, hostArchitecture, qemuFor, RUNS_ON } from '../src/architecture.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

test('the base image follows the architecture; VirtualBox on arm64 needs one of yours, and says so', () => {
  assert.equal(defaultBaseImage('libvirt', 'arm64'), {
    image: 'https://cloud-images.ubuntu.com/releases/24.04/release/ubuntu-24.04-server-cloudimg-arm64.img',
    checksum: 'file:https://cloud-images.ubuntu.com/releases/24.04/release/SHA256SUMS',
  });
  assert.match((defaultBaseImage('libvirt', 'amd64') as { image: string }).image, /cloudimg-amd64\.img$/);
  assert.match((defaultBaseImage('virtualbox', 'amd64') as { image: string }).image, /cloudimg-amd64\.ova$/);
  assert.match((defaultBaseImage('virtualbox', 'arm64') as { missing: string }).missing, /Ubuntu publishes no arm64 OVA: .*--base-image/);
  assert.equal(qemuFor('arm64'), { binary: 'qemu-system-aarch64', package: 'qemu-system-arm qemu-efi-aarch64' });
  assert.is(hostArchitecture('x64'), 'amd64');
  assert.is(hostArchitecture('arm64'), 'arm64');
  assert.match(RUNS_ON.virtualbox.arm64, /VirtualBox 7\.1 or newer on Apple Silicon/);
  assert.match(RUNS_ON.libvirt.arm64, /arm64/);
});

test('airy-box build --architecture: arm64 VirtualBox without a base image is one line, exit 2; a bad value too', () => {
  const vbox = runBin(packageDir, ['build', '--box-version', '1.0.0', '--provider', 'virtualbox', '--architecture', 'arm64', '--skip-downloads', '--validate-only', '--out', '/tmp/airy-never']);
  assert.is(vbox.status, 2, vbox.stderr);
  assert.match(vbox.stderr, /Ubuntu publishes no arm64 OVA/);
  assert.is(vbox.stderr.trim().split('\n').length, 1);
  const bad = runBin(packageDir, ['build', '--box-version', '1.0.0', '--architecture', 'sparc']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /sparc/);
  const restricted = runBin(packageDir, ['build', '--box-version', '1.0.0', '--architecture', 'arm64', '--skip-downloads', '--restrict-network', '--validate-only']);
  assert.is(restricted.status, 2, restricted.stderr);
  assert.match(restricted.stderr, /--restrict-network cannot build arm64/);
});

test('airy-box build --architecture arm64 that pulls its images: exit 2 at once, in one line naming the images without an arm64 build', () => {
  const out = runBin(packageDir, ['build', '--box-version', '1.0.0', '--architecture', 'arm64', '--out', '/tmp/airy-never']);
  assert.is(out.status, 2, out.stderr);
  const line = out.stderr.trim();
  assert.is(line.split('\n').length, 1, line);
  const named = boxImages().filter((i) => i.startsWith(`${AIRY_CORE_RELEASE.registry}/`));
  assert.ok(named.length >= 7);
  for (const image of named) assert.ok(line.includes(image), `${image} is not named`);
  // Only the release's images: Confluent's, Istio's and Kubernetes' have arm64 builds.
  assert.not.ok(line.includes('confluentinc') || line.includes('istio/') || line.includes('registry.k8s.io'), line);
  assert.ok(!existsSync('/tmp/airy-never/.packer-libvirt'), 'nothing was started');
  for (const image of boxImages()) assert.ok(imageArchitectures(image).includes('amd64'), `${image} has no amd64 build`);
});

test.run();
