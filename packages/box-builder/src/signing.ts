/**
 * The catalog as a TUF repository (The Update Framework): the keys folder (`airy-box keys init`), root rotation, and
 * the signed metadata a publish writes beside the catalog, so that whoever can write the bucket still cannot get a
 * box onto a user's machine. Metadata and signatures are @tufjs/models'; the keys are ed25519 (node:crypto).
 *
 * The store's layout (consistent snapshots, as the TUF spec describes them):
 * - `tuf/N.root.json`: every root version, so a client follows rotations one at a time;
 * - `tuf/N.targets.json`, `tuf/N.snapshot.json`: immutable, created once (If-None-Match);
 * - `tuf/timestamp.json`: the one mutable file, written last (If-Match): until it is, clients see the last good set;
 * - `tuf/targets/<dir>/<sha256>.<name>`: the signed copies of the small documents (the catalog, channel pointers),
 *   content-addressed, so a client never reads a document newer or older than the metadata it checked.
 * Boxes and chunk indexes are targets too (length and SHA-256), verified where they already are.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs, field, stateFileProblem, writeFileAtomic } from '@airy/cli-kit';
import { Key, Metadata, MetadataKind, MetaFile, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { type ObjectStore, PreconditionFailedError } from './store.js';

export const TUF_PREFIX = 'tuf/';
/** Where the signed copies of documents (catalog, channels) live: the client's target base URL. */
export const TUF_TARGETS_PREFIX = 'tuf/targets/';
export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type RoleName = (typeof ROLES)[number];
const SPEC_VERSION = '1.0.31';
const DAY_MS = 86_400_000;

/**
 * How long each role's metadata stays valid, in days. Root and targets are signed rarely (root by offline keys);
 * the timestamp is short, so a client held on old metadata (a freeze) notices within two days, and the scheduled
 * `airy-box timestamp` job re-signs it daily.
 */
export const DEFAULT_EXPIRES_DAYS: Readonly<Record<RoleName, number>> = { root: 365, targets: 365, snapshot: 365, timestamp: 2 };

/** What the keys folder says besides its keys (DIR/policy.json). */
export interface KeysPolicy {
  readonly expiresDays: Record<RoleName, number>;
}

/** policy.json's check: each role's expiry in days, above 0 and at most a century. */
const POLICY = {
  schema: field.object({ expiresDays: field.object(Object.fromEntries(ROLES.map((r) => [r, field.positive(36_500)])) as Record<RoleName, ReturnType<typeof field.positive>>) }),
  maxBytes: 64 * 1024,
};

/** A signing problem, with a stable reason id. */
export class SigningError extends Error {
  constructor(
    message: string,
    readonly reason: 'KEYS_MISSING' | 'KEYS_EXIST' | 'KEYS_INVALID' | 'STORE_TAMPERED' | 'STORE_UNSIGNED' | 'ROOT_CONFLICT' | 'TARGET_UNSIGNED',
  ) {
    super(message);
    this.name = 'SigningError';
  }
}

/** One private key and what it signs as. */
export interface KeyPair {
  readonly key: Key;
  readonly privateKey: KeyObject;
  readonly file: string;
}

/** A keys folder as loaded: its current root, every root version, its policy, and the private keys it holds. */
export interface SigningKeys {
  readonly dir: string;
  readonly root: Metadata<Root>;
  /** Every root version, oldest first (index 0 is version 1). */
  readonly roots: readonly { readonly version: number; readonly text: string }[];
  readonly policy: KeysPolicy;
  readonly pairs: readonly KeyPair[];
}

/** The TUF key (with its key id, the SHA-256 of its canonical form) of an ed25519 public key. Pure. */
export function tufKey(publicKey: KeyObject): Key {
  const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex');
  // The canonical JSON of { keytype, keyval, scheme }: sorted keys, no spaces.
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${hex}"},"scheme":"ed25519"}`;
  const keyID = createHash('sha256').update(canonical).digest('hex');
  return new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal: { public: hex } });
}

const signerOf = (pair: KeyPair) => (data: Buffer) => new Signature({ keyID: pair.key.keyID, sig: sign(null, data, pair.privateKey).toString('hex') });

/** An expiry `days` after `now`, in TUF's form (no milliseconds). Pure. */
export function expiry(now: Date, days: number): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const text = (metadata: Metadata<Root | Targets | Snapshot | Timestamp>) => `${JSON.stringify(metadata.toJSON(), null, 2)}\n`;
const sha256 = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');
const keysDirs = (dir: string) => ({ privateDir: join(dir, 'private'), retiredDir: join(dir, 'private', 'retired'), rootsDir: join(dir, 'roots') });

function newPair(dir: string, name: string): KeyPair & { pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { key: tufKey(publicKey), privateKey, file: join(dir, `${name}.pem`), pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** Signs `metadata` with `pairs`, replacing any signature there. */
function signWith<T extends Root | Targets | Snapshot | Timestamp>(metadata: Metadata<T>, pairs: readonly KeyPair[]): Metadata<T> {
  metadata.signatures = {};
  for (const pair of pairs) metadata.sign(signerOf(pair));
  return metadata;
}

/** A root of `version`: each role's keys and threshold. Built through its JSON form (the models export no Role). */
function makeRoot(version: number, expires: string, roles: Record<RoleName, { keys: readonly Key[]; threshold: number }>): Root {
  const keys: Record<string, unknown> = {};
  const roleJson: Record<string, unknown> = {};
  for (const role of ROLES) {
    for (const key of roles[role].keys) keys[key.keyID] = key.toJSON();
    roleJson[role] = { keyids: roles[role].keys.map((k) => k.keyID), threshold: roles[role].threshold };
  }
  return Root.fromJSON({ _type: 'root', spec_version: SPEC_VERSION, version, expires, consistent_snapshot: true, keys, roles: roleJson } as never);
}

/** What `keys init` makes. */
export interface InitOptions {
  /** Root keys to make, and how many must sign a new root. @default 1 and 1 */
  readonly rootKeys?: number;
  readonly rootThreshold?: number;
  readonly expiresDays?: Partial<Record<RoleName, number>>;
  readonly now?: Date;
}

function checkThreshold(keys: number, threshold: number): void {
  if (!Number.isInteger(keys) || keys < 1 || !Number.isInteger(threshold) || threshold < 1 || threshold > keys) {
    throw new SigningError(`a threshold of ${threshold} with ${keys} root key(s) cannot be met: use 1 ≤ threshold ≤ keys`, 'KEYS_INVALID');
  }
}

/**
 * Makes the keys folder: one ed25519 key for targets, snapshot and timestamp, `rootKeys` for root (files 0600 in
 * DIR/private, a folder of 0700), DIR/root.json (version 1, signed by every root key), DIR/roots/1.root.json and
 * DIR/policy.json. Refuses a folder that already has a root: keys are never overwritten.
 */
export async function initKeys(dir: string, options: InitOptions = {}): Promise<Metadata<Root>> {
  const rootKeys = options.rootKeys ?? 1;
  const rootThreshold = options.rootThreshold ?? 1;
  checkThreshold(rootKeys, rootThreshold);
  const policy: KeysPolicy = { expiresDays: { ...DEFAULT_EXPIRES_DAYS, ...options.expiresDays } };
  for (const role of ROLES) {
    const days = policy.expiresDays[role];
    if (!Number.isFinite(days) || days <= 0) throw new SigningError(`the ${role} expiry must be a positive number of days`, 'KEYS_INVALID');
  }
  const exists = await readFile(join(dir, 'root.json')).then(
    () => true,
    () => false,
  );
  if (exists) throw new SigningError(`${join(dir, 'root.json')} exists: keys are never overwritten; rotate with airy-box keys rotate-root`, 'KEYS_EXIST');
  const { privateDir, rootsDir } = keysDirs(dir);
  await mkdir(privateDir, { recursive: true, mode: 0o700 });
  const pairs: Record<RoleName, (KeyPair & { pem: string })[]> = {
    root: Array.from({ length: rootKeys }, (_, i) => newPair(privateDir, `root-v1-${i + 1}`)),
    targets: [newPair(privateDir, 'targets')],
    snapshot: [newPair(privateDir, 'snapshot')],
    timestamp: [newPair(privateDir, 'timestamp')],
  };
  const now = options.now ?? new Date();
  const root = makeRoot(1, expiry(now, policy.expiresDays.root), {
    root: { keys: pairs.root.map((p) => p.key), threshold: rootThreshold },
    targets: { keys: pairs.targets.map((p) => p.key), threshold: 1 },
    snapshot: { keys: pairs.snapshot.map((p) => p.key), threshold: 1 },
    timestamp: { keys: pairs.timestamp.map((p) => p.key), threshold: 1 },
  });
  const metadata = signWith(new Metadata(root), pairs.root);
  for (const pair of Object.values(pairs).flat()) await writeFileAtomic(pair.file, pair.pem, { mode: 0o600 });
  await writeFileAtomic(join(dir, 'policy.json'), `${JSON.stringify(policy, null, 2)}\n`);
  await writeFileAtomic(join(rootsDir, '1.root.json'), text(metadata));
  await writeFileAtomic(join(dir, 'root.json'), text(metadata));
  return metadata;
}

/** Loads a keys folder: its roots (each must be the one signed after the last), policy and private keys. */
export async function loadKeys(dir: string): Promise<SigningKeys> {
  const read = (file: string) =>
    readFile(join(dir, file), 'utf8').catch(() => {
      throw new SigningError(`cannot read ${join(dir, file)}: make the keys with airy-box keys init ${dir}`, 'KEYS_MISSING');
    });
  const parse = (body: string, file: string) => {
    try {
      return Metadata.fromJSON(MetadataKind.Root, JSON.parse(body));
    } catch (error) {
      throw new SigningError(`${join(dir, file)} is not a TUF root (${(error as Error).message})`, 'KEYS_INVALID');
    }
  };
  const rootText = await read('root.json');
  const root = parse(rootText, 'root.json');
  const roots: { version: number; text: string }[] = [];
  for (let version = 1; version <= root.signed.version; version++) roots.push({ version, text: await read(`roots/${version}.root.json`) });
  if (roots.at(-1)?.text !== rootText) throw new SigningError(`${join(dir, 'root.json')} is not roots/${root.signed.version}.root.json`, 'KEYS_INVALID');
  const checked = stateFileProblem<KeysPolicy>(await read('policy.json'), POLICY);
  if ('problem' in checked) throw new SigningError(`${join(dir, 'policy.json')}: ${checked.problem}: make the keys again with airy-box keys init, or fix the file`, 'KEYS_INVALID');
  const policy = checked.value;
  const { privateDir } = keysDirs(dir);
  const names = (await readdir(privateDir).catch(() => [] as string[])).filter((n) => n.endsWith('.pem'));
  const pairs: KeyPair[] = [];
  for (const name of names) {
    const file = join(privateDir, name);
    try {
      const privateKey = createPrivateKey(await readFile(file, 'utf8'));
      pairs.push({ key: tufKey(createPublicKey(privateKey)), privateKey, file });
    } catch {
      throw new SigningError(`${file} is not an ed25519 private key in PEM`, 'KEYS_INVALID');
    }
  }
  return { dir, root, roots, policy, pairs };
}

/** The private keys the folder holds for `role` under `root`, at least its threshold, or a SigningError saying so. */
function signersFor(keys: SigningKeys, role: RoleName, root: Root = keys.root.signed): KeyPair[] {
  const wanted = root.roles[role];
  const held = keys.pairs.filter((p) => wanted?.keyIDs.includes(p.key.keyID));
  if (!wanted || held.length < wanted.threshold) {
    throw new SigningError(
      `${keys.dir} holds ${held.length} of the ${wanted?.threshold ?? '?'} ${role} key(s) needed to sign: bring them (private/*.pem) or rotate the root`,
      'KEYS_MISSING',
    );
  }
  return held;
}

/** Throws {@link SigningError} unless the folder holds enough keys to sign as each of `roles` (checked before any upload). */
export function requireSigners(keys: SigningKeys, roles: readonly RoleName[]): void {
  for (const role of roles) signersFor(keys, role);
}

/** What `keys rotate-root` changes. */
export interface RotateOptions {
  /** Roles whose keys are replaced by new ones (root always is). @default ['root'] */
  readonly roles?: readonly RoleName[];
  readonly rootKeys?: number;
  readonly rootThreshold?: number;
  readonly now?: Date;
}

/**
 * Signs root version N+1: new root keys (and new keys for `roles`), signed by the old root's threshold and the new
 * one's, as a client requires to follow it. The replaced private keys are moved to DIR/private/retired. The next
 * publish (or timestamp) uploads the new root beside the old ones.
 */
export async function rotateRoot(dir: string, options: RotateOptions = {}): Promise<Metadata<Root>> {
  const keys = await loadKeys(dir);
  const old = keys.root.signed;
  const oldSigners = signersFor(keys, 'root');
  const rootKeys = options.rootKeys ?? old.roles.root?.keyIDs.length ?? 1;
  const rootThreshold = options.rootThreshold ?? Math.min(old.roles.root?.threshold ?? 1, rootKeys);
  checkThreshold(rootKeys, rootThreshold);
  const version = old.version + 1;
  const { privateDir, retiredDir, rootsDir } = keysDirs(dir);
  const replaced = new Set<RoleName>(['root', ...(options.roles ?? [])]);
  const fresh: Partial<Record<RoleName, (KeyPair & { pem: string })[]>> = {};
  for (const role of replaced) {
    fresh[role] = Array.from({ length: role === 'root' ? rootKeys : 1 }, (_, i) => newPair(privateDir, `${role}-v${version}-${i + 1}`));
  }
  const roleOf = (role: RoleName) => {
    const pairs = fresh[role];
    if (pairs) return { keys: pairs.map((p) => p.key), threshold: role === 'root' ? rootThreshold : 1 };
    const kept = old.roles[role];
    return { keys: (kept?.keyIDs ?? []).map((id) => old.keys[id] as Key), threshold: kept?.threshold ?? 1 };
  };
  const root = makeRoot(version, expiry(options.now ?? new Date(), keys.policy.expiresDays.root), {
    root: roleOf('root'),
    targets: roleOf('targets'),
    snapshot: roleOf('snapshot'),
    timestamp: roleOf('timestamp'),
  });
  // Signed by the old threshold (so clients trusting N accept it) and the new one (so it stands on its own).
  const metadata = signWith(new Metadata(root), [...oldSigners, ...(fresh.root ?? [])]);
  const body = text(metadata);
  for (const pair of Object.values(fresh).flat()) await writeFileAtomic(pair.file, pair.pem, { mode: 0o600 });
  await writeFileAtomic(join(rootsDir, `${version}.root.json`), body);
  await writeFileAtomic(join(dir, 'root.json'), body);
  // The keys that sign no more: kept (0600) but out of the way of the next load.
  await mkdir(retiredDir, { recursive: true, mode: 0o700 });
  const replacedIds = new Set([...replaced].flatMap((role) => old.roles[role]?.keyIDs ?? []));
  for (const pair of keys.pairs.filter((p) => replacedIds.has(p.key.keyID))) {
    await rename(pair.file, join(retiredDir, `${pair.file.split('/').pop()}`));
  }
  return metadata;
}

/** The signed state of a store, read and checked against our own roots. */
interface SignedState {
  readonly timestamp: Metadata<Timestamp>;
  readonly timestampEtag: string;
  readonly snapshot: Metadata<Snapshot>;
  readonly targets: Metadata<Targets>;
}

/** Checks `metadata` as `role` under any of our root versions (it may have been signed before a rotation). */
function verifiedByOurs(keys: SigningKeys, role: RoleName, metadata: Metadata<Targets | Snapshot | Timestamp>, key: string): void {
  for (const { text: rootText } of [...keys.roots].reverse()) {
    try {
      Metadata.fromJSON(MetadataKind.Root, JSON.parse(rootText)).verifyDelegate(role, metadata);
      return;
    } catch {
      // Not under this root: try the one before.
    }
  }
  throw new SigningError(
    `${key} in the store is not signed by our ${role} key: it was edited without the key; publish refuses to carry it forward (restore it, or investigate the bucket)`,
    'STORE_TAMPERED',
  );
}

/** Reads and checks the store's timestamp, snapshot and targets; undefined when the store has no signed metadata. */
async function readSigned(store: ObjectStore, keys: SigningKeys): Promise<SignedState | undefined> {
  const stamp = await store.get(`${TUF_PREFIX}timestamp.json`);
  if (!stamp) return undefined;
  const parsed = <T extends MetadataKind.Timestamp | MetadataKind.Snapshot | MetadataKind.Targets>(kind: T, body: string, key: string) => {
    try {
      return Metadata.fromJSON(kind as MetadataKind.Targets, JSON.parse(body)) as unknown as Metadata<
        T extends MetadataKind.Timestamp ? Timestamp : T extends MetadataKind.Snapshot ? Snapshot : Targets
      >;
    } catch (error) {
      throw new SigningError(`${key} in the store is not TUF metadata (${(error as Error).message})`, 'STORE_TAMPERED');
    }
  };
  const timestamp = parsed(MetadataKind.Timestamp, stamp.body, 'tuf/timestamp.json');
  verifiedByOurs(keys, 'timestamp', timestamp, 'tuf/timestamp.json');
  const snapshotKey = `${TUF_PREFIX}${timestamp.signed.snapshotMeta.version}.snapshot.json`;
  const snapshotText = await store.get(snapshotKey);
  if (!snapshotText) throw new SigningError(`${snapshotKey} is missing from the store`, 'STORE_TAMPERED');
  const snapshot = parsed(MetadataKind.Snapshot, snapshotText.body, snapshotKey);
  verifiedByOurs(keys, 'snapshot', snapshot, snapshotKey);
  const targetsMeta = snapshot.signed.meta['targets.json'];
  const targetsKey = `${TUF_PREFIX}${targetsMeta?.version}.targets.json`;
  const targetsText = targetsMeta ? await store.get(targetsKey) : undefined;
  if (!targetsText) throw new SigningError(`${targetsKey} is missing from the store`, 'STORE_TAMPERED');
  const targets = parsed(MetadataKind.Targets, targetsText.body, targetsKey);
  verifiedByOurs(keys, 'targets', targets, targetsKey);
  return { timestamp, timestampEtag: stamp.etag, snapshot, targets };
}

/** The paths of the store's signed targets, checked against our keys; none when the store has no signed metadata. */
export async function signedTargetPaths(store: ObjectStore, keys: SigningKeys): Promise<Set<string>> {
  const state = await readSigned(store, keys);
  return new Set(Object.keys(state?.targets.signed.targets ?? {}));
}

/** Uploads each of our root versions the store lacks; one it holds with other content is refused. */
async function publishRoots(store: ObjectStore, keys: SigningKeys): Promise<void> {
  for (const { version, text: body } of keys.roots) {
    const key = `${TUF_PREFIX}${version}.root.json`;
    const there = await store.get(key);
    if (there && there.body !== body) {
      throw new SigningError(`${key} in the store is not ${keys.dir}/roots/${version}.root.json: these keys do not belong to this catalog`, 'ROOT_CONFLICT');
    }
    if (!there) await store.put(key, body, { ifNoneMatch: true }).catch((e) => ignoreLostRace(e));
  }
}

/** A content-addressed or create-once object another writer created first is fine: it is the same. */
function ignoreLostRace(error: unknown): void {
  if (!(error instanceof PreconditionFailedError)) throw error;
}

/** The store key of a document's signed copy: `tuf/targets/<dir>/<sha256>.<name>`. Pure. */
export function documentCopyKey(path: string, hash: string): string {
  const slash = path.lastIndexOf('/');
  return `${TUF_TARGETS_PREFIX}${path.slice(0, slash + 1)}${hash}.${path.slice(slash + 1)}`;
}

/** A target: its path (a store key) and either its bytes (a small document) or its length and SHA-256. */
export type TargetInput = { readonly path: string; readonly body: string } | { readonly path: string; readonly length: number; readonly sha256: string };

/** What a signing did. */
export interface SignResult {
  readonly targetsVersion: number;
  readonly snapshotVersion: number;
  readonly timestampVersion: number;
  /** False when the signed targets already said all this (nothing was written). */
  readonly changed: boolean;
}

/** Between tries of a conditional write that lost a race: cli-kit's backoff, short (the store answers in ms). */
const pause = (attempt: number) => delay(backoffMs(attempt, 20, 1000));

/**
 * Signs `inputs` into the store's targets, keeping every target the last signed targets had (checked against our
 * keys first, so nothing edited in the bucket is carried forward), then snapshot, then timestamp, in the TUF order.
 * Targets and snapshot are new, create-once files; the timestamp is replaced last and only if nobody changed it
 * (If-Match), so a failed or racing publish leaves the last good metadata in force, and is retried.
 */
export async function signTargets(
  store: ObjectStore,
  keys: SigningKeys,
  inputs: readonly TargetInput[],
  options: { now?: Date; attempts?: number } = {},
): Promise<SignResult> {
  const now = options.now ?? new Date();
  const signers = { targets: signersFor(keys, 'targets'), snapshot: signersFor(keys, 'snapshot'), timestamp: signersFor(keys, 'timestamp') };
  await publishRoots(store, keys);
  const files: TargetFile[] = [];
  for (const input of inputs) {
    if ('body' in input) {
      const hash = sha256(input.body);
      await store.put(documentCopyKey(input.path, hash), input.body, { ifNoneMatch: true }).catch(ignoreLostRace);
      files.push(new TargetFile({ path: input.path, length: Buffer.byteLength(input.body), hashes: { sha256: hash } }));
    } else {
      files.push(new TargetFile({ path: input.path, length: input.length, hashes: { sha256: input.sha256 } }));
    }
  }
  const attempts = options.attempts ?? 20;
  // Versions another writer created but never made current (it died before its timestamp) are skipped, not waited on.
  const skip = { targets: 0, snapshot: 0 };
  for (let attempt = 0; attempt < attempts; attempt++) {
    const state = await readSigned(store, keys);
    const entries: Record<string, TargetFile> = { ...(state?.targets.signed.targets ?? {}) };
    const changed = !state || files.some((f) => !entries[f.path]?.equals(f));
    if (!changed && state) {
      return { targetsVersion: state.targets.signed.version, snapshotVersion: state.snapshot.signed.version, timestampVersion: state.timestamp.signed.version, changed: false };
    }
    for (const f of files) entries[f.path] = f;
    const targetsVersion = (state?.targets.signed.version ?? 0) + 1 + skip.targets;
    const targets = signWith(
      new Metadata(new Targets({ version: targetsVersion, specVersion: SPEC_VERSION, expires: expiry(now, keys.policy.expiresDays.targets), targets: entries })),
      signers.targets,
    );
    const targetsBody = text(targets);
    const snapshotVersion = (state?.snapshot.signed.version ?? 0) + 1 + skip.snapshot;
    const snapshot = signWith(
      new Metadata(
        new Snapshot({
          version: snapshotVersion,
          specVersion: SPEC_VERSION,
          expires: expiry(now, keys.policy.expiresDays.snapshot),
          meta: { 'targets.json': new MetaFile({ version: targetsVersion, length: Buffer.byteLength(targetsBody), hashes: { sha256: sha256(targetsBody) } }) },
        }),
      ),
      signers.snapshot,
    );
    let stage: 'targets' | 'snapshot' | 'timestamp' = 'targets';
    try {
      // Create-once: a racing publisher that took this version first makes us read again and sign the next.
      stage = 'targets';
      await store.put(`${TUF_PREFIX}${targetsVersion}.targets.json`, targetsBody, { ifNoneMatch: true });
      const snapshotBody = text(snapshot);
      stage = 'snapshot';
      await store.put(`${TUF_PREFIX}${snapshotVersion}.snapshot.json`, snapshotBody, { ifNoneMatch: true });
      stage = 'timestamp';
      const timestampVersion = (state?.timestamp.signed.version ?? 0) + 1;
      await writeTimestamp(store, keys, signers.timestamp, timestampVersion, snapshotVersion, snapshotBody, state?.timestampEtag, now);
      return { targetsVersion, snapshotVersion, timestampVersion, changed: true };
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      if (stage !== 'timestamp') skip[stage]++;
      await pause(attempt);
    }
  }
  throw new Error('the signed metadata kept changing under us: another publisher is busy; try again');
}

async function writeTimestamp(
  store: ObjectStore,
  keys: SigningKeys,
  signers: readonly KeyPair[],
  version: number,
  snapshotVersion: number,
  snapshotBody: string,
  etag: string | undefined,
  now: Date,
): Promise<void> {
  const timestamp = signWith(
    new Metadata(
      new Timestamp({
        version,
        specVersion: SPEC_VERSION,
        expires: expiry(now, keys.policy.expiresDays.timestamp),
        snapshotMeta: new MetaFile({ version: snapshotVersion, length: Buffer.byteLength(snapshotBody), hashes: { sha256: sha256(snapshotBody) } }),
      }),
    ),
    signers,
  );
  await store.put(`${TUF_PREFIX}timestamp.json`, text(timestamp), etag ? { ifMatch: etag } : { ifNoneMatch: true });
}

/** What re-signing the timestamp did, and what expires soon besides it. */
export interface TimestampResult {
  readonly version: number;
  readonly expires: string;
  /** Targets or snapshot metadata that expires within 30 days: a publish (which re-signs them) is due. */
  readonly expiringSoon: readonly string[];
}

/**
 * Re-signs only the timestamp (version + 1, a fresh expiry) for the snapshot it already names, so a quiet catalog
 * does not expire: the scheduled job. Only the timestamp key is needed. Written with If-Match, retried on a race.
 */
export async function resignTimestamp(store: ObjectStore, keys: SigningKeys, options: { now?: Date; attempts?: number } = {}): Promise<TimestampResult> {
  const now = options.now ?? new Date();
  const signers = signersFor(keys, 'timestamp');
  await publishRoots(store, keys);
  for (let attempt = 0; attempt < (options.attempts ?? 20); attempt++) {
    const state = await readSigned(store, keys);
    if (!state) throw new SigningError(`${store.location} has no signed metadata yet: publish with --keys first`, 'STORE_UNSIGNED');
    const snapshotKey = `${TUF_PREFIX}${state.snapshot.signed.version}.snapshot.json`;
    const snapshotBody = (await store.get(snapshotKey))?.body ?? '';
    const version = state.timestamp.signed.version + 1;
    try {
      await writeTimestamp(store, keys, signers, version, state.snapshot.signed.version, snapshotBody, state.timestampEtag, now);
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
      await pause(attempt);
      continue;
    }
    const soon = new Date(now.getTime() + 30 * DAY_MS);
    const expiringSoon = [
      ...(state.targets.signed.isExpired(soon) ? [`targets (${state.targets.signed.expires})`] : []),
      ...(state.snapshot.signed.isExpired(soon) ? [`snapshot (${state.snapshot.signed.expires})`] : []),
    ];
    return { version, expires: expiry(now, keys.policy.expiresDays.timestamp), expiringSoon };
  }
  throw new Error('tuf/timestamp.json kept changing under us: another publisher is busy; try again');
}
