import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module.js';
import type { Clock } from './common/clock.js';
import { toErrorResponse } from './common/error.filter.js';
import { GracefulShutdown } from './common/graceful-shutdown.js';
import { MAX_BODY_BYTES, registerJsonParser, registerRouteBodyLimits } from './common/json-body.js';
import { createRootLogger, loggableUrl, PinoNestLogger } from './common/logger.js';
import { registerFormParser } from './console/form-body.js';
import { gatehouseSecurityHeaders } from './common/security-headers.js';
import { chooseRequestId } from './common/request-context.js';
import type { AppConfig } from './config/config.schema.js';
import { Database } from './database/database.js';
import { GatehouseMetrics } from './metrics/gatehouse-metrics.js';
import { setupOpenApi } from './openapi/openapi-document.js';
import { registerAddressLimits } from './throttling/address-limits.js';

export interface CreateAppOptions {
  clock?: Clock;
  /** Where JSON logs go (stdout by default). */
  logDestination?: NodeJS.WritableStream;
}

export interface GatehouseApp {
  app: NestFastifyApplication;
  database: Database;
  logger: PinoLogger;
  shutdown: GracefulShutdown;
  /** What SIGTERM does: drain (new requests 503, in-flight ones finish), then close. */
  stop(graceSeconds?: number): Promise<void>;
}

/**
 * Opens the database (migrating it) and builds the HTTP application: Fastify, chosen for
 * the decision endpoint's throughput (see README, Performance).
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<GatehouseApp> {
  const logger = createRootLogger(config.LOG_LEVEL, options.logDestination);
  const nestLogger = new PinoNestLogger(logger);
  Logger.overrideLogger(nestLogger);
  const database = await Database.open(config, { migrate: true });

  const adapter = new FastifyAdapter({
    bodyLimit: MAX_BODY_BYTES,
    trustProxy: config.TRUST_PROXY,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) =>
      chooseRequestId(req.headers['x-request-id'], randomUUID),
    // Our own onRequest hook answers 503 while closing, in the error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors of Fastify's router (bad URL encoding, over-long parameters) in the error shape too.
    frameworkErrors: (
      error: Error & { statusCode?: number },
      request: { id: string },
      reply: import('fastify').FastifyReply,
    ) => {
      const { status, body } = toErrorResponse(error, new Logger('Http'), request.id);
      void reply.status(status).send(body);
    },
    // Requests Node's HTTP parser rejects (bad framing, oversize headers) get the error shape too.
    clientErrorHandler: (error: Error & { code?: string }, socket: import('node:net').Socket) => {
      if (!socket.writable) return;
      const body = JSON.stringify({
        error: { code: 'invalid_request', message: 'Malformed HTTP request', details: [] },
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  });
  const fastify = adapter.getInstance();
  registerJsonParser(fastify);
  registerRouteBodyLimits(fastify);
  registerFormParser(fastify);
  const shutdown = new GracefulShutdown(fastify);
  const securityHeaders = gatehouseSecurityHeaders(config.tls !== undefined);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(securityHeaders);
    void reply.header('x-request-id', request.id);
    if (shutdown.admit(reply)) done();
  });
  const metrics = new GatehouseMetrics({ tlsCert: config.tls?.cert, deviceGroups: config.METRICS_DEVICE_GROUPS });
  await registerAddressLimits(fastify, config, () => metrics.refusedByRateLimit('address'));
  fastify.addHook('onResponse', (request, reply, done) => {
    logger.info(
      {
        requestId: request.id,
        method: request.method,
        url: loggableUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });

  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(
      AppModule.register({ config, database, clock: options.clock, metrics }),
      adapter,
      {
        logger: nestLogger,
        bufferLogs: false,
        // Our own JSON parser (depth and key checks) replaces Nest's.
        bodyParser: false,
        abortOnError: false,
      },
    );
  } catch (error) {
    await database.close();
    throw error;
  }
  setupOpenApi(app);
  try {
    await app.init();
  } catch (error) {
    // A start hook failed (such as METRICS_LISTEN's port in use): what did start stops again.
    await app.close().catch(() => undefined);
    await database.close();
    throw error;
  }
  return {
    app,
    database,
    logger,
    shutdown,
    async stop(graceSeconds = config.SHUTDOWN_GRACE_SECONDS) {
      await shutdown.drain((graceSeconds * 1000) / 2);
      await app.close();
    },
  };
}
