import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('verify')
  @RequirePermission('verify', 'AuditRecord')
  @ApiOperation({
    summary: 'Check the whole hash chain; names the first record that was changed, removed or reordered',
  })
  verify() {
    return this.audit.verify();
  }

  @Get('checkpoint')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({ summary: 'The head of the chain (seq and hash), to keep outside Gatehouse as a checkpoint' })
  async checkpoint() {
    return { head: await this.audit.head(), at: new Date().toISOString() };
  }
}
