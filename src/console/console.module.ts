import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module.js';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditSearchModule } from '../audit/audit-search.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { DirectoryModule } from '../directory/directory.module.js';
import { UsersModule } from '../users/users.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { ConsoleApprovalsController } from './approvals.controller.js';
import { AssetsController } from './assets.controller.js';
import { ConsoleAuditController } from './audit.controller.js';
import { ConsoleGrantsController } from './grants.controller.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { ConsoleRenderer } from './console-renderer.js';
import { CsrfGuard } from './csrf.guard.js';
import { PendingCount } from './pending-count.js';
import { ConsoleDevicesController } from './devices.controller.js';
import { ConsoleEnrollmentTokensController } from './enrollment-tokens.controller.js';
import { ConsolePolicyToolsController } from './policy-tools.controller.js';
import { ConsoleRulesController } from './rules.controller.js';
import { ConsoleDirectoryController } from './directory.controller.js';
import { ConsolePeopleController } from './people.controller.js';
import { SessionController } from './session.controller.js';
import { ReportsModule } from '../reports/reports.module.js';
import { ConsoleReportsController } from './reports.controller.js';
import { ConsoleRequestActionsController } from './request-actions.controller.js';
import { RequestPageView } from './request-page-view.js';

/** The web console (src/console/README.md): server-rendered pages on the staff API's services. */
@Module({
  imports: [
    AuthModule,
    AuditModule,
    AuditSearchModule,
    ApprovalsModule,
    AccessModule,
    DevicesModule,
    PoliciesModule,
    DecisionsModule,
    DirectoryModule,
    UsersModule,
    ReportsModule,
  ],
  controllers: [
    AssetsController,
    SessionController,
    ConsoleApprovalsController,
    ConsoleRequestActionsController,
    ConsoleGrantsController,
    ConsoleDevicesController,
    ConsoleEnrollmentTokensController,
    ConsoleRulesController,
    ConsolePolicyToolsController,
    ConsoleDirectoryController,
    ConsolePeopleController,
    ConsoleAuditController,
    ConsoleReportsController,
  ],
  providers: [ConsoleRenderer, ConsoleErrorFilter, CsrfGuard, PendingCount, RequestPageView],
})
export class ConsoleModule {}
