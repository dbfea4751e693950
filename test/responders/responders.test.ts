/**
 * A responder organisation's roster (`/api/v1/responders`): a service of role emergency_responder, calling as itself
 * with a client credentials token, lists, adds, changes, deactivates and removes its responders; it sees only its
 * own; a service of another role is refused.
 */
import test from 'ava';
import { auditEvents } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { addToRoster, responderOrganisation } from '../emergency/fixtures.ts';

const app = useTestApp();

test('an organisation keeps its roster through the API', async (t) => {
  const org = await responderOrganisation(app, 'Roster Ambulance');
  const added = await app.request('POST', '/api/v1/responders', {
    token: org.token,
    json: { responder_id: 'medic-1', name: 'Sam Carter', licence: 'EMT-P 1' },
  });
  t.is(added.status, 201, added.text);
  t.like(added.body.responder, { responder_id: 'medic-1', name: 'Sam Carter', licence: 'EMT-P 1', active: true });
  assertError(
    t,
    await app.request('POST', '/api/v1/responders', { token: org.token, json: { responder_id: 'medic-1', name: 'Again', licence: 'x' } }),
    409,
    'responder_exists',
  );
  await addToRoster(app, org, { responder_id: 'medic-2', name: 'Two', licence: 'L2' });
  await addToRoster(app, org, { responder_id: 'medic-3', name: 'Three', licence: 'L3', active: false });

  const page1 = await app.request('GET', '/api/v1/responders?limit=2', { token: org.token });
  t.is(page1.status, 200, page1.text);
  t.deepEqual(
    page1.body.responders.map((r: { responder_id: string }) => r.responder_id),
    ['medic-1', 'medic-2'],
  );
  const page2 = await app.request('GET', `/api/v1/responders?limit=2&cursor=${page1.body.next_cursor}`, { token: org.token });
  t.deepEqual(
    page2.body.responders.map((r: { responder_id: string; active: boolean }) => [r.responder_id, r.active]),
    [['medic-3', false]],
  );
  t.is(page2.body.next_cursor, null);
  assertError(t, await app.request('GET', '/api/v1/responders?cursor=3____', { token: org.token }), 400, 'invalid_cursor');

  const changed = await app.request('PUT', '/api/v1/responders/medic-2', { token: org.token, json: { licence: 'L2-renewed', active: false } });
  t.is(changed.status, 200, changed.text);
  t.like(changed.body.responder, { licence: 'L2-renewed', active: false });
  const one = await app.request('GET', '/api/v1/responders/medic-2', { token: org.token });
  t.like(one.body.responder, { responder_id: 'medic-2', active: false });
  assertError(t, await app.request('PUT', '/api/v1/responders/medic-2', { token: org.token, json: {} }), 400, 'validation_failed');

  const removed = await app.request('DELETE', '/api/v1/responders/medic-3', { token: org.token });
  t.is(removed.status, 200, removed.text);
  assertError(t, await app.request('GET', '/api/v1/responders/medic-3', { token: org.token }), 404, 'responder_not_found');
  for (const action of ['responder.added', 'responder.changed', 'responder.removed']) {
    t.truthy(
      (await auditEvents(app, action)).find((e) => e.data.client_id === org.client.service.client_id),
      action,
    );
  }
});

test("an organisation sees and changes only its own roster; another role's service is refused", async (t) => {
  const mine = await responderOrganisation(app, 'Mine');
  const theirs = await responderOrganisation(app, 'Theirs');
  await addToRoster(app, theirs, { responder_id: 'their-1', name: 'Theirs One', licence: 'T1' });
  assertError(t, await app.request('GET', '/api/v1/responders/their-1', { token: mine.token }), 404, 'responder_not_found');
  assertError(t, await app.request('PUT', '/api/v1/responders/their-1', { token: mine.token, json: { active: false } }), 404, 'responder_not_found');
  t.deepEqual((await app.request('GET', '/api/v1/responders', { token: mine.token })).body.responders, []);

  const shop = await responderOrganisation(app, 'A Shop', 'commercial');
  assertError(t, await app.request('GET', '/api/v1/responders', { token: shop.token }), 403, 'not_an_emergency_responder');
  assertError(
    t,
    await app.request('POST', '/api/v1/responders', { token: shop.token, json: { responder_id: 'x', name: 'x', licence: 'x' } }),
    403,
    'not_an_emergency_responder',
  );
  assertError(t, await app.request('GET', '/api/v1/responders'), 401, 'token_missing');
});
