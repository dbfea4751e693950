import { Reply, type Handler } from '../../deps.ts';
import { NotFound } from '../../errors.ts';
import { findPasskeysAsset } from './page.ts';

/** A script of the passkeys pages, served from this origin (no CDN). */
export const getPasskeysAsset: Handler = async ({ params }) => {
  const asset = findPasskeysAsset(params.asset);
  if (!asset) throw new NotFound(`no such asset: ${params.asset}`);
  return new Reply(await asset.load(), { type: asset.type, headers: { 'Cache-Control': 'public, max-age=3600' } });
};
