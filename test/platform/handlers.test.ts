// The handler map against the spec, at start-up: every operation's first tag names the feature folder its handler
// lives in, and every handler is src/features/<folder>/<operationId>.ts, so a reader goes from the spec to the code.
import test from 'ava';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { SPEC_PATH } from '../../src/config.ts';
import { OpenApi, type OpenApiDocument } from '../../src/http/openapi.ts';
import { FEATURES, FOLDERS, HANDLERS } from '../../src/http/operations.ts';
import { assertSpecMatchesHandlers, SpecMismatch } from '../../src/http/router.ts';
import { SECURITY_RESOLVERS } from '../../src/http/security.ts';

const documentOf = () => YAML.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiDocument;

/** The spec with one operation's tags replaced. */
function retagged(operationId: string, tags: string[] | undefined): OpenApi {
  const doc = documentOf();
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item) as { operationId?: string; tags?: string[] }[]) {
      if (op?.operationId !== operationId) continue;
      if (tags) op.tags = tags;
      else delete op.tags;
    }
  }
  return new OpenApi(doc);
}

test('the spec tags every operation with the folder of its handler', (t) => {
  t.notThrows(() => assertSpecMatchesHandlers(OpenApi.load(), HANDLERS, SECURITY_RESOLVERS, FOLDERS));
  const declared = (documentOf() as OpenApiDocument & { tags: { name: string }[] }).tags.map((tag) => tag.name);
  t.deepEqual(declared.toSorted(), Object.keys(FEATURES).toSorted(), 'the spec declares exactly the feature folders as tags');
});

test('start-up refuses an operation tagged with another folder than its handler, or with none', (t) => {
  const wrong = t.throws(() => assertSpecMatchesHandlers(retagged('createService', ['access']), HANDLERS, SECURITY_RESOLVERS, FOLDERS), {
    instanceOf: SpecMismatch,
  });
  t.regex(wrong!.message, /operation createService is tagged access, but its handler lives in src\/features\/services\/: tag it services/);
  const none = t.throws(() => assertSpecMatchesHandlers(retagged('getHealth', undefined), HANDLERS, SECURITY_RESOLVERS, FOLDERS), {
    instanceOf: SpecMismatch,
  });
  t.regex(none!.message, /operation getHealth is not tagged, but its handler lives in src\/features\/platform\//);
});

test('every handler is the export of src/features/<folder>/<operationId>.ts', async (t) => {
  for (const [operationId, folder] of Object.entries(FOLDERS)) {
    const module = (await import(`../../src/features/${folder}/${operationId}.ts`)) as Record<string, unknown>;
    t.is(module[operationId], HANDLERS[operationId], `${operationId} is imported from src/features/${folder}/`);
  }
  t.is(Object.keys(FOLDERS).length, Object.keys(HANDLERS).length);
});
