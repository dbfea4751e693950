/**
 * Citus readiness (issue 21 Deliver 6): docs/scale-out.md's "Citus readiness" table against the tables the
 * migrations really create. The migrations run on the test PostgreSQL and the tables, columns and unique indexes are
 * read back from the catalogue (not parsed from the migrations' source), so a table added by any migration is seen.
 * Fails naming every table the doc misses (or names but no migration creates), every distribution column its table
 * lacks, and every unique index of a distributed table without its distribution column that the section does not name.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { useMigratedStore } from '../helpers/app.ts';

const store = useMigratedStore();

const DOC = new URL('../../docs/scale-out.md', import.meta.url);
const CLASSES = new Set(['distributed', 'reference', 'local']);

interface Row {
  table: string;
  kind: string;
  column: string | undefined;
}

/** The section and its table's rows: `| \`table\` | class | \`column\` or — | why |`. */
function readCitusSection(markdown: string): { section: string; rows: Row[] } {
  const start = markdown.indexOf('\n## Citus readiness');
  if (start < 0) throw new Error('docs/scale-out.md has no "## Citus readiness" section');
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  const section = end < 0 ? rest : rest.slice(0, end);
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z0-9_]+)` \| ([a-z]+) \| (`[a-z0-9_]+`|—) \|/.exec(line);
    if (m) rows.push({ table: m[1], kind: m[2], column: m[3] === '—' ? undefined : m[3].slice(1, -1) });
  }
  return { section, rows };
}

async function catalogue() {
  const columns = (
    await store.db.raw(
      `select c.table_name as t, c.column_name as c from information_schema.columns c
         join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`,
    )
  ).rows as { t: string; c: string }[];
  const tables = new Map<string, Set<string>>();
  for (const { t, c } of columns) tables.set(t, (tables.get(t) ?? new Set()).add(c));
  const unique = (
    await store.db.raw(
      `select t.relname as t, i.relname as index, array_agg(a.attname::text) as columns
         from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
         join pg_namespace n on n.oid = t.relnamespace
         join pg_attribute a on a.attrelid = t.oid and a.attnum = any(x.indkey)
        where n.nspname = 'public' and x.indisunique group by t.relname, i.relname`,
    )
  ).rows as { t: string; index: string; columns: string[] }[];
  return { tables, unique };
}

test('every table the migrations create is classified in docs/scale-out.md, with a distribution column it has', async (t) => {
  const { tables, unique } = await catalogue();
  const { section, rows } = readCitusSection(readFileSync(DOC, 'utf8'));
  t.true(tables.size >= 40, `the migrations created ${tables.size} tables`);
  const named = new Map(rows.map((r) => [r.table, r]));

  const missing = [...tables.keys()].filter((name) => !named.has(name)).sort();
  t.deepEqual(missing, [], `tables missing from the Citus readiness table in docs/scale-out.md: ${missing.join(', ')}`);
  const unknown = rows.map((r) => r.table).filter((name) => !tables.has(name));
  t.deepEqual(unknown, [], `named in docs/scale-out.md but created by no migration: ${unknown.join(', ')}`);
  const twice = rows.map((r) => r.table).filter((name, i, all) => all.indexOf(name) !== i);
  t.deepEqual(twice, [], `named twice: ${twice.join(', ')}`);

  const wrong: string[] = [];
  for (const row of rows) {
    if (!CLASSES.has(row.kind)) wrong.push(`${row.table}: class "${row.kind}" is not one of ${[...CLASSES].join(', ')}`);
    else if (row.kind === 'distributed' && !row.column) wrong.push(`${row.table}: distributed by no column`);
    else if (row.kind !== 'distributed' && row.column) wrong.push(`${row.table}: ${row.kind} with a distribution column`);
    else if (row.column && tables.has(row.table) && !tables.get(row.table)!.has(row.column)) {
      wrong.push(`${row.table}: has no column ${row.column}`);
    }
  }
  t.deepEqual(wrong, []);

  // Citus enforces a unique index only when it contains the distribution column: every other one must be named
  // in the section (its schema change before distributing).
  const unplanned = unique
    .filter(({ t: table, index, columns }) => {
      const row = named.get(table);
      return row?.kind === 'distributed' && !columns.includes(row.column!) && !section.includes(`\`${index}\``);
    })
    .map(({ t: table, index, columns }) => `${index} on ${table} (${columns.join(', ')})`)
    .sort();
  t.deepEqual(unplanned, [], `unique indexes Citus could not enforce, not named in docs/scale-out.md: ${unplanned.join('; ')}`);
  t.log(
    `${rows.length} tables: ${rows.filter((r) => r.kind === 'distributed').length} distributed, ${rows.filter((r) => r.kind === 'reference').length} reference, ${rows.filter((r) => r.kind === 'local').length} local`,
  );
});

test('the section reader finds rows and tells a missing section', (t) => {
  const { rows } = readCitusSection(
    '# x\n\n## Citus readiness\n\n| `a` | distributed | `user_id` | y |\n| `b` | reference | — | z |\n\n## Next\n\n| `c` | local | — | w |\n',
  );
  t.deepEqual(rows, [
    { table: 'a', kind: 'distributed', column: 'user_id' },
    { table: 'b', kind: 'reference', column: undefined },
  ]);
  t.throws(() => readCitusSection('# nothing here'), { message: /no "## Citus readiness" section/ });
});
