import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device credentials and enrollment tokens: 256 random bits, so a plain SHA-256 is a
 * sound way to store them (no guessable input to slow down, as passwords need) and
 * lets the hot path find a device by the hash of what it presents.
 */
export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
