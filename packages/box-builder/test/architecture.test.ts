import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../../../tools/testing/cli.ts';
import { existsSync } from 'node:fs';
import { AIRY_CORE_RELEASE, boxImages, imageArchitectures } from '@airy/manifests';
import { vagrantArchitecture } from '@airy/box-catalog';
import { defaultBaseImage, qemuFor, RUNS_ON } from '../src/architecture.ts';
import { chooseAccelerator, type HostFacts } from '../src/preflight.ts';

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
  assert.match(RUNS_ON.virtualbox.arm64, /VirtualBox 7\.1 or newer on Apple Silicon/);
  assert.match(RUNS_ON.libvirt.arm64, /arm64/);
});

test('one answer for the host architecture: a machine no box is built for is none, and KVM is never chosen there', () => {
  assert.is(vagrantArchitecture('x64'), 'amd64');
  assert.is(vagrantArchitecture('arm64'), 'arm64');
  // box-builder used to call every such host amd64 (bootstrap: none), and so chose KVM for an amd64 guest on them.
  for (const arch of ['ia32', 'arm', 'ppc64', 's390x']) assert.is(vagrantArchitecture(arch), undefined, arch);
  const ppc64: HostFacts = { kvmUsable: true, freeBytes: 2 ** 40, hostArchitecture: vagrantArchitecture('ppc64') };
  assert.is(chooseAccelerator(ppc64, 'auto', 'amd64'), 'tcg');
  assert.is(chooseAccelerator(ppc64, 'auto'), 'tcg');
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
