import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/access.guard.js';
import { MetricsAuth } from '../auth/permissions.decorator.js';
import { ApiError, ErrorCode, unauthenticated } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { ApiErrors } from '../openapi/api-responses.js';
import { MetricsScrape } from './metrics-scrape.js';

/** Prometheus' scrape on the main port (METRICS_LISTEN adds a port of its own: metrics-listener.ts). */
@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  private readonly offMessage: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metricsScrape: MetricsScrape,
  ) {
    this.offMessage = config.METRICS_LISTEN
      ? 'Metrics are served on METRICS_LISTEN only: set METRICS_TOKEN to serve them on this port too'
      : 'Metrics are off: METRICS_TOKEN is not set';
  }

  @Get()
  @MetricsAuth()
  @ApiOperation({ summary: 'Prometheus metrics (text format 0.0.4), with Authorization: Bearer <METRICS_TOKEN>' })
  @ApiResponse({
    status: 200,
    description: 'The metrics in the Prometheus text exposition format',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiErrors([404, 'Metrics are off on this port: METRICS_TOKEN is not set'])
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.metricsScrape.tokenSet) throw new ApiError(ErrorCode.NotFound, this.offMessage);
    if (!this.metricsScrape.tokenMatches(bearerToken(request))) throw unauthenticated('Wrong metrics token');
    const { contentType, body } = await this.metricsScrape.read();
    await reply.header('content-type', contentType).send(body);
  }
}
