/**
 * What entitles a reader to a release — its basis — and how the pipeline admits a release under each kind of it.
 * Every kind is one member of `Basis` and one `BasisKind`, passed to createDisclosure where the service is
 * assembled (src/service.ts): the type makes a member without its kind fail to compile there.
 */
import type { Grant } from '../policy/engine.ts';

/** An OAuth grant the person gave a service (the data API, userinfo): live while the provider still holds it. */
export interface GrantBasis {
  kind: 'grant';
  grantId: string;
  clientId: string;
  /** The scopes the request carries, no more than the grant still allows. */
  scopes: readonly string[];
}

/**
 * A health link the person sent to a doctor's e-mail (src/features/health): live until it expires or is revoked;
 * its reader is the doctor who proved control of that address.
 */
export interface HealthLinkBasis {
  kind: 'health_link';
  linkId: string;
}

/**
 * A share the person made for a service (share-create, or an approved request): an SD-JWT VC carrying only the
 * fields chosen. Live while the share row is neither revoked nor expired (src/features/shares/shares.repo.ts).
 */
export interface ShareBasis {
  kind: 'share';
  shareId: string;
  clientId: string;
  /** The scopes that cover the fields chosen: what the person's choice grants, narrowed to them by the release. */
  scopes: readonly string[];
}

/**
 * An emergency access opened (break-the-glass, seed API 5) by a verified responder or a trusted contact: live until
 * the person ends it, its setup is deleted, or it expires (src/features/emergency/basis.ts).
 */
export interface EmergencyBasis {
  kind: 'emergency';
  /** The access log entry the opening wrote (emergency_openings.id). */
  accessLogId: string;
  /** The condition asserted, one the person allowed. */
  criterion: string;
  /** `emergency` and the scopes covering the profile fields the person's setup refers to. */
  scopes: readonly string[];
  /** Who opened it: a member of a responder organisation's roster, or a trusted contact (a Ringfence user). */
  opener: { kind: 'responder'; clientId: string; responderId: string } | { kind: 'contact'; userId: string };
}

/**
 * A document the person linked to a service (src/features/documents), read by that service under the person's
 * grant: live while both the link and the grant are. Its references release only to a role the document names,
 * and only what the engine allows under the grant's scopes.
 */
export interface DocumentBasis {
  kind: 'document';
  documentId: string;
  /** The link sharing the document with the service (document_links.id). */
  linkId: string;
  /** The grant the service's token was issued under. */
  grantId: string;
  clientId: string;
  /** The scopes the request carries, no more than the grant still allows. */
  scopes: readonly string[];
}

/**
 * A document the person linked to a service, read by that service as itself (a client credentials token), with no
 * grant of the person needed: the link is the person's choice to share exactly this document with this service, so
 * it grants the engine the scopes covering the document's references, and no more is released than those. Live
 * while the link is. A service told of a change through a document it holds (src/features/deliveries) reads it so.
 */
export interface DocumentLinkBasis {
  kind: 'document_link';
  documentId: string;
  /** The link sharing the document with the service (document_links.id). */
  linkId: string;
  clientId: string;
  /** The scopes covering the document's references. */
  scopes: readonly string[];
}

/**
 * What entitles a reader to a release: one member per kind of basis, each with its BasisKind (registered in
 * src/service.ts, BASIS_KINDS).
 */
export type Basis = GrantBasis | HealthLinkBasis | ShareBasis | EmergencyBasis | DocumentBasis | DocumentLinkBasis;

/** How releases under one kind of basis are decided, admitted and recorded. */
export interface BasisKind<B extends Basis = Basis> {
  /**
   * The audit fact that names the basis on the `data.released` event (`grant_id`): admission reads it to find the
   * event's basis, so no two kinds may share one.
   */
  readonly idFact: string;
  /** What the person granted through this basis, as the policy engine takes it (scopes, break-the-glass). */
  grant(basis: B): Grant;
  /** The basis's own facts on the `data.released` event: its id fact among them, and what names the reader. */
  facts(basis: B): Record<string, string>;
  /**
   * The liveness check, as a query for the admission statement: `select id from … where id = any(?::text[]) and
   * <still live> order by id for key share`. It takes the ids of the batch (its one `?`), answers those still live
   * and locks each of them — the weakest lock the basis's revocation (a DELETE, or an UPDATE of its key) waits
   * for, in id order — so that a revocation either committed before the statement (the id is not answered) or
   * waits until the release is on record. Its revocation must take the row lock before the audit chain's lock, as
   * the statement does.
   */
  readonly liveIds: string;
  /** The error a release fails with when its basis is no longer live (its request answers it). */
  refused(): Error;
}

/** Every kind of basis, by its `kind`. */
export type BasisKinds = { readonly [K in Basis['kind']]: BasisKind<Extract<Basis, { kind: K }>> };
