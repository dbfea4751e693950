// What the audit log records about services: grants created, narrowed, replaced and revoked, and every release
// of data to a service with its fields and the policy revision that allowed it.
import test from 'ava';
import * as client from 'openid-client';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, tokensFor, subjectAt } from '../helpers/oidc.ts';
import { auditOf, registerPerson } from './fixtures.ts';

const app = useTestApp();

test('a grant is audited when created, narrowed, replaced and revoked; each release with fields and policy revision', async (t) => {
  const person = await registerPerson(app);
  const subject = `user:${person.user_id}`;
  const { config, service } = await registerClient(app, 'government');
  const scope = 'openid email address offline_access';

  const tokens = await tokensFor(app, config, person.person, scope);
  const [created] = await auditOf(app, 'grant.created', subject);
  t.like(created, { actor: subject, subject });
  t.like(created.data, { client_id: service.client_id, scopes: ['openid', 'email', 'address', 'offline_access'] });
  t.truthy(created.data.grant_id);
  t.deepEqual(await auditOf(app, 'data.released', subject), [], 'a code exchange whose ID token carries no profile claim releases nothing');

  // userinfo releases what the engine allows, and says so.
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, await subjectAt(app, config, person.user_id));
  const viaUserinfo = await auditOf(app, 'data.released', subject);
  t.is(viaUserinfo.length, 1);
  t.like(viaUserinfo[0], { actor: `service:${service.client_id}`, client_ip: '127.0.0.1' });
  t.like(viaUserinfo[0].data, { client_id: service.client_id, via: 'userinfo', policy_revision: app.service.deps.policy.engine.revision });
  t.deepEqual(viaUserinfo[0].data.fields, ['email', 'email_verified', 'home_address']);
  t.is(userinfo.email, person.person.email);

  // The data API: the fields answered are the fields recorded, with the revision the answer names.
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  const profile = await app.request('GET', '/api/v1/data/profile', { token: data.access_token });
  t.is(profile.status, 200);
  const released = (await auditOf(app, 'data.released', subject)).filter((e) => e.data.via === undefined);
  t.is(released.length, 1);
  t.deepEqual(released[0].data.fields, Object.keys(profile.body.fields).sort());
  t.is(released[0].data.policy_revision, profile.body.policy_revision);
  t.is(released[0].data.grant_id, created.data.grant_id);
  t.is(released[0].client_ip, '127.0.0.1');

  // Consent again, declining address: narrowed, naming what was dropped.
  await tokensFor(app, config, person.person, scope, { decline: ['address'] });
  const [narrowed] = await auditOf(app, 'grant.narrowed', subject);
  t.like(narrowed.data, { client_id: service.client_id, dropped: ['address'], scopes: ['openid', 'email', 'offline_access'] });
  t.not(narrowed.data.grant_id, created.data.grant_id);

  // The same answer once more: the grant is replaced, nothing dropped.
  const again = await tokensFor(app, config, person.person, scope, { decline: ['address'] });
  const [replaced] = await auditOf(app, 'grant.replaced', subject);
  t.like(replaced.data, { client_id: service.client_id, scopes: ['openid', 'email', 'offline_access'] });
  t.false('dropped' in replaced.data);
  t.truthy(again.access_token);

  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoke.status, 200);
  const [revoked] = await auditOf(app, 'grant.revoked', subject);
  t.like(revoked, { actor: subject, subject });
  t.like(revoked.data, { client_id: service.client_id, grant_ids: [replaced.data.grant_id], ...revoke.body.revoked });

  t.like(await verifyAuditChain(app.service.deps.db), { ok: true }, 'the hash chain holds');
});
