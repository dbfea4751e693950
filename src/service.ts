/**
 * Assembles the running service from a Config: store → migrations → keys → outbox → app. main.ts listens on it;
 * tests build the same thing against their own database. What the instance holds in memory that another instance
 * can change — the signing and issuer keys, the policy revision in force — it follows through the change notices
 * (src/store/changes.ts); docs/scale-out.md lists every such state and why none can go stale.
 */
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createApp, ROUTES } from './app.ts';
import { loadKek } from './crypto/kek.ts';
import { openKeyring } from './crypto/master-key.ts';
import { OpenApi } from './http/openapi.ts';
import type { AppDeps } from './deps.ts';
import { createTransport, deliveryTimeoutMs } from './notify/mailer.ts';
import { Outbox, OutboxWorker } from './notify/outbox.ts';
import { openStore, type StoreOptions } from './store/db.ts';
import { migrateLatest } from './store/migrations.ts';
import { loadPolicies } from './policy/load.ts';
import { PolicyEngine } from './policy/engine.ts';
import { PolicyFollower, recordPolicyRevision } from './policy/revision.ts';
import { ChangeFeed } from './store/changes.ts';
import { liveIssuerKeys } from './crypto/issuer-keys.ts';
import { createDisclosure } from './disclosure/release.ts';
import { authenticateLogin } from './features/accounts/accounts.ts';
import { findUserById } from './features/accounts/accounts.repo.ts';
import { createOidc, type OidcAccounts } from './oidc/index.ts';
import { GRANT_BASIS } from './oidc/grant-basis.ts';
import { EMERGENCY_BASIS } from './features/emergency/basis.ts';
import { CheckpointJob } from './audit/checkpoints.ts';
import { sweepExpiredPayloads } from './oidc/adapter.ts';
import { backchannelLogoutSender } from './oidc/backchannel.ts';
import { sweepSeenProofs } from './oidc/dpop.ts';
import { HEALTH_LINK_BASIS } from './features/health/link-basis.ts';
import { SHARE_BASIS } from './features/shares/share-basis.ts';
import type { BasisKinds } from './disclosure/basis.ts';
import { DOCUMENT_BASIS, DOCUMENT_LINK_BASIS } from './features/documents/document-basis.ts';
import { deliveriesSender } from './features/deliveries/sender.ts';
import { sweepChallenges } from './features/passkeys/challenges.ts';

export interface Service {
  app: Koa;
  deps: AppDeps;
  worker: OutboxWorker;
  /** This instance's audit checkpoint job (running unless AUDIT_CHECKPOINT_SECONDS is 0). */
  checkpoints: CheckpointJob;
  /** The change notices this instance follows (keys, policy revision). */
  changes: ChangeFeed;
  close(): Promise<void>;
}

export interface ServiceOptions extends StoreOptions {
  logger: Logger;
  /** Outbox poll interval; tests shorten it. */
  outboxPollMs?: number;
  /** Tests pass an explicit KEK instead of a key file. */
  kek?: Buffer;
  /** How often every followed state is read again without a notice (CHANGE_POLL_MS); tests shorten it. */
  changePollMs?: number;
}

/** Every kind of basis a release may be made under (src/disclosure/basis.ts), by its `kind`. */
export const BASIS_KINDS: BasisKinds = {
  grant: GRANT_BASIS,
  health_link: HEALTH_LINK_BASIS,
  share: SHARE_BASIS,
  emergency: EMERGENCY_BASIS,
  document: DOCUMENT_BASIS,
  document_link: DOCUMENT_LINK_BASIS,
};

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** Assembles the service from `config` and starts its outbox worker and sweeps; `close()` stops them. */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  const { logger } = options;
  const spec = OpenApi.load();
  // In production a schema ajv cannot compile stops start-up; elsewhere each validator compiles when first used.
  if (config.env === 'production') spec.compileAll();
  // A bad policy file stops start-up here, naming the file, line and reason.
  const readPolicyFiles = () => loadPolicies(config.policiesDir);
  const engine = new PolicyEngine(readPolicyFiles());
  // `policies` follows the engine: it switches when another revision comes into force (src/policy/revision.ts).
  const policy = {
    get policies() {
      return engine.policies;
    },
    engine,
  };
  const store = await openStore(config, options);
  const changes = new ChangeFeed({ connectionString: config.databaseUrl, logger, pollMs: options.changePollMs });
  let stopFollowing = () => {};
  try {
    const applied = await migrateLatest(store.db);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const keyring = await openKeyring(store.db, options.kek ?? loadKek(config, logger), { previous: config.previousMasterKeys });
    const outbox = new Outbox(keyring);
    const issuerKeys = await liveIssuerKeys(store.db, keyring).open();
    stopFollowing = () => issuerKeys.close();
    const base = { config, db: store.db, replica: store.replica, storeKind: store.kind, keyring, outbox, logger, policy, issuerKeys };
    const disclosure = createDisclosure(base, BASIS_KINDS);
    // What the provider asks of the accounts feature; authenticateLogin takes the finished deps (assigned below).
    let deps: AppDeps | undefined;
    const accounts: OidcAccounts = {
      authenticate: async (login, password, clientIp) => (await authenticateLogin(deps!, login, password, clientIp))?.id,
      exists: async (accountId) => Boolean(await findUserById(store.db, accountId)),
      emailVerified: async (accountId) => Boolean((await findUserById(store.db, accountId))?.email_verified_at),
    };
    const oidc = await createOidc({ ...base, disclosure, accounts });
    stopFollowing = () => {
      issuerKeys.close();
      oidc.close();
    };
    deps = { ...base, disclosure, oidc };
    const app = createApp(deps, { ...ROUTES, spec });
    // The revision this instance loaded is recorded once it is assembled: a revision never seen comes into force now
    // (every other instance is told), one superseded since makes this instance refuse until its files catch up.
    const follower = new PolicyFollower({ db: store.db, engine, readFiles: readPolicyFiles, logger, onReload: () => oidc.rebuild() });
    const recorded = await recordPolicyRevision(store.db, engine.policies);
    if (recorded.outdated) await follower.refresh();
    changes.subscribe('signing_keys', () => oidc.refreshKeys());
    changes.subscribe('issuer_keys', () => issuerKeys.refresh());
    changes.subscribe('policy', () => follower.refresh());
    await changes.start();
    // Expired grants, tokens, sessions and interactions are never served (the adapter checks expiry), nor are DPoP
    // proofs past their window accepted; this only keeps the tables small.
    const sweep = setInterval(() => {
      sweepExpiredPayloads(store.db).catch((err) => logger.warn({ err: (err as Error).message }, 'sweeping expired OIDC rows failed'));
      sweepSeenProofs(store.db).catch((err) => logger.warn({ err: (err as Error).message }, 'sweeping expired DPoP proofs failed'));
      sweepChallenges(store.db).catch((err) => logger.warn({ err: (err as Error).message }, 'sweeping expired sign-in challenges failed'));
    }, SWEEP_INTERVAL_MS);
    sweep.unref();
    // Signed checkpoints over every audit chain's head (src/audit/checkpoints.ts): every instance may write them.
    const checkpoints = new CheckpointJob(
      store.db,
      () => ({ issuer: config.baseUrl, key: issuerKeys.active[0] }),
      { intervalSeconds: config.auditCheckpointSeconds, keepLeaves: config.auditCheckpointKeep },
      (err) => logger.warn({ err: err.message }, 'writing the audit checkpoint failed'),
    );
    if (config.auditCheckpointSeconds > 0) checkpoints.start();
    const worker = new OutboxWorker({
      db: store.db,
      outbox,
      logger,
      transport: createTransport(config),
      from: config.mailFrom,
      pollMs: options.outboxPollMs,
      leaseSeconds: config.outboxLeaseSeconds,
      concurrency: config.outboxConcurrency,
      backchannelLogout: backchannelLogoutSender(deps.oidc),
      retentionDays: config.outboxRetentionDays,
      webhook: deliveriesSender(deps, deliveryTimeoutMs(config.outboxLeaseSeconds)),
    });
    // A message queued on any instance wakes this one's worker when its transaction commits (Outbox.enqueue*).
    // Subscribed after the feed started: a wake needs no first read, and a missed notice is covered by the poll.
    changes.subscribe('outbox', async () => worker.wake());
    // An instance may leave delivery to others (OUTBOX_WORKER=false): web instances apart from worker instances.
    if (config.outboxWorker) worker.start();
    return {
      app,
      deps,
      worker,
      checkpoints,
      changes,
      async close() {
        clearInterval(sweep);
        await checkpoints.stop();
        await worker.stop();
        await changes.close();
        stopFollowing();
        await store.close();
      },
    };
  } catch (err) {
    await changes.close();
    stopFollowing();
    await store.close();
    throw err;
  }
}
