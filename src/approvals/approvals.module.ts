import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { UsersModule } from '../users/users.module.js';
import { ApprovalEvents } from './approval-events.js';
import { ApprovalJobs } from './approval-jobs.js';
import { ApprovalQueue } from './approval-queue.js';
import { Approvers } from './approvers.js';
import { ApprovalsController } from './approvals.controller.js';
import { ApprovalsService } from './approvals.service.js';
import { BreakGlassService } from './break-glass/break-glass.service.js';
import { GrantsService } from './grants.service.js';
import { NotificationSender } from './notifications/notification-sender.js';
import { NotificationOutbox } from './notifications/outbox.js';

/** Pending requests, approvers, grants, expiry and notifications (architecture.md). */
@Module({
  imports: [AuditModule, AuthModule, DecisionsModule, UsersModule],
  controllers: [ApprovalsController],
  providers: [
    ApprovalQueue,
    Approvers,
    ApprovalsService,
    BreakGlassService,
    GrantsService,
    ApprovalEvents,
    ApprovalJobs,
    NotificationOutbox,
    NotificationSender,
  ],
  exports: [
    ApprovalJobs,
    NotificationSender,
    NotificationOutbox,
    ApprovalQueue,
    ApprovalsService,
    BreakGlassService,
    GrantsService,
    ApprovalEvents,
  ],
})
export class ApprovalsModule {}
