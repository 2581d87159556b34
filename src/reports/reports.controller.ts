import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequirePermission } from '../auth/permissions.decorator.js';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { ApiQuerySchema, ValidQuery, ZodPipe } from '../common/zod-validation.js';
import { ApiErrors } from '../openapi/api-responses.js';
import { uuidSchema } from '../users/users.dto.js';
import { InterventionReports } from './intervention-reports.service.js';
import { REPORT_CONTENT, sendReport } from './report-reply.js';
import {
  digestGroupSchema,
  digestQuerySchema,
  interventionReportQuerySchema,
  type DigestQuery,
  type InterventionReportQuery,
} from './reports.dto.js';
import { Digests } from './digests.service.js';

/** Intervention reports (admin-api.md) and device groups' digests, built from the audit trail. */
@ApiTags('reports')
@Controller('api/v1/reports')
export class ReportsController {
  constructor(
    private readonly interventions: InterventionReports,
    private readonly digests: Digests,
  ) {}

  @Get('interventions/:requestId')
  // Approvers read the reports of their devices' requests: InterventionReports checks the scope.
  @RequirePermission('read', 'Approval')
  @ApiOperation({
    summary:
      'The intervention report of a request: device, vendor user, ticket, decision, approvals, actions under the ' +
      'grant, start, end, duration, outcome, and the signed checkpoint it was built against',
  })
  @ApiQuerySchema(interventionReportQuerySchema)
  @ApiResponse({ status: 200, description: 'The report as an HTML page or a PDF', content: REPORT_CONTENT })
  @ApiErrors([404, 'No such request, or not in your scope'])
  async intervention(
    @Staff() staff: StaffPrincipal,
    @Param('requestId', new ZodPipe(uuidSchema, 'request id')) id: string,
    @ValidQuery(interventionReportQuerySchema) q: InterventionReportQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const doc = await this.interventions.forStaff(staff, id);
    await sendReport(reply, doc, q.format, `intervention-${id}`);
  }

  @Get('digests/:group')
  // Approvers read the digests of the groups they decide for: Digests checks the scope.
  @RequirePermission('read', 'Approval')
  @ApiOperation({
    summary:
      "A device group's daily or weekly digest (the hospital's zone): requests by effect, denials, approvals by " +
      'approver, requests that expired unanswered, the longest sessions; `date` is the day, or any day of the ' +
      'week (Monday to Sunday); default the last whole one',
  })
  @ApiQuerySchema(digestQuerySchema)
  @ApiResponse({ status: 200, description: 'The digest as an HTML page or a PDF', content: REPORT_CONTENT })
  @ApiErrors([404, 'No such device group, or not in your scope'])
  async digest(
    @Staff() staff: StaffPrincipal,
    @Param('group', new ZodPipe(digestGroupSchema, 'device group')) group: string,
    @ValidQuery(digestQuerySchema) q: DigestQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const doc = await this.digests.forStaff(staff, group, q.period, q.date);
    // The name only: the group is one of the policy's groups, yet kept to safe characters in a header.
    const name = `digest-${group.replace(/[^A-Za-z0-9._-]/g, '_')}-${q.period}-${q.date ?? 'last'}`;
    await sendReport(reply, doc, q.format, name);
  }
}
