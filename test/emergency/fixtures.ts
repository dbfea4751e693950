/** Fixtures of the emergency tests: a person with an emergency setup, a responder organisation with its roster. */
import { register, type Registered } from '../accounts/fixtures.ts';
import type { TestApp } from '../helpers/app.ts';
import { registerClient, serviceClientToken, type RegisteredClient } from '../helpers/oidc.ts';

export const MEDICAL = {
  blood_type: 'O-',
  allergies: ['penicillin'],
  medications: ['insulin glargine 20 IU nightly'],
  conditions: ['type 1 diabetes'],
  notes: 'Carries glucose tablets in the left pocket',
  advance_directives: 'Do not resuscitate beyond 30 minutes',
};

/** A person with profile data a responder must not see, and an emergency setup naming `contacts`. */
export async function personWithSetup(
  app: TestApp,
  contacts: ({ name: string; email: string; phone?: string } | string)[],
  options: { conditions?: string[]; profileFields?: string[]; accessMinutes?: number } = {},
): Promise<Registered & { accessId: string }> {
  const person = await register(app);
  const update = await app.request('PUT', '/api/v1/profile/update-info', {
    token: person.token,
    json: {
      updated_fields: {
        home_address: { street_address: '4024 Kingsway', locality: 'Burnaby', region: 'BC', postal_code: 'V5H 1Z1', country: 'CA' },
        emergency_contact: { name: 'Charles Babbage', phone: '+15550001111', relationship: 'friend' },
        national_id: 'NID-SECRET-4242',
        phone: '+15557654321',
        occupation: 'Analyst of engines',
      },
    },
  });
  if (update.status !== 200) throw new Error(`update failed: ${update.text}`);
  const res = await app.request('POST', '/api/v1/profile/emergency-access', {
    token: person.token,
    json: {
      trusted_contacts: contacts,
      emergency_info: { ...MEDICAL, profile_fields: options.profileFields ?? ['emergency_contact', 'home_address'] },
      criteria: { conditions: options.conditions ?? ['unconsciousness', 'unable_to_communicate'], access_minutes: options.accessMinutes ?? 30 },
      public_text: 'Diabetic, see Ringfence',
    },
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${res.text}`);
  return { ...person, accessId: res.body.access_id };
}

export interface Organisation {
  client: RegisteredClient;
  token: string;
  name: string;
}

/** A responder organisation (a service of role emergency_responder) and its client credentials token. */
export async function responderOrganisation(app: TestApp, name = 'City Ambulance Service', role = 'emergency_responder'): Promise<Organisation> {
  const client = await registerClient(app, role, { name });
  return { client, token: await serviceClientToken(app, client), name };
}

/** Adds a responder to the organisation's roster through the API. */
export async function addToRoster(
  app: TestApp,
  org: Organisation,
  responder: { responder_id: string; name: string; licence: string; active?: boolean },
) {
  const res = await app.request('POST', '/api/v1/responders', { token: org.token, json: responder });
  if (res.status !== 201) throw new Error(`roster add failed: ${res.status} ${res.text}`);
  return res.body.responder;
}

/** The grant call, as a responder organisation's app makes it. */
export function grant(app: TestApp, org: Organisation, body: Record<string, unknown>) {
  return app.request('POST', '/api/v1/profile/emergency-access/grant', { token: org.token, json: body });
}
