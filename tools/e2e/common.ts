/**
 * What the offline (run.ts) and the online (online.ts) end to ends both do, once: run a command into a step's log,
 * read the README's quick start, build the box through it, publish a box, ask `airy-bootstrap status`, destroy.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const bootstrapCli = join(repo, 'packages/bootstrap/lib/cli.js');
export const boxCli = join(repo, 'packages/box-builder/lib/cli.js');

/** Shell words, single-quoted (paths and flags of the e2e's own). */
export const words = (args: readonly string[]) => args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');

/**
 * Runs a command with its output appended to `log`, each line stamped with the seconds since it started
 * (`[  12.3] …`), so that a slow step shows where its time went. Rejects naming the command when it fails.
 */
export const runLogged = (log: string, command: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<void>((resolve, reject) => {
    const out = createWriteStream(log, { flags: 'a' });
    const started = Date.now();
    const child = spawn(command[0] as string, command.slice(1), { env: { ...process.env, ...env }, cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}] `;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (rest + text).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) out.write(`${stamp()}${line}\n`);
      });
      stream.on('end', () => rest && out.write(`${stamp()}${rest}\n`));
    }
    child.on('error', reject);
    child.on('close', (code) => out.end(() => (code === 0 ? resolve() : reject(new Error(`${command.slice(0, 3).join(' ')} failed`)))));
  });

/**
 * The README's quick start as the e2e runs it: its four `npx` commands (build, keys, publish to a folder signed,
 * bootstrap verifying), found by what they start with, so the README cannot drift from what works.
 */
export function quickStart(): { build: string; keys: string; publish: string; bootstrap: string } {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /<!-- quick-start -->\n```sh\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no quick start after <!-- quick-start -->');
  const line = (start: string) => {
    const found = block.split('\n').find((l) => l.startsWith(start));
    if (!found) throw new Error(`the README's quick start has no line starting with ${start}`);
    return found;
  };
  return { build: line('npx nx run box-builder:build'), keys: line('npx airy-box keys init '), publish: line('npx airy-box publish '), bootstrap: line('npx airy-bootstrap ') };
}

/**
 * The box built through the README's command (`nx run box-builder:build`, the design card's entry point) with
 * `args` after `--`, not cached (NX_SKIP_NX_CACHE: the box is no output to keep in Nx's cache).
 */
export const buildBox = (log: string, args: readonly string[]) =>
  runLogged(log, ['bash', '-c', `${quickStart().build} --outputStyle=static -- ${words(args)}`], { NX_SKIP_NX_CACHE: 'true' });

/** `airy-box publish` of the box in `from` to `to` (an s3:// or file:// catalog). */
export const publishBox = (log: string, from: string, to: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runLogged(log, ['node', boxCli, 'publish', '--from', from, '--to', to, ...extra], env);

/** What `airy-bootstrap status --json` says of an instance. */
export interface InstanceStatus {
  vm: string;
  version: string;
  components: { name: string; ready: boolean; detail: string }[];
}

/** Fails unless a step's log shows the catalog read through TUF (bootstrap's "catalog verified (TUF)" line). */
export function expectVerified(log: string): void {
  if (!readFileSync(log, 'utf8').includes('catalog verified (TUF)')) throw new Error('the catalog was not verified (no "catalog verified (TUF)" line)');
}

/** `airy-bootstrap status --json` of the instance in `instance`; its stderr goes to `log`. */
export async function bootstrapStatus(instance: string, log: string, env: NodeJS.ProcessEnv = {}): Promise<InstanceStatus> {
  const out = await $({ cwd: instance, env: { ...process.env, ...env }, nothrow: true })`node ${bootstrapCli} status --json --dir ${instance} 2>>${log}`;
  if (out.exitCode !== 0) throw new Error(`airy-bootstrap status failed (exit ${out.exitCode})`);
  return JSON.parse(out.stdout) as InstanceStatus;
}

/** `airy-bootstrap destroy --prune` of the instance: the VM, its volumes and the box go. */
export const destroyInstance = (instance: string, log: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runLogged(log, ['node', bootstrapCli, 'destroy', '--prune', '--dir', instance, ...extra], env);
