/**
 * Baseline: bare Koa + pg, no middleware. `GET /read/<key>` runs one read by primary key and answers its rows as
 * JSON (binary columns as base64, as the real endpoints must encode them too); `POST /write/<key>` runs one
 * single-statement write. The statements are parameters, so each scenario points the baseline at exactly the rows
 * its real endpoint reads. By default they are named (prepared once per connection) statements: the strictest
 * fair baseline. Started by bench/run.ts on PORT against DATABASE_URL, loopback only.
 *
 * Settings: PORT, DATABASE_URL, BASELINE_READ_SQL and BASELINE_WRITE_SQL (each with one parameter, $1),
 * BASELINE_PREPARED (1 = named statements, 0 = unnamed), POOL_MAX (default 10, the service's knex pool size).
 */
import Koa from 'koa';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const READ_SQL = process.env.BASELINE_READ_SQL || 'select field, value, ring, provenance, updated_at from profile_fields where profile_id = $1';
const WRITE_SQL = process.env.BASELINE_WRITE_SQL || 'update profiles set version = version + 1, updated_at = now() where id = $1';
const prepared = (process.env.BASELINE_PREPARED ?? '1') !== '0';
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_MAX ?? 10),
  application_name: 'bench-koa-pg',
});

function statement(name: string, text: string, key: string): pg.QueryConfig {
  return prepared ? { name, text, values: [key] } : { text, values: [key] };
}

/** Rows as JSON: Buffers (bytea) as base64 rather than JSON.stringify's array of numbers. */
function encodeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  return out;
}

const app = new Koa();
app.use(async (ctx) => {
  const p = ctx.path;
  if (ctx.method === 'GET' && p.startsWith('/read/')) {
    const { rows } = await pool.query(statement('bench_read', READ_SQL, decodeURIComponent(p.slice(6))));
    ctx.status = rows.length > 0 ? 200 : 404;
    ctx.body = { status: 'success', rows: rows.map(encodeRow) };
  } else if (ctx.method === 'POST' && p.startsWith('/write/')) {
    const { rowCount } = await pool.query(statement('bench_write', WRITE_SQL, decodeURIComponent(p.slice(7))));
    ctx.status = rowCount ? 200 : 404;
    ctx.body = { status: 'success', updated: rowCount };
  } else if (ctx.method === 'GET' && p === '/readyz') {
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
