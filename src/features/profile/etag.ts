/**
 * Versioned writes of the profile: its `version` is a strong ETag (`"7"`), sent by GET /profile and update-info.
 * A client that sends it back in `If-Match` has its update applied only to the version it read; otherwise it gets
 * 412 with the current ETag and what to do, so two people editing at once never overwrite each other unseen.
 */
import { InvalidIfMatch, ProfileChanged } from '../../errors.ts';

/** The ETag of a profile version. */
export function profileEtag(version: number): string {
  return `"${version}"`;
}

/** The entity tags of an If-Match header (RFC 9110 §13.1.1); `*` matches any current version. */
function parseIfMatch(header: string): { any: boolean; strong: string[] } {
  const value = header.trim();
  if (value === '*') return { any: true, strong: [] };
  const strong: string[] = [];
  let rest = value;
  while (rest.length > 0) {
    const m = /^(W\/)?"([\x21\x23-\x7e]*)"\s*(?:,\s*|$)/.exec(rest);
    if (!m) {
      throw new InvalidIfMatch('If-Match must be the ETag of GET /api/v1/profile, like "7" (with the quotes), or *', {
        details: [{ path: 'If-Match', message: 'is not a list of entity tags' }],
      });
    }
    // If-Match compares strongly: a weak tag never matches.
    if (!m[1]) strong.push(`"${m[2]}"`);
    rest = rest.slice(m[0].length);
  }
  return { any: false, strong };
}

/** Throws 412 when `If-Match` was sent and names no tag of the current version; does nothing without it. */
export function assertIfMatch(header: string | undefined, currentVersion: number): void {
  if (header === undefined || header === '') return;
  const { any, strong } = parseIfMatch(header);
  const current = profileEtag(currentVersion);
  if (any || strong.includes(current)) return;
  throw new ProfileChanged(
    `the profile changed since you read it (If-Match ${header.trim()}, now ${current}): GET /api/v1/profile again, apply your change to what it returns, and send it with If-Match: ${current}`,
    { headers: { ETag: current }, details: [{ path: 'If-Match', message: `is not the current version ${current}` }] },
  );
}
