import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { ApiQuerySchema, ValidQuery } from '../common/zod-validation.js';
import { AuditService } from './audit.service.js';

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
  list(@ValidQuery(listQuery) q: z.infer<typeof listQuery>) {
    return this.audit.list({
      ...q,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
  }

  @Get('checkpoint')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({ summary: 'The head of the chain (seq and hash), to keep outside Gatehouse as a checkpoint' })
  async checkpoint() {
    return { head: await this.audit.head(), at: new Date().toISOString() };
  }
}
