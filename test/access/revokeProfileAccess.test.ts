// Revoking a service's access (`DELETE /api/v1/profile/revoke-access`): what the route refuses. What a revocation
// takes away is shown by test/services/oidc-flow.test.ts, backchannel-logout.test.ts and security/concurrency.test.ts.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { registerNamedPerson } from '../services/fixtures.ts';

const app = useTestApp();

test.serial('revoke-access answers 405 `delete required` to POST, 404 for a service never granted, 401 without a token', async (t) => {
  const person = await registerNamedPerson(app, 'mary');
  const post = await app.request('POST', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'svc_x' } });
  assertError(t, post, 405, undefined, 'delete required');
  const missing = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'svc_never' } });
  t.is(missing.status, 404);
  const bad = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: 'a b' } });
  t.is(bad.status, 400);
  const anon = await app.request('DELETE', '/api/v1/profile/revoke-access', { json: { service_id: 'svc_x' } });
  assertError(t, anon, 401, undefined, 'token must exist!');
});
