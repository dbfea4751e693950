import test from 'ava';
import { useTestApp } from '../helpers/app.ts';

const app = useTestApp();

test('the catalogue lists stable codes, with the seed\'s "Driver\'s License" as a label; anyone may read it', async (t) => {
  const res = await app.request('GET', '/api/v1/credential-types');
  t.is(res.status, 200);
  t.deepEqual(
    res.body.credential_types.map((c: { code: string }) => c.code),
    ['us_drivers_license', 'us_id_card', 'ca_drivers_license', 'ca_id_card'],
  );
  t.like(res.body.credential_types[0], { label: "Driver's License", document: 'DL', country: 'USA' });
  t.like(res.body.credential_types[2], { document: 'DL', country: 'CAN' });
});
