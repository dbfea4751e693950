/**
 * Builds the @koa/router routes from openapi.yaml. For every operation: refuse credentials in the query string,
 * parse and validate path, query, headers and body against the spec, resolve the caller as the operation's
 * `security` says, call the handler named by its operationId, and shape the response. Start-up fails when the spec
 * and the handler map disagree. The 404/405 answers after the routes are ./middleware/fallbacks.ts.
 */
import type { Context } from 'koa';
import Router from '@koa/router';
import { CredentialInQuery, InvalidRequest, TokenMissing, type ErrorDetail } from '../errors.ts';
import type { OpenApi, Operation } from './openapi.ts';
import type { createBodyReader } from './body.ts';
import { enforceStepUp } from './security.ts';
import type { ProfileSnapshot } from '../disclosure/snapshot.repo.ts';
import { Reply, type AppDeps, type Caller, type Handler, type RequestInput, type SecurityResolver } from '../deps.ts';

/** Query parameters that would put a credential in URLs, logs and browser history. */
const SECRET_QUERY =
  /^(password|new_password|current_password|passcode|token|refresh_token|access_token|id_token|client_secret|secret|api_key|apikey|biometrics)$/i;

export class SpecMismatch extends Error {
  constructor(problems: string[]) {
    super(`openapi.yaml and the handlers disagree:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SpecMismatch';
  }
}

/**
 * Fails, naming each operation, when the spec and the handler map or the security resolvers disagree; with
 * `folders` (operationId → the feature folder of its handler), also when an operation's first tag is not that folder.
 */
export function assertSpecMatchesHandlers(
  spec: OpenApi,
  handlers: Readonly<Record<string, Handler>>,
  resolvers: Readonly<Record<string, SecurityResolver>>,
  folders?: Readonly<Record<string, string>>,
): void {
  const problems: string[] = [];
  const ids = new Set(spec.operations.map((o) => o.operationId));
  for (const op of spec.operations) {
    if (!handlers[op.operationId]) problems.push(`operation ${op.operationId} (${op.method} ${op.path}) has no handler`);
    const folder = folders?.[op.operationId];
    if (folder !== undefined && op.tags[0] !== folder) {
      const tagged = op.tags.length > 0 ? `tagged ${op.tags[0]}` : 'not tagged';
      problems.push(`operation ${op.operationId} is ${tagged}, but its handler lives in src/features/${folder}/: tag it ${folder}`);
    }
    for (const requirement of op.security) {
      for (const scheme of Object.keys(requirement)) {
        if (!resolvers[scheme]) problems.push(`operation ${op.operationId} uses security scheme ${scheme}, which has no resolver`);
      }
    }
  }
  for (const id of Object.keys(handlers)) {
    if (!ids.has(id)) problems.push(`handler ${id} has no operation in openapi.yaml`);
  }
  if (problems.length > 0) throw new SpecMismatch(problems);
}

function fail(details: ErrorDetail[]): never {
  throw InvalidRequest.validation(details);
}

async function resolveCaller(
  op: Operation,
  ctx: Context,
  deps: AppDeps,
  resolvers: Readonly<Record<string, SecurityResolver>>,
): Promise<{ caller: Caller; credential: string | undefined; snapshot?: ProfileSnapshot }> {
  if (op.security.length === 0) return { caller: { kind: 'anonymous' }, credential: undefined };
  let refusal: unknown;
  let optional = false;
  for (const requirement of op.security) {
    const schemes = Object.keys(requirement);
    if (schemes.length === 0) {
      optional = true;
      continue;
    }
    try {
      let resolved: Awaited<ReturnType<SecurityResolver>>;
      for (const scheme of schemes) {
        resolved = await resolvers[scheme](ctx, deps);
        if (!resolved) break;
      }
      if (resolved) return resolved;
    } catch (err) {
      refusal ??= err;
    }
  }
  if (refusal) throw refusal;
  if (optional) return { caller: { kind: 'anonymous' }, credential: undefined };
  throw new TokenMissing();
}

function respond(ctx: Context, op: Operation, result: Awaited<ReturnType<Handler>>): void {
  if (result instanceof Reply) {
    ctx.status = result.status ?? op.successStatus;
    for (const [k, v] of Object.entries(result.headers)) ctx.set(k, v);
    if (result.type) ctx.type = result.type;
    // Assigning an empty body would make Koa answer 204 in place of a redirect's 303.
    if (result.body !== undefined) ctx.body = result.body as Context['body'];
    else if (ctx.status >= 300 && ctx.status < 400) ctx.body = '';
    return;
  }
  ctx.status = op.successStatus;
  ctx.body = { status: 'success', ...result };
}

export function buildRouter(options: {
  spec: OpenApi;
  handlers: Readonly<Record<string, Handler>>;
  resolvers: Readonly<Record<string, SecurityResolver>>;
  /** operationId → the feature folder of its handler, which the operation's first tag must name. */
  folders?: Readonly<Record<string, string>>;
  deps: AppDeps;
  readBody: ReturnType<typeof createBodyReader>;
}): Router {
  const { spec, handlers, resolvers, folders, deps, readBody } = options;
  assertSpecMatchesHandlers(spec, handlers, resolvers, folders);
  const router = new Router();

  for (const op of spec.operations) {
    const handler = handlers[op.operationId];
    router.register(
      op.routerPath,
      [op.method],
      async (ctx: Context) => {
        ctx.state.operationId = op.operationId;
        for (const key of Object.keys(ctx.query)) {
          if (SECRET_QUERY.test(key)) {
            throw new CredentialInQuery(`never put ${key} in the URL: send it in the request body, or a token in the Authorization header`, {
              details: [{ path: key, message: 'must not be sent in the query string' }],
            });
          }
        }
        const params = { ...(ctx.params as Record<string, string>) };
        const query: Record<string, unknown> = { ...ctx.query };
        const headers = ctx.headers as Record<string, string | string[] | undefined>;
        const problems = [...op.validatePath(params), ...op.validateQuery(query), ...op.validateHeaders({ ...headers })];
        if (problems.length > 0) fail(problems);

        // An upload's caller is known before its file is read: from the Authorization header before the body, or
        // from the fields sent before the first file (seed clients send their token as a `token` field).
        let resolved: Awaited<ReturnType<typeof resolveCaller>> | undefined;
        const multipart = /^multipart\/form-data\b/i.test(ctx.get('content-type'));
        if (multipart && op.security.length > 0 && ctx.get('authorization') !== '') resolved = await resolveCaller(op, ctx, deps, resolvers);
        const parsed = await readBody(ctx, op.bodyTypes, {
          fileFields: op.fileFields,
          beforeFile: async (fieldsSoFar) => {
            if (resolved || op.security.length === 0) return;
            ctx.state.body = fieldsSoFar;
            resolved = await resolveCaller(op, ctx, deps, resolvers);
          },
        });
        let body: Record<string, unknown> = {};
        if (parsed.mediaType) {
          const raw = parsed.body;
          body = typeof raw === 'string' ? { text: raw } : { ...(raw ?? {}) };
          // Files are checked by the handler; for the schema a file field is present as its filename.
          const forSchema = typeof raw === 'string' ? raw : { ...body };
          if (typeof forSchema === 'object') {
            for (const [name, file] of Object.entries(parsed.files)) (forSchema as Record<string, unknown>)[name] = file.filename || name;
          }
          const bodyProblems = op.validateBody(parsed.mediaType, forSchema);
          if (bodyProblems.length > 0) fail(bodyProblems);
          if (typeof forSchema === 'object') {
            // Keep the coerced values ajv produced, but not the filename placeholders.
            for (const [k, v] of Object.entries(forSchema)) if (!(k in parsed.files)) body[k] = v;
          }
        } else if (op.bodyRequired) {
          fail([{ path: 'body', message: `is required (send ${op.bodyTypes.join(' or ')})` }]);
        }

        // Seed clients may send their session token as a `token` body field; resolvers read it from here.
        ctx.state.body = body;
        const { caller, credential, snapshot } = resolved ?? (await resolveCaller(op, ctx, deps, resolvers));
        enforceStepUp(op, caller, deps);
        const input: RequestInput = {
          operationId: op.operationId,
          params,
          query,
          headers,
          body,
          files: parsed.files,
          caller,
          credential,
          ...(snapshot ? { snapshot } : {}),
          clientIp: ctx.ip,
          requestId: ctx.state.requestId as string,
          ctx,
        };
        respond(ctx, op, await handler(input, deps));
      },
      { name: op.operationId },
    );
  }
  return router;
}
