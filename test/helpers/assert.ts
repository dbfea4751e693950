/** The shared assertions of every refusal: an error envelope for a client of the API, an error page for a person. */
import type { ExecutionContext } from 'ava';
import type { TestResponse } from './app.ts';

/** An answer as any of the tests' clients gives it: its status and parsed JSON body (and the text, where kept). */
export interface Answer {
  status: number | undefined;
  body?: any;
  text?: string;
}

/** The shared check of every error path: status, envelope, code, and (optionally) the message. */
export function assertError(t: ExecutionContext, res: Answer, status: number, code?: string, message?: string | RegExp): void {
  const text = res.text ?? JSON.stringify(res.body);
  t.is(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  t.is(typeof res.body?.status, 'string', 'the envelope carries a message in status');
  t.not(res.body.status, 'success');
  t.regex(res.body.error, /^[a-z][a-z0-9_]*$/);
  if (code !== undefined) t.is(res.body.error, code, text);
  if (typeof message === 'string') t.is(res.body.status, message);
  else if (message) t.regex(res.body.status, message);
}

/** The checks every refusal page passes: HTML for a person, with its message, under the strict CSP, no internals. */
export function assertPage(t: ExecutionContext, res: TestResponse, status: number, message?: RegExp): string {
  t.is(res.status, status, res.text.slice(0, 500));
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/, 'a browser gets a page, never JSON');
  t.regex(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  t.notRegex(res.text, /\bat [\w.<>]+ \(|node_modules|Error:|\{"status"/, 'no stack trace or envelope on the page');
  const shown = /<p class="error" role="alert">([^<]*)<\/p>/.exec(res.text)?.[1] ?? '';
  if (message) t.regex(shown, message);
  return shown;
}
