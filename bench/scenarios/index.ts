/**
 * Every scenario, in the order a full run takes them: the cheap floor first, the features next, scale last (it
 * grows a database of its own to 100k users). A new scenario is one module here.
 */
import type { Scenario } from '../lib/scenario.ts';
import { authorizedRead } from './authorized-read.ts';
import { credentialDecode } from './credential-decode.ts';
import { framework } from './framework.ts';
import { login } from './login.ts';
import { ownerRead } from './owner-read.ts';
import { policy } from './policy.ts';
import { scale } from './scale.ts';
import { sdJwtVerify } from './sd-jwt-verify.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import { updateInfo } from './update-info.ts';
import { changeEvents } from './change-events.ts';
import { twoInstances } from './two-instances.ts';
import { auditWriters } from './audit-writers.ts';

export const SCENARIOS: readonly Scenario[] = [
  framework,
  policy,
  sdJwtVerify,
  authorizedRead,
  ownerRead,
  updateInfo,
  changeEvents,
  tokenEndpoint,
  login,
  credentialDecode,
  auditWriters,
  twoInstances,
  scale,
];
