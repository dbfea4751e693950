// The services with access to my profile (`GET /api/v1/profile/access`): each live grant, its role, the fields the
// service sees now and when it last read them; nothing once revoked, and nothing to anyone but the signed-in person.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addService, dataResource, registerClient, tokensFor } from '../helpers/oidc.ts';
import { register } from '../accounts/fixtures.ts';
import { registerPerson } from '../services/fixtures.ts';

const app = useTestApp();

test('lists each service with a live grant: its role, the fields it sees now and its last read; none after revocation', async (t) => {
  const person = await registerPerson(app);
  const { config, service } = await registerClient(app, 'government');
  const tokens = await tokensFor(app, config, person.person, 'openid profile email address offline_access');
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  t.is((await app.request('GET', '/api/v1/data/profile', { token: data.access_token })).status, 200);

  const access = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.is(access.status, 200);
  t.is(access.body.services.length, 1);
  t.like(access.body.services[0], { service_id: service.client_id, role: 'government' });
  t.true(access.body.services[0].fields.includes('home_address'));
  t.truthy(access.body.services[0].last_used_at);

  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoked.status, 200, revoked.text);
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: person.token })).body.services, []);
});

test('another person sees none of my services, and no token gets 401', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'commercial');
  await tokensFor(app, config, person.person, 'openid email');
  const other = await register(app);
  t.deepEqual((await app.request('GET', '/api/v1/profile/access', { token: other.token })).body.services, []);
  assertError(t, await app.request('GET', '/api/v1/profile/access'), 401, undefined, 'token must exist!');
});

test('lists a service that reads only through a linked document: what the document lets its role see; revoking unlinks it', async (t) => {
  const person = await registerPerson(app);
  const gov = await addService(app, 'government');
  const com = await addService(app, 'commercial');
  const created = await app.request('POST', '/api/v1/profile/documents', {
    token: person.token,
    json: {
      kind: 'registration',
      title: 'Council tax',
      references: ['home_address'],
      roles: ['government'],
      services: [gov.service.client_id, com.service.client_id],
    },
  });
  t.is(created.status, 201, created.text);
  const documentId = created.body.document.document_id;

  const access = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.is(access.status, 200);
  const byId = new Map(access.body.services.map((s: { service_id: string }) => [s.service_id, s]));
  t.like(byId.get(gov.service.client_id), { role: 'government', scopes: [], fields: ['home_address'], documents: [documentId], last_used_at: null });
  // Linked, but the document is not intended for its role: listed (the person sees the link), seeing nothing.
  t.like(byId.get(com.service.client_id), { role: 'commercial', scopes: [], fields: [], documents: [documentId] });

  const revoked = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: gov.service.client_id } });
  t.is(revoked.status, 200, revoked.text);
  const after = await app.request('GET', '/api/v1/profile/access', { token: person.token });
  t.deepEqual(
    after.body.services.map((s: { service_id: string }) => s.service_id),
    [com.service.client_id],
  );
  const doc = await app.request('GET', `/api/v1/profile/documents/${documentId}`, { token: person.token });
  t.deepEqual(doc.body.document.services, [com.service.client_id]);
});
