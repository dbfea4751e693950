import { latestCheckpointLeaves } from '../../audit/checkpoints.ts';
import { inclusionProof } from '../../audit/merkle.ts';
import type { Handler } from '../../deps.ts';
import { NotFound } from '../../errors.ts';
import { userCaller } from '../accounts/sessions.ts';

/**
 * GET /api/v1/profile/activity/proof: the newest signed checkpoint that covers the caller's own audit chain, with
 * the chain's head it signed and the inclusion proof (RFC 9162) of that head in its tree — so the person can keep,
 * and anyone can check with the published issuer keys, that their access history up to that row is on record and
 * cannot be rewritten or deleted unseen. It names no one else's chain.
 */
export const getActivityProof: Handler = async ({ caller }, deps) => {
  const chain = `user:${userCaller(caller).userId}`;
  const latest = await latestCheckpointLeaves(deps.db);
  const index = latest ? latest.leaves.findIndex((l) => l.chain === chain) : -1;
  if (!latest || index < 0) {
    throw new NotFound(
      `no signed checkpoint covers your activity yet: one is written every ${deps.config.auditCheckpointSeconds || 60} seconds in which some activity grew`,
      { code: 'no_checkpoint' },
    );
  }
  const head = latest.leaves[index];
  return {
    checkpoint: latest.checkpoint,
    chain,
    head: { chain_seq: head.seq, hash: head.hash },
    leaf_index: index,
    tree_size: latest.leaves.length,
    proof: inclusionProof(latest.leaves, index),
    jwks_uri: `${deps.config.baseUrl}/api/v1/issuer/jwks.json`,
  };
};
