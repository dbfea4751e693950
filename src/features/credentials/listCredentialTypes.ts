/** GET /api/v1/credential-types: the catalogue of credential types and their stable codes. */
import type { Handler } from '../../deps.ts';
import { credentialTypes } from './credentials.ts';

export const listCredentialTypes: Handler = () => ({ credential_types: credentialTypes() });
