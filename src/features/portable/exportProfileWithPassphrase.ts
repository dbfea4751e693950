import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { exportContainer } from './container.ts';

/** The portable container, encrypted to a passphrase (PBES2; a step-up operation). */
export const exportProfileWithPassphrase: Handler = async ({ caller, body, clientIp }, deps) => {
  const { jwe, handle } = await exportContainer(
    deps,
    userCaller(caller).userId,
    { kind: 'passphrase', passphrase: String(body.passphrase) },
    clientIp,
  );
  return new Reply(jwe, { type: 'application/jose', headers: { 'Content-Disposition': `attachment; filename="ringfence-profile-${handle}.jwe"` } });
};
