/**
 * What a policy change does, per role: the fields its services could reach (every scope granted, default rings)
 * before and after. This is what a security reviewer reads on a pull request touching policies/.
 */
import { canonicalFields } from './decision.ts';
import { PolicyEngine } from './engine.ts';
import type { Policies } from './load.ts';
import type { Reader } from './reader.ts';

export interface RoleChange {
  role: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  ceiling: { before?: string; after?: string };
  gained: string[];
  lost: string[];
  /** Break-the-glass field patterns added or removed, and its ceiling. */
  breakTheGlass: { ceiling: { before?: string; after?: string }; gained: string[]; lost: string[] };
}

function reach(policies: Policies | undefined, role: string): Set<string> {
  if (!policies?.roles.has(role)) return new Set();
  const reader: Reader = role === 'public' ? { kind: 'public' } : { kind: 'role', role };
  return new Set(new PolicyEngine(policies, { maxEntries: 1 }).decide(reader).leaves);
}

/** Per role, fields gained and lost from `before` to `after`; `before` undefined means there were no policies. */
export function diffPolicies(before: Policies | undefined, after: Policies): RoleChange[] {
  const roles = [...new Set([...(before?.roles.keys() ?? []), ...after.roles.keys()])].sort();
  return roles.map((role) => {
    const was = reach(before, role);
    const now = reach(after, role);
    const gained = canonicalFields(after, new Set([...now].filter((f) => !was.has(f))));
    const lost = before ? canonicalFields(before, new Set([...was].filter((f) => !now.has(f)))) : [];
    const b = before?.roles.get(role);
    const a = after.roles.get(role);
    const btgWas = new Set(b?.breakTheGlass?.patterns ?? []);
    const btgNow = new Set(a?.breakTheGlass?.patterns ?? []);
    const breakTheGlass = {
      ceiling: { before: b?.breakTheGlass?.ceiling, after: a?.breakTheGlass?.ceiling },
      gained: [...btgNow].filter((p) => !btgWas.has(p)),
      lost: [...btgWas].filter((p) => !btgNow.has(p)),
    };
    const changed =
      gained.length > 0 ||
      lost.length > 0 ||
      b?.ceiling !== a?.ceiling ||
      breakTheGlass.gained.length > 0 ||
      breakTheGlass.lost.length > 0 ||
      breakTheGlass.ceiling.before !== breakTheGlass.ceiling.after;
    return {
      role,
      status: !b ? 'added' : !a ? 'removed' : changed ? 'changed' : 'unchanged',
      ceiling: { before: b?.ceiling, after: a?.ceiling },
      gained,
      lost,
      breakTheGlass,
    };
  });
}
