import type { Handler } from '../../deps.ts';
import { declineByToken } from './setup.ts';

/** A named contact declines, with the token from the mail that named them. */
export const declineTrustedContact: Handler = async ({ body, clientIp }, deps) => {
  await declineByToken(deps, String(body.token), clientIp);
  return { declined: true };
};
