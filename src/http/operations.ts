/** Every operationId in openapi.yaml and its handler; the router refuses to start when the two disagree. */
import type { Handler } from './types.ts';
import { getHealth } from '../features/platform/getHealth.ts';
import { getReadiness } from '../features/platform/getReadiness.ts';
import { getOpenApiDocument } from '../features/platform/getOpenApiDocument.ts';
import { getApiReference } from '../features/platform/getApiReference.ts';
import { getApiReferenceAsset } from '../features/platform/getApiReferenceAsset.ts';
// ---- accounts imports ----
// ---- profile imports ----
// ---- rings imports ----
// ---- services imports ----

export const HANDLERS: Readonly<Record<string, Handler>> = {
  getHealth,
  getReadiness,
  getOpenApiDocument,
  getApiReference,
  getApiReferenceAsset,
  // ---- accounts handlers ----
  // ---- profile handlers ----
  // ---- rings handlers ----
  // ---- services handlers ----
};
