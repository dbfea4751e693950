import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { stepUp, type StepUpInput } from './stepup.ts';

/** Proves again who the signed-in person is, so operations marked x-step-up are allowed for a while. */
export const stepUpSession: Handler = async ({ caller, body, clientIp }, deps) =>
  stepUp(deps, userCaller(caller), body as unknown as StepUpInput, clientIp);
