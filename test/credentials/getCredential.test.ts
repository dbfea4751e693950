import test from 'ava';
import sharp from 'sharp';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { register } from '../accounts/fixtures.ts';
import { addLicence } from './fixtures.ts';

const app = useTestApp();

test('the owner sees one credential with its extraction, checks and the honest authenticity note', async (t) => {
  const session = await register(app);
  const added = await addLicence(app, session.token);
  const res = await app.request('GET', `/api/v1/profile/credentials/${added.credential_id}`, { token: session.token });
  t.is(res.status, 200, res.text);
  t.like(res.body, { credential_id: added.credential_id, state: 'pending_confirmation', label: "Driver's License" });
  t.is(res.body.extracted.date_of_birth, '1990-01-31');
  t.false(res.body.authenticity.proven);
  t.is(res.body.image_url, `/api/v1/profile/credentials/${added.credential_id}/image`);
});

test('the raw image goes to its owner only, as a JPEG without metadata', async (t) => {
  const owner = await register(app);
  const other = await register(app);
  const added = await addLicence(app, owner.token);
  const path = `/api/v1/profile/credentials/${added.credential_id}/image`;
  const res = await fetch(app.url + path, { headers: { authorization: `Bearer ${owner.token}` } });
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'image/jpeg');
  t.is(res.headers.get('cache-control'), 'private, no-store');
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  t.is(meta.format, 'jpeg');
  t.is(meta.exif, undefined);
  assertError(t, await app.request('GET', path, { token: other.token }), 404, 'credential_not_found');
  assertError(t, await app.request('GET', path), 401);
});
