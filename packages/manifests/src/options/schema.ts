/**
 * The options' checks, written once with one schema library (valibot): each option's type, format and range,
 * beside the others of its level. Each level is typed against its interface in types.ts, so a key in one and not in
 * the other, or a check whose result is not the option's type, does not compile. A value of the wrong type is refused
 * naming its key: YAML 1.2 reads YAML 1.1's `yes`/`no`/`on`/`off` as strings, so a config written for Helm or Ansible
 * would otherwise turn `replaceCoreApps: no` on. What depends on several options or on the profile is resolve.ts'.
 */
import { didYouMean } from '@airy/cli-kit';
import * as v from 'valibot';
import { SOURCE_NAMES, type TopicSpec } from '../airy-core.js';
import { isDns1035Label, isDnsLabel, isDnsSubdomain, unpinnedImage } from '../names.js';
import { parseCpu, parseMemory } from '../quantity.js';
import {
  type AppSpec,
  CONTROLLER_LAYOUTS,
  type IngressProps,
  KAFKA_MODES,
  type KafkaProps,
  type NgrokProps,
  OptionError,
  type PlatformOptions,
  type PostgresProps,
  PROFILES,
  type ResourceSpec,
  type SchemaRegistryProps,
  type TlsProps,
  type ZookeeperProps,
} from './types.js';

/** A check whose result is a `T`. */
type Schema<T> = v.GenericSchema<unknown, T>;

/** A value as an error line shows it: JSON, cut short. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The strings YAML 1.1 read as booleans. */
const YAML11_BOOLEAN = /^(y|yes|n|no|on|off|true|false)$/i;

const flag: Schema<boolean> = v.boolean((issue) =>
  typeof issue.input === 'string' && YAML11_BOOLEAN.test(issue.input)
    ? `must be true or false, got the string ${shown(issue.input)} (YAML 1.2 reads yes/no/on/off as text: write true or false)`
    : `must be true or false, got ${shown(issue.input)}`,
);

const string = () => v.string((issue) => `must be a string, got ${shown(issue.input)}`);

/** A string that passes `test`; `message` says what it is not. */
function matching(test: (s: string) => boolean, message: (s: string) => string): Schema<string> {
  return v.pipe(
    string(),
    v.check(test, (issue) => message(issue.input)),
  );
}

function whole(min: number, max: number): Schema<number> {
  const message = (issue: v.BaseIssue<unknown>) => `must be a whole number from ${min} to ${max}, got ${shown(issue.input)}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
}

function oneOf<const T extends readonly string[]>(allowed: T): Schema<T[number]> {
  return v.pipe(
    string(),
    v.picklist(allowed, (issue) => `unknown value ${shown(issue.input)} (allowed: ${allowed.join(', ')})`),
  );
}

const listOf = <T>(item: Schema<T>): Schema<T[]> => v.array(item, (issue) => `must be a list, got ${shown(issue.input)}`);

/** Each key of `T`, and its check. */
type Entries<T> = { readonly [K in keyof Required<T>]: Schema<T[K]> };

/**
 * A mapping with these keys only. A key that is missing, or that no option has, is named by {@link optionError}
 * (with the nearest known key).
 */
function mapping<T>(entries: Entries<T>, what = 'a mapping'): Schema<T> {
  const schema = v.strictObject(entries as v.ObjectEntries, (issue) =>
    issue.expected === 'Object' ? `must be ${what}, got ${shown(issue.input)}` : issue.input === undefined ? 'is required' : 'not an option',
  );
  return schema as unknown as Schema<T>;
}

/** An optional section: an empty YAML key (`zookeeper:`, null) counts as not given. */
function section<T>(schema: Schema<T>): Schema<T | undefined> {
  return v.pipe(
    v.nullish(schema),
    v.transform((value) => value ?? undefined),
  );
}

const HOST_NAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const INGRESS_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const SIZE = /^\d+(Ki|Mi|Gi|Ti)$/;
const POSTGRES_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

const dnsLabel = matching(isDnsLabel, (s) => `must be a DNS label (a-z, 0-9, -; at most 63), got ${shown(s)}`);
/** An app's name, which is also its Service's: a DNS-1035 label (it starts with a letter). */
const serviceName = matching(isDns1035Label, (s) => `must be a DNS label starting with a letter (a-z, 0-9, -; at most 63), got ${shown(s)}`);
/** A Kubernetes object name (DNS-1123 subdomain): what a StorageClass is called. */
const kubernetesName = matching(
  isDnsSubdomain,
  (s) => `${shown(s)} is not a Kubernetes name (lowercase letters, digits, '-' and '.')`,
);
/** A DNS host name with at least two labels, such as a reserved ngrok domain. */
const hostName = matching((s) => s.length <= 253 && HOST_NAME.test(s), (s) => `${shown(s)} is not a host name (e.g. airy-demo.ngrok.app)`);
const size = matching((s) => SIZE.test(s), (s) => `must be a size such as 10Gi, got ${shown(s)}`);
const postgresName = matching(
  (s) => POSTGRES_NAME.test(s),
  (s) => `must be a PostgreSQL name (letters, digits and _, not starting with a digit, at most 63), got ${shown(s)}`,
);

/**
 * A URL path of its own characters only (no whitespace, newline or quote reaches the VirtualService or the probe),
 * with no `.` or `..` segment, written or percent-encoded (a proxy may resolve them to another app).
 */
const urlPath: Schema<string> = v.pipe(
  string(),
  v.check((s) => s.startsWith('/'), (issue) => `${shown(issue.input)} must start with /`),
  v.check(
    (s) => /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/]*$/.test(s) && !/%(?![0-9A-Fa-f]{2})/.test(s),
    (issue) => `${shown(issue.input)} is not a URL path (letters, digits, - . _ ~ / and %XX; no spaces, quotes or newlines)`,
  ),
  v.check(
    (s) => !s.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment)),
    (issue) => `${shown(issue.input)} has a . or .. segment: give the path as the app sees it`,
  ),
);

const exactImage = matching(
  (image) => unpinnedImage(image) === undefined,
  (image) => `image ${shown(image)} must be pinned to an exact tag`,
);

/** Env values and topic configs: strings, or numbers and booleans as YAML shows them (resolve.ts writes them so). */
const stringMap = v.pipe(
  v.record(
    v.string(),
    v.union([v.string(), v.number(), v.boolean()], (issue) => `must be a string, got ${shown(issue.input)}`),
    (issue) => `must be a mapping, got ${shown(issue.input)}`,
  ),
  v.check((map) => !Array.isArray(map), 'must be a mapping, got a list'),
) as unknown as Schema<Record<string, string>>;

/** A quantity `parse` reads, above zero (a container with no CPU or memory cannot run the JVM it holds). */
function quantity(parse: (q: string) => number, what: string, example: string): Schema<string> {
  return matching(
    (s) => {
      try {
        return parse(s) > 0;
      } catch {
        return false;
      }
    },
    (s) => `must be a ${what} quantity above 0 such as ${example}, got ${shown(s)}`,
  );
}

const pair = mapping<ResourceSpec['requests']>({ cpu: quantity(parseCpu, 'CPU', '250m or 1'), memory: quantity(parseMemory, 'memory', '512Mi') });

/** The first of cpu and memory whose request is above its limit (Kubernetes refuses such a container). */
function requestAboveLimit(spec: ResourceSpec): string | undefined {
  if (parseCpu(spec.requests.cpu) > parseCpu(spec.limits.cpu)) return 'cpu';
  if (parseMemory(spec.requests.memory) > parseMemory(spec.limits.memory)) return 'memory';
  return undefined;
}

const resources: Schema<ResourceSpec> = v.pipe(
  mapping<ResourceSpec>({ requests: pair, limits: pair }),
  v.check(
    (spec) => requestAboveLimit(spec) === undefined,
    (issue) => {
      const spec = issue.input as ResourceSpec;
      const kind = requestAboveLimit(spec) as 'cpu' | 'memory';
      return `requests.${kind} ${spec.requests[kind]} is above limits.${kind} ${spec.limits[kind]} (Kubernetes refuses it)`;
    },
  ),
);

const APP = mapping<AppSpec>({
  name: serviceName,
  image: exactImage,
  port: whole(1, 65535),
  env: v.optional(stringMap),
  routes: v.optional(listOf(urlPath)),
  database: v.optional(flag),
  healthPath: v.optional(urlPath),
  replicas: v.optional(whole(1, 50)),
  resources: v.optional(resources),
});

const TOPIC = mapping<TopicSpec>({
  name: matching((s) => TOPIC_NAME.test(s), (s) => `${shown(s)} is not a valid topic name`),
  partitions: v.optional(whole(1, 1000)),
  config: v.optional(stringMap),
});

/** Every option, checked. */
export const OPTIONS = mapping<PlatformOptions>({
  profile: v.optional(oneOf(PROFILES)),
  namespace: v.optional(dnsLabel),
  storageClass: v.optional(kubernetesName),
  kafka: section(
    mapping<KafkaProps>({
      mode: v.optional(oneOf(KAFKA_MODES)),
      brokers: v.optional(whole(1, 15)),
      controllers: v.optional(oneOf(CONTROLLER_LAYOUTS)),
      controllerCount: v.optional(whole(1, 9)),
      storage: v.optional(size),
      resources: v.optional(resources),
      clusterId: v.optional(
        matching((s) => /^[A-Za-z0-9_-]{22}$/.test(s), () => 'must be 22 characters of base64url (kafka-storage random-uuid)'),
      ),
    }),
  ),
  zookeeper: section(mapping<ZookeeperProps>({ servers: v.optional(whole(1, 9)), storage: v.optional(size), resources: v.optional(resources) })),
  schemaRegistry: section(mapping<SchemaRegistryProps>({ replicas: v.optional(whole(1, 9)), resources: v.optional(resources) })),
  postgres: section(
    mapping<PostgresProps>({
      database: v.optional(postgresName),
      user: v.optional(postgresName),
      password: v.optional(v.pipe(string(), v.minLength(16, 'must be at least 16 characters'))),
      existingSecret: v.optional(dnsLabel),
      storage: v.optional(size),
      resources: v.optional(resources),
    }),
  ),
  topics: v.optional(listOf(TOPIC)),
  ingress: section(
    mapping<IngressProps>({
      hosts: v.optional(
        v.pipe(
          listOf(matching((s) => INGRESS_HOST.test(s), (s) => `${shown(s)} is not a host name`)),
          v.minLength(1, 'needs at least one host'),
        ),
      ),
      tls: section(
        mapping<TlsProps>(
          { secret: v.optional(dnsLabel), certManagerIssuer: v.optional(dnsLabel), certManagerIssuerKind: v.optional(oneOf(['ClusterIssuer', 'Issuer'])) },
          'a mapping (secret, certManagerIssuer)',
        ),
      ),
      plainHttp: v.optional(flag),
    }),
  ),
  ngrok: section(mapping<NgrokProps>({ enabled: v.optional(flag), domain: v.optional(hostName), authtokenSecret: v.optional(dnsLabel) })),
  apps: v.optional(listOf(APP)),
  replaceCoreApps: v.optional(flag),
  componentsInstaller: v.optional(flag),
  sources: v.optional(listOf(oneOf(SOURCE_NAMES))),
});

/** What a schema holds inside, as the walk below reads it. */
interface Inner {
  readonly entries?: Record<string, Inner>;
  readonly item?: Inner;
  readonly wrapped?: Inner;
  readonly pipe?: readonly Inner[];
}

/** The keys known at `keys` inside `schema`. */
function keysAt(schema: unknown, keys: readonly unknown[]): string[] {
  const unwrap = (s: Inner | undefined): Inner | undefined => {
    if (s?.wrapped) return unwrap(s.wrapped);
    if (s?.pipe && !s.entries && !s.item) return unwrap(s.pipe.find((p) => p.wrapped ?? p.entries ?? p.item));
    return s;
  };
  let at = unwrap(schema as Inner);
  for (const key of keys) at = unwrap(typeof key === 'number' ? at?.item : at?.entries?.[String(key)]);
  return Object.keys(at?.entries ?? {});
}

/** The first problem of a check as an {@link OptionError} naming its key (under `root`, e.g. `app`). */
function optionError(schema: Schema<unknown>, issue: v.BaseIssue<unknown>, root: string): OptionError {
  const path = (issue.path ?? []).map((item) => item.key);
  const name = (keys: readonly unknown[]) =>
    keys.reduce<string>((at, key) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${String(key)}` : String(key)), root);
  const where = name(path);
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    const parent = name(path.slice(0, -1));
    if (Array.isArray(issue.path?.at(-1)?.input)) return new OptionError(parent || 'options', 'must be a mapping, got a list');
    const known = keysAt(schema, path.slice(0, -1));
    const near = didYouMean(String(path.at(-1)), known);
    return new OptionError(where, `not an option${near ? ` (did you mean ${parent ? `${parent}.` : ''}${near}?)` : ` (options here: ${known.join(', ')})`}`);
  }
  return new OptionError(where || root || 'options', issue.message);
}

function check<T>(schema: Schema<T>, value: unknown, root: string): T {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (!result.success) throw optionError(schema, result.issues[0], root);
  return result.output;
}

/** The options checked: each value's type, format and range; throws {@link OptionError} naming the first bad key. */
export const checkOptions = (value: unknown): PlatformOptions => check(OPTIONS, value, '');

/** One app checked as `apps:` of the options would be, named `root` in errors. */
export const checkApp = (value: unknown, root: string): AppSpec => check(APP, value, root);
