import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type Logger as PinoLogger } from 'pino';

/** Structured JSON logs (request lines and errors name the request's requestId). */
export function createRootLogger(level: string, destination?: NodeJS.WritableStream): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}

/**
 * A request's URL as logged: the path, and the query's parameter names without their values
 * (a query may carry a token or a person's name; logs are kept longer and read more widely).
 */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const names = url
    .slice(mark + 1)
    .split('&')
    .filter((part) => part.length > 0)
    .map((part) => part.split('=')[0]);
  return `${url.slice(0, mark)}?${names.map((name) => `${name}=…`).join('&')}`;
}

/** Adapts Nest's logger calls to pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: PinoLogger) {}

  private write(level: 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, params: unknown[]): void {
    const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? params.pop() : undefined;
    const extra = level === 'error' && typeof params[0] === 'string' ? { stack: params[0] } : {};
    if (typeof message === 'object' && message !== null) {
      this.root[level]({ context, ...extra, ...message });
    } else {
      this.root[level]({ context, ...extra }, String(message));
    }
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  setLogLevels(_levels: LogLevel[]): void {
    // The level is set once from LOG_LEVEL.
  }
}
