/**
 * The barcode reader's thread (barcode.ts): reads one photo at a time, in the order they came, so the WebAssembly
 * decoder's synchronous work never holds up the service's event loop and never runs two photos at once.
 */
import { parentPort } from 'node:worker_threads';
import { decodeHere } from './barcode.ts';

let queue: Promise<void> = Promise.resolve();

parentPort!.on('message', (message: { id: number; image: Uint8Array }) => {
  queue = queue.then(async () => {
    try {
      const out = await decodeHere(Buffer.from(message.image.buffer, message.image.byteOffset, message.image.byteLength));
      parentPort!.postMessage({ id: message.id, out });
    } catch (err) {
      parentPort!.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
});
