import test from 'ava';
import { useTestApp } from '../helpers/app.ts';

const app = useTestApp();

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
