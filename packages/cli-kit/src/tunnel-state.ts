/**
 * The webhook tunnel's state file: written by `airy-tunnel start`, read by `airy-tunnel status` and by
 * airy-bootstrap, which prints the public webhook URLs while a tunnel is online. One format, here, for both.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isAlive, writeFileAtomic } from './files.js';

/** A tunnel session as its supervisor sees it. */
export interface TunnelStatus {
  readonly state: 'connecting' | 'online' | 'reconnecting' | 'stopped' | 'failed';
  readonly url?: string;
  readonly startedAt: number;
  /** When the current session came up. */
  readonly onlineSince?: number;
  readonly reconnects: number;
  readonly lastError?: string;
}

/** What the state file holds. */
export interface TunnelState extends TunnelStatus {
  readonly pid: number;
  readonly target: string;
  /** Public webhook URL per source, e.g. `facebook` → `https://….ngrok.app/facebook`. */
  readonly webhooks: Readonly<Record<string, string>>;
  /** Sources whose path the platform answered 404 on when the tunnel started: not installed there. */
  readonly uninstalled?: readonly string[];
  readonly upstream?: { readonly healthy: boolean; readonly detail: string; readonly checkedAt: string };
  /** The webhook inspector's address, `http://127.0.0.1:PORT`. */
  readonly inspector?: string;
}

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
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Reads the state file (undefined when there is none, or it is unreadable); a state whose process is gone is reported as stopped. */
export async function readTunnelState(path: string): Promise<TunnelState | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  let state: TunnelState;
  try {
    state = JSON.parse(text) as TunnelState;
  } catch {
    return undefined;
  }
  return isAlive(state.pid) || state.state === 'stopped' || state.state === 'failed' ? state : { ...state, state: 'stopped' };
}
