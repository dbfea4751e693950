/**
 * Confirming a credential writes profile fields as update-info does, so the services that can read a changed field
 * are told the same way (issue 16): one signed `profile.updated` event naming the fields it may read, never a value;
 * a service whose role may not read any of them hears nothing.
 */
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { storeGrant } from './fixtures.ts';
import { addService, subjectAt } from '../helpers/oidc.ts';
import { startReceiver, verified, type Receiver } from '../helpers/webhooks.ts';
import { register } from '../accounts/fixtures.ts';
import { addLicence } from '../credentials/fixtures.ts';

const app = useTestApp();
const receivers: Receiver[] = [];
test.after.always(async () => {
  for (const r of receivers) await r.close();
});

test.serial('a confirmed licence tells the government service of the new home_address, and the commercial one nothing', async (t) => {
  const government = await startReceiver();
  const commercial = await startReceiver();
  receivers.push(government, commercial);
  const session = await register(app, { name: 'Jane Quinn Sample' });
  const gov = await addService(app, 'government', { webhookUrl: government.url });
  const shop = await addService(app, 'commercial', { webhookUrl: commercial.url });
  await storeGrant(app, session.user_id, gov.service.client_id);
  await storeGrant(app, session.user_id, shop.service.client_id);

  const added = await addLicence(app, session.token);
  const confirmed = await app.request('POST', `/api/v1/profile/credentials/${added.credential_id}/confirm`, { token: session.token });
  t.is(confirmed.status, 200, confirmed.text);
  t.true(confirmed.body.fields.some((f: { field: string }) => f.field === 'home_address'));

  const [hook] = await government.waitFor(1);
  const event = verified(gov.webhookSecret!, hook);
  t.like(event, {
    type: 'profile.updated',
    fields: ['home_address'],
    profile_version: confirmed.body.profile_version,
    subject: await subjectAt(app, gov.service.client_id, session.user_id),
  });
  t.false(JSON.stringify(event).includes('SACRAMENTO'), 'the event names the field, never its value');

  const audit = await app.service.deps
    .db('audit_events')
    .where({ action: 'profile.update', subject: `user:${session.user_id}` })
    .orderBy('seq', 'desc')
    .first();
  const data = typeof audit.data === 'string' ? JSON.parse(audit.data) : audit.data;
  t.is(data.services_told, 1, 'only the government service can read a changed field');
  t.is(data.credential_id, added.credential_id);

  // The commercial service was granted only `address`, and home_address is beyond its role's ceiling: no event.
  // The fan-out is expanded in one transaction, so once the government event is out every delivery it made is listed.
  const deliveries = await app.request('GET', '/api/v1/profile/deliveries?limit=100', { token: session.token });
  t.is(deliveries.status, 200);
  const forVersion = deliveries.body.deliveries.filter((d: { profile_version: number }) => d.profile_version === confirmed.body.profile_version);
  t.deepEqual(
    forVersion.map((d: { service_id: string }) => d.service_id),
    [gov.service.client_id],
  );
  t.is(commercial.received.length, 0);
});
