/** A worker thread of the seeder: builds batches of bulk rows (seed-rows.ts) on its own core. */
import { parentPort, workerData } from 'node:worker_threads';
import { Keyring } from '../../src/crypto/envelope.ts';
import { buildRows } from './seed-rows.ts';

const { masterKey, passwordHash } = workerData as { masterKey: Uint8Array; passwordHash: string };
const keyring = new Keyring(Buffer.from(masterKey));

parentPort!.on('message', ({ id, from, to }: { id: number; from: number; to: number }) => {
  try {
    parentPort!.postMessage({ id, rows: buildRows(keyring, from, to, passwordHash) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
