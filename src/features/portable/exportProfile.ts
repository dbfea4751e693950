import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { exportContainer } from './container.ts';

/** The portable container, encrypted to the registered public key (a step-up operation). */
export const exportProfile: Handler = async ({ caller, clientIp }, deps) => {
  const { jwe, handle } = await exportContainer(deps, userCaller(caller).userId, { kind: 'public_key' }, clientIp);
  return new Reply(jwe, { type: 'application/jose', headers: { 'Content-Disposition': `attachment; filename="ringfence-profile-${handle}.jwe"` } });
};
