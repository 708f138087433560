/**
 * The one registry of failure reasons of every Airy CLI: a stable id, the exit code it maps to, one line of advice
 * and, where one exists, the README section that says more. Library code throws {@link AiryError} with an id; only
 * a CLI's runner turns it into a line and an exit code, and every README's troubleshooting table is generated from
 * this list (`npx projen docs:exit-codes`; a test fails when one is stale). Ids never change once published: a
 * script or a bug report may search for them. Ids are grouped by what failed, as minikube's are (`RSRC_` resources,
 * `HOST_` the machine, `PROVIDER_` the hypervisor, `TUF_` verification, …).
 */
import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** The CLIs whose READMEs list a reason. */
type CliName = 'airy-bootstrap' | 'airy-box' | 'airy-manifests' | 'airy-tunnel';

/** One reason: its id, exit code, what to do, the CLIs that may fail with it, and an optional README section. */
interface Reason {
  readonly id: string;
  readonly exitCode: ExitCodeValue;
  readonly advice: string;
  readonly clis: readonly CliName[];
  readonly doc?: string;
}

const BOOT = ['airy-bootstrap'] as const;
const BOX = ['airy-box'] as const;
const TUNNEL = ['airy-tunnel'] as const;
const { failed, usage, preflight } = ExitCode;

/** Every reason, in the order the READMEs list them. */
export const REASONS = [
  // Asking, locks and interrupts, wherever a CLI has them.
  { id: 'ANSWER_NEEDED', exitCode: usage, advice: 'the command asks before it changes anything and no terminal can answer: pass --yes', clis: BOOT },
  { id: 'DECLINED', exitCode: failed, advice: 'you answered no: nothing was changed', clis: BOOT },
  { id: 'LOCKED', exitCode: failed, advice: 'another run works on the same folder or catalog: wait for it, or clear the lock as the line says', clis: ['airy-bootstrap', 'airy-box'] },
  { id: 'INTERRUPTED', exitCode: ExitCode.interrupted, advice: 'stopped by Ctrl-C or a signal: partial output was removed; run it again', clis: BOX },
  // Preflight of the host (bootstrap's checks; `doctor` lists each one).
  { id: 'HOST_UNSUPPORTED_OS', exitCode: preflight, advice: 'use Linux, macOS or Windows', clis: BOOT },
  { id: 'HOST_UNSUPPORTED_ARCH', exitCode: preflight, advice: 'use an x64 or arm64 machine', clis: BOOT },
  { id: 'HOST_HYPERV_CONFLICT', exitCode: preflight, advice: 'turn Hyper-V off: bcdedit /set hypervisorlaunchtype off, then reboot', clis: BOOT },
  { id: 'BOX_ARCH_MISMATCH', exitCode: preflight, advice: "the box is built for another architecture than this machine's: pick a box of this architecture", clis: BOOT },
  { id: 'RSRC_INSUFFICIENT_VM_CPUS', exitCode: preflight, advice: 'the VM you asked for is too small for the platform: pass the --cpus the line names', clis: BOOT },
  { id: 'RSRC_INSUFFICIENT_VM_MEMORY', exitCode: preflight, advice: 'the VM you asked for is too small for the platform: pass the --memory the line names', clis: BOOT },
  { id: 'RSRC_INSUFFICIENT_CORES', exitCode: preflight, advice: 'the host cannot give the VM its CPUs and keep one: a smaller --cpus, or a larger machine', clis: BOOT },
  { id: 'RSRC_INSUFFICIENT_MEMORY', exitCode: preflight, advice: 'the host cannot give the VM its memory and keep 2 GiB: a smaller --memory, or a larger machine', clis: BOOT },
  { id: 'RSRC_INSUFFICIENT_STORAGE', exitCode: preflight, advice: 'free some disk, or pass --cache on a larger disk', clis: BOOT },
  { id: 'PROVIDER_VIRTUALBOX_NOT_FOUND', exitCode: preflight, advice: 'install VirtualBox (bootstrap offers Homebrew or winget), or use libvirt on Linux', clis: BOOT },
  {
    id: 'PROVIDER_LIBVIRT_NOT_USABLE',
    exitCode: preflight,
    advice: 'KVM or libvirt is missing or not yours: install libvirt and vagrant-libvirt, join the libvirt group, or pass --libvirt-driver qemu',
    clis: BOOT,
    doc: 'packages/bootstrap/README.md#troubleshooting',
  },
  { id: 'VAGRANT_NOT_INSTALLED', exitCode: preflight, advice: 'install Vagrant as the line says, then run again', clis: BOOT },
  // bootstrap: the catalog, the download and verification.
  { id: 'CATALOG_UNREACHABLE', exitCode: failed, advice: 'check the catalog URL (--catalog, AIRY_BOX_CATALOG, --from), the network and any proxy (HTTPS_PROXY)', clis: ['airy-bootstrap', 'airy-box'] },
  { id: 'CATALOG_MALFORMED', exitCode: usage, advice: 'the catalog is not one this version reads: check --catalog, or tell its publisher', clis: ['airy-bootstrap', 'airy-box'] },
  { id: 'CATALOG_RELEASE_NOT_FOUND', exitCode: usage, advice: 'the catalog lacks the version, provider or architecture asked for: pick one the line lists', clis: BOOT },
  { id: 'DOWNLOAD_FAILED', exitCode: failed, advice: 'the box server stopped answering: run again, it resumes (--retries, --speed-limit tune it)', clis: BOOT },
  { id: 'BOX_CHECKSUM_MISMATCH', exitCode: failed, advice: 'the box is not the one the catalog names: nothing was kept; run again, or tell the publisher', clis: BOOT },
  { id: 'DISK_FULL', exitCode: failed, advice: 'free some disk, or pass --cache on a larger disk; the partial download is kept', clis: BOOT },
  { id: 'OUTPUT_PATH_INVALID', exitCode: usage, advice: 'the file or folder named cannot be written as asked: pick another path', clis: BOOT },
  { id: 'TUF_ROOT_INVALID', exitCode: usage, advice: 'pass the root.json the catalog was signed with (--trusted-root, AIRY_TRUSTED_ROOT)', clis: BOOT, doc: 'packages/bootstrap/README.md#a-verified-catalog---trusted-root-never-unsigned-by-default' },
  { id: 'TUF_UNSIGNED', exitCode: failed, advice: 'sign it: airy-box keys init, then airy-box publish --keys', clis: BOOT },
  { id: 'TUF_BAD_SIGNATURE', exitCode: failed, advice: 'the catalog is not signed by the keys the trusted root names: do not use it; check --trusted-root and tell its publisher', clis: BOOT },
  { id: 'TUF_ROLLBACK', exitCode: failed, advice: 'older metadata than this machine has already seen was served (a replay): do not use the catalog; tell its publisher', clis: BOOT },
  { id: 'TUF_EXPIRED', exitCode: failed, advice: "the catalog's signed metadata has expired (a frozen or unmaintained catalog): its publisher must re-sign it (airy-box timestamp)", clis: BOOT },
  { id: 'TUF_TARGET_MISMATCH', exitCode: failed, advice: 'what was served differs from its signed length or hash: do not use it; tell the publisher', clis: BOOT },
  { id: 'TUF_NOT_SIGNED', exitCode: failed, advice: 'ask the publisher to publish it with --keys', clis: BOOT },
  { id: 'TUF_NO_PUBLIC_ROOT', exitCode: usage, advice: 'pass --trusted-root FILE, or --allow-unsigned', clis: BOOT },
  { id: 'TUF_NO_ROOT', exitCode: usage, advice: 'pass --trusted-root FILE (the root.json its publisher gave you)', clis: BOOT },
  { id: 'TRUST_OPTIONS_INVALID', exitCode: usage, advice: 'pass one of --trusted-root and --allow-unsigned (or AIRY_TRUSTED_ROOT, AIRY_ALLOW_UNSIGNED=1), not both', clis: BOOT },
  { id: 'TUF_UNREACHABLE', exitCode: failed, advice: 'check the URL (--catalog, AIRY_BOX_CATALOG) and the network', clis: BOOT },
  // bootstrap: Vagrant, the VM and the instance.
  { id: 'VAGRANT_NOT_RUNNING', exitCode: failed, advice: 'Vagrant was installed but does not run: open a new shell and try again', clis: BOOT },
  { id: 'INSTALL_FAILED', exitCode: failed, advice: 'an install command failed: run the command the line names yourself and read its output', clis: BOOT },
  { id: 'VAGRANTFILE_VALUE_REFUSED', exitCode: usage, advice: 'a value would not be safe in the Vagrantfile: pass a plain one', clis: BOOT },
  { id: 'VAGRANTFILE_INVALID', exitCode: failed, advice: 'Vagrant refused the Vagrantfile: run vagrant validate in the instance folder for the detail', clis: BOOT },
  { id: 'VAGRANT_BOX_ADD_FAILED', exitCode: failed, advice: "vagrant box add failed: read Vagrant's last line above; the download is kept", clis: BOOT },
  { id: 'VAGRANT_UP_FAILED', exitCode: failed, advice: "vagrant up failed: read Vagrant's output above (a port taken, no DHCP lease)", clis: BOOT, doc: 'packages/bootstrap/README.md#troubleshooting' },
  { id: 'VAGRANT_FAILED', exitCode: failed, advice: "a vagrant command failed: read Vagrant's last line; VAGRANT_LOG=info shows more", clis: BOOT },
  { id: 'PLATFORM_NOT_READY', exitCode: failed, advice: 'the line names each component not ready: see airy-bootstrap status, or wait longer with start --wait 45m', clis: BOOT },
  { id: 'STATE_FILE_DAMAGED', exitCode: usage, advice: 'a state file is damaged: the line names the file and the key; remove the file or run the command that writes it again', clis: ['airy-bootstrap', 'airy-tunnel'] },
  { id: 'INSTANCE_NOT_FOUND', exitCode: usage, advice: 'no instance in that folder: run airy-bootstrap first, or pass --dir', clis: BOOT },
  { id: 'INSTANCE_DAMAGED', exitCode: usage, advice: "the instance's state file is damaged: the line says what to remove or run", clis: BOOT },
  { id: 'VM_NOT_RUNNING', exitCode: failed, advice: 'start the VM first: airy-bootstrap start', clis: BOOT },
  { id: 'UPGRADE_FAILED', exitCode: failed, advice: 'the line names the step that failed and what state the instance is in', clis: BOOT, doc: 'packages/bootstrap/README.md#subcommands' },
  { id: 'BACKUP_FAILED', exitCode: failed, advice: 'the database could not be saved: is the platform ready? (airy-bootstrap status)', clis: BOOT },
  { id: 'BACKUP_NOT_FOUND', exitCode: usage, advice: 'no such backup file: pass --from with a file made by backup or upgrade', clis: BOOT },
  { id: 'RESTORE_FAILED', exitCode: failed, advice: 'the dump could not be loaded; nothing was changed: the line has the database’s reason', clis: BOOT },
  { id: 'KUBECONFIG_UNREADABLE', exitCode: failed, advice: "the cluster's kubeconfig cannot be read in the VM: is the platform running? (airy-bootstrap status)", clis: BOOT },
  { id: 'KUBECONFIG_INVALID', exitCode: failed, advice: "the VM's kubeconfig is not usable: nothing was written; see airy-bootstrap status", clis: BOOT },
  { id: 'CLUSTER_TUNNEL_TOKEN_MISSING', exitCode: usage, advice: 'set NGROK_AUTHTOKEN (dashboard.ngrok.com → Your Authtoken)', clis: BOOT },
  { id: 'CLUSTER_TUNNEL_TOKEN_INVALID', exitCode: usage, advice: 'NGROK_AUTHTOKEN is letters, digits, _ and -: copy it again', clis: BOOT },
  { id: 'CLUSTER_TUNNEL_HANDOVER_FAILED', exitCode: failed, advice: 'the token could not be handed to the VM over ssh: is the VM running? (airy-bootstrap status)', clis: BOOT },
  // airy-box: building and publishing.
  { id: 'BUILD_OPTIONS_CONFLICT', exitCode: usage, advice: 'two options that do not go together: the line names them and what to pass', clis: BOX },
  { id: 'BUILD_TEMPLATES_NOT_FOUND', exitCode: usage, advice: 'pass --images with the folder that holds airy-core/, scripts/ and files/', clis: BOX },
  { id: 'BUILD_ARCH_UNSUPPORTED', exitCode: usage, advice: 'some images have no build for this architecture: build --architecture amd64, or pass --skip-downloads', clis: BOX },
  { id: 'BUILD_BASE_IMAGE_INVALID', exitCode: usage, advice: 'pass a --base-image that exists (a remote one needs --base-image-checksum)', clis: BOX },
  { id: 'BUILD_BASE_IMAGE_UNREACHABLE', exitCode: failed, advice: 'the base image or its checksums cannot be downloaded: check the network, or pass --base-image FILE', clis: BOX },
  { id: 'BUILD_BASE_IMAGE_CHECKSUM_MISMATCH', exitCode: failed, advice: 'the downloaded base image differs from its published SHA-256: download again', clis: BOX },
  { id: 'BUILD_DISK_SIZE_INVALID', exitCode: usage, advice: 'pass --disk-size as MiB, or with M, G or T (e.g. 40G)', clis: BOX },
  { id: 'BUILD_REGISTRY_CREDENTIALS_INVALID', exitCode: usage, advice: 'pass --registry-credentials with a file of your own, mode 0600, holding one USER:TOKEN line', clis: BOX },
  { id: 'BUILD_REGISTRY_MIRROR_INVALID', exitCode: usage, advice: 'pass --registry-mirror as an http(s) URL of a registry mirror', clis: BOX },
  { id: 'BUILD_SSH_KEY_MISSING', exitCode: preflight, advice: 'pass --ssh-key with a private key whose .pub is beside it', clis: BOX },
  { id: 'BUILD_SSH_KEY_INVALID', exitCode: usage, advice: 'pass --ssh-key with a private key whose one-line OpenSSH .pub is beside it', clis: BOX },
  { id: 'PREFLIGHT_FAILED', exitCode: preflight, advice: 'a tool or resource is missing: the line names each check and its fix (doctor lists them)', clis: ['airy-bootstrap', 'airy-box'] },
  { id: 'PACKER_FAILED', exitCode: failed, advice: "Packer failed: the line has its last lines; PACKER_LOG=1 shows more", clis: BOX },
  { id: 'STORE_UNREACHABLE', exitCode: failed, advice: 'check --endpoint, AWS_ENDPOINT_URL_S3 and the network', clis: BOX },
  { id: 'STORE_NO_CREDENTIALS', exitCode: failed, advice: 'set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', clis: BOX },
  { id: 'STORE_CREDENTIALS_REFUSED', exitCode: failed, advice: 'the store refused the credentials: check AWS_PROFILE or the keys', clis: BOX },
  { id: 'STORE_DEADLINE', exitCode: failed, advice: 'a store call did not finish in time: check the store and the network, then publish again', clis: BOX },
  { id: 'STORE_LINK', exitCode: usage, advice: 'the file store holds a symbolic link where a file or folder belongs: remove it, or publish elsewhere', clis: BOX },
  { id: 'PROMOTE_REFUSED', exitCode: usage, advice: 'promote a version the catalog at --to holds (publish it first)', clis: BOX },
  { id: 'PUBLISH_VERSION_IMMUTABLE', exitCode: failed, advice: 'a published version never changes: publish the new box under a new --box-version', clis: BOX },
  { id: 'PUBLISH_VERIFY_FAILED', exitCode: failed, advice: 'the store holds something else than what was sent; the catalog was not touched: publish again', clis: BOX },
  { id: 'STORE_URL_INVALID', exitCode: usage, advice: 'use s3://bucket/prefix, file:///absolute/folder, or for --from an http(s) URL of metadata.json', clis: BOX },
  { id: 'KEYS_MISSING', exitCode: usage, advice: 'make the keys with airy-box keys init DIR, or pass the --keys folder that holds them', clis: BOX },
  { id: 'KEYS_EXIST', exitCode: usage, advice: 'keys are never overwritten: rotate the root with airy-box keys rotate-root', clis: BOX },
  { id: 'KEYS_INVALID', exitCode: usage, advice: 'a key or root file is not what it must be: the line names it', clis: BOX },
  { id: 'STORE_TAMPERED', exitCode: failed, advice: "the store's signed metadata does not verify with your keys: find out who changed it before publishing", clis: BOX },
  { id: 'STORE_UNSIGNED', exitCode: failed, advice: 'the store holds an unsigned catalog: publish with --keys to sign it', clis: BOX },
  { id: 'TARGET_UNSIGNED', exitCode: failed, advice: 'the version to promote is not among the signed targets: publish it with --keys first', clis: BOX },
  { id: 'ROOT_CONFLICT', exitCode: failed, advice: "the store's root differs from your keys' root: publish with the keys the store was signed with", clis: BOX },
  // airy-manifests.
  { id: 'OPTION_INVALID', exitCode: usage, advice: 'an option (a flag or a key of the config file) has a value it does not take: the line names the key and what it takes', clis: ['airy-manifests'] },
  { id: 'PATH_UNUSABLE', exitCode: usage, advice: 'a file or folder named cannot be read or written as asked: check the path and its permissions', clis: ['airy-manifests'] },
  // airy-tunnel.
  { id: 'TUNNEL_MISSING_TOKEN', exitCode: ExitCode.tunnelMissingToken, advice: 'set NGROK_AUTHTOKEN, or put "authtoken: …" in ~/.airy/tunnel.yml', clis: TUNNEL },
  { id: 'TUNNEL_REJECTED_TOKEN', exitCode: ExitCode.tunnelRejectedToken, advice: 'copy a fresh authtoken from the ngrok dashboard into NGROK_AUTHTOKEN', clis: TUNNEL },
  { id: 'TUNNEL_NO_NETWORK', exitCode: ExitCode.tunnelNoNetwork, advice: 'check the internet connection and any proxy or firewall', clis: TUNNEL },
  { id: 'TUNNEL_SESSION_LIMIT', exitCode: ExitCode.tunnelSessionLimit, advice: 'stop the other ngrok agent (ngrok dashboard → Agents) or upgrade the plan', clis: TUNNEL },
  { id: 'TUNNEL_UPSTREAM_DOWN', exitCode: ExitCode.tunnelUpstreamDown, advice: 'is Airy Core running? (airy-bootstrap status), or pass --to with the right address', clis: TUNNEL },
  { id: 'TUNNEL_FAILED', exitCode: failed, advice: "ngrok failed in a way it did not explain: the line has ngrok's message", clis: TUNNEL },
  { id: 'TUNNEL_SECRETS_INVALID', exitCode: usage, advice: 'the --to password or --secrets-file cannot be used: the line says why', clis: TUNNEL },
] as const satisfies readonly Reason[];

/** A reason's id, e.g. `RSRC_INSUFFICIENT_VM_CPUS`. */
export type ReasonId = (typeof REASONS)[number]['id'];

const BY_ID: ReadonlyMap<string, Reason> = new Map(REASONS.map((r) => [r.id, r]));

/** The registry's entry of `id`. */
export function reasonOf(id: ReasonId): Reason {
  return BY_ID.get(id) as Reason;
}

/**
 * An expected failure of library code: a stable reason id and one line saying what failed and how to fix it. It
 * carries no exit code: the CLI's runner looks the reason up in {@link REASONS}. `detail` is shown with `--verbose`.
 */
export class AiryError extends Error {
  readonly detail?: string;
  constructor(
    readonly reason: ReasonId,
    message: string,
    options: { readonly detail?: string; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AiryError';
    if (options.detail !== undefined) this.detail = options.detail;
  }
}
