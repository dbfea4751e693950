/**
 * Field values as a reader sees them: derived fields computed from their source, images as their URL. The
 * pipeline presents what it releases with these; the owner's view and the public directory present theirs the same
 * way (src/features/profile).
 */
import type { Config } from '../config.ts';
import type { Catalogue, FieldDef } from '../policy/catalogue.ts';
import { openFieldValue, openProfile } from './container.ts';
import type { Keyring } from '../crypto/envelope.ts';
import type { ProfileSnapshot } from './snapshot.repo.ts';

/** What presenting a value needs: the public URL images are served under. */
export interface PresentDeps {
  config: Pick<Config, 'baseUrl'>;
}

/** What an image field stores: facts about the uploaded picture, shown to readers as its URL. */
export interface ImageValue {
  sha256: string;
  content_type: string;
  width: number;
  height: number;
}

/** Whole years from an ISO date to today (UTC). */
function yearsSince(isoDate: string, today = new Date()): number {
  const [y, m, d] = isoDate.split('-').map(Number);
  let years = today.getUTCFullYear() - y;
  if (today.getUTCMonth() + 1 < m || (today.getUTCMonth() + 1 === m && today.getUTCDate() < d)) years--;
  return years;
}

/** How each derived field of the catalogue is computed from its source's value. */
const DERIVATIONS: Record<string, (source: unknown) => unknown> = {
  age: (dob) => yearsSince(dob as string),
  age_over_18: (dob) => yearsSince(dob as string) >= 18,
};

/** Where a person's picture is served; the digest in the query makes each picture its own cacheable URL. */
export function avatarUrl(deps: PresentDeps, handle: string, image: ImageValue): string {
  return `${deps.config.baseUrl}/api/v1/profiles/${encodeURIComponent(handle)}/avatar?v=${image.sha256.slice(0, 16)}`;
}

/** A field's value as readers see it: derived fields computed, images as their URL; null when unset. */
export function presentValue(deps: PresentDeps, def: FieldDef, stored: ReadonlyMap<string, { value: unknown }>, handle: string): unknown {
  if (def.derivedFrom) {
    const source = stored.get(def.derivedFrom)?.value;
    const derive = DERIVATIONS[def.name];
    return source === null || source === undefined || !derive ? null : derive(source);
  }
  const value = stored.get(def.name)?.value ?? null;
  if (value !== null && def.type === 'image') return avatarUrl(deps, handle, value as ImageValue);
  return value;
}

/**
 * The stored fields presenting `fields` needs: each field, or the source of a derived one, and the handle an image
 * is served under — only when an image is among them, so nothing is opened that the answer does not show.
 */
function neededFields(catalogue: Catalogue, fields: readonly string[]): Set<string> {
  const needed = new Set<string>();
  for (const field of fields) {
    const def = catalogue.fields.get(field);
    needed.add(def?.derivedFrom ?? field);
    if (def?.type === 'image') needed.add('handle');
  }
  return needed;
}

/**
 * Values of `fields` from a snapshot, as a reader sees them, for a reader the policy engine already allowed these
 * fields: only they (and the sources of derived ones, and the handle an image is served under) are decrypted.
 * Unset fields are left out.
 */
export function valuesFromSnapshot(
  deps: PresentDeps & { keyring: Keyring; policy: { policies: { catalogue: Catalogue } } },
  snapshot: ProfileSnapshot,
  fields: readonly string[],
): Record<string, unknown> {
  if (fields.length === 0) return {};
  const { catalogue } = deps.policy.policies;
  const needed = neededFields(catalogue, fields);
  const profile = openProfile(deps.keyring, snapshot.profile);
  const stored = new Map<string, { value: unknown }>();
  for (const f of snapshot.fields) {
    if (needed.has(f.field))
      stored.set(f.field, { value: openFieldValue(profile, f.field, f.sealed === null ? null : Buffer.from(f.sealed, 'base64')) });
  }
  const handle = stored.get('handle')?.value as string;
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    const def = catalogue.fields.get(field);
    if (!def) continue;
    const value = presentValue(deps, def, stored, handle);
    if (value !== null && value !== undefined) values[field] = value;
  }
  return values;
}
