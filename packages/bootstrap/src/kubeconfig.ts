/**
 * The VM cluster's kubeconfig on the host, as the original box gave it: read inside the VM (`kubectl config view
 * --flatten --minify`, certificates inlined), its server pointed at the API port the Vagrantfile forwards to the
 * host's 127.0.0.1, and written into the instance folder (0600: it holds a client key).
 */
import { CliError, ExitCode, writeFileAtomic } from '@airy/cli-kit';
import { BOX_FACTS } from './box-facts.js';
import { instanceFiles } from './paths.js';

/** Where kubectl on the host reaches the VM's apiserver. */
export const HOST_API_SERVER = `https://127.0.0.1:${BOX_FACTS.ports.apiServer.host}`;

/** What the VM answered is not a kubeconfig this can use. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/**
 * The VM's kubeconfig with its one cluster's server replaced by {@link HOST_API_SERVER}. The VM's answer is
 * checked, not believed: one cluster, one `server:` line of https, a user with inlined credentials. Pure.
 */
export function hostKubeconfig(text: string, server: string = HOST_API_SERVER): string {
  if (!/^apiVersion: v1$/m.test(text) || !/^kind: Config$/m.test(text)) throw new KubeconfigError('the VM did not answer with a kubeconfig');
  const servers = [...text.matchAll(/^(\s+server: )(\S+)$/gm)];
  if (servers.length !== 1) throw new KubeconfigError(`the VM's kubeconfig names ${servers.length} servers, not one`);
  if (!servers[0]?.[2]?.startsWith('https://')) throw new KubeconfigError('the VM’s kubeconfig server is not https');
  if (!/^\s+client-key-data: \S+$/m.test(text) || !/^\s+certificate-authority-data: \S+$/m.test(text)) {
    throw new KubeconfigError('the VM’s kubeconfig does not inline its certificates');
  }
  return text.replace(/^(\s+server: )\S+$/m, `$1${server}`);
}

/** How a command runs in the VM (`sshExec`). */
export type VmExec = (dir: string, command: string) => Promise<{ ok: boolean; stdout: string; stderr: string }>;

/** Writes the host kubeconfig of the instance in `dir` and returns its path. Throws {@link CliError} (exit 1). */
export async function writeKubeconfig(dir: string, exec: VmExec): Promise<string> {
  const out = await exec(dir, 'kubectl config view --flatten --minify');
  if (!out.ok) {
    // ssh's own goodbye is not a reason.
    const reason = out.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Connection to .* closed\.$/.test(l)).at(-1) ?? 'kubectl failed';
    throw new CliError(`could not read the cluster's kubeconfig in the VM (${reason}): is the platform running? (airy-bootstrap status)`, ExitCode.failed);
  }
  let text: string;
  try {
    text = hostKubeconfig(out.stdout);
  } catch (error) {
    if (error instanceof KubeconfigError) throw new CliError(`${error.message}: the box's Kubernetes is not running (airy-bootstrap status)`, ExitCode.failed);
    throw error;
  }
  const file = instanceFiles(dir).kubeconfig;
  await writeFileAtomic(file, text, { mode: 0o600 });
  return file;
}
