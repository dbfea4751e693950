/**
 * Signed checkpoints of the audit log (issue 21, Deliver 2; docs/audit-chains.md): at a fixed interval, a Merkle
 * tree (src/audit/merkle.ts, RFC 9162's) over the head of every chain — each person's, the system chain, and the
 * legacy chain's last row — signed with Ringfence's issuer key (published at /.well-known/jwt-vc-issuer) as a JWS
 * over its interval, size, root and the hash of the previous checkpoint, as Certificate Transparency signs its tree
 * heads. A chain walk alone cannot see a chain deleted or rewritten whole (it verifies from its genesis); a
 * checkpoint names every head it covered, so `npm run audit -- verify` finds a chain that lost rows, was recomputed
 * or vanished since, and the link between checkpoints finds one deleted among them. A checkpoint once exported or
 * published (`npm run audit -- checkpoints`, GET /api/v1/audit/checkpoints) also holds against the newest ones
 * being deleted.
 *
 * Any number of instances run the job: a checkpoint's key is its interval's start, the one writer of an interval
 * holds a try-lock (the others skip it), and an interval in which no chain grew gets no checkpoint. The leaves are
 * kept beside the newest checkpoints only (they grow with the number of people); older ones keep their signed head.
 */
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { sha256Hex } from '../crypto/tokens.ts';
import { type Queryable, withTransaction } from '../store/db.ts';
import { type ChainHead, decodeLeaves, encodeLeaves, merkleRoot, sortHeads } from './merkle.ts';

/** The JWS's `typ`. */
const CHECKPOINT_TYPE = 'rf-audit-checkpoint+jws';
/** The one writer of an interval's checkpoint: taken with try, so the other instances skip the interval. */
const CHECKPOINT_LOCK = 0x41434b50; // "ACKP"
/** The legacy chain's key among the heads (the rows written before per-person chains; never a subject). */
export const LEGACY_CHAIN = '(legacy)';

/** What a checkpoint's JWS signs. */
interface CheckpointPayload {
  iss: string;
  interval_start: string;
  tree_size: number;
  /** The Merkle tree's root, hex. */
  root: string;
  /** sha256 hex of the previous checkpoint's JWS; null for the first. */
  prev: string | null;
  issued_at: string;
}

export interface Checkpoint extends CheckpointPayload {
  jws: string;
}

/** The private key that signs (the issuer key's active JWK). */
export interface CheckpointSigner {
  issuer: string;
  key: JWK & { kid: string; alg: string };
}

interface CheckpointRow {
  interval_start: Date;
  tree_size: number;
  root: string;
  prev: string | null;
  kid: string;
  jws: string;
  leaves: Buffer | null;
}

/** Every chain's head as committed: the person's and system chains from audit_chain_heads, the legacy chain's last row. */
export async function readChainHeads(q: Queryable): Promise<ChainHead[]> {
  const rows = (await q('audit_chain_heads').select('chain', 'chain_seq', 'hash')) as { chain: string; chain_seq: string; hash: string }[];
  return rows.map((r) => ({ chain: r.chain, seq: Number(r.chain_seq), hash: r.hash }));
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  const payload = JSON.parse(Buffer.from(row.jws.split('.')[1], 'base64url').toString('utf8')) as CheckpointPayload;
  return { ...payload, jws: row.jws };
}

/**
 * Writes this interval's checkpoint if no instance has and some chain grew since the last one; answers it, or null.
 * Keeps the leaves of the newest `keepLeaves` checkpoints only.
 */
export async function writeCheckpoint(
  db: Queryable,
  signer: CheckpointSigner,
  { intervalSeconds, keepLeaves }: { intervalSeconds: number; keepLeaves: number },
): Promise<Checkpoint | null> {
  return withTransaction(db, async (trx) => {
    const { rows: locked } = (await trx.raw('select pg_try_advisory_xact_lock(?) as ok', [CHECKPOINT_LOCK])) as { rows: { ok: boolean }[] };
    if (!locked[0].ok) return null;
    const { rows: at } = (await trx.raw(`select to_timestamp(floor(extract(epoch from now()) / ?) * ?) as start, now() as now`, [
      intervalSeconds,
      intervalSeconds,
    ])) as { rows: { start: Date; now: Date }[] };
    const start = new Date(at[0].start);
    const latest = (await trx('audit_checkpoints').orderBy('interval_start', 'desc').first()) as CheckpointRow | undefined;
    if (latest && new Date(latest.interval_start) >= start) return null;
    const heads = sortHeads(await readChainHeads(trx));
    const root = merkleRoot(heads);
    if (latest && latest.root === root && latest.tree_size === heads.length) return null;
    if (!latest && heads.length === 0) return null;
    const payload: CheckpointPayload = {
      iss: signer.issuer,
      interval_start: start.toISOString(),
      tree_size: heads.length,
      root,
      prev: latest ? sha256Hex(latest.jws) : null,
      issued_at: new Date(at[0].now).toISOString(),
    };
    const jws = await new CompactSign(Buffer.from(JSON.stringify(payload), 'utf8'))
      .setProtectedHeader({ alg: signer.key.alg, kid: signer.key.kid, typ: CHECKPOINT_TYPE })
      .sign(await importJWK(signer.key, signer.key.alg));
    await trx('audit_checkpoints')
      .insert({ interval_start: start, tree_size: heads.length, root, prev: payload.prev, kid: signer.key.kid, jws, leaves: encodeLeaves(heads) })
      .onConflict('interval_start')
      .ignore();
    await trx.raw(
      `update audit_checkpoints set leaves = null
        where leaves is not null
          and interval_start < (select interval_start from audit_checkpoints order by interval_start desc offset ? limit 1)`,
      [keepLeaves - 1],
    );
    return { ...payload, jws };
  });
}

/** Checkpoints newest first, `limit` of them from before `before` (a page of the export). */
export async function listCheckpoints(q: Queryable, { limit, before }: { limit: number; before?: Date | undefined }): Promise<Checkpoint[]> {
  const query = q('audit_checkpoints').select('interval_start', 'jws').orderBy('interval_start', 'desc').limit(limit);
  if (before) query.where('interval_start', '<', before);
  return ((await query) as CheckpointRow[]).map(toCheckpoint);
}

/** One problem a checkpoint check found. */
interface CheckpointProblem {
  problem: 'signature' | 'content' | 'link' | 'leaves' | 'shrunk';
  interval_start: string;
  message: string;
}

/** A chain head some kept checkpoint covered: the chain walk checks the row at `seq` has `hash`. */
export interface CoveredHead {
  seq: number;
  hash: string;
  /** What signed it, for a message: "the checkpoint of <interval start>". */
  by: string;
}

export interface CheckpointsReport {
  ok: boolean;
  /** Checkpoints checked (all of them). */
  count: number;
  /** Checkpoints signed by a key no longer published: their link and content are checked, their signature cannot be. */
  unverifiable: number;
  latest: { interval_start: string; tree_size: number; root: string } | null;
  problems: CheckpointProblem[];
  /** Per chain, the heads the checkpoints whose leaves are kept covered (for the chain walk). */
  covered: Map<string, CoveredHead[]>;
  /** Chains whose head is newer than the newest checkpoint with leaves (covered by their chain alone until the next). */
  uncovered: number;
}

const PAGE = 500;

/**
 * Every checkpoint checked in order: its signature under a published key (`keys`), its stored columns against what
 * it signs, its link to the one before, and where its leaves are kept, that they make its root and that no chain
 * shrank or vanished from one to the next. Answers the heads they covered for the chain walk (src/audit/verify.ts).
 */
export async function checkCheckpoints(q: Queryable, keys: readonly (JWK & { kid?: string })[]): Promise<CheckpointsReport> {
  const problems: CheckpointProblem[] = [];
  const covered = new Map<string, CoveredHead[]>();
  let count = 0;
  let unverifiable = 0;
  let prevJws: string | null = null;
  let prevLeaves: Map<string, ChainHead> | null = null;
  let newestLeaves: ChainHead[] | null = null;
  let latest: CheckpointsReport['latest'] = null;
  let after: Date | null = null;
  for (;;) {
    const page = q('audit_checkpoints').select('*').orderBy('interval_start', 'asc').limit(PAGE);
    if (after) page.where('interval_start', '>', after);
    const rows = (await page) as CheckpointRow[];
    for (const row of rows) {
      count++;
      const start = new Date(row.interval_start).toISOString();
      const fail = (problem: CheckpointProblem['problem'], message: string) =>
        problems.push({ problem, interval_start: start, message: `checkpoint ${start}: ${message}` });
      const kid = (() => {
        try {
          return decodeProtectedHeader(row.jws).kid;
        } catch {
          return undefined;
        }
      })();
      const key = keys.find((k) => k.kid === kid);
      let payload: CheckpointPayload | undefined;
      if (!key) {
        unverifiable++;
        try {
          payload = toCheckpoint(row);
        } catch {
          fail('content', 'its JWS cannot be read');
        }
      } else {
        try {
          const { payload: bytes } = await compactVerify(row.jws, await importJWK(key, key.alg));
          payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as CheckpointPayload;
        } catch {
          fail('signature', `its signature does not verify under the published key ${kid}`);
        }
      }
      if (payload) {
        if (payload.interval_start !== start || payload.tree_size !== row.tree_size || payload.root !== row.root || payload.prev !== row.prev) {
          fail('content', 'its stored interval, size, root or link differ from what it signs');
        }
        const expected = prevJws === null ? null : sha256Hex(prevJws);
        if (payload.prev !== expected) {
          fail(
            'link',
            prevJws === null
              ? 'names a previous checkpoint, but none is stored before it'
              : 'does not follow the checkpoint stored before it (one was deleted or rewritten)',
          );
        }
        latest = { interval_start: start, tree_size: payload.tree_size, root: payload.root };
      }
      if (row.leaves) {
        const leaves = decodeLeaves(Buffer.from(row.leaves));
        if (leaves.length !== row.tree_size || merkleRoot(sortHeads(leaves)) !== (payload?.root ?? row.root)) {
          fail('leaves', 'its stored leaves do not make its root');
        } else {
          const byChain = new Map(leaves.map((l) => [l.chain, l]));
          if (prevLeaves) {
            for (const [chain, before] of prevLeaves) {
              const now = byChain.get(chain);
              if (!now || now.seq < before.seq || (now.seq === before.seq && now.hash !== before.hash)) {
                fail('shrunk', `chain ${chain} ${now ? `went from row ${before.seq} back to ${now.seq} or changed its head` : 'is gone from it'}`);
              }
            }
          }
          for (const l of leaves) {
            const list = covered.get(l.chain) ?? [];
            list.push({ seq: l.seq, hash: l.hash, by: `the checkpoint of ${start}` });
            covered.set(l.chain, list);
          }
          prevLeaves = byChain;
          newestLeaves = leaves;
        }
      } else {
        prevLeaves = null;
      }
      prevJws = row.jws;
    }
    if (rows.length < PAGE) break;
    after = new Date(rows[rows.length - 1].interval_start);
  }
  let uncovered = 0;
  if (newestLeaves) {
    const known = new Map(newestLeaves.map((l) => [l.chain, l.seq]));
    for (const head of await readChainHeads(q)) if (known.get(head.chain) !== head.seq) uncovered++;
  }
  return { ok: problems.length === 0, count, unverifiable, latest, problems, covered, uncovered };
}

/** The checkpoint job of one instance: a pass a quarter interval apart, so an interval's checkpoint is written soon after it starts. */
export class CheckpointJob {
  readonly #db: Queryable;
  readonly #signer: () => CheckpointSigner;
  readonly #options: { intervalSeconds: number; keepLeaves: number };
  readonly #onError: (err: Error) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    db: Queryable,
    signer: () => CheckpointSigner,
    options: { intervalSeconds: number; keepLeaves: number },
    onError: (err: Error) => void,
  ) {
    this.#db = db;
    this.#signer = signer;
    this.#options = options;
    this.#onError = onError;
  }

  /** One pass now: this interval's checkpoint if it is due and no instance wrote it. */
  runOnce(): Promise<Checkpoint | null> {
    return writeCheckpoint(this.#db, this.#signer(), this.#options);
  }

  start(): void {
    const tick = () => {
      this.#running ??= this.runOnce()
        .catch((err: Error) => this.#onError(err))
        .finally(() => {
          this.#running = undefined;
        });
    };
    this.#timer = setInterval(tick, Math.max(250, (this.#options.intervalSeconds * 1000) / 4));
    this.#timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}

/** The newest checkpoint whose leaves are kept, with them (in tree order), or undefined before the first. */
export async function latestCheckpointLeaves(q: Queryable): Promise<{ checkpoint: Checkpoint; leaves: ChainHead[] } | undefined> {
  const row = (await q('audit_checkpoints').whereNotNull('leaves').orderBy('interval_start', 'desc').first()) as CheckpointRow | undefined;
  return row ? { checkpoint: toCheckpoint(row), leaves: decodeLeaves(Buffer.from(row.leaves!)) } : undefined;
}
