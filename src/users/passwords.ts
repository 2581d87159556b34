import argon2 from 'argon2';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { passwordProblems } from './password-rules.js';

// OWASP's argon2id baseline (19 MiB, 2 passes) is the floor; this is above it.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 3, parallelism: 1 } as const;

export { MIN_PASSWORD_LENGTH } from './password-rules.js';

export function checkPasswordStrength(password: string, username: string): void {
  const problems = passwordProblems(password, username);
  if (problems.length > 0) {
    throw new ApiError(ErrorCode.InvalidRequest, 'The password is too weak', [
      { field: 'password', problem: problems.join('; ') },
    ]);
  }
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

/** A hash to verify against when the user does not exist, so timing does not reveal it. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    decoyHash ??= hashPassword('decoy-password-for-timing');
    await argon2.verify(await decoyHash, password);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
