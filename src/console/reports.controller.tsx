import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Staff, type StaffPrincipal } from '../auth/principal.js';
import { notFound } from '../common/api-error.js';
import { InterventionReports } from '../reports/intervention-reports.service.js';
import { sendReport } from '../reports/report-reply.js';
import { interventionReportQuerySchema } from '../reports/reports.dto.js';
import { uuidSchema } from '../users/users.dto.js';
import { ConsoleController, ConsolePage } from './console-page.decorator.js';

/** The intervention report of a request, from its story page (the API's report, with the console's cookie). */
@ConsoleController()
@Controller('audit/requests')
export class ConsoleReportsController {
  constructor(private readonly interventions: InterventionReports) {}

  @Get(':requestId/report')
  @ConsolePage('read', 'AuditRecord')
  async report(
    @Staff() staff: StaffPrincipal,
    @Param('requestId') requestId: string,
    @Query('format') format: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const id = uuidSchema.safeParse(requestId);
    const query = interventionReportQuerySchema.safeParse({ format });
    if (!id.success || !query.success) throw notFound('Report');
    const doc = await this.interventions.forStaff(staff, id.data);
    await sendReport(reply, doc, query.data.format, `intervention-${id.data}`);
  }
}
