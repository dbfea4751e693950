/**
 * Reading the PDF417 barcode on the back of a licence from a photograph: zxing-wasm (ZXing-C++ in WebAssembly),
 * its .wasm read from node_modules — the library would fetch it from a CDN by default, which must never happen —
 * and sharp to turn the photo upright, make it grey and evenly lit, estimate how far it is tilted and
 * counter-rotate it, then retry at nearby angles and sharpened, until one reading decodes. The reading runs in a
 * worker thread (decode-worker.ts): a WebAssembly decode is synchronous and takes up to a second, which the
 * service's event loop must not wait through.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The longest side an image is decoded at: phone photos are larger than a barcode needs. */
const DECODE_SIDE = 1800;
/** The side the tilt is estimated at. */
const SKEW_SIDE = 480;
/** Refuse decompression bombs before decoding: a 10 MB file may claim an enormous canvas. */
export const MAX_INPUT_PIXELS = 50_000_000;

type Reader = typeof import('zxing-wasm/reader');
let reader: Promise<Reader> | undefined;

/** The reader module, instantiated once from the .wasm file beside it in node_modules (never from the network). */
function loadReader(): Promise<Reader> {
  reader ??= (async () => {
    const zxing = await import('zxing-wasm/reader');
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('zxing-wasm/reader/zxing_reader.wasm');
    const bytes = readFileSync(wasmPath);
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    // With wasmBinary the Emscripten loader instantiates these bytes and fetches nothing; locateFile points at the
    // local file too, so that no path of the loader can name the CDN.
    await zxing.prepareZXingModule({ overrides: { wasmBinary, locateFile: () => wasmPath }, fireImmediately: true });
    return zxing;
  })();
  reader.catch(() => {
    reader = undefined;
  });
  return reader;
}

interface Grey {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The tilt of the image's dominant straight edges, in degrees within (-45, 45]: a histogram of gradient directions
 * (Sobel), weighted by strength, folded onto a quarter turn. A PDF417 symbol's bars and rows and the card's edges
 * all lie along the same two axes, so the peak is the card's tilt.
 */
function estimateSkew(img: Grey): number {
  const { data, width: w, height: h } = img;
  const BINS = 180; // half-degree bins over 90 degrees
  const hist = new Float64Array(BINS);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const gx = data[i - w + 1]! + 2 * data[i + 1]! + data[i + w + 1]! - data[i - w - 1]! - 2 * data[i - 1]! - data[i + w - 1]!;
      const gy = data[i + w - 1]! + 2 * data[i + w]! + data[i + w + 1]! - data[i - w - 1]! - 2 * data[i - w]! - data[i - w + 1]!;
      const mag = Math.abs(gx) + Math.abs(gy);
      if (mag < 120) continue;
      let deg = (Math.atan2(gy, gx) * 180) / Math.PI;
      deg = ((deg % 90) + 90) % 90;
      hist[Math.min(BINS - 1, Math.floor(deg * 2))]! += mag;
    }
  }
  let best = 0;
  let bestScore = -1;
  for (let b = 0; b < BINS; b++) {
    // Smoothed over a degree and a half either side, wrapping around the quarter turn.
    let score = 0;
    for (let k = -3; k <= 3; k++) score += hist[(b + k + BINS) % BINS]! * (4 - Math.abs(k));
    if (score > bestScore) {
      bestScore = score;
      best = b;
    }
  }
  const deg = (best + 0.5) / 2;
  return deg > 45 ? deg - 90 : deg;
}

/**
 * The readings to try, best guess first: counter-rotated by the estimated tilt (and there also turned a quarter or
 * half turn, for a photo taken sideways or upside down), then a degree and a half either side (the estimate is
 * rarely further off), unrotated, and sharpened at the estimate for a blurred photo. Bounded, so a photo with no
 * barcode costs a few readings, not a search.
 */
function attempts(skew: number): { angle: number; sharpen: boolean; turns: boolean }[] {
  const out = [
    { angle: -skew, sharpen: false, turns: true },
    { angle: -skew + 1.5, sharpen: false, turns: false },
    { angle: -skew - 1.5, sharpen: false, turns: false },
    { angle: 0, sharpen: false, turns: false },
    { angle: -skew, sharpen: true, turns: false },
  ];
  const seen = new Set<string>();
  return out.filter((a) => {
    const key = `${a.angle.toFixed(1)}:${a.sharpen}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Timing and path of one decode, for the bench and the logs. */
export interface DecodeOutcome {
  /** The barcode's bytes as Latin-1 (AAMVA data is ASCII), or undefined when none was read. */
  payload: string | undefined;
  tries: number;
  skew: number;
}

/**
 * Reads the first PDF417 symbol of a photo (JPEG, PNG or WebP, already sniffed), in this thread: upright by EXIF,
 * grey, DECODE_SIDE px on its long side, counter-rotated by the estimated tilt, then as `attempts` says. The service
 * calls decodePdf417, which runs this in the worker.
 */
export async function decodeHere(image: Buffer): Promise<DecodeOutcome> {
  const zxing = await loadReader();
  const { default: sharp } = await import('sharp');
  const upright = await sharp(image, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, animated: false })
    .rotate()
    .greyscale()
    // Small photos are enlarged too: ZXing reads thin, blurred modules better at more pixels each.
    .resize({ width: DECODE_SIDE, height: DECODE_SIDE, fit: 'inside', kernel: 'lanczos3' })
    .png({ compressionLevel: 0 })
    .toBuffer();
  const small = await sharp(upright)
    .resize({ width: SKEW_SIDE, height: SKEW_SIDE, fit: 'inside' })
    .greyscale()
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const skew = estimateSkew({ data: small.data, width: small.info.width, height: small.info.height });
  let tries = 0;
  for (const attempt of attempts(skew)) {
    tries++;
    let pipeline = sharp(upright).rotate(attempt.angle, { background: '#ffffff' }).normalise();
    if (attempt.sharpen) pipeline = pipeline.sharpen({ sigma: 1.5 });
    const { data, info } = await pipeline.greyscale().raw().toBuffer({ resolveWithObject: true });
    const rgba = new Uint8ClampedArray(info.width * info.height * 4);
    for (let i = 0, j = 0; i < data.length; i += info.channels, j += 4) {
      rgba[j] = rgba[j + 1] = rgba[j + 2] = data[i]!;
      rgba[j + 3] = 255;
    }
    const results = await zxing.readBarcodes({ data: rgba, width: info.width, height: info.height, colorSpace: 'srgb' } as ImageData, {
      formats: ['PDF417'],
      tryHarder: true,
      tryRotate: attempt.turns,
      maxNumberOfSymbols: 1,
    });
    const found = results.find((r) => r.isValid);
    if (found) return { payload: Buffer.from(found.bytes).toString('latin1'), tries, skew };
  }
  return { payload: undefined, tries, skew };
}

type Reply = { id: number; out: DecodeOutcome } | { id: number; error: string };

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve(out: DecodeOutcome): void; reject(err: Error): void }>();

/** The reader's worker, started on first use; it keeps the process alive only while a photo is being read. */
function readerThread(): Worker {
  if (worker) return worker;
  const started = new Worker(new URL('./decode-worker.ts', import.meta.url));
  started.unref();
  started.on('message', (reply: Reply) => {
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if (waiting.size === 0) started.unref();
    if ('error' in reply) pending.reject(new Error(`barcode reader: ${reply.error}`));
    else pending.resolve(reply.out);
  });
  const fail = (err: Error) => {
    if (worker === started) worker = undefined;
    for (const [id, pending] of waiting) {
      waiting.delete(id);
      pending.reject(err);
    }
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`barcode reader stopped (exit code ${code})`)));
  worker = started;
  return started;
}

/** Reads the first PDF417 symbol of a photo in the reader's worker thread (see decodeHere). */
export function decodePdf417(image: Buffer): Promise<DecodeOutcome> {
  const thread = readerThread();
  const id = nextId++;
  return new Promise<DecodeOutcome>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    thread.ref();
    // A copy, transferred: the caller keeps its buffer.
    const copy = new Uint8Array(image);
    thread.postMessage({ id, image: copy }, [copy.buffer]);
  });
}
