/**
 * Seed use case 7, the first Must show: two real webhook receivers on loopback, a government and a
 * commercial service. The person changes home_address once; the government receiver gets a verified, signed, thin
 * event and then reads the new address through the data API and through a document; the commercial service, whose
 * role may not see the address, gets no event about it and sees the address withheld in the document.
 */
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, serviceClientToken, subjectAt, tokensFor, type RegisteredClient } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver, webhooksSettled } from '../helpers/webhooks.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const app = useTestApp();
let government: Receiver;
let commercial: Receiver;

test.before(async () => {
  government = await startReceiver();
  commercial = await startReceiver();
});
test.after.always(async () => {
  await government?.close();
  await commercial?.close();
});

const SCOPE = 'openid profile email address offline_access';
const NEW_ADDRESS = { street_address: '1 Deer Lake Parkway', locality: 'Burnaby', region: 'BC', postal_code: 'V5G 1Y6', country: 'CA' };

/** The service's data API token under the person's grant. */
async function dataToken(registered: RegisteredClient, person: { handle: string; password: string }): Promise<string> {
  const tokens = await tokensFor(app, registered.config, person, SCOPE);
  return (await client.refreshTokenGrant(registered.config, tokens.refresh_token!, { resource: dataResource(app) })).access_token;
}

const outboxSettled = () => webhooksSettled(app.service.deps.db);

test.serial(
  'one change of home_address: the government service is told and reads it; the commercial one is not told and sees it withheld',
  async (t) => {
    const person = await registerNamedPerson(app, 'ada_doc16');
    const gov = await registerClient(app, 'government', { name: 'City of Burnaby', webhookUrl: government.url });
    const com = await registerClient(app, 'commercial', { name: 'Corner Shop', webhookUrl: commercial.url });
    t.regex(gov.webhookSecret!, /^whsec_/);
    const govToken = await dataToken(gov, person);
    const comToken = await dataToken(com, person);

    const created = await app.request('POST', '/api/v1/profile/documents', {
      token: person.token,
      json: {
        kind: 'lease',
        title: 'Flat lease',
        fields: { landlord: 'Kingsway Rentals Ltd', start_date: '2026-01-01' },
        references: ['name', 'home_address'],
        roles: ['government'],
        services: [gov.service.client_id, com.service.client_id],
      },
    });
    t.is(created.status, 201, created.text);
    const documentId = created.body.document.document_id as string;
    t.is(created.body.document.references.home_address.value.street_address, '4024 Kingsway');
    await outboxSettled();
    government.received.length = 0;
    commercial.received.length = 0;

    // The one write.
    const update = await app.request('PUT', '/api/v1/profile/update-info', {
      token: person.token,
      json: { updated_fields: { home_address: NEW_ADDRESS } },
    });
    t.is(update.status, 200, update.text);
    t.deepEqual(update.body.updated_fields, ['home_address']);
    t.is(update.body.services_told, 1, 'only the government service can read home_address');

    // The government receiver: a signed event that verifies with its secret, thin (names, never values).
    const [hook] = await government.waitFor(1);
    const event = verified(gov.webhookSecret!, hook);
    t.like(event, { type: 'profile.updated', fields: ['home_address'], profile_version: update.body.version, documents: [documentId] });
    t.is(event.subject, await subjectAt(app, gov.service.client_id, person.userId));
    t.not(event.subject, person.userId, 'a pairwise subject, not the user id');
    t.is(hook.headers['webhook-id'], event.id);
    t.false(hook.body.includes('Deer Lake'), 'the event carries no value');
    t.throws(() => verified(com.webhookSecret!, hook), undefined, "another service's secret does not verify it");

    // It fetches the new value with its own token: through the data API and through the document.
    const profile = await app.request('GET', '/api/v1/data/profile', { token: govToken });
    t.is(profile.status, 200);
    t.is(profile.body.fields.home_address.street_address, '1 Deer Lake Parkway');
    t.is(profile.body.subject, event.subject);
    const doc = await app.request('GET', `/api/v1/data/documents/${documentId}`, { token: govToken });
    t.is(doc.status, 200, doc.text);
    t.deepEqual(doc.body.references.home_address, { value: NEW_ADDRESS });
    t.deepEqual(doc.body.references.name, { value: 'Ada Lovelace' });
    t.deepEqual(doc.body.fields, { landlord: 'Kingsway Rentals Ltd', start_date: '2026-01-01' });
    t.is(doc.body.subject, event.subject);

    // The commercial service: no event about the address, and the document withholds it, visibly.
    await outboxSettled();
    await new Promise((r) => setTimeout(r, 300));
    t.is(commercial.received.length, 0, 'no event about a field its role cannot read');
    const comDoc = await app.request('GET', `/api/v1/data/documents/${documentId}`, { token: comToken });
    t.is(comDoc.status, 200, comDoc.text);
    t.deepEqual(comDoc.body.references.home_address, { withheld: 'not intended for role commercial' });
    t.deepEqual(comDoc.body.references.name, { withheld: 'not intended for role commercial' });
    t.false(comDoc.text.includes('Deer Lake'));
    t.not(comDoc.body.subject, doc.body.subject, 'each service sees the person under its own subject');
    const comProfile = await app.request('GET', '/api/v1/data/profile', { token: comToken });
    t.is(comProfile.body.fields.home_address, undefined);

    // Both reads of the document are on the person's record, under the document basis.
    const released = (await app.service.deps
      .db('audit_events')
      .where({ action: 'data.released', subject: `user:${person.userId}` })
      .whereRaw(`data->>'document_id' = ?`, [documentId])
      .select('data')) as { data: { client_id: string; fields: string[] } }[];
    t.is(released.length, 2);
    t.true(released.some((r) => r.data.client_id === gov.service.client_id && r.data.fields.includes('home_address')));
    t.true(released.some((r) => r.data.client_id === com.service.client_id && !r.data.fields.includes('home_address')));

    // The person sees who was told, and that it was delivered.
    const deliveries = await app.request('GET', '/api/v1/profile/deliveries', { token: person.token });
    t.is(deliveries.status, 200);
    const told = deliveries.body.deliveries.filter((d: { profile_version: number }) => d.profile_version === update.body.version);
    t.is(told.length, 1);
    t.like(told[0], {
      service_id: gov.service.client_id,
      service_name: 'City of Burnaby',
      state: 'delivered',
      fields: ['home_address'],
      webhook_id: event.id,
    });
  },
);

test.serial('a document intended for a role is still withheld where the policy refuses the field', async (t) => {
  const person = await registerNamedPerson(app, 'ada_doc16b');
  const com = await registerClient(app, 'commercial');
  const token = await dataToken(com, person);
  const created = await app.request('POST', '/api/v1/profile/documents', {
    token: person.token,
    json: {
      kind: 'insurance_policy',
      title: 'Contents insurance',
      references: ['home_address', 'name'],
      roles: ['commercial'],
      services: [com.service.client_id],
    },
  });
  t.is(created.status, 201, created.text);
  const list = await app.request('GET', '/api/v1/data/documents', { token });
  t.is(list.status, 200);
  t.like(list.body.documents[0], { document_id: created.body.document.document_id, intended_for_you: true, references: ['home_address', 'name'] });
  const doc = await app.request('GET', `/api/v1/data/documents/${created.body.document.document_id}`, { token });
  t.is(doc.status, 200, doc.text);
  t.deepEqual(doc.body.references.name, { value: 'Ada Lovelace' });
  t.regex(doc.body.references.home_address.withheld, /not released to role commercial/);
});

test.serial('a document not shared with the service is a 404, and unlinking it refuses the next read', async (t) => {
  const person = await registerNamedPerson(app, 'ada_doc16c');
  const gov = await registerClient(app, 'government');
  const token = await dataToken(gov, person);
  const created = await app.request('POST', '/api/v1/profile/documents', {
    token: person.token,
    json: {
      kind: 'registration',
      title: 'Voter registration',
      references: ['home_address'],
      roles: ['government'],
      services: [gov.service.client_id],
    },
  });
  const id = created.body.document.document_id as string;
  t.is((await app.request('GET', `/api/v1/data/documents/${id}`, { token })).status, 200);
  const unlinked = await app.request('PUT', `/api/v1/profile/documents/${id}`, {
    token: person.token,
    json: { kind: 'registration', title: 'Voter registration', references: ['home_address'], roles: ['government'], services: [] },
  });
  t.is(unlinked.status, 200, unlinked.text);
  t.is(unlinked.body.document.version, 2);
  const refused = await app.request('GET', `/api/v1/data/documents/${id}`, { token });
  t.is(refused.status, 404);
  t.is(refused.body.error, 'document_not_found');
  const unknown = await app.request('GET', '/api/v1/data/documents/00000000-0000-4000-8000-000000000000', { token });
  t.is(unknown.status, 404);
});

test.serial('a service that holds only a document is told of a change to a field the document references, and reads it as itself', async (t) => {
  const person = await registerNamedPerson(app, 'ada_doc16d');
  const office = await startReceiver();
  const shop = await startReceiver();
  try {
    // No grant of the person: the link alone shares the registration with the office (and with the shop).
    const gov = await registerClient(app, 'government', { name: 'Land Registry', webhookUrl: office.url });
    const com = await registerClient(app, 'commercial', { name: 'Corner Shop', webhookUrl: shop.url });
    const created = await app.request('POST', '/api/v1/profile/documents', {
      token: person.token,
      json: {
        kind: 'registration',
        title: 'Land registration',
        fields: { parcel: 'PID 012-345-678' },
        references: ['name', 'home_address'],
        roles: ['government'],
        services: [gov.service.client_id, com.service.client_id],
      },
    });
    t.is(created.status, 201, created.text);
    const documentId = created.body.document.document_id as string;

    const update = await app.request('PUT', '/api/v1/profile/update-info', {
      token: person.token,
      json: { updated_fields: { home_address: NEW_ADDRESS } },
    });
    t.is(update.status, 200, update.text);
    t.is(update.body.services_told, 1, 'the office, through the document; not the shop, whose role it is not intended for');
    const [hook] = await office.waitFor(1);
    const event = verified(gov.webhookSecret!, hook);
    t.like(event, { type: 'profile.updated', fields: ['home_address'], profile_version: update.body.version, documents: [documentId] });
    t.is(event.subject, await subjectAt(app, gov.service.client_id, person.userId));

    // It reads the document with its own token (client credentials): the link is the basis, on the person's record.
    const govToken = await serviceClientToken(app, gov);
    const doc = await app.request('GET', `/api/v1/data/documents/${documentId}`, { token: govToken });
    t.is(doc.status, 200, doc.text);
    t.deepEqual(doc.body.references.home_address, { value: NEW_ADDRESS });
    t.deepEqual(doc.body.references.name, { value: 'Ada Lovelace' });
    t.deepEqual(doc.body.fields, { parcel: 'PID 012-345-678' });
    t.is(doc.body.subject, event.subject);
    const [released] = (await app.service.deps
      .db('audit_events')
      .where({ action: 'data.released', subject: `user:${person.userId}` })
      .whereRaw(`data->>'document_id' = ?`, [documentId])
      .select('data')) as { data: Record<string, unknown> }[];
    t.like(released.data, { client_id: gov.service.client_id, via: 'document' });
    t.truthy(released.data.document_link);
    t.true((released.data.fields as string[]).includes('home_address'));
    // The link shares the document, not the profile: the same token reads nothing else of the person.
    const profile = await app.request('GET', '/api/v1/data/profile', { token: govToken });
    t.is(profile.status, 403);

    // The shop holds the document too but its role is not named: no event, and the references are withheld.
    await outboxSettled();
    await new Promise((r) => setTimeout(r, 300));
    t.is(shop.received.length, 0, 'no event about a field its role cannot read');
    const comDoc = await app.request('GET', `/api/v1/data/documents/${documentId}`, { token: await serviceClientToken(app, com) });
    t.is(comDoc.status, 200, comDoc.text);
    t.deepEqual(comDoc.body.references.home_address, { withheld: 'not intended for role commercial' });
    t.false(comDoc.text.includes('Deer Lake'));

    // A change of a field the document does not reference tells nobody.
    const bio = await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { bio: 'Surveyor.' } } });
    t.is(bio.body.services_told, 0);

    // Revoking the office's access unlinks the document: its next read is refused.
    const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', {
      token: person.token,
      json: { service_id: gov.service.client_id },
    });
    t.is(revoked.status, 200, revoked.text);
    const refused = await app.request('GET', `/api/v1/data/documents/${documentId}`, { token: govToken });
    t.is(refused.status, 404);
    const own = await app.request('GET', `/api/v1/profile/documents/${documentId}`, { token: person.token });
    t.deepEqual(own.body.document.services, [com.service.client_id]);
    await outboxSettled();
    t.is(office.received.filter((h) => verified(gov.webhookSecret!, h).type === 'profile.updated').length, 1);
  } finally {
    await office.close();
    await shop.close();
  }
});
