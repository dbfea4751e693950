/**
 * OIDC claims of released fields, and their companion claims (OIDC Core 5.1): statements about another claim
 * rather than profile fields. A companion is released with its claim and only with it, its value taken from a fact
 * about the account: the policy engine decided the claim, its companion follows.
 */
import type { Policies } from './load.ts';

/**
 * claim → its companion claim. `email_verified`: whether the person proved control of the address with a one-time
 * code (reset when the address changes).
 */
export const COMPANION_CLAIMS: Readonly<Record<string, string>> = Object.freeze({ email: 'email_verified' });

/** Facts about the account that companion claims state. */
export interface AccountFacts {
  emailVerified: boolean;
}

const FACT_OF: Readonly<Record<string, (facts: AccountFacts) => unknown>> = { email_verified: (facts) => facts.emailVerified };

/** OIDC claims of already projected values (Decision.project): each field under its catalogue claim. */
export function claimsOfFields(policies: Policies, projected: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(projected)) {
    const claim = policies.fields.get(name)?.claim;
    if (claim) claims[claim] = value;
  }
  return claims;
}

/** The companion claims that go with released claims: one per released claim (a value, not null) that has one. */
export function companionsOf(claims: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(COMPANION_CLAIMS)
    .filter(([claim]) => claims[claim] !== undefined && claims[claim] !== null)
    .map(([, companion]) => companion);
}

/** The values of the companion claims of released claims, from the account's facts; none without their claim. */
export function companionClaims(claims: Readonly<Record<string, unknown>>, facts: AccountFacts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const companion of companionsOf(claims)) out[companion] = FACT_OF[companion](facts);
  return out;
}

/** The catalogue field whose claim a companion claim speaks about, or undefined when `claim` is no companion. */
export function findCompanionSource(policies: Policies, claim: string): { claim: string; field: string } | undefined {
  const of = Object.entries(COMPANION_CLAIMS).find(([, companion]) => companion === claim)?.[0];
  if (of === undefined) return undefined;
  const field = [...policies.fields.values()].find((def) => def.claim === of);
  return field ? { claim: of, field: field.name } : undefined;
}
