/**
 * Break the glass (seed API 4 and 5). A person sets up in advance what an emergency responder may see (medical
 * items, and references to profile fields so that those stay current), under which conditions, and who their
 * trusted contacts are; it is sealed under a data key of its own (setup.ts). In an emergency a verified responder
 * (an active member of a responder organisation's roster) or a trusted contact opens it: the opening is written to
 * the access log and the audit chain with the person's and every contact's notification, then released through the
 * disclosure pipeline under an EmergencyBasis — admitted and on record before it is answered. Every refused
 * attempt is on the audit chain too.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import { sha256Hex } from '../../crypto/tokens.ts';
import type { AppDeps, Caller } from '../../deps.ts';
import type { EmergencyBasis } from '../../disclosure/basis.ts';
import type { RoleReader, ServiceReader } from '../../disclosure/release.ts';
import {
  CriterionNotAllowed,
  EmergencyAccessNotFound,
  EmergencyFieldsMissing,
  NotAnEmergencyResponder,
  ResponderInactive,
  ResponderNotVerified,
  TooManyRequests,
  type AppError,
} from '../../errors.ts';
import { getService } from '../../oidc/services.ts';
import { readUserFields } from '../../profiles/profile.repo.ts';
import { withTransaction } from '../../store/db.ts';
import { emailIndex } from '../accounts/email.ts';
import { findResponder } from '../responders/responders.repo.ts';
import { RESPONDER_ROLE } from '../responders/responders.ts';
import {
  findEmergencyByCard,
  findEmergencyByUser,
  findUserIdByEmailIndex,
  insertOpening,
  hasVerifiedEmail,
  setOpeningFields,
  takeThrottle,
  type EmergencyRow,
} from './emergency.repo.ts';
import { contactStates, MEDICAL_ITEMS, openSetup, sealReason, type Setup } from './setup.ts';

const HOUR = 3600;

/** What a grant or a contact's opening asks for. */
interface OpenRequest {
  reason: string;
  criterion: string;
  /** The person: by e-mail, or by the opaque id of their emergency card. */
  email?: string;
  cardId?: string;
}

/** What an opened access answers: exactly the predefined information. */
export interface OpenedAccess {
  emergency_info: Record<string, unknown>;
  access_log_id: string;
  criterion: string;
  expires_at: string;
}

type Refusal = 'wrong_role' | 'not_on_roster' | 'responder_inactive' | 'no_setup' | 'criterion_not_allowed' | 'not_a_contact' | 'rate_limited';

/** Writes a refused attempt to the audit chain (never the e-mail or card id asked for), then answers `error`. */
async function refuse(
  deps: AppDeps,
  actor: string,
  clientIp: string,
  why: Refusal,
  facts: Record<string, string | undefined>,
  error: AppError,
  subject?: string,
): Promise<never> {
  await recordAudit(deps.db, {
    action: 'emergency.refused',
    actor,
    ...(subject ? { subject: `user:${subject}` } : {}),
    clientIp,
    data: { refusal: why, ...Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) },
  });
  throw error;
}

/** The seed's check of a grant's body: its three fields, and the criterion asserted. */
function parseGrantBody(body: Record<string, unknown>): OpenRequest & { responderId: string } {
  const text = (k: string) => (typeof body[k] === 'string' && (body[k] as string).trim() !== '' ? (body[k] as string).trim() : undefined);
  const responderId = text('responder_id');
  const reason = text('reason');
  const email = text('email');
  const cardId = text('card_id');
  const missing = [...(responderId ? [] : ['responder_id']), ...(reason ? [] : ['reason']), ...(email || cardId ? [] : ['email'])];
  if (missing.length > 0) {
    throw new EmergencyFieldsMissing(undefined, {
      details: missing.map((path) => ({ path, message: path === 'email' ? 'is required (or card_id, from the emergency card)' : 'is required' })),
    });
  }
  const criterion = text('criterion');
  if (!criterion) {
    throw new EmergencyFieldsMissing('criterion must exist!: name the condition you observe (e.g. unconsciousness)', {
      details: [{ path: 'criterion', message: 'is required' }],
    });
  }
  return { responderId: responderId!, reason: reason!, criterion, ...(email ? { email } : {}), ...(cardId ? { cardId } : {}) };
}

const NO_SETUP = () =>
  new EmergencyAccessNotFound(
    'no emergency access is set up for this person: nothing can be released (the same answer whether or not the address has an account)',
  );

async function locate(deps: AppDeps, request: OpenRequest): Promise<EmergencyRow | undefined> {
  if (request.cardId) return findEmergencyByCard(deps.db, sha256Hex(request.cardId));
  const userId = await findUserIdByEmailIndex(deps.db, emailIndex(deps.keyring, request.email!));
  return userId ? findEmergencyByUser(deps.db, userId) : undefined;
}

/** Counts an attempt under `key`; a 429 once `max` were made in the hour. */
async function throttle(deps: AppDeps, key: string, max: number, what: string): Promise<void> {
  if (!(await takeThrottle(deps.db, `emergency:${key}`, max, HOUR))) {
    throw new TooManyRequests(`too many emergency access attempts ${what}: try again later`, HOUR);
  }
}

/** The scopes covering these profile fields (the grant the engine judges the release under), with `emergency`. */
function scopesCovering(deps: AppDeps, fields: readonly string[]): string[] {
  const { policies } = deps.policy;
  const scopes = new Set(['emergency']);
  for (const [name, def] of policies.scopes) {
    if ([...def.leaves].some((leaf) => fields.includes(policies.leafField.get(leaf) ?? ''))) scopes.add(name);
  }
  return [...scopes].sort();
}

/** Seed API 5: a verified responder of the calling organisation breaks the glass. */
export async function grantAsResponder(deps: AppDeps, caller: Caller, body: Record<string, unknown>, clientIp: string): Promise<OpenedAccess> {
  if (caller.kind !== 'service' || caller.accountId) throw new Error('a grant needs a client credentials caller');
  const request = parseGrantBody(body);
  const actor = `service:${caller.clientId}`;
  const facts = { client_id: caller.clientId, responder_id: request.responderId, criterion: request.criterion };
  if (caller.role !== RESPONDER_ROLE) {
    await refuse(
      deps,
      actor,
      clientIp,
      'wrong_role',
      { ...facts, role: caller.role },
      new NotAnEmergencyResponder(`only services of role ${RESPONDER_ROLE} may break the glass; this service's role is ${caller.role}`),
    );
  }
  await throttle(deps, `org:${caller.clientId}`, deps.config.emergencyGrantsPerOrganisation, 'by this organisation');
  await throttle(deps, `responder:${caller.clientId}:${request.responderId}`, deps.config.emergencyGrantsPerResponder, 'by this responder');
  const responder = await findResponder(deps.db, caller.clientId, request.responderId);
  if (!responder) {
    await refuse(
      deps,
      actor,
      clientIp,
      'not_on_roster',
      facts,
      new ResponderNotVerified(`responder ${request.responderId} is not on your organisation's roster: add them with POST /api/v1/responders first`),
    );
  }
  if (!responder!.active) {
    await refuse(
      deps,
      actor,
      clientIp,
      'responder_inactive',
      facts,
      new ResponderInactive(`responder ${request.responderId} is deactivated on your roster`),
    );
  }
  const row = await locate(deps, request);
  if (!row) await refuse(deps, actor, clientIp, 'no_setup', { ...facts, by: request.cardId ? 'card' : 'email' }, NO_SETUP());
  await throttle(deps, `person:${row!.user_id}`, deps.config.emergencyGrantsPerPerson, "on this person's information");
  const setup = openSetup(deps.keyring, row!);
  if (!setup.criteria.conditions.includes(request.criterion)) {
    await refuse(
      deps,
      actor,
      clientIp,
      'criterion_not_allowed',
      facts,
      new CriterionNotAllowed(`the person did not allow emergency access under "${request.criterion}"`),
      row!.user_id,
    );
  }
  const organisation = await getService(deps.db, caller.clientId);
  return openAccess(deps, row!, setup, request, clientIp, {
    reader: { kind: 'service', clientId: caller.clientId, role: RESPONDER_ROLE },
    actor,
    opener: { kind: 'responder', clientId: caller.clientId, responderId: request.responderId },
    row: {
      opened_by: 'responder',
      client_id: caller.clientId,
      organisation: organisation.name,
      responder_id: responder!.responder_id,
      responder_name: responder!.name,
      contact_user_id: null,
    },
    who: `${responder!.name} (responder ${responder!.responder_id}, licence ${responder!.licence}) of ${organisation.name}`,
    via: 'emergency_grant',
  });
}

/** Use case 4, step 4: a trusted contact who is a Ringfence user opens the person's emergency access. */
export async function openAsContact(deps: AppDeps, userId: string, body: Record<string, unknown>, clientIp: string): Promise<OpenedAccess> {
  const text = (k: string) => (typeof body[k] === 'string' && (body[k] as string).trim() !== '' ? (body[k] as string).trim() : undefined);
  const request: OpenRequest = { reason: text('reason') ?? '', criterion: text('criterion') ?? '', email: text('email') ?? '' };
  const actor = `user:${userId}`;
  await throttle(deps, `contact:${userId}`, deps.config.emergencyGrantsPerResponder, 'by you');
  const row = await locate(deps, request);
  const me = await readUserFields(deps.db, deps.keyring, userId, ['name', 'email']);
  const verified = await hasVerifiedEmail(deps.db, userId);
  const setup = row && row.user_id !== userId ? openSetup(deps.keyring, row) : undefined;
  const myEmail = String(me.email ?? '').toLowerCase();
  const states = setup ? await contactStates(deps.db, row!.id) : new Map<string, Date | null>();
  const contact = setup?.trusted_contacts.find((c) => c.email.toLowerCase() === myEmail && states.has(c.id) && !states.get(c.id));
  // One answer for an unknown address, a person without a setup, and a person who did not name you: nothing here
  // tells a user who else has an account. The address must be verified: anyone can type someone else's.
  if (!setup || !contact || !verified)
    await refuse(deps, actor, clientIp, 'not_a_contact', { criterion: request.criterion }, NO_SETUP(), row?.user_id);
  await throttle(deps, `person:${row!.user_id}`, deps.config.emergencyGrantsPerPerson, "on this person's information");
  if (!setup!.criteria.conditions.includes(request.criterion)) {
    await refuse(
      deps,
      actor,
      clientIp,
      'criterion_not_allowed',
      { criterion: request.criterion },
      new CriterionNotAllowed(`the person did not allow emergency access under "${request.criterion}"`),
      row!.user_id,
    );
  }
  return openAccess(deps, row!, setup!, request, clientIp, {
    reader: { kind: 'role', role: RESPONDER_ROLE, actor },
    actor,
    opener: { kind: 'contact', userId },
    row: { opened_by: 'contact', client_id: null, organisation: null, responder_id: null, responder_name: contact!.name, contact_user_id: userId },
    who: `${contact!.name}, one of your trusted contacts`,
    via: 'emergency_contact',
  });
}

interface Opener {
  reader: ServiceReader | RoleReader;
  actor: string;
  opener: EmergencyBasis['opener'];
  row: {
    opened_by: 'responder' | 'contact';
    client_id: string | null;
    organisation: string | null;
    responder_id: string | null;
    responder_name: string | null;
    contact_user_id: string | null;
  };
  /** Who opened it, as the notifications say. */
  who: string;
  via: string;
}

/**
 * Opens an access: the access log entry, its audit event and every notification in one transaction, then the
 * release under the EmergencyBasis the entry is — admitted (the entry still live) and recorded before it answers.
 */
async function openAccess(deps: AppDeps, row: EmergencyRow, setup: Setup, request: OpenRequest, clientIp: string, by: Opener): Promise<OpenedAccess> {
  const id = randomUUID();
  const now = new Date();
  const expiresAt = new Date(now.getTime() + setup.criteria.access_minutes * 60_000);
  const referenced = setup.emergency_info.profile_fields ?? [];
  const person = await readUserFields(deps.db, deps.keyring, row.user_id, ['name', 'email']);
  const states = await contactStates(deps.db, row.id);
  await withTransaction(deps.db, async (trx) => {
    await insertOpening(trx, {
      id,
      access_id: row.id,
      user_id: row.user_id,
      ...by.row,
      criterion: request.criterion,
      reason_sealed: sealReason(deps.keyring, row, id, request.reason),
      fields: [],
      opened_at: now,
      expires_at: expiresAt,
    });
    await recordAudit(trx, {
      action: 'emergency.opened',
      actor: by.actor,
      subject: `user:${row.user_id}`,
      clientIp,
      data: {
        access_log_id: id,
        access_id: row.id,
        opened_by: by.row.opened_by,
        ...(by.row.client_id ? { client_id: by.row.client_id, responder_id: by.row.responder_id } : {}),
        criterion: request.criterion,
        expires_at: expiresAt.toISOString(),
      },
    });
    const when = `${now.toISOString()} (open until ${expiresAt.toISOString()})`;
    const personName = String(person.name ?? 'the person');
    const facts = `Who: ${by.who}\nReason given: ${request.reason}\nCondition asserted: ${request.criterion}\nWhen: ${when}\n`;
    await deps.outbox.enqueueMail(
      trx,
      {
        to: String(person.email),
        subject: 'Your Ringfence emergency information was opened',
        text:
          `Your emergency information was opened under your break-the-glass setup.\n\n${facts}\n` +
          `If you did not expect this, flag it for review: POST /api/v1/profile/emergency-access/log/${id}/flag ` +
          `(signed in), and end it at once with POST /api/v1/profile/emergency-access/log/${id}/end. ` +
          'Every access is listed at GET /api/v1/profile/emergency-access/log.\n',
      },
      `emergency-opened:${id}:person`,
    );
    for (const contact of setup.trusted_contacts) {
      if (!states.has(contact.id) || states.get(contact.id)) continue;
      await deps.outbox.enqueueMail(
        trx,
        {
          to: contact.email,
          subject: `Emergency access to ${personName}'s Ringfence information was opened`,
          text:
            `You are one of ${personName}'s trusted contacts on Ringfence. Their emergency information was just opened.\n\n${facts}\n` +
            `If this looks wrong, tell ${personName}: they can flag the access for review and end it early.\n`,
        },
        `emergency-opened:${id}:${contact.id}`,
      );
    }
  });
  const items = Object.fromEntries(MEDICAL_ITEMS.filter((k) => setup.emergency_info[k] !== undefined).map((k) => [k, setup.emergency_info[k]]));
  const basis: EmergencyBasis = {
    kind: 'emergency',
    accessLogId: id,
    criterion: request.criterion,
    scopes: scopesCovering(deps, referenced),
    opener: by.opener,
  };
  const release = await deps.disclosure.release({
    reader: by.reader,
    subject: row.user_id,
    basis,
    fields: referenced,
    clientIp,
    via: by.via,
    // The setup's own items go with the referenced fields the engine releases: answered and recorded with them.
    companions: async () => Object.fromEntries(Object.entries(items).map(([k, v]) => [`emergency_info.${k}`, v])),
  });
  await setOpeningFields(deps.db, id, release.fields);
  const withheld = referenced.filter((f) => !(f in release.values));
  return {
    emergency_info: {
      ...items,
      profile_fields: Object.fromEntries(referenced.filter((f) => f in release.values).map((f) => [f, release.values[f] ?? null])),
      ...(withheld.length > 0 ? { withheld } : {}),
    },
    access_log_id: id,
    criterion: request.criterion,
    expires_at: expiresAt.toISOString(),
  };
}
