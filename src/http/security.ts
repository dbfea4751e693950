/** Resolvers for the security schemes named in openapi.yaml, by scheme name. */
import type { AppDeps, Caller, SecurityResolver } from '../deps.ts';
import { assertRecentAuthentication, resolveSessionToken } from '../features/accounts/sessions.ts';
import type { Operation } from './openapi.ts';
import { resolveServiceClientToken, resolveServiceToken } from '../oidc/resource.ts';

export const SECURITY_RESOLVERS: Readonly<Record<string, SecurityResolver>> = {
  sessionToken: resolveSessionToken,
  serviceToken: resolveServiceToken,
  serviceClientToken: resolveServiceClientToken,
};

/**
 * The step-up rule: an operation marked `x-step-up` in openapi.yaml answers 401 `step_up_required` (saying what
 * would satisfy it) unless the signed-in caller authenticated recently. Other features opt in with that one line.
 */
export function enforceStepUp(op: Operation, caller: Caller, deps: AppDeps): void {
  if (op.stepUp === undefined) return;
  assertRecentAuthentication(caller, op.stepUp === true ? deps.config.stepUpMaxAgeSeconds : op.stepUp);
}
