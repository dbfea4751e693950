/**
 * The secret scan run by test/run.ts after ava: every secret the run's tests recorded (test/security/secrets.ts)
 * is looked for in every log under test/artifacts/logs/. A hit names the log file and line, never the secret.
 *
 * Secrets shorter than MIN_LENGTH are not looked for: a 6-digit code or a deliberately weak test password
 * ("password", "abc") occurs in logs by coincidence (timestamps, words), so it would only give false alarms.
 * Such codes are kept out of logs by construction instead (the outbox seals mail; the request log has no bodies).
 * E-mail addresses are not looked for either, even when a test sent one as a password (to see it refused): an
 * address is an identifier, and the outbox logs each mail's recipient by design. Nor are placeholders of fewer than
 * MIN_DISTINCT different characters ("zzzzzzzzzzzz" as a token nobody issued): they are no one's secret, and the
 * fuzzer puts such strings in paths.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const MIN_LENGTH = 12;
export const MIN_DISTINCT = 6;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface ScanResult {
  secrets: number;
  files: number;
  lines: number;
  hits: { file: string; line: number; kind: string }[];
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** What kind of secret a value looks like, for the report (the value itself is never printed). */
function kindOf(secret: string): string {
  if (/^[A-Za-z0-9_-]{40,}$/.test(secret)) return 'token';
  if (/\s/.test(secret)) return 'password';
  return 'credential';
}

export function loadSecrets(secretsDir: string): Set<string> {
  const secrets = new Set<string>();
  for (const file of walk(secretsDir)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value === 'string' && value.length >= MIN_LENGTH && new Set(value).size >= MIN_DISTINCT && !EMAIL.test(value)) secrets.add(value);
      } catch {
        // a line cut short by a process that died mid-write
      }
    }
  }
  return secrets;
}

/** Scans every log for every recorded secret (and its JSON-escaped form). */
export function scanLogs(logsDir: string, secretsDir: string): ScanResult {
  const secrets = [...loadSecrets(secretsDir)];
  const needles = secrets.map((s) => ({ kind: kindOf(s), forms: [...new Set([s, JSON.stringify(s).slice(1, -1)])] }));
  const result: ScanResult = { secrets: secrets.length, files: 0, lines: 0, hits: [] };
  for (const file of walk(logsDir)) {
    const text = readFileSync(file, 'utf8');
    result.files++;
    const lines = text.split('\n');
    result.lines += lines.length;
    for (const needle of needles) {
      for (const form of needle.forms) {
        if (!text.includes(form)) continue;
        lines.forEach((line, i) => {
          if (line.includes(form)) result.hits.push({ file: path.relative(process.cwd(), file), line: i + 1, kind: needle.kind });
        });
      }
    }
  }
  return result;
}
