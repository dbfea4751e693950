/**
 * Services registered for the OpenID Shared Signals Framework (issue 16, Deliver 3 and 4): their events come as
 * Security Event Tokens (RFC 8417) pushed per RFC 8935 to real receivers on loopback, verified as a receiver
 * verifies them — the issuer and keys found through /.well-known/ssf-configuration, `typ: secevent+jwt`, `aud` its
 * client_id. A profile change is the CAEP `token-claims-change` carrying the new values, released through the
 * disclosure pipeline (on record, `via: caep`) and only to a service whose role may read them; a revocation is CAEP
 * `session-revoked`; a receiver's 400 fails the delivery without retries, and a replay sends the same `jti`.
 */
import test from 'ava';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { releaseEventClaims } from '../../src/features/deliveries/caep.ts';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, subjectAt, tokensFor, type RegisteredClient } from '../helpers/oidc.ts';
import { startReceiver, type Receiver, type ReceivedWebhook, webhooksSettled } from '../helpers/webhooks.ts';
import { until } from '../helpers/until.ts';
import { makeOperator, registerNamedPerson } from '../services/fixtures.ts';
import { register, type Registered } from '../accounts/fixtures.ts';

const app = useTestApp();
const receivers: Receiver[] = [];
let operator: Registered;

test.before(async () => {
  operator = await register(app);
  await makeOperator(app, operator);
});
test.after.always(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(respond: Parameters<typeof startReceiver>[0] = () => 202): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

const SCOPE = 'openid profile email address offline_access';
const NEW_ADDRESS = { street_address: '1 Deer Lake Parkway', locality: 'Burnaby', region: 'BC', postal_code: 'V5G 1Y6', country: 'CA' };
const CAEP = 'https://schemas.openid.net/secevent/caep/event-type';

/** A service of `role` whose events go to `hooks` as SETs: set by an operator through the admin API. */
async function ssfService(role: string, hooks: Receiver): Promise<RegisteredClient> {
  const registered = await registerClient(app, role, { name: `SSF ${role} service` });
  const set = await app.request('PUT', `/api/v1/admin/services/${registered.service.client_id}/webhook`, {
    token: operator.token,
    json: { webhook_url: hooks.url, format: 'ssf' },
  });
  if (set.status !== 200) throw new Error(`setting the webhook failed: ${set.text}`);
  return registered;
}

async function dataToken(registered: RegisteredClient, person: { handle: string; password: string }): Promise<string> {
  const tokens = await tokensFor(app, registered.config, person, SCOPE);
  return (await client.refreshTokenGrant(registered.config, tokens.refresh_token!, { resource: dataResource(app) })).access_token;
}

/** A received SET, verified as an SSF receiver verifies it: the keys found from the transmitter's configuration. */
async function verifiedSet(hook: ReceivedWebhook, audience: string): Promise<JWTPayload & Record<string, any>> {
  const configuration = await app.request('GET', '/.well-known/ssf-configuration');
  const jwks = await app.request('GET', new URL(configuration.body.jwks_uri).pathname);
  const { payload } = await jwtVerify(hook.body, createLocalJWKSet(JSON.parse(jwks.text) as JSONWebKeySet), {
    issuer: configuration.body.issuer,
    audience,
    typ: 'secevent+jwt',
  });
  return payload as JWTPayload & Record<string, any>;
}

const outboxSettled = () => webhooksSettled(app.service.deps.db);

test.serial('the transmitter configuration names the issuer, its keys and push delivery', async (t) => {
  const res = await app.request('GET', '/.well-known/ssf-configuration');
  t.is(res.status, 200);
  t.deepEqual(res.body, {
    spec_version: '1_0',
    issuer: app.config.baseUrl,
    jwks_uri: `${app.config.baseUrl}/api/v1/issuer/jwks.json`,
    delivery_methods_supported: ['urn:ietf:rfc:8935'],
  });
});

test.serial(
  'one change of home_address: the SSF government service gets a signed token-claims-change with the new value, on record first; the commercial one gets nothing',
  async (t) => {
    const person = await registerNamedPerson(app, 'ada_ssf16');
    const govHooks = await receiver();
    const comHooks = await receiver();
    const gov = await ssfService('government', govHooks);
    const com = await ssfService('commercial', comHooks);
    await dataToken(gov, person);
    await dataToken(com, person);
    await outboxSettled();

    const update = await app.request('PUT', '/api/v1/profile/update-info', {
      token: person.token,
      json: { updated_fields: { home_address: NEW_ADDRESS } },
    });
    t.is(update.status, 200, update.text);
    t.is(update.body.services_told, 1, 'only the government service can read home_address');

    const [hook] = await govHooks.waitFor(1);
    t.is(hook.headers['content-type'], 'application/secevent+jwt');
    t.is(hook.answered, 202);
    t.is(decodeProtectedHeader(hook.body).typ, 'secevent+jwt');
    const set = await verifiedSet(hook, gov.service.client_id);
    const subject = await subjectAt(app, gov.service.client_id, person.userId);
    // The pair the service's ID tokens carry (RFC 9493 iss_sub): the OpenID provider's issuer and its pairwise sub.
    const idTokenIssuer = (
      await client.discovery(new URL(`${app.url}/oidc`), gov.service.client_id, gov.clientSecret, undefined, {
        execute: [client.allowInsecureRequests],
      })
    ).serverMetadata().issuer;
    t.deepEqual(set.sub_id, { format: 'iss_sub', iss: idTokenIssuer, sub: subject });
    t.is(set.iss, app.config.baseUrl, "the SET itself is the transmitter's");
    t.not(subject, person.userId, 'a pairwise subject, not the user id');
    t.regex(String(set.jti), /^msg_[0-9a-f]{32}$/);
    t.is(set.sub, undefined, 'the subject is sub_id (SSF), not sub');
    t.deepEqual(Object.keys(set.events), [`${CAEP}/token-claims-change`]);
    const change = set.events[`${CAEP}/token-claims-change`];
    t.deepEqual(change.claims, { address: NEW_ADDRESS }, 'the new value under its OpenID claim name, and only the field that changed');
    t.is(typeof change.event_timestamp, 'number');
    await t.throwsAsync(verifiedSet(hook, com.service.client_id), undefined, 'addressed to the government service only');

    // The value was released through the pipeline and is on record, before the SET left.
    const record = await app.service.deps
      .db('audit_events')
      .where({ action: 'data.released', actor: `service:${gov.service.client_id}`, subject: `user:${person.userId}` })
      .whereRaw(`data->>'via' = 'caep'`)
      .first('data', 'at');
    t.truthy(record, 'a data.released event with via caep');
    t.deepEqual(record.data.fields, ['home_address']);
    t.truthy(record.data.grant_id, 'released under the service grant');
    t.true(new Date(record.at).getTime() <= hook.at);

    await outboxSettled();
    t.is(comHooks.received.length, 0, 'the commercial service, which may not read home_address, is told nothing');
    const comRecord = await app.service.deps
      .db('audit_events')
      .where({ action: 'data.released', actor: `service:${com.service.client_id}` })
      .whereRaw(`data->>'via' = 'caep'`)
      .first('id');
    t.is(comRecord, undefined, 'nothing was released to it');
  },
);

test.serial('revoking the SSF service pushes it a signed session-revoked, and its next data API call is refused', async (t) => {
  const person = await registerNamedPerson(app, 'rev_ssf16');
  const hooks = await receiver();
  const gov = await ssfService('government', hooks);
  const token = await dataToken(gov, person);
  await outboxSettled();
  hooks.received.length = 0;

  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: gov.service.client_id } });
  t.is(revoke.status, 200, revoke.text);
  t.is(revoke.body.notified.webhook, true);
  const [hook] = await hooks.waitFor(1);
  const set = await verifiedSet(hook, gov.service.client_id);
  t.is(set.sub_id.sub, await subjectAt(app, gov.service.client_id, person.userId));
  t.like(set.events[`${CAEP}/session-revoked`], { initiating_entity: 'user', reason_admin: { en: 'The person revoked the service.' } });
  t.false(hook.body.includes('Lovelace'), 'a revocation carries no value');

  const refused = await app.request('GET', '/api/v1/data/profile', { token });
  t.is(refused.status, 401);
});

test.serial("a receiver's 400 fails the delivery at once with its err, without retries; a replay sends the same jti", async (t) => {
  const person = await registerNamedPerson(app, 'bad_ssf16');
  let refuse = true;
  const refusal = { status: 400, json: { err: 'invalid_audience', description: 'this receiver is not the audience' } };
  const hooks = await receiver(() => (refuse ? refusal : 202));
  const gov = await ssfService('government', hooks);
  await dataToken(gov, person);
  await outboxSettled();
  hooks.received.length = 0;
  const db = app.service.deps.db;

  await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: gov.service.client_id } });
  const [first] = await hooks.waitFor(1);
  const delivery = await until('the delivery to fail', () =>
    db('webhook_deliveries').where({ client_id: gov.service.client_id, state: 'failed' }).first(),
  );
  t.is(delivery.attempts, 1);
  t.is(delivery.last_status, 400);
  t.is(delivery.last_error, 'the receiver refused the SET (invalid_audience)', "its err, not the receiver's own text");
  await outboxSettled();
  await new Promise((r) => setTimeout(r, 300));
  t.is(hooks.received.length, 1, 'not retried');

  refuse = false;
  const replay = await app.request('POST', `/api/v1/admin/deliveries/${delivery.id}/replay`, { token: operator.token });
  t.is(replay.status, 200, replay.text);
  const [, again] = await hooks.waitFor(2);
  t.is(again.answered, 202);
  const [a, b] = [await verifiedSet(first, gov.service.client_id), await verifiedSet(again, gov.service.client_id)];
  t.is(b.jti, a.jti, 'the same jti: a receiver drops a redelivery');
  t.is((await db('webhook_deliveries').where({ id: delivery.id }).first('state')).state, 'delivered');
});

test.serial(
  'the claims are released at sending under what the service holds then: a grant, or a document intended for its role; nothing once revoked',
  async (t) => {
    const deps = app.service.deps;
    const person = await registerNamedPerson(app, 'claims_ssf16');
    const hooks = await receiver();
    const gov = await ssfService('government', hooks);
    const clerk = await ssfService('government', hooks);
    const shop = await ssfService('commercial', hooks);
    await dataToken(gov, person);
    const created = await app.request('POST', '/api/v1/profile/documents', {
      token: person.token,
      json: {
        kind: 'lease',
        title: 'Flat lease',
        fields: {},
        references: ['home_address'],
        roles: ['government'],
        services: [clerk.service.client_id, shop.service.client_id],
      },
    });
    t.is(created.status, 201, created.text);
    const documentId = created.body.document.document_id as string;
    const claims = (clientId: string) =>
      releaseEventClaims(deps, { clientId, userId: person.userId, fields: ['home_address'], documents: [documentId] });
    const records = (clientId: string) =>
      deps
        .db('audit_events')
        .where({ action: 'data.released', actor: `service:${clientId}` })
        .whereRaw(`data->>'via' = 'caep'`)
        .select('data');

    t.deepEqual(Object.keys(await claims(gov.service.client_id)), ['address'], 'under its grant');
    t.deepEqual(Object.keys(await claims(clerk.service.client_id)), ['address'], 'through the document linked to it, no grant');
    t.like((await records(clerk.service.client_id))[0].data, { document_id: documentId, fields: ['home_address'] });
    t.deepEqual(await claims(shop.service.client_id), {}, 'a document not intended for its role releases nothing');
    t.deepEqual(await records(shop.service.client_id), []);

    await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: gov.service.client_id } });
    await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: clerk.service.client_id } });
    const before = (await records(gov.service.client_id)).length;
    t.deepEqual(await claims(gov.service.client_id), {}, 'its grant revoked: nothing');
    t.deepEqual(await claims(clerk.service.client_id), {}, 'its link removed by the revocation: nothing');
    t.is((await records(gov.service.client_id)).length, before, 'and nothing recorded');
  },
);

test.serial('an unknown format is refused with a 400 naming it, and the endpoint stays as it was', async (t) => {
  const hooks = await receiver();
  const gov = await ssfService('government', hooks);
  const refused = await app.request('PUT', `/api/v1/admin/services/${gov.service.client_id}/webhook`, {
    token: operator.token,
    json: { webhook_url: 'https://burnaby.example/other', format: 'risc' },
  });
  t.is(refused.status, 400, refused.text);
  t.regex(refused.text, /format/);
  const endpoint = await app.service.deps.db('webhook_endpoints').where({ client_id: gov.service.client_id }).first('format');
  t.is(endpoint.format, 'ssf');
  const service = await app.service.deps.db('services').where({ client_id: gov.service.client_id }).first('webhook_url');
  t.is(service.webhook_url, hooks.url, 'the URL is not changed either');
});
