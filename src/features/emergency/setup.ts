/**
 * A person's emergency setup (seed API 4): what a responder may see, under which conditions, who the trusted
 * contacts are, and the emergency card's text. It is sealed under a data key of its own — made for the setup,
 * wrapped by the KEK for `emergency:<access_id>` — and never under the profile's key: the profile's key opens none
 * of it, and losing the profile's key loses none of it. The card's opaque id (256 random bits) is kept as a hash to
 * find the person by, and sealed under the same key to print the card again; rotating it makes a new one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { recordAudit } from '../../audit/audit.ts';
import { newDataKey, open, seal, type Keyring } from '../../crypto/envelope.ts';
import { sha256Hex } from '../../crypto/tokens.ts';
import type { AppDeps } from '../../deps.ts';
import { EmergencyAccessExists, InvalidDeclineToken, InvalidEmergencySetup } from '../../errors.ts';
import { readUserFields } from '../../profiles/profile.repo.ts';
import type { Queryable } from '../../store/db.ts';
import { withTransaction } from '../../store/db.ts';
import type { Knex } from 'knex';
import {
  contactsOf,
  declineContact,
  deleteContacts,
  deleteEmergency,
  findEmergencyById,
  findEmergencyByUser,
  insertContacts,
  insertEmergency,
  lockEmergencyByUser,
  updateEmergency,
  type EmergencyRow,
} from './emergency.repo.ts';

/** The medical items a setup holds itself (the rest of what a responder sees is referenced profile fields). */
export const MEDICAL_ITEMS = ['blood_type', 'allergies', 'medications', 'conditions', 'notes', 'advance_directives'] as const;
type MedicalItem = (typeof MEDICAL_ITEMS)[number];

interface EmergencyInfo extends Partial<Record<MedicalItem, unknown>> {
  /** Profile fields released with the items, read when the access opens: always their current values. */
  profile_fields?: string[];
}

interface Contact {
  id: string;
  name: string;
  email: string;
  phone?: string;
}

export interface Setup {
  emergency_info: EmergencyInfo;
  criteria: { conditions: string[]; access_minutes: number };
  trusted_contacts: Contact[];
  public_text: string;
}

const DEFAULT_ACCESS_MINUTES = 60;
const DEFAULT_PUBLIC_TEXT = 'Emergency information on Ringfence: scan the code';

/** What an emergency setup's own data key is bound to when wrapped (its owner, for the keyring and key rotation). */
export const emergencyKeyOwner = (id: string) => `emergency:${id}`;
const owner = emergencyKeyOwner;
const setupAad = (id: string) => `emergency_access:${id}`;
const cardAad = (id: string) => `emergency_card:${id}`;
const reasonAad = (id: string) => `emergency_openings:${id}`;

function dataKey(keyring: Keyring, row: Pick<EmergencyRow, 'id' | 'wrapped_dek' | 'kek_id'>): Buffer {
  return keyring.unwrap({ kekId: row.kek_id, wrapped: Buffer.from(row.wrapped_dek) }, owner(row.id));
}

/** Opens a setup with its own key. */
export function openSetup(keyring: Keyring, row: EmergencyRow): Setup {
  return JSON.parse(open(dataKey(keyring, row), Buffer.from(row.sealed), setupAad(row.id)).toString('utf8')) as Setup;
}

/** The card's opaque id, opened with the setup's key. */
export function openCardId(keyring: Keyring, row: EmergencyRow): string {
  return open(dataKey(keyring, row), Buffer.from(row.card_sealed), cardAad(row.id)).toString('utf8');
}

/** An opening's reason, sealed under the setup's key: free text about someone's health. */
export function sealReason(keyring: Keyring, row: EmergencyRow, openingId: string, reason: string): Buffer {
  return seal(dataKey(keyring, row), reason, reasonAad(openingId));
}

export function openReason(keyring: Keyring, row: EmergencyRow, openingId: string, sealed: Uint8Array): string {
  return open(dataKey(keyring, row), Buffer.from(sealed), reasonAad(openingId)).toString('utf8');
}

function newCard(dek: Buffer, accessId: string): { card_hash: string; card_sealed: Buffer } {
  const cardId = randomBytes(32).toString('base64url');
  return { card_hash: sha256Hex(cardId), card_sealed: seal(dek, cardId, cardAad(accessId)) };
}

/** Each contact row's declined_at (null while they have not declined), by contact id. */
export async function contactStates(q: Queryable, accessId: string): Promise<Map<string, Date | null>> {
  return new Map((await contactsOf(q, accessId)).map((c) => [c.id, c.declined_at]));
}

/** The body of a setup, checked beyond its schema: known profile fields, one entry per contact address. */
function parseSetup(
  deps: AppDeps,
  body: Record<string, unknown>,
  previous?: Setup,
): Omit<Setup, 'trusted_contacts'> & { contacts: Omit<Contact, 'id'>[] } {
  const info = { ...(body.emergency_info as Record<string, unknown>) };
  const problems: { path: string; message: string }[] = [];
  const fields = (info.profile_fields as string[] | undefined) ?? [];
  for (const [i, f] of fields.entries()) {
    if (!deps.policy.policies.fields.has(f)) problems.push({ path: `emergency_info.profile_fields.${i}`, message: `${f} is not a profile field` });
  }
  const rawCriteria = body.criteria as string[] | { conditions: string[]; access_minutes?: number };
  const criteria = Array.isArray(rawCriteria) ? { conditions: rawCriteria } : rawCriteria;
  const contacts = ((body.trusted_contacts as unknown[]) ?? []).map((c) =>
    typeof c === 'string' ? { name: c, email: c } : (c as Omit<Contact, 'id'>),
  );
  const seen = new Set<string>();
  for (const [i, c] of contacts.entries()) {
    const key = c.email.trim().toLowerCase();
    if (seen.has(key)) problems.push({ path: `trusted_contacts.${i}.email`, message: 'names the same address as another contact' });
    seen.add(key);
  }
  if (problems.length > 0) {
    throw new InvalidEmergencySetup(`the emergency setup is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, {
      details: problems,
    });
  }
  return {
    emergency_info: { ...info, profile_fields: [...new Set(fields)] },
    criteria: {
      conditions: [...new Set(criteria.conditions)],
      access_minutes: criteria.access_minutes ?? previous?.criteria.access_minutes ?? DEFAULT_ACCESS_MINUTES,
    },
    contacts: contacts.map((c) => ({ name: c.name.trim(), email: c.email.trim(), ...(c.phone ? { phone: c.phone } : {}) })),
    public_text: typeof body.public_text === 'string' ? body.public_text : (previous?.public_text ?? DEFAULT_PUBLIC_TEXT),
  };
}

/** Tells a newly named contact, with the token that declines. */
async function tellContact(trx: Knex.Transaction, deps: AppDeps, personName: string, contact: Contact, token: string): Promise<void> {
  await deps.outbox.enqueueMail(
    trx,
    {
      to: contact.email,
      subject: `${personName} named you a trusted contact on Ringfence`,
      text:
        `${personName} named you (${contact.name}) one of their trusted contacts for emergencies on Ringfence. You will be ` +
        'told by e-mail whenever their emergency information is opened, and if you have a Ringfence account with this ' +
        'address you can open it yourself in an emergency (POST /api/v1/profile/emergency-access/open).\n\n' +
        `To decline, send this token to ${deps.config.baseUrl}/api/v1/emergency-access/decline as {"token": "<token>"}: ` +
        `${token}\nYou will then no longer be told or able to open it.\n`,
    },
    `emergency-contact:${contact.id}`,
  );
}

/** New contact rows (and mails) for the contacts not kept from `kept`; answers the contacts with their ids. */
async function nameContacts(
  trx: Knex.Transaction,
  deps: AppDeps,
  accessId: string,
  personName: string,
  wanted: Omit<Contact, 'id'>[],
  kept: Map<string, Contact>,
): Promise<Contact[]> {
  const out: Contact[] = [];
  const rows: { id: string; access_id: string; decline_hash: string }[] = [];
  const mails: [Contact, string][] = [];
  for (const c of wanted) {
    const existing = kept.get(c.email.toLowerCase());
    if (existing) {
      out.push({ ...c, id: existing.id });
      continue;
    }
    const contact = { ...c, id: randomUUID() };
    const token = randomBytes(32).toString('base64url');
    rows.push({ id: contact.id, access_id: accessId, decline_hash: sha256Hex(token) });
    mails.push([contact, token]);
    out.push(contact);
  }
  await insertContacts(trx, rows);
  for (const [contact, token] of mails) await tellContact(trx, deps, personName, contact, token);
  return out;
}

const EXISTS = 'you already have emergency access set up: change it with PUT /api/v1/profile/emergency-access';

/** Seed API 4: sets up emergency access; one per person. */
export async function createSetup(deps: AppDeps, userId: string, body: Record<string, unknown>, clientIp: string): Promise<{ access_id: string }> {
  const parsed = parseSetup(deps, body);
  const { name } = await readUserFields(deps.db, deps.keyring, userId, ['name']);
  return withTransaction(deps.db, async (trx) => {
    if (await lockEmergencyByUser(trx, userId)) {
      throw new EmergencyAccessExists(EXISTS);
    }
    const id = randomUUID();
    const dek = newDataKey();
    const wrapped = deps.keyring.wrap(dek, owner(id));
    // The row first (the contacts refer to it); sealed again below once the contacts have their ids.
    const inserted = await insertEmergency(trx, {
      id,
      user_id: userId,
      wrapped_dek: wrapped.wrapped,
      kek_id: wrapped.kekId,
      sealed: Buffer.alloc(0),
      ...newCard(dek, id),
    });
    // Two setups at once: the lock above found no row for either; the second insert waits for the first and loses.
    if (!inserted) throw new EmergencyAccessExists(EXISTS);
    const contacts = await nameContacts(trx, deps, id, String(name ?? 'A Ringfence user'), parsed.contacts, new Map());
    const setup: Setup = {
      emergency_info: parsed.emergency_info,
      criteria: parsed.criteria,
      trusted_contacts: contacts,
      public_text: parsed.public_text,
    };
    await updateEmergency(trx, id, { sealed: seal(dek, JSON.stringify(setup), setupAad(id)) });
    await recordAudit(trx, {
      action: 'emergency.setup_created',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: {
        access_id: id,
        contacts: contacts.length,
        conditions: setup.criteria.conditions,
        profile_fields: setup.emergency_info.profile_fields ?? [],
      },
    });
    return { access_id: id };
  });
}

/** The setup as its owner sees it, with each contact's state. */
export async function showSetup(deps: AppDeps, userId: string) {
  const row = await findEmergencyByUser(deps.db, userId);
  if (!row) return undefined;
  const setup = openSetup(deps.keyring, row);
  const states = await contactStates(deps.db, row.id);
  return {
    access_id: row.id,
    emergency_info: setup.emergency_info,
    criteria: setup.criteria,
    trusted_contacts: setup.trusted_contacts.map((c) => ({ ...c, declined: Boolean(states.get(c.id)) })),
    public_text: setup.public_text,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** Replaces the setup; contacts kept by address keep their state, new ones are told, removed ones forgotten. */
export async function replaceSetup(
  deps: AppDeps,
  userId: string,
  body: Record<string, unknown>,
  clientIp: string,
): Promise<EmergencyRow | undefined> {
  const { name } = await readUserFields(deps.db, deps.keyring, userId, ['name']);
  return withTransaction(deps.db, async (trx) => {
    const row = await lockEmergencyByUser(trx, userId);
    if (!row) return undefined;
    const previous = openSetup(deps.keyring, row);
    const parsed = parseSetup(deps, body, previous);
    const kept = new Map<string, Contact>();
    const wantedEmails = new Set(parsed.contacts.map((c) => c.email.toLowerCase()));
    for (const c of previous.trusted_contacts) if (wantedEmails.has(c.email.toLowerCase())) kept.set(c.email.toLowerCase(), c);
    await deleteContacts(
      trx,
      previous.trusted_contacts.filter((c) => !wantedEmails.has(c.email.toLowerCase())).map((c) => c.id),
    );
    const contacts = await nameContacts(trx, deps, row.id, String(name ?? 'A Ringfence user'), parsed.contacts, kept);
    const setup: Setup = {
      emergency_info: parsed.emergency_info,
      criteria: parsed.criteria,
      trusted_contacts: contacts,
      public_text: parsed.public_text,
    };
    await updateEmergency(trx, row.id, { sealed: seal(dataKey(deps.keyring, row), JSON.stringify(setup), setupAad(row.id)) });
    await recordAudit(trx, {
      action: 'emergency.setup_changed',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: {
        access_id: row.id,
        contacts: contacts.length,
        conditions: setup.criteria.conditions,
        profile_fields: setup.emergency_info.profile_fields ?? [],
      },
    });
    return row;
  });
}

/** Deletes the setup, its key, its card, and ends every open access to it. */
export async function removeSetup(deps: AppDeps, userId: string, clientIp: string): Promise<string | undefined> {
  return withTransaction(deps.db, async (trx) => {
    const row = await lockEmergencyByUser(trx, userId);
    if (!row) return undefined;
    await deleteEmergency(trx, row.id);
    await recordAudit(trx, {
      action: 'emergency.setup_deleted',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { access_id: row.id },
    });
    return row.id;
  });
}

/** A new card id: the old card stops working at once. */
export async function rotateCard(deps: AppDeps, userId: string, clientIp: string): Promise<string | undefined> {
  return withTransaction(deps.db, async (trx) => {
    const row = await lockEmergencyByUser(trx, userId);
    if (!row) return undefined;
    await updateEmergency(trx, row.id, newCard(dataKey(deps.keyring, row), row.id));
    await recordAudit(trx, {
      action: 'emergency.card_rotated',
      actor: `user:${userId}`,
      subject: `user:${userId}`,
      clientIp,
      data: { access_id: row.id },
    });
    return row.id;
  });
}

/** A contact declines with the token of the mail that named them. */
export async function declineByToken(deps: AppDeps, token: string, clientIp: string): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    const contact = await declineContact(trx, sha256Hex(token));
    if (!contact) throw new InvalidDeclineToken('this decline token is unknown: use the one from the e-mail that named you');
    const access = (await findEmergencyById(trx, contact.access_id))!;
    await recordAudit(trx, {
      action: 'emergency.contact_declined',
      actor: 'anonymous',
      subject: `user:${access.user_id}`,
      clientIp,
      data: { access_id: contact.access_id, contact_id: contact.id },
    });
  });
}

/** A setup as the portable container carries it: opened, with each contact's state, without its ids or card. */
export interface CarriedSetup {
  emergency_info: EmergencyInfo;
  criteria: { conditions: string[]; access_minutes: number };
  trusted_contacts: (Omit<Contact, 'id'> & { declined: boolean })[];
  public_text: string;
}

/** The person's setup for the portable container (undefined when they have none). */
export async function carrySetup(q: Queryable, keyring: Keyring, userId: string): Promise<CarriedSetup | undefined> {
  const row = await findEmergencyByUser(q, userId);
  if (!row) return undefined;
  const setup = openSetup(keyring, row);
  const states = await contactStates(q, row.id);
  return {
    emergency_info: setup.emergency_info,
    criteria: setup.criteria,
    trusted_contacts: setup.trusted_contacts.map(({ id, ...c }) => ({ ...c, declined: Boolean(states.get(id)) })),
    public_text: setup.public_text,
  };
}

/**
 * Restores a carried setup into a newly imported account, in the import's transaction: a new data key of its own, a
 * new card id, no access log. A contact who had not declined is named anew as the create path names one — told by
 * e-mail with a new decline token, since the old token and the old instance's address are of no use here; one who
 * had declined stays declined and is not told. Profile fields this instance does not know are dropped; what was
 * dropped is answered for the person to read.
 */
export async function restoreSetup(trx: Knex.Transaction, deps: AppDeps, userId: string, carried: CarriedSetup, clientIp: string): Promise<string[]> {
  const skipped: string[] = [];
  const info = { ...carried.emergency_info };
  const fields = (info.profile_fields ?? []).filter((f) => {
    const known = deps.policy.policies.fields.has(f);
    if (!known) skipped.push(`emergency setup: profile field ${f} is not a profile field here`);
    return known;
  });
  const minutes = carried.criteria?.access_minutes;
  const criteria = {
    conditions: [...new Set((carried.criteria?.conditions ?? []).map(String))],
    access_minutes: Number.isInteger(minutes) && minutes >= 5 && minutes <= 1440 ? minutes : DEFAULT_ACCESS_MINUTES,
  };
  const id = randomUUID();
  const dek = newDataKey();
  const wrapped = deps.keyring.wrap(dek, owner(id));
  if (
    !(await insertEmergency(trx, {
      id,
      user_id: userId,
      wrapped_dek: wrapped.wrapped,
      kek_id: wrapped.kekId,
      sealed: Buffer.alloc(0),
      ...newCard(dek, id),
    }))
  ) {
    throw new EmergencyAccessExists(EXISTS);
  }
  const { name } = await readUserFields(trx, deps.keyring, userId, ['name']);
  const seen = new Set<string>();
  const wanted: Omit<Contact, 'id'>[] = [];
  const declined: Contact[] = [];
  for (const c of carried.trusted_contacts ?? []) {
    const email = String(c.email).trim();
    if (seen.has(email.toLowerCase())) continue;
    seen.add(email.toLowerCase());
    const contact = { name: String(c.name).trim(), email, ...(c.phone ? { phone: String(c.phone) } : {}) };
    if (c.declined) declined.push({ ...contact, id: randomUUID() });
    else wanted.push(contact);
  }
  const named = await nameContacts(trx, deps, id, String(name ?? 'A Ringfence user'), wanted, new Map());
  // A declined contact's row has a decline token no one holds: they already declined.
  await insertContacts(
    trx,
    declined.map((c) => ({ id: c.id, access_id: id, decline_hash: sha256Hex(randomBytes(32).toString('base64url')) })),
  );
  if (declined.length > 0) {
    await trx('emergency_contacts')
      .whereIn(
        'id',
        declined.map((c) => c.id),
      )
      .update({ declined_at: trx.fn.now() });
  }
  const byEmail = new Map([...named, ...declined].map((c) => [c.email.toLowerCase(), c]));
  const setup: Setup = {
    emergency_info: { ...info, profile_fields: fields },
    criteria,
    trusted_contacts: [...seen].map((e) => byEmail.get(e)!),
    public_text: typeof carried.public_text === 'string' ? carried.public_text : DEFAULT_PUBLIC_TEXT,
  };
  await updateEmergency(trx, id, { sealed: seal(dek, JSON.stringify(setup), setupAad(id)) });
  await recordAudit(trx, {
    action: 'emergency.setup_created',
    actor: `user:${userId}`,
    subject: `user:${userId}`,
    clientIp,
    data: { access_id: id, imported: true, contacts: setup.trusted_contacts.length, conditions: criteria.conditions, profile_fields: fields },
  });
  return skipped;
}
