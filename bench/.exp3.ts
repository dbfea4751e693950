import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgres } from '../test/helpers/postgres.ts';
import { startEnvironment } from './lib/environment.ts';
import { stopAll, treeCpuMs } from './lib/processes.ts';
import { postmasterPid } from './lib/machine.ts';
import { profileSnapshotSql } from '../src/features/profile/profile.repo.ts';

const server = await startPostgres();
const pgPid = (await postmasterPid(server.url))!;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'exp-'));
const env = await startEnvironment('exp', { adminUrl: server.url, masterKey: randomBytes(32), logDir: tmp, tmpDir: tmp, log: () => {} });
try {
  await env.seeder.registerViaApi(2);
  await env.seeder.ensureUsers(300);
  const sessions = await env.seeder.dataApiSessions(100, 50);
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 10 });
  const N = 3000;
  const measure = async (label: string, make: (i: number) => pg.QueryConfig) => {
    for (let i = 0; i < 50; i++) await pool.query(make(i));
    const c0 = treeCpuMs(pgPid)!; const u0 = process.cpuUsage();
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) { batch.push(pool.query(make(i))); if (batch.length >= 10) { await Promise.all(batch); batch.length = 0; } }
    await Promise.all(batch);
    const u = process.cpuUsage(u0);
    console.log(`${label.padEnd(40)} pg ${(((treeCpuMs(pgPid)! - c0) * 1000) / N).toFixed(0)} µs/query  client ${((u.user + u.system) / N).toFixed(0)} µs/query`);
  };
  const S = profileSnapshotSql(`(case when t.account_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then t.account_id::uuid end)`);
  const head = `select t.payload as token_payload, t.consumed_at as token_consumed_at, g.payload as grant_payload, g.consumed_at as grant_consumed_at, s.client_id as service_client_id, s.role as service_role, s.disabled_at as service_disabled_at`;
  const from = `from oidc_payloads t left join oidc_payloads g on g.kind = 'Grant' and g.id = t.grant_id and (g.expires_at is null or g.expires_at > current_timestamp) left join services s on s.client_id = t.client_id`;
  const where = `where t.kind = 'AccessToken' and t.id = $1 and (t.expires_at is null or t.expires_at > current_timestamp)`;
  const baseSql = 'select field, value, ring, provenance, updated_at from profile_fields where profile_id = $1';
  await measure('select 1', () => ({ name: 'one', text: 'select 1' }));
  await measure('koa-pg read (named)', (i) => ({ name: 'b', text: baseSql, values: [sessions[i % 100].profileId] }));
  await measure('token only', (i) => ({ name: 't0', text: `${head} ${from} ${where}`, values: [sessions[i % 100].token] }));
  await measure('combined arrays', (i) => ({ name: 't1', text: `${head}, ${S.columns} ${from} ${S.joins} ${where}`, values: [sessions[i % 100].token] }));
  const J = { columns: S.columns.replace('fa.fields as snap_fields, fa.rings as snap_field_rings, fa.sealed as snap_values', 'fj.fields as snap_json'), joins: S.joins.replace(/left join lateral \(\s*select array_agg[\s\S]*?\) fa on true/, `left join lateral (select json_agg(json_build_array(f.field, f.ring, encode(f.value, 'base64')) order by f.field) as fields from profile_fields f where f.profile_id = p.id) fj on true`) };
  await measure('combined json', (i) => ({ name: 't2', text: `${head}, ${J.columns} ${from} ${J.joins} ${where}`, values: [sessions[i % 100].token] }));
  const R = `${head}, p.id, p.wrapped_dek, f.field, f.ring, f.value ${from} left join profiles p on p.user_id = t.account_id::uuid left join profile_fields f on f.profile_id = p.id ${where}`;
  await measure('combined rows (no rings)', (i) => ({ name: 't3', text: R, values: [sessions[i % 100].token] }));
  await pool.end();
} finally {
  await env.close(); await stopAll(); server.stop();
}
