/**
 * `npm run keys -- <command>`: the OpenID provider's signing keys, against the database the server uses
 * (DATABASE_URL, or the embedded one in DATA_DIR — which only one process may open at a time).
 *
 *   list [--json]     every stored key: kid, algorithm, state, dates, and whether the instances publish it
 *   rotate [--publish-for SECONDS] [--json]
 *                     new signing keys, published by every instance at once and signing from SECONDS from now (the
 *                     active ones retire then); no restart
 *   rotate-master [--batch-size N] [--pause-ms N] [--json]
 *                     re-wrap every data key under the new master key (RINGFENCE_MASTER_KEY), opening them with the
 *                     old one (RINGFENCE_PREVIOUS_MASTER_KEYS); in batches, resumable after a crash
 *   rotate-issuer [--publish-for SECONDS] [--json]
 *                     the same for the credential issuer key (shares' SD-JWT VCs, status lists)
 *
 * Rotation needs the server's key-encryption key (RINGFENCE_MASTER_KEY, or the development key in DATA_DIR): new
 * keys are sealed under it. This command never generates one, and refuses a key that does not open the stored ones.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { DecryptionError } from '../errors.ts';
import { openStore } from '../store/db.ts';
import { DataDirLocked } from '../store/lock.ts';
import { migrateLatest } from '../store/migrations.ts';
import { openKeyring, rotateMasterKey } from '../crypto/master-key.ts';
import { profileOwner } from '../disclosure/container.ts';
import { emergencyKeyOwner } from '../features/emergency/setup.ts';
import { loadKek, MASTER_KEY_FILE } from '../crypto/kek.ts';
import {
  DEFAULT_PUBLICATION_SECONDS,
  listSigningKeys,
  MIN_PUBLICATION_SECONDS,
  RETIRED_KEY_RETENTION_DAYS,
  RotationPending,
  rotateSigningKeys,
  type SigningKeyInfo,
} from '../crypto/signing-keys.ts';
import { listIssuerKeys, RETIRED_ISSUER_KEY_RETENTION_DAYS, rotateIssuerKeys } from '../crypto/issuer-keys.ts';

const USAGE = `usage: npm run keys -- <command>
  list [--issuer] [--json]
                    the signing keys (--issuer: the credential issuer keys): kid, algorithm, state, dates, published
  rotate [--publish-for SECONDS] [--json]
                    new signing keys: every instance publishes them at once and signs with them from SECONDS from
                    now (default ${DEFAULT_PUBLICATION_SECONDS}, at least ${MIN_PUBLICATION_SECONDS}); the active ones retire then. No restart
  rotate-master [--batch-size N] [--pause-ms N] [--json]
                    re-wrap every data key under RINGFENCE_MASTER_KEY (the new master key), opening them with
                    RINGFENCE_PREVIOUS_MASTER_KEYS (the old one); resumable: run it again after a crash
  rotate-issuer [--publish-for SECONDS] [--json]
                    the same for the credential issuer key (shares' SD-JWT VCs, status lists)`;

/** A refusal meant for the operator, printed as it is. */
class KeysError extends Error {}

/** The server's KEK, never a new one: a key generated here would seal keys the server cannot open. */
function serverKek(config: Config): Buffer {
  const devKey = path.join(config.dataDir, MASTER_KEY_FILE);
  if (!config.masterKey && (config.env === 'production' || !existsSync(devKey))) {
    throw new KeysError(`no master key: set RINGFENCE_MASTER_KEY to the key the server runs with (in development the server keeps it in ${devKey})`);
  }
  return loadKek(config, pino({ level: 'silent' }));
}

function iso(d: Date | null): string {
  return d ? new Date(d).toISOString() : '-';
}

function table(keys: SigningKeyInfo[]): string {
  if (keys.length === 0) return 'no signing keys yet (the server creates them at its first start)';
  const rows = keys.map((k) => [k.kid, k.alg, k.state, iso(k.created_at), iso(k.activates_at), iso(k.retired_at), k.published ? 'yes' : 'no']);
  const all = [['kid', 'alg', 'state', 'created_at', 'activates_at', 'retired_at', 'published'], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function serialize(keys: SigningKeyInfo[]) {
  return keys.map((k) => ({
    ...k,
    created_at: iso(k.created_at),
    activates_at: iso(k.activates_at),
    retired_at: k.retired_at ? iso(k.retired_at) : null,
  }));
}

/** --publish-for: whole seconds, at least twice the longest any instance takes to see a new key. */
function publicationSeconds(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PUBLICATION_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < MIN_PUBLICATION_SECONDS || seconds > 30 * 24 * 3600) {
    throw new KeysError(
      `--publish-for must be a whole number of seconds from ${MIN_PUBLICATION_SECONDS} (every instance must have published a key before any signs with it) to ${30 * 24 * 3600}`,
    );
  }
  return seconds;
}

/** Every table holding data keys wrapped by the master key (a feature with its own data keys adds its table here). */
// Every table that keeps a data key wrapped under the master key: the profiles', and each emergency setup's own.
const WRAPPED_KEY_TABLES = [
  { table: 'profiles', owner: profileOwner },
  { table: 'emergency_access', owner: emergencyKeyOwner },
];

async function rotateMaster(values: { json?: boolean; 'batch-size'?: string; 'pause-ms'?: string }): Promise<number> {
  const batchSize = Number(values['batch-size']);
  const pauseMs = Number(values['pause-ms']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new KeysError('--batch-size must be a whole number from 1 to 100000');
  if (!Number.isInteger(pauseMs) || pauseMs < 0 || pauseMs > 60_000) throw new KeysError('--pause-ms must be a whole number from 0 to 60000');
  const config = loadConfig();
  if (!config.masterKey) throw new KeysError('set RINGFENCE_MASTER_KEY to the NEW master key (and RINGFENCE_PREVIOUS_MASTER_KEYS to the old one)');
  if (config.previousMasterKeys.length === 0) {
    throw new KeysError('set RINGFENCE_PREVIOUS_MASTER_KEYS to the master key the data is wrapped under now (the old key)');
  }
  const store = await openStore(config);
  try {
    await migrateLatest(store.db);
    const keyring = await openKeyring(store.db, config.masterKey, { previous: config.previousMasterKeys, cacheEntries: 0 });
    const result = await rotateMasterKey(store.db, keyring, WRAPPED_KEY_TABLES, {
      batchSize,
      pauseMs,
      onBatch: (p) => {
        if (!values.json) process.stdout.write(`re-wrapped ${p.rewrapped} data keys in ${p.batches} batches; ${p.remaining} to go\n`);
      },
    });
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(
        `${result.resumed ? 'Resumed and finished' : 'Finished'}: ${result.rewrapped} data keys are wrapped by master key ${result.to_kek_id}. ` +
          'Remove RINGFENCE_PREVIOUS_MASTER_KEYS from every instance and restart them.\n',
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      'batch-size': { type: 'string', default: '500' },
      'pause-ms': { type: 'string', default: '0' },
      'publish-for': { type: 'string' },
      issuer: { type: 'boolean', default: false },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  if (command === 'rotate-master') return rotateMaster(values);
  if (command !== 'list' && command !== 'rotate' && command !== 'rotate-issuer') {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const rotating = command === 'rotate' || command === 'rotate-issuer';
  const publishFor = rotating ? publicationSeconds(values['publish-for']) : undefined;
  const kek = rotating ? serverKek(config) : undefined;
  const store = await openStore(config);
  try {
    await migrateLatest(store.db);
    if (command === 'list') {
      const keys = values.issuer ? await listIssuerKeys(store.db) : await listSigningKeys(store.db);
      process.stdout.write(`${values.json ? JSON.stringify(serialize(keys), null, 2) : table(keys)}\n`);
      return 0;
    }
    const keyring = await openKeyring(store.db, kek!, { previous: config.previousMasterKeys });
    if (command === 'rotate-issuer') {
      const before = (await listIssuerKeys(store.db)).filter((k) => k.state === 'active').map((k) => k.kid);
      const { kid, activatesAt } = await rotateIssuerKeys(store.db, keyring, { publishForSeconds: publishFor });
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ pending: kid, activates_at: activatesAt.toISOString(), retiring: before })}\n`
          : `New issuer key: ${kid}, published by every instance now, signing from ${activatesAt.toISOString()}; ` +
              `${before.join(', ') || 'the active key'} retires then and stays published for ${RETIRED_ISSUER_KEY_RETENTION_DAYS} days, ` +
              'so shares and status lists it signed still verify. No restart is needed.\n',
      );
      return 0;
    }
    const before = (await listSigningKeys(store.db)).filter((k) => k.state === 'active').map((k) => k.kid);
    const { kids, activatesAt } = await rotateSigningKeys(store.db, keyring, { publishForSeconds: publishFor });
    const keys = await listSigningKeys(store.db);
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ pending: kids, activates_at: activatesAt.toISOString(), retiring: before, keys: serialize(keys) }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `${table(keys)}\n\nNew signing keys: ${kids.join(', ')}, published by every instance now, signing from ${activatesAt.toISOString()}. ` +
          `Retiring then: ${before.join(', ') || 'none'}.\n` +
          'No restart is needed: every instance publishes the new keys within seconds and switches to them at that moment. The retired keys ' +
          `stay published for ${RETIRED_KEY_RETENTION_DAYS} days, so tokens signed with them still verify.\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const message =
      err instanceof DecryptionError
        ? 'the master key does not open the stored signing keys: it is not the key this database was set up with. Nothing was changed.'
        : err instanceof KeysError || err instanceof ConfigError || err instanceof DataDirLocked || err instanceof RotationPending
          ? err.message
          : `failed: ${err.message}`;
    process.stderr.write(`keys: ${message}\n`);
    process.exit(1);
  },
);
