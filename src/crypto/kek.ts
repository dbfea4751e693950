/** Loads the key-encryption key: from configuration, or (outside production) generated once into DATA_DIR. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseMasterKey, type Config } from '../config.ts';

export const MASTER_KEY_FILE = 'master.key';

export function loadKek(config: Config, logger: Logger): Buffer {
  if (config.masterKey) return config.masterKey;
  if (config.env === 'production') throw new Error('RINGFENCE_MASTER_KEY is required in production');
  const file = path.join(config.dataDir, MASTER_KEY_FILE);
  try {
    return parseMasterKey(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`the development master key in ${file} is unreadable: ${(err as Error).message}`);
    }
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails if another process created the file in the meantime: never overwrite a key that wraps data.
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn({ file }, 'RINGFENCE_MASTER_KEY is not set: generated a development master key; set RINGFENCE_MASTER_KEY in production');
  return key;
}
