/**
 * The writes that can change whom a profile change is told to, made through the paths that make them in the
 * product, in a random (seeded) order: grants saved and destroyed by the provider's adapter, a consent narrowed, a
 * revocation, a grant that expires, custom rings naming a service, a service disabled or its role or webhook URL
 * changed, a webhook endpoint disabled (as the outbox worker does) or enabled again, documents linked and unlinked.
 */
import { randomBytes } from 'node:crypto';
import { readSubscriberCounts } from '../../src/features/deliveries/subscribers.repo.ts';
import { createAdapterClass } from '../../src/oidc/adapter.ts';
import { replaceGrants } from '../../src/oidc/grants.repo.ts';
import { disableService, setWebhookUrl } from '../../src/oidc/services.ts';
import { issueWebhookSecret } from '../../src/notify/webhooks.ts';
import { withTransaction } from '../../src/store/db.ts';
import type { TestApp } from '../helpers/app.ts';
import { addService, dataResource } from '../helpers/oidc.ts';
import { storeGrant } from './fixtures.ts';

/** A small deterministic generator (mulberry32): a failing sequence can be replayed from its seed. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const some = <T>(list: readonly T[]): T[] => list.filter(() => next() < 0.5);
  return { next, int, pick, some };
}

type Random = ReturnType<typeof random>;

const ROLES = ['government', 'commercial', 'healthcare'] as const;
// Few sets of scopes, so that services of a role often decide alike and share a group.
const SCOPES = ['address', 'address profile', 'email profile', 'address health', 'employment'] as const;
/** Fields the documents reference and the changes change. */
export const FIELDS = ['home_address', 'bio', 'email', 'blood_type', 'occupation'] as const;

export interface Person {
  userId: string;
  token: string;
}

/** The world the writes act on: services with webhook endpoints, and people. */
export async function world(app: TestApp, webhookUrl: string, services = 8) {
  const clientIds: string[] = [];
  for (let i = 0; i < services; i++) {
    const { service } = await addService(app, ROLES[i % ROLES.length], { webhookUrl, name: `Subscriber ${i}` });
    clientIds.push(service.client_id);
  }
  return { clientIds, webhookUrl };
}

/**
 * One random write about `person` (or about everyone: the registry) through its product path; what it was, for the
 * assertion messages.
 */
export async function randomWrite(app: TestApp, r: Random, w: { clientIds: string[]; webhookUrl: string }, person: Person): Promise<string> {
  const { db, keyring } = app.service.deps;
  const clientId = r.pick(w.clientIds);
  const grants = async () => (await db('oidc_payloads').where({ kind: 'Grant', account_id: person.userId }).pluck('id')) as string[];
  const scope = () => r.pick(SCOPES);
  switch (r.int(14)) {
    case 0:
    case 1: {
      // A consent saved by the provider (its adapter), sometimes for the OpenID scopes only.
      const id = await storeGrant(app, person.userId, clientId, scope(), r.next() < 0.3 ? `openid ${r.pick(SCOPES)}` : 'openid');
      return `grant ${id.slice(0, 6)} to ${clientId}: saved`;
    }
    case 2: {
      // The provider's Grant.destroy (a refresh token's revocation takes its grant).
      const id = r.pick([...(await grants()), 'none']);
      await new (createAdapterClass(db))('Grant').destroy(id);
      return `grant ${id.slice(0, 6)}: destroyed`;
    }
    case 3: {
      // A consent answered again (src/oidc/interactions.ts submitConsent): a new grant, the earlier ones replaced.
      const id = await storeGrant(app, person.userId, clientId, scope());
      // An update-info of the person between the two (they are two transactions) stores what it counted.
      await readSubscriberCounts(db, { userId: person.userId, changed: [...FIELDS], resource: dataResource(app) });
      await withTransaction(db, (trx) => replaceGrants(trx, person.userId, clientId, id));
      return `consent to ${clientId}: replaced`;
    }
    case 4: {
      const res = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: clientId } });
      if (res.status === 404) return `access of ${clientId}: none to revoke`;
      if (res.status !== 200) throw new Error(`revoke-access: ${res.text}`);
      return `access of ${clientId}: revoked`;
    }
    case 5: {
      // Time passing: a grant's expiry reached (no write of the application does this).
      const id = r.pick([...(await grants()), 'none']);
      await db('oidc_payloads')
        .where({ kind: 'Grant', id })
        .update({ expires_at: db.raw(`current_timestamp - interval '1 second'`) });
      return `grant ${id.slice(0, 6)}: expired`;
    }
    case 6: {
      const res = await app.request('POST', '/api/v1/profile/privilege-rings', {
        token: person.token,
        json: {
          ring_name: `Ring ${randomBytes(3).toString('hex')}`,
          assigned_data: {
            fields: [r.pick(['home_address', 'bio', 'email'])],
            services: [clientId],
            ...(r.next() < 0.5 ? { roles: [r.pick(ROLES)] } : {}),
          },
        },
      });
      if (res.status !== 201) throw new Error(`ring: ${res.text}`);
      return `ring naming ${clientId}: made`;
    }
    case 7: {
      const rings = (await db('rings').where({ user_id: person.userId }).pluck('id')) as string[];
      if (rings.length === 0) return 'no ring to delete';
      const res = await app.request('DELETE', `/api/v1/profile/privilege-rings/${r.pick(rings)}`, { token: person.token });
      if (res.status !== 200) throw new Error(`ring delete: ${res.text}`);
      return 'ring: deleted';
    }
    case 8: {
      // Rarely: a disabled service never comes back.
      if (r.next() < 0.5) return 'no service disabled';
      await disableService(db, clientId);
      return `service ${clientId}: disabled`;
    }
    case 9: {
      const url = r.next() < 0.5 ? null : w.webhookUrl;
      await setWebhookUrl(db, clientId, url);
      return `service ${clientId}: webhook URL ${url ? 'set' : 'removed'}`;
    }
    case 10: {
      // As the outbox worker disables an endpoint after 410 Gone (src/notify/webhooks.ts).
      await db('webhook_endpoints')
        .where({ client_id: clientId })
        .whereNull('disabled_at')
        .update({ disabled_at: db.fn.now(), disabled_reason: 'the endpoint answered 410 Gone' });
      return `endpoint of ${clientId}: disabled`;
    }
    case 11: {
      await issueWebhookSecret(db, keyring, clientId);
      return `endpoint of ${clientId}: enabled, new secret`;
    }
    case 12: {
      // An operator's edit of the registry.
      const role = r.pick(ROLES);
      await db('services').where({ client_id: clientId }).update({ role });
      return `service ${clientId}: role ${role}`;
    }
    default: {
      const documents = (await db('documents').where({ user_id: person.userId }).pluck('id')) as string[];
      const enabled = (await db('services').whereIn('client_id', w.clientIds).whereNull('disabled_at').pluck('client_id')) as string[];
      const services = r.some(enabled.sort()).slice(0, 4);
      const body = { kind: 'other', title: 'A document', references: r.some(FIELDS), roles: r.some(ROLES), services };
      if (documents.length > 0 && r.next() < 0.6) {
        const id = r.pick(documents);
        if (r.next() < 0.3) {
          const res = await app.request('DELETE', `/api/v1/profile/documents/${id}`, { token: person.token });
          if (res.status !== 200 && res.status !== 204) throw new Error(`document delete: ${res.text}`);
          return 'document: deleted';
        }
        const res = await app.request('PUT', `/api/v1/profile/documents/${id}`, { token: person.token, json: body });
        if (res.status !== 200) throw new Error(`document change: ${res.text}`);
        return `document: linked to ${services.length}, references ${body.references.join(',')}, roles ${body.roles.join(',')}`;
      }
      const res = await app.request('POST', '/api/v1/profile/documents', { token: person.token, json: body });
      if (res.status !== 201) throw new Error(`document: ${res.text}`);
      return `document: made, linked to ${services.length}, references ${body.references.join(',')}, roles ${body.roles.join(',')}`;
    }
  }
}
