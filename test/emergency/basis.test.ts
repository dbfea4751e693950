/**
 * The EmergencyBasis in the disclosure pipeline: a release is admitted only while its opened access is live — not
 * after the person ended it, not after it expired, not after the setup is gone — and every admitted one is on the
 * audit chain under its access_log_id.
 */
import test from 'ava';
import type { EmergencyBasis } from '../../src/disclosure/basis.ts';
import { auditEvents } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { addToRoster, grant, personWithSetup, responderOrganisation } from './fixtures.ts';

const app = useTestApp();

async function opened(label: string) {
  const person = await personWithSetup(app, []);
  const org = await responderOrganisation(app, `Basis ${label}`);
  await addToRoster(app, org, { responder_id: 'b1', name: 'Basis Medic', licence: 'B1' });
  const res = await grant(app, org, { responder_id: 'b1', reason: label, email: person.person.email, criterion: 'unconsciousness' });
  if (res.status !== 200) throw new Error(res.text);
  const basis: EmergencyBasis = {
    kind: 'emergency',
    accessLogId: res.body.access_log_id,
    criterion: 'unconsciousness',
    scopes: ['emergency'],
    opener: { kind: 'responder', clientId: org.client.service.client_id, responderId: 'b1' },
  };
  const release = () =>
    app.service.deps.disclosure.release({
      reader: { kind: 'service', clientId: org.client.service.client_id, role: 'emergency_responder' },
      subject: person.user_id,
      basis,
      fields: ['emergency_contact'],
      clientIp: '127.0.0.1',
    });
  return { person, release, id: res.body.access_log_id as string };
}

test('a live access releases; once the person ends it, the next release is refused and not recorded', async (t) => {
  const { person, release, id } = await opened('ended');
  const live = await release();
  t.deepEqual(live.fields, ['emergency_contact']);
  t.is((await app.request('POST', `/api/v1/profile/emergency-access/log/${id}/end`, { token: person.token })).status, 200);
  const before = (await auditEvents(app, 'data.released')).filter((e) => e.data.access_log_id === id).length;
  await t.throwsAsync(release(), { message: /has ended/ });
  t.is((await auditEvents(app, 'data.released')).filter((e) => e.data.access_log_id === id).length, before);
});

test('an expired access is refused', async (t) => {
  const { release, id } = await opened('expired');
  await app.service.deps
    .db('emergency_openings')
    .where({ id })
    .update({ expires_at: new Date(Date.now() - 1000) });
  await t.throwsAsync(release(), { message: /has ended/ });
});

test('deleting the setup ends every open access', async (t) => {
  const { person, release } = await opened('deleted');
  t.is((await app.request('DELETE', '/api/v1/profile/emergency-access', { token: person.token })).status, 200);
  await t.throwsAsync(release(), { message: /has ended/ });
});
