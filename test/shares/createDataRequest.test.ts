/**
 * The request flow (`POST /api/v1/data/requests` and the person's answer): a service calling as itself asks for
 * chosen facts, the person is told by e-mail and approves or declines, and the service collects its verification
 * token; a role is never asked what it may not receive, a service never reads another's request, requests expire
 * and a service cannot flood a person.
 */
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { registerClient, serviceClientToken, type RegisteredClient } from '../helpers/oidc.ts';
import { registerPerson } from '../services/fixtures.ts';
import { decodeShare, markDateOfBirthVerified, publishedJwks } from './fixtures.ts';
import { verifyShare } from './verify-offline.ts';

const app = useTestApp({ smtp: true, env: { SHARE_REQUESTS_PER_HOUR: '3' } });

async function ask(service: RegisteredClient, json: Record<string, unknown>) {
  return app.request('POST', '/api/v1/data/requests', { token: await serviceClientToken(app, service), json });
}

test('a service asks, the person is mailed and approves, and the service collects a token holding only what was asked', async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial', { name: 'Bottle Shop' });
  const created = await ask(shop, { subject: person.person.handle, fields: ['age_over_18'], purpose: 'Age check for a wine order' });
  t.is(created.status, 201, created.text);
  t.is(created.body.state, 'pending');
  const requestId = created.body.request_id;

  const mail = await app.smtp.waitFor((m) => /Bottle Shop asks you to share/.test(m.subject ?? ''));
  t.regex(mail.text ?? '', /age_over_18/);
  t.regex(mail.text ?? '', /Age check for a wine order/);

  const listed = await app.request('GET', '/api/v1/profile/requests', { token: person.token });
  t.like(listed.body.requests[0], {
    request_id: requestId,
    service_name: 'Bottle Shop',
    role: 'commercial',
    fields: ['age_over_18'],
    state: 'pending',
  });

  const pending = await app.request('GET', `/api/v1/data/requests/${requestId}`, { token: await serviceClientToken(app, shop) });
  t.is(pending.body.state, 'pending');
  t.is(pending.body.verification_token, undefined);

  const approved = await app.request('POST', `/api/v1/profile/requests/${requestId}/approve`, { token: person.token });
  t.is(approved.status, 200, approved.text);
  const collected = await app.request('GET', `/api/v1/data/requests/${requestId}`, { token: await serviceClientToken(app, shop) });
  t.is(collected.body.state, 'approved');
  const token = collected.body.verification_token;
  t.deepEqual(
    decodeShare(token).disclosures.map((d) => d.slice(1)),
    [['age_over_18', true]],
  );
  const list = await app.request('GET', new URL(decodeShare(token).payload.status.status_list.uri).pathname);
  t.deepEqual(await verifyShare(token, await publishedJwks(app), list.text, shop.service.client_id), {
    claims: { age_over_18: true },
    revoked: false,
  });

  // Decided once: a second answer is refused.
  assertError(t, await app.request('POST', `/api/v1/profile/requests/${requestId}/decline`, { token: person.token }), 409, 'request_closed');

  // The share is the person's to revoke like any other; the service then gets no token.
  const shares = await app.request('GET', '/api/v1/profile/shares', { token: person.token });
  t.is(shares.body.shares[0].request_id, requestId);
  await app.request('DELETE', `/api/v1/profile/shares/${approved.body.share_id}`, { token: person.token });
  const after = await app.request('GET', `/api/v1/data/requests/${requestId}`, { token: await serviceClientToken(app, shop) });
  t.true(after.body.revoked);
  t.is(after.body.verification_token, undefined);
});

test("a service whose role may not receive date_of_birth cannot ask for it; a service cannot read another service's request", async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial');
  const refused = await ask(shop, { subject: person.user_id, fields: ['date_of_birth'], purpose: 'Birthday offers' });
  assertError(t, refused, 403, 'field_not_shareable', /commercial services/);
  t.is(Number((await app.service.deps.db('share_requests').where({ client_id: shop.service.client_id }).count({ n: '*' }).first())?.n), 0);

  const agency = await registerClient(app, 'government');
  const asked = await ask(agency, { subject: person.user_id, fields: ['date_of_birth'], purpose: 'Benefit eligibility' });
  t.is(asked.status, 201, asked.text);
  const other = await registerClient(app, 'government');
  assertError(
    t,
    await app.request('GET', `/api/v1/data/requests/${asked.body.request_id}`, { token: await serviceClientToken(app, other) }),
    404,
    'request_not_found',
  );
  await app.request('POST', `/api/v1/profile/requests/${asked.body.request_id}/approve`, { token: person.token });
  assertError(
    t,
    await app.request('GET', `/api/v1/data/requests/${asked.body.request_id}`, { token: await serviceClientToken(app, other) }),
    404,
    'request_not_found',
    undefined,
  );
  const own = await app.request('GET', `/api/v1/data/requests/${asked.body.request_id}`, { token: await serviceClientToken(app, agency) });
  t.deepEqual(
    decodeShare(own.body.verification_token).disclosures.map((d) => d.slice(1)),
    [['date_of_birth', '1990-12-10']],
  );

  // Another person cannot answer it, and an unknown subject is refused.
  const stranger = await registerPerson(app);
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/requests/${asked.body.request_id}/approve`, { token: stranger.token }),
    404,
    'request_not_found',
  );
  assertError(t, await ask(agency, { subject: 'nobody_here', fields: ['age'], purpose: 'x' }), 404, 'subject_not_found');
});

test('approval of an age request without a verified birth date is refused with 409 and leaves it pending; declining shares nothing', async (t) => {
  const person = await registerPerson(app);
  const shop = await registerClient(app, 'commercial');
  const asked = await ask(shop, { subject: person.person.handle, fields: ['age_over_21'], purpose: 'Age check' });
  const approve = await app.request('POST', `/api/v1/profile/requests/${asked.body.request_id}/approve`, { token: person.token });
  assertError(t, approve, 409, 'credential_required');
  const listed = await app.request('GET', '/api/v1/profile/requests', { token: person.token });
  t.is(listed.body.requests[0].state, 'pending');
  const declined = await app.request('POST', `/api/v1/profile/requests/${asked.body.request_id}/decline`, { token: person.token });
  t.is(declined.status, 200, declined.text);
  const seen = await app.request('GET', `/api/v1/data/requests/${asked.body.request_id}`, { token: await serviceClientToken(app, shop) });
  t.is(seen.body.state, 'declined');
  t.is(seen.body.verification_token, undefined);
  t.is(Number((await app.service.deps.db('shares').where({ user_id: person.user_id }).count({ n: '*' }).first())?.n), 0);
});

test('requests expire, and a service asking one person too often gets 429 with Retry-After', async (t) => {
  const person = await registerPerson(app);
  await markDateOfBirthVerified(app, person);
  const shop = await registerClient(app, 'commercial');
  const first = await ask(shop, { subject: person.person.handle, fields: ['age'], purpose: 'one' });
  await app.service.deps
    .db('share_requests')
    .where({ id: first.body.request_id })
    .update({ expires_at: new Date(Date.now() - 1000) });
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/requests/${first.body.request_id}/approve`, { token: person.token }),
    409,
    'request_closed',
    /expired/,
  );
  const seen = await app.request('GET', `/api/v1/data/requests/${first.body.request_id}`, { token: await serviceClientToken(app, shop) });
  t.is(seen.body.state, 'expired');

  t.is((await ask(shop, { subject: person.person.handle, fields: ['age'], purpose: 'two' })).status, 201);
  t.is((await ask(shop, { subject: person.person.handle, fields: ['age'], purpose: 'three' })).status, 201);
  const flood = await ask(shop, { subject: person.person.handle, fields: ['age'], purpose: 'four' });
  assertError(t, flood, 429, 'too_many_requests');
  t.true(Number(flood.headers.get('retry-after')) > 3000);
  // Another service, or the same service and another person, is not held back.
  const other = await registerClient(app, 'commercial');
  t.is((await ask(other, { subject: person.person.handle, fields: ['age'], purpose: 'other service' })).status, 201);
  const someoneElse = await registerPerson(app);
  t.is((await ask(shop, { subject: someoneElse.person.handle, fields: ['age'], purpose: 'other person' })).status, 201);
  // A person's session is no service token.
  assertError(
    t,
    await app.request('POST', '/api/v1/data/requests', { token: person.token, json: { subject: 'x', fields: ['age'], purpose: 'x' } }),
    401,
  );
});
