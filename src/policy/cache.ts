/**
 * The ability cache: compiled abilities keyed by (policy revision, reader, the person's rings version or a digest
 * of their settings, grant), the least recently used dropped first, and every entry built from one person's
 * settings retired at once when they change.
 */
import { createHash } from 'node:crypto';
import type { Compiled, Grant } from './gates.ts';
import type { UserRings } from './placements.ts';
import { readerKey, type Reader } from './reader.ts';

const digests = new WeakMap<UserRings, string>();

function ringsKey(rings: UserRings): string {
  if (rings.userId !== undefined && rings.version !== undefined) return `u:${rings.userId}@${rings.version}`;
  let digest = digests.get(rings);
  if (!digest) {
    const canonical = JSON.stringify({
      p: Object.entries(rings.placements).sort(([a], [b]) => a.localeCompare(b)),
      c: rings.custom.map((r) => [r.id ?? '', r.name, [...r.fields].sort(), [...r.roles].sort(), [...r.services].sort()]),
    });
    digest = createHash('sha256').update(canonical).digest('base64url');
    digests.set(rings, digest);
  }
  return `h:${digest}`;
}

const grantKeys = new WeakMap<Grant, string>();

function grantKey(grant: Grant | undefined): string {
  if (!grant) return '-';
  let key = grantKeys.get(grant);
  if (key === undefined) {
    key = `${grant.breakTheGlass ? '!' : ''}${[...new Set(grant.scopes)].sort().join(' ')}`;
    // Grants are treated as immutable once they reach the engine, as their scopes are.
    grantKeys.set(grant, key);
  }
  return key;
}

/** The cache key of one ability; `grant` is the effective grant (gates.ts effectiveGrant). */
export function abilityKey(revision: string, reader: Reader, rings: UserRings, grant: Grant | undefined): string {
  return `${revision}|${readerKey(reader)}${reader.kind === 'service' ? `@${reader.role}` : ''}|${ringsKey(rings)}|${grantKey(grant)}`;
}

/** Compiled abilities, least recently used first, with the keys built from each person's settings. */
export class AbilityCache {
  readonly #max: number;
  readonly #entries = new Map<string, Compiled>();
  readonly #byUser = new Map<string, Set<string>>();
  #hits = 0;
  #misses = 0;

  constructor(maxEntries: number) {
    this.#max = maxEntries;
  }

  /** The cached ability under `key`, or the one `build` makes (then kept, under `userId`'s settings when given). */
  obtain(key: string, userId: string | undefined, build: () => Compiled): Compiled {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#hits++;
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    this.#misses++;
    const compiled = build();
    this.#entries.set(key, compiled);
    if (userId !== undefined) {
      let keys = this.#byUser.get(userId);
      if (!keys) {
        keys = new Set();
        this.#byUser.set(userId, keys);
      }
      keys.add(key);
    }
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return compiled;
  }

  clear(): void {
    this.#entries.clear();
    this.#byUser.clear();
  }

  /** Drops every entry built from this person's settings. */
  invalidateUser(userId: string): void {
    for (const key of this.#byUser.get(userId) ?? []) this.#entries.delete(key);
    this.#byUser.delete(userId);
  }

  stats(): { entries: number; hits: number; misses: number } {
    return { entries: this.#entries.size, hits: this.#hits, misses: this.#misses };
  }
}
