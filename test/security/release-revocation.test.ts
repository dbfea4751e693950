/**
 * A grant revoked while a userinfo call and a data API call are in flight under it: neither answers nor records a
 * release after the revocation committed (src/disclosure: the release's admission checks the grant in the statement
 * that appends its event). Deterministic, not timed: the revocation's transaction is held open while both calls
 * pass their token checks and reach the release, and committed only then.
 */
import test from 'ava';
import * as client from 'openid-client';
import { recordAudit } from '../../src/audit/audit.ts';
import { verifyAuditChain } from '../../src/audit/verify.ts';
import type { ReleaseRequest } from '../../src/disclosure/release.ts';
import { revokeGrants } from '../../src/oidc/grants.repo.ts';
import { withTransaction } from '../../src/store/db.ts';
import { useTestApp } from '../helpers/app.ts';
import { dataResource, registerClient, tokensFor } from '../helpers/oidc.ts';
import { auditOf, registerPerson } from '../services/fixtures.ts';

const app = useTestApp();

/** Resolves once `check` holds, polling; fails after `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a grant revoked while userinfo and the data API are releasing under it: both answer 401, neither release is recorded after the revocation', async (t) => {
  const { db } = app.service.deps;
  const person = await registerPerson(app);
  const subject = `user:${person.user_id}`;
  const { config, service } = await registerClient(app, 'government');
  const clientId = service.client_id;
  const tokens = await tokensFor(app, config, person.person, 'openid email address offline_access');
  const data = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: dataResource(app) });
  const userinfoUrl = config.serverMetadata().userinfo_endpoint!;
  const userinfo = () => fetch(userinfoUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const dataApi = () => fetch(`${app.url}/api/v1/data/profile`, { headers: { authorization: `Bearer ${data.access_token}` } });

  // Both roads release while the grant lives: the starting point of the race.
  t.is((await userinfo()).status, 200);
  t.is((await dataApi()).status, 200);
  const releasedBefore = (await auditOf(app, 'data.released', subject)).length;
  t.is(releasedBefore, 2);

  // The calls that reach the pipeline (a pass-through: the real release runs).
  const disclosure = app.service.deps.disclosure;
  const release = disclosure.release.bind(disclosure);
  const entered: string[] = [];
  disclosure.release = (request: ReleaseRequest) => {
    entered.push(request.via ?? 'data');
    return release(request);
  };
  t.teardown(() => {
    disclosure.release = release;
  });

  let commit!: () => void;
  const held = new Promise<void>((resolve) => (commit = resolve));
  let holder = 0;
  let deleted = false;
  // What revokeAccess does, held open before its commit: the grant and its tokens deleted, the revocation recorded.
  const revocation = withTransaction(db, async (trx) => {
    holder = Number(((await trx.raw('select pg_backend_pid() as pid')) as { rows: { pid: number }[] }).rows[0].pid);
    const { grantIds, revoked } = await revokeGrants(trx, person.user_id, clientId);
    t.is(grantIds.length, 1);
    await recordAudit(trx, {
      action: 'grant.revoked',
      actor: subject,
      subject,
      clientIp: '127.0.0.1',
      data: { client_id: clientId, grant_ids: grantIds, ...revoked },
    });
    deleted = true;
    await held;
  });
  await until('the revocation has deleted the grant, uncommitted', () => deleted);
  const blockedByRevocation = async () => {
    const { rows } = (await db.raw(`select count(*)::int as n from pg_stat_activity where ? = any(pg_blocking_pids(pid))`, [holder])) as {
      rows: { n: number }[];
    };
    return rows[0].n;
  };

  // userinfo first: the provider finds its token and grant live (the deletion is not committed), and the call
  // waits in the database, behind the revocation, to record its release.
  const userinfoCall = userinfo();
  await until('userinfo waits behind the revocation', async () => (await blockedByRevocation()) >= 1);
  // Then the data API: its token statement finds the token and grant live too, and it reaches the release.
  const dataCall = dataApi();
  await until('the data API call reaches the release', () => entered.includes('data'));

  commit();
  await revocation;
  const [afterUserinfo, afterData] = await Promise.all([userinfoCall, dataCall]);

  t.is(afterUserinfo.status, 401, 'userinfo answers no claims under a revoked grant');
  t.regex(afterUserinfo.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  const userinfoBody = (await afterUserinfo.json()) as Record<string, unknown>;
  t.is(userinfoBody.error, 'invalid_token');
  t.false('email' in userinfoBody);
  t.is(afterData.status, 401, 'the data API answers no fields under a revoked grant');
  const dataBody = (await afterData.json()) as Record<string, unknown>;
  t.is(dataBody.error, 'invalid_token');
  t.false('fields' in dataBody);

  const [revoked] = await auditOf(app, 'grant.revoked', subject);
  const releases = (await db('audit_events').where({ action: 'data.released', subject }).select('seq')) as { seq: string }[];
  t.is(releases.length, releasedBefore, 'no release was recorded for the calls in flight');
  t.deepEqual(
    releases.filter((r) => Number(r.seq) > Number(revoked.seq)),
    [],
    'no release follows the revocation in the audit chain',
  );
  t.like(await verifyAuditChain(db), { ok: true });
});
