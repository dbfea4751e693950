/**
 * Fixtures of the services tests: people with something for a service to read, operators, the audit trail, and
 * the spec check of responses that openid-client fetched. The OpenID flows themselves are test/helpers/oidc.ts.
 */
import type { ExecutionContext } from 'ava';
import { listAuditEvents } from '../../src/audit/audit.ts';
import { spec, type TestApp } from '../helpers/app.ts';
import { register, type Registered, STRONG_PASSWORD } from '../accounts/fixtures.ts';

/** Registers a person and gives them a home address, so a service has something to read. */
export async function registerPerson(app: TestApp): Promise<Registered> {
  const person = await register(app);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: {
      updated_fields: {
        home_address: { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
        date_of_birth: '1990-12-10',
      },
    },
  });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  return person;
}

/**
 * Registers a person under `handle` (mail at example.org) with a home address, a blood type and a date of birth:
 * health data for the role ceilings to keep from services. Their credentials, for the login page.
 */
export async function registerNamedPerson(app: TestApp, handle: string) {
  const res = await app.request('POST', '/api/v1/users/register', {
    json: { name: 'Ada Lovelace', email: `${handle}@example.org`, handle, password: STRONG_PASSWORD },
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.text}`);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: res.body.token,
    json: {
      updated_fields: {
        home_address: { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
        blood_type: 'O-',
        date_of_birth: '1990-12-10',
      },
    },
  });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  return { userId: res.body.user_id as string, token: res.body.token as string, handle, password: STRONG_PASSWORD };
}

/** Makes a registered person an operator, as `npm run services -- operator <handle>` does. */
export async function makeOperator(app: TestApp, person: Registered): Promise<void> {
  await app.service.deps.db('users').where({ id: person.user_id }).update({ is_operator: true });
}

/**
 * The JSON body of a response fetched by openid-client (not through app.request), checked against openapi.yaml as
 * every response a test sees is.
 */
export async function specCheckedJson(t: ExecutionContext, _app: TestApp, method: string, path: string, res: Response): Promise<any> {
  const body = await res.json();
  const op = spec.findOperation(method, path);
  if (!op) throw new Error(`no operation for ${method} ${path} in openapi.yaml`);
  t.deepEqual(spec.validateResponse(op, res.status, res.headers.get('content-type') ?? '', body), [], 'the response matches openapi.yaml');
  return body;
}

/** Audit events of one action, oldest first. */
export async function auditOf(app: TestApp, action: string, subject?: string) {
  return (await listAuditEvents(app.service.deps.db, { action, subject, limit: 1000 })).reverse();
}
