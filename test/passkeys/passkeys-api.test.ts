// The passkey API without a browser: the ceremonies' options (user verification required, discoverable), refusals of
// made-up answers, rename and removal (a step-up operation), and the register answer pointing to passkeys.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { hashToken } from '../../src/crypto/tokens.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { auditEvents, newPerson, register } from '../accounts/fixtures.ts';

const app = useTestApp();

async function storedPasskey(userId: string, name = 'Old phone'): Promise<string> {
  const id = randomUUID();
  await app.service.deps.db('passkeys').insert({
    id,
    user_id: userId,
    credential_id: `cred-${id}`,
    public_key: Buffer.from('a COSE key'),
    counter: 0,
    transports: JSON.stringify(['hybrid']),
    name,
  });
  return id;
}

test('the register answer points to passkeys; biometrics sent at registration never sign in', async (t) => {
  const res = await app.request('POST', '/api/v1/users/register', { json: { ...newPerson(), biometrics: 'TEMPLATE-XYZ' } });
  t.is(res.status, 201, res.text);
  t.deepEqual(res.body.passkeys, { registration_options: '/api/v1/profile/passkeys/registration-options', page: '/account/passkeys' });
  const options = await app.request('POST', '/api/v1/auth/passkey/options', { json: {} });
  t.deepEqual(options.body.options.allowCredentials, [], 'no passkey of anyone is named to an anonymous caller');
  assertError(
    t,
    await app.request('POST', '/api/v1/auth/passkey', {
      json: { response: { id: 'TEMPLATE-XYZ', rawId: 'TEMPLATE-XYZ', type: 'public-key', response: {} } },
    }),
    401,
    'passkey_refused',
  );
});

test('registration options require user verification and a discoverable credential, and exclude the passkeys already there', async (t) => {
  const person = await register(app);
  const existing = await storedPasskey(person.user_id);
  const res = await app.request('POST', '/api/v1/profile/passkeys/registration-options', { token: person.token, json: {} });
  t.is(res.status, 200, res.text);
  const { options } = res.body;
  t.like(options.authenticatorSelection, { residentKey: 'required', userVerification: 'required' });
  t.is(options.rp.id, '127.0.0.1');
  t.is(options.user.name, person.person.handle);
  t.deepEqual(
    options.excludeCredentials.map((c: { id: string }) => c.id),
    [`cred-${existing}`],
  );
  const row = await app.service.deps
    .db('auth_challenges')
    .where({ challenge_hash: hashToken(options.challenge) })
    .first();
  t.like(row, { purpose: 'passkey-register', user_id: person.user_id, used_at: null });
  t.true(new Date(row.expires_at).getTime() - Date.now() <= 120_000, 'short-lived');
  t.is(await app.service.deps.db('auth_challenges').where({ challenge_hash: options.challenge }).first(), undefined, 'stored only as a hash');
  const stepUp = await app.request('POST', '/api/v1/auth/passkey/options', { token: person.token, json: {} });
  t.deepEqual(
    stepUp.body.options.allowCredentials.map((c: { id: string }) => c.id),
    [`cred-${existing}`],
  );
  t.is(stepUp.body.options.userVerification, 'required');
  const fake = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'AAAA' } };
  assertError(t, await app.request('POST', '/api/v1/profile/passkeys', { token: person.token, json: { response: fake } }), 401, 'passkey_refused');
  assertError(t, await app.request('POST', '/api/v1/profile/passkeys/registration-options', { json: {} }), 401, 'token_missing');
});

test('a passkey is renamed and removed by its owner only; removing needs a recent sign-in', async (t) => {
  const person = await register(app);
  const stranger = await register(app);
  const id = await storedPasskey(person.user_id);
  const renamed = await app.request('PUT', `/api/v1/profile/passkeys/${id}`, { token: person.token, json: { name: 'Work laptop' } });
  t.is(renamed.status, 200, renamed.text);
  t.is(renamed.body.passkey.name, 'Work laptop');
  assertError(
    t,
    await app.request('PUT', `/api/v1/profile/passkeys/${id}`, { token: stranger.token, json: { name: 'Mine now' } }),
    404,
    'passkey_not_found',
  );
  assertError(t, await app.request('PUT', `/api/v1/profile/passkeys/${id}`, { token: person.token, json: { name: '   ' } }), 400);
  assertError(t, await app.request('DELETE', `/api/v1/profile/passkeys/${id}`, { token: stranger.token }), 404, 'passkey_not_found');
  const listed = await app.request('GET', '/api/v1/profile/passkeys', { token: person.token });
  t.deepEqual(
    listed.body.passkeys.map((p: { name: string }) => p.name),
    ['Work laptop'],
  );
  t.false(listed.text.includes(`cred-${id}`), 'the credential id and key stay on the server');

  const row = await app.service.deps
    .db('sessions')
    .where({ access_hash: hashToken(person.token) })
    .first();
  await app.service.deps
    .db('sessions')
    .where({ family_id: row.family_id })
    .update({ auth_at: new Date(Date.now() - 3600_000) });
  assertError(t, await app.request('DELETE', `/api/v1/profile/passkeys/${id}`, { token: person.token }), 401, 'step_up_required');
  t.is(
    (await app.request('POST', '/api/v1/auth/step-up', { token: person.token, json: { method: 'password', password: person.person.password } }))
      .status,
    200,
  );
  const removed = await app.request('DELETE', `/api/v1/profile/passkeys/${id}`, { token: person.token });
  t.is(removed.status, 200, removed.text);
  t.is((await app.service.deps.db('passkeys').where({ id })).length, 0);
  t.true((await auditEvents(app, 'passkey.removed')).some((e) => e.data.passkey_id === id));
});
