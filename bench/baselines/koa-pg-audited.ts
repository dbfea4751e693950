/**
 * Baseline: the leanest whole promise, written by hand — bare Koa + pg, no middleware, no policy engine, no
 * decryption. `GET /data/profile` with `Authorization: Bearer <token>` finds the token by its hash (primary key)
 * and reads the profile it names (primary key) in one named statement, appends one hash-chained audit row naming
 * the service, the person and the fields, and answers only once that row is committed, durably.
 *
 * Appends are group-committed: requests whose row is pending while a batch is written share the next one, one
 * statement (`bench_lean_append`, bench/lib/seed-lean.ts: the chain's lock, the head, every hash; its own
 * transaction), each request answered after its batch commits. Nothing waits on a timer: an idle baseline writes
 * each row at once. The tables are bench/lib/seed-lean.ts's, seeded with the product's own profiles.
 *
 * `GET /stats` answers how many appends it wrote and how many rows they held.
 *
 * Started by the authorized-read scenario on PORT against DATABASE_URL, loopback only. Settings: PORT,
 * DATABASE_URL, POOL_MAX (default 10, the service's knex pool size).
 */
import { createHash, randomUUID } from 'node:crypto';
import Koa from 'koa';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_MAX ?? 10),
  application_name: 'bench-koa-pg-audited',
});
/** Most rows in one append, as the service's audit queue. */
const MAX_BATCH = 200;

const READ_SQL = `select t.client_id, p.user_id, p.fields
  from bench_lean_tokens t join bench_lean_profiles p on p.id = t.profile_id
 where t.hash = $1 and t.expires_at > now()`;

interface Pending {
  event: string;
  resolve(): void;
  reject(err: unknown): void;
}

let pending: Pending[] = [];
let writing = false;
/** Appends written and rows they held, for `GET /stats`: how many requests shared a commit. */
const stats = { appends: 0, rows: 0 };

/** Resolves once `event` is committed in the chain. */
function record(event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({ event, resolve, reject });
    if (!writing) void drain();
  });
}

/** The one writer while there is anything to write: batch after batch, each one statement. */
async function drain(): Promise<void> {
  writing = true;
  try {
    while (pending.length > 0) {
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(MAX_BATCH);
      try {
        await pool.query({ name: 'bench_append', text: 'select bench_lean_append($1::text[])', values: [batch.map((p) => p.event)] });
        stats.appends += 1;
        stats.rows += batch.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  } finally {
    writing = false;
  }
}

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/data/profile') {
    const auth = ctx.get('authorization');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const hash = createHash('sha256').update(token).digest();
    const { rows } = await pool.query({ name: 'bench_token_profile', text: READ_SQL, values: [hash] });
    if (rows.length === 0) {
      ctx.status = 401;
      ctx.body = { status: 'unauthorized' };
      return;
    }
    const { client_id: clientId, user_id: userId, fields } = rows[0] as { client_id: string; user_id: string; fields: Record<string, unknown> };
    // Keys in a fixed order: canonical by construction.
    await record(
      JSON.stringify({
        id: randomUUID(),
        at: new Date().toISOString(),
        action: 'data.released',
        actor: `service:${clientId}`,
        subject: `user:${userId}`,
        client_ip: ctx.ip,
        data: { fields: Object.keys(fields) },
      }),
    );
    ctx.body = { status: 'success', fields };
  } else if (ctx.method === 'GET' && ctx.path === '/stats') {
    ctx.body = stats;
  } else if (ctx.method === 'GET' && ctx.path === '/readyz') {
    await pool.query('select 1');
    ctx.body = { status: 'success' };
  } else {
    ctx.status = 404;
    ctx.body = { status: 'not found' };
  }
});

const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
