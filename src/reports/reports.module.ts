import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { GrantLookupModule } from '../approvals/grants/grant-lookup.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditSearchModule } from '../audit/audit-search.module.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { Digests } from './digests.service.js';
import { InterventionReports } from './intervention-reports.service.js';
import { ReportJobs } from './report-jobs.js';
import { ReportMailer } from './report-mailer.js';
import { ReportsController } from './reports.controller.js';

/**
 * Intervention reports and device groups' digests from the audit trail: downloaded (HTML, PDF),
 * and e-mailed when an intervention ends and each day and week.
 */
@Module({
  imports: [
    AuditModule,
    AuditSearchModule,
    PoliciesModule,
    ApprovalsModule,
    DecisionsModule,
    DevicesModule,
    GrantLookupModule,
  ],
  controllers: [ReportsController],
  providers: [InterventionReports, Digests, ReportJobs, ReportMailer],
  exports: [InterventionReports, ReportJobs],
})
export class ReportsModule {}
