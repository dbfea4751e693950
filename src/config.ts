/**
 * All configuration, read once from the environment, validated and frozen. This is the only module that reads
 * `process.env`; everything else receives a `Config`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The API contract, openapi.yaml at the repository's root: the routes are built from it and it is served as is. */
export const SPEC_PATH = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly env: 'production' | 'development' | 'test';
  readonly port: number;
  readonly host: string;
  readonly baseUrl: string;
  readonly databaseUrl: string | undefined;
  /** A streaming replica of databaseUrl: the public directory reads it; nothing authorization-relevant ever does. */
  readonly databaseReplicaUrl: string | undefined;
  readonly dataDir: string;
  /** Where the policy files are read from; undefined: the policies/ this release ships. */
  readonly policiesDir: string | undefined;
  /** 32-byte key-encryption key, when given; otherwise one is generated into `dataDir` outside production. */
  readonly masterKey: Buffer | undefined;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly logLevel: LogLevel;
  /** Origins allowed by CORS; empty means CORS is off. */
  readonly corsOrigins: readonly string[];
  /** Largest JSON or urlencoded body accepted, in bytes. */
  readonly bodyLimit: number;
  /** Largest multipart upload accepted (all files together), in bytes. */
  readonly uploadLimit: number;
  /** Trust X-Forwarded-For/-Proto from a reverse proxy: the client address used by throttles and the audit log. */
  readonly trustProxy: boolean;
  /** Registrations accepted from one client address in an hour. */
  readonly registrationsPerAddress: number;
  /** Days a delivered outbox message is kept before it is purged. */
  readonly outboxRetentionDays: number;
  /** Whether webhooks may go to loopback and private addresses in production (WEBHOOKS_TO_PRIVATE_ADDRESSES). */
  readonly webhooksToPrivateAddresses: boolean;
  /** Whether this instance delivers the outbox (mail, webhooks, back-channel logouts); false leaves it to the instances that do. */
  readonly outboxWorker: boolean;
  /** Seconds between signed audit checkpoints (src/audit/checkpoints.ts); 0 leaves them to other instances. */
  readonly auditCheckpointSeconds: number;
  /** How many of the newest checkpoints keep their leaves (the heads they cover). */
  readonly auditCheckpointKeep: number;
  /** Audit batches of different people one instance writes at once (src/audit/queue.ts). */
  readonly auditWriters: number;
  /** Seconds a worker's claim on an outbox message lasts unless renewed (it is, while the delivery runs); every timeout of a delivery is shorter. */
  readonly outboxLeaseSeconds: number;
  /** Messages one worker delivers at once (one pass claims this many). */
  readonly outboxConcurrency: number;
  /** Seconds a share's verification token (SD-JWT VC) is valid. */
  readonly shareTokenTtlSeconds: number;
  /** Seconds verifiers may cache a status list (its `ttl` and Cache-Control max-age). */
  readonly shareStatusTtlSeconds: number;
  /** Seconds a service's request for a share waits for the person's answer. */
  readonly shareRequestTtlSeconds: number;
  /** Master keys being rotated away from: they still open data keys until `keys rotate-master` has re-wrapped them. */
  readonly previousMasterKeys: readonly Buffer[];
  /** How long an authentication counts as recent for the operations marked `x-step-up` in openapi.yaml. */
  readonly stepUpMaxAgeSeconds: number;
  /** Requests one service may make of one person in an hour. */
  readonly shareRequestsPerHour: number;
  /** Emergency grant attempts in an hour: per responder organisation, per responder, and per person. */
  readonly emergencyGrantsPerOrganisation: number;
  readonly emergencyGrantsPerResponder: number;
  readonly emergencyGrantsPerPerson: number;
}

interface Setting {
  description: string;
  parse: (raw: string | undefined, env: NodeJS.ProcessEnv) => unknown;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(name: string, min: number, max: number, fallback: number) {
  return (raw: string | undefined) => {
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** `true` or `false`; unset or empty is false. */
function boolean(name: string) {
  return (raw: string | undefined) => {
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    throw new Error(`${name} must be true or false, got "${raw}"`);
  };
}

function url(name: string, protocols: readonly string[]) {
  return (raw: string | undefined) => {
    if (raw === undefined || raw === '') return undefined;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`${name} must be a URL (${protocols.join(', ')}), got something that is not a URL`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new Error(`${name} must use one of ${protocols.join(', ')}, got "${parsed.protocol}"`);
    }
    return raw;
  };
}

/** Accepts 32 bytes as 64 hex characters or as base64/base64url. */
export function parseMasterKey(raw: string): Buffer {
  const trimmed = raw.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64url');
  if (key?.length !== 32) {
    throw new Error(
      'RINGFENCE_MASTER_KEY must be 32 random bytes as 64 hex characters or 43/44 base64 characters ' +
        "(generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\")",
    );
  }
  return key;
}

const SETTINGS: Record<string, Setting> = {
  NODE_ENV: {
    description: 'production, development (default) or test',
    parse: (raw) => {
      const v = raw === undefined || raw === '' ? 'development' : raw;
      if (!['production', 'development', 'test'].includes(v)) {
        throw new Error(`NODE_ENV must be production, development or test, got "${v}"`);
      }
      return v;
    },
  },
  PORT: { description: 'TCP port to listen on (default 8000)', parse: integer('PORT', 0, 65535, 8000) },
  HOST: {
    description: 'address to bind (default 0.0.0.0)',
    parse: (raw) => (raw === undefined || raw === '' ? '0.0.0.0' : raw),
  },
  BASE_URL: {
    description: 'public URL of the service, used in links and as the OIDC issuer base (default http://localhost:PORT)',
    parse: url('BASE_URL', ['http:', 'https:']),
  },
  DATABASE_URL: {
    description: 'PostgreSQL connection URL; when absent the embedded PGlite database in DATA_DIR is used',
    parse: url('DATABASE_URL', ['postgres:', 'postgresql:']),
  },
  DATABASE_REPLICA_URL: {
    description:
      'PostgreSQL connection URL of a streaming read replica of DATABASE_URL, for reads that may be slightly stale (the public ' +
      'directory only); authorization always reads DATABASE_URL. When absent every read goes to DATABASE_URL',
    parse: url('DATABASE_REPLICA_URL', ['postgres:', 'postgresql:']),
  },
  DATA_DIR: {
    description: 'directory for the embedded database and the development master key (default ./data)',
    parse: (raw) => path.resolve(raw === undefined || raw === '' ? 'data' : raw),
  },
  POLICIES_DIR: {
    description: 'directory of the policy files (default: the policies/ of this release); every instance must serve the revision in force',
    parse: (raw) => (raw === undefined || raw === '' ? undefined : path.resolve(raw)),
  },
  RINGFENCE_MASTER_KEY: {
    description: 'key-encryption key: 32 bytes as hex or base64; required in production',
    parse: (raw) => (raw === undefined || raw === '' ? undefined : parseMasterKey(raw)),
  },
  SMTP_URL: {
    description: 'SMTP server for outgoing mail (smtp:// or smtps://); without it mail stays in the outbox and is logged',
    parse: url('SMTP_URL', ['smtp:', 'smtps:']),
  },
  MAIL_FROM: {
    description: 'sender address of outgoing mail (default Ringfence <no-reply@localhost>)',
    parse: (raw) => (raw === undefined || raw === '' ? 'Ringfence <no-reply@localhost>' : raw),
  },
  LOG_LEVEL: {
    description: `one of ${LOG_LEVELS.join(', ')} (default info)`,
    parse: (raw) => {
      const v = raw === undefined || raw === '' ? 'info' : raw;
      if (!LOG_LEVELS.includes(v as LogLevel)) {
        throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
      }
      return v;
    },
  },
  CORS_ORIGINS: {
    description: 'comma-separated origins allowed by CORS (default: none, CORS off)',
    parse: (raw) => {
      if (raw === undefined || raw.trim() === '') return [];
      return raw.split(',').map((o) => {
        const origin = o.trim();
        try {
          const u = new URL(origin);
          if (u.origin !== origin) throw new Error('not an origin');
        } catch {
          throw new Error(`CORS_ORIGINS entries must be origins like https://app.example, got "${origin}"`);
        }
        return origin;
      });
    },
  },
  BODY_LIMIT: {
    description: 'largest JSON or form body in bytes (default 1 MiB)',
    parse: integer('BODY_LIMIT', 1024, 64 * 1024 * 1024, 1024 * 1024),
  },
  TRUST_PROXY: {
    description: 'true when a reverse proxy sets X-Forwarded-For/-Proto (default false: never trust those headers); required with an https BASE_URL',
    parse: boolean('TRUST_PROXY'),
  },
  UPLOAD_LIMIT: {
    description: 'largest multipart upload in bytes (default 10 MiB)',
    parse: integer('UPLOAD_LIMIT', 1024, 512 * 1024 * 1024, 10 * 1024 * 1024),
  },
  REGISTRATIONS_PER_ADDRESS: {
    description: 'registrations accepted from one client address in an hour (default 10); raise it for many people behind one address',
    parse: integer('REGISTRATIONS_PER_ADDRESS', 1, 1_000_000, 10),
  },
  OUTBOX_RETENTION_DAYS: {
    description: 'days a delivered mail is kept in the outbox before it is purged (default 7)',
    parse: integer('OUTBOX_RETENTION_DAYS', 1, 3650, 7),
  },
  AUDIT_CHECKPOINT_SECONDS: {
    description:
      'seconds between signed checkpoints of the audit log, a Merkle tree over every chain head (default 60; docs/audit-chains.md); 0: this instance writes none and leaves them to the others',
    parse: integer('AUDIT_CHECKPOINT_SECONDS', 0, 86400, 60),
  },
  AUDIT_WRITERS: {
    description:
      "audit batches of different people this instance writes at once (default 1); each person's chain has its own lock, so raise it where the database's commit latency, not its CPU, bounds disclosures: on a CPU-bound database more writers mean smaller batches and more statements",
    parse: integer('AUDIT_WRITERS', 1, 32, 1),
  },
  AUDIT_CHECKPOINT_KEEP: {
    description: 'how many of the newest audit checkpoints keep the chain heads they cover, which verify checks the chains against (default 24)',
    parse: integer('AUDIT_CHECKPOINT_KEEP', 1, 100000, 24),
  },
  SHARE_TOKEN_TTL_SECONDS: {
    description: "seconds a share's verification token (SD-JWT VC) is valid (default 600: ten minutes)",
    parse: integer('SHARE_TOKEN_TTL_SECONDS', 30, 86_400, 600),
  },
  SHARE_STATUS_TTL_SECONDS: {
    description: 'seconds verifiers may cache a status list before fetching it again (default 60); a revocation shows within it',
    parse: integer('SHARE_STATUS_TTL_SECONDS', 1, 3600, 60),
  },
  SHARE_REQUEST_TTL_SECONDS: {
    description: "seconds a service's request for a share waits for the person's answer before it expires (default 86400: a day)",
    parse: integer('SHARE_REQUEST_TTL_SECONDS', 60, 30 * 86_400, 86_400),
  },
  SHARE_REQUESTS_PER_HOUR: {
    description: 'requests for a share one service may make of one person in an hour (default 3)',
    parse: integer('SHARE_REQUESTS_PER_HOUR', 1, 10_000, 3),
  },
  EMERGENCY_GRANTS_PER_ORGANISATION: {
    description: 'emergency access attempts one responder organisation may make in an hour (default 200)',
    parse: integer('EMERGENCY_GRANTS_PER_ORGANISATION', 1, 1_000_000, 200),
  },
  EMERGENCY_GRANTS_PER_RESPONDER: {
    description: 'emergency access attempts one responder of an organisation may make in an hour (default 20)',
    parse: integer('EMERGENCY_GRANTS_PER_RESPONDER', 1, 1_000_000, 20),
  },
  EMERGENCY_GRANTS_PER_PERSON: {
    description: "emergency access attempts on one person's information in an hour, by anyone (default 10)",
    parse: integer('EMERGENCY_GRANTS_PER_PERSON', 1, 1_000_000, 10),
  },
  WEBHOOKS_TO_PRIVATE_ADDRESSES: {
    description:
      'true lets webhooks go to loopback and private addresses in production (services on the same network); default false: only public ones (SSRF guard). Outside production they always may',
    parse: boolean('WEBHOOKS_TO_PRIVATE_ADDRESSES'),
  },
  OUTBOX_WORKER: {
    description:
      'false: this instance serves requests only and leaves delivering the outbox (mail, webhooks, back-channel logouts) to the instances where it is true; default true. What is queued waits durably until some instance delivers it',
    parse: (raw) => (raw === undefined || raw === '' ? true : raw === 'false' ? false : boolean('OUTBOX_WORKER')(raw)),
  },
  OUTBOX_LEASE_SECONDS: {
    description:
      "seconds a worker's claim on an outbox message lasts unless renewed (default 60); renewed every third of it while the delivery runs, and SMTP and webhook timeouts are half of it, so a crashed instance's messages are taken over after at most this long",
    parse: integer('OUTBOX_LEASE_SECONDS', 1, 3600, 60),
  },
  OUTBOX_CONCURRENCY: {
    description: 'outbox messages one worker delivers at once (default 20)',
    parse: integer('OUTBOX_CONCURRENCY', 1, 500, 20),
  },
  RINGFENCE_PREVIOUS_MASTER_KEYS: {
    description: 'comma-separated master keys being rotated away from (npm run keys -- rotate-master); remove once it has finished',
    parse: (raw) =>
      raw === undefined || raw.trim() === ''
        ? []
        : raw
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean)
            .map((k) => parseMasterKey(k)),
  },
  STEP_UP_MAX_AGE_SECONDS: {
    description: 'seconds a sign-in counts as recent for sensitive operations (step-up; default 300)',
    parse: integer('STEP_UP_MAX_AGE_SECONDS', 30, 86_400, 300),
  },
};

/** The settings with their descriptions, for the README and `--help` output. */
const CONFIG_DESCRIPTIONS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.description]));

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Reads and validates every setting; throws one ConfigError listing every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(SETTINGS)) {
    try {
      values[name] = setting.parse(env[name], env);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length === 0 && values.NODE_ENV === 'production' && values.RINGFENCE_MASTER_KEY === undefined) {
    problems.push('RINGFENCE_MASTER_KEY is required in production (32 bytes as hex or base64)');
  }
  // The server (main.ts) speaks plain HTTP, so an https BASE_URL means a TLS-terminating proxy in front; unless its
  // X-Forwarded-Proto is trusted, every request looks unencrypted and the provider's secure cookies cannot be set
  // (every /oidc/auth would answer 500).
  if (problems.length === 0 && String(values.BASE_URL ?? '').startsWith('https:') && values.TRUST_PROXY !== true) {
    problems.push(
      'BASE_URL is https:// but TRUST_PROXY is false: Ringfence serves plain HTTP behind a TLS-terminating reverse proxy, ' +
        'so set TRUST_PROXY=true (the proxy must set X-Forwarded-Proto: https and X-Forwarded-For), or sign-in cannot set its secure cookies',
    );
  }
  if (problems.length === 0 && values.DATABASE_REPLICA_URL !== undefined && values.DATABASE_URL === undefined) {
    problems.push('DATABASE_REPLICA_URL needs DATABASE_URL: a replica is of a PostgreSQL primary, never of the embedded database');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const port = values.PORT as number;
  const config: Config = {
    env: values.NODE_ENV as Config['env'],
    port,
    host: values.HOST as string,
    baseUrl: ((values.BASE_URL as string | undefined) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl: values.DATABASE_URL as string | undefined,
    databaseReplicaUrl: values.DATABASE_REPLICA_URL as string | undefined,
    dataDir: values.DATA_DIR as string,
    policiesDir: values.POLICIES_DIR as string | undefined,
    masterKey: values.RINGFENCE_MASTER_KEY as Buffer | undefined,
    smtpUrl: values.SMTP_URL as string | undefined,
    mailFrom: values.MAIL_FROM as string,
    logLevel: values.LOG_LEVEL as LogLevel,
    corsOrigins: values.CORS_ORIGINS as string[],
    bodyLimit: values.BODY_LIMIT as number,
    uploadLimit: values.UPLOAD_LIMIT as number,
    trustProxy: values.TRUST_PROXY as boolean,
    registrationsPerAddress: values.REGISTRATIONS_PER_ADDRESS as number,
    outboxRetentionDays: values.OUTBOX_RETENTION_DAYS as number,
    webhooksToPrivateAddresses: values.WEBHOOKS_TO_PRIVATE_ADDRESSES as boolean,
    outboxWorker: values.OUTBOX_WORKER as boolean,
    auditCheckpointSeconds: values.AUDIT_CHECKPOINT_SECONDS as number,
    auditCheckpointKeep: values.AUDIT_CHECKPOINT_KEEP as number,
    auditWriters: values.AUDIT_WRITERS as number,
    outboxLeaseSeconds: values.OUTBOX_LEASE_SECONDS as number,
    outboxConcurrency: values.OUTBOX_CONCURRENCY as number,
    shareTokenTtlSeconds: values.SHARE_TOKEN_TTL_SECONDS as number,
    shareStatusTtlSeconds: values.SHARE_STATUS_TTL_SECONDS as number,
    shareRequestTtlSeconds: values.SHARE_REQUEST_TTL_SECONDS as number,
    previousMasterKeys: values.RINGFENCE_PREVIOUS_MASTER_KEYS as Buffer[],
    stepUpMaxAgeSeconds: values.STEP_UP_MAX_AGE_SECONDS as number,
    shareRequestsPerHour: values.SHARE_REQUESTS_PER_HOUR as number,
    emergencyGrantsPerOrganisation: values.EMERGENCY_GRANTS_PER_ORGANISATION as number,
    emergencyGrantsPerResponder: values.EMERGENCY_GRANTS_PER_RESPONDER as number,
    emergencyGrantsPerPerson: values.EMERGENCY_GRANTS_PER_PERSON as number,
    ...overrides,
  };
  return Object.freeze(config);
}
