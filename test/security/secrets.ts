/**
 * The secrets a test used (passwords, tokens, keys, codes), recorded one per line as JSON strings under
 * test/artifacts/secrets/, so that after the whole run test/run.ts can look for each of them in every log
 * (test/security/log-scan.ts). Requests made with fetch are recorded by test/security/record-secrets.ts without
 * the test doing anything; tests that use other clients (node:http, child processes) call `recordSecrets`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const SECRETS_DIR = new URL('../artifacts/secrets/', import.meta.url).pathname;

/** Body and JSON keys whose values are credentials. */
export const SECRET_KEYS =
  /^(password|new_password|current_password|token|refresh_token|access_token|id_token|client_secret|secret|biometrics|code|code_verifier|csrf|private_key|master_key)$/i;

/** Appends secrets to `test/artifacts/secrets/<name>.txt`; empty and non-string values are ignored. */
export function recordSecrets(name: string, ...values: unknown[]): void {
  const lines = values.filter((v): v is string => typeof v === 'string' && v !== '').map((v) => `${JSON.stringify(v)}\n`);
  if (lines.length === 0) return;
  mkdirSync(SECRETS_DIR, { recursive: true });
  appendFileSync(path.join(SECRETS_DIR, `${name.replace(/[^a-z0-9_.-]+/gi, '_')}.txt`), lines.join(''));
}

/** Values under secret keys anywhere in a parsed JSON value or form. */
export function secretValues(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) secretValues(v, out, depth + 1);
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEYS.test(k)) {
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === 'string'));
    } else secretValues(v, out, depth + 1);
  }
  return out;
}

/** The credential of an Authorization header: a bearer token, or the password half of Basic. */
export function authorizationSecrets(header: string | null | undefined): string[] {
  if (!header) return [];
  const bearer = /^Bearer\s+(\S+)/i.exec(header);
  if (bearer) return [bearer[1]];
  const basic = /^Basic\s+(\S+)/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // oidc-provider clients url-encode their id and secret before Basic (RFC 6749 §2.3.1).
    const secret = colon >= 0 ? decoded.slice(colon + 1) : decoded;
    let plain = secret;
    try {
      plain = decodeURIComponent(secret.replace(/\+/g, ' '));
    } catch {
      // keep it as sent
    }
    return [...new Set([basic[1], secret, plain])];
  }
  return [];
}
