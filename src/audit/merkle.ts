/**
 * The Merkle tree of a checkpoint (src/audit/checkpoints.ts): RFC 9162 (Certificate Transparency 2.0) section 2.1's
 * tree hash over the heads of every audit chain — leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left ||
 * right), split at the largest power of two below the size — with inclusion proofs (2.1.3), so a person can check
 * that their own chain's head is in a signed checkpoint without seeing anyone else's.
 *
 * A leaf is one chain's head, encoded without ambiguity: the chain's key as UTF-8 with its length (2 bytes, big
 * endian), its chain_seq (8 bytes, big endian) and its head hash (32 bytes). Leaves are sorted by key (byte order),
 * so the same heads always make the same tree.
 */
import { createHash } from 'node:crypto';

export interface ChainHead {
  chain: string;
  /** The head's place in its chain (for the legacy chain, the head's global seq). */
  seq: number;
  /** The head's hash, 64 hex digits. */
  hash: string;
}

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** The leaf's bytes (what its leaf hash covers after the 0x00). */
function leafBytes(head: ChainHead): Buffer {
  const key = Buffer.from(head.chain, 'utf8');
  if (key.length > 0xffff) throw new RangeError('a chain key longer than 65535 bytes');
  if (!/^[0-9a-f]{64}$/.test(head.hash)) throw new RangeError(`chain ${head.chain}: a head hash that is not 64 hex digits`);
  const out = Buffer.alloc(2 + key.length + 8 + 32);
  out.writeUInt16BE(key.length, 0);
  key.copy(out, 2);
  out.writeBigUInt64BE(BigInt(head.seq), 2 + key.length);
  Buffer.from(head.hash, 'hex').copy(out, 10 + key.length);
  return out;
}

/** Heads in the tree's order: by chain key, byte order. */
export function sortHeads(heads: readonly ChainHead[]): ChainHead[] {
  return [...heads].sort((a, b) => Buffer.compare(Buffer.from(a.chain, 'utf8'), Buffer.from(b.chain, 'utf8')));
}

function leafHash(head: ChainHead): Buffer {
  return sha256(LEAF, leafBytes(head));
}

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function treeHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return sha256(NODE, treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

/** The tree's root over heads already in tree order (sortHeads), hex. */
export function merkleRoot(sorted: readonly ChainHead[]): string {
  return treeHash(sorted.map(leafHash)).toString('hex');
}

/** The audit path of leaf `index` in the tree over `sorted` (RFC 9162 2.1.3.1), hex hashes from the leaf up. */
export function inclusionProof(sorted: readonly ChainHead[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= sorted.length) throw new RangeError('no such leaf');
  const path = (leaves: readonly Buffer[], m: number): Buffer[] => {
    if (leaves.length <= 1) return [];
    const k = split(leaves.length);
    return m < k ? [...path(leaves.slice(0, k), m), treeHash(leaves.slice(k))] : [...path(leaves.slice(k), m - k), treeHash(leaves.slice(0, k))];
  };
  return path(sorted.map(leafHash), index).map((h) => h.toString('hex'));
}

/** Whether `head`, leaf `index` of a tree of `size` leaves, is in the tree of `root` by `proof` (RFC 9162 2.1.3.2). */
export function verifyInclusion(head: ChainHead, index: number, size: number, proof: readonly string[], root: string): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(head);
  for (const hex of proof) {
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(NODE, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = sha256(NODE, r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.toString('hex') === root;
}

/** The leaves as stored beside a checkpoint: each leaf's bytes, one after the other. */
export function encodeLeaves(sorted: readonly ChainHead[]): Buffer {
  return Buffer.concat(sorted.map(leafBytes));
}

export function decodeLeaves(bytes: Buffer): ChainHead[] {
  const heads: ChainHead[] = [];
  let at = 0;
  while (at < bytes.length) {
    const len = bytes.readUInt16BE(at);
    const chain = bytes.subarray(at + 2, at + 2 + len).toString('utf8');
    const seq = Number(bytes.readBigUInt64BE(at + 2 + len));
    const hash = bytes.subarray(at + 10 + len, at + 42 + len).toString('hex');
    heads.push({ chain, seq, hash });
    at += 42 + len;
  }
  return heads;
}
