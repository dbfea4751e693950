import type { Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import type { FhirResource } from './fhir.ts';
import { importBundle } from './records.ts';

/** POST /api/v1/profile/health-records/bundle: every entry of a FHIR Bundle as a record, all or none. */
export const importHealthRecords: Handler = async ({ caller, body, clientIp }, deps) => ({
  ...(await importBundle(deps, userCaller(caller).userId, body as FhirResource, clientIp)),
});
