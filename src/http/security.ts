/** Resolvers for the security schemes named in openapi.yaml, by scheme name. */
import type { SecurityResolver } from '../deps.ts';
import { resolveSessionToken } from '../features/accounts/sessions.ts';
import { resolveServiceClientToken, resolveServiceToken } from '../oidc/resource.ts';

export const SECURITY_RESOLVERS: Readonly<Record<string, SecurityResolver>> = {
  sessionToken: resolveSessionToken,
  serviceToken: resolveServiceToken,
  serviceClientToken: resolveServiceClientToken,
};
