import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * Every agent call per device (decisions, long polls, cancel, complete, heartbeat) and every
 * enrollment per token: DEVICE_RATE_BURST calls per DEVICE_RATE_BURST / DEVICE_RATE_PER_SECOND
 * seconds (@fastify/rate-limit's fixed window; 50 per 2.5 s by default, i.e. 20/s on average
 * with bursts of 50). One device's flood uses up only its own count, so others are not starved.
 * Checked by the access guard right after the credential, so the key is the device itself
 * (a device behind NAT shares its address with others; a credential is its own).
 */
@Injectable()
export class DeviceRateLimit implements OnModuleInit {
  private limiter?: Limiter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: GatehouseMetrics,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.limiter = fastify.createRateLimit({
      max: this.config.DEVICE_RATE_BURST,
      timeWindow: Math.ceil((this.config.DEVICE_RATE_BURST / this.config.DEVICE_RATE_PER_SECOND) * 1000),
      keyGenerator: (request) => keyOf(request),
    });
  }

  /** Throws 429 (with Retry-After) when this device, or this enrollment token, is over its limit. */
  async check(request: FastifyRequest): Promise<void> {
    if (!this.limiter) return; // not served over HTTP (no adapter): nothing to limit
    const status = await this.limiter(request);
    if (status.isAllowed || !status.isExceeded) return;
    this.metrics.refusedByRateLimit('device');
    const who = request.device ? `device ${request.device.id}` : 'this enrollment token';
    throw new ApiError(ErrorCode.RateLimited, `Too many requests from ${who}`, [], {
      headers: { 'retry-after': String(Math.max(1, status.ttlInSeconds)) },
    });
  }
}

function keyOf(request: FastifyRequest): string {
  if (request.device) return `device:${request.device.id}`;
  // Enrollment: the token (hashed: keys may be kept longer than the request).
  const token = request.headers.authorization ?? '';
  return `enroll:${createHash('sha256').update(token).digest('base64url')}`;
}
