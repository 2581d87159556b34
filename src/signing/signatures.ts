import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { canonicalize } from './canonical-json.js';

export const ALGORITHM = 'Ed25519';

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SPKI DER); the same on every replica. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export interface KeyPairPem {
  keyId: string;
  publicKey: string;
  privateKey: string;
}

export function generateKeyPair(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Reads an Ed25519 private key (PKCS#8 PEM); refuses any other kind, naming what it found. */
export function keyPairFromPrivatePem(pem: string, source: string): KeyPairPem {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new Error(`${source}: not a PEM private key (${(error as Error).message})`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${source}: expected an Ed25519 key, found ${privateKey.asymmetricKeyType ?? 'a secret key'}`);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** Base64 Ed25519 signature over the RFC 8785 canonical JSON of the payload. */
export function signPayload(payload: unknown, privateKey: KeyObject | string): string {
  return sign(null, Buffer.from(canonicalize(payload), 'utf8'), privateKey).toString('base64');
}

/**
 * Whether `signature` (base64) is the Ed25519 signature of the payload's canonical JSON under
 * this public key. Needs nothing but the public key: offline checks (an exported file, an
 * agent's offline policy) use it as the server does.
 */
export function verifyPayload(payload: unknown, signature: string, publicKeyPem: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify(
      null,
      Buffer.from(canonicalize(payload), 'utf8'),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
