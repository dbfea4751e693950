/** What the `use*` helpers hand a test file: a name for something its `before` hooks will make. */

/**
 * An object standing for one made in a `before` hook, so that a test file can name it at the top: every property
 * read is forwarded to it once `set` has run (a read before that throws, naming `what`).
 */
export function standIn<T extends object>(what: string): { value: T; set(real: T): void } {
  let real: T | undefined;
  const value = new Proxy({} as T, {
    get(_target, key) {
      if (!real) throw new Error(`${what} starts in test.before: use it inside a test or a later hook`);
      const v = Reflect.get(real, key, real);
      // A class's methods need their object; own properties (closures, a knex instance) are handed over as they are.
      return typeof v === 'function' && !Object.hasOwn(real, key) ? v.bind(real) : v;
    },
    has: (_target, key) => real !== undefined && key in real,
  });
  return { value, set: (r) => (real = r) };
}
