/**
 * Passwords: argon2id hashes, and the NIST SP 800-63B rules for choosing one — at least 8 characters, no
 * composition rules, and refused when it is on the shipped list of common passwords (common-passwords.txt).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

export const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase; the cap keeps a hash from being a way to burn CPU. */
export const MAX_PASSWORD_LENGTH = 256;

const COMMON_PASSWORDS_FILE = fileURLToPath(new URL('./common-passwords.txt', import.meta.url));

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. The const enum is declared ambient, so name its value.
const ARGON2ID = 2 as Algorithm;
const ARGON2_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

let commonPasswords: ReadonlySet<string> | undefined;

/** The shipped list, lower-cased, loaded once. */
function commonList(): ReadonlySet<string> {
  if (!commonPasswords) {
    const lines = readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split('\n');
    commonPasswords = new Set(lines.filter((l) => l !== '' && !l.startsWith('#!comment')).map((l) => l.trim().toLowerCase()));
  }
  return commonPasswords;
}

/** NIST asks for Unicode normalization, so the same passphrase typed on two keyboards hashes the same. */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

/** True when the password (ignoring case) is on the shipped list of common passwords. */
export function isCommonPassword(password: string): boolean {
  return commonList().has(normalize(password).toLowerCase());
}

/**
 * Why a password may not be used, as sentences a person can act on; empty when it is acceptable. `context` holds
 * words tied to the account (email, handle, name) that the password must not simply repeat.
 */
export function passwordProblems(password: string, context: readonly (string | undefined)[] = []): string[] {
  const pw = normalize(password);
  const length = [...pw].length;
  const problems: string[] = [];
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(
      `is too short: use at least ${MIN_PASSWORD_LENGTH} characters (it has ${length}); a few unrelated words make a long password that is easy to remember`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) problems.push(`is too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
  if (isCommonPassword(pw)) {
    problems.push('is one of the most common passwords, which attackers try first: choose one that is not on such a list');
  } else if (length >= MIN_PASSWORD_LENGTH && new Set(pw).size === 1) {
    problems.push('repeats a single character: choose something less predictable');
  }
  const lowered = pw.toLowerCase();
  if (context.some((word) => word !== undefined && word.length > 0 && lowered === normalize(word).toLowerCase())) {
    problems.push('must not be your email, handle or name');
  }
  return problems;
}

/** An argon2id hash in PHC form (`$argon2id$v=19$m=…`), with its own random salt. */
export function hashPassword(password: string): Promise<string> {
  return hash(normalize(password), ARGON2_OPTIONS);
}

/** Checks a password against its hash; a malformed hash counts as a mismatch, never as an error to the caller. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, normalize(password));
  } catch {
    return false;
  }
}

let decoy: Promise<string> | undefined;

/**
 * Spends the time of one verification when there is no account to verify against, so a login for an unknown
 * account takes as long as one with a wrong password. Always false.
 */
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoy ??= hashPassword(`decoy-${Math.random()}-${Date.now()}`);
  await verifyPassword(await decoy, password);
  return false;
}
