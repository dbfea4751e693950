/**
 * Health links (seed API 9, issue 17): the doctor's page in real Chromium (the code read from the SMTP sink, the
 * records decrypted in the browser, then revoked and dead); the link's key in no log line and no database row;
 * expiry under the feature's test clock; the lifetime cap of wrong codes under 20 parallel tries; the expiry rules.
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { compactDecrypt } from 'jose';
import { ARTIFACTS, logFileFor, useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { useBrowser } from '../helpers/browser.ts';
import { recordSecrets } from '../security/secrets.ts';
import { HealthLinkGone } from '../../src/errors.ts';
import { healthClock } from '../../src/features/health/clock.ts';
import { MAX_WRONG_CODES } from '../../src/features/health/links.ts';
import { addRecord, allergy, codeFor, condition, immunization, partsOf, register, type Person } from './fixtures.ts';

const app = useTestApp({ smtp: true });
const browser = useBrowser();
const DAY = 24 * 60 * 60 * 1000;
/** Every link key the file made: none may be in a log line or a database row. */
const keys: string[] = [];
const tokens: string[] = [];

async function shareLink(p: Person, json: Record<string, unknown>) {
  const res = await app.request('POST', '/api/v1/profile/share-create-link', { token: p.token, json });
  if (res.status !== 201) throw new Error(`share-create-link failed: ${res.text}`);
  const parts = partsOf(res.body.access_link);
  keys.push(parts.key);
  tokens.push(parts.token);
  recordSecrets('health-links', parts.key, parts.token);
  return { ...res.body, ...parts } as { access_link: string; link_id: string; expires_at: string; token: string; key: string; path: string };
}

async function sharedBundle(linkId: string, key: string) {
  const row = await app.service.deps.db('health_links').where({ id: linkId }).first();
  const { plaintext, protectedHeader } = await compactDecrypt(row.jwe, Buffer.from(key, 'base64url'));
  return { header: protectedHeader, bundle: JSON.parse(Buffer.from(plaintext).toString('utf8')) };
}

test.serial('the doctor opens the link in Chromium with the mailed code, sees the records, and the revoked link is dead', async (t) => {
  const alice = await register(app, 'alice');
  const vaccine = await addRecord(app, alice, immunization());
  await addRecord(app, alice, allergy());
  await addRecord(app, alice, condition());
  const doctorEmail = `dr.lee.${alice.handle}@clinic.example`;
  const link = await shareLink(alice, { health_records_info: { types: ['Immunization', 'AllergyIntolerance'] }, doctor_email: doctorEmail });
  t.is(link.key.length, 43, 'a 256-bit key in the fragment');
  t.is(link.token.length, 43, 'a 256-bit token in the path');
  t.true(Math.abs(new Date(link.expires_at).getTime() - (Date.now() + 7 * DAY)) < 60_000, 'seven days by default');

  // The stored JWE is dir/A256GCM under the fragment's key, and holds exactly the selected records.
  const stored = await sharedBundle(link.link_id, link.key);
  t.like(stored.header, { alg: 'dir', enc: 'A256GCM' });
  t.deepEqual(stored.bundle.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType).sort(), [
    'AllergyIntolerance',
    'Immunization',
  ]);

  // A change of a shared record re-encrypts the snapshot: the doctor sees the current version.
  const put = await app.request('PUT', `/api/v1/profile/health-records/${vaccine}`, {
    token: alice.token,
    json: immunization('Comirnaty (updated)'),
  });
  t.is(put.status, 200);
  const resealed = await sharedBundle(link.link_id, link.key);
  t.true(JSON.stringify(resealed.bundle).includes('Comirnaty (updated)'));

  const invitation = await app.smtp.waitFor(
    (m) => JSON.stringify(m.to).includes(doctorEmail) && /^Health records shared with you/.test(m.subject ?? ''),
  );
  t.true((invitation.text ?? '').includes(link.access_link), 'the doctor is mailed the link');
  t.regex(invitation.text ?? '', /alice Person \(@alice_[0-9a-f]+\) shares 2 health records/);
  t.regex(invitation.text ?? '', /Open them until /);

  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') cspErrors.push(m.text());
  });
  const opened = await page.goto(link.access_link);
  t.is(opened?.status(), 200);
  t.regex((await opened?.headerValue('content-security-policy')) ?? '', /default-src 'none'; script-src 'self'/);
  // A wrong address gets the same answer and no code.
  await page.fill('#email', 'someone.else@example.org');
  await page.click('#send-code');
  await page.waitForSelector('#step-code:not([hidden])');
  await page.fill('#email', doctorEmail);
  await page.click('#send-code');
  const code = await codeFor(app, doctorEmail);
  t.false(
    app.smtp.messages.some((m) => JSON.stringify(m.to).includes('someone.else@example.org')),
    'no code to another address',
  );
  await page.fill('#code', code);
  await page.click('#open');
  await page.waitForSelector('#records:not([hidden])');
  const shown = await page.textContent('#list');
  t.true(shown?.includes('Comirnaty (updated)'), shown ?? '');
  t.true(shown?.includes('Penicillin'));
  t.false(shown?.includes('Asthma'), 'a record not selected is not shown');
  t.is(await page.locator('tr[data-type="Immunization"]').count(), 1);
  await page.screenshot({ path: `${ARTIFACTS}health-link.png`, fullPage: true });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const file = await download.path();
  const downloaded = JSON.parse(readFileSync(file!, 'utf8'));
  t.is(downloaded.resourceType, 'Bundle');
  t.is(downloaded.entry.length, 2);
  t.deepEqual(cspErrors, [], 'nothing on the page broke the CSP');

  // The person sees the link and its access, is mailed on the first access, and the audit log has the release.
  const links = await app.request('GET', '/api/v1/profile/health-links', { token: alice.token });
  const listed = links.body.links.find((l: { link_id: string }) => l.link_id === link.link_id);
  t.like(listed, { recipient: doctorEmail, state: 'active', accesses: 1 });
  t.is(listed.records.length, 2);
  t.is(listed.access_log.length, 1);
  t.is(listed.access_log[0].record_ids.length, 2);
  await app.smtp.waitFor((m) => JSON.stringify(m.to).includes(alice.email) && /were opened/.test(m.subject ?? ''));
  const events = await app.service.deps
    .db('audit_events')
    .where({ subject: `user:${alice.userId}` })
    .orderBy('seq');
  const released = events.find((e) => e.action === 'data.released');
  t.like(released?.data, { health_link_id: link.link_id, via: 'health_link', fields: ['health_records'] });
  t.is(released?.actor, `health_link:${link.link_id}`);
  t.truthy(events.find((e) => e.action === 'health_link.accessed' && e.data.link_id === link.link_id));

  // Revoked: dead on the next request, the page says so, the API refuses even a fresh code.
  const revoked = await app.request('DELETE', `/api/v1/profile/health-links/${link.link_id}`, { token: alice.token });
  t.is(revoked.status, 200);
  // A reload: the same URL with its fragment would be a same-document navigation.
  const dead = await page.reload();
  t.is(dead?.status(), 404);
  t.regex((await page.textContent('main')) ?? '', /expired or was revoked/);
  await page.screenshot({ path: `${ARTIFACTS}health-link-revoked.png` });
  assertError(
    t,
    await app.request('POST', `/api/v1/health-links/${link.token}/access`, { json: { email: doctorEmail, code } }),
    404,
    'health_link_gone',
  );
  assertError(t, await app.request('DELETE', `/api/v1/profile/health-links/${link.link_id}`, { token: alice.token }), 404, 'health_link_not_found');
  t.truthy((await app.service.deps.db('audit_events').where({ action: 'health_link.revoked' })).length);
  // The basis is checked live where the release is admitted: a release under the revoked link is refused there.
  await t.throwsAsync(
    app.service.deps.disclosure.release({
      reader: { kind: 'role', role: 'healthcare', actor: `health_link:${link.link_id}` },
      subject: alice.userId,
      basis: { kind: 'health_link', linkId: link.link_id },
      openValues: false,
      clientIp: '127.0.0.1',
    }),
    { instanceOf: HealthLinkGone },
  );
  await context.close();
});

test.serial('after expiration_date (moved with the test clock) the link is dead, even with a valid code', async (t) => {
  const bob = await register(app, 'bob');
  await addRecord(app, bob, allergy());
  const doctorEmail = `dr.kim.${bob.handle}@clinic.example`;
  const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
  const link = await shareLink(bob, { health_records_info: { types: ['AllergyIntolerance'] }, doctor_email: doctorEmail, expiration_date: tomorrow });
  t.is(link.expires_at, `${tomorrow}T23:59:59.999Z`, 'a date alone is the end of that day');
  const sent = await app.request('POST', `/api/v1/health-links/${link.token}/code`, { json: { email: doctorEmail } });
  t.is(sent.status, 200);
  const code = await codeFor(app, doctorEmail);
  // A second code is not sent within 30 s of the first (the answer is the same).
  const again = await app.request('POST', `/api/v1/health-links/${link.token}/code`, { json: { email: doctorEmail } });
  t.is(again.status, 200);
  t.is((await app.service.deps.db('health_links').where({ id: link.link_id }).first()).codes_sent, 1);
  const real = healthClock.now;
  try {
    healthClock.now = () => new Date(new Date(link.expires_at).getTime() + 1000);
    assertError(
      t,
      await app.request('POST', `/api/v1/health-links/${link.token}/access`, { json: { email: doctorEmail, code } }),
      404,
      'health_link_gone',
    );
    const page = await app.request('GET', link.path);
    t.is(page.status, 404);
    t.regex(page.text, /expired or was revoked/);
    const listed = await app.request('GET', '/api/v1/profile/health-links', { token: bob.token });
    t.is(listed.body.links[0].state, 'expired');
  } finally {
    healthClock.now = real;
  }
  // The same code, before expiry, opens it: the refusal above was the expiry's, not the code's.
  const open = await app.request('POST', `/api/v1/health-links/${link.token}/access`, { json: { email: doctorEmail, code } });
  t.is(open.status, 200, open.text);
  t.is(open.body.records, 1);
});

test.serial('20 parallel wrong codes get no more tries than the cap, and then even the right code is refused', async (t) => {
  const carol = await register(app, 'carol');
  await addRecord(app, carol, immunization());
  const doctorEmail = `dr.ng.${carol.handle}@clinic.example`;
  const link = await shareLink(carol, { health_records_info: { types: ['Immunization'] }, doctor_email: doctorEmail });
  await app.request('POST', `/api/v1/health-links/${link.token}/code`, { json: { email: doctorEmail } });
  const code = await codeFor(app, doctorEmail);
  const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      app.request('POST', `/api/v1/health-links/${link.token}/access`, { json: { email: doctorEmail, code: wrong(i) } }),
    ),
  );
  t.true(
    answers.every((a) => a.status === 400),
    answers.map((a) => a.status).join(','),
  );
  const counted = answers.filter((a) => a.body.error === 'wrong_code').length;
  t.is(counted, MAX_WRONG_CODES - 1, 'every try but the last one allowed says wrong_code; the rest are refused');
  const row = await app.service.deps.db('health_links').where({ id: link.link_id }).first();
  t.is(row.wrong_codes, MAX_WRONG_CODES, 'exactly the cap was spent');
  assertError(
    t,
    await app.request('POST', `/api/v1/health-links/${link.token}/access`, { json: { email: doctorEmail, code } }),
    400,
    'code_attempts_exceeded',
  );
  t.is((await app.service.deps.db('health_links').where({ id: link.link_id }).first()).accesses, 0);
});

test.serial('the expiry is 90 days at most, never in the past; the selection must be records a doctor may be shown', async (t) => {
  const dan = await register(app, 'dan');
  const id = await addRecord(app, dan, immunization());
  const base = { health_records_info: { record_ids: [id] }, doctor_email: 'dr.who@clinic.example' };
  const past = await app.request('POST', '/api/v1/profile/share-create-link', { token: dan.token, json: { ...base, expiration_date: '2020-01-01' } });
  assertError(t, past, 400, 'invalid_expiration', /in the past/);
  const far = new Date(Date.now() + 91 * DAY).toISOString();
  assertError(
    t,
    await app.request('POST', '/api/v1/profile/share-create-link', { token: dan.token, json: { ...base, expiration_date: far } }),
    400,
    'invalid_expiration',
    /more than 90 days/,
  );
  const ok = await shareLink(dan, { ...base, expiration_date: new Date(Date.now() + 89 * DAY).toISOString() });
  t.truthy(ok.link_id);
  assertError(
    t,
    await app.request('POST', '/api/v1/profile/share-create-link', {
      token: dan.token,
      json: { ...base, health_records_info: { record_ids: ['00000000-0000-4000-8000-000000000000'] } },
    }),
    400,
    'validation_failed',
  );
  // Immunizations moved to the restricted ring: no healthcare reader may be shown them, so no link may share them.
  const moved = await app.request('POST', '/api/v1/profile/privilege-rings', {
    token: dan.token,
    json: { ring_name: 'restricted', assigned_data: { fields: ['immunizations'] } },
  });
  t.is(moved.status, 200, moved.text);
  assertError(t, await app.request('POST', '/api/v1/profile/share-create-link', { token: dan.token, json: base }), 400, 'records_withheld');
  // The link made before the move is still live, but its release now withholds the immunization.
  await app.request('POST', `/api/v1/health-links/${ok.token}/code`, { json: { email: 'dr.who@clinic.example' } });
  const code = await codeFor(app, 'dr.who@clinic.example');
  const open = await app.request('POST', `/api/v1/health-links/${ok.token}/access`, { json: { email: 'dr.who@clinic.example', code } });
  t.is(open.status, 200, open.text);
  t.is(open.body.records, 0);
  const { plaintext } = await compactDecrypt(open.body.jwe, Buffer.from(ok.key, 'base64url'));
  t.deepEqual(JSON.parse(Buffer.from(plaintext).toString('utf8')).entry, []);
});

test.serial("the page's assets are a fixed list, and the page of an unknown link says it is no longer valid", async (t) => {
  const js = await app.request('GET', '/share/assets/health-link.js');
  t.is(js.status, 200);
  t.regex(js.headers.get('content-type') ?? '', /^text\/javascript/);
  assertError(t, await app.request('GET', '/share/assets/secret.js'), 404, 'not_found');
  const unknown = await app.request('GET', `/share/${'A'.repeat(43)}`);
  t.is(unknown.status, 404);
  t.regex(unknown.text, /expired or was revoked/);
  t.regex(unknown.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assertError(
    t,
    await app.request('POST', `/api/v1/health-links/${'A'.repeat(43)}/code`, { json: { email: 'x@example.org' } }),
    404,
    'health_link_gone',
  );
});

test.serial('no log line and no database row of the whole flow contains a link key', async (t) => {
  t.true(keys.length >= 4);
  const log = readFileSync(logFileFor('health-createHealthLink'), 'utf8');
  // The path token is the link's credential too: the request log names the path's template instead.
  for (const token of tokens) t.false(log.includes(token), 'a link token is in the log');
  t.false(log.includes('alice Person'), "the sharer's name is in the log (a mail subject)");
  const forms = keys.flatMap((k) => {
    const raw = Buffer.from(k, 'base64url');
    return [k, raw.toString('base64'), raw.toString('hex')];
  });
  t.true(log.split('\n').length > 50, 'the log captured the flow');
  for (const f of forms) t.false(log.includes(f), 'a link key is in the log');
  const db = app.service.deps.db;
  const tables = (await db('information_schema.tables').where({ table_schema: 'public', table_type: 'BASE TABLE' }).pluck('table_name')) as string[];
  let rows = 0;
  for (const table of tables) {
    const texts = (await db.raw(`select t::text as row from "${table}" t`)).rows as { row: string }[];
    rows += texts.length;
    for (const { row } of texts) {
      // bytea columns print as hex (\x…): the hex form of each key is looked for too.
      for (const f of forms) if (row.includes(f)) t.fail(`a link key is in a row of ${table}`);
    }
  }
  t.true(rows > 50, `${rows} rows searched in ${tables.length} tables`);
  writeFileSync(
    `${ARTIFACTS}health-link-key-search.txt`,
    `${forms.length} key forms searched in ${rows} rows of ${tables.length} tables and the log\n`,
  );
});
