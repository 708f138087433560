/**
 * Webhook signatures, checked the way the providers sign them. Pure. Facebook signs the raw body with the app
 * secret (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`); Twilio signs the full URL it called followed by every
 * POST parameter, sorted by name, name and value concatenated (`X-Twilio-Signature: <base64 HMAC-SHA1>`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the check found: valid, or why not. */
export interface SignatureCheck {
  readonly valid: boolean;
  readonly reason: string;
}

/** The secrets the tunnel was given; an absent one means that provider's deliveries are not checked. */
export interface SignatureSecrets {
  readonly facebookAppSecret?: string;
  readonly twilioAuthToken?: string;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Facebook's `X-Hub-Signature-256` over the raw body. */
export function checkFacebook(appSecret: string, rawBody: Buffer, header: string | undefined): SignatureCheck {
  if (!header) return { valid: false, reason: 'no X-Hub-Signature-256 header' };
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return { valid: false, reason: 'X-Hub-Signature-256 is not sha256=<64 hex digits>' };
  const expected = createHmac('sha256', appSecret).update(rawBody).digest('hex');
  return same(expected, (m[1] as string).toLowerCase())
    ? { valid: true, reason: 'HMAC-SHA256 of the body with the app secret matches' }
    : { valid: false, reason: 'HMAC-SHA256 of the body does not match: another app secret, or the body was changed' };
}

/** Twilio's `X-Twilio-Signature` over the public URL and the form parameters. */
export function checkTwilio(authToken: string, url: string, form: URLSearchParams | undefined, header: string | undefined): SignatureCheck {
  if (!header) return { valid: false, reason: 'no X-Twilio-Signature header' };
  const params = form ? [...form.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  const data = url + params.map(([k, v]) => k + v).join('');
  const expected = createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
  return same(expected, header.trim())
    ? { valid: true, reason: 'HMAC-SHA1 of the URL and parameters with the auth token matches' }
    : { valid: false, reason: `HMAC-SHA1 does not match: another auth token, or Twilio called another URL than ${url}` };
}

/**
 * Checks a delivery for its source, if the tunnel has that source's secret: `undefined` when there is nothing to
 * check. `publicUrl` is the URL the provider called (Twilio signs it).
 */
export function checkSignature(
  source: string | undefined,
  secrets: SignatureSecrets,
  delivery: { readonly rawBody: Buffer; readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly publicUrl: string; readonly contentType?: string },
): SignatureCheck | undefined {
  const header = (name: string) => {
    const v = delivery.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (source === 'facebook' && secrets.facebookAppSecret) return checkFacebook(secrets.facebookAppSecret, delivery.rawBody, header('x-hub-signature-256'));
  if (source === 'twilio' && secrets.twilioAuthToken) {
    const form = /application\/x-www-form-urlencoded/i.test(delivery.contentType ?? '') ? new URLSearchParams(delivery.rawBody.toString('utf8')) : undefined;
    return checkTwilio(secrets.twilioAuthToken, delivery.publicUrl, form, header('x-twilio-signature'));
  }
  return undefined;
}
