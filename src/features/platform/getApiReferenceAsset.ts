import { NotFound } from '../../errors.ts';
import { Reply, type Handler } from '../../deps.ts';
import { findDocsAsset } from './docs.ts';

export const getApiReferenceAsset: Handler = async ({ params }) => {
  const asset = findDocsAsset(params.asset);
  if (!asset) throw new NotFound(`no such documentation asset: ${params.asset}`);
  return new Reply(await asset.load(), { type: asset.type, headers: { 'Cache-Control': 'public, max-age=3600' } });
};
