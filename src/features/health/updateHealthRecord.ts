import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import type { FhirResource } from './fhir.ts';
import { changeRecord } from './records.ts';

/** PUT /api/v1/profile/health-records/{record_id}: the whole resource, replaced; shared links see it at once. */
export const updateHealthRecord: Handler = async ({ caller, params, body, clientIp }, deps) => ({
  record: await changeRecord(deps, userCaller(caller).userId, params.record_id, body as FhirResource, clientIp),
});
