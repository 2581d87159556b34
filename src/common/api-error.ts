/** The stable error codes of agent-api.md; every error body carries one. */
export enum ErrorCode {
  InvalidRequest = 'invalid_request',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  PayloadTooLarge = 'payload_too_large',
  RateLimited = 'rate_limited',
  Unavailable = 'unavailable',
  Internal = 'internal',
}

export const STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Unavailable]: 503,
  [ErrorCode.Internal]: 500,
};

export interface ErrorDetail {
  field?: string;
  problem: string;
  [key: string]: unknown;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetail[] };
}

/**
 * The one exception type features throw; the global filter turns it into the error
 * shape. `status` may be narrowed (e.g. 422 for a policy set that does not validate).
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = options.status ?? STATUS_OF[code];
    this.headers = options.headers ?? {};
  }
  readonly headers: Record<string, string>;

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export const notFound = (what: string) => new ApiError(ErrorCode.NotFound, `${what} not found`);
/** A 400 about one field: the message and the detail both name it. */
export const invalidField = (field: string, problem: string) =>
  new ApiError(ErrorCode.InvalidRequest, `${field}: ${problem}`, [{ field, problem }]);
export const conflict = (message: string) => new ApiError(ErrorCode.Conflict, message);
export const forbidden = (message = 'You do not have permission to do this') =>
  new ApiError(ErrorCode.Forbidden, message);
export const unauthenticated = (message = 'Sign in first: a valid bearer token is required') =>
  new ApiError(ErrorCode.Unauthenticated, message);
