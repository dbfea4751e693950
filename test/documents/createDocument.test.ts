/**
 * The person's documents (`/api/v1/profile/documents`): created, listed, shown, changed and deleted by their owner
 * only; references checked against the catalogue, roles against policies/roles, services against the registry; the
 * own fields sealed at rest.
 */
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addService } from '../helpers/oidc.ts';
import { registerPerson } from '../services/fixtures.ts';
import { register } from '../accounts/fixtures.ts';

const app = useTestApp();

const LEASE = {
  kind: 'lease',
  title: 'Flat lease',
  fields: { landlord: 'Kingsway Rentals Ltd', rent: 1850 },
  references: ['home_address'],
  roles: ['government'],
};

test('the owner keeps a document: own fields sealed, references showing the current values, audited', async (t) => {
  const person = await registerPerson(app);
  const { service } = await addService(app, 'government');
  const res = await app.request('POST', '/api/v1/profile/documents', { token: person.token, json: { ...LEASE, services: [service.client_id] } });
  t.is(res.status, 201, res.text);
  const doc = res.body.document;
  t.like(doc, { kind: 'lease', title: 'Flat lease', roles: ['government'], services: [service.client_id], version: 1 });
  t.deepEqual(doc.fields, LEASE.fields);
  t.is(doc.references.home_address.value.street_address, '4024 Kingsway');
  const row = await app.service.deps.db('documents').where({ id: doc.document_id }).first();
  t.false(Buffer.from(row.own_fields).toString('latin1').includes('Kingsway Rentals'), 'own fields are sealed at rest');
  const audit = await app.service.deps.db('audit_events').where({ action: 'document.created', subject: `user:${person.user_id}` });
  t.is(audit.length, 1);

  // A new address shows in the document at once: it holds a reference, not a copy.
  await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: { updated_fields: { home_address: { locality: 'Surrey', country: 'CA' } } },
  });
  const shown = await app.request('GET', `/api/v1/profile/documents/${doc.document_id}`, { token: person.token });
  t.is(shown.status, 200);
  t.deepEqual(shown.body.document.references.home_address, { value: { locality: 'Surrey', country: 'CA' } });
});

test('unknown references, roles and services are refused with 400 naming each, and nothing is kept', async (t) => {
  const person = await register(app);
  const res = await app.request('POST', '/api/v1/profile/documents', {
    token: person.token,
    json: { kind: 'lease', title: 'Bad', references: ['shoe_size'], roles: ['wizard'], services: ['svc_nobody'] },
  });
  assertError(t, res, 400, 'invalid_document');
  t.deepEqual(
    (res.body.details as { path: string }[]).map((d) => d.path),
    ['references.0', 'roles.0', 'services.0'],
  );
  const schema = await app.request('POST', '/api/v1/profile/documents', { token: person.token, json: { kind: 'diary', title: '' } });
  assertError(t, schema, 400, 'validation_failed');
  t.is((await app.service.deps.db('documents').where({ user_id: person.user_id })).length, 0);
});

test('list pages through the documents; change bumps the version; delete removes it; another person gets 404', async (t) => {
  const person = await registerPerson(app);
  const other = await register(app);
  const ids: string[] = [];
  for (const title of ['A', 'B', 'C']) {
    const res = await app.request('POST', '/api/v1/profile/documents', { token: person.token, json: { ...LEASE, title } });
    ids.push(res.body.document.document_id);
  }
  const first = await app.request('GET', '/api/v1/profile/documents?limit=2', { token: person.token });
  t.is(first.body.documents.length, 2);
  t.truthy(first.body.next_cursor);
  const second = await app.request('GET', `/api/v1/profile/documents?limit=2&cursor=${first.body.next_cursor}`, { token: person.token });
  t.is(second.body.documents.length, 1);
  t.is(second.body.next_cursor, null);
  t.deepEqual([...first.body.documents, ...second.body.documents].map((d: { document_id: string }) => d.document_id).sort(), [...ids].sort());
  const bad = await app.request('GET', '/api/v1/profile/documents?cursor=nope', { token: person.token });
  assertError(t, bad, 400, 'invalid_cursor');

  const changed = await app.request('PUT', `/api/v1/profile/documents/${ids[0]}`, {
    token: person.token,
    json: { ...LEASE, title: 'A2', references: [] },
  });
  t.is(changed.status, 200, changed.text);
  t.like(changed.body.document, { title: 'A2', version: 2, references: {} });

  for (const [method, json] of [['GET'], ['PUT', LEASE], ['DELETE']] as const) {
    const res = await app.request(method, `/api/v1/profile/documents/${ids[1]}`, { token: other.token, ...(json ? { json } : {}) });
    assertError(t, res, 404, 'document_not_found');
  }
  t.is((await app.request('GET', '/api/v1/profile/documents', { token: other.token })).body.documents.length, 0);

  const deleted = await app.request('DELETE', `/api/v1/profile/documents/${ids[1]}`, { token: person.token });
  t.deepEqual(deleted.body, { status: 'success', document_id: ids[1] });
  assertError(t, await app.request('GET', `/api/v1/profile/documents/${ids[1]}`, { token: person.token }), 404, 'document_not_found');
});
