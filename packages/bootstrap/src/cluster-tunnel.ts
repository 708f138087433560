/**
 * The in-cluster tunnel: the box carries the ngrok agent but starts it only with the user's authtoken. Bootstrap
 * hands the token over on ssh's stdin (never on a command line, never in the instance folder for longer than the
 * copy), into a root-only file in the VM, and has the box apply only the tunnel (`provisioning.sh tunnel`: the
 * Secret from the file, and the agent's manifest), not all of provisioning again.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiryError } from '@airy/cli-kit';
import { BOX_FACTS } from './box-facts.js';

/** ngrok authtokens are letters, digits and `_`/`-`; anything else is refused before it reaches a shell. */
const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

/** The token from the environment, checked; its value is never part of a message. */
export function tunnelToken(env: NodeJS.ProcessEnv = process.env): string {
  const token = env.NGROK_AUTHTOKEN?.trim();
  if (!token) throw new AiryError('CLUSTER_TUNNEL_TOKEN_MISSING', 'the in-cluster tunnel needs your ngrok authtoken: set NGROK_AUTHTOKEN (dashboard.ngrok.com → Your Authtoken)');
  if (!TOKEN.test(token)) throw new AiryError('CLUSTER_TUNNEL_TOKEN_INVALID', 'NGROK_AUTHTOKEN does not look like an ngrok authtoken (letters, digits, _ and -): copy it again');
  return token;
}

/** The box's provisioning script (images/scripts/manifests.sh installs it there). */
export const PROVISIONING = '/usr/local/bin/provisioning.sh';

/**
 * The command run in the VM: the token from stdin into the root-only file, then the tunnel applied, if the box's
 * provisioning has finished (`airy-core.service` active). While it still runs, or after it failed (it restarts),
 * its own last step applies the tunnel from the file. Pure.
 */
export function handOverCommand(tokenFile: string = BOX_FACTS.ngrok.tokenFile, provisioning: string = PROVISIONING): string {
  for (const path of [tokenFile, provisioning]) if (!/^\/[A-Za-z0-9._/-]+$/.test(path)) throw new Error(`unsafe path ${path}`);
  const dir = tokenFile.slice(0, tokenFile.lastIndexOf('/')) || '/';
  return [
    `sudo install -d -m 0700 ${dir}`,
    `sudo sh -c 'umask 077 && cat > ${tokenFile}.part && mv ${tokenFile}.part ${tokenFile}'`,
    `{ ! systemctl is-active --quiet airy-core.service || sudo ${provisioning} tunnel; }`,
  ].join(' && ');
}

/** How the token reaches the VM: `vagrant ssh -c COMMAND` with stdin from a file (`sshStream`). */
export type Streamer = (dir: string, command: string, files: { input: string }) => Promise<{ ok: boolean; reason: string }>;

/**
 * Hands `token` to the instance in `dir`: a 0600 file beside the instance for the copy, removed whatever happens.
 * Throws {@link AiryError} (CLUSTER_TUNNEL_HANDOVER_FAILED) with ssh's reason, which never holds the token.
 */
export async function handOverToken(dir: string, token: string, stream: Streamer): Promise<void> {
  const file = join(dir, `.ngrok-token-${randomBytes(6).toString('hex')}`);
  await writeFile(file, token, { mode: 0o600, flag: 'wx' });
  try {
    const out = await stream(dir, handOverCommand(), { input: file });
    if (!out.ok) throw new AiryError('CLUSTER_TUNNEL_HANDOVER_FAILED', `could not hand the ngrok authtoken to the VM: ${out.reason.replaceAll(token, '***')}`);
  } finally {
    await rm(file, { force: true });
  }
}
