/** This machine's architecture in Vagrant's names. */
import type { Architecture } from '@airy/box-catalog';

/** Node's `process.arch` in Vagrant's names, or undefined for one we do not support. */
export function vagrantArchitecture(nodeArch: string): Architecture | undefined {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : undefined;
}
