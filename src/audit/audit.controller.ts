import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { AuditService } from './audit.service.js';
import { ApiSuccess } from '../openapi/api-responses.js';
import { auditCheckpointSchema, auditVerifySchema } from './audit.responses.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('verify')
  @RequirePermission('verify', 'AuditRecord')
  @ApiOperation({
    summary: 'Check the whole hash chain; names the first record that was changed, removed or reordered',
  })
  @ApiSuccess(auditVerifySchema, { description: 'ok, or the first record that does not check out' })
  verify() {
    return this.audit.verify();
  }

  @Get('checkpoint')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({ summary: 'The head of the chain (seq and hash), to keep outside Gatehouse as a checkpoint' })
  @ApiSuccess(auditCheckpointSchema)
  async checkpoint() {
    return { head: await this.audit.head(), at: new Date().toISOString() };
  }
}
