/**
 * Request bodies: JSON, urlencoded and YAML through @koa/bodyparser, multipart through busboy, each with a size
 * limit. Only operations that declare a requestBody parse one, and only in the media types they declare.
 */
import type { Context, Next } from 'koa';
import { bodyParser } from '@koa/bodyparser';
import busboy from 'busboy';
import type { Config } from '../config.ts';
import { InvalidRequest, MalformedBody, PayloadTooLarge, UnsupportedMediaType } from '../errors.ts';
import type { UploadedFile } from '../deps.ts';

export interface ParsedBody {
  mediaType: string | undefined;
  body: Record<string, unknown> | string | undefined;
  files: Record<string, UploadedFile>;
}

export interface MultipartOptions {
  /** The names under which the operation takes files; a file under any other name is refused at its start. */
  fileFields: readonly string[];
  /** Runs once before the first file is read, with the fields sent before it; what it throws refuses the request. */
  beforeFile?: (fieldsSoFar: Record<string, unknown>) => Promise<void>;
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
      throw new MalformedBody('request body is not valid JSON or form data: check its syntax');
    },
  });

  /**
   * A multipart body, read only as far as it is wanted: a Content-Length over the upload limit is refused before
   * a byte is read, and so is the stream once it passes the limit; a file part under a name the operation does not
   * declare is refused at its start; and the caller is resolved (`beforeFile`, with the fields sent before it) before
   * the first file is read. Refused so, the answer says `Connection: close` and the rest of the body is not read.
   */
  async function readMultipart(ctx: Context, options: MultipartOptions): Promise<ParsedBody> {
    const cap = config.uploadLimit;
    const declared = Number(ctx.get('content-length'));
    if (Number.isFinite(declared) && declared > cap) {
      ctx.set('Connection', 'close');
      throw new PayloadTooLarge(`multipart body is larger than ${cap} bytes`);
    }
    // Part names are the client's: with a null prototype, `__proto__` is a field like any other (and refused as
    // unknown by the schema) instead of a silent write to the object's prototype.
    const fields: Record<string, unknown> = Object.create(null);
    const files: Record<string, UploadedFile> = {};
    await new Promise<void>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: ctx.req.headers,
          limits: { fileSize: cap, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
        });
      } catch {
        reject(new InvalidRequest('multipart body has no boundary: send it as multipart/form-data with a boundary'));
        return;
      }
      let failed: Error | undefined;
      let received = 0;
      const counter = (chunk: Buffer) => {
        received += chunk.length;
        if (received > cap) fail(new PayloadTooLarge(`multipart body is larger than ${cap} bytes`), { stopReading: true });
      };
      /** Refuses the request; the rest of the body is drained (malformed input) or left unread (`stopReading`). */
      const fail = (err: Error, how: { stopReading?: boolean } = {}) => {
        if (failed) return;
        failed = err;
        ctx.req.unpipe(bb);
        ctx.req.off('data', counter);
        if (how.stopReading) {
          ctx.req.pause();
          ctx.set('Connection', 'close');
        } else {
          ctx.req.resume();
        }
        reject(err);
      };
      bb.on('field', (name, value, info) => {
        if (info.valueTruncated) fail(new PayloadTooLarge(`field ${name} is larger than ${MAX_FIELD_BYTES} bytes`));
        else fields[name] = value;
      });
      let gate: Promise<void> | undefined;
      bb.on('file', (name, stream, info) => {
        // A body cut short inside a file destroys the file stream with an error: unheard, it would end the process.
        stream.on('error', () => fail(new MalformedBody('multipart body ends inside a file: send the whole body')));
        if (!options.fileFields.includes(name)) {
          stream.resume();
          const expected = options.fileFields.length > 0 ? `send the file as ${options.fileFields.join(' or ')}` : 'this operation takes no files';
          fail(
            InvalidRequest.validation(
              [{ path: name, message: 'is not a file field of this operation' }],
              `${name} is not a file field of this operation: ${expected}`,
            ),
            {
              stopReading: true,
            },
          );
          return;
        }
        gate ??= options.beforeFile ? options.beforeFile({ ...fields }) : Promise.resolve();
        gate.then(
          () => {
            if (failed) return void stream.resume();
            const chunks: Buffer[] = [];
            stream.on('data', (c: Buffer) => chunks.push(c));
            stream.on('limit', () => fail(new PayloadTooLarge(`file ${name} is larger than ${cap} bytes`)));
            stream.on('close', () => {
              if (failed) return;
              files[name] = { field: name, filename: info.filename ?? name, mimeType: info.mimeType, data: Buffer.concat(chunks) };
            });
          },
          (err: Error) => {
            stream.resume();
            fail(err, { stopReading: true });
          },
        );
      });
      bb.on('filesLimit', () => fail(new PayloadTooLarge(`at most ${MAX_FILES} files per request`)));
      bb.on('fieldsLimit', () => fail(new PayloadTooLarge(`at most ${MAX_FIELDS} fields per request`)));
      bb.on('error', () => fail(new MalformedBody('multipart body is malformed: check its boundaries and headers')));
      bb.on('close', () => {
        if (failed) return;
        // A file waiting for its caller to be resolved is not read yet: wait for it.
        void (gate ?? Promise.resolve()).then(
          () => {
            if (!failed) resolve();
          },
          () => undefined,
        );
      });
      ctx.req.on('data', counter);
      ctx.req.pipe(bb);
    });
    return { mediaType: 'multipart/form-data', body: fields, files };
  }

  /** Parses the body when the operation accepts one of the request's media type; refuses any other type. */
  return async function readBody(ctx: Context, accepted: readonly string[], multipart: MultipartOptions = { fileFields: [] }): Promise<ParsedBody> {
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
    if (match === 'multipart/form-data') return readMultipart(ctx, multipart);
    await textual(ctx, (async () => undefined) as Next);
    const parsed = (ctx.request as unknown as { body?: unknown }).body;
    if (match === 'application/json' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new InvalidRequest('request body must be a JSON object');
    }
    return { mediaType: match, body: parsed as ParsedBody['body'], files: {} };
  };
}
