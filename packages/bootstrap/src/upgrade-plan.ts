/**
 * The upgrade as a plan: which steps run, in which order, and what is left when one fails. Pure, so that every
 * branch (database kept or not, `--wait 0`, a failed download, start or restore) is tested as data; manage.ts
 * carries it out.
 *
 * The order is what keeps a user from being stranded: everything that may fail without touching the old VM (the
 * new box's download and check, `vagrant box add`, the database dump) runs first, and only then is the old VM
 * destroyed. `instance.json` names the new version only once its VM is up, so until then `start` makes the old one.
 * The instance lock is held from the first step to the last, so no `start`, `stop` or second upgrade runs between.
 */

/** One step of an upgrade, in the order {@link upgradePlan} gives. */
export type UpgradeStep =
  /** Take the instance lock, and check that the instance is still the one the plan was made for. */
  | 'lock'
  /** Preflight against the new box, then its verified download into the cache. */
  | 'download'
  /** `vagrant box add` of the new box (skipped when Vagrant has it from an earlier try). */
  | 'box-add'
  /** The database from the old VM into the instance folder's `backups/`. */
  | 'dump'
  /** `vagrant destroy` of the old VM (skipped when there is none). */
  | 'destroy-old'
  /** The Vagrantfile of the new box, validated before it replaces the old one. */
  | 'vagrantfile'
  /** `vagrant up` of the new VM. */
  | 'up-new'
  /** `instance.json` names the new version. */
  | 'write-state'
  /** The old box out of Vagrant, libvirt and the cache: nothing starts it any more. */
  | 'remove-old-box'
  /** Readiness of the new platform (not with `--wait 0`). */
  | 'wait-ready'
  /** The dump into the new platform's database. */
  | 'restore'
  | 'unlock';

/** What still runs after a step failed, in this order. */
export type UpgradeCleanup =
  /** `vagrant destroy` of a half-made new VM, so that `start` does not boot it under the old version's name. */
  | 'destroy-new'
  /** The old Vagrantfile back in place: the folder names the old version, as `instance.json` does. */
  | 'old-vagrantfile'
  | 'unlock';

/**
 * Where a failed upgrade leaves the instance:
 * - `old`: the old VM was not touched (nor `instance.json`, nor the Vagrantfile): `start` starts it as it was;
 * - `old-gone`: the old VM was destroyed, but the folder still names the old version, whose box is still here:
 *   `start` makes it again, new and empty (the dump brings the database back);
 * - `new`: the new version is the instance; only readiness or the restore is missing.
 */
export type UpgradeOutcome = 'old' | 'old-gone' | 'new';

/** What the plan is made from: read before anything changes. */
export interface UpgradeFacts {
  readonly from: string;
  readonly to: string;
  /** The old VM exists (`vagrant status` is anything but `not_created`). */
  readonly vmExists: boolean;
  /** The old VM runs and its PostgreSQL answered: the database is carried over. */
  readonly keepDatabase: boolean;
  /** Vagrant has the new box already (an earlier try added it). */
  readonly boxAdded: boolean;
  /** Readiness is waited for (not `--wait 0`). */
  readonly wait: boolean;
}

/** The steps of an upgrade, in order; see the module comment for why this order. */
export function upgradePlan(facts: UpgradeFacts): UpgradeStep[] {
  return [
    'lock',
    'download',
    ...(facts.boxAdded ? [] : (['box-add'] as const)),
    // Dumped as late as it can be, just before the old VM goes, so that little is written after it.
    ...(facts.keepDatabase ? (['dump'] as const) : []),
    ...(facts.vmExists ? (['destroy-old'] as const) : []),
    'vagrantfile',
    'up-new',
    'write-state',
    // Removed once nothing names it: the restore needs only the dump, and a box kept "until the restore worked"
    // would be kept for ever when it does not (or with --wait 0), as no later command knows of it.
    'remove-old-box',
    ...(facts.wait ? (['wait-ready'] as const) : []),
    ...(facts.wait && facts.keepDatabase ? (['restore'] as const) : []),
    'unlock',
  ];
}

/** What a failure at `step` leaves, and what runs after it. The lock is released whatever failed (once taken). */
export function upgradeFailure(step: UpgradeStep): { readonly outcome: UpgradeOutcome; readonly cleanup: readonly UpgradeCleanup[] } {
  switch (step) {
    case 'lock':
      return { outcome: 'old', cleanup: [] };
    case 'download':
    case 'box-add':
    case 'dump':
    // A failed destroy leaves the folder naming the old version: start starts (or remakes) it.
    case 'destroy-old':
      return { outcome: 'old', cleanup: ['unlock'] };
    // A Vagrantfile that does not validate never replaces the old one.
    case 'vagrantfile':
      return { outcome: 'old-gone', cleanup: ['unlock'] };
    case 'up-new':
    case 'write-state':
      return { outcome: 'old-gone', cleanup: ['destroy-new', 'old-vagrantfile', 'unlock'] };
    case 'remove-old-box':
    case 'wait-ready':
    case 'restore':
    case 'unlock':
      return { outcome: 'new', cleanup: ['unlock'] };
  }
}

/** What the user is told on the way out; `backup` and `dir` name the dump and the instance folder. */
export interface UpgradeHints {
  readonly backup: string;
  readonly dir: string;
}

const restoreCommand = (h: UpgradeHints) => `airy-bootstrap restore --from ${h.backup} --dir ${h.dir}`;

/** What failed at each step, before the reason. */
const WHAT_FAILED: Record<UpgradeStep, (f: UpgradeFacts) => string> = {
  lock: () => 'the instance is busy',
  download: (f) => `getting the new box ${f.to} failed`,
  'box-add': (f) => `vagrant box add of ${f.to} failed`,
  dump: () => 'the database could not be saved',
  'destroy-old': (f) => `removing the VM of ${f.from} failed`,
  vagrantfile: (f) => `the Vagrantfile of ${f.to} does not validate`,
  'up-new': (f) => `the VM of ${f.to} did not start`,
  'write-state': () => 'instance.json could not be written',
  'remove-old-box': (f) => `removing the box of ${f.from} failed`,
  'wait-ready': (f) => `${f.to} runs`,
  restore: (f) => `${f.to} runs, but restoring the database failed`,
  unlock: () => 'releasing the instance lock failed',
};

/**
 * The one line a failed upgrade ends with: what failed, why, where it left the instance, and what to run next. Pure.
 * `reason` is the failure's own one line.
 */
export function upgradeFailureLine(facts: UpgradeFacts, step: UpgradeStep, reason: string, hints: UpgradeHints): string {
  const { outcome } = upgradeFailure(step);
  const dumped = facts.keepDatabase && upgradePlan(facts).indexOf(step) > upgradePlan(facts).indexOf('dump');
  const where =
    outcome === 'old'
      ? step === 'destroy-old'
        ? `the instance still names ${facts.from}: airy-bootstrap start starts it (or makes it again)`
        : `nothing was changed: ${facts.from} is as it was${facts.vmExists ? ', and airy-bootstrap start starts it' : ''}`
      : outcome === 'old-gone'
        ? `the VM of ${facts.from} is gone, but the instance still names it: airy-bootstrap start makes it again (new and empty)${dumped ? `, then ${restoreCommand(hints)}` : ''}; or run airy-bootstrap upgrade again`
        : dumped
          ? `the dump of ${facts.from} is kept: once the platform is ready, ${restoreCommand(hints)}`
          : undefined;
  return [`${WHAT_FAILED[step](facts)}: ${reason}`, where].filter(Boolean).join('; ');
}

/** The line after a successful upgrade that did not restore the database (`--wait 0`), if any. Pure. */
export function upgradeDoneNote(facts: UpgradeFacts, hints: UpgradeHints): string | undefined {
  if (!facts.keepDatabase || facts.wait) return undefined;
  return `the platform was not waited for (--wait 0), so the database was not restored; once it is ready, ${restoreCommand(hints)}`;
}
