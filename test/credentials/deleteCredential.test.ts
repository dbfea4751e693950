import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addLicence } from './fixtures.ts';

const app = useTestApp();

test('deleting a confirmed credential keeps the values but makes them self-asserted', async (t) => {
  const session = await register(app);
  const added = await addLicence(app, session.token);
  t.is(
    (
      await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, {
        token: session.token,
        json: { fields: ['date_of_birth', 'name'] },
      })
    ).status,
    200,
  );
  const res = await app.request('DELETE', `/api/v1/profile/credentials/${added.credential_id}`, { token: session.token });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body.unverified_fields.sort(), ['date_of_birth', 'name']);
  t.is(await app.service.deps.db('credentials').where({ id: added.credential_id }).first(), undefined);
  const profile = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.like(profile.body.fields.date_of_birth, { value: '1990-01-31', provenance: 'user' });
  t.is(profile.body.fields.date_of_birth.verification, undefined);
  assertError(
    t,
    await app.request('DELETE', `/api/v1/profile/credentials/${added.credential_id}`, { token: session.token }),
    404,
    'credential_not_found',
  );
});

test("a pending credential is deleted without touching the profile; another person's is not found", async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const added = await addLicence(app, owner.token);
  assertError(
    t,
    await app.request('DELETE', `/api/v1/profile/credentials/${added.credential_id}`, { token: other.token }),
    404,
    'credential_not_found',
  );
  const res = await app.request('DELETE', `/api/v1/profile/credentials/${added.credential_id}`, { token: owner.token });
  t.is(res.status, 200);
  t.deepEqual(res.body.unverified_fields, []);
});
