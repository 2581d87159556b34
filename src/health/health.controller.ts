import { Controller, Get, Logger } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../auth/permissions.decorator.js';
import { ApiError, ErrorCode } from '../common/api-error.js';
import { APP_VERSION } from '../common/app-version.js';
import { ForwardingService } from '../audit/forwarding/forwarding.service.js';
import { PolicyService } from '../policies/policy.service.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { liveSchema, readySchema } from './health.responses.js';

const READY_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly dataSource: DataSource,
    private readonly policies: PolicyService,
    private readonly forwarding: ForwardingService,
  ) {}

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiSuccess(liveSchema)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary:
      'Readiness: the database answers and a policy set is in force (503 otherwise), with the versions of ' +
      'Gatehouse and of the policy set in force; SIEM forwarding lag is shown but never fails readiness ' +
      '(decisions do not need it)',
  })
  @ApiSuccess(readySchema)
  @ApiErrors([503, 'Not ready: details name each failing check'])
  async ready() {
    const database = await this.checkDatabase();
    const policies = this.policies.set ? 'ok' : 'no valid policy set loaded yet (see the log or GET /api/v1/policies)';
    const failed = Object.entries({ database, policies }).filter(([, v]) => v !== 'ok');
    if (failed.length > 0) {
      throw new ApiError(
        ErrorCode.Unavailable,
        'Not ready',
        failed.map(([field, problem]) => ({ field, problem })),
      );
    }
    const policyVersion = this.policies.set!.version;
    return {
      status: 'ready',
      version: APP_VERSION,
      policyVersion,
      checks: { database, policies, policyVersion, forwarding: await this.forwardingLag() },
    };
  }

  /** Per SIEM receiver: how far behind it is, and why while it fails. */
  private async forwardingLag() {
    try {
      return (await this.forwarding.status()).map((r) => ({
        url: r.url,
        lag: r.lag,
        lagSeconds: r.lagSeconds,
        lastError: r.failingSince ? r.lastError : null,
      }));
    } catch (e) {
      this.logger.warn(`Readiness: forwarding status unavailable: ${(e as Error).message}`);
      return 'unavailable';
    }
  }

  private async checkDatabase(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([
        this.dataSource.query('SELECT 1').then(
          () => 'ok',
          (e: Error) => {
            // The error names hosts, users and databases: the log has it, anonymous callers do not.
            this.logger.warn(`Readiness: the database is unreachable: ${e.message}`);
            return 'unreachable';
          },
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
