/**
 * A raw HTTP client for hostile requests (any bytes in the path, a body on GET, broken content types), which
 * fetch refuses to send, and the checks every answer to such a request must pass.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Operation, OpenApi } from '../../src/http/openapi.ts';

export interface RawRequest {
  method: string;
  /** Already percent-encoded where needed; sent exactly as given. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  type: string;
  text: string;
  json: unknown;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Sends one request to `base` and reads the whole answer. */
export function send(base: string, req: RawRequest, options: { insecureTls?: boolean } = {}): Promise<RawResponse> {
  const url = new URL(base);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string | number> = { ...req.headers };
  if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = body.length;
  const secure = url.protocol === 'https:';
  const lib = secure ? https : http;
  return new Promise((resolve, reject) => {
    const r = lib.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        ...(secure ? { rejectUnauthorized: !options.insecureTls } : { agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const type = String(res.headers['content-type'] ?? '');
          let json: unknown;
          if (type.startsWith('application/json') && text) {
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, type, text, json });
        });
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** Percent-encodes every byte of a value for a path segment or query value (lone surrogates become U+FFFD). */
export function encodeBytes(value: string | Buffer): string {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Signs of internals in an answer: stack frames, source paths, driver and library errors. */
const INTERNALS = [
  /\bat [^\s]+ \([^)]*:\d+:\d+\)/, // a stack frame
  /\bat (async )?[^\s]+:\d+:\d+/,
  /node:internal/,
  /\/work\/|\/src\/[a-z/]+\.ts|node_modules\//,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError):/,
  /duplicate key value|violates (unique|foreign key|not-null) constraint|syntax error at or near|invalid byte sequence|relation "[a-z_]+"/,
  /\bknex\b|\bpg-protocol\b|\bECONNREFUSED\b/,
];

export interface AnswerCheck {
  /** What is wrong with the answer; empty when it passes. */
  problems: string[];
}

/**
 * The rules every answer to a rejected request obeys: a 4xx (never 5xx), the error envelope in JSON (or, for the
 * interaction pages, their HTML error page), nothing internal, no secret, and conformance to openapi.yaml.
 */
export function checkRejected(
  spec: OpenApi,
  op: Operation | undefined,
  res: RawResponse,
  secrets: readonly string[],
  options: { allowSuccess?: boolean; htmlErrors?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const ok2xx = options.allowSuccess && res.status >= 200 && res.status < 300;
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  else if (!ok2xx && (res.status < 400 || res.status >= 500)) problems.push(`answered ${res.status}, not a 4xx`);
  if (res.status >= 400) {
    const html = options.htmlErrors && res.type.startsWith('text/html');
    if (!html) {
      const env = res.json as { status?: unknown; error?: unknown } | undefined;
      if (!res.type.startsWith('application/json')) problems.push(`error answered as "${res.type}", not the JSON envelope`);
      else if (
        !env ||
        typeof env.status !== 'string' ||
        env.status === 'success' ||
        typeof env.error !== 'string' ||
        !/^[a-z][a-z0-9_]*$/.test(env.error)
      ) {
        problems.push(`error body is not the envelope: ${res.text.slice(0, 200)}`);
      }
    }
  }
  for (const pattern of INTERNALS) {
    if (pattern.test(res.text)) problems.push(`answer shows internals (${pattern}): ${res.text.slice(0, 300)}`);
  }
  for (const secret of secrets) {
    if (secret && res.text.includes(secret)) problems.push('answer carries a secret of the test');
  }
  if (op) {
    const parsed = res.type.startsWith('application/json') ? res.json : res.text;
    problems.push(...spec.validateResponse(op, res.status, res.type, parsed === '' ? undefined : parsed));
  }
  return problems;
}

/** A multipart/form-data body, built by hand so tests can also build broken ones. */
export function multipartBody(
  parts: { name: string; filename?: string; type?: string; data: Buffer | string }[],
  boundary = `rf${randomBytes(8).toString('hex')}`,
) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}
