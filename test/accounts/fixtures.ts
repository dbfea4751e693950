/** Fixtures of the account and profile tests: people to register, row counts, mail, audit events. */
import { randomBytes, randomUUID } from 'node:crypto';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import type { TestApp } from '../helpers/app.ts';

export const STRONG_PASSWORD = 'correct horse battery staple';

export interface Person {
  name: string;
  email: string;
  handle: string;
  password: string;
}

/** A person nobody has registered yet in this database. */
export function newPerson(overrides: Partial<Person> = {}): Person {
  const tag = randomBytes(5).toString('hex');
  return { name: 'Ada Lovelace', email: `ada.${tag}@example.com`, handle: `ada_${tag}`, password: STRONG_PASSWORD, ...overrides };
}

export interface Registered {
  person: Person;
  user_id: string;
  profile_id: string;
  token: string;
  refresh_token: string;
}

/** Registers a person through the API and returns who they are and their first session. */
export async function register(app: TestApp, overrides: Partial<Person> = {}): Promise<Registered> {
  const person = newPerson(overrides);
  const res = await app.request('POST', '/api/v1/users/register', { json: person });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { person, user_id: res.body.user_id, profile_id: res.body.profile_id, token: res.body.token, refresh_token: res.body.refresh_token };
}

/** Row counts of the given tables, to show a refused request wrote nothing. */
export async function countRows(app: TestApp, tables: readonly string[]): Promise<Record<string, number>> {
  const db = app.service.deps.db;
  const out: Record<string, number> = {};
  for (const table of tables) {
    const [{ count }] = (await db(table).count({ count: '*' })) as { count: string | number }[];
    out[table] = Number(count);
  }
  return out;
}

export const ACCOUNT_TABLES = ['users', 'profiles', 'profile_fields', 'sessions', 'email_verifications', 'outbox', 'audit_events'] as const;

/** The newest mail to `to` whose subject matches. */
export async function mailTo(app: TestApp, to: string, subject: RegExp) {
  return app.smtp.waitFor(
    (m) => subject.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').toLowerCase().includes(to.toLowerCase()),
  );
}

/** Every mail to `to` whose subject matches, received so far. */
export function mailsTo(app: TestApp, to: string, subject: RegExp) {
  return app.smtp.messages.filter(
    (m) => subject.test(m.subject ?? '') && (m.to && !Array.isArray(m.to) ? m.to.text : '').toLowerCase().includes(to.toLowerCase()),
  );
}

/** The 6-digit code of the verification mail sent to `to`. */
export async function verificationCode(app: TestApp, to: string): Promise<string> {
  const mail = await mailTo(app, to, /verification code/);
  const match = /is: (\d{6})/.exec(mail.text ?? '');
  if (!match) throw new Error(`no code in the verification mail: ${mail.text}`);
  return match[1];
}

/** Audit events of one action, newest first. */
export async function auditEvents(app: TestApp, action: string) {
  return (await app.service.deps.db('audit_events').where({ action }).orderBy('seq', 'desc')) as {
    action: string;
    actor: string;
    subject: string | null;
    client_ip: string | null;
    data: Record<string, unknown>;
  }[];
}

/**
 * A browser session at the OpenID provider for `userId`, stored through the provider's own adapter as a signed-in
 * browser's would be; `alive()` says whether the provider would still find it by its cookie value.
 */
export async function providerSession(app: TestApp, userId: string): Promise<{ alive(): Promise<boolean> }> {
  const Adapter = createAdapterClass(app.service.deps.db);
  const sessions = new Adapter('Session');
  const id = randomBytes(24).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  await sessions.upsert(id, { kind: 'Session', jti: id, uid: randomUUID(), accountId: userId, loginTs: now, iat: now, exp: now + 3600 }, 3600);
  if (!(await sessions.find(id))) throw new Error('the provider session was not stored');
  return { alive: async () => (await sessions.find(id)) !== undefined };
}
