import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { listOwnLinks } from './links.ts';

export const listHealthLinks: Handler = async ({ caller }, deps) => ({ links: await listOwnLinks(deps, userCaller(caller).userId) });
