import { z } from 'zod';
import { verifyPayload } from '../signing/signatures.js';

/**
 * A signed checkpoint as `GET /api/v1/audit/checkpoints/latest` answers it, and as a
 * checkpoint file holds it (`audit:verify --checkpoint F`, and offline checks of an export):
 * the same JSON, so an auditor saves the answer and later verifies against it.
 */
export const signedCheckpointSchema = z.strictObject({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lower-case hex digits' }),
  at: z.iso.datetime({ offset: true }),
  keyId: z.string().regex(/^[0-9a-f]{16}$/, { error: 'expected 16 lower-case hex digits' }),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: 'expected base64' }),
});

export type SignedCheckpoint = z.infer<typeof signedCheckpointSchema>;

/** What the signature covers: every other field (their RFC 8785 canonical JSON). */
export function checkpointPayload(cp: SignedCheckpoint): Omit<SignedCheckpoint, 'signature'> {
  return { seq: cp.seq, hash: cp.hash, at: cp.at, keyId: cp.keyId };
}

/** Parses a checkpoint file's text; throws naming every problem. */
export function parseCheckpoint(text: string, source: string): SignedCheckpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = signedCheckpointSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new Error(`${source}: not a Gatehouse checkpoint (${problems.join('; ')})`);
  }
  return parsed.data;
}

/** Whether one of these public keys (`GET /api/v1/audit/public-key`) signed the checkpoint. */
export function checkpointSignatureValid(cp: SignedCheckpoint, keys: { keyId: string; publicKey: string }[]): boolean {
  const key = keys.find((k) => k.keyId === cp.keyId);
  return key !== undefined && verifyPayload(checkpointPayload(cp), cp.signature, key.publicKey);
}
