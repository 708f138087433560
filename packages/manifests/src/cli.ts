#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { Option } from 'commander';
import { AiryError, CliError, createProgram, ExitCode, packageVersion, printable, printableJson, runCli, stopAtOnce, usageError } from '@airy/cli-kit';
import { KAFKA_MODES, type KafkaMode, OptionError, type PlatformOptions, PROFILES } from './options/types.js';
import type { ResourceTotals } from './platform.js';
import { EXTRA_FILE, platformDocuments, withExtra } from './objects.js';

// Each command imports what it uses when it runs, so a cold start loads only that: render loads no schema code
// unless --extra asks to validate, validate loads no rendering, and --help neither.
const filesModule = () => import('./files.js');
const platformModule = () => import('./platform.js');

interface PlatformFlags {
  profile?: string;
  kafkaMode?: string;
  config?: string;
  namespace?: string;
  storageClass?: string;
  host?: string[];
  ngrok?: boolean;
  ngrokDomain?: string;
  postgresSecret?: string;
  tlsSecret?: string;
  certManagerIssuer?: string;
  plainHttp?: boolean;
}

/** Options from the config file, overridden by flags. Bad input becomes a usage error (exit 2). */
async function platformOptions(flags: PlatformFlags): Promise<PlatformOptions> {
  checkPathArgs('--config', [flags.config]);
  // Checked before the flags are merged in: spreading a section that is not a mapping (`ingress: 5`) would lose it.
  const file = flags.config ? await configFile(flags.config) : {};
  return {
    ...file,
    ...(flags.profile ? { profile: flags.profile as PlatformOptions['profile'] } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.storageClass ? { storageClass: flags.storageClass } : {}),
    kafka: { ...file.kafka, ...(flags.kafkaMode ? { mode: flags.kafkaMode as KafkaMode } : {}) },
    ingress: {
      ...file.ingress,
      ...(flags.host?.length ? { hosts: flags.host } : {}),
      ...(flags.tlsSecret || flags.certManagerIssuer
        ? {
            tls: {
              ...file.ingress?.tls,
              ...(flags.tlsSecret ? { secret: flags.tlsSecret } : {}),
              ...(flags.certManagerIssuer ? { certManagerIssuer: flags.certManagerIssuer } : {}),
            },
          }
        : {}),
      ...(flags.plainHttp ? { plainHttp: true } : {}),
    },
    ngrok: {
      ...file.ngrok,
      ...(flags.ngrok !== undefined ? { enabled: flags.ngrok } : {}),
      ...(flags.ngrokDomain ? { domain: flags.ngrokDomain } : {}),
    },
    postgres: { ...file.postgres, ...(flags.postgresSecret ? { existingSecret: flags.postgresSecret } : {}) },
  };
}

/** The options of a config file, checked. */
async function configFile(path: string): Promise<PlatformOptions> {
  const [{ readOptionsFile }, { checkOptions }] = await Promise.all([filesModule(), import('./options/schema.js')]);
  return checkOptions(await readOptionsFile(path));
}

/** Runs `work`, giving bad options and unusable files their reasons (the registry makes both exit 2). */
async function withInput<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OptionError) throw new AiryError('OPTION_INVALID', `invalid option ${error.message}`);
    // Loaded already if it threw one of its errors.
    const { UnreadablePathError, UnwritablePathError } = await filesModule();
    if (error instanceof UnreadablePathError || error instanceof UnwritablePathError) throw new AiryError('PATH_UNUSABLE', error.message);
    throw error;
  }
}

/**
 * Node reads command-line arguments as UTF-8 and replaces the bytes that are not with U+FFFD, so such a path names
 * another file or folder than the one given (render would write into a new one): refused, exit 2.
 */
function checkPathArgs(what: string, paths: readonly (string | undefined)[]): void {
  for (const path of paths) {
    if (path?.includes('\uFFFD')) {
      throw usageError(`${what} ${path}: the name is not valid UTF-8, which Node cannot pass on as given: rename it, or use a path without those bytes`);
    }
  }
}

/** `1 problem`, `3 problems`. */
const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const program = createProgram({
  name: 'airy-manifests',
  description: 'Render, validate and inspect the Kubernetes manifests of the Airy Core Platform.',
  version: packageVersion(import.meta.url),
});
// Every command only reads, computes and writes whole files: Ctrl-C ends it at once, even while it parses.
program.hook('preAction', stopAtOnce);

/** The options every command that renders the platform takes. */
function platformCommand(name: string, description: string) {
  return program
    .command(name)
    .description(description)
    // No commander default: a config file's profile must win over an unset flag (the default is applied later).
    .addOption(new Option('--profile <profile>', 'sizing and topology (default: the config file\'s, else local)').choices(PROFILES))
    .addOption(new Option('--kafka-mode <mode>', 'how Kafka keeps its metadata').choices(KAFKA_MODES))
    .option('--config <file>', 'YAML file of platform options (apps, topics, sizes); flags override it')
    .option('--namespace <name>', 'namespace of every object (default: airy)')
    .option('--storage-class <name>', 'StorageClass of every volume (default: the cluster default)')
    .option('--host <name...>', 'host names of the ingress (default: airy.core)')
    .option('--tls-secret <name>', 'serve HTTPS on 443 with this certificate Secret in istio-system; 80 redirects')
    .option('--cert-manager-issuer <name>', 'with HTTPS: have cert-manager issue the certificate (a ClusterIssuer)')
    .option('--plain-http', 'serve plain HTTP only (production needs this or a certificate source: --tls-secret, --cert-manager-issuer)')
    .option('--ngrok', 'render the in-cluster ngrok agent (default in the local profile)')
    .option('--no-ngrok', 'leave the ngrok agent out (default in production)')
    .option('--ngrok-domain <domain>', 'static ngrok domain for the agent');
}

platformCommand('render', 'write one YAML file per component plus kustomization.yaml (kubectl apply -k DIR)')
  .option('--out <dir>', 'folder to write into')
  .option('--stdout', 'print every object as one YAML stream instead (kubectl apply -f -)')
  .option('--postgres-secret <name>', 'read database credentials from this existing Secret instead of a generated password')
  .option('--extra <file...>', `objects of your own (YAML files or folders): into ${EXTRA_FILE} and the kustomization, validated with the rest`)
  .addHelpText(
    'after',
    '\nThe database password: with --postgres-secret, your Secret is referenced and no password is rendered;\n' +
      'otherwise AIRY_POSTGRES_PASSWORD is used, or a strong password is generated into the rendered Secret.',
  )
  .action(async (flags: PlatformFlags & { out?: string; stdout?: boolean; extra?: string[] }) => {
    if (!flags.out === !flags.stdout) throw usageError('render needs exactly one of --out DIR or --stdout');
    checkPathArgs('--out', [flags.out]);
    checkPathArgs('--extra', flags.extra ?? []);
    const [{ readManifests, renderedPassword, writeRendered }, { renderPlatform }, { renderFiles, renderStream }] = await Promise.all([
      filesModule(),
      platformModule(),
      import('./render.js'),
    ]);
    const options = await withInput(() => platformOptions(flags));
    const external = options.postgres?.existingSecret;
    let passwordSource = 'your Secret';
    let password = options.postgres?.password;
    if (!external && password === undefined) {
      // A re-render keeps the password of the earlier render: a new one would rotate the Secret under a running
      // PostgreSQL, which keeps the old one.
      const earlier = flags.out ? await withInput(() => renderedPassword(flags.out as string)) : undefined;
      password = process.env.AIRY_POSTGRES_PASSWORD || earlier || randomBytes(24).toString('base64url');
      passwordSource = process.env.AIRY_POSTGRES_PASSWORD
        ? 'AIRY_POSTGRES_PASSWORD'
        : earlier
          ? `the password of the earlier render in ${flags.out} (kept)`
          : 'a newly generated password';
    }
    const rendered = await withInput(() => renderPlatform({ ...options, postgres: { ...options.postgres, password } }));
    const extra = flags.extra ? await withInput(() => readManifests(flags.extra as string[])) : undefined;
    const platform = extra ? withExtra(rendered, extra.documents.map((d) => d.object)) : rendered;
    const { ingress, profile } = platform.config;
    // Production serves real users: plain HTTP only when asked for, never because a certificate was forgotten.
    if (profile === 'production' && !ingress.tls && !ingress.plainHttp) {
      throw usageError('the production profile needs a certificate source: --tls-secret NAME, --cert-manager-issuer NAME, or --plain-http to serve HTTP only');
    }
    if (extra) {
      // Objects of the user's own go in only if they hold together with the platform: nothing is written otherwise.
      // Named by the user's files, not by extra.yaml, so a problem points at the line to fix.
      const [{ formatProblem, validateDocuments }, { escalations }] = await Promise.all([import('./validate.js'), import('./escalation.js')]);
      const report = await validateDocuments([...platformDocuments(rendered), ...extra.documents]);
      const problems = [...extra.problems, ...report.problems];
      if (problems.length > 0) {
        for (const p of problems) process.stdout.write(`${printable(formatProblem(p))}\n`);
        throw new CliError(`--extra: ${count(problems.length, 'problem')} with the platform; nothing was written`, ExitCode.failed);
      }
      // What gives more than a namespace's worth of power is rendered, but said: a person should have chosen it.
      for (const w of escalations(extra.documents)) process.stderr.write(`warning: ${printable(formatProblem(w))}\n`);
    }
    const secret = `${platform.config.namespace}/${platform.config.postgres.secret.name}`;
    if (flags.stdout) process.stdout.write(renderStream(platform));
    else {
      const written = renderFiles(platform);
      const { applySteps } = await import('./apply-steps.js');
      await withInput(() => writeRendered(flags.out as string, written));
      process.stderr.write(`wrote ${written.size} files to ${flags.out}; to apply them to a cluster of your own, in this order:\n`);
      for (const [i, step] of applySteps(platform, flags.out as string).entries()) process.stderr.write(`  ${i + 1}. ${step.command}   # ${step.why}\n`);
    }
    process.stderr.write(
      external
        ? `postgres: credentials come from your existing Secret ${secret} (keys POSTGRES_USER, POSTGRES_PASSWORD); create it before applying\n`
        : `postgres: Secret ${secret} holds ${passwordSource}; the rendered postgres Secret is sensitive, keep it out of git\n`,
    );
  });

program
  .command('validate')
  .description('check manifests against the Kubernetes and Istio schemas and across resources')
  .argument('<path...>', 'YAML files, or folders searched for *.yaml and *.yml')
  .option('--json', 'print JSON: {ok, files, documents, problems, notes}')
  .action(async (paths: string[], flags: { json?: boolean }) => {
    checkPathArgs('validate', paths);
    const [{ readManifests }, { formatProblem, validateDocuments }] = await Promise.all([filesModule(), import('./validate.js')]);
    const { documents, problems: syntax, files } = await withInput(() => readManifests(paths));
    const report = await validateDocuments(documents);
    // Stable: within one document, problems keep the order the checks found them in.
    const problems = [...syntax, ...report.problems].sort((a, b) => a.file.localeCompare(b.file) || a.index - b.index);
    if (flags.json) {
      const out = { ok: problems.length === 0, files, documents: documents.length, problems, notes: report.notes };
      process.stdout.write(`${printableJson(out, 2)}\n`);
    } else {
      // Escaped: a problem quotes the manifests' own names and values.
      for (const note of report.notes) process.stderr.write(`note: ${printable(note)}\n`);
      for (const p of problems) process.stdout.write(`${printable(formatProblem(p))}\n`);
    }
    process.stderr.write(`${count(problems.length, 'problem')} in ${count(files, 'file')} (${count(documents.length, 'document')})\n`);
    if (problems.length > 0) process.exitCode = ExitCode.failed;
  });

platformCommand('images', 'list every image the platform runs, one per line (the box pre-pulls exactly these)')
  .option('--json', 'print JSON: an array of image references')
  .action(async (flags: PlatformFlags & { json?: boolean }) => {
    const { platformImages } = await platformModule();
    const options = await withInput(() => platformOptions(flags));
    const images = await withInput(() => platformImages(options));
    process.stdout.write(flags.json ? `${JSON.stringify(images, null, 2)}\n` : `${images.join('\n')}\n`);
  });

platformCommand('resources', 'sum the CPU and memory requests and limits of the platform')
  .option('--json', 'print JSON')
  .action(async (flags: PlatformFlags & { json?: boolean }) => {
    const [{ formatTotals, platformResources }, { resolveOptions }, { nodeBudget }] = await Promise.all([
      platformModule(),
      import('./options/resolve.js'),
      import('./sizing.js'),
    ]);
    const options = await withInput(() => platformOptions(flags));
    const totals = await withInput(() => platformResources(options));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(totals, null, 2)}\n`);
      return;
    }
    const rows = [
      ['component', 'cpu requests', 'memory requests', 'cpu limits', 'memory limits'],
      ...Object.entries(totals.components).map(([name, t]) => [
        name,
        formatTotals(t.requests).cpu,
        formatTotals(t.requests).memory,
        formatTotals(t.limits).cpu,
        formatTotals(t.limits).memory,
      ]),
      [
        'total',
        formatTotals(totals.requests).cpu,
        formatTotals(totals.requests).memory,
        formatTotals(totals.limits).cpu,
        formatTotals(totals.limits).memory,
      ],
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()}\n`);
    if (resolveOptions(options).profile === 'local') {
      const b = nodeBudget(options);
      const f = (t: ResourceTotals) => formatTotals(t);
      process.stdout.write(
        `node of the ${b.vm.cpus}-CPU, ${b.vm.memoryMiB}Mi VM: ${f(b.allocatable).cpu} CPU and ${f(b.allocatable).memory} allocatable; ` +
          `requested with Istio (${f(b.requests.istio).cpu}, ${f(b.requests.istio).memory}) and Kubernetes ` +
          `(${f(b.requests.kubeSystem).cpu}, ${f(b.requests.kubeSystem).memory}): ${f(b.requests.total).cpu} CPU, ` +
          `${f(b.requests.total).memory}${b.fits ? '' : ' (does not fit)'}; with the OS's share (${f(b.reserved).cpu}, ` +
          `${f(b.reserved).memory}) the smallest VM has ${Math.ceil((b.requests.total.cpuMillicores + b.reserved.cpuMillicores) / 1000)} CPUs and ` +
          `${Math.ceil((b.requests.total.memoryBytes + b.reserved.memoryBytes) / 2 ** 20)} MiB\n`,
      );
    }
  });

await runCli(program);
