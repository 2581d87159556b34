import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/access.guard.js';
import { MetricsAuth } from '../auth/permissions.decorator.js';
import { ApiError, ErrorCode, unauthenticated } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ApiErrors } from '../openapi/api-responses.js';
import { GatehouseMetrics } from './gatehouse-metrics.js';
import { StateGauges } from './state-gauges.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Prometheus' scrape: counters and histograms kept in memory, gauges read now (state-gauges.ts). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: GatehouseMetrics,
    private readonly state: StateGauges,
  ) {
    this.expected = config.METRICS_TOKEN ? digest(config.METRICS_TOKEN) : null;
  }

  @Get()
  @MetricsAuth()
  @ApiOperation({ summary: 'Prometheus metrics (text format 0.0.4), with Authorization: Bearer <METRICS_TOKEN>' })
  @ApiResponse({
    status: 200,
    description: 'The metrics in the Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiErrors([404, 'Metrics are off: METRICS_TOKEN is not set'])
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.expected) throw new ApiError(ErrorCode.NotFound, 'Metrics are off: METRICS_TOKEN is not set');
    // Digests of equal length, so that the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(bearerToken(request) ?? ''), this.expected)) {
      throw unauthenticated('Wrong metrics token');
    }
    await this.state.refresh();
    const body = await this.metrics.registry.metrics();
    await reply.header('content-type', this.metrics.registry.contentType).send(body);
  }
}
