/**
 * The webhook tunnel's state file: written by `airy-tunnel start`, read by `airy-tunnel status` and by
 * airy-bootstrap, which prints the public webhook URLs while a tunnel is online. One format, here, for both.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import { isAlive, writeFileAtomic } from './files.js';
import { field, parseStateFile, StateFileError } from './state-file.js';

const STATES = ['connecting', 'online', 'reconnecting', 'stopped', 'failed'] as const;
const URL_MAX = 2048;
/** The last error is cut to this when written, so that what is written can be read. */
const LAST_ERROR_MAX = 4096;
/** A time in milliseconds since the epoch. */
const time = field.whole(0);

/** A tunnel session as its supervisor sees it. */
export const TUNNEL_STATUS = {
  state: field.oneOf(STATES),
  url: v.optional(field.text(URL_MAX)),
  startedAt: time,
  /** When the current session came up. */
  onlineSince: v.optional(time),
  reconnects: field.whole(0),
  lastError: v.optional(field.text(LAST_ERROR_MAX, 0)),
};

/** The state file's schema: its type below is this schema's, so the two cannot disagree. */
export const TUNNEL_STATE = field.object({
  ...TUNNEL_STATUS,
  pid: field.whole(1, 2 ** 32),
  target: field.text(URL_MAX),
  /** Public webhook URL per source, e.g. `facebook` → `https://….ngrok.app/facebook`. */
  webhooks: field.record(field.text(URL_MAX), 64),
  /** Sources whose path the platform answered 404 on when the tunnel started: not installed there. */
  uninstalled: v.optional(field.list(field.text(64), 64)),
  upstream: v.optional(field.object({ healthy: field.flag, detail: field.text(1024, 0), checkedAt: field.text(64) })),
  /** The webhook inspector's address, `http://127.0.0.1:PORT`. */
  inspector: v.optional(field.text(URL_MAX)),
});

export type TunnelStatus = Readonly<v.InferOutput<ReturnType<typeof field.object<typeof TUNNEL_STATUS>>>>;
/** What the state file holds. */
export type TunnelState = Readonly<v.InferOutput<typeof TUNNEL_STATE>>;

const STATE_FILE = {
  schema: TUNNEL_STATE,
  maxBytes: 256 * 1024,
  fix: 'remove the file, or start the tunnel again (airy-tunnel start)',
};

/** The tunnel's folder, `~/.airy/tunnel` (`airy-tunnel --state-dir` changes it). */
export function defaultTunnelDir(): string {
  return join(homedir(), '.airy', 'tunnel');
}

/** Files in the tunnel's folder: the state file and the request log. */
export function tunnelFiles(dir: string) {
  return { state: join(dir, 'state.json'), log: join(dir, 'requests.jsonl') };
}

/** Writes the state file atomically, 0600 from the start (the upstream URL may carry credentials). */
export async function writeTunnelState(path: string, state: TunnelState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const bounded = state.lastError && state.lastError.length > LAST_ERROR_MAX ? { ...state, lastError: `${state.lastError.slice(0, LAST_ERROR_MAX - 3)}...` } : state;
  await writeFileAtomic(path, `${JSON.stringify(bounded, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Reads the state file: undefined when there is none; a damaged one throws {@link StateFileError} naming the key.
 * A state whose process is gone is reported as stopped.
 */
export async function readTunnelState(path: string): Promise<TunnelState | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new StateFileError(path, undefined, `cannot be read (${error.code ?? error.message})`, STATE_FILE.fix);
  });
  if (text === undefined) return undefined;
  const state = parseStateFile(text, path, STATE_FILE);
  return isAlive(state.pid) || state.state === 'stopped' || state.state === 'failed' ? state : { ...state, state: 'stopped' };
}
