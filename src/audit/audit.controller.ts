import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { ApiQuerySchema, ValidQuery } from '../common/zod-validation.js';
import { AuditService } from './audit.service.js';
import { ApiSuccess } from '../openapi/api-responses.js';
import { auditCheckpointSchema, auditPageSchema, auditVerifySchema } from './audit.responses.js';

const listQuery = z.strictObject({
  eventType: z.string().max(100).optional(),
  actorId: z.string().max(256).optional(),
  deviceId: z.string().max(200).optional(),
  requestId: z.string().max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({ summary: 'Audit records, newest first; page with `before` = the `nextBefore` of the last page' })
  @ApiQuerySchema(listQuery)
  @ApiSuccess(auditPageSchema)
  list(@ValidQuery(listQuery) q: z.infer<typeof listQuery>) {
    return this.audit.list({
      ...q,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
  }

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
