import { readFile } from 'node:fs/promises';
import { Reply, type Handler } from '../../deps.ts';
import { SPEC_PATH } from '../../config.ts';

/** The contract itself, as the file in the repository. */
export const getOpenApiDocument: Handler = async () =>
  new Reply(await readFile(SPEC_PATH, 'utf8'), { type: 'application/yaml', headers: { 'Cache-Control': 'no-cache' } });
