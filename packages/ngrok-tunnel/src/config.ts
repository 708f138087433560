/** Where the tunnel keeps its files, and where the authtoken comes from. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AiryError } from '@airy/cli-kit';


/** Config files searched for `authtoken`, in order: ours, then the ngrok agent's own. */
export function tokenFiles(home = homedir()): string[] {
  return [join(home, '.airy', 'tunnel.yml'), join(home, '.config', 'ngrok', 'ngrok.yml'), join(home, 'Library', 'Application Support', 'ngrok', 'ngrok.yml')];
}

/** The authtoken: NGROK_AUTHTOKEN, else the first config file that has one (`authtoken` or `agent.authtoken`). */
export async function findToken(env: NodeJS.ProcessEnv = process.env, files = tokenFiles()): Promise<string | undefined> {
  if (env.NGROK_AUTHTOKEN?.trim()) return env.NGROK_AUTHTOKEN.trim();
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (!text) continue;
    try {
      const config = parse(text) as { authtoken?: string; agent?: { authtoken?: string } } | null;
      const token = config?.agent?.authtoken ?? config?.authtoken;
      if (typeof token === 'string' && token.trim()) return token.trim();
    } catch {
      // not YAML: not a config we can read
    }
  }
  return undefined;
}

/** The keys `--secrets-file` may hold. */
export const SECRET_KEYS = ['FACEBOOK_APP_SECRET', 'TWILIO_AUTH_TOKEN', 'TO_PASSWORD'] as const;

/** The environment variable that holds the password of `--to`'s user (Basic auth to the upstream). */
export const TO_PASSWORD_ENV = 'AIRY_TUNNEL_TO_PASSWORD';

/**
 * `--to` with the password given apart (environment or secrets file) put in, for Basic auth; `--to` as it is
 * without one. A password for a URL that names no user is TUNNEL_SECRETS_INVALID, naming neither. Pure.
 */
export function upstreamWithPassword(to: string, password: string | undefined): string {
  if (!password) return to;
  const url = new URL(to);
  if (!url.username) throw new AiryError('TUNNEL_SECRETS_INVALID', `${TO_PASSWORD_ENV} (or TO_PASSWORD) is set, but --to names no user: give --to http://USER@host`);
  url.password = password;
  return url.href;
}

/**
 * Parses a secrets file: `KEY=value` lines (blank lines and `#` comments allowed, a value may be quoted). Any other
 * key, or a line that is not `KEY=value`, is refused with its line number, never its content. Pure.
 */
export function parseSecrets(text: string): Partial<Record<(typeof SECRET_KEYS)[number], string>> {
  const out: Partial<Record<(typeof SECRET_KEYS)[number], string>> = {};
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const match = /^([A-Z_]+)=(.*)$/.exec(trimmed);
    const key = match?.[1] as (typeof SECRET_KEYS)[number] | undefined;
    if (!match || !key || !SECRET_KEYS.includes(key)) throw new Error(`line ${i + 1} is not ${SECRET_KEYS.map((k) => `${k}=…`).join(' or ')}`);
    out[key] = (match[2] ?? '').replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** Reads `--secrets-file`; TUNNEL_SECRETS_INVALID in one line when it cannot, naming the file but no secret. */
export async function readSecretsFile(file: string): Promise<ReturnType<typeof parseSecrets>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new AiryError('TUNNEL_SECRETS_INVALID', `--secrets-file ${file}: cannot read it (${error.code ?? error.message})`);
  });
  try {
    return parseSecrets(text);
  } catch (error) {
    throw new AiryError('TUNNEL_SECRETS_INVALID', `--secrets-file ${file}: ${(error as Error).message}`);
  }
}
