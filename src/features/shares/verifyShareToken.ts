import type { Handler } from '../../deps.ts';
import { verifyToken } from './shares.ts';

/** Online verification of a share's token, for services that prefer a call to verifying it themselves. */
export const verifyShareToken: Handler = async ({ body }, deps) => ({ ...(await verifyToken(deps, String(body.verification_token))) });
