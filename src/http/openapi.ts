/**
 * Reads openapi.yaml (OpenAPI 3.1) once per process and compiles, per operation, the ajv validators of its path,
 * query, headers and body — and, for tests, of its responses. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 says.
 * A validator is compiled when it is first used (a process serving a few operations compiles a few); production
 * start-up compiles them all (`compileAll`), so a schema ajv cannot compile stops the service before it serves.
 */
import { SPEC_PATH } from '../config.ts';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import type { ErrorDetail } from '../errors.ts';

// ajv-formats is CommonJS with a default export; under ESM the function sits on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => Ajv2020;

const SPEC_ID = 'urn:ringfence:openapi';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/**
 * Where a parsed spec is kept as JSON, named by the hash of its text: parsing openapi.yaml with the YAML library
 * costs ≈ 0.5 s of CPU, reading the same as JSON ≈ 5 ms, and every process (the service, a CLI, each test file)
 * reads it. Inside the installation's own node_modules, so it is trusted as the code beside it is; a changed spec
 * has another hash, and an installation that cannot write there parses the YAML every time.
 */
const PARSED_SPECS = path.join(path.dirname(SPEC_PATH), 'node_modules', '.cache', 'ringfence');

function readSpec(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const cached = path.join(PARSED_SPECS, `openapi-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8'));
  } catch {
    // Not kept yet (or unreadable): parse the YAML, and keep it for the next process.
  }
  const document = YAML.parse(text) as unknown;
  try {
    mkdirSync(PARSED_SPECS, { recursive: true });
    // Written aside and renamed, so a process reading at the same time sees all of it or nothing.
    const partial = `${cached}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(document));
    renameSync(partial, cached);
    // Only the newest is kept: the spec's earlier versions are not read again.
    for (const name of readdirSync(PARSED_SPECS)) {
      if (name.startsWith('openapi-') && name.endsWith('.json') && path.join(PARSED_SPECS, name) !== cached)
        rmSync(path.join(PARSED_SPECS, name), { force: true });
    }
  } catch {
    // A read-only installation parses every time.
  }
  return document;
}

/** One parsed spec per file in a process: the service and the tests' client, in one process, share it. */
const loaded = new Map<string, OpenApi>();

/** `compile()` on first call, then its result; a compile error is thrown on every call, naming what failed. */
function onFirstUse<T>(compile: () => T): () => T {
  let compiled: { value: T } | undefined;
  return () => {
    compiled ??= { value: compile() };
    return compiled.value;
  };
}

type JsonSchema = Record<string, unknown>;

interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
  description?: string;
}

interface MediaTypeObject {
  schema?: JsonSchema;
}

interface ResponseObject {
  description?: string;
  content?: Record<string, MediaTypeObject>;
  $ref?: string;
}

interface OperationObject {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: (ParameterObject | { $ref: string })[];
  requestBody?: { required?: boolean; content: Record<string, MediaTypeObject>; $ref?: string };
  responses: Record<string, ResponseObject>;
  [ext: `x-${string}`]: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components?: {
    schemas?: Record<string, JsonSchema>;
    securitySchemes?: Record<string, Record<string, unknown>>;
    parameters?: Record<string, ParameterObject>;
    responses?: Record<string, ResponseObject>;
    requestBodies?: Record<string, unknown>;
  };
  security?: Record<string, string[]>[];
}

export type ParamValidator = (value: Record<string, unknown>) => ErrorDetail[];

export interface Operation {
  operationId: string;
  method: string;
  /** The path as the spec writes it: `/api/v1/profiles/{handle}`. */
  path: string;
  /** The same path for @koa/router: `/api/v1/profiles/:handle`. */
  routerPath: string;
  /** The spec's tags; the first names the feature folder of the handler (checked at start-up). */
  tags: string[];
  /** Alternatives of security requirements; an empty object among them means "no credential needed". */
  security: Record<string, string[]>[];
  /** The status of the first 2xx response, used when a handler returns a plain body. */
  successStatus: number;
  /** Request body media types the operation accepts; empty when it takes no body. */
  bodyTypes: string[];
  bodyRequired: boolean;
  /** Names of body properties that are files (`format: binary`) in multipart bodies. */
  fileFields: string[];
  /** Message for a 405 on this path (`x-wrong-method-message`), as the seed's clients expect. */
  wrongMethodMessage: string | undefined;
  /**
   * `x-step-up`: the operation needs a recent strong authentication of the signed-in person — `true` for the
   * configured limit (STEP_UP_MAX_AGE_SECONDS), or a number of seconds.
   */
  stepUp: true | number | undefined;
  validatePath: ParamValidator;
  validateQuery: ParamValidator;
  validateHeaders: ParamValidator;
  validateBody: (mediaType: string, body: unknown) => ErrorDetail[];
  raw: OperationObject;
}

/** The `x-step-up` of an operation: absent, `true`, or a whole number of seconds; anything else stops start-up. */
function stepUpOf(operationId: string, value: unknown): true | number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || (Number.isInteger(value) && (value as number) > 0)) return value as true | number;
  throw new Error(`operation ${operationId}: x-step-up must be true or a number of seconds, not ${JSON.stringify(value)}`);
}

/** Ajv errors as `{path, message}` a person can act on. */
function toDetails(errors: ErrorObject[] | null | undefined, root: string): ErrorDetail[] {
  if (!errors) return [];
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const e of errors) {
    // `if`/`then` and `anyOf` wrappers only repeat what their branches said.
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    let field = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      field = field ? `${field}.${missing}` : missing;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      field = field ? `${field}.${extra}` : extra;
      message = 'is not a known field';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const path = field || root;
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message });
  }
  return details;
}

/** Rewrites `#/components/...` references so a fragment compiled on its own resolves them in the spec. */
function anchorRefs<T>(node: T): T {
  if (Array.isArray(node)) return node.map(anchorRefs) as T;
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${SPEC_ID}${v}` : anchorRefs(v);
    }
    return out as T;
  }
  return node;
}

function createAjv(coerce: boolean | 'array'): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    coerceTypes: coerce,
    useDefaults: false,
    discriminator: true,
  });
  addFormats(ajv);
  // OpenAPI's own formats: only markers, the content is checked by the handler.
  ajv.addFormat('binary', true);
  ajv.addFormat('password', true);
  ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
  return ajv;
}

export class OpenApi {
  readonly document: OpenApiDocument;
  readonly operations: Operation[];
  readonly #strict: Ajv2020;
  readonly #coercing: Ajv2020;
  readonly #responseValidators = new Map<string, ValidateFunction>();
  readonly #compilers: (() => unknown)[] = [];

  constructor(document: OpenApiDocument) {
    this.document = document;
    this.#strict = createAjv(false);
    this.#coercing = createAjv('array');
    // The same components go to both; checking them against JSON Schema's meta-schema once is enough.
    const components = { $id: SPEC_ID, components: document.components ?? {} };
    this.#strict.addSchema(components);
    this.#coercing.addSchema(components, undefined, undefined, false);
    this.operations = this.#collect();
  }

  static load(file = SPEC_PATH): OpenApi {
    const known = loaded.get(file);
    if (known) return known;
    const document = readSpec(file) as OpenApiDocument;
    if (!document || typeof document.openapi !== 'string' || !document.openapi.startsWith('3.1')) {
      throw new Error(`${file}: expected an OpenAPI 3.1 document`);
    }
    const spec = new OpenApi(document);
    loaded.set(file, spec);
    return spec;
  }

  /** Compiles every request validator now (each is otherwise compiled on first use); throws on the first that fails. */
  compileAll(): void {
    for (const compile of this.#compilers) compile();
  }

  /** A validator compiled on first use, and listed for `compileAll`. */
  #lazy<T>(compile: () => T): () => T {
    const get = onFirstUse(compile);
    this.#compilers.push(get);
    return get;
  }

  #deref<T>(node: T | { $ref: string }): T {
    const ref = (node as { $ref?: string }).$ref;
    if (typeof ref !== 'string') return node as T;
    const parts = ref
      .replace(/^#\//, '')
      .split('/')
      .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    let cur: unknown = this.document;
    for (const p of parts) cur = (cur as Record<string, unknown> | undefined)?.[p];
    if (cur === undefined) throw new Error(`openapi.yaml: unresolved reference ${ref}`);
    return this.#deref(cur as T);
  }

  #paramValidator(params: ParameterObject[], location: ParameterObject['in'], opId: string): ParamValidator {
    const own = params.filter((p) => p.in === location);
    if (own.length === 0) return () => [];
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const p of own) {
      const name = location === 'header' ? p.name.toLowerCase() : p.name;
      properties[name] = anchorRefs(p.schema ?? {});
      if (p.required || location === 'path') required.push(name);
    }
    const validator = this.#lazy(() => {
      try {
        return this.#coercing.compile({ type: 'object', properties, required });
      } catch (err) {
        throw new Error(`openapi.yaml: ${opId} ${location} parameters: ${(err as Error).message}`);
      }
    });
    return (value) => {
      const validate = validator();
      return validate(value) ? [] : toDetails(validate.errors, location);
    };
  }

  #collect(): Operation[] {
    const operations: Operation[] = [];
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(this.document.paths ?? {})) {
      const shared = ((item.parameters as ParameterObject[] | undefined) ?? []).map((p) => this.#deref(p));
      for (const method of HTTP_METHODS) {
        const raw = item[method] as OperationObject | undefined;
        if (!raw) continue;
        const opId = raw.operationId;
        if (!opId) throw new Error(`openapi.yaml: ${method.toUpperCase()} ${path} has no operationId`);
        if (ids.has(opId)) throw new Error(`openapi.yaml: operationId ${opId} is used twice`);
        ids.add(opId);

        const params = [...shared, ...(raw.parameters ?? []).map((p) => this.#deref<ParameterObject>(p))];
        const body = raw.requestBody ? this.#deref(raw.requestBody) : undefined;
        const bodyValidators = new Map<string, () => ValidateFunction>();
        const fileFields = new Set<string>();
        for (const [mediaType, media] of Object.entries(body?.content ?? {})) {
          const schema = anchorRefs(media.schema ?? {});
          // Form and multipart values arrive as strings; JSON keeps its own types.
          const ajv = mediaType === 'application/json' ? this.#strict : this.#coercing;
          bodyValidators.set(
            mediaType,
            this.#lazy(() => {
              try {
                return ajv.compile(schema);
              } catch (err) {
                throw new Error(`openapi.yaml: ${opId} body (${mediaType}): ${(err as Error).message}`);
              }
            }),
          );
          if (mediaType === 'multipart/form-data') {
            const props = (this.#deref(media.schema ?? {}) as { properties?: Record<string, JsonSchema> }).properties;
            for (const [name, prop] of Object.entries(props ?? {})) {
              const p = this.#deref(prop);
              if (p.format === 'binary' || p.contentMediaType !== undefined) fileFields.add(name);
            }
          }
        }
        const successStatus = Number(Object.keys(raw.responses ?? {}).find((s) => /^2\d\d$/.test(s)) ?? 200);

        operations.push({
          operationId: opId,
          method: method.toUpperCase(),
          path,
          routerPath: path.replace(/\{([^}]+)\}/g, ':$1'),
          tags: raw.tags ?? [],
          security: raw.security ?? this.document.security ?? [],
          successStatus,
          bodyTypes: [...bodyValidators.keys()],
          bodyRequired: body?.required === true,
          fileFields: [...fileFields],
          wrongMethodMessage: (item['x-wrong-method-message'] as string | undefined) ?? undefined,
          stepUp: stepUpOf(opId, raw['x-step-up']),
          validatePath: this.#paramValidator(params, 'path', opId),
          validateQuery: this.#paramValidator(params, 'query', opId),
          validateHeaders: this.#paramValidator(params, 'header', opId),
          validateBody: (mediaType, value) => {
            const validator = bodyValidators.get(mediaType);
            if (!validator) return [{ path: 'body', message: `content type ${mediaType} is not accepted` }];
            const validate = validator();
            return validate(value) ? [] : toDetails(validate.errors, 'body');
          },
          raw,
        });
      }
    }
    return operations;
  }

  /** The operation for a method and a concrete path (`/api/v1/profiles/alice`), if the spec has one. */
  findOperation(method: string, concretePath: string): Operation | undefined {
    const m = method.toUpperCase();
    return this.operations.find((op) => {
      if (op.method !== m) return false;
      const pattern = new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
      return pattern.test(concretePath);
    });
  }

  /**
   * Checks a response against the spec: the status must be documented (or covered by `default`), and a JSON body
   * must match its schema. Returns the problems found; empty when the response conforms.
   */
  validateResponse(op: Operation, status: number, contentType: string | undefined, body: unknown): string[] {
    const responses = op.raw.responses ?? {};
    const key = String(status) in responses ? String(status) : `${String(status)[0]}XX` in responses ? `${String(status)[0]}XX` : 'default';
    const declared = responses[key];
    if (!declared) return [`${op.operationId}: status ${status} is not documented`];
    const response = this.#deref(declared);
    const mediaType = (contentType ?? '').split(';')[0].trim();
    if (!response.content || Object.keys(response.content).length === 0) {
      return body === undefined || body === '' || body === null ? [] : [`${op.operationId} ${status}: a body was sent but none is documented`];
    }
    const media = response.content[mediaType] ?? (mediaType.startsWith('image/') ? response.content['image/*'] : undefined);
    if (!media) {
      return [`${op.operationId} ${status}: content type "${mediaType}" is not documented (${Object.keys(response.content).join(', ')})`];
    }
    if (mediaType !== 'application/json' || !media.schema) return [];
    const cacheKey = `${op.operationId} ${key} ${mediaType}`;
    let validate = this.#responseValidators.get(cacheKey);
    if (!validate) {
      validate = this.#strict.compile(anchorRefs(media.schema));
      this.#responseValidators.set(cacheKey, validate);
    }
    return validate(body) ? [] : toDetails(validate.errors, 'body').map((d) => `${op.operationId} ${status}: ${d.path} ${d.message}`);
  }
}
