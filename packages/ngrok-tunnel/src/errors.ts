/**
 * The tunnel's failures, each with one line saying what to do and a reason of its own (whose exit code cli-kit's
 * registry holds), and the redaction that keeps the authtoken out of every message, log line and file.
 */
import { AiryError, type ReasonId, redact } from '@airy/cli-kit';

/** What went wrong, as far as the user is concerned. */
export type FailureKind = 'missing-token' | 'rejected-token' | 'no-network' | 'session-limit' | 'upstream-down' | 'other';

/** The reason of each kind of failure. */
const REASON_OF: Readonly<Record<FailureKind, ReasonId>> = {
  'missing-token': 'TUNNEL_MISSING_TOKEN',
  'rejected-token': 'TUNNEL_REJECTED_TOKEN',
  'no-network': 'TUNNEL_NO_NETWORK',
  'session-limit': 'TUNNEL_SESSION_LIMIT',
  'upstream-down': 'TUNNEL_UPSTREAM_DOWN',
  other: 'TUNNEL_FAILED',
};

/** A classified tunnel failure. `transient` ones are retried by the supervisor. */
export class TunnelError extends AiryError {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly transient: boolean,
  ) {
    super(REASON_OF[kind], message);
    this.name = 'TunnelError';
  }
}

/** Turns an ngrok SDK error (or any error) into a {@link TunnelError}, with the token cut out. */
export function classify(error: unknown, token: string | undefined): TunnelError {
  const raw = redact(error instanceof Error ? error.message : String(error), [token]);
  const code = (error as { errorCode?: string })?.errorCode ?? /ERR_NGROK_\d+/.exec(raw)?.[0];
  const line = raw.split('\n')[0] ?? raw;
  if (code === 'ERR_NGROK_105' || code === 'ERR_NGROK_107' || /authtoken.*(invalid|not valid)|authentication failed/i.test(raw)) {
    return new TunnelError('rejected-token', `ngrok rejected the authtoken (${code ?? 'authentication failed'}): copy a fresh one from the ngrok dashboard into NGROK_AUTHTOKEN`, false);
  }
  if (code === 'ERR_NGROK_108' || /simultaneous|session limit/i.test(raw)) {
    return new TunnelError('session-limit', `your ngrok account is at its session limit (${code ?? 'too many sessions'}): stop the other ngrok agent (ngrok dashboard → Agents) or upgrade the plan`, false);
  }
  if (/failed to establish tcp connection|dns|connection refused|network is unreachable|timed out|tls handshake/i.test(raw)) {
    return new TunnelError('no-network', `cannot reach ngrok (${line}): check the internet connection and any proxy or firewall`, true);
  }
  return new TunnelError('other', `ngrok: ${line}`, true);
}

/** The token is missing. */
export function missingToken(): TunnelError {
  return new TunnelError(
    'missing-token',
    'no ngrok authtoken: set NGROK_AUTHTOKEN, or put "authtoken: …" in ~/.airy/tunnel.yml (get one at dashboard.ngrok.com)',
    false,
  );
}

/** The upstream does not answer. */
export function upstreamDown(target: string, reason: string): TunnelError {
  return new TunnelError(
    'upstream-down',
    `${target} does not answer (${reason}): is Airy Core running? (airy-bootstrap status), or pass --to with the right address`,
    true,
  );
}
