import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorCode, type ErrorBody } from './api-error.js';
import { loggableUrl } from './logger.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.InvalidRequest,
  406: ErrorCode.InvalidRequest,
  409: ErrorCode.Conflict,
  411: ErrorCode.InvalidRequest,
  413: ErrorCode.PayloadTooLarge,
  414: ErrorCode.InvalidRequest,
  415: ErrorCode.InvalidRequest,
  422: ErrorCode.InvalidRequest,
  429: ErrorCode.RateLimited,
  431: ErrorCode.InvalidRequest,
  503: ErrorCode.Unavailable,
};

/** Fastify's own errors (body parsing, limits) carry a statusCode and an FST_ code. */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/**
 * Maps any thrown value to the error shape of agent-api.md. Unexpected errors are
 * logged with their stack and answered as a bare 500: no internals leave the server.
 */
export function toErrorResponse(
  exception: unknown,
  logger: Logger,
  requestId?: string,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  // Errors name the request (its X-Request-Id) so the log line and the answer can be matched.
  const logError = (msg: string) => logger.error(requestId ? { requestId, msg } : msg);
  if (exception instanceof ApiError) {
    return { status: exception.status, body: exception.toBody(), headers: exception.headers };
  }
  let status: number | undefined;
  let message = 'The request could not be processed';
  if (exception instanceof HttpException) {
    status = exception.getStatus();
    message = exception.message;
  } else if (typeof exception === 'object' && exception !== null) {
    const e = exception as FastifyLikeError;
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      status = e.statusCode;
      message = fastifyMessage(e);
    }
  }
  if (status !== undefined && status < 500) {
    const code = CODE_BY_STATUS[status] ?? ErrorCode.InvalidRequest;
    return { status, body: { error: { code, message, details: [] } }, headers: {} };
  }
  if (isDatabaseUnavailable(exception)) {
    logError(`Database unavailable: ${(exception as Error).message}`);
    return {
      status: 503,
      body: {
        error: { code: ErrorCode.Unavailable, message: 'The database is unavailable; retry later', details: [] },
      },
      headers: { 'retry-after': '5' },
    };
  }
  if (status === 503) {
    return { status, body: { error: { code: ErrorCode.Unavailable, message, details: [] } }, headers: {} };
  }
  logError(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
  return {
    status: 500,
    body: { error: { code: ErrorCode.Internal, message: 'Internal error; see the server log', details: [] } },
    headers: {},
  };
}

/**
 * Connection-level database failures (server down, connection lost or refused, pool
 * time-out) are the dependency's fault, not the client's: 503, so that agents do not act
 * and retry later. SQLSTATE classes 08 (connection exception) and 57P (operator intervention).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOENT'].includes(code))
    return true;
  if (
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED/.test(
      message,
    )
  ) {
    return true;
  }
  return e.driverError !== undefined && isDatabaseUnavailable(e.driverError);
}

function fastifyMessage(e: FastifyLikeError): string {
  switch (e.code ?? '') {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than the 64 KiB limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type: send application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Empty JSON body';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'A path parameter is longer than allowed';
    default:
      // Fastify's messages may quote the request: keep them short.
      return (e.message ?? 'Bad request').slice(0, 200);
  }
}

@Catch()
export class GlobalErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { status, body, headers } = toErrorResponse(exception, this.logger, request.id);
    if (status >= 500)
      this.logger.warn({ requestId: request.id, msg: `${request.method} ${loggableUrl(request.url)} -> ${status}` });
    void reply.status(status).headers(headers).send(body);
  }
}
