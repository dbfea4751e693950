/** Starts Ringfence: config → store → migrate → app → listen; stops gracefully on SIGTERM/SIGINT. */
import type { Server } from 'node:http';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger, drainLogger } from './logger.ts';
import { startService } from './service.ts';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ringfence: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config);
  const service = await startService(config, { logger });
  const server: Server = service.app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  logger.info({ url: config.baseUrl, host: config.host, port: config.port, database: service.deps.storeKind }, 'ringfence listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(async () => {
      await service.close();
      logger.info('stopped');
      // The last lines reach a live reader; a stalled one costs at most this wait, then they are dropped.
      await drainLogger(logger, 2_000);
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`ringfence: failed to start: ${err.message}\n`);
  process.exit(1);
});
