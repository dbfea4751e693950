/**
 * Baseline: bare Koa answering a constant JSON body of the size of /healthz's. The framework ceiling: no HTTP
 * scenario on this machine can be faster than this. Started by bench/run.ts on PORT, loopback only.
 */
import Koa from 'koa';

const port = Number(process.env.PORT ?? 0);
const BODY = JSON.stringify({ status: 'success', uptime_seconds: 1 });

const app = new Koa();
app.use((ctx) => {
  ctx.type = 'application/json';
  ctx.body = BODY;
});

const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
