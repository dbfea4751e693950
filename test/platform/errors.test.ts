// One error hierarchy, mapped once: specific codes come from the factory, and one mapping answers an error as the
// JSON envelope or, on the interaction pages, as the error page — the same status, message and headers either way.
import test from 'ava';
import Koa from 'koa';
import type { Server } from 'node:http';
import { errors as providerErrors } from 'oidc-provider';
import { pino } from 'pino';
import { AppError, E, InvalidRequest, NotFound, TooManyRequests, Unauthenticated, ValidationFailed } from '../../src/errors.ts';
import { errorEnvelope } from '../../src/http/middleware/error-envelope.ts';
import { envelopeOf, mapError } from '../../src/http/error-mapping.ts';
import { inForm } from '../../src/oidc/pages.ts';

const PROBLEMS = [
  { path: 'title', message: 'is required' },
  { path: 'priority', message: 'must be <= 5' },
];

test('a validation error is made by the one factory: a 400 validation_failed naming every problem', (t) => {
  const err = InvalidRequest.validation(PROBLEMS);
  t.true(err instanceof ValidationFailed);
  t.true(err instanceof InvalidRequest);
  t.true(err instanceof AppError);
  t.is(err.name, 'ValidationFailed');
  t.like(err, { status: 400, code: 'validation_failed', expose: true, message: 'invalid request: title is required; priority must be <= 5' });
  t.deepEqual(err.details, PROBLEMS);
  t.is(InvalidRequest.validation(PROBLEMS, 'send a title').message, 'send a title', 'a message worded for a person replaces the summary');
});

test('E(Base, code) makes a class of Base errors with that code, and its description when no message is given', (t) => {
  const RingNotFound = E(NotFound, 'ring_not_found', 'no such ring');
  const err = new RingNotFound();
  t.true(err instanceof NotFound);
  t.is(RingNotFound.name, 'RingNotFound');
  t.like(err, { status: 404, code: 'ring_not_found', message: 'no such ring' });
  t.like(new RingNotFound('you have no ring r1', { detail: 'logged only' }), {
    message: 'you have no ring r1',
    detail: 'logged only',
    code: 'ring_not_found',
  });
  const challenged = new (E(Unauthenticated, 'token_gone'))('log in again');
  t.is(challenged.headers?.['WWW-Authenticate'], 'Bearer', 'the status class still adds what it always adds');
});

test("mapError: exposed errors keep status, code, message, headers and details; the provider's are worded for a person; the rest are a bare 500", (t) => {
  t.deepEqual(mapError(InvalidRequest.validation(PROBLEMS), 'r1'), {
    status: 400,
    code: 'validation_failed',
    message: 'invalid request: title is required; priority must be <= 5',
    headers: {},
    details: PROBLEMS,
  });
  t.like(mapError(new TooManyRequests('slow down', 90), 'r1'), { status: 429, code: 'too_many_requests', headers: { 'Retry-After': '90' } });
  t.like(mapError(new providerErrors.SessionNotFound('interaction session id cookie not found'), 'r1'), {
    status: 400,
    code: 'invalid_request',
    message: 'this sign-in request is unknown, has expired or is already complete',
  });
  t.like(mapError(new providerErrors.InvalidRequest('the request is malformed'), 'r1'), { status: 400, message: 'the request is malformed' });
  const hidden = mapError(new Error('connection refused at 10.0.0.7'), 'r1');
  t.like(hidden, { status: 500, code: 'server_error', headers: {} });
  t.regex(hidden.message, /quote request id r1/);
  t.notRegex(hidden.message, /10\.0\.0\.7/);
  t.deepEqual(envelopeOf(mapError(InvalidRequest.validation(PROBLEMS), 'r1')), {
    status: 'invalid request: title is required; priority must be <= 5',
    error: 'validation_failed',
    details: PROBLEMS,
  });
});

let server: Server;
let base: string;
test.before(async () => {
  const app = new Koa();
  app.silent = true;
  app.use(errorEnvelope(pino({ level: 'silent' })));
  app.use(async (ctx) => {
    const what = ctx.path.split('/').pop();
    if (what === 'invalid') throw InvalidRequest.validation(PROBLEMS);
    if (what === 'throttled') throw new TooManyRequests('too many failed logins: wait 5 minute(s)', 300);
    if (what === 'unauthenticated') throw new Unauthenticated('The e-mail, handle or password is not right.');
    if (what === 'in-form')
      throw inForm(
        ctx,
        (message) => `<form id="again"><p class="error" role="alert">${message}</p></form>`,
        InvalidRequest.validation(PROBLEMS, 'Enter both'),
      );
    throw new Error('internal detail');
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
test.after.always(() => {
  server?.close();
});

async function both(what: string) {
  const json = await fetch(`${base}/api/v1/${what}`);
  const page = await fetch(`${base}/interaction/uid/${what}`);
  return { json, envelope: await json.json(), page, html: await page.text() };
}
const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#39;': "'" };
/** The message a page shows, as text. */
const alertOf = (html: string) => /<p class="error" role="alert">([^<]*)<\/p>/.exec(html)?.[1].replace(/&(lt|gt|amp|quot|#39);/g, (e) => ENTITIES[e]);

test('one validation error answers the same status and message as the envelope and as the page', async (t) => {
  const { json, envelope, page, html } = await both('invalid');
  t.is(json.status, 400);
  t.is(page.status, 400);
  t.deepEqual(envelope, envelopeOf(mapError(InvalidRequest.validation(PROBLEMS), 'unused')));
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  t.is(alertOf(html), envelope.status);
  t.regex(html, /<h1>This step cannot be completed<\/h1>/);
});

test('the headers an error sets are on the page as in the envelope, but for the Bearer challenge', async (t) => {
  const throttled = await both('throttled');
  t.is(throttled.page.status, 429);
  t.is(throttled.page.headers.get('retry-after'), '300');
  t.is(throttled.json.headers.get('retry-after'), '300');
  const refused = await both('unauthenticated');
  t.is(refused.page.status, 401);
  t.is(refused.json.headers.get('www-authenticate'), 'Bearer');
  t.is(refused.page.headers.get('www-authenticate'), null, 'a page is signed into with a form, not a Bearer token');
  t.is(alertOf(refused.html), refused.envelope.status);
});

test("a page that throws a refusal inForm shows its form again with the message; the status is still the mapping's", async (t) => {
  const { page, html } = await both('in-form');
  t.is(page.status, 400);
  t.regex(html, /^<form id="again"><p class="error" role="alert">Enter both<\/p><\/form>$/);
});

test('an unexpected failure is the generic 500 on both, without internals', async (t) => {
  const { json, envelope, page, html } = await both('boom');
  t.is(json.status, 500);
  t.is(page.status, 500);
  t.is(envelope.error, 'server_error');
  t.is(alertOf(html), envelope.status);
  t.notRegex(html + JSON.stringify(envelope), /internal detail/);
});
