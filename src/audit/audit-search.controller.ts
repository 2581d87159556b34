import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiQuerySchema, ValidQuery, ZodPipe } from '../common/zod-validation.js';
import { uuidSchema } from '../users/users.dto.js';
import { AuditExport } from './audit-export.js';
import {
  auditExportSchema,
  auditSearchSchema,
  type AuditExportQuery,
  type AuditSearchQuery,
} from './audit-search.dto.js';
import { AuditSearch } from './audit-search.service.js';
import { AuditStory } from './audit-story.js';
import { ApiErrors, ApiSuccess } from '../openapi/api-responses.js';
import { auditPageSchema, requestStorySchema } from './audit.responses.js';

/** Auditors' reading of the trail: search, one request's story, export (admin-api.md). */
@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditSearchController {
  constructor(
    private readonly search: AuditSearch,
    private readonly story: AuditStory,
    private readonly exporter: AuditExport,
  ) {}

  @Get()
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({
    summary: 'Audit records, filtered; newest first (or `sort=oldest`); page with `cursor` = the last `nextCursor`',
  })
  @ApiQuerySchema(auditSearchSchema)
  @ApiSuccess(auditPageSchema)
  list(@ValidQuery(auditSearchSchema) q: AuditSearchQuery) {
    return this.search.search(q);
  }

  @Get('requests/:requestId')
  // Approvers read the stories of their devices' requests: AuditStory checks the scope.
  @RequirePermission('read', 'Approval')
  @ApiOperation({ summary: "A request's whole story, oldest first: asked, rules, votes, grant, repeats, completion" })
  @ApiSuccess(requestStorySchema)
  @ApiErrors([404, 'No such request, or not in your scope'])
  request(@Staff() staff: StaffPrincipal, @Param('requestId', new ZodPipe(uuidSchema, 'request id')) id: string) {
    return this.story.of(staff, id);
  }

  @Get('export')
  @RequirePermission('read', 'AuditRecord')
  @ApiOperation({
    summary:
      'Every record (oldest first, chain fields included), streamed; jsonl verifies offline with audit:verify --file',
  })
  @ApiQuerySchema(auditExportSchema)
  @ApiResponse({
    status: 200,
    description: 'The records as JSON Lines (one record a line, chain fields included) or CSV',
    content: {
      'application/x-ndjson': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  export(@ValidQuery(auditExportSchema) q: AuditExportQuery, @Res() reply: FastifyReply) {
    const csv = q.format === 'csv';
    return reply
      .header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="gatehouse-audit.${q.format}"`)
      .send(
        // Bytes, not objects: Readable.from's default buffers 16 chunks (batches of megabytes)
        // ahead of a slow client; this holds one.
        Readable.from(this.exporter.bytes(q), { objectMode: false, highWaterMark: 64 * 1024 }),
      );
  }
}
