/**
 * Envelope encryption: a key-encryption key (KEK) wraps one AES-256-GCM data key (DEK) per profile, and each DEK
 * seals that profile's values. Associated data binds every ciphertext to the row it belongs to, so a ciphertext
 * copied to another row, or altered by one bit, fails to open instead of returning garbage.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { DecryptionError } from '../errors.ts';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Seals `plaintext` under `key`; the result is version ‖ iv ‖ tag ‖ ciphertext. */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): Buffer {
  if (key.length !== KEY_BYTES) throw new Error('AES-256-GCM needs a 32-byte key');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
}

/** Opens a sealed value; throws DecryptionError when it was tampered with or sealed for another row. */
export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
    throw new DecryptionError('ciphertext is truncated or of an unknown version');
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(body);
    // GCM is a stream mode: final() only checks the tag and adds no byte.
    decipher.final();
    return plaintext;
  } catch (cause) {
    throw new DecryptionError('ciphertext failed authentication', { cause });
  }
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A short, stable identifier of a KEK, stored beside each wrapped DEK so a rotation knows which key wrapped it. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('ringfence-kek-id').update(key).digest('hex').slice(0, 16);
}

export interface WrappedKey {
  kekId: string;
  wrapped: Buffer;
}

/** The owner bound into the wrapped derivation root. */
const ROOT_OWNER = 'key-root:system';

/** Unwrapped data keys a Keyring keeps by default (about 0.5 KiB each, measured: 5 MiB when full). */
const UNWRAPPED_CACHE_ENTRIES = 10_000;

/**
 * The KEK and the operations on data keys that use it.
 *
 * Unwrapping a data key is an AES-GCM open on every read of a profile; the most recently used unwrapped keys are
 * kept (bounded: `cacheEntries`, least recently used dropped first). An entry is keyed by the owner and the exact
 * wrapped bytes, which carry their own random IV: a hit is the same ciphertext, already authenticated under this
 * KEK for this owner, so it can only give the same key; a re-wrapped or rotated key is different bytes and misses.
 * Nothing about access is cached here — only key material this process has already unwrapped — and the keys live
 * no longer in memory than the process does, as the KEK itself.
 */
export class Keyring {
  readonly #kek: Buffer;
  readonly kekId: string;
  /** Every KEK that may open a data key: the current one and those being rotated away from, by id. */
  readonly #openers = new Map<string, Buffer>();
  /** What derive() derives from: the first KEK this database had, kept wrapped once a master key was rotated. */
  readonly #root: Buffer;
  readonly #unwrapped = new Map<string, Buffer>();
  readonly #cacheEntries: number;

  constructor(kek: Buffer, options: { cacheEntries?: number; previous?: readonly Buffer[]; root?: Buffer } = {}) {
    if (kek.length !== KEY_BYTES) throw new Error('the KEK must be 32 bytes');
    this.#kek = Buffer.from(kek);
    this.kekId = keyId(kek);
    for (const key of [kek, ...(options.previous ?? [])]) {
      if (key.length !== KEY_BYTES) throw new Error('a previous KEK must be 32 bytes');
      if (!this.#openers.has(keyId(key))) this.#openers.set(keyId(key), Buffer.from(key));
    }
    // Without a stored root, derived keys come from the KEK the data was first sealed under: the previous one while
    // a first rotation is under way (nothing has been re-rooted yet), else the KEK itself.
    this.#root = Buffer.from(options.root ?? options.previous?.[0] ?? kek);
    this.#cacheEntries = options.cacheEntries ?? UNWRAPPED_CACHE_ENTRIES;
  }

  /** The ids of the KEKs being rotated away from (they open data keys, never wrap new ones). */
  get previousKekIds(): string[] {
    return [...this.#openers.keys()].filter((id) => id !== this.kekId);
  }

  /** The derivation root wrapped by the current KEK, for the key_roots table. */
  wrapRoot(): WrappedKey {
    return this.wrap(this.#root, ROOT_OWNER);
  }

  /** Opens a wrapped derivation root with whichever known KEK wrapped it. */
  openRoot(key: WrappedKey): Buffer {
    return this.#open(key, ROOT_OWNER);
  }

  #open(key: WrappedKey, owner: string): Buffer {
    const kek = this.#openers.get(key.kekId);
    if (!kek) {
      throw new DecryptionError(`data key was wrapped by KEK ${key.kekId}, not by the configured KEK ${this.kekId}`);
    }
    return open(kek, key.wrapped, `dek:${owner}`);
  }

  /** Wraps a data key; `owner` (e.g. `profile:<id>`) is bound in as associated data. */
  wrap(dek: Buffer, owner: string): WrappedKey {
    return { kekId: this.kekId, wrapped: seal(this.#kek, dek, `dek:${owner}`) };
  }

  /** A key for one system purpose (`outbox`, `signing-keys`), derived from the KEK with HKDF-SHA256. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#root, Buffer.alloc(0), `ringfence:${purpose}`, KEY_BYTES));
  }

  /** How many unwrapped data keys are kept now. */
  get cachedDataKeys(): number {
    return this.#unwrapped.size;
  }

  /** Opens a wrapped data key (from the cache when this exact wrapping was opened lately). Callers never mutate it. */
  unwrap(key: WrappedKey, owner: string): Buffer {
    const cacheKey = `${owner}\n${key.wrapped.toString('base64')}`;
    let dek = this.#unwrapped.get(cacheKey);
    if (dek) {
      // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
      this.#unwrapped.delete(cacheKey);
    } else {
      dek = this.#open(key, owner);
      while (this.#unwrapped.size >= this.#cacheEntries && this.#unwrapped.size > 0) {
        this.#unwrapped.delete(this.#unwrapped.keys().next().value!);
      }
    }
    if (this.#cacheEntries > 0) this.#unwrapped.set(cacheKey, dek);
    return dek;
  }
}
