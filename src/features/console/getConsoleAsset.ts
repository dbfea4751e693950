/** GET /account/assets/{asset}: a script or style sheet of the console. */
import { NotFound } from '../../errors.ts';
import { Reply, type Handler } from '../../deps.ts';
import { findConsoleAsset } from './assets.ts';

export const getConsoleAsset: Handler = ({ params }) => {
  const asset = findConsoleAsset(params.asset);
  if (!asset) throw new NotFound(`no such console asset: ${params.asset}`);
  return new Reply(asset.body, { type: asset.type, headers: { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' } });
};
