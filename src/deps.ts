/**
 * The composition root's types: what is assembled once at start (AppDeps) and the contract between the spec-driven
 * router and the feature handlers. The layers under the features define the narrow dependencies they take
 * themselves; nothing below the features imports this file (.dependency-cruiser.cjs).
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Keyring } from './crypto/envelope.ts';
import type { IssuerJwk } from './crypto/issuer-keys.ts';
import type { LiveKeys } from './crypto/signing-keys.ts';
import type { Outbox } from './notify/outbox.ts';
import type { Db } from './store/db.ts';
import type { Disclosure } from './disclosure/release.ts';
import type { ProfileSnapshot } from './disclosure/snapshot.repo.ts';
import type { OidcDeps } from './oidc/index.ts';
import type { ServiceCaller } from './oidc/resource.ts';
import type { PolicyEngine } from './policy/engine.ts';
import type { Policies } from './policy/load.ts';

/** Everything a handler may use; built once in main.ts (or a test) and passed to createApp. */
export interface AppDeps {
  config: Config;
  db: Db;
  /**
   * Reads that may be slightly stale — the public directory, nothing else — go here: a streaming replica's pool when
   * DATABASE_REPLICA_URL is set, else (or when absent) `db`. Anything that admits, refuses or scopes access reads
   * `db`, the primary, always (src/store/db.ts `Store.replica`).
   */
  replica?: Db;
  storeKind: 'postgres' | 'pglite';
  keyring: Keyring;
  outbox: Outbox;
  logger: Logger;
  /**
   * The policy files in force, and the engine every non-owner read asks: loaded at start, switched when another
   * revision comes into force (src/policy/revision.ts). Read `policies` where it is used, never keep it.
   */
  policy: { readonly policies: Policies; engine: PolicyEngine };
  /** The credential issuer keys as this instance follows them: `active[0]` signs shares, `published` verify. */
  issuerKeys: LiveKeys<IssuerJwk>;
  /** The one road of every release of a person's data to anyone but its owner (src/disclosure/release.ts). */
  disclosure: Disclosure;
  oidc: OidcDeps;
}

export type Caller =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: string;
      sessionId: string;
      expiresAt: Date;
      /** When and how this login last proved who it is (step-up, openapi.yaml `x-step-up`); null before issue 18. */
      authAt?: Date | null;
      authMethod?: string | null;
    }
  | ServiceCaller;

export interface UploadedFile {
  field: string;
  filename: string;
  /** The type the client claimed; handlers check content, never trust this. */
  mimeType: string;
  data: Buffer;
}

export interface RequestInput {
  operationId: string;
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  files: Record<string, UploadedFile>;
  caller: Caller;
  /** The raw credential that resolved the caller (needed by logout and verify). */
  credential: string | undefined;
  /** The person's profile as read with the caller's credential (the data API's token), for the release it serves. */
  snapshot?: ProfileSnapshot;
  clientIp: string;
  requestId: string;
  ctx: Context;
}

/** A response other than the default `{status: "success", ...body}` JSON with the spec's success status. */
export class Reply {
  readonly status: number | undefined;
  readonly body: unknown;
  readonly type: string | undefined;
  readonly headers: Record<string, string>;
  constructor(body: unknown, options: { status?: number; type?: string; headers?: Record<string, string> } = {}) {
    this.body = body;
    this.status = options.status;
    this.type = options.type;
    this.headers = options.headers ?? {};
  }
}

type HandlerResult = Record<string, unknown> | Reply;
export type Handler = (input: RequestInput, deps: AppDeps) => Promise<HandlerResult> | HandlerResult;

/**
 * Resolves the caller for one security scheme: undefined when the request carries no such credential, a thrown
 * Unauthenticated when it carries a bad one.
 */
export type SecurityResolver = (
  ctx: Context,
  deps: AppDeps,
) => Promise<{ caller: Caller; credential: string; snapshot?: ProfileSnapshot } | undefined>;
