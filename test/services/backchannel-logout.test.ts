/**
 * Revocation tells the service: a back-channel logout token, signed by the provider, POSTed to the URI it
 * registered — queued in the revocation's transaction and sent from the outbox, so the revocation never waits for
 * the service, and a service that is down is told once it is back.
 */
import test from 'ava';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { useTestApp } from '../helpers/app.ts';
import { BACKCHANNEL_LOGOUT } from '../../src/notify/outbox.ts';
import { disableService } from '../../src/oidc/services.ts';
import { decodeJwt, fetchJwks, registerClient, tokensFor, verifiesWithJwks, subjectAt } from '../helpers/oidc.ts';
import { registerPerson } from './fixtures.ts';
import { until } from '../helpers/until.ts';

const app = useTestApp();
let listener: Server;
let listenerUrl: string;

interface Arrival {
  path: string;
  type: string;
  body: URLSearchParams;
  /** Answers the held request. */
  answer(status: number): void;
  /** Whether the exchange is over: answered, or given up by the sender. */
  closed: boolean;
}
const arrivals: Arrival[] = [];
let onArrival: (() => void) | undefined;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

test.before(async () => {
  // The service's back-channel logout endpoint. /hang holds each request until the test answers it; /flaky answers
  // 500 to its first request and 200 after; /down always 500; every other path answers 200 at once.
  let flakySeen = 0;
  listener = createServer(async (req, res: ServerResponse) => {
    const body = new URLSearchParams(await read(req));
    const answer = (status: number) => {
      res.statusCode = status;
      res.end();
    };
    const arrival: Arrival = { path: req.url ?? '', type: req.headers['content-type'] ?? '', body, answer, closed: false };
    res.on('close', () => (arrival.closed = true));
    arrivals.push(arrival);
    onArrival?.();
    if (req.url === '/hang') return;
    answer(req.url === '/down' || (req.url === '/flaky' && flakySeen++ === 0) ? 500 : 200);
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenerUrl = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
});
test.after.always(async () => {
  listener?.closeAllConnections();
  listener?.close();
});

/** Resolves once `count` requests have arrived at the listener. */
function arrived(count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${arrivals.length} of ${count} back-channel requests arrived`)), 20_000);
    const check = () => {
      if (arrivals.length >= count) {
        clearTimeout(timer);
        onArrival = undefined;
        resolve();
      }
    };
    onArrival = check;
    check();
  });
}

/** The back-channel outbox rows for one service. */
async function outboxRowsOf(clientId: string) {
  const rows = await app.service.deps
    .db('outbox')
    .where({ kind: BACKCHANNEL_LOGOUT })
    .select('payload', 'idempotency_key', 'state', 'attempts', 'last_error');
  return rows.filter((r) => app.service.deps.outbox.openBackchannelLogout(r).clientId === clientId);
}

async function grantedService(path: string) {
  const person = await registerPerson(app);
  const c = await registerClient(app, 'government', { backchannelLogoutUri: `${listenerUrl}${path}` });
  await tokensFor(app, c.config, person.person, 'openid email offline_access');
  return { person, service: c.service };
}

test.serial('revoking access answers without waiting for the service; the outbox then POSTs a logout token the provider signed', async (t) => {
  const { person, service } = await grantedService('/hang');
  arrivals.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoke.status, 200, revoke.text);
  t.is(revoke.body.revoked.grants, 1);
  t.deepEqual(revoke.body.notified, { backchannel_logout: true, webhook: false }, 'a logout is queued');
  // The service has not answered (it answers only when told to, below), and its request, if it arrived yet, is
  // still open: the revocation neither waited for the answer nor gave up on it.
  t.true(arrivals.length <= 1);
  t.false(
    arrivals.some((a) => a.closed),
    'the request to the service is still pending when the revocation answers',
  );

  await arrived(1);
  const [call] = arrivals;
  t.is(call.path, '/hang');
  t.regex(call.type, /^application\/x-www-form-urlencoded/);
  const logoutToken = call.body.get('logout_token')!;
  t.truthy(logoutToken);
  call.answer(200);
  const [row] = await until('the delivery', async () => {
    const rows = await outboxRowsOf(service.client_id);
    return rows[0]?.state === 'sent' ? rows : undefined;
  });
  t.is(row.attempts, 1, 'the held request itself was the delivery: the revocation did not abort it by answering');

  const jwks = await fetchJwks(app);
  t.true(verifiesWithJwks(logoutToken, jwks), 'the signature verifies against /oidc/jwks');
  const tampered = logoutToken.replace(
    /\.([^.]+)\./,
    (_m, _p: string) => `.${Buffer.from(JSON.stringify({ ...decodeJwt(logoutToken).payload, sub: 'someone-else' })).toString('base64url')}.`,
  );
  t.false(verifiesWithJwks(tampered, jwks), 'and a changed payload does not');
  const { header, payload } = decodeJwt(logoutToken);
  t.is(header.typ, 'logout+jwt');
  t.true(jwks.keys.some((k) => k.kid === header.kid));
  t.is(payload.iss, `${app.url}/oidc`);
  t.is(payload.aud, service.client_id);
  t.is(payload.sub, await subjectAt(app, service.client_id, person.user_id));
  t.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  t.truthy(payload.jti);
  t.is(typeof payload.iat, 'number');
  t.is(payload.nonce, undefined, 'a logout token never carries a nonce');
  t.is(payload.email, undefined, 'nor any profile claim');
});

test.serial('a service whose endpoint fails is still revoked at once, and told when it accepts, with backoff', async (t) => {
  const { person, service } = await grantedService('/flaky');
  arrivals.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.is(revoke.status, 200);
  t.is(revoke.body.revoked.grants, 1);
  t.deepEqual(revoke.body.notified, { backchannel_logout: true, webhook: false });
  const [row] = await until('the redelivery', async () => {
    const rows = await outboxRowsOf(service.client_id);
    return rows[0]?.state === 'sent' ? rows : undefined;
  });
  t.is(row.attempts, 2, 'refused once (500), then delivered');
  t.is(arrivals.length, 2);
  const [first, second] = arrivals.map((a) => decodeJwt(a.body.get('logout_token')!).payload);
  t.is(second.sub, await subjectAt(app, service.client_id, person.user_id));
  t.not(first.jti, second.jti, 'each attempt is a fresh token, signed when sent');
  t.true(verifiesWithJwks(arrivals[1].body.get('logout_token')!, await fetchJwks(app)));
});

test.serial('a logout still queued when its service is disabled is dropped, not sent', async (t) => {
  const { person, service } = await grantedService('/down');
  arrivals.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: service.client_id } });
  t.deepEqual(revoke.body.notified, { backchannel_logout: true, webhook: false });
  await arrived(1);
  await until('the refusal to be recorded', async () => ((await outboxRowsOf(service.client_id))[0]?.last_error ? true : undefined));
  await disableService(app.service.deps.db, service.client_id);
  const [row] = await until('the retry', async () => {
    const rows = await outboxRowsOf(service.client_id);
    return rows[0]?.state === 'failed' ? rows : undefined;
  });
  t.regex(row.last_error, /disabled/);
  t.is(arrivals.length, 1, 'the retry found nobody to tell, and sent nothing');
});

test.serial('a service that registered no back-channel URI is revoked without a notification', async (t) => {
  const person = await registerPerson(app);
  const c = await registerClient(app, 'government');
  await tokensFor(app, c.config, person.person, 'openid email');
  arrivals.length = 0;
  const revoke = await app.request('DELETE', '/api/v1/profile/revoke-access', { token: person.token, json: { service_id: c.service.client_id } });
  t.is(revoke.status, 200);
  t.deepEqual(revoke.body.notified, { backchannel_logout: false, webhook: false });
  t.deepEqual(await outboxRowsOf(c.service.client_id), [], 'nothing queued');
  t.is(arrivals.length, 0);
});
