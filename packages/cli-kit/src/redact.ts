/** Keeping secrets out of every message: environment secrets, extra values, and passwords in URLs. */

/** Environment variables that hold secrets; their values are cut out of every error we print. */
export const SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'NGROK_AUTHTOKEN', 'AIRY_POSTGRES_PASSWORD', 'FACEBOOK_APP_SECRET', 'TWILIO_AUTH_TOKEN'];

/**
 * `text` with every secret value (from {@link SECRET_ENV} and `extra`) replaced by `***`, and the password of every
 * URL with credentials (`scheme://user:password@host`) too.
 */
export function redact(text: string, extra: readonly (string | undefined)[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:***@');
  for (const secret of [...SECRET_ENV.map((k) => process.env[k]), ...extra]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/**
 * A URL as it may be shown or stored: without its user name and password (which may be sent, never written down).
 * Text that is not a URL comes back as it is.
 */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}
