/**
 * The one exit-code registry of every Airy CLI. The READMEs' exit-code tables and `bootstrap.sh` are checked
 * against it by tests, so a code means the same everywhere.
 */

/** Exit codes, the same in every Airy CLI. */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** The operation failed, or validation found problems. */
  failed: 1,
  /** Bad usage or bad input. */
  usage: 2,
  /** A preflight check failed. */
  preflight: 3,
  /** airy-tunnel: no ngrok authtoken. */
  tunnelMissingToken: 10,
  /** airy-tunnel: ngrok rejected the authtoken. */
  tunnelRejectedToken: 11,
  /** airy-tunnel: ngrok cannot be reached. */
  tunnelNoNetwork: 12,
  /** airy-tunnel: the ngrok account is at its session limit. */
  tunnelSessionLimit: 13,
  /** airy-tunnel: the upstream (the platform's ingress) does not answer. */
  tunnelUpstreamDown: 14,
  /** Interrupted (SIGINT, Ctrl-C). */
  interrupted: 130,
  /** Terminated (SIGTERM), ended like an interrupt: locks released, partial work kept for a resume. */
  terminated: 143,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each code means, in the words of the READMEs; `cli` limits a code to one CLI. */
export const EXIT_CODE_MEANINGS: readonly { readonly code: ExitCodeValue; readonly meaning: string; readonly cli?: string }[] = [
  { code: ExitCode.ok, meaning: 'success' },
  { code: ExitCode.failed, meaning: 'the operation failed, or validation found problems' },
  { code: ExitCode.usage, meaning: 'bad usage or bad input' },
  { code: ExitCode.preflight, meaning: 'a preflight check failed' },
  { code: ExitCode.tunnelMissingToken, meaning: 'no ngrok authtoken', cli: 'airy-tunnel' },
  { code: ExitCode.tunnelRejectedToken, meaning: 'ngrok rejected the authtoken', cli: 'airy-tunnel' },
  { code: ExitCode.tunnelNoNetwork, meaning: 'ngrok cannot be reached', cli: 'airy-tunnel' },
  { code: ExitCode.tunnelSessionLimit, meaning: 'the ngrok account is at its session limit', cli: 'airy-tunnel' },
  { code: ExitCode.tunnelUpstreamDown, meaning: 'the upstream (the platform) does not answer', cli: 'airy-tunnel' },
  { code: ExitCode.interrupted, meaning: 'interrupted (Ctrl-C)' },
  { code: ExitCode.terminated, meaning: 'terminated (SIGTERM): ended like Ctrl-C, locks released, partial work kept' },
];

/** The Markdown table of the codes `cli` uses (all shared ones, plus its own), as every README shows it. */
export function exitCodeTable(cli?: string): string {
  const rows = EXIT_CODE_MEANINGS.filter((e) => e.cli === undefined || e.cli === cli);
  return ['| code | meaning |', '|---|---|', ...rows.map((e) => `| ${e.code} | ${e.meaning} |`)].join('\n');
}
