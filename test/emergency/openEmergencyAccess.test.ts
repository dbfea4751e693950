/**
 * Trusted contacts: told by mail when named (with how to decline); one who is a Ringfence user opens the person's
 * emergency access with their own session and a reason, and sees the same predefined information; a user the
 * person did not name, or a contact who declined, gets the one 404 that tells nothing.
 */
import test from 'ava';
import { auditEvents, mailTo, register, verificationCode } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { MEDICAL, personWithSetup } from './fixtures.ts';

const app = useTestApp({ smtp: true });

/** A registered user whose address is verified, as a trusted contact must be. */
async function verifiedUser() {
  const user = await register(app, { name: 'Grace Hopper' });
  const code = await verificationCode(app, user.person.email);
  const res = await app.request('POST', '/api/v1/auth/verify-email', { token: user.token, json: { code } });
  if (res.status !== 200) throw new Error(`verify failed: ${res.text}`);
  return user;
}

test('a named contact is told how to decline; a contact with an account opens the access and sees the same items', async (t) => {
  const grace = await verifiedUser();
  const outsider = { name: 'Outside Friend', email: `outside.${Date.now()}@example.org` };
  const person = await personWithSetup(app, [{ name: 'Grace Hopper', email: grace.person.email }, outsider]);
  const named = await mailTo(app, grace.person.email, /named you a trusted contact/);
  t.regex(named.text!, /To decline/);
  t.regex(named.text!, /\/api\/v1\/emergency-access\/decline/);

  const res = await app.request('POST', '/api/v1/profile/emergency-access/open', {
    token: grace.token,
    json: { email: person.person.email, reason: 'She collapsed at home', criterion: 'unconsciousness' },
  });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body.emergency_info, {
    ...MEDICAL,
    profile_fields: { emergency_contact: { name: 'Charles Babbage', phone: '+15550001111', relationship: 'friend' } },
    withheld: ['home_address'],
  });
  for (const secret of ['NID-SECRET-4242', 'Kingsway']) t.false(res.text.includes(secret));
  const released = (await auditEvents(app, 'data.released')).find((e) => e.data.access_log_id === res.body.access_log_id);
  t.like(released, { actor: `user:${grace.user_id}`, subject: `user:${person.user_id}` });
  t.like(released!.data, { contact: `user:${grace.user_id}`, via: 'emergency_contact' });
  // The person and the other contact are told.
  const toPerson = await mailTo(app, person.person.email, /was opened/);
  t.regex(toPerson.text!, /Grace Hopper, one of your trusted contacts/);
  t.regex((await mailTo(app, outsider.email, /was opened/)).text!, /She collapsed at home/);
  const log = await app.request('GET', '/api/v1/profile/emergency-access/log', { token: person.token });
  t.like(log.body.entries[0], { opened_by: 'contact', responder_name: 'Grace Hopper', reason: 'She collapsed at home', organisation: null });
});

test('a user who was not named, and a contact who declined, get the same 404; both attempts are logged', async (t) => {
  const grace = await verifiedUser();
  const stranger = await verifiedUser();
  const person = await personWithSetup(app, [{ name: 'Grace Hopper', email: grace.person.email }]);
  const ask = { email: person.person.email, reason: 'Worried', criterion: 'unconsciousness' };
  const notNamed = await app.request('POST', '/api/v1/profile/emergency-access/open', { token: stranger.token, json: ask });
  assertError(t, notNamed, 404, 'emergency_access_not_found');
  const unknown = await app.request('POST', '/api/v1/profile/emergency-access/open', {
    token: stranger.token,
    json: { ...ask, email: `nobody.${Date.now()}@example.org` },
  });
  t.deepEqual(unknown.body, notNamed.body);

  // Grace declines with the token from her mail: she can no longer open it.
  const named = await mailTo(app, grace.person.email, /named you a trusted contact/);
  const token = /: ([A-Za-z0-9_-]{43})\n/.exec(named.text!)?.[1];
  t.truthy(token);
  assertError(t, await app.request('POST', '/api/v1/emergency-access/decline', { json: { token: 'x'.repeat(43) } }), 400, 'invalid_decline_token');
  const declined = await app.request('POST', '/api/v1/emergency-access/decline', { json: { token } });
  t.is(declined.status, 200, declined.text);
  const setup = await app.request('GET', '/api/v1/profile/emergency-access', { token: person.token });
  t.true(setup.body.trusted_contacts[0].declined);
  assertError(
    t,
    await app.request('POST', '/api/v1/profile/emergency-access/open', { token: grace.token, json: ask }),
    404,
    'emergency_access_not_found',
  );
  const refused = (await auditEvents(app, 'emergency.refused')).filter((e) => e.data.refusal === 'not_a_contact');
  t.true(refused.some((e) => e.actor === `user:${stranger.user_id}`));
  t.true(refused.some((e) => e.actor === `user:${grace.user_id}`));
});

test('an unverified address is never a trusted contact', async (t) => {
  const unverified = await register(app);
  const person = await personWithSetup(app, [{ name: 'Claimed', email: unverified.person.email }]);
  const res = await app.request('POST', '/api/v1/profile/emergency-access/open', {
    token: unverified.token,
    json: { email: person.person.email, reason: 'x', criterion: 'unconsciousness' },
  });
  assertError(t, res, 404, 'emergency_access_not_found');
});
