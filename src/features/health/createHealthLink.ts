import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { createLink, type CreateLinkInput } from './links.ts';

/** Seed API 9: POST /api/v1/profile/share-create-link. */
export const createHealthLink: Handler = async ({ caller, body, clientIp }, deps) => ({
  ...(await createLink(deps, userCaller(caller).userId, body as unknown as CreateLinkInput, clientIp)),
});
