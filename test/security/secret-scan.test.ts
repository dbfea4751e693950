/**
 * The secret scan that test/run.ts runs over the logs after every test file (test/security/log-scan.ts), checked on
 * logs and secrets made here: it finds a recorded secret by file and line, in plain and JSON-escaped form, and
 * leaves out what would only raise false alarms (short values, e-mail addresses).
 */
import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanLogs } from './log-scan.ts';

test('a recorded secret in a log is found by file and line; short values, placeholders and addresses are not looked for', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ringfence-scan-'));
  try {
    const logs = path.join(dir, 'logs');
    const secrets = path.join(dir, 'secrets');
    mkdirSync(logs);
    mkdirSync(secrets);
    const token = 'Vf1x3tq0gM2d7m1bq8ZcGQx3yR6n5p0aK2wE4s9uJtY';
    const password = 'a "quoted" pass phrase';
    writeFileSync(
      path.join(secrets, 'a.txt'),
      `${[token, password, 'short', 'ada@example.com', 'zzzzzzzzzzzzzzzz'].map((s) => JSON.stringify(s)).join('\n')}\n"cut sho`,
    );
    writeFileSync(
      path.join(logs, 'clean.log'),
      '{"msg":"request","path":"/api/v1/profile/zzzzzzzzzzzzzzzz"}\n{"to":"ada@example.com","subject":"short"}\n',
    );
    writeFileSync(
      path.join(logs, 'leaky.log'),
      `{"msg":"ok"}\n{"msg":"debug","headers":{"authorization":"Bearer ${token}"}}\n{"body":${JSON.stringify({ password })}}\n`,
    );
    const result = scanLogs(logs, secrets);
    t.is(result.secrets, 2, 'the token and the password; not the short value, the address, the placeholder or the line cut short');
    t.is(result.files, 2);
    t.deepEqual(
      result.hits.map((h) => [path.basename(h.file), h.line, h.kind]),
      [
        ['leaky.log', 2, 'token'],
        ['leaky.log', 3, 'password'],
      ],
    );
    t.false(JSON.stringify(result).includes(token), 'the report never repeats the secret');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
