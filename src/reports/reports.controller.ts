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
import { interventionReportQuerySchema, type InterventionReportQuery } from './reports.dto.js';

/** Intervention reports (admin-api.md), built from the audit trail. */
@ApiTags('reports')
@Controller('api/v1/reports')
export class ReportsController {
  constructor(private readonly interventions: InterventionReports) {}

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
}
