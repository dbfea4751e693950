/**
 * Field patterns. A pattern has one or two dot-separated segments; `*` inside a segment matches any run of
 * letters, digits and `_`. A pattern names a path or an ancestor of it, so `home_address` and `home_address.*`
 * both cover `home_address.locality`, `*` covers every field, `*_number` covers `passport_number`. Patterns are
 * always expanded against the catalogue's leaves before a rule is built: nothing downstream matches patterns.
 */

const cache = new Map<string, RegExp[]>();

function segments(pattern: string): RegExp[] {
  let compiled = cache.get(pattern);
  if (!compiled) {
    compiled = pattern.split('.').map((seg) => new RegExp(`^${seg.replace(/[^a-z0-9_*]/g, '').replaceAll('*', '[a-z0-9_]*')}$`));
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** Whether `pattern` names `path` or one of its ancestors. */
export function patternMatches(pattern: string, path: string): boolean {
  const want = segments(pattern);
  const have = path.split('.');
  if (want.length > have.length) return false;
  return want.every((re, i) => re.test(have[i]));
}

/** The leaves among `leaves` that `pattern` covers, in their order. */
export function expandPattern(pattern: string, leaves: readonly string[]): string[] {
  return leaves.filter((leaf) => patternMatches(pattern, leaf));
}

export function expandPatterns(patterns: readonly string[], leaves: readonly string[]): string[] {
  return leaves.filter((leaf) => patterns.some((p) => patternMatches(p, leaf)));
}
