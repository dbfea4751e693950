/**
 * Setting up emergency access (seed API 4): create, read, replace, delete; contacts kept by address keep their
 * state and new ones are told; bad input is refused with what to fix and writes nothing.
 */
import test from 'ava';
import { auditEvents, mailsTo, register } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addToRoster, grant, MEDICAL, personWithSetup, responderOrganisation } from './fixtures.ts';

const app = useTestApp({ smtp: true });

test('POST answers 201 with the access_id; GET shows the setup; a second POST is a 409', async (t) => {
  const person = await personWithSetup(app, [{ name: 'Grace Hopper', email: 'grace.setup@example.org' }], { accessMinutes: 90 });
  t.regex(person.accessId, /^[0-9a-f-]{36}$/);
  const res = await app.request('GET', '/api/v1/profile/emergency-access', { token: person.token });
  t.is(res.status, 200, res.text);
  t.is(res.body.access_id, person.accessId);
  t.like(res.body.emergency_info, { ...MEDICAL, profile_fields: ['emergency_contact', 'home_address'] });
  t.deepEqual(res.body.criteria, { conditions: ['unconsciousness', 'unable_to_communicate'], access_minutes: 90 });
  t.like(res.body.trusted_contacts[0], { name: 'Grace Hopper', email: 'grace.setup@example.org', declined: false });
  t.is(res.body.public_text, 'Diabetic, see Ringfence');
  const again = await app.request('POST', '/api/v1/profile/emergency-access', {
    token: person.token,
    json: { trusted_contacts: [], emergency_info: {}, criteria: ['unconsciousness'] },
  });
  assertError(t, again, 409, 'emergency_access_exists');
  t.truthy((await auditEvents(app, 'emergency.setup_created')).find((e) => e.data.access_id === person.accessId));
});

test('the seed shape (contacts as addresses, criteria as a list) is accepted; access lasts an hour by default', async (t) => {
  const person = await register(app);
  const res = await app.request('POST', '/api/v1/profile/emergency-access', {
    token: person.token,
    json: { trusted_contacts: ['seed.contact@example.org'], emergency_info: { blood_type: 'B+' }, criteria: ['unconsciousness'] },
  });
  t.is(res.status, 201, res.text);
  const got = await app.request('GET', '/api/v1/profile/emergency-access', { token: person.token });
  t.deepEqual(got.body.criteria, { conditions: ['unconsciousness'], access_minutes: 60 });
  t.like(got.body.trusted_contacts[0], { name: 'seed.contact@example.org', email: 'seed.contact@example.org' });
});

test('PUT replaces the setup: a kept contact is not told again, a new one is', async (t) => {
  const person = await personWithSetup(app, [{ name: 'Kept', email: 'kept.put@example.org' }]);
  await app.smtp.waitFor((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes('kept.put@example.org'));
  const put = await app.request('PUT', '/api/v1/profile/emergency-access', {
    token: person.token,
    json: {
      trusted_contacts: [
        { name: 'Kept', email: 'kept.put@example.org' },
        { name: 'New', email: 'new.put@example.org' },
      ],
      emergency_info: { blood_type: 'AB+', allergies: ['latex'] },
      criteria: { conditions: ['disorientation'], access_minutes: 1440 },
    },
  });
  t.is(put.status, 200, put.text);
  t.deepEqual(put.body.emergency_info, { blood_type: 'AB+', allergies: ['latex'], profile_fields: [] });
  t.deepEqual(put.body.criteria, { conditions: ['disorientation'], access_minutes: 1440 });
  await app.smtp.waitFor((m) => (m.to && !Array.isArray(m.to) ? m.to.text : '').includes('new.put@example.org'));
  t.is(mailsTo(app, 'kept.put@example.org', /trusted contact/).length, 1, 'the kept contact was told once');
  t.is(mailsTo(app, 'new.put@example.org', /trusted contact/).length, 1);
});

test('bad input is refused with what to fix, and nothing is written', async (t) => {
  const person = await register(app);
  const mine = () => app.service.deps.db('emergency_access').where({ user_id: person.user_id });
  const mailed = () => app.service.deps.db('outbox').where({ recipient_hint: app.service.deps.outbox.recipientHint('same@example.org') });
  const cases = [
    {
      json: { trusted_contacts: [], emergency_info: { profile_fields: ['no_such_field'] }, criteria: ['unconsciousness'] },
      code: 'invalid_emergency_setup',
    },
    {
      json: {
        trusted_contacts: [
          { name: 'A', email: 'same@example.org' },
          { name: 'B', email: 'SAME@example.org' },
        ],
        emergency_info: {},
        criteria: ['unconsciousness'],
      },
      code: 'invalid_emergency_setup',
    },
    {
      json: { trusted_contacts: [], emergency_info: {}, criteria: { conditions: ['unconsciousness'], access_minutes: 1441 } },
      code: 'validation_failed',
    },
    { json: { trusted_contacts: [], emergency_info: { password: 'x' }, criteria: ['unconsciousness'] }, code: 'validation_failed' },
    { json: { emergency_info: {}, criteria: ['unconsciousness'] }, code: 'validation_failed' },
  ];
  for (const c of cases) {
    const res = await app.request('POST', '/api/v1/profile/emergency-access', { token: person.token, json: c.json });
    assertError(t, res, 400, c.code);
    t.true(Array.isArray(res.body.details) && res.body.details.length > 0);
  }
  t.deepEqual(await mine(), [], 'no setup was written');
  t.deepEqual(await mailed(), [], 'no contact was told');
});

test('DELETE removes the setup and its card; an open access ends with it', async (t) => {
  const person = await personWithSetup(app, []);
  const org = await responderOrganisation(app, 'Delete Ambulance');
  await addToRoster(app, org, { responder_id: 'd1', name: 'Delete Medic', licence: 'D1' });
  const opened = await grant(app, org, { responder_id: 'd1', reason: 'Before the delete', email: person.person.email, criterion: 'unconsciousness' });
  t.is(opened.status, 200, opened.text);
  const del = await app.request('DELETE', '/api/v1/profile/emergency-access', { token: person.token });
  t.is(del.status, 200, del.text);
  t.is(del.body.access_id, person.accessId);
  assertError(t, await app.request('GET', '/api/v1/profile/emergency-access', { token: person.token }), 404, 'emergency_access_not_found');
  assertError(t, await app.request('DELETE', '/api/v1/profile/emergency-access', { token: person.token }), 404, 'emergency_access_not_found');
  t.falsy(await app.service.deps.db('emergency_access').where({ id: person.accessId }).first());
  t.falsy(await app.service.deps.db('emergency_openings').where({ id: opened.body.access_log_id }).first(), 'the open access is gone with it');
  const again = await grant(app, org, { responder_id: 'd1', reason: 'After the delete', email: person.person.email, criterion: 'unconsciousness' });
  assertError(t, again, 404, 'emergency_access_not_found');
  t.truthy((await auditEvents(app, 'emergency.setup_deleted')).find((e) => e.data.access_id === person.accessId));
});

test('two setups sent at once: one is created, the other is a 409, never a 500', async (t) => {
  const person = await register(app);
  const body = { trusted_contacts: [], emergency_info: { blood_type: 'A+' }, criteria: ['unconsciousness'] };
  const answers = await Promise.all(
    Array.from({ length: 4 }, () => app.request('POST', '/api/v1/profile/emergency-access', { token: person.token, json: body })),
  );
  t.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409], answers.map((a) => a.text).join('\n'));
  for (const a of answers.filter((a) => a.status === 409)) assertError(t, a, 409, 'emergency_access_exists');
});
