import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addLicence } from './fixtures.ts';

const app = useTestApp();

test('reject discards the extraction and the image; the profile is untouched', async (t) => {
  const session = await register(app);
  const added = await addLicence(app, session.token);
  const before = await app.request('GET', '/api/v1/profile', { token: session.token });
  const res = await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/reject`, { token: session.token });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body, { status: 'success', credential_id: added.credential_id, state: 'rejected' });
  const row = await app.service.deps.db('credentials').where({ id: added.credential_id }).first();
  t.is(row.image, null);
  t.is(row.extraction, null);
  const shown = await app.request('GET', `/api/v1/profile/credentials/${added.credential_id}`, { token: session.token });
  t.like(shown.body, { state: 'rejected', extracted: null, image_url: null });
  assertError(
    t,
    await app.request('GET', `/api/v1/profile/credentials/${added.credential_id}/image`, { token: session.token }),
    404,
    'credential_not_found',
  );
  const after = await app.request('GET', '/api/v1/profile', { token: session.token });
  t.is(after.body.version, before.body.version);
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/reject`, { token: session.token }),
    409,
    'credential_not_pending',
  );
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, { token: session.token }),
    409,
    'credential_not_pending',
  );
});

test('a confirmed credential cannot be rejected; another person cannot reject', async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const added = await addLicence(app, owner.token);
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/reject`, { token: other.token }),
    404,
    'credential_not_found',
  );
  t.is((await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, { token: owner.token })).status, 200);
  assertError(
    t,
    await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/reject`, { token: owner.token }),
    409,
    'credential_not_pending',
    /delete it instead/,
  );
});
