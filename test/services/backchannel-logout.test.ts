// Revocation tells the service: a back-channel logout token, signed by the provider, POSTed to the URI it registered.
import test from 'ava';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { decodeJwt, fetchJwks, registerClient, registerPerson, tokensFor, verifiesWithJwks } from './fixtures.ts';

let app: TestApp;
let listener: Server;
let listenerUrl: string;
const received: { path: string; type: string; body: URLSearchParams }[] = [];

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

test.before(async () => {
  app = await startTestApp('services-backchannel-logout');
  // The service's back-channel logout endpoint: records what arrives; /broken answers 500.
  listener = createServer(async (req, res) => {
    const body = new URLSearchParams(await read(req));
    received.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body });
    res.statusCode = req.url === '/broken' ? 500 : 200;
    res.end();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenerUrl = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
});
test.after.always(async () => {
  listener?.close();
  await app?.close();
});

test.serial('revoking access POSTs a logout token the provider signed, for this person and this service', async (t) => {
  const person = await registerPerson(app);
  const { service } = await registerClient(app, 'government', { backchannelLogoutUri: `${listenerUrl}/logout` }).then(async (c) => {
    await tokensFor(app, c.config, person, 'openid email offline_access');
    return c;
  });
  received.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoke.status, 200, revoke.text);
  t.deepEqual(revoke.body.notified, { backchannel_logout: true });

  t.is(received.length, 1, 'exactly one notification, before the revocation answered');
  const [call] = received;
  t.is(call.path, '/logout');
  t.regex(call.type, /^application\/x-www-form-urlencoded/);
  const logoutToken = call.body.get('logout_token')!;
  t.truthy(logoutToken);

  const jwks = await fetchJwks(app);
  t.true(verifiesWithJwks(logoutToken, jwks), 'the signature verifies against /oidc/jwks');
  const tampered = logoutToken.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...decodeJwt(logoutToken).payload, sub: 'someone-else' })).toString('base64url')}.`);
  t.false(verifiesWithJwks(tampered, jwks), 'and a changed payload does not');
  const { header, payload } = decodeJwt(logoutToken);
  t.is(header.typ, 'logout+jwt');
  t.true(jwks.keys.some((k) => k.kid === header.kid));
  t.is(payload.iss, `${app.url}/oidc`);
  t.is(payload.aud, service.client_id);
  t.is(payload.sub, person.user_id);
  t.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  t.truthy(payload.jti);
  t.is(typeof payload.iat, 'number');
  t.is(payload.nonce, undefined, 'a logout token never carries a nonce');
  t.is(payload.email, undefined, 'nor any profile claim');
});

test.serial('a service whose endpoint fails is still revoked, and the answer says it was not notified', async (t) => {
  const person = await registerPerson(app);
  const c = await registerClient(app, 'government', { backchannelLogoutUri: `${listenerUrl}/broken` });
  await tokensFor(app, c.config, person, 'openid email');
  received.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: c.service.client_id } });
  t.is(revoke.status, 200);
  t.is(revoke.body.revoked.grants, 1);
  t.deepEqual(revoke.body.notified, { backchannel_logout: false });
  t.is(received.length, 1, 'it was tried');
});

test.serial('a service that registered no back-channel URI is revoked without a notification', async (t) => {
  const person = await registerPerson(app);
  const c = await registerClient(app, 'government');
  await tokensFor(app, c.config, person, 'openid email');
  received.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: c.service.client_id } });
  t.is(revoke.status, 200);
  t.deepEqual(revoke.body.notified, { backchannel_logout: false });
  t.is(received.length, 0);
});
