/** Gathers the {@link HostView} of this machine: the only place bootstrap looks at the host. */
import { constants } from 'node:fs';
import { access, mkdir, statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { $ } from 'zx';
import type { HostView } from './preflight.js';

async function version(command: string[], pattern = /(\d+\.\d+(\.\d+)?)/): Promise<string | undefined> {
  const out = await $({ quiet: true, nothrow: true })`${command}`;
  if (out.exitCode !== 0) return undefined;
  return pattern.exec(out.stdout + out.stderr)?.[1];
}

/** Looks at the machine; `dir` is where the box goes (for free disk). */
export async function gatherHost(dir: string): Promise<HostView> {
  await mkdir(dir, { recursive: true });
  const fs = await statfs(dir);
  const vagrantVersion = await version(['vagrant', '--version']);
  const plugins = vagrantVersion
    ? (await $({ quiet: true, nothrow: true, env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1' } })`vagrant plugin list`).stdout
    : '';
  const hyperV =
    process.platform === 'win32' &&
    /Enabled/i.test((await $({ quiet: true, nothrow: true })`powershell -NoProfile -Command "(Get-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V).State"`).stdout);
  return {
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    memoryBytes: totalmem(),
    freeBytes: fs.bavail * fs.bsize,
    vagrantVersion,
    vboxmanageVersion: await version(['VBoxManage', '--version'], /^(\S+)/),
    virshVersion: await version(['virsh', '--version']),
    kvm: await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false),
    vagrantPlugins: [...plugins.matchAll(/^(\S+) \(/gm)].map((m) => m[1] as string),
    hyperV,
  };
}
