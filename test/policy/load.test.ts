import test from 'ava';
import { fieldPaths, loadCatalogue } from '../../src/policy/catalogue.ts';
import { PolicyError } from '../../src/policy/problems.ts';
import { compilePolicies, loadPolicies } from '../../src/policy/load.ts';
import { policiesWith, policyFiles, policySetWith } from './fixtures.ts';

const files = policyFiles();

/** The problems a broken policy set produces, as `file:line: message` strings. */
function problemsOf(changes: Record<string, string | null>): string[] {
  try {
    compilePolicies(policySetWith(changes));
  } catch (err) {
    if (err instanceof PolicyError) return err.problems.map((p) => `${p.file}:${p.line ?? '?'}: ${p.message}`);
    throw err;
  }
  throw new Error('the policy set loaded, but it should not have');
}

/** The 1-based line of the first occurrence of `needle` in a policy file. */
function lineOf(rel: string, needle: string): number {
  const index = files[rel].split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`${needle} is not in ${rel}`);
  return index + 1;
}

test('the repository policies load, frozen, with a content-hash revision', (t) => {
  const policies = loadPolicies();
  t.regex(policies.revision, /^[0-9a-f]{64}$/);
  t.deepEqual([...policies.roles.keys()], ['commercial', 'emergency_responder', 'government', 'healthcare', 'public']);
  t.true(Object.isFrozen(policies));
  t.true(Object.isFrozen(policies.roles.get('commercial')!.rules[0]));
  t.throws(() => (policies.roles as Map<string, unknown>).set('x', {}), { message: /read-only/ });
  t.throws(() => (policies.roles.get('commercial')!.rules[0].leaves as Set<string>).add('passport_number'), { message: /read-only/ });
  t.is(loadPolicies().revision, policies.revision, 'the same files give the same revision');
});

test('changing any policy file changes the revision', (t) => {
  const base = policiesWith();
  const edited = policiesWith({ 'roles/public.yaml': files['roles/public.yaml'].replace('Anyone at all.', 'Anyone.') });
  t.not(edited.revision, base.revision);
});

test('loadCatalogue and fieldPaths keep working for callers outside the engine', (t) => {
  const catalogue = loadCatalogue();
  t.is(catalogue.fields.get('home_address')?.ring, 'private');
  t.is(catalogue.rings[0].name, 'public');
  t.true(fieldPaths(catalogue).includes('home_address.locality'));
  t.is(catalogue.fields.get('age')?.derivedFrom, 'date_of_birth');
});

test('an unknown key in a role file is refused with its file and line', (t) => {
  const text = files['roles/commercial.yaml'].replace('ceiling: semi-private', 'ceiling: semi-private\ncolour: blue');
  const problems = problemsOf({ 'roles/commercial.yaml': text });
  t.deepEqual(problems, [
    `policies:roles/commercial.yaml:${lineOf('roles/commercial.yaml', 'ceiling:') + 1}: colour: colour is not a known key here`,
  ]);
});

test('a ceiling naming no ring is refused with its line', (t) => {
  const problems = problemsOf({ 'roles/government.yaml': files['roles/government.yaml'].replace('ceiling: private', 'ceiling: secret') });
  t.deepEqual(problems, [
    `policies:roles/government.yaml:${lineOf('roles/government.yaml', 'ceiling:')}: ceiling secret is not a ring (public, semi-private, private, restricted)`,
  ]);
});

test('a role may not take restricted as its ceiling', (t) => {
  const problems = problemsOf({ 'roles/government.yaml': files['roles/government.yaml'].replace('ceiling: private', 'ceiling: restricted') });
  t.is(problems.length, 1);
  t.regex(problems[0], /roles\/government\.yaml:\d+: ceiling restricted is reached only by the owner and by break-the-glass/);
});

test('a field pattern that matches no catalogued field is refused, naming the line of the pattern', (t) => {
  const text = files['roles/healthcare.yaml'].replace("  - deny: ['*_number', national_id]", "  - deny:\n      - '*_number'\n      - national_idd");
  const problems = problemsOf({ 'roles/healthcare.yaml': text });
  const line = text.split('\n').findIndex((l) => l.includes('national_idd')) + 1;
  t.deepEqual(problems, [`policies:roles/healthcare.yaml:${line}: deny national_idd: matches no catalogued field`]);
});

test('an allow rule outside the role ceiling is refused: it could never take effect', (t) => {
  const text = `${files['roles/commercial.yaml']}  - allow: [email]\n`;
  const problems = problemsOf({ 'roles/commercial.yaml': text });
  t.is(problems.length, 1);
  t.regex(problems[0], /roles\/commercial\.yaml:\d+: allow email: outside the ceiling semi-private: email \(private\) is classified more closed/);
});

test('a rule with both allow and deny, or neither, is refused', (t) => {
  const text = files['roles/public.yaml'].replace("  - allow: ['*']", "  - allow: ['*']\n    deny: [bio]");
  const problems = problemsOf({ 'roles/public.yaml': text });
  t.deepEqual(problems, [
    `policies:roles/public.yaml:${lineOf('roles/public.yaml', "- allow: ['*']")}: rules[0]: must have exactly one of allow, deny`,
  ]);
});

test('a role file must be named after its role', (t) => {
  const problems = problemsOf({ 'roles/shops.yaml': files['roles/commercial.yaml'], 'roles/commercial.yaml': null });
  t.is(problems.length, 1);
  t.regex(problems[0], /roles\/shops\.yaml:\d+: role commercial must be defined in roles\/commercial\.yaml/);
});

test('the public role is required', (t) => {
  t.deepEqual(problemsOf({ 'roles/public.yaml': null }), [
    'policies:roles/public.yaml:?: the public role is missing: anonymous readers are judged by it',
  ]);
});

test('a YAML syntax error is reported with its line', (t) => {
  const text = files['roles/public.yaml'].replace('ceiling: public', 'ceiling: [public');
  const problems = problemsOf({ 'roles/public.yaml': text });
  t.true(problems.length >= 1);
  t.regex(problems[0], /^policies:roles\/public\.yaml:\d+: YAML syntax: /);
});

test('a catalogued field in an unknown ring is refused with its line in fields.yaml', (t) => {
  const text = files['fields.yaml'].replace('  bio:\n    type: text\n    ring: public', '  bio:\n    type: text\n    ring: friends');
  const problems = problemsOf({ 'fields.yaml': text });
  const line = text.split('\n').findIndex((l) => l.includes('ring: friends')) + 1;
  t.deepEqual(problems, [
    `policies:fields.yaml:${line}: field bio: ring friends is not defined in rings.yaml (public, semi-private, private, restricted)`,
  ]);
});

test('a field with an unknown key or a wrong type is refused by the schema', (t) => {
  const text = files['fields.yaml'].replace('  bio:\n    type: text', '  bio:\n    type: prose\n    max_length: 200');
  const problems = problemsOf({ 'fields.yaml': text });
  t.true(
    problems.some((p) => /fields\.yaml:\d+: fields\.bio\.type: must be one of/.test(p)),
    problems.join('\n'),
  );
  t.true(
    problems.some((p) => /fields\.yaml:\d+: fields\.bio\.max_length: max_length is not a known key here/.test(p)),
    problems.join('\n'),
  );
});

test('scopes must name claims that catalogued fields release', (t) => {
  const text = files['scopes.yaml'].replace('claims: [email]', 'claims: [email, email_verified]');
  const problems = problemsOf({ 'scopes.yaml': text });
  t.deepEqual(problems, [
    `policies:scopes.yaml:${lineOf('scopes.yaml', 'claims: [email]')}: scope email: claim email_verified is not released by any catalogued field`,
  ]);
});

test('restricted cannot be a ring scope', (t) => {
  const problems = problemsOf({
    'scopes.yaml': files['scopes.yaml'].replace('rings: [public, semi-private, private]', 'rings: [public, restricted]'),
  });
  t.is(problems.length, 1);
  t.regex(problems[0], /scopes\.yaml:\d+: ring:restricted cannot be a scope/);
});

test('every problem of a set is reported at once', (t) => {
  const problems = problemsOf({
    'roles/government.yaml': files['roles/government.yaml'].replace('ceiling: private', 'ceiling: secret'),
    'roles/healthcare.yaml': files['roles/healthcare.yaml'].replace('national_id]', 'nid]'),
  });
  t.is(problems.length, 2);
});

test('the public role reads the public ring only', (t) => {
  const problems = problemsOf({ 'roles/public.yaml': files['roles/public.yaml'].replace('ceiling: public', 'ceiling: semi-private') });
  t.deepEqual(problems, [
    `policies:roles/public.yaml:${lineOf('roles/public.yaml', 'ceiling:')}: the public reads the public ring only: its ceiling must be public`,
  ]);
});

test('break-the-glass may only widen the ceiling, and only for fields the role allows', (t) => {
  const text = files['roles/emergency_responder.yaml']
    .replace('  ceiling: restricted', '  ceiling: semi-private')
    .replace('fields: [name, blood_type', 'fields: [phone, name, blood_type');
  const problems = problemsOf({ 'roles/emergency_responder.yaml': text });
  t.is(problems.length, 2, problems.join('\n'));
  t.regex(problems[0], /break-the-glass ceiling semi-private is more open than the role's ceiling private/);
  t.regex(problems[1], /phone: no allow rule of emergency_responder covers it/);
});

test('a policy file nested too deeply for the YAML parser is refused with its line, whoever wrote it', (t) => {
  // 5000 levels used to end the process with a V8 fatal error inside the YAML parser, which no try/catch sees.
  const head = files['roles/commercial.yaml'].replace(/\n*$/, '\n');
  const line = head.split('\n').length + 1;
  const cases: [string, RegExp][] = [
    [`${'['.repeat(5000)}${']'.repeat(5000)}`, /nests \[ \] or \{ \} more than 32 levels deep/],
    [`${'- '.repeat(5000)}x`, /nests more than 32 lists on one line|is indented more than 64 columns/],
    [`${'{a: '.repeat(3000)}1${'}'.repeat(3000)}`, /nests \[ \] or \{ \} more than 32 levels deep/],
    [`${' '.repeat(100)}x: 1`, /is indented more than 64 columns/],
  ];
  for (const [deep, message] of cases) {
    const problems = problemsOf({ 'roles/commercial.yaml': `${head}deep:\n  ${deep}\n` });
    t.is(problems.length, 1, problems.join('\n').slice(0, 300));
    t.true(problems[0].startsWith(`policies:roles/commercial.yaml:${line}: `), problems[0]);
    t.regex(problems[0], message);
  }
});

test('an alias bomb in a policy file is refused, not expanded', (t) => {
  const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  t.deepEqual(problemsOf({ 'roles/commercial.yaml': bomb }), [
    'policies:roles/commercial.yaml:?: uses more than 100 aliases (*name): write the values out',
  ]);
});
