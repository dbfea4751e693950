import type { Handler } from '../../deps.ts';
import { loginBy } from './login.ts';
import { verifyKeyAnswer } from './keypair.ts';

/** Signs in with the key pair: the challenge's message signed with the private key of the registered public key. */
export const loginWithKey: Handler = async ({ body, clientIp }, deps) => {
  const user = await verifyKeyAnswer(deps, 'key-login', { challenge: String(body.challenge), signature: String(body.signature) }, clientIp);
  return loginBy(deps, user.id, 'key_pair', clientIp);
};
