// What a service reads at userinfo: the claims of the fields the policy engine released, and with `email` the
// standard `email_verified` (OIDC Core 5.1), from the person's verification state — never one without the other.
import test from 'ava';
import * as client from 'openid-client';
import { useTestApp } from '../helpers/app.ts';
import { registerClient, tokensFor, subjectAt } from '../helpers/oidc.ts';
import { verificationCode } from '../accounts/fixtures.ts';
import { auditOf, registerPerson } from './fixtures.ts';

const app = useTestApp({ smtp: true });

test('email comes with email_verified: false until the person verifies the address, true after; a new address shows only once it is verified', async (t) => {
  const person = await registerPerson(app);
  const { config } = await registerClient(app, 'government');
  const tokens = await tokensFor(app, config, person.person, 'openid email');

  const before = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.is(before.email, person.person.email);
  t.is(before.email_verified, false);

  const code = await verificationCode(app, person.person.email);
  const verified = await app.request('POST', '/api/v1/auth/verify-email', { token: person.token, json: { code } });
  t.is(verified.status, 200, verified.text);
  const after = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.is(after.email_verified, true);

  const changed = `changed.${person.person.handle}@example.com`;
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: { current_password: person.person.password, updated_fields: { email: changed } },
  });
  t.is(update.status, 200, update.text);
  const pending = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.is(pending.email, person.person.email, 'the old address stays until the new one is verified');
  t.is(pending.email_verified, true);
  const confirmed = await app.request('POST', '/api/v1/auth/verify-email', {
    token: person.token,
    json: { code: await verificationCode(app, changed) },
  });
  t.is(confirmed.status, 200, confirmed.text);
  const again = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  t.is(again.email, changed);
  t.is(again.email_verified, true, 'the new address counts only once verified');

  const releases = await auditOf(app, 'data.released', `user:${person.user_id}`);
  t.is(releases.length, 4);
  for (const r of releases) t.deepEqual(r.data.fields, ['email', 'email_verified'], 'the release record names the claim that went with the address');
});

test('no email, no email_verified: a declined email scope, or a role whose ceiling stops short of the address', async (t) => {
  const person = await registerPerson(app);
  const government = await registerClient(app, 'government');
  const declined = await tokensFor(app, government.config, person.person, 'openid email address', { decline: ['email'] });
  const withoutEmail = await client.fetchUserInfo(government.config, declined.access_token, await subjectAt(app, government.config, person.user_id));
  t.truthy(withoutEmail.address, 'the address scope still releases');
  t.false('email' in withoutEmail);
  t.false('email_verified' in withoutEmail);

  // email is classified private; commercial's ceiling is semi-private.
  const commercial = await registerClient(app, 'commercial');
  const shop = await tokensFor(app, commercial.config, person.person, 'openid email');
  t.deepEqual(
    Object.keys(await client.fetchUserInfo(commercial.config, shop.access_token, await subjectAt(app, commercial.config, person.user_id))),
    ['sub'],
  );
});

test('discovery lists email_verified among the claims', async (t) => {
  const meta = (await (await fetch(`${app.url}/oidc/.well-known/openid-configuration`)).json()) as { claims_supported: string[] };
  t.true(meta.claims_supported.includes('email'));
  t.true(meta.claims_supported.includes('email_verified'));
});
