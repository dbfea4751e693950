import type { JSONWebKeySet } from 'jose';
import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { importContainer } from './container.ts';

/** Restores a container exported by another instance into this newly registered account. */
export const importProfile: Handler = async ({ caller, body, clientIp }, deps) =>
  importContainer(
    deps,
    userCaller(caller).userId,
    {
      container: body.container as string | undefined,
      passphrase: body.passphrase as string | undefined,
      signed: body.signed as string | undefined,
      jwks: body.jwks as JSONWebKeySet | undefined,
    },
    clientIp,
  );
