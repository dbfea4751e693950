/** PUT /api/v1/profile/update-info (seed API 7). */
import { InvalidRequest } from '../../errors.ts';
import { Reply, type Handler } from '../../deps.ts';
import { userCaller } from '../accounts/sessions.ts';
import { profileEtag } from './etag.ts';
import * as profile from './profile.ts';

/** Form and multipart bodies carry `updated_fields` as a JSON text; JSON bodies as an object. */
function updatedFields(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw InvalidRequest.validation(
      [{ path: 'updated_fields', message: 'must be an object (JSON text in a form)' }],
      'updated_fields must be an object of field names and values, like {"bio": "…"}',
    );
  }
  return value as Record<string, unknown>;
}

/**
 * An optional If-Match (the ETag of GET /profile) makes the update apply only to the version the client read; a
 * new e-mail address needs `current_password` too.
 */
export const updateProfileInfo: Handler = async (input, deps) => {
  const ifMatch = input.headers['if-match'];
  const result = await profile.updateProfileInfo(
    deps,
    userCaller(input.caller),
    updatedFields(input.body.updated_fields),
    input.clientIp,
    Array.isArray(ifMatch) ? ifMatch.join(', ') : ifMatch,
    typeof input.body.current_password === 'string' ? input.body.current_password : undefined,
  );
  return new Reply({ status: 'success', ...result }, { headers: { ETag: profileEtag(result.version) } });
};
