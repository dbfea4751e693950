/**
 * One database under test and what runs on it: the service in production mode (its own process, migrating the
 * database as it starts), the bare Koa + pg baseline reading the same tables, and a seeder writing through the
 * service's repository functions with the same master key. Delivery runs as production splits it when it scales:
 * the service measured serves requests only (OUTBOX_WORKER=false) and a worker instance of the same release on the
 * same database delivers the outbox (mail, webhooks), so a scenario can hold delivery and measure it on its own.
 */
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { Keyring } from '../../src/crypto/envelope.ts';
import { freePort, startProcess, type ManagedProcess } from './processes.ts';
import { Seeder } from './seed.ts';

export interface Environment {
  name: string;
  databaseUrl: string;
  db: Knex;
  keyring: Keyring;
  service: ManagedProcess;
  /** The worker instance delivering the outbox; undefined while held (holdWorker). */
  worker(): ManagedProcess | undefined;
  /** Stops the worker instance: what the service queues waits durably in the outbox. */
  holdWorker(): Promise<void>;
  /** Starts the worker instance again (if held) and waits until it is ready. */
  resumeWorker(): Promise<ManagedProcess>;
  /** Another instance of the service on this database (same issuer, master key and settings); the caller stops it. */
  startInstance(name: string, o: { outboxWorker: boolean }): Promise<ManagedProcess>;
  /** bench/baselines/koa-pg.ts on this database, with its default statements (a profile's sealed fields). */
  koaPg: ManagedProcess;
  seeder: Seeder;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  /** URL of the PostgreSQL server's admin database. */
  adminUrl: string;
  masterKey: Buffer;
  logDir: string;
  tmpDir: string;
  /** Directory for V8 CPU profiles of the service and its Koa + pg baseline (`--cpu-prof`), written when they stop; none when undefined. */
  cpuProfileDir?: string;
  log(message: string): void;
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Starts the service on a Koa + pg baseline on a fresh database `bench_<name>`. */
export async function startEnvironment(name: string, o: EnvironmentOptions): Promise<Environment> {
  const databaseUrl = await createDatabase(o.adminUrl, `bench_${name.replace(/[^a-z0-9_]/g, '_')}`);
  const port = await freePort();
  const serviceEnv = (instance: string, instancePort: number, outboxWorker: boolean): Record<string, string> => ({
    NODE_ENV: 'production',
    RINGFENCE_MASTER_KEY: o.masterKey.toString('hex'),
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: String(instancePort),
    // Both instances are the one issuer behind one address, as behind a balancer.
    BASE_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: path.join(o.tmpDir, `data-${instance}`),
    // The seeder registers every API user from this one loopback address.
    REGISTRATIONS_PER_ADDRESS: '100000',
    // The change-events scenario's webhook receiver listens on loopback.
    WEBHOOKS_TO_PRIVATE_ADDRESSES: 'true',
    OUTBOX_WORKER: String(outboxWorker),
  });
  const service = await startProcess({
    name: `service-${name}`,
    script: 'src/main.ts',
    nodeArgs: o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`, `--cpu-prof-name=service-${name}.cpuprofile`] : [],
    env: serviceEnv(name, port, false),
    port,
    readyPath: '/readyz',
    logDir: o.logDir,
  });
  const startInstance = async (instance: string, { outboxWorker }: { outboxWorker: boolean }) => {
    const instancePort = await freePort();
    return startProcess({
      name: `${instance}-${name}`,
      script: 'src/main.ts',
      env: serviceEnv(`${instance}-${name}`, instancePort, outboxWorker),
      port: instancePort,
      readyPath: '/readyz',
      logDir: o.logDir,
    });
  };
  const startWorker = () => startInstance('worker', { outboxWorker: true });
  let worker: ManagedProcess | undefined = await startWorker();
  const db = knexFactory({ client: 'pg', connection: { connectionString: databaseUrl, application_name: 'bench-seeder' }, pool: { min: 0, max: 8 } });
  const keyring = new Keyring(o.masterKey);
  const pgPort = await freePort();
  const koaPg = await startProcess({
    name: `koa-pg-${name}`,
    script: 'bench/baselines/koa-pg.ts',
    // Profiled too, so the service's profile can be read against its baseline's.
    nodeArgs: o.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`, `--cpu-prof-name=koa-pg-${name}.cpuprofile`] : [],
    env: { PORT: String(pgPort), DATABASE_URL: databaseUrl },
    port: pgPort,
    readyPath: '/readyz',
    logDir: o.logDir,
  });
  const seeder = new Seeder({ db, keyring, masterKey: o.masterKey, serviceUrl: service.url, log: o.log });
  return {
    name,
    databaseUrl,
    db,
    keyring,
    service,
    worker: () => worker,
    async holdWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async resumeWorker() {
      worker ??= await startWorker();
      return worker;
    },
    startInstance,
    koaPg,
    seeder,
    async close() {
      await koaPg.stop();
      await worker?.stop();
      await service.stop();
      await db.destroy();
    },
  };
}
