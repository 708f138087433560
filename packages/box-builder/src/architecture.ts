/**
 * What a box's architecture decides: the qemu that runs its build, the firmware an arm64 guest boots with, the
 * default base image, and which providers run it. `airy-box build --architecture` flows from here into the Packer
 * variables (and so every download of the provisioning scripts), the base image and the catalog entry. Pure.
 */
import type { Architecture, Provider } from '@airy/box-catalog';

/** The Ubuntu release the box is built on. */
const UBUNTU = { release: '24.04', url: 'https://cloud-images.ubuntu.com/releases/24.04/release' } as const;

/** The qemu system emulator for an architecture, and the Debian package that has it. */
export function qemuFor(architecture: Architecture): { binary: string; package: string } {
  return architecture === 'arm64'
    ? { binary: 'qemu-system-aarch64', package: 'qemu-system-arm qemu-efi-aarch64' }
    : { binary: 'qemu-system-x86_64', package: 'qemu-system-x86' };
}

/** UEFI firmware an arm64 guest boots with (the `virt` machine has no BIOS); the first that exists is used. */
export const ARM64_FIRMWARE = ['/usr/share/qemu-efi-aarch64/QEMU_EFI.fd', '/usr/share/AAVMF/AAVMF_CODE.fd'] as const;

/** The default base image of a provider and architecture, or why there is none. */
export function defaultBaseImage(
  provider: Provider,
  architecture: Architecture,
): { image: string; checksum: string } | { missing: string } {
  const sums = `file:${UBUNTU.url}/SHA256SUMS`;
  const name = `ubuntu-${UBUNTU.release}-server-cloudimg-${architecture}`;
  if (provider === 'libvirt') return { image: `${UBUNTU.url}/${name}.img`, checksum: sums };
  if (architecture === 'amd64') return { image: `${UBUNTU.url}/${name}.ova`, checksum: sums };
  return {
    missing:
      'Ubuntu publishes no arm64 OVA: for VirtualBox 7.1+ on Apple Silicon pass --base-image with an arm64 OVA (an Ubuntu arm64 cloud image imported into VirtualBox and exported), or build --provider libvirt',
  };
}

/**
 * Where a box of each provider and architecture runs: what the catalog entry promises. An arm64 box with the
 * platform needs the release's images for arm64, which 0.54.0 does not publish (`imageArchitectures` in
 * @airy/manifests; `buildBox` refuses such a build).
 */
export const RUNS_ON: Readonly<Record<Provider, Readonly<Record<Architecture, string>>>> = {
  libvirt: { amd64: 'Linux x86-64 with KVM', arm64: 'Linux arm64 with KVM (qemu-system-aarch64, UEFI)' },
  virtualbox: { amd64: 'VirtualBox on Windows, macOS (Intel) and Linux', arm64: 'VirtualBox 7.1 or newer on Apple Silicon Macs' },
};
