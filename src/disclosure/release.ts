/**
 * The one road by which a person's data reaches anyone but its owner:
 *
 *   release({ reader, subject, basis, fields? })
 *     → one snapshot of the person's profile (or the one the request already read)
 *     → the policy engine decides, under what the basis grants
 *     → only the released fields are opened (decrypted)
 *     → the release is admitted and recorded: one statement checks the basis still live and appends the
 *       `data.released` event to the audit chain (src/disclosure/admission.repo.ts, batched by src/audit/queue.ts)
 *     → the values and the policy revision that released them, answered only once on record.
 *
 * The data API (src/features/data) and userinfo (src/oidc/index.ts) take it under an OAuth grant. A feature that
 * releases under something else (a share, an emergency access, a document link, a health link) does not write
 * another release path: it adds its basis — a member of `Basis` (src/disclosure/basis.ts) and a `BasisKind` with
 * the audit fact that names it (`share_id`), its other facts, what it grants the engine, its liveness check (SQL
 * locking the live rows, held by the module that owns the table) and its refusal — passes the kind to
 * createDisclosure in src/service.ts, and calls `deps.disclosure.release`.
 */
import type { Config } from '../config.ts';
import type { Keyring } from '../crypto/envelope.ts';
import { AuditQueue } from '../audit/queue.ts';
import type { PolicyEngine, Reader } from '../policy/engine.ts';
import type { Policies } from '../policy/load.ts';
import type { Db } from '../store/db.ts';
import { admitReleases } from './admission.repo.ts';
import type { Basis, BasisKind, BasisKinds } from './basis.ts';
import { readProfileSnapshot, ringsOf, type ProfileSnapshot } from './snapshot.repo.ts';
import { valuesFromSnapshot } from './values.ts';

/** What the pipeline needs from the service. */
export interface DisclosureDeps {
  db: Db;
  keyring: Keyring;
  config: Pick<Config, 'baseUrl' | 'auditWriters'>;
  policy: { policies: Policies; engine: PolicyEngine };
}

/** The readers the pipeline releases to: services, and readers known only by role (a responder comes with its basis). */
export type ServiceReader = Extract<Reader, { kind: 'service' }>;

/** A reader known only by its role, named in the audit log by `actor` (a doctor through a health link: `health_link:<id>`). */
export interface RoleReader {
  kind: 'role';
  role: string;
  actor: string;
}

export interface ReleaseRequest {
  reader: ServiceReader | RoleReader;
  /** The person whose data is released (their user id). */
  subject: string;
  basis: Basis;
  /** Only these fields (by name), of those the engine releases; all of them when omitted. */
  fields?: readonly string[];
  /** The person's snapshot when the request already read it (the data API reads it with the token). */
  snapshot?: ProfileSnapshot;
  /** The reader's address; absent for a release no request asked for (a pushed security event). */
  clientIp?: string;
  /** The road, recorded as `via` where it is not the data API (`userinfo`). */
  via?: string;
  /**
   * Values that go with released ones — statements about them, such as OpenID's `email_verified` about `email` —
   * answered and recorded with them; computed after the decision, before the admission.
   */
  companions?(values: Readonly<Record<string, unknown>>, released: readonly string[]): Promise<Record<string, unknown>>;
  /**
   * `false`: no field's value is opened or answered; the release is of the companions the decision admits, by the
   * fields it released (`released`: a health link's records, each governed by a field).
   */
  openValues?: boolean;
  /** `if-released`: a release of nothing is neither admitted nor recorded (userinfo, whose answer is then `sub`). */
  record?: 'always' | 'if-released';
}

interface Release {
  /** The released fields' values (the readable part of each). */
  values: Record<string, unknown>;
  /** The companion values (ReleaseRequest.companions). */
  companions: Record<string, unknown>;
  /** The names recorded as released: the fields and their companions, sorted. */
  fields: string[];
  policyRevision: string;
}

export interface Disclosure {
  /** Releases what the engine allows under `basis`; resolves once on record, rejects with the basis's refusal. */
  release(request: ReleaseRequest): Promise<Release>;
}

/** The pipeline over one database, with the kinds of basis the service releases under. */
export function createDisclosure(deps: DisclosureDeps, kinds: BasisKinds): Disclosure {
  const { engine } = deps.policy;
  // Releases of many requests are admitted and recorded together: one statement per batch.
  const log = new AuditQueue(deps.db, { admit: admitReleases(kinds), maxWriters: deps.config.auditWriters });
  return {
    async release(request) {
      const { reader, subject, basis } = request;
      // The kind of this basis's own kind (the map's type pairs them; TypeScript cannot follow the pairing here).
      const kind = kinds[basis.kind] as BasisKind;
      const snapshot = request.snapshot?.profile.user_id === subject ? request.snapshot : await readProfileSnapshot(deps.db, subject);
      let values: Record<string, unknown> = {};
      let policyRevision = engine.revision;
      let released: string[] = [];
      // Every person has a profile from registration on; without one there is nothing to release.
      if (snapshot) {
        const decision = engine.decide(reader, ringsOf(snapshot), kind.grant(basis));
        let names = decision.fields.map((f) => f.split('.')[0]);
        if (request.fields) names = names.filter((n) => request.fields!.includes(n));
        released = names;
        if (request.openValues !== false) values = decision.project(valuesFromSnapshot(deps, snapshot, names));
        policyRevision = decision.revision;
      }
      const companions = request.companions ? await request.companions(values, released) : {};
      const fields = [...Object.keys(values), ...Object.keys(companions)].sort();
      if (fields.length > 0 || request.record !== 'if-released') {
        await log.record({
          action: 'data.released',
          actor: reader.kind === 'service' ? `service:${reader.clientId}` : reader.actor,
          subject: `user:${subject}`,
          clientIp: request.clientIp,
          data: { ...kind.facts(basis), ...(request.via ? { via: request.via } : {}), fields, policy_revision: policyRevision },
        });
      }
      return { values, companions, fields, policyRevision };
    },
  };
}
