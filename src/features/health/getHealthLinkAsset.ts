import { Reply, type Handler } from '../../deps.ts';
import { NotFound } from '../../errors.ts';
import { findPageAsset } from './page.ts';

/** GET /share/assets/{asset}: the script and style sheet of the doctor's page. */
export const getHealthLinkAsset: Handler = ({ params }) => {
  const asset = findPageAsset(params.asset);
  if (!asset) throw new NotFound(`no such asset: ${params.asset}`);
  return new Reply(asset.body, { type: asset.type, headers: { 'Cache-Control': 'public, max-age=300' } });
};
