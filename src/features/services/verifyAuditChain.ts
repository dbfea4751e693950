import { checkAuditChains } from '../../audit/verify.ts';
import { publicIssuerJwk } from '../../crypto/issuer-keys.ts';
import type { Handler } from '../../deps.ts';
import { assertOperator } from './operators.ts';

/**
 * Walks the audit hash chains — the legacy chain and every person's (src/audit/verify.ts checkAuditChains) — against
 * the signed checkpoints, and checks those under the published issuer keys (operators only): the legacy chain's break
 * first, else the first broken person's chain's, by the row's seq. `head` is the legacy chain's.
 */
export const verifyAuditChain: Handler = async ({ caller }, deps) => {
  await assertOperator(deps, caller);
  const report = await checkAuditChains(deps.db, deps.issuerKeys.published.map(publicIssuerJwk));
  const chain = report.chains.find((c) => !c.ok)?.broken;
  const broken = report.legacy.broken ?? (chain ? { problem: chain.problem, seq: chain.rowSeq, id: chain.id, message: chain.message } : null);
  return { ok: report.ok, checked: report.checked, head: report.legacy.head, broken, checkpoints: report.checkpoints };
};
