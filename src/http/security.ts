/** Resolvers for the security schemes named in openapi.yaml, by scheme name. */
import type { SecurityResolver } from './types.ts';

export const SECURITY_RESOLVERS: Readonly<Record<string, SecurityResolver>> = {};
