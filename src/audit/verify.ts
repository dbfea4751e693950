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
import type { Queryable } from '../store/db.ts';
import { eventHash, GENESIS_HASH, type AuditRow } from './audit.ts';

type ChainProblem = 'altered' | 'deleted' | 'reordered';

interface ChainBreak {
  problem: ChainProblem;
  /** The seq of the row named: the altered or misplaced row, or the deleted one where the numbering shows it. */
  seq: number;
  /** The id of the stored row where the break was found. */
  id: string;
  /** A sentence for the operator. */
  message: string;
}

export interface ChainReport {
  ok: boolean;
  /** Rows checked before the first break (all of them when whole). */
  checked: number;
  /** The last whole row: its seq and hash (null for an empty chain). */
  head: { seq: number; hash: string } | null;
  broken?: ChainBreak;
}

const PAGE = 1000;

/** Walks the whole chain in seq order and names its first break. */
export async function checkAuditChain(q: Queryable, options: { pageSize?: number } = {}): Promise<ChainReport> {
  const pageSize = options.pageSize ?? PAGE;
  let prevHash = GENESIS_HASH;
  let prevSeq = 0;
  let checked = 0;
  let head: ChainReport['head'] = null;
  for (;;) {
    const rows = (await q('audit_events').select('*').where('seq', '>', prevSeq).orderBy('seq', 'asc').limit(pageSize)) as AuditRow[];
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
        const before = (await q('audit_events').where({ hash: row.prev_hash }).first('seq')) as { seq: string | number } | undefined;
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

export async function verifyAuditChain(q: Queryable): Promise<ChainVerdict> {
  const report = await checkAuditChain(q);
  return report.ok ? { ok: true, checked: report.checked } : { ok: false, checked: report.checked, brokenAt: report.broken?.seq };
}
