/**
 * A database wait that outlived its deadline. Its code is ETIMEDOUT so that the error filter
 * answers 503 (isDatabaseUnavailable): the agent must not act, and retries later.
 */
export class DatabaseTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the database within ${ms} ms`);
    this.name = 'DatabaseTimeoutError';
  }
}

/**
 * Bounds one wait on the database. The query itself goes on (the connection is stuck until the
 * database answers or the statement time-out ends it); only the caller stops waiting. Use it on
 * reads and on writes whose late completion is harmless.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseTimeoutError(what, ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
