/**
 * Visibility — who sees which field of one person (GET /api/v1/profile/visibility): for the public, every role and
 * every service the person granted, the fields it sees now and, for the rest, the layer that withholds each.
 */
import type { Decision } from './decision.ts';
import type { Judge, LeafExplanation } from './explain.ts';
import type { Grant } from './gates.ts';
import type { UserRings } from './placements.ts';
import { readerKey, type Reader } from './reader.ts';

/** A field (or property) a reader cannot see, and the layer that withholds it. */
export interface Withheld {
  field: string;
  layer: string;
  reason: string;
}

interface ReaderVisibility {
  reader: string;
  fields: readonly string[];
  withheld: Withheld[];
}

export interface Visibility {
  policy_revision: string;
  readers: ReaderVisibility[];
}

/** For each reader — the public, every role, every service with a grant — what it sees now and why not the rest. */
export function visibilityReport(
  judge: Judge,
  rings: UserRings,
  services: readonly { clientId: string; role: string; grant: Grant }[] = [],
): Visibility {
  const readers: { reader: Reader; grant?: Grant }[] = [{ reader: { kind: 'public' } }];
  for (const role of judge.policies.roles.keys()) if (role !== 'public') readers.push({ reader: { kind: 'role', role } });
  for (const s of services) readers.push({ reader: { kind: 'service', clientId: s.clientId, role: s.role }, grant: s.grant });
  return {
    policy_revision: judge.policies.revision,
    readers: readers.map(({ reader, grant }) => {
      const decision = judge.decide(reader, rings, grant);
      return { reader: readerKey(reader), fields: decision.fields, withheld: withheld(judge, reader, rings, grant, decision) };
    }),
  };
}

/** The fields (or properties) `decision` withholds from a reader, each with the first layer that withholds it. */
export function withheld(judge: Judge, reader: Reader, rings: UserRings, grant: Grant | undefined, decision: Decision): Withheld[] {
  const out: Withheld[] = [];
  for (const def of judge.policies.fields.values()) {
    const hidden = def.leaves.filter((l) => !decision.leaves.has(l));
    if (hidden.length === 0) continue;
    const explained = judge.explain(reader, def.name, rings, grant).leaves.filter((l) => !l.allowed);
    const first = (l: LeafExplanation) => l.layers.find((x) => x.outcome === 'fail')!;
    const same = explained.every((l) => first(l).detail === first(explained[0]).detail);
    const entries =
      same && hidden.length === def.leaves.length ? [{ field: def.name, l: explained[0] }] : explained.map((l) => ({ field: l.leaf, l }));
    for (const { field, l } of entries) out.push({ field, layer: first(l).layer, reason: first(l).detail });
  }
  return out;
}
