import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { DecisionsModule } from '../decisions/decisions.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { AccessController } from './access.controller.js';
import { AccessEndsService } from './access-ends.service.js';
import { AgentEnds } from './agent-ends.js';
import { SessionWindows } from './session-windows.js';

/** "End now": withdrawing live accesses, and telling the device's agent (issue 14; agent-api.md 1.1). */
@Module({
  imports: [AuditModule, PoliciesModule, DecisionsModule, DevicesModule, ApprovalsModule],
  controllers: [AccessController],
  providers: [AccessEndsService, AgentEnds, SessionWindows],
  exports: [AccessEndsService],
})
export class AccessModule {}
