import test from 'ava';
import { MAX_REPORTED_PROBLEMS, PolicyError } from '../../src/policy/problems.ts';
import { SCHEMA } from '../../src/policy/schemas.ts';
import { countValues, MAX_YAML_VALUES, parseYaml } from '../../src/policy/yaml.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { checkUserRings, parseUserRingsFile } from '../../src/policy/user-rings.ts';
import { unknownKeys, unknownRoles } from './fixtures.ts';

const policies = loadPolicies();

test('a file of more values than any policy needs is refused before a schema looks at it', (t) => {
  const text = unknownKeys(65_000);
  const parsed = parseYaml('policy', text);
  t.is(parsed.yaml, undefined);
  t.deepEqual(parsed.problems, [
    { file: 'policy', line: 1, message: `holds more than ${MAX_YAML_VALUES} keys, items and values: no policy file needs that many` },
  ]);
  t.true(parsed.values! <= MAX_YAML_VALUES + 1, `counting stopped at the bound (${parsed.values})`);
});

test('counting values stops at the bound, aliases expanded or not', (t) => {
  const shared = Array.from({ length: 1000 }, (_, i) => i);
  t.is(countValues({ a: [1, 2], b: { c: 'x' } }), 9, 'keys and values: the root, a, [1, 2], 1, 2, b, {c}, c, x');
  t.true(countValues(Array.from({ length: 100 }, () => shared)) <= MAX_YAML_VALUES + 2);
  t.true(parseYaml('f', 'a: &a [1,2,3,4,5,6,7,8,9]\nb: [*a, *a, *a]\n').yaml !== undefined, 'a few aliases are fine');
});

test('schema problems past the cap are counted, not looked up', (t) => {
  const { yaml } = parseYaml('policy', unknownKeys(27_000));
  t.truthy(yaml, 'under the value bound');
  const problems = policies.schemas.check(SCHEMA.userRings, yaml!);
  t.is(problems.length, MAX_REPORTED_PROBLEMS + 1);
  t.regex(problems.at(-1)!.message, /^\d{4} more problem\(s\) not shown: only the first 50 are reported$/);
  t.is(yaml!.lookups, MAX_REPORTED_PROBLEMS, 'one line lookup per reported problem');
  t.deepEqual(problems[0], { file: 'policy', line: 2, message: 'k0: k0 is not a known key here' });
  t.is(problems[49].line, 51);
});

test('meaning problems past the cap are counted, not described', (t) => {
  const text = unknownRoles(65_000);
  const { yaml } = parseYaml('policy', text);
  let described = 0;
  const problems = checkUserRings(policies, yaml!.data as never, (at, message, key) => {
    described++;
    return yaml!.problem(at, message, { key });
  });
  t.is(problems.length, MAX_REPORTED_PROBLEMS + 1);
  t.is(described, MAX_REPORTED_PROBLEMS);
  t.regex(problems.at(-1)!.message, /^\d{4} more problem\(s\) not shown/);
  t.is(problems[0].line, 6);
  t.is(problems[0].message, 'r0 is not a role (commercial, emergency_responder, government, healthcare)');
});

test('a refused ring policy names at most the cap of problems, each clipped', (t) => {
  const long = 'x'.repeat(20_000);
  const err = t.throws(() => parseUserRingsFile(policies, `version: 1\n? ${long}\n: 1\n`, 'policy'), { instanceOf: PolicyError })!;
  t.is(err.problems.length, 1);
  t.true(err.problems[0].message.length <= 240, `${err.problems[0].message.length} characters`);
  t.true(err.problems[0].message.endsWith('…'));
  t.true(err.message.length < 400);
});

test('a repeated key is refused with its line, as the YAML library did', (t) => {
  const parsed = parseYaml('policy', 'version: 1\nplacements:\n  bio: public\n  bio: private\n');
  t.deepEqual(parsed.problems, [{ file: 'policy', line: 4, message: 'YAML syntax: Map keys must be unique' }]);
  t.deepEqual(
    parseYaml('policy', 'a:\n  - 1: x\n    "1": y\n').problems.map((p) => p.line),
    [3],
    'keys compared as the object holds them',
  );
});
