/**
 * `npm run audit -- <command>`: the audit log, against the database the server uses (DATABASE_URL, or the
 * embedded one in DATA_DIR — which only one process may open at a time). Read only: no migration runs and nothing
 * is written, so checking the log never changes the database it checks.
 *
 *   verify [--json] [--jwks FILE]
 *       walk the legacy chain and every per-person chain, each against the heads the signed checkpoints covered, and
 *       check the checkpoints (signatures, links, leaves); exit 0 when all hold, 1 naming each broken chain's first
 *       row altered, deleted, reordered, rewritten, truncated or vanished. Signatures are checked with the issuer keys
 *       (opened with the server's master key) or the JWKS in FILE (the published /.well-known/jwt-vc-issuer keys).
 *   checkpoints [--limit N]
 *       the newest N signed checkpoints (default 100) as JSON lines, newest first: to keep elsewhere, so that deleting
 *       the newest ones is also found
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import pino from 'pino';
import { listCheckpoints } from '../audit/checkpoints.ts';
import { checkAuditChains } from '../audit/verify.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { readIssuerPublicKeys } from '../crypto/issuer-keys.ts';
import { loadKek, MASTER_KEY_FILE } from '../crypto/kek.ts';
import { openKeyring } from '../crypto/master-key.ts';
import { openStore, type Queryable } from '../store/db.ts';
import { DataDirLocked } from '../store/lock.ts';

const USAGE = `usage: npm run audit -- <command>
  verify [--json] [--jwks FILE]   check every audit chain against the signed checkpoints, and the checkpoints
  checkpoints [--limit N]         print the newest N signed checkpoints (default 100) as JSON lines`;

class UsageError extends Error {}

/** The keys checkpoints are verified with: from FILE, or the issuer keys opened with the server's master key (none without it). */
async function verifyingKeys(db: Queryable, config: Config, jwksFile: string | undefined): Promise<JWK[] | null> {
  if (jwksFile) {
    const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys?: JWK[] };
    if (!Array.isArray(jwks.keys)) throw new UsageError(`${jwksFile} is not a JWKS (no "keys" array)`);
    return jwks.keys;
  }
  if (!config.masterKey && !existsSync(path.join(config.dataDir, MASTER_KEY_FILE))) return null;
  const keyring = await openKeyring(db, loadKek(config, pino({ level: 'silent' })), { previous: config.previousMasterKeys, cacheEntries: 0 });
  return readIssuerPublicKeys(db, keyring);
}

async function verify(db: Queryable, config: Config, values: { json?: boolean; jwks?: string }): Promise<number> {
  const keys = await verifyingKeys(db, config, values.jwks);
  const report = await checkAuditChains(db, keys ?? []);
  const broken = report.chains.filter((c) => !c.ok);
  if (values.json) {
    const { legacy, checkpoints } = report;
    process.stdout.write(
      `${JSON.stringify({ ok: report.ok, checked: report.checked, legacy, chains: report.chains.length, broken, checkpoints }, null, 2)}\n`,
    );
    return report.ok ? 0 : 1;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const legacy = report.legacy;
  if (legacy.ok) {
    out(`legacy chain whole: ${legacy.checked} rows checked; ${legacy.head ? `head seq ${legacy.head.seq}, hash ${legacy.head.hash}` : 'empty'}`);
  } else {
    out(`legacy chain BROKEN (${legacy.broken!.problem}) at seq ${legacy.broken!.seq}: ${legacy.broken!.message}`);
    out(`${legacy.checked} rows before it are whole.`);
  }
  out(`${report.chains.length - broken.length} of ${report.chains.length} per-person chains whole`);
  for (const chain of broken) out(`chain ${chain.chain} BROKEN (${chain.broken!.problem}): ${chain.broken!.message}`);
  const cp = report.checkpoints;
  if (cp.count === 0) out('no signed checkpoint yet: a chain deleted whole could not be seen');
  else out(`${cp.count} signed checkpoints, newest ${cp.latest?.interval_start} over ${cp.latest?.tree_size} chains, root ${cp.latest?.root}`);
  if (!keys) out('WARNING: signatures not checked: no master key here; pass --jwks with the published issuer keys');
  else if (cp.unverifiable > 0) out(`${cp.unverifiable} checkpoints signed by keys no longer published: their signatures cannot be checked`);
  if (cp.uncovered > 0) out(`${cp.uncovered} chains grew after the newest checkpoint: those rows are covered by their chains alone until the next`);
  for (const p of cp.problems) out(`checkpoint BROKEN (${p.problem}): ${p.message}`);
  return report.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      jwks: { type: 'string' },
      limit: { type: 'string', default: '100' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command !== 'verify' && command !== 'checkpoints') {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be a whole number from 1 to 100000');
  const config = loadConfig();
  const store = await openStore(config);
  try {
    if (command === 'verify') return await verify(store.db, config, values);
    for (const c of await listCheckpoints(store.db, { limit })) process.stdout.write(`${JSON.stringify(c)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const message = err instanceof ConfigError || err instanceof DataDirLocked || err instanceof UsageError ? err.message : `failed: ${err.message}`;
    process.stderr.write(`audit: ${message}\n`);
    process.exit(2);
  },
);
