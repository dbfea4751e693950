import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempPolicies } from './fixtures.ts';

const CLI = fileURLToPath(new URL('../../src/cli/policy.ts', import.meta.url));

function policy(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.serial('validate accepts the repository policies and their test cases', (t) => {
  const r = policy('validate');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /policies valid: \d+ fields, 4 rings, 5 roles, \d+ scopes, \d+ test cases in 4 files/);
  t.regex(r.stdout, /revision [0-9a-f]{64}/);
});

test.serial('test passes on the policies as committed', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  const r = policy('test', '--dir', tmp.dir);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /\d+ passed, 0 failed/);
  t.notRegex(r.stdout, /FAIL/);
});

test.serial('test fails when a case is changed to expect the opposite', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  // The public does not see home_address; this case now says it does.
  tmp.edit('tests/defaults.yaml', (text) =>
    text.replace(
      'allow: [handle, bio, website, avatar]\n      deny: [name, email, home_address]',
      'allow: [handle, bio, website, avatar, home_address]',
    ),
  );
  const r = policy('test', '--dir', tmp.dir);
  t.is(r.status, 1);
  t.regex(r.stdout, /FAIL the public sees only public fields/);
  t.regex(r.stdout, /expected but withheld: home_address/);
  t.regex(r.stdout, /, 1 failed/);
});

test.serial('test fails when a field is released that no case expects: unlisted fields default to deny', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  tmp.edit('tests/defaults.yaml', (text) =>
    text.replace('allow: [handle, bio, website, avatar]\n      deny: [name, email, home_address]', 'allow: [handle, website, avatar]'),
  );
  const r = policy('test', '--dir', tmp.dir);
  t.is(r.status, 1);
  t.regex(r.stdout, /released but not expected: bio/);
});

test.serial('test fails when a policy change releases more than the cases allow', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  tmp.edit('roles/government.yaml', (text) => text.replace('      - nationality\n', '      - nationality\n      - occupation\n'));
  const r = policy('test', '--dir', tmp.dir);
  t.is(r.status, 1);
  t.regex(r.stdout, /FAIL government reaches identity/);
  t.regex(r.stdout, /released but not expected: occupation/);
});

test.serial('an invalid policy file stops validate and test with file, line and reason', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  tmp.edit('roles/healthcare.yaml', (text) => text.replace('ceiling: private', 'ceiling: privat'));
  for (const command of ['validate', 'test']) {
    const r = policy(command, '--dir', tmp.dir);
    t.is(r.status, 1);
    t.regex(r.stderr, /roles\/healthcare\.yaml:6: ceiling privat is not a ring/);
  }
});

test.serial('an invalid test case file is refused with its line', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  tmp.write('tests/bad.yaml', 'version: 1\ncases:\n  - name: x\n    reader: role:pirate\n    expect: { allow: [] }\n');
  const r = policy('test', '--dir', tmp.dir);
  t.is(r.status, 1);
  t.regex(r.stderr, /tests\/bad\.yaml:4: x: role pirate is not defined/);
});

test.serial('explain says why a field moved to public stays hidden from a role whose ceiling excludes it', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  const rings = path.join(tmp.root, 'rings.yaml');
  writeFileSync(rings, 'version: 1\nplacements:\n  home_address: public\n');
  const r = policy('explain', '--role', 'commercial', '--field', 'home_address', '--user-rings', rings, '--dir', tmp.dir);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /explain home_address for role:commercial/);
  t.regex(r.stdout, /policy revision [0-9a-f]{64}/);
  t.regex(r.stdout, /· ring +home_address is classified private \(its default ring\) {2}\[.*fields\.yaml:\d+\]/);
  t.regex(
    r.stdout,
    /✗ ceiling +private is beyond commercial's ceiling semi-private; no user setting can widen a ceiling {2}\[.*roles\/commercial\.yaml:6\]/,
  );
  t.regex(r.stdout, /✓ user setting +the person moved home_address to public/);
  t.regex(r.stdout, /✓ rules +allow \*/);
  t.regex(r.stdout, /verdict: DENY/);

  writeFileSync(rings, 'version: 1\nplacements:\n  home_address: restricted\n');
  const gov = policy('explain', '--role', 'government', '--field', 'home_address.locality', '--user-rings', rings, '--dir', tmp.dir);
  t.regex(gov.stdout, /✗ user setting +the person moved home_address to restricted, which only the owner \(and break-the-glass\) reaches/);
  t.regex(gov.stdout, /verdict: DENY/);

  const json = JSON.parse(
    policy('explain', '--service', 'clinic', '--role', 'healthcare', '--field', 'allergies', '--scopes', 'openid health', '--json').stdout,
  );
  t.is(json.verdict, 'allow');
  t.is(json.leaves[0].decidedBy, 'allow:0');
});

test.serial('explain refuses a bad ring file, an unknown field and a missing reader', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  const rings = path.join(tmp.root, 'rings.yaml');
  writeFileSync(rings, 'version: 1\nplacements:\n  home_address: secret\n');
  const bad = policy('explain', '--role', 'commercial', '--field', 'home_address', '--user-rings', rings);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /rings\.yaml:3: home_address: secret is not a default ring/);
  const unknown = policy('explain', '--role', 'commercial', '--field', 'shoe_size');
  t.is(unknown.status, 1);
  t.regex(unknown.stderr, /shoe_size is not a catalogued field/);
  const usage = policy('explain', '--field', 'name');
  t.is(usage.status, 2);
  t.regex(usage.stderr, /explain needs a reader/);
});

test.serial('diff lists per role the fields gained and lost since a git revision', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', tmp.root, '-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'policies');
  tmp.edit('roles/government.yaml', (text) => text.replace('      - home_address\n', '      - occupation\n'));
  tmp.edit('roles/commercial.yaml', (text) => text.replace('ceiling: semi-private', 'ceiling: public'));
  const r = policy('diff', 'HEAD', '--dir', tmp.dir);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /role government: changed \(ceiling private\)\n {2}\+ gained: occupation\n {2}- lost: {3}home_address\n/);
  t.regex(
    r.stdout,
    /role commercial: changed \(ceiling semi-private → public\)\n {2}- lost: {3}name, given_name, family_name, locale, age, age_over_18, employer, occupation\n/,
  );
  t.regex(r.stdout, /role healthcare: unchanged/);
  const json = JSON.parse(policy('diff', 'HEAD', '--dir', tmp.dir, '--json').stdout);
  t.deepEqual(json.roles.find((c: { role: string }) => c.role === 'government').gained, ['occupation']);
  const missing = policy('diff', 'no-such-ref', '--dir', tmp.dir);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /cannot read git revision no-such-ref/);
});

test.serial('explain --ring says which roles a default ring admits, break-the-glass included, with the role files', (t) => {
  const r = policy('explain', '--ring', 'restricted');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /explain ring restricted: who it admits/);
  t.regex(r.stdout, /✗ commercial +restricted is beyond commercial's ceiling semi-private {2}\[.*roles\/commercial\.yaml:6\]/);
  t.regex(
    r.stdout,
    /! emergency_responder only while an emergency access is open: emergency_responder's break-the-glass ceiling restricted reaches restricted for name, blood_type/,
  );
  t.regex(r.stdout, /admits: none; through break-the-glass only: emergency_responder/);
  const json = JSON.parse(policy('explain', '--ring', 'private', '--json').stdout);
  t.deepEqual(
    json.roles.filter((a: { admitted: string }) => a.admitted === 'yes').map((a: { role: string }) => a.role),
    ['emergency_responder', 'government', 'healthcare'],
  );
  const custom = policy('explain', '--ring', 'my doctors');
  t.is(custom.status, 2);
  t.regex(custom.stderr, /my doctors is not a default ring/);
  const both = policy('explain', '--ring', 'public', '--field', 'name', '--role', 'commercial');
  t.is(both.status, 2);
  t.regex(both.stderr, /explain one thing at a time/);
});

test.serial('explain --public-view says what the public sees, whether the person is listed, and why', (t) => {
  const tmp = tempPolicies();
  t.teardown(tmp.remove);
  const listed = policy('explain', '--public-view');
  t.is(listed.status, 0, listed.stderr);
  t.regex(listed.stdout, /✓ listed +in the directory and reachable by handle: the public sees handle/);
  t.regex(listed.stdout, /· fields +the public sees handle, bio, website, avatar\n/);
  t.regex(listed.stdout, /· statuses +public: posts in the rings within public's ceiling public {2}\[.*roles\/public\.yaml:6\]/);
  t.regex(listed.stdout, /verdict: LISTED/);
  const rings = path.join(tmp.root, 'rings.yaml');
  writeFileSync(rings, 'version: 1\nplacements:\n  handle: semi-private\n');
  const hidden = policy('explain', '--public-view', '--user-rings', rings);
  t.regex(
    hidden.stdout,
    /✗ listed +not in the directory, no public profile: the public does not see handle \(user setting: the person moved handle to semi-private/,
  );
  t.regex(hidden.stdout, /verdict: NOT LISTED/);
  const json = JSON.parse(policy('explain', '--public-view', '--user-rings', rings, '--json').stdout);
  t.false(json.listed);
  t.deepEqual(json.fields, ['bio', 'website', 'avatar']);
  t.is(json.listing.verdict, 'deny');
});

test.serial('explain --statuses says from which rings a reader reads status posts', (t) => {
  const r = policy('explain', '--statuses', '--public');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /explain status posts for public/);
  t.regex(r.stdout, /✓ rings +public: posts in the rings within public's ceiling public/);
  t.deepEqual(JSON.parse(policy('explain', '--statuses', '--owner', '--json').stdout).rings, ['public', 'semi-private', 'private', 'restricted']);
  t.is(policy('explain', '--statuses').status, 2);
});

test.serial('explain --field email_verified follows the decision on email: never released without it', (t) => {
  const gov = policy('explain', '--service', 'agency', '--role', 'government', '--field', 'email_verified', '--scopes', 'openid email');
  t.is(gov.status, 0, gov.stderr);
  t.regex(
    gov.stdout,
    /^email_verified is a companion claim of email \(field email\): released with it and only with it\nexplain email for service:agency/,
  );
  t.regex(gov.stdout, /verdict: ALLOW/);
  const shop = policy('explain', '--service', 'shop', '--role', 'commercial', '--field', 'email_verified', '--scopes', 'openid email', '--json');
  const json = JSON.parse(shop.stdout);
  t.like(json, { companion: 'email_verified', claim: 'email', field: 'email' });
  t.is(json.explanation.verdict, 'deny');
});
