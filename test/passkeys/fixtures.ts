/** Key pairs and their registration, for the key-pair sign-in and step-up tests. */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { TestApp } from '../helpers/app.ts';
import { register, type Registered } from '../accounts/fixtures.ts';

export type KeyKind = 'rsa' | 'p256' | 'p384' | 'ed25519';

export function keyPair(kind: KeyKind): { publicPem: string; privateKey: KeyObject } {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'P-256' : 'P-384' });
  return { publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey: pair.privateKey };
}

/** The signature of `message` as a person's tool makes it (openssl dgst -sha256 -sign, or Ed25519). */
export function signMessage(privateKey: KeyObject, message: string): string {
  const type = privateKey.asymmetricKeyType;
  const hash = type === 'ed25519' ? null : type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'sha384' : 'sha256';
  return sign(hash, Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** A person registered with the public key of a fresh key pair. */
export async function registerWithKey(app: TestApp, kind: KeyKind = 'p256'): Promise<Registered & { privateKey: KeyObject; publicPem: string }> {
  const { publicPem, privateKey } = keyPair(kind);
  const person = await register(app, { public_key: publicPem } as never);
  return { ...person, privateKey, publicPem };
}
