/** Gathers the {@link HostView} of this machine for preflight and doctor: OS, CPUs, memory, disk, hypervisors, Vagrant. */
import { constants } from 'node:fs';
import { access, mkdir, statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { $ } from 'zx';
import type { HostView } from './preflight.js';

/** A command's standard output, or '' when it fails or is missing. */
async function output(command: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await $({ quiet: true, nothrow: true, env: { ...process.env, ...env } })`${command}`;
  return out.exitCode === 0 ? out.stdout : '';
}

async function version(command: string[], pattern = /(\d+\.\d+(\.\d+)?)/): Promise<string | undefined> {
  const out = await $({ quiet: true, nothrow: true })`${command}`;
  if (out.exitCode !== 0) return undefined;
  return pattern.exec(out.stdout + out.stderr)?.[1];
}

/** Looks at the machine; `dir` is where the box goes (for free disk). The probes run at once: each is a process. */
export async function gatherHost(dir: string): Promise<HostView> {
  await mkdir(dir, { recursive: true });
  const [fs, vagrantVersion, plugins, hyperV, vboxmanageVersion, virshVersion, kvm] = await Promise.all([
    statfs(dir),
    version(['vagrant', '--version']),
    // Fails (empty) without Vagrant, which vagrantVersion then says.
    output(['vagrant', 'plugin', 'list'], { VAGRANT_CHECKPOINT_DISABLE: '1' }),
    process.platform === 'win32'
      ? output(['powershell', '-NoProfile', '-Command', '(Get-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V).State']).then((o) => /Enabled/i.test(o))
      : false,
    version(['VBoxManage', '--version'], /^(\S+)/),
    version(['virsh', '--version']),
    access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false),
  ]);
  return {
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    memoryBytes: totalmem(),
    freeBytes: fs.bavail * fs.bsize,
    vagrantVersion,
    vboxmanageVersion,
    virshVersion,
    kvm,
    vagrantPlugins: [...plugins.matchAll(/^(\S+) \(/gm)].map((m) => m[1] as string),
    hyperV,
  };
}
