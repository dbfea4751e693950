/**
 * Passwords: argon2id hashes, and the NIST SP 800-63B-4 rules for choosing one — at least 8 characters, no
 * composition rules, and refused when it is guessable: zxcvbn-ts (its common-password, English and keyboard
 * dictionaries, and the person's own name, e-mail address and handle) scores it below 3 of 4.
 */
import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as zxcvbnCommon from '@zxcvbn-ts/language-common';
import * as zxcvbnEn from '@zxcvbn-ts/language-en';
import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase; the cap keeps a hash from being a way to burn CPU. */
const MAX_PASSWORD_LENGTH = 256;
/** The lowest zxcvbn score accepted: 3 is "safely unguessable" (about 10^8 guesses and more). */
const MIN_PASSWORD_SCORE = 3;

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. The const enum is declared ambient, so name its value.
const ARGON2ID = 2 as Algorithm;
const ARGON2_OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// Built once, when the first password is checked (≈ 0.2 s of ranking the dictionaries; a process that checks none —
// most test processes, a CLI — never pays it), never per request.
// The estimate's cost grows with length and with l33t-looking characters (measured: a 100-character run of symbols
// took 0.5 s with the library's default of 100 substitutions). Estimating the first 100 characters, as zxcvbn's
// authors advise, with 16 substitutions, bounds it to tens of milliseconds and still sees `P@ssw0rd`; a password
// whose first 100 characters are unguessable is unguessable.
let estimator: ZxcvbnFactory | undefined;
function passwordEstimator(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: zxcvbnEn.translations,
    graphs: zxcvbnCommon.adjacencyGraphs,
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEn.dictionary },
    maxLength: 100,
    l33tMaxSubstitutions: 16,
  });
  return estimator;
}

const COMMON_WARNINGS = new Set(
  (['topTen', 'topHundred', 'common', 'similarToCommon', 'pwned'] as const).map((key) => zxcvbnEn.translations.warnings[key]),
);
const PERSONAL_WARNING = zxcvbnEn.translations.warnings.userInputs;

/** NIST asks for Unicode normalization, so the same passphrase typed on two keyboards hashes the same. */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

/**
 * What zxcvbn is told about the person: each word tied to the account as given, and its pieces (the parts of a
 * name, an address's local part and domain, a handle's words), each also run together, so `adalovelace` and
 * `ada_lovelace1` are seen as the person's own.
 */
function userInputs(context: readonly (string | undefined)[]): string[] {
  const inputs = new Set<string>();
  for (const word of context) {
    if (word === undefined || word.trim() === '') continue;
    const lowered = normalize(word).toLowerCase().trim();
    const pieces = lowered.split(/[^\p{L}\p{N}]+/u).filter((p) => p.length >= 3);
    for (const value of [lowered, pieces.join(''), ...pieces]) if (value !== '') inputs.add(value);
  }
  return [...inputs];
}

/**
 * True when nothing much is left of the password once the person's own words and the separators between them are
 * taken out: zxcvbn scores `Ada Lovelace ada_x1` by its length, though it is only the name and the handle.
 */
function madeOfUserInputs(lowered: string, inputs: readonly string[]): boolean {
  let rest = lowered;
  for (const input of [...inputs].sort((a, b) => b.length - a.length)) rest = rest.split(input).join(' ');
  return rest.replace(/[^\p{L}\p{N}]+/gu, '').length < 3;
}

/** One sentence from zxcvbn's estimate: why the password is guessable, then the library's own feedback. */
function guessableProblem(result: ZxcvbnResult): string {
  const { warning, suggestions } = result.feedback;
  const why =
    warning !== null && COMMON_WARNINGS.has(warning)
      ? 'is one of the most common passwords, which attackers try first'
      : warning === PERSONAL_WARNING
        ? 'must not be your email, handle or name, nor be made of them'
        : 'is too easy to guess';
  const advice = [warning, ...suggestions].filter((s): s is string => typeof s === 'string' && s !== '');
  const tail = advice.length > 0 ? ` (${advice.join(' ')})` : '';
  return `${why}${tail}: a few unrelated words make a long password that is hard to guess and easy to remember`;
}

/**
 * Why a password may not be used, as sentences a person can act on; empty when it is acceptable. `context` holds
 * words tied to the account (email, handle, name) that the password must not be made of.
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
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`is too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
    return problems;
  }
  const inputs = userInputs(context);
  const result = passwordEstimator().check(pw, inputs);
  if (result.score < MIN_PASSWORD_SCORE) problems.push(guessableProblem(result));
  else if (inputs.length > 0 && madeOfUserInputs(pw.toLowerCase(), inputs)) {
    problems.push('must not be your email, handle or name, nor be made of them: add words of your own');
  }
  return problems;
}

/**
 * How many argon2id computations run at once: one per core, at most 4. Each holds its 19 MiB block while it runs, on
 * libuv's thread pool (4 threads by default, shared with file, DNS and zlib work); more at once than there are cores
 * finish none sooner, they only hold more memory and keep the pool from the rest. The others wait their turn, in order.
 */
export const PASSWORD_HASH_SLOTS = Math.max(1, Math.min(4, availableParallelism()));
let hashesRunning = 0;
const waitingForSlot: (() => void)[] = [];

/** How many argon2id computations are running now (for the tests of the bound). */
export function passwordHashesRunning(): number {
  return hashesRunning;
}

async function inHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashesRunning < PASSWORD_HASH_SLOTS) hashesRunning++;
  else await new Promise<void>((resume) => waitingForSlot.push(resume));
  try {
    return await work();
  } finally {
    // The slot passes to the next in line, or is given back.
    const next = waitingForSlot.shift();
    if (next) next();
    else hashesRunning--;
  }
}

/** An argon2id hash in PHC form (`$argon2id$v=19$m=…`), with its own random salt. */
export function hashPassword(password: string): Promise<string> {
  return inHashSlot(() => hash(normalize(password), ARGON2_OPTIONS));
}

/** Checks a password against its hash; a malformed hash counts as a mismatch, never as an error to the caller. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await inHashSlot(() => verify(passwordHash, normalize(password)));
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
