import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { exportBundle } from './records.ts';

/** GET /api/v1/profile/health-records/bundle: every record as one FHIR Bundle (application/fhir+json). */
export const exportHealthRecords: Handler = async ({ caller }, deps) =>
  new Reply(JSON.stringify(await exportBundle(deps, userCaller(caller).userId)), {
    type: 'application/fhir+json; charset=utf-8',
    headers: { 'Content-Disposition': 'attachment; filename="health-records.json"' },
  });
