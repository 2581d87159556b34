const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Accepts a caller's X-Request-Id only when it is short and plain; otherwise a fresh one.
 * The id is on the response, on the request's log line and on errors logged while serving
 * it, and on the audit records the request writes (Origin, audit/actor.ts).
 */
export function chooseRequestId(header: string | string[] | undefined, fresh: () => string): string {
  return typeof header === 'string' && VALID_REQUEST_ID.test(header) ? header : fresh();
}
