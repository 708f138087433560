/**
 * Installing Vagrant the platform's way, as the seed's bootstrap.sh promised. The plan is pure (tests read it);
 * `ensureVagrant` runs it: it asks first and then checks `vagrant --version`.
 */
import { readFile } from 'node:fs/promises';
import { CliError, confirm, ExitCode } from '@airy/cli-kit';
import { $ } from 'zx';
import type { HostView } from './preflight.js';

/** What the installer needs to know of the OS. */
export interface OsInfo {
  readonly platform: NodeJS.Platform;
  /** /etc/os-release ID and ID_LIKE, e.g. ["ubuntu", "debian"]. */
  readonly ids: readonly string[];
  /** /etc/os-release VERSION_CODENAME, e.g. "noble". */
  readonly codename?: string;
  readonly hasBrew: boolean;
}

/** The commands that install Vagrant here, or a manual instruction when there is no package manager we know. */
export type InstallPlan = { readonly commands: readonly string[] } | { readonly manual: string };

/** Parses /etc/os-release. */
export function parseOsRelease(text: string): { ids: string[]; codename?: string } {
  const values = Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=("?)(.*)\2$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[3]]),
  ) as Record<string, string>;
  return { ids: [values.ID, ...(values.ID_LIKE ?? '').split(/\s+/)].filter(Boolean) as string[], codename: values.VERSION_CODENAME };
}

/** The install plan for an OS. */
export function installPlan(os: OsInfo): InstallPlan {
  const manual = 'install Vagrant from developer.hashicorp.com/vagrant/install, then run this again';
  if (os.platform === 'win32') return { commands: ['winget install --id Hashicorp.Vagrant --exact --accept-source-agreements --accept-package-agreements'] };
  if (os.platform === 'darwin') {
    return os.hasBrew ? { commands: ['brew tap hashicorp/tap', 'brew install hashicorp/tap/hashicorp-vagrant'] } : { manual };
  }
  if (os.platform !== 'linux') return { manual };
  const is = (id: string) => os.ids.includes(id);
  if (is('debian') || is('ubuntu')) {
    if (!os.codename) return { manual };
    const keyring = '/usr/share/keyrings/hashicorp-archive-keyring.gpg';
    return {
      commands: [
        `curl -fsSL https://apt.releases.hashicorp.com/gpg | sudo gpg --dearmor --yes -o ${keyring}`,
        `echo "deb [signed-by=${keyring}] https://apt.releases.hashicorp.com ${os.codename} main" | sudo tee /etc/apt/sources.list.d/hashicorp.list`,
        'sudo apt-get update',
        'sudo apt-get install -y vagrant',
      ],
    };
  }
  if (is('fedora')) {
    return {
      commands: [
        'sudo dnf install -y dnf-plugins-core',
        'sudo dnf config-manager addrepo --from-repofile=https://rpm.releases.hashicorp.com/fedora/hashicorp.repo',
        'sudo dnf install -y vagrant',
      ],
    };
  }
  if (is('rhel') || is('centos') || is('rocky') || is('almalinux')) {
    return {
      commands: [
        'sudo dnf install -y dnf-plugins-core',
        'sudo dnf config-manager --add-repo https://rpm.releases.hashicorp.com/RHEL/hashicorp.repo',
        'sudo dnf install -y vagrant',
      ],
    };
  }
  return { manual };
}

/** Makes sure Vagrant is there: shows the platform's install commands, asks (unless `yes`), runs them, checks. */
export async function ensureVagrant(host: HostView, yes: boolean, log: (l: string) => void): Promise<void> {
  if (host.vagrantVersion) return;
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const brew = (await $({ quiet: true, nothrow: true })`brew --version`).exitCode === 0;
  const plan = installPlan({ platform: host.platform, ...parseOsRelease(osRelease), hasBrew: brew });
  if ('manual' in plan) throw new CliError(`Vagrant is not installed: ${plan.manual}`, ExitCode.preflight);
  log('Vagrant is not installed. These commands install it:');
  for (const c of plan.commands) log(`  ${c}`);
  if (!yes) await confirm('run them?');
  for (const c of plan.commands) {
    const run = await $({ nothrow: true })`sh -c ${c}`;
    if (run.exitCode !== 0) throw new CliError(`installing Vagrant failed at: ${c}`, ExitCode.failed);
  }
  const check = await $({ quiet: true, nothrow: true })`vagrant --version`;
  if (check.exitCode !== 0) throw new CliError('Vagrant was installed but does not run: open a new shell and try again', ExitCode.failed);
  log(`installed ${check.stdout.trim()}`);
}
