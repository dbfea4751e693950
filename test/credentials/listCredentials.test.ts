import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addLicence, JANE, PIERRE } from './fixtures.ts';

const app = useTestApp();

test('the owner lists their credentials newest first, page by page; others see none of them', async (t) => {
  const session = await register(app);
  const first = await addLicence(app, session.token, JANE);
  const second = await addLicence(app, session.token, PIERRE, { version: 10 });
  const page1 = await app.request('GET', '/api/v1/profile/credentials?limit=1', { token: session.token });
  t.is(page1.status, 200, page1.text);
  t.is(page1.body.credentials.length, 1);
  t.like(page1.body.credentials[0], {
    credential_id: second.credential_id,
    credential_type: 'ca_drivers_license',
    state: 'pending_confirmation',
    expiry_date: PIERRE.expires,
  });
  t.like(page1.body.credentials[0].issuer, { jurisdiction: 'ON', country: 'CAN' });
  const page2 = await app.request('GET', `/api/v1/profile/credentials?limit=1&cursor=${page1.body.next_cursor}`, { token: session.token });
  t.is(page2.body.credentials[0].credential_id, first.credential_id);
  t.is(page2.body.next_cursor, null);
  const other = await register(app);
  t.deepEqual((await app.request('GET', '/api/v1/profile/credentials', { token: other.token })).body.credentials, []);
  assertError(t, await app.request('GET', '/api/v1/profile/credentials?cursor=bm9wZQ', { token: session.token }), 400, 'invalid_cursor');
});
