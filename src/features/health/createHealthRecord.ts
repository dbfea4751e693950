import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import type { FhirResource } from './fhir.ts';
import { createRecord } from './records.ts';

/** POST /api/v1/profile/health-records: one FHIR R4 resource, checked against the official schema. */
export const createHealthRecord: Handler = async ({ caller, body, clientIp }, deps) => ({
  record: await createRecord(deps, userCaller(caller).userId, body as FhirResource, clientIp),
});
