/**
 * The end to ends' last word on the platform: `POST /client.config` through the Istio ingress to the release's API,
 * as a user's first request. Shared by online.ts (through the VM's forwarded port) and rehearse.ts (through a
 * port-forward to the gateway).
 */
import { appendFileSync } from 'node:fs';
import { boxFacts } from '@airy/manifests';

/** An HTTP request from the host; resolves to the status and the `server` header. */
export async function request(url: string, init: RequestInit & { host?: string } = {}): Promise<{ status: number; server: string }> {
  const headers = new Headers(init.headers);
  if (init.host) headers.set('Host', init.host);
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(20_000) });
  await res.arrayBuffer();
  return { status: res.status, server: res.headers.get('server') ?? '' };
}

/**
 * api-admin's /client.config at `base` (the ingress, e.g. http://127.0.0.1:8080), with the box's host name, retried
 * until `deadlineMs` passes: readiness saw it answer, so a single 503 is a hiccup, not the verdict. Each answer is
 * appended to `log`; throws naming the last answer when it never was the release's 200.
 */
export async function expectApi(base: string, log: string, deadlineMs = 120_000): Promise<void> {
  const facts = boxFacts();
  const deadline = Date.now() + deadlineMs;
  let res = { status: 0, server: '' };
  while (Date.now() < deadline) {
    res = await request(new URL(facts.apps.api.path, base).href, {
      method: facts.apps.api.method, body: facts.apps.api.body, host: facts.host, headers: { 'content-type': 'application/json' },
    }).catch(() => ({ status: 0, server: '' }));
    appendFileSync(log, `${JSON.stringify(res)}\n`);
    if (res.status === facts.apps.api.status) return;
    await new Promise((r) => setTimeout(r, 5000));
  }
  throw new Error(`POST ${facts.apps.api.path} answered ${res.status} (server ${res.server}) until the deadline`);
}
