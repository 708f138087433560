#!/usr/bin/env node
import { watch } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, createProgram, ExitCode, onStopSignal, packageVersion, printable, runCli, usageError } from '@airy/cli-kit';
import { webhookLines } from './sources.js';
import { defaultTunnelDir, readTunnelState, tunnelFiles, withoutCredentials } from '@airy/cli-kit';
import { Option } from 'commander';
import { findToken, readSecretsFile, TO_PASSWORD_ENV, upstreamWithPassword } from './config.js';
import { formatEntry, RequestLog } from './request-log.js';

const program = createProgram({
  name: 'airy-tunnel',
  description: 'Bring webhooks to a local Airy Core through a supervised ngrok tunnel with known, printed URLs.',
  version: packageVersion(import.meta.url),
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const dirOf = (flags: { stateDir?: string }) => resolve(flags.stateDir ?? defaultTunnelDir());
const port = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`${name} ${value}: a port from 1 to 65535 (0: any free one)`);
  return n;
};

program
  .command('start')
  .description('open the tunnel and keep it open until Ctrl-C')
  .option('--to <url>', `where webhooks go: the platform ingress (http://USER@host for Basic auth, the password in ${TO_PASSWORD_ENV})`, 'http://airy.core')
  .option('--domain <name>', 'a static ngrok domain, so the URLs survive restarts')
  .option('--region <region>', 'ngrok region (e.g. eu, us, ap)')
  .option('--kube-context <name>', 'also write the public-urls ConfigMap with this kubectl context')
  .option('--namespace <name>', 'namespace of the public-urls ConfigMap (implies writing it)')
  .option('--log-bodies', 'record request bodies too (first 64 KiB), and show them in the inspector')
  .option('--state-dir <folder>', 'state file and request log (default: ~/.airy/tunnel)')
  .option('--no-ngrok', 'run the proxy and the inspector without ngrok (another tunnel, or none)')
  .option('--public-url <url>', 'with --no-ngrok: the public URL your other tunnel gives (cloudflared, Tailscale Funnel, …)')
  .option('--proxy-port <port>', 'a fixed port for the local proxy (default: any free one)', port('--proxy-port'))
  .option('--inspector-port <port>', 'a fixed port for the inspector (default: 4040 when free, else any)', port('--inspector-port'))
  .option(
    '--secrets-file <file>',
    'FACEBOOK_APP_SECRET=… and TWILIO_AUTH_TOKEN=… lines to check signatures with (or set them in the environment); never shown or stored',
  )
  .option('--forward-all', 'forward every path to the platform, not only the webhook paths (the UI and the API become public)')
  // Secrets on a command line are in /proc/PID/cmdline for every local user: these two are refused with the way
  // that keeps them private.
  .addOption(new Option('--facebook-app-secret <secret>').hideHelp())
  .addOption(new Option('--twilio-auth-token <token>').hideHelp())
  .action(async (flags) => {
    for (const [flag, value, env] of [
      ['--facebook-app-secret', flags.facebookAppSecret, 'FACEBOOK_APP_SECRET'],
      ['--twilio-auth-token', flags.twilioAuthToken, 'TWILIO_AUTH_TOKEN'],
    ] as const) {
      if (value !== undefined) {
        throw usageError(`${flag} would show the secret to every user of this machine (the process list): set ${env} in the environment, or put it in a file for --secrets-file`);
      }
    }
    for (const [name, value] of [['--to', flags.to], ['--public-url', flags.publicUrl]] as const) {
      if (value === undefined) continue;
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || !/^https?:$/.test(url.protocol)) throw usageError(`${name} ${withoutCredentials(value)}: not an http(s) URL (e.g. http://airy.core)`);
      if (name === '--to' && url.password) {
        throw usageError(
          `--to ${withoutCredentials(value)}: a password on the command line is seen by every user of this machine (the process list): ` +
            `give --to http://USER@host and the password in ${TO_PASSWORD_ENV}, or as TO_PASSWORD=… in a file for --secrets-file`,
        );
      }
    }
    if (flags.publicUrl && flags.ngrok !== false) throw usageError('--public-url goes with --no-ngrok (with ngrok, ngrok gives the public URL)');
    // ngrok's native module is loaded only when ngrok is used.
    const [{ start }, { systemClock }] = await Promise.all([import('./start.js'), import('./supervisor.js')]);
    const driver = flags.ngrok === false ? undefined : (await import('./ngrok-driver.js')).ngrokDriver;
    const controller = new AbortController();
    let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
    onStopSignal((signal) => {
      stoppedBy = signal;
      log(`airy-tunnel: ${signal}, closing the tunnel`);
      controller.abort();
    });
    const noNgrok = flags.ngrok === false;
    const token = noNgrok ? undefined : await findToken();
    const fromFile = flags.secretsFile ? await readSecretsFile(flags.secretsFile) : {};
    // The upstream's password joins the URL here, in memory only: never on a command line.
    const target = upstreamWithPassword(flags.to, process.env[TO_PASSWORD_ENV] ?? fromFile.TO_PASSWORD);
    const kube = flags.kubeContext || flags.namespace ? { context: flags.kubeContext, namespace: flags.namespace ?? 'airy' } : undefined;
    // A TunnelError is an AiryError: runCli prints it with its reason and exit code.
    await start({
      target,
      noNgrok,
      publicUrl: flags.publicUrl,
      proxyPort: flags.proxyPort,
      inspectorPort: flags.inspectorPort,
      secrets: {
        facebookAppSecret: process.env.FACEBOOK_APP_SECRET ?? fromFile.FACEBOOK_APP_SECRET,
        twilioAuthToken: process.env.TWILIO_AUTH_TOKEN ?? fromFile.TWILIO_AUTH_TOKEN,
      },
      forwardAll: Boolean(flags.forwardAll),
      domain: flags.domain,
      region: flags.region,
      token,
      files: tunnelFiles(dirOf(flags)),
      kube,
      logBodies: Boolean(flags.logBodies),
      driver,
      clock: systemClock,
      signal: controller.signal,
      print: (line) => process.stdout.write(`${line}\n`),
      log,
    });
    log('airy-tunnel: stopped');
    // Stopped cleanly, by a signal: the documented codes, as every Airy CLI (130 for Ctrl-C, 143 for SIGTERM).
    if (stoppedBy) process.exitCode = stoppedBy === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
  });

program
  .command('status')
  .description('session state, URL, uptime, reconnects and the last error')
  .option('--json', 'print JSON')
  .option('--state-dir <folder>', 'state folder (default: ~/.airy/tunnel)')
  .action(async (flags) => {
    // A damaged state file is a StateFileError: its line names the file, the key and how to recover (exit 2).
    const state = await readTunnelState(tunnelFiles(dirOf(flags)).state);
    if (!state) throw new CliError('no tunnel has run here: start one with airy-tunnel start', ExitCode.failed);
    const uptime = state.onlineSince && state.state === 'online' ? Math.round((Date.now() - state.onlineSince) / 1000) : 0;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...state, uptimeSeconds: uptime }, null, 2)}\n`);
      return;
    }
    // A tunnel that is not running has no URL that answers and no upstream it checks: the last ones are history.
    if (state.state === 'stopped' || state.state === 'failed') {
      process.stdout.write(`state: ${state.state}: no tunnel is running (start one with airy-tunnel start)\n`);
      if (state.url) process.stdout.write(`last URL: ${state.url} (not answering while stopped)\n`);
      if (state.lastError) process.stdout.write(`last error: ${state.lastError}\n`);
      return;
    }
    process.stdout.write(`state: ${state.state}${state.url ? `  ${state.url}` : ''}\n`);
    process.stdout.write(`uptime: ${uptime}s, reconnects: ${state.reconnects}\n`);
    if (state.upstream) process.stdout.write(`upstream ${state.target}: ${state.upstream.healthy ? 'healthy' : 'not answering'} (${state.upstream.detail})\n`);
    const installed = Object.fromEntries((state.uninstalled ?? []).map((s) => [s, false]));
    for (const line of webhookLines(state.webhooks, installed)) process.stdout.write(`${line}\n`);
    if (state.lastError) process.stdout.write(`last error: ${state.lastError}\n`);
  });

program
  .command('log')
  .description('the forwarded webhooks: method, status, latency, path')
  .option('--follow', 'keep printing new requests')
  .option('-n, --lines <n>', 'how many of the last requests', '20')
  .option('--state-dir <folder>', 'state folder (default: ~/.airy/tunnel)')
  .action(async (flags) => {
    const n = Number(flags.lines);
    if (!Number.isInteger(n) || n < 0) throw usageError(`--lines ${flags.lines}: a whole number`);
    const requests = new RequestLog(tunnelFiles(dirOf(flags)).log);
    let shown = 0;
    let said = 0;
    const print = async (tail?: number) => {
      const { entries, skipped } = await requests.readChecked();
      // Lines that are not requests (a write cut short, an edit) are left out, and said once each on stderr.
      for (const s of skipped.slice(said)) process.stderr.write(`${printable(`${requests.path}: line ${s.line}: ${s.problem}: not a request, left out`)}\n`);
      said = skipped.length;
      const fresh = tail === undefined ? entries.slice(Math.min(shown, entries.length)) : entries.slice(-tail);
      for (const e of fresh) process.stdout.write(`${formatEntry(e)}\n`);
      shown = entries.length;
    };
    await print(n);
    if (!flags.follow) return;
    const watcher = watch(requests.path, () => void print());
    await new Promise<void>((resolveStop) => process.once('SIGINT', () => resolveStop()));
    watcher.close();
  });

await runCli(program);
