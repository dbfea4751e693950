/**
 * Explanations: why a field is or is not readable, layer by layer, from the same gates that built the ability
 * (gates.ts). A verdict the gates and the ability disagree on is an engine bug and throws.
 */
import type { Decision } from './decision.ts';
import type { Source } from './problems.ts';
import type { Policies, RoleDef, RuleDef } from './load.ts';
import { patternMatches } from './patterns.ts';
import type { UserRings } from './placements.ts';
import { readerKey, type Reader } from './reader.ts';
import { ACTION, SUBJECT, type Ability, type Evaluation, type Grant } from './gates.ts';

interface ExplainLayer {
  layer: 'reader' | 'ring' | 'ceiling' | 'user setting' | 'rules' | 'scope' | 'verdict';
  outcome: 'pass' | 'fail' | 'n/a';
  detail: string;
  source?: Source;
}

export interface LeafExplanation {
  leaf: string;
  allowed: boolean;
  /** The CASL rule that decided: `allow:<n>`, `deny:<n>`, `ceiling`, `placement`, `scope`, `owner`, or `default-deny`. */
  decidedBy: string;
  layers: ExplainLayer[];
}

export interface Explanation {
  revision: string;
  reader: string;
  field: string;
  verdict: 'allow' | 'deny' | 'partial';
  leaves: LeafExplanation[];
}

/** What the reports (visibility.ts, capped.ts) ask of the engine: its decisions and their explanations. */
export interface Judge {
  readonly policies: Policies;
  decide(reader: Reader, rings?: UserRings, grant?: Grant): Decision;
  explain(reader: Reader, path: string, rings?: UserRings, grant?: Grant): Explanation;
}

/** Every gate of one leaf for one evaluation, checked against the ability that decided it. */
export function explainLeaf(ev: Evaluation, ability: Ability, leaf: string): LeafExplanation {
  const policies = ev.policies;
  const allowed = ability.can(ACTION, SUBJECT, leaf);
  const decidedBy = ability.relevantRuleFor(ACTION, SUBJECT, leaf)?.reason ?? 'default-deny';
  const field = policies.fields.get(policies.leafField.get(leaf)!)!;
  const layers: ExplainLayer[] = [];
  const verdict = (expected: boolean) => {
    if (expected !== allowed)
      throw new Error(`policy engine inconsistency on ${leaf} for ${readerKey(ev.reader)}: gates say ${expected}, ability says ${allowed}`);
    layers.push({
      layer: 'verdict',
      outcome: allowed ? 'pass' : 'fail',
      detail: `${allowed ? 'ALLOW' : 'DENY'} (decided by ${describeDecider(ev.role, decidedBy)}; policy revision ${policies.revision})`,
    });
    return { leaf, allowed, decidedBy, layers };
  };
  if (ev.reader.kind === 'owner') {
    layers.push({ layer: 'reader', outcome: 'pass', detail: 'the owner sees every field of their own profile, restricted included' });
    return verdict(true);
  }
  const role = ev.role;
  if (!role) {
    layers.push({
      layer: 'reader',
      outcome: 'fail',
      detail: `role ${(ev.reader as { role: string }).role} is not defined in policies/roles/: nothing is readable`,
    });
    return verdict(false);
  }
  layers.push({ layer: 'reader', outcome: 'pass', detail: `${readerKey(ev.reader)} is judged by role ${role.name} (${role.file})` });
  layers.push({ layer: 'ring', outcome: 'n/a', detail: `${field.name} is classified ${field.ring} (its default ring)`, source: field.source });

  const ceiling = ev.ceilingFor(leaf);
  const within = ev.withinCeiling(leaf);
  layers.push({
    layer: 'ceiling',
    outcome: ev.reader.kind === 'public' ? 'n/a' : within ? 'pass' : 'fail',
    detail:
      ev.reader.kind === 'public'
        ? `the public reads the ${ceiling.ring} ring whatever a field's classification: only the owner can put a field there`
        : within
          ? `${role.name}'s ${ceiling.breakTheGlass ? 'break-the-glass ' : ''}ceiling ${ceiling.ring} reaches ${field.ring}`
          : `${field.ring} is beyond ${role.name}'s ${ceiling.breakTheGlass ? 'break-the-glass ' : ''}ceiling ${ceiling.ring}; no user setting can widen a ceiling`,
    source: ceiling.source,
  });

  const placement = ev.placementOf(field.name);
  const admitted = ev.placementAdmits(leaf);
  let setting: string;
  if (placement.kind === 'ring') {
    setting = placement.moved ? `the person moved ${field.name} to ${placement.ring}` : `${field.name} is in its default ring ${placement.ring}`;
    setting += admitted
      ? `, within the ceiling ${ceiling.ring}`
      : placement.ring === policies.restrictedRing
        ? ', which only the owner (and break-the-glass) reaches'
        : `, beyond the ceiling ${ceiling.ring}`;
  } else if (placement.kind === 'custom') {
    const who = [...placement.ring.roles.map((r) => `role:${r}`), ...placement.ring.services.map((s) => `service:${s}`)].join(', ') || 'nobody else';
    setting = `the person put ${field.name} in custom ring "${placement.ring.name}", which admits ${who}`;
    if (ceiling.breakTheGlass) setting += '; break-the-glass is open';
    else setting += admitted ? '' : `, not ${readerKey(ev.reader)}`;
  } else {
    setting = `${field.name} is placed in unknown ring ${placement.ring}: hidden from everyone but the owner`;
  }
  layers.push({ layer: 'user setting', outcome: admitted ? 'pass' : 'fail', detail: setting });

  const allows = role.rules.filter((r) => r.effect === 'allow' && r.leaves.has(leaf));
  const denies = role.rules.filter((r) => r.effect === 'deny' && r.leaves.has(leaf));
  if (denies.length > 0) {
    const d = denies[denies.length - 1];
    layers.push({
      layer: 'rules',
      outcome: 'fail',
      detail: `deny ${matchingPatterns(d, leaf)} — ${d.reason ?? 'no reason given'}`,
      source: d.source,
    });
  } else if (allows.length > 0) {
    const a = allows[allows.length - 1];
    layers.push({
      layer: 'rules',
      outcome: 'pass',
      detail: `allow ${matchingPatterns(a, leaf)}${a.reason ? ` — ${a.reason}` : ''}`,
      source: a.source,
    });
  } else {
    layers.push({
      layer: 'rules',
      outcome: 'fail',
      detail: `no rule of ${role.name} allows ${leaf}: deny unless allowed`,
      source: { file: role.file, line: role.rules[0]?.source.line ?? 1 },
    });
  }

  const covers = ev.scopeCovers(leaf);
  if (!ev.scopesApplied) {
    layers.push({
      layer: 'scope',
      outcome: 'n/a',
      detail: ev.reader.kind === 'public' ? 'the public needs no grant' : `no grant given: the reach of any ${role.name} service granted every scope`,
    });
  } else {
    const scopes = ev.grant?.scopes ?? [];
    layers.push({
      layer: 'scope',
      outcome: covers ? 'pass' : 'fail',
      detail: covers
        ? `granted scope ${ev.scopesCovering(leaf).join(', ')} covers it`
        : scopes.length === 0
          ? 'no scope granted'
          : `granted scopes (${scopes.join(' ')}) do not cover it`,
    });
  }
  return verdict(within && admitted && covers && allows.length > 0 && denies.length === 0);
}

function matchingPatterns(rule: RuleDef, leaf: string): string {
  return rule.patterns.filter((p) => patternMatches(p, leaf)).join(', ');
}

function describeDecider(role: RoleDef | undefined, decidedBy: string): string {
  const [kind, index] = decidedBy.split(':');
  const rule = index !== undefined ? role?.rules[Number(index)] : undefined;
  switch (kind) {
    case 'owner':
      return 'owner';
    case 'allow':
    case 'deny':
      return `${kind} rule ${Number(index) + 1} of ${role?.name} at ${rule?.source.file}:${rule?.source.line}`;
    case 'ceiling':
      return 'the ceiling';
    case 'placement':
      return "the person's ring setting";
    case 'scope':
      return 'the granted scopes';
    default:
      return 'no allow rule: deny unless allowed';
  }
}
