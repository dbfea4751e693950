/**
 * The audit chain checked row by row, for whoever is entitled to check it (`npm run audit -- verify`, the operator
 * endpoint): each row's hash must cover its own content after its prev_hash, and each prev_hash must be the hash
 * of the row before it. The first row that fails is named with what happened to it:
 * - `altered`: its hash does not cover its content (a column was changed with SQL);
 * - `deleted`: its prev_hash is the hash of no stored row, or a seq is missing before it (the row it followed is
 *   gone; the missing seq is named when the numbering shows it);
 * - `reordered`: its prev_hash is the hash of another stored row than the one before it (rows were swapped or
 *   renumbered).
 * The walk reads the table in pages by seq, so memory stays bounded whatever the chain's length. A deletion of the
 * newest rows leaves a shorter chain that is still whole: compare the answer's head (seq and hash) with one kept
 * elsewhere to see that.
 */
import type { JWK } from 'jose';
import type { Queryable } from '../store/db.ts';
import { eventHash, GENESIS_HASH, SYSTEM_CHAIN, type AuditRow } from './audit.ts';
import { type CheckpointsReport, checkCheckpoints, type CoveredHead, LEGACY_CHAIN, readChainHeads } from './checkpoints.ts';

/**
 * What broke: a row `altered`, `deleted` or `reordered` (the chain walk sees it), or — against a signed checkpoint —
 * a chain `rewritten` (the row a checkpoint signed is another), `truncated` (rows a checkpoint signed are gone) or
 * `vanished` (gone whole).
 */
type ChainProblem = 'altered' | 'deleted' | 'reordered' | 'rewritten' | 'truncated' | 'vanished';

interface ChainBreak {
  problem: ChainProblem;
  /** The seq of the row named: the altered or misplaced row, or the deleted one where the numbering shows it. */
  seq: number;
  /** The id of the stored row where the break was found. */
  id: string;
  /** A sentence for the operator. */
  message: string;
}

interface ChainReport {
  ok: boolean;
  /** Rows checked before the first break (all of them when whole). */
  checked: number;
  /** The last whole row: its seq and hash (null for an empty chain). */
  head: { seq: number; hash: string } | null;
  broken?: ChainBreak;
}

const PAGE = 1000;

/**
 * Walks the legacy chain — the rows written before per-person chains (migrations/032_audit_chains.ts), `chain`
 * null — in seq order and names its first break.
 */
async function checkAuditChain(q: Queryable, options: { pageSize?: number } = {}): Promise<ChainReport> {
  const pageSize = options.pageSize ?? PAGE;
  let prevHash = GENESIS_HASH;
  let prevSeq = 0;
  let checked = 0;
  let head: ChainReport['head'] = null;
  for (;;) {
    const rows = (await q('audit_events')
      .select('*')
      .whereNull('chain')
      .where('seq', '>', prevSeq)
      .orderBy('seq', 'asc')
      .limit(pageSize)) as AuditRow[];
    for (const row of rows) {
      const seq = Number(row.seq);
      const own = eventHash(row.prev_hash, { ...row, at: new Date(row.at) });
      if (row.hash !== own) {
        return broken(checked, head, {
          problem: 'altered',
          seq,
          id: row.id,
          message: `row seq ${seq} (${row.id}) was altered: its hash does not cover its content`,
        });
      }
      if (row.prev_hash !== prevHash) {
        const before = (await q('audit_events').whereNull('chain').where({ hash: row.prev_hash }).first('seq')) as
          | { seq: string | number }
          | undefined;
        if (before) {
          return broken(checked, head, {
            problem: 'reordered',
            seq,
            id: row.id,
            message: `row seq ${seq} (${row.id}) is out of order: it was written after seq ${Number(before.seq)}, not after seq ${prevSeq}`,
          });
        }
        const missing = Math.min(prevSeq + 1, seq);
        return broken(checked, head, {
          problem: 'deleted',
          seq: missing,
          id: row.id,
          message:
            seq > prevSeq + 1
              ? `row seq ${missing} was deleted: seq ${seq} (${row.id}) follows seq ${prevSeq} but was written after a row that is gone`
              : `a row before seq ${seq} (${row.id}) was deleted: it was written after a row that is gone`,
        });
      }
      prevHash = row.hash;
      prevSeq = seq;
      head = { seq, hash: row.hash };
      checked++;
    }
    if (rows.length < pageSize) return { ok: true, checked, head };
  }
}

function broken(checked: number, head: ChainReport['head'], at: ChainBreak): ChainReport {
  return { ok: false, checked, head, broken: at };
}

/** The short verdict: whole, or the seq of the first row that breaks the chain (checkAuditChain names why). */
export interface ChainVerdict {
  ok: boolean;
  checked: number;
  /** The first event whose hash does not match, when the chain is broken. */
  brokenAt?: number;
}

interface PerChainBreak {
  problem: ChainProblem;
  /** The chain_seq named: the altered or misplaced row's, or the deleted one's. */
  chainSeq: number;
  /** The global seq of the stored row where the break was found. */
  rowSeq: number;
  id: string;
  message: string;
}

interface PerChainReport {
  chain: string;
  ok: boolean;
  checked: number;
  head: { seq: number; hash: string } | null;
  broken?: PerChainBreak;
}

export interface ChainsReport {
  ok: boolean;
  /** Rows checked in all chains, legacy included. */
  checked: number;
  legacy: ChainReport;
  /** Every per-person chain (and the system chain), in key order. */
  chains: PerChainReport[];
  checkpoints: Omit<CheckpointsReport, 'covered'>;
}

interface ChainRow extends AuditRow {
  chain: string;
  chain_seq: string | number;
}

/** Walks one per-person chain by chain_seq and names its first break, and any head a checkpoint covered that it lacks. */
async function checkOneChain(q: Queryable, chain: string, expect: readonly CoveredHead[], pageSize = PAGE): Promise<PerChainReport> {
  let prevHash = GENESIS_HASH;
  let prevChainSeq = 0;
  let lastRowSeq = 0;
  let checked = 0;
  let head: PerChainReport['head'] = null;
  const pending = [...expect].sort((a, b) => a.seq - b.seq);
  const fail = (b: PerChainBreak): PerChainReport => ({ chain, ok: false, checked, head, broken: b });
  for (;;) {
    // Through the (subject, seq) index: a chain is its subject's rows that carry the chain.
    const page = q('audit_events').select('*').where({ chain }).where('seq', '>', lastRowSeq).orderBy('seq', 'asc').limit(pageSize);
    if (chain === SYSTEM_CHAIN) page.whereNull('subject');
    else page.where({ subject: chain });
    const rows = (await page) as ChainRow[];
    for (const row of rows) {
      const rowSeq = Number(row.seq);
      const chainSeq = Number(row.chain_seq);
      if (eventHash(row.prev_hash, { ...row, at: new Date(row.at) }) !== row.hash) {
        return fail({
          problem: 'altered',
          chainSeq,
          rowSeq,
          id: row.id,
          message: `chain ${chain}: row ${chainSeq} (seq ${rowSeq}, ${row.id}) was altered: its hash does not cover its content`,
        });
      }
      if (row.prev_hash !== prevHash || chainSeq !== prevChainSeq + 1) {
        // Out of order when the row it followed is still stored (elsewhere in the chain); else that row is gone.
        const followed = (await q('audit_events').where({ chain, hash: row.prev_hash }).first('seq')) as { seq: string } | undefined;
        const gap = !followed && chainSeq > prevChainSeq + 1;
        return fail({
          problem: followed || (row.prev_hash === prevHash && !gap) ? 'reordered' : 'deleted',
          chainSeq: gap ? prevChainSeq + 1 : chainSeq,
          rowSeq,
          id: row.id,
          message: gap
            ? `chain ${chain}: row ${prevChainSeq + 1} was deleted: row ${chainSeq} (seq ${rowSeq}, ${row.id}) follows row ${prevChainSeq}`
            : `chain ${chain}: row ${chainSeq} (seq ${rowSeq}, ${row.id}) does not follow row ${prevChainSeq}`,
        });
      }
      while (pending.length > 0 && pending[0].seq === chainSeq) {
        const covered = pending.shift()!;
        if (covered.hash !== row.hash) {
          return fail({
            problem: 'rewritten',
            chainSeq,
            rowSeq,
            id: row.id,
            message: `chain ${chain}: row ${chainSeq} (seq ${rowSeq}, ${row.id}) is not the row signed by ${covered.by}: the chain was rewritten`,
          });
        }
      }
      prevHash = row.hash;
      prevChainSeq = chainSeq;
      lastRowSeq = rowSeq;
      head = { seq: chainSeq, hash: row.hash };
      checked++;
    }
    if (rows.length < pageSize) break;
  }
  if (pending.length > 0) {
    const last = pending[pending.length - 1];
    return fail({
      problem: checked === 0 ? 'vanished' : 'truncated',
      chainSeq: prevChainSeq + 1,
      rowSeq: lastRowSeq,
      id: '',
      message:
        checked === 0
          ? `chain ${chain} is gone: ${last.by} signed its row ${last.seq}`
          : `chain ${chain}: rows after ${prevChainSeq} were deleted: ${last.by} signed its row ${last.seq}`,
    });
  }
  return { chain, ok: true, checked, head };
}

/** The chains stored — as rows, as heads and as a checkpoint's leaves — in key order. */
async function listChains(q: Queryable, covered: ReadonlyMap<string, unknown>): Promise<string[]> {
  const rows = (await q('audit_events').distinct('chain').whereNotNull('chain')) as { chain: string }[];
  const heads = (await q('audit_chain_heads').select('chain')) as { chain: string }[];
  const all = new Set([...rows.map((r) => r.chain), ...heads.map((r) => r.chain), ...covered.keys()]);
  all.delete(LEGACY_CHAIN);
  return [...all].sort();
}

/** The legacy chain against the head the checkpoints covered (its last row, by global seq). */
function legacyCovered(report: ChainReport, covered: readonly CoveredHead[]): ChainReport {
  if (!report.ok) return report;
  for (const c of covered) {
    if (report.head?.seq === c.seq && report.head.hash === c.hash) continue;
    const problem = report.head && report.head.seq >= c.seq ? 'rewritten' : 'truncated';
    return broken(report.checked, report.head, {
      problem,
      seq: c.seq,
      id: '',
      message:
        problem === 'truncated'
          ? `legacy chain: rows up to seq ${c.seq} were signed by ${c.by}; it ends at ${report.head?.seq ?? 'nothing'}`
          : `legacy chain: its last row is not the seq ${c.seq} signed by ${c.by}: it was rewritten`,
    });
  }
  return report;
}

/**
 * The whole log checked: the legacy chain as before, then each per-person chain, each against the heads the
 * checkpoints covered (a chain rewritten, cut short or deleted whole since one is named), the stored heads against
 * the chains, and the checkpoints themselves (src/audit/checkpoints.ts: signatures under `keys`, links, leaves).
 * A row whose chain is not its subject's (moved to another chain) is named too: its hash covers the subject.
 */
export async function checkAuditChains(q: Queryable, keys: readonly JWK[] = []): Promise<ChainsReport> {
  const checkpoints = await checkCheckpoints(q, keys);
  const heads = new Map((await readChainHeads(q)).map((h) => [h.chain, h]));
  const storedLegacy = heads.get(LEGACY_CHAIN);
  const legacy = legacyCovered(await checkAuditChain(q), [
    ...(checkpoints.covered.get(LEGACY_CHAIN) ?? []),
    ...(storedLegacy ? [{ ...storedLegacy, by: 'its stored head (migration 032)' }] : []),
  ]);
  const chains: PerChainReport[] = [];
  for (const chain of await listChains(q, checkpoints.covered)) chains.push(await checkOneChain(q, chain, checkpoints.covered.get(chain) ?? []));
  const misplaced = (await q('audit_events')
    .whereNotNull('chain')
    .where((w) => w.whereRaw('chain is distinct from coalesce(subject, ?)', [SYSTEM_CHAIN]))
    .orderBy('seq')
    .first('seq', 'id', 'chain', 'chain_seq')) as { seq: string; id: string; chain: string; chain_seq: string } | undefined;
  if (misplaced) {
    const at = chains.find((c) => c.chain === misplaced.chain);
    if (at?.ok) {
      at.ok = false;
      at.broken = {
        problem: 'altered',
        chainSeq: Number(misplaced.chain_seq),
        rowSeq: Number(misplaced.seq),
        id: misplaced.id,
        message: `chain ${misplaced.chain}: row seq ${misplaced.seq} (${misplaced.id}) carries a chain that is not its subject's`,
      };
    }
  }
  // The stored heads are what the next append chains from: each must be its chain's last row.
  for (const c of chains) {
    const stored = heads.get(c.chain);
    if (!c.ok || (stored && c.head && stored.seq === c.head.seq && stored.hash === c.head.hash) || (!stored && !c.head)) continue;
    c.ok = false;
    c.broken = {
      problem: stored ? (c.head ? 'rewritten' : 'vanished') : 'deleted',
      chainSeq: stored?.seq ?? c.head?.seq ?? 0,
      rowSeq: 0,
      id: '',
      message: stored
        ? `chain ${c.chain}: its stored head is row ${stored.seq}, its last row is ${c.head ? c.head.seq : 'gone'}`
        : `chain ${c.chain}: its head is missing from audit_chain_heads`,
    };
  }
  const checked = legacy.checked + chains.reduce((n, c) => n + c.checked, 0);
  const { covered: _covered, ...checkpointReport } = checkpoints;
  return {
    ok: legacy.ok && chains.every((c) => c.ok) && checkpoints.ok,
    checked,
    legacy,
    chains,
    checkpoints: checkpointReport,
  };
}

/** The short verdict over every chain (checkAuditChains names why): whole, or the seq of the first broken row. */
export async function verifyAuditChain(q: Queryable): Promise<ChainVerdict> {
  const report = await checkAuditChains(q);
  const brokenAt = report.legacy.broken?.seq ?? report.chains.find((c) => !c.ok)?.broken?.rowSeq;
  const chainsOk = report.legacy.ok && report.chains.every((c) => c.ok);
  return chainsOk ? { ok: true, checked: report.checked } : { ok: false, checked: report.checked, brokenAt };
}
