import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestApp } from '../helpers/app.ts';
import { register } from '../accounts/fixtures.ts';
import { addService } from '../helpers/oidc.ts';
import { addGrant, RINGS } from '../rings/fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli/policy.ts', import.meta.url));

const app = useTestApp();

function policy(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: app.databaseUrl },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("explain --user reads the person's stored rings, and with --service their live grant and the service role", async (t) => {
  const s = await register(app);
  await app.request('POST', RINGS, { token: s.token, json: { ring_name: 'restricted', assigned_data: { fields: ['home_address'] } } });
  const r = policy('explain', '--role', 'government', '--field', 'home_address', '--user', s.person.handle);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`user rings: @${s.person.handle} as stored \\(rings version 1\\)`));
  t.regex(r.stdout, /✗ user setting +the person moved home_address to restricted/);
  t.regex(r.stdout, /verdict: DENY/);

  const shop = (await addService(app, 'commercial')).service.client_id;
  await addGrant(app, s.user_id, shop, ['openid', 'profile']);
  const svc = policy('explain', '--service', shop, '--field', 'name', '--user', s.user_id);
  t.is(svc.status, 0, svc.stderr);
  t.regex(svc.stdout, new RegExp(`live grant to ${shop}: openid profile`));
  t.regex(svc.stdout, /judged by role commercial/);
  t.regex(svc.stdout, /✓ scope +granted scope profile covers it/);
  t.regex(svc.stdout, /verdict: ALLOW/);

  const nobody = policy('explain', '--role', 'government', '--field', 'name', '--user', 'no_such_person');
  t.is(nobody.status, 2);
  t.regex(nobody.stderr, /no user no_such_person in the database/);
});
