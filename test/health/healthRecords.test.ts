/**
 * Health records (issue 17, item 1): create, list, show, change, delete; validated against the official FHIR R4
 * schema with a 400 naming the path and rule; sealed at rest; Bundle import (all or none) and export.
 */
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addRecord, allergy, condition, immunization, register } from './fixtures.ts';

const app = useTestApp();

test('a record that fails the FHIR schema gets a 400 naming the path and the rule', async (t) => {
  const p = await register(app, 'schema');
  const bad = { ...immunization(), occurrenceDateTime: '2021-13-45', wrongElement: true };
  const res = await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: bad });
  assertError(t, res, 400, 'validation_failed');
  const paths = res.body.details.map((d: { path: string }) => d.path);
  t.true(paths.includes('Immunization.occurrenceDateTime'), JSON.stringify(res.body));
  t.true(paths.includes('Immunization.wrongElement'));
  t.regex(res.body.status, /Immunization\.occurrenceDateTime must match the FHIR format .*\(FHIR R4 schema: pattern\)/);
  const missing = await app.request('POST', '/api/v1/profile/health-records', {
    token: p.token,
    json: { resourceType: 'Condition', code: { coding: [{ system: 'http://snomed.info/sct', code: 195967001 }] } },
  });
  assertError(t, missing, 400, 'validation_failed');
  t.deepEqual(
    missing.body.details.map((d: { path: string }) => d.path).sort(),
    ['Condition.code.coding[0].code', 'Condition.subject'].sort(),
    JSON.stringify(missing.body),
  );
  const other = await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: { resourceType: 'Patient' } });
  assertError(t, other, 400, 'validation_failed');
  t.is((await app.request('GET', '/api/v1/profile/health-records', { token: p.token })).body.records.length, 0, 'nothing was written');
});

test('records are created, listed, shown, changed and deleted, sealed at rest, in the private ring by default', async (t) => {
  const p = await register(app, 'crud');
  const created = await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: immunization() });
  t.is(created.status, 201);
  const record = created.body.record;
  t.is(record.resource_type, 'Immunization');
  t.is(record.field, 'immunizations');
  t.is(record.ring, 'private');
  t.is(record.resource.id, record.record_id);
  const row = await app.service.deps.db('health_records').where({ id: record.record_id }).first();
  t.false(Buffer.from(row.resource).toString('latin1').includes('COVID'), 'the resource is sealed at rest');

  await addRecord(app, p, allergy());
  const list = await app.request('GET', '/api/v1/profile/health-records?type=AllergyIntolerance', { token: p.token });
  t.deepEqual(
    list.body.records.map((r: { resource_type: string }) => r.resource_type),
    ['AllergyIntolerance'],
  );
  const paged = await app.request('GET', '/api/v1/profile/health-records?limit=1', { token: p.token });
  t.is(paged.body.records.length, 1);
  t.truthy(paged.body.next_cursor);
  const next = await app.request('GET', `/api/v1/profile/health-records?limit=1&cursor=${paged.body.next_cursor}`, { token: p.token });
  t.is(next.body.records[0].resource_type, 'AllergyIntolerance');

  const changed = await app.request('PUT', `/api/v1/profile/health-records/${record.record_id}`, { token: p.token, json: immunization('Influenza') });
  t.is(changed.status, 200);
  t.is(changed.body.record.version, 2);
  const shown = await app.request('GET', `/api/v1/profile/health-records/${record.record_id}`, { token: p.token });
  t.is(shown.body.record.resource.vaccineCode.coding[0].display, 'Influenza');
  const retyped = await app.request('PUT', `/api/v1/profile/health-records/${record.record_id}`, { token: p.token, json: condition() });
  assertError(t, retyped, 400, 'validation_failed');

  const other = await register(app, 'crudother');
  assertError(
    t,
    await app.request('GET', `/api/v1/profile/health-records/${record.record_id}`, { token: other.token }),
    404,
    'health_record_not_found',
  );
  const gone = await app.request('DELETE', `/api/v1/profile/health-records/${record.record_id}`, { token: p.token });
  t.is(gone.status, 200);
  assertError(t, await app.request('GET', `/api/v1/profile/health-records/${record.record_id}`, { token: p.token }), 404, 'health_record_not_found');
});

test('a DocumentReference carries a PDF or an image, and its data must be what its type says', async (t) => {
  const p = await register(app, 'docs');
  const doc = (contentType: string, data: string) => ({
    resourceType: 'DocumentReference',
    status: 'current',
    description: 'Discharge letter',
    content: [{ attachment: { contentType, title: 'letter.pdf', data } }],
  });
  const pdf = Buffer.from('%PDF-1.4\n%test\n').toString('base64');
  t.is((await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: doc('application/pdf', pdf) })).status, 201);
  const lying = await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: doc('image/png', pdf) });
  assertError(t, lying, 400, 'validation_failed');
  t.is(lying.body.details[0].path, 'DocumentReference.content[0].attachment.data');
  const word = await app.request('POST', '/api/v1/profile/health-records', { token: p.token, json: doc('application/msword', pdf) });
  assertError(t, word, 400, 'validation_failed');
});

test('a Bundle is imported all or none, and every record is exported as one Bundle', async (t) => {
  const p = await register(app, 'bundle');
  const bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ resource: immunization() }, { resource: allergy() }, { resource: condition() }],
  };
  const broken = { ...bundle, entry: [...bundle.entry, { resource: { ...allergy(), criticality: 7 } }] };
  const refused = await app.request('POST', '/api/v1/profile/health-records/bundle', { token: p.token, json: broken });
  assertError(t, refused, 400, 'validation_failed');
  t.true(
    refused.body.details.some((d: { path: string }) => d.path === 'Bundle.entry[3].resource.criticality'),
    JSON.stringify(refused.body),
  );
  t.is((await app.request('GET', '/api/v1/profile/health-records', { token: p.token })).body.records.length, 0, 'all or none');

  const imported = await app.request('POST', '/api/v1/profile/health-records/bundle', { token: p.token, json: bundle });
  t.is(imported.status, 201);
  t.is(imported.body.imported, 3);
  const exported = await app.request('GET', '/api/v1/profile/health-records/bundle', { token: p.token });
  t.is(exported.status, 200);
  t.regex(exported.headers.get('content-type') ?? '', /^application\/fhir\+json/);
  const out = JSON.parse(exported.text);
  t.is(out.resourceType, 'Bundle');
  t.is(out.type, 'collection');
  t.deepEqual(
    out.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType),
    ['Immunization', 'AllergyIntolerance', 'Condition'],
  );
  // What was exported imports again: the export is valid FHIR R4 itself.
  const again = await app.request('POST', '/api/v1/profile/health-records/bundle', { token: p.token, json: out });
  t.is(again.status, 201, again.text);
});
