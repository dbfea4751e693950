/**
 * `npm run policy -- <command>`: validate policies/, run its test cases, explain one decision, list what a
 * change does per role since a git revision, or show and set the revision in force for every instance (status,
 * activate). Exit status 0 on success, 1 on a failed check, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCases, runPolicyTests } from '../policy/cases.ts';
import { POLICIES_DIR } from '../policy/catalogue.ts';
import { UnknownField } from '../policy/decision.ts';
import { diffPolicies } from '../policy/diff.ts';
import { PolicyEngine } from '../policy/engine.ts';
import type { RoleAdmission } from '../policy/admission.ts';
import type { Explanation } from '../policy/explain.ts';
import type { Grant } from '../policy/gates.ts';
import { NO_USER_RINGS, type UserRings } from '../policy/placements.ts';
import type { Reader } from '../policy/reader.ts';
import { formatProblem, PolicyError, type Source } from '../policy/problems.ts';
import { fsPolicySet, gitPolicySet } from '../policy/sources.ts';
import { compilePolicies, type Policies } from '../policy/load.ts';
import { parseUserRingsFile } from '../policy/user-rings.ts';
import { loadConfig } from '../config.ts';
import { openStore } from '../store/db.ts';
import { migrateLatest } from '../store/migrations.ts';
import { activatePolicyRevision, INSTANCE, policyInForce } from '../policy/revision.ts';
import { readUserRings, serviceRoles } from '../features/rings/rings.repo.ts';
import { grantedScopes } from '../oidc/grants.repo.ts';

const USAGE = `usage: npm run policy -- <command> [options]

commands:
  validate                      check every policy file (schema and meaning) and the test case files
  test                          run policies/tests/*.yaml; exit 1 if any case fails
  explain --field F <reader>    every layer of one decision: ring, ceiling (file:line), rule, user setting, verdict;
                                F may be a companion claim (email_verified): it follows the field of its claim
  explain --statuses <reader>   the rings of a person's status posts the reader may read, and why
  explain --public-view         what the public sees of a person, whether they are listed in the directory, and why
  explain --ring R              which roles the default ring R admits: ceiling, rules and break-the-glass
      reader: --role R | --public | --owner | --service CLIENT_ID --role R
      --user-rings FILE         a person's ring policy (YAML, as GET /api/v1/profile/privilege-rings/policy gives it)
      --user HANDLE|USER_ID     a person's rings as stored in the database (DATABASE_URL, or the embedded one);
                                with --service, the scopes of their live grant and the service's registered role
      --scopes "S1 S2"          the grant's scopes (a service without --scopes, or a grant, has none)
      --break-the-glass         an emergency access is open
  diff <git-ref>                per role, the fields gained and lost since policies/ at that revision
  status                        the revision in force for every instance (DATABASE_URL), and this directory's
  activate                      bring this directory's revision into force again (a rollback): instances with
                                another revision reload theirs from disk if it is this one, or answer 503 until
                                they are restarted with it. A revision never seen comes into force on its own,
                                when the first instance starts with it

options:
  --dir DIR                     the policies directory (default: the repository's policies/)
  --json                        machine-readable output (explain, diff, test)
`;

class UsageError extends Error {}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function where(source: Source | undefined): string {
  return source ? `${source.file}:${source.line}` : '';
}

function formatExplanation(e: Explanation, ringsFrom: string): string {
  const lines = [`explain ${e.field} for ${e.reader}`, `policy revision ${e.revision}`, `user rings: ${ringsFrom}`];
  const mark = { pass: '✓', fail: '✗', 'n/a': '·' } as const;
  const body = (leaf: Explanation['leaves'][number]) =>
    leaf.layers.map((l) => {
      const text = `  ${mark[l.outcome]} ${l.layer.padEnd(13)} ${l.detail}`;
      return l.source ? `${text}  [${where(l.source)}]` : text;
    });
  // Properties of one structured field usually share every layer; print them once when they do.
  const signature = (leaf: Explanation['leaves'][number]) => JSON.stringify(leaf.layers);
  const same = e.leaves.every((l) => signature(l) === signature(e.leaves[0]));
  if (same) {
    if (e.leaves.length > 1) lines.push(`(the same for all ${e.leaves.length} properties: ${e.leaves.map((l) => l.leaf).join(', ')})`);
    lines.push(...body(e.leaves[0]));
  } else {
    for (const leaf of e.leaves) lines.push(`${leaf.leaf}:`, ...body(leaf));
  }
  lines.push(`verdict: ${e.verdict.toUpperCase()}`);
  return lines.join('\n');
}

function formatAdmission(ring: string, revision: string, admissions: readonly RoleAdmission[]): string {
  const mark = { yes: '✓', 'break-the-glass': '!', no: '✗' } as const;
  const width = Math.max(...admissions.map((a) => a.role.length));
  const lines = [`explain ring ${ring}: who it admits`, `policy revision ${revision}`];
  for (const a of admissions) lines.push(`  ${mark[a.admitted]} ${a.role.padEnd(width)} ${a.reason}  [${where(a.source)}]`);
  const names = (admitted: RoleAdmission['admitted']) =>
    admissions
      .filter((a) => a.admitted === admitted)
      .map((a) => a.role)
      .join(', ') || 'none';
  lines.push(`admits: ${names('yes')}; through break-the-glass only: ${names('break-the-glass')}`);
  return lines.join('\n');
}

function formatPublicView(view: ReturnType<PolicyEngine['explainPublicView']>, ringsFrom: string): string {
  const lines = ['explain the public view', `policy revision ${view.revision}`, `user rings: ${ringsFrom}`];
  const listing = view.listing.leaves[0].layers.find((l) => l.outcome === 'fail');
  lines.push(
    view.listed
      ? `  ✓ listed        in the directory and reachable by handle: the public sees ${view.listing.field}`
      : `  ✗ listed        not in the directory, no public profile: the public does not see ${view.listing.field} (${listing?.layer}: ${listing?.detail})`,
  );
  lines.push(`  · fields        the public sees ${view.fields.join(', ') || 'nothing'}${view.listed ? '' : ' (shown only while listed)'}`);
  const width = Math.max(13, ...view.withheld.map((w) => w.field.length));
  for (const w of view.withheld) lines.push(`  ✗ ${w.field.padEnd(width)} ${w.layer}: ${w.reason}`);
  const s = view.statusRings;
  lines.push(`  · statuses      ${s.rings.join(', ') || 'none'}: ${s.reason}${s.source ? `  [${where(s.source)}]` : ''}`);
  lines.push(`verdict: ${view.listed ? 'LISTED' : 'NOT LISTED'}`);
  return lines.join('\n');
}

function load(dir: string): Policies {
  return compilePolicies(fsPolicySet(dir));
}

function validate(dir: string): number {
  const policies = load(dir);
  const { files, cases } = loadCases(policies, fsPolicySet(dir));
  for (const w of policies.warnings) out(`warning: ${formatProblem(w)}`);
  out(
    `policies valid: ${policies.fields.size} fields, ${policies.rings.length} rings, ${policies.roles.size} roles, ${policies.scopes.size} scopes, ${cases.length} test cases in ${files} files`,
  );
  out(`revision ${policies.revision}`);
  return 0;
}

function test(dir: string, json: boolean): number {
  const engine = new PolicyEngine(load(dir));
  const report = runPolicyTests(engine, fsPolicySet(dir));
  if (json) {
    out(JSON.stringify({ revision: engine.revision, ...report }, null, 2));
    return report.failed === 0 ? 0 : 1;
  }
  for (const r of report.results) {
    out(`${r.passed ? 'ok  ' : 'FAIL'} ${r.name}  (${r.file}:${r.line})`);
    if (r.unexpected.length > 0) out(`       released but not expected: ${r.unexpected.join(', ')}`);
    if (r.missing.length > 0) out(`       expected but withheld: ${r.missing.join(', ')}`);
  }
  out(`${report.passed} passed, ${report.failed} failed (${report.results.length} cases in ${report.files} files; revision ${engine.revision})`);
  return report.failed === 0 ? 0 : 1;
}

/** A person's stored rings and, for a service, their live grant's scopes and its registered role. */
async function fromDatabase(
  who: string,
  clientId: string | undefined,
): Promise<{ rings: UserRings; label: string; scopes?: string[]; role?: string }> {
  const store = await openStore(loadConfig());
  try {
    const db = store.db;
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(who);
    const user = (await db('users')
      .where(byId ? { id: who } : { handle_lower: who.replace(/^@/, '').toLowerCase() })
      .first('id', 'handle')) as { id: string; handle: string } | undefined;
    if (!user) throw new UsageError(`no user ${who} in the database`);
    const rings = await readUserRings(db, user.id);
    let label = `@${user.handle} as stored (rings version ${rings.version})`;
    if (!clientId) return { rings, label };
    const scopes = (await grantedScopes(db, user.id)).get(clientId);
    const role = (await serviceRoles(db, [clientId])).get(clientId);
    label += scopes ? `; live grant to ${clientId}: ${scopes.join(' ')}` : `; no live grant to ${clientId}`;
    return { rings, label, scopes: scopes ?? [], role };
  } finally {
    await store.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

/** The reader the options name; a stored service's registered role stands in for --role. */
function readerOf(values: Values, policies: Policies, storedRole: string | undefined): Reader {
  let reader: Reader;
  const role = (values.role as string | undefined) ?? storedRole;
  if (values.owner) reader = { kind: 'owner' };
  else if (values.public || role === 'public') reader = { kind: 'public' };
  else if (values.service) {
    if (!role) throw new UsageError("--service needs --role (the service's role)");
    reader = { kind: 'service', clientId: values.service as string, role };
  } else if (role) reader = { kind: 'role', role };
  else throw new UsageError('explain needs a reader: --role R, --public, --owner or --service ID --role R');
  if ((reader.kind === 'role' || reader.kind === 'service') && !policies.roles.has(reader.role)) {
    throw new UsageError(`role ${reader.role} is not defined (roles: ${[...policies.roles.keys()].join(', ')})`);
  }
  return reader;
}

async function explain(dir: string, values: Values): Promise<number> {
  const field = values.field as string | undefined;
  const ring = values.ring as string | undefined;
  const asked = [
    field !== undefined && '--field',
    values.statuses && '--statuses',
    values['public-view'] && '--public-view',
    ring !== undefined && '--ring',
  ].filter(Boolean);
  if (asked.length === 0) throw new UsageError('explain needs --field F, --statuses, --public-view or --ring R');
  if (asked.length > 1) throw new UsageError(`explain one thing at a time, not ${asked.join(' and ')}`);
  if (ring !== undefined) {
    const policies = load(dir);
    if (!policies.ringRank.has(ring)) {
      throw new UsageError(
        `${ring} is not a default ring (${policies.rings.map((r) => r.name).join(', ')}): a custom ring admits exactly the roles and services it names`,
      );
    }
    const engine = new PolicyEngine(policies);
    const admissions = engine.ringAdmission(ring);
    out(
      values.json
        ? JSON.stringify({ revision: engine.revision, ring, roles: admissions }, null, 2)
        : formatAdmission(ring, engine.revision, admissions),
    );
    return 0;
  }
  if (values.user && values['user-rings']) throw new UsageError('give --user or --user-rings, not both');
  const stored = values.user ? await fromDatabase(values.user as string, values.service as string | undefined) : undefined;
  const policies = load(dir);
  const reader = values['public-view'] ? undefined : readerOf(values, policies, stored?.role);
  let rings: UserRings = stored?.rings ?? NO_USER_RINGS;
  let ringsFrom = stored?.label ?? '(none: every field in its default ring)';
  if (values['user-rings']) {
    const file = values['user-rings'] as string;
    rings = parseUserRingsFile(policies, readFileSync(file, 'utf8'), file).rings;
    ringsFrom = file;
  }
  let grant: Grant | undefined;
  if (values.scopes !== undefined || values['break-the-glass'] || stored?.scopes) {
    const scopes =
      values.scopes !== undefined
        ? String(values.scopes)
            .split(/[\s,]+/)
            .filter(Boolean)
        : (stored?.scopes ?? []);
    grant = { scopes, ...(values['break-the-glass'] ? { breakTheGlass: true } : {}) };
  }
  const engine = new PolicyEngine(policies);
  if (!reader) {
    const view = engine.explainPublicView(rings);
    out(values.json ? JSON.stringify(view, null, 2) : formatPublicView(view, ringsFrom));
    return 0;
  }
  if (values.statuses) {
    const statuses = engine.explainStatusRings(reader);
    const text = [
      `explain status posts for ${statuses.reader}`,
      `policy revision ${engine.revision}`,
      `  ${statuses.rings.length > 0 ? '✓' : '✗'} rings         ${statuses.rings.join(', ') || 'none'}: ${statuses.reason}${statuses.source ? `  [${where(statuses.source)}]` : ''}`,
    ].join('\n');
    out(values.json ? JSON.stringify({ revision: engine.revision, ...statuses }, null, 2) : text);
    return 0;
  }
  if (!policies.fields.has(field!) && !policies.leafField.has(field!)) {
    // Not a field: a companion claim follows the field of its claim (or this throws UnknownField).
    const companion = engine.explainCompanion(reader, field!, rings, grant);
    const heading = `${companion.companion} is a companion claim of ${companion.claim} (field ${companion.field}): released with it and only with it`;
    out(values.json ? JSON.stringify(companion, null, 2) : `${heading}\n${formatExplanation(companion.explanation, ringsFrom)}`);
    return 0;
  }
  const explanation = engine.explain(reader, field!, rings, grant);
  out(values.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation, ringsFrom));
  return 0;
}

/** The revision in force (`status`), or brings this directory's into force (`activate`). */
async function inForce(dir: string, activate: boolean, json: boolean): Promise<number> {
  const policies = load(dir);
  const store = await openStore(loadConfig());
  try {
    await migrateLatest(store.db);
    const changed = activate ? await activatePolicyRevision(store.db, policies, `npm run policy -- activate (${INSTANCE})`) : false;
    const current = await policyInForce(store.db);
    const answer = {
      in_force: current?.revision ?? null,
      generation: current?.generation ?? null,
      activated_by: current?.activated_by ?? null,
      activated_at: current ? new Date(current.activated_at).toISOString() : null,
      this_directory: policies.revision,
      activated: changed,
    };
    if (json) out(JSON.stringify(answer, null, 2));
    else {
      out(`in force:        ${answer.in_force ?? 'none yet (the first instance records its revision at start)'}`);
      if (current) out(`                 generation ${answer.generation}, by ${answer.activated_by} at ${answer.activated_at}`);
      out(`this directory:  ${policies.revision} (${policies.origin})${policies.revision === current?.revision ? ', in force' : ''}`);
      if (activate) out(changed ? 'Activated: every instance follows within seconds.' : 'Already in force: nothing changed.');
    }
    return 0;
  } finally {
    await store.close();
  }
}

function diff(dir: string, ref: string | undefined, json: boolean): number {
  if (!ref) throw new UsageError('diff needs a git revision: npm run policy -- diff origin/main');
  const after = load(dir);
  let before: Policies | undefined;
  let note: string | undefined;
  try {
    before = compilePolicies(gitPolicySet(ref, dir), `${ref}:policies`);
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    // An older revision may predate roles or schemas: everything reachable now then counts as gained.
    note = `policies at ${ref} do not load (${err.problems.length} problem${err.problems.length > 1 ? 's' : ''}, first: ${formatProblem(err.problems[0])}); comparing against no policies`;
  }
  const changes = diffPolicies(before, after);
  if (json) {
    out(JSON.stringify({ from: { ref, revision: before?.revision ?? null }, to: { revision: after.revision }, note, roles: changes }, null, 2));
    return 0;
  }
  out(`policies ${ref} (${before?.revision.slice(0, 12) ?? 'none'}) → working tree (${after.revision.slice(0, 12)})`);
  if (note) out(`note: ${note}`);
  for (const c of changes) {
    const ceiling =
      c.ceiling.before === c.ceiling.after ? `ceiling ${c.ceiling.after}` : `ceiling ${c.ceiling.before ?? '-'} → ${c.ceiling.after ?? '-'}`;
    out(`role ${c.role}: ${c.status} (${ceiling})`);
    if (c.gained.length > 0) out(`  + gained: ${c.gained.join(', ')}`);
    if (c.lost.length > 0) out(`  - lost:   ${c.lost.join(', ')}`);
    const b = c.breakTheGlass;
    if (b.ceiling.before !== b.ceiling.after) out(`  break-the-glass ceiling ${b.ceiling.before ?? '-'} → ${b.ceiling.after ?? '-'}`);
    if (b.gained.length > 0) out(`  + break-the-glass: ${b.gained.join(', ')}`);
    if (b.lost.length > 0) out(`  - break-the-glass: ${b.lost.join(', ')}`);
  }
  return 0;
}

const ARGS = {
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    json: { type: 'boolean' },
    role: { type: 'string' },
    field: { type: 'string' },
    ring: { type: 'string' },
    statuses: { type: 'boolean' },
    'public-view': { type: 'boolean' },
    service: { type: 'string' },
    public: { type: 'boolean' },
    owner: { type: 'boolean' },
    scopes: { type: 'string' },
    'user-rings': { type: 'string' },
    user: { type: 'string' },
    'break-the-glass': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
} as const;

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<typeof ARGS & { args: string[] }>>;
  try {
    parsed = parseArgs({ ...ARGS, args: argv });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const dir = path.resolve(values.dir ?? POLICIES_DIR);
  try {
    switch (command) {
      case 'validate':
        return validate(dir);
      case 'test':
        return test(dir, values.json === true);
      case 'explain':
        return await explain(dir, values);
      case 'diff':
        return diff(dir, rest[0], values.json === true);
      case 'status':
      case 'activate':
        return await inForce(dir, command === 'activate', values.json === true);
      case undefined:
      case 'help':
        out(USAGE);
        return command === undefined && !values.help ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof PolicyError || err instanceof UnknownField) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('src/cli/policy.ts')) {
  process.exitCode = await main(process.argv.slice(2));
}
