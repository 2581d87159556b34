import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { AuditService } from './audit.service.js';
import { ApiSuccess } from '../openapi/api-responses.js';
import { auditCheckpointSchema } from './audit.responses.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('checkpoint')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({ summary: 'The head of the chain (seq and hash), to keep outside Gatehouse as a checkpoint' })
  @ApiSuccess(auditCheckpointSchema)
  async checkpoint() {
    return { head: await this.audit.head(), at: new Date().toISOString() };
  }
}
