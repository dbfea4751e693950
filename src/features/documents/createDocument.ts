import { Reply, type Handler } from '../../deps.ts';
import { createDocument as create, type DocumentInput } from './documents.ts';

/** The person keeps a new document: its own fields, references to profile fields, intended roles, linked services. */
export const createDocument: Handler = async ({ caller, body, clientIp }, deps) => {
  if (caller.kind !== 'user') throw new Error('createDocument needs a user caller');
  return new Reply({ status: 'success', document: await create(deps, caller.userId, documentInput(body), clientIp) }, { status: 201 });
};

/** The validated body (openapi.yaml DocumentInput) as the use case takes it. */
export function documentInput(body: Record<string, unknown>): DocumentInput {
  return {
    kind: String(body.kind),
    title: String(body.title),
    fields: (body.fields as Record<string, unknown> | undefined) ?? {},
    references: (body.references as string[] | undefined) ?? [],
    roles: (body.roles as string[] | undefined) ?? [],
    services: (body.services as string[] | undefined) ?? [],
  };
}
