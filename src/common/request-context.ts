import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
}

/** Carries the request id into every log line written while serving a request. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's X-Request-Id only when it is short and plain; otherwise a fresh one. */
export function chooseRequestId(header: string | string[] | undefined, fresh: () => string): string {
  return typeof header === 'string' && VALID_REQUEST_ID.test(header) ? header : fresh();
}
