import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../../auth/permissions.decorator.js';
import { ApiSuccess } from '../../openapi/api-responses.js';
import { ForwardingService } from './forwarding.service.js';
import { forwardingStatusSchema } from './forwarding.responses.js';

@ApiTags('audit')
@Controller('api/v1/audit/forwarding')
export class ForwardingController {
  constructor(private readonly forwarding: ForwardingService) {}

  @Get()
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({
    summary:
      'SIEM forwarding (AUDIT_FORWARD_URLS), per receiver: the last record forwarded, the lag behind the ' +
      "chain's head, and the last error",
  })
  @ApiSuccess(forwardingStatusSchema)
  async status() {
    return { receivers: await this.forwarding.status() };
  }
}
