// Step-up: operations marked x-step-up in openapi.yaml need a recent authentication; a stale login hears 401
// step_up_required (with what would satisfy it) and steps up with its password or key pair.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { hashToken } from '../../src/crypto/tokens.ts';
import { spec, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, register } from '../accounts/fixtures.ts';
import { keyPair, registerWithKey, signMessage } from './fixtures.ts';

const app = useTestApp();

/** Makes the login of `token` one that last authenticated ten minutes ago. */
async function stale(token: string): Promise<void> {
  const row = await app.service.deps
    .db('sessions')
    .where({ access_hash: hashToken(token) })
    .first();
  await app.service.deps
    .db('sessions')
    .where({ family_id: row.family_id })
    .update({ auth_at: new Date(Date.now() - 10 * 60 * 1000) });
}

test('every operation marked x-step-up refuses a stale login with step_up_required and says how to step up', async (t) => {
  const marked = spec.operations.filter((op) => op.stepUp !== undefined);
  t.deepEqual(marked.map((op) => op.operationId).sort(), [
    'changePassword',
    'createEmergencyAccess',
    'deleteEmergencyAccess',
    'deletePasskey',
    'exportProfile',
    'exportProfileWithPassphrase',
    'logoutAll',
    'replaceEmergencyAccess',
    'replacePublicKey',
    'rotateEmergencyCard',
  ]);
  const person = await register(app);
  await stale(person.token);
  const bodies: Record<string, unknown> = {
    changePassword: { current_password: person.person.password, new_password: 'a brand new passphrase' },
    exportProfileWithPassphrase: { passphrase: 'long enough passphrase' },
    replacePublicKey: { public_key: keyPair('p256').publicPem },
    createEmergencyAccess: { trusted_contacts: [], emergency_info: { blood_type: 'A+' }, criteria: ['unconsciousness'] },
    replaceEmergencyAccess: { trusted_contacts: [], emergency_info: { blood_type: 'A+' }, criteria: ['unconsciousness'] },
  };
  for (const op of marked) {
    const url = op.path.replace(/\{[^}]+\}/g, randomUUID());
    const res = await app.request(op.method, url, { token: person.token, ...(bodies[op.operationId] ? { json: bodies[op.operationId] } : {}) });
    assertError(t, res, 401, 'step_up_required', /recent sign-in/);
    t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_user_authentication".*max_age="300"/, op.operationId);
    t.deepEqual(
      res.body.details.map((d: { path: string }) => d.path),
      ['step_up', 'methods'],
    );
    t.is(res.body.details[1].message, 'passkey, key_pair, password');
  }
  t.is((await app.request('GET', '/api/v1/auth/me', { token: person.token })).status, 200, 'other operations are not affected');
});

test('a password re-check steps up: the change then goes through; a wrong one does not', async (t) => {
  const person = await register(app);
  await stale(person.token);
  const change = { current_password: person.person.password, new_password: 'violet otter under the bridge' };
  assertError(t, await app.request('PUT', '/api/v1/auth/password', { token: person.token, json: change }), 401, 'step_up_required');
  assertError(
    t,
    await app.request('POST', '/api/v1/auth/step-up', { token: person.token, json: { method: 'password', password: 'not my password' } }),
    400,
    'wrong_password',
  );
  const up = await app.request('POST', '/api/v1/auth/step-up', {
    token: person.token,
    json: { method: 'password', password: person.person.password },
  });
  t.is(up.status, 200, up.text);
  t.is(up.body.method, 'password');
  t.is(up.body.valid_for_seconds, 300);
  t.is((await app.request('PUT', '/api/v1/auth/password', { token: person.token, json: change })).status, 200);
  t.true((await auditEvents(app, 'session.step_up')).some((e) => e.subject === `user:${person.user_id}` && e.data.method === 'password'));
});

test('a refresh keeps the login’s last authentication: it does not count as a new one', async (t) => {
  const person = await register(app);
  await stale(person.token);
  const refreshed = await app.request('POST', '/api/v1/auth/refresh', { json: { refresh_token: person.refresh_token } });
  t.is(refreshed.status, 200);
  assertError(t, await app.request('POST', '/api/v1/auth/logout-all', { token: refreshed.body.token }), 401, 'step_up_required');
});

test('the key pair steps up, and the key is rotated with a signature of the old key', async (t) => {
  const person = await registerWithKey(app, 'p256');
  await stale(person.token);
  const next = keyPair('ed25519');
  assertError(
    t,
    await app.request('PUT', '/api/v1/auth/public-key', { token: person.token, json: { public_key: next.publicPem } }),
    401,
    'step_up_required',
  );
  const c = await app.request('POST', '/api/v1/auth/key-challenge', { token: person.token, json: {} });
  t.is(c.body.purpose, 'key-step-up');
  const wrong = await app.request('POST', '/api/v1/auth/step-up', {
    token: person.token,
    json: { method: 'key_pair', challenge: c.body.challenge, signature: signMessage(next.privateKey, c.body.message) },
  });
  assertError(t, wrong, 401, 'invalid_signature');
  const c2 = await app.request('POST', '/api/v1/auth/key-challenge', { token: person.token, json: {} });
  const up = await app.request('POST', '/api/v1/auth/step-up', {
    token: person.token,
    json: { method: 'key_pair', challenge: c2.body.challenge, signature: signMessage(person.privateKey, c2.body.message) },
  });
  t.is(up.status, 200, up.text);
  const rotated = await app.request('PUT', '/api/v1/auth/public-key', { token: person.token, json: { public_key: next.publicPem } });
  t.is(rotated.status, 200, rotated.text);
  t.is(rotated.body.public_key.type, 'ed25519');
  // The old key signs in no more; the new one does.
  for (const [key, ok] of [
    [person.privateKey, false],
    [next.privateKey, true],
  ] as const) {
    const login = await app.request('POST', '/api/v1/auth/key-challenge', { json: { handle: person.person.handle } });
    const res = await app.request('POST', '/api/v1/auth/key-login', {
      json: { challenge: login.body.challenge, signature: signMessage(key, login.body.message) },
    });
    t.is(res.status, ok ? 200 : 401, res.text);
  }
  const priv = next.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assertError(
    t,
    await app.request('PUT', '/api/v1/auth/public-key', { token: person.token, json: { public_key: priv } }),
    400,
    'private_key_refused',
  );
});

test('a step-up challenge of one account does not step up another', async (t) => {
  const a = await registerWithKey(app, 'p256');
  const b = await registerWithKey(app, 'p256');
  const c = await app.request('POST', '/api/v1/auth/key-challenge', { token: a.token, json: {} });
  const res = await app.request('POST', '/api/v1/auth/step-up', {
    token: b.token,
    json: { method: 'key_pair', challenge: c.body.challenge, signature: signMessage(a.privateKey, c.body.message) },
  });
  assertError(t, res, 401, 'invalid_signature');
});
