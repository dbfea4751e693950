import { createHash } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { eventHash } from '../../src/audit/audit.ts';

/** The canonical text as the chain's first rows were hashed (src/audit/audit.ts before its fast path). */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue(),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(text, tie('v'), { maxKeys: 5 }),
  ),
})).v;
const row = fc.record({
  id: fc.oneof(fc.uuid(), text),
  at: fc.date({ noInvalidDate: true }),
  action: text,
  actor: text,
  subject: fc.option(text, { nil: null }),
  client_ip: fc.option(text, { nil: null }),
  data: fc.dictionary(text, value, { maxKeys: 6 }) as fc.Arbitrary<Record<string, unknown>>,
});

test('an event hashes exactly as the chain has always hashed it, whatever its text and facts', (t) => {
  fc.assert(
    fc.property(row, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (r, prev) => {
      const expected = createHash('sha256')
        .update(
          `${prev}\n${reference({ id: r.id, at: r.at, action: r.action, actor: r.actor, subject: r.subject, client_ip: r.client_ip, data: r.data })}`,
        )
        .digest('hex');
      return eventHash(prev, r) === expected;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
