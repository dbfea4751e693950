/**
 * The repository's policies/ and an engine over them, loaded once per process on first use, for code that has
 * no AppDeps at hand (the public directory's visibility rule). A bad file throws a PolicyError (file, line).
 */
import { PolicyEngine } from './engine.ts';
import { loadPolicies, type Policies } from './load.ts';

let loaded: { policies: Policies; engine: PolicyEngine } | undefined;

/** The process's policies and engine; the same instance on every call. */
export function defaultPolicy(): { policies: Policies; engine: PolicyEngine } {
  if (!loaded) {
    const policies = loadPolicies();
    loaded = { policies, engine: new PolicyEngine(policies) };
  }
  return loaded;
}
