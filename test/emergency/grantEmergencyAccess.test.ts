/**
 * Break the glass (seed API 5): a verified responder of a responder organisation gets exactly the predefined
 * information, through the disclosure pipeline, on the audit chain; the person and every trusted contact are told
 * by mail; the log shows the access. Every refusal (not on the roster, deactivated, a criterion the person did not
 * allow, a service of another role, no setup) releases nothing and is on the audit chain.
 */
import test from 'ava';
import { auditEvents, mailsTo } from '../accounts/fixtures.ts';
import { type TestResponse, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addToRoster, grant, MEDICAL, personWithSetup, responderOrganisation } from './fixtures.ts';

const app = useTestApp({ smtp: true });

const contactA = () => ({ name: 'Grace Hopper', email: `grace.${Math.random().toString(36).slice(2)}@example.org`, phone: '+15551234567' });
const contactB = () => ({ name: 'Alan Turing', email: `alan.${Math.random().toString(36).slice(2)}@example.org` });

/** Waits until the outbox has delivered every queued mail. */
async function outboxDrained() {
  for (let i = 0; i < 100; i++) {
    const [{ count }] = await app.service.deps.db('outbox').whereIn('state', ['pending', 'held']).count({ count: '*' });
    if (Number(count) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the outbox did not drain');
}

test('a verified responder gets exactly the predefined items; one mail per trusted contact and one for the person; the log shows the released fields', async (t) => {
  const a = contactA();
  const b = contactB();
  const person = await personWithSetup(app, [a, b]);
  // Changed after the setup: the access releases the profile's current value.
  const current = { name: 'Ada Byron King', phone: '+15552223333', relationship: 'daughter' };
  t.is(
    (await app.request('PUT', '/api/v1/profile/update-info', { token: person.token, json: { updated_fields: { emergency_contact: current } } }))
      .status,
    200,
  );
  const org = await responderOrganisation(app);
  await addToRoster(app, org, { responder_id: 'medic-17', name: 'Sam Carter', licence: 'EMT-P 40213' });
  await outboxDrained();

  const res = await grant(app, org, {
    responder_id: 'medic-17',
    reason: 'Found unconscious at a bus stop',
    email: person.person.email,
    criterion: 'unconsciousness',
  });
  t.is(res.status, 200, res.text);
  // Exactly the setup's items and the referenced fields the policy releases under break-the-glass; the home address
  // is referenced, but the responder role may never read it: withheld, not released.
  t.deepEqual(res.body.emergency_info, { ...MEDICAL, profile_fields: { emergency_contact: current }, withheld: ['home_address'] });
  t.is(res.body.criterion, 'unconsciousness');
  const expiresIn = new Date(res.body.expires_at).getTime() - Date.now();
  t.true(expiresIn > 29 * 60_000 && expiresIn <= 30 * 60_000);
  for (const secret of ['NID-SECRET-4242', 'Kingsway', '+15557654321', 'Analyst', person.person.email, person.person.handle, 'Charles Babbage']) {
    t.false(res.text.includes(secret), `the answer never shows ${secret}`);
  }

  // The release went through the pipeline: on the chain, under the emergency basis, naming what left.
  const released = (await auditEvents(app, 'data.released')).find((e) => e.data.access_log_id === res.body.access_log_id);
  t.truthy(released);
  const fields = ['emergency_contact', ...Object.keys(MEDICAL).map((k) => `emergency_info.${k}`)].sort();
  t.like(released, { actor: `service:${org.client.service.client_id}`, subject: `user:${person.user_id}` });
  t.like(released!.data, { client_id: org.client.service.client_id, responder_id: 'medic-17', criterion: 'unconsciousness', via: 'emergency_grant' });
  t.deepEqual(released!.data.fields, fields);

  // One mail to each trusted contact and one to the person, each saying who, which organisation, why, when.
  await outboxDrained();
  const opened = /emergency (information|access)/i;
  const toA = mailsTo(app, a.email, opened).filter((m) => /was opened/.test(m.subject ?? ''));
  const toB = mailsTo(app, b.email, opened).filter((m) => /was opened/.test(m.subject ?? ''));
  const toPerson = mailsTo(app, person.person.email, /was opened/);
  t.is(toA.length, 1);
  t.is(toB.length, 1);
  t.is(toPerson.length, 1);
  const reason = 'Found unconscious at a bus stop';
  t.is(app.smtp.messages.filter((m) => m.text?.includes(reason)).length, 3, 'three mails: two contacts and the person');
  for (const mail of [...toA, ...toB, ...toPerson]) {
    for (const fact of ['Sam Carter', 'medic-17', org.name, 'Found unconscious at a bus stop', 'unconsciousness'])
      t.true(mail.text!.includes(fact), fact);
  }
  t.regex(toPerson[0].text!, new RegExp(`log/${res.body.access_log_id}/flag`));

  // The person's log shows it with the released fields.
  const log = await app.request('GET', '/api/v1/profile/emergency-access/log', { token: person.token });
  t.is(log.status, 200, log.text);
  t.is(log.body.entries.length, 1);
  t.like(log.body.entries[0], {
    access_log_id: res.body.access_log_id,
    opened_by: 'responder',
    organisation: org.name,
    client_id: org.client.service.client_id,
    responder_id: 'medic-17',
    responder_name: 'Sam Carter',
    reason: 'Found unconscious at a bus stop',
    criterion: 'unconsciousness',
    state: 'open',
    ended_at: null,
  });
  t.deepEqual(log.body.entries[0].fields, fields);
  t.is(log.body.next_cursor, null);
});

test('the log pages newest first with its cursor', async (t) => {
  const person = await personWithSetup(app, []);
  const org = await responderOrganisation(app, 'Paging Ambulance');
  await addToRoster(app, org, { responder_id: 'p1', name: 'Paging Medic', licence: 'P1' });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await grant(app, org, { responder_id: 'p1', reason: `Visit ${i}`, email: person.person.email, criterion: 'unconsciousness' });
    t.is(res.status, 200, res.text);
    ids.push(res.body.access_log_id);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
    const page: TestResponse = await app.request('GET', `/api/v1/profile/emergency-access/log?${query}`, { token: person.token });
    t.is(page.status, 200, page.text);
    seen.push(...page.body.entries.map((e: { access_log_id: string }) => e.access_log_id));
    cursor = page.body.next_cursor;
  } while (cursor);
  t.deepEqual(seen, [...ids].reverse());
});

test('a cursor the log did not give out is a 400, with or without a setup', async (t) => {
  const person = await personWithSetup(app, []);
  const { register } = await import('../accounts/fixtures.ts');
  const without = await register(app);
  for (const token of [person.token, without.token]) {
    for (const cursor of ['3____', 'bm90LWEtY3Vyc29y', Buffer.from('2020-01-01T00:00:00.000Z|not-a-uuid').toString('base64url')]) {
      assertError(t, await app.request('GET', `/api/v1/profile/emergency-access/log?cursor=${cursor}`, { token }), 400, 'invalid_cursor');
    }
  }
});

test('not on the roster, deactivated, a criterion not allowed, a service of another role: nothing released, each attempt on the audit chain', async (t) => {
  const person = await personWithSetup(app, [contactA()]);
  const org = await responderOrganisation(app, 'County Rescue');
  await addToRoster(app, org, { responder_id: 'medic-1', name: 'Active Medic', licence: 'EMT 1' });
  await addToRoster(app, org, { responder_id: 'medic-2', name: 'Former Medic', licence: 'EMT 2' });
  const off = await app.request('PUT', '/api/v1/responders/medic-2', { token: org.token, json: { active: false } });
  t.is(off.status, 200, off.text);
  t.false(off.body.responder.active);
  // Another organisation's member is not on this one's roster.
  const other = await responderOrganisation(app, 'Other Ambulance');
  await addToRoster(app, other, { responder_id: 'medic-9', name: 'Elsewhere Medic', licence: 'EMT 9' });
  const clinic = await responderOrganisation(app, 'Walk-in Clinic', 'healthcare');

  const ask = { reason: 'Collapsed in the street', email: person.person.email, criterion: 'unconsciousness' };
  const released = async () => (await auditEvents(app, 'data.released')).filter((e) => e.subject === `user:${person.user_id}`).length;
  const cases = [
    { who: org, body: { ...ask, responder_id: 'medic-9' }, status: 403, code: 'responder_not_verified', refusal: 'not_on_roster' },
    { who: org, body: { ...ask, responder_id: 'medic-2' }, status: 403, code: 'responder_inactive', refusal: 'responder_inactive' },
    {
      who: org,
      body: { ...ask, responder_id: 'medic-1', criterion: 'cardiac_arrest' },
      status: 403,
      code: 'criterion_not_allowed',
      refusal: 'criterion_not_allowed',
    },
    { who: clinic, body: { ...ask, responder_id: 'medic-1' }, status: 403, code: 'not_an_emergency_responder', refusal: 'wrong_role' },
  ];
  for (const c of cases) {
    const res = await grant(app, c.who, c.body);
    assertError(t, res, c.status, c.code);
    t.deepEqual(Object.keys(res.body).sort(), ['error', 'status'], `${c.refusal}: only the envelope`);
    for (const item of ['penicillin', 'insulin', 'O-', 'Babbage']) t.false(res.text.includes(item), `${c.refusal} shows nothing`);
    const logged = (await auditEvents(app, 'emergency.refused')).find(
      (e) => e.data.refusal === c.refusal && e.actor === `service:${c.who.client.service.client_id}` && e.data.responder_id === c.body.responder_id,
    );
    t.truthy(logged, `${c.refusal} is on the audit chain`);
  }
  t.is(await released(), 0, 'nothing was released');
  const log = await app.request('GET', '/api/v1/profile/emergency-access/log', { token: person.token });
  t.deepEqual(log.body.entries, [], 'no access was opened');
});

test("a missing field answers the seed's 400; an unknown address and a person without a setup get the same 404, logged", async (t) => {
  const org = await responderOrganisation(app, 'Seed Ambulance');
  await addToRoster(app, org, { responder_id: 'r1', name: 'R One', licence: 'L1' });
  for (const body of [{}, { responder_id: 'r1', reason: 'x' }, { reason: 'x', email: 'a@example.org', criterion: 'unconsciousness' }]) {
    const res = await grant(app, org, body);
    assertError(t, res, 400, 'emergency_fields_missing', 'responder_id,reason,email must exist!');
  }
  const { register } = await import('../accounts/fixtures.ts');
  const without = await register(app);
  const unknown = await grant(app, org, { responder_id: 'r1', reason: 'x', email: `nobody.${Date.now()}@example.org`, criterion: 'unconsciousness' });
  const noSetup = await grant(app, org, { responder_id: 'r1', reason: 'x', email: without.person.email, criterion: 'unconsciousness' });
  assertError(t, unknown, 404, 'emergency_access_not_found');
  assertError(t, noSetup, 404, 'emergency_access_not_found');
  t.deepEqual(unknown.body, noSetup.body, 'the same answer: the endpoint does not tell who has an account');
  const refusals = (await auditEvents(app, 'emergency.refused')).filter(
    (e) => e.data.refusal === 'no_setup' && e.data.client_id === org.client.service.client_id,
  );
  t.is(refusals.length, 2);
});

test('the person can end an open access early; flagging is kept on the log and the chain', async (t) => {
  const person = await personWithSetup(app, [contactB()]);
  const org = await responderOrganisation(app, 'Night Ambulance');
  await addToRoster(app, org, { responder_id: 'n1', name: 'Night One', licence: 'N1' });
  const res = await grant(app, org, { responder_id: 'n1', reason: 'Unresponsive', email: person.person.email, criterion: 'unable_to_communicate' });
  t.is(res.status, 200, res.text);
  const id = res.body.access_log_id;
  const end = await app.request('POST', `/api/v1/profile/emergency-access/log/${id}/end`, { token: person.token });
  t.is(end.status, 200, end.text);
  t.is(end.body.state, 'ended');
  const flag = await app.request('POST', `/api/v1/profile/emergency-access/log/${id}/flag`, {
    token: person.token,
    json: { note: 'I was not unconscious' },
  });
  t.is(flag.status, 200, flag.text);
  const log = await app.request('GET', '/api/v1/profile/emergency-access/log', { token: person.token });
  t.like(log.body.entries[0], { access_log_id: id, state: 'ended', flag_note: 'I was not unconscious' });
  t.truthy(log.body.entries[0].ended_at);
  t.truthy(log.body.entries[0].flagged_at);
  t.truthy((await auditEvents(app, 'emergency.ended')).find((e) => e.data.access_log_id === id));
  t.truthy((await auditEvents(app, 'emergency.flagged')).find((e) => e.data.access_log_id === id));
  // Someone else's log entry is not theirs to end.
  const stranger = await personWithSetup(app, []);
  assertError(t, await app.request('POST', `/api/v1/profile/emergency-access/log/${id}/end`, { token: stranger.token }), 404, 'access_log_not_found');
});

test('grants are rate-limited per person', async (t) => {
  const person = await personWithSetup(app, []);
  const org = await responderOrganisation(app, 'Busy Ambulance');
  await addToRoster(app, org, { responder_id: 'b1', name: 'Busy One', licence: 'B1' });
  let last: Awaited<ReturnType<typeof grant>> | undefined;
  for (let i = 0; i < app.config.emergencyGrantsPerPerson + 1; i++) {
    last = await grant(app, org, { responder_id: 'b1', reason: `Attempt ${i}`, email: person.person.email, criterion: 'unconsciousness' });
  }
  assertError(t, last!, 429, 'too_many_requests');
});
