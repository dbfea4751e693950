import type { Handler } from '../../deps.ts';
import { InvalidRequest } from '../../errors.ts';
import { admitAnonymous } from './anonymous.ts';
import { keyChallenge } from './keypair.ts';

/** A challenge to sign with the registered key pair: to sign in (email or handle), or, signed in, to step up. */
export const createKeyChallenge: Handler = async (input, deps) => {
  const { caller, body } = input;
  if (caller.kind === 'user') return keyChallenge(deps, { userId: caller.userId });
  await admitAnonymous(input, deps);
  if (typeof body.email === 'string') return keyChallenge(deps, { email: body.email });
  if (typeof body.handle === 'string') return keyChallenge(deps, { handle: body.handle });
  throw InvalidRequest.validation([{ path: 'email', message: 'send email or handle (or a session token, to step up)' }]);
};
