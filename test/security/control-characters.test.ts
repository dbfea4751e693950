// Control characters (NUL above all: PostgreSQL text cannot hold it) are refused where a person's name, address or
// handle is written, with a 400 naming the field, before anything is stored or mailed.
import test from 'ava';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';
import { countRows, newPerson, register } from '../accounts/fixtures.ts';

const app = useTestApp();

/** NUL, other C0 controls, DEL and C1 controls (NEL, CSI), and the line and paragraph separators. */
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u0008', '\u001b', '\r', '\n', '\t', '\u007f', '\u0085', '\u009b', '\u2028', '\u2029'];

test.serial('registration refuses a control character in the e-mail address, the name or the handle, and writes and mails nothing', async (t) => {
  const before = await countRows(app, ['users', 'profiles', 'outbox', 'audit_events']);
  for (const c of CONTROLS) {
    const tag = newPerson().email.split('@')[0];
    for (const email of [`${tag}${c}@example.com`, `${tag}@exam${c}ple.com`, `${c}${tag}@example.com`.replace(/^\s+/, '\u0000')]) {
      const res = await app.request('POST', '/api/v1/users/register', { json: newPerson({ email }) });
      assertError(t, res, 400, 'validation_failed');
      t.deepEqual(
        res.body.details.map((d: { path: string }) => d.path),
        ['email'],
        `${JSON.stringify(email)}: ${res.text}`,
      );
    }
    const name = await app.request('POST', '/api/v1/users/register', { json: newPerson({ name: `Eve${c}Mallory` }) });
    assertError(t, name, 400, 'validation_failed');
    t.deepEqual(
      name.body.details.map((d: { path: string }) => d.path),
      ['name'],
      `${JSON.stringify(c)}: ${name.text}`,
    );
    const handle = await app.request('POST', '/api/v1/users/register', { json: newPerson({ handle: `eve${c}x` }) });
    assertError(t, handle, 400, 'validation_failed');
    t.deepEqual(
      handle.body.details.map((d: { path: string }) => d.path),
      ['handle'],
    );
  }
  t.deepEqual(await countRows(app, ['users', 'profiles', 'outbox', 'audit_events']), before);
});

test.serial('an e-mail change to an address with a control character is refused before the password is checked or a mail is sent', async (t) => {
  const session = await register(app);
  const before = await countRows(app, ['outbox', 'email_verifications', 'audit_events']);
  for (const c of CONTROLS) {
    const email = `moved${c}${newPerson().email}`;
    const res = await app.request('PUT', '/api/v1/profile/update-info', {
      token: session.token,
      json: { current_password: session.person.password, updated_fields: { email } },
    });
    assertError(t, res, 400, 'validation_failed');
    t.deepEqual(
      res.body.details.map((d: { path: string }) => d.path),
      ['updated_fields.email'],
      `${JSON.stringify(c)}: ${res.text}`,
    );
    const name = await app.request('PUT', '/api/v1/profile/update-info', {
      token: session.token,
      json: { updated_fields: { name: `Eve${c}`, given_name: `x${c}y` } },
    });
    assertError(t, name, 400, 'validation_failed');
  }
  t.deepEqual(await countRows(app, ['outbox', 'email_verifications', 'audit_events']), before);
  const me = await app.request('GET', '/api/v1/auth/me', { token: session.token });
  t.is(me.body.email, session.person.email);
});

test('a multipart part named __proto__ or constructor is a field the schema refuses, not a write to a prototype', async (t) => {
  for (const name of ['__proto__', 'constructor', 'toString']) {
    const form = new FormData();
    const person = newPerson();
    for (const [k, v] of Object.entries(person)) form.set(k, v);
    form.set(name, '{"polluted":"yes"}');
    const res = await app.request('POST', '/api/v1/users/register', { multipart: form });
    assertError(t, res, 400, 'validation_failed');
    t.regex(res.body.status, new RegExp(`must NOT have additional properties|${name}`), res.text);
  }
  t.is(({} as Record<string, unknown>).polluted, undefined);
});
