/**
 * Users' public keys: a PEM public key is accepted when it is RSA of at least 2048 bits, EC on P-256 or P-384, or
 * Ed25519. A private key is refused outright and never stored, echoed or logged.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

type PublicKeyType = 'rsa' | 'ec' | 'ed25519';

export interface PublicKeyInfo {
  /** The key re-encoded as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  pem: string;
  type: PublicKeyType;
  /** RSA modulus length. */
  bits?: number;
  /** EC curve. */
  curve?: 'P-256' | 'P-384';
  /** `SHA256:<base64>` of the SPKI DER, as ssh-keygen prints fingerprints. */
  fingerprint: string;
}

export type PemProblem = 'private_key' | 'malformed' | 'unsupported' | 'weak';

/** Why a PEM was refused; `message` is safe to show (it never quotes the key). */
export class PemRejected extends Error {
  readonly reason: PemProblem;
  constructor(reason: PemProblem, message: string) {
    super(message);
    this.name = 'PemRejected';
    this.reason = reason;
  }
}

const MIN_RSA_BITS = 2048;
const CURVES: Record<string, 'P-256' | 'P-384'> = { prime256v1: 'P-256', secp384r1: 'P-384' };

const PRIVATE_MARKERS = [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, /-----BEGIN PGP PRIVATE KEY BLOCK-----/, /PuTTY-User-Key-File/];
const PUBLIC_BLOCK = /-----BEGIN (?:RSA )?PUBLIC KEY-----[\s\S]*?-----END (?:RSA )?PUBLIC KEY-----/g;

function looksPrivate(text: string): boolean {
  if (PRIVATE_MARKERS.some((re) => re.test(text))) return true;
  // A bare base64 DER or a JWK with a private part is still a private key.
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return typeof (JSON.parse(trimmed) as { d?: unknown }).d === 'string';
    } catch {
      return false;
    }
  }
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && trimmed.length > 64) {
    try {
      createPrivateKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'pkcs8' });
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** Parses and checks one PEM public key; throws PemRejected saying what to send instead. */
export function parsePublicKeyPem(text: string): PublicKeyInfo {
  if (looksPrivate(text)) {
    throw new PemRejected(
      'private_key',
      'this is a PRIVATE key: never send a private key to anyone, Ringfence included. It was not stored. ' +
        'Consider that key exposed: make a new key pair and send only its public key (-----BEGIN PUBLIC KEY-----)',
    );
  }
  if (/^\s*(ssh-(rsa|ed25519)|ecdsa-sha2-)/.test(text)) {
    throw new PemRejected('malformed', 'this is an OpenSSH public key: convert it to PEM with `ssh-keygen -e -m PKCS8 -f <key.pub>` and send that');
  }
  if (/-----BEGIN CERTIFICATE-----/.test(text)) {
    throw new PemRejected('malformed', 'this is a certificate: send its public key instead (`openssl x509 -pubkey -noout -in <cert.pem>`)');
  }
  const blocks = text.match(PUBLIC_BLOCK) ?? [];
  if (blocks.length !== 1) {
    throw new PemRejected(
      'malformed',
      blocks.length === 0
        ? 'is not a PEM public key: send one block from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----'
        : 'holds more than one key: send exactly one PEM public key',
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: blocks[0], format: 'pem' });
  } catch {
    throw new PemRejected('malformed', 'the PEM block does not decode to a public key: check that it was copied whole');
  }
  const details = key.asymmetricKeyDetails ?? {};
  const der = key.export({ type: 'spki', format: 'der' });
  const base = {
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`,
  };
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new PemRejected('weak', `this RSA key has ${bits} bits: use at least ${MIN_RSA_BITS} (or an Ed25519 or P-256 key)`);
      }
      return { ...base, type: 'rsa', bits };
    }
    case 'ec': {
      const curve = CURVES[details.namedCurve ?? ''];
      if (!curve) {
        throw new PemRejected('unsupported', `EC curve ${details.namedCurve ?? 'unknown'} is not accepted: use P-256 or P-384`);
      }
      return { ...base, type: 'ec', curve };
    }
    case 'ed25519':
      return { ...base, type: 'ed25519' };
    default:
      throw new PemRejected(
        'unsupported',
        `${key.asymmetricKeyType ?? 'this'} keys are not accepted: send an RSA (2048 bits or more), EC P-256/P-384 or Ed25519 public key`,
      );
  }
}
