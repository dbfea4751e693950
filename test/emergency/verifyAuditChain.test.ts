/** The operator endpoint of the audit chain check: operators only; a tampered row is named, as by the CLI. */
import test from 'ava';
import { makeOperator } from '../services/fixtures.ts';
import { register } from '../accounts/fixtures.ts';
import { useTestApp } from '../helpers/app.ts';
import { assertError } from '../helpers/assert.ts';

const app = useTestApp();

test('an operator sees the chain whole, then the altered row named; anyone else is refused', async (t) => {
  const operator = await register(app);
  await makeOperator(app, operator);
  const someone = await register(app);
  const whole = await app.request('GET', '/api/v1/admin/audit/verify', { token: operator.token });
  t.is(whole.status, 200, whole.text);
  t.true(whole.body.ok);
  t.true(whole.body.checked > 0);
  t.is(whole.body.broken, null);
  assertError(t, await app.request('GET', '/api/v1/admin/audit/verify', { token: someone.token }), 403, 'not_an_operator');

  const [{ seq, id }] = await app.service.deps.db('audit_events').orderBy('seq').limit(1).offset(1).select('seq', 'id');
  await app.service.deps.db.raw(`update audit_events set actor = 'operator' where seq = ?`, [seq]);
  const broken = await app.request('GET', '/api/v1/admin/audit/verify', { token: operator.token });
  t.is(broken.status, 200, broken.text);
  t.false(broken.body.ok);
  t.like(broken.body.broken, { problem: 'altered', seq: Number(seq), id });
});
