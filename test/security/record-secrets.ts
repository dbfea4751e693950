/**
 * Loaded into every test process by test/run.ts (`node --import`): wraps the global fetch so that every credential a
 * test sends (bodies, Authorization) or receives (tokens in JSON answers) is recorded for the log scan. The request
 * and the response pass through untouched; nothing is changed or answered here.
 */
import { authorizationSecrets, recordSecrets, secretValues } from './secrets.ts';

const name = `fetch-${process.pid}`;
const original = globalThis.fetch;

function fromBody(body: unknown): string[] {
  if (typeof body === 'string') {
    try {
      return secretValues(JSON.parse(body));
    } catch {
      return secretValues(Object.fromEntries(new URLSearchParams(body)));
    }
  }
  if (body instanceof URLSearchParams) return secretValues(Object.fromEntries(body));
  if (body instanceof FormData) {
    const fields: Record<string, string> = {};
    for (const [k, v] of body.entries()) if (typeof v === 'string') fields[k] = v;
    return secretValues(fields);
  }
  return [];
}

globalThis.fetch = async function recordingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  try {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    recordSecrets(name, ...fromBody(init?.body), ...authorizationSecrets(headers.get('authorization')));
  } catch {
    // recording must never change what the test does
  }
  const res = await original(input, init);
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    res
      .clone()
      .text()
      .then((text) => recordSecrets(name, ...secretValues(JSON.parse(text))))
      .catch(() => undefined);
  }
  return res;
} as typeof fetch;
