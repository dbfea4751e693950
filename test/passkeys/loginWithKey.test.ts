// Key-pair sign-in: sign the server's challenge with the private key of the registered public key. A wrong key, a
// replayed challenge, an expired one, one made for another purpose, are refused.
import test from 'ava';
import { hashToken } from '../../src/crypto/tokens.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { keyPair, registerWithKey, signMessage } from './fixtures.ts';
import { auditEvents, register } from '../accounts/fixtures.ts';

const app = useTestApp();

async function challenge(login: { email?: string; handle?: string }, token?: string) {
  const res = await app.request('POST', '/api/v1/auth/key-challenge', { json: login, token });
  if (res.status !== 200) throw new Error(res.text);
  return res.body as { challenge: string; message: string; purpose: string; expires_at: string };
}

for (const kind of ['rsa', 'p256', 'p384', 'ed25519'] as const) {
  test(`a ${kind} key signs in, and the session counts as authenticated by the key pair`, async (t) => {
    const person = await registerWithKey(app, kind);
    const c = await challenge({ handle: person.person.handle });
    t.is(c.purpose, 'key-login');
    t.true(c.message.includes(`origin: ${app.config.baseUrl}`), 'the text signed names this instance');
    t.true(c.message.includes(c.challenge));
    const res = await app.request('POST', '/api/v1/auth/key-login', {
      json: { challenge: c.challenge, signature: signMessage(person.privateKey, c.message) },
    });
    t.is(res.status, 200, res.text);
    t.is(res.body.user_id, person.user_id);
    const me = await app.request('GET', '/api/v1/auth/me', { token: res.body.token });
    t.is(me.status, 200);
    const row = await app.service.deps
      .db('sessions')
      .where({ access_hash: hashToken(res.body.token) })
      .first();
    t.is(row.auth_method, 'key_pair');
    t.true((await auditEvents(app, 'session.login')).some((e) => e.subject === `user:${person.user_id}` && e.data.by === 'key_pair'));
  });
}

test('a wrong key is refused, and spends the challenge', async (t) => {
  const person = await registerWithKey(app, 'p256');
  const c = await challenge({ email: person.person.email });
  const other = keyPair('p256');
  const wrong = await app.request('POST', '/api/v1/auth/key-login', {
    json: { challenge: c.challenge, signature: signMessage(other.privateKey, c.message) },
  });
  assertError(t, wrong, 401, 'invalid_signature');
  const right = await app.request('POST', '/api/v1/auth/key-login', {
    json: { challenge: c.challenge, signature: signMessage(person.privateKey, c.message) },
  });
  assertError(t, right, 401, 'challenge_used', /already used/);
  t.true(
    (await auditEvents(app, 'key.signature_refused')).some((e) => e.subject === `user:${person.user_id}` && e.data.reason === 'wrong_signature'),
  );
});

test('a replayed challenge is refused', async (t) => {
  const person = await registerWithKey(app, 'ed25519');
  const c = await challenge({ handle: person.person.handle });
  const answer = { challenge: c.challenge, signature: signMessage(person.privateKey, c.message) };
  t.is((await app.request('POST', '/api/v1/auth/key-login', { json: answer })).status, 200);
  assertError(t, await app.request('POST', '/api/v1/auth/key-login', { json: answer }), 401, 'challenge_used');
});

test('an expired challenge is refused', async (t) => {
  const person = await registerWithKey(app, 'rsa');
  const c = await challenge({ handle: person.person.handle });
  await app.service.deps
    .db('auth_challenges')
    .where({ challenge_hash: hashToken(c.challenge) })
    .update({ expires_at: new Date(Date.now() - 1000) });
  const res = await app.request('POST', '/api/v1/auth/key-login', {
    json: { challenge: c.challenge, signature: signMessage(person.privateKey, c.message) },
  });
  assertError(t, res, 401, 'challenge_expired', /expired/);
});

test('a challenge for a step-up, or a signature of another text, never signs in', async (t) => {
  const person = await registerWithKey(app, 'p256');
  const stepUp = await challenge({}, person.token);
  t.is(stepUp.purpose, 'key-step-up');
  const res = await app.request('POST', '/api/v1/auth/key-login', {
    json: { challenge: stepUp.challenge, signature: signMessage(person.privateKey, stepUp.message) },
  });
  assertError(t, res, 401, 'challenge_unknown');
  const c = await challenge({ handle: person.person.handle });
  const forged = await app.request('POST', '/api/v1/auth/key-login', {
    json: { challenge: c.challenge, signature: signMessage(person.privateKey, c.challenge) },
  });
  assertError(t, forged, 401, 'invalid_signature');
  assertError(
    t,
    await app.request('POST', '/api/v1/auth/key-login', { json: { challenge: 'invented', signature: 'AAAA' } }),
    401,
    'challenge_unknown',
  );
});

test('an unknown account and an account without a key get a challenge too, and are refused alike', async (t) => {
  const nobody = await challenge({ handle: 'nobody_at_all' });
  const keyless = await register(app);
  const noKey = await challenge({ handle: keyless.person.handle });
  const key = keyPair('p256');
  for (const c of [nobody, noKey]) {
    const res = await app.request('POST', '/api/v1/auth/key-login', {
      json: { challenge: c.challenge, signature: signMessage(key.privateKey, c.message) },
    });
    assertError(t, res, 401, 'invalid_signature');
  }
  assertError(t, await app.request('POST', '/api/v1/auth/key-challenge', { json: {} }), 400, 'validation_failed');
});
