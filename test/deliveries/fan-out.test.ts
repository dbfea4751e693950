/**
 * A change told to many services: the update's transaction writes one fan-out row whatever their number, the
 * outbox expands it into one delivery per service right after, and each service gets its own event — signed with
 * its own secret, under its own webhook-id and its own subject.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { useTestApp } from '../helpers/app.ts';
import { addService, dataResource, subjectAt } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const app = useTestApp();
let receiver: Receiver | undefined;
test.after.always(async () => {
  await receiver?.close();
});

test('one update told to 30 services: one row in the transaction, 30 signed events after it', async (t) => {
  receiver = await startReceiver();
  const person = await registerNamedPerson(app, 'fan16');
  const db = app.service.deps.db;
  const secrets = new Map<string, string>();
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 30; i++) {
    const { service, webhookSecret } = await addService(app, 'government', { webhookUrl: receiver.url });
    secrets.set(service.client_id, webhookSecret!);
    // A grant as the provider stores it, as a consent would leave it.
    const id = randomBytes(32).toString('base64url').slice(0, 43);
    await db('oidc_payloads').insert({
      kind: 'Grant',
      id,
      account_id: person.userId,
      client_id: service.client_id,
      expires_at: new Date((now + 3600) * 1000),
      payload: JSON.stringify({
        iat: now,
        exp: now + 3600,
        jti: id,
        kind: 'Grant',
        accountId: person.userId,
        clientId: service.client_id,
        openid: { scope: 'openid' },
        resources: { [dataResource(app)]: 'address' },
      }),
    });
  }
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: { updated_fields: { home_address: { locality: 'Surrey', country: 'CA' } } },
  });
  t.is(update.body.services_told, 30);
  const got = await receiver.waitFor(30);
  const byClient = new Map<string, Record<string, unknown>>();
  for (const hook of got) {
    // Which service: the one whose secret verifies it.
    const match = [...secrets].filter(([, secret]) => {
      try {
        verified(secret, hook);
        return true;
      } catch {
        return false;
      }
    });
    t.is(match.length, 1, 'each event verifies with exactly one service secret');
    byClient.set(match[0][0], verified(match[0][1], hook));
  }
  t.is(byClient.size, 30);
  t.is(new Set(got.map((h) => h.headers['webhook-id'])).size, 30);
  for (const [clientId, event] of byClient) {
    t.like(event, { type: 'profile.updated', fields: ['home_address'], subject: await subjectAt(app, clientId, person.userId) });
  }
  const fanOut = await db('outbox').where({ kind: 'webhook_fanout' }).select('state');
  t.deepEqual(
    fanOut.map((r) => r.state),
    ['sent'],
  );
  const deliveries = await app.request('GET', '/api/v1/profile/deliveries?limit=100', { token: person.token });
  t.is(deliveries.body.deliveries.filter((d: { state: string }) => d.state === 'delivered').length, 30);
});
