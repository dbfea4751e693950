/**
 * Request bodies: JSON, urlencoded and YAML through @koa/bodyparser, multipart through busboy, each with a size
 * limit. Only operations that declare a requestBody parse one, and only in the media types they declare.
 */
import type { Context, Next } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import busboy from 'busboy';
import type { Config } from '../config.ts';
import { InvalidRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.ts';
import type { UploadedFile } from './types.ts';

export interface ParsedBody {
  mediaType: string | undefined;
  body: Record<string, unknown> | string | undefined;
  files: Record<string, UploadedFile>;
}

const MAX_FILES = 5;
const MAX_FIELDS = 100;
const MAX_FIELD_BYTES = 256 * 1024;

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  return (length !== '' && length !== '0') || ctx.get('transfer-encoding') !== '';
}

export function createBodyReader(config: Config) {
  const limit = config.bodyLimit;
  const textual = bodyParser({
    enableTypes: ['json', 'form', 'text'],
    extendTypes: { text: ['application/yaml', 'application/x-yaml', 'text/yaml'] },
    jsonLimit: limit,
    formLimit: limit,
    textLimit: limit,
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    onError: (err: Error & { status?: number; type?: string }) => {
      if (err.status === 413 || err.type === 'entity.too.large') {
        throw new PayloadTooLarge(`request body is larger than ${limit} bytes`);
      }
      if (err.status === 415) throw new UnsupportedMediaType('unsupported content encoding');
      throw new InvalidRequest('request body is not valid JSON or form data: check its syntax', {
        code: 'malformed_body',
      });
    },
  });

  async function readMultipart(ctx: Context): Promise<ParsedBody> {
    const fields: Record<string, unknown> = {};
    const files: Record<string, UploadedFile> = {};
    await new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: ctx.req.headers,
          limits: { fileSize: config.uploadLimit, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
        });
      } catch {
        reject(new InvalidRequest('multipart body has no boundary: send it as multipart/form-data with a boundary'));
        return;
      }
      let failed: Error | undefined;
      const fail = (err: Error) => {
        if (failed) return;
        failed = err;
        ctx.req.unpipe(bb);
        ctx.req.resume();
        reject(err);
      };
      bb.on('field', (name, value, info) => {
        if (info.valueTruncated) fail(new PayloadTooLarge(`field ${name} is larger than ${MAX_FIELD_BYTES} bytes`));
        else fields[name] = value;
      });
      bb.on('file', (name, stream, info) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('limit', () => fail(new PayloadTooLarge(`file ${name} is larger than ${config.uploadLimit} bytes`)));
        // A body cut short inside a file destroys the file stream with an error: unheard, it would end the process.
        stream.on('error', () => fail(new InvalidRequest('multipart body ends inside a file: send the whole body', { code: 'malformed_body' })));
        stream.on('close', () => {
          if (failed) return;
          files[name] = { field: name, filename: info.filename ?? name, mimeType: info.mimeType, data: Buffer.concat(chunks) };
        });
      });
      bb.on('filesLimit', () => fail(new PayloadTooLarge(`at most ${MAX_FILES} files per request`)));
      bb.on('fieldsLimit', () => fail(new PayloadTooLarge(`at most ${MAX_FIELDS} fields per request`)));
      bb.on('error', () => fail(new InvalidRequest('multipart body is malformed: check its boundaries and headers', { code: 'malformed_body' })));
      bb.on('close', () => {
        if (!failed) resolve();
      });
      ctx.req.pipe(bb);
    });
    return { mediaType: 'multipart/form-data', body: fields, files };
  }

  /** Parses the body when the operation accepts one of the request's media type; refuses any other type. */
  return async function readBody(ctx: Context, accepted: readonly string[]): Promise<ParsedBody> {
    if (!hasBody(ctx)) return { mediaType: undefined, body: undefined, files: {} };
    const mediaType = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
    if (accepted.length === 0) {
      // The operation takes no body; ignore an empty one, refuse anything else so nothing is silently dropped.
      throw new InvalidRequest('this operation takes no request body: send the request without one');
    }
    if (!mediaType) {
      throw new UnsupportedMediaType(`send the body with a Content-Type header: one of ${accepted.join(', ')}`);
    }
    const match = accepted.find((t) => t === mediaType || (t === 'application/yaml' && /yaml$/.test(mediaType)));
    if (!match) {
      throw new UnsupportedMediaType(`content type ${mediaType} is not accepted here: use ${accepted.join(', ')}`);
    }
    if (match === 'multipart/form-data') return readMultipart(ctx);
    await textual(ctx, (async () => undefined) as Next);
    const parsed = (ctx.request as unknown as { body?: unknown }).body;
    if (match === 'application/json' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new InvalidRequest('request body must be a JSON object');
    }
    return { mediaType: match, body: parsed as ParsedBody['body'], files: {} };
  };
}
