import test from 'ava';
import { startTestApp, type TestApp } from '../helpers/app.ts';

let app: TestApp;
test.before(async () => {
  app = await startTestApp('platform-operations');
});
test.after.always(async () => {
  await app?.close();
});

test('healthz answers 200 while the process is alive', async (t) => {
  const res = await app.request('GET', '/healthz');
  t.is(res.status, 200);
  t.is(res.body.status, 'success');
});

test('readyz answers 200 when the database is reachable and migrations are current', async (t) => {
  const res = await app.request('GET', '/readyz');
  t.is(res.status, 200);
  t.deepEqual(res.body, { status: 'success', database: 'postgres', migrations: 'current' });
});
