/**
 * The webhook SSRF guard (src/notify/webhooks.ts postWebhook) in production: an IP literal that is private is refused
 * before anything is sent, and a name is checked by the lookup of the connection itself — so what is checked is the
 * address connected to, and a name resolving to a private address (here `localhost`) is refused, where a check
 * before the request and a second resolution by the request could disagree (DNS rebinding). Outside production the
 * same receiver on loopback gets the request. A real receiver on loopback counts what arrives.
 */
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from '../../src/notify/webhooks.ts';

const received: string[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    received.push(`${req.headers['webhook-id']} ${body}`);
    res.writeHead(204).end();
  });
});
test.before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});
test.after.always(() => receiver.close());
const port = () => (receiver.address() as AddressInfo).port;
const send = (url: string, production: boolean) =>
  postWebhook(
    new URL(url),
    { headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' }, body: '{"a":1}', signal: AbortSignal.timeout(5000) },
    production,
  ).then((answer) => answer.status);

test.serial('outside production a loopback receiver gets the webhook, by address and by name', async (t) => {
  t.is(await send(`http://127.0.0.1:${port()}/hook`, false), 204);
  t.is(await send(`http://localhost:${port()}/hook`, false), 204);
  t.deepEqual(received.splice(0), ['msg_1 {"a":1}', 'msg_1 {"a":1}']);
});

test.serial('in production a private address is refused, whether named by IP or resolved by the connection, and nothing arrives', async (t) => {
  for (const url of [`http://127.0.0.1:${port()}/hook`, `http://[::1]:${port()}/hook`, `http://[::ffff:127.0.0.1]:${port()}/hook`]) {
    await t.throwsAsync(send(url, true), { message: /is a private address: not delivered/ }, url);
  }
  await t.throwsAsync(send(`http://localhost:${port()}/hook`, true), { message: /resolves to a private address: not delivered/ });
  t.deepEqual(received, []);
});
