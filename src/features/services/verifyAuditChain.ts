import { checkAuditChain } from '../../audit/verify.ts';
import type { Handler } from '../../deps.ts';
import { assertOperator } from './operators.ts';

/** Walks the audit hash chain and names the first row altered, deleted or reordered (operators only). */
export const verifyAuditChain: Handler = async ({ caller }, deps) => {
  await assertOperator(deps, caller);
  const report = await checkAuditChain(deps.db);
  return { ok: report.ok, checked: report.checked, head: report.head, broken: report.broken ?? null };
};
