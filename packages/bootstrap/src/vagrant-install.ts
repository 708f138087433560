/**
 * Installing Vagrant, and the provider it runs the box with, the platform's way, as the seed's bootstrap.sh
 * promised. The plans are pure (tests read them); `ensureVagrant` and `ensureProvider` show them, ask first, run
 * them and check again.
 */
import { readFile } from 'node:fs/promises';
import type { Provider } from '@airy/box-catalog';
import { AiryError, confirm } from '@airy/cli-kit';
import { $ } from 'zx';
import { gatherHost } from './host.js';
import { type HostView, preflight } from './preflight.js';

/** What the installer needs to know of the OS. */
export interface OsInfo {
  readonly platform: NodeJS.Platform;
  /** /etc/os-release ID and ID_LIKE, e.g. ["ubuntu", "debian"]. */
  readonly ids: readonly string[];
  /**
   * The codename of the Debian or Ubuntu release whose packages the OS takes, e.g. "noble": UBUNTU_CODENAME on an
   * Ubuntu derivative (Linux Mint's VERSION_CODENAME is its own), else VERSION_CODENAME; checked to be one word.
   */
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
  const ids = [values.ID, ...(values.ID_LIKE ?? '').split(/\s+/)].filter(Boolean) as string[];
  const codename = ids.includes('ubuntu') && values.UBUNTU_CODENAME ? values.UBUNTU_CODENAME : values.VERSION_CODENAME;
  // It goes into an apt source line run by a shell: one lowercase word, or none.
  return {
    ids,
    ...(codename && /^[a-z][a-z0-9-]{0,31}$/.test(codename) ? { codename } : {}),
  };
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

/** What the install plans need of this machine: its OS (/etc/os-release) and whether Homebrew is there. */
async function osInfo(host: HostView): Promise<OsInfo> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const brew = (await $({ quiet: true, nothrow: true })`brew --version`).exitCode === 0;
  return { platform: host.platform, ...parseOsRelease(osRelease), hasBrew: brew };
}

/** Makes sure Vagrant is there: shows the platform's install commands, asks (unless `yes`), runs them, checks. */
export async function ensureVagrant(host: HostView, yes: boolean, log: (l: string) => void): Promise<void> {
  if (host.vagrantVersion) return;
  const plan = installPlan(await osInfo(host));
  if ('manual' in plan) throw new AiryError('VAGRANT_NOT_INSTALLED', `Vagrant is not installed: ${plan.manual}`);
  log('Vagrant is not installed. These commands install it:');
  for (const c of plan.commands) log(`  ${c}`);
  if (!yes) await confirm('run them?');
  await runPlan('Vagrant', plan.commands);
  const check = await $({ quiet: true, nothrow: true })`vagrant --version`;
  if (check.exitCode !== 0) throw new AiryError('VAGRANT_NOT_RUNNING', 'Vagrant was installed but does not run: open a new shell and try again');
  log(`installed ${check.stdout.trim()}`);
}

/**
 * The commands that install `provider` for Vagrant here: VirtualBox on macOS (Homebrew) and Windows (winget); on
 * Linux, libvirt with QEMU/KVM and the vagrant-libvirt plugin (built against libvirt, hence the headers), and the
 * user in the libvirt group. VirtualBox on Linux, and libvirt elsewhere, are manual.
 */
export function providerPlan(os: OsInfo, provider: Provider): InstallPlan {
  if (provider === 'virtualbox') {
    if (os.platform === 'win32') return { commands: ['winget install --id Oracle.VirtualBox --exact --accept-source-agreements --accept-package-agreements'] };
    if (os.platform === 'darwin' && os.hasBrew) return { commands: ['brew install --cask virtualbox'] };
    return { manual: 'install VirtualBox 7.1 or newer from virtualbox.org (Apple Silicon needs 7.1), or pass --provider libvirt on Linux' };
  }
  if (os.platform !== 'linux') return { manual: 'libvirt runs on Linux only: pass --provider virtualbox' };
  const is = (id: string) => os.ids.includes(id);
  const plugin = ['vagrant plugin install vagrant-libvirt', 'sudo usermod -aG libvirt "$(id -un)"'];
  if (is('debian') || is('ubuntu')) {
    return {
      commands: [
        'sudo apt-get update',
        'sudo apt-get install -y libvirt-daemon-system libvirt-clients qemu-kvm qemu-utils dnsmasq-base ebtables libvirt-dev ruby-dev build-essential pkg-config',
        ...plugin,
      ],
    };
  }
  if (is('fedora') || is('rhel') || is('centos') || is('rocky') || is('almalinux')) {
    return {
      commands: ['sudo dnf install -y @virtualization libvirt-devel gcc make', 'sudo systemctl enable --now libvirtd', ...plugin],
    };
  }
  return { manual: 'install libvirt with QEMU/KVM and run vagrant plugin install vagrant-libvirt' };
}

/** Runs a plan's commands in order; the first that fails stops it (INSTALL_FAILED, naming the command). */
async function runPlan(what: string, commands: readonly string[]): Promise<void> {
  for (const c of commands) {
    const run = await $({ nothrow: true })`sh -c ${c}`;
    if (run.exitCode !== 0) throw new AiryError('INSTALL_FAILED', `installing ${what} failed at: ${c}`);
  }
}

/**
 * Makes sure the provider runs here: when preflight says it is missing but installable, shows the commands, asks
 * (unless `yes`), runs them and runs preflight's hypervisor check again, which must pass now. Resolves to the host
 * as it is afterwards.
 */
export async function ensureProvider(
  host: HostView,
  options: {
    provider: Provider;
    yes: boolean;
    log: (l: string) => void;
    cacheDir: string;
    /** How the host is looked at again after the install. @default gatherHost */
    gather?: (dir: string) => Promise<HostView>;
  },
): Promise<HostView> {
  const { provider, yes, log } = options;
  const hypervisor = () => preflight(host, { provider, cpus: 1, memoryMiB: 1 }).find((c) => c.name === 'hypervisor');
  const before = hypervisor();
  if (!before || before.ok || !before.installable) return host;
  const plan = providerPlan(await osInfo(host), provider);
  if ('manual' in plan) throw new AiryError(before.code ?? 'PROVIDER_LIBVIRT_NOT_USABLE', `${before.detail}: ${plan.manual}`);
  log(`${provider === 'virtualbox' ? 'VirtualBox' : 'libvirt for Vagrant'} is not ready (${before.detail}). These commands install it:`);
  for (const c of plan.commands) log(`  ${c}`);
  if (!yes) await confirm('run them?');
  await runPlan(provider, plan.commands);
  const after = await (options.gather ?? gatherHost)(options.cacheDir);
  const check = preflight(after, { provider, cpus: 1, memoryMiB: 1 }).find((c) => c.name === 'hypervisor');
  if (!check?.ok) {
    throw new AiryError(
      check?.code ?? before.code ?? 'PROVIDER_LIBVIRT_NOT_USABLE',
      `the ${provider} install ran, but preflight still fails: ${check?.detail} (${check?.fix}; a new login may be needed for the libvirt group)`,
    );
  }
  log(`installed: ${check.detail}`);
  return after;
}
